"""The payload's shared words: the tool's own fields, boolean words, title names.

Every point's payload holds the source's cells plus the reserved fields below; dates are
stored as ``patentsim.dates`` writes them.  Ingest writes both, search reads both.
"""

from __future__ import annotations

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
