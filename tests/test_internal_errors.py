"""Input that used to end in an internal error, or in silence, ends in one line (issue 24).

Each case failed before: an ``OverflowError`` for a huge ``-n`` or ``--offset``, a
``ValueError`` for a malformed URL, ``--min-score nan`` that matched nothing without a
word, a load that waited (``--wait``) for a collection dropped meanwhile and ended without
a hint, "rows 0 to 0" for a collection still being created.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings, open_store
from patentsim.store.backend import CreateOptions
from patentsim.store.manifest import Manifest

from .conftest import ROOT
from .fakes import FakeEmbedder

HUGE = "99999999999999999999999"


@pytest.fixture
def collection(tmp_path) -> StoreSettings:
    path = tmp_path / "p.csv"
    path.write_text(
        "id,abstract\n" + "".join(f"{i},battery cooling loop {i}\n" for i in range(5)),
        encoding="utf-8",
    )
    settings = StoreSettings.resolve()
    load(
        path,
        LoadSettings(store_settings=settings, collection="k", id_column="id"),
        embedder=FakeEmbedder(),
    )
    return settings


def search(*args: str):
    return CliRunner().invoke(search_cli, [*args, "-c", "k"])


def assert_usage_error(result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("-n", HUGE), f"--limit must be at most 2,147,483,647, not {HUGE}"),
        (("--offset", HUGE), f"--offset must be at most 2,147,483,647, not {HUGE}"),
        (("--min-score", "nan"), "--min-score must be a number, not nan"),
    ],
)
def test_search_options_out_of_range(collection, args, fragment):
    assert_usage_error(search("like", "0", *args), fragment)
    assert_usage_error(search("text", "battery", "--mode", "keyword", *args), fragment)


def test_facets_and_eval_limits(collection):
    assert_usage_error(search("facets", "_file", "-n", HUGE), "is not in the range")
    result = CliRunner().invoke(search_cli, ["eval", "--label", "id", "-k", HUGE, "-c", "k"])
    assert_usage_error(result, "is not in the range")


def test_the_library_refuses_them_too(collection):
    from patentsim.errors import UserInputError
    from patentsim.search import QueryOptions, like

    for kwargs in ({"limit": 10**30}, {"offset": 10**30}, {"min_score": float("nan")}):
        with pytest.raises(UserInputError):
            like(0, QueryOptions(**kwargs), collection="k", settings=collection)


def test_a_malformed_url(tmp_path):
    result = CliRunner().invoke(ingest_cli, ["info", "--url", "http://[::1"])
    assert result.exit_code == 1, result.output
    assert "invalid Qdrant URL 'http://[::1'" in result.output
    assert "hint: use http://host:6333" in result.output
    assert "internal error" not in result.output


def test_a_collection_still_being_created(tmp_path):
    settings = StoreSettings.resolve()
    store = open_store(settings)
    try:
        manifest = Manifest.new(
            name="k", model=FakeEmbedder().info(), text_columns=["abstract"], id_column=None
        )
        store.create("k", 32, manifest, CreateOptions())
    finally:
        store.close()
    result = search("like", "0")
    assert result.exit_code == 1, result.output
    assert "collection 'k' holds no documents yet (state creating" in result.output
    assert "rows 0 to 0" not in result.output


def test_a_collection_dropped_while_a_load_waits_for_it(collection, tmp_path):
    """Another process holds the collection and drops it; the waiting load is told."""
    code = (
        "import sys, time\n"
        "from patentsim.store.edge import EdgeStore\n"
        f"store = EdgeStore({collection.path!r})\n"
        "store.open('k')\n"
        "print('held', flush=True)\n"
        "time.sleep(1.5)\n"
        "store.drop('k')\n"
        "store.close()\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        result = CliRunner().invoke(search_cli, ["like", "0", "-c", "k", "--wait", "30"])
    finally:
        holder.wait(timeout=60)
    assert result.exit_code == 1, result.output
    assert "collection 'k' in" in result.output
    assert "was dropped while this command waited for it" in result.output
    assert "hint: run the command again" in result.output


def _edit_manifest(settings: StoreSettings, **changes) -> None:
    """The stored manifest with some keys replaced, as a hand edit would leave it."""
    import json
    from pathlib import Path

    path = Path(settings.path or "") / "k" / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(data, **changes)), encoding="utf-8")


def test_an_unknown_default_mode_is_named_not_ignored(collection):
    _edit_manifest(collection, search={"default_mode": "bogus", "fusion": "rrf"})
    result = search("like", "0", "--format", "json")
    assert result.exit_code == 0, result.output
    assert (
        "warning: collection 'k': its manifest names an unknown default search mode 'bogus'; "
        "searching dense instead (give --mode, or load the collection's files again"
    ) in result.output
    chosen = search("like", "0", "--format", "json", "--mode", "dense")
    assert chosen.exit_code == 0 and "warning" not in chosen.output, chosen.output


def test_a_manifest_whose_fields_is_a_list_is_one_line(collection):
    _edit_manifest(collection, fields=["abstract"])
    for result in (search("like", "0"), CliRunner().invoke(ingest_cli, ["info", "-c", "k"])):
        assert result.exit_code == 1, result.output
        assert "Error: " in result.output and "manifest" in result.output, result.output
        assert "internal error" not in result.output and "Traceback" not in result.output
