"""Output of ``search dups`` and ``search suggest``: tables, json, csv and files.

- ``emit_dups``: one row per grouped document (its group's name and size, key, row,
  similarity, title) as a table, csv or a file (``.xlsx``, ``.csv``); json lines and
  ``.jsonl``: one object per group with its members.
- ``emit_suggestions``: one row per class (rank, code, score, the documents that voted
  for it) as a table, json lines, csv or a file.
"""

from __future__ import annotations

import json
from typing import Any

from .dups import Duplicates
from .render import format_table, terminal_width, to_csv, write_file
from .suggest import SuggestEvalReport, Suggestions

DUP_HEADERS = ["group", "size", "key", "row", "file", "score", "title"]
SUGGEST_HEADERS = ["rank", "code", "score", "documents", "keys"]
KEYS_SHOWN = 5  # the voting documents a table row names


# -- near-duplicates ---------------------------------------------------------------------------


def dup_rows(found: Duplicates) -> list[list[Any]]:
    return [
        [g.group, g.size, m.key, m.row, m.file, round(m.score, 6), m.title]
        for g in found.groups
        for m in g.members
    ]


def dups_jsonl(found: Duplicates) -> str:
    return "\n".join(json.dumps(g.to_dict(), ensure_ascii=False) for g in found.groups)


def dups_table(found: Duplicates) -> str:
    several_files = any(m.file for g in found.groups for m in g.members)
    headers = ["group", "size", "key", "row", *(["file"] if several_files else []), "score"]
    rows = []
    for g in found.groups:
        for m in g.members:
            row = [g.group, str(g.size), m.key, "" if m.row is None else str(m.row)]
            if several_files:
                row.append(m.file or "")
            rows.append([*row, f"{m.score:.4f}", m.title or ""])
    return format_table(
        [*headers, "title"],
        rows,
        right=[False, True, False, True, *([False] if several_files else []), True],
        flexible=len(headers),
        width=terminal_width(),
    )


def emit_dups(
    found: Duplicates, fmt: str | None, output: str | None, *, keep_formulas: bool = False
) -> None:
    import click

    click.echo(f"dups: {found.describe()} ({found.seconds:.1f} s)", err=True)
    if found.marked is not None:
        click.echo(
            f"marked {found.marked:,} documents in '{found.field}'"
            + (f", removed {found.unmarked:,} earlier marks" if found.unmarked else ""),
            err=True,
        )
    if output:
        write_file(
            output, DUP_HEADERS, dup_rows(found), dups_jsonl(found), keep_formulas=keep_formulas
        )
        click.echo(f"wrote {len(found.groups):,} groups to {output}", err=True)
        return
    if not found.groups:
        click.echo("no near-duplicates at this threshold", err=True)
        return
    if fmt == "json":
        click.echo(dups_jsonl(found))
    elif fmt == "csv":
        click.echo(to_csv(DUP_HEADERS, dup_rows(found), keep_formulas=keep_formulas))
    else:
        click.echo(dups_table(found))


# -- class suggestions -------------------------------------------------------------------------


def suggestion_rows(result: Suggestions) -> list[list[Any]]:
    return [
        [c.rank, c.code, round(c.score, 6), c.documents, "|".join(c.keys)] for c in result.classes
    ]


def suggestions_jsonl(result: Suggestions) -> str:
    return "\n".join(json.dumps(c.to_dict(), ensure_ascii=False) for c in result.classes)


def suggestions_table(result: Suggestions) -> str:
    rows = [
        [
            str(c.rank),
            c.code,
            f"{c.score:.3f}",
            str(c.documents),
            ", ".join(c.keys[:KEYS_SHOWN]) + (", …" if len(c.keys) > KEYS_SHOWN else ""),
        ]
        for c in result.classes
    ]
    return format_table(
        ["rank", "code", "score", "documents", "voted by"],
        rows,
        right=[True, False, True, True],
        flexible=4,
        width=terminal_width(),
    )


def emit_suggestions(
    result: Suggestions, fmt: str | None, output: str | None, *, keep_formulas: bool = False
) -> None:
    import click

    click.echo(f"suggest: {result.describe()}", err=True)
    if output:
        write_file(
            output,
            SUGGEST_HEADERS,
            suggestion_rows(result),
            suggestions_jsonl(result),
            keep_formulas=keep_formulas,
        )
        click.echo(f"wrote {len(result.classes):,} classes to {output}", err=True)
        return
    if not result.classes:
        click.echo("no neighbour carries a class", err=True)
        return
    if fmt == "json":
        click.echo(suggestions_jsonl(result))
    elif fmt == "csv":
        click.echo(to_csv(SUGGEST_HEADERS, suggestion_rows(result), keep_formulas=keep_formulas))
    else:
        click.echo(suggestions_table(result))


def suggest_eval_json(report: SuggestEvalReport) -> str:
    """``search eval --suggest --format json``: one object per mode."""
    return "\n".join(
        json.dumps(dict(r.to_dict(), label=report.label), ensure_ascii=False) for r in report.rows
    )


def suggest_eval_table(report: SuggestEvalReport) -> str:
    head = (
        f"collection '{report.collection}': {report.sample} held-out documents (seed "
        f"{report.seed}), label '{report.label}' at the {report.level} level"
    )
    rows = [
        [r.mode, str(r.k), str(r.queries), f"{r.precision_at_1:.3f}", f"{r.recall_at_5:.3f}"]
        for r in report.rows
    ]
    table = format_table(
        ["mode", "k", "queries", "precision@1", "recall@5"], rows, right=[False, True, True]
    )
    return head + "\n" + table
