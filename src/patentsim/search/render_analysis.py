"""Output of ``search map`` and ``search clusters``: tables, json, csv and files.

- ``emit_map``: the map as a file (``.html``/``.png``: ``figures``; ``.csv``/``.xlsx``/
  ``.jsonl``: one row per document with x, y and its colour), or on stdout: the legend
  as a table, or every point as json lines / csv.
- ``emit_clusters``: one row per cluster (size, label terms, top applicants and
  classes, years, example titles) as a table, json lines or csv; ``.xlsx`` files get a
  second sheet, ``documents``, with each document's cluster.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import UserInputError
from .clusters import Clusters
from .landscape import Landscape
from .render import (
    FILE_FORMATS,
    Sheet,
    format_table,
    shorten,
    terminal_width,
    to_csv,
    write_file,
    write_sheets,
)

POINT_HEADERS = ["key", "row", "title", "x", "y", "color", "cluster"]
CLUSTER_HEADERS = [
    "cluster",
    "size",
    "label",
    "terms",
    "applicants",
    "classes",
    "years",
    "examples",
]
DOCUMENT_HEADERS = ["key", "row", "title", "cluster", "label"]
MAP_FILES = (".html", ".png", *FILE_FORMATS)


# -- the map -----------------------------------------------------------------------------------


def point_rows(result: Landscape) -> list[list[Any]]:
    return [
        [p.key, p.row, p.title, round(p.x, 5), round(p.y, 5), p.color, p.cluster]
        for p in result.points
    ]


def map_jsonl(result: Landscape) -> str:
    return "\n".join(json.dumps(p.to_dict(), ensure_ascii=False) for p in result.points)


def legend_table(result: Landscape) -> str:
    counted = sum(e.count for e in result.legend)
    rows = [[e.value, f"{e.count:,}"] for e in result.legend]
    rest = len(result.points) - counted
    if rest:
        rows.append(["other / none", f"{rest:,}"])
    return format_table(
        [result.color_field or "map", "documents"],
        rows,
        right=[False, True],
        flexible=0,
        width=terminal_width(),
    )


def map_count(result: Landscape) -> str:
    """``36 documents``, or with a filter ``12 of 36 documents matching applicant=X``."""
    return subset_count(len(result.points), result.total, result)


def subset_count(shown: int, total: int, result: Landscape | Clusters) -> str:
    """``36 documents``, or where a filter chose them ``12 of 36 documents matching X``."""
    if not result.filtered:
        return f"{shown:,} documents"
    return f"{shown:,} of {total:,} documents matching {result.filter_text()}"


def check_map_output(path: str) -> None:
    suffix = Path(path).suffix.lower()
    if suffix not in MAP_FILES:
        raise UserInputError(
            f"--output {path}: unknown file type '{suffix or '(none)'}'",
            "use .html (interactive, offline), .png, or .xlsx, .csv, .jsonl (the points)",
        )


def emit_map(
    result: Landscape, fmt: str | None, output: str | None, *, keep_formulas: bool = False
) -> None:
    import click

    click.echo(
        f"map: {map_count(result)}; {result.description}"
        + (" (cached)" if result.cached else f" ({result.seconds:.1f} s)"),
        err=True,
    )
    if output:
        suffix = Path(output).suffix.lower()
        if suffix in (".html", ".png"):
            from .figures import write_map

            write_map(result, output)
        else:
            write_map_table(output, result, keep_formulas=keep_formulas)
        click.echo(f"wrote the map of {len(result.points):,} documents to {output}", err=True)
        return
    if fmt == "json":
        click.echo(map_jsonl(result))
    elif fmt == "csv":
        click.echo(to_csv(POINT_HEADERS, point_rows(result), keep_formulas=keep_formulas))
    elif result.legend:
        click.echo(legend_table(result))
    else:
        click.echo(
            "no colouring chosen: --color FIELD shows the legend, --output map.html the map",
            err=True,
        )


# -- clusters ----------------------------------------------------------------------------------


def _pairs(values: Sequence[tuple[str, int]], sep: str = "; ") -> str:
    return sep.join(f"{v} ({n})" for v, n in values)


def _years(values: Sequence[tuple[str, int]]) -> str:
    """``2012-2021, most 2019 (34)``."""
    if not values:
        return ""
    peak = max(values, key=lambda yn: (yn[1], yn[0]))
    span = values[0][0] if len(values) == 1 else f"{values[0][0]}-{values[-1][0]}"
    return f"{span}, most {peak[0]} ({peak[1]})"


def cluster_rows(result: Clusters, *, join: str = "|") -> list[list[Any]]:
    return [
        [
            c.id,
            c.size,
            c.label,
            join.join(c.words),
            _pairs(c.applicants, join),
            _pairs(c.classes, join),
            _pairs(c.years, join),
            join.join(e.title or e.key for e in c.examples),
        ]
        for c in result.clusters
    ]


def clusters_table(result: Clusters) -> str:
    rows = [
        [
            str(c.id),
            f"{c.size:,}",
            ", ".join(c.words[:6]),
            shorten(_pairs(c.applicants[:2]), 34),
            ", ".join(v for v, _ in c.classes[:3]),
            _years(c.years),
            c.examples[0].title or c.examples[0].key if c.examples else "",
        ]
        for c in result.clusters
    ]
    return format_table(
        ["cluster", "size", "terms", "top applicants", "classes", "years", "example"],
        rows,
        right=[True, True],
        flexible=6,
        width=terminal_width(),
    )


def clusters_jsonl(result: Clusters) -> str:
    return "\n".join(json.dumps(c.to_dict(), ensure_ascii=False) for c in result.clusters)


def write_map_table(path: str | Path, result: Landscape, *, keep_formulas: bool) -> None:
    """The map's points as a .csv, .xlsx or .jsonl file."""
    write_file(
        path, POINT_HEADERS, point_rows(result), map_jsonl(result), keep_formulas=keep_formulas
    )


def write_clusters(path: str | Path, result: Clusters, *, keep_formulas: bool) -> None:
    """The clusters as a .csv or .jsonl file, or a workbook of two sheets: ``clusters``
    and ``documents`` (each document's cluster)."""
    xlsx = Path(path).suffix.lower() == ".xlsx"
    sheets = [Sheet("clusters", CLUSTER_HEADERS, cluster_rows(result, join="\n" if xlsx else "|"))]
    if xlsx:
        rows = [[a[h] for h in DOCUMENT_HEADERS] for a in result.assignments()]
        sheets.append(Sheet("documents", DOCUMENT_HEADERS, rows))
    write_sheets(path, sheets, clusters_jsonl(result), keep_formulas=keep_formulas)


def emit_clusters(
    result: Clusters, fmt: str | None, output: str | None, *, keep_formulas: bool = False
) -> None:
    import click

    count = subset_count(len(result.labels), result.total, result)
    click.echo(
        f"clusters: {count}; {result.description}"
        + (" (cached)" if result.cached else f" ({result.seconds:.1f} s)"),
        err=True,
    )
    if output:
        write_clusters(output, result, keep_formulas=keep_formulas)
        click.echo(f"wrote {len(result.clusters):,} clusters to {output}", err=True)
        return
    if fmt == "json":
        click.echo(clusters_jsonl(result))
    elif fmt == "csv":
        click.echo(to_csv(CLUSTER_HEADERS, cluster_rows(result), keep_formulas=keep_formulas))
    else:
        click.echo(clusters_table(result))
