"""Is an embedded collection whole?

Damaged files in a shard make the engine do one of four things: refuse to open it (an
error), panic while reading (``PanicException``), abort the whole process (a garbled
count in an id tracker makes it allocate tens of GB), or open it and answer wrongly
(a truncated id tracker or a missing ``segments`` folder shows fewer points, zeroed
vectors score 0.0).  So:

- ``check_files`` looks at the files before the engine does, for what would abort the
  process or what the engine would silently take for an empty collection;
- ``check_open`` compares the open collection with its manifest (the point count) and
  reads a few stored vectors (zero vectors cannot come from a normalising model);
- both run whenever an embedded collection opens (``EdgeStore.open``), so a damaged
  collection is never reported healthy; ``ingest check`` (``ingest/check.py``) runs them
  and the expensive checks, every point.

The engine's file names and the id tracker's header are the engine's own layout; a test
keeps them in step with the engine (tests/test_damaged.py).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CollectionDamaged, setting

if TYPE_CHECKING:
    from .manifest import Manifest

# An immutable segment's id tracker: a u64 count, then per point a type byte, the
# external id (8 bytes for a number, 16 for a UUID) and a u32 internal id.
ID_TRACKER = "id_tracker.mappings"
ID_TRACKER_MIN_ENTRY = 1 + 8 + 4
# How many stored vectors the opening check reads: a damaged vector file zeroes them all.
SAMPLE_ON_OPEN = 3
NORM_TOLERANCE = 0.01  # a stored vector's norm may differ from 1 by this (float32, int8 originals)


def segment_folders(shard_dir: Path) -> Iterator[Path]:
    folder = shard_dir / "segments"
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def check_files(shard_dir: Path, expected_points: int | None) -> list[str]:
    """What is wrong with the shard's files, before the engine reads them (empty: nothing
    found).  ``expected_points``: what the manifest says the collection holds, if it is
    complete."""
    problems: list[str] = []
    if not (shard_dir / "segments").is_dir():
        if expected_points:
            problems.append(f"its segments folder is missing ({shard_dir / 'segments'})")
        return problems
    for segment in segment_folders(shard_dir):
        problem = _check_id_tracker(segment / ID_TRACKER)
        if problem:
            problems.append(f"{problem} (segment {segment.name})")
    return problems


def _check_id_tracker(path: Path) -> str | None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return None  # an appendable segment keeps another kind of tracker
    except OSError as exc:
        return f"its id tracker cannot be read: {exc.strerror}"
    if size < 8:
        return f"its id tracker is truncated ({size} bytes)"
    try:
        with open(path, "rb") as fh:
            (count,) = struct.unpack("<Q", fh.read(8))
    except OSError as exc:
        return f"its id tracker cannot be read: {exc.strerror}"
    if count * ID_TRACKER_MIN_ENTRY > size - 8:
        return (
            f"its id tracker is damaged: it claims {count:,} points, which do not fit in its "
            f"{size:,} bytes"
        )
    return None


def check_open(coll: Any, expected_points: int | None) -> list[str]:
    """What is wrong with an open collection (``coll``: an ``EdgeCollection``)."""
    problems: list[str] = []
    if expected_points is not None:
        held = coll.point_count()
        if held != expected_points:
            problems.append(f"it holds {held:,} points where its manifest says {expected_points:,}")
            return problems
    sample = list(coll.sample_vectors(SAMPLE_ON_OPEN))
    if sample and all(norm == 0.0 for _, norm in sample):
        keys = ", ".join(f"'{key}'" for key, _ in sample)
        problems.append(f"its stored vectors are zero (documents {keys})")
    return problems


def expected_points(manifest: Manifest) -> int | None:
    """The point count a manifest vouches for: that of a finished load, else None (a manifest
    that records no count reads as 0: none vouched for either)."""
    if manifest.state != "ready" or manifest.points <= 0:
        return None
    return manifest.points


def damaged(name: str, location: str, problems: list[str], sources: list[str]) -> CollectionDamaged:
    """The error for a damaged collection: what is wrong and how to recover."""
    return CollectionDamaged(
        f"collection '{name}' in {location} is damaged: {'; '.join(problems)}",
        recovery(name, sources),
    )


def recovery(name: str, sources: list[str]) -> str:
    """How to get a damaged collection back."""
    files = " ".join(_quote(s) for s in sources[:3]) + (" ..." if len(sources) > 3 else "")
    reload = f"ingest load {files or 'FILE'} {setting('collection')} {name} {setting('recreate')}"
    return (
        f"load its files again ({reload}), or drop it and restore a copy made with 'ingest copy'; "
        f"'ingest check {setting('collection')} {name}' says what is wrong"
    )


def source_files(manifest: Manifest) -> list[str]:
    """The files a collection was loaded from, as its manifest records them."""
    out = [entry.file or key for key, entry in manifest.sources.items()]
    if not out and manifest.source is not None and manifest.source.file:
        out.append(manifest.source.file)
    return list(dict.fromkeys(out))


def _quote(path: str) -> str:
    return f"'{path}'" if any(c in path for c in " '\"$&;|()<>") else path
