"""The ingest pipeline: validate → diff → embed → upsert, batch by batch.

1. A validation pass reads every file once, cheaply (no embedding): keys,
   empty texts, duplicate keys (across the files), and counters over every
   value from which each column is typed (``scan``, ``records.plan_columns``).
   Bad input fails here, before anything is written.
2. The load pass streams the file again in chunks.  For each chunk it reads
   the stored ``_hash`` of the chunk's points and embeds only new or changed
   texts (a text already stored under another key is copied, not embedded);
   a changed non-text cell only rewrites the payload.  Writing a chunk
   overlaps with embedding the next one.
3. Payload indexes are made for every field by its type, the embedded
   backend builds its HNSW index, and the manifest is updated.

Points have deterministic ids, so a run killed at any moment loses at most
the chunks in flight; the next run stores the rest, with no duplicates.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..embed.coverage import TextSample
from ..embed.embedder import Embedder, EmbedderConfig
from ..embed.model import DEFAULT_MODEL, check_options
from ..embed.retrieval import ModeEvidence, Retrieval
from ..errors import (
    DiskFull,
    ModelMismatch,
    ModelUnavailable,
    PatentSimError,
    SourceError,
    StoreUnreachable,
    UserInputError,
    setting,
)
from ..store import StoreSettings, open_store
from ..store.backend import (
    SPARSE_VECTOR,
    Collection,
    CreateOptions,
    PointData,
    Store,
)
from ..store.filters import Match
from ..store.ids import point_id
from ..store.manifest import (
    DEFAULT_BACKEND,
    DEFAULT_LONG_TEXT,
    FieldSpec,
    Manifest,
    ModelRecord,
    SourceEntry,
    Vectors,
    check_layout,
    check_model,
    now,
)
from ..store.names import NameSpec, with_name_fields
from ..store.names import annotate as annotate_names
from ..store.payload import DUP_FIELD, RESERVED_INDEXES
from ..store.tuning import LARGE_SEGMENT_POINTS
from . import indexing, provenance
from .finish import (
    MEASURED_DEFAULTS,
    ensure_indexes,
    field_order,
    field_specs,
    limit_indexes,
    measured_mode,
    pick_date_field,
    source_entry,
    unindexed,
)
from .keyword import Keywords, backfill
from .read import MAX_CELL_CHARS, Table, open_table
from .records import (
    ColumnPlan,
    Record,
    build_record,
    field_name,
    field_type,
    plan_columns,
    text_hash,
)
from .scan import Scan, resolve_rows, scan_tables
from .settings import LARGE_LOAD_ROWS, LoadSettings
from .sources import expand_sources
from .writer import ProgressFn, WriteBehind

DUPLICATE_POLICIES = ("error", "first", "last")
# The content hash's "model" of a keyword-only collection's points.
KEYWORD_ONLY = "keyword-only"
SHARED_KEPT = 100  # keys held by another file that a summary names (beyond: a count)
XLSX_EXPANSION = 4  # an .xlsx file's cells take about this many times its bytes
# Points written between two ``Collection.checkpoint`` calls: the embedded store indexes a
# large collection's new segment and lets go of its memory, so a load's memory stays flat as
# files grow (docs/scaling.md).
CHECKPOINT_POINTS = LARGE_SEGMENT_POINTS


@dataclass
class IngestSummary:
    collection: str
    store: str
    source: str
    model: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    payload_updated: int = 0
    unchanged: int = 0
    skipped: list[int] = field(default_factory=list)
    truncated: list[int] = field(default_factory=list)
    window: int | None = None  # the model's window in tokens (texts beyond it are cut there)
    duplicates_dropped: list[int] = field(default_factory=list)
    pruned: int = 0
    # --prune kept documents another file holds too, and old ones it cannot attribute.
    prune_kept_shared: int = 0
    prune_kept_unsure: int = 0
    prune_unsure_owner: dict[str, str] = field(default_factory=dict)
    # Keys this run stored that another file loaded earlier also holds: key, file, other.
    shared_keys: list[dict[str, str]] = field(default_factory=list)
    shared_count: int = 0
    # Stored documents that now record their file's path (stored before paths were).
    paths_recorded: int = 0
    # Fields left without a payload index (ingest/indexing.py).
    unindexed: list[str] = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    engine: str | None = None  # what embedded this run's texts (None: nothing was embedded)
    points: int = 0
    created: bool = False
    model_fallback_from: str | None = None
    mixed_fields: dict[str, list[str]] = field(default_factory=dict)
    keyword_backfilled: int = 0  # stored points given keyword vectors (no dense re-embedding)
    dense_added: int = 0  # points of a keyword-only collection given their dense vectors
    keyword_only: bool = False  # the collection has no dense vectors (no model)
    default_mode: str | None = None  # the collection's default search mode after the load
    # Why a new collection got its default mode: what was measured (None: the mode was kept).
    mode_reason: str | None = None
    default_mode_seconds: float = 0.0  # measuring the modes on the labels took
    seconds: float = 0.0
    # What was read and decided: per file (header row, lines above it, exporter, columns),
    # per column (field, type), the choices made without options, and warnings.
    files: list[dict[str, Any]] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)
    id_column: str | None = None
    text_columns: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Cells longer than MAX_CELL_CHARS, stored truncated: file, row, column, characters.
    cells_truncated: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Model:
    """The collection's model, loaded only when a text actually needs embedding."""

    def __init__(
        self,
        config: EmbedderConfig | None,
        embedder: Embedder | None,
        backend: str = DEFAULT_BACKEND,
        long_text: str = DEFAULT_LONG_TEXT,
    ) -> None:
        self.config = config
        self.backend = backend
        self.long_text = long_text
        self._embedder = embedder
        if embedder is not None:  # a caller's own (a test fake, a loaded model)
            self.name = embedder.name
            self.fingerprint = embedder.fingerprint
            self.fallback_from: str | None = None
            return
        assert config is not None
        self.name = config.model.name
        self.fallback_from = config.model.fallback_from
        self.fingerprint = config.fingerprint() or self.get().fingerprint

    def get(self) -> Embedder:
        if self._embedder is None:
            assert self.config is not None
            self._embedder = self.config.load(export_for_queries=True)
        return self._embedder

    @property
    def loaded(self) -> bool:
        return self._embedder is not None

    @property
    def engine(self) -> str | None:
        """What embedded this run's texts (None when nothing was embedded)."""
        if self._embedder is None:
            return None
        engine = getattr(self._embedder, "engine", None) or self._embedder.info().engine
        return str(engine) if engine else None

    def record(self) -> ModelRecord:
        """What this run would embed with, as a collection's model record says it (the
        dimension is not known before the model loads)."""
        return ModelRecord(
            self.name, self.fingerprint, backend=self.backend, long_text=self.long_text
        )


class _NoModel:
    """A keyword-only load: no model, no dense vectors."""

    name: str | None = None
    fingerprint = KEYWORD_ONLY
    fallback_from: str | None = None
    backend = DEFAULT_BACKEND
    long_text = DEFAULT_LONG_TEXT
    loaded = False
    engine: str | None = None

    def get(self) -> Embedder:
        raise ModelUnavailable("a keyword-only load has no model")


def default_collection(source: str | Path) -> str:
    stem = Path(source).stem
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("._")
    return cleaned or "patents"


def load(
    source: str | Path | Sequence[str | Path],
    settings: LoadSettings | None = None,
    *,
    store: Store | None = None,
    embedder: Embedder | None = None,
    progress: ProgressFn | None = None,
) -> IngestSummary:
    """Embed the texts of one or more files (or folders, or globs) and store them, with
    typed payload, in one collection.

    ``settings`` holds every choice of the load (``ingest load``'s options, and the store's
    place in ``store_settings``); ``store``: a store the caller holds open (left open);
    ``embedder``: the embedder to use instead of the one ``settings.model`` names (tests
    pass a fake one); ``progress``: called with the rows done and the rows in all.

    ``settings.keyword_only``: no model at all; the collection answers by keyword (BM25 over the
    analyzer's terms), with every filter.  A keyword-only collection stays one until a
    load names a ``model`` (or passes an ``embedder``): that load adds the dense vectors.
    """
    started = time.perf_counter()
    s = settings or LoadSettings()
    collection, text, id_column, recreate = s.collection, s.text, s.id_column, s.recreate
    sheet, encoding, header_row, delimiter = s.sheet, s.encoding, s.header_row, s.delimiter
    lists, dates, date_formats = s.lists, s.dates, s.date_formats
    batch_size, chunk_size, on_duplicate = s.batch_size, s.chunk_size, s.on_duplicate
    model, device, backend, long_text = s.model, s.device, s.backend, s.long_text
    create_options, keyword_only = s.create_options, s.keyword_only
    if batch_size < 1:
        raise UserInputError(f"{setting('batch_size')} must be at least 1, not {batch_size}")
    if on_duplicate not in DUPLICATE_POLICIES:
        raise UserInputError(
            f"{setting('on_duplicate')} must be one of {', '.join(DUPLICATE_POLICIES)}, "
            f"not '{on_duplicate}'"
        )
    (create_options or CreateOptions()).layout()  # an unknown quantization fails first
    paths = expand_sources(source)
    tables = [
        open_table(p, sheet=sheet, encoding=encoding, header_row=header_row, delimiter=delimiter)
        for p in paths
    ]
    folder = source if isinstance(source, (str, Path)) and Path(source).is_dir() else None
    name = collection or default_collection(folder or paths[0])
    own_store = store is None
    store = store or open_store(s.store_settings or StoreSettings.resolve())
    try:
        coll: Collection | None = None
        manifest: Manifest | None = None
        try:
            if store.exists(name) and not recreate:
                coll = store.open(name)
                manifest = coll.read_manifest()
        except StoreUnreachable:
            # A broken file is the first thing to fix: check it as for a new collection.
            _plan(tables, None, text, id_column, lists, dates, date_formats, on_duplicate)
            raise
        plan, scan, res = _plan(
            tables, manifest, text, id_column, lists, dates, date_formats, on_duplicate
        )
        store.check_writable()  # before the model loads and the first chunk is embedded
        stored_dense = manifest.vectors.dense if manifest is not None else ""
        stored = manifest.model if manifest is not None else None
        if keyword_only and stored_dense is not None and manifest is not None:
            raise ModelMismatch(
                f"collection '{name}' holds dense vectors of model "
                f"'{stored.name if stored else None}': {setting('keyword_only')} "
                "applies to new collections",
                f"leave out {setting('keyword_only')}, or {setting('recreate')}, or another "
                f"{setting('collection')}",
            )
        # A keyword-only collection stays one until a load names a model.
        keyword = keyword_only or (stored_dense is None and model is None and embedder is None)
        adding_dense = manifest is not None and stored_dense is None and not keyword
        # Without --model, a collection keeps the model it was built with; likewise its
        # backend (--backend) and long-text mode (--long-text).
        backend = backend or (stored.backend if stored else DEFAULT_BACKEND)
        long_text = long_text or (stored.long_text if stored else DEFAULT_LONG_TEXT)
        check_options(backend, long_text)
        config = None
        if embedder is None and not keyword:
            config = EmbedderConfig.choose(
                model or (stored.name if stored else None) or DEFAULT_MODEL,
                backend=backend,
                long_text=long_text,
                device=device,
                stored=stored,
            )
        mdl = _NoModel() if keyword else _Model(config, embedder, backend, long_text)
        if manifest is not None:
            check_layout(manifest, (create_options or CreateOptions()).quantization, name)
            _check_compatible(manifest, mdl, plan, name, check_model_too=stored_dense is not None)
        if recreate and store.exists(name):
            # The model is loaded before the old collection goes, so a model that cannot
            # be loaded leaves it as it was.
            if not keyword:
                mdl.get()
            store.drop(name)
        summary = IngestSummary(
            collection=name,
            store=store.location,
            source=", ".join(str(p) for p in paths),
            model=mdl.name or "none (keyword-only)",
            rows=scan.total,
            skipped=[r for rows in res.skipped for r in rows],
            duplicates_dropped=[r for rows in res.dropped for r in rows],
            model_fallback_from=mdl.fallback_from,
            id_column=plan.id_column,
            text_columns=plan.text_columns,
            choices=plan.choices,
            warnings=plan.warnings,
        )
        for fi, fs in enumerate(scan.files):
            t = fs.table
            summary.files.append(
                {
                    "file": str(t.path),
                    "sheet": t.sheet,
                    "rows": len(fs.rows),
                    "header_row": t.header_row,
                    "header_given": t.header_given,
                    "above_header": list(t.preamble),
                    "columns": t.columns,
                    "renamed": t.renamed,
                    "exporter": plan.exporter,
                    "format": t.format,
                    "encoding": t.decoding.describe() if t.decoding else None,
                    "stray_characters": t.decoding.stray if t.decoding else 0,
                    "delimiter": t.delimiter if t.format in ("csv", "tsv") else None,
                    "delimiter_found": t.delimiter_found,
                    "skipped": res.skipped[fi],
                    "duplicates_dropped": res.dropped[fi],
                    "truncated": [],
                }
            )
            for (row, column), chars in sorted(t.truncated.items()):
                summary.cells_truncated.append(
                    {
                        "file": str(t.path),
                        "row": row,
                        "column": column,
                        "chars": chars,
                        "kept": MAX_CELL_CHARS,
                    }
                )
        loader = _Loader(
            store,
            name,
            coll,
            manifest,
            mdl,
            plan,
            tables,
            summary,
            batch_size=batch_size,
            create_options=_layout_for(create_options or CreateOptions(), scan.total),
            keyword_only=keyword,
            adding_dense=adding_dense,
        )
        loader.run(res.winners, chunk_size or max(256, 8 * batch_size), progress, scan.total)
        if s.prune:
            keep = {k for w in res.winners for k in w.values()}
            loader.prune(keep)
        loader.finish()
        summary.points = loader.count()
        summary.columns = _column_summary(plan, loader.manifest)
        if summary.embedded:
            summary.engine = mdl.engine
    finally:
        if own_store:
            store.close()
    summary.seconds = round(time.perf_counter() - started, 3)
    return summary


def _plan(
    tables: list[Table],
    manifest: Manifest | None,
    text: Sequence[str],
    id_column: str | None,
    lists: Sequence[str],
    dates: Sequence[str],
    date_formats: Sequence[str],
    on_duplicate: str,
) -> tuple[ColumnPlan, Scan, Any]:
    """The validation pass over every file, the plan decided from it, the rows that load."""
    from .exporters import detect_exporter

    columns = list(dict.fromkeys(c for t in tables for c in t.columns))
    detect_id = id_column is None and manifest is None
    if id_column is None and manifest is not None and manifest.state != "creating":
        # An existing collection keeps its key column (or its row-number keys).
        id_column = manifest.id_column
        if id_column is not None and id_column not in columns:
            raise SourceError(
                f"{tables[0].where()}: the collection is keyed by column '{id_column}', "
                "which this file does not have",
                f"load a file with a '{id_column}' column, or --recreate",
            )
    elif id_column is None:
        detect_id = True
    scan_id = id_column
    if scan_id is None and detect_id:
        exporter = detect_exporter(columns)
        scan_id = exporter.id_column if exporter else None
    scan = scan_tables(tables, scan_id, dates)
    for fs in scan.files:
        if not fs.rows:
            t = fs.table
            raise SourceError(
                f"{t.where()}: no data rows below the header (row {t.header_row})",
                "add rows to the file, or name the header's row with --header-row",
            )
    plan = plan_columns(
        tables[0],
        scan.profiles,
        text=text,
        id_column=id_column,
        lists=lists,
        dates=dates,
        date_formats=date_formats,
        detect_id=detect_id,
        known_fields=_known_fields(manifest, columns),
        columns=columns,
        decimal_comma=any(t.delimiter == ";" for t in tables if t.format in ("csv", "tsv")),
    )
    for t in tables:
        for column in (plan.id_column, *plan.text_columns):
            if len(tables) > 1 and column is not None and column not in t.columns:
                raise SourceError(
                    f"{t.where()}: no column '{column}' (the "
                    + ("key" if column == plan.id_column else "text")
                    + " column of the other files)",
                    "load files with the same columns together; columns: " + ", ".join(t.columns),
                )
    if len(tables) > 1 and plan.id_column is None:
        raise SourceError(
            f"{len(tables)} files keyed by row number would repeat keys (row 0 of each)",
            "name the column that holds each document's key with --id COL",
        )
    res = resolve_rows(scan, plan, on_duplicate)
    plan.warnings.extend(reader_warnings(tables, plan))
    return plan, scan, res


def reader_warnings(tables: Sequence[Table], plan: ColumnPlan) -> list[str]:
    """What the readers noticed in the cells: formulas saved without their values, and date
    cells before Excel's first date (kept as their numbers)."""
    out = []
    for t in tables:
        if t.formulas:
            cells = sorted(t.formulas)
            row, column = cells[0]
            texts = sorted({r for r, c in cells if c in plan.text_columns})
            out.append(
                f"{t.where()}: {len(cells):,} formula cell(s) saved without a value (first: row "
                f"{row}, column '{column}') are left empty"
                + (
                    f"; rows {', '.join(map(str, texts[:10]))} have no text for that reason "
                    "and are skipped"
                    if texts
                    else ""
                )
                + ": open the file in Excel or LibreOffice and save it again (that stores the "
                "values)"
            )
        for (row, column), number in sorted(t.early_dates.items())[:5]:
            out.append(
                f"{t.where(row, column)}: a date cell holding {number} (before 1900-01-01, "
                f"Excel's first date) is not a date: stored as the number {number}"
            )
        if len(t.early_dates) > 5:
            out.append(f"{t.where()}: {len(t.early_dates) - 5} more date cells before 1900")
    return out


def _known_fields(manifest: Manifest | None, columns: list[str]) -> dict[str, str]:
    """Field names a collection already uses for these columns (where they differ from
    the names ``field_name`` gives): kept, so documents of earlier runs stay comparable."""
    if manifest is None:
        return {}
    known = dict(manifest.field_names)
    fields = manifest.fields
    for c in columns:
        # Collections built before column names were kept as written stored dots as '_'.
        old = c.strip().replace(".", "_")
        if c not in known and "." in c and old in fields and field_name(c) not in fields:
            known[c] = old
    return {c: f for c, f in known.items() if c in columns}


def _column_summary(plan: ColumnPlan, manifest: Manifest | None) -> list[dict[str, Any]]:
    fields = manifest.fields if manifest is not None else {}
    out = []
    for c in plan.columns:
        f = plan.fields[c]
        spec = fields.get(f)
        out.append(
            {
                "column": c,
                "field": f,
                "planned": plan.describe(c),
                "type": (spec.type + ("[]" if spec.list else "")) if spec else "empty",
                "mixed": bool(spec and spec.mixed),
            }
        )
    return out


def _check_compatible(
    manifest: Manifest,
    mdl: _Model | _NoModel,
    plan: ColumnPlan,
    name: str,
    *,
    check_model_too: bool = True,
) -> None:
    """This run's model and key column against the collection's."""
    if check_model_too and isinstance(mdl, _Model) and manifest.model is not None:
        # (a keyword-only collection: any model may add its dense vectors)
        check_model(manifest.model, mdl.record(), name, use="load", fallback_from=mdl.fallback_from)
    stored_id = manifest.id_column
    if manifest.state != "creating" and stored_id != plan.id_column:
        raise ModelMismatch(
            f"collection '{name}' is keyed by "
            f"{'column ' + repr(stored_id) if stored_id else 'row number'}, "
            f"not by {'column ' + repr(plan.id_column) if plan.id_column else 'row number'}",
            f"use {'--id ' + stored_id if stored_id else 'no --id'}, or --recreate",
        )


class _Loader:
    def __init__(
        self,
        store: Store,
        name: str,
        coll: Collection | None,
        manifest: Manifest | None,
        mdl: _Model | _NoModel,
        plan: ColumnPlan,
        tables: list[Table],
        summary: IngestSummary,
        *,
        batch_size: int,
        create_options: CreateOptions,
        keyword_only: bool = False,
        adding_dense: bool = False,
    ) -> None:
        self.keyword_only = summary.keyword_only = keyword_only
        self.store = store
        self.name = name
        self.coll = coll
        self.manifest = manifest
        self.mdl = mdl
        self.plan = plan
        self.tables = tables
        self.summary = summary
        self.batch_size = batch_size
        self.create_options = create_options
        self.types: dict[str, set[str]] = {}
        self.lists: set[str] = set()
        title = plan.fields.get(plan.title_column or "")
        self.text_fields = [plan.fields[c] for c in plan.text_columns]
        self.keywords = Keywords.for_manifest(
            manifest.keyword if manifest is not None else None, self.text_fields, title
        )
        self.names = with_name_fields(
            NameSpec.from_manifest(manifest),
            {plan.fields[c]: kind for c, kind in plan.name_columns.items()},
        )
        self.sample = TextSample()  # across every file, whatever their order
        self.legacy = _legacy(coll, manifest, tables)
        if manifest is not None:
            manifest.state = "loading"
            self.coll_write_manifest()
            if coll is not None and (manifest.keyword is None or not coll.has_sparse()):
                # No keyword vectors yet: analyze what is stored, keep every dense vector.
                stored_fields = [_field_of(c) for c in manifest.text_columns or plan.text_columns]
                summary.keyword_backfilled = backfill(coll, self.keywords, stored_fields)
                manifest.keyword = self.keywords.info()
                self.coll_write_manifest()
            if adding_dense and coll is not None:
                self._add_dense(coll, manifest)

    def _add_dense(self, coll: Collection, manifest: Manifest) -> None:
        """A keyword-only collection gets its dense vector: this load embeds every text (the
        keyword vectors and payload stay), and the default mode is decided again."""
        embedder = self.mdl.get()
        vector = coll.add_dense(embedder.dimension)
        manifest.model = embedder.info()
        manifest.layout = replace(manifest.layout, dimension=embedder.dimension)
        manifest.vectors = Vectors(dense=vector, sparse=SPARSE_VECTOR)
        if manifest.search is not None and (manifest.search.chosen_by or "").startswith(
            MEASURED_DEFAULTS
        ):
            manifest.search = None  # decided without dense vectors: decide again
        self.coll_write_manifest()

    def coll_write_manifest(self) -> None:
        assert self.coll is not None and self.manifest is not None
        self.manifest.touch()
        self.coll.write_manifest(self.manifest)

    # -- the load pass -----------------------------------------------------------
    def run(
        self, winners: list[dict[int, str]], chunk: int, progress: ProgressFn | None, total: int
    ) -> None:
        done = 0
        rows = sum(len(w) for w in winners)
        if self.coll is not None:
            try:
                self._check_room(rows, rows)  # every row new: the most this load can need
            except DiskFull:
                self._check_room(self._new_rows(winners), rows)
        if self.coll is None and any(winners):
            # Made (and, embedded, locked) before the first text is embedded: a second load
            # creating the same collection is refused now, not after embedding everything.
            self._check_room(rows, rows)
            try:
                self._collection()
            except DiskFull:
                self._drop_unfinished()
                raise
        with WriteBehind("upsert", checkpoint=self.checkpoint, every=CHECKPOINT_POINTS) as writer:
            for records, rows_read in self._chunks(winners, chunk):
                writer.write(self._diff_and_embed(records), self._collection)
                done += rows_read
                if progress:
                    progress(done, total)

    def _drop_unfinished(self) -> None:
        """A new collection that could not be made whole before its first point: it holds
        nothing, so it goes, rather than stay listed as "loading"."""
        if self.coll is None and not self.store.exists(self.name):
            return
        with contextlib.suppress(PatentSimError):
            if self.coll is None or self.coll.count() == 0:
                self.coll = None
                self.store.drop(self.name)

    def _new_rows(self, winners: list[dict[int, str]]) -> int:
        """How many of the rows to load have no document yet."""
        assert self.coll is not None
        keys = [k for w in winners for k in w.values()]
        stored = 0
        for i in range(0, len(keys), 1024):
            ids = [point_id(k) for k in keys[i : i + 1024]]
            stored += len(self.coll.retrieve(ids, with_payload=False))
        return len(keys) - stored

    def _check_room(self, rows: int, total: int) -> None:
        """Refuse a load whose new documents the disk cannot hold before anything is
        embedded (the store checks each write again; ``store.space``)."""
        room_for_load = getattr(self.store, "room_for_load", None)
        if room_for_load is None or rows == 0:
            return  # a server looks after its own disk
        if self.coll is not None:
            dimension = (self.manifest.dimension if self.manifest is not None else None) or 0
        else:
            dimension = 0 if self.keyword_only else self.mdl.get().dimension
        # The files' bytes stand for their cells; an .xlsx holds them compressed.
        cells = sum(
            t.path.stat().st_size * (XLSX_EXPANSION if t.path.suffix.lower() == ".xlsx" else 1)
            for t in self.tables
        )
        cells = cells * rows // max(total, 1)  # the new rows' share
        # The word indexes of the text (and title), and of their analyzed terms.
        texts = len(self.text_fields) + (1 if self.plan.title_column else 0)
        fields = min(len(self.plan.columns), indexing.MAX_FIELD_INDEXES)
        if self.coll is not None:
            texts = fields = 0  # made already (new fields' are checked as they are made)
        new = self.coll is None
        room_for_load(
            self.name,
            rows,
            int(dimension or 0),
            cells,
            indexes=len(RESERVED_INDEXES) + fields if new else 0,
            text_indexes=2 * texts,
            new=new,
        )

    def _chunks(
        self, winners: list[dict[int, str]], size: int
    ) -> Iterator[tuple[list[Record], int]]:
        batch: list[Record] = []
        rows_read = 0
        for table, wanted in zip(self.tables, winners):
            for row_no, row in table.rows():
                rows_read += 1
                if row_no in wanted:
                    rec = build_record(row_no, row, self.plan, table, source=table.path.name)
                    rec.payload[provenance.PATH] = provenance.source_path(table.path)
                    self._track_types(rec.payload)
                    batch.append(rec)
                if len(batch) >= size:
                    yield batch, rows_read
                    batch, rows_read = [], 0
        if batch or rows_read:
            yield batch, rows_read

    def _track_types(self, payload: dict[str, Any]) -> None:
        dates = {self.plan.fields[c] for c in self.plan.date_columns}
        for key, value in payload.items():
            if key.startswith("_"):
                continue
            if isinstance(value, list):
                self.lists.add(key)
            self.types.setdefault(key, set()).add(field_type(value, is_date=key in dates))

    def _diff_and_embed(self, records: list[Record]) -> list[PointData]:
        if not records:
            return []
        s = self.summary
        ids = [point_id(r.key) for r in records]
        stored = {}
        if self.coll is not None:
            stored = {p.id: p.payload for p in self.coll.retrieve(ids)}
        to_embed: list[tuple[str, Record]] = []
        points: list[PointData] = []
        sparse = dict(zip(ids, self.keywords.annotate([(r.text, r.payload) for r in records])))
        for r in records:
            self.sample.add(r.text)
            annotate_names(r.payload, self.names.fields, self.names.aliases)
        for pid, rec in zip(ids, records):
            rec.payload["_hash"] = text_hash(self.mdl.fingerprint, rec.text)
            old = stored.get(pid)
            held = provenance.claim(rec.payload, old, rec.payload[provenance.PATH], self.legacy)
            if held.status == "shared":
                self._shared(rec, held.other)
            if old is None:
                s.added += 1
                to_embed.append((pid, rec))
            elif old.get("_hash") != rec.payload["_hash"]:
                if old.get("_hash") == text_hash(KEYWORD_ONLY, rec.text):
                    s.dense_added += 1  # a keyword-only point gets its dense vector
                else:
                    s.updated += 1
                to_embed.append((pid, rec))
            elif _kept_marks(old, rec.payload) == old:
                s.unchanged += 1
            elif held.status == "upgraded" and old == _without_path(rec.payload):
                s.unchanged += 1
                s.paths_recorded += 1
                points.append(PointData(pid, None, rec.payload))
            else:
                s.payload_updated += 1
                points.append(PointData(pid, None, rec.payload))
        if to_embed and self.keyword_only:
            points.extend(
                PointData(pid, None, rec.payload, sparse_only=True) for pid, rec in to_embed
            )
        elif to_embed:
            points.extend(self._vectors(to_embed))
        for point in points:
            if point.vector is not None or point.sparse_only:
                point.sparse = sparse[point.id]
        return points

    def _vectors(self, items: list[tuple[str, Record]]) -> list[PointData]:
        reuse: dict[str, list[float]] = {}
        if self.coll is not None:
            hashes = tuple({rec.payload["_hash"] for _, rec in items})
            found = self.coll.scroll(
                flt=_match_hashes(hashes), with_vectors=True, with_payload=["_hash"]
            )
            for p in found:
                if p.vector is not None:
                    reuse.setdefault(p.payload.get("_hash", ""), p.vector)
        need = [(pid, rec) for pid, rec in items if rec.payload["_hash"] not in reuse]
        vectors: dict[str, Any] = {}
        if need:
            embedder = self.mdl.get()
            texts = [rec.text for _, rec in need]
            encoded = embedder.encode(texts, batch_size=self.batch_size)
            window = embedder.max_seq_length
            self.summary.window = window or None
            if window and self.mdl.long_text == DEFAULT_LONG_TEXT:
                for (_, rec), n in zip(need, embedder.token_counts(texts)):
                    if n > window:
                        self.summary.truncated.append(rec.row)
                        self._file_summary(rec)["truncated"].append(rec.row)
            for (pid, _), vec in zip(need, encoded):
                vectors[pid] = vec.tolist()
            self.summary.embedded += len(need)
        self.summary.reused += len(items) - len(need)
        return [
            PointData(pid, vectors.get(pid) or reuse[rec.payload["_hash"]], rec.payload)
            for pid, rec in items
        ]

    def _collection(self) -> Collection:
        if self.coll is None:
            embedder = None if self.keyword_only else self.mdl.get()
            manifest = Manifest.new(
                name=self.name,
                model=embedder.info() if embedder is not None else None,
                text_columns=self.plan.text_columns,
                id_column=self.plan.id_column,
            )
            manifest.keyword = self.keywords.info()
            manifest.vectors = Vectors(
                dense="" if embedder is not None else None, sparse=SPARSE_VECTOR
            )
            self.coll = self.store.create(
                self.name, embedder.dimension if embedder else 0, manifest, self.create_options
            )
            self.manifest = self.coll.read_manifest()
            self.summary.created = True
            for key, kind in RESERVED_INDEXES.items():
                self.coll.ensure_index(key, kind)
            self.manifest.state = "loading"
            self.coll_write_manifest()
        return self.coll

    def _shared(self, rec: Record, other: str | None) -> None:
        """A key another file loaded earlier holds too: this run's version replaces it."""
        self.summary.shared_count += 1
        if len(self.summary.shared_keys) < SHARED_KEPT:
            self.summary.shared_keys.append(
                {"key": rec.key, "file": rec.payload[provenance.PATH], "other": other or "?"}
            )

    # -- after the load ----------------------------------------------------------------
    def _file_summary(self, rec: Record) -> dict[str, Any]:
        path = rec.payload.get(provenance.PATH)
        for entry in self.summary.files:
            if provenance.source_path(entry["file"]) == path:
                return entry
        return self.summary.files[0]

    def prune(self, keep: set[str]) -> None:
        """Delete the documents of this run's files whose keys are not in ``keep``; documents
        that other files hold (too) stay (``provenance``)."""
        if self.coll is None:
            return
        fields = ["_key", provenance.FILE, provenance.PATH, provenance.ALSO]
        s = self.summary
        for table in self.tables:
            points = ((p.id, p.payload) for p in self.coll.scroll(with_payload=fields))
            path = provenance.source_path(table.path)
            plan = provenance.plan_prune(points, keep, path, self.legacy)
            provenance.apply_prune(self.coll, plan)
            s.pruned += len(plan.delete)
            s.prune_kept_shared += plan.kept_shared
            s.prune_kept_unsure += plan.kept_unsure
            s.prune_unsure_owner.update(plan.unsure_owner)

    def _sources(self) -> dict[str, SourceEntry]:
        """Every file loaded into the collection, by resolved path (the ``_path`` of its
        documents); entries of older manifests, by name, give way to their file's path."""
        assert self.manifest is not None
        out = dict(self.manifest.sources)
        for table, entry in zip(self.tables, self.summary.files):
            path = provenance.source_path(table.path)
            for key in [k for k in out if provenance.is_bare_name(k)]:
                if out[key].file == path:
                    del out[key]
            out[path] = source_entry(table, entry["rows"], entry["skipped"])
        return out

    def count(self) -> int:
        return self.coll.count() if self.coll is not None else 0

    def _default_mode(self, fields: dict[str, FieldSpec]) -> None:
        """Keep a tuned or stored default mode; set one for a new collection, as measured."""
        assert self.manifest is not None and self.coll is not None
        if self.manifest.search is None:
            view = replace(self.manifest, fields=fields, keyword=self.keywords.info())
            choice = measured_mode(self.coll, self.name, view, self.mode_evidence())
            if choice.warning:
                self.summary.warnings.append(choice.warning)
            if choice.seconds is not None:
                self.summary.default_mode_seconds = choice.seconds
            self.manifest.search = choice.search
            self.summary.mode_reason = choice.reason
        self.manifest.keyword = self.keywords.info()
        self.summary.default_mode = Retrieval.from_manifest(self.manifest.search).mode

    def mode_evidence(self) -> ModeEvidence:
        """The sample's language share, and how the model's tokenizer reads it."""
        from ..embed.coverage import language_share, measure

        texts = self.sample.texts()
        if self.keyword_only:
            return ModeEvidence(None, len(texts), language_share(texts), None, dense=False)
        poor = None
        embedder = self.mdl.get()
        pieces = getattr(embedder, "pieces", None)
        if pieces is not None and texts:
            poor = measure(texts, pieces, getattr(embedder, "unk_token", None)).poor_share
        return ModeEvidence(self.mdl.name, len(texts), language_share(texts), poor)

    def _fields(self) -> dict[str, FieldSpec]:
        """Each payload field's type and index, from the values written so far, at most
        ``indexing.MAX_FIELD_INDEXES`` of them indexed."""
        assert self.manifest is not None and self.coll is not None
        title = self.plan.fields.get(self.plan.title_column or "")
        full_text = {self.plan.fields[c] for c in self.plan.text_columns}
        fields = field_specs(
            self.manifest.fields,
            self.types,
            self.lists,
            full_text | ({title} if title else set()),
            terms=self.keywords.text_fields,
            names=self.names.fields,
        )
        return limit_indexes(fields, self.lists, self._columns(), set(self.coll.indexes()))

    def _columns(self) -> list[str]:
        """The files' columns as payload fields, in the files' order."""
        return [self.plan.fields[c] for c in self.plan.columns if c in self.plan.fields]

    def checkpoint(self) -> None:
        """Mid-load: the payload indexes as the rows so far call for (so the engine builds
        them segment by segment, not all at the end), then the store's checkpoint."""
        coll = self._collection()
        ensure_indexes(coll, self._fields())
        coll.checkpoint()

    def finish(self) -> None:
        if self.coll is None or self.manifest is None:
            return
        fields = self._fields()
        title = self.plan.fields.get(self.plan.title_column or "")
        family = self.plan.fields.get(self.plan.family_column or "")
        for key, spec in fields.items():
            if spec.mixed and spec.index != "text" and key in self.types:
                self.summary.mixed_fields[key] = sorted(self.types[key])
        ensure_indexes(self.coll, fields)
        self.summary.unindexed = unindexed(fields)
        self.coll.ensure_index("_file", "keyword")  # collections made before _file existed
        self.coll.optimize()
        self._default_mode(fields)
        date_fields = [k for k, v in fields.items() if v.type == "datetime"]
        m = self.manifest
        m.fields = fields
        m.text_columns = list(self.plan.text_columns)
        m.title_field = title
        m.family_field = family or m.family_field
        m.date_field = m.date_field or pick_date_field(date_fields)
        m.points = self.coll.count()
        m.source = SourceEntry(
            file=str(self.tables[0].path.resolve()),
            sheet=self.tables[0].sheet,
            rows=self.summary.rows,
            loaded_at=now(),
        )
        m.sources = self._sources()
        m.field_order = field_order(m.field_order, self._columns(), fields)
        m.names = self.names.to_manifest()
        m.field_names = {**m.field_names, **{c: f for c, f in self.plan.fields.items() if f != c}}
        m.state = "ready"
        self.coll_write_manifest()


def _kept_marks(old: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` with the marks ``search dups --mark`` wrote into the stored one (its text
    unchanged, a document stays in its group until the next marking)."""
    if DUP_FIELD in old:
        payload[DUP_FIELD] = old[DUP_FIELD]
    return payload


def _legacy(
    coll: Collection | None, manifest: Manifest | None, tables: list[Table]
) -> provenance.Legacy:
    """What the manifest says about stored documents that record only their file's name."""
    if coll is None or manifest is None:
        return provenance.Legacy()
    legacy = provenance.Legacy.from_manifest(manifest.sources, manifest.source)
    names = {t.path.name for t in tables} & {n for n in legacy.owners if n is not None}
    wanted: list[str | None] = [*sorted(names)]
    if None in legacy.owners:
        wanted.append(None)
    for name, stored in provenance.legacy_names(coll, wanted).items():
        legacy.note_count(name, stored)
    return legacy


def _without_path(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != provenance.PATH}


def _layout_for(options: CreateOptions, rows: int) -> CreateOptions:
    """A file of ``LARGE_LOAD_ROWS`` rows or more makes a large collection."""
    return replace(options, large=True) if rows >= LARGE_LOAD_ROWS else options


def _field_of(column: str) -> str:
    from .records import field_name

    return field_name(column)


def _match_hashes(hashes: tuple[str, ...]) -> Any:
    from ..store.filters import Filter

    return Filter(must=(Match("_hash", hashes),))


def read_records(
    source: str | Path | Sequence[str | Path],
    *,
    text: Sequence[str] = (),
    id_column: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
    lists: Sequence[str] = (),
    on_duplicate: str = "first",
) -> tuple[ColumnPlan, list[Record]]:
    """The records ``load`` would store from ``source``, read and typed the same way,
    without a store or a model (for measuring and tuning models on a file)."""
    paths = expand_sources(source)
    tables = [open_table(p, sheet=sheet, encoding=encoding, header_row=header_row) for p in paths]
    plan, _, res = _plan(tables, None, text, id_column, lists, (), (), on_duplicate)
    records = []
    for table, wanted in zip(tables, res.winners):
        for row_no, row in table.rows():
            if row_no in wanted:
                records.append(build_record(row_no, row, plan, table, source=table.path.name))
    return plan, records
