"""search like / text on real embeddings, against numpy and pandas ground truth.

tests/data/sample_ko.xlsx (300 KIPRIS-shaped rows) embedded once with the offline model
(the real all-MiniLM-L6-v2), stored on both backends.  The ground truth is computed from the
vectors the store holds: exact cosine with numpy, groups and dates with pandas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from patentsim.errors import (
    DocumentNotFound,
    ModelMismatch,
    StoreLocked,
    UserInputError,
)
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, like, text
from patentsim.search.paging import group_value
from patentsim.store import StoreSettings, open_store

from .conftest import BACKENDS, KO_XLSX, slice_xlsx
from .fakes import FakeEmbedder

ROWS = 300
pytestmark = pytest.mark.slow


class Replay:
    """The real model, each text embedded once: the second backend costs no embedding.

    Texts are cut at 128 tokens (the model's own window is 256): four times faster on a
    CPU, and still the real model's vectors, which is all these tests need.
    """

    WINDOW = 128

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.fingerprint = inner.fingerprint
        self.dimension = inner.dimension
        self.max_seq_length = inner.max_seq_length
        self.cache: dict[tuple[str, bool], np.ndarray] = {}

    def info(self):
        return self.inner.info()

    def encode(self, texts, *, batch_size: int = 32, query: bool = False):
        missing = [t for t in dict.fromkeys(texts) if (t, query) not in self.cache]
        if missing:
            model = self.inner.model
            window, model.max_seq_length = model.max_seq_length, self.WINDOW
            try:
                vectors = self.inner.encode(missing, batch_size=16, query=query)
            finally:
                model.max_seq_length = window
            self.cache.update({(t, query): v for t, v in zip(missing, vectors)})
        return np.stack([self.cache[(t, query)] for t in texts])

    def token_counts(self, texts):
        return self.inner.token_counts(texts)


@pytest.fixture(scope="module")
def replay(offline_embedder) -> Replay:
    return Replay(offline_embedder)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return slice_xlsx(KO_XLSX, tmp_path_factory.mktemp("src") / "ko300.xlsx", ROWS)


@pytest.fixture(scope="module")
def frame(source) -> pd.DataFrame:
    df = pd.read_excel(source)
    df["application_date"] = pd.to_datetime(
        df["application_date"].astype("Int64").astype("string"), format="%Y%m%d"
    )
    df["ipc"] = df["ipc"].map(lambda v: v.split("|") if isinstance(v, str) else [])
    return df


@pytest.fixture(scope="module", params=BACKENDS)
def real(request, source, replay, tmp_path_factory):
    """(settings, collection, stored vectors by row) on each backend."""
    if request.param == "embedded":
        settings = StoreSettings(path=str(tmp_path_factory.mktemp("store")))
    else:
        settings = StoreSettings(url=":memory:")
    name = f"real_{request.param}"
    load(source, LoadSettings(store_settings=settings, collection=name), embedder=replay)
    store = open_store(settings)
    try:
        points = list(store.open(name).scroll(with_vectors=True))
    finally:
        store.close()
    vectors = np.zeros((ROWS, replay.dimension), dtype=np.float64)
    for p in points:
        vectors[p.payload["_row"]] = p.vector
    yield settings, name, vectors
    store = open_store(settings)
    store.drop(name)
    store.close()


def cosine(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    normed = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return normed @ (query / np.linalg.norm(query))


def assert_ranking(hits, expected: list[int], scores: np.ndarray) -> None:
    """Same documents in the same order, ties aside; scores are the cosine similarities."""
    got = [h.row for h in hits]
    assert len(got) == len(expected), (got, expected)
    for h in hits:
        assert h.score == pytest.approx(scores[h.row], abs=1e-4)
    assert [h.score for h in hits] == pytest.approx([scores[r] for r in expected], abs=1e-4)
    tied = {r for r in set(got) | set(expected) if np.sum(np.abs(scores - scores[r]) < 1e-4) > 1}
    assert [r for r in got if r not in tied] == [r for r in expected if r not in tied]


def test_like_row_0_is_numpy_brute_force(real):
    settings, name, vectors = real
    results = like(0, QueryOptions(limit=10, mode="dense"), settings=settings, collection=name)
    scores = cosine(vectors, vectors[0])
    order = [int(r) for r in np.argsort(-scores, kind="stable") if r != 0][:10]
    assert_ranking(results.hits, order, scores)
    assert [h.rank for h in results.hits] == list(range(1, 11))
    assert 0 not in [h.row for h in results.hits]
    assert results.query is not None and results.query.row == 0 and results.query.key == "0"
    assert results.query.title and results.query.title.startswith("연삭 장치")
    assert results.hits[0].payload["title"]
    assert "_hash" not in results.hits[0].payload


@pytest.mark.parametrize("ref", [17, 299])
def test_like_other_rows_and_paging(real, ref):
    settings, name, vectors = real
    scores = cosine(vectors, vectors[ref])
    order = [int(r) for r in np.argsort(-scores, kind="stable") if r != ref]
    first = like(str(ref), QueryOptions(limit=5, mode="dense"), settings=settings, collection=name)
    second = like(
        ref, QueryOptions(limit=5, offset=5, mode="dense"), settings=settings, collection=name
    )
    assert_ranking(first.hits + second.hits, order[:10], scores)
    assert [h.rank for h in second.hits] == [6, 7, 8, 9, 10]
    # --min-score: only what reaches it (cut between two scores that are not tied).
    k = next(k for k in range(4, len(order)) if scores[order[k - 1]] - scores[order[k]] > 1e-3)
    cut = float(scores[order[k - 1]] + scores[order[k]]) / 2
    above = like(
        ref,
        QueryOptions(limit=k + 10, min_score=cut, mode="dense"),
        settings=settings,
        collection=name,
    )
    assert_ranking(above.hits, order[:k], scores)


def test_text_is_numpy_brute_force(real, replay):
    settings, name, vectors = real
    query = "연삭 장치의 측정 시스템"
    results = text(
        query,
        QueryOptions(limit=10, mode="dense"),
        settings=settings,
        model=replay,
        collection=name,
    )
    scores = cosine(vectors, replay.encode([query], query=True)[0])
    order = [int(r) for r in np.argsort(-scores, kind="stable")][:10]
    assert_ranking(results.hits, order, scores)
    assert results.query is None


def test_text_refuses_another_model(real):
    settings, name, _ = real
    with pytest.raises(ModelMismatch, match="was built with model 'sentence-transformers"):
        text(
            "배터리",
            QueryOptions(mode="dense"),
            settings=settings,
            model=FakeEmbedder(),
            collection=name,
        )


def test_prior_art_is_pandas_before_the_query_date(real, frame):
    settings, name, vectors = real
    for ref in (0, 42):
        day = frame.loc[ref, "application_date"]
        results = like(
            ref,
            QueryOptions(limit=10, prior_art=True, mode="dense"),
            settings=settings,
            collection=name,
        )
        scores = cosine(vectors, vectors[ref])
        earlier = frame.index[frame["application_date"] < day]
        order = [int(r) for r in np.argsort(-scores, kind="stable") if r in set(earlier)][:10]
        assert_ranking(results.hits, order, scores)
        assert results.prior_art_field == "application_date"
        assert results.prior_art_before == f"{day:%Y-%m-%d}T00:00:00Z"
        # With a --where too: both apply.
        results = like(
            ref,
            QueryOptions(prior_art=True, where=("status=등록",), limit=10, mode="dense"),
            settings=settings,
            collection=name,
        )
        keep = set(frame.index[(frame["application_date"] < day) & (frame["status"] == "등록")])
        order = [int(r) for r in np.argsort(-scores, kind="stable") if r in keep][:10]
        assert_ranking(results.hits, order, scores)


def test_prior_art_of_the_oldest_document_is_empty(real, frame):
    settings, name, _ = real
    oldest = int(frame["application_date"].idxmin())
    results = like(
        oldest, QueryOptions(prior_art=True, mode="dense"), settings=settings, collection=name
    )
    assert results.hits == []


def test_prior_art_needs_a_date_field(real):
    settings, name, _ = real
    with pytest.raises(UserInputError, match="'applicant' is a keyword field, not a date"):
        like(
            0,
            QueryOptions(prior_art=True, date_field="applicant", mode="dense"),
            settings=settings,
            collection=name,
        )


def _group_key(frame: pd.DataFrame, field: str) -> pd.Series:
    """The group of each row as a string ("\0none" for no value); dates as yyyy-mm-dd."""
    if field == "ipc":
        keys = frame["ipc"].map(lambda items: items[0] if items else None)
    elif field.endswith("_date"):
        days = frame[field]
        if not pd.api.types.is_datetime64_any_dtype(days):
            days = pd.to_datetime(days.astype("Int64").astype("string"), format="%Y%m%d")
        keys = days.map(lambda v: None if pd.isna(v) else f"{v:%Y-%m-%d}")
    else:
        keys = frame[field].map(lambda v: None if pd.isna(v) else v)
    # pandas may hand back a missing value as NaN rather than None
    return keys.map(lambda v: "\0none" if v is None or pd.isna(v) else str(v))


def _hit_group(payload: dict, field: str) -> str:
    value = group_value(payload, field)
    if value is None:
        return "\0none"
    return str(value)[:10] if field.endswith("_date") else str(value)


@pytest.mark.parametrize(
    ("field", "limit", "offset"),
    [
        ("applicant", 10, 0),
        ("applicant", 5, 3),
        ("ipc", 10, 0),
        ("status", 10, 0),
        ("registration_date", 8, 0),
        ("application_date", 6, 2),
    ],
)
def test_group_by_is_pandas_best_per_group(real, frame, field, limit, offset):
    settings, name, vectors = real
    ref = 5
    scores = cosine(vectors, vectors[ref])
    results = like(
        ref,
        QueryOptions(limit=limit, offset=offset, group_by=field, mode="dense"),
        settings=settings,
        collection=name,
    )
    df = pd.DataFrame({"score": scores, "group": _group_key(frame, field)}).drop(index=ref)
    best = df.sort_values("score", ascending=False, kind="stable").drop_duplicates("group")
    expected = best.iloc[offset : offset + limit]
    got_groups = [_hit_group(h.payload, field) for h in results.hits]
    assert len(set(got_groups)) == len(got_groups)
    assert [h.score for h in results.hits] == pytest.approx(expected["score"].to_list(), abs=1e-4)
    best_of = df.groupby("group")["score"].max()
    for h, g in zip(results.hits, got_groups):
        assert h.score == pytest.approx(best_of[g], abs=1e-4)  # the best of its group
    untied = [g for g in expected["group"] if (np.abs(best_of - best_of[g]) < 1e-4).sum() == 1]
    assert [g for g in got_groups if g in untied] == untied
    assert [h.rank for h in results.hits] == list(range(offset + 1, offset + 1 + len(expected)))


def test_group_by_with_few_groups_returns_them_all(real, frame):
    settings, name, _ = real
    results = like(
        0,
        QueryOptions(limit=50, group_by="status", mode="dense"),
        settings=settings,
        collection=name,
    )
    assert {h.payload["status"] for h in results.hits} == set(frame["status"])


def test_unknown_ref_says_how_many_rows(real):
    settings, name, _ = real
    for ref in ("300", "nope"):
        with pytest.raises(DocumentNotFound) as err:
            like(ref, QueryOptions(mode="dense"), settings=settings, collection=name)
        assert "it has 300 documents from 300 rows (rows 0 to 299)" in err.value.message
    with pytest.raises(DocumentNotFound, match="no document with key '9999'"):
        like(9999, QueryOptions(mode="dense"), key=True, settings=settings, collection=name)


def test_bad_group_by_and_paging(real):
    settings, name, _ = real
    with pytest.raises(UserInputError, match="`group_by`: unknown field 'aplicant'"):
        like(0, QueryOptions(group_by="aplicant", mode="dense"), settings=settings, collection=name)
    with pytest.raises(UserInputError, match="`limit` must be at least 1"):
        like(0, QueryOptions(limit=0, mode="dense"), settings=settings, collection=name)


# -- keys, and the embedded store's lock ------------------------------------------------------


@pytest.fixture
def keyed(tmp_path, source):
    settings = StoreSettings(path=str(tmp_path / "keyed"))
    load(
        source,
        LoadSettings(store_settings=settings, collection="keyed", id_column="application_number"),
        embedder=FakeEmbedder(),
    )
    return settings


def test_ref_is_a_row_then_a_key(keyed, frame):
    first_key = str(frame.loc[0, "application_number"])
    by_row = like(0, QueryOptions(limit=3), settings=keyed)
    by_key = like(
        first_key, QueryOptions(limit=3), settings=keyed
    )  # a number that is no row: a key
    forced = like(first_key, QueryOptions(limit=3), key=True, settings=keyed)
    assert by_row.query is not None and by_row.query.key == first_key
    assert by_key.query == by_row.query == forced.query
    assert [h.key for h in by_key.hits] == [h.key for h in by_row.hits]
    assert all(h.key == str(frame.loc[h.row, "application_number"]) for h in by_row.hits)
    with pytest.raises(DocumentNotFound) as err:
        like(12, key=True, settings=keyed)
    assert "keys are values of column 'application_number'" in (err.value.hint or "")


def test_search_closes_the_collection_and_reports_a_lock(keyed):
    like(0, QueryOptions(limit=1), settings=keyed)
    holder = open_store(keyed)
    holder.open("keyed")  # works: the search above let go of it
    try:
        with pytest.raises(StoreLocked, match="in use by process"):
            like(0, QueryOptions(limit=1), settings=keyed)
    finally:
        holder.close()
    assert like(0, QueryOptions(limit=1), settings=keyed).hits
