"""How a load reads its files and builds its collection, as one object.

``LoadSettings`` holds what the options of ``ingest load`` say, each field named as the
argument of ``pipeline.load`` it sets (``--id`` is ``id_column``); ``load_files`` runs a
load from it, as the command does.  Python callers may use either spelling:
``load(path, id_column="id")`` or ``load_files(path, LoadSettings(id_column="id"))``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..store import StoreSettings
from ..store.backend import CreateOptions
from . import pipeline
from .writer import ProgressFn


@dataclass(frozen=True)
class LoadSettings:
    """The choices of one load; the defaults are ``pipeline.load``'s."""

    collection: str | None = None
    text: tuple[str, ...] = ()
    id_column: str | None = None
    sheet: str | None = None
    encoding: str | None = None
    header_row: int | None = None
    delimiter: str | None = None
    lists: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()
    recreate: bool = False
    prune: bool = False
    on_duplicate: str = "error"
    batch_size: int = 32
    chunk_size: int | None = None
    model: str | None = None
    device: str = "auto"
    backend: str | None = None
    long_text: str | None = None
    create_options: CreateOptions | None = None  # None: a new collection's defaults
    keyword_only: bool = False

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``pipeline.load`` these settings stand for."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def load_files(
    source: str | Path | Sequence[str | Path],
    options: LoadSettings,
    *,
    settings: StoreSettings | None = None,
    progress: ProgressFn | None = None,
) -> pipeline.IngestSummary:
    """Load ``source`` (files, folders or globs) into the store ``settings`` name."""
    # pipeline.load looked up now, not at import: tests stand a fake embedder in through it.
    return pipeline.load(source, settings=settings, progress=progress, **options.arguments())
