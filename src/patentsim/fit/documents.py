"""The labelled documents that models are compared and tuned on: from a file or a collection.

A file is read as ``ingest load`` reads it (same columns, types, list separators and
text joining), without a store or a model.  A collection gives its stored payload: the
text columns its manifest names, joined as at ingest, its title field and the label field.
Documents without a label are counted and left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..columns import CLASSIFICATION
from ..errors import UserInputError, setting
from ..search.eval import LEVELS, label_codes
from ..store import StoreSettings
from ..store.backend import Store


@dataclass(frozen=True)
class Document:
    key: str
    text: str
    label: Any  # the label cell as stored: a list of codes, or a string
    title: str | None = None

    def codes(self, level: str) -> frozenset[str]:
        return label_codes(self.label, level)


@dataclass
class Corpus:
    """Labelled documents, sorted by key (a seeded sample depends on the seed only)."""

    documents: list[Document]
    label: str  # the label's field name
    source: str  # what they were read from, for reports and model cards
    unlabelled: int = 0  # documents without a label, left out
    text_columns: list[str] = field(default_factory=list)

    def classification(self) -> bool:
        """Whether the labels look like IPC/CPC codes (so that subclass and group apply)."""
        codes = [c for d in self.documents[:500] for c in d.codes("full")]
        if not codes:
            return False
        return sum(1 for c in codes if CLASSIFICATION.match(c)) >= 0.8 * len(codes)


@dataclass(frozen=True)
class Reading:
    """How to read a file's documents (``ingest load``'s options of the same names)."""

    text: tuple[str, ...] = ()  # the text column(s), joined (default: found as load finds it)
    id_column: str | None = None  # each document's key (default: the row number)
    sheet: str | None = None  # an .xlsx file's sheet (default: the first)


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise UserInputError(
            f"{setting('level')} must be one of {', '.join(LEVELS)}, not {level!r}"
        )


def read_corpus(
    label: str,
    *,
    source: str | Path | Sequence[str | Path] | None = None,
    collection: str | None = None,
    reading: Reading | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
) -> Corpus:
    """The labelled documents of ``source`` (files, read as ``reading`` says), else of the
    collection."""
    if source is not None and not (isinstance(source, (list, tuple)) and not source):
        return _from_file(source, label, reading or Reading())
    return _from_collection(label, collection, settings, store)


def _from_file(source: str | Path | Sequence[str | Path], label: str, reading: Reading) -> Corpus:
    from ..ingest.pipeline import read_records

    plan, records = read_records(
        source, text=reading.text, id_column=reading.id_column, sheet=reading.sheet
    )
    by_field = {plan.fields[c]: c for c in plan.columns}
    wanted = _match_column(label, [*by_field, *plan.columns])
    label_field = plan.fields.get(wanted, wanted)
    title_field = plan.fields.get(plan.title_column or "")
    docs = []
    unlabelled = 0
    for rec in records:
        value = rec.payload.get(label_field)
        if not label_codes(value, "full"):
            unlabelled += 1
            continue
        title = rec.payload.get(title_field) if title_field else None
        docs.append(Document(rec.key, rec.text, value, _str(title)))
    described = ", ".join(str(s) for s in source) if isinstance(source, list) else str(source)
    return _checked(Corpus(docs, label_field, described, unlabelled, list(plan.text_columns)))


def _match_column(label: str, names: Sequence[str]) -> str:
    for name in names:
        if name == label:
            return name
    folded = [n for n in names if n.casefold() == label.casefold()]
    if folded:
        return folded[0]
    raise UserInputError(
        f"{setting('label')}: no column '{label}' in the file",
        "columns: " + ", ".join(dict.fromkeys(names)),
    )


def _from_collection(
    label: str, collection: str | None, settings: StoreSettings | None, store: Store | None
) -> Corpus:
    from ..errors import PatentSimError
    from ..ingest.records import field_name
    from ..search.session import Session
    from ..search.where import resolve_field

    with Session(settings, collection, store=store) as session:
        opened = session.open()
        try:
            info = resolve_field(label, opened.fields)
        except PatentSimError as exc:
            raise UserInputError(f"{setting('label')}: {exc.message}", exc.hint) from None
        manifest = opened.manifest
        text_fields = [field_name(c) for c in manifest.text_columns]
        title = manifest.title_field
        wanted = list(dict.fromkeys([info.name, *text_fields, *([title] if title else []), "_key"]))
        docs = []
        unlabelled = 0
        for p in opened.coll.scroll(with_payload=wanted, batch=1024):
            value = p.payload.get(info.name)
            body = "\n".join(str(p.payload[f]) for f in text_fields if p.payload.get(f))
            if not body.strip():
                continue
            if not label_codes(value, "full"):
                unlabelled += 1
                continue
            name = p.payload.get(title) if title else None
            docs.append(Document(str(p.payload.get("_key", p.id)), body, value, _str(name)))
        name = opened.name
    return _checked(Corpus(docs, info.name, f"collection '{name}'", unlabelled, text_fields))


def _checked(corpus: Corpus) -> Corpus:
    corpus.documents.sort(key=lambda d: d.key)
    if len(corpus.documents) < 4:
        raise UserInputError(
            f"only {len(corpus.documents)} documents have a '{corpus.label}' label: "
            "too few to compare or tune models",
            f"choose a label with values for most documents ({setting('label')})",
        )
    return corpus


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
