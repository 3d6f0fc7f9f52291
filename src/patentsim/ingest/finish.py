"""The end of a load: fields, payload indexes, the default search mode, the manifest's files.

``pipeline._Loader`` diffs, embeds and writes the points; what it saw on the way (each
field's value types, which fields hold lists, a sample of the texts, the files read) comes
here to become the collection's field specs and payload indexes, its default search mode
and the manifest's record of its files.  Mid-load checkpoints build the indexes known so far
with the same functions.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from ..columns import filing_date_column
from ..embed.retrieval import ModeEvidence, default_mode
from ..store.backend import Collection
from ..store.manifest import FieldSpec, Manifest, SearchDefaults, SourceEntry, now
from ..store.names import names_field
from .indexing import choose_indexes
from .keyword import terms_field
from .read import Table
from .records import merge_types

# The search defaults' ``chosen_by`` (then ": " and why) when ingest set them as measured.
MEASURED_DEFAULTS = "ingest (measured defaults)"
SKIPPED_KEPT = 10_000  # skipped rows a manifest names per file (beyond: "no document")


def field_specs(
    stored: Mapping[str, FieldSpec],
    types: Mapping[str, set[str]],
    lists: set[str],
    full_text: set[str],
    *,
    terms: Iterable[str] = (),
    names: Iterable[str] = (),
) -> dict[str, FieldSpec]:
    """Each payload field's type and index from the value types written so far and those
    the manifest recorded (earlier loads' values may still be stored): ``full_text`` fields
    (texts and title) a full-text index, ``terms`` fields the path of their analyzed terms,
    ``names`` fields the path of their name keys."""
    fields = dict(stored)
    for key, kinds in types.items():
        old = fields.get(key)
        earlier = {old.value_type} if old is not None and old.value_type else set()
        kind = merge_types(kinds | earlier)
        index = "text" if key in full_text else kind
        fields[key] = FieldSpec(
            type="text" if index == "text" else kind,
            value_type=kind,
            list=key in lists,
            mixed=len(kinds | earlier) > 1 and not kinds | earlier <= {"integer", "float"},
            index=index,
        )
    for key in terms:
        if key in fields:
            fields[key] = replace(fields[key], terms=terms_field(key))
    for key in names:
        if key in fields:
            fields[key] = replace(fields[key], names=names_field(key))
    return fields


def limit_indexes(
    fields: Mapping[str, FieldSpec], lists: set[str], order: list[str], existing: set[str]
) -> dict[str, FieldSpec]:
    """``fields`` with at most ``indexing.MAX_FIELD_INDEXES`` of them and their name keys
    indexed (those the collection has first, then in the files' column ``order``); the
    others record ``index`` None (name keys: ``names_indexed`` False) and are filtered
    without one."""
    wanted = {
        key: spec.index or ("text" if spec.type == "text" else spec.value_type or spec.type)
        for key, spec in fields.items()
    }
    keys_of = {spec.names: key for key, spec in fields.items() if spec.names}
    lists = lists | {k for k, spec in fields.items() if spec.list}
    chosen = choose_indexes(
        {**wanted, **dict.fromkeys(keys_of, "keyword")},
        lists,
        order,
        existing & (set(fields) | set(keys_of)),
        keys_of=keys_of,
    )
    return {
        key: replace(
            spec,
            index=wanted[key] if key in chosen else None,
            names_indexed=spec.names is None or spec.names in chosen,
        )
        for key, spec in fields.items()
    }


def unindexed(fields: Mapping[str, FieldSpec]) -> list[str]:
    """The fields and name keys ``limit_indexes`` left without an index."""
    left = [k for k, spec in fields.items() if not spec.index]
    left += [spec.names for spec in fields.values() if spec.names and not spec.names_indexed]
    return sorted(left)


def field_order(
    stored: Sequence[str], columns: Iterable[str], fields: Mapping[str, FieldSpec]
) -> list[str]:
    """The fields in the files' column order, earlier loads' order first (output columns)."""
    order = [f for f in stored if f in fields]
    for name in [*columns, *fields]:
        if name in fields and name not in order:
            order.append(name)
    return order


def ensure_indexes(coll: Collection, fields: Mapping[str, FieldSpec]) -> None:
    """The payload indexes ``fields`` call for (the store keeps those it has)."""
    for key, spec in fields.items():
        if spec.index is not None:
            coll.ensure_index(key, spec.index)
        if spec.terms:
            coll.ensure_index(spec.terms, "terms")
        if spec.names and spec.names_indexed:
            coll.ensure_index(spec.names, "keyword")


@dataclass(frozen=True)
class ModeChoice:
    """A new collection's default search mode, as measured."""

    search: SearchDefaults
    reason: str  # what was measured, for people
    warning: str | None = None
    seconds: float | None = None  # the measurement on the collection's own labels, if run


def measured_mode(
    coll: Collection, name: str, view: Manifest, evidence: ModeEvidence
) -> ModeChoice:
    """The default mode of a collection that has none: on its own labels where it has an
    IPC/CPC field (its stored vectors, a seeded sample), else by what the model's tokenizer
    makes of its texts (``evidence``).  ``view``: the manifest as the load will write it."""
    measured, seconds = None, None
    if evidence.dense:
        from ..search.eval import measure_modes

        began = time.perf_counter()
        measured = measure_modes(coll, view, name=name)
        seconds = round(time.perf_counter() - began, 3)
    chosen, reason, warning = default_mode(evidence, measured)
    search = replace(chosen.to_manifest(f"{MEASURED_DEFAULTS}: {reason}"), measured=reason)
    return ModeChoice(search, reason, warning, seconds)


def pick_date_field(names: list[str]) -> str | None:
    """The date a prior-art search compares: filing or application date first."""
    return filing_date_column(names)


def source_entry(table: Table, rows: int, skipped: list[int]) -> SourceEntry:
    """A file as the manifest's ``sources`` record it."""
    return SourceEntry(
        file=str(table.path.resolve()),
        sheet=table.sheet,
        header_row=table.header_row,
        rows=rows,
        # Rows left out for empty text, so that a search naming one can say so.
        skipped=tuple(skipped[:SKIPPED_KEPT]),
        loaded_at=now(),
    )
