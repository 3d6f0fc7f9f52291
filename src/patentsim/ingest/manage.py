"""Looking after collections: list, describe, drop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import CollectionDamaged, DiskFull, StoreLocked
from ..store import StoreSettings, open_store, pick_collection
from ..store.manifest import Manifest


@dataclass
class CollectionInfo:
    collection: str
    backend: str
    location: str
    points: int
    manifest: Manifest
    indexes: dict[str, str]
    store: str = ""  # the store's folder or URL
    store_origin: str = ""  # where that came from: option, QDRANT_PATH, per-user default, ...

    def to_dict(self) -> dict[str, Any]:
        """With the manifest as it is stored."""
        return {
            "collection": self.collection,
            "backend": self.backend,
            "location": self.location,
            "points": self.points,
            "manifest": self.manifest.to_dict(),
            "indexes": dict(self.indexes),
        }


def list_collections(settings: StoreSettings) -> list[dict[str, Any]]:
    """Every collection in the store with its point count and model."""
    store = open_store(settings)
    try:
        out: list[dict[str, Any]] = []
        for name in store.list():
            try:
                coll = store.open(name)
            except StoreLocked as exc:
                # Another process is loading it: list it anyway, without a count.
                out.append(_unopened(name, exc.state))
                continue
            except CollectionDamaged as exc:
                out.append(_unopened(name, "damaged: " + exc.message.split(" is damaged: ")[-1]))
                continue
            except DiskFull:
                out.append(_unopened(name, "not opened: its disk is full"))
                continue
            try:
                manifest = coll.read_manifest()
                points = coll.count()
            finally:
                store.close_collection(name)
            out.append(
                {
                    "collection": name,
                    "points": points,
                    "model": (manifest.model.name if manifest.model else None)
                    or ("none (keyword-only)" if manifest.vectors.dense is None else None),
                    "state": manifest.state,
                    "updated_at": manifest.updated_at,
                }
            )
        return out
    finally:
        store.close()


def store_origin(settings: StoreSettings) -> str:
    """Where the store's location came from, for people."""
    if settings.url:
        return "option or QDRANT_URL"
    return {"option": "option"}.get(settings.origin, settings.origin)


def _unopened(name: str, state: str) -> dict[str, Any]:
    """A listing's row for a collection that could not be opened: no count, no model."""
    return {"collection": name, "points": None, "model": None, "state": state, "updated_at": None}


def info(settings: StoreSettings, collection: str | None = None) -> CollectionInfo:
    """The manifest, counts, fields with types and index state, and where the data lives."""
    store = open_store(settings)
    try:
        name = pick_collection(store, collection)
        coll = store.open(name)
        return CollectionInfo(
            collection=name,
            backend=store.kind,
            location=store.collection_location(name),
            points=coll.count(),
            manifest=coll.read_manifest(),
            indexes=coll.indexes(),
            store=store.location,
            store_origin=store_origin(settings),
        )
    finally:
        store.close()


def drop(settings: StoreSettings, collection: str) -> None:
    store = open_store(settings)
    try:
        store.drop(collection)
    finally:
        store.close()
