"""Scale features: quantized collections and the filtered-query policy.

- A quantized collection of real rows (``examples/patents.xlsx``, the offline model) answers
  ``search like`` with the same top-10 as exact cosine over the stored vectors: the search
  runs on the quantized vectors (shown: without rescoring the scores differ) and rescores
  with the originals.  ``ingest copy`` keeps the quantization or changes it.
- The filter policy (``store/plan.py``): a selective filter is answered exactly over its
  matching points, a broad one through filtered HNSW (with ACORN below 40%), and both
  return the complete exact answer.

Collections here are tiny, so the tests lower the thresholds that keep small segments plain
(``INDEXING_THRESHOLD_KB``) and below which a query is always exact (``EXACT_MAX_POINTS``).
"""

from __future__ import annotations

import csv
import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from patentsim.errors import LayoutMismatch, UserInputError
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.copy import copy_collection
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session
from patentsim.store import StoreSettings, open_store, tuning
from patentsim.store import plan as planning
from patentsim.store.backend import CreateOptions
from patentsim.store.filters import Filter, Range
from patentsim.store.manifest import Manifest, ModelRecord
from patentsim.store.plan import plan_search

from .conftest import EXAMPLE_XLSX, slice_xlsx
from .fakes import FakeEmbedder


def _manifest(name: str) -> Manifest:
    return Manifest.new(name=name, model=ModelRecord("m"), text_columns=[], id_column=None)


@pytest.fixture(scope="module")
def small_segments():
    """Index (and quantize) segments of a few kilobytes, as large collections are."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tuning, "INDEXING_THRESHOLD_KB", 1)
        mp.setattr(tuning, "FULL_SCAN_THRESHOLD_KB", 1)
        yield


# -- quantization ----------------------------------------------------------------------------


ROWS = 100  # of the example file, embedded with the offline model


@pytest.fixture(scope="module")
def quantized(tmp_path_factory, offline_embedder, small_segments) -> StoreSettings:
    """The example file loaded with int8, and copied into a binary collection."""
    folder = tmp_path_factory.mktemp("quantized")
    settings = StoreSettings(path=str(folder / "store"))
    load(
        slice_xlsx(EXAMPLE_XLSX, folder / "example100.xlsx", ROWS),
        LoadSettings(
            store_settings=settings,
            collection="int8",
            id_column="application_number",
            create_options=CreateOptions(quantization="int8"),
        ),
        embedder=offline_embedder,
    )
    copy_collection(
        settings, settings, "int8", "binary", create_options=CreateOptions(quantization="binary")
    )
    return settings


def stored_vectors(coll) -> tuple[list[str], np.ndarray]:
    points = sorted(coll.scroll(with_vectors=True), key=lambda p: p.payload["_row"])
    keys = [str(p.payload["_key"]) for p in points]
    rows = [int(p.payload["_row"]) for p in points]
    return keys, rows, np.array([p.vector for p in points], dtype=np.float32)


def unrescored_scores(coll, vector, limit=10) -> list[float]:
    """The engine's scores from the quantized vectors alone (no rescoring)."""
    import qdrant_edge as qe

    request = qe.QueryRequest(
        limit=limit,
        query=qe.Query.Nearest([float(v) for v in vector]),
        params=qe.SearchParams(quantization=qe.QuantizationSearchParams(rescore=False)),
        with_payload=False,
    )
    return [float(p.score) for p in coll.shard.query(request)]


@pytest.mark.parametrize("kind", ["int8", "binary"])
def test_quantized_like_equals_exact_cosine(quantized, kind):
    store = open_store(quantized)
    try:
        coll = store.open(kind)
        layout = coll.read_manifest().layout
        assert layout.quantization == kind
        assert layout.on_disk is True
        info = coll.shard.info()
        keys, rows, x = stored_vectors(coll)
        assert info.points_count == len(keys) > 90
        # every dense vector sits in an indexed, quantized segment (sparse vectors count too)
        assert info.indexed_vectors_count >= len(keys)
        sims = x @ x.T
        for k in range(0, len(keys), 5):
            row = rows[k]
            # The quantized vectors alone give other scores: the quantization is in use.
            raw = unrescored_scores(coll, x[k])
            exact = np.sort(sims[k])[::-1][:10]
            assert np.max(np.abs(np.array(raw) - exact)) > 5e-5  # float32 error: ~1e-7
            results = Session(collection=kind, store=store).like(
                row, QueryOptions(limit=10, mode="dense")
            )
            order = [i for i in np.argsort(-sims[k], kind="stable") if i != k][:10]
            got = [h.key for h in results.hits]
            assert got == [keys[i] for i in order] or (
                # identical vectors (repeated abstracts) may come in either order
                sorted(got) == sorted(keys[i] for i in order)
            ), (row, got)
            assert [h.score for h in results.hits] == pytest.approx(
                [float(sims[k, i]) for i in order], abs=1e-5
            )
    finally:
        store.close()


@pytest.mark.parametrize("kind", ["int8", "binary"])
def test_quantized_checked_search_ranks_candidates_on_quantized_vectors(
    quantized, monkeypatch, kind
):
    """The hnsw+check path on a quantized collection: the candidate search asks the engine
    for the quantized ranking alone where it ranks well enough (int8; binary's two bits are
    rescored), the check scores the candidates with the originals, and the answer is exact
    cosine's top-10 among the matching points."""
    monkeypatch.setattr(planning, "EXACT_MAX_POINTS", 10)
    requests = []

    store = open_store(quantized)
    try:
        coll = store.open(kind)
        original = type(coll)._dense

        def spy(self, vector, request):
            requests.append(request)
            return original(self, vector, request)

        monkeypatch.setattr(type(coll), "_dense", spy)
        keys, rows, x = stored_vectors(coll)
        flt = Filter(must=(Range("_row", gte=40),))
        member = np.array([r >= 40 for r in rows])
        thresholds = 0
        for k in range(0, len(keys), 7):
            requests.clear()
            hits = coll.query(x[k], limit=10, flt=flt)
            assert coll.last_plan.path == "hnsw+check"
            candidates, check = requests[0], requests[-1]
            assert (candidates.flt, candidates.rescore, candidates.exact) == (None, False, False)
            engine = coll._search_params(candidates).quantization
            assert engine.rescore is (kind not in tuning.RANKS_UNRESCORED)
            assert (kind in tuning.RANKS_UNRESCORED) is (kind == "int8")
            assert check.rescore and check.exact and check.flt is not None
            scores = np.where(member, x @ x[k], -np.inf)
            expected = np.sort(scores)[::-1][:10]
            assert [h.score for h in hits] == pytest.approx(list(expected), abs=1e-5)
            # A score threshold applies to exact scores: the candidates are rescored then.
            if expected[4] - expected[5] < 1e-4:
                continue  # no clear gap between the 5th and 6th best to put a threshold in
            requests.clear()
            floor = float(expected[4] + expected[5]) / 2
            above = coll.query(x[k], limit=10, flt=flt, score_threshold=floor)
            assert requests[0].rescore is True
            assert [h.score for h in above] == pytest.approx(list(expected[:5]), abs=1e-5)
            thresholds += 1
        assert thresholds >= 5
    finally:
        store.close()


def test_info_shows_quantization_and_copy_keeps_it(quantized, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        ingest_cli, ["info", "--path", quantized.path, "--collection", "int8"], env={}
    )
    assert result.exit_code == 0, result.output
    assert (
        "vectors     int8 quantized in RAM (4x smaller), float32 originals on disk for rescoring"
        in result.output
    )
    copied = StoreSettings(path=str(tmp_path / "copy"))
    summary = copy_collection(quantized, copied, "binary")
    assert summary.points > 90
    store = open_store(copied)
    try:
        assert store.open("binary").read_manifest().layout.quantization == "binary"
    finally:
        store.close()
    result = runner.invoke(ingest_cli, ["info", "--path", str(tmp_path / "copy")], env={})
    assert result.exit_code == 0, result.output
    assert "binary quantized in RAM (16x smaller)" in result.output
    # ingest copy --quantization changes it on the way; the copy is then kept as it is
    args = ["copy", "--from-path", quantized.path, "--to-path", str(tmp_path / "copy")]
    result = runner.invoke(
        ingest_cli, [*args, "-c", "int8", "--to-collection", "plain", "--quantization", "none"]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        ingest_cli, ["info", "--path", str(tmp_path / "copy"), "-c", "plain"], env={}
    )
    assert "vectors     float32, not quantized (in RAM)" in result.output
    result = runner.invoke(
        ingest_cli, [*args, "-c", "int8", "--to-collection", "plain", "--quantization", "binary"]
    )
    assert result.exit_code == 2, result.output
    assert "collection 'plain' is stored with quantization none, not binary" in result.output


def test_quantization_of_an_existing_collection_is_refused(quantized, tmp_path):
    before = json.loads((Path(quantized.path) / "int8" / "manifest.json").read_text())
    with pytest.raises(LayoutMismatch, match="stored with quantization int8, not binary"):
        load(
            EXAMPLE_XLSX,
            LoadSettings(
                store_settings=quantized,
                collection="int8",
                id_column="application_number",
                create_options=CreateOptions(quantization="binary"),
            ),
            embedder=FakeEmbedder(384),
        )
    after = json.loads((Path(quantized.path) / "int8" / "manifest.json").read_text())
    assert after == before
    result = CliRunner().invoke(
        ingest_cli,
        [
            "load",
            str(EXAMPLE_XLSX),
            "--path",
            quantized.path,
            "--collection",
            "int8",
            "--id",
            "application_number",
            "--model",
            "minilm",
            "--quantization",
            "none",
        ],
        env={},
    )
    assert result.exit_code == 2, result.output
    assert "collection 'int8' is stored with quantization int8, not none" in result.output
    with pytest.raises(UserInputError, match="unknown quantization 'int4'"):
        load(
            EXAMPLE_XLSX,
            LoadSettings(
                store_settings=quantized, create_options=CreateOptions(quantization="int4")
            ),
        )


# -- the filtered-query policy ---------------------------------------------------------------

WORDS = [f"w{i}" for i in range(120)]
GROUPS = (("rare", 30), ("medium", 500), ("common", 1100), ("other", 370))


@pytest.fixture(scope="module")
def grouped(tmp_path_factory, small_segments) -> StoreSettings:
    """2,000 documents of random words, in groups of 1.5%, 25%, 55% and the rest."""
    folder = tmp_path_factory.mktemp("grouped")
    rng = random.Random(7)
    labels = [g for g, count in GROUPS for _ in range(count)]
    rng.shuffle(labels)
    path = folder / "docs.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", "group"])
        for i, group in enumerate(labels):
            topic = rng.randrange(12)
            words = [WORDS[topic * 10 + rng.randrange(10)] for _ in range(6)]
            words += rng.sample(WORDS, 4)
            w.writerow([f"d{i}", " ".join(words), group])
    settings = StoreSettings(path=str(folder / "store"))
    load(
        path,
        LoadSettings(store_settings=settings, collection="g", id_column="id"),
        embedder=FakeEmbedder(32),
    )
    return settings


@pytest.mark.parametrize(
    ("group", "path"), [("rare", "exact"), ("medium", "hnsw+check"), ("common", "hnsw+check")]
)
def test_filter_policy_paths_return_complete_results(grouped, monkeypatch, group, path):
    monkeypatch.setattr(planning, "EXACT_MAX_POINTS", 100)
    store = open_store(grouped)
    try:
        coll = store.open("g")
        assert coll.shard.info().indexed_vectors_count >= 2000  # an HNSW index to walk
        points = list(coll.scroll(with_vectors=True))
        x = np.array([p.vector for p in points], dtype=np.float32)
        keys = [str(p.payload["_key"]) for p in points]
        rows = {str(p.payload["_key"]): int(p.payload["_row"]) for p in points}
        member = np.array([p.payload["group"] == group for p in points])
        for ref in range(0, 2000, 97):
            k = keys.index(next(key for key, row in rows.items() if row == ref))
            results = Session(collection="g", store=store).like(
                ref, QueryOptions(limit=10, where=(f"group={group}",), mode="dense")
            )
            assert coll.last_plan.path == path
            assert coll.last_plan.matching == dict(GROUPS)[group]
            scores = np.where(member, x @ x[k], -np.inf)
            scores[k] = -np.inf
            expected = np.sort(scores)[::-1][:10]
            assert len(results.hits) == 10
            assert all(h.payload["group"] == group for h in results.hits)
            # complete: the scores of the exact top-10 (ties make keys interchangeable)
            assert [h.score for h in results.hits] == pytest.approx(list(expected), abs=1e-5)
    finally:
        store.close()


def test_plan_thresholds():
    assert plan_search(filtered=False, limit=10).path == "hnsw"
    small = plan_search(filtered=True, limit=10, matching=60_000, total=1_000_000)
    assert (small.path, small.exact) == ("exact", True)
    tiny_collection = plan_search(filtered=True, limit=10, matching=45_000, total=45_000)
    assert tiny_collection.path == "exact"
    mid = plan_search(filtered=True, limit=10, matching=100_000, total=1_000_000)
    assert (mid.path, mid.candidates, mid.hnsw_ef) == ("hnsw+check", 1000, 8000)
    broad = plan_search(filtered=True, limit=10, matching=500_000, total=1_000_000)
    assert (broad.path, broad.candidates, broad.hnsw_ef) == ("hnsw+check", 200, 1600)
    rare = plan_search(filtered=True, limit=10, matching=70_000, total=100_000_000)
    assert rare.candidates == planning.MAX_CANDIDATES
    # a large collection searches exactly over more matches, if they are not too broad a share
    for matching, total, path in (
        (100_000, 1_000_000, "exact"),
        (200_000, 1_000_000, "exact"),
        (200_001, 2_000_000, "hnsw+check"),
        (150_000, 500_000, "hnsw+check"),  # 30% of the points: candidates come cheap
        (60_000, 70_000, "exact"),
    ):
        got = plan_search(filtered=True, limit=10, matching=matching, total=total, large=True)
        assert got.path == path, (matching, total)
    # ... and finds the candidates of a broad filter with a wider beam (LARGE_CANDIDATE_EF)
    assert planning.LARGE_CANDIDATE_EF > planning.CANDIDATE_EF
    one, large_ = (
        plan_search(
            filtered=True, limit=10, matching=500_000, total=1_000_000, segments=11, large=x
        )
        for x in (False, True)
    )
    assert (one.candidates, large_.candidates) == (200, 200) and large_.large
    assert one.hnsw_ef == planning.segment_ef(8 * 200, 11) < large_.hnsw_ef
    assert large_.hnsw_ef == planning.segment_ef(planning.LARGE_CANDIDATE_EF * 200, 11)
    assert planning.candidate_ef(800, 11, large=True) == planning.segment_ef(16 * 800, 11)


def test_beams_narrow_per_segment_as_points_spread_over_more_segments():
    """The beams were tuned on one indexed segment beside an appendable one; a large
    collection's points sit in many segments, each walked with a narrower beam."""
    ef = tuning.HNSW_EF_SEARCH
    for segments in (1, 2):  # the collections the beams were tuned on: unchanged
        assert plan_search(filtered=False, limit=10, segments=segments).hnsw_ef == ef
    eleven = plan_search(filtered=False, limit=10, segments=11)  # 1M points, large
    assert eleven.hnsw_ef == max(planning.MIN_SEGMENT_EF, -(-ef * 2 // 11)) < ef
    assert eleven.segments == 11
    # never under the floor, never under the page asked for
    assert plan_search(filtered=False, limit=10, segments=1000).hnsw_ef == 64
    assert plan_search(filtered=False, limit=300, segments=1000).hnsw_ef == 300
    assert planning.segment_ef(32, 1000) == 32  # a beam narrower than the floor stays
    # the candidate search: narrower too, never narrower than the candidates it must find
    mid = plan_search(filtered=True, limit=10, matching=100_000, total=1_000_000, segments=11)
    assert (mid.candidates, mid.hnsw_ef) == (1000, -(-8000 * 2 // 11))
    assert planning.candidate_ef(2000, 100) == 2000
    # the exact path keeps the segment's beam for nothing it walks, but says it
    few = plan_search(filtered=True, limit=10, matching=50, total=1_000_000, segments=11)
    assert (few.path, few.segments) == ("exact", 11)


def test_small_collections_walk_a_narrower_beam():
    """Up to SMALL_COLLECTION_POINTS points, hnsw_ef 128 finds what 256 does (figure 4)."""
    small, big = planning.SMALL_COLLECTION_POINTS, planning.SMALL_COLLECTION_POINTS + 1
    assert planning.base_ef(small) == planning.SMALL_COLLECTION_EF < tuning.HNSW_EF_SEARCH
    assert planning.base_ef(big) == planning.base_ef(None) == tuning.HNSW_EF_SEARCH
    assert plan_search(filtered=False, limit=10, total=small).hnsw_ef == 128
    assert plan_search(filtered=False, limit=10, total=big).hnsw_ef == 256
    assert plan_search(filtered=False, limit=200, total=small).hnsw_ef == 200  # the page
    # a million points in eleven segments: the floor either way
    assert plan_search(filtered=False, limit=10, total=1_000_000, segments=11).hnsw_ef == 64
    # the candidate search's floor follows the size too
    assert planning.candidate_ef(10, points=small) == 128
    assert planning.candidate_ef(10, points=big) == 256


def test_text_queries_walk_a_wider_beam():
    """An embedded text sits farther from the stored vectors than a stored point, and a file
    sorted by topic puts its neighbours in one segment: TEXT_EF_FACTOR x the beam."""
    k = planning.TEXT_EF_FACTOR
    assert k > 1
    for kwargs in (
        {},
        {"total": 50_000},
        {"total": 1_000_000},
        {"total": 1_000_000, "segments": 11},
    ):
        stored = plan_search(filtered=False, limit=10, **kwargs)
        text = plan_search(filtered=False, limit=10, free_text=True, **kwargs)
        assert text.hnsw_ef == k * stored.hnsw_ef, kwargs
    # 1M points in 11 segments: 256 per segment for a text, 64 for a stored point
    eleven = plan_search(filtered=False, limit=10, total=1_000_000, segments=11, free_text=True)
    assert eleven.hnsw_ef == 256
    # the checked search's candidates: their own beam, never narrower than the text's
    for segments, stored_ef, text_ef in ((11, 291, 291), (100, 200, 256)):
        broad = {
            free: plan_search(
                filtered=True,
                limit=10,
                matching=500_000,
                total=1_000_000,
                segments=segments,
                free_text=free,
            )
            for free in (False, True)
        }
        assert {p.path for p in broad.values()} == {"hnsw+check"}
        assert (broad[False].hnsw_ef, broad[True].hnsw_ef) == (stored_ef, text_ef)
    # a page deeper than the beam still widens it
    assert plan_search(filtered=False, limit=2000, free_text=True).hnsw_ef == 2000


def test_checked_search_widens_then_falls_back_to_exact():
    """Too few candidates pass: four times as many; still too few at the cap: exact search."""
    points = [(f"p{i}", 1.0 - i / 10_000) for i in range(10_000)]
    passing = {f"p{i}" for i in range(0, 10_000, 50)}  # every 50th point matches
    asked: list[int] = []

    def nearest(n):
        asked.append(n)
        return points[:n]

    def within(ids):
        return [pid for pid in ids if pid in passing]

    plan = plan_search(filtered=True, limit=10, matching=500_000, total=1_000_000)
    assert plan.candidates == 200
    got = planning.checked_search(plan, 10, nearest, within, lambda: ["exact"])
    assert asked == [200, 800]  # 4 pass of 200; 16 of 800
    assert got == [f"p{i}" for i in range(0, 800, 50)]
    asked.clear()
    got = planning.checked_search(plan, 10, nearest, lambda ids: [], lambda: ["exact"])
    assert asked == [200, 800, 2048]
    assert got == ["exact"]
    asked.clear()
    few = points[:300]  # the collection has fewer points than asked for: all were seen
    got = planning.checked_search(plan, 10, lambda n: few[:n], within, lambda: ["exact"])
    assert got == ["p0", "p50", "p100", "p150", "p200", "p250"]


def test_server_plans_from_its_estimates(monkeypatch, unique_name):
    """The server backend plans from the same counts (the in-memory stand-in is exact)."""
    from patentsim.store.filters import Filter, Match

    monkeypatch.setattr(planning, "EXACT_MAX_POINTS", 5)
    settings = StoreSettings(url=":memory:")
    rows = [{"id": f"k{i}", "abstract": f"text {i}", "g": "a" if i < 3 else "b"} for i in range(40)]
    store = open_store(settings)
    try:
        coll = store.create(unique_name, 8, _manifest(unique_name), CreateOptions())
        from patentsim.store.backend import PointData
        from patentsim.store.ids import point_id

        rng = np.random.default_rng(1)
        coll.upsert(
            [PointData(point_id(r["id"]), rng.normal(size=8).tolist(), {"g": r["g"]}) for r in rows]
        )
        assert coll.plan(Filter(must=(Match("g", ("a",)),)), limit=10).path == "exact"
        assert coll.plan(Filter(must=(Match("g", ("b",)),)), limit=10).path == "hnsw+check"
        assert coll.plan(None, limit=10).path == "hnsw"
    finally:
        store.drop(unique_name)
        store.close()


@pytest.mark.filterwarnings("ignore:Local mode performs exact")
@pytest.mark.parametrize("backend", ["embedded", "server"])
def test_checked_candidates_give_the_exact_answer_on_both_backends(
    backend, monkeypatch, tmp_path, unique_name
):
    """The ``hnsw+check`` path through each backend's engine calls: filtered pages, a score
    threshold and the fused dense side equal exact search over the matching points.

    "server" is the server backend's own collection class over qdrant-client's in-process
    client, which counts, filters and pages as a server does (it only searches exactly)."""
    from patentsim.store.backend import Fused, PointData, SparseVector
    from patentsim.store.filters import Filter, Match
    from patentsim.store.ids import point_id
    from patentsim.store.server import ServerCollection

    monkeypatch.setattr(planning, "EXACT_MAX_POINTS", 5)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 8))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    groups = ["a" if i % 4 == 0 else "b" for i in range(60)]
    ids = [point_id(f"k{i}") for i in range(60)]
    settings = StoreSettings(path=str(tmp_path / "s")) if backend == "embedded" else None
    store = open_store(settings or StoreSettings(url=":memory:"))
    try:
        coll = store.create(unique_name, 8, _manifest(unique_name), CreateOptions())
        coll.upsert(
            [
                PointData(ids[i], x[i].tolist(), {"g": groups[i]}, SparseVector((i,), (1.0,)))
                for i in range(60)
            ]
        )
        if backend == "server":
            coll = ServerCollection(store, unique_name)  # plans and checks as on a server
        q = x[7] + 0.3 * x[11]
        scores = x @ q / np.linalg.norm(q)
        for group in ("a", "b"):
            flt = Filter(must=(Match("g", (group,)),))
            order = [i for i in np.argsort(-scores) if groups[i] == group]
            for offset, threshold in ((0, None), (3, None), (0, 0.2)):
                hits = coll.query(
                    q.tolist(), limit=6, offset=offset, flt=flt, score_threshold=threshold
                )
                assert coll.last_plan is not None
                assert coll.last_plan.path == "hnsw+check"
                expected = [i for i in order if threshold is None or scores[i] >= threshold]
                expected = expected[offset : offset + 6]
                assert [h.id for h in hits] == [ids[i] for i in expected]
                assert [h.score for h in hits] == pytest.approx(scores[expected], abs=1e-5)
                assert all(h.payload == {"g": group} for h in hits)
            fused = coll.query_fused(
                Fused(q.tolist(), SparseVector((), ()), depth=10), limit=4, flt=flt
            )
            assert coll.last_plan.path == "hnsw+check"
            assert [h.id for h in fused] == [ids[i] for i in order[:4]]
    finally:
        store.drop(unique_name)
        store.close()


# -- large collections: written in segments, memory let go after each -------------------------


@pytest.fixture(scope="module")
def large_and_plain(tmp_path_factory, offline_embedder, small_segments):
    """The same 100 rows loaded twice: as a large collection (segments of 30 points, a
    checkpoint after each; indexes on disk) and as an ordinary one."""
    from patentsim.ingest import pipeline
    from patentsim.store.edge import EdgeCollection

    folder = tmp_path_factory.mktemp("large")
    settings = StoreSettings(path=str(folder / "store"))
    src = slice_xlsx(EXAMPLE_XLSX, folder / "example100.xlsx", ROWS)
    checkpoints: list[int] = []
    real = EdgeCollection.checkpoint

    def counted(self):
        checkpoints.append(self.count())
        real(self)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tuning, "LARGE_SEGMENT_POINTS", 30)
        mp.setattr(tuning, "LARGE_MAX_SEGMENT_POINTS", 60)
        mp.setattr(pipeline, "CHECKPOINT_POINTS", 30)
        mp.setattr(EdgeCollection, "checkpoint", counted)
        for name, large_rows in (("large", 50), ("plain", 10**9)):
            mp.setattr(pipeline, "LARGE_LOAD_ROWS", large_rows)
            load(
                src,
                LoadSettings(
                    store_settings=settings,
                    collection=name,
                    id_column="application_number",
                    chunk_size=10,
                ),
                embedder=offline_embedder,
            )
    return settings, checkpoints


def test_large_collection_is_written_in_segments_with_the_same_answers(large_and_plain):
    settings, checkpoints = large_and_plain
    store = open_store(settings)
    try:
        large, plain = store.open("large"), store.open("plain")
        layout = large.read_manifest().layout
        assert layout.indexes_on_disk is True and layout.on_disk is True
        assert plain.read_manifest().layout.indexes_on_disk is False
        # Both loads checkpoint every 30 points written; only the large one reopens its shard.
        assert checkpoints[:3] == [30, 60, 90] and len(checkpoints) == 6
        n = plain.count()
        assert large.count() == n > 90
        # written in segments of 30 points, merged at the end into segments of at most 60
        segments = large.shard.info().segments_count
        assert n // 60 + 1 <= segments < n // 30 + 1
        assert large.indexes() == plain.indexes()
        # each segment is walked with the beam its share of the points calls for
        plan = large.plan(None, limit=10)
        assert plan.segments == segments
        assert plan.hnsw_ef == planning.segment_ef(planning.SMALL_COLLECTION_EF, segments)
        assert plan.total == n  # a small collection: the beam of small collections
        assert plain.plan(None, limit=10).segments == plain.shard.info().segments_count
        for row in range(0, 100, 7):
            got = [
                (h.key, round(h.score, 5))
                for h in Session(collection="large", store=store)
                .like(row, QueryOptions(limit=10, mode="dense"))
                .hits
            ]
            want = [
                (h.key, round(h.score, 5))
                for h in Session(collection="plain", store=store)
                .like(row, QueryOptions(limit=10, mode="dense"))
                .hits
            ]
            # the same scores in order; equal scores (repeated abstracts) in either order
            assert [s for _, s in got] == [s for _, s in want] and len(got) == 10, row
            last = got[-1][1]
            assert sorted(k for k, s in got if s > last) == sorted(k for k, s in want if s > last)
        for where in (["applicant=삼성전자 주식회사"], ["application_date>=2015-01-01"]):
            a = Session(collection="large", store=store).like(
                0, QueryOptions(limit=100, mode="dense", where=where)
            )
            p = Session(collection="plain", store=store).like(
                0, QueryOptions(limit=100, mode="dense", where=where)
            )
            # every match (fewer than 100), ranked alike; equal scores in either order
            ranked = [sorted((-round(h.score, 5), h.key) for h in r.hits) for r in (a, p)]
            assert ranked[0] == ranked[1] and 0 < len(a.hits) < 100, where
    finally:
        store.close()


def test_large_collection_answers_more_matches_exactly(large_and_plain, monkeypatch):
    """A large collection searches its segments side by side: a filter matching up to
    LARGE_EXACT_MAX_POINTS points, at most LARGE_EXACT_MAX_SELECTIVITY of them, is answered
    exactly there and through the checked candidates on an ordinary collection; both
    answers are the exact ones (numpy over the stored vectors)."""
    settings, _ = large_and_plain
    monkeypatch.setattr(planning, "EXACT_MAX_POINTS", 5)
    monkeypatch.setattr(planning, "LARGE_EXACT_MAX_POINTS", 30)
    store = open_store(settings)
    try:
        for name, path in (("large", "exact"), ("plain", "hnsw+check")):
            coll = store.open(name)
            assert coll._large() is (name == "large")
            points = list(coll.scroll(with_vectors=True))
            x = np.array([p.vector for p in points], dtype=np.float32)
            rows = [int(p.payload["_row"]) for p in points]
            date = [str(p.payload.get("application_date") or "") for p in points]
            dates = sorted(d for d in date if d)
            since = dates[int(0.85 * len(dates))]  # about 15% of the points
            member = np.array([bool(d) and d >= since for d in date])
            assert 5 < member.sum() <= 30
            for row in (0, 31, 77):
                k = rows.index(row)
                results = Session(collection=name, store=store).like(
                    row, QueryOptions(limit=10, where=(f"application_date>={since}",), mode="dense")
                )
                assert coll.last_plan.path == path, name
                scores = np.where(member, x @ x[k], -np.inf)
                scores[k] = -np.inf
                expected = np.sort(scores)[::-1][:10]
                assert [h.score for h in results.hits] == pytest.approx(
                    list(expected[np.isfinite(expected)]), abs=1e-5
                ), (name, row)
            # a broad filter: the checked candidates, found with the large collection's beam
            broad = coll.plan(Filter(must=(Range("_row", gte=40),)), limit=10)
            assert (broad.path, broad.large) == ("hnsw+check", name == "large")
    finally:
        store.close()


def test_search_text_walks_the_text_beam_and_like_the_stored_point_beam(
    large_and_plain, offline_embedder, monkeypatch
):
    """`search text` plans as free text (TEXT_EF_FACTOR x the beam), dense and hybrid;
    `like` plans as a stored point.  (On 100 points any of these beams sees every point of a
    segment, so the answers equal exact search's whatever the beam: checked, not the point.)"""
    from patentsim.store import queries

    settings, _ = large_and_plain
    plans: list[tuple[bool, int]] = []

    def spy(**kwargs):
        plan = plan_search(**kwargs)
        plans.append((kwargs.get("free_text", False), plan.hnsw_ef))
        return plan

    def planned(question, ref, mode):
        """One search's results, and the (free text, beam) of the plans it made."""
        plans.clear()
        results = getattr(session, question)(ref, QueryOptions(limit=10, mode=mode))
        return results, set(plans)

    store = open_store(settings)
    session = Session(collection="large", store=store, model=offline_embedder)
    try:
        large = store.open("large")
        stored_ef = large.plan(None, limit=10).hnsw_ef
        text_ef = planning.TEXT_EF_FACTOR * stored_ef
        assert text_ef > 100  # wider than the hybrid prefetch's depth: the beam shows
        monkeypatch.setattr(queries, "plan_search", spy)

        for title in [p.payload["title"] for p in large.scroll(batch=50)][:3]:
            dense, beams = planned("text", title, "dense")
            assert beams == {(True, text_ef)}, title
            assert planned("text", title, "hybrid")[1] == {(True, text_ef)}, title
            vector = offline_embedder.encode([title], query=True)[0].tolist()
            want = large.query(vector, limit=10, exact=True)
            assert [round(h.score, 5) for h in dense.hits] == [round(h.score, 5) for h in want]
        assert planned("like", 0, "dense")[1] == {(False, stored_ef)}
        assert planned("like", 0, "hybrid")[1] == {(False, max(stored_ef, 100))}
    finally:
        store.close()


def test_large_collection_shows_in_info_and_its_copy_is_large(
    large_and_plain, tmp_path, monkeypatch
):
    from patentsim.ingest import copy as copying
    from patentsim.store.edge import EdgeCollection

    settings, _ = large_and_plain
    result = CliRunner().invoke(
        ingest_cli, ["info", "--path", settings.path, "--collection", "large"], env={}
    )
    assert result.exit_code == 0, result.output
    assert (
        "large collection: payload and keyword indexes on disk, segments of at most "
        "100,000 points" in result.output
    )
    result = CliRunner().invoke(
        ingest_cli, ["info", "--path", settings.path, "--collection", "plain"], env={}
    )
    assert result.exit_code == 0 and "large collection" not in result.output
    copied = StoreSettings(path=str(tmp_path / "copy"))
    checkpoints: list[int] = []
    real = EdgeCollection.checkpoint

    def counted(self):
        checkpoints.append(self.count())
        real(self)

    # the copy checkpoints as the load does: every 30 points written here
    monkeypatch.setattr(copying, "LARGE_SEGMENT_POINTS", 30)
    monkeypatch.setattr(EdgeCollection, "checkpoint", counted)
    assert copy_collection(settings, copied, "large", batch=10).points > 90
    assert checkpoints == [30, 60, 90]
    store = open_store(copied)
    try:
        coll = store.open("large")
        assert coll.read_manifest().layout.indexes_on_disk is True
        got = Session(collection="large", store=store).like(3, QueryOptions(limit=10, mode="dense"))
    finally:
        store.close()
    store = open_store(settings)
    try:
        want = Session(collection="plain", store=store).like(
            3, QueryOptions(limit=10, mode="dense")
        )
    finally:
        store.close()
    assert [round(h.score, 5) for h in got.hits] == [round(h.score, 5) for h in want.hits]


def _segment_quantization(folder: Path) -> list[dict]:
    """The quantization config of each quantized segment of an embedded collection."""
    configs = []
    for path in sorted(folder.glob("shard/segments/*/segment.json")):
        vector = json.loads(path.read_text())["config"]["vector_data"][""]
        if vector.get("quantization_config"):
            configs.append(vector["quantization_config"])
    return configs


def test_large_quantized_collection_maps_its_quantized_vectors(large_and_plain, tmp_path):
    """A large collection's quantized vectors are memory-mapped into the page cache, not copied
    into RAM at every open (an ordinary one's are); the answers are the same."""
    settings, _ = large_and_plain
    copied = StoreSettings(path=str(tmp_path / "copy"))
    for name, options in (
        ("large8", CreateOptions(quantization="int8")),  # the source is large: so is the copy
        ("plain8", CreateOptions(quantization="int8")),
    ):
        source = "large" if name == "large8" else "plain"
        copy_collection(settings, copied, source, name, batch=10, create_options=options)
    store = open_store(copied)
    try:
        large8, plain8 = store.open("large8"), store.open("plain8")
        assert large8.read_manifest().layout.quantized_memory == "page cache"
        large8_points = large8.count()
        assert plain8.read_manifest().layout.quantized_memory is None
        large_cfg = _segment_quantization(Path(store.collection_location("large8")))
        plain_cfg = _segment_quantization(Path(store.collection_location("plain8")))
        assert large_cfg and all(
            c == {"scalar": {"type": "int8", "memory": "cached"}} for c in large_cfg
        )
        assert plain_cfg and all(c["scalar"].get("always_ram") is True for c in plain_cfg)
        for row in (0, 17, 55):
            got, want = (
                [
                    round(h.score, 5)
                    for h in Session(collection=c, store=store)
                    .like(row, QueryOptions(limit=10, mode="dense"))
                    .hits
                ]
                for c in ("large8", "plain8")
            )
            assert got == want and len(got) == 10, row
    finally:
        store.close()
    # Opening a large collection reads the files the engine maps in full sequentially first
    # (a page fault at a time took 7 s at a million points); the names are the engine's.
    from patentsim.store import edge

    shard = Path(copied.path) / "large8" / "shard"
    for pattern in edge.PREREAD_FILES:
        assert list(shard.glob(f"segments/*/{pattern}")), pattern
    sizes = sum(
        p.stat().st_size for pat in edge.PREREAD_FILES for p in shard.glob(f"segments/*/{pat}")
    )
    # the quantized vectors themselves are among them (a byte per dimension and point)
    assert edge.preread(shard) == sizes >= large8_points * 384
    opened: list[Path] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(edge, "preread", lambda folder: opened.append(folder) or 0)
        for name in ("large8", "plain8"):
            store = open_store(copied)
            try:
                assert (
                    Session(collection=name, store=store)
                    .like(0, QueryOptions(limit=10, mode="dense"))
                    .hits
                )
            finally:
                store.close()
    assert opened == [shard]
    # A large collection made before this placement (no `quantized_memory` in its manifest)
    # keeps its quantized vectors in RAM, also when it grows (checkpoints, merges).
    from patentsim.store.edge import EdgeCollection

    real_write = EdgeCollection.write_manifest
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            EdgeCollection,
            "write_manifest",
            lambda self, m: real_write(
                self, replace(m, layout=replace(m.layout, quantized_memory=None))
            ),
        )
        copy_collection(
            settings,
            copied,
            "large",
            "old8",
            batch=10,
            create_options=CreateOptions(quantization="int8"),
        )
    store = open_store(copied)
    try:
        old8 = store.open("old8")
        assert old8.indexes_on_disk and old8.read_manifest().layout.quantized_memory is None
        old8.checkpoint()
        old8.optimize()
        shard_config = json.loads(
            (Path(copied.path) / "old8" / "shard" / "edge_config.json").read_text()
        )
        assert shard_config["quantization_config"] == {
            "scalar": {"type": "int8", "always_ram": True}
        }
        old_cfg = _segment_quantization(Path(copied.path) / "old8")
        assert old_cfg and all(c["scalar"].get("always_ram") is True for c in old_cfg)
    finally:
        store.close()
    for name, held in (("large8", ", memory-mapped"), ("plain8", " in RAM"), ("old8", " in RAM")):
        result = CliRunner().invoke(
            ingest_cli, ["info", "--path", copied.path, "--collection", name], env={}
        )
        assert result.exit_code == 0, result.output
        assert f"int8 quantized{held} (4x smaller)" in result.output, name
