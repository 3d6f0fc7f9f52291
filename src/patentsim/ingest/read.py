"""Reading source files into rows, streaming.

``open_table`` checks a file and returns a ``Table``: its columns and a way
to iterate its rows as ``(row_number, {column: value})`` pairs, re-readable so
the pipeline can make a cheap validation pass before it writes anything.
Row numbers are 0-based as pandas numbers a sheet's rows (the header is not
a row; blank rows inside the data count, trailing blank rows do not).

Formats: ``.xlsx``/``.xlsm`` (openpyxl read-only mode, constant memory),
``.csv``/``.tsv``/``.txt`` (encoding found among utf-8, utf-8 with BOM,
cp949/euc-kr), ``.jsonl``/``.ndjson``, ``.parquet``.
"""

from __future__ import annotations

import codecs
import csv
import json
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store.errors import SourceError

ENCODINGS = ("utf-8-sig", "cp949")
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
    _jsonl_columns: list[str] = field(default_factory=list)

    def where(self, row: int | None = None, column: str | None = None) -> str:
        """A location for messages: file, sheet, row, column."""
        parts = [str(self.path)]
        if self.sheet:
            parts.append(f"sheet '{self.sheet}'")
        if row is not None:
            parts.append(f"row {row}")
        if column is not None:
            parts.append(f"column '{column}'")
        return ", ".join(parts)

    def rows(self) -> Iterator[tuple[int, Row]]:
        reader = {
            "xlsx": self._xlsx_rows,
            "csv": self._csv_rows,
            "tsv": self._csv_rows,
            "jsonl": self._jsonl_rows,
            "parquet": self._parquet_rows,
        }[self.format]
        return reader()

    # -- xlsx ------------------------------------------------------------------
    def _xlsx_rows(self) -> Iterator[tuple[int, Row]]:
        wb = _open_workbook(self.path)
        try:
            ws = wb[self.sheet]
            it = ws.iter_rows(values_only=True)
            next(it, None)  # header
            pending_blank = 0
            row_no = 0
            width = len(self.columns)
            for values in it:
                if values is None or all(v is None or v == "" for v in values):
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
            reader = csv.reader(fh, delimiter=self.delimiter)
            next(reader, None)
            width = len(self.columns)
            row_no = 0
            for values in reader:
                if not values or all(v == "" for v in values):
                    continue  # pandas skips blank lines in text files
                if len(values) > width:
                    raise SourceError(
                        f"{self.where(row_no)}: {len(values)} fields, but the header has {width}",
                        "fix the row (a stray delimiter or an unquoted text with one)",
                    )
                yield row_no, {c: v for c, v in zip(self.columns, values) if v != ""}
                row_no += 1

    # -- jsonl -----------------------------------------------------------------
    def _jsonl_rows(self) -> Iterator[tuple[int, Row]]:
        with open(self.path, encoding=self.encoding) as fh:
            row_no = 0
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except ValueError as exc:
                    raise SourceError(
                        f"{self.path}, line {line_no}: not valid JSON ({exc.msg})",
                        "each line must be one JSON object",
                    ) from exc
                if not isinstance(obj, dict):
                    raise SourceError(
                        f"{self.path}, line {line_no}: a JSON {type(obj).__name__}, not an object",
                        "each line must be one JSON object",
                    )
                yield row_no, {k: v for k, v in obj.items() if v is not None}
                row_no += 1

    # -- parquet ---------------------------------------------------------------
    def _parquet_rows(self) -> Iterator[tuple[int, Row]]:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(self.path)
        row_no = 0
        for batch in pf.iter_batches(batch_size=1024):
            for rec in batch.to_pylist():
                yield row_no, {k: v for k, v in rec.items() if v is not None}
                row_no += 1


def _open_workbook(path: Path) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        raise SourceError(
            f"{path}: not a readable .xlsx workbook ({type(exc).__name__}: {exc})",
            "open it in Excel or LibreOffice and save it again as .xlsx",
        ) from exc


def _header(values: list[Any], where: str) -> list[str]:
    columns = []
    for i, v in enumerate(values):
        name = "" if v is None else str(v).strip()
        columns.append(name or f"Unnamed: {i}")
    while columns and columns[-1].startswith("Unnamed: "):
        columns.pop()
    if not columns:
        raise SourceError(f"{where}: the header row is empty", "put column names in the first row")
    seen: dict[str, int] = {}
    dupes = []
    for c in columns:
        seen[c] = seen.get(c, 0) + 1
        if seen[c] == 2:
            dupes.append(c)
    if dupes:
        raise SourceError(
            f"{where}: duplicate column name(s) {', '.join(repr(d) for d in dupes)}",
            "rename the columns so each name is used once",
        )
    return columns


def detect_encoding(path: Path) -> str:
    """The first of utf-8 (with or without BOM) and cp949 that decodes the whole file."""
    for enc in ENCODINGS:
        decoder = codecs.getincrementaldecoder(enc)()
        try:
            with open(path, "rb") as fh:
                while chunk := fh.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            return enc
        except UnicodeDecodeError:
            continue
    raise SourceError(
        f"{path}: the text is neither UTF-8 nor CP949/EUC-KR",
        "save the file as UTF-8 (Excel: 'CSV UTF-8')",
    )


def open_table(
    path: str | Path, *, sheet: str | None = None, encoding: str | None = None
) -> Table:
    """Check a source file and read its header; ``SourceError`` names what is wrong."""
    p = Path(path)
    if not p.exists():
        raise SourceError(f"{p}: no such file", "check the path")
    if p.is_dir():
        raise SourceError(f"{p}: is a folder, not a file", "name a .xlsx, .csv, .jsonl or .parquet file")
    fmt = FORMATS.get(p.suffix.lower())
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
    if fmt == "xlsx":
        return _open_xlsx(p, sheet)
    if sheet:
        raise SourceError(f"{p}: --sheet applies to .xlsx files only")
    if fmt in ("csv", "tsv"):
        enc = encoding or detect_encoding(p)
        delimiter = "\t" if fmt == "tsv" else ","
        try:
            with open(p, encoding=enc, newline="") as fh:
                first = next(csv.reader(fh, delimiter=delimiter), None)
        except (UnicodeDecodeError, LookupError) as exc:
            raise SourceError(f"{p}: cannot be decoded as {enc}", "check --encoding") from exc
        if first is None:
            raise SourceError(f"{p}: the file is empty", "export the sheet again")
        return Table(p, fmt, _header(list(first), str(p)), encoding=enc, delimiter=delimiter)
    if fmt == "jsonl":
        enc = encoding or detect_encoding(p)
        table = Table(p, fmt, [], encoding=enc)
        columns: dict[str, None] = {}
        for _, row in table.rows():
            for k in row:
                columns.setdefault(str(k), None)
        if not columns:
            raise SourceError(f"{p}: no JSON objects found", "write one JSON object per line")
        table.columns = _header(list(columns), str(p))
        return table
    return _open_parquet(p)


def _open_xlsx(p: Path, sheet: str | None) -> Table:
    wb = _open_workbook(p)
    try:
        names = list(wb.sheetnames)
        if sheet is None:
            sheet = names[0]
        elif sheet not in names:
            raise SourceError(
                f"{p}: no sheet named '{sheet}'",
                "sheets in this workbook: " + ", ".join(repr(n) for n in names),
            )
        first = next(wb[sheet].iter_rows(values_only=True), None)
    finally:
        wb.close()
    if first is None:
        raise SourceError(f"{p}, sheet '{sheet}': the sheet is empty", "choose another --sheet")
    return Table(p, "xlsx", _header(list(first), f"{p}, sheet '{sheet}'"), sheet=sheet)


def _open_parquet(p: Path) -> Table:
    import pyarrow.parquet as pq

    try:
        schema = pq.ParquetFile(p).schema_arrow
    except Exception as exc:  # pyarrow raises several families
        raise SourceError(f"{p}: not a readable Parquet file ({exc})") from exc
    return Table(p, "parquet", _header(list(schema.names), str(p)))
