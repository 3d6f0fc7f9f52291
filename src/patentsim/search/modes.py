"""Retrieval modes as ranked queries: dense vectors, keyword (BM25) vectors, or both fused.

``choose_retrieval`` picks the mode a question asks for (or the collection's default);
``runner`` turns it and the query's vectors into a ``Runner``: one ranked query as a function
of the page and the filter, which ``paging`` calls as often as it needs (grouping pages on).
``text_runner`` makes the vectors of a free text: its analyzed terms, its embedding, or both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..embed.retrieval import MODES, Retrieval
from ..errors import PatentSimError, UserInputError, setting
from ..store.backend import Fused, ScoredHit, SparseVector
from ..store.filters import Filter
from .collection import OpenCollection
from .query_model import QueryEmbedder, check_embedder

# (limit, offset, filter, min_score) -> the ranked hits.
Runner = Callable[[int, int, Filter | None, float | None], list[ScoredHit]]
FUSION_DEPTH = 100  # candidates of each side that hybrid search fuses


def choose_retrieval(opened: OpenCollection, mode: str | None) -> Retrieval:
    """The mode asked for, or the collection's default; keyword needs keyword vectors."""
    if mode is not None and mode not in MODES:
        raise UserInputError(f"{setting('mode')} must be one of {', '.join(MODES)}, not {mode!r}")
    chosen = opened.default_retrieval(warn=mode is None).with_mode(mode)
    if not opened.dense:
        if mode in ("dense", "hybrid"):
            raise UserInputError(
                f"collection '{opened.name}' has no dense vectors (it was loaded keyword-only), "
                f"so {setting('mode')} {mode} cannot answer",
                "load it again with a model (ingest load FILE --model NAME) to add them, or "
                f"use {setting('mode')} keyword",
            )
        return Retrieval("keyword", chosen.fusion, chosen.weights)
    if chosen.mode != "dense" and not opened.has_keyword():
        if mode is None:
            return Retrieval("dense")
        raise UserInputError(
            f"collection '{opened.name}' has no keyword vectors yet (it was built before "
            "keyword search)",
            "run the same 'ingest load' again to add them (no text is embedded again), "
            f"or use {setting('mode')} dense",
        )
    return chosen


def runner(
    opened: OpenCollection,
    retrieval: Retrieval,
    dense: Sequence[float] | None,
    sparse: SparseVector,
    *,
    free_text: bool = False,
) -> Runner:
    """One ranked query in the chosen mode, as a function of the page and the filter;
    ``free_text``: the dense vector is an embedded text, not a stored point."""
    coll = opened.coll
    if retrieval.mode == "keyword":

        def keyword(
            limit: int, offset: int, flt: Filter | None, min_score: float | None
        ) -> list[ScoredHit]:
            return coll.query_sparse(
                sparse, limit=limit, offset=offset, flt=flt, score_threshold=min_score
            )

        return keyword
    if dense is None:
        raise PatentSimError(f"collection '{opened.name}': the query has no dense vector")
    if retrieval.mode == "hybrid":
        fused = Fused(dense, sparse, retrieval.fusion, retrieval.weights, FUSION_DEPTH)

        def hybrid(
            limit: int, offset: int, flt: Filter | None, min_score: float | None
        ) -> list[ScoredHit]:
            return coll.query_fused(
                fused,
                limit=limit,
                offset=offset,
                flt=flt,
                score_threshold=min_score,
                free_text=free_text,
            )

        return hybrid

    def nearest(
        limit: int, offset: int, flt: Filter | None, min_score: float | None
    ) -> list[ScoredHit]:
        return coll.query(
            dense,
            limit=limit,
            offset=offset,
            flt=flt,
            score_threshold=min_score,
            free_text=free_text,
        )

    return nearest


def text_runner(
    opened: OpenCollection, retrieval: Retrieval, emb: QueryEmbedder | None, query: str
) -> Runner:
    """The ranked query for a text: its analyzed terms, its embedding, or both."""
    from ..embed.sparse import query_vector

    sparse = SparseVector((), ())
    if retrieval.mode != "dense":
        sparse = query_vector(list(dict.fromkeys(opened.analyze(query))))
        if not sparse:
            raise UserInputError(
                f"the query {query!r} has no searchable words for keyword search (stop words, "
                "particles and endings are left out)",
                f"add content words, or use {setting('mode')} dense",
            )
    vector = None
    if retrieval.mode != "keyword":
        if emb is None:
            raise PatentSimError(f"collection '{opened.name}': no model to embed the query")
        check_embedder(emb, opened.model, opened.name)
        vector = [float(x) for x in emb.encode([query], query=True)[0]]
    return runner(opened, retrieval, vector, sparse, free_text=True)
