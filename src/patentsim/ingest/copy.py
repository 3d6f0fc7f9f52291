"""Moving a collection between stores without embedding anything again.

``copy_collection`` reads a collection's points (vectors and payload) batch by
batch from one store and writes them to another: embedded folder → server,
server → embedded folder, server → server, folder → folder.  The target gets
the same payload indexes (the manifest's fields with their ``index`` type,
plus the reserved ``_key``, ``_hash`` and ``_row``) and the manifest, with a
note of where it was copied from.

It is safe to run again: point ids are the same on both sides, points whose
payload is already there are not written twice, and a copy that was
interrupted is finished by the next run.  At the end the target must hold as
many points as the source, or the copy fails.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..errors import StoreError, UserInputError
from ..store import StoreSettings, open_store, pick_collection
from ..store.backend import (
    INDEX_TYPES,
    Collection,
    CreateOptions,
    PointData,
    Store,
    StoredPoint,
)
from ..store.manifest import CopiedFrom, Manifest, ModelRecord, check_layout, check_model, now
from ..store.payload import RESERVED_INDEXES
from ..store.tuning import LARGE_SEGMENT_POINTS
from .settings import LARGE_LOAD_ROWS
from .writer import ProgressFn, WriteBehind

DEFAULT_BATCH = 256


@dataclass
class CopySummary:
    source: str  # where the source collection lives: a folder or a URL
    target: str  # where the target collection lives
    collection: str
    to_collection: str
    points: int = 0  # points in the target at the end (equal to the source's)
    written: int = 0  # points written by this run
    unchanged: int = 0  # points the target already held, identical
    indexes: list[str] = field(default_factory=list)
    created: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def endpoint(path: str | None, url: str | None, api_key: str | None, *, side: str) -> StoreSettings:
    """The store on one side of a copy: a folder (``path``) or a server (``url``), not both.

    A server without its own key gets ``QDRANT_API_KEY`` from the environment.
    """
    if path and url:
        raise UserInputError(
            f"give --{side}-path or --{side}-url, not both",
        )
    if url:
        return StoreSettings(url=url, api_key=api_key or os.environ.get("QDRANT_API_KEY") or None)
    if path:
        return StoreSettings(path=path)
    raise UserInputError(
        f"say where to copy {'from' if side == 'from' else 'to'}: "
        f"--{side}-path DIR (embedded store) or --{side}-url URL (Qdrant server)"
    )


def copy_collection(
    source: StoreSettings,
    target: StoreSettings,
    collection: str | None = None,
    to_collection: str | None = None,
    *,
    batch: int = DEFAULT_BATCH,
    create_options: CreateOptions | None = None,
    progress: ProgressFn | None = None,
) -> CopySummary:
    """Copy ``collection`` from ``source`` to ``target`` (as ``to_collection``, default the same).

    Vectors are copied as stored: nothing is embedded.  Raises
    ``CollectionNotFound`` for a missing source collection, ``ModelMismatch``
    when the target collection exists with another model, ``StoreError`` when
    the counts differ at the end.
    """
    if batch < 1:
        raise UserInputError("the batch size must be at least 1")
    started = time.perf_counter()
    src_store = open_store(source)
    dst_store: Store | None = None
    try:
        name = pick_collection(src_store, collection)
        to_name = to_collection or name
        if _same_place(source, target) and name == to_name:
            raise UserInputError(
                f"copying '{name}' onto itself: source and target are the same",
                "name another --to-collection, or another target store",
            )
        src = src_store.open(name)
        manifest = src.read_manifest()
        dimension = _dimension(manifest, name)
        dst_store = open_store(target)
        summary = CopySummary(
            source=src_store.location,
            target=dst_store.location,
            collection=name,
            to_collection=to_name,
        )
        dst = _target_collection(
            dst_store, to_name, manifest, dimension, create_options or CreateOptions(), summary
        )
        summary.indexes = _make_indexes(dst, manifest)
        total = src.count()
        _copy_points(src, dst, total, batch, summary, progress)
        dst.optimize()
        summary.points = dst.count()
        expected = src.count()
        if summary.points != expected:
            raise StoreError(
                f"the copy is incomplete: '{name}' holds {expected:,} points, "
                f"'{to_name}' in {dst_store.location} holds {summary.points:,}",
                "run the same command again; if the target holds more points than the "
                "source, drop it ('ingest drop') and copy again",
            )
        dst.write_manifest(_target_manifest(manifest, dst.read_manifest(), summary, source))
    finally:
        if dst_store is not None:
            dst_store.close()
        src_store.close()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _same_place(a: StoreSettings, b: StoreSettings) -> bool:
    if a.url or b.url:
        return bool(a.url and b.url and a.url.rstrip("/") == b.url.rstrip("/"))
    from pathlib import Path

    return Path(a.path).resolve() == Path(b.path).resolve()


def _dimension(manifest: Manifest, name: str) -> int:
    if manifest.vectors.dense is None:
        return 0  # keyword-only: no dense vector
    dimension = manifest.dimension
    if not dimension:
        raise StoreError(
            f"the manifest of '{name}' names no vector dimension",
            "it was not made by 'ingest load': load the file into the target instead",
        )
    return int(dimension)


def _target_collection(
    store: Store,
    name: str,
    manifest: Manifest,
    dimension: int,
    options: CreateOptions,
    summary: CopySummary,
) -> Collection:
    """The target collection: opened (same model required) or created with the manifest."""
    if store.exists(name):
        coll = store.open(name)
        existing = coll.read_manifest()
        _check_same_model(existing, manifest, name)
        check_layout(existing, options.quantization, name)
        existing.state = "copying"
        existing.touch()
        coll.write_manifest(existing)
        return coll
    # The layout is the target store's own (``Store.create`` sets it).
    fresh = replace(manifest, collection=name, state="copying", updated_at=now())
    # The copy keeps the source's quantization unless --quantization says otherwise; a large
    # collection (or one as large as a file that makes one) makes a large copy.
    layout = manifest.layout
    options = replace(
        options,
        quantization=options.quantization or layout.quantization,
        large=options.large or layout.indexes_on_disk or manifest.points >= LARGE_LOAD_ROWS,
    )
    coll = store.create(name, dimension, fresh, options)
    summary.created = True
    return coll


def _check_same_model(target: Manifest, source: Manifest, name: str) -> None:
    """The collections' models must be the same (two keyword-only ones have none)."""
    if target.model is None and source.model is None:
        return
    check_model(target.model or ModelRecord(""), source.model or ModelRecord(""), name, use="copy")


def _make_indexes(coll: Collection, manifest: Manifest) -> list[str]:
    """The reserved indexes and one per manifest field, by the field's ``index`` type."""
    wanted = dict(RESERVED_INDEXES)
    for key, spec in manifest.fields.items():
        if spec.index in INDEX_TYPES:  # anything else was not made by `ingest load`: no index
            wanted[key] = spec.index
        if spec.terms:
            wanted[spec.terms] = "terms"  # analyzed terms for ~ filters
    for key, kind in wanted.items():
        coll.ensure_index(key, kind)
    return sorted(wanted)


def _batches(points: Iterator[StoredPoint], size: int) -> Iterator[list[StoredPoint]]:
    chunk: list[StoredPoint] = []
    for p in points:
        chunk.append(p)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy_points(
    src: Collection,
    dst: Collection,
    total: int,
    batch: int,
    summary: CopySummary,
    progress: ProgressFn | None,
) -> None:
    """Read a batch, skip what the target holds already, write the rest (overlapping reads)."""
    done = 0
    with WriteBehind("copy", checkpoint=dst.checkpoint, every=LARGE_SEGMENT_POINTS) as writer:
        for chunk in _batches(src.scroll(with_vectors=True, batch=batch), batch):
            held = {p.id: p.payload for p in dst.retrieve([p.id for p in chunk])}
            todo = []
            for p in chunk:
                if p.vector is None and src.dense_name is not None:
                    raise StoreError(f"point {p.id} of '{src.name}' has no vector")
                if held.get(p.id) == p.payload:
                    summary.unchanged += 1
                else:
                    only = p.vector is None  # a keyword-only collection's point
                    todo.append(PointData(p.id, p.vector, p.payload, p.sparse, sparse_only=only))
            writer.write(todo, lambda: dst)
            summary.written += len(todo)
            done += len(chunk)
            if progress:
                progress(done, total)


def _target_manifest(
    source_manifest: Manifest,
    target_manifest: Manifest,
    summary: CopySummary,
    source: StoreSettings,
) -> Manifest:
    """The source's manifest, with the target's own layout, name, count and provenance."""
    stamp = now()
    return replace(
        source_manifest,
        layout=target_manifest.layout,
        collection=summary.to_collection,
        points=summary.points,
        updated_at=stamp,
        copied_from=CopiedFrom(
            store="server" if source.url else "embedded",
            location=summary.source,
            collection=summary.collection,
            copied_at=stamp,
        ),
    )
