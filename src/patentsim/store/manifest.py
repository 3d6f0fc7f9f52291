"""The collection manifest: what a collection was built from and with.

Written when a collection is created, updated after every ingest, and checked
before every later ingest and search: a search with another model, or an
ingest that would mix models or dimensions, is refused with a message that
says which and what to do.

``Manifest`` is the typed record; this module is the only place that reads or
writes its stored form (``from_dict`` / ``to_dict``: the embedded store's
``manifest.json``, the server's collection metadata).  A stored manifest
carries ``manifest_version``; ``upgrade`` brings an older one forward by
numbered steps (each takes version N to N + 1), so the rest of the code sees
only the current shape.  Version 1 stands for every manifest written before the
version was read: its keys came one feature at a time, and the steps fill in
what a collection made before each feature lacks.

The stored form keeps every key earlier versions wrote, under the same names,
so a manifest written here still reads in an older patentsim.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeGuard

from .. import __version__
from ..dates import now_rfc3339
from ..errors import LayoutMismatch, ModelMismatch, ModelUnavailable, StoreError, setting

MANIFEST_VERSION = 4

# The options that decide a model's vectors besides the model itself, where a collection
# (or a caller) names none: fp32 torch, texts cut at the model's window.
DEFAULT_BACKEND = "torch"
DEFAULT_LONG_TEXT = "truncate"


def now() -> str:
    return now_rfc3339()


# -- the record ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelRecord:
    """The model whose vectors a collection holds (``Embedder.info()``).

    ``fingerprint`` "" and ``dimension`` None mean "not known" (a hub model before it is
    downloaded); ``engine`` None: the backend's own engine."""

    name: str
    fingerprint: str = ""
    dimension: int | None = None
    requested: str | None = None  # the name asked for, where the offline model stood in
    max_seq_length: int | None = None
    normalize: bool = True
    backend: str = DEFAULT_BACKEND
    engine: str | None = None
    long_text: str = DEFAULT_LONG_TEXT
    devices: tuple[str, ...] | None = None  # the devices that embedded, where several did

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelRecord:
        dimension = data.get("dimension")
        window = data.get("max_seq_length")
        devices = data.get("devices")
        return cls(
            name=str(data.get("name") or ""),
            fingerprint=str(data.get("fingerprint") or ""),
            dimension=int(dimension) if dimension else None,
            requested=_str_or_none(data.get("requested")),
            max_seq_length=int(window) if window else None,
            normalize=bool(data.get("normalize", True)),
            backend=str(data.get("backend") or DEFAULT_BACKEND),
            engine=_str_or_none(data.get("engine")),
            long_text=str(data.get("long_text") or DEFAULT_LONG_TEXT),
            devices=tuple(str(d) for d in devices) if devices else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "requested": self.requested,
            "fingerprint": self.fingerprint,
            "dimension": self.dimension,
            "max_seq_length": self.max_seq_length,
            "normalize": self.normalize,
            "backend": self.backend,
            "engine": self.engine,
            "long_text": self.long_text,
        }
        if self.devices:
            out["devices"] = list(self.devices)
        return out


@dataclass(frozen=True)
class FieldSpec:
    """A payload field: its type as filters see it, its values' type, and its index.

    ``type`` "text" for the text and title fields (a full-text index), else the values'
    type; ``value_type`` None for fields typed before it was recorded; ``terms``: the
    payload path of the field's analyzed terms (keyword search), if any."""

    type: str = "keyword"
    value_type: str | None = None
    list: bool = False
    mixed: bool = False
    index: str | None = None
    terms: str | None = None
    names: str | None = None  # the payload path of the field's name keys (store/names.py)
    names_indexed: bool = True  # False: the name keys were left out of the index budget

    @classmethod
    def from_dict(cls, data: Any) -> FieldSpec:
        if not isinstance(data, dict):
            return cls()  # not written by ingest: filtered as keyword, given no index
        index = data.get("index")
        return cls(
            type=str(data.get("type") or "keyword"),
            value_type=_str_or_none(data.get("value_type")),
            list=bool(data.get("list")),
            mixed=bool(data.get("mixed")),
            index=str(index) if isinstance(index, str) else None,
            terms=_str_or_none(data.get("terms")),
            names=_str_or_none(data.get("names")),
            names_indexed=data.get("names_index") is not False,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "list": self.list,
            "mixed": self.mixed,
        }
        if self.value_type is not None:
            out["value_type"] = self.value_type
        if self.index is not None:
            out["index"] = self.index
        if self.terms is not None:
            out["terms"] = self.terms
        if self.names is not None:
            out["names"] = self.names
            if not self.names_indexed:
                out["names_index"] = False
        return out


@dataclass(frozen=True)
class KeywordSpec:
    """What a collection's keyword vectors are made of (``ingest.keyword.Keywords``).

    ``analyzer`` and ``bm25`` are the analyzer's and BM25's own records (their
    ``from_info`` reads them)."""

    vector: str
    analyzer: dict[str, Any]
    bm25: dict[str, Any]
    terms_prefix: str
    fields: tuple[str, ...] = ()
    title: str | None = None  # the title's terms count in the vector too

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KeywordSpec:
        return cls(
            vector=str(data.get("vector") or ""),
            analyzer=dict(data.get("analyzer") or {}),
            bm25=dict(data.get("bm25") or {}),
            terms_prefix=str(data.get("terms_prefix") or ""),
            fields=tuple(str(f) for f in data.get("fields") or ()),
            title=_str_or_none(data.get("title")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "vector": self.vector,
            "analyzer": dict(self.analyzer),
            "bm25": dict(self.bm25),
            "terms_prefix": self.terms_prefix,
            "fields": list(self.fields),
            "title": self.title,
        }


@dataclass(frozen=True)
class SearchDefaults:
    """A collection's default retrieval (``embed.retrieval.Retrieval``) and who chose it."""

    default_mode: str = "dense"
    fusion: str = "rrf"
    weights: tuple[float, float] = (1.0, 1.0)  # dense, keyword (RRF only)
    chosen_by: str | None = None
    measured: str | None = None  # what ingest measured to choose it, for people

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchDefaults:
        weights = data.get("weights") or (1.0, 1.0)
        return cls(
            default_mode=str(data.get("default_mode") or "dense"),
            fusion=str(data.get("fusion") or "rrf"),
            weights=(float(weights[0]), float(weights[1])),
            chosen_by=_str_or_none(data.get("chosen_by")),
            measured=_str_or_none(data.get("measured")),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "default_mode": self.default_mode,
            "fusion": self.fusion,
            "weights": list(self.weights),
        }
        if self.chosen_by is not None:
            out["chosen_by"] = self.chosen_by
        if self.measured is not None:
            out["measured"] = self.measured
        return out


@dataclass(frozen=True)
class Layout:
    """How a store laid the collection out: set by ``Store.create``, the target's own in a
    copy.  ``quantized_memory`` None: quantized vectors held in RAM."""

    dimension: int | None = None
    on_disk: bool = False
    quantization: str = "none"
    indexes_on_disk: bool = False  # a large collection
    quantized_memory: str | None = None
    # Recorded by large collections of a version that scanned filters per segment; the
    # engine keeps it in the shard's own config.
    full_scan_threshold_kb: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Layout:
        dimension = data.get("dimension")
        threshold = data.get("full_scan_threshold_kb")
        return cls(
            dimension=int(dimension) if dimension else None,
            on_disk=bool(data.get("on_disk")),
            quantization=str(data.get("quantization") or "none"),
            indexes_on_disk=bool(data.get("indexes_on_disk")),
            quantized_memory=_str_or_none(data.get("quantized_memory")),
            full_scan_threshold_kb=int(threshold) if threshold else None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The layout's keys, which sit at the top level of the stored manifest."""
        out: dict[str, Any] = {
            "dimension": self.dimension,
            "on_disk": self.on_disk,
            "quantization": self.quantization,
        }
        if self.indexes_on_disk:
            out["indexes_on_disk"] = True
        if self.quantized_memory is not None:
            out["quantized_memory"] = self.quantized_memory
        if self.full_scan_threshold_kb is not None:
            out["full_scan_threshold_kb"] = self.full_scan_threshold_kb
        return out


@dataclass(frozen=True)
class Vectors:
    """The vectors a collection holds, by name: ``dense`` "" is the unnamed vector, None
    none (a keyword-only collection); ``sparse`` the keyword vector."""

    dense: str | None = ""
    sparse: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vectors:
        dense = data.get("dense")
        return cls(
            dense=None if dense is None else str(dense), sparse=_str_or_none(data.get("sparse"))
        )

    def to_dict(self) -> dict[str, Any]:
        return {"dense": self.dense, "sparse": self.sparse}


LAYOUT_KEYS = (
    "dimension",
    "on_disk",
    "quantization",
    "indexes_on_disk",
    "quantized_memory",
    "full_scan_threshold_kb",
)


@dataclass(frozen=True)
class SourceEntry:
    """A file loaded into the collection.  ``header_row`` and ``skipped`` (the rows left
    out for empty text) are recorded per file (``Manifest.sources``)."""

    file: str | None
    sheet: str | None = None
    rows: int | None = None
    loaded_at: str | None = None
    header_row: int | None = None
    skipped: tuple[int, ...] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceEntry:
        rows, header = data.get("rows"), data.get("header_row")
        skipped = data.get("skipped")
        return cls(
            file=_str_or_none(data.get("file")),
            sheet=_str_or_none(data.get("sheet")),
            rows=int(rows) if rows is not None else None,
            loaded_at=_str_or_none(data.get("loaded_at")),
            header_row=int(header) if header is not None else None,
            skipped=tuple(int(r) for r in skipped) if skipped is not None else None,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "sheet": self.sheet,
            "rows": self.rows,
            "loaded_at": self.loaded_at,
        }
        if self.header_row is not None:
            out["header_row"] = self.header_row
        if self.skipped is not None:
            out["skipped"] = list(self.skipped)
        return out


@dataclass(frozen=True)
class CopiedFrom:
    """Where ``ingest copy`` copied the collection from."""

    store: str  # "embedded" or "server"
    location: str
    collection: str
    copied_at: str

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CopiedFrom:
        return cls(
            store=str(data.get("store") or ""),
            location=str(data.get("location") or ""),
            collection=str(data.get("collection") or ""),
            copied_at=str(data.get("copied_at") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "location": self.location,
            "collection": self.collection,
            "copied_at": self.copied_at,
        }


@dataclass(frozen=True)
class DuplicateMarks:
    """The groups ``search dups --mark`` wrote into the payload, and how they were found."""

    field: str
    source: str | None = None  # dense or keyword
    threshold: float | None = None
    groups: int = 0
    documents: int = 0
    filtered: bool = False
    marked_at: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DuplicateMarks:
        threshold = data.get("threshold")
        return cls(
            field=str(data.get("field") or ""),
            source=_str_or_none(data.get("source")),
            threshold=float(threshold) if threshold is not None else None,
            groups=int(data.get("groups") or 0),
            documents=int(data.get("documents") or 0),
            filtered=bool(data.get("filtered")),
            marked_at=str(data.get("marked_at") or ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "source": self.source,
            "threshold": self.threshold,
            "groups": self.groups,
            "documents": self.documents,
            "filtered": self.filtered,
            "marked_at": self.marked_at,
        }


@dataclass
class Manifest:
    """What a collection was built from and with (see the module's docstring)."""

    collection: str
    model: ModelRecord | None  # None: keyword-only, no model
    text_columns: list[str] = field(default_factory=list)
    id_column: str | None = None  # None: documents are keyed by row number
    title_field: str | None = None
    date_field: str | None = None  # the date --prior-art compares
    family_field: str | None = None  # the field the files name patent families by
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    # The fields in the files' column order (output columns); a list, since a stored
    # manifest's keys may come sorted.  Empty: the order of ``fields``.
    field_order: list[str] = field(default_factory=list)
    # Name fields and aliases as store/names.py writes them (``NameSpec.to_manifest``).
    names: dict[str, Any] = field(default_factory=dict)
    # Columns whose payload field is named otherwise than the column (kept across loads).
    field_names: dict[str, str] = field(default_factory=dict)
    keyword: KeywordSpec | None = None  # None: no keyword vectors (yet)
    search: SearchDefaults | None = None  # None: not chosen yet (dense)
    layout: Layout = field(default_factory=Layout)
    vectors: Vectors = field(default_factory=Vectors)
    points: int = 0
    source: SourceEntry | None = None  # the last load's first file
    sources: dict[str, SourceEntry] = field(default_factory=dict)  # by file name (``_file``)
    copied_from: CopiedFrom | None = None
    duplicates: DuplicateMarks | None = None  # None: no groups marked
    state: str = "creating"  # creating, loading, copying, ready
    created_at: str = ""
    updated_at: str = ""
    tool_version: str = __version__
    distance: str = "cosine"
    normalized: bool = True
    # Keys this version does not know (written by hand, or by a tool beside this one):
    # kept as they are.
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        *,
        name: str,
        model: ModelRecord | None,
        text_columns: list[str],
        id_column: str | None,
    ) -> Manifest:
        """A fresh manifest for a collection about to be created."""
        stamp = now()
        return cls(
            collection=name,
            model=model,
            text_columns=list(text_columns),
            id_column=id_column,
            created_at=stamp,
            updated_at=stamp,
        )

    @property
    def dimension(self) -> int | None:
        """The dense vectors' dimension: the layout's, else the model's (None: none)."""
        if self.vectors.dense is None:
            return None
        return self.layout.dimension or (self.model.dimension if self.model else None)

    def touch(self) -> None:
        self.updated_at = now()

    # -- the stored form -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """A stored manifest of any version, upgraded to the current one.

        ``ValueError`` for something that is no manifest; ``StoreError`` for one written
        by a newer patentsim."""
        if not isinstance(data, dict):
            raise ValueError(f"a manifest is a JSON object, not {type(data).__name__}")
        data = upgrade(data)
        try:
            return cls._parse(data)
        except (AttributeError, TypeError, KeyError, IndexError) as exc:
            raise ValueError(f"a manifest entry has an unexpected shape ({exc})") from None

    @classmethod
    def _parse(cls, data: dict[str, Any]) -> Manifest:
        model, vectors = data.get("model"), data.get("vectors")
        fields = data.get("fields") or {}
        search, keyword = data.get("search"), data.get("keyword")
        source, copied = data.get("source"), data.get("copied_from")
        counts = data.get("counts") or {}
        names, dups = data.get("names"), data.get("duplicates")
        return cls(
            collection=str(data.get("collection") or ""),
            model=ModelRecord.from_dict(model) if isinstance(model, dict) else None,
            text_columns=[str(c) for c in data.get("text_columns") or ()],
            id_column=_str_or_none(data.get("id_column")),
            title_field=_str_or_none(data.get("title_field")),
            date_field=_str_or_none(data.get("date_field")),
            family_field=_str_or_none(data.get("family_field")) or None,
            fields={str(k): FieldSpec.from_dict(v) for k, v in fields.items()},
            field_order=[str(f) for f in data.get("field_order") or ()],
            names=dict(names) if isinstance(names, dict) else {},
            field_names={str(k): str(v) for k, v in (data.get("field_names") or {}).items()},
            keyword=KeywordSpec.from_dict(keyword) if _filled(keyword) else None,
            search=SearchDefaults.from_dict(search) if _mode_in(search) else None,
            layout=Layout.from_dict(data),
            vectors=Vectors.from_dict(vectors if isinstance(vectors, dict) else {}),
            points=int(counts.get("points") or 0) if isinstance(counts, dict) else 0,
            source=SourceEntry.from_dict(source) if isinstance(source, dict) else None,
            sources={
                str(k): SourceEntry.from_dict(v)
                for k, v in (data.get("sources") or {}).items()
                if isinstance(v, dict)
            },
            copied_from=CopiedFrom.from_dict(copied) if isinstance(copied, dict) else None,
            duplicates=DuplicateMarks.from_dict(dups) if isinstance(dups, dict) else None,
            state=str(data.get("state") or "ready"),
            created_at=str(data.get("created_at") or ""),
            updated_at=str(data.get("updated_at") or ""),
            tool_version=str(data.get("tool_version") or ""),
            distance=str(data.get("distance") or "cosine"),
            normalized=bool(data.get("normalized", True)),
            extra={k: v for k, v in data.items() if k not in _KNOWN},
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored form (current version), the keys earlier versions wrote included;
        ``field_order`` and ``names`` only once a load recorded them."""
        out = {
            **self.extra,
            "manifest_version": MANIFEST_VERSION,
            "collection": self.collection,
            "tool_version": self.tool_version,
            "model": self.model.to_dict() if self.model else None,
            "distance": self.distance,
            "normalized": self.normalized,
            "text_columns": list(self.text_columns),
            "id_column": self.id_column,
            "fields": {k: v.to_dict() for k, v in self.fields.items()},
            "field_names": dict(self.field_names),
            "date_field": self.date_field,
            "title_field": self.title_field,
            "keyword": self.keyword.to_dict() if self.keyword else None,
            "search": self.search.to_dict() if self.search else None,
            **self.layout.to_dict(),
            "vectors": self.vectors.to_dict(),
            "counts": {"points": self.points},
            "source": self.source.to_dict() if self.source else None,
            "sources": {k: v.to_dict() for k, v in self.sources.items()},
            "copied_from": self.copied_from.to_dict() if self.copied_from else None,
            "state": self.state,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if self.field_order:
            out["field_order"] = list(self.field_order)
        if self.names:
            out["names"] = dict(self.names)
        if self.family_field is not None:
            out["family_field"] = self.family_field
        if self.duplicates is not None:
            out["duplicates"] = self.duplicates.to_dict()
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """``ValueError`` for text that is no JSON manifest."""
        return cls.from_dict(json.loads(text))


_KNOWN = frozenset(
    {
        "manifest_version",
        "collection",
        "tool_version",
        "model",
        "distance",
        "normalized",
        "text_columns",
        "id_column",
        "fields",
        "field_order",
        "names",
        "family_field",
        "duplicates",
        "field_names",
        "date_field",
        "title_field",
        "keyword",
        "search",
        *LAYOUT_KEYS,
        "vectors",
        "counts",
        "source",
        "sources",
        "copied_from",
        "state",
        "created_at",
        "updated_at",
    }
)


def _filled(value: Any) -> TypeGuard[dict[str, Any]]:
    return isinstance(value, dict) and bool(value)


def _mode_in(search: Any) -> TypeGuard[dict[str, Any]]:
    """Whether a stored ``search`` entry names a default mode (else none was chosen)."""
    return isinstance(search, dict) and bool(search.get("default_mode"))


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


# -- upgrades -----------------------------------------------------------------------------------

Step = Callable[[dict[str, Any]], None]
_STEPS: list[Step] = []


def _step(fn: Step) -> Step:
    """A step of ``upgrade``: the n-th registered takes version n to n + 1."""
    _STEPS.append(fn)
    return fn


@_step
def m001_model_options(data: dict[str, Any]) -> None:
    """Collections made before ``backend`` and ``long_text`` were chosen hold fp32 torch
    vectors of texts truncated at the model's window."""
    model = data.get("model")
    if not isinstance(model, dict):
        return
    if not model.get("backend"):
        model["backend"] = DEFAULT_BACKEND
    if not model.get("long_text"):
        model["long_text"] = DEFAULT_LONG_TEXT


@_step
def m002_layout(data: dict[str, Any]) -> None:
    """Collections made before ``quantization`` hold float32 vectors in RAM; the
    dimension is the model's where the store recorded none."""
    if not data.get("quantization"):
        data["quantization"] = "none"
    data["on_disk"] = bool(data.get("on_disk"))
    if not data.get("dimension"):
        model = data.get("model")
        if isinstance(model, dict) and model.get("dimension"):
            data["dimension"] = model["dimension"]


@_step
def m003_vectors(data: dict[str, Any]) -> None:
    """Collections made before keyword-only ones hold one unnamed dense vector."""
    vectors = data.get("vectors")
    if not isinstance(vectors, dict):
        data["vectors"] = vectors = {}
    vectors.setdefault("dense", "")


def steps() -> list[Step]:
    """The upgrade steps, in order (step n takes version n to n + 1)."""
    return list(_STEPS)


def upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A copy of a stored manifest brought to ``MANIFEST_VERSION`` by the steps it lacks.

    A manifest without a version is version 1; one of a newer version than this
    module knows is refused (``StoreError``): its meaning may have changed."""
    version = data.get("manifest_version") or 1
    try:
        version = int(version)
    except (TypeError, ValueError):
        raise ValueError(f"manifest_version {version!r} is not a number") from None
    name = data.get("collection") or "?"
    if version > MANIFEST_VERSION:
        raise StoreError(
            f"collection '{name}' was written by a newer patentsim (manifest version "
            f"{version}; this one reads up to {MANIFEST_VERSION})",
            "upgrade patentsim to use it",
        )
    out = json.loads(json.dumps(data))  # a deep copy: the caller's dict stays as it was
    for step in _STEPS[version - 1 :]:
        step(out)
    out["manifest_version"] = MANIFEST_VERSION
    return out


# -- checks -------------------------------------------------------------------------------------

Use = Literal["load", "copy", "query"]


def check_model(
    stored: ModelRecord,
    model: ModelRecord,
    collection: str,
    *,
    use: Use = "load",
    fallback_from: str | None = None,
) -> None:
    """The one check of a model against a collection's: mixing the vectors of two
    models (or dimensions, engines, long-text modes) is refused.

    ``use``: "load" (an ingest adding to the collection: ``model`` is what it would
    embed with, ``fallback_from`` the model asked for where the offline one stands in),
    "copy" (a collection copied into it), "query" (a query model: a fingerprint ""
    or a dimension None is not known yet, and not compared).
    """
    if use == "query":
        prints = stored.fingerprint and model.fingerprint
        dimensions = stored.dimension and model.dimension
        if (prints and model.fingerprint != stored.fingerprint) or (
            dimensions and model.dimension != stored.dimension
        ):
            raise _query_mismatch(collection, stored, model.name, model.fingerprint)
        return
    if use == "load":
        if fallback_from and stored.name != model.name:
            raise ModelUnavailable(
                f"collection '{collection}' was built with model '{stored.name}', which is "
                "not cached here, and the Hugging Face Hub cannot be reached",
                f"run once with network access to cache it, or {setting('recreate')} to "
                "rebuild the collection with the offline model",
            )
        for option, was, have in (
            ("backend", stored.backend, model.backend),
            ("long_text", stored.long_text, model.long_text),
        ):
            if was != have and stored.name == model.name:
                raise ModelMismatch(
                    f"collection '{collection}' was embedded with {setting(option)} {was}, "
                    f"not {have}",
                    f"use {setting(option)} {was}, or {setting('recreate')}, or another "
                    f"{setting('collection')}",
                )
    dimension = model.dimension if model.dimension is not None else stored.dimension
    if stored.dimension != dimension:
        raise ModelMismatch(
            f"collection '{collection}' holds {stored.dimension}-d vectors of model "
            f"'{stored.name}', but model '{model.name}' makes {dimension}-d vectors",
            _use_model(stored),
        )
    if stored.fingerprint != model.fingerprint or stored.name != model.name:
        raise ModelMismatch(
            f"collection '{collection}' was built with model '{stored.name}', not '{model.name}'",
            _use_model(stored),
        )


def _query_mismatch(collection: str, stored: ModelRecord, name: str, found: str) -> ModelMismatch:
    """A query model whose vectors are not the collection's."""
    return ModelMismatch(
        f"collection '{collection}' was built with model '{stored.name}' "
        f"(fingerprint {stored.fingerprint}), but the query model '{name}' has "
        f"fingerprint {found}",
        f"query with the collection's own model ({setting('model')} {stored.name} or its "
        "folder), or re-ingest the collection with this model",
    )


def _use_model(stored: ModelRecord) -> str:
    return (
        f"use {setting('model')} {stored.name}, or {setting('recreate')}, "
        f"or another {setting('collection')}"
    )


def check_layout(manifest: Manifest, quantization: str | None, collection: str) -> None:
    """Refuse a ``quantization`` that differs from the existing collection's."""
    stored = manifest.layout.quantization
    if quantization is not None and quantization != stored:
        raise LayoutMismatch(
            f"collection '{collection}' is stored with quantization {stored}, not {quantization}: "
            f"{setting('quantization')} applies to new collections",
            f"use {setting('quantization')} {stored} (or leave it out), or {setting('recreate')}, "
            f"or 'ingest copy' with {setting('quantization')} {quantization} into a new "
            "collection (nothing is embedded again)",
        )


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so that a crash leaves either the old file or the new one."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


__all__ = [
    "DEFAULT_BACKEND",
    "DEFAULT_LONG_TEXT",
    "LAYOUT_KEYS",
    "MANIFEST_VERSION",
    "CopiedFrom",
    "FieldSpec",
    "KeywordSpec",
    "Layout",
    "Manifest",
    "ModelRecord",
    "SearchDefaults",
    "SourceEntry",
    "check_layout",
    "check_model",
    "now",
    "upgrade",
]
