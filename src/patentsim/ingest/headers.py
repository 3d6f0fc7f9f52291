"""Finding the header row of a sheet that does not start with it.

Exports put things above the header: Google Patents' CSV starts with a line
``search URL:,https://patents.google.com/?q=...``; Korean patent databases'
Excel exports put rows of search information (query, date, counts) and blank
rows above it.  ``find_header`` looks at the first rows and picks the first one
that reads as a header:

- it is not a ``search URL:`` line;
- it fills at least 60% as many cells as the fullest of the first rows (the
  rows of search information fill one or two);
- at most half of its cells are numbers or dates (in a text file: none), and none is a
  web address;
- in a text file, it has as many fields as most lines (a line above the header
  usually has fewer: ``search URL:,...`` has two).

A wrong guess is visible: the summary names the header row, the lines skipped
above it and the columns found; ``--header-row N`` says it explicitly.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# How many rows from the top are looked at.
HEADER_WINDOW = 50
FILL_SHARE = 0.6
_SEARCH_LINE = re.compile(r"^\s*search\s*url\s*:?\s*$", re.I)
_URL = re.compile(r"^\s*(https?://|www\.)", re.I)
_NUMBERISH = re.compile(r"^\s*[+-]?[\d.,:/ -]+\s*$")


@dataclass(frozen=True)
class HeaderGuess:
    """The header's index among the rows looked at, and the non-blank rows above it."""

    index: int
    preamble: tuple[str, ...] = ()


def _filled(row: Sequence[Any]) -> list[Any]:
    return [v for v in row if v is not None and not (isinstance(v, str) and not v.strip())]


def _value_like(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float, dt.date, dt.datetime, dt.time)):
        return not (isinstance(v, float) and math.isnan(v))
    return isinstance(v, str) and bool(_NUMBERISH.match(v)) and any(c.isdigit() for c in v)


def _reads_as_header(cells: list[Any], *, text_file: bool = False) -> bool:
    if _SEARCH_LINE.match(str(cells[0])):
        return False
    if any(isinstance(v, str) and _URL.match(v) for v in cells):
        return False
    if text_file and any(_value_like(v) for v in cells):
        # A line split by the wrong delimiter ('1;Battery, cooling') must not pass for a header.
        return False
    return sum(_value_like(v) for v in cells) * 2 <= len(cells)


def find_header(rows: Sequence[Sequence[Any]], *, text_file: bool = False) -> HeaderGuess:
    """The header among the first rows of a sheet (``rows``; blank rows included).

    ``text_file``: the rows are a CSV's records, whose lengths count empty fields too."""
    filled = [_filled(r) for r in rows[:HEADER_WINDOW]]
    most = max((len(f) for f in filled), default=0)
    if most == 0:
        return HeaderGuess(0)
    need = max(1, math.ceil(FILL_SHARE * most))
    width = 0
    if text_file:
        lengths = Counter(len(r) for r, f in zip(rows, filled) if f)
        width = max(lengths.items(), key=lambda kv: (kv[1], kv[0]))[0]
    for i, cells in enumerate(filled):
        if (
            len(cells) >= need
            and len(rows[i]) >= width
            and _reads_as_header(cells, text_file=text_file)
        ):
            return HeaderGuess(i, tuple(describe(rows[j]) for j in range(i) if filled[j]))
    first = next(i for i, cells in enumerate(filled) if cells)
    return HeaderGuess(first, tuple(describe(rows[j]) for j in range(first) if filled[j]))


def describe(row: Sequence[Any], limit: int = 80) -> str:
    """One row for a message: its filled cells joined by commas, shortened."""
    text = ",".join(str(v).strip() for v in _filled(row))
    return text if len(text) <= limit else text[: limit - 3] + "..."
