"""Output of ``search suggest``: tables, json, csv and files.

- ``emit_suggestions``: one row per class (rank, code, score, the documents that voted
  for it) as a table, json lines, csv or a file.
"""

from __future__ import annotations

import json
from typing import Any

from .render import format_table, terminal_width, to_csv, write_file
from .suggest import SuggestEvalReport, Suggestions

SUGGEST_HEADERS = ["rank", "code", "score", "documents", "keys"]
KEYS_SHOWN = 5  # the voting documents a table row names


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


def emit_suggestions(result: Suggestions, fmt: str | None, output: str | None) -> None:
    import click

    click.echo(f"suggest: {result.describe()}", err=True)
    if output:
        write_file(output, SUGGEST_HEADERS, suggestion_rows(result), suggestions_jsonl(result))
        click.echo(f"wrote {len(result.classes):,} classes to {output}", err=True)
        return
    if not result.classes:
        click.echo("no neighbour carries a class", err=True)
        return
    if fmt == "json":
        click.echo(suggestions_jsonl(result))
    elif fmt == "csv":
        click.echo(to_csv(SUGGEST_HEADERS, suggestion_rows(result)))
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
