"""The payload's shared words: the tool's own fields, boolean words, title names.

Every point's payload holds the source's cells plus the reserved fields below; dates are
stored as ``patentsim.dates`` writes them.  Ingest writes both, search reads both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# The tool's own fields and the index each gets: the document key, the 0-based row in its
# file, the content hash (model + text) and the file's name.
RESERVED_INDEXES = {"_key": "keyword", "_row": "integer", "_hash": "keyword", "_file": "keyword"}
# Without an index: the file's resolved path, and other files holding the same key
# (patentsim.ingest.provenance).
RESERVED = (*RESERVED_INDEXES, "_path", "_also")
# Written by ``search dups --mark`` (not by ingest): each near-duplicate's group name.
DUP_FIELD = "_dup_group"

# Boolean words.  A cell makes a column boolean only spelled true or false (as spreadsheets
# and exporters write them): a column of 0/1 or yes/no stays numbers or words, as written.
# A ``--where`` value compared with a boolean field may also say yes/no, 1/0, y/n or t/f.
BOOL_CELLS = {
    "true": True,
    "false": False,
    "TRUE": True,
    "FALSE": False,
    "True": True,
    "False": False,
}
BOOL_WORDS = {
    **dict.fromkeys(("true", "yes", "1", "y", "t"), True),
    **dict.fromkeys(("false", "no", "0", "n", "f"), False),
}

# Column names of a document's title, best first (compared ``normalized``).  Ingest records
# the title column it found in the manifest; search falls back on these names for
# collections whose manifest names none.
TITLE_NAMES = (
    "title",
    "발명의명칭",
    "발명의_명칭",
    "명칭",
    "제목",
    "invention_title",
    "patent_title",
    "name",
)


def normalized(name: str) -> str:
    """A column name for matching known names: lower case, runs of other characters as '_'."""
    return re.sub(r"[^0-9a-z가-힣]+", "_", name.lower()).strip("_")


def title_like(names: Iterable[str]) -> str | None:
    """The first of ``names`` named like a title: a known title name, else one holding
    ``title`` or ``명칭``."""
    names = list(names)
    for wanted in TITLE_NAMES:
        for name in names:
            if normalized(name) == wanted:
                return name
    return next((n for n in names if "title" in n.lower() or "명칭" in n), None)
