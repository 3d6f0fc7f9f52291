"""``ingest copy``: a collection moves between stores without being embedded again.

The source is an embedded collection of 50 Korean patents (fake embedder),
built once per module.  Targets: the embedded store, the in-memory client and,
where Docker runs, the real server (``settings`` from ``tests/backends.py``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.errors import ModelMismatch, StoreError, UserInputError
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.copy import RESERVED_INDEXES, copy_collection, endpoint
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, open_store
from patentsim.store.manifest import Manifest

from .conftest import KO_XLSX, slice_xlsx
from .fakes import FakeEmbedder

ROWS = 50
SOURCE = "patents50"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> StoreSettings:
    """An embedded store holding collection ``patents50`` (built once for the module)."""
    folder = tmp_path_factory.mktemp("copy_source")
    xlsx = slice_xlsx(KO_XLSX, folder / "ko50.xlsx", ROWS)
    src = StoreSettings(path=str(folder / "store"))
    load(xlsx, LoadSettings(store_settings=src, collection=SOURCE), embedder=FakeEmbedder())
    return src


@pytest.fixture
def memory_target(unique_name):
    """The in-memory client as a target; the collection is dropped afterwards."""
    target = StoreSettings(url=":memory:")
    yield target
    store = open_store(target)
    if store.exists(unique_name):
        store.drop(unique_name)


def points(where: StoreSettings, name: str) -> dict[str, tuple[list[float], dict]]:
    store = open_store(where)
    try:
        coll = store.open(name)
        return {p.id: (p.vector, p.payload) for p in coll.scroll(with_vectors=True)}
    finally:
        store.close()


def manifest_and_indexes(where: StoreSettings, name: str) -> tuple[Manifest, dict[str, str]]:
    store = open_store(where)
    try:
        coll = store.open(name)
        return coll.read_manifest(), coll.indexes()
    finally:
        store.close()


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b))
    return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


def test_embedded_to_memory_keeps_count_vectors_payload_and_search(
    source, memory_target, unique_name
):
    progress: list[tuple[int, int]] = []
    summary = copy_collection(
        source,
        memory_target,
        SOURCE,
        unique_name,
        batch=16,
        progress=lambda d, t: progress.append((d, t)),
    )
    assert (summary.points, summary.written, summary.unchanged) == (ROWS, ROWS, 0)
    assert summary.created
    assert progress[-1] == (ROWS, ROWS) and len(progress) == math.ceil(ROWS / 16)

    before, after = points(source, SOURCE), points(memory_target, unique_name)
    assert after.keys() == before.keys() and len(after) == ROWS
    for pid, (vector, payload) in before.items():
        assert cosine(vector, after[pid][0]) == pytest.approx(1.0, abs=1e-6)
        assert after[pid][1] == payload

    src_manifest, _ = manifest_and_indexes(source, SOURCE)
    dst_manifest, _ = manifest_and_indexes(memory_target, unique_name)
    for key in ("model", "fields", "text_columns", "id_column", "title_field", "date_field"):
        assert getattr(dst_manifest, key) == getattr(src_manifest, key), key
    assert dst_manifest.collection == unique_name
    assert dst_manifest.points == ROWS
    assert dst_manifest.state == "ready"
    assert dst_manifest.copied_from is not None
    assert dst_manifest.copied_from.collection == SOURCE
    assert dst_manifest.copied_from.store == "embedded"

    # The same search on both stores gives the same answer.
    from patentsim.search import QueryOptions, like

    for ref in (0, 17):
        a = like(ref, QueryOptions(limit=10), settings=source, collection=SOURCE)
        b = like(ref, QueryOptions(limit=10), settings=memory_target, collection=unique_name)
        assert [h.key for h in b.hits] == [h.key for h in a.hits]
        # float32 scores: BM25 and fused ones run to tens, cosines below 1.
        assert [h.score for h in b.hits] == pytest.approx(
            [h.score for h in a.hits], rel=1e-6, abs=1e-5
        )
        assert [h.payload for h in b.hits] == [h.payload for h in a.hits]


def test_search_like_cli_gives_identical_results_after_a_copy(source, tmp_path):
    """Embedded → embedded through the CLI, then ``search like 0`` on both folders."""
    from patentsim.search.cli import cli as search_cli

    runner = CliRunner()
    target = tmp_path / "copied"
    result = runner.invoke(
        ingest_cli, ["copy", "--from-path", source.path, "--to-path", str(target), "-c", SOURCE]
    )
    assert result.exit_code == 0, result.output
    assert f"copied '{SOURCE}' to '{SOURCE}'" in result.output and f"{ROWS} points" in result.output

    def like0(path: str) -> list[dict]:
        out = runner.invoke(
            search_cli, ["like", "0", "-c", SOURCE, "--path", path, "--format", "json"]
        )
        assert out.exit_code == 0, out.output
        return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]

    a, b = like0(source.path), like0(str(target))
    assert len(a) == 10
    assert [(h["key"], h["payload"]) for h in b] == [(h["key"], h["payload"]) for h in a]
    assert [h["score"] for h in b] == pytest.approx([h["score"] for h in a], abs=1e-5)


def test_copy_is_idempotent_finishes_interrupted_copies_and_makes_indexes(
    source,
    settings,
    unique_name,
):
    first = copy_collection(source, settings, SOURCE, unique_name, batch=20)
    assert (first.points, first.written) == (ROWS, ROWS)

    again = copy_collection(source, settings, SOURCE, unique_name, batch=20)
    assert (again.points, again.written, again.unchanged, again.created) == (ROWS, 0, ROWS, False)

    # An interrupted copy: some points never arrived.  The next run writes just those.
    store = open_store(settings)
    try:
        coll = store.open(unique_name)
        gone = [p.id for p in coll.scroll(with_payload=False)][:7]
        coll.delete(gone)
        assert coll.count() == ROWS - 7
        # As an interrupted copy leaves it (a finished one's count is checked on opening).
        manifest = coll.read_manifest()
        manifest.state = "copying"
        coll.write_manifest(manifest)
    finally:
        store.close()
    finish = copy_collection(source, settings, SOURCE, unique_name)
    assert (finish.points, finish.written, finish.unchanged) == (ROWS, 7, ROWS - 7)

    manifest, indexes = manifest_and_indexes(settings, unique_name)
    assert manifest.state == "ready" and manifest.points == ROWS
    # The keyword vectors travel with the dense ones.
    store = open_store(settings)
    try:
        copied = list(store.open(unique_name).scroll(with_vectors=True))
    finally:
        store.close()
    assert len(copied) == ROWS and all(p.sparse for p in copied)
    if settings.url == ":memory:":
        return  # qdrant-client's local mode keeps no payload indexes
    wanted = dict(RESERVED_INDEXES)
    wanted.update({k: v.index for k, v in manifest.fields.items() if v.index})
    # Analyzed terms for ~ filters (ingest/keyword.py).
    wanted.update({v.terms: "terms" for v in manifest.fields.values() if v.terms})
    assert indexes == wanted


def test_a_target_with_another_model_is_refused(source, memory_target, unique_name, tmp_path):
    xlsx = slice_xlsx(KO_XLSX, tmp_path / "ko5.xlsx", 5)
    load(
        xlsx,
        LoadSettings(store_settings=memory_target, collection=unique_name),
        embedder=FakeEmbedder(16),
    )
    with pytest.raises(ModelMismatch, match="16-d"):
        copy_collection(source, memory_target, SOURCE, unique_name)


def test_a_target_holding_more_points_fails_the_count_check(source, memory_target, unique_name):
    copy_collection(source, memory_target, SOURCE, unique_name)
    store = open_store(memory_target)
    coll = store.open(unique_name)
    from patentsim.store.backend import PointData

    vector = [1.0] + [0.0] * 31
    coll.upsert([PointData("00000000-0000-4000-8000-000000000001", vector, {"_key": "extra"})])
    with pytest.raises(StoreError, match=f"holds {ROWS:,} points, '{unique_name}'.*{ROWS + 1}"):
        copy_collection(source, memory_target, SOURCE, unique_name)


def test_copy_onto_itself_is_refused(source):
    with pytest.raises(UserInputError, match="onto itself"):
        copy_collection(source, StoreSettings(path=source.path), SOURCE)


def test_endpoints_need_exactly_one_place(monkeypatch):
    with pytest.raises(UserInputError, match="--from-path DIR"):
        endpoint(None, None, None, side="from")
    with pytest.raises(UserInputError, match="not both"):
        endpoint("dir", "http://localhost:6333", None, side="to")
    assert endpoint("dir", None, "k", side="to") == StoreSettings(path="dir")
    monkeypatch.setenv("QDRANT_API_KEY", "from-env")
    assert endpoint(None, "http://h:6333", None, side="to").api_key == "from-env"
    assert endpoint(None, "http://h:6333", "given", side="to").api_key == "given"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--to-path", "x", "-c", SOURCE], 2, "say where to copy from"),
        (["--from-path", "a", "--from-url", "http://h", "--to-path", "x"], 2, "not both"),
        (["--from-path", "{src}", "--to-path", "{src}", "-c", SOURCE], 2, "onto itself"),
        (["--from-path", "{src}", "--to-path", "x", "-c", "nope"], 1, "no collection 'nope'"),
    ],
)
def test_cli_errors(source, args, code, message):
    args = [a.replace("{src}", source.path) for a in args]
    result = CliRunner().invoke(ingest_cli, ["copy", *args])
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_cli_json_summary(source, tmp_path):
    target = tmp_path / "t"
    result = CliRunner().invoke(
        ingest_cli,
        ["copy", "--from-path", source.path, "--to-path", str(target), "-c", SOURCE,
         "--to-collection", "renamed", "--format", "json", "--batch-size", "8"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["points"] == ROWS and summary["to_collection"] == "renamed"
    assert summary["target"] == str(Path(target).resolve())
    assert "_key" in summary["indexes"]
