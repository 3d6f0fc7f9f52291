"""The shared core: stores, collections, manifest, ids and filters (Qdrant; no model).

``open_store`` picks the backend from the settings: a Qdrant server when a URL
is given, else the embedded store in a folder.  Both ``ingest`` and
``search`` go through here; this package imports neither of them.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import PatentSimError, StoreError
from .backend import Collection, CreateOptions, Store

# The store folder of earlier versions, relative to the current folder: still used where it
# exists and no path is given, so that nobody's collections vanish.
LEGACY_PATH = "qdrant_data"
SERVER_TIMEOUT_S = 30  # a server call that takes longer fails (qdrant-client's timeout)


def default_path() -> str:
    """The per-user store folder, by the platform's convention (platformdirs):
    ``~/.local/share/patentsim/qdrant_data`` on Linux, ``~/Library/Application
    Support/patentsim/qdrant_data`` on macOS, ``%LOCALAPPDATA%\\patentsim\\qdrant_data`` on
    Windows."""
    import platformdirs

    return str(Path(platformdirs.user_data_dir("patentsim", appauthor=False)) / "qdrant_data")


class LegacyStoreFolder(UserWarning):
    """No store path was given and ``./qdrant_data`` exists here: it is used."""


@dataclass(frozen=True)
class StoreSettings:
    """Where collections live.  Built from options, env vars, then defaults.

    ``origin`` says where the embedded store's path came from, for ``ingest info``:
    ``option``, ``QDRANT_PATH``, ``current folder`` (an existing ``./qdrant_data``) or
    ``per-user default``."""

    url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    path: str = field(default_factory=default_path)
    wait: float = 0.0
    timeout: int = SERVER_TIMEOUT_S
    origin: str = "per-user default"

    @classmethod
    def resolve(
        cls,
        url: str | None = None,
        api_key: str | None = None,
        path: str | None = None,
        wait: float | None = None,
    ) -> StoreSettings:
        """Options win over env vars (QDRANT_URL, QDRANT_API_KEY, QDRANT_PATH), then
        defaults: ``./qdrant_data`` where that folder exists (with a warning that says
        so), else the per-user folder (``default_path``)."""
        url = url or os.environ.get("QDRANT_URL") or None
        chosen, origin = _store_path(path, quiet=bool(url))
        return cls(
            url=url,
            api_key=api_key or os.environ.get("QDRANT_API_KEY") or None,
            path=chosen,
            wait=wait or 0.0,
            timeout=SERVER_TIMEOUT_S,
            origin=origin,
        )


def _store_path(path: str | None, *, quiet: bool) -> tuple[str, str]:
    if path:
        return path, "option"
    if os.environ.get("QDRANT_PATH"):
        return os.environ["QDRANT_PATH"], "QDRANT_PATH"
    default = default_path()
    legacy = Path(LEGACY_PATH)
    if legacy.is_dir() and legacy.resolve() != Path(default).resolve():
        if not quiet:
            from ..errors import setting

            warnings.warn(
                f"using the store {legacy.resolve()} found in the current folder; the "
                f"default store is now {default} (move the collections there, or set "
                f"QDRANT_PATH or {setting('path')} to keep using this one without this note)",
                LegacyStoreFolder,
                stacklevel=3,
            )
        return str(legacy), "current folder"
    return default, "per-user default"


def open_store(settings: StoreSettings) -> Store:
    """The store the settings name: a server for a URL, else the embedded folder."""
    if settings.url == ":memory:":
        from .server import MemoryStore

        return MemoryStore()
    if settings.url:
        from .server import ServerStore

        return ServerStore(settings.url, settings.api_key, timeout=settings.timeout)
    from .edge import EdgeStore

    return EdgeStore(settings.path, wait=settings.wait)


def pick_collection(store: Store, name: str | None) -> str:
    """``name``, else ``QDRANT_COLLECTION``, else the store's only collection; an error
    listing them otherwise."""
    name = name or os.environ.get("QDRANT_COLLECTION") or None
    if name:
        return name
    names = store.list()
    if len(names) == 1:
        return names[0]
    from ..errors import CollectionNotFound, setting

    if not names:
        raise CollectionNotFound(
            f"no collections in {store.location}", "run 'ingest load FILE' first"
        )
    raise CollectionNotFound(
        f"{len(names)} collections in {store.location}: {', '.join(names)}",
        f"choose one with {setting('collection')} or QDRANT_COLLECTION",
    )


__all__ = [
    "LEGACY_PATH",
    "Collection",
    "CreateOptions",
    "PatentSimError",
    "Store",
    "StoreError",
    "StoreSettings",
    "default_path",
    "open_store",
    "pick_collection",
]
