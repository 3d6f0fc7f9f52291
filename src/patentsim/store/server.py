"""The server backend: a Qdrant server through ``qdrant-client``.

The manifest lives in the collection's ``metadata`` (Qdrant v1.16 or newer).
``:memory:`` as the URL gives qdrant-client's in-process imitation of a server
(one per process, shared by every call), which the tests use where no Docker
runs.

Before its first call a store probes the server once, with a short timeout:
an unreachable server, a refused API key or something that is not Qdrant is
reported within seconds, with a hint, instead of after qdrant-client's
retries.  The API key is sent as a header and never appears in a message.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlparse

from ..errors import (
    CollectionExists,
    CollectionNotFound,
    StoreError,
    StoreUnreachable,
    Unauthorized,
    setting,
)
from . import backend as b
from . import tuning
from .filters import Filter, Range, Scalar, translate
from .manifest import Layout, Manifest
from .paths import json_path, key_of
from .plan import SearchPlan
from .queries import PlannedQueries, SearchRequest

MANIFEST_KEY = "patentsim_manifest"
MEMORY_URL = ":memory:"
_MEMORY_CLIENTS: dict[str, Any] = {}
# qdrant-client's local mode is not thread-safe, and the pipeline writes one chunk while it
# reads the next: calls to the in-memory stand-in take turns.
_MEMORY_LOCK = threading.RLock()
# The probe's limit per step, and for the whole probe: a server that does not answer, or
# answers a byte at a time, is reported within 5 seconds.
PROBE_TIMEOUT_S = 4.0
PROBE_DEADLINE_S = 4.5
PROBE_MAX_BYTES = 1 << 20  # the probe's answers are small JSON objects
# A call after the probe may take this many times the client's timeout in all (each read
# has the timeout; a server answering a byte at a time is cut off here).
CALL_DEADLINE_FACTOR = 4
DEFAULT_PORT = 6333  # what qdrant-client assumes when the URL names no port
MIN_SERVER_VERSION = (1, 16)  # collection metadata, where the manifest lives
START_HINT = (
    "start one with 'docker compose up -d' (see docs/server.md), "
    f"or check {setting('url')} / QDRANT_URL"
)


def _models() -> Any:
    from qdrant_client import models

    return models


def redact(url: str) -> str:
    """The URL without credentials, for messages."""
    try:
        parsed = urlparse(url)
        parsed.port  # noqa: B018 (a malformed port raises here)
    except ValueError:
        return url.split("@")[-1] if "@" in url else url
    if parsed.password or parsed.username:
        host = parsed.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        if parsed.port:
            host += f":{parsed.port}"
        return parsed._replace(netloc=host).geturl()
    return url


def is_loopback(host: str | None) -> bool:
    """True for localhost and loopback addresses: an API key sent there never leaves the machine."""
    if not host:
        return False
    if host.lower() in {"localhost", "localhost.localdomain"} or host.lower().endswith(
        ".localhost"
    ):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class InsecureApiKeyWarning(UserWarning):
    """An API key sent over plain http to another machine."""


class ServerStore:
    kind = "server"

    def __init__(
        self,
        url: str,
        api_key: str | None = None,
        *,
        timeout: int = 30,
        probe_timeout: float = PROBE_TIMEOUT_S,
    ) -> None:
        self.url = url
        self.location = redact(url)
        self._api_key = api_key or None
        self.probe_timeout = probe_timeout
        # Longer than one step's timeout, so that a server that sends nothing is reported
        # as such ("no answer within 4 s"), and one that sends slowly at the deadline.
        self.probe_deadline = probe_timeout + PROBE_DEADLINE_S - PROBE_TIMEOUT_S
        self.timeout = timeout
        self._checked = False
        try:
            parsed = urlparse(url)
        except ValueError as exc:  # 'http://[::1' and other malformed addresses
            raise StoreError(
                f"invalid Qdrant URL {self.location!r} ({exc})",
                "use http://host:6333 or https://host:6333",
            ) from None
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise StoreError(
                f"invalid Qdrant URL {self.location!r}",
                "use http://host:6333 or https://host:6333",
            )
        try:
            port = parsed.port
        except ValueError:
            raise StoreError(
                f"invalid port in the Qdrant URL {self.location!r}",
                "use http://host:6333 or https://host:6333",
            ) from None
        host = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
        self.rest_uri = f"{parsed.scheme}://{host}:{port or DEFAULT_PORT}{parsed.path.rstrip('/')}"
        if self._api_key and parsed.scheme == "http" and not is_loopback(parsed.hostname):
            warnings.warn(
                f"the API key travels unencrypted to {self.location}: "
                "use an https:// URL for a server on another machine",
                InsecureApiKeyWarning,
                stacklevel=2,
            )
        self._client: Any = None

    @property
    def client(self) -> Any:
        """qdrant-client's client, made at its first use: after the probe, which needs only
        httpx, so that a server that does not answer is reported without importing it."""
        if self._client is None:
            from qdrant_client import QdrantClient

            with warnings.catch_warnings():
                # Ours (__init__) is the useful version (silent for a server on this machine).
                warnings.filterwarnings("ignore", message="Api key is used with an insecure")
                self._client = QdrantClient(
                    url=self.url,
                    api_key=self._api_key,
                    timeout=self.timeout,
                    prefer_grpc=False,
                    # The probe checks the version itself, within its time limit.
                    check_compatibility=False,
                )
        return self._client

    # -- the first contact -----------------------------------------------------------
    def probe(self) -> str:
        """Check once that a Qdrant server answers and accepts the key; its version.

        Raises ``StoreUnreachable``, ``Unauthorized`` or ``StoreError`` within
        ``probe_deadline`` seconds in all, however slowly the server answers.
        """
        stop = threading.Event()
        version = _within(
            lambda: self._probe(stop),
            self.probe_deadline,
            stop,
            lambda: StoreUnreachable(
                f"the Qdrant server at {self.location} did not answer within "
                f"{self.probe_deadline:g} s (it accepted the connection but its answer did "
                "not arrive in time)",
                START_HINT,
            ),
        )
        self._checked = True
        return str(version)

    def _probe(self, stop: threading.Event) -> str:
        """The probe's two requests; gives up between the pieces of an answer once ``stop``
        is set (the caller has reported the server as not answering)."""
        import httpx

        headers = {"api-key": self._api_key} if self._api_key else {}
        try:
            with httpx.Client(timeout=httpx.Timeout(self.probe_timeout), headers=headers) as http:
                status, body = _get(http, self.rest_uri + "/", stop)
                if status in (401, 403):
                    raise self._unauthorized(status)
                version = _version_of(status, body)
                if version is None:
                    raise StoreError(
                        f"{self.location} answered HTTP {status}, "
                        "but it does not look like a Qdrant server",
                        f"check {setting('url')} / QDRANT_URL (Qdrant's REST port is 6333)",
                    )
                _check_version(version, self.location)
                status, body = _get(http, self.rest_uri + "/collections", stop)
                if status in (401, 403):
                    raise self._unauthorized(status)
                if status != 200:
                    raise StoreError(
                        f"the Qdrant server at {self.location} answered HTTP "
                        f"{status}: {self._scrub(_short(body))}"
                    )
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from None
        return version

    def _unauthorized(self, status: int) -> Unauthorized:
        if self._api_key:
            return Unauthorized(
                f"the Qdrant server at {self.location} refused the API key (HTTP {status})",
                f"check {setting('api_key')} / QDRANT_API_KEY: it must equal the server's "
                "QDRANT__SERVICE__API_KEY",
            )
        return Unauthorized(
            f"the Qdrant server at {self.location} needs an API key (HTTP {status})",
            f"pass {setting('api_key')} or set QDRANT_API_KEY",
        )

    def _unreachable(self, exc: BaseException, timeout: float | None = None) -> StoreUnreachable:
        reason = _reason(exc, self.probe_timeout if timeout is None else timeout)
        if "CERTIFICATE_VERIFY_FAILED" in reason or "SSL" in reason:
            return StoreUnreachable(
                f"the TLS handshake with {self.location} failed ({self._scrub(reason)})",
                "check that the server's certificate is valid for this host name, "
                "or use http:// for a server without TLS",
            )
        return StoreUnreachable(
            f"cannot reach the Qdrant server at {self.location} ({self._scrub(reason)})",
            START_HINT,
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    # -- every call ----------------------------------------------------------------------
    def call(self, fn: Any, collection: str | None = None) -> Any:
        """Run a client call, folding qdrant-client's error families into ours."""
        if not self._checked:
            self.probe()
        try:
            return self._run(fn)
        except (CollectionNotFound, CollectionExists, StoreError):
            raise
        except Exception as exc:
            raise self._fold(exc, collection) from exc

    def _run(self, fn: Any) -> Any:
        limit = self.timeout * CALL_DEADLINE_FACTOR
        return _within(
            fn,
            limit,
            threading.Event(),
            lambda: StoreUnreachable(
                f"the Qdrant server at {self.location} did not finish answering within {limit:g} s",
                "check that the server is not overloaded, or try again",
            ),
        )

    def _fold(self, exc: Exception, collection: str | None) -> Exception:
        from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

        text = self._scrub(str(exc))
        if isinstance(exc, UnexpectedResponse):
            status = exc.status_code
            if status in (401, 403):
                return self._unauthorized(status)
            if status == 404 and collection:
                return CollectionNotFound(f"no collection '{collection}' on {self.location}")
            return StoreError(
                f"the Qdrant server at {self.location} answered HTTP {status}: "
                f"{self._scrub(_short(exc.content))}"
            )
        if _is_connect_error(exc):
            return self._unreachable(exc, self.timeout)
        if isinstance(exc, ResponseHandlingException):
            return StoreError(
                f"unexpected answer from the Qdrant server at {self.location}: {text}"
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
        self, name: str, dimension: int, manifest: Manifest, options: b.CreateOptions
    ) -> ServerCollection:
        m = _models()
        if self.exists(name):
            raise CollectionExists(f"collection '{name}' already exists on {self.location}")
        quantization, on_disk = options.layout()
        manifest = dataclasses.replace(manifest, layout=Layout(dimension, on_disk, quantization))
        vectors: Any = {}  # dimension 0: keyword-only, no dense vector
        if dimension:
            vectors = m.VectorParams(
                size=dimension, distance=m.Distance.COSINE, on_disk=on_disk or None
            )
        self.call(
            lambda: self.client.create_collection(
                name,
                vectors_config=vectors,
                sparse_vectors_config={
                    b.SPARSE_VECTOR: m.SparseVectorParams(modifier=m.Modifier.IDF)
                },
                hnsw_config=m.HnswConfigDiff(
                    m=tuning.HNSW_M, ef_construct=tuning.HNSW_EF_CONSTRUCT
                ),
                quantization_config=_quantization_config(quantization),
                shard_number=options.shards,
                replication_factor=options.replicas,
                metadata={MANIFEST_KEY: manifest.to_json()},
            ),
            name,
        )
        return self._collection(name)

    def open(self, name: str) -> ServerCollection:
        if not self.exists(name):
            names = self.list()
            raise CollectionNotFound(
                f"no collection '{name}' on {self.location}",
                "collections there: " + ", ".join(names) if names else "the server has none",
            )
        return self._collection(name)

    def _collection(self, name: str) -> ServerCollection:
        return ServerCollection(self, name)

    def drop(self, name: str) -> None:
        if not self.exists(name):
            raise CollectionNotFound(f"no collection '{name}' on {self.location}")
        self.call(lambda: self.client.delete_collection(name), name)

    def check_writable(self) -> None:
        """Nothing to check before the first call: the server answers for itself."""

    def close_collection(self, name: str) -> None:
        """A server's collections hold nothing open in this process."""

    def collection_location(self, name: str) -> str:
        return self.location

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()


def _short(content: Any) -> str:
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
    return text[:300]


_CONNECT_ERRORS = {
    "ConnectError",
    "ConnectTimeout",
    "ReadTimeout",
    "WriteTimeout",
    "PoolTimeout",
    "TimeoutException",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "RemoteProtocolError",
    "ReadError",
    "WriteError",
}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what it wraps (``__cause__``, ``__context__``, qdrant's ``source``)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        source = getattr(cur, "source", None)
        cur = source if isinstance(source, BaseException) else (cur.__cause__ or cur.__context__)


def _is_connect_error(exc: BaseException) -> bool:
    return any(type(c).__name__ in _CONNECT_ERRORS for c in _causes(exc))


def _reason(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed connection: refused, timed out, name not resolved ..."""
    for c in _causes(exc):
        name = type(c).__name__
        if "Timeout" in name:
            return f"no answer within {timeout:g} s"
        if isinstance(c, ConnectionRefusedError) or "Connection refused" in str(c):
            return "connection refused"
        if "Name or service not known" in str(c) or "nodename nor servname" in str(c):
            return "host name not found"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:200]


def _within(
    fn: Callable[[], Any],
    seconds: float,
    stop: threading.Event,
    late: Callable[[], Exception],
) -> Any:
    """``fn()``, or ``late()`` raised once ``seconds`` have passed: ``fn`` runs in a thread of
    its own, told to give up through ``stop`` (a read in progress ends within its timeout)."""
    done: dict[str, Any] = {}

    def run() -> None:
        try:
            done["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            done["error"] = exc

    worker = threading.Thread(target=run, name="qdrant-call", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        stop.set()
        raise late()
    if "error" in done:
        raise done["error"]
    return done.get("value")


def _get(http: Any, url: str, stop: threading.Event) -> tuple[int, bytes]:
    """GET ``url``: the status and at most ``PROBE_MAX_BYTES`` of the body, read piece by
    piece so that ``stop`` ends a slow answer."""
    with http.stream("GET", url) as response:
        body = bytearray()
        for piece in response.iter_bytes():
            body += piece
            if stop.is_set() or len(body) > PROBE_MAX_BYTES:
                break
        return int(response.status_code), bytes(body)


def _version_of(status: int, body: bytes) -> str | None:
    """The version in a Qdrant server's root answer, or None for anything else."""
    if status != 200:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    version = data.get("version") if isinstance(data, dict) else None
    return str(version) if version else None


def _check_version(version: str, location: str) -> None:
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return  # a development build: let it try
    if (major, minor) < MIN_SERVER_VERSION:
        need = ".".join(str(x) for x in MIN_SERVER_VERSION)
        raise StoreError(
            f"the Qdrant server at {location} is version {version}; patentsim needs {need} "
            "or newer (it keeps the collection manifest in collection metadata)",
            "upgrade the server: the docker-compose.yml in this project pins a suitable version",
        )


def _quantization_config(kind: str) -> Any:
    """The server's quantization config: the quantized vectors in RAM, None for "none"."""
    m = _models()
    if kind == "int8":
        return m.ScalarQuantization(
            scalar=m.ScalarQuantizationConfig(type=m.ScalarType.INT8, always_ram=True)
        )
    if kind == "binary":
        return m.BinaryQuantization(
            binary=m.BinaryQuantizationConfig(
                always_ram=True,
                encoding=m.BinaryQuantizationEncoding.TWO_BITS,
                query_encoding=m.BinaryQuantizationQueryEncoding.SCALAR8BITS,
            )
        )
    return None


class ServerCollection(PlannedQueries):
    def __init__(self, store: ServerStore, name: str) -> None:
        self.store = store
        self.name = name
        self.client = store.client
        self._quantization: str | None = None
        self.last_plan: SearchPlan | None = None  # how the last query was answered

    def _call(self, fn: Any) -> Any:
        return self.store.call(fn, self.name)

    def read_manifest(self) -> Manifest:
        info = self._call(lambda: self.client.get_collection(self.name))
        meta = info.config.metadata or {}
        raw = meta.get(MANIFEST_KEY)
        if raw is None:
            raise StoreError(
                f"collection '{self.name}' on {self.store.location} has no patentsim manifest",
                f"it was not made by 'ingest load': use another {setting('collection')}",
            )
        try:
            return Manifest.from_json(raw) if isinstance(raw, str) else Manifest.from_dict(raw)
        except ValueError as exc:
            raise StoreError(
                f"the manifest of collection '{self.name}' on {self.store.location} cannot be "
                f"read: {exc}",
                "drop the collection and ingest again",
            ) from exc

    def write_manifest(self, manifest: Manifest) -> None:
        payload = manifest.to_json()
        self._call(
            lambda: self.client.update_collection(self.name, metadata={MANIFEST_KEY: payload})
        )

    def upsert(self, points: Sequence[b.PointData]) -> None:
        m = _models()
        with_vectors = [p for p in points if p.vector is not None or p.sparse_only]
        if with_vectors:
            name = self.dense_name or ""
            structs = [
                m.PointStruct(id=p.id, vector=_model_vectors(p, name), payload=p.payload)
                for p in with_vectors
            ]
            self._call(lambda: self.client.upsert(self.name, points=structs, wait=True))
        payload_only = [(p.id, p.payload) for p in points if p.vector is None and not p.sparse_only]
        if payload_only:
            self.overwrite_payload(payload_only)
            sparse_only = [
                m.PointVectors(id=p.id, vector={b.SPARSE_VECTOR: _model_sparse(p.sparse)})
                for p in points
                if p.vector is None and p.sparse is not None and not p.sparse_only
            ]
            if sparse_only:
                self._call(
                    lambda: self.client.update_vectors(self.name, points=sparse_only, wait=True)
                )

    # -- keyword vectors -------------------------------------------------------------
    def has_sparse(self) -> bool:
        info = self._call(lambda: self.client.get_collection(self.name))
        return b.SPARSE_VECTOR in (info.config.params.sparse_vectors or {})

    def add_dense(self, dimension: int) -> str:
        """Give a keyword-only collection its dense vector, named (``ADDED_DENSE_VECTOR``)."""
        m = _models()
        name = b.ADDED_DENSE_VECTOR
        config = m.DenseVectorNameConfig(
            dense=m.DenseVectorConfig(size=dimension, distance=m.Distance.COSINE)
        )
        self._call(
            lambda: self.client.create_vector_name(
                self.name, vector_name=name, vector_name_config=config, wait=True
            )
        )
        self._dense_name, self._dense_known = name, True
        return name

    def add_sparse(self) -> None:
        """Give a collection made before keyword search its sparse vector (IDF by Qdrant)."""
        if self.has_sparse():
            return
        m = _models()
        config = m.SparseVectorNameConfig(sparse=m.SparseVectorConfig(modifier=m.Modifier.IDF))
        self._call(
            lambda: self.client.create_vector_name(
                self.name, vector_name=b.SPARSE_VECTOR, vector_name_config=config, wait=True
            )
        )

    def set_sparse(self, points: Sequence[tuple[str, b.SparseVector, dict[str, Any]]]) -> None:
        """Write keyword vectors of stored points and merge ``extra`` into their payload."""
        if not points:
            return
        m = _models()
        vectors = [
            m.PointVectors(id=pid, vector={b.SPARSE_VECTOR: _model_sparse(sv)})
            for pid, sv, _ in points
        ]
        self._call(lambda: self.client.update_vectors(self.name, points=vectors, wait=True))
        for pid, _, extra in points:
            if extra:
                self._call(
                    lambda pid=pid, extra=extra: self.client.set_payload(
                        self.name, payload=extra, points=[pid], wait=True
                    )
                )

    # -- queries: the engine's calls (``PlannedQueries`` plans and pages) ----------------
    def _dense(self, vector: Sequence[float], request: SearchRequest) -> list[b.ScoredHit]:
        return self._query(
            request,
            [float(x) for x in vector],
            using=self.dense_name or None,
            search_params=self._search_params(request),
            with_payload=request.with_payload,
        )

    def _sparse(self, vector: b.SparseVector, request: SearchRequest) -> list[b.ScoredHit]:
        return self._query(
            request,
            _model_sparse(vector),
            using=b.SPARSE_VECTOR,
            with_payload=request.with_payload,
        )

    def _dense_batch(
        self, vectors: Sequence[Sequence[float]], request: SearchRequest
    ) -> list[list[b.ScoredHit]]:
        """One ``query_batch_points`` request per batch: a server answers them in one round
        trip instead of one per vector."""
        queries = [[float(x) for x in v] for v in vectors]
        return self._query_batch(
            request, queries, self.dense_name or None, self._search_params(request)
        )

    def _sparse_batch(
        self, vectors: Sequence[b.SparseVector], request: SearchRequest
    ) -> list[list[b.ScoredHit]]:
        return self._query_batch(request, [_model_sparse(v) for v in vectors], b.SPARSE_VECTOR)

    def _query_batch(
        self, request: SearchRequest, queries: Sequence[Any], using: str | None, params: Any = None
    ) -> list[list[b.ScoredHit]]:
        m = _models()
        requests = [
            m.QueryRequest(
                query=query,
                using=using,
                limit=request.limit,
                filter=to_models(request.flt),
                score_threshold=request.score_threshold,
                params=params,
                with_payload=request.with_payload,
            )
            for query in queries
        ]
        responses = self._call(lambda: self.client.query_batch_points(self.name, requests))
        return [[b.ScoredHit.from_point(p) for p in r.points] for r in responses]

    def _fused(self, fused: b.Fused, request: SearchRequest, depth: int) -> list[b.ScoredHit]:
        m = _models()
        model_filter = to_models(request.flt)
        prefetch = [
            m.Prefetch(
                query=[float(x) for x in fused.dense],
                using=self.dense_name or None,
                limit=depth,
                filter=model_filter,
                params=self._search_params(request),
            ),
            m.Prefetch(
                query=_model_sparse(fused.sparse),
                using=b.SPARSE_VECTOR,
                limit=depth,
                filter=model_filter,
            ),
        ]
        query: Any = (
            m.FusionQuery(fusion=m.Fusion.DBSF)
            if fused.fusion == "dbsf"
            else m.RrfQuery(rrf=m.Rrf(k=tuning.RRF_K, weights=[float(w) for w in fused.weights]))
        )
        return self._query(request, query, prefetch=prefetch)

    def _query(
        self,
        request: SearchRequest,
        query: Any,
        *,
        using: str | None = None,
        prefetch: list[Any] | None = None,
        search_params: Any = None,
        with_payload: bool = True,
    ) -> list[b.ScoredHit]:
        """One ``query_points`` call for the page and filter of ``request``."""
        res = self._call(
            lambda: self.client.query_points(
                self.name,
                query=query,
                using=using,
                prefetch=prefetch,
                limit=request.limit,
                offset=request.offset or None,
                query_filter=to_models(request.flt),
                score_threshold=request.score_threshold,
                search_params=search_params,
                with_payload=with_payload,
            )
        )
        return [b.ScoredHit.from_point(p) for p in res.points]

    def _estimate(self, flt: Filter | None) -> int:
        """The payload indexes' estimate of the points ``flt`` matches (all without one)."""
        res = self._call(
            lambda: self.client.count(self.name, count_filter=to_models(flt), exact=False)
        )
        return int(res.count)

    def _search_params(self, request: SearchRequest) -> Any:
        """How the dense search walks, as the plan says (None for the in-memory stand-in)."""
        m = _models()
        quantization = self._search_quantization()
        return m.SearchParams(
            hnsw_ef=request.hnsw_ef,
            exact=request.exact,
            quantization=(
                m.QuantizationSearchParams(
                    rescore=True, oversampling=tuning.OVERSAMPLING[quantization]
                )
                if request.rescore or quantization not in tuning.RANKS_UNRESCORED
                else m.QuantizationSearchParams(rescore=False)
            )
            if quantization != "none"
            else None,
        )

    def set_payload(self, ids: Sequence[str], values: dict[str, Any]) -> None:
        if ids:
            self._call(
                lambda: self.client.set_payload(
                    self.name, payload=values, points=list(ids), wait=True
                )
            )

    def room_for_update(self, need: int, index: tuple[str, str] | None, what: str) -> None:
        return None  # the server looks after its own disk

    def delete_payload(self, ids: Sequence[str], keys: Sequence[str]) -> None:
        if ids and keys:
            self._call(
                lambda: self.client.delete_payload(
                    self.name, keys=list(keys), points=list(ids), wait=True
                )
            )

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
        return [b.StoredPoint.from_record(r, self.dense_name) for r in records]

    def _search_quantization(self) -> str:
        if self._quantization is None:
            self._quantization = self.read_manifest().layout.quantization
        return self._quantization

    def count(self, flt: Filter | None = None) -> int:
        res = self._call(
            lambda: self.client.count(self.name, count_filter=to_models(flt), exact=True)
        )
        return int(res.count)

    def facet(
        self, key: str, *, flt: Filter | None = None, limit: int = 10
    ) -> list[tuple[Any, int]]:
        if self._unindexed(key):  # a field left without an index (ingest/indexing.py)
            return self.facet_by_scan(key, flt, limit)
        res = self._call(
            lambda: self.client.facet(
                self.name,
                key=json_path(key),
                facet_filter=to_models(flt),
                limit=limit,
                exact=True,
            )
        )
        return [(h.value, int(h.count)) for h in res.hits]

    def _scroll_pages(
        self, flt: Filter | None, with_vectors: bool, with_payload: bool | Sequence[str], batch: int
    ) -> Callable[[Any], tuple[list[Any], Any]]:
        payload_arg = (
            with_payload if isinstance(with_payload, bool) else [json_path(k) for k in with_payload]
        )

        def page(offset: Any) -> tuple[list[Any], Any]:
            records, after = self._call(
                lambda: self.client.scroll(
                    self.name,
                    scroll_filter=to_models(flt),
                    limit=batch,
                    offset=offset,
                    with_payload=payload_arg,
                    with_vectors=with_vectors,
                )
            )
            return list(records), after

        return page

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
        elif index_type == "terms":
            # Analyzed terms (patentsim.embed.analyzer), separated by spaces, already lowercase.
            schema = m.TextIndexParams(
                type=m.TextIndexType.TEXT,
                tokenizer=m.TokenizerType.WHITESPACE,
                lowercase=False,
                min_token_len=1,
            )
        else:
            schema = m.PayloadSchemaType(index_type)
        self._call(
            lambda: self.client.create_payload_index(
                self.name, field_name=json_path(key), field_schema=schema, wait=True
            )
        )

    def _unindexed(self, key: str) -> bool:
        """A field the manifest leaves without an index (an older manifest indexes all)."""
        fields = self.read_manifest().fields
        spec = fields.get(key)
        if spec is None:  # a name field's keys: indexed unless the budget left them out
            return any(s.names == key and not s.names_indexed for s in fields.values())
        return spec.index is None

    def indexes(self) -> dict[str, str]:
        info = self._call(lambda: self.client.get_collection(self.name))
        out = {}
        for key, schema in (info.payload_schema or {}).items():
            dtype = getattr(schema, "data_type", None)
            out[key_of(key)] = str(getattr(dtype, "value", dtype))
            tokenizer = getattr(getattr(schema, "params", None), "tokenizer", None)
            if out[key_of(key)] == "text" and str(getattr(tokenizer, "value", tokenizer)) == (
                "whitespace"
            ):
                out[key_of(key)] = "terms"
        return out

    def optimize(self) -> None:
        """The server builds its HNSW index by itself in the background."""

    def checkpoint(self) -> None:
        """The server indexes and manages its own memory while points arrive."""

    def flush(self) -> None:
        """Writes are acknowledged with wait=True; nothing to flush."""


def _model_sparse(sv: b.SparseVector | None) -> Any:
    m = _models()
    if sv is None:
        return m.SparseVector(indices=[], values=[])
    return m.SparseVector(indices=list(sv.indices), values=list(sv.values))


def _model_vectors(p: b.PointData, dense_name: str = "") -> Any:
    if p.vector is None:  # a keyword-only point
        return {b.SPARSE_VECTOR: _model_sparse(p.sparse)}
    dense = [float(x) for x in p.vector]
    if p.sparse is None and not dense_name:
        return dense
    out: dict[str, Any] = {dense_name: dense}
    if p.sparse is not None:
        out[b.SPARSE_VECTOR] = _model_sparse(p.sparse)
    return out


def to_models(flt: Filter | None) -> Any:
    """The shared filter model as qdrant-client's models.Filter (None for no filter)."""
    return translate(flt, _ModelFilterParts(_models()))


class _ModelFilterParts:
    """qdrant-client's parts of a filter (``filters.FilterParts``)."""

    def __init__(self, models: Any) -> None:
        self.m = models

    def match_value(self, key: str, value: Scalar) -> Any:
        return self.m.FieldCondition(key=key, match=self.m.MatchValue(value=value))

    def match_any(self, key: str, values: list[Scalar]) -> Any:
        return self.m.FieldCondition(key=key, match=self.m.MatchAny(any=values))

    def range(self, key: str, bounds: Range) -> Any:
        given = {"gt": bounds.gt, "gte": bounds.gte, "lt": bounds.lt, "lte": bounds.lte}
        given = {k: v for k, v in given.items() if v is not None}
        rng = self.m.DatetimeRange(**given) if bounds.datetime else self.m.Range(**given)
        return self.m.FieldCondition(key=key, range=rng)

    def text(self, key: str, text: str) -> Any:
        return self.m.FieldCondition(key=key, match=self.m.MatchText(text=text))

    def empty(self, key: str) -> Any:
        return self.m.IsEmptyCondition(is_empty=self.m.PayloadField(key=key))

    def has_id(self, ids: tuple[str | int, ...]) -> Any:
        return self.m.HasIdCondition(has_id=list(ids))

    def filter(
        self, must: list[Any] | None, should: list[Any] | None, must_not: list[Any] | None
    ) -> Any:
        return self.m.Filter(must=must, should=should, must_not=must_not)


# -- qdrant-client's in-process imitation of a server --------------------------------------


class MemoryCollection(ServerCollection):
    """A collection of the in-process imitation: exact search, no payload indexes (it has
    none, and warns about search parameters and indexes on each call)."""

    def _query_plan(self, flt: Filter | None, limit: int, free_text: bool) -> SearchPlan:
        return SearchPlan(exact=True, hnsw_ef=tuning.HNSW_EF_SEARCH)

    def _search_params(self, request: SearchRequest) -> Any:
        return None

    def ensure_index(self, key: str, index_type: str) -> None:
        return None


class MemoryStore(ServerStore):
    """``:memory:``: qdrant-client's in-process imitation of a server, one per process,
    standing in for a server where none runs (tests, examples).  Its calls take turns."""

    def __init__(self) -> None:
        self.url = self.location = MEMORY_URL
        self._api_key = None
        self.probe_timeout = PROBE_TIMEOUT_S
        self._checked = True
        if MEMORY_URL not in _MEMORY_CLIENTS:
            from qdrant_client import QdrantClient

            _MEMORY_CLIENTS[MEMORY_URL] = QdrantClient(MEMORY_URL)
        self._client = _MEMORY_CLIENTS[MEMORY_URL]
        self.timeout = 30

    def _collection(self, name: str) -> ServerCollection:
        return MemoryCollection(self, name)

    def _run(self, fn: Any) -> Any:
        with _MEMORY_LOCK:
            return fn()

    def close(self) -> None:
        """The imitation lives as long as the process: its collections stay for the next open."""
