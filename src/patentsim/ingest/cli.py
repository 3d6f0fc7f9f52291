"""The ``ingest`` command: load files into collections and look after them."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .. import __version__
from ..display import display_width
from ..embed.model import DEFAULT_MODEL
from ..options import ErrorBoundary, bundle, collection_option, store_options, with_progress
from ..store.backend import LARGE_QUANTIZED_MEMORY, CreateOptions
from ..store.manifest import ModelRecord
from ..store.names import NAMES_PREFIX, is_names_field
from ..store.tuning import LARGE_MAX_SEGMENT_POINTS
from .indexing import MAX_FIELD_INDEXES
from .manage import CollectionInfo

if TYPE_CHECKING:
    from ..embed.embedder import Embedder


def layout_options(new_default: str):
    """``--quantization``, ``--shards``, ``--replicas``: the layout of a new collection, handed
    to the command as one ``create_options`` (a ``CreateOptions``); ``new_default`` says what
    a new collection gets without ``--quantization``."""

    def decorate(fn):
        @functools.wraps(fn)
        def with_layout(*args, quantization=None, shards=None, replicas=None, **kwargs):
            layout = CreateOptions(shards=shards, replicas=replicas, quantization=quantization)
            return fn(*args, create_options=layout, **kwargs)

        decorators = [
            click.option(
                "--quantization",
                type=click.Choice(["none", "int8", "binary"]),
                help="Quantized vectors of a new collection (int8: 4x smaller, binary: 16x), "
                "searched then rescored with the originals, which stay on disk. "
                f"Default: {new_default}.",
            ),
            click.option(
                "--shards", type=click.IntRange(min=1), help="Shards of a new server collection."
            ),
            click.option(
                "--replicas",
                type=click.IntRange(min=1),
                help="Replicas of a new server collection.",
            ),
        ]
        return bundle(with_layout, decorators)

    return decorate


def endpoint_options(side: str):
    """``--SIDE-path``, ``--SIDE-url``, ``--SIDE-api-key``: one store of a copy, handed to the
    command as one ``StoreSettings``, ``source`` for side "from", ``target`` for "to"."""
    preposition, role = ("from", "source") if side == "from" else ("into", "target")

    def decorate(fn):
        @functools.wraps(fn)
        def with_endpoint(*args, **kwargs):
            from .copy import endpoint

            path, url, api_key = (kwargs.pop(f"{side}_{k}") for k in ("path", "url", "api_key"))
            return fn(*args, **kwargs, **{role: endpoint(path, url, api_key, side=side)})

        env = f"QDRANT_{side.upper()}_API_KEY"
        decorators = [
            click.option(
                f"--{side}-path",
                type=click.Path(file_okay=False),
                metavar="DIR",
                help=f"Copy {preposition} this embedded store folder.",
            ),
            click.option(
                f"--{side}-url", metavar="URL", help=f"Copy {preposition} this Qdrant server."
            ),
            click.option(
                f"--{side}-api-key",
                envvar=env,
                help=f"API key of the {role} server (env {env}, else QDRANT_API_KEY).",
            ),
        ]
        return bundle(with_endpoint, decorators)

    return decorate


@dataclass(frozen=True)
class Seams:
    """What a caller of the commands stands in for their parts, given as click's ``obj``
    (``CliRunner().invoke(cli, args, obj=Seams(embedder=fake))``): tests load with a fake
    embedder through the command line as they do through ``pipeline.load(embedder=)``."""

    embedder: Embedder | None = None


@click.group(cls=ErrorBoundary)
@click.version_option(__version__, prog_name="ingest")
def cli() -> None:
    """Embed patent files once and keep them in a Qdrant collection.

    \b
    Example:
      ingest load patents.xlsx
      ingest info
    """


@cli.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option(
    "--text",
    "text",
    multiple=True,
    metavar="COL",
    help="Column(s) to embed, joined (default: a column named like 'abstract').",
)
@click.option(
    "--id",
    "id_column",
    metavar="COL",
    help="Column holding each document's key (default: the row number).",
)
@collection_option
@click.option("--sheet", help="Sheet of a workbook (default: the first).")
@click.option(
    "--encoding",
    help="Encoding of a text file (default: found among utf-8, cp949 and latin-1 with "
    "UTF-8 sequences).",
)
@click.option(
    "--header-row",
    type=click.IntRange(min=1),
    metavar="N",
    help="Row (line) of the column names, 1 = the first (default: found; rows of search "
    "information above it are skipped).",
)
@click.option(
    "--delimiter",
    metavar="CHAR",
    help="Delimiter of a text file: ',', ';', '|' or tab (default: found from the header "
    "and the first rows).",
)
@click.option(
    "--list",
    "lists",
    multiple=True,
    metavar="COL[:SEP]",
    help="Column(s) to store as lists, split on SEP (default: the separator found in the "
    "column: ';;', '|' or ';').",
)
@click.option("--date", "dates", multiple=True, metavar="COL", help="Column(s) to store as dates.")
@click.option(
    "--date-format",
    "date_formats",
    multiple=True,
    metavar="[COL:]FMT",
    help="How to read slash dates no value decides: MDY (10/20/2008) or DMY, or a strptime "
    "format such as %d.%m.%Y; for one column with COL:FMT.",
)
@click.option("--recreate", is_flag=True, help="Drop the collection first and build it anew.")
@click.option(
    "--prune",
    is_flag=True,
    help="Delete stored documents of the given file(s) whose rows left them (documents "
    "of other files stay).",
)
@click.option(
    "--on-duplicate",
    type=click.Choice(["error", "first", "last"]),
    default="error",
    show_default=True,
    help="What to do with rows that repeat an id.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Texts per embedding batch.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    metavar="ROWS",
    help="Rows embedded and written together (default: 8 x --batch-size, at least "
    "256); a killed run loses at most the chunks in flight.",
)
@click.option(
    "--keyword-only",
    is_flag=True,
    help="Load without a model (in seconds): keyword search (BM25) and every filter; a later "
    "load with --model adds the dense vectors.",
)
@click.option(
    "--model",
    envvar="EMBED_MODEL",
    help="sentence-transformers model name or folder; 'minilm' = the offline model "
    f"(env EMBED_MODEL; default: the collection's model, else {DEFAULT_MODEL}).",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto (CUDA fp16, then MPS, then CPU), cpu, cuda, cuda:1, mps; several "
    "GPUs (one process each): cuda:0,cuda:1 or all.",
)
@click.option(
    "--backend",
    type=click.Choice(["torch", "int8"]),
    help="Embedding engine: torch, or int8 (ONNX Runtime with int8 weights, faster on "
    "CPUs). Default: the collection's, else torch.",
)
@click.option(
    "--long-text",
    type=click.Choice(["truncate", "chunk"]),
    help="Texts longer than the model's window: truncate, or chunk (windows averaged). "
    "Default: the collection's, else truncate.",
)
@layout_options("none")
@click.option("--quiet", "-q", is_flag=True, help="No progress line.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Format of the summary.",
)
@store_options
def load(files, quiet, fmt, create_options, settings, **options):
    """Embed files' abstracts and store them with every column as payload.

    Reads Excel (.xlsx, .xlsm, .xls), OpenDocument (.ods), delimited text
    (.csv, .tsv, .txt; the delimiter is detected), .jsonl/.ndjson and .parquet;
    several files (or a folder, or a glob) go into one collection, keyed by --id.
    Running it again embeds only new or changed texts; a run that was killed
    finishes where it stopped.

    \b
    Example:
      ingest load patents.xlsx --id application_number
      ingest load patents.csv --text title --text abstract --collection mine
      ingest load part1.xlsx part2.xlsx --id 출원번호 --collection battery
    """
    from . import pipeline

    chosen = _load_settings(options, create_options, settings)
    source = files[0] if len(files) == 1 else list(files)
    seams = click.get_current_context().find_object(Seams) or Seams()
    summary = with_progress("embedding", quiet)(
        lambda progress: pipeline.load(source, chosen, embedder=seams.embedder, progress=progress)
    )
    if fmt == "json":
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    _print_summary(summary, chosen.prune)


def _load_settings(options, create_options, settings):
    """The load command's options as one ``LoadSettings``: each option has the name of its
    field (``--id``'s is ``id_column``)."""
    from .settings import LoadSettings

    return LoadSettings(create_options=create_options, store_settings=settings, **options)


def _print_summary(s, prune) -> None:
    """The text summary: what was read and decided (stderr), then the counts (stdout)."""
    several = len(s.files) > 1
    for f in s.files:
        where = f["file"] + (f", sheet '{f['sheet']}'" if f["sheet"] else "")
        how = "given" if f["header_given"] else "found"
        line = f"read {where}: {f['rows']:,} rows; header row {f['header_row']} ({how})"
        if f.get("delimiter"):
            found = "found" if f.get("delimiter_found") else "given"
            line += f"; delimiter {_delimiter_name(f['delimiter'])} ({found})"
        if f.get("encoding"):
            line += f"; encoding {f['encoding']}"
        if f["exporter"]:
            line += f"; recognised as {f['exporter']}"
        click.echo(line, err=True)
        for above in f["above_header"][:5]:
            click.echo(f"  skipped above the header: {above}", err=True)
        if len(f["above_header"]) > 5:
            click.echo(f"  ... and {len(f['above_header']) - 5} more rows", err=True)
        for new, old in f["renamed"].items():
            click.echo(f"  column '{old}' repeats: the second is '{new}'", err=True)
    click.echo(
        f"key: {repr(s.id_column) if s.id_column else 'row number'}; text: "
        + ", ".join(repr(c) for c in s.text_columns),
        err=True,
    )
    for choice in s.choices:
        click.echo(f"  chose {choice}", err=True)
    if s.columns:
        click.echo("columns:", err=True)
        width = min(28, max(display_width(c["column"]) for c in s.columns))
        for c in s.columns:
            field = "" if c["field"] == c["column"] else f"  (field '{c['field']}')"
            mixed = "  (mixed: stored as keyword)" if c["mixed"] else ""
            name = c["column"] + " " * max(0, width - display_width(c["column"]))
            click.echo(f"  {name}  {c['type']:<12} {c['planned']}{field}{mixed}", err=True)
    for w in s.warnings:
        click.echo(f"warning: {w}", err=True)
    if s.unindexed:
        keys = [k for k in s.unindexed if is_names_field(k)]
        click.echo(
            f"note: {len(s.unindexed):,} fields have no payload index (a collection indexes "
            f"at most {MAX_FIELD_INDEXES}, name keys included; 'ingest info' lists them): "
            "filters on them read each document's payload, slower on a large collection",
            err=True,
        )
        if keys:
            click.echo(
                f"note: the name keys of {', '.join(k.removeprefix(NAMES_PREFIX) for k in keys)}"
                " have no payload index: facets and filters on those names read the payload",
                err=True,
            )
    click.echo(f"collection '{s.collection}' in {s.store}: {s.points:,} points (model {s.model})")
    if s.keyword_only:
        click.echo(
            "  keyword-only: no model, no dense vectors (a later load with --model adds them)"
        )
    if s.dense_added:
        click.echo(
            f"  dense vectors added to {s.dense_added:,} points of a keyword-only collection"
        )
    if s.keyword_backfilled:
        click.echo(
            f"  keyword vectors added to {s.keyword_backfilled:,} stored points "
            "(no text embedded again)"
        )
    click.echo(
        f"  rows {s.rows:,}: added {s.added:,}, updated {s.updated:,}, "
        f"payload only {s.payload_updated:,}, unchanged {s.unchanged:,}, "
        f"skipped {len(s.skipped):,}" + (f", pruned {s.pruned:,}" if prune else "")
    )
    click.echo(
        f"  embedded {s.embedded:,} texts"
        + (f" with {s.engine}" if s.engine else "")
        + f" ({s.reused:,} reused) in {s.seconds:.1f} s"
    )
    if s.truncated:
        click.echo("  " + _cut_note(len(s.truncated), s.window))
    if s.default_mode and not s.mode_reason:
        click.echo(f"  default search mode: {s.default_mode} (search --mode dense|keyword|hybrid)")
    if s.mode_reason:
        took = (
            f" (labels measured in {s.default_mode_seconds:.1f} s)"
            if s.default_mode_seconds
            else ""
        )
        click.echo(f"  chose the default mode {s.mode_reason}{took}", err=True)
    if s.paths_recorded:
        click.echo(f"  {s.paths_recorded:,} stored documents now record their file's folder")
    _print_provenance(s)
    for f in s.files:
        prefix = f"  {Path(f['file']).name}: " if several else "  "
        if f["skipped"]:
            click.echo(f"{prefix}skipped (empty text): rows {_rows(f['skipped'])}")
        if f["truncated"]:
            click.echo(f"{prefix}embedded from their first tokens: rows {_rows(f['truncated'])}")
        if f["duplicates_dropped"]:
            click.echo(f"{prefix}duplicate ids dropped: rows {_rows(f['duplicates_dropped'])}")
    for cell in s.cells_truncated:
        click.echo(
            f"warning: {cell['file']}, row {cell['row']}, column '{cell['column']}': a cell of "
            f"{cell['chars']:,} characters, stored truncated to its first {cell['kept']:,}",
            err=True,
        )
    for name, kinds in s.mixed_fields.items():
        click.echo(
            f"warning: field '{name}' holds {' and '.join(kinds)} values, so it is stored as "
            "keyword and takes no range filters; fix the odd cells (or name the column with "
            "--date / --list / --date-format)",
            err=True,
        )


def _cut_note(count: int, window: int | None) -> str:
    """Texts longer than the model's window: what happened to them, and the other way."""
    tokens = f"{window:,} tokens" if window else "tokens"
    texts = "1 text was" if count == 1 else f"{count:,} texts were"
    return (
        f"{texts} longer than the model's window and embedded from their first {tokens}; "
        "--long-text chunk embeds the whole of each text (windows averaged)"
    )


def _print_provenance(s) -> None:
    """Keys other files hold too, and what --prune kept (stderr)."""
    if s.shared_count:
        shown = s.shared_keys[:10]
        for item in shown:
            click.echo(
                f"warning: key '{item['key']}' of {item['file']} was stored from {item['other']}: "
                "this file's version replaces it (--prune of either file keeps it while the "
                "other holds it)",
                err=True,
            )
        if s.shared_count > len(shown):
            click.echo(
                f"warning: ... and {s.shared_count - len(shown):,} more keys held by other "
                "files (--format json lists the first 100)",
                err=True,
            )
    if s.prune_kept_shared:
        click.echo(
            f"  prune kept {s.prune_kept_shared:,} documents that other files also hold "
            "(now theirs; load those files again to store their own versions)"
        )
    if s.prune_kept_unsure:
        owners = ", ".join(f"{n} (recorded: {p})" for n, p in s.prune_unsure_owner.items())
        click.echo(
            f"warning: prune kept {s.prune_kept_unsure:,} documents stored before patentsim "
            "recorded folders whose file name matches but whose file is not known for sure"
            + (f": {owners}" if owners else "")
            + "; load the file that holds them with --prune, or rebuild with --recreate",
            err=True,
        )


def _layout(layout):
    """How the vectors are stored: quantization, and where the originals live."""
    kind = layout.quantization
    where = "on disk" if layout.on_disk else "in RAM"
    large = (
        "; large collection: payload and keyword indexes on disk, segments of at most "
        f"{LARGE_MAX_SEGMENT_POINTS:,} points"
        if layout.indexes_on_disk
        else ""
    )
    if kind == "none":
        return f"float32, not quantized ({where}){large}"
    ratio = {"int8": 4, "binary": 16}.get(kind, "?")
    mapped = layout.quantized_memory == LARGE_QUANTIZED_MEMORY
    held = ", memory-mapped" if mapped else " in RAM"
    return (
        f"{kind} quantized{held} ({ratio}x smaller), float32 originals {where} for rescoring{large}"
    )


def _delimiter_name(delimiter: str) -> str:
    from .textfiles import DELIMITER_NAMES

    name = DELIMITER_NAMES.get(delimiter)
    shown = "\\t" if delimiter == "\t" else delimiter
    return f"'{shown}'" + (f" ({name})" if name else "")


def _rows(rows: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(r) for r in rows[:limit])
    return shown + (f", ... ({len(rows) - limit} more)" if len(rows) > limit else "")


@cli.command()
@collection_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@store_options
def info(collection, fmt, settings):
    """Show a collection: model, counts, fields with types and indexes, location.

    \b
    Example:
      ingest info --collection patents
    """
    from .manage import info as collection_info

    result = collection_info(settings, collection)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(_info_text(result))


def _info_text(result: CollectionInfo) -> str:
    """``ingest info`` for people: the manifest, counts, fields with types and indexes."""
    out: list[str] = []
    m = result.manifest
    model = m.model or ModelRecord("")  # keyword-only: no model, the defaults shown
    out.append(f"collection  {result.collection}")
    out.append(f"store       {result.store} ({result.store_origin})")
    out.append(f"backend     {result.backend} ({result.location})")
    out.append(f"points      {result.points:,}")
    out.append(f"state       {m.state}")
    if not model.name:
        out.append("model       none: keyword-only (a load with --model NAME adds dense vectors)")
    else:
        out.append(
            f"model       {model.name} ({model.dimension}-d, window "
            f"{model.max_seq_length} tokens, fingerprint {model.fingerprint})"
        )
    if model.requested and model.requested != model.name:
        out.append(f"            (requested {model.requested}; it was unavailable)")
    out.append(f"embedding   backend {_backend(model)}, long texts {model.long_text}")
    out.append(f"vectors     {_layout(m.layout)}")
    out.append(f"text        {', '.join(m.text_columns)}")
    out.append(f"id          {m.id_column or '(row number)'}")
    src = m.source
    out.append(
        f"source      {src.file} ({src.rows} rows, loaded {src.loaded_at})"
        if src
        else "source      None (None rows, loaded None)"
    )
    if len(m.sources) > 1:
        out.append(f"files       {len(m.sources)} (field _file):")
        for name, entry in sorted(m.sources.items()):
            out.append(
                f"  {name}: {entry.rows} rows, header row {entry.header_row}, "
                f"loaded {entry.loaded_at}"
            )
    out.append(f"dates       {m.date_field or '-'} (used by --prior-art)")
    out.append(
        f"families    {m.family_field} (used by --collapse family)"
        if m.family_field
        else "families    - (--collapse family groups near-duplicates)"
    )
    if m.duplicates:
        d = m.duplicates
        how = f"{d.source or '?'} vectors, threshold {d.threshold}"
        out.append(
            f"duplicates  {d.groups:,} groups marked in {d.field} by search dups --mark "
            f"({how}, {d.marked_at})"
        )
    keyword = m.keyword
    if keyword:
        analyzer = keyword.analyzer
        out.append(
            f"keyword     BM25 over {analyzer.get('name')} v{analyzer.get('version')} terms "
            f"({analyzer.get('korean')}, {analyzer.get('language')})"
        )
    else:
        out.append("keyword     none yet: run the same 'ingest load' again to add it")
    from ..embed.retrieval import Retrieval

    mode = Retrieval.from_manifest(m.search) if keyword else Retrieval("dense")
    chosen = m.search.chosen_by if m.search else None
    out.append(f"search mode {mode.describe()}" + (f" (chosen by {chosen})" if chosen else ""))
    out.append("fields:")
    for name, spec in sorted(m.fields.items()):
        kind = spec.type + ("[]" if spec.list else "")
        indexed = result.indexes.get(name)
        state = f"index {indexed}" if indexed else "no index"
        if result.backend == "server" and not result.indexes:
            wanted = spec.index
            state = f"index {wanted} (requested)" if wanted else "no index"
        mixed = "  (mixed types)" if spec.mixed else ""
        if spec.names:
            keyed = result.indexes.get(spec.names) or (
                result.backend == "server" and not result.indexes and spec.names_indexed
            )
            state += ", name keys " + ("indexed" if keyed else "no index")
        out.append(f"  {name:<24} {kind:<12} {state}{mixed}")
    return "\n".join(out)


@cli.command(name="check")
@collection_option
@click.option(
    "--sample",
    type=click.IntRange(min=1, max=1_000_000),
    default=1000,
    show_default=True,
    help="Points whose vectors are read (the payload of every point is read).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@store_options
def check(collection, sample, fmt, settings):
    """Verify a collection: its files, counts, payload, vectors and indexes.

    Says what is wrong and how to recover (load its files again with --recreate, or
    restore a copy made with 'ingest copy'); exit 1 when it is damaged.

    \b
    Example:
      ingest check -c patents
    """
    from .check import check as check_collection

    report = check_collection(settings, collection, sample=sample)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        click.echo(f"collection '{report.collection}' in {report.location} ({report.backend})")
        for line in report.passed:
            click.echo(f"  ok       {line}")
        for line in report.notes:
            click.echo(f"  note     {line}")
        for line in report.problems:
            click.echo(f"  DAMAGED  {line}")
    if not report.healthy:
        raise report.error()
    click.echo(f"collection '{report.collection}' is healthy", err=True)


@cli.command(name="list")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@store_options
def list_(fmt, settings):
    """List the collections in the store.

    \b
    Example:
      ingest list
    """
    from .manage import list_collections, store_origin

    rows = list_collections(settings)
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    where = settings.url or str(Path(settings.path).resolve())
    click.echo(f"store {where} ({store_origin(settings)})", err=True)
    if not rows:
        click.echo("no collections (run 'ingest load FILE')", err=True)
        return
    for row in rows:
        if row["points"] is None:  # in use by another process, or damaged
            click.echo(f"{row['collection']}\t{row['state']}")
            continue
        click.echo(f"{row['collection']}\t{row['points']:,} points\t{row['model']}\t{row['state']}")


@cli.command()
@click.option("--collection", "-c", required=True, help="Collection to delete.")
@click.option("--yes", is_flag=True, help="Confirm: delete without asking.")
@store_options
def drop(collection, yes, settings):
    """Delete a collection and everything in it.

    \b
    Example:
      ingest drop --collection patents --yes
    """
    from .manage import drop as drop_collection

    if not yes:
        raise click.UsageError(f"dropping '{collection}' deletes it for good: add --yes")
    drop_collection(settings, collection)
    click.echo(f"dropped collection '{collection}'", err=True)


@cli.command(name="aliases")
@click.argument("file", type=click.Path(dir_okay=False))
@collection_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@store_options
def aliases_cmd(file, collection, fmt, settings):
    """Names that differ beyond spelling, counted as one: apply an alias file.

    FILE is a CSV of name,alias rows: the name to show, then another name of the same
    applicant (one alias per row; quote a name holding a comma).  Legal forms, case,
    punctuation and spacing need no row.  Only the name keys are rewritten: nothing is
    embedded again.  An empty file clears the table.

    \b
    Example:
      ingest aliases aliases.csv --collection patents
    """
    from .aliases import apply_aliases

    result = apply_aliases(file, collection=collection, settings=settings)
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
        return
    click.echo(
        f"collection '{result.collection}': {result.aliases:,} aliases from {result.source}; "
        f"name keys of {result.rewritten:,} of {result.points:,} documents rewritten "
        "(payload only, nothing embedded)"
    )
    for name, (before, after) in result.distinct.items():
        click.echo(f"  {name}: {before:,} distinct names before, {after:,} after")


@cli.command(name="copy")
@endpoint_options("from")
@endpoint_options("to")
@collection_option
@click.option("--to-collection", help="Name in the target (default: the same name).")
@layout_options("the source's")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Points per batch.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress line.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Format of the summary.",
)
def copy_(
    source,
    target,
    collection,
    to_collection,
    create_options,
    batch_size,
    quiet,
    fmt,
):
    """Copy a collection to another store: vectors, payload, indexes, manifest.

    Nothing is embedded again.  Safe to run again: an interrupted copy is
    finished, points already there are skipped; the counts are checked at the end.

    \b
    Example:
      ingest copy --from-path qdrant_data --to-url http://localhost:6333 -c patents
      ingest copy --from-url http://localhost:6333 --to-path backup -c patents
    """
    from .copy import copy_collection

    summary = with_progress("copying", quiet)(
        lambda progress: copy_collection(
            source,
            target,
            collection,
            to_collection,
            batch=batch_size,
            create_options=create_options,
            progress=progress,
        )
    )
    if fmt == "json":
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
        return
    s = summary
    click.echo(
        f"copied '{s.collection}' to '{s.to_collection}' in {s.target}: "
        f"{s.points:,} points ({s.written:,} written, {s.unchanged:,} already there), "
        f"{len(s.indexes)} indexes, in {s.seconds:.1f} s"
    )


def _backend(model: ModelRecord) -> str:
    """``int8 (int8-onnx)``: the backend, and the engine where it says more."""
    engine = model.engine or model.backend
    return model.backend if engine == model.backend else f"{model.backend} ({engine})"


def reading_options(fn):
    """``--text``, ``--id``, ``--sheet``: how to read FILE, as ``ingest load`` reads it,
    handed to the command as one ``reading`` (a ``Reading``)."""

    @functools.wraps(fn)
    def with_reading(*args, text=(), id_column=None, sheet=None, **kwargs):
        from ..fit.documents import Reading

        return fn(*args, reading=Reading(tuple(text), id_column, sheet), **kwargs)

    decorators = [
        click.option(
            "--text", "text", multiple=True, metavar="COL", help="Column(s) of the text, joined."
        ),
        click.option("--id", "id_column", metavar="COL", help="Column of each document's key."),
        click.option("--sheet", help="Sheet of an .xlsx file (default: the first)."),
    ]
    return bundle(with_reading, decorators)


def tune_options(fn):
    """The choices of a tuning run, handed to the command as one ``options`` (``TuneOptions``,
    whose fields the options are named after)."""
    names = (
        "level", "loss", "epochs", "batch_size", "max_seq_length", "seed", "holdout", "margin",
        "learning_rate", "device", "precision", "new_tokens", "negative_level", "titles",
    )  # fmt: skip

    @functools.wraps(fn)
    def with_options(*args, **kwargs):
        from ..fit.tune import TuneOptions

        chosen = {name: kwargs.pop(name) for name in names}
        return fn(*args, options=TuneOptions(**chosen), **kwargs)

    decorators = [
        click.option(
            "--level",
            type=click.Choice(["subclass", "group", "full"]),
            default="group",
            show_default=True,
            help="Positives share a code at this level (negatives share none at all).",
        ),
        click.option(
            "--negative-level",
            type=click.Choice(["subclass", "group", "full"]),
            help="Negatives share no code at this level, the level or a coarser one (default: "
            "none in common, the subclass, for IPC/CPC codes; else the level).",
        ),
        click.option(
            "--loss",
            type=click.Choice(["triplet", "mnrl", "mnrl-mined", "supcon"]),
            default="triplet",
            show_default=True,
            help="triplet: one semi-hard negative per anchor, mined each epoch (TripletLoss); "
            "mnrl: in-batch negatives (MultipleNegativesRankingLoss); mnrl-mined: both, the "
            "mined negatives in the batch too; supcon: every batch document sharing a code a "
            "positive, at the level and the subclass (supervised contrastive).",
        ),
        click.option("--epochs", type=click.IntRange(min=1), default=1, show_default=True),
        click.option(
            "--batch-size",
            type=click.IntRange(min=2),
            default=32,
            show_default=True,
            help="Examples per training step.",
        ),
        click.option(
            "--max-seq-length",
            type=click.IntRange(min=8),
            metavar="TOKENS",
            help="Window of the training and of the tuned model (default: the base model's).",
        ),
        click.option(
            "--seed",
            type=int,
            default=0,
            show_default=True,
            help="Seed of the split, the examples and the training.",
        ),
        click.option(
            "--holdout",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=0.2,
            show_default=True,
            help="Share of the documents held out of training, measured before and after.",
        ),
        click.option(
            "--margin",
            type=click.FloatRange(0, 2, min_open=True, max_open=True),
            default=0.2,
            show_default=True,
            help="Triplet margin in cosine distance (also the semi-hard band).",
        ),
        click.option(
            "--learning-rate",
            type=click.FloatRange(0, 1, min_open=True, max_open=True),
            default=5e-5,
            show_default=True,
        ),
        click.option(
            "--device",
            default="auto",
            show_default=True,
            help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:1, mps.",
        ),
        click.option(
            "--titles",
            is_flag=True,
            help="Also train each document's title to find its text, so that short search text "
            "queries do not get worse.",
        ),
        click.option(
            "--new-tokens",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            metavar="N",
            help="Add up to N frequent training words that the base tokenizer reads poorly "
            "(broken into letters or unknown) as tokens of their own before training.",
        ),
        click.option(
            "--precision",
            type=click.Choice(["auto", "fp32", "fp16", "bf16"]),
            default="auto",
            show_default=True,
            help="auto: mixed precision on CUDA (bf16 where the GPU has it, else fp16), fp32 "
            "elsewhere.",
        ),
    ]
    return bundle(with_options, decorators)


def _say(quiet):
    """Progress messages on stderr (none with --quiet)."""
    return None if quiet else (lambda msg: click.echo(msg, err=True))


def _source(files):
    """FILE... as the library takes it: None (the collection), one path, or a list."""
    if not files:
        return None
    return files[0] if len(files) == 1 else list(files)


@cli.group()
def models() -> None:
    """Compare embedding models on your own labelled documents.

    \b
    Example:
      ingest models compare patents.xlsx --label cpc --model minilm --model models/my-model
    """


@models.command(name="compare")
@click.argument("files", nargs=-1, metavar="[FILE...]")
@click.option(
    "--label",
    required=True,
    metavar="COL",
    help="The column (field) whose codes say which documents are related (e.g. ipc, cpc).",
)
@click.option(
    "--model",
    "candidates",
    multiple=True,
    required=True,
    metavar="MODEL",
    help="A candidate: sentence-transformers name or folder ('minilm' = the offline model). "
    "Repeat for several.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=2),
    default=500,
    show_default=True,
    help="How many seeded documents each model embeds; each is a query among the others.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option(
    "--level",
    "levels",
    type=click.Choice(["subclass", "group", "full"]),
    multiple=True,
    help="Compare codes by subclass, main group or in full; repeat for several. "
    "[default: subclass and group]",
)
@click.option(
    "-k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Neighbours judged."
)
@click.option(
    "--mode",
    type=click.Choice(["dense", "keyword", "hybrid", "all"]),
    default="all",
    show_default=True,
    help="The mode to measure, or all.",
)
@reading_options
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, mps.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Texts per embedding batch.",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress messages.")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@collection_option
@store_options
def compare(
    files,
    label,
    candidates,
    sample,
    seed,
    levels,
    k,
    mode,
    reading,
    device,
    batch_size,
    quiet,
    fmt,
    collection,
    settings,
):
    """Embed the same seeded sample with each model; measure P@k and MRR@10 per mode.

    FILE is read as 'ingest load' reads it; without FILE, the collection's documents.
    P@k: the share of a sampled document's k nearest other sampled documents that share
    a code with it; MRR@10: its title as a text query, the rank of the document itself.

    \b
    Example:
      ingest models compare patents.xlsx --label ipc --model minilm --model models/my-model
      ingest models compare --collection patents --label cpc --model minilm --format json
    """
    from ..fit.compare import compare_models
    from .render_fit import comparison_json, comparison_table

    report = compare_models(
        label,
        list(candidates),
        source=_source(files),
        collection=collection,
        sample=sample,
        seed=seed,
        levels=levels or ("subclass", "group"),
        k=k,
        modes=None if mode == "all" else [mode],
        reading=reading,
        device=device,
        batch_size=batch_size,
        settings=settings,
        log=_say(quiet),
    )
    click.echo(comparison_json(report) if fmt == "json" else comparison_table(report))


@cli.command(name="tune")
@click.argument("files", nargs=-1, metavar="[FILE...]")
@click.option(
    "--label",
    required=True,
    metavar="COL",
    help="The column (field) whose codes say which documents are related (e.g. ipc, cpc).",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Folder for the tuned model (a sentence-transformers folder with its model card).",
)
@click.option(
    "--base",
    metavar="MODEL",
    help=f"The model to start from (default: the collection's model; with FILE: {DEFAULT_MODEL}).",
)
@tune_options
@click.option("--overwrite", is_flag=True, help="Replace the --output folder if it holds files.")
@reading_options
@click.option("--quiet", "-q", is_flag=True, help="No progress.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@collection_option
@store_options
def tune_cmd(
    files, label, output, base, options, overwrite, reading, quiet, fmt, collection, settings
):
    """Fine-tune a model on the documents' labels; measure it on held-out documents.

    Positives share a label at --level; a seeded --holdout share of the documents is never
    trained on, and the base and the tuned model are measured on it alone.  The result is
    an ordinary sentence-transformers folder with a model card: embed with it into a new
    collection (the old one stays until 'ingest drop').

    \b
    Example:
      ingest tune patents.xlsx --label cpc --base minilm --output models/my-model
      ingest tune --collection patents --label ipc --epochs 3 -o models/ipc
      ingest load patents.xlsx --model models/my-model --collection patents-tuned
    """
    from ..fit.tune import tune
    from .render_fit import tune_text

    report = training_progress(quiet)(
        lambda progress: tune(
            label,
            output=output,
            source=_source(files),
            collection=collection,
            base=base,
            options=options,
            overwrite=overwrite,
            reading=reading,
            settings=settings,
            progress=progress,
            log=_say(quiet),
        )
    )
    click.echo(
        json.dumps(report.to_dict(), ensure_ascii=False) if fmt == "json" else tune_text(report)
    )


def training_progress(quiet):
    """Run ``fn(progress)`` with an examples/s and ETA line on stderr; the clock starts when
    training does (the library calls ``progress(0, total)``), not while the base is measured."""

    def run(fn):
        import time

        from ..options import Progress

        bar = Progress("training", enabled=False if quiet else None, unit="examples")

        def progress(done: int, total: int) -> None:
            if done == 0:
                bar.started = time.monotonic()
                return
            bar(done, total)

        try:
            return fn(progress)
        finally:
            bar.close()

    return run
