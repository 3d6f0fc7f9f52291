"""Class suggestion: the IPC/CPC classes a text or a document's nearest documents carry.

The Python API (``search suggest`` and ``search eval --suggest`` call the same functions)::

    from patentsim.search import Session
    from patentsim.search.suggest import SuggestOptions, suggest

    with Session(collection="patents") as session:
        found = suggest(session, SuggestOptions(label="ipc"), text="배터리 냉각 장치")
        found = suggest(session, SuggestOptions(label="cpc", level="group"), ref=12)
    for c in found.classes:              # best first
        c.rank, c.code, c.score, c.documents, c.keys

How: the ``k`` nearest documents that carry a code in ``label`` (a ``search like`` of the
document, itself left out, or a ``search text`` of the text, in the collection's default
mode or ``mode``) vote for their codes at ``level`` (``subclass`` ``H01M``, ``group``
``H01M 10``, ``full``), each with the weight of its similarity to the query.  A class's
score is the share of the voters' weight that carries it (0 to 1: 1 when every voter
carries it); a document with several codes votes for each.  The query document's own
codes never vote.

``evaluate_suggestions`` measures it on held-out documents: each sampled document's
suggestions against its own codes (precision@1: the first class is one of them; recall@5:
the share of them among the first five).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..embed.retrieval import MODES
from ..errors import UserInputError, setting
from ..store.filters import Empty, Filter
from .eval import LEVELS, label_codes, label_field
from .options import QueryOptions
from .results import Document, Hit, Results

if TYPE_CHECKING:
    from .session import Session

# Voters: k = 5, 10 and 20 measured on held-out documents (BENCHMARKS.md, "Analyst toolkit");
# 10 had the best recall@5 of the nvidia set, its precision@1 within 0.01 of the best.
DEFAULT_K = 10
WEIGHT_POWER = 1.0  # a voter's weight: its score (cosine, BM25 or fused) to this power
DEFAULT_LIMIT = 10  # classes listed
EVAL_SAMPLE = 500
ProgressFn = Callable[[str], None]


@dataclass(frozen=True)
class SuggestOptions:
    """What ``search suggest`` asks, in the words of its options: the ``label`` field, the
    code ``level``, ``k`` voters, the ``mode`` that finds them (None: the collection's
    default), ``where`` conditions the voters must meet, and ``limit`` classes listed."""

    label: str
    level: str = "subclass"
    k: int = DEFAULT_K
    mode: str | None = None
    where: tuple[str, ...] = ()
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if isinstance(self.where, str):
            object.__setattr__(self, "where", (self.where,))
        elif not isinstance(self.where, tuple):
            object.__setattr__(self, "where", tuple(self.where))

    def validate(self) -> SuggestOptions:
        if not isinstance(self.label, str) or not self.label.strip():
            raise UserInputError(f"{setting('label')} must name the field of the classes")
        if self.level not in LEVELS:
            raise UserInputError(
                f"{setting('level')} must be one of {', '.join(LEVELS)}, not {self.level!r}"
            )
        for name in ("k", "limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                shown = "-k" if name == "k" else setting(name)
                raise UserInputError(f"{shown} must be at least 1, not {value}")
        if self.mode is not None and self.mode not in MODES:
            raise UserInputError(
                f"{setting('mode')} must be one of {', '.join(MODES)}, not {self.mode!r}"
            )
        return self

    def replace(self, **changes: Any) -> SuggestOptions:
        return replace(self, **changes)


@dataclass
class ClassScore:
    """One suggested class: its share of the voters' weight and who voted for it."""

    rank: int
    code: str
    score: float
    documents: int  # voters carrying it
    keys: list[str] = field(default_factory=list)  # their keys, most similar first

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "code": self.code,
            "score": round(self.score, 6),
            "documents": self.documents,
            "keys": self.keys,
        }


@dataclass
class Suggestions:
    collection: str
    label: str
    level: str
    k: int
    mode: str  # the mode that found the voters
    classes: list[ClassScore]
    voters: list[Hit] = field(default_factory=list)
    query: Document | None = None  # the document asked about (None: a text)

    def describe(self) -> str:
        about = (
            f"document {self.query.key}" + (f" ({self.query.title})" if self.query.title else "")
            if self.query
            else "the text"
        )
        return (
            f"{self.label} classes ({self.level}) of the {len(self.voters)} nearest "
            f"documents to {about}, {self.mode} mode, weighted by similarity"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "label": self.label,
            "level": self.level,
            "k": self.k,
            "mode": self.mode,
            "query": self.query.to_dict() if self.query else None,
            "classes": [c.to_dict() for c in self.classes],
            "voters": [h.to_dict() for h in self.voters],
        }


def suggest(
    session: Session,
    options: SuggestOptions,
    *,
    text: str | None = None,
    ref: int | str | None = None,
    key: bool = False,
    file: str | None = None,
) -> Suggestions:
    """The classes the ``k`` nearest documents to ``text`` or to document ``ref`` carry (see
    the module); ``key`` and ``file`` read ``ref`` as ``search like`` does."""
    options = options.validate()
    if (text is None) == (ref is None):
        raise UserInputError(
            "suggest needs a text or a document (ref), one of them",
            'e.g. search suggest --label ipc "battery cooling plate", or --ref 12',
        )
    opened = session.open()
    label = label_field(opened, options.label)
    query = _voter_query(label, options)
    if ref is not None:
        results = session.like(ref, query, key=key, file=file)
    else:
        assert text is not None
        results = session.text(text, query)
    return _suggestions(results, label, options)


def _voter_query(label: str, options: SuggestOptions) -> QueryOptions:
    """The ``k`` nearest documents that carry a code in ``label``."""
    return QueryOptions(
        limit=options.k,
        where=options.where,
        filter_json=Filter(must_not=(Empty(label),)),
        mode=options.mode,
    )


def _suggestions(results: Results, label: str, options: SuggestOptions) -> Suggestions:
    classes = vote(results.hits, label, options.level)[: options.limit]
    return Suggestions(
        results.collection,
        label,
        options.level,
        options.k,
        results.mode,
        classes,
        voters=list(results.hits),
        query=results.query,
    )


def vote(
    hits: Sequence[Hit], label: str, level: str, *, power: float = WEIGHT_POWER
) -> list[ClassScore]:
    """Each code at ``level`` of the hits' ``label``, scored by the share of the hits' weight
    (score to ``power``, never below 0) that carries it; best first, ties by code."""
    weights = [max(float(h.score), 0.0) ** power for h in hits]
    total = sum(weights)
    if total <= 0:  # every score 0 (or none): each voter counts the same
        weights = [1.0] * len(hits)
        total = float(len(hits))
    tally: dict[str, float] = {}
    voters: dict[str, list[str]] = {}
    for hit, w in zip(hits, weights):
        for code in sorted(label_codes(hit.payload.get(label), level)):
            tally[code] = tally.get(code, 0.0) + w
            voters.setdefault(code, []).append(hit.key)
    ranked = sorted(tally, key=lambda c: (-tally[c], c))
    return [
        ClassScore(
            i + 1, code, tally[code] / total if total else 0.0, len(voters[code]), voters[code]
        )
        for i, code in enumerate(ranked)
    ]


# -- measuring it ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestEvalOptions:
    """``search eval --suggest``: the ``label`` and ``level``, a seeded ``sample`` of held-out
    documents, ``k`` voters, and the ``modes`` measured (empty: each the collection can
    answer)."""

    label: str
    level: str = "subclass"
    sample: int = EVAL_SAMPLE
    k: int = DEFAULT_K
    seed: int = 0
    modes: tuple[str, ...] = ()

    def validate(self) -> SuggestEvalOptions:
        SuggestOptions(self.label, self.level, self.k).validate()
        if isinstance(self.sample, bool) or not isinstance(self.sample, int) or self.sample < 1:
            raise UserInputError(f"{setting('sample')} must be at least 1, not {self.sample}")
        for mode in self.modes:
            if mode not in MODES:
                raise UserInputError(
                    f"{setting('mode')} must be one of {', '.join(MODES)} or all, not {mode!r}"
                )
        return self


@dataclass
class SuggestEvalRow:
    mode: str
    level: str
    k: int
    queries: int
    precision_at_1: float
    recall_at_5: float
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "level": self.level,
            "k": self.k,
            "queries": self.queries,
            "precision_at_1": self.precision_at_1,
            "recall_at_5": self.recall_at_5,
            "seconds": round(self.seconds, 2),
        }


@dataclass
class SuggestEvalReport:
    collection: str
    label: str
    level: str
    sample: int
    seed: int
    rows: list[SuggestEvalRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "label": self.label,
            "level": self.level,
            "sample": self.sample,
            "seed": self.seed,
            "rows": [r.to_dict() for r in self.rows],
        }


def evaluate_suggestions(
    session: Session,
    options: SuggestEvalOptions,
    *,
    progress: ProgressFn | None = None,
    power: float = WEIGHT_POWER,
) -> SuggestEvalReport:
    """Precision@1 and recall@5 of the suggestions for a seeded sample of held-out documents
    (each left out of its own voters), per mode."""
    options = options.validate()
    opened = session.open()
    label = label_field(opened, options.label)
    held = held_out(session, label, options)
    report = SuggestEvalReport(opened.name, label, options.level, len(held), options.seed)
    for mode in options.modes or _answerable(session):
        if progress:
            progress(f"eval --suggest: {mode} on {len(held)} documents")
        report.rows.append(measure(session, label, held, options, mode, power=power))
    return report


def _answerable(session: Session) -> tuple[str, ...]:
    opened = session.open()
    if opened.coll.dense_name is None:
        return ("keyword",)
    return MODES if opened.has_keyword() else ("dense",)


def held_out(
    session: Session, label: str, options: SuggestEvalOptions
) -> list[tuple[str, frozenset[str]]]:
    """A seeded sample of the documents that carry a code: their keys and true classes."""
    opened = session.open()
    docs = []
    for p in opened.coll.scroll(with_payload=["_key", label], batch=1024):
        codes = label_codes(p.payload.get(label), options.level)
        if codes:
            docs.append((p.id, str(p.payload.get("_key", p.id)), codes))
    if len(docs) < 2:
        raise UserInputError(
            f"collection '{opened.name}': fewer than 2 documents carry a '{label}' code",
            f"choose a field of classes, e.g. {setting('label')} ipc",
        )
    docs.sort()  # the sample depends on the seed only, not on storage order
    picked = random.Random(options.seed).sample(docs, min(options.sample, len(docs)))
    return [(k, codes) for _, k, codes in picked]


def measure(
    session: Session,
    label: str,
    held: Sequence[tuple[str, frozenset[str]]],
    options: SuggestEvalOptions,
    mode: str,
    *,
    power: float = WEIGHT_POWER,
    below: float | None = None,
) -> SuggestEvalRow:
    """Precision@1 and recall@5 over the documents ``held`` (keys and true classes) in
    ``mode``; ``below``: voters scoring this much or more (a held-out document's own
    near-copies) are left out, and the next ones vote instead."""
    started = time.perf_counter()
    query = _voter_query(label, SuggestOptions(label, options.level, options.k, mode))
    if below is not None:
        query = query.replace(limit=options.k * 4)
    p1 = r5 = 0.0
    for key, truth in held:
        hits = session.like(key, query, key=True).hits
        if below is not None:
            hits = [h for h in hits if h.score < below][: options.k]
        ranked = [c.code for c in vote(hits, label, options.level, power=power)]
        p1 += 1.0 if ranked[:1] and ranked[0] in truth else 0.0
        r5 += len(truth.intersection(ranked[:5])) / len(truth)
    n = len(held)
    return SuggestEvalRow(
        mode,
        options.level,
        options.k,
        n,
        round(p1 / n, 4),
        round(r5 / n, 4),
        time.perf_counter() - started,
    )
