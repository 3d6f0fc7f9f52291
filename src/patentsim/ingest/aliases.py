"""``ingest aliases``: a collection's alias table of names, applied without embedding.

The keys of its name fields (``_name_applicant``, ...: ``store/names.py``) are made again
from the names as stored, through the new table, and written as payload; no vector is
touched and no model is loaded.  A collection loaded before name keys existed gets its
name fields here too (found by their names, as a load finds them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..columns import name_kind
from ..errors import UserInputError
from ..store import StoreSettings, open_store, pick_collection
from ..store.names import Aliases, NameSpec, annotate, names_field

BATCH = 256


@dataclass
class AliasesApplied:
    collection: str
    source: str
    aliases: int  # rows of the table
    fields: dict[str, str]  # name field -> company | person
    points: int = 0
    rewritten: int = 0  # points whose keys changed
    # field -> distinct keys before and after
    distinct: dict[str, tuple[int, int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def apply_aliases(
    path: str | Path, *, collection: str | None = None, settings: StoreSettings | None = None
) -> AliasesApplied:
    """Make ``path`` (a CSV of ``name,alias`` rows) the collection's alias table and rewrite
    its name keys.  An empty file clears the table (legal forms, case and spacing are still
    set aside)."""
    aliases = Aliases.read(path)
    store = open_store(settings or StoreSettings.resolve())
    try:
        name = pick_collection(store, collection)
        coll = store.open(name)
        manifest = coll.read_manifest()
        fields = dict(manifest.fields)
        spec = NameSpec.from_manifest(manifest)
        found = spec.fields or {
            f: kind
            for f, info in fields.items()
            if (kind := name_kind(f)) and info.type == "keyword"
        }
        if not found:
            raise UserInputError(
                f"collection '{name}' has no field of names (applicant, assignee, owner, "
                "inventor, 출원인, 발명자, ...) to apply aliases to",
                "fields: " + ", ".join(f for f in fields if not f.startswith("_")),
            )
        new = NameSpec(found, aliases)
        result = AliasesApplied(name, str(path), len(aliases.pairs), found)
        before: dict[str, set[Any]] = {f: set() for f in found}
        after: dict[str, set[Any]] = {f: set() for f in found}
        batch: list[tuple[str, dict[str, Any]]] = []
        for point in coll.scroll(with_payload=True, batch=BATCH):
            result.points += 1
            payload = dict(point.payload)
            for f in found:
                before[f].update(_keys(payload.get(names_field(f))))
            annotate(payload, found, aliases)
            for f in found:
                after[f].update(_keys(payload.get(names_field(f))))
            if payload != point.payload:
                batch.append((point.id, payload))
            if len(batch) >= BATCH:
                coll.overwrite_payload(batch)
                result.rewritten += len(batch)
                batch = []
        if batch:
            coll.overwrite_payload(batch)
            result.rewritten += len(batch)
        for f in found:
            coll.ensure_index(names_field(f), "keyword")
            if f in fields:
                fields[f] = replace(fields[f], names=names_field(f))
            result.distinct[f] = (len(before[f]), len(after[f]))
        manifest.fields = fields
        manifest.names = new.to_manifest()
        manifest.touch()
        coll.write_manifest(manifest)
        return result
    finally:
        store.close()


def _keys(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
