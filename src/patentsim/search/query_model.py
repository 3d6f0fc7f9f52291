"""The collection's own model, for queries that embed a text.

``text`` embeds its query with the model the collection was built with and refuses any
other (``ModelMismatch``).  A loaded model is kept for the rest of the process, under the name
asked for and under its folder, so only the first query pays for loading it; the loader is
torch-free where it can be (``EmbedderConfig.load_for_queries``).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..store.errors import ModelMismatch, ModelUnavailable, PatentSimError, setting

# (model name or folder, device, engine, long-text mode) -> the loaded query embedder.
_EMBEDDERS: dict[tuple[str, str, str, str], Any] = {}


class QueryEmbedder(Protocol):
    """What a query needs of a model (the real embedders, the test fakes, eval's cache)."""

    name: str
    fingerprint: str
    dimension: int

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any: ...


def cached_embedder(stored: dict[str, Any], model: str | None, device: str) -> Any:
    """The collection's model if this process has loaded it already, else None."""
    name = model or str(stored.get("name") or "")
    engine = str(stored.get("backend") or "torch")
    long_text = str(stored.get("long_text") or "truncate")
    return _EMBEDDERS.get((name, device, engine, long_text))


def load_embedder(
    stored: dict[str, Any], model: str | None, device: str, collection: str
) -> QueryEmbedder:
    """The collection's model (``stored``: its manifest record), loaded from ``model`` (a name
    or folder) where given; another model than the collection's is a ``ModelMismatch``."""
    try:
        name = model or str(stored.get("name") or "")
        return load_query_embedder(name, stored, device, collection)
    except ModelUnavailable as exc:
        if not model or model == stored.get("name"):
            raise
        # Another name than the collection's: the mismatch is the news, not the cache.
        raise ModelMismatch(
            f"collection '{collection}' was built with model '{stored.get('name')}', and "
            f"{setting('model')} {model} names another one (which cannot be loaded here "
            f"either: {exc.message})",
            f"leave out {setting('model')} to query with '{stored.get('name')}', or give "
            f"{setting('model')} a folder holding that model",
        ) from exc


def load_query_embedder(name: str, stored: dict[str, Any], device: str, collection: str) -> Any:
    """The collection's model for queries: torch-free where it can be (``load_for_queries``)."""
    from ..embed.embedder import EmbedderConfig

    if not name:
        raise PatentSimError(f"the manifest of '{collection}' names no model")
    config = EmbedderConfig.choose(name, device=device, stored=stored, allow_fallback=False)
    if config.model.local and stored.get("fingerprint"):
        # The same model files read the same way (engine, long-text mode) as at ingest.
        found = config.fingerprint()
        if found != stored["fingerprint"]:
            raise mismatch(collection, stored, config.model.name, found)
    cache_key = (config.model.source, device, config.engine, config.long_text)
    emb = _EMBEDDERS.get(cache_key) or config.load_for_queries()
    # Kept for the process's later queries, under the name asked for and under its folder.
    _EMBEDDERS[cache_key] = _EMBEDDERS[(name, device, config.backend, config.long_text)] = emb
    return emb


def check_embedder(emb: QueryEmbedder, stored: dict[str, Any], collection: str) -> None:
    """Refuse a model whose fingerprint or dimension differs from the collection's."""
    same_print = not stored.get("fingerprint") or emb.fingerprint == stored.get("fingerprint")
    if not same_print or int(emb.dimension) != int(stored.get("dimension") or emb.dimension):
        raise mismatch(collection, stored, emb.name, emb.fingerprint)


def mismatch(collection: str, stored: dict[str, Any], name: str, found: str) -> ModelMismatch:
    return ModelMismatch(
        f"collection '{collection}' was built with model '{stored.get('name')}' "
        f"(fingerprint {stored.get('fingerprint')}), but the query model '{name}' has "
        f"fingerprint {found}",
        f"query with the collection's own model ({setting('model')} {stored.get('name')} or "
        "its folder), or re-ingest the collection with this model",
    )
