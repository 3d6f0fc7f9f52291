"""Near-duplicate documents of a collection: groups of documents above a similarity threshold.

The Python API (``search dups`` calls the same function)::

    from patentsim.search import Session
    from patentsim.search.dups import DupOptions, find_duplicates

    with Session(collection="patents") as session:
        found = find_duplicates(session, DupOptions(threshold=0.95, mark=True))
    for group in found.groups:          # largest first
        group.group, group.size         # the group's name: its first document's key
        for m in group.members:         # in file and row order
            m.key, m.row, m.title, m.score   # score: its closest link inside the group

How: every document asks the store for its nearest neighbours (the collection's own
index; a batch of searches at a time, no payloads), keeps those at or above the
threshold, and the links join documents into groups (union-find: a chain of close
pairs is one group).  No pair is compared outside the index's answers, so the work
grows with the documents, not with their pairs.  ``source`` "dense" compares the
stored model vectors (cosine similarity); "keyword" the stored keyword vectors, the
candidates found by BM25 and compared by the cosine of their stored weights (BM25's
term-frequency part; a keyword-only collection has only these vectors).

``mark=True`` writes each grouped document's group name into the payload field
``_dup_group`` (``DUP_FIELD``; nothing is embedded again) and removes it from the
documents looked at that are in no group now, so that ``--where "_dup_group exists"``
and ``--collapse _dup_group`` use the groups.  The manifest records the field and how the
groups were found.  Before the first mark is written the store checks that its disk has
room for them all (``store/space.py``: the engine rewrites each marked document's
payload), so a full disk refuses the marking and leaves the collection as it was.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import UserInputError, setting
from ..store import space
from ..store.backend import SparseVector
from ..store.filters import Filter
from ..store.manifest import DuplicateMarks, FieldSpec, now
from ..store.payload import DUP_FIELD
from .collection import OpenCollection
from .options import QueryOptions
from .query_filter import build_filter

if TYPE_CHECKING:
    import numpy as np

    from .session import Session

SOURCES = ("dense", "keyword")
# The thresholds at which near-duplicates are told from related documents, per source: the
# lowest with a precision of 0.95 on the tuning half of the families fixture, offline model
# (bench/toolkit.py; BENCHMARKS.md, "Analyst toolkit").
DEFAULT_THRESHOLD = {"dense": 0.9, "keyword": 0.8}
DEFAULT_NEIGHBOURS = 10  # asked per document; a document whose answer is full asks again
MAX_NEIGHBOURS = 1_024
BATCH = 256  # documents whose searches go to the store at once
ProgressFn = Callable[[str], None]
PROGRESS_SECONDS = 2.0


@dataclass(frozen=True)
class DupOptions:
    """How ``search dups`` looks: in the words of its options.

    - ``threshold``: the similarity at which two documents are near-duplicates (None: the
      measured default of the source, ``DEFAULT_THRESHOLD``);
    - ``source``: ``dense`` (the model's vectors) or ``keyword`` (the keyword vectors);
      None: dense where the collection has dense vectors;
    - ``neighbours``: how many nearest documents each document asks for first;
    - ``where``, ``filter_json``: look only at the documents these select;
    - ``mark``: write the groups into the payload field ``_dup_group``.
    """

    threshold: float | None = None
    source: str | None = None
    neighbours: int = DEFAULT_NEIGHBOURS
    where: tuple[str, ...] = ()
    filter_json: str | dict[str, Any] | Filter | None = None
    mark: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.where, str):
            object.__setattr__(self, "where", (self.where,))
        elif not isinstance(self.where, tuple):
            object.__setattr__(self, "where", tuple(self.where))

    def validate(self) -> DupOptions:
        if self.source is not None and self.source not in SOURCES:
            raise UserInputError(
                f"{setting('source')} must be one of {', '.join(SOURCES)}, not {self.source!r}"
            )
        t = self.threshold
        if t is not None and (
            isinstance(t, bool)
            or not isinstance(t, (int, float))
            or not math.isfinite(t)
            or not 0 < t <= 1
        ):
            raise UserInputError(
                f"{setting('threshold')} is a similarity above 0 and at most 1, not {t}"
            )
        if isinstance(self.neighbours, bool) or not isinstance(self.neighbours, int):
            raise UserInputError(f"{setting('neighbours')} must be a whole number")
        if not 1 <= self.neighbours <= MAX_NEIGHBOURS:
            raise UserInputError(
                f"{setting('neighbours')} must be from 1 to {MAX_NEIGHBOURS}, not {self.neighbours}"
            )
        return self

    def replace(self, **changes: Any) -> DupOptions:
        return replace(self, **changes)


@dataclass
class DupMember:
    """A document of a group; ``score``: its highest similarity to another member."""

    id: str
    key: str
    row: int | None
    file: str | None
    title: str | None
    score: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "row": self.row}
        if self.file is not None:
            out["file"] = self.file
        out.update(title=self.title, score=round(self.score, 6))
        return out


@dataclass
class DupGroup:
    """Near-duplicate documents; ``group``: its name, the first member's key."""

    group: str
    members: list[DupMember]

    @property
    def size(self) -> int:
        return len(self.members)

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "size": self.size,
            "members": [m.to_dict() for m in self.members],
        }


@dataclass
class Duplicates:
    """What ``find_duplicates`` found."""

    collection: str
    source: str  # "dense" or "keyword"
    threshold: float
    neighbours: int
    documents: int  # the documents looked at
    groups: list[DupGroup] = field(default_factory=list)
    seconds: float = 0.0
    searches: int = 0  # neighbour searches asked of the store
    marked: int | None = None  # with mark: the documents that now carry the field
    unmarked: int = 0  # with mark: documents whose earlier mark was removed
    field: str = DUP_FIELD
    filtered: bool = False

    @property
    def grouped(self) -> int:
        """Documents in some group."""
        return sum(g.size for g in self.groups)

    def group_of(self) -> dict[str, str]:
        """Each grouped document's point id → its group's name."""
        return {m.id: g.group for g in self.groups for m in g.members}

    def describe(self) -> str:
        how = (
            "cosine similarity of the model's vectors"
            if self.source == "dense"
            else "cosine similarity of the keyword vectors"
        )
        return (
            f"{len(self.groups):,} groups of near-duplicates ({self.grouped:,} of "
            f"{self.documents:,} documents) at {how} >= {self.threshold:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "source": self.source,
            "threshold": self.threshold,
            "neighbours": self.neighbours,
            "documents": self.documents,
            "grouped": self.grouped,
            "seconds": round(self.seconds, 3),
            "marked": self.marked,
            "field": self.field,
            "groups": [g.to_dict() for g in self.groups],
        }


def find_duplicates(
    session: Session, options: DupOptions | None = None, *, progress: ProgressFn | None = None
) -> Duplicates:
    """Groups of near-duplicate documents in the session's collection (see the module)."""
    options = (options or DupOptions()).validate()
    opened = session.open()
    source = choose_source(opened, options.source)
    threshold = float(options.threshold or DEFAULT_THRESHOLD[source])
    flt = build_filter(opened, QueryOptions(where=options.where, filter_json=options.filter_json))
    if options.mark:
        check_markable(opened)
    started = time.perf_counter()
    docs = _scan(opened, flt, source, mark=options.mark)
    tell = _Progress(progress, len(docs.ids))
    if source == "dense":
        links, searches = _dense_links(opened, docs, threshold, options.neighbours, flt, tell)
    else:
        links, searches = _keyword_links(opened, docs, threshold, options.neighbours, flt, tell)
    groups = _groups(docs, links)
    found = Duplicates(
        opened.name,
        source,
        threshold,
        options.neighbours,
        len(docs.ids),
        groups,
        searches=searches,
        filtered=flt is not None,
    )
    if options.mark:
        _mark(opened, found, docs)
    found.seconds = time.perf_counter() - started
    return found


def choose_source(opened: OpenCollection, source: str | None) -> str:
    """The vectors to compare: those asked for, or dense where the collection has them."""
    has_dense = opened.coll.dense_name is not None
    if source is None:
        return "dense" if has_dense else "keyword"
    if source == "dense" and not has_dense:
        raise UserInputError(
            f"collection '{opened.name}' has no dense vectors (it was loaded keyword-only)",
            f"use {setting('source')} keyword",
        )
    if source == "keyword" and not opened.has_keyword():
        raise UserInputError(
            f"collection '{opened.name}' has no keyword vectors",
            f"use {setting('source')} dense, or run the same 'ingest load' again to add them",
        )
    return source


def check_markable(opened: OpenCollection) -> None:
    """``_dup_group`` must not be a field that the collection's files brought."""
    spec = opened.manifest.fields.get(DUP_FIELD)
    marks = opened.manifest.duplicates
    if spec is not None and (marks is None or marks.field != DUP_FIELD):
        raise UserInputError(
            f"collection '{opened.name}' has a field '{DUP_FIELD}' of its own: marking the "
            "groups would overwrite it",
            f"leave out {setting('mark')}, or rename that column and load the file again",
        )


# -- the documents ---------------------------------------------------------------------------


@dataclass
class _Docs:
    ids: list[str]
    payloads: list[dict[str, Any]]
    dense: np.ndarray | None = None  # (n, d) float32
    sparse: list[SparseVector] = field(default_factory=list)
    title_field: str | None = None
    sizes: dict[str, int] = field(default_factory=dict)  # with mark: id -> payload bytes


def _scan(opened: OpenCollection, flt: Filter | None, source: str, mark: bool = False) -> _Docs:
    """The documents looked at (in id order), the fields a group shows, and their vectors;
    with ``mark`` the size of each one's whole payload too (what marking rewrites)."""
    import numpy as np

    title = opened.title_field
    wanted = ["_key", "_row", "_file", DUP_FIELD, *([title] if title else [])]
    ids: list[str] = []
    payloads: list[dict[str, Any]] = []
    dense: list[np.ndarray] = []
    sparse: list[SparseVector] = []
    sizes: dict[str, int] = {}
    asked: list[str] | bool = True if mark else wanted
    for p in opened.coll.scroll(flt=flt, with_vectors=True, with_payload=asked, batch=1024):
        payload = p.payload
        if mark:
            sizes[p.id] = _json_bytes(payload)
            payload = {k: payload[k] for k in wanted if k in payload}
        if source == "dense":
            if p.vector is None:
                continue
            dense.append(np.asarray(p.vector, dtype=np.float32))
        else:
            if not p.sparse:
                continue
            sparse.append(p.sparse)
        ids.append(p.id)
        payloads.append(payload)
    order = sorted(range(len(ids)), key=ids.__getitem__)
    docs = _Docs(
        [ids[i] for i in order], [payloads[i] for i in order], title_field=title, sizes=sizes
    )
    if source == "dense":
        # Stacked in id order at once: one copy of the vectors beside the scanned rows.
        docs.dense = (
            np.stack([dense[i] for i in order]) if dense else np.zeros((0, 0), dtype=np.float32)
        )
    else:
        docs.sparse = [sparse[i] for i in order]
    return docs


# -- links -----------------------------------------------------------------------------------


class _Progress:
    """Says how far the search is, at most every PROGRESS_SECONDS."""

    def __init__(self, fn: ProgressFn | None, total: int) -> None:
        self.fn = fn
        self.total = total
        self.started = time.perf_counter()
        self.last = self.started

    def __call__(self, done: int, links: int) -> None:
        if self.fn is None:
            return
        now_ = time.perf_counter()
        if now_ - self.last < PROGRESS_SECONDS and done < self.total:
            return
        self.last = now_
        rate = done / max(now_ - self.started, 1e-9)
        left = (self.total - done) / rate if rate else 0.0
        self.fn(
            f"dups: {done:,} of {self.total:,} documents searched ({rate:,.0f}/s, "
            f"{left:,.0f} s left), {links:,} close pairs"
        )


Link = tuple[int, int, float]


def _dense_links(
    opened: OpenCollection,
    docs: _Docs,
    threshold: float,
    k: int,
    flt: Filter | None,
    tell: _Progress,
) -> tuple[list[Link], int]:
    """Each document's neighbours at or above ``threshold`` by the store's dense search."""
    assert docs.dense is not None
    index = {pid: i for i, pid in enumerate(docs.ids)}
    links: list[Link] = []
    searches = 0
    matrix = docs.dense
    for lo in range(0, len(docs.ids), BATCH):
        hi = min(lo + BATCH, len(docs.ids))
        todo = list(range(lo, hi))
        limit = k + 1  # the document itself is among its neighbours
        while todo:
            answers = opened.coll.neighbours(
                [matrix[i].tolist() for i in todo], limit=limit, score_threshold=threshold, flt=flt
            )
            searches += len(todo)
            full = []
            for i, found in zip(todo, answers):
                _add_links(links, index, i, found, threshold)
                if len(found) >= limit and limit < MAX_NEIGHBOURS + 1:
                    full.append(i)
            todo, limit = full, min(limit * 4, MAX_NEIGHBOURS + 1)
        tell(hi, len(links))
    return links, searches


def _add_links(
    links: list[Link],
    index: dict[str, int],
    i: int,
    found: Iterable[tuple[str, float]],
    threshold: float,
) -> None:
    for pid, score in found:
        j = index.get(pid)
        if j is not None and j != i and score >= threshold:
            links.append((min(i, j), max(i, j), float(score)))


def _keyword_links(
    opened: OpenCollection,
    docs: _Docs,
    threshold: float,
    k: int,
    flt: Filter | None,
    tell: _Progress,
) -> tuple[list[Link], int]:
    """Candidates by BM25 (the store's keyword search), linked where the cosine of their
    stored weights reaches ``threshold``."""
    weights = [_unit(v) for v in docs.sparse]
    index = {pid: i for i, pid in enumerate(docs.ids)}
    links: list[Link] = []
    searches = 0
    for lo in range(0, len(docs.ids), BATCH):
        hi = min(lo + BATCH, len(docs.ids))
        todo = list(range(lo, hi))
        limit = k + 1
        while todo:
            answers = opened.coll.neighbours_sparse(
                [docs.sparse[i] for i in todo], limit=limit, flt=flt
            )
            searches += len(todo)
            full = []
            for i, found in zip(todo, answers):
                close = 0
                for pid, _ in found:
                    j = index.get(pid)
                    if j is None or j == i:
                        continue
                    score = _cosine(weights[i], weights[j])
                    if score >= threshold:
                        close += 1
                        links.append((min(i, j), max(i, j), score))
                # Only a document whose every candidate was close may have more beyond them.
                if len(found) >= limit and close >= limit - 1 and limit < MAX_NEIGHBOURS + 1:
                    full.append(i)
            todo, limit = full, min(limit * 4, MAX_NEIGHBOURS + 1)
        tell(hi, len(links))
    return links, searches


def keyword_similarity(a: SparseVector, b: SparseVector) -> float:
    """The cosine of two keyword vectors' stored weights (BM25's term-frequency part)."""
    return _cosine(_unit(a), _unit(b))


def _unit(v: SparseVector) -> dict[int, float]:
    norm = math.sqrt(sum(x * x for x in v.values)) or 1.0
    return {t: x / norm for t, x in zip(v.indices, v.values)}


def _cosine(a: dict[int, float], b: dict[int, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(x * b.get(t, 0.0) for t, x in a.items())


# -- groups ----------------------------------------------------------------------------------


def _groups(docs: _Docs, links: Sequence[Link]) -> list[DupGroup]:
    """The linked documents' connected groups, largest first."""
    parent = list(range(len(docs.ids)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    best: dict[int, float] = {}
    for i, j, score in links:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
        best[i] = max(best.get(i, -1.0), score)
        best[j] = max(best.get(j, -1.0), score)
    members: dict[int, list[int]] = {}
    for i in best:
        members.setdefault(root(i), []).append(i)
    groups = []
    for found in members.values():
        people = [_member(docs, i, best[i]) for i in found]
        people.sort(key=_order)
        groups.append(DupGroup(people[0].key, people))
    groups.sort(key=lambda g: (-g.size, _order(g.members[0])))
    return groups


def _order(m: DupMember) -> tuple[str, int, str]:
    return (m.file or "", m.row if m.row is not None else -1, m.key)


def _member(docs: _Docs, i: int, score: float) -> DupMember:
    payload = docs.payloads[i]
    row = payload.get("_row")
    title = payload.get(docs.title_field) if docs.title_field else None
    file = payload.get("_file")
    return DupMember(
        docs.ids[i],
        str(payload.get("_key", docs.ids[i])),
        row if isinstance(row, int) else None,
        str(file) if isinstance(file, str) else None,
        title if isinstance(title, str) else None,
        score,
    )


# -- marking ---------------------------------------------------------------------------------


def _mark(opened: OpenCollection, found: Duplicates, docs: _Docs) -> None:
    """Each grouped document's group name in ``_dup_group``; earlier marks of the documents
    looked at and no longer grouped removed; the field indexed and in the manifest."""
    coll = opened.coll
    group_of = found.group_of()
    stale = [
        pid
        for pid, payload in zip(docs.ids, docs.payloads)
        if DUP_FIELD in payload and group_of.get(pid) != payload.get(DUP_FIELD)
    ]
    mark_bytes = max((_json_bytes({DUP_FIELD: g.group}) for g in found.groups), default=0)
    written = [*group_of, *(pid for pid in stale if pid not in group_of)]
    coll.room_for_update(
        space.update_bytes((docs.sizes.get(pid, 0) for pid in written), mark_bytes),
        (DUP_FIELD, "keyword"),
        f"marking {len(written):,} documents in '{DUP_FIELD}'",
    )
    for lo in range(0, len(stale), 1024):
        coll.delete_payload(stale[lo : lo + 1024], [DUP_FIELD])
    for g in found.groups:
        coll.set_payload([m.id for m in g.members], {DUP_FIELD: g.group})
    coll.ensure_index(DUP_FIELD, "keyword")
    manifest = coll.read_manifest()
    manifest.fields = {
        **manifest.fields,
        DUP_FIELD: FieldSpec("keyword", "keyword", list=False, mixed=False, index="keyword"),
    }
    manifest.duplicates = DuplicateMarks(
        field=DUP_FIELD,
        source=found.source,
        threshold=found.threshold,
        groups=len(found.groups),
        documents=found.documents,
        filtered=found.filtered,
        marked_at=now(),
    )
    coll.write_manifest(manifest)
    found.marked = found.grouped
    found.unmarked = sum(1 for pid in stale if pid not in group_of)


def _json_bytes(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload, ensure_ascii=False).encode())
