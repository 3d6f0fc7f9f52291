"""What a collection holds, for a page or a program that shows it: its fields and their
types, the fields worth counting, the title and date fields, its modes and its size.

``describe`` is the Python twin of the web page's ``/api/info``; like the query functions it
opens the collection for one question, or uses a caller's ``store`` kept open.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..columns import classes_column, owner_column
from ..embed.retrieval import MODES, Retrieval
from ..store import StoreSettings
from ..store.backend import Store
from .questions import FACET_TYPES
from .session import Session


@dataclass
class FieldSummary:
    name: str
    type: str  # keyword, text, integer, float, datetime, bool
    list: bool = False  # a list field (IPC codes): each element counts and matches


@dataclass
class Overview:
    collection: str
    backend: str  # embedded or server
    points: int
    fields: list[FieldSummary]
    facet_fields: list[str]  # keyword, integer and boolean fields, in the manifest's order
    title_field: str | None
    date_field: str | None
    owner_field: str | None  # the applicant-like column
    classes_field: str | None  # the list field of IPC/CPC codes (columns.classes_column)
    text_fields: list[str]  # the columns whose text was embedded
    default_mode: str
    modes: list[str]  # the modes this collection can answer in
    model: str | None
    state: str | None  # "ready", or the state of an ingest that has not finished
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe(
    *,
    collection: str | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
) -> Overview:
    """The collection's overview (see the module's docstring)."""
    with Session(settings, collection, store=store) as session:
        opened = session.open()
        manifest = opened.manifest
        public = [info for name, info in opened.fields.items() if not name.startswith("_")]
        has_keyword = opened.has_keyword()
        owner = owner_column(info.name for info in public)
        lists = [i.name for i in public if i.list and i.type == "keyword"]
        model = manifest.model.name if manifest.model else None
        return Overview(
            collection=opened.name,
            backend=_backend(store, settings),
            points=opened.coll.count(),
            fields=[FieldSummary(i.name, i.type, i.list) for i in public],
            facet_fields=[i.name for i in public if i.type in FACET_TYPES],
            title_field=opened.title_field,
            date_field=manifest.date_field,
            owner_field=owner,
            classes_field=classes_column(lists),
            text_fields=list(manifest.text_columns),
            default_mode=Retrieval.from_manifest(manifest.search).mode if has_keyword else "dense",
            modes=list(MODES) if has_keyword else ["dense"],
            model=str(model) if model else None,
            state=manifest.state,
        )


def _backend(store: Store | None, settings: StoreSettings | None) -> str:
    if store is not None:
        return str(store.kind)
    return "server" if (settings or StoreSettings.resolve()).url else "embedded"
