"""How a load reads its files and builds its collection, as one object.

``LoadSettings`` holds what the options of ``ingest load`` say, each field named after its
option's meaning (``--id`` is ``id_column``), and where the store is; ``pipeline.load``
takes it as its one settings object: ``load(path, LoadSettings(id_column="id"))``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store import StoreSettings
from ..store.backend import CreateOptions

# ``ingest load`` of a file with this many rows (``ingest copy`` of as many points) makes a
# large collection (``CreateOptions.large``).
LARGE_LOAD_ROWS = 100_000


@dataclass(frozen=True)
class LoadSettings:
    """The choices of one load (the defaults are a plain ``ingest load FILE``'s)."""

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
    # Where the store is (None: as the environment and defaults say); a caller's open
    # ``store`` passed to ``load`` takes its place.
    store_settings: StoreSettings | None = None
