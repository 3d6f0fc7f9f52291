"""The one small interface every backend implements.

``Store`` is a place that holds collections (a folder for the embedded
backend, a Qdrant server for the other); ``Collection`` is one collection's
data operations.  Results are plain dataclasses so nothing above this layer
touches a backend's own types.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .errors import UserInputError
from .filters import Filter

if TYPE_CHECKING:
    from .manifest import Manifest

# Payload index types, by the names both backends understand.
# "terms": analyzed terms separated by spaces (a text index on whitespace tokens).
INDEX_TYPES = ("keyword", "integer", "float", "datetime", "bool", "text", "terms")

# HNSW and search parameters the platform uses, tuned with `python -m bench --tune` on real
# MiniLM embeddings (BENCHMARKS.md, figure 4).  ef_construct 64 builds the index in about half
# the time of 128 (43 s vs 99 s at 100k points on 2 cores) at the same recall@10 of `like`
# queries (1.00 at 100k, >= 0.99 at 10k).  Free-text queries sit farther from the stored
# vectors and need a wider search: hnsw_ef 64 gives them 0.97 at 100k, 128 gives 0.99.
# At 1,000,000 points (`python -m bench --scale 1m`) 128 found 0.979 of the true top-10 of
# `like` queries (fp32) and 256 found 0.995 at 1.7 ms instead of 1.0: the search uses 256.
HNSW_M = 16
HNSW_EF_CONSTRUCT = 64
HNSW_EF_SEARCH = 256
FULL_SCAN_THRESHOLD_KB = 10_000
# Segments smaller than this stay plain (no HNSW, no quantized copy); None: the engine's
# default (10,000 KB, about 6,600 vectors of 384-d).  Tests lower it to index tiny collections.
INDEXING_THRESHOLD_KB: int | None = None
# A large collection (``CreateOptions.large``) is written and indexed in segments of this many
# points: a load checkpoints after each (``Collection.checkpoint``) and merges nothing.  At the
# end of the load (``optimize``) the engine merges them into segments of at most
# LARGE_MAX_SEGMENT_POINTS, never into one whose building would hold every vector and index in
# RAM.  A query visits every segment: at 200,000 points, 11 segments of 20,000 answered `like`
# in 11.8 ms (p50), 3 segments in 2.4 ms, 2 (one ordinary collection) in 1.0 ms.
LARGE_SEGMENT_POINTS = 20_000
LARGE_MAX_SEGMENT_POINTS = 100_000
# The manifest's ``quantized_memory`` of a large collection whose quantized vectors are
# memory-mapped (the embedded store; collections made before that have none: in RAM).
LARGE_QUANTIZED_MEMORY = "page cache"
# ``ingest load`` of a file with this many rows (``ingest copy`` of as many points) makes a
# large collection.
LARGE_LOAD_ROWS = 100_000

# Vector quantization of a new collection (`--quantization`).  A quantized collection keeps
# its original float32 vectors on disk (memory-mapped) and the quantized copy in RAM (a large
# collection memory-maps it too: edge._quantization_config); a search
# walks the index on the quantized vectors, takes OVERSAMPLING x limit candidates and rescores
# them with the originals, so the scores are exact cosine similarities.
# int8: one byte per dimension (4x smaller than float32).  binary: Qdrant's binary
# quantization with two bits per dimension (16x smaller) and 8-bit queries; one bit per
# dimension found only 0.94 of the true top-10 of 384-d MiniLM vectors at 20k points even
# with 8x oversampling, two bits 0.99 (measured on the benchmark's vectors), 0.982 at 300k.
# At 1M points two bits are too coarse to rank the candidates: 8x oversampling found 0.80 of
# the true top-10, 16x 0.9585, 32x 0.9965 at the same p50 (1.5-1.8 ms; hnsw_ef 512 instead
# of 256 did not help: 0.802), so binary rescores 32x.  int8 at 1M points: 2x oversampling
# found 0.983 of the true top-10 (hnsw_ef 256), 4x 0.9925 at the same 1.0 ms p50.
QUANTIZATIONS = ("none", "int8", "binary")
# Each segment rescores its own OVERSAMPLING x limit candidates, also in a large collection
# of many segments: fewer per segment (1x at 1M points in 11 segments) read 4x fewer
# originals at the same recall when a file's rows come in random order, but a file sorted by
# topic puts a query's neighbours in one segment, where 1x found 0.877 of the true top-10
# (2x 0.989, 4x 0.9935; docs/scaling.md, memory).
OVERSAMPLING = {"int8": 4.0, "binary": 32.0}
# The quantizations whose scores alone rank the candidates of a checked search well enough
# (``store/plan.py``: the check scores them exactly afterwards).  Not binary: ranked on its
# two bits, the candidates of filters matching 10-51% of 1M points held 0.88-0.94 of the true
# filtered top-10.
RANKS_UNRESCORED = frozenset({"int8"})


# The sparse keyword vector beside the (unnamed) dense vector of every collection.
SPARSE_VECTOR = "keyword"
# The dense vector of a collection created without one (``ingest load --keyword-only``) and
# given one later: a named vector (a server creates vectors on an existing collection by
# name only).  The manifest's ``vectors`` says which exist (``Manifest.vectors``).
ADDED_DENSE_VECTOR = "dense"

FUSIONS = ("rrf", "dbsf")
RRF_K = 60


@dataclass(frozen=True)
class SparseVector:
    """Term ids and weights (see ``patentsim.embed.sparse``)."""

    indices: tuple[int, ...]
    values: tuple[float, ...]

    def __bool__(self) -> bool:
        return bool(self.indices)


@dataclass
class PointData:
    """A point to write: ``vector`` None means "keep the stored vector".

    ``sparse``: the keyword vector, written with the dense one, or alone for a point
    whose dense vector is kept."""

    id: str
    vector: Sequence[float] | None
    payload: dict[str, Any]
    sparse: SparseVector | None = None
    # A whole point with its keyword vector only (a keyword-only collection), not an update.
    sparse_only: bool = False


@dataclass
class StoredPoint:
    id: str
    payload: dict[str, Any] = field(default_factory=dict)
    vector: list[float] | None = None
    sparse: SparseVector | None = None

    @classmethod
    def from_record(cls, record: Any, dense: str | None = "") -> StoredPoint:
        """From a record of either backend (the default vector may come named ""); ``dense``:
        the name of the collection's dense vector (None: it has none)."""
        vector = record.vector
        sparse = None
        if isinstance(vector, dict):
            raw = vector.get(SPARSE_VECTOR)
            if raw is not None:
                sparse = SparseVector(
                    tuple(int(i) for i in raw.indices), tuple(float(v) for v in raw.values)
                )
            vector = vector.get(dense) if dense is not None else None
        elif dense is None or dense:
            vector = None if dense is None else vector
        return cls(
            str(record.id),
            dict(record.payload or {}),
            list(vector) if vector is not None else None,
            sparse,
        )


@dataclass(frozen=True)
class Fused:
    """A hybrid query: both vectors prefetched, fused by Qdrant.

    ``fusion`` "rrf" (reciprocal rank fusion, ``weights`` = dense, keyword) or "dbsf"
    (distribution-based score fusion; weights unused); ``depth`` candidates per side."""

    dense: Sequence[float]
    sparse: SparseVector
    fusion: str = "rrf"
    weights: tuple[float, float] = (1.0, 1.0)
    depth: int = 100


@dataclass
class ScoredHit:
    id: str
    score: float
    payload: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_point(cls, point: Any) -> ScoredHit:
        """From a scored point of either backend (payload None when not asked for)."""
        return cls(str(point.id), float(point.score), dict(point.payload or {}))


@dataclass
class CreateOptions:
    """How a new collection is laid out (the server honours shards and replicas).

    ``quantization`` None means "not chosen": a new collection gets "none", a copy
    keeps its source's.
    """

    shards: int | None = None
    replicas: int | None = None
    on_disk: bool = False
    quantization: str | None = None
    # A large collection: vectors, payload indexes and the keyword index live on disk
    # (memory-mapped), so neither a load nor a search holds them all in RAM.
    large: bool = False

    def layout(self) -> tuple[str, bool]:
        """The quantization and whether the original vectors live on disk."""
        kind = self.quantization or "none"
        if kind not in QUANTIZATIONS:
            raise UserInputError(
                f"unknown quantization {kind!r}", f"use one of {', '.join(QUANTIZATIONS)}"
            )
        return kind, self.on_disk or self.large or kind != "none"


class Collection(Protocol):
    name: str

    @property
    def dense_name(self) -> str | None:
        """The dense vector's name ("" unnamed), None in a keyword-only collection."""
        ...

    def upsert(self, points: Sequence[PointData]) -> None: ...

    def overwrite_payload(self, points: Sequence[tuple[str, dict[str, Any]]]) -> None: ...

    def set_payload(self, ids: Sequence[str], values: dict[str, Any]) -> None:
        """Set ``values`` in the payload of the points ``ids``, keeping their other fields."""
        ...

    def delete_payload(self, ids: Sequence[str], keys: Sequence[str]) -> None:
        """Remove the fields ``keys`` from the payload of the points ``ids``."""
        ...

    def retrieve(
        self, ids: Sequence[str], *, with_vectors: bool = False, with_payload: bool = True
    ) -> list[StoredPoint]: ...

    def query(
        self,
        vector: Sequence[float],
        *,
        limit: int,
        offset: int = 0,
        flt: Filter | None = None,
        score_threshold: float | None = None,
        exact: bool = False,
        free_text: bool = False,
    ) -> list[ScoredHit]:
        """The nearest points to ``vector``; ``free_text``: it is an embedded text, not a
        stored point, and the HNSW walk takes a wider beam (``store/plan.py``)."""
        ...

    def query_sparse(
        self,
        vector: SparseVector,
        *,
        limit: int,
        offset: int = 0,
        flt: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[ScoredHit]: ...

    def neighbours(
        self,
        vectors: Sequence[Sequence[float]],
        *,
        limit: int,
        score_threshold: float | None = None,
        flt: Filter | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Each stored point's nearest points (ids and scores, itself among them), for many
        at once: one batch of dense searches planned once, without payloads."""
        ...

    def neighbours_sparse(
        self,
        vectors: Sequence[SparseVector],
        *,
        limit: int,
        flt: Filter | None = None,
    ) -> list[list[tuple[str, float]]]:
        """The same on the keyword vectors (BM25 scores)."""
        ...

    def query_fused(
        self,
        fused: Fused,
        *,
        limit: int,
        offset: int = 0,
        flt: Filter | None = None,
        score_threshold: float | None = None,
        free_text: bool = False,
    ) -> list[ScoredHit]: ...

    def has_sparse(self) -> bool: ...

    def add_sparse(self) -> None: ...

    def add_dense(self, dimension: int) -> str:
        """Give a keyword-only collection its dense vector (``ADDED_DENSE_VECTOR``); its name."""
        ...

    def set_sparse(self, points: Sequence[tuple[str, SparseVector, dict[str, Any]]]) -> None: ...

    def count(self, flt: Filter | None = None) -> int: ...

    def facet(
        self, key: str, *, flt: Filter | None = None, limit: int = 10
    ) -> list[tuple[Any, int]]: ...

    def scroll(
        self,
        *,
        flt: Filter | None = None,
        with_vectors: bool = False,
        with_payload: bool | Sequence[str] = True,
        batch: int = 256,
    ) -> Iterator[StoredPoint]: ...

    def delete(self, ids: Sequence[str]) -> None: ...

    def ensure_index(self, key: str, index_type: str) -> None: ...

    def indexes(self) -> dict[str, str]: ...

    def optimize(self) -> None: ...

    def checkpoint(self) -> None:
        """During a long load: index what was written so far and let go of the memory that
        holds it, so that a load's memory does not grow with its rows."""
        ...

    def read_manifest(self) -> Manifest: ...

    def write_manifest(self, manifest: Manifest) -> None: ...


class Store(Protocol):
    kind: str  # "embedded" or "server"
    location: str  # a folder or a URL, for messages

    def list(self) -> list[str]: ...

    def exists(self, name: str) -> bool: ...

    def create(
        self, name: str, dimension: int, manifest: Manifest, options: CreateOptions
    ) -> Collection:
        """A new collection with ``manifest``, its layout (``Manifest.layout``) set from
        ``dimension`` (0: no dense vector, keyword-only) and ``options``."""
        ...

    def open(self, name: str) -> Collection: ...

    def drop(self, name: str) -> None: ...

    def check_writable(self) -> None:
        """Fail before any work where no collection could be created or written."""
        ...

    def collection_location(self, name: str) -> str:
        """Where a collection's data lives, for messages and ``info``."""
        ...

    def close_collection(self, name: str) -> None:
        """Release one collection opened by ``open`` or ``create`` (its lock, its files)."""
        ...

    def close(self) -> None: ...
