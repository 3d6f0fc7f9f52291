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

from ..errors import UserInputError
from .filters import Filter

if TYPE_CHECKING:
    from .manifest import Manifest

# Payload index types, by the names both backends understand.
# "terms": analyzed terms separated by spaces (a text index on whitespace tokens).
INDEX_TYPES = ("keyword", "integer", "float", "datetime", "bool", "text", "terms")

# The manifest's ``quantized_memory`` of a large collection whose quantized vectors are
# memory-mapped (the embedded store; collections made before that have none: in RAM).
LARGE_QUANTIZED_MEMORY = "page cache"
# Vector quantization of a new collection (`--quantization`): int8 (one byte per dimension)
# or binary (two bits); the originals stay on disk and rescore the candidates, so scores are
# exact cosine similarities (store/tuning.py: OVERSAMPLING).
QUANTIZATIONS = ("none", "int8", "binary")


# The sparse keyword vector beside the (unnamed) dense vector of every collection.
SPARSE_VECTOR = "keyword"
# The dense vector of a collection created without one (``ingest load --keyword-only``) and
# given one later: a named vector (a server creates vectors on an existing collection by
# name only).  The manifest's ``vectors`` says which exist (``Manifest.vectors``).
ADDED_DENSE_VECTOR = "dense"

FUSIONS = ("rrf", "dbsf")


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

    def room_for_update(self, need: int, index: tuple[str, str] | None, what: str) -> None:
        """Refuse (``DiskFull``) an update of stored payloads that writes about ``need``
        bytes (``space.update_bytes``), makes the payload ``index`` (key, type) where the
        collection lacks it, and then writes the manifest; asked before the update's first
        write, so that a refused update leaves the collection as it was.  A server looks
        after its own disk: nothing is checked."""
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
