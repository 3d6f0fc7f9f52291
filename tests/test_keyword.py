"""Keyword search: the analyzer, BM25 sparse vectors, --mode, and ~ on analyzed terms.

Runs on the project's own fixture (tests/data/keyword_sample.csv: 12 short Korean
and English abstracts) with the fake embedder, on every backend.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.embed.analyzer import Analyzer, analyzer_for
from patentsim.embed.retrieval import default_mode
from patentsim.embed.sparse import Bm25, query_vector, term_id
from patentsim.errors import UserInputError
from patentsim.ingest.keyword import is_terms_field, terms_field
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, like, text
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings, open_store

from .fakes import FakeEmbedder

SAMPLE = Path(__file__).resolve().parent / "data" / "keyword_sample.csv"


def sample_rows() -> list[dict[str, str]]:
    with open(SAMPLE, encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


# -- the analyzer ---------------------------------------------------------------------------


def test_analyzer_strips_particles_and_endings():
    a = Analyzer()
    assert a.terms("배터리를") == ["배터리"]
    assert a.terms("배터리를 냉각하는 장치") == ["배터리", "냉각", "장치"]
    assert a.terms("온도 센서의 출력") == ["온도", "센서", "출력"]
    assert a.terms("연삭량을 측정한다") == ["연삭", "량", "측정"]
    # Inflected words split into their parts, the verb kept, the ending dropped.
    assert a.terms("위한 통해") == ["위하", "통하"]


def test_analyzer_stems_english_and_drops_stop_words():
    a = Analyzer()
    assert a.terms("The batteries are cooling") == ["batteri", "cool"]
    assert a.terms("battery") == a.terms("batteries") == ["batteri"]
    assert a.terms("3D프린터를 GPU") == ["3", "프린터", "gpu"]


def test_analyzer_is_deterministic_and_named():
    text_ = sample_rows()[0]["abstract"]
    assert Analyzer().terms(text_) == Analyzer().terms(text_) == analyzer_for().terms(text_)
    info = Analyzer().info()
    assert info["name"] == "patentsim-ko-snowball" and info["version"] == 1
    assert info["language"] == "english"
    assert Analyzer.from_info(info).terms(text_) == Analyzer().terms(text_)


def test_analyzer_refuses_unknown_language():
    with pytest.raises(UserInputError.__mro__[1]) as exc:  # PatentSimError
        Analyzer("klingon")
    assert "klingon" in str(exc.value)


def test_bm25_weights_and_term_ids():
    bm = Bm25(k1=1.2, avg_len=4)
    vec = bm.document(["a", "b", "a", "c"])
    weights = dict(zip(vec.indices, vec.values))
    # tf 2 at length = avg_len: 2 * 2.2 / (2 + 1.2) = 1.375; tf 1: 2.2 / 2.2 = 1.0
    assert weights[term_id("a")] == pytest.approx(1.375)
    assert weights[term_id("b")] == pytest.approx(1.0)
    # Twice the average length, k1 2.0: 2 * 3 / (2 + 2 * (0.25 + 0.75 * 2)) = 6 / 5.5
    longer = Bm25(avg_len=2).document(["a", "a", "b", "c"])
    assert dict(zip(longer.indices, longer.values))[term_id("a")] == pytest.approx(6 / 5.5)
    assert list(vec.indices) == sorted(vec.indices)
    assert term_id("배터리") == term_id("배터리") != term_id("배터")
    q = query_vector(["a", "b", "a"])
    assert sorted(q.indices) == sorted({term_id("a"), term_id("b")}) and set(q.values) == {1.0}


def test_the_default_mode_is_decided_by_what_the_tokenizer_does_not_by_the_name():
    from patentsim.embed.retrieval import ModeEvidence

    mode, why, warning = default_mode(ModeEvidence("any-name", 300, 0.9, 0.95))
    assert mode.mode == "keyword" and warning and "95% of the letters" in warning
    assert why.startswith("keyword (300 sampled texts, 90% of their letters Hangul")
    mode, _, warning = default_mode(ModeEvidence("any-name", 300, 0.9, 0.02))
    assert mode.mode == "dense" and warning is None
    mode, _, warning = default_mode(ModeEvidence(None, 300, 0.0, None, dense=False))
    assert mode.mode == "keyword" and warning is None


def test_measured_labels_decide_over_the_tokenizer():
    from patentsim.embed.retrieval import Measured, ModeEvidence

    poor = ModeEvidence("any-name", 300, 0.9, 0.95)
    measured = Measured("ipc", 200, 10, ("subclass", "group"), {"dense": 0.3, "keyword": 0.5})
    mode, why, warning = default_mode(poor, measured)
    assert mode.mode == "keyword" and warning  # the tokenizer's warning stays
    assert why.startswith(
        "keyword (P@10 (subclass and group, averaged) of 'ipc' on 200 sampled documents: "
        "dense 0.300, keyword 0.500; 300 sampled texts"
    )
    tie = Measured("ipc", 200, 10, ("subclass",), {"dense": 0.7, "keyword": 0.5, "hybrid": 0.7})
    assert default_mode(poor, tie)[0].mode == "dense"  # a tie: the earlier mode
    skipped = Measured("ipc", 0, 10, ("subclass",), {}, "12 labelled documents: too few")
    mode, why, _ = default_mode(ModeEvidence("m", 300, 0.0, 0.01), skipped)
    assert mode.mode == "dense"
    assert why.endswith("; not measured on labels: 12 labelled documents: too few)")


# -- ingest and queries on every backend -------------------------------------------------------


@pytest.fixture
def loaded(settings, unique_name):
    emb = FakeEmbedder()
    summary = load(
        SAMPLE,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="doc_id"),
        embedder=emb,
    )
    assert summary.points == 12
    return settings, unique_name, emb


def _keys(results) -> list[str]:
    return [h.key for h in results.hits]


def test_ingest_writes_terms_and_sparse_vectors_like_the_query_side(loaded):
    settings, name, _ = loaded
    store = open_store(settings)
    try:
        coll = store.open(name)
        manifest = coll.read_manifest().to_dict()  # as stored
        assert manifest["keyword"]["analyzer"]["name"] == "patentsim-ko-snowball"
        assert manifest["keyword"]["vector"] == "keyword"
        assert manifest["keyword"]["title"] == "title"
        assert manifest["keyword"]["bm25"]["k1"] == 2.0
        assert manifest["fields"]["abstract"]["terms"] == "_terms_abstract"
        assert manifest["fields"]["title"]["terms"] == "_terms_title"
        points = {p.payload["_key"]: p for p in coll.scroll(with_vectors=True)}
    finally:
        store.close()
    a = Analyzer()
    bm25 = Bm25.from_info(manifest["keyword"]["bm25"])
    for row in sample_rows():
        p = points[row["doc_id"]]
        # The same terms at ingest as at query time.
        assert p.payload["_terms_abstract"] == " ".join(a.terms(row["abstract"]))
        assert p.payload[terms_field("title")] == " ".join(a.terms(row["title"]))
        # The vector holds the abstract's terms and the title's.
        expected = bm25.document(a.terms(row["abstract"]) + a.terms(row["title"]))
        assert p.sparse is not None
        assert list(p.sparse.indices) == list(expected.indices)
        assert list(p.sparse.values) == pytest.approx(list(expected.values), rel=1e-5)


def test_keyword_text_search_needs_no_model_and_matches_particles(loaded):
    settings, name, _ = loaded
    # No embedder is given and the fake model cannot be loaded: keyword mode needs none.
    r = text("지르코늄을", QueryOptions(mode="keyword"), settings=settings, collection=name)
    assert r.mode == "keyword"
    assert _keys(r) == ["K11"]
    r = text("batteries", QueryOptions(mode="keyword"), settings=settings, collection=name)
    assert _keys(r) == ["K8"]
    with pytest.raises(UserInputError):
        text("the of and", QueryOptions(mode="keyword"), settings=settings, collection=name)


def test_tilde_filter_matches_analyzed_terms(loaded):
    settings, name, _ = loaded
    expect = sorted(r["doc_id"] for r in sample_rows() if "센서" in Analyzer().terms(r["abstract"]))
    assert expect == ["K2", "K3", "K4"]
    for mode in ("dense", "keyword", "hybrid"):
        r = like(
            "K1",
            QueryOptions(mode=mode, where=("abstract~센서",), limit=20),
            key=True,
            settings=settings,
            collection=name,
        )
        assert sorted(_keys(r)) == expect, mode
    r = like(
        "K1",
        QueryOptions(where=("abstract~batteries",), limit=20),
        key=True,
        settings=settings,
        collection=name,
    )
    assert _keys(r) == ["K8"]
    r = text(
        "배터리",
        QueryOptions(where=("title~센서를",), mode="keyword"),
        settings=settings,
        collection=name,
    )
    assert _keys(r) == ["K2"]


def test_modes_with_filters_paging_groups_and_scores(loaded):
    settings, name, _ = loaded
    for mode in ("dense", "keyword", "hybrid"):
        full = like(
            "K1", QueryOptions(mode=mode, limit=6), key=True, settings=settings, collection=name
        )
        assert full.mode == mode and "K1" not in _keys(full)
        page = like(
            "K1",
            QueryOptions(mode=mode, limit=3, offset=3),
            key=True,
            settings=settings,
            collection=name,
        )
        assert _keys(page) == _keys(full)[3:6]
        assert [h.rank for h in page.hits] == list(range(4, 4 + len(page.hits)))
        dated = like(
            "K12",
            QueryOptions(mode=mode, prior_art=True, limit=20),
            key=True,
            settings=settings,
            collection=name,
        )
        assert dated.hits and all(
            h.payload["application_date"] < "2022-10-21" for h in dated.hits
        ), mode
        grouped = like(
            "K1",
            QueryOptions(mode=mode, group_by="applicant", limit=10),
            key=True,
            settings=settings,
            collection=name,
        )
        applicants = [h.payload["applicant"] for h in grouped.hits]
        everything = like(
            "K1", QueryOptions(mode=mode, limit=20), key=True, settings=settings, collection=name
        )
        # The best hit of each applicant, in the order of the ungrouped ranking.
        first_seen = list(dict.fromkeys(h.payload["applicant"] for h in everything.hits))
        assert applicants == first_seen, mode
        assert len(first_seen) == (7 if mode != "keyword" else 3), mode
        cut = full.hits[2].score - 1e-6  # the third score, less float rounding
        above = like(
            "K1",
            QueryOptions(mode=mode, min_score=cut, limit=10),
            key=True,
            settings=settings,
            collection=name,
        )
        assert all(h.score >= cut for h in above.hits) and len(above.hits) >= 3, mode
        filtered = like(
            "K1",
            QueryOptions(mode=mode, where=("applicant=가나전자",), limit=10),
            key=True,
            settings=settings,
            collection=name,
        )
        # K12 shares no word with K1: keyword search does not find it.
        assert sorted(_keys(filtered)) == (["K12", "K2"] if mode != "keyword" else ["K2"]), mode


def test_keyword_like_is_bm25_with_qdrant_idf(loaded):
    """Scores are sum(query weight x IDF x document weight), IDF = ln(1 + (N - n + 0.5) /
    (n + 0.5)) over the collection's documents: computed here from the stored vectors."""
    import math

    settings, name, _ = loaded
    store = open_store(settings)
    try:
        points = {p.payload["_key"]: p.sparse for p in store.open(name).scroll(with_vectors=True)}
    finally:
        store.close()
    n = len(points)
    df: dict[int, int] = {}
    for sv in points.values():
        for i in sv.indices:
            df[i] = df.get(i, 0) + 1
    idf = {i: math.log(1 + (n - c + 0.5) / (c + 0.5)) for i, c in df.items()}
    for ref in ("K3", "K8"):
        q = dict(zip(points[ref].indices, points[ref].values))
        expected = {}
        for key, sv in points.items():
            score = sum(q[i] * idf[i] * v for i, v in zip(sv.indices, sv.values) if i in q)
            if key != ref and score > 0:
                expected[key] = score
        got = like(
            ref,
            QueryOptions(mode="keyword", limit=20),
            key=True,
            settings=settings,
            collection=name,
        )
        assert {h.key: h.score for h in got.hits} == pytest.approx(expected, rel=1e-4)
        assert [h.score for h in got.hits] == pytest.approx(
            sorted(expected.values(), reverse=True), rel=1e-4
        )


def test_existing_collection_gains_keyword_vectors_without_reembedding(settings, unique_name):
    emb = FakeEmbedder()
    load(
        SAMPLE,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="doc_id"),
        embedder=emb,
    )
    _make_old(settings, unique_name)
    store = open_store(settings)
    try:
        coll = store.open(unique_name)
        assert not coll.has_sparse()
        assert not any(is_terms_field(k) for p in coll.scroll() for k in p.payload)
    finally:
        store.close()
    with pytest.raises(UserInputError, match="no keyword vectors"):
        like(
            "K1", QueryOptions(mode="keyword"), key=True, settings=settings, collection=unique_name
        )
    assert like("K1", key=True, settings=settings, collection=unique_name).mode == "dense"

    again = FakeEmbedder()
    summary = load(
        SAMPLE,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="doc_id"),
        embedder=again,
    )
    assert again.texts == 0 and summary.embedded == 0
    assert summary.keyword_backfilled == 12
    assert summary.unchanged == 12
    r = text("지르코늄", QueryOptions(mode="keyword"), settings=settings, collection=unique_name)
    assert _keys(r) == ["K11"]
    r = like(
        "K1",
        QueryOptions(where=("abstract~센서",), limit=20),
        key=True,
        settings=settings,
        collection=unique_name,
    )
    assert sorted(_keys(r)) == ["K2", "K3", "K4"]


TERMS = ["_terms_abstract", "_terms_title"]


def _make_old(settings: StoreSettings, name: str) -> None:
    """Turn a collection into one made before keyword search: no sparse vector, no terms."""
    store = open_store(settings)
    try:
        coll = store.open(name)
        if store.kind == "embedded":
            import qdrant_edge as qe

            coll.shard.update(qe.UpdateOperation.delete_vector_name("keyword"))
            ids = [p.id for p in coll.scroll(with_payload=False)]
            coll.shard.update(qe.UpdateOperation.delete_payload(ids, TERMS))
            coll.shard.update(qe.UpdateOperation.delete_field_index("_terms_abstract"))
            coll.shard.update(qe.UpdateOperation.delete_field_index("_terms_title"))
            coll.shard.flush()
        else:
            coll.client.delete_vector_name(name, "keyword")
            ids = [p.id for p in coll.scroll(with_payload=False)]
            coll.client.delete_payload(name, keys=TERMS, points=ids)
        manifest = coll.read_manifest()
        manifest.keyword = manifest.search = None
        manifest.fields = {k: replace(v, terms=None) for k, v in manifest.fields.items()}
        coll.write_manifest(manifest)
    finally:
        store.close()


# -- the CLI ---------------------------------------------------------------------------------


def test_cli_mode_is_reported(loaded):
    settings, name, _ = loaded
    where = ["--url", settings.url] if settings.url else ["--path", settings.path]
    runner = CliRunner()
    res = runner.invoke(
        search_cli,
        [
            "like",
            "K1",
            "--key",
            "--mode",
            "keyword",
            "--collection",
            name,
            "--format",
            "json",
            "-n",
            "2",
            *where,
        ],
    )
    assert res.exit_code == 0, res.output
    assert "mode keyword" in res.stderr
    lines = [json.loads(x) for x in res.stdout.splitlines()]
    assert [x["rank"] for x in lines] == [1, 2]
    res = runner.invoke(
        search_cli,
        [
            "text",
            "지르코늄을",
            "--mode",
            "keyword",
            "--collection",
            name,
            "--format",
            "json",
            *where,
        ],
    )
    assert res.exit_code == 0, res.output
    assert res.stderr.startswith("text: mode keyword")
    assert [json.loads(x)["key"] for x in res.stdout.splitlines()] == ["K11"]
    res = runner.invoke(
        search_cli, ["like", "K1", "--key", "--mode", "fuzzy", "--collection", name, *where]
    )
    assert res.exit_code == 2
