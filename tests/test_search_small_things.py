"""Small things users hit with ``search`` (issue 11): each answered by name, exit 1 or 2."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search.cli import cli
from patentsim.store import StoreSettings

from .fakes import FakeEmbedder


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> str:
    """Rows 0 and 2 hold text; row 1's abstract is empty, so ingest skips it."""
    root = tmp_path_factory.mktemp("small")
    src = root / "p.csv"
    src.write_text("doc_id,abstract\n1,graphics processor\n2,\n3,battery cell\n", encoding="utf-8")
    summary = load(
        src,
        LoadSettings(store_settings=StoreSettings(path=str(root / "s")), collection="p"),
        embedder=FakeEmbedder(),
    )
    assert summary.skipped == [1]
    return str(root / "s")


def _search(store: str, *args: str):
    result = CliRunner().invoke(cli, [*args, "-c", "p"], env={"QDRANT_PATH": store})
    return result, result.output


def test_output_refuses_a_format_its_extension_contradicts(store, tmp_path):
    out = tmp_path / "hits.csv"
    result, text = _search(store, "like", "0", "--output", str(out), "--format", "json")
    assert result.exit_code == 2, text
    assert f"--format json does not match --output {out}" in text
    assert "hint: leave out --format or name the file *.jsonl" in text
    assert not out.exists()


def test_output_with_a_format_that_agrees(store, tmp_path):
    out = tmp_path / "hits.jsonl"
    result, text = _search(store, "like", "0", "--output", str(out), "--format", "json")
    assert result.exit_code == 0, text
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(hit["rank"], hit["key"], hit["row"]) for hit in lines] == [(1, "2", 2)]


def test_facets_output_refuses_a_contradicting_format(store, tmp_path):
    out = tmp_path / "counts.xlsx"
    result, text = _search(store, "facets", "_file", "-o", str(out), "--format", "csv")
    assert result.exit_code == 2, text
    assert f"--format csv does not match --output {out}" in text and "(xlsx)" in text


def test_a_negative_row_is_named_not_an_unknown_option(store):
    result, text = _search(store, "like", "-1")
    assert result.exit_code == 2, text
    assert "Invalid value for REF: -1: rows are numbered from 0, so there is no row -1" in text
    assert "No such option" not in text


def test_an_unknown_option_is_still_one(store):
    result, text = _search(store, "like", "0", "--limt", "3")
    assert result.exit_code == 2 and "No such option '--limt'" in text, text


def test_a_row_skipped_for_empty_text_says_so(store):
    result, text = _search(store, "like", "1")
    assert result.exit_code == 1, text
    assert (
        "row 1 of p.csv is not in collection 'p': ingest skipped it because its text was empty"
    ) in text
    result, text = _search(store, "like", "7")
    assert result.exit_code == 1 and "no document with row number or key '7'" in text, text


def test_another_model_on_an_unreachable_hub_is_a_mismatch(store):
    # conftest makes the hub unreachable (HF_HUB_OFFLINE=1); the fake model's name is stored.
    result, text = _search(store, "text", "battery", "--model", "someone/other-model")
    assert result.exit_code == 1, text
    assert (
        "was built with model 'fake-bag-of-words', and --model someone/other-model names another"
    ) in text
    assert "hint: leave out --model to query with 'fake-bag-of-words'" in text
