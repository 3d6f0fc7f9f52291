"""The collection a session has open, as the read side sees it.

``OpenCollection`` bundles the backend's ``Collection`` with what its manifest says that
queries need: the payload fields and their types, the analyzer of keyword search, the title
and date fields, the default retrieval mode.  It is read from the manifest in one go
(``read``); ``Session`` reads it again when the manifest changes.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from itertools import islice
from typing import Any

from ..columns import title_column
from ..embed.retrieval import FUSIONS, MODES, Retrieval
from ..errors import setting
from ..store.backend import Collection
from ..store.filters import Empty, Filter
from ..store.manifest import Manifest, ModelRecord
from ..store.names import NameSpec
from .where import FieldInfo, fields_of


class UnknownSearchDefault(UserWarning):
    """A manifest names a default mode or fusion this version does not know."""


@dataclass
class OpenCollection:
    name: str
    coll: Collection
    manifest: Manifest
    fields: dict[str, FieldInfo]

    @classmethod
    def read(cls, name: str, coll: Collection) -> OpenCollection:
        manifest = coll.read_manifest()
        return cls(name, coll, manifest, fields_of(manifest))

    def analyze(self, text: str) -> list[str]:
        """The collection's analyzer (none for collections made before keyword search)."""
        from ..embed.analyzer import Analyzer

        spec = self.manifest.keyword
        return Analyzer.from_info(spec.analyzer if spec else None).terms(text)

    def has_keyword(self) -> bool:
        return self.manifest.keyword is not None

    @cached_property
    def names(self) -> NameSpec:
        """The collection's name fields and aliases (``store/names.py``)."""
        return NameSpec.from_manifest(self.manifest)

    def sample(self, key: str) -> Any:
        """One stored value of ``key`` (for examples in error messages); for a text field with
        analyzed terms, one of the collection's frequent terms (a word a ``~`` example can
        use, where a text's first word may be a meaningless fragment such as 본)."""
        info = self.fields.get(key)
        if info is not None and info.terms:
            term = self.frequent_term(info.terms)
            if term is not None:
                return term
        flt = Filter(must_not=(Empty(key),))
        for point in islice(self.coll.scroll(flt=flt, with_payload=[key], batch=1), 1):
            return point.payload.get(key)
        return None

    def frequent_term(self, terms_key: str, documents: int = 100) -> str | None:
        """The analyzed term most of the first ``documents`` documents hold (two characters
        or more, not a number)."""
        counts: Counter[str] = Counter()
        flt = Filter(must_not=(Empty(terms_key),))
        points = self.coll.scroll(flt=flt, with_payload=[terms_key], batch=documents)
        for point in islice(points, documents):
            value = point.payload.get(terms_key)
            if isinstance(value, str):
                counts.update({t for t in value.split() if len(t) > 1 and not t.isdigit()})
        best = counts.most_common(1)
        return best[0][0] if best else None

    @property
    def state(self) -> str | None:
        """The manifest's state: ``ready`` once an ingest finished."""
        return self.manifest.state

    @property
    def date_field(self) -> str | None:
        return self.manifest.date_field

    @property
    def model(self) -> ModelRecord | None:
        """The manifest's record of the collection's model (None: keyword-only)."""
        return self.manifest.model

    @property
    def dense(self) -> bool:
        """Whether the collection holds dense vectors (a keyword-only one does not)."""
        return self.manifest.vectors.dense is not None

    def default_retrieval(self, *, warn: bool = True) -> Retrieval:
        """The collection's default mode; one it cannot answer falls back to what it can, and
        one this version does not know (a hand-edited manifest) is named in a warning
        (``warn``: where the default is what answers)."""
        search = self.manifest.search
        chosen = Retrieval.from_manifest(search)
        unknown = []
        if search is not None and search.default_mode not in MODES:
            unknown.append(f"default search mode '{search.default_mode}'")
        if search is not None and search.fusion not in FUSIONS:
            unknown.append(f"fusion '{search.fusion}'")
            chosen = Retrieval(chosen.mode, "rrf", chosen.weights)
        if unknown and warn:
            warnings.warn(
                f"collection '{self.name}': its manifest names an unknown "
                f"{' and '.join(unknown)}; searching {chosen.describe()} instead (give "
                f"{setting('mode')}, or load the collection's files again to choose it anew)",
                UnknownSearchDefault,
                stacklevel=2,
            )
        return chosen

    def public_fields(self) -> list[str]:
        """The payload fields a user sees, in the manifest's order."""
        return [f for f in self.fields if not f.startswith("_")]

    def types(self) -> dict[str, str]:
        return {f: i.type for f, i in self.fields.items() if not f.startswith("_")}

    @cached_property
    def title_field(self) -> str | None:
        """The field that names a document: the manifest's, a title-like column, else the
        first short text field that is not the embedded text."""
        title = self.manifest.title_field
        if title:
            return title
        text_columns = set(self.manifest.text_columns)
        found = title_column(self.fields)
        if found:
            return found
        for name, info in self.fields.items():
            if (
                info.type in ("text", "keyword")
                and name not in text_columns
                and not name.startswith("_")
            ):
                return name
        return None
