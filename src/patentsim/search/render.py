"""Turning results into output people and programs can use.

- ``table``: for people.  Rank, score (cosine similarity), key, row and the
  title-like, applicant-like and date-like columns (or ``--fields``), aligned by
  display width so Korean (wide) characters line up, long text shortened to fit.
- ``json``: one object per line, ``{"rank": 1, "score": 0.83, "key": "...",
  "row": 12, "payload": {...}}``.
- ``csv``: a header, then one line per hit; list values joined with ``|``.
- ``write_file`` / ``write_sheets``: ``.xlsx``, ``.csv`` or ``.jsonl``, chosen by the
  extension.

Every .csv and .xlsx the package writes (every command's ``--output`` and ``--format csv``,
the web page's exports) is made by ``to_csv`` or ``write_sheets``: cells a spreadsheet would
run as formulas are made text unless the caller passes ``keep_formulas=True`` (the commands'
``--keep-formulas``; the web exports never do).

With ``--explain`` every format gains the hit's shared terms (``explain``): a
``shared terms`` column of the words as the hit spells them in the table, a
``shared_terms`` column (words joined with ``|``, highest weight first) in csv and
files, and ``shared_terms`` objects (term, word, weight) in json.

Every read command funnels into ``emit`` (hits) or ``emit_facets`` (counts).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import io
import json
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..columns import owner_column
from ..dates import parse_rfc3339, shown_date
from ..display import char_width, display_width
from ..errors import DiskFull, UserInputError, setting
from .results import Facets, Results

FORMATS = ("table", "json", "csv")
FILE_FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# The first characters of a cell that a spreadsheet reads as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_CELL = 40
SHOWN_SHARED = 10  # shared terms in csv and files (explain.SHOWN)
MIN_TITLE = 16
ELLIPSIS = "…"


# -- display width ------------------------------------------------------------------------------


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` columns, ending in an ellipsis when cut."""
    text = " ".join(text.split())
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + ELLIPSIS


def pad(text: str, width: int, *, right: bool = False) -> str:
    gap = " " * max(width - display_width(text), 0)
    return gap + text if right else text + gap


def format_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    right: Sequence[bool] = (),
    flexible: int | None = None,
    width: int | None = None,
) -> str:
    """Columns aligned by display width; the ``flexible`` column shrinks to fit ``width``."""
    n = len(headers)
    right = list(right) + [False] * (n - len(right))
    cells = [
        [shorten(c, MAX_CELL) if i != flexible else " ".join(c.split()) for i, c in enumerate(row)]
        for row in rows
    ]
    widths = [
        max([display_width(headers[i])] + [display_width(r[i]) for r in cells]) for i in range(n)
    ]
    if flexible is not None and width:
        others = sum(w for i, w in enumerate(widths) if i != flexible) + 2 * (n - 1)
        room = max(width - others, MIN_TITLE)
        if widths[flexible] > room:
            widths[flexible] = room
            for r in cells:
                r[flexible] = shorten(r[flexible], room)
    lines = ["  ".join(pad(h, widths[i], right=right[i]) for i, h in enumerate(headers)).rstrip()]
    for r in cells:
        lines.append("  ".join(pad(c, widths[i], right=right[i]) for i, c in enumerate(r)).rstrip())
    return "\n".join(lines)


# -- cells -------------------------------------------------------------------------------------


def cell(value: Any, kind: str | None = None) -> str:
    """A payload value as table text: dates without a midnight time, lists joined with '|'."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(cell(v, kind) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    text = str(value)
    return shown_date(text) if kind == "datetime" else text


def _pick_fields(results: Results, fields: Sequence[str] | None) -> list[str]:
    """``--fields`` checked against the collection's fields; None when not given."""
    if not fields:
        return []
    known = {f.lower(): f for f in results.fields}
    out = []
    for name in fields:
        real = name if name in results.fields else known.get(name.lower())
        if real is None:
            raise UserInputError(
                f"--fields: unknown field '{name}'",
                "fields: " + ", ".join(results.fields),
            )
        out.append(real)
    return out


def table_fields(results: Results) -> list[str]:
    """The columns a table shows by default: title-like, applicant-like, date-like."""
    out = []
    if results.title_field in results.fields:
        out.append(results.title_field)
    owner = owner_column(results.fields)
    if owner and owner not in out:
        out.append(owner)
    if results.date_field in results.fields and results.date_field not in out:
        out.append(results.date_field)
    return [f for f in out if f is not None]


TABLE_SHARED = 5  # shared terms a table shows per hit


def explained(results: Results) -> bool:
    """Whether the hits carry their shared terms (``--explain``)."""
    return any(h.shared_terms is not None for h in results.hits)


def shared_words(hit: Any, top: int | None = None) -> list[str]:
    return [t.word for t in (hit.shared_terms or [])[:top]]


def collapsed(results: Results) -> bool:
    """Whether the hits carry their families (``--collapse``)."""
    return any(h.family is not None for h in results.hits)


def family_note(hit: Any) -> str:
    """The table's compact note of a hit's family: how many more publications it has."""
    more = hit.family.size - 1 if hit.family is not None else 0
    return f"+{more}" if more else ""


def hits_table(
    results: Results, fields: Sequence[str] | None = None, width: int | None = None
) -> str:
    shown = _pick_fields(results, fields) or table_fields(results)
    explain = explained(results)
    family = collapsed(results)
    headers = [
        "rank",
        score_kind(results),  # the score's name is its kind: cosine, bm25, rrf or dbsf
        "key",
        "row",
        *(["family"] if family else []),
        *shown,
        *(["shared terms"] if explain else []),
    ]
    rows = [
        [str(h.rank), f"{h.score:.4f}", h.key, "" if h.row is None else str(h.row)]
        + ([family_note(h)] if family else [])
        + [cell(h.payload.get(f), results.types.get(f)) for f in shown]
        + ([", ".join(shared_words(h, TABLE_SHARED))] if explain else [])
        for h in results.hits
    ]
    flexible = None
    if shown:
        text_like = [i for i, f in enumerate(shown) if results.types.get(f) in ("text", "keyword")]
        flexible = (5 if family else 4) + (text_like[0] if text_like else 0)
    return format_table(
        headers,
        rows,
        right=[True, True, False, True, *([True] if family else [])],
        flexible=flexible,
        width=width or terminal_width(),
    )


def score_kind(results: Results) -> str:
    """What a hit's score is: cosine similarity (dense), BM25 (keyword), or the fusion of
    hybrid mode (rrf or dbsf)."""
    if results.mode == "keyword":
        return "bm25"
    if results.mode == "hybrid":
        return "dbsf" if "DBSF" in results.mode_detail else "rrf"
    return "cosine"


def terminal_width() -> int:
    return shutil.get_terminal_size((120, 24)).columns


# -- machine formats ------------------------------------------------------------------------------


def _payload(payload: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return payload
    return {f: payload[f] for f in fields if f in payload}


def hits_json(results: Results, fields: Sequence[str] | None = None) -> str:
    chosen = _pick_fields(results, fields)
    lines = []
    for h in results.hits:
        obj = h.to_dict()
        obj["payload"] = _payload(h.payload, chosen)
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(lines)


def _columns(results: Results, fields: Sequence[str] | None) -> list[str]:
    return _pick_fields(results, fields) or list(results.fields)


def hit_rows(
    results: Results, fields: Sequence[str] | None, convert: Callable[[Any, str | None], Any]
) -> tuple[list[str], list[list[Any]]]:
    columns = _columns(results, fields)
    explain = explained(results)
    family = collapsed(results)
    rows = [
        [h.rank, round(h.score, 6), h.key, h.row]
        + [convert(h.payload.get(c), results.types.get(c)) for c in columns]
        + (["|".join(shared_words(h, SHOWN_SHARED))] if explain else [])
        + (_family_cells(h) if family else [])
        for h in results.hits
    ]
    headers = ["rank", "score", "key", "row", *columns, *(["shared_terms"] if explain else [])]
    return [*headers, *(FAMILY_COLUMNS if family else [])], rows


FAMILY_COLUMNS = ["family_size", "family_members"]


def _family_cells(hit: Any) -> list[Any]:
    """A hit's family in files and csv: its size and the other members' keys, ``|``-joined."""
    if hit.family is None:
        return [1, ""]
    return [hit.family.size, "|".join(m.key for m in hit.family.members)]


def _csv_value(value: Any, kind: str | None) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return value


def _xlsx_value(value: Any, kind: str | None) -> Any:
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if kind == "datetime" and isinstance(value, str):
        try:
            parsed = parse_rfc3339(value)
        except ValueError:
            return value
        return parsed.replace(tzinfo=None)
    return value


def as_text_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet would run as a formula (it begins with = + - @, a tab
    or a carriage return), made text with a leading ``'`` as OWASP recommends; numbers stay
    numbers (-5 is written as -5)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, keep_formulas: bool) -> str:
    """CSV text; cells that would run as formulas in a spreadsheet are made text unless
    ``keep_formulas``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if keep_formulas:
        writer.writerow(headers)
        writer.writerows(rows)
    else:
        writer.writerow([as_text_cell(h) for h in headers])
        writer.writerows([as_text_cell(v) for v in row] for row in rows)
    return buf.getvalue().rstrip("\n")


def hits_csv(results: Results, fields: Sequence[str] | None = None, *, keep_formulas: bool) -> str:
    return to_csv(*hit_rows(results, fields, _csv_value), keep_formulas=keep_formulas)


# -- facets ---------------------------------------------------------------------------------


def facets_table(result: Facets, width: int | None = None) -> str:
    rows = [[cell(c.value), f"{c.count:,}"] for c in result.counts]
    return format_table(
        [result.field, "count"],
        rows,
        right=[False, True],
        flexible=0,
        width=width or terminal_width(),
    )


def facets_json(result: Facets) -> str:
    return "\n".join(json.dumps(c.to_dict(), ensure_ascii=False) for c in result.counts)


def facets_csv(result: Facets, *, keep_formulas: bool) -> str:
    rows = [[c.value, c.count] for c in result.counts]
    return to_csv([result.field, "count"], rows, keep_formulas=keep_formulas)


# -- files -------------------------------------------------------------------------------------


def file_format(path: str | Path) -> str:
    """The format a file name asks for; ``UserInputError`` for an unknown extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in FILE_FORMATS:
        raise UserInputError(
            f"--output {path}: unknown file type '{suffix or '(none)'}'",
            "use a name ending in .xlsx, .csv or .jsonl",
        )
    return FILE_FORMATS[suffix]


def output_format(path: str | Path, fmt: str | None) -> str:
    """The format ``--output`` writes in: the file's extension decides, and a ``--format``
    given beside it must agree (``json`` with ``.jsonl``, ``csv`` with ``.csv``)."""
    kind = file_format(path)
    folder = Path(path).parent
    if not folder.is_dir():
        raise UserInputError(
            f"{setting('output')} {path}: the folder {folder} does not exist",
            "create it first, or name a file in an existing folder",
        )
    if fmt is not None and {"json": "jsonl"}.get(fmt, fmt) != kind:
        fits = {"json": " or name the file *.jsonl", "csv": " or name the file *.csv"}
        raise UserInputError(
            f"--format {fmt} does not match --output {path}: the file's extension sets its "
            f"format ({kind})",
            f"leave out --format{fits.get(fmt, '')}",
        )
    return kind


@dataclass(frozen=True)
class Sheet:
    """A sheet of a workbook (a .csv file holds the first sheet only)."""

    name: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


def write_file(
    path: str | Path,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    jsonl: str,
    *,
    keep_formulas: bool,
) -> None:
    """``write_sheets`` of one sheet, ``results``."""
    write_sheets(path, [Sheet("results", headers, rows)], jsonl, keep_formulas=keep_formulas)


def write_sheets(
    path: str | Path, sheets: Sequence[Sheet], jsonl: str, *, keep_formulas: bool
) -> None:
    """Write ``path`` whole or not at all: the bytes are made first, then written beside
    it and moved into place, so a full disk leaves no empty or half-written file.  Cells a
    spreadsheet would run as formulas are made text unless ``keep_formulas``."""
    kind = file_format(path)
    if kind == "jsonl":
        data = (jsonl + ("\n" if jsonl else "")).encode("utf-8")
    elif kind == "csv":
        # utf-8 with BOM, so that Excel opens Korean text correctly.
        first = sheets[0]
        text = to_csv(first.headers, first.rows, keep_formulas=keep_formulas) + "\n"
        data = text.encode("utf-8-sig")
    else:
        data = _xlsx_bytes(sheets, keep_formulas=keep_formulas)
    write_whole(Path(path), data)


def write_whole(target: Path, data: bytes) -> None:
    """``data`` into ``target`` through a temporary file in its folder; a failure leaves
    ``target`` as it was."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if exc.errno == errno.ENOSPC:
            raise DiskFull(
                f"--output {target}: the disk holding it is full ({len(data):,} bytes to write)",
                "free some space, or write the file elsewhere",
            ) from None
        raise UserInputError(f"--output {target}: cannot write ({exc.strerror})") from None


def _xlsx_bytes(sheets: Sequence[Sheet], *, keep_formulas: bool) -> bytes:
    """The workbook, made in memory: a write-only workbook that fails while it is saved
    to a file leaves a generator whose clean-up prints a traceback when the program exits."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        ws.append([_xlsx_cell(h, ws, keep_formulas) for h in sheet.headers])
        for row in sheet.rows:
            ws.append([_xlsx_cell(v, ws, keep_formulas) for v in row])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_cell(value: Any, ws: Any, keep_formulas: bool) -> Any:
    """A value as a write-only sheet ``ws`` takes it; a string beginning with '=' as text."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and len(value) > 32_000:
        value = value[:32_000]  # Excel's cell limit is 32,767 characters
    if isinstance(value, str) and value.startswith("=") and not keep_formulas:
        # openpyxl writes a string beginning with '=' as a formula: typed text, it is shown.
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def write_hits(
    path: str | Path,
    results: Results,
    fields: Sequence[str] | None,
    *,
    keep_formulas: bool,
) -> None:
    kind = file_format(path)
    convert = _xlsx_value if kind == "xlsx" else _csv_value
    headers, rows = hit_rows(results, fields, convert)
    jsonl = hits_json(results, fields) if kind == "jsonl" else ""
    write_file(path, headers, rows, jsonl, keep_formulas=keep_formulas)


def write_facets(path: str | Path, result: Facets, *, keep_formulas: bool) -> None:
    rows = [[c.value, c.count] for c in result.counts]
    write_file(
        path, [result.field, "count"], rows, facets_json(result), keep_formulas=keep_formulas
    )


# -- the commands' output ----------------------------------------------------------------------


def emit(
    results: Results,
    fmt: str | None,
    output: str | None,
    fields: list[str] | None,
    *,
    keep_formulas: bool = False,
) -> None:
    """Hits to ``output`` (a file) or stdout in ``fmt`` (default: the table); notes on stderr.
    CSV cells that a spreadsheet would run as formulas are made text unless ``keep_formulas``."""
    import click

    if output:
        write_hits(output, results, fields, keep_formulas=keep_formulas)
        click.echo(f"wrote {len(results.hits):,} results to {output}", err=True)
        return
    if not results.hits:
        # Still check --fields, so a typo is reported even when nothing matched.
        hits_json(results, fields)
        click.echo(empty_message(results.filtered), err=True)
        if fmt == "csv":
            click.echo(hits_csv(results, fields, keep_formulas=keep_formulas))
        return
    if fmt == "json":
        click.echo(hits_json(results, fields))
    elif fmt == "csv":
        click.echo(hits_csv(results, fields, keep_formulas=keep_formulas))
    else:
        click.echo(hits_table(results, fields))


def emit_facets(
    result: Facets, fmt: str | None, output: str | None, *, keep_formulas: bool = False
) -> None:
    """Counts to ``output`` (a file) or stdout in ``fmt`` (default: the table)."""
    import click

    if output:
        write_facets(output, result, keep_formulas=keep_formulas)
        click.echo(f"wrote {len(result.counts):,} values to {output}", err=True)
        return
    if not result.counts:
        click.echo(empty_message(result.filtered), err=True)
        return
    if fmt == "json":
        click.echo(facets_json(result))
    elif fmt == "csv":
        click.echo(facets_csv(result, keep_formulas=keep_formulas))
    else:
        click.echo(facets_table(result))
        click.echo(facets_footer(result), err=True)


def facets_footer(result: Facets) -> str:
    """How many values the table shows of how many, and the documents they count."""
    shown = len(result.counts)
    kind = "names" if any(c.spellings is not None for c in result.counts) else "values"
    if result.distinct is None:
        part = f"the {shown:,} most frequent {kind}"
    elif result.distinct > shown:
        part = f"{shown:,} of {result.distinct:,} {kind} (--limit {result.distinct} for all)"
    else:
        part = f"all {result.distinct:,} {kind}"
    return f"{part}; {result.total:,} matching documents"


def emit_facet_fields(
    fields: Sequence[Any], fmt: str | None, *, keep_formulas: bool = False
) -> None:
    """``search facets`` without a field: the countable fields, in ``fmt``."""
    import click

    if fmt == "json":
        for f in fields:
            click.echo(json.dumps(f.to_dict(), ensure_ascii=False))
    elif fmt == "csv":
        heads = ["field", "type", "list", "distinct", "documents", "names"]
        rows = [list(f.to_dict().values()) for f in fields]
        click.echo(to_csv(heads, rows, keep_formulas=keep_formulas))
    else:
        click.echo(facet_fields_table(fields))
        click.echo("count one with: search facets FIELD", err=True)


def facet_fields_table(fields: Sequence[Any]) -> str:
    """``search facets`` without a field: the fields it can count."""
    rows = [
        [
            f.name,
            f.type + ("[]" if f.list else "") + (" (names)" if f.names else ""),
            "many" if f.distinct is None else f"{f.distinct:,}",
            f"{f.documents:,}",
        ]
        for f in fields
    ]
    return format_table(
        ["field", "type", "distinct", "documents"], rows, right=[False, False, True, True]
    )


# -- messages ----------------------------------------------------------------------------------


def query_header(results: Results) -> str:
    """The stderr line naming the query document of a ``like`` search."""
    q = results.query
    if q is None:
        return ""
    row = f"row {q.row}" if q.row is not None else "row ?"
    parts = [f"like: key {q.key}", row + (f" of {q.file}" if q.file else "")]
    line = ", ".join(parts)
    if q.title:
        line += f" — {shorten(q.title, 80)}"
    if q.date and results.date_field:
        line += f" ({results.date_field} {cell(q.date, 'datetime')})"
    if results.prior_art_before:
        before = cell(results.prior_art_before, "datetime")
        line += f"; prior art: {results.prior_art_field} before {before}"
    return line + f"; mode {results.mode_detail}"


def empty_message(filtered: bool) -> str:
    msg = "no matching documents"
    return msg + (" (loosen the --where/--filter-json conditions)" if filtered else "")


# -- search eval ----------------------------------------------------------------------------------


def eval_json(report: Any) -> str:
    """``search eval --format json``: one object per mode (and, with ``--tune``, per setting
    before and after tuning)."""
    lines = [json.dumps(row.to_dict(), ensure_ascii=False) for row in report.rows]
    if report.tuning:
        for tag, rows in (("before", report.tuning.before), ("after", report.tuning.after)):
            lines += [
                json.dumps(dict(row.to_dict(), tuned=tag, setting=row.detail), ensure_ascii=False)
                for row in rows
            ]
    return "\n".join(lines)


def eval_table(report: Any) -> str:
    """``search eval`` for people: one line per mode and level, then the tuning."""
    k = report.rows[0].k if report.rows else 10
    mrr_head = "MRR@10" + (f" ({report.title})" if report.title else "")
    lines = [
        f"collection '{report.collection}': {report.sample} documents sampled "
        f"(seed {report.seed}), label '{report.label}'"
    ]
    rows = [
        [
            r.detail,
            r.level,
            str(r.queries),
            f"{r.precision:.3f}",
            "-" if r.mrr is None else f"{r.mrr:.3f}",
        ]
        for r in report.rows
    ]
    lines.append(format_table(["mode", "level", "queries", f"P@{k}", mrr_head], rows))
    t = report.tuning
    if t is not None:
        lines.append("")
        lines.append(f"tuning on {t.tune_queries} documents (P@{k}, {t.before[0].level}):")
        for name, score in t.tried:
            lines.append(f"  {score:.3f}  {name}")
        b, a = t.before[0], t.after[0]
        lines.append(
            f"held-out {a.queries} documents: before {b.detail} P@{k} {b.precision:.3f}, "
            f"after {a.detail} P@{k} {a.precision:.3f}"
        )
        lines.append(f"default mode stored: {a.detail}")
    return "\n".join(lines)
