"""Applicant names: one name per party for --where, facets and --group-by (issue 28).

A fixture writes one applicant five ways (``삼성전자 주식회사``, ``삼성전자(주)``,
``(주)삼성전자``, ``SAMSUNG ELECTRONICS CO., LTD.``, ``Samsung Electronics Co., Ltd``):
``search facets applicant`` shows one entry with the right count once an alias file maps the
English name, and ``--where "applicant=삼성전자"`` finds every one of them; the alias file
is applied as payload only (no vector changes, no model loaded).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.columns import name_kind
from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings, open_store
from patentsim.store.names import Aliases, BadAliases, display_name, name_key

from .conftest import ROOT, SHARED_DATA
from .fakes import FakeEmbedder

# The command line loads with the fake embedder (click's obj: ingest.cli.Seams).
FAKE = Seams(embedder=FakeEmbedder())

SAMSUNG = [
    "삼성전자 주식회사",
    "삼성전자(주)",
    "(주)삼성전자",
    "SAMSUNG ELECTRONICS CO., LTD.",
    "Samsung Electronics Co., Ltd",
]
OTHERS = ["엘지전자 주식회사", "LG Electronics Inc.", "현대자동차주식회사", "Robert Bosch GmbH"]


def write_fixture(path: Path) -> Path:
    """Nine rows: Samsung written five ways, four other applicants; inventors as lists."""
    rows = [
        {
            "application_number": f"10-2020-{i:04d}",
            "title": f"배터리 냉각 장치 {i}",
            "abstract": f"배터리 셀을 냉각하는 장치 {i}. 냉각판과 유로를 포함한다.",
            "applicant": name,
            "inventor": "홍길동|Kim Yoon Se" if i % 2 else "김철수",
        }
        for i, name in enumerate(SAMSUNG + OTHERS)
    ]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def ingest(*args: str):
    result = CliRunner().invoke(ingest_cli, list(args), obj=FAKE)
    assert result.exit_code == 0, result.output
    return result


def search(*args: str, code: int = 0):
    result = CliRunner().invoke(search_cli, list(args))
    assert result.exit_code == code, result.output
    return result


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def names_collection(tmp_path) -> str:
    source = write_fixture(tmp_path / "names.csv")
    ingest("load", str(source), "-q", "--id", "application_number", "-c", "names")
    return "names"


def write_aliases(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- the key ----------------------------------------------------------------------------------


def test_the_five_spellings_share_one_key_once_the_alias_maps_the_english_name():
    keys = {name_key(n) for n in SAMSUNG}
    assert keys == {"삼성전자", "samsung electronics"}
    aliases = Aliases.parse('name,alias\n삼성전자,"Samsung Electronics Co., Ltd."\n')
    assert {aliases.key(n) for n in SAMSUNG} == {"삼성전자"}
    assert aliases.display("삼성전자") == "삼성전자"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("엘지전자 주식회사", "주식회사 엘지전자"),
        ("㈜엘지화학", "(주) 엘지화학"),
        ("LG Electronics Inc.", "LG ELECTRONICS, INC"),
        ("Robert Bosch GmbH", "ROBERT BOSCH G.m.b.H."),
        ("Siemens AG", "SIEMENS AG"),
        ("로베르트 보쉬 게엠베하", "로베르트보쉬"),
        ("헨드릭슨 인터내셔널 코포레이션", "헨드릭슨 인터내셔널"),
        ("E. I. Du Pont De Nemours And Company", "E.I. du Pont de Nemours & Co., Inc."),
        ("株式会社日立製作所", "日立製作所"),
        ("Kabushiki Kaisha Toshiba", "TOSHIBA KK"),
        ("서울대학교 산학협력단", "서울대학교산학협력단"),
        ("Koninklijke Philips N.V.", "KONINKLIJKE PHILIPS NV"),
    ],
)
def test_spellings_of_one_name_share_a_key(a, b):
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("삼성전자 주식회사", "삼성전기 주식회사"),
        ("LG Electronics Inc.", "LG Chem, Ltd."),
        ("Samsung SDI Co., Ltd.", "Samsung Electronics Co., Ltd."),
        ("서울대학교 산학협력단", "서울대학교"),
        ("Ford Global Technologies, LLC", "Ford Motor Company"),
    ],
)
def test_different_names_keep_different_keys(a, b):
    assert name_key(a) != name_key(b)


def test_a_name_that_is_only_a_legal_form_keeps_it_and_inventors_keep_theirs():
    assert name_key("주식회사") == "주식회사"
    assert name_key("Co., Ltd.") == "co ltd"
    # A romanised given name may look like a legal form: people's names keep every word.
    assert name_key("Kim Yoon Se", "person") == "kim yoon se"
    assert name_key("Kim Yoon Se") == "kim yoon"


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Samsung Electronics Co., Ltd", "Samsung Electronics"),
        ("(주)삼성전자", "삼성전자"),
        ("삼성전자 주식회사", "삼성전자"),
        ("E. I. Du Pont De Nemours And Company", "E. I. Du Pont De Nemours"),
        ("주식회사", "주식회사"),
    ],
)
def test_a_party_is_shown_without_its_legal_form(name, shown):
    assert display_name(name) == shown


@pytest.mark.parametrize(
    ("column", "kind"),
    [
        ("applicant", "company"),
        ("Applicants", "company"),
        ("Current Assignee", "company"),
        ("assignee", "company"),
        ("Owners", "company"),
        ("출원인", "company"),
        ("대표출원인", "company"),
        ("출원인명", "company"),
        ("inventor/author", "person"),
        ("Inventors", "person"),
        ("발명자", "person"),
        ("applicant_country", None),
        ("출원인 국적", None),
        ("출원인수", None),
        ("Applicant Address", None),
        ("abstract", None),
        ("title", None),
    ],
)
def test_name_columns_by_their_names(column, kind):
    assert name_kind(column) == kind


@pytest.mark.parametrize(
    ("file", "names"),
    [
        ("google_patents.csv", {"assignee": "company", "inventor/author": "person"}),
        ("lens.csv", {"Applicants": "company", "Inventors": "person", "Owners": "company"}),
        ("kipris_export.xlsx", {"출원인": "company"}),
        ("wipson.xlsx", {"출원인": "company", "발명자": "person"}),
        ("espacenet.csv", {"Applicants": "company", "Inventors": "person"}),
    ],
)
def test_the_name_columns_of_every_known_exporter_are_found(file, names):
    """Each exporter fixture, as ingest reads it: its name columns and no others."""
    from patentsim.ingest.exporters import detect_exporter
    from patentsim.ingest.read import open_table

    (table,) = [open_table(ROOT / "tests" / "data" / file)]
    assert detect_exporter(table.columns) is not None
    found = {c: k for c in table.columns if (k := name_kind(c))}
    assert {c.lower(): k for c, k in found.items()} == {c.lower(): k for c, k in names.items()}


def test_an_alias_file_with_a_row_of_one_name_or_a_conflict_is_refused(tmp_path):
    with pytest.raises(BadAliases, match="line 2: 1 names where two belong"):
        Aliases.parse("name,alias\n삼성전자\n")
    with pytest.raises(BadAliases, match="already an alias of '삼성전자'"):
        Aliases.parse("삼성전자,SEC\nSK하이닉스,SEC\n")
    with pytest.raises(BadAliases, match="circle"):
        Aliases.parse("A Corp,B Corp\nB Corp,A Corp Holdings\nA Corp Holdings,A Corp\n")
    with pytest.raises(BadAliases, match="cannot read"):
        Aliases.read(tmp_path / "missing.csv")


# -- the collection ------------------------------------------------------------------------------


def test_facets_applicant_shows_one_entry_per_party(names_collection, tmp_path):
    before = json_lines(search("facets", "applicant", "-c", "names", "--format", "json").stdout)
    # Shown by their most frequent spelling (here: the first of equals) without legal forms.
    assert before[:2] == [
        {"value": "삼성전자", "count": 3, "spellings": sorted(SAMSUNG[:3])},
        {"value": "SAMSUNG ELECTRONICS", "count": 2, "spellings": sorted(SAMSUNG[3:])},
    ]

    aliases = write_aliases(
        tmp_path / "aliases.csv",
        'name,alias\n삼성전자,"Samsung Electronics Co., Ltd."\nLG전자,LG Electronics\n'
        "LG전자,엘지전자\n",
    )
    applied = ingest("aliases", str(aliases), "-c", "names")
    assert "payload only, nothing embedded" in applied.stdout
    assert "applicant: 6 distinct names before, 4 after" in applied.stdout

    counts = json_lines(search("facets", "applicant", "-c", "names", "--format", "json").stdout)
    assert counts[0] == {"value": "삼성전자", "count": 5, "spellings": sorted(SAMSUNG)}
    lg = next(c for c in counts if c["value"] == "LG전자")
    assert lg["count"] == 2
    assert sum(c["count"] for c in counts) == 9

    table = search("facets", "applicant", "-c", "names")
    first = table.stdout.splitlines()[1].split()
    assert first == ["삼성전자", "5"]
    assert "all 4 names; 9 matching documents" in table.stderr


def test_where_applicant_finds_every_spelling(names_collection, tmp_path):
    def keys(*where: str) -> set[str]:
        args = ["text", "배터리 냉각", "-c", "names", "--mode", "keyword", "--limit", "50"]
        for w in where:
            args += ["--where", w]
        return {h["key"] for h in json_lines(search(*args, "--format", "json").stdout)}

    korean = {f"10-2020-{i:04d}" for i in range(3)}
    every = {f"10-2020-{i:04d}" for i in range(5)}
    assert keys("applicant=삼성전자") == korean
    assert keys("applicant=(주)삼성전자") == korean
    assert keys("applicant=samsung electronics") == every - korean
    write_aliases(tmp_path / "a.csv", "삼성전자,Samsung Electronics\n")
    ingest("aliases", str(tmp_path / "a.csv"), "-c", "names")
    assert keys("applicant=삼성전자") == every
    assert keys("applicant=SAMSUNG ELECTRONICS CO., LTD.") == every
    assert keys("applicant!=삼성전자") == {f"10-2020-{i:04d}" for i in range(5, 9)}
    assert keys("applicant=삼성전자|Robert Bosch") == every | {"10-2020-0008"}


def test_group_by_applicant_keeps_one_hit_per_party(names_collection, tmp_path):
    write_aliases(tmp_path / "a.csv", "삼성전자,Samsung Electronics\n")
    ingest("aliases", str(tmp_path / "a.csv"), "-c", "names")
    args = ["text", "배터리 냉각", "-c", "names", "--mode", "keyword", "--limit", "50"]
    hits = json_lines(search(*args, "--group-by", "applicant", "--format", "json").stdout)
    assert len(hits) == 5  # Samsung once, the four others once each
    shown = [h["payload"]["applicant"] for h in hits]
    assert sum(n in SAMSUNG for n in shown) == 1
    # The keys are the tool's own: no hit's payload shows them.
    assert not any(k.startswith("_") for h in hits for k in h["payload"])


def test_inventor_lists_are_counted_per_person(names_collection):
    counts = json_lines(search("facets", "inventor", "-c", "names", "--format", "json").stdout)
    assert {c["value"]: c["count"] for c in counts} == {"김철수": 5, "홍길동": 4, "Kim Yoon Se": 4}


def test_aliases_rewrite_payload_only(names_collection, tmp_path):
    """The vectors stay as they were, and the command imports no model library."""
    settings = StoreSettings.resolve()

    def vectors() -> dict[str, list[float]]:
        store = open_store(settings)
        try:
            coll = store.open("names")
            return {p.id: p.vector for p in coll.scroll(with_vectors=True, with_payload=False)}
        finally:
            store.close()

    before = vectors()
    aliases = write_aliases(tmp_path / "a.csv", "삼성전자,Samsung Electronics\n")
    code = (
        "import sys\n"
        "from patentsim.ingest.cli import cli\n"
        f"cli(['aliases', {str(aliases)!r}, '-c', 'names'], standalone_mode=False)\n"
        "heavy = {'torch', 'sentence_transformers', 'transformers'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "name keys of 2 of 9 documents rewritten" in proc.stdout
    assert vectors() == before
    # A load of the same file afterwards keeps the table and changes nothing.
    out = ingest(
        "load",
        str(tmp_path / "names.csv"),
        "-q",
        "--id",
        "application_number",
        "-c",
        "names",
        "--format",
        "json",
    )
    summary = json.loads(out.stdout)
    assert (summary["unchanged"], summary["payload_updated"], summary["embedded"]) == (9, 0, 0)


def test_a_bad_alias_file_leaves_the_collection_as_it_was(names_collection, tmp_path):
    bad = write_aliases(tmp_path / "bad.csv", "삼성전자\n")
    result = CliRunner().invoke(ingest_cli, ["aliases", str(bad), "-c", "names"], obj=FAKE)
    assert result.exit_code == 2, result.output
    assert "bad.csv, line 1: 1 names where two belong" in result.output
    assert "Traceback" not in result.output
    counts = json_lines(search("facets", "applicant", "-c", "names", "--format", "json").stdout)
    assert len(counts) == 6


def test_facets_without_a_field_lists_the_fields_it_can_count(names_collection):
    listed = json_lines(search("facets", "-c", "names", "--format", "json").stdout)
    by_name = {f["field"]: f for f in listed}
    assert list(by_name) == ["application_number", "applicant", "inventor"]
    assert by_name["applicant"]["distinct"] == 6 and by_name["applicant"]["names"]
    assert by_name["inventor"] == {
        "field": "inventor",
        "type": "keyword",
        "list": True,
        "distinct": 3,
        "documents": 9,
        "names": True,
    }
    table = search("facets", "-c", "names").stdout
    assert table.splitlines()[0].split() == ["field", "type", "distinct", "documents"]


def test_a_facet_that_shows_some_values_says_how_many_there_are(names_collection):
    result = search("facets", "applicant", "-c", "names", "--limit", "3")
    assert len(result.stdout.splitlines()) == 4  # header and three values
    assert "3 of 6 names (--limit 6 for all); 9 matching documents" in result.stderr
    ids = search("facets", "application_number", "-c", "names", "--limit", "2")
    assert "2 of 9 values (--limit 9 for all)" in ids.stderr


# -- real data ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "column", "spellings", "names"),
    [
        # The KIPRIS-style export writes each applicant one way already.
        ("patents_ko.xlsx", "applicant", 233, 233),
        # Five sources' assignees: "Google Inc." / "Google LLC", "Canon Kabushiki Kaisha" /
        # "Canon Inc.", ...
        ("patents_en.csv", "assignee", 4065, 3880),
    ],
)
def test_distinct_names_in_the_real_data(file, column, spellings, names):
    path = SHARED_DATA / file
    if not path.is_file():
        pytest.skip(f"{path} not found: real data lives in ../shared/data")
    import pandas as pd

    frame = pd.read_excel(path) if file.endswith(".xlsx") else pd.read_csv(path, low_memory=False)
    written = {p.strip() for v in frame[column].dropna().astype(str) for p in v.split("|")}
    written.discard("")
    keys = {name_key(n) for n in written}
    assert (len(written), len(keys)) == (spellings, names)
