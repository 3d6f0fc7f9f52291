"""Finding one document of a collection by its reference, and what a user sees of it.

A reference is a row number (0-based, as pandas numbers rows), ``FILE:ROW`` in a collection
of several files, or a document key; a number that is no row is tried as a key, and
``key_only`` reads it as a key only (``refs.py``).
"""

from __future__ import annotations

from itertools import islice
from pathlib import PurePath

from ..errors import DocumentNotFound, UserInputError, setting
from ..store.backend import StoredPoint
from ..store.filters import Condition, Filter, Match
from ..store.ids import point_id
from .collection import OpenCollection
from .refs import ambiguous, parse_reference
from .results import Document, public
from .where import resolve_field

_ROW_SCAN = 50  # documents of one row number read to tell whether several files hold it


def find_point(
    opened: OpenCollection, ref: int | str, *, key_only: bool, file: str | None = None
) -> StoredPoint:
    """The point a reference names, with its vectors (``refs.parse_reference``): a row
    number (of ``file``, or written ``FILE:ROW``) first, then a key."""
    wanted = parse_reference(ref, file=file, key_only=key_only)
    text = wanted.text
    if wanted.row is not None:
        point = _find_row(opened, wanted.row, wanted.file)
        if point is not None:
            return point
    if not (wanted.file and not wanted.file_row):  # with --file the number is a row only
        found = opened.coll.retrieve([point_id(text)], with_vectors=True)
        if found:
            return found[0]
    # The manifest keys files by path; references name them by file name (shown by path
    # only where two folders hold files of one name).
    paths = opened.manifest.sources
    names = [PurePath(p).name for p in paths]
    sources = {(n if names.count(n) == 1 else p): e for n, (p, e) in zip(names, paths.items())}
    if wanted.row is not None:
        for shown, entry in sources.items():
            if wanted.file not in (None, PurePath(shown).name):
                continue
            if wanted.row in (entry.skipped or ()):
                raise DocumentNotFound(
                    f"row {wanted.row} of {shown} is not in collection '{opened.name}': ingest "
                    "skipped it because its text was empty",
                    "give another row, or fill in its text and load the file again",
                )
        if wanted.file and (wanted.file in names or not wanted.file_row):
            held = next((e for n, e in zip(names, paths.values()) if n == wanted.file), None)
            raise DocumentNotFound(
                f"no row {wanted.row} of file '{wanted.file}' in collection '{opened.name}'"
                + (f" (it has {held.rows:,} rows)" if held and held.rows else ""),
                "files of this collection: " + (", ".join(sorted(sources)) or "none named"),
            )
    count = opened.coll.count()
    state = opened.manifest.state
    if count == 0:
        raise DocumentNotFound(
            f"collection '{opened.name}' holds no documents yet"
            + (f" (state {state}: its first load has not finished)" if state != "ready" else ""),
            "wait for the load to finish, or run the same 'ingest load' again to finish it",
        )
    source = opened.manifest.source
    rows = (source.rows if source else None) or count
    what = f"key '{text}'" if key_only else f"row number or key '{text}'"
    by = opened.manifest.id_column
    several = len(sources) > 1
    raise DocumentNotFound(
        f"no document with {what} in collection '{opened.name}': it has {count:,} documents "
        + (
            f"from {len(sources)} files"
            if several
            else f"from {rows:,} rows (rows 0 to {max(rows - 1, 0):,})"
        ),
        (f"keys are values of column '{by}'; " if by else "")
        + ("give FILE:ROW, " if several else "give a row number from 0, ")
        + f"or a key ({setting('key')} reads a number as a key)",
    )


def _find_row(opened: OpenCollection, row: int, file: str | None) -> StoredPoint | None:
    """The document of a row (of ``file``); ``AmbiguousReference`` for a bare row that
    several files hold."""
    must: list[Condition] = [Match("_row", (row,))]
    if file:
        must.append(Match("_file", (file,)))
    flt = Filter(must=tuple(must))
    hits = list(islice(opened.coll.scroll(flt=flt, with_payload=["_file", "_path"]), _ROW_SCAN))
    if not hits:
        return None
    # Files of one name in two folders are two files (their paths tell them apart).
    files = {str(p.payload.get("_path") or p.payload.get("_file") or "") for p in hits}
    if len(files) > 1:
        names = {PurePath(f).name for f in files}
        shown = names if len(names) == len(files) else files  # paths only where names repeat
        raise ambiguous(row, [f or "(no file name)" for f in shown], opened.name)
    found = opened.coll.retrieve([hits[0].id], with_vectors=True)
    return found[0] if found else None


def document_of(opened: OpenCollection, point: StoredPoint) -> Document:
    """What a user sees of a stored point: key, row, title, date and public payload."""
    payload = point.payload
    title_field = opened.title_field
    date_field = opened.date_field
    title = payload.get(title_field) if title_field else None
    date = payload.get(date_field) if date_field else None
    row = payload.get("_row")
    return Document(
        key=str(payload.get("_key", point.id)),
        row=row if isinstance(row, int) else None,
        title=str(title) if title is not None else None,
        date=str(date) if date is not None else None,
        payload=public(payload),
        file=str(payload["_file"])
        if len(opened.manifest.sources) > 1 and payload.get("_file")
        else None,
    )


def describe(doc: Document) -> str:
    return f"'{doc.key}' (row {doc.row})"


def prior_art_field(opened: OpenCollection, name: str | None) -> str:
    """The date field ``prior_art`` compares: ``name``, or the collection's date field."""
    if name is None:
        name = opened.date_field
        if not name:
            raise UserInputError(
                f"collection '{opened.name}' has no date field for {setting('prior_art')}",
                f"name one with {setting('date_field')}",
            )
    info = resolve_field(name, opened.fields)
    if info.type != "datetime":
        dates = [f for f, i in opened.fields.items() if i.type == "datetime"]
        raise UserInputError(
            f"{setting('date_field')} '{info.name}' is a {info.type} field, not a date",
            "date fields: " + (", ".join(dates) if dates else "none in this collection"),
        )
    return info.name
