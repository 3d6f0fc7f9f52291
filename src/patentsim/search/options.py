"""The options of a similarity query, one object for every caller.

``QueryOptions`` carries what ``search like`` and ``search text`` ask besides the query
itself: the page (``limit``, ``offset``), the filter (``where``, ``filter_json``), the score
threshold, grouping, the retrieval mode, and prior art.  The CLI builds it from one option
bundle (``search/cli.py``: ``query_options``), the Python API and the web API take it as it
is, and ``Session`` checks it once (``validate``) before it asks the store.

A new option is a new field here (with its check in ``validate``) and its click option in the
bundle; nothing between the CLI and the query forwards options by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Any

from ..embed.retrieval import MODES
from ..errors import UserInputError, setting
from ..store.filters import Filter
from ..store.queries import MAX_PAGE

DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class QueryOptions:
    """How to ask: the same words as the command-line options (``--limit`` is ``limit``).

    - ``limit``, ``offset``: the page of results (ranks count the offset);
    - ``where``: ``--where`` conditions, ANDed (a list is accepted and kept as a tuple);
    - ``filter_json``: a raw Qdrant filter (JSON text, ``@FILE``, a dict or a ``Filter``);
    - ``min_score``: only results scoring at least this (cosine, BM25 or fused score);
    - ``group_by``: at most one result per value of this field (list fields: the first
      element), the best-scoring one;
    - ``mode``: ``dense``, ``keyword`` or ``hybrid``; None is the collection's default;
    - ``prior_art``: only documents dated before the query document (``like`` only), by
      ``date_field`` (None: the collection's date field);
    - ``explain``: each hit's ``shared_terms`` with the query (``patentsim.search.explain``);
    - ``collapse``: one hit per family, the best-ranked, with the family's size and other
      members (``patentsim.search.collapse``): ``family``, ``near-dup`` or a field.
    """

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    where: tuple[str, ...] = ()
    filter_json: str | dict[str, Any] | Filter | None = None
    min_score: float | None = None
    group_by: str | None = None
    mode: str | None = None
    prior_art: bool = False
    date_field: str | None = None
    explain: bool = False
    collapse: str | None = None

    def __post_init__(self) -> None:
        where: Any = self.where
        if isinstance(where, str):
            where = (where,)
        elif not isinstance(where, tuple) and isinstance(where, Iterable):
            where = tuple(where)
        object.__setattr__(self, "where", where)

    def validate(self) -> QueryOptions:
        """The options themselves, or ``UserInputError`` naming the first that cannot be used
        (what depends on the collection, such as field names, is checked where it is open)."""
        if not _integer(self.limit) or self.limit < 1:
            raise UserInputError(f"{setting('limit')} must be at least 1, not {self.limit}")
        if not _integer(self.offset) or self.offset < 0:
            raise UserInputError(f"{setting('offset')} must be 0 or more, not {self.offset}")
        for name in ("limit", "offset"):
            # The engines read limit + offset as a 64-bit count; Python hands them any integer.
            if getattr(self, name) > MAX_PAGE:
                raise UserInputError(
                    f"{setting(name)} must be at most {MAX_PAGE:,}, not {getattr(self, name)}"
                )
        if self.mode is not None and self.mode not in MODES:
            raise UserInputError(
                f"{setting('mode')} must be one of {', '.join(MODES)}, not {self.mode!r}"
            )
        if self.min_score is not None and (
            not isinstance(self.min_score, (int, float))
            or isinstance(self.min_score, bool)
            or not math.isfinite(self.min_score)
        ):
            raise UserInputError(f"{setting('min_score')} must be a number, not {self.min_score}")
        if not isinstance(self.where, tuple) or not all(isinstance(w, str) for w in self.where):
            raise UserInputError(f"{setting('where')} takes conditions as text, not {self.where!r}")
        for name in ("group_by", "date_field", "collapse"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise UserInputError(f"{setting(name)} must name a field, not {value!r}")
        if self.collapse is not None and self.group_by is not None:
            raise UserInputError(
                f"{setting('collapse')} and {setting('group_by')} both thin the list: use one"
            )
        return self

    def replace(self, **changes: Any) -> QueryOptions:
        """A copy with some options changed (the next page: ``replace(offset=20)``)."""
        return replace(self, **changes)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The option names, in order (the CLI bundle and the web API read options by them)."""
        return tuple(f.name for f in fields(cls))


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
