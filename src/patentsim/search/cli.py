"""The ``search`` command: documents like a document, like a text, and counts per value.

Each command parses its options, calls one function of ``patentsim.search.query``
and hands the result to ``render``.  The options of a similarity query reach it as one
``QueryOptions`` (the ``query_options`` bundle).  Nothing heavy is imported at module level:
``search like`` and ``search facets`` never load torch or pandas.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from .. import __version__
from ..embed.retrieval import MODES
from ..options import (
    ErrorBoundary,
    bundle,
    collection_option,
    served_store_options,
    store_options,
)
from ..store.queries import MAX_PAGE

F = TypeVar("F", bound=Callable[..., Any])


@click.group(cls=ErrorBoundary)
@click.version_option(__version__, prog_name="search")
def cli() -> None:
    """Search a patent collection by document, by text and by any field.

    \b
    Example:
      search like 0 --limit 10
      search like 0 --where "applicant=삼성전자" --where "application_date>=2015-01-01"
      search text "배터리 열관리 시스템" --limit 20 --format json
      search facets applicant
      search serve
    """


def filter_options(fn: F) -> F:
    """``--where`` (repeatable) and ``--filter-json``."""
    fn = click.option(
        "--filter-json",
        metavar="JSON",
        help="A raw Qdrant filter (JSON text, or @FILE), ANDed with --where.",
    )(fn)
    return click.option(
        "--where",
        "-w",
        "where",
        multiple=True,
        metavar="COND",
        help="A condition: FIELD=VALUE, FIELD!=VALUE, FIELD=A|B, FIELD>=X (> <= <), "
        "FIELD~WORDS, 'FIELD exists', 'FIELD missing'. Repeat to AND them.",
    )(fn)


def query_options(fn: F) -> F:
    """``--where``, ``--filter-json``, ``--limit``, ``--offset``, ``--mode``, ``--min-score``,
    ``--group-by``, ``--explain``, handed to the command as one ``options`` argument (a
    ``QueryOptions``).

    Options of ``QueryOptions`` that a command declares itself (``like``'s ``--prior-art``
    and ``--date-field``) join the same object."""
    from .options import QueryOptions

    names = QueryOptions.names()

    @functools.wraps(fn)
    def with_options(*args: Any, **kwargs: Any) -> Any:
        given = {name: kwargs.pop(name) for name in names if name in kwargs}
        return fn(*args, options=QueryOptions(**given), **kwargs)

    decorators = [
        click.option(
            "--limit",
            "-n",
            type=click.IntRange(min=1),
            default=10,
            show_default=True,
            help="How many results.",
        ),
        click.option(
            "--offset",
            type=click.IntRange(min=0),
            default=0,
            show_default=True,
            help="Skip this many results first (the next page).",
        ),
        click.option(
            "--mode",
            type=click.Choice(MODES),
            default=None,
            help="dense (the model's vectors), keyword (BM25 over analyzed words) or hybrid "
            "(both, fused by Qdrant). Default: the collection's default mode "
            "(ingest info shows it).",
        ),
        click.option(
            "--min-score",
            type=float,
            metavar="SCORE",
            help="Only results with at least this score: cosine similarity (dense), BM25 "
            "score (keyword) or fused score (hybrid: RRF or DBSF).",
        ),
        click.option(
            "--group-by",
            metavar="FIELD",
            help="At most one result per value of FIELD (list fields: per first element).",
        ),
        click.option(
            "--explain",
            is_flag=True,
            help="Add each result's shared terms with the query (document or text): the "
            "analyzed words both hold, highest keyword weight first.",
        ),
        click.option(
            "--collapse",
            metavar="family|near-dup|FIELD",
            help="One result per family, the best-ranked, with the family's size and other "
            "members: 'family' (the file's family or priority field, else near-duplicates), "
            "'near-dup' (near-identical texts), or documents sharing a value of FIELD.",
        ),
    ]
    return filter_options(bundle(with_options, decorators))


def keep_formulas_option(fn: F) -> F:
    """``--keep-formulas`` of every command that writes .csv or .xlsx (``--output``,
    ``--format csv``): the one rule is in ``render.to_csv`` / ``render.write_sheets``."""
    return click.option(
        "--keep-formulas",
        is_flag=True,
        help="CSV and .xlsx output: write cells beginning with = + - @ as they are, so that "
        "a spreadsheet runs them as formulas (by default a CSV cell gets a leading ' and an "
        ".xlsx cell is stored as text, shown instead of run).",
    )(fn)


def output_options(fn: F) -> F:
    """``--format``, ``--output`` and ``--fields`` of the commands that list hits."""
    decorators = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(["table", "json", "csv"]),
            help="table for people (the default), json (one object per line) or csv; "
            "with --output, the file's extension decides.",
        ),
        click.option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the results to FILE (.xlsx, .csv or .jsonl) instead.",
        ),
        keep_formulas_option,
        click.option(
            "--fields",
            metavar="A,B,C",
            help="Payload fields to show, by column name (default: title, applicant and date "
            "in the table; all in json, csv and files); quote a name holding a comma: "
            "'\"a, b\",c'.",
        ),
    ]
    return bundle(fn, decorators)


def _fields(fields: str | None) -> list[str] | None:
    """``--fields``: names separated by commas, as in a CSV line (so a quoted name may
    hold a comma); spaces, slashes and Korean in names need no quoting."""
    if not fields:
        return None
    import csv

    names = next(csv.reader([fields], skipinitialspace=True), [])
    return [f.strip() for f in names if f.strip()]


_WHERE_FLAGS = ("--where", "-w")


def _quote_hint(args: list[str], stray: list[str]) -> str | None:
    """Where a word the shell split off a ``--where`` condition follows it: the condition
    as it should have been written, quoted."""
    for i, arg in enumerate(args[:-1]):
        if arg in _WHERE_FLAGS and i + 2 < len(args) and args[i + 2] in stray:
            words = [args[i + 1]]
            for word in args[i + 2 :]:
                if word.startswith("-") or word not in stray:
                    break
                words.append(word)
            joined = " ".join(words)
            return f'the shell split the condition at its spaces: quote it, --where "{joined}"'
    return None


class _QuotingCommand(click.Command):
    """Words left over after the arguments, where a ``--where`` condition held spaces, are
    an error that says to quote the condition."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            rest = super().parse_args(ctx, list(args))
        except click.UsageError as exc:
            if "unexpected extra argument" not in exc.message:
                raise
            stray = exc.message.split("(", 1)[-1].rstrip(")").split()
            hint = _quote_hint(args, stray)
            if hint is None:
                raise
            raise click.UsageError(f"{exc.message}: {hint}", ctx=ctx) from None
        words = ctx.params.get("query")
        if isinstance(words, tuple) and len(words) > 1:
            # The query's words must stand together: a word after a --where condition's
            # value is most likely the rest of that condition.
            at = [i for i, a in enumerate(args) if a in words]
            if at and at[-1] - at[0] + 1 != len(at):
                hint = _quote_hint(args, list(words))
                if hint:
                    raise click.UsageError(hint, ctx=ctx)
        return rest


class _RefCommand(_QuotingCommand):
    """``like -1`` is a row number that does not exist, not an unknown option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as exc:
            if not re.fullmatch(r"-\d+", exc.option_name):
                raise
            raise click.BadParameter(
                f"{exc.option_name}: rows are numbered from 0, so there is no row "
                f"{exc.option_name} (a key that starts with '-': "
                "search like [OPTIONS] --key -- KEY)",
                ctx=ctx,
                param_hint="REF",
            ) from None


@cli.command(cls=_RefCommand)
@click.argument("ref")
@click.option(
    "--key", "key", is_flag=True, help="Read REF as a document key even when it is a number."
)
@click.option(
    "--file",
    "file",
    metavar="NAME",
    help="The file whose row REF is, in a collection of several files (or write FILE:ROW).",
)
@click.option(
    "--prior-art",
    is_flag=True,
    help="Only documents dated before the query document (examiner's question).",
)
@click.option(
    "--date-field",
    metavar="FIELD",
    help="The date --prior-art compares (default: the collection's date field).",
)
@query_options
@output_options
@collection_option
@store_options
def like(ref, key, file, options, fmt, output, keep_formulas, fields, collection, settings):
    """Documents most similar to document REF (a row number from 0, FILE:ROW, or a key).

    Uses the stored vector: no model is loaded.  The query document is left out of
    its results and named on stderr.

    \b
    Example:
      search like 0 --limit 10
      search like 1020160074642 --prior-art --group-by applicant
      search like 0 --mode hybrid
      search like 0 --explain
      search like part2.xlsx:0
      search like 0 --collapse family
    """
    from .query import like as find_like
    from .render import emit, output_format, query_header

    if output:
        output_format(output, fmt)
    results = find_like(ref, options, key=key, file=file, collection=collection, settings=settings)
    click.echo(query_header(results), err=True)
    if results.collapse:
        click.echo(results.collapse, err=True)
    emit(results, fmt, output, _fields(fields), keep_formulas=keep_formulas)


@cli.command(cls=_QuotingCommand)
@click.argument("query", nargs=-1, required=True)
@query_options
@output_options
@click.option(
    "--model",
    envvar="EMBED_MODEL",
    help="Where to load the collection's model from (a folder or name) when its "
    "recorded name does not resolve here; it must be the same model.",
)
@click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto (CUDA, then MPS, then CPU), cpu, cuda, mps.",
)
@collection_option
@store_options
def text(query, options, fmt, output, keep_formulas, fields, model, device, collection, settings):
    """Documents most similar to a text, embedded with the collection's own model.

    QUERY may be several words, quoted or not: search text 배터리 냉각 장치.

    \b
    Example:
      search text "배터리 열관리 시스템" --limit 20 --format json
      search text 배터리 냉각 장치
      search text "wafer polishing" --where "ipc=B24B 37/04"
      search text "배터리 냉각" --mode keyword --explain
    """
    from .query import text as find_text
    from .render import emit, output_format

    if output:
        output_format(output, fmt)
    results = find_text(
        " ".join(query),
        options,
        model=model,
        device=device,
        collection=collection,
        settings=settings,
    )
    click.echo(f"text: mode {results.mode_detail}", err=True)
    if results.collapse:
        click.echo(results.collapse, err=True)
    emit(results, fmt, output, _fields(fields), keep_formulas=keep_formulas)


@cli.command(name="eval")
@click.option(
    "--label",
    required=True,
    metavar="FIELD",
    help="The field whose codes say which documents are related (e.g. ipc, cpc).",
)
@click.option(
    "--level",
    "levels",
    type=click.Choice(["subclass", "group", "full"]),
    multiple=True,
    help="Compare codes by subclass (B24B), main group (B24B 3) or in full. "
    "Repeat for several. [default: subclass and group]",
)
@click.option(
    "--sample",
    type=click.IntRange(min=2, max=MAX_PAGE),
    default=500,
    show_default=True,
    help="How many seeded query documents.",
)
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1, max=MAX_PAGE),
    default=10,
    show_default=True,
    help="Neighbours judged.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option(
    "--mode",
    type=click.Choice(["dense", "keyword", "hybrid", "all"]),
    default="all",
    show_default=True,
    help="The mode to measure, or all.",
)
@click.option(
    "--title",
    metavar="FIELD",
    help="The field whose text is each document's known-item query for MRR@10 "
    "(default: the collection's title field).",
)
@click.option(
    "--tune",
    is_flag=True,
    help="Try the modes and fusion weights on half the sample, report them on the other "
    "half, and store the winner as the collection's default mode.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.option(
    "--suggest",
    is_flag=True,
    help="Measure class suggestion (search suggest) instead: precision@1 and recall@5 of "
    "each held-out document's suggested classes against its own, at the first --level "
    "(default subclass).",
)
@click.option("--model", envvar="EMBED_MODEL", help="Where to load the collection's model from.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, mps.")
@collection_option
@store_options
def eval_cmd(
    label,
    levels,
    sample,
    k,
    seed,
    mode,
    title,
    tune,
    suggest,
    fmt,
    model,
    device,
    collection,
    settings,
):
    """Measure each search mode on the collection's own labels: P@k and MRR@10.

    P@k: the share of each sampled document's k nearest others that share a label
    code with it.  MRR@10: each sampled document's title as a text query, and the
    rank of the document itself (sharing the ranks of documents with the same score).

    \b
    Example:
      search eval --label ipc
      search eval --label cpc --level group --sample 200 --mode hybrid --format json
      search eval --label ipc --tune
      search eval --label cpc --suggest
    """
    from .eval import EvalOptions, evaluate
    from .render import eval_json, eval_table
    from .session import Session

    if suggest:
        if tune:
            raise click.UsageError("--tune chooses a search mode; leave it out with --suggest")
        _eval_suggest(
            label, levels, sample, k, seed, mode, fmt, model, device, collection, settings
        )
        return

    options = EvalOptions(
        label,
        levels=levels or ("subclass", "group"),
        sample=sample,
        k=k,
        seed=seed,
        modes=() if mode == "all" else (mode,),
        title=title,
        tune=tune,
    )
    with Session(settings, collection, model=model, device=device) as session:
        report = evaluate(options, session, progress=lambda msg: click.echo(msg, err=True))
    click.echo(eval_json(report) if fmt == "json" else eval_table(report))


def _eval_suggest(label, levels, sample, k, seed, mode, fmt, model, device, collection, settings):
    from .render_toolkit import suggest_eval_json, suggest_eval_table
    from .session import Session
    from .suggest import SuggestEvalOptions, evaluate_suggestions

    options = SuggestEvalOptions(
        label,
        level=levels[0] if levels else "subclass",
        sample=sample,
        k=k,
        seed=seed,
        modes=() if mode == "all" else (mode,),
    )
    with Session(settings, collection, model=model, device=device) as session:
        report = evaluate_suggestions(
            session, options, progress=lambda msg: click.echo(msg, err=True)
        )
    click.echo(suggest_eval_json(report) if fmt == "json" else suggest_eval_table(report))


@cli.command()
@click.argument("field", required=False)
@filter_options
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1, max=MAX_PAGE),
    default=10,
    show_default=True,
    help="How many values, most frequent first.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    help="table (the default), json (one object per line) or csv; with --output, the file's "
    "extension decides.",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    help="Write the counts to FILE (.xlsx, .csv or .jsonl) instead.",
)
@keep_formulas_option
@collection_option
@store_options
def facets(field, where, filter_json, limit, fmt, output, keep_formulas, collection, settings):
    """How many documents hold each value of FIELD (list fields: each element).

    Shows what a --where condition can select.  On a field of names (applicants,
    inventors, ...) each party counts once, however its documents write its name.
    Without FIELD: the fields it can count, with their numbers of distinct values.

    \b
    Example:
      search facets
      search facets applicant --limit 20
      search facets ipc --where "application_date>=2020"
    """
    from . import render
    from .options import QueryOptions
    from .query import facets as count_facets

    if output:
        render.output_format(output, fmt)
    if field is None:
        from .query import facet_fields

        if where or filter_json or output:
            raise click.UsageError("name the FIELD to count (search facets FIELD)")
        countable = facet_fields(collection=collection, settings=settings)
        render.emit_facet_fields(countable, fmt, keep_formulas=keep_formulas)
        return
    options = QueryOptions(limit=limit, where=where, filter_json=filter_json)
    result = count_facets(field, options, collection=collection, settings=settings)
    render.emit_facets(result, fmt, output, keep_formulas=keep_formulas)


def _progress(message: str) -> None:
    click.echo(message + " ...", err=True)


@cli.command(name="map")
@click.option(
    "--color",
    metavar="FIELD",
    help="Colour the documents by FIELD (list fields: the first element, IPC/CPC codes at "
    "the subclass level; dates: the year), or by 'year', 'file' or 'cluster'.",
)
@click.option(
    "--method",
    type=click.Choice(["auto", "umap", "pca"]),
    default="auto",
    show_default=True,
    help="UMAP (needs umap-learn) or PCA; auto: UMAP where installed.",
)
@click.option(
    "--clusters",
    "k",
    type=click.IntRange(min=1),
    metavar="K",
    help="How many topic clusters with --color cluster (default: by the collection's size).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    help="table: the legend (the default); json or csv: every document with x, y, colour.",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    help="Write the map: .html (interactive, works offline), .png, or the points as .xlsx, "
    ".csv, .jsonl.",
)
@keep_formulas_option
@click.option("--refresh", is_flag=True, help="Compute again instead of using the cache.")
@filter_options
@collection_option
@store_options
def map_cmd(
    color, method, k, fmt, output, keep_formulas, refresh, where, filter_json, collection, settings
):
    """A map of the collection: every document as a point, similar ones close together.

    Made of the stored vectors (nothing is embedded), computed once per collection
    state and cached beside it. With --where / --filter-json only the documents they
    select are drawn, each where it lies on the whole collection's map.

    \b
    Example:
      search map --color ipc --output landscape.html
      search map --color cluster --output landscape.png
      search map --color applicant
      search map --color ipc --where "application_date>=2020-01-01" -o since-2020.html
    """
    from .landscape import landscape
    from .options import QueryOptions
    from .render_analysis import check_map_output, emit_map

    if output:
        check_map_output(output)
    result = landscape(
        color=color,
        method=method,
        k=k,
        refresh=refresh,
        options=QueryOptions(where=tuple(where), filter_json=filter_json),
        collection=collection,
        settings=settings,
        progress=_progress,
    )
    emit_map(result, fmt, output, keep_formulas=keep_formulas)


@cli.command(name="clusters")
@click.option(
    "--clusters",
    "-k",
    "k",
    type=click.IntRange(min=1),
    metavar="K",
    help="How many clusters (default: by the collection's size).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    help="table (the default), json (one object per cluster) or csv.",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    help="Write the clusters to FILE: .xlsx (a second sheet lists each document's "
    "cluster), .csv or .jsonl.",
)
@keep_formulas_option
@click.option("--refresh", is_flag=True, help="Compute again instead of using the cache.")
@filter_options
@collection_option
@store_options
def clusters_cmd(k, fmt, output, keep_formulas, refresh, where, filter_json, collection, settings):
    """Topic clusters of the collection, labelled with their most characteristic terms.

    Each cluster: its size, label terms, top applicants and classes, years and the
    titles of its most central documents. With --where / --filter-json: the whole
    collection's clusters (those of search map --color cluster), counted over the
    documents they select.

    \b
    Example:
      search clusters
      search clusters --clusters 12 --output topics.xlsx
      search clusters --where "application_date>=2020-01-01" -o since-2020.xlsx
    """
    from .clusters import clusters
    from .options import QueryOptions
    from .render import output_format
    from .render_analysis import emit_clusters

    if output:
        output_format(output, fmt)
    result = clusters(
        k=k,
        refresh=refresh,
        options=QueryOptions(where=tuple(where), filter_json=filter_json),
        collection=collection,
        settings=settings,
        progress=_progress,
    )
    emit_clusters(result, fmt, output, keep_formulas=keep_formulas)


@cli.command(name="dups")
@click.option(
    "--threshold",
    type=click.FloatRange(min=0, max=1, min_open=True),
    metavar="SIMILARITY",
    help="How similar two documents must be to count as near-duplicates (cosine, 0-1). "
    "Default: measured for each --source (docs: toolkit).",
)
@click.option(
    "--source",
    type=click.Choice(["dense", "keyword"]),
    help="Compare the model's vectors (dense) or the keyword vectors. Default: dense where "
    "the collection has them.",
)
@click.option(
    "--neighbours",
    type=click.IntRange(min=1, max=1024),
    default=10,
    show_default=True,
    help="Nearest documents each document asks for first (more where all are close).",
)
@filter_options
@click.option(
    "--mark",
    is_flag=True,
    help="Write each grouped document's group into the payload field _dup_group, for "
    "--where and --collapse (earlier marks of the documents looked at are replaced).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    help="table (the default), json (one object per group) or csv (one line per document).",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    help="Write the groups to FILE: .xlsx or .csv (one row per document), .jsonl.",
)
@keep_formulas_option
@collection_option
@store_options
def dups_cmd(
    threshold,
    source,
    neighbours,
    where,
    filter_json,
    mark,
    fmt,
    output,
    keep_formulas,
    collection,
    settings,
):
    """Groups of near-duplicate documents: the same text published twice, lightly edited.

    Each document's nearest neighbours come from the collection's index (nothing is
    embedded; no pair is compared outside them), linked above the threshold and joined
    into groups.

    \b
    Example:
      search dups
      search dups --threshold 0.95 --output duplicates.xlsx
      search dups --mark
      search like 0 --collapse _dup_group
    """
    from .dups import DupOptions, find_duplicates
    from .render import output_format
    from .render_toolkit import emit_dups
    from .session import Session

    if output:
        output_format(output, fmt)
    options = DupOptions(
        threshold=threshold,
        source=source,
        neighbours=neighbours,
        where=tuple(where),
        filter_json=filter_json,
        mark=mark,
    )
    with Session(settings, collection) as session:
        found = find_duplicates(session, options, progress=lambda m: click.echo(m, err=True))
    emit_dups(found, fmt, output, keep_formulas=keep_formulas)


@cli.command(name="suggest")
@click.argument("text", required=False)
@click.option("--label", required=True, metavar="FIELD", help="The field of classes (ipc, cpc).")
@click.option(
    "--ref",
    metavar="REF",
    help="Suggest for this document (a row number from 0, FILE:ROW, or a key) instead of a "
    "text; its own classes never vote.",
)
@click.option(
    "--key", "key", is_flag=True, help="Read --ref as a document key even when it is a number."
)
@click.option(
    "--level",
    type=click.Choice(["subclass", "group", "full"]),
    default="subclass",
    show_default=True,
    help="Suggest subclasses (H01M), main groups (H01M 10) or full codes.",
)
@click.option(
    "-k",
    "k",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="How many nearest documents vote.",
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    help="How the voters are found. Default: the collection's default mode.",
)
@click.option(
    "--where",
    "-w",
    "where",
    multiple=True,
    metavar="COND",
    help="A condition every voter meets (as in search like). Repeat to AND them.",
)
@click.option(
    "--limit",
    "-n",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="How many classes.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    help="table (the default), json (one object per class) or csv.",
)
@click.option(
    "--output", "-o", metavar="FILE", help="Write the classes to FILE (.xlsx, .csv, .jsonl)."
)
@keep_formulas_option
@click.option("--model", envvar="EMBED_MODEL", help="Where to load the collection's model from.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, mps.")
@collection_option
@store_options
def suggest_cmd(
    text,
    label,
    ref,
    key,
    level,
    k,
    mode,
    where,
    limit,
    fmt,
    output,
    keep_formulas,
    model,
    device,
    collection,
    settings,
):
    """Classes for a text or a document: those its nearest documents carry, with a score.

    The k nearest documents that carry a code vote for their codes, weighted by their
    similarity; a class's score is the share of the voters' weight that carries it.

    \b
    Example:
      search suggest --label ipc "배터리 셀 사이의 냉각판"
      search suggest --label cpc --ref 12 --level group
      search suggest --label ipc "battery cooling" --mode keyword --format json
    """
    from .render import output_format
    from .render_toolkit import emit_suggestions
    from .session import Session
    from .suggest import SuggestOptions, suggest

    if (text is None) == (ref is None):
        raise click.UsageError("give a TEXT or --ref REF (one of them)")
    if output:
        output_format(output, fmt)
    options = SuggestOptions(label, level, k, mode, tuple(where), limit)
    with Session(settings, collection, model=model, device=device) as session:
        result = suggest(session, options, text=text, ref=ref, key=key)
    emit_suggestions(result, fmt, output, keep_formulas=keep_formulas)


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Any other than loopback needs --api-key.",
)
@click.option(
    "--port",
    type=click.IntRange(min=0, max=65535),
    default=8000,
    show_default=True,
    help="Port to listen on (0: any free port).",
)
@click.option(
    "--api-key",
    envvar="PATENTSIM_API_KEY",
    help="Every request must carry this key (X-API-Key header, or open /?key=KEY once) "
    "(env PATENTSIM_API_KEY).",
)
@collection_option
@served_store_options
def serve(host, port, api_key, collection, settings):
    """Serve a web page over the collection: search, facets, documents, map.

    Also a JSON API in the words of these commands (/api/like, /api/text,
    /api/facets, /api/doc; described at /api/openapi.json).  The collection stays open, so
    a query costs milliseconds; another process that needs the embedded collection
    (ingest load) gets it when it asks, and the page shows its changes once it is done.

    \b
    Example:
      search serve
      search serve --collection demo --port 8080
      search serve --host 0.0.0.0 --api-key "$(openssl rand -hex 16)"
    """
    from ..web.server import serve as run_server

    def ready(running):
        click.echo(f"serving collection '{running.served.name}' at {running.url}", err=True)
        click.echo(running.url)
        click.echo("Ctrl+C stops it", err=True)

    run_server(settings, collection, host=host, port=port, api_key=api_key, ready=ready)
