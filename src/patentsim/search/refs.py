"""Document references: a row number, ``FILE:ROW``, or a key.

A collection loaded from several files holds a row 0 of each, so a bare row number can
name several documents.  ``FILE:ROW`` (or the row with ``file``, ``--file NAME``) names
the row of one file; a bare row that exists in several files is an error that lists
them (``AmbiguousReference``).  ``FILE`` is the file's name as the collection stores it
(``_file``; a path is reduced to its name).  A reference that names no stored file
(``EP:123``) is tried as a key, as any other text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from ..errors import UserInputError, setting

_ROW = re.compile(r"\d+")


class AmbiguousReference(UserInputError):
    """A bare row number that exists in several files of the collection."""


@dataclass(frozen=True)
class Reference:
    """What a reference names: ``row`` (with ``file`` where one was named), else ``text``
    as a key.  ``file_row``: written ``FILE:ROW``."""

    text: str
    row: int | None = None
    file: str | None = None
    file_row: bool = False


def parse_reference(
    ref: int | str, *, file: str | None = None, key_only: bool = False
) -> Reference:
    """A reference as the user wrote it; ``file``: the file whose row a number names."""
    text = str(ref).strip()
    name = PurePath(file).name if file else None
    if key_only:
        if file:
            raise UserInputError(
                f"{setting('file')} names the file of a row number, not of a key",
                f"leave out {setting('file')} or {setting('key')}",
            )
        return Reference(text)
    if _ROW.fullmatch(text):
        return Reference(text, int(text), name)
    head, sep, tail = text.rpartition(":")
    if sep and head.strip() and _ROW.fullmatch(tail.strip()) and not file:
        return Reference(text, int(tail), PurePath(head.strip()).name, file_row=True)
    if file:
        raise UserInputError(
            f"{setting('file')} {file}: '{text}' is no row number",
            f"give a row number from 0 with {setting('file')}, or leave it out to use a key",
        )
    return Reference(text)


def ambiguous(row: int, files: list[str], collection: str) -> AmbiguousReference:
    """The error for a bare row that several files hold."""
    shown = ", ".join(sorted(files)[:10]) + (" ..." if len(files) > 10 else "")
    first = sorted(files)[0]
    return AmbiguousReference(
        f"row {row} exists in {len(files)} files of collection '{collection}': {shown}",
        f"name the file: {first}:{row} (or {setting('file')} {first}), or give the key",
    )
