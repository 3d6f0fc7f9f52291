"""The query side of a collection, the same on both backends.

``PlannedQueries`` answers ``query``, ``query_sparse``, ``query_fused`` and ``scroll`` of
the ``Collection`` protocol: it plans each dense query (``plan.py``), runs the checked
candidate search where the plan says so, pages the results and walks scroll pages.  A
backend supplies only its engine calls, the searches each described by one
``SearchRequest``:

- ``_dense(vector, request)``: a dense search, exact or through HNSW with ``hnsw_ef``;
- ``_sparse(vector, request)``: a search on the keyword vector;
- ``_fused(fused, request, depth)``: both prefetched ``depth`` deep and fused, the dense
  prefetch walking as ``request`` says;
- ``_estimate(flt)``: the payload indexes' estimate of the points ``flt`` matches (every
  point for None), which reads no vector;
- ``_layout()``: how many segments a query visits (the beams are per segment) and how many
  points the collection holds (None where it costs a request to know);
- ``_large()``: whether it is a large collection (its segments searched side by side; it
  answers exactly over more matches), False by default;
- ``_scroll_pages(...)``: a function that reads one page of stored points (``scroll``
  walks the pages).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import backend as b
from . import plan as planning
from . import tuning
from .filters import Filter, HasId, all_of
from .manifest import Manifest
from .plan import SearchPlan, plan_search

# The largest page a query takes (--limit, --offset): the engines read limit + offset as a
# 64-bit count, and Python hands them any integer.
MAX_PAGE = 2**31 - 1


@dataclass(frozen=True)
class SearchRequest:
    """One engine search: which points, which page, and how the dense side walks."""

    flt: Filter | None
    limit: int
    offset: int = 0
    score_threshold: float | None = None
    exact: bool = False
    hnsw_ef: int = tuning.HNSW_EF_SEARCH
    with_payload: bool = True
    # False: the caller scores the hits exactly afterwards, so a quantized collection may rank
    # on its quantized vectors alone (those of ``tuning.RANKS_UNRESCORED`` do)
    rescore: bool = True


class PlannedQueries(ABC):
    """The read queries of a collection; subclasses supply the engine calls."""

    last_plan: SearchPlan | None = None  # how the last query was answered
    _dense_name: str | None = ""
    _dense_known = False

    @property
    def dense_name(self) -> str | None:
        """The dense vector's name ("" unnamed), None in a keyword-only collection."""
        if not self._dense_known:
            self._dense_name = self.read_manifest().vectors.dense
            self._dense_known = True
        return self._dense_name

    @abstractmethod
    def read_manifest(self) -> Manifest: ...

    # -- the engine's calls ------------------------------------------------------------------
    @abstractmethod
    def _dense(self, vector: Sequence[float], request: SearchRequest) -> list[b.ScoredHit]: ...

    @abstractmethod
    def _sparse(self, vector: b.SparseVector, request: SearchRequest) -> list[b.ScoredHit]: ...

    @abstractmethod
    def _fused(self, fused: b.Fused, request: SearchRequest, depth: int) -> list[b.ScoredHit]: ...

    @abstractmethod
    def _estimate(self, flt: Filter | None) -> int: ...

    def _layout(self) -> tuple[int, int | None]:
        """The segments a query visits and the collection's points, where they come cheap; by
        default the collections the beams were tuned on, of a size not known."""
        return planning.REFERENCE_SEGMENTS, None

    def _large(self) -> bool:
        """A large collection (``CreateOptions.large``), planned as one (``plan.py``)."""
        return False

    @abstractmethod
    def _scroll_pages(
        self, flt: Filter | None, with_vectors: bool, with_payload: bool | Sequence[str], batch: int
    ) -> Callable[[Any], tuple[list[Any], Any]]:
        """``page(offset)``: the records from ``offset`` on (None: the first) and the next
        offset (None after the last)."""

    # -- planning ------------------------------------------------------------------------------
    def plan(self, flt: Filter | None, *, limit: int, free_text: bool = False) -> SearchPlan:
        """How a query with ``flt`` will be answered (``store/plan.py``); ``free_text``: the
        query vector is an embedded text, not a stored point (a wider beam)."""
        segments, points = self._layout()
        if flt is None:
            return plan_search(
                filtered=False, limit=limit, total=points, segments=segments, free_text=free_text
            )
        total = self._estimate(None) if points is None else points
        matching = None if total <= planning.EXACT_MAX_POINTS else self._estimate(flt)
        return plan_search(
            filtered=True,
            limit=limit,
            matching=matching,
            total=total,
            segments=segments,
            free_text=free_text,
            large=self._large(),
        )

    def _query_plan(self, flt: Filter | None, limit: int, free_text: bool) -> SearchPlan:
        """The plan a query follows (a backend that can only search exactly says so here)."""
        return self.plan(flt, limit=limit, free_text=free_text)

    # -- the Collection protocol's queries -----------------------------------------------------
    def query(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        offset: int = 0,
        flt: Filter | None = None,
        score_threshold: float | None = None,
        exact: bool = False,
        free_text: bool = False,
    ) -> list[b.ScoredHit]:
        want = offset + limit
        plan = self.last_plan = self._query_plan(flt, want, free_text)
        if not plan.candidates or exact:
            return self._dense(
                vector,
                SearchRequest(
                    flt, limit, offset, score_threshold, exact or plan.exact, plan.hnsw_ef
                ),
            )

        def nearest(n: int) -> list[tuple[str, float]]:
            # May rank on the quantized vectors alone: the check scores the candidates exactly.
            # Not with a score threshold, which must be applied to exact scores.
            ef = max(plan.hnsw_ef, planning.candidate_ef(n, plan.segments, plan.total, plan.large))
            rescore = score_threshold is not None
            found = self._dense(
                vector,
                SearchRequest(
                    None, n, 0, score_threshold, False, ef, with_payload=False, rescore=rescore
                ),
            )
            return [(h.id, h.score) for h in found]

        def exactly(flt_: Filter | None) -> list[b.ScoredHit]:
            return self._dense(
                vector, SearchRequest(flt_, want, 0, score_threshold, True, plan.hnsw_ef)
            )

        found = planning.checked_search(
            plan,
            want,
            nearest,
            lambda ids: exactly(all_of(flt, HasId(tuple(ids)))),
            lambda: exactly(flt),
            score_threshold,
        )
        return found[offset:want]

    def query_sparse(
        self,
        vector: b.SparseVector,
        *,
        limit: int,
        offset: int = 0,
        flt: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[b.ScoredHit]:
        return self._sparse(vector, SearchRequest(flt, limit, offset, score_threshold))

    def query_fused(
        self,
        fused: b.Fused,
        *,
        limit: int,
        offset: int = 0,
        flt: Filter | None = None,
        score_threshold: float | None = None,
        free_text: bool = False,
    ) -> list[b.ScoredHit]:
        # The dense side is planned as in query(): exact over few matches; with many, a
        # prefetch cannot check candidates afterwards, so it walks HNSW with the filter and
        # the plan's wide beam.
        depth = max(fused.depth, offset + limit)
        plan = self.last_plan = self._query_plan(flt, depth, free_text)
        request = SearchRequest(flt, limit, offset, score_threshold, plan.exact, plan.hnsw_ef)
        return self._fused(fused, request, depth)

    def neighbours(
        self,
        vectors: Sequence[Sequence[float]],
        *,
        limit: int,
        score_threshold: float | None = None,
        flt: Filter | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Each vector's nearest points (ids and scores), for stored points' vectors: one plan
        for the batch, no payloads.  A filter that the plan checks on candidates
        (``hnsw+check``) is asked query by query."""
        if not vectors:
            return []
        plan = self.last_plan = self._query_plan(flt, limit, False)
        if plan.candidates:
            return [
                [
                    (h.id, h.score)
                    for h in self.query(v, limit=limit, flt=flt, score_threshold=score_threshold)
                ]
                for v in vectors
            ]
        ef = max(planning.NEIGHBOURS_EF, limit)
        request = SearchRequest(flt, limit, 0, score_threshold, plan.exact, ef, with_payload=False)
        return self._dense_pairs(vectors, request)

    def neighbours_sparse(
        self,
        vectors: Sequence[b.SparseVector],
        *,
        limit: int,
        flt: Filter | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Each keyword vector's best-scoring points (ids and BM25 scores), no payloads."""
        request = SearchRequest(flt, limit, 0, None, with_payload=False)
        return self._sparse_pairs(vectors, request)

    def _dense_pairs(
        self, vectors: Sequence[Sequence[float]], request: SearchRequest
    ) -> list[list[tuple[str, float]]]:
        """Each vector's hits as (id, score) pairs, for ``neighbours``; a backend whose
        engine answers a batch at once overrides it."""
        return [[(h.id, h.score) for h in hits] for hits in self._dense_batch(vectors, request)]

    def _sparse_pairs(
        self, vectors: Sequence[b.SparseVector], request: SearchRequest
    ) -> list[list[tuple[str, float]]]:
        return [[(h.id, h.score) for h in hits] for hits in self._sparse_batch(vectors, request)]

    def _dense_batch(
        self, vectors: Sequence[Sequence[float]], request: SearchRequest
    ) -> list[list[b.ScoredHit]]:
        """Several dense searches of one request; a backend with a batch call overrides it."""
        return [self._dense(v, request) for v in vectors]

    def _sparse_batch(
        self, vectors: Sequence[b.SparseVector], request: SearchRequest
    ) -> list[list[b.ScoredHit]]:
        return [self._sparse(v, request) for v in vectors]

    def facet_by_scan(
        self, key: str, flt: Filter | None = None, limit: int = 10
    ) -> list[tuple[Any, int]]:
        """Counts per value of ``key`` (list elements each), most first, read from the
        payload: for a field without an index, which the engines' facets need."""
        from collections import Counter

        counts: Counter[tuple[str, Any]] = Counter()
        for point in self.scroll(flt=flt, with_payload=[key], batch=1024):
            value = point.payload.get(key)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, (str, int)):  # bool is an int; kept apart by its type
                    counts[(type(item).__name__, item)] += 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1]))
        return [(value, n) for (_, value), n in ranked[:limit]]

    def scroll(
        self,
        *,
        flt: Filter | None = None,
        with_vectors: bool = False,
        with_payload: bool | Sequence[str] = True,
        batch: int = 256,
    ) -> Iterator[b.StoredPoint]:
        page = self._scroll_pages(flt, with_vectors, with_payload, batch)
        offset = None
        while True:
            records, offset = page(offset)
            for r in records:
                yield b.StoredPoint.from_record(r, self.dense_name)
            if offset is None or not records:
                return
