"""What a query answers: small dataclasses that render, serialise and convert themselves.

``Hit`` and ``Document`` turn into the objects of ``--format json`` (``to_dict``); ``Results``
holds a page of hits with what rendering needs to know about the collection (field order and
types, the title and date fields, the mode that answered); ``Facets`` holds counts per value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..store.names import is_names_field
from ..store.payload import RESERVED

if TYPE_CHECKING:
    import pandas as pd


def is_terms(key: str) -> bool:
    """A field ingest derives from another: analyzed terms (``_terms_abstract``:
    ingest/keyword.py) or a name field's keys (``_name_applicant``: store/names.py)."""
    return key.startswith("_terms_") or is_names_field(key)


def public(payload: dict[str, Any]) -> dict[str, Any]:
    """A stored payload without the reserved fields and the analyzed terms."""
    return {k: v for k, v in payload.items() if k not in RESERVED and not is_terms(k)}


@dataclass
class Hit:
    """One result: its rank (1-based, counting the offset), cosine similarity, key, row."""

    rank: int
    score: float
    key: str
    row: int | None
    payload: dict[str, Any] = field(default_factory=dict)
    # With ``explain``: the analyzed terms it shares with the query (explain.SharedTerm),
    # highest weight first.
    shared_terms: list[Any] | None = None
    # With ``collapse``: its family (collapse.Family): how found, its size, its other members.
    family: Any = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "rank": self.rank,
            "score": round(self.score, 6),
            "key": self.key,
            "row": self.row,
            "payload": self.payload,
        }
        if self.family is not None:
            out["family"] = self.family.to_dict()
        if self.shared_terms is not None:
            from .explain import SHOWN

            out["shared_terms"] = [
                {"term": t.term, "word": t.word, "weight": round(t.weight, 6)}
                for t in self.shared_terms[:SHOWN]
            ]
        return out


@dataclass
class Document:
    """One document of a collection: its key, row, title, date and public payload (the
    document a ``like`` search started from, or ``Session.document``'s answer)."""

    key: str
    row: int | None
    title: str | None
    date: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    file: str | None = None  # the file of its row, in a collection of several files

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "row": self.row,
            "file": self.file,
            "title": self.title,
            "date": self.date,
            "payload": self.payload,
        }


# The name ``like``'s query document had first; the same class.
QueryDocument = Document


@dataclass
class Results:
    collection: str
    hits: list[Hit]
    query: Document | None = None
    title_field: str | None = None
    date_field: str | None = None
    fields: list[str] = field(default_factory=list)  # payload fields, in the manifest's order
    types: dict[str, str] = field(default_factory=dict)  # field -> type
    filtered: bool = False
    prior_art_field: str | None = None
    prior_art_before: str | None = None
    mode: str = "dense"  # the mode that answered: dense, keyword or hybrid
    mode_detail: str = "dense"  # with the fusion and its weights, for people
    collapse: str | None = None  # with ``collapse``: how the hits were made one per family

    def to_pandas(self) -> pd.DataFrame:
        """The hits as a DataFrame for notebooks: rank, score, key, row, then the payload
        fields in the manifest's order; date fields as UTC timestamps, list fields as lists.
        pandas is imported here only, so searching stays light."""
        import pandas as pd

        columns = ["rank", "score", "key", "row", *self.fields]
        extra = sorted(
            {k for h in self.hits for k in h.payload if not is_terms(k)}
            - set(columns)
            - set(RESERVED)
        )
        frame = pd.DataFrame.from_records(
            [
                {"rank": h.rank, "score": h.score, "key": h.key, "row": h.row, **h.payload}
                for h in self.hits
            ],
            columns=[*columns, *extra],
        )
        for name in frame.columns:
            if self.types.get(name) == "datetime":
                frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
        return frame


@dataclass
class FacetCount:
    """A value and how many documents hold it.  On a name field (applicants, ...): one
    entry per party, ``value`` its name as shown, ``key`` its matching key and
    ``spellings`` the ways its documents write it (most frequent first)."""

    value: Any
    count: int
    key: str | None = None
    spellings: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "count": self.count}
        if self.spellings is not None:
            out["spellings"] = self.spellings
        return out


@dataclass
class Facets:
    collection: str
    field: str
    counts: list[FacetCount]
    total: int  # documents that match the filter
    filtered: bool = False
    # Distinct values under the filter (on a name field: names, each party once); None
    # where more than questions.DISTINCT_MAX.
    distinct: int | None = None


@dataclass
class FacetField:
    """A field ``facets`` can count: its type, whether it holds lists, how many distinct
    values it has (None: more than questions.DISTINCT_MAX) and how many documents hold it."""

    name: str
    type: str
    list: bool
    distinct: int | None
    documents: int
    names: bool = False  # a name field: distinct names, each party once

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.name,
            "type": self.type,
            "list": self.list,
            "distinct": self.distinct,
            "documents": self.documents,
            "names": self.names,
        }
