"""Topic clusters of a collection, labelled with their most characteristic analyzed terms.

The Python API (``search clusters``, the page's map panel and ``landscape(color="cluster")``
call it)::

    from patentsim.search.clusters import clusters

    found = clusters(k=None, collection="demo")   # or store=an open store
    found.k, found.method, found.description
    for c in found.clusters:            # largest first, numbered 0..k-1 in that order
        c.id, c.size, c.label           # "0: battery, cooling, cell"
        c.terms                         # [("batteri", 0.031), ...] term, c-TF-IDF weight
        c.words                         # ["battery", "cooling", ...] as the texts spell them
        c.applicants, c.classes, c.years  # [(value, documents), ...]
        c.examples                      # [Example(key, row, title), ...] nearest its centre
    found.labels                        # each document's cluster, in found.keys' order
    found.assignments()                 # [{"key", "row", "title", "cluster", "label"}, ...]
    found.to_dict()

    # the clusters of the documents a filter selects (the filter of like/text/facets/map):
    found = clusters(options=QueryOptions(where=("applicant=삼성전자",)))
    len(found.labels), found.total      # the documents shown, of the collection's
    c.size, c.total                     # a cluster's documents in the subset, in the whole

How: k-means (scikit-learn, seeded: the same clusters every time) over the
documents' dense vectors, normalised (so distances rank like cosine similarity), or
for a keyword-only collection over its reduced keyword vectors
(``landscape.features``).  The default k grows with the square root of the
collection's size (``default_k``).  Labels: class-based TF-IDF (c-TF-IDF, as in
BERTopic) over the analyzed terms that ingest stored (``_terms_*``: Korean
morphemes, stemmed English words): a term weighs its share of the cluster's terms
times ``log(1 + A / f)``, A the average number of terms per cluster, f the term's
count in the whole collection.  Each term is shown in the form the cluster's texts
use most (``batteri`` → ``battery``).  Cached with the map (``landscape``).

A filter (``options``: the ``where`` and ``filter_json`` of a ``QueryOptions``) shows the
whole collection's clusters restricted to the documents it selects, as the map's
``color="cluster"`` colours a filtered map: each document keeps the cluster (and label)
it has on the whole map, nothing is clustered again and the cache serves every filter.
A cluster's size, applicants, classes, years and examples count its selected documents
(``total``: its size in the whole collection); clusters with none selected are left out.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..columns import CLASSIFICATION, classes_column, owner_column
from ..dates import year_of
from ..errors import UserInputError
from ..store import StoreSettings
from ..store.backend import Store
from .collection import OpenCollection
from .landscape import (
    Cache,
    Documents,
    ProgressFn,
    _payloads,
    cache_folder,
    cached_features,
    documents,
    filter_text,
    matching_ids,
    no_match,
    opened_collection,
)
from .options import QueryOptions

if TYPE_CHECKING:
    import numpy as np

MAX_K = 30
LABEL_TERMS = 3  # terms in a label; ``terms`` keeps TERMS
TERMS = 10
EXAMPLES = 5
TOP_VALUES = 5
SPELLING_DOCS = 30  # documents per cluster whose texts say how its label terms are spelled
# Above this many documents k-means runs on mini-batches (the same seeded result each
# run; full k-means costs too much time there).
MINIBATCH_ABOVE = 20_000
SEED = 0
_NOISE = re.compile(r"^(\d+|[a-z])$")  # numbers and single letters label nothing
# Terms in more than this share of all documents (상기 "said", 포함 "include") tell no
# cluster from another: left out of labels.
MAX_DOCUMENT_SHARE = 0.5
# The language of patents, not of any topic: left out of labels (analyzed like the texts).
PATENT_WORDS = (
    "plurality may first second third including using based one wherein said comprising "
    "least configured provided embodiment according herein thereof whether also within via "
    "method system apparatus invention present disclosure described example "
    "상기 포함 복수 하나 이상 위한 구성 제공 방법 장치 시스템 발명 일 실시 예 것 수 통해 "
    "부 단계"
)


@dataclass
class Example:
    key: str
    row: int | None
    title: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "row": self.row, "title": self.title}


@dataclass
class Cluster:
    id: int
    size: int
    terms: list[tuple[str, float]]
    words: list[str]
    label: str
    applicants: list[tuple[str, int]] = field(default_factory=list)
    classes: list[tuple[str, int]] = field(default_factory=list)
    years: list[tuple[str, int]] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    x: float | None = None  # its centre on the map (set by ``landscape``)
    y: float | None = None
    total: int | None = None  # its size in the whole collection, where a filter chose a subset

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "cluster": self.id,
            "size": self.size,
            "label": self.label,
            "terms": [
                {"term": t, "word": w, "weight": round(s, 6)}
                for (t, s), w in zip(self.terms, self.words)
            ],
            "applicants": [{"value": v, "count": n} for v, n in self.applicants],
            "classes": [{"value": v, "count": n} for v, n in self.classes],
            "years": [{"value": v, "count": n} for v, n in self.years],
            "examples": [e.to_dict() for e in self.examples],
        }
        if self.x is not None and self.y is not None:
            out.update(x=round(self.x, 5), y=round(self.y, 5))
        if self.total is not None:
            out["total"] = self.total
        return out


@dataclass
class Clusters:
    collection: str
    k: int
    method: str  # "k-means" or "mini-batch k-means"
    source: str  # "dense" or "keyword"
    description: str
    clusters: list[Cluster]
    labels: list[int]  # per document, in the order of keys/rows/titles
    keys: list[str]
    rows: list[int | None]
    titles: list[str | None]
    applicant_field: str | None = None
    class_field: str | None = None
    date_field: str | None = None
    cached: bool = False
    seconds: float = 0.0
    total: int = 0  # documents in the collection (``labels``: those a filter selected)
    where: tuple[str, ...] = ()  # the filter that selected the documents
    filter_json: Any = None

    @property
    def filtered(self) -> bool:
        return bool(self.where) or self.filter_json not in (None, "")

    def filter_text(self) -> str:
        """The filter in words (empty without one): its conditions joined by AND."""
        return filter_text(self.where, self.filter_json)

    def assignments(self) -> list[dict[str, Any]]:
        names = {c.id: c.label for c in self.clusters}
        return [
            {"key": k, "row": r, "title": t, "cluster": c, "label": names[c]}
            for k, r, t, c in zip(self.keys, self.rows, self.titles, self.labels)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "collection": self.collection,
            "k": self.k,
            "method": self.method,
            "source": self.source,
            "description": self.description,
            "applicant_field": self.applicant_field,
            "class_field": self.class_field,
            "date_field": self.date_field,
            "cached": self.cached,
            "seconds": round(self.seconds, 3),
            "total": self.total,
            "filtered": self.filtered,
            "where": list(self.where),
            "filter_json": self.filter_json,
            "clusters": [c.to_dict() for c in self.clusters],
        }


def default_k(n: int) -> int:
    """sqrt(n / 10), at least 2 and at most MAX_K (never more than the documents)."""
    if n < 2:
        return max(n, 1)
    return min(n, max(2, min(MAX_K, round(math.sqrt(n / 10)))))


def clusters(
    *,
    k: int | None = None,
    refresh: bool = False,
    options: QueryOptions | None = None,
    collection: str | None = None,
    settings: StoreSettings | None = None,
    store: Store | None = None,
    cache_dir: str | Path | None = None,
    progress: ProgressFn | None = None,
) -> Clusters:
    """The collection's topic clusters (see the module's docstring); ``k`` clusters, by
    default ``default_k`` of the collection's size; ``options``: only the documents its
    ``where`` and ``filter_json`` select, in the whole collection's clusters (its other
    options are not used)."""
    started = time.perf_counter()
    if k is not None and k < 1:
        raise UserInputError(f"the number of clusters must be at least 1, not {k}")
    options = (options or QueryOptions()).validate()
    with opened_collection(collection, settings, store) as (opened, current):
        matching = matching_ids(opened, options, "no clusters to show")
        cache = Cache(cache_folder(current, opened.name, cache_dir))
        with cache.lock():
            docs = documents(opened, cache, refresh=refresh, progress=progress)
            found = clusters_of(opened, cache, docs, k=k, progress=progress)
            found.total = len(docs.ids)
            if matching is not None:
                keep = [i for i, pid in enumerate(docs.ids) if pid in matching]
                if not keep:  # the documents changed between the filter and the clusters
                    raise no_match(opened.name, options, "no clusters to show")
                order = cache.read_array(f"clusters-k{found.k}-central.npz", docs.signature)
                _restrict(opened, docs, found, keep, order)
                found.where, found.filter_json = options.where, options.filter_json
    found.seconds = time.perf_counter() - started
    return found


def clusters_of(
    opened: OpenCollection,
    cache: Cache,
    docs: Documents,
    *,
    k: int | None,
    progress: ProgressFn | None = None,
) -> Clusters:
    """Clusters of the documents ``docs`` (from the cache where it holds them)."""
    import numpy as np

    n = len(docs.ids)
    k = min(k, n) if k else default_k(n)
    method = "k-means" if n <= MINIBATCH_ABOVE else "mini-batch k-means"
    labels = cache.read_array(f"clusters-k{k}.npz", docs.signature)
    order = cache.read_array(f"clusters-k{k}-central.npz", docs.signature)
    cached = labels is not None and order is not None
    if labels is None or order is None:
        if progress:
            progress(f"clustering {n:,} documents ({method}, k={k})")
        x, _ = cached_features(opened, cache, docs)
        labels, order = _kmeans(x, k)
        cache.write_array(f"clusters-k{k}.npz", docs.signature, labels)
        cache.write_array(f"clusters-k{k}-central.npz", docs.signature, order)
    labels = np.asarray(labels, dtype=np.int64)
    summary = cache.read_json(f"summary-k{k}.json")
    if not summary or summary.get("signature") != docs.signature:
        if progress:
            progress(f"labelling {k} clusters")
        summary = {"signature": docs.signature, **_summarise(opened, docs, labels, order, k)}
        cache.write_json(f"summary-k{k}.json", summary)
    found = [_cluster_from(c) for c in summary["clusters"]]
    source = "dense vectors" if docs.source == "dense" else "reduced keyword vectors"
    return Clusters(
        collection=opened.name,
        k=k,
        method=method,
        source=docs.source,
        description=f"{method} (k={k}, seed {SEED}) over the documents' {source}; labels: "
        "c-TF-IDF of their analyzed terms",
        clusters=found,
        labels=labels.tolist(),
        keys=docs.keys,
        rows=docs.rows,
        titles=docs.titles,
        applicant_field=summary.get("applicant_field"),
        class_field=summary.get("class_field"),
        date_field=summary.get("date_field"),
        cached=cached,
    )


def _restrict(
    opened: OpenCollection, docs: Documents, found: Clusters, keep: list[int], order: Any
) -> None:
    """Keep in ``found`` the documents ``keep`` (indices into ``docs``): each keeps its
    cluster and label; a cluster's counts and examples become those of its kept documents,
    most central first, and clusters with none kept are left out."""
    kept = set(keep)
    labels = found.labels
    central = order.tolist() if order is not None else range(len(labels))
    members: dict[int, list[int]] = {c.id: [] for c in found.clusters}
    for i in central:
        if i in kept:
            members[labels[i]].append(i)
    fields = [f for f in (found.applicant_field, found.class_field, found.date_field) if f]
    payloads = _payloads(opened, docs, fields) if fields else [{} for _ in docs.ids]
    shown = []
    for c in found.clusters:
        mine = members[c.id]
        if not mine:
            continue
        c.total, c.size = c.size, len(mine)
        c.applicants = _pairs(_top(payloads, mine, found.applicant_field, _first_values))
        c.classes = _pairs(_top(payloads, mine, found.class_field, _subclasses))
        c.years = _pairs(_years(payloads, mine, found.date_field))
        c.examples = [Example(docs.keys[i], docs.rows[i], docs.titles[i]) for i in mine[:EXAMPLES]]
        shown.append(c)
    found.clusters = shown
    found.labels = [labels[i] for i in keep]
    found.keys = [docs.keys[i] for i in keep]
    found.rows = [docs.rows[i] for i in keep]
    found.titles = [docs.titles[i] for i in keep]


def _pairs(values: list[list[Any]]) -> list[tuple[str, int]]:
    return [(str(v), int(n)) for v, n in values]


def _kmeans(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Labels numbered by cluster size (largest 0), and the documents ordered by their
    similarity to their cluster's centre (most central first)."""
    import numpy as np

    n = x.shape[0]
    if k <= 1 or n <= 1:
        labels = np.zeros(n, dtype=np.int64)
        centre = x.mean(axis=0, keepdims=True)
    else:
        if n <= MINIBATCH_ABOVE:
            from sklearn.cluster import KMeans

            model: Any = KMeans(n_clusters=k, n_init=3, random_state=SEED)
        else:
            from sklearn.cluster import MiniBatchKMeans

            model = MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=4096, random_state=SEED)
        raw = model.fit_predict(x)
        sizes = np.bincount(raw, minlength=k)
        # Largest first; equal sizes by the first document each holds (deterministic).
        first = np.array([np.flatnonzero(raw == c)[0] if sizes[c] else n for c in range(k)])
        ranking = sorted(range(k), key=lambda c: (-sizes[c], first[c]))
        renumber = np.empty(k, dtype=np.int64)
        renumber[ranking] = np.arange(k)
        labels = renumber[raw]
        centre = np.asarray(model.cluster_centers_)[ranking]
    similarity = np.einsum("ij,ij->i", x, centre[labels])
    order = np.lexsort((-similarity, labels))
    return labels, order.astype(np.int64)


# -- labels and summaries ------------------------------------------------------------------------


def _summarise(
    opened: OpenCollection, docs: Documents, labels: np.ndarray, order: np.ndarray, k: int
) -> dict[str, Any]:
    from ..ingest.keyword import terms_field

    spec = opened.manifest.keyword
    text_fields = list((spec.fields if spec else ()) or opened.manifest.text_columns)
    term_fields = [terms_field(f) for f in text_fields] if spec else []
    applicant = _applicant_field(opened)
    classes = _class_field(opened)
    date = opened.manifest.date_field
    # The texts themselves only where no terms were stored (they are analyzed here).
    texts_needed = [] if term_fields else text_fields
    wanted = [f for f in (*term_fields, *texts_needed, applicant, classes, date) if f]
    payloads = _payloads(opened, docs, list(dict.fromkeys(wanted)))
    terms = _term_lists(opened, payloads, term_fields, text_fields)
    # The words as the analyzer makes them, and as written (a lone 부 is read as a prefix).
    stop = frozenset(_analyzer(opened).terms(PATENT_WORDS)) | frozenset(PATENT_WORDS.split())
    weights = c_tf_idf(terms, labels.tolist(), k, stop)
    members: list[list[int]] = [[] for _ in range(k)]
    for i in order.tolist():  # most central first
        members[int(labels[i])].append(i)
    # The words of the labels as the most central documents of each cluster spell them.
    sampled = [i for cid in range(k) for i in members[cid][:SPELLING_DOCS]]
    stored = {
        p.id: p.payload
        for lo in range(0, len(sampled), 256)
        for p in opened.coll.retrieve([docs.ids[i] for i in sampled[lo : lo + 256]])
    }
    out = []
    for cid in range(k):
        top = weights[cid][:TERMS]
        texts = [
            _text_of(stored.get(docs.ids[i], {}), text_fields) for i in members[cid][:SPELLING_DOCS]
        ]
        words = display_words([t for t, _ in top], texts, opened)
        shown = list(dict.fromkeys(w for w in words if w))[:LABEL_TERMS]
        label = f"{cid}: " + (", ".join(shown) if shown else "(no terms)")
        out.append(
            {
                "id": cid,
                "size": len(members[cid]),
                "terms": [[t, s] for t, s in top],
                "words": words,
                "label": label,
                "applicants": _top(payloads, members[cid], applicant, _first_values),
                "classes": _top(payloads, members[cid], classes, _subclasses),
                "years": _years(payloads, members[cid], date),
                "examples": [
                    [docs.keys[i], docs.rows[i], docs.titles[i]] for i in members[cid][:EXAMPLES]
                ],
            }
        )
    return {
        "clusters": out,
        "applicant_field": applicant,
        "class_field": classes,
        "date_field": date,
    }


def _cluster_from(data: dict[str, Any]) -> Cluster:
    return Cluster(
        id=int(data["id"]),
        size=int(data["size"]),
        terms=[(str(t), float(s)) for t, s in data["terms"]],
        words=[str(w) for w in data["words"]],
        label=str(data["label"]),
        applicants=_pairs(data["applicants"]),
        classes=_pairs(data["classes"]),
        years=_pairs(data["years"]),
        examples=[Example(str(k), r, t) for k, r, t in data["examples"]],
    )


def _term_lists(
    opened: OpenCollection,
    payloads: Sequence[dict[str, Any]],
    term_fields: Sequence[str],
    text_fields: Sequence[str],
) -> list[list[str]]:
    """Each document's analyzed terms: as ingest stored them, or analyzed now for a
    collection made before keyword search."""
    if term_fields:
        return [
            [t for f in term_fields if isinstance(p.get(f), str) for t in p[f].split()]
            for p in payloads
        ]
    from ..embed.analyzer import analyzer_for

    analyzer = analyzer_for()
    return [analyzer.terms(_text_of(p, text_fields)) for p in payloads]


def c_tf_idf(
    terms: Sequence[Sequence[str]],
    labels: Sequence[int],
    k: int,
    stop: frozenset[str] = frozenset(),
) -> list[list[tuple[str, float]]]:
    """Per cluster, its terms by class-based TF-IDF, highest first: the term's share of
    the cluster's terms × log(1 + A / f), A the mean number of terms per cluster and f
    the term's count over all clusters.  Numbers, single letters, terms that occur once
    in a cluster, terms in more than MAX_DOCUMENT_SHARE of the documents and ``stop``
    terms are left out."""
    counts = [Counter[str]() for _ in range(k)]
    holding: Counter[str] = Counter()
    for doc_terms, label in zip(terms, labels):
        counts[label].update(doc_terms)
        holding.update(set(doc_terms))
    common = {t for t, n in holding.items() if k > 1 and n > MAX_DOCUMENT_SHARE * len(terms)}
    total: Counter[str] = Counter()
    for c in counts:
        total.update(c)
    average = sum(total.values()) / max(k, 1)
    out = []
    for c in counts:
        size = sum(c.values()) or 1
        scored = [
            (term, (n / size) * math.log(1 + average / total[term]))
            for term, n in c.items()
            if n >= 2 and term not in common and term not in stop and not _NOISE.match(term)
        ]
        scored.sort(key=lambda ts: (-ts[1], ts[0]))
        out.append(scored)
    return out


def display_words(terms: Sequence[str], texts: Sequence[str], opened: OpenCollection) -> list[str]:
    """Each term as the texts spell it most often (lowercased): ``batteri`` → ``battery``;
    a Korean morpheme is already a word.  A term not found in the texts stays as it is."""
    analyzer = _analyzer(opened)
    wanted = set(terms)
    seen: dict[str, Counter[str]] = {t: Counter() for t in terms}
    for text in texts:
        for span in analyzer.spans(text):
            if span.term in wanted:
                seen[span.term][text[span.start : span.end].lower()] += 1
    return [seen[t].most_common(1)[0][0] if seen[t] else t for t in terms]


def _analyzer(opened: OpenCollection) -> Any:
    """The collection's analyzer (the default one for a collection made before it had one)."""
    from ..embed.analyzer import Analyzer, analyzer_for

    spec = opened.manifest.keyword
    language = Analyzer.from_info(spec.analyzer).language if spec else None
    return analyzer_for(language) if language else analyzer_for()


def _text_of(payload: dict[str, Any], text_fields: Sequence[str]) -> str:
    return "\n".join(str(payload[f]) for f in text_fields if isinstance(payload.get(f), str))


def _applicant_field(opened: OpenCollection) -> str | None:
    return owner_column(f for f in opened.fields if not f.startswith("_"))


def _class_field(opened: OpenCollection) -> str | None:
    """The field of IPC/CPC codes: a list field named like one, else any list field."""
    lists = [f for f, i in opened.fields.items() if i.list and not f.startswith("_")]
    return classes_column(lists)


def _first_values(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(value[0])] if value else []
    return [str(value)] if value not in (None, "") else []


def _subclasses(value: Any) -> list[str]:
    """A document's classes at the subclass level, each once (``H01L 21/67`` → ``H01L``)."""
    values = value if isinstance(value, list) else [value] if value else []
    out = []
    for v in values:
        text = str(v).strip().upper()
        out.append(text[:4] if CLASSIFICATION.match(text) else text)
    return list(dict.fromkeys(o for o in out if o))


def _top(
    payloads: Sequence[dict[str, Any]], members: Sequence[int], name: str | None, values: Any
) -> list[list[Any]]:
    if not name:
        return []
    counts: Counter[str] = Counter()
    for i in members:
        counts.update(values(payloads[i].get(name)))
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [[v, n] for v, n in ordered[:TOP_VALUES]]


def _years(
    payloads: Sequence[dict[str, Any]], members: Sequence[int], name: str | None
) -> list[list[Any]]:
    if not name:
        return []
    counts: Counter[str] = Counter()
    for i in members:
        value = payloads[i].get(name)
        if isinstance(value, str) and (year := year_of(value)):
            counts[year] += 1
    return [[y, counts[y]] for y in sorted(counts)]
