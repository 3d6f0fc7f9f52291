"""One hit per family (``QueryOptions.collapse``): the best-ranked publication of each
invention, with the family's size and its other members.

``collapse`` names how publications make a family:

- a payload field (``--collapse priority_numbers``, ``--collapse _dup_group``): documents
  sharing a value of it are one family (a list field: sharing any element, as publications
  claiming one priority do); a document without the field is a family of its own;
- ``family``: the field the collection's file names a family by (an exporter's family or
  priority column, recorded at ingest: ``ingest info`` shows it), else the groups
  ``search dups --mark`` wrote (``_dup_group``), else ``near-dup``;
- ``near-dup``: documents at least as similar to the hit as ``dups.DEFAULT_THRESHOLD``, found
  with the index: the stored keyword vectors (candidates by BM25, compared by the cosine of
  their weights), the model's vectors where the collection has no keyword vectors.

Walking the ranked hits, each hit that belongs to no family kept so far starts a family; the
hits that belong to a kept family are folded into it.  The families come in the order of
their best hits, so the next page (``offset``) continues after the families of this one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..errors import BadFilter, UserInputError, setting
from ..store.backend import ScoredHit, SparseVector
from ..store.filters import Filter, Match
from .collection import OpenCollection
from .dups import DEFAULT_THRESHOLD, keyword_similarity
from .modes import Runner
from .options import QueryOptions
from .where import FieldInfo, resolve_field

FAMILY = "family"
NEAR_DUP = "near-dup"
MEMBERS_LISTED = 100  # a family's other members listed with its hit (its size counts all)
_FIRST_PAGE = 32
_LARGEST_PAGE = 4096
_COLLAPSIBLE = ("keyword", "integer", "bool")  # fields whose values a filter can match
# The vectors near-duplicate families compare, first the collection has: keyword vectors held
# one hit per invention in more collapsed lists of planted families than the offline model's
# (BENCHMARKS.md, "Analyst toolkit").
NEAR_DUP_SOURCES = ("keyword", "dense")


@dataclass(frozen=True)
class FamilyRule:
    """How the hits of one query make families: by ``field``, or as near-duplicates."""

    asked: str
    field: FieldInfo | None = None
    source: str = "dense"  # near-duplicates: the vectors compared
    threshold: float = 0.0

    @property
    def by(self) -> str:
        return self.field.name if self.field is not None else NEAR_DUP

    def describe(self) -> str:
        if self.field is not None:
            return f"one per family: documents sharing a value of '{self.field.name}'"
        vectors = "the model's vectors" if self.source == "dense" else "the keyword vectors"
        return (
            f"one per family: near-duplicates (cosine similarity of {vectors} >= "
            f"{self.threshold:g})"
        )


@dataclass
class FamilyMember:
    key: str
    row: int | None
    file: str | None = None
    score: float | None = None  # near-duplicates: the similarity to the hit

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "row": self.row}
        if self.file is not None:
            out["file"] = self.file
        if self.score is not None:
            out["score"] = round(self.score, 6)
        return out


@dataclass
class Family:
    """A hit's family: how it was found, its size (the hit included) and its other members."""

    by: str
    size: int
    members: list[FamilyMember] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "size": self.size, "members": [m.to_dict() for m in self.members]}


def collapse_rule(opened: OpenCollection, asked: str | None) -> FamilyRule | None:
    """The rule ``QueryOptions.collapse`` names on this collection (None: no collapsing)."""
    if asked is None:
        return None
    if asked == FAMILY:
        name = opened.manifest.family_field
        if name and name in opened.fields:
            return FamilyRule(asked, field=opened.fields[name])
        marks = opened.manifest.duplicates  # the groups search dups --mark wrote, if any
        if marks is not None and marks.field in opened.fields:
            return FamilyRule(asked, field=opened.fields[marks.field])
        return _near_dup(opened, asked)
    if asked == NEAR_DUP:
        return _near_dup(opened, asked)
    try:
        info = resolve_field(asked, opened.fields)
    except BadFilter as exc:
        raise UserInputError(
            f"{setting('collapse')}: {exc.message}",
            f"family, near-dup, or a field: {exc.hint}" if exc.hint else None,
        ) from None
    if info.type not in _COLLAPSIBLE or info.name in ("_key", "_row", "_hash"):
        usable = [
            f for f, i in opened.fields.items() if i.type in _COLLAPSIBLE and not f.startswith("_")
        ]
        raise UserInputError(
            f"{setting('collapse')}: '{info.name}' is a {info.type} field; families are "
            "documents sharing a value of a keyword, integer or boolean field",
            "family, near-dup, or one of: " + (", ".join(usable) or "none here"),
        )
    return FamilyRule(asked, field=info)


def _near_dup(opened: OpenCollection, asked: str) -> FamilyRule:
    has = {"keyword": opened.has_keyword(), "dense": opened.coll.dense_name is not None}
    source = next((s for s in NEAR_DUP_SOURCES if has[s]), "dense")
    return FamilyRule(asked, source=source, threshold=DEFAULT_THRESHOLD[source])


def collapse_hits(
    opened: OpenCollection,
    run: Runner,
    flt: Filter | None,
    options: QueryOptions,
    rule: FamilyRule,
    exclude: str | None,
) -> list[tuple[ScoredHit, Family]]:
    """The page of families ``options`` asks for: each family's best hit and the family."""
    want = options.offset + options.limit
    kept: list[tuple[ScoredHit, Family]] = []
    claimed_ids: set[str] = set()
    claimed_values: set[Any] = set()
    page = max(_FIRST_PAGE, 4 * want)
    start = 0
    while len(kept) < want:
        hits = run(page, start, flt, options.min_score)
        for hit in hits:
            if hit.id == exclude or hit.id in claimed_ids:
                continue
            values = _values(hit.payload, rule)
            if values & claimed_values:
                continue
            if rule.field is not None:
                family = _field_family(opened, rule.field, values, hit)
                claimed_values |= values
            else:
                family, ids = _near_family(opened, rule, hit)
                claimed_ids |= ids
            claimed_ids.add(hit.id)
            kept.append((hit, family))
            if len(kept) >= want:
                break
        if len(hits) < page:
            break
        start += page
        page = min(page * 2, _LARGEST_PAGE)
    return kept[options.offset : want]


def _values(payload: dict[str, Any], rule: FamilyRule) -> set[Any]:
    """The hit's values of the family field (none for near-duplicates or a missing field)."""
    if rule.field is None:
        return set()
    value = payload.get(rule.field.name)
    items = value if isinstance(value, list) else [value]
    return {v for v in items if v is not None and v != ""}


def _member(payload: dict[str, Any], pid: str, score: float | None = None) -> FamilyMember:
    row = payload.get("_row")
    file = payload.get("_file")
    return FamilyMember(
        str(payload.get("_key", pid)),
        row if isinstance(row, int) else None,
        file if isinstance(file, str) else None,
        score,
    )


def _field_family(
    opened: OpenCollection, info: FieldInfo, values: set[Any], hit: ScoredHit
) -> Family:
    """The documents sharing a value of ``info`` with the hit."""
    if not values:
        return Family(info.name, 1)
    flt = Filter(must=(Match(info.name, tuple(sorted(values, key=str))),))
    members: list[FamilyMember] = []
    size = 0
    for p in opened.coll.scroll(flt=flt, with_payload=["_key", "_row", "_file"], batch=256):
        size += 1
        if p.id != hit.id and len(members) < MEMBERS_LISTED:
            members.append(_member(p.payload, p.id))
    members.sort(key=lambda m: (m.file or "", m.row if m.row is not None else -1, m.key))
    return Family(info.name, max(size, 1), members)


def _near_family(
    opened: OpenCollection, rule: FamilyRule, hit: ScoredHit
) -> tuple[Family, set[str]]:
    """The documents at least ``rule.threshold`` similar to the hit, found with the index."""
    coll = opened.coll
    point = next(iter(coll.retrieve([hit.id], with_vectors=True, with_payload=False)), None)
    found: list[tuple[str, float]] = []
    if point is not None and rule.source == "dense" and point.vector is not None:
        found = coll.neighbours(
            [point.vector], limit=MEMBERS_LISTED + 1, score_threshold=rule.threshold
        )[0]
    elif point is not None and point.sparse:
        found = _keyword_near(opened, point.sparse, rule.threshold)
    found = [(pid, s) for pid, s in found if pid != hit.id]
    ids = {pid for pid, _ in found}
    payloads = {p.id: p.payload for p in coll.retrieve(sorted(ids))} if ids else {}
    members = [_member(payloads.get(pid, {}), pid, s) for pid, s in found]
    members.sort(key=lambda m: (-(m.score or 0.0), m.key))
    return Family(NEAR_DUP, len(members) + 1, members), ids


def _keyword_near(
    opened: OpenCollection, vector: SparseVector, threshold: float
) -> list[tuple[str, float]]:
    coll = opened.coll
    candidates = coll.neighbours_sparse([vector], limit=MEMBERS_LISTED + 1)[0]
    stored = {
        p.id: p.sparse
        for p in coll.retrieve(
            [pid for pid, _ in candidates], with_vectors=True, with_payload=False
        )
    }
    out = []
    for pid, _ in candidates:
        other = stored.get(pid)
        if other:
            score = keyword_similarity(vector, other)
            if score >= threshold and math.isfinite(score):
                out.append((pid, score))
    return out
