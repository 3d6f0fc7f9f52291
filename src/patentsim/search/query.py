"""Queries on a collection: documents like one of its documents, like a text, counts per value.

The three functions are the Python twins of the ``search`` commands and use the
same words as their options::

    like(ref, limit=10, offset=0, where=[...], filter_json=..., min_score=...,
         prior_art=False, date_field=None, group_by=None, key=False, collection=None)
    text(query, limit=10, ..., model=None, device="auto")
    facets(field, where=[...], limit=10)

Each opens the collection, asks one question and closes it again at once (the
embedded store lets one process use a collection at a time).  A program that asks
many questions passes its own ``store=open_store(settings)`` instead, keeps the
collection open between them (opening an embedded collection costs 0.1–0.4 s) and
closes the store itself.  ``like`` uses
the stored vector of the query document: no model is loaded, and nothing heavier
than the embedded engine is imported.  ``text`` embeds the query with the
collection's own model, refusing any other (``ModelMismatch``).

``group_by``: at most one hit per value of the field, the best-scoring one;
documents without the field form one group.  For a list field (IPC codes) the
value is the list's *first* element, the main classification.
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..embed.retrieval import FUSIONS, MODES, Retrieval
from ..store import StoreSettings, open_store, pick_collection
from ..store.backend import (
    Collection,
    Fused,
    ScoredHit,
    SparseVector,
    Store,
    StoredPoint,
    dense_vector_name,
)
from ..store.errors import (
    BadFilter,
    DocumentNotFound,
    ModelMismatch,
    ModelUnavailable,
    PatentSimError,
    UserInputError,
    setting,
)
from ..store.filters import (
    Condition,
    Empty,
    Filter,
    Match,
    Range,
    all_of,
    filter_from_json,
    keys_in,
)
from ..store.ids import point_id
from ..store.payload import RESERVED, title_like
from .refs import ambiguous, parse_reference
from .where import FieldInfo, fields_of, resolve_field, where_filter

if TYPE_CHECKING:
    import pandas as pd

    from ..embed.embedder import Embedder

FACET_TYPES = ("keyword", "integer", "bool")
# Group-by fields that a filter can exclude by value (see _grouped).
_MATCHABLE = ("keyword", "text", "integer", "bool")


# -- results ----------------------------------------------------------------------------------


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

    def to_dict(self) -> dict[str, Any]:
        out = {
            "rank": self.rank,
            "score": round(self.score, 6),
            "key": self.key,
            "row": self.row,
            "payload": self.payload,
        }
        if self.shared_terms is not None:
            from .explain import SHOWN

            out["shared_terms"] = [
                {"term": t.term, "word": t.word, "weight": round(t.weight, 6)}
                for t in self.shared_terms[:SHOWN]
            ]
        return out


@dataclass
class QueryDocument:
    """The document a ``like`` search started from."""

    key: str
    row: int | None
    title: str | None
    date: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    file: str | None = None  # the file of its row, in a collection of several files


@dataclass
class Results:
    collection: str
    hits: list[Hit]
    query: QueryDocument | None = None
    title_field: str | None = None
    date_field: str | None = None
    fields: list[str] = field(default_factory=list)  # payload fields, in the manifest's order
    types: dict[str, str] = field(default_factory=dict)  # field -> type
    filtered: bool = False
    prior_art_field: str | None = None
    prior_art_before: str | None = None
    mode: str = "dense"  # the mode that answered: dense, keyword or hybrid
    mode_detail: str = "dense"  # with the fusion and its weights, for people

    def to_pandas(self) -> pd.DataFrame:
        """The hits as a DataFrame for notebooks: rank, score, key, row, then the payload
        fields in the manifest's order; date fields as UTC timestamps, list fields as lists.
        pandas is imported here only, so searching stays light."""
        import pandas as pd

        columns = ["rank", "score", "key", "row", *self.fields]
        extra = sorted(
            {k for h in self.hits for k in h.payload if not _is_terms(k)}
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
    value: Any
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count}


@dataclass
class Facets:
    collection: str
    field: str
    counts: list[FacetCount]
    total: int  # documents that match the filter
    filtered: bool = False


class QueryEmbedder(Protocol):
    """What a query needs of a model (the real embedders, the test fakes, eval's cache)."""

    name: str
    fingerprint: str
    dimension: int

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any: ...


class IncompleteCollection(UserWarning):
    """The collection's last ingest has not finished (it runs now, or it was killed)."""


# -- opening a collection -------------------------------------------------------------------------


@dataclass
class _Opened:
    name: str
    coll: Collection
    manifest: dict[str, Any]
    fields: dict[str, FieldInfo]

    def analyze(self, text: str) -> list[str]:
        """The collection's analyzer (none for collections made before keyword search)."""
        from ..embed.analyzer import Analyzer

        spec = self.manifest.get("keyword") or {}
        return Analyzer.from_info(spec.get("analyzer")).terms(text)

    def has_keyword(self) -> bool:
        return bool(self.manifest.get("keyword"))

    def sample(self, key: str) -> Any:
        """One stored value of ``key`` (for examples in error messages)."""
        flt = Filter(must_not=(Empty(key),))
        for point in islice(self.coll.scroll(flt=flt, with_payload=[key], batch=1), 1):
            return point.payload.get(key)
        return None


@contextmanager
def _open(
    settings: StoreSettings | None, collection: str | None, store: Store | None = None
) -> Iterator[_Opened]:
    """The collection, opened for one question and closed after it (unless ``store`` is
    the caller's: then the caller closes it)."""
    own = store is None
    current = store or open_store(settings or StoreSettings.resolve())
    try:
        name = pick_collection(current, collection)
        coll = current.open(name)
        manifest = coll.read_manifest()
        state = manifest.get("state")
        if state not in (None, "ready"):
            warnings.warn(
                f"collection '{name}' is not fully loaded (state: {state}): results may miss "
                "documents; run the same 'ingest load' again to finish it",
                IncompleteCollection,
                stacklevel=3,
            )
        yield _Opened(name, coll, manifest, fields_of(manifest))
    finally:
        if own:
            current.close()


# -- filters ------------------------------------------------------------------------------------


def build_filter(
    opened: _Opened, where: Sequence[str], filter_json: str | dict[str, Any] | Filter | None
) -> Filter | None:
    """``--where`` expressions and a raw ``--filter-json`` filter, ANDed."""
    analyze = opened.analyze if opened.has_keyword() else None
    flt = where_filter(where, opened.fields, sample=opened.sample, analyze=analyze)
    return all_of(flt, _raw_filter(filter_json, opened.fields))


def _raw_filter(
    raw: str | dict[str, Any] | Filter | None, fields: dict[str, FieldInfo]
) -> Filter | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, Filter):
        return raw
    obj: Any = raw
    if isinstance(raw, str):
        text = raw
        if raw.startswith("@"):
            try:
                text = Path(raw[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise BadFilter(
                    f"--filter-json {raw}: cannot read the file ({exc.strerror})"
                ) from exc
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise BadFilter(
                f"--filter-json is not valid JSON: {exc}",
                'e.g. --filter-json \'{"must": [{"key": "country", "match": {"value": "KR"}}]}\'',
            ) from exc
    flt = filter_from_json(obj)
    for key in keys_in(flt):
        top = re.split(r"[.\[]", key, maxsplit=1)[0]
        if top not in fields and top != "_hash" and not _is_terms(key):
            listing = ", ".join(f for f in fields if not f.startswith("_"))
            raise BadFilter(f"--filter-json: unknown field '{key}'", f"fields: {listing}")
    return flt


# -- like --------------------------------------------------------------------------------------


def like(
    ref: int | str,
    *,
    limit: int = 10,
    offset: int = 0,
    where: Sequence[str] = (),
    filter_json: str | dict[str, Any] | Filter | None = None,
    min_score: float | None = None,
    prior_art: bool = False,
    date_field: str | None = None,
    group_by: str | None = None,
    key: bool = False,
    mode: str | None = None,
    explain: bool = False,
    collection: str | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
    file: str | None = None,
) -> Results:
    """The documents most similar to one of the collection's documents, itself left out.

    ``ref`` is a row number (0-based, as pandas numbers rows), ``FILE:ROW``, or a document
    key; a number that is no row is tried as a key.  ``key=True`` reads it as a key only;
    ``file``: the file whose row ``ref`` is (a bare row that several files hold is an
    ``AmbiguousReference``).  ``mode``:
    dense, keyword or hybrid (default: the collection's default mode); the document's own
    stored vectors are the query either way.  ``explain``: each hit's ``shared_terms``
    (``patentsim.search.explain``).
    """
    _check_page(limit, offset)
    _check_mode(mode)
    with _open(settings, collection, store) as opened:
        retrieval = _retrieval(opened, mode)
        group = _group_field(opened, group_by)
        flt = build_filter(opened, where, filter_json)
        point = _find(opened, ref, key_only=key, file=file)
        if point.vector is None and retrieval.mode != "keyword":
            raise PatentSimError(f"document '{ref}' in '{opened.name}' has no stored vector")
        query = _query_document(opened, point)
        before = dfield = None
        if prior_art:
            dfield = _date_field(opened, date_field)
            before = point.payload.get(dfield)
            if not isinstance(before, str):
                raise DocumentNotFound(
                    f"document {_describe(query)} has no '{dfield}', so it has no prior art",
                    "choose another date field with --date-field, or leave out --prior-art",
                )
            flt = all_of(flt, Range(dfield, lt=before, datetime=True))
        hits = _search(
            _runner(opened, retrieval, point.vector, point.sparse or SparseVector((), ())),
            flt,
            limit=limit,
            offset=offset,
            min_score=min_score,
            group=group,
            exclude=point.id,
        )
        results = _results(opened, hits, offset, query=query, filtered=flt is not None)
        results.prior_art_field, results.prior_art_before = dfield, before
        _answered(results, retrieval)
        if explain:
            from .explain import attach

            attach(opened, results, query=point)
        return results


def _check_mode(mode: str | None) -> None:
    if mode is not None and mode not in MODES:
        raise UserInputError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")


def _retrieval(opened: _Opened, mode: str | None) -> Retrieval:
    """The mode asked for, or the collection's default; keyword needs keyword vectors."""
    _check_mode(mode)
    chosen = Retrieval.from_manifest(opened.manifest).with_mode(mode)
    if chosen.fusion not in FUSIONS:
        chosen = Retrieval(chosen.mode, "rrf", chosen.weights)
    if dense_vector_name(opened.manifest) is None:
        if mode in ("dense", "hybrid"):
            raise UserInputError(
                f"collection '{opened.name}' has no dense vectors (it was loaded keyword-only), "
                f"so {setting('mode')} {mode} cannot answer",
                "load it again with a model (ingest load FILE --model NAME) to add them, or "
                f"use {setting('mode')} keyword",
            )
        return Retrieval("keyword", chosen.fusion, chosen.weights)
    if chosen.mode != "dense" and not opened.has_keyword():
        if mode is None:
            return Retrieval("dense")
        raise UserInputError(
            f"collection '{opened.name}' has no keyword vectors yet (it was built before "
            "keyword search)",
            "run the same 'ingest load' again to add them (no text is embedded again), "
            "or use --mode dense",
        )
    return chosen


def _answered(results: Results, retrieval: Retrieval) -> None:
    results.mode = retrieval.mode
    results.mode_detail = retrieval.describe()


Runner = Any  # (limit, offset, flt, min_score) -> list[ScoredHit]


def _runner(
    opened: _Opened,
    retrieval: Retrieval,
    dense: Sequence[float] | None,
    sparse: SparseVector,
    depth: int = 100,
    *,
    free_text: bool = False,
) -> Runner:
    """One ranked query in the chosen mode, as a function of the page and the filter;
    ``free_text``: the dense vector is an embedded text, not a stored point."""
    coll = opened.coll
    if retrieval.mode == "keyword":

        def keyword(limit: int, offset: int, flt: Filter | None, min_score: float | None) -> Any:
            return coll.query_sparse(
                sparse, limit=limit, offset=offset, flt=flt, score_threshold=min_score
            )

        return keyword
    if dense is None:
        raise PatentSimError(f"collection '{opened.name}': the query has no dense vector")
    if retrieval.mode == "hybrid":
        fused = Fused(dense, sparse, retrieval.fusion, retrieval.weights, depth)

        def hybrid(limit: int, offset: int, flt: Filter | None, min_score: float | None) -> Any:
            return coll.query_fused(
                fused,
                limit=limit,
                offset=offset,
                flt=flt,
                score_threshold=min_score,
                free_text=free_text,
            )

        return hybrid

    def nearest(limit: int, offset: int, flt: Filter | None, min_score: float | None) -> Any:
        return coll.query(
            dense,
            limit=limit,
            offset=offset,
            flt=flt,
            score_threshold=min_score,
            free_text=free_text,
        )

    return nearest


def _check_page(limit: int, offset: int) -> None:
    if limit < 1:
        raise UserInputError(f"--limit must be at least 1, not {limit}")
    if offset < 0:
        raise UserInputError(f"--offset must be 0 or more, not {offset}")


def _find(
    opened: _Opened, ref: int | str, *, key_only: bool, file: str | None = None
) -> StoredPoint:
    """The point a reference names (``refs.parse_reference``): a row number (of ``file``, or
    written ``FILE:ROW``) first, then a key."""
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
    sources = opened.manifest.get("sources") or {}
    if wanted.row is not None:
        for name, entry in sources.items():
            if wanted.file not in (None, name):
                continue
            if wanted.row in (entry.get("skipped") or ()):
                raise DocumentNotFound(
                    f"row {wanted.row} of {name} is not in collection '{opened.name}': ingest "
                    "skipped it because its text was empty",
                    "give another row, or fill in its text and load the file again",
                )
        if wanted.file and (wanted.file in sources or not wanted.file_row):
            entry = sources.get(wanted.file) or {}
            raise DocumentNotFound(
                f"no row {wanted.row} of file '{wanted.file}' in collection '{opened.name}'"
                + (f" (it has {entry['rows']:,} rows)" if entry.get("rows") else ""),
                "files of this collection: " + (", ".join(sorted(sources)) or "none named"),
            )
    count = opened.coll.count()
    rows = ((opened.manifest.get("source") or {}).get("rows")) or count
    what = f"key '{text}'" if key_only else f"row number or key '{text}'"
    by = opened.manifest.get("id_column")
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
        + "or a key (--key reads a number as a key)",
    )


def _find_row(opened: _Opened, row: int, file: str | None) -> StoredPoint | None:
    """The document of a row (of ``file``); ``AmbiguousReference`` for a bare row that
    several files hold."""
    must: list[Condition] = [Match("_row", (row,))]
    if file:
        must.append(Match("_file", (file,)))
    flt = Filter(must=tuple(must))
    hits = list(islice(opened.coll.scroll(flt=flt, with_payload=["_file"]), 50))
    if not hits:
        return None
    files = {str(p.payload.get("_file") or "") for p in hits}
    if file is None and len(files) > 1:
        raise ambiguous(row, [f or "(no file name)" for f in files], opened.name)
    found = opened.coll.retrieve([hits[0].id], with_vectors=True)
    return found[0] if found else None


def _query_document(opened: _Opened, point: StoredPoint) -> QueryDocument:
    payload = point.payload
    title_field = _title_field(opened)
    date_field = opened.manifest.get("date_field")
    title = payload.get(title_field) if title_field else None
    date = payload.get(date_field) if date_field else None
    row = payload.get("_row")
    return QueryDocument(
        key=str(payload.get("_key", point.id)),
        row=row if isinstance(row, int) else None,
        title=str(title) if title is not None else None,
        date=str(date) if date is not None else None,
        payload=_public(payload),
        file=str(payload["_file"])
        if len(opened.manifest.get("sources") or {}) > 1 and payload.get("_file")
        else None,
    )


def _describe(doc: QueryDocument) -> str:
    return f"'{doc.key}' (row {doc.row})"


def _date_field(opened: _Opened, name: str | None) -> str:
    if name is None:
        name = opened.manifest.get("date_field")
        if not name:
            raise UserInputError(
                f"collection '{opened.name}' has no date field for --prior-art",
                "name one with --date-field",
            )
    info = resolve_field(name, opened.fields)
    if info.type != "datetime":
        dates = [f for f, i in opened.fields.items() if i.type == "datetime"]
        raise UserInputError(
            f"--date-field '{info.name}' is a {info.type} field, not a date",
            "date fields: " + (", ".join(dates) if dates else "none in this collection"),
        )
    return info.name


def _group_field(opened: _Opened, name: str | None) -> FieldInfo | None:
    if name is None:
        return None
    try:
        return resolve_field(name, opened.fields)
    except BadFilter as exc:
        raise UserInputError(f"--group-by: {exc.message}", exc.hint) from None


# -- text ---------------------------------------------------------------------------------------

_EMBEDDERS: dict[tuple[str, str, str, str], Any] = {}


def text(
    query: str,
    *,
    limit: int = 10,
    offset: int = 0,
    where: Sequence[str] = (),
    filter_json: str | dict[str, Any] | Filter | None = None,
    min_score: float | None = None,
    group_by: str | None = None,
    mode: str | None = None,
    explain: bool = False,
    collection: str | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
    model: str | None = None,
    device: str = "auto",
    embedder: Embedder | None = None,
) -> Results:
    """The documents most similar to a text, embedded with the collection's own model.

    ``model`` names where to load that model from (a folder, a hub name) when the
    manifest's name does not resolve here; its fingerprint must still match.
    ``embedder`` passes an already loaded model (it is checked the same way).
    ``mode`` keyword needs no model: the text's analyzed terms are the query.
    ``explain``: each hit's ``shared_terms`` with the text (``patentsim.search.explain``).
    """
    _check_page(limit, offset)
    _check_mode(mode)
    if not query.strip():
        raise UserInputError(
            "the query text is empty", 'e.g. search text "battery thermal management"'
        )
    with _open(settings, collection, store) as opened:
        if _retrieval(opened, mode).mode == "keyword":
            return _text_search(
                opened,
                None,
                query,
                where,
                filter_json,
                limit,
                offset,
                min_score,
                group_by,
                mode,
                explain,
            )
        name = opened.name
        stored = dict(opened.manifest.get("model") or {})
        model_name = model or str(stored.get("name") or "")
        modes = (str(stored.get("backend") or "torch"), str(stored.get("long_text") or "truncate"))
        emb = embedder or _EMBEDDERS.get((model_name, device, *modes))
        if emb is not None:
            return _text_search(
                opened,
                emb,
                query,
                where,
                filter_json,
                limit,
                offset,
                min_score,
                group_by,
                mode,
                explain,
            )
        build_filter(opened, where, filter_json)  # bad filters fail before a model loads
        _group_field(opened, group_by)
    # The collection is closed while the model loads (seconds): other processes may use it.
    try:
        emb = _load_embedder(model_name, stored, device, name)
    except ModelUnavailable as exc:
        if not model or model == stored.get("name"):
            raise
        # Another name than the collection's: the mismatch is the news, not the cache.
        raise ModelMismatch(
            f"collection '{name}' was built with model '{stored.get('name')}', and --model "
            f"{model} names another one (which cannot be loaded here either: {exc.message})",
            f"leave out --model to query with '{stored.get('name')}', or give --model a "
            "folder holding that model",
        ) from exc
    with _open(settings, name, store) as opened:
        return _text_search(
            opened,
            emb,
            query,
            where,
            filter_json,
            limit,
            offset,
            min_score,
            group_by,
            mode,
            explain,
        )


def _text_search(
    opened: _Opened,
    emb: QueryEmbedder | None,
    query: str,
    where: Sequence[str],
    filter_json: str | dict[str, Any] | Filter | None,
    limit: int,
    offset: int,
    min_score: float | None,
    group_by: str | None,
    mode: str | None = None,
    explain: bool = False,
) -> Results:
    retrieval = _retrieval(opened, mode)
    flt = build_filter(opened, where, filter_json)
    group = _group_field(opened, group_by)
    hits = _search(
        text_runner(opened, retrieval, emb, query),
        flt,
        limit=limit,
        offset=offset,
        min_score=min_score,
        group=group,
        exclude=None,
    )
    results = _results(opened, hits, offset, filtered=flt is not None)
    _answered(results, retrieval)
    if explain:
        from .explain import attach

        attach(opened, results, text=query)
    return results


def text_runner(
    opened: _Opened, retrieval: Retrieval, emb: QueryEmbedder | None, query: str
) -> Runner:
    """The ranked query for a text: its analyzed terms, its embedding, or both."""
    from ..embed.sparse import query_vector

    sparse = SparseVector((), ())
    if retrieval.mode != "dense":
        sparse = query_vector(list(dict.fromkeys(opened.analyze(query))))
        if not sparse:
            raise UserInputError(
                f"the query {query!r} has no searchable words for keyword search (stop words, "
                "particles and endings are left out)",
                "add content words, or use --mode dense",
            )
    vector = None
    if retrieval.mode != "keyword":
        assert emb is not None
        _check_embedder(emb, dict(opened.manifest.get("model") or {}), opened.name)
        vector = [float(x) for x in emb.encode([query], query=True)[0]]
    return _runner(opened, retrieval, vector, sparse, free_text=True)


def _load_embedder(name: str, stored: dict[str, Any], device: str, collection: str) -> Any:
    """The collection's model for queries: torch-free where it can be (``load_for_queries``)."""
    from ..embed.embedder import EmbedderConfig

    if not name:
        raise PatentSimError(f"the manifest of '{collection}' names no model")
    config = EmbedderConfig.choose(name, device=device, stored=stored, allow_fallback=False)
    if config.model.local and stored.get("fingerprint"):
        # The same model files read the same way (engine, long-text mode) as at ingest.
        found = config.fingerprint()
        if found != stored["fingerprint"]:
            raise _mismatch(collection, stored, config.model.name, found)
    cache_key = (config.model.source, device, config.engine, config.long_text)
    emb = _EMBEDDERS.get(cache_key) or config.load_for_queries()
    # Kept for the process's later queries, under the name asked for and under its folder.
    _EMBEDDERS[cache_key] = _EMBEDDERS[(name, device, config.backend, config.long_text)] = emb
    return emb


def _check_embedder(emb: QueryEmbedder, stored: dict[str, Any], collection: str) -> None:
    same_print = not stored.get("fingerprint") or emb.fingerprint == stored.get("fingerprint")
    if not same_print or int(emb.dimension) != int(stored.get("dimension") or emb.dimension):
        raise _mismatch(collection, stored, emb.name, emb.fingerprint)


def _mismatch(collection: str, stored: dict[str, Any], name: str, found: str) -> ModelMismatch:
    return ModelMismatch(
        f"collection '{collection}' was built with model '{stored.get('name')}' "
        f"(fingerprint {stored.get('fingerprint')}), but the query model '{name}' has "
        f"fingerprint {found}",
        f"query with the collection's own model (--model {stored.get('name')} or its folder), "
        "or re-ingest the collection with this model",
    )


# -- searching ----------------------------------------------------------------------------------


def _search(
    run: Runner,
    flt: Filter | None,
    *,
    limit: int,
    offset: int,
    min_score: float | None,
    group: FieldInfo | None,
    exclude: str | None,
) -> list[ScoredHit]:
    if group is not None:
        return _grouped(run, flt, limit, offset, min_score, group, exclude)
    # Leaving the query document out by id after the fact keeps an unfiltered query on
    # the (fast) HNSW path; a must_not filter would make it an exact search.  Filtered
    # queries: the embedded backend answers them exactly (its filtered HNSW search missed
    # matches: recall@10 0.76 with an any-of filter on a list field at 100k points); a
    # server plans them with its payload indexes, as it must at millions of points.
    extra = 1 if exclude else 0
    hits = run(offset + limit + extra, 0, flt, min_score)
    hits = [h for h in hits if h.id != exclude]
    return hits[offset : offset + limit]


def group_value(payload: dict[str, Any], name: str) -> Any:
    """The value a hit is grouped by: the field's value, a list's first element, or None."""
    value = payload.get(name)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _grouped(
    run: Runner,
    flt: Filter | None,
    limit: int,
    offset: int,
    min_score: float | None,
    group: FieldInfo,
    exclude: str | None,
) -> list[ScoredHit]:
    """At most one hit per group, the best; groups in the order of their best hits.

    For a scalar field each round filters out the groups already seen, so every round
    finds at least one new group.  List fields (grouped by their first element) and
    fields a match cannot select (floats, dates) are paged through instead.
    """
    want = offset + limit
    kept: list[ScoredHit] = []
    seen: set[Any] = set()
    by_filter = group.type in _MATCHABLE and not group.list and not group.mixed
    page = max(32, 4 * want)
    start = 0
    while len(kept) < want:
        extra: Filter | None = None
        if by_filter and seen:
            values = tuple(v for v in seen if v is not None)
            parts: list[Condition] = [Match(group.name, values)] if values else []
            if None in seen:
                parts.append(Empty(group.name))
            extra = Filter(must_not=tuple(parts))
        round_filter = all_of(flt, extra)
        hits = run(page, start, round_filter, min_score)
        for hit in hits:
            if hit.id == exclude:
                continue
            value = _hashable(group_value(hit.payload, group.name))
            if value in seen:
                continue
            seen.add(value)
            kept.append(hit)
            if len(kept) >= want:
                break
        if len(hits) < page:
            break
        if by_filter:
            start = 0
        else:
            start += page
        page = min(page * 2, 4096)
    return kept[offset:want]


def _hashable(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def _results(
    opened: _Opened,
    hits: list[ScoredHit],
    offset: int,
    *,
    query: QueryDocument | None = None,
    filtered: bool = False,
) -> Results:
    out = []
    for i, h in enumerate(hits):
        row = h.payload.get("_row")
        out.append(
            Hit(
                rank=offset + i + 1,
                score=float(h.score),
                key=str(h.payload.get("_key", h.id)),
                row=row if isinstance(row, int) else None,
                payload=_public(h.payload),
            )
        )
    return Results(
        collection=opened.name,
        hits=out,
        query=query,
        title_field=_title_field(opened),
        date_field=opened.manifest.get("date_field"),
        fields=[f for f in opened.fields if not f.startswith("_")],
        types={f: i.type for f, i in opened.fields.items() if not f.startswith("_")},
        filtered=filtered,
    )


def _public(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in RESERVED and not _is_terms(k)}


def _is_terms(key: str) -> bool:
    """A field of analyzed terms (``_terms_abstract``: ingest/keyword.py)."""
    return key.startswith("_terms_")


def _title_field(opened: _Opened) -> str | None:
    title = opened.manifest.get("title_field")
    if title:
        return str(title)
    text_columns = set(opened.manifest.get("text_columns") or [])
    found = title_like(opened.fields)
    if found:
        return found
    for name, info in opened.fields.items():
        if (
            info.type in ("text", "keyword")
            and name not in text_columns
            and not name.startswith("_")
        ):
            return name
    return None


# -- facets -------------------------------------------------------------------------------------


def facets(
    field: str,
    *,
    where: Sequence[str] = (),
    filter_json: str | dict[str, Any] | Filter | None = None,
    limit: int = 10,
    collection: str | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
) -> Facets:
    """How many documents hold each value of a field (list fields: each element), most first."""
    if limit < 1:
        raise UserInputError(f"--limit must be at least 1, not {limit}")
    with _open(settings, collection, store) as opened:
        try:
            info = resolve_field(field, opened.fields)
        except BadFilter as exc:
            raise UserInputError(f"facets: {exc.message}", exc.hint) from None
        # _file counts documents per source file; the other reserved fields are one per document.
        if info.type not in FACET_TYPES or (info.name.startswith("_") and info.name != "_file"):
            usable = [
                f
                for f, i in opened.fields.items()
                if i.type in FACET_TYPES and not f.startswith("_")
            ]
            raise UserInputError(
                f"facets count the values of keyword, integer and boolean fields; "
                f"'{info.name}' is a {info.type} field",
                "fields to count: "
                + (", ".join(usable) if usable else "none in this collection")
                + (f"; for ranges of '{info.name}' use --where" if info.type != "text" else ""),
            )
        flt = build_filter(opened, where, filter_json)
        counts = opened.coll.facet(info.name, flt=flt, limit=limit)
        total = opened.coll.count(flt)
        return Facets(
            collection=opened.name,
            field=info.name,
            counts=[FacetCount(v, int(n)) for v, n in counts],
            total=total,
            filtered=flt is not None,
        )
