"""The collection's own model, for queries that embed a text.

``text`` embeds its query with the model the collection was built with and refuses any
other (``ModelMismatch``).  A loaded model is kept for the rest of the process, under the name
asked for and under its folder, so only the first query pays for loading it; the loader is
torch-free where it can be (``EmbedderConfig.load_for_queries``).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..errors import ModelMismatch, ModelUnavailable, PatentSimError, setting
from ..store.manifest import DEFAULT_BACKEND, DEFAULT_LONG_TEXT, ModelRecord, check_model

# (model name or folder, device, engine, long-text mode) -> the loaded query embedder.
_EMBEDDERS: dict[tuple[str, str, str, str], Any] = {}


class QueryEmbedder(Protocol):
    """What a query needs of a model (the real embedders, the test fakes, eval's cache)."""

    name: str
    fingerprint: str
    dimension: int

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any: ...


def cached_embedder(stored: ModelRecord | None, model: str | None, device: str) -> Any:
    """The collection's model if this process has loaded it already, else None."""
    name = model or (stored.name if stored else "")
    backend = stored.backend if stored else DEFAULT_BACKEND
    long_text = stored.long_text if stored else DEFAULT_LONG_TEXT
    return _EMBEDDERS.get((name, device, backend, long_text))


def load_embedder(
    stored: ModelRecord | None, model: str | None, device: str, collection: str
) -> QueryEmbedder:
    """The collection's model (``stored``: its manifest record), loaded from ``model`` (a name
    or folder) where given; another model than the collection's is a ``ModelMismatch``."""
    stored_name = stored.name if stored else None
    try:
        return load_query_embedder(model or stored_name or "", stored, device, collection)
    except ModelUnavailable as exc:
        if not model or model == stored_name:
            raise
        # Another name than the collection's: the mismatch is the news, not the cache.
        raise ModelMismatch(
            f"collection '{collection}' was built with model '{stored_name}', and "
            f"{setting('model')} {model} names another one (which cannot be loaded here "
            f"either: {exc.message})",
            f"leave out {setting('model')} to query with '{stored_name}', or give "
            f"{setting('model')} a folder holding that model",
        ) from exc


def load_query_embedder(name: str, stored: ModelRecord | None, device: str, collection: str) -> Any:
    """The collection's model for queries: torch-free where it can be (``load_for_queries``)."""
    from ..embed.embedder import EmbedderConfig

    if not name:
        raise PatentSimError(f"the manifest of '{collection}' names no model")
    config = EmbedderConfig.choose(name, device=device, stored=stored, allow_fallback=False)
    if config.model.local and stored is not None:
        # The same model files read the same way (engine, long-text mode) as at ingest.
        found = ModelRecord(config.model.name, config.fingerprint())
        check_model(stored, found, collection, use="query")
    cache_key = (config.model.source, device, config.engine, config.long_text)
    emb = _EMBEDDERS.get(cache_key) or config.load_for_queries()
    # Kept for the process's later queries, under the name asked for and under its folder.
    _EMBEDDERS[cache_key] = _EMBEDDERS[(name, device, config.backend, config.long_text)] = emb
    return emb


def check_embedder(emb: QueryEmbedder, stored: ModelRecord | None, collection: str) -> None:
    """Refuse a model whose fingerprint or dimension differs from the collection's
    (``store.manifest.check_model``)."""
    if stored is not None:
        found = ModelRecord(emb.name, emb.fingerprint, int(emb.dimension))
        check_model(stored, found, collection, use="query")
