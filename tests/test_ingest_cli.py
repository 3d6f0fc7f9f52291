"""CLI tests of the `ingest` commands: exit codes and parsed output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import Seams, cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings

from .conftest import EXAMPLE_XLSX
from .fakes import FakeEmbedder


@pytest.fixture
def loaded(private_store):
    settings = StoreSettings(path=str(private_store))
    load(
        EXAMPLE_XLSX,
        LoadSettings(store_settings=settings, collection="patents", id_column="application_number"),
        embedder=FakeEmbedder(),
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
        assert f"patents\tin use by process {holder.pid}" in result.stdout
        assert "None" not in result.stdout and "? points" not in result.stdout
    finally:
        holder.kill()
        holder.wait()


def test_load_json_summary(private_store, tmp_path):
    # A CSV with an empty text and a text the fake embedder sees as long.
    src = tmp_path / "few.csv"
    src.write_text(
        "id,title,abstract\n1,a,first text\n2,b,\n3,c,third text here\n", encoding="utf-8"
    )
    args = ["load", str(src), "--id", "id", "--format", "json"]
    result = CliRunner().invoke(cli, args, obj=Seams(embedder=FakeEmbedder()))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["collection"] == "few"
    assert (summary["added"], summary["points"], summary["skipped"]) == (2, 2, [1])


def test_load_hands_the_library_its_options_as_one_settings_object(monkeypatch, tmp_path):
    """Every option of `ingest load` lands in its field of LoadSettings, the layout ones in
    CreateOptions, the store's in store_settings, and the command calls pipeline.load once
    with them (no embedder stood in: click's obj is empty)."""
    from patentsim.ingest import pipeline
    from patentsim.ingest.pipeline import IngestSummary
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store.backend import CreateOptions

    calls = []

    def spy(source, options, *, store=None, embedder=None, progress=None):
        calls.append((source, options, embedder))
        return IngestSummary(collection="c", store="s", source=str(source), model="m")

    monkeypatch.setattr(pipeline, "load", spy)
    args = [
        "load", "a.csv", "b.csv", "--text", "title", "--text", "abstract", "--id", "doc",
        "-c", "mine", "--sheet", "S", "--encoding", "cp949", "--header-row", "3",
        "--list", "ipc:;", "--date", "filed", "--date-format", "DMY", "--recreate", "--prune",
        "--on-duplicate", "last", "--batch-size", "8", "--chunk-size", "64", "--model", "minilm",
        "--device", "cpu", "--backend", "int8", "--long-text", "chunk",
        "--quantization", "binary", "--shards", "2", "--replicas", "3",
        "--path", str(tmp_path / "store"), "--format", "json", "--quiet",
    ]  # fmt: skip
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["collection"] == "c"
    [(source, options, embedder)] = calls
    assert source == ["a.csv", "b.csv"] and embedder is None
    assert options == LoadSettings(
        collection="mine",
        text=("title", "abstract"),
        id_column="doc",
        sheet="S",
        encoding="cp949",
        header_row=3,
        lists=("ipc:;",),
        dates=("filed",),
        date_formats=("DMY",),
        recreate=True,
        prune=True,
        on_duplicate="last",
        batch_size=8,
        chunk_size=64,
        model="minilm",
        device="cpu",
        backend="int8",
        long_text="chunk",
        create_options=CreateOptions(shards=2, replicas=3, quantization="binary"),
        store_settings=StoreSettings(path=str(tmp_path / "store"), origin="option"),
    )
    calls.clear()
    assert invoke("load", "one.csv", "--format", "json").exit_code == 0
    source, options, _ = calls[0]
    assert source == "one.csv"
    assert options == LoadSettings(
        create_options=CreateOptions(), store_settings=options.store_settings
    )
    assert options.store_settings is not None and options.store_settings.origin != "option"


def test_copy_lays_out_a_new_collection_as_load_does(monkeypatch, tmp_path):
    """`ingest copy` takes the same layout options as `load` and hands them on as one
    CreateOptions; without them, nothing is chosen (the source's quantization is kept)."""
    from patentsim.ingest import copy as copying
    from patentsim.store.backend import CreateOptions

    calls = []

    def spy(source, target, collection, to_collection, *, batch, create_options, progress):
        calls.append((source, target, collection, to_collection, batch, create_options))
        return copying.CopySummary(str(source), str(target), collection, to_collection or "")

    monkeypatch.setattr(copying, "copy_collection", spy)
    ends = ["--from-path", str(tmp_path / "a"), "--to-path", str(tmp_path / "b"), "-c", "p"]
    layout = ["--quantization", "int8", "--shards", "2", "--replicas", "3"]
    result = invoke("copy", *ends, *layout, "--batch-size", "7", "--format", "json")
    assert result.exit_code == 0, result.output
    assert calls.pop() == (
        StoreSettings(path=str(tmp_path / "a")),
        StoreSettings(path=str(tmp_path / "b")),
        "p",
        None,
        7,
        CreateOptions(shards=2, replicas=3, quantization="int8"),
    )
    assert invoke("copy", *ends, "--format", "json").exit_code == 0
    assert calls.pop()[-1] == CreateOptions()


@pytest.mark.parametrize(
    ("settings", "named"),
    [({"batch_size": 0}, "`batch_size`"), ({"on_duplicate": "maybe"}, "`on_duplicate`")],
)
def test_load_refuses_bad_settings_as_bad_input_naming_the_setting(settings, named):
    """A bad argument is the caller's to fix: exit 2 at the command line, as search's are."""
    from patentsim.errors import UserInputError

    with pytest.raises(UserInputError, match=named):
        load("none.csv", LoadSettings(**settings))
