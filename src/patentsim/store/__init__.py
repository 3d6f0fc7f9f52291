"""The shared core: stores, collections, manifest, ids and filters (Qdrant; no model).

``open_store`` picks the backend from the settings: a Qdrant server when a URL
is given, else the embedded store in a folder.  Both ``ingest`` and
``search`` go through here; this package imports neither of them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .backend import Collection, CreateOptions, Store
from .errors import PatentSimError, StoreError

DEFAULT_PATH = "./qdrant_data"


@dataclass(frozen=True)
class StoreSettings:
    """Where collections live.  Built from options, env vars, then defaults."""

    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    path: str = DEFAULT_PATH
    wait: float = 0.0

    @classmethod
    def resolve(
        cls,
        url: str | None = None,
        api_key: str | None = None,
        path: str | None = None,
        wait: float | None = None,
    ) -> StoreSettings:
        """Options win over env vars (QDRANT_URL, QDRANT_API_KEY, QDRANT_PATH), then defaults."""
        return cls(
            url=url or os.environ.get("QDRANT_URL") or None,
            api_key=api_key or os.environ.get("QDRANT_API_KEY") or None,
            path=path or os.environ.get("QDRANT_PATH") or DEFAULT_PATH,
            wait=wait or 0.0,
        )


def open_store(settings: StoreSettings) -> Store:
    """The store the settings name: a server for a URL, else the embedded folder."""
    if settings.url:
        from .server import ServerStore

        return ServerStore(settings.url, settings.api_key)
    from .edge import EdgeStore

    return EdgeStore(settings.path, wait=settings.wait)


def pick_collection(store: Store, name: str | None) -> str:
    """``name``, or the store's only collection; an error listing them otherwise."""
    if name:
        return name
    names = store.list()
    if len(names) == 1:
        return names[0]
    from .errors import CollectionNotFound, setting

    if not names:
        raise CollectionNotFound(
            f"no collections in {store.location}", "run 'ingest load FILE' first"
        )
    raise CollectionNotFound(
        f"{len(names)} collections in {store.location}: {', '.join(names)}",
        f"choose one with {setting('collection')} or QDRANT_COLLECTION",
    )


__all__ = [
    "DEFAULT_PATH",
    "Collection",
    "CreateOptions",
    "PatentSimError",
    "Store",
    "StoreError",
    "StoreSettings",
    "open_store",
    "pick_collection",
]
