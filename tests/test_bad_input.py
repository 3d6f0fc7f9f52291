"""The bad-input corpus: messy files and wrong options, each refused cleanly.

Every case is built by the test itself in a temporary folder.  A baseline collection
is loaded first (fake embedder, Python API); then the bad command runs through the
CLI against the same store, and must:

- exit with 1 (the input or the store is wrong) or 2 (the command line is wrong),
- print a one-line message naming the file, sheet, row, column or field at fault,
  followed by what to do (a ``hint:`` line, or click's ``--help`` pointer),
- show no traceback,
- leave the stored collection exactly as it was (count and every ``_hash``).

Search-side cases run when ``patentsim.search.cli`` exists, and skip with a reason
otherwise.  Messy input that is *accepted* (a BOM, emoji, dotted column names, mixed
types) is checked at the end: it must load, typed as documented.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, open_store

from .fakes import FakeEmbedder

COLLECTION = "patents"
HEADER = ["id", "title", "abstract", "applicant", "application_date", "ipc", "claims"]
ABSTRACTS = [
    "A battery thermal management system with a coolant loop around the cells",
    "A grinding machine that measures the removed material with a laser probe",
    "An image acquisition system for inspecting the side corners of carbide inserts",
    "A water treatment process that recovers salt with a membrane stage",
    "A semiconductor package with a heat spreader bonded to the die",
    "A vehicle seat with a sensor that detects the occupant's posture",
]


# -- the baseline ------------------------------------------------------------------------


def good_rows(n: int = 24) -> list[list]:
    return [
        [
            1000 + i,
            f"Title {i}",
            f"{ABSTRACTS[i % len(ABSTRACTS)]} (variant {i})",
            ["Samsung", "LG", "Hyundai"][i % 3],
            f"2020-{i % 12 + 1:02d}-{i % 27 + 1:02d}",
            f"B24B {i}/34|G01N {i}/88",
            i % 7 + 1,
        ]
        for i in range(n)
    ]


def write_xlsx(path: Path, rows: list[list], *, sheet: str | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    if sheet:
        ws.title = sheet
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def snapshot(settings: StoreSettings, name: str = COLLECTION) -> tuple[int, dict[str, str]]:
    """The collection's count and every document's ``_hash``, by key."""
    store = open_store(settings)
    try:
        coll = store.open(name)
        hashes = {
            p.payload["_key"]: p.payload["_hash"]
            for p in coll.scroll(with_payload=["_key", "_hash"])
        }
        return coll.count(), hashes
    finally:
        store.close()


@dataclass
class Workdir:
    """Where a case builds its files; knows the baseline file and store."""

    root: Path
    good: Path
    store: Path
    made: list[Path] = field(default_factory=list)

    def file(self, name: str, data: bytes | str) -> str:
        path = self.root / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return str(path)

    def xlsx(self, name: str, rows: list[list], *, sheet: str | None = None) -> str:
        return str(write_xlsx(self.root / name, rows, sheet=sheet))


def copy_sparse(src: str, dst: str) -> None:
    """Copy a file keeping its holes: the engine's segment files are mostly preallocated
    zeros, and a plain copy makes each test's store hundreds of MB on disk."""
    chunk = 1 << 20
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        while block := fin.read(chunk):
            if block.count(0) == len(block):
                fout.seek(len(block), os.SEEK_CUR)
            else:
                fout.write(block)
        fout.truncate()
    shutil.copystat(src, dst)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The baseline store, loaded once per module and copied for each test."""
    root = tmp_path_factory.mktemp("template")
    good = write_xlsx(root / "good.xlsx", [HEADER, *good_rows()])
    settings = StoreSettings(path=str(root / "store"))
    summary = load(
        good,
        LoadSettings(store_settings=settings, collection=COLLECTION, id_column="id"),
        embedder=FakeEmbedder(),
    )
    assert summary.points == 24
    return root, snapshot(settings)


@pytest.fixture
def baseline(template, tmp_path, private_store):
    """A loaded collection in this test's store (CLI loads pass ``obj=FAKE``)."""
    source, before = template
    shutil.copytree(source / "store", private_store, copy_function=copy_sparse)
    root = tmp_path / "cases"
    root.mkdir()
    good = Path(shutil.copy(source / "good.xlsx", root / "good.xlsx"))
    settings = StoreSettings(path=str(private_store))
    return Workdir(root, good, private_store), settings, before


# The command line's loads with the fake embedder (click's obj: ingest.cli.Seams).
FAKE = Seams(embedder=FakeEmbedder())


def invoke(cli, args: list[str], obj: Seams | None = None):
    return CliRunner().invoke(cli, args, catch_exceptions=True, obj=obj)


def assert_refused(result, code: int, fragments: tuple[str, ...]) -> None:
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = output.splitlines()
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1, output
    for fragment in fragments:
        assert fragment in errors[0], f"{fragment!r} not in the message:\n{output}"
    if code == 1:
        assert "  hint: " in output, f"no hint saying what to do:\n{output}"
    else:
        assert "  hint: " in output or "--help" in output, output
    assert "internal error" not in output, output


# -- the ingest corpus ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    args: Callable[[Workdir], list[str]]
    code: int
    fragments: tuple[str, ...]
    real_model: bool = False  # resolve --model for real, not through the fake embedder


def _folder(w: Workdir, name: str) -> str:
    path = w.root / name
    path.mkdir()
    (path / "notes.txt.bak").write_text("not data", encoding="utf-8")
    return str(path)


def _load(*extra: str) -> list[str]:
    return ["load", "-c", COLLECTION, "--id", "id", "-q", *extra]


def _truncated(w: Workdir) -> str:
    data = w.good.read_bytes()
    return w.file("truncated.xlsx", data[: len(data) // 2])


def _damaged_sheet(w: Workdir) -> str:
    """A valid zip whose sheet XML stops half-way: openpyxl fails only while reading rows."""
    out = w.root / "damaged.xlsx"
    with zipfile.ZipFile(w.good) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) * 2 // 3]
            zout.writestr(item, data)
    return str(out)


def _csv(rows: list[list], encoding: str = "utf-8") -> bytes:
    text = "".join(",".join(str(c) for c in row) + "\n" for row in rows)
    return text.encode(encoding)


KO_ROWS = [["id", "abstract"], [1, "배터리 열관리 시스템"], [2, "연삭 장치의 연삭량 측정"]]

INGEST_CASES = [
    Case(
        "missing path", lambda w: _load(str(w.root / "nope.xlsx")), 1, ("nope.xlsx", "no such file")
    ),
    Case(
        "a folder without data files",
        lambda w: _load(_folder(w, "nodata")),
        1,
        ("nodata", "holds no .xlsx"),
    ),
    Case(
        "a glob that matches nothing",
        lambda w: _load(str(w.root / "none-*.xlsx")),
        1,
        ("none-*.xlsx", "no file matches"),
    ),
    Case(
        "several files keyed by row number",
        lambda w: ["load", "-c", COLLECTION + "2", "-q", str(w.good), w.xlsx("b.xlsx", KO_ROWS)],
        1,
        ("2 files", "keyed by row number"),
    ),
    Case(
        "empty file",
        lambda w: _load(w.file("empty.xlsx", b"")),
        1,
        ("empty.xlsx", "the file is empty"),
    ),
    Case(
        "binary renamed to xlsx",
        lambda w: _load(w.file("binary.xlsx", os.urandom(4096))),
        1,
        ("binary.xlsx", "not a readable .xlsx workbook"),
    ),
    Case(
        "truncated xlsx",
        lambda w: _load(_truncated(w)),
        1,
        ("truncated.xlsx", "not a readable .xlsx workbook"),
    ),
    Case(
        "damaged sheet inside a valid zip",
        lambda w: _load(_damaged_sheet(w)),
        1,
        ("damaged.xlsx", "sheet 'Sheet'", "cannot be read"),
    ),
    Case(
        "old .xls renamed to xlsx",
        lambda w: _load(w.file("old.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)),
        1,
        ("old.xlsx", ".xls"),
    ),
    Case(
        "a damaged .xls file",
        lambda w: _load(w.file("old.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 64)),
        1,
        ("old.xls", "not a readable .xls workbook"),
    ),
    Case(
        "an HTML table named .xls",
        lambda w: _load(w.file("page.xls", b"<html><table><tr><td>id</td></tr></table></html>")),
        1,
        ("page.xls", "not a readable .xls workbook"),
    ),
    Case(
        "unknown file type",
        lambda w: _load(w.file("notes.docx", b"PK\x03\x04")),
        1,
        ("notes.docx", "unknown file type"),
    ),
    Case(
        "xlsx with only a header",
        lambda w: _load(w.xlsx("header.xlsx", [HEADER])),
        1,
        ("header.xlsx", "no data rows"),
    ),
    Case(
        "empty sheet",
        lambda w: _load(w.xlsx("blank.xlsx", [])),
        1,
        ("blank.xlsx", "sheet 'Sheet'", "empty"),
    ),
    Case(
        "sheet that does not exist",
        lambda w: _load("--sheet", "Data", str(w.good)),
        1,
        ("good.xlsx", "no sheet named 'Data'"),
    ),
    Case(
        "--sheet on a csv",
        lambda w: _load("--sheet", "x", w.file("s.csv", _csv(KO_ROWS))),
        1,
        ("s.csv", "--sheet"),
    ),
    Case(
        "no text column found",
        lambda w: [
            "load",
            "-c",
            COLLECTION,
            "-q",
            w.xlsx("numbers.xlsx", [["id", "n"], [1, 2], [2, 3]]),
        ],
        1,
        ("numbers.xlsx", "no text column found"),
    ),
    Case(
        "--text names a missing column",
        lambda w: _load("--text", "claims_text", str(w.good)),
        1,
        ("good.xlsx", "--text", "'claims_text'"),
    ),
    Case(
        "--id names a missing column",
        lambda w: ["load", "-c", COLLECTION, "-q", "--id", "number", str(w.good)],
        1,
        ("good.xlsx", "--id", "'number'"),
    ),
    Case(
        "--list names a missing column",
        lambda w: _load("--list", "cpc", str(w.good)),
        1,
        ("good.xlsx", "--list", "'cpc'"),
    ),
    Case(
        "column names that become the same field (quotes cannot be in a Qdrant path)",
        lambda w: _load(
            w.xlsx("quotes.xlsx", [["id", "abstract", 'say "x"', "say 'x'"], [1, "a", "x", "y"]])
        ),
        1,
        ("quotes.xlsx", "'say \"x\"'", "field \"say 'x'\""),
    ),
    Case(
        "--header-row past the end",
        lambda w: _load("--header-row", "99", str(w.good)),
        1,
        ("good.xlsx", "--header-row 99", "past the end"),
    ),
    Case(
        "--header-row on a blank row",
        lambda w: _load("--header-row", "2", w.xlsx("gap.xlsx", [["x"], [], HEADER])),
        1,
        ("gap.xlsx", "--header-row 2", "blank row"),
    ),
    Case(
        "--date-format that is no format",
        lambda w: _load("--date-format", "sometimes", str(w.good)),
        1,
        ("--date-format sometimes", "not a date format"),
    ),
    Case(
        "a column named like a reserved field",
        lambda w: _load(w.xlsx("reserved.xlsx", [["id", "abstract", "_key"], [1, "a", "k"]])),
        1,
        ("reserved.xlsx", "column '_key'", "reserved"),
    ),
    Case(
        "every text cell empty",
        lambda w: _load(
            w.xlsx("notext.xlsx", [["id", "abstract", "n"], [1, None, 1], [2, "   ", 2]])
        ),
        1,
        ("notext.xlsx", "'abstract'", "empty"),
    ),
    Case(
        "duplicate keys in the id column",
        lambda w: _load(
            w.xlsx("dupkeys.xlsx", [["id", "abstract"], [7, "a"], [8, "b"], [7, "c"], [8, "d"]])
        ),
        1,
        ("dupkeys.xlsx", "column 'id'", "'7' in rows 0 and 2", "'8' in rows 1 and 3"),
    ),
    Case(
        "an empty key",
        lambda w: _load(w.xlsx("nokey.xlsx", [["id", "abstract"], [1, "a"], [None, "b"]])),
        1,
        ("nokey.xlsx", "row 1", "column 'id'", "the id is empty"),
    ),
    Case(
        "a NaN key",
        lambda w: _load(
            w.file("nan.jsonl", '{"id": 1, "abstract": "a"}\n{"id": NaN, "abstract": "b"}\n')
        ),
        1,
        ("nan.jsonl", "row 1", "column 'id'", "the id is empty"),
    ),
    Case(
        "keys that pandas reads as floats (1.0 and 1)",
        lambda w: _load(w.xlsx("floatkeys.xlsx", [["id", "abstract"], [1, "a"], [1.0, "b"]])),
        1,
        ("floatkeys.xlsx", "duplicate ids", "'1' in rows 0 and 1"),
    ),
    Case(
        "float-written ids in a csv ('3.0' and 3)",
        lambda w: _load(w.file("floatids.csv", "id,abstract\n3.0,a\n3,b\n")),
        1,
        ("floatids.csv", "duplicate ids", "'3' in rows 0 and 1"),
    ),
    Case(
        "a cp949 csv read as utf-8",
        lambda w: _load("--encoding", "utf-8", w.file("ko.csv", _csv(KO_ROWS, "cp949"))),
        1,
        ("ko.csv", "line 2", "not utf-8"),
    ),
    Case(
        "a csv in neither utf-8, cp949 nor latin-1 text",
        lambda w: _load(
            w.file("binary.csv", b"id,abstract\n1,ok\n2," + bytes(range(128, 256)) * 4)
        ),
        1,
        ("binary.csv", "line 3", "neither UTF-8, CP949/EUC-KR nor Latin-1"),
    ),
    Case(
        "an unknown --encoding",
        lambda w: _load("--encoding", "klingon", w.file("e.csv", _csv(KO_ROWS))),
        1,
        ("e.csv", "unknown encoding 'klingon'"),
    ),
    Case(
        "a csv with a BOM and duplicate keys (the BOM is not part of the name)",
        lambda w: _load(w.file("bom.csv", "\ufeffid,abstract\n1,a\n1,b\n")),
        1,
        ("bom.csv", "column 'id'", "duplicate ids"),
    ),
    Case(
        "ragged csv rows",
        lambda w: _load(w.file("ragged.csv", "id,abstract\n1,a\n2,b,extra\n")),
        1,
        ("ragged.csv", "row 1 (line 3)", "3 fields"),
    ),
    Case(
        "an unclosed quote in a csv",
        lambda w: _load(w.file("quote.csv", 'id,abstract\n1,ok\n2,"never closed\n3,c\n')),
        1,
        ("quote.csv", "line 3", "unexpected end of data"),
    ),
    Case(
        "an unclosed quote that swallows the rows after it into one huge cell",
        lambda w: _load(
            w.file(
                "swallow.csv",
                'id,abstract,note\n1,"open\n'
                + "".join(f"{i},row {i} " + "x" * 90_000 + ",n\n" for i in range(2, 14))
                + '99,x",end\n',
            )
        ),
        1,
        ("swallow.csv", "row 0", "column 'abstract'", "look like rows"),
    ),
    Case(
        "a NUL control character",
        lambda w: _load(w.file("nul.csv", "id,abstract\n1,ok\n2,bad\x00cell 🚀\n")),
        1,
        ("nul.csv", "row 1", "column 'abstract'", "NUL"),
    ),
    Case(
        "mixed types in a --date column",
        lambda w: _load(
            "--date",
            "application_date",
            w.xlsx(
                "mixed.xlsx", [HEADER, *good_rows(3), [99, "t", "an abstract", "LG", "미정", "", 1]]
            ),
        ),
        1,
        ("mixed.xlsx", "row 3", "column 'application_date'", "'미정' is not a date"),
    ),
    Case(
        "a line that is not JSON",
        lambda w: _load(w.file("bad.jsonl", '{"id": 1, "abstract": "a"}\n{"id": 2,\n')),
        1,
        ("bad.jsonl", "line 2", "not valid JSON"),
    ),
    Case(
        "a JSON line that is not an object",
        lambda w: _load(w.file("list.jsonl", '{"id": 1, "abstract": "a"}\n[1, 2]\n')),
        1,
        ("list.jsonl", "line 2", "not an object"),
    ),
    Case(
        "a corrupt parquet file",
        lambda w: _load(w.file("bad.parquet", b"PAR1" + b"\0" * 64)),
        1,
        ("bad.parquet", "not a readable Parquet file"),
    ),
    Case("--batch-size 0", lambda w: _load("--batch-size", "0", str(w.good)), 2, ("--batch-size",)),
    Case(
        "--chunk-size -5", lambda w: _load("--chunk-size", "-5", str(w.good)), 2, ("--chunk-size",)
    ),
    Case(
        "an unknown --on-duplicate policy",
        lambda w: _load("--on-duplicate", "merge", str(w.good)),
        2,
        ("--on-duplicate",),
    ),
    Case("a negative --wait", lambda w: _load("--wait", "-1", str(w.good)), 2, ("--wait",)),
    Case(
        "an invalid collection name",
        lambda w: ["load", "-c", "../evil", "-q", "--id", "id", str(w.good)],
        1,
        ("'../evil'", "invalid collection name"),
    ),
    Case(
        "a --model folder that does not exist",
        lambda w: _load("--model", str(w.root / "no-model"), str(w.good)),
        1,
        ("no-model", "does not exist"),
        real_model=True,
    ),
    Case(
        "another model than the collection's",
        lambda w: _load("--model", "minilm", str(w.good)),
        1,
        (f"'{COLLECTION}'", "fake-bag-of-words"),
        real_model=True,
    ),
    Case(
        "another id column than the collection's",
        lambda w: ["load", "-c", COLLECTION, "-q", "--id", "title", str(w.good)],
        1,
        (f"'{COLLECTION}'", "keyed by column 'id'"),
    ),
    Case(
        "a store path inside a file",
        lambda w: _load("--path", w.file("not-a-folder", "x") + "/store", str(w.good)),
        1,
        ("not-a-folder", "cannot create the store folder"),
    ),
    Case(
        "a store path that is a file",
        lambda w: _load("--path", w.file("store-file", "x"), str(w.good)),
        2,
        ("--path", "store-file"),
    ),
    Case(
        "info on a collection that does not exist",
        lambda w: ["info", "-c", "nope"],
        1,
        ("'nope'", "no collection"),
    ),
    Case("drop without --yes", lambda w: ["drop", "-c", COLLECTION], 2, (f"'{COLLECTION}'",)),
]


@pytest.mark.parametrize("case", INGEST_CASES, ids=[c.id for c in INGEST_CASES])
def test_ingest_refuses_bad_input(case: Case, baseline):
    work, settings, before = baseline
    result = invoke(ingest_cli, case.args(work), obj=None if case.real_model else FAKE)
    assert_refused(result, case.code, case.fragments)
    assert snapshot(settings) == before, "the stored collection changed"


def test_corpus_is_large_enough():
    assert len(INGEST_CASES) + len(SEARCH_CASES) >= 30
    assert len({c.id for c in INGEST_CASES + SEARCH_CASES}) == len(INGEST_CASES + SEARCH_CASES)


@pytest.mark.skipif(
    hasattr(os, "geteuid") and os.geteuid() == 0,
    reason="root writes anywhere: folder permissions cannot be tested",
)
def test_store_folder_without_write_permission(baseline):
    work, settings, before = baseline
    folder = work.root / "readonly"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = invoke(ingest_cli, _load("--path", str(folder / "store"), str(work.good)), FAKE)
        assert_refused(result, 1, ("readonly",))
        result = invoke(ingest_cli, _load("--path", str(folder), str(work.good)), FAKE)
        assert_refused(result, 1, ("readonly", "not writable"))
    finally:
        folder.chmod(0o700)
    assert snapshot(settings) == before


# -- the search corpus ----------------------------------------------------------------------


def _search_cli():
    from patentsim.search.cli import cli

    return cli


SEARCH_CASES = [
    Case(
        "search: an unknown --where field",
        lambda w: ["like", "0", "-c", COLLECTION, "--where", "inventor=Kim"],
        2,
        ("inventor",),
    ),
    Case(
        "search: a bad operator",
        lambda w: ["like", "0", "-c", COLLECTION, "--where", "claims=>3"],
        2,
        ("claims",),
    ),
    Case(
        "search: a date that does not parse",
        lambda w: ["like", "0", "-c", COLLECTION, "--where", "application_date>=2020-13-45"],
        2,
        ("application_date",),
    ),
    Case(
        "search: a value of the wrong type",
        lambda w: ["like", "0", "-c", COLLECTION, "--where", "claims>=many"],
        2,
        ("claims", "many"),
    ),
    Case(
        "search: a range on a keyword field",
        lambda w: ["like", "0", "-c", COLLECTION, "--where", "applicant>=LG"],
        2,
        ("applicant",),
    ),
    Case(
        "search: --limit 0",
        lambda w: ["like", "0", "-c", COLLECTION, "--limit", "0"],
        2,
        ("--limit",),
    ),
    Case(
        "search: a negative --limit",
        lambda w: ["like", "0", "-c", COLLECTION, "--limit", "-3"],
        2,
        ("--limit",),
    ),
    Case(
        "search: a row number out of range",
        lambda w: ["like", "999", "-c", COLLECTION],
        1,
        ("999",),
    ),
    Case(
        "search: a key that is not stored",
        lambda w: ["like", "no-such-key", "-c", COLLECTION],
        1,
        ("no-such-key",),
    ),
    Case(
        "search: a collection that does not exist",
        lambda w: ["like", "0", "-c", "nope"],
        1,
        ("'nope'",),
    ),
    Case(
        "search: facets of an unknown field",
        lambda w: ["facets", "inventor", "-c", COLLECTION],
        2,
        ("inventor",),
    ),
]


@pytest.mark.parametrize("case", SEARCH_CASES, ids=[c.id for c in SEARCH_CASES])
def test_search_refuses_bad_input(case: Case, baseline):
    cli = _search_cli()
    work, settings, before = baseline
    result = invoke(cli, case.args(work))
    assert_refused(result, case.code, case.fragments)
    assert snapshot(settings) == before


# -- duplicate keys: the policy -------------------------------------------------------------

DUPLICATES = [
    ["id", "abstract"],
    [1, "first one"],
    [2, "two"],
    [1, "second one"],
    [3, "three"],
    [1, "third one"],
]


def test_duplicates_error_lists_the_first_rows_involved(tmp_path):
    rows = [["id", "abstract"]] + [[i % 4, f"text {i}"] for i in range(40)]
    path = write_xlsx(tmp_path / "many.xlsx", rows)
    result = invoke(ingest_cli, ["load", "-q", "--id", "id", str(path)])
    assert_refused(
        result, 1, ("duplicate ids", "'0' in rows 0 and 4", "'1' in rows 1 and 5", "(and 31 more)")
    )
    assert "--on-duplicate first|last" in result.output


@pytest.mark.parametrize(
    ("policy", "kept", "dropped"), [("first", "first one", [2, 4]), ("last", "third one", [0, 2])]
)
def test_duplicates_first_or_last(tmp_path, fake_embedder, policy, kept, dropped):
    path = write_xlsx(tmp_path / "dups.xlsx", DUPLICATES)
    settings = StoreSettings(path=str(tmp_path / "store"))
    summary = load(
        path,
        LoadSettings(store_settings=settings, collection="d", id_column="id", on_duplicate=policy),
        embedder=fake_embedder,
    )
    assert summary.points == 3
    assert summary.duplicates_dropped == dropped
    store = open_store(settings)
    try:
        by_key = {p.payload["_key"]: p.payload for p in store.open("d").scroll()}
    finally:
        store.close()
    assert sorted(by_key) == ["1", "2", "3"]
    assert by_key["1"]["abstract"] == kept


def test_duplicates_policy_through_the_cli(tmp_path, fake_embedder):
    path = write_xlsx(tmp_path / "dups.xlsx", DUPLICATES)
    args = ["load", "--id", "id", "--on-duplicate", "last", str(path)]
    result = invoke(ingest_cli, args, Seams(embedder=fake_embedder))
    assert result.exit_code == 0, result.output
    assert "duplicate ids dropped: rows 0, 2" in result.output
    assert "3 points" in result.output


# -- messy input that is accepted ----------------------------------------------------------


def _payloads(settings: StoreSettings, name: str) -> dict[str, dict]:
    store = open_store(settings)
    try:
        return {p.payload["_key"]: p.payload for p in store.open(name).scroll()}
    finally:
        store.close()


def test_accepted_messy_input(tmp_path, fake_embedder):
    """A BOM, cp949 without saying so, emoji, control characters, dotted names, mixed types."""
    settings = StoreSettings(path=str(tmp_path / "store"))

    bom = tmp_path / "bom.csv"
    bom.write_bytes(
        "id,abstract,filing.date\n1,배터리 🔋 cell\x07 pack,2020-01-02\n"
        "2,\x01second\x1b abstract,2021-03-04\n".encode("utf-8-sig")
    )
    load(
        bom,
        LoadSettings(store_settings=settings, collection="bom", id_column="id"),
        embedder=fake_embedder,
    )
    got = _payloads(settings, "bom")
    assert got["1"]["abstract"] == "배터리 🔋 cell  pack"
    assert got["2"]["abstract"] == " second  abstract"
    assert got["1"]["filing.date"] == "2020-01-02T00:00:00Z"  # the column's own name

    ko = tmp_path / "ko.csv"
    ko.write_bytes(_csv(KO_ROWS, "cp949"))
    load(
        ko,
        LoadSettings(store_settings=settings, collection="ko", id_column="id"),
        embedder=fake_embedder,
    )
    assert _payloads(settings, "ko")["1"]["abstract"] == "배터리 열관리 시스템"

    mixed = write_xlsx(
        tmp_path / "mixed.xlsx",
        [["id", "abstract", "claims"], [1, "a", 3], [2, "b", "n/a"], [3, "c", 4.5]],
    )
    load(
        mixed,
        LoadSettings(store_settings=settings, collection="mixed", id_column="id"),
        embedder=fake_embedder,
    )
    got = _payloads(settings, "mixed")
    assert [got[k]["claims"] for k in "123"] == [3, "n/a", 4.5]
    store = open_store(settings)
    try:
        fields = store.open("mixed").read_manifest().fields
    finally:
        store.close()
    assert fields["claims"].mixed is True


def test_float_written_ids_match_integer_keys(tmp_path, fake_embedder):
    """A csv that pandas wrote from a float column ('12.0') updates the same documents."""
    settings = StoreSettings(path=str(tmp_path / "store"))
    first = write_xlsx(tmp_path / "a.xlsx", [["id", "abstract"], [12, "alpha"], [13, "beta"]])
    load(
        first,
        LoadSettings(store_settings=settings, collection="k", id_column="id"),
        embedder=fake_embedder,
    )
    again = tmp_path / "a.csv"
    again.write_text("id,abstract\n12.0,alpha\n13.0,beta\n", encoding="utf-8")
    summary = load(
        again,
        LoadSettings(store_settings=settings, collection="k", id_column="id"),
        embedder=fake_embedder,
    )
    assert summary.added == 0 and summary.embedded == 0
    assert sorted(_payloads(settings, "k")) == ["12", "13"]


def test_utf16_with_bom_is_read(tmp_path, fake_embedder):
    """Excel's 'Unicode text' export: UTF-16 with a BOM, tab-separated."""
    path = tmp_path / "unicode.tsv"
    path.write_bytes("id\tabstract\n1\t배터리 냉각\n".encode("utf-16"))
    settings = StoreSettings(path=str(tmp_path / "store"))
    load(
        path,
        LoadSettings(store_settings=settings, collection="u", id_column="id"),
        embedder=fake_embedder,
    )
    assert _payloads(settings, "u")["1"]["abstract"] == "배터리 냉각"


def test_json_values_become_payload(tmp_path, fake_embedder):
    """Huge integers, infinities and nested objects from JSON lines are stored, not crashed on."""
    path = tmp_path / "odd.jsonl"
    rows = [
        {"id": 1, "abstract": "a", "big": 2**70, "ratio": float("inf"), "meta": {"x": [1]}},
        {"id": 2, "abstract": "b", "big": 5, "ratio": 0.5, "meta": {"x": []}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    settings = StoreSettings(path=str(tmp_path / "store"))
    load(
        path,
        LoadSettings(store_settings=settings, collection="j", id_column="id"),
        embedder=fake_embedder,
    )
    got = _payloads(settings, "j")["1"]
    assert got["big"] == str(2**70)
    assert got["ratio"] == "inf"
    assert json.loads(got["meta"]) == {"x": [1]}
