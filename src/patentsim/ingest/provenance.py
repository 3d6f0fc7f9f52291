"""Which file each stored document came from, so that ``--prune`` of one file never deletes
another file's documents.

Every document records its file in two reserved payload fields:

- ``_file``: the file's name (``part_a.xlsx``), what ``--where _file=...`` and ``search
  facets _file`` show;
- ``_path``: the file's resolved path, which tells ``v1/part_a.xlsx`` from
  ``other/part_a.xlsx`` and stays the same from any working directory.

A key held by several files loaded separately is one document (its point id is the key's):
the last load stores its version, and ``_also`` lists the paths of the other files that
hold the key too.  Pruning a file then deletes only documents no other file holds.

Documents stored before ``_path`` existed hold only a name in ``_file`` (or, older still,
no ``_file``: they came from the manifest's ``source``).  Such a document belongs to a path
only where the manifest says so without doubt: the name's recorded file is that path, and
no more documents carry the name than that file had rows.  Otherwise pruning keeps it and
says so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store.manifest import SourceEntry

PATH = "_path"
ALSO = "_also"
FILE = "_file"


def source_path(path: str | Path) -> str:
    """A file's identity as a source: its resolved, absolute path."""
    return str(Path(path).resolve())


def is_bare_name(key: str) -> bool:
    """A ``sources`` key of a manifest written before paths were recorded: a file name."""
    return "/" not in key and "\\" not in key


@dataclass
class Legacy:
    """What the manifest says about documents stored before ``_path``: per file name (None
    for documents without ``_file``), the path recorded for it and that file's rows."""

    owners: dict[str | None, str] = field(default_factory=dict)
    rows: dict[str | None, int] = field(default_factory=dict)
    # Names whose documents outnumber the rows of the one file recorded: several files
    # of that name were loaded, and which document came from which is not known.
    ambiguous: set[str | None] = field(default_factory=set)

    @classmethod
    def from_manifest(
        cls, sources: Mapping[str, SourceEntry], source: SourceEntry | None
    ) -> Legacy:
        legacy = cls()
        if source is not None and source.file:
            legacy.owners[None] = source.file
            if source.rows is not None:
                legacy.rows[None] = source.rows
        for key, entry in sources.items():
            if is_bare_name(key) and entry.file:
                legacy.owners[key] = entry.file
                if entry.rows is not None:
                    legacy.rows[key] = entry.rows
        return legacy

    def note_count(self, name: str | None, stored: int) -> None:
        """``stored`` documents carry the name ``name`` and no path."""
        rows = self.rows.get(name)
        if rows is not None and stored > rows:
            self.ambiguous.add(name)

    def owns(self, name: str | None, path: str) -> bool:
        """Whether a document of ``name`` without a path surely came from ``path``."""
        return self.owners.get(name) == path and name not in self.ambiguous


@dataclass
class Claim:
    """What loading one record did to the stored document of its key."""

    status: str  # new, same, upgraded (a stored name became a path), shared
    other: str | None = None  # shared: the file whose version this load replaces


def claim(
    payload: dict[str, Any], stored: Mapping[str, Any] | None, path: str, legacy: Legacy
) -> Claim:
    """Record ``path`` in ``payload`` (a record about to be stored) and carry over what the
    stored document of the same key says about other files holding it."""
    payload[PATH] = path
    if stored is None:
        return Claim("new")
    old_path = stored.get(PATH)
    also = [str(p) for p in stored.get(ALSO) or ()]
    if old_path is None:
        name = stored.get(FILE)
        if name == PurePath(path).name or (name is None and legacy.owners.get(None) == path):
            # The same file's document from before paths were recorded (same name, same key).
            _set_also(payload, also, path)
            return Claim("upgraded")
        old_path = legacy.owners.get(name) if name is not None else legacy.owners.get(None)
        old_path = old_path or (str(name) if name is not None else None)
    if old_path is None or old_path == path:
        _set_also(payload, also, path)
        return Claim("same")
    _set_also(payload, [*also, old_path], path)
    return Claim("shared", other=old_path)


def _set_also(payload: dict[str, Any], also: Iterable[str], path: str) -> None:
    others = sorted({p for p in also if p != path})
    if others:
        payload[ALSO] = others
    else:
        payload.pop(ALSO, None)


@dataclass
class PrunePlan:
    """What ``--prune`` of one file does: documents deleted, documents kept because another
    file holds them too (their payload rewritten), and old documents kept in doubt."""

    delete: list[Any] = field(default_factory=list)
    rewrite: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)
    kept_shared: int = 0
    kept_unsure: int = 0
    unsure_owner: dict[str, str] = field(default_factory=dict)  # name -> path recorded


def plan_prune(
    points: Iterable[tuple[Any, Mapping[str, Any]]],
    keep: set[str],
    path: str,
    legacy: Legacy,
) -> PrunePlan:
    """The documents of ``path`` whose keys are not in ``keep`` (the file's keys now).

    ``points``: (point id, payload with ``_key``, ``_file``, ``_path``, ``_also``).
    """
    plan = PrunePlan()
    name = PurePath(path).name
    for pid, payload in points:
        if payload.get("_key") in keep:
            continue
        old_path = payload.get(PATH)
        also = [str(p) for p in payload.get(ALSO) or ()]
        if old_path == path:
            if not also:
                plan.delete.append(pid)
                continue
            # Another file holds this key too: its document stays, now that file's.
            heir = also[-1]
            rest = also[:-1]
            plan.rewrite.append((pid, {PATH: heir, FILE: PurePath(heir).name, ALSO: rest}))
            plan.kept_shared += 1
        elif path in also:
            plan.rewrite.append((pid, {ALSO: [p for p in also if p != path]}))
        elif old_path is None:
            stored_name = payload.get(FILE)
            if stored_name is not None and stored_name != name:
                continue
            if stored_name is None and legacy.owners.get(None) != path:
                continue
            if legacy.owns(stored_name, path):
                plan.delete.append(pid)
            else:
                plan.kept_unsure += 1
                owner = legacy.owners.get(stored_name)
                if owner:
                    plan.unsure_owner[str(stored_name or name)] = owner
    return plan


def apply_prune(coll: Any, plan: PrunePlan, batch: int = 1000) -> None:
    """Delete and rewrite as ``plan`` says (``coll``: a store collection)."""
    for i in range(0, len(plan.delete), batch):
        coll.delete(plan.delete[i : i + batch])
    changes = dict(plan.rewrite)
    ids = list(changes)
    for i in range(0, len(ids), batch):
        rewritten = []
        for point in coll.retrieve(ids[i : i + batch]):
            payload = dict(point.payload)
            payload.update(changes[point.id])
            if not payload.get(ALSO):
                payload.pop(ALSO, None)
            rewritten.append((point.id, payload))
        coll.overwrite_payload(rewritten)


def legacy_names(coll: Any, names: Sequence[str | None]) -> dict[str | None, int]:
    """How many stored documents carry each name (None: no ``_file``) and no path."""
    from ..store.filters import Empty, Filter, Match

    out: dict[str | None, int] = {}
    for name in names:
        first = Match(FILE, (name,)) if name is not None else Empty(FILE)
        out[name] = coll.count(Filter(must=(first, Empty(PATH))))
    return out
