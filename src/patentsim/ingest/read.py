"""Reading source files into rows, streaming.

``open_table`` checks a file and returns a ``Table``: its columns and a way
to iterate its rows as ``(row_number, {column: value})`` pairs, re-readable so
the pipeline can make a cheap validation pass before it writes anything.
Row numbers are 0-based as pandas numbers a sheet's rows (the header is not
a row; blank rows inside the data count, trailing blank rows do not).

Formats: ``.xlsx``/``.xlsm`` (openpyxl read-only mode, constant memory),
``.csv``/``.tsv``/``.txt`` (encoding found among utf-8, utf-8 with BOM,
utf-16 with BOM, cp949/euc-kr), ``.jsonl``/``.ndjson``, ``.parquet``.

The header need not be the first row: rows above it (Google Patents' ``search
URL:`` line, rows of search information, blank rows) are found by
``headers.find_header`` or skipped with ``header_row``; the table keeps what it
skipped so the summary can show it.  Empty header cells are named
``Unnamed: N`` and repeated names ``name.1``, ``name.2``, as pandas names them.

A cell longer than ``MAX_CELL_CHARS`` is truncated to that length and noted in
``Table.truncated`` (unless it looks like rows swallowed by an unclosed quote,
which is an error).  Whatever else is wrong with a file (a broken zip, a sheet
that stops half-way, a byte that does not decode, an unclosed quote, a NUL
byte) surfaces as ``SourceError`` naming the file, sheet, row and
line, never as a library's own exception: the validation pass reads every row,
so such a file is refused before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sys
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dates import EXCEL_1904_EPOCH, EXCEL_EPOCH, from_excel_serial, to_excel_serial
from ..errors import SourceError, setting
from .headers import HEADER_WINDOW, describe, find_header
from .textfiles import (
    Decoding,
    choose_delimiter,
    delimiter_option,
    detect_decoding,
    given_decoding,
    split_line,
    top_lines,
)

# A cell longer than this is truncated (and reported): a payload this size would be stored
# (and shown) with every search hit, and the model reads only the first few hundred words.
MAX_CELL_CHARS = 1_000_000
# An oversized CSV cell holding this many lines that look like rows is rows swallowed by an
# unclosed quote, not a long text: that is an error.
SWALLOWED_ROWS = 10
BOM = "\ufeff"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
_ZIP = b"PK\x03\x04"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
# Excel's dates start at 1900-01-01 (serial 1): a date cell before it is a number that a
# date format shows as ####, not a date (-5 would read as 1899-12-25).
EXCEL_FIRST_DATE = dt.datetime(1900, 1, 1)
FORMATS = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".ods": "ods",
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}

Row = dict[str, Any]


@dataclass
class Table:
    path: Path
    format: str
    columns: list[str]
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str = ","
    decoding: Decoding | None = None  # text files: how the bytes are read
    delimiter_found: bool = False
    # Index of the header among the sheet's rows (blank rows counted), and the non-blank
    # rows above it, as text.
    header_index: int = 0
    preamble: tuple[str, ...] = ()
    header_given: bool = False
    renamed: dict[str, str] = field(default_factory=dict)  # new name -> header cell as written
    # (row, column) -> length of a cell that was truncated to MAX_CELL_CHARS
    truncated: dict[tuple[int, str], int] = field(default_factory=dict)
    _raw_names: list[str] = field(default_factory=list)  # parquet: names as the file has them
    # What the reader noticed and the summary says: (row, column) of formula cells without a
    # stored value, and of date cells before Excel's first date (kept as their numbers).
    formulas: set[tuple[int, str]] = field(default_factory=set)
    early_dates: dict[tuple[int, str], float] = field(default_factory=dict)

    @property
    def header_row(self) -> int:
        """The header's row number as a spreadsheet shows it (1-based; lines of a text file)."""
        return self.header_index + 1

    def where(
        self, row: int | None = None, column: str | None = None, *, line: int | None = None
    ) -> str:
        """A location for messages: file, sheet, row (and line of a text file), column."""
        parts = [str(self.path)]
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if row is not None:
            parts.append(f"row {row}" + (f" (line {line})" if line is not None else ""))
        elif line is not None:
            parts.append(f"line {line}")
        if column is not None:
            parts.append(f"column '{column}'")
        return ", ".join(parts)

    def rows(self) -> Iterator[tuple[int, Row]]:
        """``(row_number, {column: value})`` for every data row; ``SourceError`` on bad data."""
        reader = {
            "xlsx": self._xlsx_rows,
            "xls": self._xls_rows,
            "ods": self._ods_rows,
            "csv": self._csv_rows,
            "tsv": self._csv_rows,
            "jsonl": self._jsonl_rows,
            "parquet": self._parquet_rows,
        }[self.format]
        for row_no, row in reader():
            for column, value in list(row.items()):
                if value is NO_VALUE:
                    self.formulas.add((row_no, column))
                    del row[column]
                    continue
                if isinstance(value, dt.datetime) and value < EXCEL_FIRST_DATE:
                    if self.format in ("xlsx", "xls", "ods"):
                        number = to_excel_serial(value)
                        self.early_dates[(row_no, column)] = number
                        row[column] = number
                    continue
                if isinstance(value, str):
                    self._check_cell(row_no, column, value)
                    if len(value) > MAX_CELL_CHARS:
                        self.truncated[(row_no, column)] = len(value)
                        row[column] = value[:MAX_CELL_CHARS]
            yield row_no, row

    def _check_cell(self, row_no: int, column: str, value: str) -> None:
        if len(value) > MAX_CELL_CHARS and self.format in ("csv", "tsv"):
            rows_inside = sum(
                1
                for line in value.splitlines()
                if line.count(self.delimiter) >= max(1, len(self.columns) - 1)
            )
            if rows_inside >= SWALLOWED_ROWS:
                raise SourceError(
                    f"{self.where(row_no, column)}: a cell of {len(value):,} characters "
                    f"holding {rows_inside:,} lines that look like rows",
                    "a quote is probably never closed, which joins all the rows after it "
                    "into one cell: fix the quote",
                )
        if "\x00" in value:
            raise SourceError(
                f"{self.where(row_no, column)}: the cell holds a NUL character",
                "the file is probably binary or UTF-16 without a BOM: save it again as "
                "UTF-8 (Excel: 'CSV UTF-8')",
            )

    # -- xlsx ------------------------------------------------------------------
    def _xlsx_rows(self) -> Iterator[tuple[int, Row]]:
        wb = _open_workbook(self.path)
        row_no = 0
        try:
            ws = wb[self.sheet]
            it = ws.iter_rows(values_only=True)
            for _ in range(self.header_index + 1):  # the rows above the header, and the header
                next(it, None)
            pending_blank = 0
            width = len(self.columns)
            while True:
                try:
                    values = next(it, None)
                except Exception as exc:  # openpyxl parses lazily: zlib, XML, zip errors
                    raise SourceError(
                        f"{self.where(row_no + pending_blank)}: the sheet cannot be read from "
                        f"here on ({type(exc).__name__}: {_first_line(exc)})",
                        "the workbook is damaged: open it in Excel or LibreOffice and save it "
                        "again as .xlsx",
                    ) from exc
                if values is None:
                    break
                if all(v is None or v == "" for v in values):
                    pending_blank += 1
                    continue
                # Blank rows between data rows are rows to pandas; trailing ones are not.
                for _ in range(pending_blank):
                    yield row_no, {}
                    row_no += 1
                pending_blank = 0
                yield row_no, {c: v for c, v in zip(self.columns, values[:width]) if v is not None}
                row_no += 1
        finally:
            wb.close()

    # -- csv -------------------------------------------------------------------
    def _csv_rows(self) -> Iterator[tuple[int, Row]]:
        csv.field_size_limit(sys.maxsize)
        decoding = self.decoding or Decoding(self.encoding or "utf-8-sig")
        with decoding.open(self.path) as fh:
            # The lines above the header and the header are lines, not records: a line of
            # search information may hold a quote that is never closed.
            skipped = 0
            for _ in range(self.header_index + 1):
                try:
                    if not fh.readline():
                        return
                except UnicodeDecodeError as exc:  # checked in open_table; a file changed since
                    raise self._not_decoded(0, exc) from exc
                skipped += 1
            reader = csv.reader(fh, delimiter=self.delimiter, strict=True)
            width = len(self.columns)
            row_no = 0
            while True:
                line = skipped + reader.line_num + 1
                try:
                    values = next(reader, None)
                except csv.Error as exc:
                    raise SourceError(
                        f"{self.where(row_no, line=line)}: {exc}",
                        "a quote is not closed, or text follows a closing quote: quote the "
                        'whole cell and double any quote inside it ("")',
                    ) from exc
                except UnicodeDecodeError as exc:
                    raise self._not_decoded(row_no, exc) from exc
                if values is None:
                    return
                if _blank_line(values):
                    continue  # pandas skips blank lines (a line of delimiters is a row)
                if len(values) > width:
                    raise SourceError(
                        f"{self.where(row_no, line=line)}: {len(values)} fields, but the "
                        f"header has {width}",
                        "fix the row (a stray delimiter, or an unquoted text that holds one)",
                    )
                yield row_no, {c: v for c, v in zip(self.columns, values) if v != ""}
                row_no += 1

    def _not_decoded(self, row_no: int, exc: UnicodeDecodeError) -> SourceError:
        return SourceError(
            f"{self.where(row_no)}: bytes that are not {self.encoding} ({exc.reason})",
            f"give the file's encoding with {setting('encoding')}, or save it as UTF-8",
        )

    # -- xls and ods: read whole (old Excel files hold at most 65,536 rows) ----------------
    def _xls_rows(self) -> Iterator[tuple[int, Row]]:
        yield from self._sheet_rows(_xls_sheet(self.path, self.sheet))

    def _ods_rows(self) -> Iterator[tuple[int, Row]]:
        yield from self._sheet_rows(_ods_sheet(self.path, self.sheet))

    def _sheet_rows(self, rows: Iterator[list[Any]]) -> Iterator[tuple[int, Row]]:
        """The data rows of a sheet read row by row (blank rows as ``_xlsx_rows`` counts them)."""
        for _ in range(self.header_index + 1):
            next(rows, None)
        width = len(self.columns)
        row_no = pending_blank = 0
        for values in rows:
            if all(v is None or v == "" for v in values):
                pending_blank += 1
                continue
            for _ in range(pending_blank):
                yield row_no, {}
                row_no += 1
            pending_blank = 0
            yield row_no, {c: v for c, v in zip(self.columns, values[:width]) if v is not None}
            row_no += 1

    # -- jsonl -----------------------------------------------------------------
    def _jsonl_rows(self) -> Iterator[tuple[int, Row]]:
        with open(self.path, encoding=self.encoding) as fh:
            row_no = 0
            for line_no, line in enumerate(_decoded_lines(fh, self), 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                    raise SourceError(
                        f"{self.where(line=line_no)}: not valid JSON ({reason})",
                        "each line must be one JSON object",
                    ) from exc
                if not isinstance(obj, dict):
                    raise SourceError(
                        f"{self.where(line=line_no)}: a JSON {type(obj).__name__}, not an object",
                        "each line must be one JSON object",
                    )
                yield row_no, {column_name(k): v for k, v in obj.items() if v is not None}
                row_no += 1

    # -- parquet ---------------------------------------------------------------
    def _parquet_rows(self) -> Iterator[tuple[int, Row]]:
        import pyarrow.parquet as pq

        row_no = 0
        try:
            pf = pq.ParquetFile(self.path)
            for batch in pf.iter_batches(batch_size=1024):
                names = dict(zip(self._raw_names, self.columns))
                for rec in batch.to_pylist():
                    yield (
                        row_no,
                        {names[k]: v for k, v in rec.items() if v is not None and k in names},
                    )
                    row_no += 1
        except SourceError:
            raise
        except Exception as exc:  # pyarrow raises several families
            raise SourceError(
                f"{self.where(row_no)}: the Parquet file cannot be read from here on "
                f"({_first_line(exc)})",
                "write the file again",
            ) from exc


def _blank_line(values: list[str]) -> bool:
    return not values or (len(values) == 1 and not values[0].strip())


def _decoded_lines(fh: Any, table: Table) -> Iterator[str]:
    line_no = 0
    while True:
        try:
            line = fh.readline()
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"{table.where(line=line_no + 1)}: bytes that are not {table.encoding} "
                f"({exc.reason})",
                "give the file's encoding with --encoding, or save it as UTF-8",
            ) from exc
        if not line:
            return
        line_no += 1
        yield line


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def file_kind(path: Path) -> str | None:
    """What a file's first bytes say it is: xlsx, ods, xls (an OLE2 container) or None (text,
    or something else: its extension decides)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:4] == _OLE2[:4]:
        return "xls"
    if head.startswith(_ZIP):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                if "mimetype" in names and zf.read("mimetype").strip() == _ODS_MIME:
                    return "ods"
        except (zipfile.BadZipFile, OSError, KeyError, zlib.error):
            pass
        return "xlsx"
    return None


class _NoValue:
    """A formula cell saved without its computed value (a workbook written by a program that
    does not calculate, or saved with calculation off)."""

    def __repr__(self) -> str:
        return "<formula without a value>"


NO_VALUE = _NoValue()


def _watch_formulas() -> None:
    """Make openpyxl's read-only sheets return ``NO_VALUE`` for a formula cell without a
    stored value, where they return None, so that the summary can say so."""
    from openpyxl.worksheet import _read_only, _reader

    base = _reader.WorkSheetParser
    if getattr(_read_only.WorkSheetParser, "patentsim", False):
        return

    class Parser(base):  # type: ignore[misc, valid-type]
        patentsim = True

        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)
            if (
                self.data_only
                and cell["value"] is None
                and element.find(_reader.FORMULA_TAG) is not None
            ):
                cell["value"] = NO_VALUE
            return cell

    _read_only.WorkSheetParser = Parser


def _open_workbook(path: Path) -> Any:
    import openpyxl

    if file_kind(path) == "xls":
        raise SourceError(
            f"{path}: an old-style .xls workbook, or one protected by a password",
            "name it .xls to read it as one; a workbook with a password: save it without one",
        )
    _watch_formulas()
    # openpyxl goes by the name's extension: an .xlsx named otherwise is handed over as bytes.
    source: Any = path
    if path.suffix.lower() not in (".xlsx", ".xlsm", ".xltx", ".xltm"):
        source = io.BytesIO(path.read_bytes())
    try:
        return openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (
        zipfile.BadZipFile,
        zlib.error,
        KeyError,
        OSError,
        ValueError,
        TypeError,
        SyntaxError,
        EOFError,
    ) as exc:  # ElementTree's ParseError is a SyntaxError
        raise SourceError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {_first_line(exc)})",
            "open it in Excel or LibreOffice and save it again as .xlsx",
        ) from exc


def _xls_book(path: Path) -> Any:
    import xlrd

    try:
        return xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct and index errors
        text = _first_line(exc)
        protected = "workbook in OLE2" in text or "encrypted" in text.lower()
        raise SourceError(
            f"{path}: not a readable .xls workbook ({text})",
            "a workbook protected by a password: save it without one"
            if protected
            else "open it in Excel or LibreOffice and save it again as .xlsx",
        ) from exc


def _xls_sheet(path: Path, sheet: str | None) -> Iterator[list[Any]]:
    """The rows of an .xls sheet as Python values (dates as datetimes, times as times)."""
    book = _xls_book(path)
    try:
        names = book.sheet_names()
        name = sheet if sheet is not None else (names[0] if names else None)
        if name is None or name not in names:
            raise _no_sheet(path, sheet, names)
        ws = book.sheet_by_name(name)
        base = EXCEL_1904_EPOCH if book.datemode == 1 else EXCEL_EPOCH
        for r in range(ws.nrows):
            out: list[Any] = []
            for cell in ws.row(r):
                out.append(_xls_value(cell.ctype, cell.value, base))
            yield out
    finally:
        book.release_resources()


def _xls_value(ctype: int, value: Any, base: dt.datetime) -> Any:
    # xlrd's cell types: 0 empty, 1 text, 2 number, 3 date, 4 boolean, 5 error, 6 blank.
    if ctype in (0, 5, 6):
        return None
    if ctype == 3:
        if 0 <= value < 1:
            seconds = round(value * 86400)
            return dt.time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
        try:
            return from_excel_serial(value, base)
        except OverflowError:
            return value
    if ctype == 4:
        return bool(value)
    return value


def _ods_sheet(path: Path, sheet: str | None) -> Iterator[list[Any]]:
    """The rows of an .ods sheet (pandas' odf engine)."""
    import pandas as pd

    try:
        book = pd.ExcelFile(path, engine="odf")
        names = [str(n) for n in book.sheet_names]
        name = sheet if sheet is not None else (names[0] if names else None)
        if name is None or name not in names:
            raise _no_sheet(path, sheet, names)
        frame = book.parse(name, header=None, dtype=object)
    except SourceError:
        raise
    except Exception as exc:  # odfpy and pandas raise many families
        raise SourceError(
            f"{path}: not a readable .ods workbook ({_first_line(exc)})",
            "open it in LibreOffice and save it again as .ods or .xlsx",
        ) from exc
    for values in frame.itertuples(index=False, name=None):
        yield [_ods_value(v) for v in values]


def _ods_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if hasattr(value, "to_pydatetime"):
        try:
            return value.to_pydatetime()
        except (ValueError, TypeError):
            return None
    return value


def _no_sheet(path: Path, sheet: str | None, names: list[str]) -> SourceError:
    if not names:
        return SourceError(f"{path}: the workbook has no sheets", "save it again")
    return SourceError(
        f"{path}: no sheet named '{sheet}'",
        "sheets in this workbook: " + ", ".join(repr(n) for n in names),
    )


def column_name(value: Any) -> str:
    """A header cell as a column name: without BOM, outer and repeated whitespace."""
    return "" if value is None else " ".join(str(value).replace(BOM, "").split())


def _header(values: Sequence[Any], where: str) -> tuple[list[str], dict[str, str]]:
    """Column names from a header row, as pandas names them: an empty cell is
    ``Unnamed: N`` and a repeated name ``name.1``, ``name.2``; and the renamed ones."""
    columns = []
    for i, v in enumerate(values):
        name = column_name(v)
        columns.append(name or f"Unnamed: {i}")
    while columns and columns[-1].startswith("Unnamed: "):
        columns.pop()
    if not columns:
        raise SourceError(f"{where}: the header row is empty", "put column names in the header row")
    renamed: dict[str, str] = {}
    seen: set[str] = set()
    for i, c in enumerate(columns):
        if c in seen:
            n = 1
            while f"{c}.{n}" in seen or f"{c}.{n}" in columns:
                n += 1
            columns[i] = f"{c}.{n}"
            renamed[columns[i]] = c
        seen.add(columns[i])
    return columns, renamed


def open_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
    delimiter: str | None = None,
) -> Table:
    """Check a source file and read its header; ``SourceError`` names what is wrong.

    ``header_row`` is the header's 1-based row (line of a text file); without it the
    header is found among the first rows (``headers.find_header``).  ``delimiter``: of a
    text file (default: found, ``textfiles.choose_delimiter``).  Workbooks are known by
    their bytes, whatever their extension says (an .xlsx renamed .xls reads as .xlsx).
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(f"{p}: no such file", "check the path")
    if p.is_dir():
        raise SourceError(
            f"{p}: is a folder, not a file", "name a .xlsx, .csv, .jsonl or .parquet file"
        )
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise SourceError(
            f"{p}: unknown file type '{p.suffix}'",
            "use .xlsx, .xls, .ods, .csv, .tsv, .jsonl or .parquet",
        )
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise SourceError(f"{p}: cannot be read ({exc.strerror})") from exc
    if size == 0:
        raise SourceError(f"{p}: the file is empty", "export the sheet again")
    try:
        kind = file_kind(p)
    except OSError as exc:
        raise SourceError(f"{p}: cannot be read ({exc.strerror})", "check its permissions") from exc
    if header_row is not None and header_row < 1:
        raise SourceError(f"{setting('header_row')} must be 1 or more, not {header_row}")
    if fmt in ("xlsx", "xls", "ods") and kind is None:
        if fmt == "xlsx" or _looks_like_markup(p):
            raise SourceError(
                f"{p}: not a readable .{fmt} workbook (its bytes are not a workbook)",
                "open it in Excel or LibreOffice and save it again as .xlsx",
            )
        fmt = "csv"  # a text file named .xls, as some databases export: read as text
    elif fmt in ("xlsx", "xls", "ods") and kind is not None:
        fmt = kind
    if fmt in ("xlsx", "xls", "ods"):
        if delimiter is not None:
            raise SourceError(
                f"{p}: {setting('delimiter')} applies to text files only",
                f"leave out {setting('delimiter')} for this file",
            )
        return _open_sheet(p, fmt, sheet, header_row)
    if sheet:
        raise SourceError(
            f"{p}: {setting('sheet')} applies to workbooks only",
            f"leave out {setting('sheet')} for this file",
        )
    if fmt in ("jsonl", "parquet"):
        for given, name in ((header_row, "header_row"), (delimiter, "delimiter")):
            if given is not None:
                raise SourceError(
                    f"{p}: {setting(name)} applies to workbooks and .csv/.tsv files only",
                    f"leave out {setting(name)} for this file",
                )
    decoding = given_decoding(p, encoding) if encoding else None
    if fmt in ("csv", "tsv"):
        decoding = decoding or detect_decoding(p)
        window = max(HEADER_WINDOW, header_row or 0)
        lines = top_lines(decoding, p, window + 1)
        complete = len(lines) <= window
        lines = lines[:window]
        if all(not line.strip() for line in lines):
            raise SourceError(f"{p}: the file holds only blank lines", "export the sheet again")
        forced = delimiter_option(delimiter) if delimiter is not None else None
        preferred = "\t" if fmt == "tsv" else ","

        def header_of(rows: list[list[str]]) -> int:
            if header_row is not None:
                return header_row - 1
            return find_header(rows, text_file=True).index

        if header_row is not None:
            _check_header_row(lines, header_row, str(p))
        choice = choose_delimiter(
            p, lines, header_of, given=forced, preferred=preferred, complete=complete
        )
        table = Table(
            p,
            fmt,
            [],
            encoding=decoding.encoding,
            delimiter=choice.delimiter,
            decoding=decoding,
            delimiter_found=choice.found,
        )
        top = [split_line(line, choice.delimiter) for line in lines]
        _place_header(table, top, header_row, f"{p}")
        return table
    if fmt == "jsonl":
        decoding = decoding or detect_decoding(p)
        table = Table(p, fmt, [], encoding=decoding.encoding, decoding=decoding)
        columns: dict[str, None] = {}
        for _, row in table.rows():
            for k in row:
                columns.setdefault(str(k), None)
        if not columns:
            raise SourceError(f"{p}: no JSON objects found", "write one JSON object per line")
        table.columns, table.renamed = _header(list(columns), str(p))
        return table
    return _open_parquet(p)


def _looks_like_markup(path: Path) -> bool:
    """An HTML or XML file (some databases save an HTML table as .xls)."""
    with open(path, "rb") as fh:
        head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<", b"\x00<", b"<\x00"))


def _check_header_row(lines: list[str], header_row: int, where: str) -> None:
    index = header_row - 1
    if index >= len(lines) or not lines[index].strip():
        raise SourceError(
            f"{where}: {setting('header_row')} {header_row} is "
            + ("past the end of the file" if index >= len(lines) else "a blank row"),
            "name the row that holds the column names (1 is the first row)",
        )


def _place_header(table: Table, top: list[list[Any]], header_row: int | None, where: str) -> None:
    """Set the table's header from its first rows: the given row, or the one found."""
    if header_row is not None:
        index = header_row - 1
        if index >= len(top) or not any(v is not None and str(v).strip() for v in top[index]):
            raise SourceError(
                f"{where}: {setting('header_row')} {header_row} is "
                + ("past the end of the file" if index >= len(top) else "a blank row"),
                "name the row that holds the column names (1 is the first row)",
            )
        preamble = tuple(describe(r) for r in top[:index] if describe(r))
        table.header_given = True
    else:
        guess = find_header(top, text_file=table.format in ("csv", "tsv"))
        index, preamble = guess.index, guess.preamble
    table.header_index = index
    table.preamble = preamble
    table.columns, table.renamed = _header(top[index], f"{where}, row {index + 1}")


def _sheet_names(p: Path, fmt: str) -> list[str]:
    if fmt == "xlsx":
        wb = _open_workbook(p)
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()
    if fmt == "xls":
        book = _xls_book(p)
        try:
            return list(book.sheet_names())
        finally:
            book.release_resources()
    import pandas as pd

    try:
        return [str(n) for n in pd.ExcelFile(p, engine="odf").sheet_names]
    except Exception as exc:  # odfpy and pandas raise many families
        raise SourceError(
            f"{p}: not a readable .ods workbook ({_first_line(exc)})",
            "open it in LibreOffice and save it again as .ods or .xlsx",
        ) from exc


def _open_sheet(p: Path, fmt: str, sheet: str | None, header_row: int | None) -> Table:
    """A workbook's sheet (.xlsx, .xls, .ods): its header found (or given) among its first rows."""
    names = _sheet_names(p, fmt)
    if not names:
        raise SourceError(f"{p}: the workbook has no sheets", "save it again from Excel")
    if sheet is None:
        sheet = names[0]
    elif sheet not in names:
        raise _no_sheet(p, sheet, names)
    window = max(HEADER_WINDOW, header_row or 0)
    top: list[list[Any]] = []
    if fmt == "xlsx":
        wb = _open_workbook(p)
        try:
            for values in wb[sheet].iter_rows(values_only=True):
                top.append([None if v is NO_VALUE else v for v in values])
                if len(top) >= window:
                    break
        except Exception as exc:  # openpyxl parses lazily: zlib, XML, zip errors
            raise SourceError(
                f"{p}, sheet '{sheet}': the sheet cannot be read ({type(exc).__name__}: "
                f"{_first_line(exc)})",
                "the workbook is damaged: open it in Excel or LibreOffice and save it again",
            ) from exc
        finally:
            wb.close()
    else:
        rows = _xls_sheet(p, sheet) if fmt == "xls" else _ods_sheet(p, sheet)
        for values in rows:
            top.append(values)
            if len(top) >= window:
                break
    if not any(v is not None and v != "" for r in top for v in r):
        raise SourceError(
            f"{p}, sheet '{sheet}': the sheet is empty",
            f"choose another {setting('sheet')}, or export the data again",
        )
    table = Table(p, fmt, [], sheet=sheet)
    _place_header(table, top, header_row, f"{p}, sheet '{sheet}'")
    return table


def _open_parquet(p: Path) -> Table:
    import pyarrow.parquet as pq

    try:
        schema = pq.ParquetFile(p).schema_arrow
    except Exception as exc:  # pyarrow raises several families
        raise SourceError(
            f"{p}: not a readable Parquet file ({_first_line(exc)})",
            "write the file again, or export the data as .xlsx or .csv",
        ) from exc
    columns, renamed = _header(list(schema.names), str(p))
    table = Table(p, "parquet", columns, renamed=renamed)
    table._raw_names = list(schema.names)
    return table
