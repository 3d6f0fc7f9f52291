"""The server backend: a Qdrant server through ``qdrant-client``.

The manifest lives in the collection's ``metadata``.  ``:memory:`` as the URL
gives qdrant-client's in-process imitation of a server (one per process,
shared by every call), which the tests use where no Docker runs.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

from . import backend as b
from .errors import (
    CollectionExists,
    CollectionNotFound,
    StoreError,
    StoreUnreachable,
    Unauthorized,
)
from .filters import Empty, Filter, HasId, Match, Range, Text

MANIFEST_KEY = "patentsim_manifest"
_MEMORY_CLIENTS: dict[str, Any] = {}
CONNECT_TIMEOUT_S = 5


def _models() -> Any:
    from qdrant_client import models

    return models


def redact(url: str) -> str:
    """The URL without credentials, for messages."""
    parsed = urlparse(url)
    if parsed.password or parsed.username:
        host = parsed.hostname or ""
        if parsed.port:
            host += f":{parsed.port}"
        return parsed._replace(netloc=host).geturl()
    return url


class ServerStore:
    kind = "server"

    def __init__(self, url: str, api_key: str | None = None, *, timeout: int = 30) -> None:
        self.url = url
        self.location = redact(url)
        if url == ":memory:":
            if url not in _MEMORY_CLIENTS:
                from qdrant_client import QdrantClient

                _MEMORY_CLIENTS[url] = QdrantClient(":memory:")
            self.client = _MEMORY_CLIENTS[url]
            return
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(
                f"invalid Qdrant URL {self.location!r}",
                "use http://host:6333 or https://host:6333",
            )
        from qdrant_client import QdrantClient

        self.client = QdrantClient(url=url, api_key=api_key, timeout=timeout, prefer_grpc=False)
        self._checked = False

    def call(self, fn: Any, collection: str | None = None) -> Any:
        """Run a client call, folding qdrant-client's error families into ours."""
        try:
            return fn()
        except (CollectionNotFound, CollectionExists, StoreError):
            raise
        except Exception as exc:
            raise self._fold(exc, collection) from exc

    def _fold(self, exc: Exception, collection: str | None) -> Exception:
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        text = str(exc)
        if isinstance(exc, UnexpectedResponse):
            status = exc.status_code
            if status in (401, 403):
                return Unauthorized(
                    f"the Qdrant server at {self.location} refused the API key (HTTP {status})",
                    "set --api-key or QDRANT_API_KEY to the server's key",
                )
            if status == 404 and collection:
                return CollectionNotFound(f"no collection '{collection}' on {self.location}")
            return StoreError(f"the Qdrant server at {self.location} answered HTTP {status}: "
                              f"{_short(exc.content)}")
        if isinstance(exc, ResponseHandlingException) or _is_connect_error(exc):
            return StoreUnreachable(
                f"cannot reach the Qdrant server at {self.location}",
                "start it with 'docker compose up -d', or check --url / QDRANT_URL",
            )
        if isinstance(exc, ValueError) and "not found" in text.lower() and collection:
            return CollectionNotFound(f"no collection '{collection}' on {self.location}")
        return StoreError(f"Qdrant error at {self.location}: {text}")

    def list(self) -> list[str]:
        cols = self.call(lambda: self.client.get_collections()).collections
        return sorted(c.name for c in cols)

    def exists(self, name: str) -> bool:
        return bool(self.call(lambda: self.client.collection_exists(name), name))

    def create(
        self, name: str, dimension: int, manifest: dict[str, Any], options: b.CreateOptions
    ) -> ServerCollection:
        m = _models()
        if self.exists(name):
            raise CollectionExists(f"collection '{name}' already exists on {self.location}")
        manifest = dict(manifest, dimension=dimension)
        self.call(
            lambda: self.client.create_collection(
                name,
                vectors_config=m.VectorParams(
                    size=dimension, distance=m.Distance.COSINE, on_disk=options.on_disk or None
                ),
                hnsw_config=m.HnswConfigDiff(m=b.HNSW_M, ef_construct=b.HNSW_EF_CONSTRUCT),
                shard_number=options.shards,
                replication_factor=options.replicas,
                metadata={MANIFEST_KEY: json.dumps(manifest, ensure_ascii=False)},
            ),
            name,
        )
        return ServerCollection(self, name)

    def open(self, name: str) -> ServerCollection:
        if not self.exists(name):
            names = self.list()
            raise CollectionNotFound(
                f"no collection '{name}' on {self.location}",
                "collections there: " + ", ".join(names) if names else "the server has none",
            )
        return ServerCollection(self, name)

    def drop(self, name: str) -> None:
        if not self.exists(name):
            raise CollectionNotFound(f"no collection '{name}' on {self.location}")
        self.call(lambda: self.client.delete_collection(name), name)

    def close(self) -> None:
        if self.url != ":memory:":
            with contextlib.suppress(Exception):
                self.client.close()


def _short(content: Any) -> str:
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    return text[:300]


def _is_connect_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        name = type(cur).__name__
        if name in {"ConnectError", "ConnectTimeout", "ReadTimeout", "TimeoutException",
                    "ConnectionRefusedError", "RemoteProtocolError", "ReadError"}:
            return True
        cur = cur.__cause__ or cur.__context__
    return False


class ServerCollection:
    def __init__(self, store: ServerStore, name: str) -> None:
        self.store = store
        self.name = name
        self.client = store.client

    def _call(self, fn: Any) -> Any:
        return self.store.call(fn, self.name)

    def read_manifest(self) -> dict[str, Any]:
        info = self._call(lambda: self.client.get_collection(self.name))
        meta = info.config.metadata or {}
        raw = meta.get(MANIFEST_KEY)
        if raw is None:
            raise StoreError(
                f"collection '{self.name}' on {self.store.location} has no patentsim manifest",
                "it was not made by 'ingest load': use another --collection",
            )
        return dict(json.loads(raw) if isinstance(raw, str) else raw)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        payload = json.dumps(manifest, ensure_ascii=False)
        self._call(
            lambda: self.client.update_collection(self.name, metadata={MANIFEST_KEY: payload})
        )

    def upsert(self, points: Sequence[b.PointData]) -> None:
        m = _models()
        with_vectors = [p for p in points if p.vector is not None]
        if with_vectors:
            structs = [
                m.PointStruct(id=p.id, vector=[float(x) for x in p.vector], payload=p.payload)  # type: ignore[union-attr]
                for p in with_vectors
            ]
            self._call(lambda: self.client.upsert(self.name, points=structs, wait=True))
        payload_only = [(p.id, p.payload) for p in points if p.vector is None]
        if payload_only:
            self.overwrite_payload(payload_only)

    def overwrite_payload(self, points: Sequence[tuple[str, dict[str, Any]]]) -> None:
        for pid, payload in points:
            self._call(
                lambda pid=pid, payload=payload: self.client.overwrite_payload(
                    self.name, payload=payload, points=[pid], wait=True
                )
            )

    def retrieve(
        self, ids: Sequence[str], *, with_vectors: bool = False, with_payload: bool = True
    ) -> list[b.StoredPoint]:
        if not ids:
            return []
        records = self._call(
            lambda: self.client.retrieve(
                self.name, ids=list(ids), with_payload=with_payload, with_vectors=with_vectors
            )
        )
        return [_stored(r) for r in records]

    def query(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        offset: int = 0,
        flt: Filter | None = None,
        score_threshold: float | None = None,
        exact: bool = False,
    ) -> list[b.ScoredHit]:
        m = _models()
        res = self._call(
            lambda: self.client.query_points(
                self.name,
                query=[float(x) for x in vector],
                limit=limit,
                offset=offset or None,
                query_filter=to_models(flt) if flt else None,
                score_threshold=score_threshold,
                search_params=m.SearchParams(hnsw_ef=b.HNSW_EF_SEARCH, exact=exact),
                with_payload=True,
            )
        )
        return [b.ScoredHit(str(p.id), float(p.score), dict(p.payload or {})) for p in res.points]

    def count(self, flt: Filter | None = None) -> int:
        res = self._call(
            lambda: self.client.count(
                self.name, count_filter=to_models(flt) if flt else None, exact=True
            )
        )
        return int(res.count)

    def facet(self, key: str, *, flt: Filter | None = None, limit: int = 10) -> list[tuple[Any, int]]:
        res = self._call(
            lambda: self.client.facet(
                self.name,
                key=key,
                facet_filter=to_models(flt) if flt else None,
                limit=limit,
                exact=True,
            )
        )
        return [(h.value, int(h.count)) for h in res.hits]

    def scroll(
        self,
        *,
        flt: Filter | None = None,
        with_vectors: bool = False,
        with_payload: bool | Sequence[str] = True,
        batch: int = 256,
    ) -> Iterator[b.StoredPoint]:
        offset = None
        payload_arg = with_payload if isinstance(with_payload, bool) else list(with_payload)
        while True:
            records, offset = self._call(
                lambda offset=offset: self.client.scroll(
                    self.name,
                    scroll_filter=to_models(flt) if flt else None,
                    limit=batch,
                    offset=offset,
                    with_payload=payload_arg,
                    with_vectors=with_vectors,
                )
            )
            for r in records:
                yield _stored(r)
            if offset is None or not records:
                return

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            m = _models()
            self._call(
                lambda: self.client.delete(
                    self.name, points_selector=m.PointIdsList(points=list(ids)), wait=True
                )
            )

    def ensure_index(self, key: str, index_type: str) -> None:
        m = _models()
        schema: Any
        if index_type == "text":
            schema = m.TextIndexParams(
                type=m.TextIndexType.TEXT,
                tokenizer=m.TokenizerType.MULTILINGUAL,
                lowercase=True,
                min_token_len=1,
            )
        else:
            schema = m.PayloadSchemaType(index_type)
        if self.store.url == ":memory:":
            # The in-process imitation has no payload indexes (and warns on each call).
            return
        self._call(
            lambda: self.client.create_payload_index(
                self.name, field_name=key, field_schema=schema, wait=True
            )
        )

    def indexes(self) -> dict[str, str]:
        info = self._call(lambda: self.client.get_collection(self.name))
        out = {}
        for key, schema in (info.payload_schema or {}).items():
            dtype = getattr(schema, "data_type", None)
            out[key] = str(getattr(dtype, "value", dtype))
        return out

    def optimize(self) -> None:
        """The server builds its HNSW index by itself in the background."""

    def flush(self) -> None:
        """Writes are acknowledged with wait=True; nothing to flush."""


def _stored(record: Any) -> b.StoredPoint:
    vector = record.vector
    if isinstance(vector, dict):
        vector = vector.get("")
    return b.StoredPoint(
        str(record.id), dict(record.payload or {}), list(vector) if vector is not None else None
    )


def to_models(flt: Filter) -> Any:
    """Translate the shared filter model into qdrant-client's models.Filter."""
    m = _models()

    def cond(c: Any) -> Any:
        if isinstance(c, Filter):
            return to_models(c)
        if isinstance(c, Match):
            values = list(c.values)
            if len(values) == 1:
                return m.FieldCondition(key=c.key, match=m.MatchValue(value=values[0]))
            if any(isinstance(v, bool) for v in values):
                return m.Filter(
                    should=[m.FieldCondition(key=c.key, match=m.MatchValue(value=v)) for v in values]
                )
            return m.FieldCondition(key=c.key, match=m.MatchAny(any=values))
        if isinstance(c, Range):
            bounds = {"gt": c.gt, "gte": c.gte, "lt": c.lt, "lte": c.lte}
            bounds = {k: v for k, v in bounds.items() if v is not None}
            rng = m.DatetimeRange(**bounds) if c.datetime else m.Range(**bounds)
            return m.FieldCondition(key=c.key, range=rng)
        if isinstance(c, Text):
            return m.FieldCondition(key=c.key, match=m.MatchText(text=c.text))
        if isinstance(c, Empty):
            return m.IsEmptyCondition(is_empty=m.PayloadField(key=c.key))
        if isinstance(c, HasId):
            return m.HasIdCondition(has_id=list(c.ids))
        raise TypeError(f"unknown condition {c!r}")

    return m.Filter(
        must=[cond(c) for c in flt.must] or None,
        should=[cond(c) for c in flt.should] or None,
        must_not=[cond(c) for c in flt.must_not] or None,
    )
