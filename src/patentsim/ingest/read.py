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

import codecs
import csv
import json
import sys
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store.errors import SourceError
from .headers import HEADER_WINDOW, describe, find_header

ENCODINGS = ("utf-8-sig", "cp949")
# A cell longer than this is truncated (and reported): a payload this size would be stored
# (and shown) with every search hit, and the model reads only the first few hundred words.
MAX_CELL_CHARS = 1_000_000
# An oversized CSV cell holding this many lines that look like rows is rows swallowed by an
# unclosed quote, not a long text: that is an error.
SWALLOWED_ROWS = 10
BOM = "\ufeff"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx
FORMATS = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
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
    # Index of the header among the sheet's rows (blank rows counted), and the non-blank
    # rows above it, as text.
    header_index: int = 0
    preamble: tuple[str, ...] = ()
    header_given: bool = False
    renamed: dict[str, str] = field(default_factory=dict)  # new name -> header cell as written
    # (row, column) -> length of a cell that was truncated to MAX_CELL_CHARS
    truncated: dict[tuple[int, str], int] = field(default_factory=dict)
    _raw_names: list[str] = field(default_factory=list)  # parquet: names as the file has them

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
            "csv": self._csv_rows,
            "tsv": self._csv_rows,
            "jsonl": self._jsonl_rows,
            "parquet": self._parquet_rows,
        }[self.format]
        for row_no, row in reader():
            for column, value in row.items():
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
        with open(self.path, encoding=self.encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=self.delimiter, strict=True)
            width = len(self.columns)
            row_no = 0
            above = self.header_index + 1  # records above the header, and the header
            while True:
                line = reader.line_num + 1
                try:
                    values = next(reader, None)
                except csv.Error as exc:
                    raise SourceError(
                        f"{self.where(row_no, line=line)}: {exc}",
                        "a quote is not closed, or text follows a closing quote: quote the "
                        'whole cell and double any quote inside it ("")',
                    ) from exc
                except UnicodeDecodeError as exc:  # checked in open_table; a file changed since
                    raise SourceError(
                        f"{self.where(row_no)}: bytes that are not {self.encoding} ({exc.reason})",
                        "give the file's encoding with --encoding, or save it as UTF-8",
                    ) from exc
                if values is None:
                    return
                if above:
                    above -= 1
                    continue
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


def _open_workbook(path: Path) -> Any:
    import openpyxl

    with open(path, "rb") as fh:
        magic = fh.read(8)
    if magic == _OLE2:
        raise SourceError(
            f"{path}: an old-style .xls workbook, or one protected by a password",
            "open it in Excel or LibreOffice and save it as .xlsx, without a password",
        )
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
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


def detect_encoding(path: Path) -> str:
    """UTF-16 when the file starts with its BOM, else the first of utf-8 (with or without
    BOM) and cp949 that decodes the whole file."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(
        codecs.BOM_UTF32_LE
    ):
        return "utf-16"
    for enc in ENCODINGS:
        if _first_bad_line(path, enc) is None:
            return enc
    bad = _first_bad_line(path, ENCODINGS[0])
    line = f", line {bad[0]}" if bad else ""
    raise SourceError(
        f"{path}{line}: the text is neither UTF-8 nor CP949/EUC-KR",
        "save the file as UTF-8 (Excel: 'CSV UTF-8'), or name its encoding with --encoding",
    )


def _first_bad_line(path: Path, encoding: str) -> tuple[int, str] | None:
    """The first line (1-based) holding bytes that ``encoding`` cannot decode, and why."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return line + chunk[: exc.start].count(b"\n"), exc.reason
            line += text.count("\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return line, exc.reason
    return None


def _check_encoding(path: Path, encoding: str) -> None:
    """An encoding named with --encoding must exist and decode the whole file."""
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise SourceError(
            f"{path}: unknown encoding '{encoding}'",
            "use utf-8, utf-8-sig, cp949, euc-kr or utf-16, or leave out --encoding",
        ) from exc
    bad = _first_bad_line(path, encoding)
    if bad is not None:
        raise SourceError(
            f"{path}, line {bad[0]}: bytes that are not {encoding} ({bad[1]})",
            "leave out --encoding to let the tool find it (utf-8 or cp949), or name the right one",
        )


def open_table(
    path: str | Path,
    *,
    sheet: str | None = None,
    encoding: str | None = None,
    header_row: int | None = None,
) -> Table:
    """Check a source file and read its header; ``SourceError`` names what is wrong.

    ``header_row`` is the header's 1-based row (line of a text file); without it the
    header is found among the first rows (``headers.find_header``).
    """
    p = Path(path)
    if not p.exists():
        raise SourceError(f"{p}: no such file", "check the path")
    if p.is_dir():
        raise SourceError(
            f"{p}: is a folder, not a file", "name a .xlsx, .csv, .jsonl or .parquet file"
        )
    fmt = FORMATS.get(p.suffix.lower())
    if p.suffix.lower() == ".xls":
        raise SourceError(
            f"{p}: an old-style .xls workbook",
            "open it in Excel or LibreOffice and save it as .xlsx",
        )
    if fmt is None:
        raise SourceError(
            f"{p}: unknown file type '{p.suffix}'",
            "use .xlsx, .csv, .tsv, .jsonl or .parquet",
        )
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise SourceError(f"{p}: cannot be read ({exc.strerror})") from exc
    if size == 0:
        raise SourceError(f"{p}: the file is empty", "export the sheet again")
    try:
        with open(p, "rb") as fh:
            fh.read(1)
    except OSError as exc:
        raise SourceError(f"{p}: cannot be read ({exc.strerror})", "check its permissions") from exc
    if header_row is not None and header_row < 1:
        raise SourceError(f"--header-row must be 1 or more, not {header_row}")
    if fmt == "xlsx":
        return _open_xlsx(p, sheet, header_row)
    if sheet:
        raise SourceError(
            f"{p}: --sheet applies to .xlsx files only", "leave out --sheet for this file"
        )
    if header_row is not None and fmt in ("jsonl", "parquet"):
        raise SourceError(
            f"{p}: --header-row applies to .xlsx, .csv and .tsv files only",
            "leave out --header-row for this file",
        )
    if encoding:
        _check_encoding(p, encoding)
    if fmt in ("csv", "tsv"):
        enc = encoding or detect_encoding(p)
        delimiter = "\t" if fmt == "tsv" else ","
        window = max(HEADER_WINDOW, header_row or 0)
        top: list[list[str]] = []
        try:
            with open(p, encoding=enc, newline="") as fh:
                reader = csv.reader(fh, delimiter=delimiter, strict=True)
                for values in reader:
                    top.append(values)
                    if len(top) >= window:
                        break
        except csv.Error as exc:
            raise SourceError(
                f"{p}, line {len(top) + 1}: the header cannot be read ({exc})",
                "put one line of column names first, or name its line with --header-row",
            ) from exc
        if all(_blank_line(r) for r in top):
            raise SourceError(f"{p}: the file holds only blank lines", "export the sheet again")
        table = Table(p, fmt, [], encoding=enc, delimiter=delimiter)
        _place_header(table, top, header_row, f"{p}")
        return table
    if fmt == "jsonl":
        enc = encoding or detect_encoding(p)
        table = Table(p, fmt, [], encoding=enc)
        columns: dict[str, None] = {}
        for _, row in table.rows():
            for k in row:
                columns.setdefault(str(k), None)
        if not columns:
            raise SourceError(f"{p}: no JSON objects found", "write one JSON object per line")
        table.columns, table.renamed = _header(list(columns), str(p))
        return table
    return _open_parquet(p)


def _place_header(table: Table, top: list[list[Any]], header_row: int | None, where: str) -> None:
    """Set the table's header from its first rows: the given row, or the one found."""
    if header_row is not None:
        index = header_row - 1
        if index >= len(top) or not any(v is not None and str(v).strip() for v in top[index]):
            raise SourceError(
                f"{where}: --header-row {header_row} is "
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


def _open_xlsx(p: Path, sheet: str | None, header_row: int | None) -> Table:
    wb = _open_workbook(p)
    try:
        names = list(wb.sheetnames)
        if not names:
            raise SourceError(f"{p}: the workbook has no sheets", "save it again from Excel")
        if sheet is None:
            sheet = names[0]
        elif sheet not in names:
            raise SourceError(
                f"{p}: no sheet named '{sheet}'",
                "sheets in this workbook: " + ", ".join(repr(n) for n in names),
            )
        window = max(HEADER_WINDOW, header_row or 0)
        top: list[list[Any]] = []
        try:
            for values in wb[sheet].iter_rows(values_only=True):
                top.append(list(values))
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
    if not any(v is not None and v != "" for r in top for v in r):
        raise SourceError(
            f"{p}, sheet '{sheet}': the sheet is empty",
            "choose another --sheet, or export the data again",
        )
    table = Table(p, "xlsx", [], sheet=sheet)
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
