"""The embedded backend: Qdrant's engine in-process through ``qdrant-edge-py``.

Layout under the store folder (``--path`` / ``QDRANT_PATH``)::

    <path>/<collection>/manifest.json   the manifest (written atomically)
    <path>/<collection>/shard/          the Edge shard (segments, WAL)
    <path>/<collection>/.lock           locked by the process using it (``lockfile``)
    <path>/<collection>/.holder         that process's pid, for the message below

Edge lets one process open a shard at a time; the lock file turns the
engine's "WouldBlock" into a clear "in use by process N" error.  The lock is an
operating-system file lock on every platform, dropped with the process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import (
    CollectionDamaged,
    CollectionExists,
    CollectionNotFound,
    DiskFull,
    StoreError,
    StoreLocked,
    setting,
)
from . import backend as b
from . import health, space, tuning
from .filters import Filter, Range, Scalar, translate
from .lockfile import LOCK_FILE, Busy, FolderLock, LockUnavailable
from .manifest import Layout, Manifest, write_json_atomic
from .paths import json_path, key_of
from .plan import SearchPlan
from .queries import PlannedQueries, SearchRequest

_NAME = re.compile(r"^[^/\\\x00]{1,200}$")

# Files of a large collection's segments that the engine memory-maps and reads in full when
# it opens the shard: the quantized vectors (``Memory.Cached``) and the HNSW links.  Left to
# the engine they come in one page fault at a time; read sequentially first, the open is
# several times faster (numbers: docs/scaling.md, "When to move from the embedded store to
# a server").  The names are the engine's; a test checks they still match.
PREREAD_FILES = ("vector_storage/quantized*", "vector_index/links*")
_PREREAD_CHUNK = 8 << 20

_INDEX = {
    "keyword": "Keyword",
    "integer": "Integer",
    "float": "Float",
    "datetime": "Datetime",
    "bool": "Bool",
    "text": "Text",
    "terms": "Text",
}


def _qe() -> Any:
    import qdrant_edge

    return qdrant_edge


def check_name(name: str) -> str:
    if not _NAME.match(name) or name in {".", ".."} or name.startswith("."):
        raise StoreError(
            f"invalid collection name {name!r}",
            "use letters, digits, '_', '-' or '.', not starting with '.'",
        )
    return name


class EngineError(StoreError):
    """The engine refused a call (its own error, not one of ours about the collection)."""


class EdgeStore:
    kind = "embedded"

    def __init__(self, path: str | os.PathLike[str], *, wait: float = 0.0) -> None:
        self.root = Path(path)
        self.location = str(self.root.resolve())
        self.wait = wait
        self._open: dict[str, EdgeCollection] = {}

    def _dir(self, name: str) -> Path:
        return self.root / check_name(name)

    def list(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / "manifest.json").is_file())

    def exists(self, name: str) -> bool:
        return (self._dir(name) / "manifest.json").is_file()

    def check_writable(self) -> None:
        """Fail now, before a model loads and texts are embedded, where nothing can be created."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the store folder {self.root}: {exc.strerror}",
                f"choose a writable {setting('path')} or set QDRANT_PATH",
            ) from exc
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreError(
                f"the store folder {self.location} is not writable",
                f"fix its permissions, or choose a writable {setting('path')} or QDRANT_PATH",
            )

    def create(
        self, name: str, dimension: int, manifest: Manifest, options: b.CreateOptions
    ) -> EdgeCollection:
        folder = self._dir(name)
        if self.exists(name):
            raise CollectionExists(f"collection '{name}' already exists in {self.location}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create {folder}: {exc.strerror}",
                f"choose a writable {setting('path')} or set QDRANT_PATH",
            ) from exc
        coll = EdgeCollection(name, folder, wait=self.wait)
        try:
            # Locked before anything is touched: another process may be creating it too.
            coll.lock()
            if self.exists(name):
                raise CollectionExists(
                    f"collection '{name}' was just created in {self.location} by another process",
                    "run the command again to add to it",
                )
            # A folder left by a crash before the manifest existed holds nothing of value.
            shutil.rmtree(folder / "shard", ignore_errors=True)
            quantization, on_disk = options.layout()
            manifest = dataclasses.replace(
                manifest,
                layout=Layout(
                    dimension,
                    on_disk,
                    quantization,
                    indexes_on_disk=options.large,
                    # The placement of its quantized vectors (`_config`); `ingest info` says it.
                    quantized_memory=b.LARGE_QUANTIZED_MEMORY
                    if options.large and quantization != "none"
                    else None,
                ),
            )
            coll.write_manifest(manifest)
            coll.create_shard(dimension, on_disk=on_disk, quantization=quantization)
        except BaseException:
            coll.close()
            raise
        self._open[name] = coll
        return coll

    def open(self, name: str, *, verify: bool = True) -> EdgeCollection:
        """The collection, opened; ``verify``: refuse a damaged one (``health``), as every
        command does (``ingest check`` opens it to say what is wrong)."""
        if name in self._open:
            return self._open[name]
        if not self.exists(name):
            raise CollectionNotFound(
                f"no collection '{name}' in {self.location}",
                _available(self.list()),
            )
        coll = EdgeCollection(name, self._dir(name), wait=self.wait)
        try:
            try:
                coll.load_shard(verify=verify)
            except EngineError as exc:
                # The engine cannot open files that a finished command left: they are damaged.
                why = f"the engine cannot open it ({_short(exc.__cause__)})"
                raise coll.damaged([why]) from exc
            if verify:
                coll.verify()
        except BaseException:
            coll.close()
            raise
        self._open[name] = coll
        return coll

    def room_for_load(
        self,
        name: str,
        rows: int,
        dimension: int,
        cells_bytes: int,
        indexes: int = 0,
        text_indexes: int = 0,
        new: bool = True,
    ) -> None:
        """Refuse (``DiskFull``) a load that the disk cannot hold (about: ``rows`` new
        documents, ``space.rows_bytes``, and a ``new`` collection's files and payload
        indexes), before its first text is embedded."""
        c = space.costs(self.root)
        need = space.rows_bytes(rows, dimension, cells_bytes)
        need += indexes * c.index + text_indexes * c.text_index + (c.base if new else 0)
        what = f"{rows:,} rows of {dimension}-d vectors and their cells"
        space.ensure(
            self.root, need, f"collection '{name}' ({what})" if new else f"this load ({what})"
        )

    def drop(self, name: str) -> None:
        if not self.exists(name) and not self._dir(name).is_dir():
            raise CollectionNotFound(f"no collection '{name}' in {self.location}")
        coll = self._open.pop(name, None) or EdgeCollection(name, self._dir(name), wait=self.wait)
        coll.lock()
        try:
            coll.close_shard()
            # Remove the manifest first: a crash midway leaves a folder that is not listed.
            with contextlib.suppress(FileNotFoundError):
                (coll.folder / "manifest.json").unlink()
            for child in coll.folder.iterdir():
                if child.name == LOCK_FILE:
                    # POSIX removes a locked file; Windows refuses while it is open (below).
                    with contextlib.suppress(OSError):
                        child.unlink()
                elif child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        child.unlink()
        finally:
            coll.unlock()
        # Windows: the lock file goes once closed, unless another process opened it meanwhile
        # (then it stays, with the folder, which is not listed without a manifest).
        with contextlib.suppress(OSError):
            (coll.folder / LOCK_FILE).unlink(missing_ok=True)
            coll.folder.rmdir()

    def close_collection(self, name: str) -> None:
        coll = self._open.pop(name, None)
        if coll is not None:
            coll.close()

    def collection_location(self, name: str) -> str:
        return f"{self.location}/{name}"

    def close(self) -> None:
        for coll in list(self._open.values()):
            coll.close()
        self._open.clear()


def _available(names: list[str]) -> str:
    if not names:
        return "the store is empty: run 'ingest load FILE' first"
    return "collections here: " + ", ".join(names)


class EdgeCollection(PlannedQueries):
    def __init__(self, name: str, folder: Path, *, wait: float = 0.0) -> None:
        self.name = name
        self.folder = folder
        self.wait = wait
        self._shard: Any = None
        self._lock = FolderLock(folder)
        self._quantization: str | None = None
        self._indexes_on_disk: bool | None = None
        self._segment_points: int | None = None  # a large collection's merge limit, if set
        self._costs: space.Costs | None = None
        self._written = 0  # bytes of vectors written since the shard opened (optimize's copy)
        self.last_plan: SearchPlan | None = None  # how the last query was answered

    # -- locking and lifecycle -------------------------------------------------
    def lock(self) -> None:
        try:
            self._lock.acquire(self.wait)
        except Busy as exc:
            who = f" ({exc.who})" if exc.who else ""
            raise StoreLocked(
                f"collection '{self.name}' in {self.folder.parent} is in use by process "
                f"{exc.pid}{who}",
                f"wait for it to finish (or pass {setting('wait')} SECONDS), or stop that process",
                pid=exc.pid,
                who=exc.who,
            ) from None
        except LockUnavailable as exc:
            raise StoreError(
                str(exc), f"check the folder's permissions or choose another {setting('path')}"
            ) from exc

    def unlock(self) -> None:
        self._lock.release()

    def create_shard(
        self, dimension: int, *, on_disk: bool = False, quantization: str = "none"
    ) -> None:
        qe = _qe()
        self.lock()
        self.room(self.costs.base, f"a new collection '{self.name}'")
        config = self._config(dimension, on_disk, quantization)
        self._shard = self._engine(lambda: qe.EdgeShard.create(str(self.folder / "shard"), config))
        self._quantization = quantization

    def _config(
        self, dimension: int, on_disk: bool, quantization: str, segment_points: int | None = None
    ) -> Any:
        qe = _qe()
        sparse_memory = qe.Memory.Cold if self.indexes_on_disk else None
        vectors: Any = {}  # dimension 0: keyword-only, no dense vector
        if dimension:
            vectors = qe.EdgeVectorParams(
                size=dimension, distance=qe.Distance.Cosine, on_disk=on_disk
            )
        return qe.EdgeConfig(
            vectors=vectors,
            sparse_vectors={
                b.SPARSE_VECTOR: qe.EdgeSparseVectorParams(
                    modifier=qe.Modifier.Idf, memory=sparse_memory
                )
            },
            hnsw_config=qe.HnswIndexConfig(
                m=tuning.HNSW_M,
                ef_construct=tuning.HNSW_EF_CONSTRUCT,
                full_scan_threshold=tuning.FULL_SCAN_THRESHOLD_KB,
            ),
            quantization_config=_quantization_config(quantization, mapped=self.quantized_mapped),
            optimizers=self._optimizers(dimension, segment_points),
        )

    def _optimizers(self, dimension: int, segment_points: int | None = None) -> Any:
        """The optimizer settings; a large collection merges segments up to
        ``segment_points`` (by default LARGE_SEGMENT_POINTS: while it is being written)."""
        qe = _qe()
        options: dict[str, int] = {}
        if tuning.INDEXING_THRESHOLD_KB is not None:
            options["indexing_threshold"] = tuning.INDEXING_THRESHOLD_KB
        if self.indexes_on_disk:
            points = segment_points or tuning.LARGE_SEGMENT_POINTS
            # The engine measures a segment by its vectors' size (KB); float32 originals.
            options["max_segment_size"] = points * dimension * 4 // 1024 + 1
            self._segment_points = points
        return qe.EdgeOptimizersConfig(**options) if options else None

    def load_shard(self, segment_points: int | None = None, *, verify: bool = False) -> None:
        """Open the shard; ``segment_points``: merge segments up to this many points from now
        on (a large collection's setting, kept by the engine); ``verify``: check its files
        first (``health.check_files``)."""
        qe = _qe()
        self.lock()
        if not (self.folder / "manifest.json").is_file():
            # Dropped by another process while this one waited for it (--wait).
            raise CollectionNotFound(
                f"collection '{self.name}' in {self.folder.parent} was dropped while this "
                "command waited for it",
                "run the command again ('ingest load' makes it anew)",
            )
        shard_dir = self.folder / "shard"
        if verify and (shard_dir / "edge_config.json").is_file():
            problems = health.check_files(shard_dir, health.expected_points(self.read_manifest()))
            if problems:
                raise self.damaged(problems)
        if not (shard_dir / "edge_config.json").is_file():
            # Killed between writing the manifest and creating the shard: finish the job.
            layout = self.read_manifest().layout
            self.create_shard(
                _dimension(layout, self.name),
                on_disk=layout.on_disk,
                quantization=layout.quantization,
            )
            return
        if self.indexes_on_disk:
            preread(shard_dir)
        config = None
        if segment_points is not None:
            layout = self.read_manifest().layout
            config = self._config(
                _dimension(layout, self.name), layout.on_disk, layout.quantization, segment_points
            )
        # Opening writes the shard's configuration (and, on tmpfs, reads allocate).
        self.room(self.costs.open, f"opening collection '{self.name}'")
        self._shard = self._engine(lambda: qe.EdgeShard.load(str(shard_dir), config))

    @property
    def costs(self) -> space.Costs:
        if self._costs is None:
            self._costs = space.costs(self.folder)
        return self._costs

    def room(self, need: int, what: str) -> None:
        """Refuse (``DiskFull``) a write of about ``need`` bytes the disk has no room for;
        on tmpfs, where the engine's reads allocate too, the collection's unallocated
        files count as well (``space``)."""
        if self.costs.reads_allocate:
            need += space.holes(self.folder / "shard", skip=space.NOT_READ_IN_FULL)
        space.ensure(self.folder, need, what)

    def verify(self) -> None:
        """Refuse an open collection that disagrees with its manifest (``health``)."""
        problems = health.check_open(self, health.expected_points(self.read_manifest()))
        if problems:
            raise self.damaged(problems)

    def damaged(self, problems: list[str]) -> CollectionDamaged:
        try:
            sources = health.source_files(self.read_manifest())
        except StoreError:
            sources = []
        return health.damaged(self.name, str(self.folder.parent), problems, sources)

    def point_count(self) -> int:
        """The points the engine holds (its own count, no filter)."""
        return int(self._engine(lambda: self.shard.info()).points_count)

    def sample_vectors(self, n: int) -> list[tuple[str, float]]:
        """(key, norm) of the dense vectors of the first ``n`` points, in id order."""
        import math

        dense = self.dense_name
        if dense is None:
            return []  # a keyword-only collection: no dense vectors to read
        req = _qe().ScrollRequest(limit=n, with_payload=["_key"], with_vector=True)
        with quiet_stderr():  # a damaged payload file panics here: our message says it
            records, _ = self._engine(lambda: self.shard.scroll(req))
        out = []
        for r in records:
            point = b.StoredPoint.from_record(r, dense)
            vector = point.vector or []
            out.append(
                (str(point.payload.get("_key", point.id)), math.sqrt(sum(x * x for x in vector)))
            )
        return out

    def close_shard(self) -> None:
        if self._shard is not None:
            shard = self._shard
            try:
                self._engine(shard.flush)
                self._engine(shard.close)
            finally:
                self._shard = None

    def close(self) -> None:
        try:
            self.close_shard()
        finally:
            self.unlock()

    def _engine(self, fn: Any) -> Any:
        """Run an engine call, folding its errors into ours."""
        try:
            return fn()
        except BaseException as exc:  # the engine raises bare Exception, or panics
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise
            text = str(exc)
            if not isinstance(exc, Exception):
                # A Rust panic: the engine met a file it cannot read.
                raise self.damaged([f"the engine failed reading it ({_short(exc)})"]) from None
            if "WouldBlock" in text:
                raise StoreLocked(
                    f"collection '{self.name}' in {self.folder.parent} is in use by another "
                    "process",
                    "wait for it to finish, or stop that process",
                ) from exc
            if "No space left" in text or "os error 28" in text:
                raise DiskFull(
                    f"the disk holding {self.folder} is full",
                    "free some space and run the command again; stored data is kept",
                ) from exc
            raise EngineError(f"embedded store error in '{self.name}': {text}") from exc

    @property
    def indexes_on_disk(self) -> bool:
        """Payload and keyword indexes memory-mapped from disk (a large collection)."""
        if self._indexes_on_disk is None:
            self._indexes_on_disk = self.read_manifest().layout.indexes_on_disk
        return self._indexes_on_disk

    def _large(self) -> bool:
        return self.indexes_on_disk

    @property
    def quantized_mapped(self) -> bool:
        """Quantized vectors memory-mapped, as the manifest records (large collections made
        before this placement keep theirs in RAM, also when they grow)."""
        return self.read_manifest().layout.quantized_memory == b.LARGE_QUANTIZED_MEMORY

    @property
    def shard(self) -> Any:
        if self._shard is None:
            raise StoreError(f"collection '{self.name}' is closed")
        return self._shard

    # -- manifest ----------------------------------------------------------------
    def read_manifest(self) -> Manifest:
        path = self.folder / "manifest.json"
        try:
            return Manifest.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError as exc:
            raise CollectionNotFound(
                f"no collection '{self.name}' in {self.folder.parent}"
            ) from exc
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"the manifest {path} cannot be read: {exc}",
                "restore it from a backup, or drop the collection and ingest again",
            ) from exc

    def write_manifest(self, manifest: Manifest) -> None:
        try:
            write_json_atomic(self.folder / "manifest.json", manifest.to_dict())
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise DiskFull(
                    f"the disk holding {self.folder} is full: cannot write the manifest of "
                    f"'{self.name}' ({exc.strerror})",
                    "free some space and run the command again; stored data is kept",
                ) from exc
            raise StoreError(f"cannot write the manifest of '{self.name}': {exc.strerror}") from exc

    # -- data ----------------------------------------------------------------------
    def upsert(self, points: Sequence[b.PointData]) -> None:
        qe = _qe()
        need = space.points_bytes(points)
        self.room(need, f"writing {len(points):,} documents")
        self._written += sum(4 * len(p.vector) for p in points if p.vector is not None)
        with_vectors = [p for p in points if p.vector is not None or p.sparse_only]
        payload_only = [(p.id, p.payload) for p in points if p.vector is None and not p.sparse_only]
        if with_vectors:
            name = self.dense_name or ""
            batch = [qe.Point(p.id, _edge_vectors(p, name), p.payload) for p in with_vectors]
            self._engine(lambda: self.shard.update(qe.UpdateOperation.upsert_points(batch)))
        if payload_only:
            self.overwrite_payload(payload_only)
            sparse_only = [
                qe.PointVectors(p.id, {b.SPARSE_VECTOR: _edge_sparse(p.sparse)})
                for p in points
                if p.vector is None and p.sparse is not None and not p.sparse_only
            ]
            if sparse_only:
                op = qe.UpdateOperation.update_vectors(sparse_only)
                self._engine(lambda: self.shard.update(op))

    # -- keyword vectors -------------------------------------------------------------
    def has_sparse(self) -> bool:
        path = self.folder / "shard" / "edge_config.json"
        try:
            config = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return b.SPARSE_VECTOR in (config.get("sparse_vectors") or {})

    def add_dense(self, dimension: int) -> str:
        """Give a keyword-only collection its dense vector, named (``ADDED_DENSE_VECTOR``)."""
        qe = _qe()
        name = b.ADDED_DENSE_VECTOR
        op = qe.UpdateOperation.create_dense_vector(name, dimension, qe.Distance.Cosine)
        self._engine(lambda: self.shard.update(op))
        self._engine(lambda: self.shard.flush())
        self._dense_name, self._dense_known = name, True
        return name

    def add_sparse(self) -> None:
        """Give a collection made before keyword search its sparse vector (IDF by Qdrant)."""
        if self.has_sparse():
            return
        qe = _qe()
        op = qe.UpdateOperation.create_sparse_vector(b.SPARSE_VECTOR, qe.Modifier.Idf)
        self._engine(lambda: self.shard.update(op))
        self._engine(lambda: self.shard.flush())

    def set_sparse(self, points: Sequence[tuple[str, b.SparseVector, dict[str, Any]]]) -> None:
        """Write keyword vectors of stored points and merge ``extra`` into their payload."""
        if not points:
            return
        qe = _qe()
        self.room(space.POINT_BYTES * len(points), f"keyword vectors of {len(points):,} documents")
        vectors = [
            qe.PointVectors(pid, {b.SPARSE_VECTOR: _edge_sparse(sv)}) for pid, sv, _ in points
        ]
        self._engine(lambda: self.shard.update(qe.UpdateOperation.update_vectors(vectors)))
        for pid, _, extra in points:
            if extra:
                op = qe.UpdateOperation.set_payload([pid], extra)
                self._engine(lambda op=op: self.shard.update(op))

    # -- queries: the engine's calls (``PlannedQueries`` plans and pages) ----------------
    def _dense(self, vector: Sequence[float], request: SearchRequest) -> list[b.ScoredHit]:
        return self._query(
            request,
            _qe().Query.Nearest([float(x) for x in vector], using=self.dense_name or None),
            params=self._search_params(request),
            with_payload=request.with_payload,
        )

    def _sparse(self, vector: b.SparseVector, request: SearchRequest) -> list[b.ScoredHit]:
        query = _qe().Query.Nearest(_edge_sparse(vector), using=b.SPARSE_VECTOR)
        return self._query(request, query, with_payload=request.with_payload)

    # ``neighbours`` (near-duplicates) asks thousands of searches: one ``query_batch`` call
    # per batch, its points read as (id, score) pairs without building hits.
    def _dense_pairs(
        self, vectors: Sequence[Sequence[float]], request: SearchRequest
    ) -> list[list[tuple[str, float]]]:
        qe = _qe()
        using = self.dense_name or None
        queries = [qe.Query.Nearest(_floats(v), using=using) for v in vectors]
        answers = self._query_batch(request, queries, self._search_params(request))
        return [[(str(p.id), p.score) for p in points] for points in answers]

    def _sparse_pairs(
        self, vectors: Sequence[b.SparseVector], request: SearchRequest
    ) -> list[list[tuple[str, float]]]:
        qe = _qe()
        queries = [qe.Query.Nearest(_edge_sparse(v), using=b.SPARSE_VECTOR) for v in vectors]
        answers = self._query_batch(request, queries, None)
        return [[(str(p.id), p.score) for p in points] for points in answers]

    def _query_batch(self, request: SearchRequest, queries: Sequence[Any], params: Any) -> Any:
        """One engine ``query_batch`` call for ``queries`` with the page and filter of
        ``request``: the engine plans the batch once and answers each query as ``query``
        would (the same points and scores: tests/test_dups_batch.py)."""
        qe = _qe()
        edge_filter = to_edge(request.flt)
        batch = qe.QueryBatchRequest(
            [
                qe.QueryRequest(
                    limit=request.limit,
                    offset=request.offset,
                    query=query,
                    filter=edge_filter,
                    score_threshold=request.score_threshold,
                    params=params,
                    with_payload=request.with_payload,
                )
                for query in queries
            ]
        )
        return self._engine(lambda: self.shard.query_batch(batch))

    def _fused(self, fused: b.Fused, request: SearchRequest, depth: int) -> list[b.ScoredHit]:
        qe = _qe()
        edge_filter = to_edge(request.flt)
        using = self.dense_name or None
        prefetches = [
            qe.Prefetch(
                limit=depth,
                query=qe.Query.Nearest([float(x) for x in fused.dense], using=using),
                filter=edge_filter,
                params=self._search_params(request),
            ),
            qe.Prefetch(
                limit=depth,
                query=qe.Query.Nearest(_edge_sparse(fused.sparse), using=b.SPARSE_VECTOR),
                filter=edge_filter,
            ),
        ]
        fusion: Any = (
            qe.Fusion.Dbsf()
            if fused.fusion == "dbsf"
            else qe.Fusion.Rrf(k=tuning.RRF_K, weights=[float(w) for w in fused.weights])
        )
        return self._query(request, fusion, prefetches=prefetches)

    def _query(
        self,
        request: SearchRequest,
        query: Any,
        *,
        params: Any = None,
        prefetches: list[Any] | None = None,
        with_payload: bool = True,
    ) -> list[b.ScoredHit]:
        """One engine query for the page and filter of ``request``."""
        engine_request = _qe().QueryRequest(
            limit=request.limit,
            offset=request.offset,
            query=query,
            prefetches=prefetches,
            filter=to_edge(request.flt),
            score_threshold=request.score_threshold,
            params=params,
            with_payload=with_payload,
        )
        points = self._engine(lambda: self.shard.query(engine_request))
        return [b.ScoredHit.from_point(p) for p in points]

    def _estimate(self, flt: Filter | None) -> int:
        if flt is None:
            return int(self._engine(lambda: self.shard.info()).points_count)
        # The payload indexes' estimate: no vector and no payload is read.
        req = _qe().CountRequest(exact=False, filter=to_edge(flt))
        return int(self._engine(lambda: self.shard.count(req)))

    def _search_params(self, request: SearchRequest) -> Any:
        quantization = self._search_quantization()
        if not request.rescore and self._quantization in tuning.RANKS_UNRESCORED:
            quantization = _qe().QuantizationSearchParams(rescore=False)
        return _qe().SearchParams(
            hnsw_ef=request.hnsw_ef, exact=request.exact, quantization=quantization
        )

    def _layout(self) -> tuple[int, int | None]:
        info = self._engine(lambda: self.shard.info())
        return int(info.segments_count), int(info.points_count)

    def overwrite_payload(self, points: Sequence[tuple[str, dict[str, Any]]]) -> None:
        qe = _qe()
        need = sum(space.PAYLOAD_FACTOR * len(json.dumps(p, ensure_ascii=False)) for _, p in points)
        self.room(need, f"rewriting the payload of {len(points):,} documents")
        for pid, payload in points:
            op = qe.UpdateOperation.overwrite_payload([pid], payload)
            self._engine(lambda op=op: self.shard.update(op))

    def room_for_update(self, need: int, index: tuple[str, str] | None, what: str) -> None:
        if index is not None and self.indexes().get(index[0]) != index[1]:
            need += self.costs.text_index if index[1] in ("text", "terms") else self.costs.index
        # The manifest is written beside the old one, then moved over it.
        with contextlib.suppress(OSError):
            need += (self.folder / "manifest.json").stat().st_size
        self.room(need, what)

    def set_payload(self, ids: Sequence[str], values: dict[str, Any]) -> None:
        if ids:
            op = _qe().UpdateOperation.set_payload(list(ids), values)
            self._engine(lambda: self.shard.update(op))

    def delete_payload(self, ids: Sequence[str], keys: Sequence[str]) -> None:
        if ids and keys:
            op = _qe().UpdateOperation.delete_payload(list(ids), list(keys))
            self._engine(lambda: self.shard.update(op))

    def retrieve(
        self, ids: Sequence[str], *, with_vectors: bool = False, with_payload: bool = True
    ) -> list[b.StoredPoint]:
        if not ids:
            return []
        records = self._engine(lambda: self.shard.retrieve(list(ids), with_payload, with_vectors))
        return [b.StoredPoint.from_record(r, self.dense_name) for r in records]

    def _search_quantization(self) -> Any:
        """Rescoring with the original vectors, with oversampling, on a quantized collection."""
        if self._quantization is None:
            try:
                self._quantization = self.read_manifest().layout.quantization
            except StoreError:
                self._quantization = "none"
        if self._quantization == "none":
            return None
        return _qe().QuantizationSearchParams(
            rescore=True, oversampling=tuning.OVERSAMPLING[self._quantization]
        )

    def count(self, flt: Filter | None = None) -> int:
        qe = _qe()
        req = qe.CountRequest(exact=True, filter=to_edge(flt))
        return int(self._engine(lambda: self.shard.count(req)))

    def facet(
        self, key: str, *, flt: Filter | None = None, limit: int = 10
    ) -> list[tuple[Any, int]]:
        if key not in self.indexes():  # a field left without an index (ingest/indexing.py)
            return self.facet_by_scan(key, flt, limit)
        qe = _qe()
        req = qe.FacetRequest(json_path(key), limit=limit, exact=True, filter=to_edge(flt))
        hits = self._engine(lambda: self.shard.facet(req)).hits
        return [(_plain(h.value), int(h.count)) for h in hits]

    def _scroll_pages(
        self, flt: Filter | None, with_vectors: bool, with_payload: bool | Sequence[str], batch: int
    ) -> Callable[[Any], tuple[list[Any], Any]]:
        qe = _qe()
        payload_arg: Any = with_payload
        if not isinstance(with_payload, bool):
            payload_arg = qe.PayloadSelector.Include([json_path(k) for k in with_payload])
        edge_filter = to_edge(flt)

        def page(offset: Any) -> tuple[list[Any], Any]:
            req = qe.ScrollRequest(
                offset=offset,
                limit=batch,
                filter=edge_filter,
                with_payload=payload_arg,
                with_vector=with_vectors,
            )
            records, after = self._engine(lambda: self.shard.scroll(req))
            return list(records), after

        return page

    def delete(self, ids: Sequence[str]) -> None:
        if ids:
            qe = _qe()
            self._engine(lambda: self.shard.update(qe.UpdateOperation.delete_points(list(ids))))

    def ensure_index(self, key: str, index_type: str) -> None:
        qe = _qe()
        current = self.indexes()
        if current.get(key) == index_type:
            return
        text = index_type in ("text", "terms")
        self.room(self.costs.text_index if text else self.costs.index, f"an index of '{key}'")
        if key in current:
            self._engine(
                lambda: self.shard.update(qe.UpdateOperation.delete_field_index(json_path(key)))
            )
        schema: Any
        memory = qe.Memory.Cold if self.indexes_on_disk else None
        if index_type == "text":
            schema = qe.TextIndexParams(
                tokenizer=qe.TokenizerType.Multilingual,
                lowercase=True,
                min_token_len=1,
                memory=memory,
            )
        elif index_type == "terms":
            # Analyzed terms (patentsim.embed.analyzer), separated by spaces, already lowercase.
            schema = qe.TextIndexParams(
                tokenizer=qe.TokenizerType.Whitespace,
                lowercase=False,
                min_token_len=1,
                memory=memory,
            )
        elif memory is not None:
            both = {"lookup": True, "range": True} if index_type == "integer" else {}
            schema = getattr(qe, _INDEX[index_type] + "IndexParams")(memory=memory, **both)
        else:
            schema = getattr(qe.PayloadSchemaType, _INDEX[index_type])
        self._engine(
            lambda: self.shard.update(qe.UpdateOperation.create_field_index(json_path(key), schema))
        )

    def indexes(self) -> dict[str, str]:
        info = self._engine(lambda: self.shard.info())
        names = {v: k for k, v in _INDEX.items() if k != "terms"}
        out = {}
        for key, idx in info.payload_schema.items():
            out[key_of(key)] = names.get(str(idx.data_type).rsplit(".", 1)[-1], str(idx.data_type))
            tokenizer = getattr(getattr(idx, "params", None), "tokenizer", None)
            if out[key_of(key)] == "text" and str(tokenizer).endswith("Whitespace"):
                out[key_of(key)] = "terms"
        return out

    def optimize(self) -> None:
        # The optimizer writes an indexed copy of the segments it rebuilds beside them.
        self.room(space.OPTIMIZE_FACTOR * self._written, "indexing the documents written")
        if self.indexes_on_disk:
            # The end of a load: the segments it wrote may now merge, up to their full size.
            self.close_shard()
            self.load_shard(tuning.LARGE_MAX_SEGMENT_POINTS)
        self._engine(lambda: self.shard.optimize())
        self._engine(lambda: self.shard.flush())

    def checkpoint(self) -> None:
        """A large collection: index the segment written so far (merging nothing), then close
        and reopen the shard: the engine keeps an open segment's vectors, payload and indexes
        in memory (and the pages of the files it wrote mapped), which closing lets go of.  The
        folder stays locked."""
        if not self.indexes_on_disk:
            return  # held in RAM anyway: reopening would only read it all again
        self.room(space.OPTIMIZE_FACTOR * self._written, "indexing the documents written")
        if self._segment_points != tuning.LARGE_SEGMENT_POINTS:
            self.close_shard()
            self.load_shard(tuning.LARGE_SEGMENT_POINTS)
        self._engine(lambda: self.shard.optimize())
        self._engine(lambda: self.shard.flush())
        self.close_shard()
        self.load_shard(tuning.LARGE_SEGMENT_POINTS)


def preread(shard_dir: Path) -> int:
    """Read ``PREREAD_FILES`` of every segment under ``shard_dir`` sequentially into the page
    cache, so that the engine's page faults find them there; the bytes read.  Only a matter of
    speed: a file that cannot be read is left to the engine."""
    done = 0
    buffer = bytearray(_PREREAD_CHUNK)
    for pattern in PREREAD_FILES:
        for path in sorted(shard_dir.glob(f"segments/*/{pattern}")):
            try:
                with open(path, "rb", buffering=0) as fh:
                    while chunk := fh.readinto(buffer):
                        done += chunk
            except OSError:
                continue
    return done


def _dimension(layout: Layout, name: str) -> int:
    if layout.dimension is None:
        raise StoreError(
            f"the manifest of '{name}' names no vector dimension",
            "restore it from a backup, or drop the collection and ingest again",
        )
    return layout.dimension


def _floats(vector: Sequence[float]) -> list[float]:
    # A numpy row converts in one call, a list goes as it is (the engine reads each number
    # as a float): no copy element by element per search.
    tolist = getattr(vector, "tolist", None)
    if tolist is not None:
        rows: list[float] = tolist()
        return rows
    return vector if isinstance(vector, list) else [float(x) for x in vector]


def _edge_sparse(sv: b.SparseVector | None) -> Any:
    qe = _qe()
    if sv is None:
        return qe.SparseVector([], [])
    return qe.SparseVector(list(sv.indices), list(sv.values))


def _edge_vectors(p: b.PointData, dense_name: str = "") -> Any:
    if p.vector is None:  # a keyword-only point
        return {b.SPARSE_VECTOR: _edge_sparse(p.sparse)}
    dense = [float(x) for x in p.vector]
    if p.sparse is None and not dense_name:
        return dense
    out: dict[str, Any] = {dense_name: dense}
    if p.sparse is not None:
        out[b.SPARSE_VECTOR] = _edge_sparse(p.sparse)
    return out


def _quantization_config(kind: str, *, mapped: bool = False) -> Any:
    """Edge's quantization config, None for "none".

    The quantized vectors of an ordinary collection are copied into RAM when it opens
    (``always_ram``, i.e. ``Memory.Pinned``).  Those of a large collection are memory-mapped
    (``Memory.Cached``) and read sequentially before the engine opens it (``preread``): at
    a million points, opening took 0.83 s instead of 0.98 s with a quarter of the anonymous
    memory (120 against 490 MiB), and 6.6-7.6 s instead of 10.5-11.9 s on an earlier host
    without the read (docs/scaling.md).  Every command opens the collection anew and the
    engine drops the pages of its files when it closes, so the open is paid each time.
    """
    qe = _qe()
    placement: dict[str, Any] = {"memory": qe.Memory.Cached} if mapped else {"always_ram": True}
    if kind == "int8":
        return qe.ScalarQuantizationConfig(type=qe.ScalarType.Int8, **placement)
    if kind == "binary":
        return qe.BinaryQuantizationConfig(
            **placement,
            encoding=qe.BinaryQuantizationEncoding.TwoBits,
            query_encoding=qe.BinaryQuantizationQueryEncoding.Scalar8Bits,
        )
    return None


def _short(exc: BaseException | None) -> str:
    """An engine error in a line: without its repeated "Service runtime error" prefixes,
    a segment named by its folder's name."""
    text = " ".join(str(exc or "").split())
    for prefix in ("Service runtime error: ", "Service internal error: "):
        text = text.replace(prefix, "")
    text = re.sub(r"failed to load segment \S*?segments/([0-9a-f-]+):", r"segment \1:", text)
    return text if len(text) <= 300 else text[:297] + "..."


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Standard error (the file descriptor) sent nowhere meanwhile: a Rust panic prints its
    message there before it becomes ``PanicException``, which we report in our words."""
    import sys

    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _plain(value: Any) -> Any:
    for kind in (bool, int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def to_edge(flt: Filter | None) -> Any:
    """The shared filter model as qdrant-edge's filter objects (None for no filter)."""
    return translate(flt, _EdgeFilterParts(_qe()))


class _EdgeFilterParts:
    """qdrant-edge's parts of a filter (``filters.FilterParts``)."""

    def __init__(self, qe: Any) -> None:
        self.qe = qe

    def match_value(self, key: str, value: Scalar) -> Any:
        return self.qe.FieldCondition(key, match=self.qe.MatchValue(_edge_value(value)))

    def match_any(self, key: str, values: list[Scalar]) -> Any:
        return self.qe.FieldCondition(key, match=self.qe.MatchAny(values))

    def range(self, key: str, bounds: Range) -> Any:
        qe, c = self.qe, bounds
        if c.datetime:
            rng: Any = qe.RangeDateTime(gte=c.gte, gt=c.gt, lte=c.lte, lt=c.lt)
        else:
            rng = qe.RangeFloat(gte=_num(c.gte), gt=_num(c.gt), lte=_num(c.lte), lt=_num(c.lt))
        return qe.FieldCondition(key, range=rng)

    def text(self, key: str, text: str) -> Any:
        return self.qe.FieldCondition(key, match=self.qe.MatchText(text))

    def empty(self, key: str) -> Any:
        return self.qe.IsEmptyCondition(key)

    def has_id(self, ids: tuple[str | int, ...]) -> Any:
        return self.qe.HasIdCondition(set(ids))

    def filter(
        self, must: list[Any] | None, should: list[Any] | None, must_not: list[Any] | None
    ) -> Any:
        return self.qe.Filter(must=must, should=should, must_not=must_not)


def _edge_value(value: Any) -> Any:
    """A match value as qdrant-edge-py reads it.  Its binding (0.9) takes a Python bool for
    the integer 1 or 0, which matches no stored boolean; numpy's bool arrives as a boolean."""
    if isinstance(value, bool):
        import numpy as np

        return np.bool_(value)
    return value


def _num(value: float | str | None) -> float | None:
    return None if value is None else float(value)
