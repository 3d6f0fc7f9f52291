"""Payload keys as Qdrant JSON paths.

Qdrant reads the key of a filter condition, a payload index, a facet or a
payload selector as a JSON path: ``a.b`` is field ``b`` inside ``a``, and a key
with a space, a slash, a parenthesis or a colon (``발명의 명칭``, ``filing/creation
date``, ``Unnamed: 0``) is refused unless it is quoted: ``"발명의 명칭"``.  Our
payloads are flat (one key per column), so every key is sent quoted unless it
is plain ASCII letters, digits, ``_`` and ``-``.  A key holding ``"`` or ``\\``
cannot be written as a path at all; ingest never makes such a key (see
``patentsim.ingest.records.field_name``).
"""

from __future__ import annotations

import re

from ..errors import BadFilter

_PLAIN = re.compile(r"^[A-Za-z0-9_-]+$")


def json_path(key: str) -> str:
    """The JSON path that addresses the top-level payload key ``key``."""
    if _PLAIN.match(key):
        return key
    if is_quoted(key):  # already a path (--filter-json written in Qdrant's own syntax)
        return key
    if '"' in key or "\\" in key:
        raise BadFilter(
            f"the field name {key!r} holds a quote or a backslash, which Qdrant cannot address",
            "rename the column",
        )
    return f'"{key}"'


def is_quoted(path: str) -> bool:
    return len(path) >= 2 and path[0] == path[-1] == '"' and '"' not in path[1:-1]


def key_of(path: str) -> str:
    """The payload key a JSON path of one quoted or plain key names."""
    return path[1:-1] if is_quoted(path) else path
