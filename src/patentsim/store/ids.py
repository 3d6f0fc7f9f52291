"""Document keys and point ids.

A document's key is the value of its ``--id`` column (as text), or its 0-based
row number.  Its point id is the UUIDv5 of that key: Qdrant accepts only
unsigned integers and UUIDs, and a UUID of the key is stable across runs,
machines and backends.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

# A fixed namespace for this project's point ids.  Never change it: it would
# change every point id of every stored collection.
NAMESPACE = uuid.UUID("5b0c7f0e-3a52-4b8e-9d3c-6b1f2a9e8c41")


def point_id(key: str) -> str:
    """The point id (a UUID string) of a document key."""
    return str(uuid.uuid5(NAMESPACE, key))


def normalize_key(value: Any) -> str | None:
    """A cell's value as a document key, or None when the cell is empty.

    Integer-valued floats become integers (``1.0`` → ``"1"``): spreadsheets and
    pandas turn integer id columns with gaps into floats, and the same document
    must keep the same key.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = str(value).strip()
    return text or None
