"""Room on the disk for what the embedded engine is about to write.

The engine writes through memory-mapped files: where a page cannot be allocated the
process dies of ``SIGBUS`` ("Bus error", exit 135) with no message and no chance to
report it.  So the free space is checked before each write against an estimate of what
the write allocates, and a write that would not fit is refused with ``DiskFull`` before
the engine starts it.  The estimates come from loads measured on ext4 and tmpfs
(BENCHMARKS.md, "Disk space of a load"); they are upper bounds, a little generous:

- a point: its dense vector about ``VECTOR_FACTOR`` times (the segment, the write-ahead
  log, and the indexed copy the optimizer builds beside the old one), its payload about
  ``PAYLOAD_FACTOR`` times (storage, log, text index, analyzed terms), ``POINT_BYTES`` more
  for its keyword vector and index entries;
- a payload update (``search dups --mark``): each point's payload, written anew with the
  field set, ``PAYLOAD_FACTOR`` times as a load's, and its id in the log (``ID_BYTES``);
- a new collection ``BASE_BYTES``, each payload index ``INDEX_BYTES``;
- opening a shard rewrites its configuration and, when it closes, its segments' records
  (a few KB: ``OPEN_BYTES``).

tmpfs is different: it allocates a page of a sparse file when the file is read as well as
written, so every file the engine maps counts with its full size (``HOLE`` bytes that
reading would fill), and a new index costs megabytes (``TMPFS_INDEX_BYTES``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import DiskFull

VECTOR_FACTOR = 4
PAYLOAD_FACTOR = 5
POINT_BYTES = 1024
ID_BYTES = 64
OPTIMIZE_FACTOR = 2  # x the vectors written: the optimizer's indexed copy, and its graph
BASE_BYTES = 2 << 20
INDEX_BYTES = 256 << 10
OPEN_BYTES = 256 << 10
# tmpfs: the dense vectors' first 32 MB chunk, a keyword or number index's pages and flags
# (7-8 MB), a text index's 32 MB page and its flags; every open reads them in full.
TMPFS_BASE_BYTES = 40 << 20
TMPFS_INDEX_BYTES = 8 << 20
TMPFS_TEXT_INDEX_BYTES = 36 << 20
MEMORY_FILE_SYSTEMS = ("tmpfs", "ramfs", "shm")
# Files the engine maps without reading them in full when it opens a shard (measured on
# tmpfs: the write-ahead log's 32 MB segments, the payload storage's pages).
NOT_READ_IN_FULL = ("wal", "payload_storage")


@dataclass(frozen=True)
class Costs:
    """What writes cost on one kind of file system."""

    base: int
    index: int
    text_index: int
    open: int
    reads_allocate: bool  # a read of a hole allocates (tmpfs)


DISK = Costs(BASE_BYTES, INDEX_BYTES, INDEX_BYTES, OPEN_BYTES, reads_allocate=False)
MEMORY = Costs(
    TMPFS_BASE_BYTES, TMPFS_INDEX_BYTES, TMPFS_TEXT_INDEX_BYTES, OPEN_BYTES, reads_allocate=True
)


def existing(path: Path) -> Path:
    """``path``, or its nearest ancestor that exists."""
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_bytes(path: Path) -> int:
    """Bytes a process without privileges may still write on ``path``'s file system."""
    st = os.statvfs(existing(path))
    return int(st.f_bavail * st.f_frsize)


def costs(path: Path) -> Costs:
    return MEMORY if file_system(path) in MEMORY_FILE_SYSTEMS else DISK


def file_system(path: Path) -> str | None:
    """The type of the file system holding ``path`` (Linux: ``/proc/self/mounts``)."""
    try:
        with open("/proc/self/mounts", encoding="utf-8", errors="replace") as fh:
            mounts = [line.split()[1:3] for line in fh if len(line.split()) >= 3]
    except OSError:
        return None
    target = str(existing(path).resolve())
    best, kind = "", None
    for mount_point, fs_type in mounts:
        point = mount_point.replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fs_type
    return kind


def holes(folder: Path, skip: tuple[str, ...] = ()) -> int:
    """Bytes of the files under ``folder`` not allocated yet: what reading them all would
    allocate on tmpfs; folders named in ``skip`` are left out."""
    total = 0
    for dirpath, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            try:
                st = (Path(dirpath) / name).stat()
            except OSError:
                continue
            total += max(0, st.st_size - st.st_blocks * 512)
    return total


def points_bytes(points: Iterable[Any]) -> int:
    """What writing ``points`` (``PointData``) allocates, at most."""
    total = 0
    for p in points:
        vector = getattr(p, "vector", None)
        total += POINT_BYTES + VECTOR_FACTOR * 4 * (len(vector) if vector is not None else 0)
        payload = getattr(p, "payload", None)
        if payload:
            total += PAYLOAD_FACTOR * len(json.dumps(payload, ensure_ascii=False).encode())
    return total


def rows_bytes(rows: int, dimension: int, payload_bytes: int) -> int:
    """What a load of ``rows`` rows of ``dimension``-d vectors and ``payload_bytes`` of
    cells in all allocates, at most (the files' bytes stand for their cells)."""
    return rows * (POINT_BYTES + VECTOR_FACTOR * 4 * dimension) + PAYLOAD_FACTOR * payload_bytes


def update_bytes(payload_bytes: Iterable[int], value_bytes: int) -> int:
    """What setting a field of ``value_bytes`` (as JSON) in points whose payloads take
    ``payload_bytes`` (as JSON) allocates, at most."""
    return sum(PAYLOAD_FACTOR * (n + value_bytes) + ID_BYTES for n in payload_bytes)


def ensure(folder: Path, need: int, what: str) -> None:
    """Refuse (``DiskFull``) a write of about ``need`` bytes that ``folder``'s disk has no
    room for."""
    free = free_bytes(folder)
    if need > free:
        raise DiskFull(
            f"the disk holding {existing(folder)} is full: {what} needs about "
            f"{_size(need)}, {_size(free)} are free",
            "free some space and run the command again; stored data is kept as it was",
        )


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"
