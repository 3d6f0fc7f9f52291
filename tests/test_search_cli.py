"""The ``search`` command: exit codes and parsed output of each command, and start-up that
stays free of heavy imports.  The docs' search examples run in tests/test_docs_examples.py."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, like
from patentsim.store import StoreSettings, open_store

from .conftest import KO_XLSX, slice_xlsx
from .fakes import FakeEmbedder

ROWS = 80
HEAVY = ("torch", "sentence_transformers", "transformers", "pandas", "sklearn", "qdrant_client")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return slice_xlsx(KO_XLSX, tmp_path_factory.mktemp("src") / "ko80.xlsx", ROWS)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """Ten rows, for tests that make collections of their own."""
    return slice_xlsx(KO_XLSX, tmp_path_factory.mktemp("tiny") / "ko10.xlsx", 10)


@pytest.fixture(scope="module")
def store_path(source, tmp_path_factory) -> str:
    """An embedded store holding one collection, 'patents' (fake embeddings)."""
    path = str(tmp_path_factory.mktemp("store"))
    load(
        source,
        LoadSettings(store_settings=StoreSettings(path=path), collection="patents"),
        embedder=FakeEmbedder(),
    )
    return path


@pytest.fixture
def search(store_path):
    from patentsim.search.cli import cli

    runner = CliRunner()

    def run(*args: str, path: str | None = None, url: str | None = None):
        env = {"QDRANT_PATH": path or store_path, "QDRANT_URL": url}
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -- like ------------------------------------------------------------------------------------


def test_like_table(search):
    # Dense, so the score column is the cosine (the fixture's measured default may be keyword).
    result = search("like", "0", "--mode", "dense")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "rank",
        "cosine",
        "key",
        "row",
        "title",
        "applicant",
        "application_date",
    ]
    assert len(lines) == 11
    assert [line.split()[0] for line in lines[1:]] == [str(i) for i in range(1, 11)]
    assert result.stderr.startswith("like: key 0, row 0 — 연삭 장치의 연삭량 측정 시스템")
    assert "(application_date 2023-01-10)" in result.stderr
    # Wide characters aligned: every row's date starts in the same display column.
    from patentsim.search.render import display_width

    starts = {display_width(line[: line.rindex(" ") + 1]) for line in lines[1:]}
    assert len(starts) == 1, lines


def test_like_json_lines_are_the_api_results(search, store_path):
    result = search("like", "0", "--limit", "5", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json_lines(result.stdout)
    api = like(0, QueryOptions(limit=5), settings=StoreSettings(path=store_path))
    assert rows == [json.loads(json.dumps(h.to_dict(), ensure_ascii=False)) for h in api.hits]
    first = rows[0]
    assert list(first) == ["rank", "score", "key", "row", "payload"]
    assert first["rank"] == 1 and first["key"] == str(first["row"])
    assert first["score"] == pytest.approx(api.hits[0].score, abs=1e-6)
    assert {"title", "abstract", "ipc", "application_date"} <= set(first["payload"])
    assert not any(k.startswith("_") for k in first["payload"])
    assert 0 not in [r["row"] for r in rows]


def test_like_fields_offset_and_min_score(search):
    # Dense: cosine scores (the collection's measured default may be another mode).
    dense = ("--mode", "dense")
    full = json_lines(search("like", "3", "-n", "6", "--format", "json", *dense).stdout)
    page = search(
        "like",
        "3",
        "-n",
        "3",
        "--offset",
        "3",
        "--format",
        "json",
        "--fields",
        "title,ipc",
        *dense,
    )
    assert page.exit_code == 0, page.output
    rows = json_lines(page.stdout)
    assert [r["key"] for r in rows] == [r["key"] for r in full[3:]]
    assert [r["rank"] for r in rows] == [4, 5, 6]
    assert all(set(r["payload"]) <= {"title", "ipc"} for r in rows)
    cut = full[1]["score"] - 1e-9
    above = json_lines(
        search("like", "3", "--min-score", str(cut), "--format", "json", *dense).stdout
    )
    assert [r["key"] for r in above] == [r["key"] for r in full[:2]]


def test_like_csv(search):
    result = search("like", "0", "-n", "3", "--format", "csv", "--fields", "title,ipc")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == ["rank", "score", "key", "row", "title", "ipc"]
    assert [r["rank"] for r in rows] == ["1", "2", "3"]
    assert all("|" in r["ipc"] or r["ipc"] for r in rows)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".jsonl"])
def test_like_output_file(search, tmp_path, suffix):
    target = tmp_path / f"results{suffix}"
    result = search("like", "0", "-n", "4", "--output", str(target))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert f"wrote 4 results to {target}" in result.stderr
    if suffix == ".jsonl":
        rows = json_lines(target.read_text(encoding="utf-8"))
        assert [r["rank"] for r in rows] == [1, 2, 3, 4]
        return
    import pandas as pd

    df = pd.read_excel(target) if suffix == ".xlsx" else pd.read_csv(target, encoding="utf-8-sig")
    assert list(df.columns[:4]) == ["rank", "score", "key", "row"]
    assert "title" in df.columns and "ipc" in df.columns
    assert df["rank"].to_list() == [1, 2, 3, 4]
    if suffix == ".xlsx":
        assert str(df["application_date"].dtype).startswith("datetime64")


def test_like_refusals(search, tmp_path):
    result = search("like", "999")
    assert result.exit_code == 1, result.output
    assert "it has 80 documents from 80 rows (rows 0 to 79)" in result.stderr
    result = search("like", "0", "--where", "applicant>=5")
    assert result.exit_code == 2, result.output
    assert "'applicant' is a keyword field" in result.stderr
    assert "e.g. --where" in result.stderr
    result = search("like", "0", "--where", "application_date>=someday")
    assert result.exit_code == 2 and "'someday' is not an ISO 8601 date" in result.stderr
    result = search("like", "0", "--filter-json", "{nope")
    assert result.exit_code == 2 and "--filter-json is not valid JSON" in result.stderr
    result = search("like", "0", "--fields", "title,nope")
    assert result.exit_code == 2 and "--fields: unknown field 'nope'" in result.stderr
    result = search("like", "0", "--output", str(tmp_path / "x.txt"))
    assert result.exit_code == 2 and "unknown file type '.txt'" in result.stderr
    assert not (tmp_path / "x.txt").exists()
    result = search("like", "0", "--group-by", "nope")
    assert result.exit_code == 2 and "--group-by: unknown field 'nope'" in result.stderr
    result = search("like", "0", "--limit", "0")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_like_empty_result_is_not_an_error(search):
    result = search("like", "0", "--where", "applicant=없는 출원인", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "no matching documents" in result.stderr


def test_like_prior_art_and_group_by(search):
    result = search(
        "like", "0", "--prior-art", "--group-by", "applicant", "--format", "json", "-n", "20"
    )
    assert result.exit_code == 0, result.output
    rows = json_lines(result.stdout)
    assert rows
    assert all(r["payload"]["application_date"] < "2023-01-10" for r in rows)
    applicants = [r["payload"].get("applicant") for r in rows]
    assert len(applicants) == len(set(applicants))
    assert "prior art: application_date before 2023-01-10" in result.stderr


def test_collection_must_be_named_when_there_are_several(search, tiny):
    # The in-memory stand-in for a server: quicker to fill than two embedded collections.
    settings = StoreSettings(url=":memory:")
    try:
        for name in ("alpha", "beta"):
            load(
                tiny,
                LoadSettings(store_settings=settings, collection=name),
                embedder=FakeEmbedder(),
            )
        result = search("like", "0", url=":memory:")
        assert result.exit_code == 1, result.output
        assert "2 collections" in result.stderr and "alpha, beta" in result.stderr
        assert "choose one with --collection" in result.stderr
        result = search("like", "0", "--collection", "beta", "-n", "1", url=":memory:")
        assert result.exit_code == 0, result.output
        result = search("like", "0", "-c", "gamma", url=":memory:")
        assert result.exit_code == 1 and "no collection 'gamma'" in result.stderr
    finally:
        store = open_store(settings)
        for name in store.list():
            store.drop(name)


def test_an_unfinished_collection_is_searched_with_a_warning(search, tiny, tmp_path):
    path = tmp_path / "unfinished"
    load(
        tiny,
        LoadSettings(store_settings=StoreSettings(path=str(path)), collection="c"),
        embedder=FakeEmbedder(),
    )
    manifest = path / "c" / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    manifest.write_text(json.dumps(dict(data, state="loading")), encoding="utf-8")
    result = search("like", "0", "-n", "2", "--format", "json", path=str(path))
    assert result.exit_code == 0, result.output
    assert len(json_lines(result.stdout)) == 2
    assert "warning: collection 'c' is not fully loaded (state: loading)" in result.stderr


def test_filter_json_from_a_file(search, tmp_path):
    raw = tmp_path / "filter.json"
    raw.write_text('{"must_not": [{"key": "status", "match": {"value": "등록"}}]}', "utf-8")
    result = search("like", "0", "-n", "50", "--format", "json", "--filter-json", f"@{raw}")
    assert result.exit_code == 0, result.output
    rows = json_lines(result.stdout)
    assert rows and all(r["payload"].get("status") != "등록" for r in rows)
    result = search("like", "0", "--filter-json", f"@{tmp_path / 'missing.json'}")
    assert result.exit_code == 2 and "cannot read the file" in result.stderr


# -- text ------------------------------------------------------------------------------------


def test_text_with_a_model_that_cannot_load(search):
    # The collection's model is the test's fake: nothing can load it (dense needs it).
    result = search("text", "연삭 장치", "--mode", "dense")
    assert result.exit_code == 1, result.output
    assert "fake-bag-of-words" in result.stderr
    assert "Traceback" not in result.output


def test_text_refuses_another_model(search, tiny, tmp_path):
    impostor = FakeEmbedder()
    impostor.name = "sentence-transformers/all-MiniLM-L6-v2"  # the offline model's name ...
    path = str(tmp_path / "impostor")
    load(
        tiny,
        LoadSettings(store_settings=StoreSettings(path=path), collection="c"),
        embedder=impostor,
    )
    # ... but not its fingerprint (dense: keyword search needs no model at all)
    result = search("text", "연삭 장치", "--mode", "dense", path=path)
    assert result.exit_code == 1, result.output
    assert "fingerprint fake0001" in result.stderr
    assert "re-ingest" in result.stderr


def test_text_query_must_not_be_empty(search):
    result = search("text", "  ")
    assert result.exit_code == 2 and "the query text is empty" in result.stderr


# -- facets -----------------------------------------------------------------------------------


def test_facets(search, source):
    import pandas as pd

    df = pd.read_excel(source)
    result = search("facets", "status", "--format", "json", "-n", "100")
    assert result.exit_code == 0, result.output
    got = {r["value"]: r["count"] for r in json_lines(result.stdout)}
    assert got == df["status"].value_counts().to_dict()
    table = search("facets", "ipc", "--limit", "3")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["ipc", "count"] and len(lines) == 4
    counts = df["ipc"].str.split("|").explode().value_counts()
    assert [int(line.rsplit(maxsplit=1)[1]) for line in lines[1:]] == counts.to_list()[:3]
    assert f"{ROWS} matching documents" in table.stderr
    filtered = search("facets", "status", "--where", "application_date>=2015", "--format", "csv")
    assert filtered.exit_code == 0, filtered.output
    rows = list(csv.DictReader(io.StringIO(filtered.stdout)))
    dates = pd.to_datetime(df["application_date"].astype("Int64").astype("string"), format="%Y%m%d")
    expected = df[dates >= "2015-01-01"]["status"].value_counts().to_dict()
    assert {r["status"]: int(r["count"]) for r in rows} == expected


def test_facets_refusals(search):
    result = search("facets", "application_date")
    assert result.exit_code == 2, result.output
    assert "'application_date' is a datetime field" in result.stderr
    assert "fields to count: application_number, applicant" in result.stderr
    result = search("facets", "aplicant")
    assert result.exit_code == 2 and "did you mean 'applicant'" in result.stderr
    result = search("facets", "status", "--where", "nope=1")
    assert result.exit_code == 2 and "unknown field 'nope'" in result.stderr


# -- help, start-up ---------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["like"], ["text"], ["facets"]])
def test_help_has_a_summary_and_an_example(search, command):
    result = search(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Example:" in result.stdout


def test_like_and_facets_import_nothing_heavy(store_path):
    """``search like`` and ``search facets`` answer from stored vectors: no torch, pandas,
    sentence-transformers, nor qdrant-client for the embedded store (checked in a fresh
    interpreter)."""
    code = (
        "import sys\n"
        "from patentsim.search.cli import cli\n"
        "for args in (['--help'], ['like', '0', '--format', 'json'],\n"
        "             ['like', '0', '--where', 'status=등록', '--group-by', 'applicant'],\n"
        "             ['like', '0', '--prior-art', '--output', sys.argv[1]],\n"
        "             ['facets', 'ipc', '--where', 'application_date>=2015']):\n"
        "    try:\n"
        "        cli(args, prog_name='search')\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code in (0, None), (args, exc.code)\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    env = dict(os.environ, QDRANT_PATH=store_path)
    env.pop("QDRANT_URL", None)
    out = Path(store_path).parent / "out.jsonl"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(out)], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr, proc.stderr
    assert out.is_file()
