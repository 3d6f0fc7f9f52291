"""How many terminal columns a text takes: the one reckoning both CLIs align tables with.

Wide characters (CJK, Hangul) take two columns, combining marks and format characters none.
"""

from __future__ import annotations

import unicodedata


def char_width(ch: str) -> int:
    """Terminal columns a character takes: 2 for wide (CJK, Hangul), 0 for combining marks."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes."""
    return sum(char_width(ch) for ch in text)
