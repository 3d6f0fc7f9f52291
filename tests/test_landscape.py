"""The landscape map and topic clusters: projection, cache, colours, clusters, and the
``search map`` / ``search clusters`` commands (on a constructed collection of known topics)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from patentsim.embed.analyzer import Analyzer
from patentsim.errors import UserInputError
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import landscape as ls
from patentsim.search.clusters import c_tf_idf, clusters, default_k
from patentsim.search.landscape import landscape
from patentsim.store import StoreSettings, open_store

from .fakes import FakeEmbedder
from .topics import PER_TOPIC, TOPICS, topic_rows, write_topics

N = PER_TOPIC * len(TOPICS)


def _load(path: Path, settings: StoreSettings, rows: list[dict], name: str = "topics") -> None:
    src = write_topics(path, rows)
    load(
        src,
        LoadSettings(store_settings=settings, collection=name, id_column="id", lists=["ipc"]),
        embedder=FakeEmbedder(256),
    )


@pytest.fixture
def topics(tmp_path) -> StoreSettings:
    """An embedded store holding 'topics' (36 documents of three known topics)."""
    settings = StoreSettings(path=str(tmp_path / "store"))
    _load(tmp_path / "topics.xlsx", settings, topic_rows())
    return settings


def _xy(result) -> np.ndarray:
    return np.array([[p.x, p.y] for p in result.points])


# -- projection ------------------------------------------------------------------------------


def test_pca_map_has_one_point_per_document_with_its_key_row_and_title(topics):
    result = landscape(method="pca", settings=topics)
    rows = {r["id"]: r for r in topic_rows()}
    assert len(result.points) == N
    assert sorted(p.key for p in result.points) == sorted(rows)
    for p in result.points:
        assert p.title == rows[p.key]["title"]
        assert p.row == int(p.key[1:])  # the ids are numbered in row order
    assert result.method == "pca" and result.source == "dense"
    assert result.description.startswith("PCA of the 256-d dense vectors")
    xy = _xy(result)
    assert np.abs(xy).max() == pytest.approx(1.0)  # scaled to [-1, 1]
    assert len({(round(x, 4), round(y, 4)) for x, y in xy}) > N // 2  # not collapsed


def test_pca_map_is_the_pca_of_the_stored_vectors(topics):
    """The coordinates are the first two principal components of what the store holds."""
    from sklearn.decomposition import PCA

    result = landscape(method="pca", settings=topics)
    store = open_store(topics)
    try:
        points = sorted(store.open("topics").scroll(with_vectors=True), key=lambda p: p.id)
    finally:
        store.close()
    assert [p.id for p in points] == [p.id for p in result.points]
    x = np.array([p.vector for p in points], dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    expected = PCA(n_components=2, random_state=0).fit_transform(x)
    got = _xy(result)
    for axis in range(2):  # each axis up to its sign and scale
        corr = np.corrcoef(expected[:, axis], got[:, axis])[0, 1]
        assert abs(corr) == pytest.approx(1.0, abs=1e-4)


def test_the_projection_is_deterministic(topics, tmp_path):
    first = landscape(method="pca", settings=topics)
    again = landscape(method="pca", settings=topics, refresh=True)
    elsewhere = landscape(method="pca", settings=topics, cache_dir=tmp_path / "other")
    assert not first.cached and not again.cached and not elsewhere.cached
    assert np.array_equal(_xy(first), _xy(again))
    assert np.array_equal(_xy(first), _xy(elsewhere))


def test_umap_map_is_deterministic_and_keeps_topics_apart(topics):
    pytest.importorskip("umap")
    first = landscape(method="umap", settings=topics)
    again = landscape(method="umap", settings=topics, refresh=True)
    assert first.method == "umap" and first.description.startswith("UMAP (cosine")
    assert np.array_equal(_xy(first), _xy(again))
    # Each document's nearest other point on the map is of its own topic.
    topic = {r["id"]: r["topic"] for r in topic_rows()}
    xy = _xy(first)
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(N) * 9
    nearest = dist.argmin(axis=1)
    keys = [p.key for p in first.points]
    same = sum(topic[keys[i]] == topic[keys[j]] for i, j in enumerate(nearest))
    assert same == N


def test_auto_is_pca_without_umap_and_says_why(topics, monkeypatch):
    monkeypatch.setattr(ls, "umap_available", lambda: False)
    result = landscape(settings=topics)
    assert result.method == "pca"
    assert "needs umap-learn" in result.description
    with pytest.raises(UserInputError, match="umap-learn"):
        landscape(method="umap", settings=topics)


def test_few_documents_get_pca_even_when_umap_is_asked(tmp_path):
    pytest.importorskip("umap")
    settings = StoreSettings(path=str(tmp_path / "store"))
    _load(tmp_path / "few.xlsx", settings, topic_rows(per_topic=3))
    result = landscape(method="umap", settings=settings)
    assert result.method == "pca"
    assert "too few documents for UMAP" in result.description
    assert len(result.points) == 9


# -- the cache ---------------------------------------------------------------------------------


def test_second_map_comes_from_the_cache_beside_the_collection(topics):
    first = landscape(method="pca", settings=topics)
    second = landscape(method="pca", color="applicant", settings=topics)
    assert not first.cached and second.cached
    assert np.array_equal(_xy(first), _xy(second))
    folder = Path(topics.path) / "topics" / "analysis"
    assert (folder / "projection-pca.npz").is_file()
    assert not any((Path(topics.path) / "topics" / "shard").rglob("projection-*"))


def test_a_load_that_adds_documents_invalidates_the_cache(topics, tmp_path):
    before = landscape(method="pca", color="ipc", settings=topics)
    assert landscape(method="pca", settings=topics).cached
    more = topic_rows() + topic_rows(per_topic=2, start=100)
    _load(tmp_path / "more.xlsx", topics, more)
    after = landscape(method="pca", color="ipc", settings=topics)
    assert not after.cached
    assert len(after.points) == len(before.points) + 6
    assert after.signature != before.signature
    assert sum(e.count for e in after.legend) == N + 6


def test_a_load_that_changes_nothing_keeps_the_projection(topics, tmp_path):
    first = landscape(method="pca", settings=topics)
    _load(tmp_path / "same.xlsx", topics, topic_rows())  # the manifest's timestamp moves
    again = landscape(method="pca", settings=topics)
    assert again.cached and again.signature == first.signature


@pytest.fixture
def one_second(monkeypatch):
    """Every load of the test stamped with the same second, as on a fast machine: the
    manifest's timestamps have whole seconds (CI once reloaded within one)."""
    import patentsim.ingest.finish
    import patentsim.ingest.pipeline
    import patentsim.store.manifest

    def stamp() -> str:
        return "2026-01-01T00:00:00Z"

    for module in (patentsim.store.manifest, patentsim.ingest.finish, patentsim.ingest.pipeline):
        monkeypatch.setattr(module, "now", stamp)


def test_a_changed_text_invalidates_the_cache(one_second, topics, tmp_path):
    first = landscape(method="pca", settings=topics)
    rows = topic_rows()
    rows[0]["abstract"] = "an entirely different text about fishing rods and reels"
    _load(tmp_path / "changed.xlsx", topics, rows)
    again = landscape(method="pca", settings=topics)
    assert not again.cached and again.signature != first.signature


def test_a_changed_applicant_recolours_without_a_new_projection(one_second, topics, tmp_path):
    landscape(method="pca", color="applicant", settings=topics)
    rows = topic_rows()
    for r in rows[:5]:
        r["applicant"] = "New Owner Ltd"
    _load(tmp_path / "owners.xlsx", topics, rows)
    again = landscape(method="pca", color="applicant", settings=topics)
    assert again.cached  # the same texts: the same vectors and projection
    assert dict((e.value, e.count) for e in again.legend)["New Owner Ltd"] == 5


def test_an_unwritable_cache_folder_still_answers(topics, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    first = landscape(method="pca", settings=topics, cache_dir=blocked)
    second = landscape(method="pca", settings=topics, cache_dir=blocked)
    assert not first.cached and not second.cached
    assert np.array_equal(_xy(first), _xy(second))


# -- colours ----------------------------------------------------------------------------------


def test_colours_by_list_field_subclass_date_year_and_file(topics):
    by_ipc = landscape(method="pca", color="ipc", settings=topics)
    assert {(e.value, e.count) for e in by_ipc.legend} == {
        ("H01M", PER_TOPIC),
        ("H01L", PER_TOPIC),
        ("G01S", PER_TOPIC),
    }
    rows = {r["id"]: r for r in topic_rows()}
    for p in by_ipc.points:
        assert p.color == rows[p.key]["ipc"][:4]
    by_year = landscape(method="pca", color="year", settings=topics)
    assert by_year.color_field == "filing_date"
    assert Counter(p.color for p in by_year.points) == Counter(
        r["filing_date"][:4] for r in rows.values()
    )
    by_file = landscape(method="pca", color="file", settings=topics)
    assert [(e.value, e.count) for e in by_file.legend] == [("topics.xlsx", N)]
    by_owner = landscape(method="pca", color="APPLICANT", settings=topics)  # case-insensitive
    assert {e.value for e in by_owner.legend} == {a for _, _, a in TOPICS.values()}


def test_legend_keeps_the_most_frequent_values_and_the_rest_are_other():
    values = [f"v{i}" for i in range(20) for _ in range(20 - i)] + [None]
    legend = ls.legend_of(values, limit=3)
    assert [(e.value, e.count) for e in legend] == [("v0", 20), ("v1", 19), ("v2", 18)]


def test_colour_value_rules():
    codes = ls.FieldInfo("ipc", "keyword", list=True)
    assert ls.color_value(["h01l 21/67", "G06F 1/00"], codes) == "H01L"
    assert ls.color_value([], codes) is None
    names = ls.FieldInfo("applicants", "keyword", list=True)
    assert ls.color_value(["Samsung", "LG"], names) == "Samsung"
    date = ls.FieldInfo("d", "datetime")
    assert ls.color_value("2019-08-26T00:00:00Z", date) == "2019"


def test_unknown_colour_field_is_a_user_error(topics):
    with pytest.raises(UserInputError, match="no field 'nope'"):
        landscape(color="nope", settings=topics)


# -- keyword vectors ---------------------------------------------------------------------------


def test_keyword_vectors_make_a_map_of_their_own():
    """A keyword-only collection's rows: BM25 weights -> IDF -> TruncatedSVD -> 2-D."""
    from patentsim.store.backend import SparseVector

    a = [SparseVector((1, 2, 3), (1.0, 1.0, 1.0))] * 10
    b = [SparseVector((7, 8, 9), (1.0, 2.0, 1.0))] * 10
    scan = ls.Scan(
        [str(i) for i in range(20)], [{}] * 20, "keyword", sparse=ls._sparse_matrix(a + b)
    )
    x = ls.features(scan)
    xy, method = ls.project(x, "pca")
    assert method == "pca" and xy.shape == (20, 2)
    assert np.allclose(xy[:10], xy[0], atol=1e-5) and np.allclose(xy[10:], xy[10], atol=1e-5)
    assert np.linalg.norm(xy[0] - xy[10]) > 1.0


# -- clusters ----------------------------------------------------------------------------------


def test_clusters_recover_the_known_topics(topics):
    found = clusters(k=3, settings=topics)
    topic = {r["id"]: r["topic"] for r in topic_rows()}
    pairs = Counter((topic[k], c) for k, c in zip(found.keys, found.labels))
    # every topic is one cluster and every cluster one topic
    assert len(pairs) == 3 and set(pairs.values()) == {PER_TOPIC}
    for c in found.clusters:
        members = {topic[k] for k, label in zip(found.keys, found.labels) if label == c.id}
        (name,) = members
        words, ipc, applicant = TOPICS[name]
        vocabulary = set(words.split()) | {name}
        assert set(c.words[:3]) <= vocabulary, c.words  # labels from the topic's own words
        assert c.size == PER_TOPIC
        assert c.applicants == [(applicant, PER_TOPIC)]
        assert c.classes[0] == (ipc[:4], PER_TOPIC)
        assert sum(n for _, n in c.years) == PER_TOPIC
        assert len(c.examples) == 5
        assert all(e.title and e.title.startswith(name) for e in c.examples)


def test_clusters_are_deterministic_and_cached(topics):
    first = clusters(k=3, settings=topics)
    second = clusters(k=3, settings=topics)
    assert not first.cached and second.cached
    assert first.labels == second.labels
    assert [c.to_dict() for c in first.clusters] == [c.to_dict() for c in second.clusters]
    fresh = clusters(k=3, settings=topics, refresh=True)
    assert fresh.labels == first.labels


def test_map_coloured_by_cluster_labels_every_point(topics):
    result = landscape(method="pca", color="cluster", k=3, settings=topics)
    assert result.color_field == "cluster"
    assert len(result.clusters) == 3
    assert {p.cluster for p in result.points} == {0, 1, 2}
    labels = {c.id: c.label for c in result.clusters}
    assert all(p.color == labels[p.cluster] for p in result.points)
    for c in result.clusters:
        assert c.x is not None and -1 <= c.x <= 1


def test_default_k_grows_with_the_collection():
    assert default_k(1) == 1
    assert default_k(3) == 2
    assert default_k(300) == 5
    assert default_k(5157) == 23
    assert default_k(100_000) == 30


def test_c_tf_idf_by_hand():
    terms = [["a1", "a1", "xx"], ["a1", "xx", "xx"], ["b1", "b1", "xx"], ["b1", "yy", "yy"]]
    got = c_tf_idf(terms, [0, 0, 1, 1], 2)
    # cluster 0: a1 3/6, xx 3/6; cluster 1: b1 3/6, yy 2/6, xx 1/6; xx is in 3 of 4
    # documents, more than half: left out everywhere; A = 12 / 2 = 6
    import math

    assert got[0] == [("a1", pytest.approx(0.5 * math.log(1 + 6 / 3)))]
    assert [t for t, _ in got[1]] == ["b1", "yy"]
    assert got[1][1][1] == pytest.approx(2 / 6 * math.log(1 + 6 / 2))


# -- the commands ------------------------------------------------------------------------------


@pytest.fixture
def search(topics):
    from patentsim.search.cli import cli

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), env={"QDRANT_PATH": topics.path})

    return run


def test_search_map_writes_one_self_contained_html_file(search, tmp_path):
    out = tmp_path / "landscape.html"
    result = search("map", "--color", "ipc", "--method", "pca", "--output", str(out))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", page, re.I)
    assert "plotly" in page.lower() and len(page) > 1_000_000  # the library itself, inline
    # one point per document: the plotted keys are exactly the collection's
    keys = re.findall(r'\[\\?"(D\d{3})\\?",\s*\d+\]', page)
    assert sorted(keys) == sorted(r["id"] for r in topic_rows())
    assert "wrote the map of 36 documents" in result.output


def test_search_map_html_escapes_titles(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    rows = topic_rows(per_topic=2)
    rows[0]["title"] = "<img src=x onerror=alert(1)>"
    _load(tmp_path / "evil.xlsx", settings, rows)
    result = landscape(method="pca", settings=settings)
    from patentsim.search.figures import write_map

    out = tmp_path / "m.html"
    write_map(result, out)
    page = out.read_text(encoding="utf-8")
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_search_map_png(search, tmp_path):
    out = tmp_path / "landscape.png"
    result = search(
        "map", "--color", "cluster", "--clusters", "3", "--method", "pca", "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_search_map_json_and_legend(search):
    result = search("map", "--color", "applicant", "--method", "pca", "--format", "json")
    assert result.exit_code == 0, result.output
    points = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(points) == N
    assert set(points[0]) == {"id", "key", "row", "title", "x", "y", "color", "cluster"}
    table = search("map", "--color", "applicant", "--method", "pca")
    assert table.exit_code == 0, table.output
    assert "Battery Corp" in table.stdout and "12" in table.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "m.pdf"], "unknown file type '.pdf'"),
        (["--color", "nope"], "no field 'nope'"),
        (["--method", "tsne"], "Invalid value for '--method'"),
    ],
)
def test_search_map_bad_input_is_exit_2(search, args, message):
    result = search("map", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_search_clusters_xlsx_round_trips(search, tmp_path):
    import openpyxl

    out = tmp_path / "topics.xlsx"
    result = search("clusters", "--clusters", "3", "--output", str(out))
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["clusters", "documents"]
    rows = list(wb["clusters"].iter_rows(values_only=True))
    assert rows[0] == (
        "cluster",
        "size",
        "label",
        "terms",
        "applicants",
        "classes",
        "years",
        "examples",
    )
    assert [r[1] for r in rows[1:]] == [PER_TOPIC] * 3
    docs = list(wb["documents"].iter_rows(values_only=True))
    assert docs[0] == ("key", "row", "title", "cluster", "label")
    assert len(docs) == N + 1
    topic = {r["id"]: r["topic"] for r in topic_rows()}
    by_cluster: dict[int, set[str]] = {}
    for key, _, _, cluster, _ in docs[1:]:
        by_cluster.setdefault(cluster, set()).add(topic[key])
    assert sorted(len(v) for v in by_cluster.values()) == [1, 1, 1]


def test_search_clusters_table_json_csv(search):
    table = search("clusters", "-k", "3")
    assert table.exit_code == 0, table.output
    assert "Battery Corp" in table.stdout
    as_json = search("clusters", "-k", "3", "--format", "json")
    objs = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [o["size"] for o in objs] == [PER_TOPIC] * 3
    as_csv = search("clusters", "-k", "3", "--format", "csv")
    assert (
        as_csv.stdout.splitlines()[0]
        == "cluster,size,label,terms,applicants,classes,years,examples"
    )
    assert len(as_csv.stdout.splitlines()) == 4


def test_map_and_clusters_do_not_slow_down_search_like_start_up():
    """sklearn, plotly, matplotlib and umap stay out of the commands that do not need them."""
    import subprocess
    import sys

    code = (
        "import sys; import patentsim.search.cli, patentsim.search.query; "
        "heavy = [m for m in ('sklearn', 'plotly', 'matplotlib', 'umap', 'scipy') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_umap_of_a_large_collection_lays_out_a_sample_and_places_the_rest(topics, monkeypatch):
    pytest.importorskip("umap")
    monkeypatch.setattr(ls, "UMAP_SAMPLE", 30)  # 36 documents: 6 placed
    result = landscape(method="umap", settings=topics)
    assert result.method == "umap" and "sample of 30 documents" in result.description
    assert len(result.points) == N
    topic = {r["id"]: r["topic"] for r in topic_rows()}
    xy = _xy(result)
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(N) * 9
    keys = [p.key for p in result.points]
    nearest = dist.argmin(axis=1)
    assert all(topic[keys[i]] == topic[keys[j]] for i, j in enumerate(nearest))


def test_place_puts_a_row_among_its_nearest_sampled_rows():
    a = np.array([1.0, 0.0, 0.0])
    b = np.array([0.0, 1.0, 0.0])
    x = np.array(
        [a, a * 0.99 + b * 0.01, b, b + a * 0.02, a + b * 0.03, b * 0.98], dtype=np.float32
    )
    sample = np.array([0, 1, 2, 3])
    xy = np.array([[0.0, 0.0], [0.0, 1.0], [10.0, 10.0], [10.0, 11.0]])
    monkeypatched_k = 2
    old = ls.UMAP_NEIGHBOURS
    ls.UMAP_NEIGHBOURS = monkeypatched_k
    try:
        out = ls.place(x, sample, xy)
    finally:
        ls.UMAP_NEIGHBOURS = old
    assert np.array_equal(out[sample], xy)  # sampled rows keep their places
    assert out[4] == pytest.approx([0.0, 0.5], abs=0.02)  # between rows 0 and 1
    assert out[5] == pytest.approx([10.0, 10.5], abs=0.02)  # between rows 2 and 3


def test_concurrent_requests_compute_the_map_once(topics):
    """A web page asking for the same map from several threads: one computes, the others
    wait for it and read the cache; all get the same points."""
    from concurrent.futures import ThreadPoolExecutor

    store = open_store(topics)
    store.open("topics")  # held open, as the web application holds it
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(
                pool.map(lambda _: landscape(method="pca", color="ipc", store=store), range(4))
            )
    finally:
        store.close()
    assert sorted(r.cached for r in results) == [False, True, True, True]
    for r in results[1:]:
        assert np.array_equal(_xy(r), _xy(results[0]))
        assert [p.color for p in r.points] == [p.color for p in results[0].points]


@pytest.fixture
def keyword_only(tmp_path) -> StoreSettings:
    """'topics' loaded without a model: keyword vectors only."""
    settings = StoreSettings(path=str(tmp_path / "kw"))
    src = write_topics(tmp_path / "topics.xlsx", topic_rows())
    load(
        src,
        LoadSettings(
            store_settings=settings,
            collection="topics",
            id_column="id",
            lists=["ipc"],
            keyword_only=True,
        ),
    )
    return settings


def test_a_keyword_only_collection_is_mapped_from_its_keyword_vectors(keyword_only):
    result = landscape(method="pca", color="ipc", settings=keyword_only)
    assert result.source == "keyword" and len(result.points) == N
    assert "keyword vectors (BM25 × IDF, TruncatedSVD" in result.description
    topic = {r["id"]: r["topic"] for r in topic_rows()}
    xy = _xy(result)
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2) + np.eye(N) * 9
    keys = [p.key for p in result.points]
    nearest = dist.argmin(axis=1)
    assert all(topic[keys[i]] == topic[keys[j]] for i, j in enumerate(nearest))
    found = clusters(k=3, settings=keyword_only)
    assert found.source == "keyword"
    pairs = Counter((topic[k], c) for k, c in zip(found.keys, found.labels))
    assert len(pairs) == 3 and set(pairs.values()) == {PER_TOPIC}


def test_labels_leave_out_the_language_of_patents():
    from patentsim.search.clusters import PATENT_WORDS

    terms = [
        ["plural", "wafer", "wafer"],
        ["plural", "wafer"],
        ["상기", "배터리", "배터리"],
        ["상기", "배터리"],
    ]
    got = c_tf_idf(terms, [0, 0, 1, 1], 2, frozenset(Analyzer().terms(PATENT_WORDS)))
    assert [t for t, _ in got[0]] == ["wafer"]  # not "plural" (plurality)
    assert [t for t, _ in got[1]] == ["배터리"]  # not 상기 ("said")


def test_png_of_korean_labels_warns_without_a_hangul_font(tmp_path, monkeypatch):
    from patentsim.search import figures

    settings = StoreSettings(path=str(tmp_path / "store"))
    _load(tmp_path / "t.xlsx", settings, topic_rows(per_topic=4))
    result = landscape(method="pca", color="applicant", settings=settings)  # 차량전자 주식회사
    monkeypatch.setattr(figures, "hangul_font", lambda: None)
    with pytest.warns(figures.NoHangulFont, match="fonts-noto-cjk"):
        figures.write_map(result, tmp_path / "m.png")
    monkeypatch.setattr(figures, "hangul_font", lambda: "DejaVu Sans")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", figures.NoHangulFont)
        figures.write_map(result, tmp_path / "m2.png")
    assert (tmp_path / "m2.png").read_bytes()[:4] == b"\x89PNG"


def test_a_server_collection_is_cached_under_the_patentsim_cache(tmp_path, monkeypatch):
    """The in-memory stand-in for a server: the cache goes under PATENTSIM_CACHE, by server."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("PATENTSIM_CACHE", str(cache))
    settings = StoreSettings(url=":memory:")
    store = open_store(settings)
    try:
        src = write_topics(tmp_path / "topics.xlsx", topic_rows())
        load(
            src,
            LoadSettings(collection="srv", id_column="id"),
            store=store,
            embedder=FakeEmbedder(256),
        )
        first = landscape(method="pca", color="applicant", collection="srv", store=store)
        again = landscape(method="pca", color="applicant", collection="srv", store=store)
        assert not first.cached and again.cached and len(again.points) == N
        (folder,) = (cache / "analysis").iterdir()  # one folder per server
        assert (folder / "srv" / "projection-pca.npz").is_file()
        found = clusters(k=3, collection="srv", store=store)
        assert sorted(c.size for c in found.clusters) == [PER_TOPIC] * 3
    finally:
        store.drop("srv")  # the stand-in is one per process
        store.close()
