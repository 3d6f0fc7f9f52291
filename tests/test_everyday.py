"""What a new user trips over in the first hour (issue 28): the collection variable in the
Python API, the docs' Python example as a script, one install, the store's folder, output
columns in the file's order and the wording of long texts."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings, default_path

from .conftest import EXAMPLE_XLSX, ROOT, slice_xlsx
from .fakes import FakeEmbedder

# The command line loads with the fake embedder (click's obj: ingest.cli.Seams).
FAKE = Seams(embedder=FakeEmbedder())


def ingest(*args: str):
    result = CliRunner().invoke(ingest_cli, list(args), obj=FAKE)
    assert result.exit_code == 0, result.output
    return result


def search(*args: str):
    result = CliRunner().invoke(search_cli, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def two_collections(tmp_path) -> Path:
    example = slice_xlsx(EXAMPLE_XLSX, tmp_path / "patents.xlsx", 40)
    for name in ("patents", "other"):
        ingest("load", str(example), "-q", "--id", "application_number", "-c", name)
    return example


# -- QDRANT_COLLECTION in the Python API ----------------------------------------------------------


def test_the_python_api_takes_the_collection_from_qdrant_collection(two_collections, monkeypatch):
    from patentsim.errors import CollectionNotFound
    from patentsim.search import QueryOptions, Session, facets, like

    three = QueryOptions(limit=3)
    with pytest.raises(CollectionNotFound, match="QDRANT_COLLECTION"):
        like(0, three)
    monkeypatch.setenv("QDRANT_COLLECTION", "other")
    assert like(0, three).collection == "other"
    assert facets("applicant", QueryOptions(limit=2)).collection == "other"
    with Session() as session:
        assert session.like(0, three).collection == "other"
    # An argument wins over the variable.
    assert like(0, three, collection="patents").collection == "patents"


def python_blocks(page: str) -> list[str]:
    text = (ROOT / page).read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_the_docs_python_example_runs_as_a_script_and_prints_its_three_results(
    two_collections, tmp_path
):
    """The first Python block of the searching page, run as a script with two collections in
    the store and QDRANT_COLLECTION set: it prints the like hits, the text hits and the
    facet counts."""
    script = tmp_path / "example.py"
    script.write_text(python_blocks("docs/searching.md")[0], encoding="utf-8")
    env = {**os.environ, "QDRANT_COLLECTION": "patents", "PYTHONPATH": str(ROOT)}
    # The collection was loaded with the fake embedder: text() gets the same one.
    code = (
        "import runpy, sys\n"
        "from tests.fakes import FakeEmbedder\n"
        "import patentsim.search.query_model as q\n"
        "q._EMBEDDERS[('fake-bag-of-words', 'auto', 'torch', 'truncate')] = FakeEmbedder()\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    sections = [s for s in proc.stdout.split("\n\n") if s.strip()]
    assert len(sections) == 3, proc.stdout
    likes, texts, counts = (s.splitlines() for s in sections)
    assert len(likes) == 5 and all(line.split()[0].isdigit() for line in likes)
    assert texts[0].split()[:3] == ["rank", "key", "title"] and len(texts) == 4
    assert len(counts) == 5 and all(line.rsplit(" ", 1)[1].isdigit() for line in counts)


# -- one install ----------------------------------------------------------------------------------


def readme_install() -> list[str]:
    """The requirements the README's quickstart installs (its first pip install line)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(line for line in text.splitlines() if line.startswith("python -m pip install -e "))
    target = line.split("-e ", 1)[1].strip().strip('"')
    extras = re.findall(r"\[(.*)\]", target)
    return [e.strip() for e in extras[0].split(",")] if extras else []


def installed_by(extras: list[str]) -> set[str]:
    """Every distribution the base install plus ``extras`` brings, with what those require."""
    import importlib.metadata as md

    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    from packaging.requirements import Requirement

    # A requirement's extras count too: qdrant-client requires httpx[http2], which brings h2.
    seen: set[str] = set()
    done: set[tuple[str, str]] = set()
    queue = [Requirement(r) for r in wanted]
    while queue:
        req = queue.pop()
        name = _req_name(req.name)
        seen.add(name)
        for extra in ("", *sorted(req.extras)):
            if (name, extra) in done:
                continue
            done.add((name, extra))
            try:
                requires = md.requires(name) or []
            except md.PackageNotFoundError:
                continue
            for text in requires:
                dep = Requirement(text)
                marker = dep.marker
                if marker is None:
                    wanted_here = not extra
                elif extra:
                    wanted_here = "extra" in str(marker) and marker.evaluate({"extra": extra})
                else:
                    wanted_here = marker.evaluate({"extra": ""})
                if wanted_here:
                    queue.append(dep)
    return seen


def _req_name(req: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9_.-]+", req).group(0)).lower()


@pytest.mark.slow
def test_the_readme_install_covers_what_search_text_dense_imports(tmp_path, offline_embedder):
    """``search text --mode dense`` as the quickstart installs it: every third-party module
    the command imports (the query engine, ONNX Runtime, and the export on a first query)
    belongs to a distribution the README's install command brings, so a fresh venv runs it
    without the 'onnxruntime is not installed' warning.  (Installing a fresh venv would
    download gigabytes here; the imports of a real run, checked against the declared
    requirements and what they require, are the same question.)"""
    import importlib.metadata as md

    example = slice_xlsx(EXAMPLE_XLSX, tmp_path / "patents.xlsx", 5)
    dense = LoadSettings(collection="dense", id_column="application_number")
    load(example, dense, embedder=offline_embedder)
    code = (
        "import sys, json\n"
        "from patentsim.search.cli import cli\n"
        "try:\n"
        "    cli(['text', '배터리 냉각', '-c', 'dense', '--mode', 'dense', '--limit', '2'])\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )

    def run() -> list[str]:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "onnxruntime is not installed" not in proc.stderr
        assert "warning" not in proc.stderr.lower(), proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    # The first query of a model exports it to ONNX (torch) unless an earlier test did; the
    # next one runs on ONNX Runtime alone.
    first, second = run(), run()
    assert "onnxruntime" in second and "torch" not in second
    modules = sorted(set(first) | set(second))
    owners = md.packages_distributions()
    installed = installed_by(readme_install())
    missing = {
        m: owners[m]
        for m in modules
        if m in owners
        and m not in sys.stdlib_module_names
        and m != "patentsim"
        and not {_req_name(d) for d in owners[m]} & installed
    }
    assert missing == {}


def test_readme_makefile_docs_and_ci_install_the_same_product():
    """The quickstart installs the base, the Makefile adds only developers' extras, and no
    page tells a user to install an extra the product needs."""
    assert readme_install() == []
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    (extras,) = re.findall(r'install -q -e "\.\[(.*?)\]"', makefile)
    assert set(extras.split(",")) == {"test", "umap", "docs"}
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    named = {
        page.name: re.findall(r"patentsim\[(offline|onnx)\]|\.\[(?:offline|onnx)", page.read_text())
        for page in pages
    }
    assert {k: v for k, v in named.items() if v} == {}
    sources = [p.read_text() for p in (ROOT / "src").rglob("*.py")]
    assert not any("patentsim[onnx]" in s or "patentsim[offline]" in s for s in sources)


# -- the store's folder ---------------------------------------------------------------------------


def test_the_default_store_is_a_per_user_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("QDRANT_PATH")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    settings = StoreSettings.resolve()
    assert settings.path == default_path() == str(tmp_path / "data" / "patentsim" / "qdrant_data")
    assert settings.origin == "per-user default"
    assert StoreSettings.resolve(path="elsewhere").origin == "option"


def test_an_existing_qdrant_data_here_is_still_found_with_a_note(tmp_path, monkeypatch):
    monkeypatch.delenv("QDRANT_PATH")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    example = slice_xlsx(EXAMPLE_XLSX, tmp_path / "patents.xlsx", 10)
    # A store made by an earlier version, in the current folder.
    ingest("load", str(example), "-q", "--path", "qdrant_data", "-c", "old")
    result = ingest("info", "-c", "old")
    assert f"store       {tmp_path / 'qdrant_data'} (current folder)" in result.stdout
    assert "warning: using the store" in result.stderr
    assert "found in the current folder" in result.stderr
    listed = ingest("list")
    assert listed.stdout.startswith("old\t10 points")
    # With QDRANT_PATH set, no note; elsewhere, the per-user store.
    monkeypatch.setenv("QDRANT_PATH", "qdrant_data")
    assert "warning" not in ingest("info", "-c", "old").stderr
    monkeypatch.delenv("QDRANT_PATH")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert f"store {tmp_path / 'data'}" in ingest("list").stderr
    assert "(per-user default)" in ingest("list").stderr


def test_ingest_info_says_where_the_store_is(tmp_path, private_store):
    example = slice_xlsx(EXAMPLE_XLSX, tmp_path / "patents.xlsx", 5)
    ingest("load", str(example), "-q", "-c", "here")
    info = ingest("info", "-c", "here").stdout.splitlines()
    assert info[1] == f"store       {private_store.resolve()} (QDRANT_PATH)"


# -- output columns -------------------------------------------------------------------------------


def test_csv_and_xlsx_output_keep_the_files_column_order(two_collections, tmp_path):
    import openpyxl

    header = [c.value for c in next(openpyxl.load_workbook(two_collections).active.iter_rows())]
    expected = ["rank", "score", "key", "row", *header]
    out = tmp_path / "out.csv"
    search("like", "0", "-c", "patents", "-o", str(out))
    with out.open(encoding="utf-8-sig") as fh:
        assert next(csv.reader(fh)) == expected
    xlsx = tmp_path / "out.xlsx"
    search("like", "0", "-c", "patents", "-o", str(xlsx))
    first = next(openpyxl.load_workbook(xlsx).active.iter_rows(values_only=True))
    assert list(first) == expected
    printed = search("like", "0", "-c", "patents", "--format", "csv").stdout
    assert printed.splitlines()[0].split(",") == expected


# -- wording --------------------------------------------------------------------------------------


def test_texts_beyond_the_window_are_said_in_words(tmp_path):
    """The fake model's window is 64 tokens: two of the three abstracts are longer."""
    source = tmp_path / "long.csv"
    long_text = " ".join(f"word{i}" for i in range(100))
    source.write_text(
        f"title,abstract\na,{long_text}\nb,short text here\nc,{long_text} more\n",
        encoding="utf-8",
    )
    out = ingest("load", str(source), "-q", "-c", "cut").stdout
    assert "truncated" not in out
    lines = [x for x in out.splitlines() if "first" in x]
    assert lines == [
        "  2 texts were longer than the model's window and embedded from their first 64 "
        "tokens; --long-text chunk embeds the whole of each text (windows averaged)",
        "  embedded from their first tokens: rows 0, 2",
    ]


# -- multi-word arguments, field case, output folders, score units, hints ---------------------


def keys_of(result) -> list[str]:
    return [json.loads(line)["key"] for line in result.stdout.splitlines() if line.strip()]


def test_search_text_takes_several_words_as_one_query(two_collections):
    args = ["-c", "patents", "--mode", "keyword", "--format", "json"]
    unquoted = search("text", "배터리", "냉각", "장치", *args)
    assert keys_of(unquoted) == keys_of(search("text", "배터리 냉각 장치", *args))
    assert keys_of(unquoted)


@pytest.mark.parametrize(
    "command",
    [
        ["like", "0", "-c", "patents"],
        ["text", "배터리", "냉각", "-c", "patents", "--mode", "keyword"],
    ],
)
def test_a_where_condition_split_by_the_shell_says_to_quote_it(two_collections, command):
    args = [*command, "--where", "applicant=삼성전자", "주식회사"]
    result = CliRunner().invoke(search_cli, args)
    assert result.exit_code == 2, result.output
    assert 'quote it, --where "applicant=삼성전자 주식회사"' in result.output
    assert "Traceback" not in result.output


def test_a_field_in_another_case_is_matched_and_said(two_collections):
    args = ["like", "0", "-c", "patents", "--format", "json", "--limit", "40"]
    lower = search(*args, "--where", "status=등록")
    upper = search(*args, "--where", "Status=등록")
    assert keys_of(upper) == keys_of(lower) and keys_of(lower)
    assert "field 'Status' taken as 'status'" in upper.stderr
    assert "taken as" not in lower.stderr


def test_output_into_a_missing_folder_fails_before_the_query(two_collections, tmp_path):
    out = tmp_path / "missing" / "dir" / "out.xlsx"
    result = CliRunner().invoke(search_cli, ["like", "999999", "-c", "patents", "-o", str(out)])
    # The folder is checked first: the bad reference is never looked up.
    assert result.exit_code == 2, result.output
    assert f"the folder {out.parent} does not exist" in result.output


@pytest.mark.parametrize(
    ("mode", "kind"), [("dense", "cosine"), ("keyword", "bm25"), ("hybrid", "rrf")]
)
def test_the_table_names_the_kind_of_score(two_collections, mode, kind):
    table = search("like", "0", "-c", "patents", "--mode", mode).stdout
    assert table.splitlines()[0].split()[:3] == ["rank", kind, "key"]


def test_the_unknown_field_hint_uses_a_frequent_term(two_collections):
    result = CliRunner().invoke(search_cli, ["like", "0", "-c", "patents", "--where", "abstrct~x"])
    assert result.exit_code == 2, result.output
    (example,) = re.findall(r'e\.g\. --where "?abstract~(\S+?)"?;', result.output)
    # A word most abstracts hold, as the analyzer keeps it: two characters or more.
    assert len(example) >= 2 and example != "본"
    keys = keys_of(
        search(
            "like",
            "0",
            "-c",
            "patents",
            "--format",
            "json",
            "--limit",
            "40",
            "--where",
            f"abstract~{example}",
        )
    )
    assert len(keys) >= 20
