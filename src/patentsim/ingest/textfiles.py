"""Text files' encodings and delimiters, found from their bytes and first lines.

Encodings: a UTF-16 BOM; else UTF-8 (with or without BOM) when every byte decodes;
else CP949/EUC-KR when it decodes and reads as Korean (its two-byte characters are
mostly the common KS X 1001 ones: Latin-1 text read as CP949 gives the rare
extension syllables instead); else text in a single-byte encoding with a few UTF-8
sequences (Espacenet writes Latin-1 with some): each valid UTF-8 sequence is read
as UTF-8 and every other byte as Latin-1, and the summary counts the characters
read the minority way.  ``--encoding latin1`` (or cp1252, or another single-byte
encoding) reads a file the same way with that encoding for the other bytes.

Delimiters: ``,`` ``;`` tab and ``|``.  Each is tried on the first lines: the
header is found among them as lines (rows of search information above it are
lines, not records), and the records below it are parsed; the delimiter that
splits the header into several columns and the most records into as many fields
wins.  A header that stays one column while the records split into several
under another delimiter, or records that mostly split differently from their
header, are an error that names both, never a silent load.
"""

from __future__ import annotations

import codecs
import csv
import io
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import SourceError, setting

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
# Bytes read as the fallback encoding may be at most this share of a file: above it the file
# is not text in a single-byte encoding with a few stray bytes, but something else.
MAX_FALLBACK_SHARE = 0.2
# Of a CP949 file's two-byte characters, at least this share must be the common (KS X 1001)
# ones for it to read as Korean.
KOREAN_COMMON_SHARE = 0.9
# Records under another delimiter that split into the same number (2 or more) of fields, for
# that delimiter to "fit" the rows: a header that disagrees with it is an error.
CONSISTENT_SHARE = 0.8
SINGLE_BYTE = {"latin-1", "latin1", "iso-8859-1", "iso8859-1", "cp1252", "windows-1252"}
_SAMPLE_BYTES = 1 << 20


@dataclass(frozen=True)
class Decoding:
    """How a text file is decoded: ``encoding`` for Python, and where UTF-8 sequences sit in
    text of a single-byte encoding, ``fallback`` (the bytes UTF-8 cannot read are read in it).
    ``stray``: characters read the minority way (UTF-8 sequences in Latin-1 text, or Latin-1
    bytes in UTF-8 text); ``found``: chosen by the tool, not by ``--encoding``."""

    encoding: str
    fallback: str | None = None
    stray: int = 0
    majority: str | None = None  # the encoding most of the text is in, for the summary
    found: bool = True

    @property
    def errors(self) -> str:
        return _handler(self.fallback) if self.fallback else "strict"

    def open(self, path: Path) -> IO[str]:
        return open(path, encoding=self.encoding, errors=self.errors, newline="")

    def describe(self) -> str:
        name = self.majority or self.encoding
        text = f"{name} ({'found' if self.found else 'given'})"
        if self.fallback and self.stray:
            if self.majority == "utf-8":
                text += f", {self.stray:,} bytes that are not UTF-8 read as {self.fallback}"
            else:
                text += f", {self.stray:,} characters written in UTF-8 read as UTF-8"
        return text


def _handler(fallback: str) -> str:
    """The name of a codec error handler that reads undecodable bytes in ``fallback``."""
    name = f"patentsim-fallback-{fallback}"
    try:
        codecs.lookup_error(name)
    except LookupError:

        def read_as(exc: UnicodeError) -> tuple[str, int]:
            if not isinstance(exc, UnicodeDecodeError):
                raise exc
            return bytes(exc.object[exc.start : exc.end]).decode(fallback, "replace"), exc.end

        codecs.register_error(name, read_as)
    return name


def _utf8_counts(path: Path) -> tuple[int, int, int, tuple[int, str] | None]:
    """Over the whole file: bytes, non-ASCII characters UTF-8 reads, bytes it cannot read,
    and the first line (1-based) holding such a byte with the reason."""
    counted: list[int] = [0]
    first: list[tuple[int, str]] = []
    line = [1]

    def count(exc: UnicodeError) -> tuple[str, int]:
        assert isinstance(exc, UnicodeDecodeError)
        counted[0] += exc.end - exc.start
        if not first:
            first.append((line[0] + exc.object[: exc.start].count(b"\n"), exc.reason))
        return "\ufffd" * (exc.end - exc.start), exc.end

    name = "patentsim-count-utf8"
    codecs.register_error(name, count)
    decoder = codecs.getincrementaldecoder("utf-8")(name)
    size = wide = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            size += len(chunk)
            text = decoder.decode(chunk)
            wide += sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
            line[0] += chunk.count(b"\n")
        decoder.decode(b"", final=True)
    return size, wide, counted[0], (first[0] if first else None)


def _reads_as_korean(path: Path) -> bool:
    """CP949 decodes the file, and its two-byte characters are mostly the common ones."""
    if first_bad_line(path, "cp949") is not None:
        return False
    with open(path, "rb") as fh:
        sample = fh.read(_SAMPLE_BYTES)
    text = sample.decode("cp949", "ignore")
    wide = [ch for ch in text if ord(ch) > 127]
    if not wide:
        return True
    common = 0
    for ch in wide:
        try:
            ch.encode("euc-kr")
            common += 1
        except UnicodeEncodeError:
            pass
    return common >= KOREAN_COMMON_SHARE * len(wide)


def detect_decoding(path: Path) -> Decoding:
    """The decoding of a text file (see the module's doc); ``SourceError`` for bytes that
    are no text in any of them."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(
        codecs.BOM_UTF32_LE
    ):
        return Decoding("utf-16", majority="utf-16")
    size, wide, bad, first = _utf8_counts(path)
    if not bad:
        return Decoding("utf-8-sig", majority="utf-8")
    if _reads_as_korean(path):
        return Decoding("cp949", majority="cp949")
    if bad > MAX_FALLBACK_SHARE * size:
        where = f", line {first[0]}" if first else ""
        raise SourceError(
            f"{path}{where}: the text is neither UTF-8, CP949/EUC-KR nor Latin-1 "
            f"({bad:,} of {size:,} bytes are not UTF-8)",
            f"save the file as UTF-8 (Excel: 'CSV UTF-8'), or name its encoding with "
            f"{setting('encoding')}",
        )
    if wide >= bad:
        return Decoding("utf-8", "latin-1", bad, "utf-8")
    return Decoding("utf-8", "latin-1", wide, "latin-1")


def given_decoding(path: Path, encoding: str) -> Decoding:
    """The decoding ``--encoding`` names; it must exist and decode the whole file.  A
    single-byte encoding reads UTF-8 sequences in the file as UTF-8 (they are counted)."""
    try:
        info = codecs.lookup(encoding)
    except LookupError as exc:
        raise SourceError(
            f"{path}: unknown encoding '{encoding}'",
            "use utf-8, utf-8-sig, cp949, euc-kr, utf-16 or latin-1, or leave out "
            f"{setting('encoding')}",
        ) from exc
    if info.name in {codecs.lookup(e).name for e in SINGLE_BYTE}:
        _, wide, _, _ = _utf8_counts(path)
        return Decoding("utf-8", info.name, wide, info.name, found=False)
    bad = first_bad_line(path, encoding)
    if bad is not None:
        raise SourceError(
            f"{path}, line {bad[0]}: bytes that are not {encoding} ({bad[1]})",
            f"leave out {setting('encoding')} to let the tool find it (utf-8, cp949 or "
            "latin-1), or name the right one",
        )
    return Decoding(encoding, majority=encoding, found=False)


def first_bad_line(path: Path, encoding: str) -> tuple[int, str] | None:
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


def top_lines(decoding: Decoding, path: Path, count: int) -> list[str]:
    """The first ``count`` physical lines of a text file, line ends kept."""
    lines: list[str] = []
    with decoding.open(path) as fh:
        while len(lines) < count:
            try:
                line = fh.readline()
            except UnicodeDecodeError as exc:
                raise SourceError(
                    f"{path}, line {len(lines) + 1}: bytes that are not {decoding.encoding} "
                    f"({exc.reason})",
                    f"give the file's encoding with {setting('encoding')}, or save it as UTF-8",
                ) from exc
            if not line:
                break
            lines.append(line)
    return lines


def split_line(line: str, delimiter: str) -> list[str]:
    """One physical line as fields (a line above the header may hold an unclosed quote)."""
    csv.field_size_limit(sys.maxsize)
    text = line.rstrip("\r\n")
    if not text.strip():
        return []
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:
        return text.split(delimiter)


def records(lines: Sequence[str], delimiter: str, *, complete: bool) -> list[list[str]]:
    """Lines parsed as CSV records (quoted line breaks joined); ``complete`` False: the
    lines are the first of a longer file, so the last record may be cut and is left out."""
    csv.field_size_limit(sys.maxsize)
    out: list[list[str]] = []
    reader = csv.reader(io.StringIO("".join(lines)), delimiter=delimiter)
    try:
        for rec in reader:
            out.append(rec)
    except csv.Error:
        complete = False
    if not complete and out:
        out.pop()
    return [r for r in out if r and any(v.strip() for v in r)]


@dataclass(frozen=True)
class DelimiterChoice:
    delimiter: str
    header_index: int
    found: bool = True


HeaderFinder = Callable[[list[list[str]]], int]


def _fit(records_below: list[list[str]]) -> tuple[int, float]:
    """The commonest width of some records and the share of them that have it."""
    if not records_below:
        return 0, 0.0
    width, n = Counter(len(r) for r in records_below).most_common(1)[0]
    return width, n / len(records_below)


def choose_delimiter(
    path: Path,
    lines: Sequence[str],
    find_header: HeaderFinder,
    *,
    given: str | None = None,
    preferred: str = ",",
    complete: bool = False,
) -> DelimiterChoice:
    """The delimiter of a text file and its header's line, from its first ``lines``.

    ``find_header`` picks the header's index among rows (the lines split by a candidate);
    ``given``: the delimiter ``--delimiter`` names (it is checked the same way)."""
    order = [preferred, *[d for d in DELIMITERS if d != preferred]]
    candidates = [given] if given else order
    seen: dict[str, tuple[int, int, list[list[str]]]] = {}
    for d in dict.fromkeys([*candidates, *order]):
        rows = [split_line(line, d) for line in lines]
        index = find_header(rows) if any(rows) else 0
        width = len(rows[index]) if index < len(rows) else 0
        below = records(lines[index:], d, complete=complete)[1:]
        seen[d] = (index, width, below)

    def score(d: str) -> tuple[int, int, int]:
        _, width, below = seen[d]
        if width < 2:
            return (0, 0, 0)
        return (sum(len(r) == width for r in below), width, -order.index(d))

    chosen = max(candidates, key=score)
    index, width, below = seen[chosen]
    matching = sum(len(r) == width for r in below)
    for other in order:
        if other == chosen:
            continue
        k, share = _fit(seen[other][2])
        if k < 2 or share < CONSISTENT_SHARE or len(seen[other][2]) < 1:
            continue
        if width < 2 or (below and matching < 0.5 * len(below)):
            name, other_name = _shown(chosen), _shown(other)
            raise SourceError(
                f"{path}, line {index + 1}: the header splits by {name} into {width} "
                f"column{'s' if width != 1 else ''}, but the rows below it split by "
                f"{other_name} into {k} fields",
                f"give the delimiter with {setting('delimiter')} (',', ';', 'tab' or '|'), or "
                "save the file again with one delimiter for the header and the rows",
            )
    return DelimiterChoice(chosen, index, found=given is None)


def _shown(delimiter: str) -> str:
    return f"{DELIMITER_NAMES.get(delimiter, 'delimiter')} '{_printable(delimiter)}'"


def _printable(delimiter: str) -> str:
    return "\\t" if delimiter == "\t" else delimiter


def delimiter_option(value: str | None) -> str | None:
    """``--delimiter``: one character, or a name (comma, semicolon, tab, pipe)."""
    if value is None or value == "":
        return None
    names = {v: k for k, v in DELIMITER_NAMES.items()}
    text = value.strip().lower() if len(value) > 1 else value
    if text in names:
        return names[text]
    if text in ("\\t", "t"):
        return "\t"
    if len(value) == 1 and value not in '"\r\n':
        return value
    raise SourceError(
        f"{setting('delimiter')} {value!r}: not a delimiter",
        "use ',', ';', '|', 'tab' (or one other character)",
    )


def line_reader(fh: IO[str], skip: int) -> Any:
    """A reader positioned after ``skip`` physical lines of ``fh``."""
    for _ in range(skip):
        if not fh.readline():
            break
    return fh
