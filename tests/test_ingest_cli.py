"""CLI tests of the `ingest` commands: exit codes and parsed output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import cli
from patentsim.ingest.pipeline import load
from patentsim.store import StoreSettings

from .conftest import EXAMPLE_XLSX
from .fakes import FakeEmbedder


@pytest.fixture
def loaded(private_store):
    settings = StoreSettings(path=str(private_store))
    load(
        EXAMPLE_XLSX,
        settings=settings,
        collection="patents",
        embedder=FakeEmbedder(),
        id_column="application_number",
    )
    return settings


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_info_json(loaded):
    result = invoke("info", "--format", "json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["collection"] == "patents"
    assert info["backend"] == "embedded"
    assert info["points"] == 198
    assert info["manifest"]["id_column"] == "application_number"
    assert info["manifest"]["fields"]["ipc"]["list"] is True
    assert info["indexes"]["applicant"] == "keyword"


def test_info_text(loaded):
    result = invoke("info")
    assert result.exit_code == 0, result.output
    assert "points      198" in result.stdout
    assert "application_date" in result.stdout and "datetime" in result.stdout
    assert "ipc" in result.stdout and "keyword[]" in result.stdout
    assert "embedding   backend torch, long texts truncate" in result.stdout


def test_list_and_drop(loaded):
    result = invoke("list", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["collection"], r["points"], r["state"]) for r in rows] == [("patents", 198, "ready")]

    refused = invoke("drop", "--collection", "patents")
    assert refused.exit_code == 2
    assert "--yes" in refused.output

    dropped = invoke("drop", "--collection", "patents", "--yes")
    assert dropped.exit_code == 0, dropped.output
    assert invoke("list", "--format", "json").stdout == ""

    missing = invoke("drop", "--collection", "patents", "--yes")
    assert missing.exit_code == 1
    assert "no collection 'patents'" in missing.output


def test_info_without_collections_says_what_to_do():
    result = invoke("info")
    assert result.exit_code == 1
    assert "ingest load" in result.output
    assert "Traceback" not in result.output


def test_list_shows_a_collection_in_use_by_another_process(loaded, private_store):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from patentsim.store import StoreSettings, open_store\n"
            f"store = open_store(StoreSettings(path={str(private_store)!r}))\n"
            "store.open('patents')\n"
            "print('held', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        result = invoke("list")
        assert result.exit_code == 0, result.output
        assert f"in use by process {holder.pid}" in result.stdout
    finally:
        holder.kill()
        holder.wait()


def test_load_json_summary(private_store, tmp_path):
    # A CSV with an empty text and a text the fake embedder sees as long.
    src = tmp_path / "few.csv"
    src.write_text(
        "id,title,abstract\n1,a,first text\n2,b,\n3,c,third text here\n", encoding="utf-8"
    )
    from patentsim.ingest import pipeline

    original = pipeline._Model.__init__

    def fake_model(self, config, embedder, *args, **kwargs):
        original(self, None, FakeEmbedder(), *args, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(pipeline._Model, "__init__", fake_model)
    try:
        result = invoke("load", str(src), "--id", "id", "--format", "json")
    finally:
        mp.undo()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["collection"] == "few"
    assert (summary["added"], summary["points"], summary["skipped"]) == (2, 2, [1])
