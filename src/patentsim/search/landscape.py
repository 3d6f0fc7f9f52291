"""The landscape map: every document of a collection as a point in 2-D, coloured by a field.

The Python API (the page's map panel and ``search map`` call the same function)::

    from patentsim.search.landscape import landscape

    result = landscape(color="ipc", collection="demo")     # or store=an open store
    result.method, result.description   # "pca", "PCA of the 384-d dense vectors ..."
    for p in result.points:              # one MapPoint per document, sorted by point id
        p.id, p.key, p.row, p.title, p.x, p.y, p.color, p.cluster
    result.legend                        # [LegendEntry(value, count), ...] most frequent first
    result.category(p)                   # p.color, or "other" beyond the legend
    result.to_dict()                     # JSON for the web API

    landscape(method="pca" | "umap" | "auto", color="cluster", k=12, refresh=True, ...)

    # only the documents a filter selects (the filter of like/text/facets):
    result = landscape(color="ipc", options=QueryOptions(where=("applicant=삼성전자",)))
    len(result.points), result.total     # the documents drawn, of the collection's

What the map is made of: the dense vectors stored in the collection (nothing is
embedded again), projected to 2-D.  ``auto`` uses UMAP (cosine neighbours, seeded)
where ``umap-learn`` is installed (``pip install 'patentsim[umap]'``), PCA
(scikit-learn) otherwise; UMAP first reduces the vectors to 50 dimensions with PCA.
A collection without dense vectors (keyword only) is mapped from its keyword
vectors (BM25 × IDF, rows normalised), reduced with TruncatedSVD.  The result says
which (``method``, ``source``, ``description``).

Colouring (``color``): any field; a list field by its first element (the main
classification), cut to the subclass (``H01L 21/67`` → ``H01L``) when it holds
IPC/CPC codes; a date field by year; ``year`` names the collection's date field,
``file`` the source file (``_file``), ``cluster`` the topic cluster
(``patentsim.search.clusters``).

Computed once per collection state and cached on disk: for the embedded store in
``<store>/<collection>/analysis/`` (beside the Qdrant shard, never inside it, and
dropped with the collection), for a server under the patentsim cache folder
(``PATENTSIM_CACHE``).  The cache is keyed by the manifest's timestamps and the
point count; when those change (an ``ingest load``), the documents' ids and content
hashes are read again, and the projection is computed anew only when they changed.

A filter (``options``: the ``where`` conditions and ``filter_json`` of a
``QueryOptions``) selects which documents are drawn, never where: the subset keeps
the positions of the whole collection's cached projection, so a point stays where
the analyst saw it on the whole map, a subset of any size (one document too) can be
drawn, and the cache holds one projection per collection state whatever the filters.
Colours and the legend count the drawn documents; clusters stay those of the whole
collection (a label sits at the median of its drawn documents).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..columns import CLASSIFICATION
from ..dates import year_of
from ..errors import BadFilter, PatentSimError, UserInputError, setting
from ..store import StoreSettings
from ..store.backend import Store
from .collection import OpenCollection
from .options import QueryOptions
from .query_filter import build_filter
from .session import Session
from .where import FieldInfo, resolve_field

if TYPE_CHECKING:
    import numpy as np

METHODS = ("auto", "umap", "pca")
CACHE_VERSION = 2  # 2: cluster labels leave out the language of patents
LEGEND_MAX = 12  # colours a reader can tell apart; the rest are "other"
OTHER = "other"
NONE = "(none)"
# UMAP's neighbour graph is built on this many PCA dimensions (faster, and what UMAP's
# authors advise for high-dimensional inputs); the keyword map's SVD keeps as many.
REDUCED_DIMS = 50
# Below this many documents UMAP has too few neighbours to be meaningful: PCA.
UMAP_MIN_POINTS = 30
UMAP_NEIGHBOURS = 15
UMAP_EPOCHS = 200  # UMAP's own choice above 10,000 points; also below (half the time)
# Above this many documents UMAP lays out a seeded sample of this many, and every other
# document goes among its nearest sampled ones: 100,000 documents in minutes, not tens.
UMAP_SAMPLE = 20_000
SEED = 42
ProgressFn = Callable[[str], None]


class NoMap(PatentSimError):
    """The collection has nothing a map can be made of."""


# -- results -----------------------------------------------------------------------------------


@dataclass
class MapPoint:
    """One document on the map."""

    id: str
    key: str
    row: int | None
    title: str | None
    x: float
    y: float
    color: str | None = None  # the colouring value (subclass, year, applicant, ...)
    cluster: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "row": self.row,
            "title": self.title,
            "x": round(self.x, 5),
            "y": round(self.y, 5),
            "color": self.color,
            "cluster": self.cluster,
        }


@dataclass
class LegendEntry:
    value: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count}


@dataclass
class Landscape:
    collection: str
    points: list[MapPoint]
    method: str  # "umap", "pca" or "svd"
    source: str  # "dense" or "keyword": the vectors the map was made of
    description: str  # one sentence for people: the method and what it ran on
    color_field: str | None = None
    legend: list[LegendEntry] = field(default_factory=list)
    clusters: list[Any] = field(default_factory=list)  # clusters.Cluster, when coloured by them
    cached: bool = False  # the projection came from the cache
    seconds: float = 0.0
    signature: str = ""  # of the documents and their content
    total: int = 0  # documents in the collection's projection (``points``: those drawn)
    where: tuple[str, ...] = ()  # the filter that selected ``points``
    filter_json: Any = None

    @property
    def filtered(self) -> bool:
        return bool(self.where) or self.filter_json not in (None, "")

    def filter_text(self) -> str:
        """The filter in words (empty without one): its conditions joined by AND."""
        return filter_text(self.where, self.filter_json)

    def category(self, point: MapPoint) -> str:
        """The legend entry a point is drawn in: its value, "other" or "(none)"."""
        if point.color is None:
            return NONE
        shown = {e.value for e in self.legend}
        return point.color if point.color in shown else OTHER

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "method": self.method,
            "source": self.source,
            "description": self.description,
            "color_field": self.color_field,
            "legend": [e.to_dict() for e in self.legend],
            "clusters": [c.to_dict() for c in self.clusters],
            "cached": self.cached,
            "seconds": round(self.seconds, 3),
            "signature": self.signature,
            "total": self.total,
            "filtered": self.filtered,
            "where": list(self.where),
            "filter_json": _json_or_text(self.filter_json),
            "points": [p.to_dict() for p in self.points],
        }


def filter_text(where: Sequence[str], filter_json: Any = None) -> str:
    """A filter in words: ``applicant=X AND filing_date>=2020-01-01 AND filter {...}``."""
    parts = list(where)
    if filter_json not in (None, ""):
        shown = _json_or_text(filter_json)
        parts.append("filter " + (shown if isinstance(shown, str) else json.dumps(shown)))
    return " AND ".join(parts)


def _json_or_text(raw: Any) -> Any:
    """A raw filter as the caller gave it: JSON text or a dict as it is, else its repr."""
    if raw is None or isinstance(raw, (str, dict)):
        return raw
    return repr(raw)


# -- the collection's vectors -------------------------------------------------------------------


@dataclass
class Scan:
    """What a collection's map is made of: ids in id order, their vectors, their payloads."""

    ids: list[str]
    payloads: list[dict[str, Any]]
    source: str  # "dense" or "keyword"
    dense: np.ndarray | None = None  # (n, d) float32, rows normalised
    sparse: Any = None  # scipy CSR (n, terms) of BM25 weights, for keyword-only collections
    dimension: int = 0

    @property
    def signature(self) -> str:
        return signature_of(self.ids, self.payloads, self.source)


def signature_of(ids: Sequence[str], payloads: Sequence[dict[str, Any]], source: str) -> str:
    """A digest of the documents and their content hashes (``_hash``: model + text)."""
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"v{CACHE_VERSION}:{source}\n".encode())
    for pid, payload in zip(ids, payloads):
        digest.update(f"{pid}\t{payload.get('_hash', '')}\n".encode())
    return digest.hexdigest()


def scan(opened: OpenCollection, fields: Sequence[str], *, vectors: bool = True) -> Scan:
    """Every point of the collection (sorted by id) with ``fields`` of its payload and,
    with ``vectors``, its dense vector, or its keyword vector where it has none."""
    import numpy as np

    wanted = list(dict.fromkeys(["_key", "_row", "_hash", *fields]))
    rows: list[tuple[str, dict[str, Any], Any, Any]] = []
    for point in opened.coll.scroll(with_vectors=vectors, with_payload=wanted, batch=512):
        dense = None
        if point.vector is not None:
            dense = np.asarray(point.vector, dtype=np.float32)
        rows.append((point.id, point.payload, dense, point.sparse))
    if not rows:
        raise NoMap(
            f"collection '{opened.name}' holds no documents", "load a file with 'ingest load'"
        )
    rows.sort(key=lambda r: r[0])
    ids = [r[0] for r in rows]
    payloads = [r[1] for r in rows]
    if not vectors:
        return Scan(ids, payloads, _source_of(opened))
    with_dense = sum(r[2] is not None for r in rows)
    if with_dense == len(rows):
        matrix = np.vstack([r[2] for r in rows]).astype(np.float32, copy=False)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix /= np.where(norms > 0, norms, 1.0)
        return Scan(ids, payloads, "dense", dense=matrix, dimension=matrix.shape[1])
    if with_dense == 0 and any(r[3] for r in rows):
        return Scan(ids, payloads, "keyword", sparse=_sparse_matrix([r[3] for r in rows]))
    if with_dense == 0:
        raise NoMap(
            f"collection '{opened.name}' has neither dense nor keyword vectors, so there is "
            "nothing to place documents by",
            "load it again with 'ingest load' to add its keyword vectors",
        )
    raise NoMap(
        f"collection '{opened.name}': {len(rows) - with_dense:,} of {len(rows):,} documents "
        "have no dense vector (a load is running, or one was interrupted)",
        "run the same 'ingest load' again to finish it",
    )


def _source_of(opened: OpenCollection) -> str:
    model = opened.manifest.model
    return "dense" if model is not None and model.dimension else "keyword"


def _sparse_matrix(vectors: Sequence[Any]) -> Any:
    """BM25 weights as a CSR matrix over the terms that occur (``None``: an empty row)."""
    import numpy as np
    from scipy import sparse

    columns: dict[int, int] = {}
    indptr = [0]
    indices: list[int] = []
    values: list[float] = []
    for sv in vectors:
        if sv:
            for tid, weight in zip(sv.indices, sv.values):
                indices.append(columns.setdefault(tid, len(columns)))
                values.append(weight)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(values, dtype=np.float32), np.asarray(indices), np.asarray(indptr)),
        shape=(len(vectors), max(len(columns), 1)),
    )


def features(scan_: Scan, dims: int = REDUCED_DIMS) -> np.ndarray:
    """The rows to cluster and project: dense vectors as stored, or for a keyword-only
    collection its BM25 × IDF rows reduced with TruncatedSVD (rows normalised)."""
    import numpy as np

    if scan_.dense is not None:
        return scan_.dense
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    weights = scan_.sparse
    n = weights.shape[0]
    df = np.bincount(weights.indices, minlength=weights.shape[1])
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)  # Qdrant's IDF
    weighted = normalize(weights.multiply(idf).tocsr())
    k = max(1, min(dims, weighted.shape[1] - 1, n - 1))
    reduced = TruncatedSVD(n_components=k, random_state=SEED).fit_transform(weighted)
    if reduced.shape[1] < 2:
        reduced = np.hstack([reduced, np.zeros((n, 2 - reduced.shape[1]))])
    return np.asarray(normalize(reduced), dtype=np.float32)


# -- projection ----------------------------------------------------------------------------------


def umap_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("umap") is not None


def choose_method(method: str) -> str:
    if method not in METHODS:
        raise UserInputError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if method == "umap" and not umap_available():
        raise UserInputError(
            "the UMAP map needs umap-learn, which is not installed",
            "pip install 'patentsim[umap]', or use the PCA map (method pca)",
        )
    if method == "auto":
        return "umap" if umap_available() else "pca"
    return method


def project(x: np.ndarray, method: str) -> tuple[np.ndarray, str]:
    """2-D coordinates of the rows of ``x`` (deterministic), and the method that ran:
    "umap" needs at least UMAP_MIN_POINTS rows, fewer get "pca"."""
    import numpy as np

    n = x.shape[0]
    if n == 1:
        return np.zeros((1, 2), dtype=np.float32), "pca"
    if method == "umap" and n >= UMAP_MIN_POINTS:
        return _umap(x), "umap"
    from sklearn.decomposition import PCA

    k = min(2, n, x.shape[1])
    xy = PCA(n_components=k, random_state=SEED).fit_transform(x)
    if k < 2:
        xy = np.hstack([xy, np.zeros((n, 2 - k))])
    return _scaled(xy), "pca"


def _umap(x: np.ndarray) -> np.ndarray:
    """UMAP of the rows; above UMAP_SAMPLE rows, of a seeded sample of that many, the
    others placed among their nearest sampled rows (``place``)."""
    import numpy as np
    from sklearn.decomposition import PCA

    n, d = x.shape
    if d > REDUCED_DIMS and n > REDUCED_DIMS:
        x = PCA(n_components=REDUCED_DIMS, random_state=SEED).fit_transform(x)
    x = np.asarray(x, dtype=np.float32)
    if n <= UMAP_SAMPLE:
        return _scaled(_umap_fit(x))
    sample = np.sort(np.random.default_rng(SEED).choice(n, UMAP_SAMPLE, replace=False))
    return _scaled(place(x, sample, _umap_fit(x[sample])))


def _umap_fit(x: np.ndarray) -> np.ndarray:
    import warnings

    import numpy as np

    k = min(UMAP_NEIGHBOURS, x.shape[0] - 1)
    # Exact neighbours with numpy: UMAP's own search (pynndescent) compiles for longer than
    # this takes at these sizes (docs/landscape.md, Benchmarks).
    neighbours = (*exact_neighbours(x, k), None)
    with warnings.catch_warnings():
        # umap warns that a seed makes it single-threaded: that is the point (same map twice).
        warnings.simplefilter("ignore")
        import umap

        reducer = umap.UMAP(
            n_components=2,
            n_neighbors=k,
            min_dist=0.1,
            metric="cosine",
            init="pca",
            n_epochs=UMAP_EPOCHS,
            random_state=SEED,
            precomputed_knn=neighbours,
        )
        return np.asarray(reducer.fit_transform(x))


def place(x: np.ndarray, sample: np.ndarray, xy: np.ndarray, block: int = 2048) -> np.ndarray:
    """2-D positions of all rows of ``x`` given those of the rows ``sample``: a sampled row
    keeps its own, any other goes to the similarity-weighted mean of its UMAP_NEIGHBOURS
    nearest sampled rows (cosine)."""
    import numpy as np

    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    anchors = unit[sample]
    k = min(UMAP_NEIGHBOURS, len(sample))
    out = np.empty((x.shape[0], 2), dtype=np.float64)
    for lo in range(0, x.shape[0], block):
        sims = unit[lo : lo + block] @ anchors.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        weights = np.maximum(np.take_along_axis(sims, top, axis=1), 1e-6)
        out[lo : lo + block] = np.einsum("ij,ijk->ik", weights, xy[top]) / weights.sum(
            axis=1, keepdims=True
        )
    out[sample] = xy
    return out


def exact_neighbours(x: np.ndarray, k: int, block: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` nearest rows by cosine distance (itself first), and the distances."""
    import numpy as np

    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    x = x / np.where(norms > 0, norms, 1.0)
    n = x.shape[0]
    indices = np.empty((n, k), dtype=np.int64)
    distances = np.empty((n, k), dtype=np.float32)
    for lo in range(0, n, block):
        sims = x[lo : lo + block] @ x.T
        rows = np.arange(sims.shape[0])
        sims[rows, lo + rows] = np.inf  # itself first, whatever rounding says
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        top_sims = np.take_along_axis(sims, top, axis=1)
        order = np.lexsort((top, -top_sims), axis=1)  # by similarity, ties by index
        indices[lo : lo + block] = np.take_along_axis(top, order, axis=1)
        best = np.take_along_axis(top_sims, order, axis=1)
        best[:, 0] = 1.0
        distances[lo : lo + block] = np.clip(1.0 - best, 0.0, 2.0)
    return indices, distances


def _scaled(xy: np.ndarray) -> np.ndarray:
    """Centred, the larger half-range 1: maps of any method on one scale."""
    import numpy as np

    xy = np.asarray(xy, dtype=np.float64)
    xy = xy - (xy.max(axis=0) + xy.min(axis=0)) / 2
    span = float(np.abs(xy).max()) or 1.0
    return (xy / span).astype(np.float32)


def describe(method: str, source: str, dimension: int, asked: str, n: int = 0) -> str:
    """One sentence for people: the method and what it ran on."""
    vectors = (
        f"the {dimension}-d dense vectors"
        if source == "dense"
        else f"the keyword vectors (BM25 × IDF, TruncatedSVD to {REDUCED_DIMS} dimensions)"
    )
    if method == "umap":
        text = f"UMAP (cosine, {UMAP_NEIGHBOURS} neighbours, PCA start, seed {SEED}) of {vectors}"
        if source == "dense":
            text += f", first reduced to {REDUCED_DIMS} dimensions with PCA"
        if n > UMAP_SAMPLE:
            text += (
                f"; laid out on a sample of {UMAP_SAMPLE:,} documents, each other one placed "
                f"among its {UMAP_NEIGHBOURS} nearest sampled documents"
            )
    else:
        text = f"PCA of {vectors}"
        if asked == "auto" and not umap_available():
            text += " (UMAP, which keeps neighbourhoods better, needs umap-learn)"
        elif asked in ("auto", "umap"):
            text += f" (too few documents for UMAP: it needs {UMAP_MIN_POINTS})"
    return text


# -- the cache -----------------------------------------------------------------------------------


def cache_folder(store: Store, collection: str, root: str | Path | None = None) -> Path:
    """Where a collection's analysis is cached: ``root/<collection>``, else beside the
    embedded collection's shard, else under the patentsim cache folder for a server."""
    if root is not None:
        return Path(root) / collection
    if store.kind == "embedded":
        return Path(store.location) / collection / "analysis"
    from ..embed.engines import cache_dir

    server = hashlib.blake2b(store.location.encode(), digest_size=6).hexdigest()
    return cache_dir() / "analysis" / server / collection


def state_key(opened: OpenCollection) -> str:
    """The cheap check: the whole manifest (its timestamps have whole seconds, so two loads
    within one second differ only in what they record: sources, rows, fields) and the point
    count."""
    m = opened.manifest
    recorded = hashlib.sha256(json.dumps(m.to_dict(), sort_keys=True, default=str).encode())
    return json.dumps([recorded.hexdigest()[:24], opened.coll.count()])


_LOCKS: dict[Path, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


class Cache:
    """A collection's cached analysis: ``state.json`` (the state it was made for, the
    documents' signature) and data files; every file names the signature it belongs to."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def lock(self) -> threading.Lock:
        """One lock per folder in this process: two requests of a web page for the same
        map compute it once (the second waits and reads the cache)."""
        with _LOCKS_LOCK:
            return _LOCKS.setdefault(self.folder.resolve(), threading.Lock())

    def state(self) -> dict[str, Any]:
        return self.read_json("state.json") or {}

    def read_json(self, name: str) -> Any:
        try:
            return json.loads((self.folder / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def write_json(self, name: str, data: Any) -> None:
        self._write(name, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    def read_array(self, name: str, signature: str) -> np.ndarray | None:
        import numpy as np

        try:
            with np.load(self.folder / name, allow_pickle=False) as data:
                if str(data["signature"]) != signature:
                    return None
                return np.array(data["values"])
        except (OSError, ValueError, KeyError):
            return None

    def write_array(self, name: str, signature: str, values: np.ndarray) -> None:
        import io

        import numpy as np

        buf = io.BytesIO()
        np.savez(buf, signature=np.array(signature), values=values)
        self._write(name, buf.getvalue())

    def _write(self, name: str, data: bytes) -> None:
        """Atomically, and silently not at all where the folder cannot be written: a
        cache that cannot be kept costs time, never an answer."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.folder / f".{name}.tmp{os.getpid()}-{threading.get_ident()}"
            tmp.write_bytes(data)
            os.replace(tmp, self.folder / name)
        except OSError:
            return

    def clear(self) -> None:
        if not self.folder.is_dir():
            return
        for child in self.folder.iterdir():
            if child.is_file():
                try:
                    child.unlink()
                except OSError:
                    continue


@dataclass
class Documents:
    """The documents of a collection state as the analysis sees them (no vectors)."""

    signature: str
    source: str
    ids: list[str]
    keys: list[str]
    rows: list[int | None]
    titles: list[str | None]
    payloads: list[dict[str, Any]] | None = None  # present when just read from the store
    fields: tuple[str, ...] = ()  # the payload fields ``payloads`` hold


def documents(
    opened: OpenCollection,
    cache: Cache,
    *,
    fields: Sequence[str] = (),
    refresh: bool = False,
    progress: ProgressFn | None = None,
) -> Documents:
    """The collection's documents for this state: from the cache when its state key
    matches, else read from the store (and what the cache holds for other documents or
    other payloads dropped)."""
    key = state_key(opened)
    state = cache.state()
    title = opened.title_field
    if not refresh and state.get("key") == key and state.get("version") == CACHE_VERSION:
        meta = cache.read_json("documents.json")
        if meta and meta.get("signature") == state.get("signature"):
            return Documents(
                meta["signature"],
                meta["source"],
                meta["ids"],
                meta["keys"],
                meta["rows"],
                meta["titles"],
            )
    if progress:
        progress(f"reading the documents of '{opened.name}'")
    wanted = [f for f in [title, *fields] if f]
    found = scan(opened, wanted, vectors=False)
    signature = found.signature
    if refresh or state.get("signature") != signature or state.get("version") != CACHE_VERSION:
        cache.clear()  # other documents, or other content: nothing cached still holds
    docs = Documents(
        signature,
        found.source,
        found.ids,
        [str(p.get("_key", i)) for i, p in zip(found.ids, found.payloads)],
        [p.get("_row") if isinstance(p.get("_row"), int) else None for p in found.payloads],
        [_text_or_none(p.get(title)) if title else None for p in found.payloads],
        found.payloads,
        tuple(wanted),
    )
    cache.write_json(
        "documents.json",
        {
            "signature": signature,
            "source": docs.source,
            "ids": docs.ids,
            "keys": docs.keys,
            "rows": docs.rows,
            "titles": docs.titles,
        },
    )
    # Colours and cluster summaries read payload fields, which a load may change without
    # changing any text: they are made again for the new state.
    for child in cache.folder.glob("color-*.json") if cache.folder.is_dir() else ():
        child.unlink(missing_ok=True)
    for child in cache.folder.glob("summary-*.json") if cache.folder.is_dir() else ():
        child.unlink(missing_ok=True)
    cache.write_json("state.json", {"version": CACHE_VERSION, "key": key, "signature": signature})
    return docs


def _text_or_none(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    return str(value)


def vectors_for(opened: OpenCollection, docs: Documents) -> Scan:
    """The vectors of the documents ``docs`` lists (read again: a load may have run)."""
    found = scan(opened, [], vectors=True)
    if found.ids != docs.ids:
        raise PatentSimError(
            f"collection '{opened.name}' changed while it was read", "run the command again"
        )
    return found


def cached_features(
    opened: OpenCollection, cache: Cache, docs: Documents
) -> tuple[np.ndarray, Scan]:
    """The rows to cluster and project (``features``) for the documents ``docs``."""
    found = vectors_for(opened, docs)
    return features(found), found


def _projection(
    opened: OpenCollection,
    cache: Cache,
    docs: Documents,
    method: str,
    progress: ProgressFn | None,
) -> tuple[np.ndarray, str, int, bool]:
    """The cached 2-D coordinates, or new ones: (xy, method that ran, dimension, cached)."""
    name = f"projection-{method}.npz"
    cached = cache.read_array(name, docs.signature)
    meta = cache.read_json(f"projection-{method}.json") or {}
    if cached is not None and meta.get("signature") == docs.signature:
        return cached, str(meta.get("method", method)), int(meta.get("dimension", 0)), True
    if progress:
        progress(f"computing the map of {len(docs.ids):,} documents ({method.upper()})")
    x, found = cached_features(opened, cache, docs)
    xy, ran = project(x, method)
    cache.write_array(name, docs.signature, xy)
    cache.write_json(
        f"projection-{method}.json",
        {"signature": docs.signature, "method": ran, "dimension": found.dimension},
    )
    return xy, ran, found.dimension, False


# -- colours ----------------------------------------------------------------------------------


SPECIAL_COLORS = ("cluster", "year", "file")


def color_field(opened: OpenCollection, color: str) -> FieldInfo | None:
    """The field ``color`` names (None for ``cluster``); ``UserInputError`` for none."""
    if color == "cluster":
        return None
    if color == "file":
        return resolve_field("_file", opened.fields)
    if color == "year" and "year" not in opened.fields:
        date = opened.manifest.date_field
        if not date:
            raise UserInputError(
                f"collection '{opened.name}' has no date field to take the year of",
                "colour by a date field by name (its year is used)",
            )
        return resolve_field(str(date), opened.fields)
    try:
        return resolve_field(color, opened.fields)
    except BadFilter as exc:
        raise UserInputError(
            f"color: {exc.message.replace('unknown field', 'no field')}",
            f"colour by a field, or by one of {', '.join(SPECIAL_COLORS)}"
            + (f"; {exc.hint}" if exc.hint else ""),
        ) from None


def color_value(value: Any, info: FieldInfo) -> str | None:
    """The value a document is coloured by: a list's first element (a code cut to its
    subclass), a date's year, the value itself otherwise."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or value == "":
        return None
    text = str(value).strip()
    if info.type == "datetime":
        return year_of(text) or text
    if info.list and CLASSIFICATION.match(text.upper()):
        return text.upper()[:4]
    if isinstance(value, bool):
        return "true" if value else "false"
    return text


def legend_of(values: Sequence[str | None], limit: int = LEGEND_MAX) -> list[LegendEntry]:
    """The most frequent values (ties by value), at most ``limit``; the rest are "other"."""
    counts = Counter(v for v in values if v is not None)
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [LegendEntry(v, n) for v, n in ordered[:limit]]


def _colors(
    opened: OpenCollection, cache: Cache, docs: Documents, info: FieldInfo
) -> list[str | None]:
    name = "color-" + hashlib.blake2b(info.name.encode(), digest_size=6).hexdigest() + ".json"
    cached = cache.read_json(name)
    if cached and cached.get("signature") == docs.signature and cached.get("field") == info.name:
        return list(cached["values"])
    payloads = docs.payloads
    if payloads is None or info.name not in docs.fields:
        payloads = _payloads(opened, docs, [info.name])
    values = [color_value(p.get(info.name), info) for p in payloads]
    cache.write_json(name, {"signature": docs.signature, "field": info.name, "values": values})
    return values


def _payloads(
    opened: OpenCollection, docs: Documents, fields: Sequence[str]
) -> list[dict[str, Any]]:
    """``fields`` of every document of ``docs``, in its order."""
    found = scan(opened, fields, vectors=False)
    if found.ids != docs.ids:
        raise PatentSimError(
            f"collection '{opened.name}' changed while it was read", "run the command again"
        )
    return found.payloads


# -- the map ----------------------------------------------------------------------------------


@contextmanager
def opened_collection(
    collection: str | None, settings: StoreSettings | None, store: Store | None
) -> Iterator[tuple[OpenCollection, Store]]:
    """The collection (opened and closed as ``search.query`` does), and its store."""
    with Session(settings, collection, store=store) as session:
        yield session.open(), session.store


def landscape(
    *,
    color: str | None = None,
    method: str = "auto",
    k: int | None = None,
    refresh: bool = False,
    options: QueryOptions | None = None,
    collection: str | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> Landscape:
    """Every document of the collection as a point in 2-D (see the module's docstring).

    ``color``: a field name, ``year``, ``file`` or ``cluster`` (then ``k`` clusters,
    default by the collection's size); ``method``: auto, umap or pca; ``refresh``:
    compute again even where the cache holds the answer; ``options``: only the documents
    its ``where`` and ``filter_json`` select are drawn, at their places on the whole map
    (its other options are not used); ``cache_dir``: another cache root than the
    collection's own.
    """
    started = time.perf_counter()
    asked = method
    chosen = choose_method(method)
    options = (options or QueryOptions()).validate()
    with opened_collection(collection, settings, store) as (opened, current):
        info = color_field(opened, color) if color else None
        matching = matching_ids(opened, options)
        cache = Cache(cache_folder(current, opened.name, cache_dir))
        extra = [info.name] if info is not None else []
        with cache.lock():
            docs = documents(opened, cache, fields=extra, refresh=refresh, progress=progress)
            xy, ran, dimension, was_cached = _projection(opened, cache, docs, chosen, progress)
        keep = [i for i, pid in enumerate(docs.ids) if matching is None or pid in matching]
        if not keep:  # the documents changed between the filter and the map
            raise no_match(opened.name, options)
        at = xy.tolist()
        points = [
            MapPoint(docs.ids[i], docs.keys[i], docs.rows[i], docs.titles[i], *at[i]) for i in keep
        ]
        result = Landscape(
            collection=opened.name,
            points=points,
            method=ran,
            source=docs.source,
            description=describe(ran, docs.source, dimension, asked, len(docs.ids)),
            color_field=None,
            cached=was_cached,
            signature=docs.signature,
            total=len(docs.ids),
            where=options.where,
            filter_json=options.filter_json,
        )
        if color == "cluster":
            from .clusters import clusters_of

            with cache.lock():
                found = clusters_of(opened, cache, docs, k=k, progress=progress)
            _color_by_clusters(result, found, xy, keep)
        elif info is not None:
            with cache.lock():
                values = _colors(opened, cache, docs, info)
            for point, i in zip(points, keep):
                point.color = values[i]
            result.color_field = info.name
            result.legend = legend_of([p.color for p in points])
    result.seconds = time.perf_counter() - started
    return result


NOTHING_TO_DRAW = "the map has nothing to draw"


def matching_ids(
    opened: OpenCollection, options: QueryOptions, nothing: str = NOTHING_TO_DRAW
) -> set[str] | None:
    """The ids of the documents the options' filter selects (None: no filter, all);
    ``NoMap`` naming the filter, and ``nothing`` (what is then missing), where it selects none."""
    flt = build_filter(opened, options)
    if flt is None:
        return None
    ids = {p.id for p in opened.coll.scroll(flt=flt, with_payload=False, batch=1024)}
    if not ids:
        raise no_match(opened.name, options, nothing)
    return ids


def no_match(collection: str, options: QueryOptions, nothing: str = NOTHING_TO_DRAW) -> NoMap:
    """The one-line error of a filter that selects no document of ``collection``."""
    import shlex

    named = [f"{setting('where')} {shlex.quote(w)}" for w in options.where]
    if options.filter_json not in (None, ""):
        raw = _json_or_text(options.filter_json)
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        named.append(f"{setting('filter_json')} {shlex.quote(text)}")
    return NoMap(
        f"no document of '{collection}' matches {' '.join(named)}: {nothing}",
        f"count what a filter selects with 'search facets FIELD' and the same {setting('where')}",
    )


def _color_by_clusters(result: Landscape, found: Any, xy: np.ndarray, keep: list[int]) -> None:
    """Colour the drawn points by the whole collection's clusters: the legend counts the
    drawn documents of each, and a label sits at the median of its drawn documents."""
    import numpy as np

    labels = {c.id: c.label for c in found.clusters}
    drawn = np.asarray(found.labels)[keep]
    for point, cid in zip(result.points, drawn.tolist()):
        point.cluster = cid
        point.color = labels[cid]
    result.color_field = "cluster"
    counts = Counter(drawn.tolist())
    result.clusters = [c for c in found.clusters if counts[c.id]]
    at = xy[keep]
    for c in result.clusters:
        # The median: a label where most of the cluster is, not between its parts.
        c.x, c.y = (float(v) for v in np.median(at[drawn == c.id], axis=0))
    result.legend = [LegendEntry(c.label, counts[c.id]) for c in result.clusters]
