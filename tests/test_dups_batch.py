"""``search dups`` asks its neighbour searches in batches (the embedded engine's
``query_batch``, qdrant-client's ``query_batch_points``): the groups, the scores of their
members and the number of searches equal those of asking one search at a time, the path
``search dups`` took before batches, on a crowded fixture answered through HNSW.

The fixture is a few hundred texts in families of one to a hundred and twenty lightly
edited copies, so that whole answers ask again at 44 and at 176 neighbours; its segments
are indexed (HNSW) although they are small (``small_segments``, as in tests/test_scale.py).
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import Session
from patentsim.search.dups import DupOptions, find_duplicates
from patentsim.store import StoreSettings, open_store, tuning
from patentsim.store.edge import EdgeCollection
from patentsim.store.queries import PlannedQueries
from patentsim.store.server import ServerCollection

from .conftest import BACKENDS
from .fakes import FakeEmbedder

WORDS = [f"w{i:03d}" for i in range(400)]
FAMILY_SIZES = [1] * 120 + [2] * 30 + [3] * 15 + [5] * 8 + [9] * 4 + [20, 30, 50, 120]
THRESHOLD = {"dense": 0.85, "keyword": 0.7}


def write_fixture(path: Path, seed: int = 7) -> Path:
    """Families of texts: a family's copies change up to three words of its first text."""
    rng = random.Random(seed)
    rows = []
    for f, size in enumerate(FAMILY_SIZES):
        base = rng.sample(WORDS, 24)
        for c in range(size):
            words = list(base)
            for _ in range(rng.randint(0, 3) if c else 0):
                words[rng.randrange(len(words))] = rng.choice(WORDS)
            key = f"f{f:03d}c{c:03d}"
            rows.append({"doc_id": key, "title": f"family {f}", "abstract": " ".join(words)})
    rng.shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["doc_id", "title", "abstract"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(params=BACKENDS)
def crowded(request, tmp_path, unique_name, monkeypatch):
    # Small segments are indexed, and searched through HNSW (the engine's thresholds in KB).
    monkeypatch.setattr(tuning, "INDEXING_THRESHOLD_KB", 1)
    monkeypatch.setattr(tuning, "FULL_SCAN_THRESHOLD_KB", 1)
    settings = (
        StoreSettings(path=str(tmp_path / "store"))
        if request.param == "embedded"
        else StoreSettings(url=":memory:")
    )
    load(
        write_fixture(tmp_path / "crowded.csv"),
        LoadSettings(store_settings=settings, collection=unique_name, id_column="doc_id"),
        embedder=FakeEmbedder(dimension=64),
    )
    yield request.param, settings, unique_name
    store = open_store(settings)
    if unique_name in store.list():
        store.drop(unique_name)
    store.close()


def _run(settings: StoreSettings, name: str, source: str) -> dict[str, Any]:
    with Session(settings, name) as session:
        found = find_duplicates(session, DupOptions(source=source, threshold=THRESHOLD[source]))
    out = found.to_dict()
    out.pop("seconds")
    out["searches"] = found.searches
    return out


@pytest.mark.parametrize("source", ["dense", "keyword"])
def test_batched_searches_find_what_single_searches_found(crowded, monkeypatch, source):
    backend, settings, name = crowded
    engine_batches: list[int] = []
    if backend == "embedded":
        with Session(settings, name) as session:
            coll = session.open().coll
            info = coll.shard.info()
            # Every point's two vectors sit in indexed segments: the answers come from HNSW.
            assert info.indexed_vectors_count >= 2 * info.points_count > 1000
            assert coll.plan(None, limit=11).exact is False
        original = EdgeCollection._query_batch

        def spy(self, request, queries, params):
            engine_batches.append(len(queries))
            return original(self, request, queries, params)

        monkeypatch.setattr(EdgeCollection, "_query_batch", spy)
    batched = _run(settings, name, source)
    if backend == "embedded":
        assert engine_batches and max(engine_batches) > 1  # the engine was asked in batches
    with monkeypatch.context() as m:
        # One search at a time through the backend's single-search call.
        kind = EdgeCollection if backend == "embedded" else ServerCollection
        m.setattr(kind, "_dense_pairs", PlannedQueries._dense_pairs)
        m.setattr(kind, "_sparse_pairs", PlannedQueries._sparse_pairs)
        m.setattr(kind, "_dense_batch", PlannedQueries._dense_batch)
        m.setattr(kind, "_sparse_batch", PlannedQueries._sparse_batch)
        single = _run(settings, name, source)
    assert batched == single
    # The fixture is what it is meant to be: big groups, whole answers asked again.
    sizes = [g["size"] for g in batched["groups"]]
    assert sizes[0] >= 100 and len(sizes) > 40
    assert batched["searches"] > batched["documents"] + 100
