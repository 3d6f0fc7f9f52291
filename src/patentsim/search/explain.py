"""Why similar: the analyzed terms a hit shares with its query, and where they stand.

The Python API (the page's "why similar" view and ``search like/text --explain``)::

    from patentsim.search.explain import shared_terms

    why = shared_terms(12, 0, collection="demo")        # hit row/key 12, query document 0
    why = shared_terms(12, text="배터리 냉각 장치")         # or a text query
    for t in why.terms:            # every shared term, highest weight first
        t.term, t.weight           # "batteri", 3.21: its part of the keyword score
        t.idf, t.documents         # the collection's IDF of the term, documents holding it
        t.query_weight, t.hit_weight, t.query_words, t.hit_words   # "batteries", ...
    why.query_spans["abstract"]    # [TermSpan(start, end, term), ...] characters of the
    why.hit_spans["abstract"]      #   original texts to highlight, per text field
    why.score                      # the sum of the weights
    why.to_dict()

    like(0, QueryOptions(explain=True)).hits[0].shared_terms   # every hit of a query

Terms are the collection's own analyzer's (``patentsim.embed.analyzer``): Korean
morphemes with particles and endings left out (``배터리를`` → ``배터리``), English
words stemmed (``batteries`` → ``batteri``), stop words dropped.  A shared term's
weight is exactly its part of the hit's keyword (BM25) score for this query:
``idf × query weight × hit weight``, where the weights are the BM25 term weights
stored in the two documents' keyword vectors (a text query weighs each of its terms
1) and ``idf = ln(1 + (N − n + 0.5) / (n + 0.5))`` is Qdrant's IDF over the
collection's N documents, n of which hold the term.  So the weights add up to the
score ``search like --mode keyword`` gives the pair.  The spans map each term back
to the characters it came from in the original text (``spans`` of the analyzer), so
``배터리를`` is highlighted as ``배터리`` and ``Batteries`` as a whole word.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..embed.analyzer import Analyzer, TermSpan, analyzer_for
from ..errors import UserInputError
from ..store import StoreSettings
from ..store.backend import SparseVector, Store, StoredPoint
from ..store.filters import Filter, Text
from ..store.ids import point_id
from .collection import OpenCollection
from .documents import find_point
from .results import Results

TEXT_FIELD = "text"  # the name of a text query's one "field" in ``query_spans``
SHOWN = 10  # shared terms in ``to_dict`` and the CLI's json/csv (all are in ``terms``)


@dataclass
class SharedTerm:
    term: str
    weight: float  # idf × query_weight × hit_weight: its part of the keyword score
    idf: float
    documents: int  # documents of the collection holding the term
    query_weight: float
    hit_weight: float
    query_words: list[str] = field(default_factory=list)  # as the query's text spells it
    hit_words: list[str] = field(default_factory=list)  # as the hit's text spells it

    @property
    def word(self) -> str:
        """The term as the hit's text spells it (its first spelling), for people."""
        return (self.hit_words or self.query_words or [self.term])[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "word": self.word,
            "weight": round(self.weight, 6),
            "idf": round(self.idf, 6),
            "documents": self.documents,
            "query_weight": round(self.query_weight, 6),
            "hit_weight": round(self.hit_weight, 6),
            "query_words": self.query_words,
            "hit_words": self.hit_words,
        }


@dataclass
class Explanation:
    """The terms a hit shares with its query, and where they are in both texts."""

    key: str
    row: int | None
    terms: list[SharedTerm]
    query_spans: dict[str, list[TermSpan]]  # text field -> spans of shared terms
    hit_spans: dict[str, list[TermSpan]]
    query_key: str | None = None  # None for a text query

    @property
    def score(self) -> float:
        return sum(t.weight for t in self.terms)

    def words(self, top: int = SHOWN) -> list[str]:
        return [t.word for t in self.terms[:top]]

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        def spans(by_field: dict[str, list[TermSpan]]) -> dict[str, list[list[Any]]]:
            return {f: [[s.start, s.end, s.term] for s in v] for f, v in by_field.items()}

        return {
            "key": self.key,
            "row": self.row,
            "query_key": self.query_key,
            "score": round(self.score, 6),
            "terms": [t.to_dict() for t in self.terms[:top]],
            "query_spans": spans(self.query_spans),
            "hit_spans": spans(self.hit_spans),
        }


# -- the collection's side ---------------------------------------------------------------------


class Explainer:
    """A collection's analyzer, text fields and document frequencies (counted once each)."""

    def __init__(self, opened: OpenCollection) -> None:
        from ..ingest.keyword import terms_field

        spec = opened.manifest.keyword
        if spec is None:
            raise UserInputError(
                f"collection '{opened.name}' has no analyzed terms yet (it was built before "
                "keyword search), so shared terms cannot be weighed",
                "run the same 'ingest load' again to add them (no text is embedded again)",
            )
        self.opened = opened
        # The shared analyzer of that language: its word cache outlives this query.
        self.analyzer = analyzer_for(Analyzer.from_info(spec.analyzer).language)
        self.fields = list(spec.fields)
        self._terms_fields = [terms_field(f) for f in self.fields]
        self.total = opened.coll.count()
        self._df: dict[str, int] = {}

    def documents(self, term: str) -> int:
        """How many documents hold ``term`` in any of their analyzed text fields."""
        found = self._df.get(term)
        if found is None:
            flt = Filter(should=tuple(Text(f, term) for f in self._terms_fields))
            found = self._df[term] = self.opened.coll.count(flt)
        return found

    def idf(self, term: str) -> tuple[float, int]:
        """Qdrant's IDF of ``term`` in this collection, and its document frequency."""
        n = self.documents(term)
        return math.log(1 + (self.total - n + 0.5) / (n + 0.5)), n

    def field_spans(self, payload: Mapping[str, Any]) -> dict[str, list[TermSpan]]:
        """The analyzed terms of a stored document's text fields, with their spans."""
        return {
            f: self.analyzer.spans(payload[f])
            for f in self.fields
            if isinstance(payload.get(f), str)
        }

    def compare(
        self,
        query_spans: dict[str, list[TermSpan]],
        query_texts: Mapping[str, str],
        query_weights: Mapping[int, float],
        hit: StoredPoint,
        *,
        query_key: str | None,
    ) -> Explanation:
        from ..embed.sparse import term_id

        hit_spans = self.field_spans(hit.payload)
        hit_texts = {f: str(hit.payload[f]) for f in hit_spans}
        hit_weights = _weights(hit.sparse)
        in_query = {s.term for spans in query_spans.values() for s in spans}
        in_hit = {s.term for spans in hit_spans.values() for s in spans}
        terms = []
        for term in sorted(in_query & in_hit):
            tid = term_id(term)
            wq, wh = query_weights.get(tid, 0.0), hit_weights.get(tid, 0.0)
            if wq <= 0 or wh <= 0:
                continue
            idf, df = self.idf(term)
            terms.append(
                SharedTerm(
                    term,
                    idf * wq * wh,
                    idf,
                    df,
                    wq,
                    wh,
                    _spellings(term, query_spans, query_texts),
                    _spellings(term, hit_spans, hit_texts),
                )
            )
        terms.sort(key=lambda t: (-t.weight, t.term))
        shared = {t.term for t in terms}
        row = hit.payload.get("_row")
        return Explanation(
            key=str(hit.payload.get("_key", hit.id)),
            row=row if isinstance(row, int) else None,
            terms=terms,
            query_spans=_only(query_spans, shared),
            hit_spans=_only(hit_spans, shared),
            query_key=query_key,
        )


def _weights(sparse: SparseVector | None) -> dict[int, float]:
    if not sparse:
        return {}
    return dict(zip(sparse.indices, sparse.values))


def _only(by_field: dict[str, list[TermSpan]], terms: set[str]) -> dict[str, list[TermSpan]]:
    return {f: [s for s in spans if s.term in terms] for f, spans in by_field.items()}


def _spellings(
    term: str, by_field: dict[str, list[TermSpan]], texts: Mapping[str, str]
) -> list[str]:
    """How the texts spell ``term``, most frequent first (case folded: one per word)."""
    seen: dict[str, list[Any]] = {}
    for name, spans in by_field.items():
        for s in spans:
            if s.term == term:
                word = texts[name][s.start : s.end]
                entry = seen.setdefault(word.lower(), [0, word])
                entry[0] += 1
    ordered = sorted(seen.values(), key=lambda e: (-e[0], e[1]))
    return [str(e[1]) for e in ordered]


# -- a query's side ----------------------------------------------------------------------------


@dataclass
class QuerySide:
    """What a query contributes: its terms with spans, its texts, its term weights."""

    spans: dict[str, list[TermSpan]]
    texts: dict[str, str]
    weights: dict[int, float]
    key: str | None = None


def document_side(explainer: Explainer, point: StoredPoint) -> QuerySide:
    """A stored document as the query (``search like``): its stored keyword weights."""
    spans = explainer.field_spans(point.payload)
    return QuerySide(
        spans,
        {f: str(point.payload[f]) for f in spans},
        _weights(point.sparse),
        str(point.payload.get("_key", point.id)),
    )


def text_side(explainer: Explainer, query: str) -> QuerySide:
    """A text as the query (``search text``): each distinct term weighs 1."""
    from ..embed.sparse import term_id

    spans = {TEXT_FIELD: explainer.analyzer.spans(query)}
    return QuerySide(spans, {TEXT_FIELD: query}, {term_id(s.term): 1.0 for s in spans[TEXT_FIELD]})


def attach(
    opened: OpenCollection,
    results: Results,
    *,
    query: StoredPoint | None = None,
    text: str | None = None,
) -> list[Explanation]:
    """Explain every hit of ``results`` (sets each ``hit.shared_terms``) against the query
    document ``query`` or the query text ``text``."""
    explainer = Explainer(opened)
    if query is not None:
        side = document_side(explainer, query)
    elif text is not None:
        side = text_side(explainer, text)
    else:
        raise UserInputError("explain needs a query document or a query text")
    stored = _retrieve(opened, [h.key for h in results.hits])
    out = []
    for hit in results.hits:
        point = stored.get(hit.key)
        why = explainer.compare(
            side.spans,
            side.texts,
            side.weights,
            point or StoredPoint(point_id(hit.key), {"_key": hit.key, "_row": hit.row}),
            query_key=side.key,
        )
        hit.shared_terms = why.terms
        out.append(why)
    return out


def _retrieve(opened: OpenCollection, keys: Sequence[str]) -> dict[str, StoredPoint]:
    """The stored points (payload and vectors) of ``keys``, by key."""
    if not keys:
        return {}
    found = opened.coll.retrieve([point_id(k) for k in keys], with_vectors=True)
    return {str(p.payload.get("_key", p.id)): p for p in found}


def shared_terms(
    hit: int | str,
    query: int | str | None = None,
    *,
    text: str | None = None,
    key: bool = False,
    collection: str | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
) -> Explanation:
    """The terms document ``hit`` shares with document ``query`` (a row number or a key,
    as ``like`` takes it; ``key=True`` reads both as keys) or with the text ``text``."""
    from .landscape import opened_collection

    if (query is None) == (text is None):
        raise UserInputError("shared terms need either a query document or a query text")
    if text is not None and not text.strip():
        raise UserInputError("the query text is empty")
    with opened_collection(collection, settings, store) as (opened, _):
        explainer = Explainer(opened)
        found = find_point(opened, hit, key_only=key)
        if query is not None:
            side = document_side(explainer, find_point(opened, query, key_only=key))
        else:
            side = text_side(explainer, str(text))
        return explainer.compare(side.spans, side.texts, side.weights, found, query_key=side.key)
