"""``search eval``: how good each retrieval mode is on the collection's own labels.

Two measures, per mode:

- **P@k** (``precision``): for each sampled document, the share of its k nearest
  *other* documents (``search like``) that share at least one label with it at
  ``level``: ``subclass`` (the first 4 characters of an IPC/CPC code, ``B24B``),
  ``group`` (up to the ``/``: ``B24B 3``) or ``full`` (the whole code).  Codes are
  compared without spaces and case, so ``B24B 3/34`` and ``b24b3/34`` are one.
  Averaged over the sampled documents that have a label.
- **MRR@10** (``mrr``): known-item search: each sampled document's title as a
  ``search text`` query; the reciprocal rank of the document itself in the top 10
  (0 when it is not there), averaged.  Where other documents score the same as it (a
  duplicate abstract), it shares their ranks: the mean of the reciprocal ranks they span,
  since the engine orders equal scores as it happens to store the points and two loads
  of one file could otherwise measure different figures.

``tune=True`` splits the sample in two seeded halves: every mode and fusion
setting is tried on the first half, the best P@k at the first level wins, both the
current default and the winner are measured on the other half, and the winner
becomes the collection's default mode.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from typing import Any

from ..columns import CLASSIFICATION, is_classes_name
from ..embed.retrieval import MODES, Measured, Retrieval
from ..errors import PatentSimError, UserInputError, setting
from ..store.backend import SparseVector, StoredPoint
from ..store.manifest import FieldSpec, Manifest
from .collection import OpenCollection
from .modes import choose_retrieval, runner, text_runner
from .options import QueryOptions
from .paging import top_hits
from .query_model import QueryEmbedder
from .session import Session
from .where import resolve_field

LEVELS = ("subclass", "group", "full")
_NONE: frozenset[str] = frozenset()
DEFAULT_SAMPLE = 500
DEFAULT_K = 10
MRR_DEPTH = 10
# Scores this close are equal (the same text scored in two segments may differ in the last bits).
TIE_TOLERANCE = 1e-6
# What --tune tries for hybrid: RRF with (dense, keyword) weights, and DBSF.
TUNE_WEIGHTS = ((1.0, 1.0), (1.0, 2.0), (1.0, 3.0), (1.0, 5.0), (2.0, 1.0), (3.0, 1.0))


def reciprocal_rank(hits: Sequence[Any], target: str) -> float:
    """1 / the rank of ``target`` among ``hits`` (best first; 0 when absent); tied with
    others, the mean of 1 / r over the ranks the tied hits span, whatever their order."""
    score = next((float(h.score) for h in hits if h.id == target), None)
    if score is None:
        return 0.0
    above = sum(1 for h in hits if float(h.score) > score + TIE_TOLERANCE)
    tied = sum(1 for h in hits if abs(float(h.score) - score) <= TIE_TOLERANCE)
    return sum(1.0 / (above + k) for k in range(1, tied + 1)) / tied


def precision_at_k(labels: frozenset[str], neighbours: Sequence[frozenset[str]], k: int) -> float:
    """P@k of one query: the share of its ``k`` nearest others (their labels, best first)
    that share at least one code with it (fewer than ``k`` neighbours count as misses)."""
    return sum(1 for other in neighbours[:k] if other & labels) / k


ProgressFn = Callable[[str], None]


@dataclass
class EvalRow:
    mode: str
    level: str
    k: int
    queries: int
    precision: float
    mrr: float | None
    detail: str = ""  # the fusion and weights of a hybrid mode

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "level": self.level,
            "k": self.k,
            "queries": self.queries,
            "precision": self.precision,
            "mrr": self.mrr,
        }


@dataclass
class Tuning:
    tried: list[tuple[str, float]]  # candidate, P@k on the tuning half
    before: list[EvalRow]  # the previous default, on the held-out half
    after: list[EvalRow]  # the winner, on the held-out half
    winner: dict[str, Any]  # what the manifest now says under "search"
    tune_queries: int = 0


@dataclass
class EvalReport:
    collection: str
    label: str
    title: str | None
    levels: list[str]
    sample: int
    seed: int
    rows: list[EvalRow] = field(default_factory=list)
    tuning: Tuning | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def label_codes(value: Any, level: str) -> frozenset[str]:
    """A document's labels at a level: ``B24B 3/34|B24B 49/12`` → {B24B} at subclass."""
    if value is None:
        return frozenset()
    items = value if isinstance(value, list) else re.split(r"[|;,]", str(value))
    out = set()
    for item in items:
        code = re.sub(r"\s+", "", str(item)).upper()
        if not code:
            continue
        if level == "subclass":
            code = code[:4]
        elif level == "group":
            code = code.split("/", 1)[0]
        out.add(code)
    return frozenset(out)


@dataclass(frozen=True)
class EvalOptions:
    """What ``search eval`` measures, in the words of its options: the ``label`` field, the
    code ``levels``, a seeded ``sample`` of query documents, ``k`` neighbours judged, the
    ``modes`` measured (empty: every mode), the ``title`` field of the known-item queries
    (None: the collection's title field), ``known_items`` (False: no MRR, for documents
    that have no titles) and ``tune``."""

    label: str
    levels: tuple[str, ...] = ("subclass", "group")
    sample: int = DEFAULT_SAMPLE
    k: int = DEFAULT_K
    seed: int = 0
    modes: tuple[str, ...] = ()
    title: str | None = None
    tune: bool = False
    known_items: bool = True

    def __post_init__(self) -> None:
        levels = tuple(dict.fromkeys(self.levels)) or ("subclass",)
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "modes", tuple(self.modes))

    def validate(self) -> EvalOptions:
        for level in self.levels:
            if level not in LEVELS:
                raise UserInputError(
                    f"{setting('level')} must be one of {', '.join(LEVELS)}, not {level!r}"
                )
        if self.sample < 2:
            raise UserInputError(f"{setting('sample')} must be at least 2, not {self.sample}")
        if self.k < 1:
            raise UserInputError(f"-k must be at least 1, not {self.k}")
        for mode in self.modes:
            if mode not in MODES:
                raise UserInputError(
                    f"{setting('mode')} must be one of {', '.join(MODES)} or all, not {mode!r}"
                )
        return self

    def measured(self) -> tuple[str, ...]:
        """The modes measured, in order."""
        return self.modes or MODES


def evaluate(
    options: EvalOptions, session: Session | None = None, *, progress: ProgressFn | None = None
) -> EvalReport:
    """P@k per mode and level, and known-item MRR@10 per mode, on a seeded sample of the
    session's collection (None: a session of the environment's store, for this call)."""
    options.validate()
    if session is None:
        with Session() as own:
            return evaluate(options, own, progress=progress)
    opened = session.open()
    info = label_field(opened, options.label)
    title_field = _title(opened, options.title) if options.known_items else None
    needs_model = title_field is not None and any(
        m != "keyword" for m in (*options.measured(), *(MODES if options.tune else ()))
    )
    emb = session.embedder() if needs_model else None
    opened = session.open()
    docs = _documents(opened, info, title_field)
    labelled = [d for d in docs if d.labels]
    if len(labelled) < 2:
        raise UserInputError(
            f"collection '{opened.name}': fewer than 2 documents have a '{info}' label",
            f"choose a label field with values, e.g. {setting('label')} ipc",
        )
    rng = random.Random(options.seed)
    picked = rng.sample(labelled, min(options.sample, len(labelled)))
    levels = list(options.levels)
    report = EvalReport(opened.name, info, title_field, levels, len(picked), options.seed)
    by_id = {d.id: d for d in docs}
    judge = _Judge(opened, by_id, levels, options.k, emb, title_field, progress)
    for mode in options.measured():
        retrieval = choose_retrieval(opened, mode)
        report.rows.extend(judge.measure(retrieval, picked))
    if options.tune:
        report.tuning = _tune(opened, judge, picked, rng, levels[0], label=info)
    return report


@dataclass
class _Doc:
    id: str
    labels: dict[str, frozenset[str]]
    title: str | None


def label_field(opened: OpenCollection, label: str) -> str:
    try:
        info = resolve_field(label, opened.fields)
    except PatentSimError as exc:
        raise UserInputError(f"{setting('label')}: {exc.message}", exc.hint) from None
    if info.type not in ("keyword", "text") or info.name.startswith("_"):
        usable = [f for f, i in opened.fields.items() if i.list and not f.startswith("_")]
        raise UserInputError(
            f"{setting('label')}: '{info.name}' is a {info.type} field; labels are codes "
            "(keyword fields)",
            "list fields here: " + (", ".join(usable) if usable else "none"),
        )
    return info.name


def _title(opened: OpenCollection, title: str | None) -> str | None:
    if title is None:
        return opened.title_field
    try:
        return resolve_field(title, opened.fields).name
    except PatentSimError as exc:
        raise UserInputError(f"{setting('title')}: {exc.message}", exc.hint) from None


def _documents(
    opened: OpenCollection, label: str, title: str | None, *, limit: int | None = None
) -> list[_Doc]:
    wanted = [label, *([title] if title else [])]
    docs = []
    for p in islice(opened.coll.scroll(with_payload=wanted, batch=1024), limit):
        value = p.payload.get(label)
        labels = {lvl: label_codes(value, lvl) for lvl in LEVELS}
        name = _str(p.payload.get(title)) if title else None
        docs.append(_Doc(p.id, labels if labels["full"] else {}, name))
    docs.sort(key=lambda d: d.id)  # the sample depends on the seed only, not on storage order
    return docs


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class _Judge:
    """Runs the queries of one mode and scores them."""

    def __init__(
        self,
        opened: OpenCollection,
        docs: dict[str, _Doc],
        levels: list[str],
        k: int,
        emb: QueryEmbedder | None,
        title_field: str | None,
        progress: ProgressFn | None,
    ) -> None:
        self.opened = opened
        self.docs = docs
        self.levels = levels
        self.k = k
        self.emb = emb
        self.title_field = title_field
        self.progress = progress
        self._points: dict[str, StoredPoint] = {}
        self._titles: dict[str, list[float]] = {}

    def point(self, pid: str) -> StoredPoint:
        if pid not in self._points:
            for p in self.opened.coll.retrieve([pid], with_vectors=True, with_payload=False):
                self._points[pid] = p
        return self._points[pid]

    def neighbours(self, retrieval: Retrieval, doc: _Doc) -> list[str]:
        p = self.point(doc.id)
        run = runner(self.opened, retrieval, p.vector, p.sparse or SparseVector((), ()))
        hits = top_hits(run, None, QueryOptions(limit=self.k), group=None, exclude=doc.id)
        return [h.id for h in hits]

    def precision(self, retrieval: Retrieval, sample: Sequence[_Doc], level: str) -> float:
        return self.precisions(retrieval, sample, [level])[level]

    def precisions(
        self, retrieval: Retrieval, sample: Sequence[_Doc], levels: Sequence[str]
    ) -> dict[str, float]:
        """Mean P@k per level (one query per document for all the levels)."""
        total = dict.fromkeys(levels, 0.0)
        for doc in sample:
            got = [self.docs[pid].labels for pid in self.neighbours(retrieval, doc)]
            for level in levels:
                near = [labels.get(level, _NONE) for labels in got]
                total[level] += precision_at_k(doc.labels[level], near, self.k)
        return {lvl: round(v / len(sample), 4) if sample else 0.0 for lvl, v in total.items()}

    def mrr(self, retrieval: Retrieval, sample: Sequence[_Doc]) -> float | None:
        titled = [d for d in sample if d.title]
        if not titled:
            return None
        self._encode_titles(retrieval, titled)
        total = 0.0
        for doc in titled:
            assert doc.title is not None
            run = self._text_run(retrieval, doc)
            if run is None:
                continue
            top = top_hits(run, None, QueryOptions(limit=MRR_DEPTH), group=None, exclude=None)
            total += reciprocal_rank(top, doc.id)
        return round(total / len(titled), 4)

    def _encode_titles(self, retrieval: Retrieval, docs: Sequence[_Doc]) -> None:
        if retrieval.mode == "keyword" or self.emb is None:
            return
        todo = [d for d in docs if d.id not in self._titles]
        if todo:
            vectors = self.emb.encode([str(d.title) for d in todo], query=True)
            for d, v in zip(todo, vectors):
                self._titles[d.id] = [float(x) for x in v]

    def _text_run(self, retrieval: Retrieval, doc: _Doc) -> Any:
        assert doc.title is not None
        if retrieval.mode == "keyword":
            try:
                return text_runner(self.opened, retrieval, None, doc.title)
            except UserInputError:  # a title of stop words only: no keyword query
                return None
        assert self.emb is not None
        cached = _Cached(self._titles[doc.id], self.emb)
        try:
            return text_runner(self.opened, retrieval, cached, doc.title)
        except UserInputError:
            return None

    def measure(self, retrieval: Retrieval, sample: Sequence[_Doc]) -> list[EvalRow]:
        if self.progress:
            self.progress(f"eval: {retrieval.describe()} on {len(sample)} documents")
        mrr = self.mrr(retrieval, sample) if self.title_field else None
        found = self.precisions(retrieval, sample, self.levels)
        return [
            EvalRow(
                retrieval.mode,
                level,
                self.k,
                len(sample),
                found[level],
                mrr,
                retrieval.describe(),
            )
            for level in self.levels
        ]


class _Cached:
    """An embedder that answers with a vector already computed (batch-encoded titles)."""

    def __init__(self, vector: list[float], real: QueryEmbedder) -> None:
        self.vector = vector
        self.name = real.name
        self.fingerprint = real.fingerprint
        self.dimension = real.dimension

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any:
        return [self.vector]


def candidates(has_keyword: bool) -> list[Retrieval]:
    """What --tune tries."""
    out = [Retrieval("dense")]
    if has_keyword:
        out.append(Retrieval("keyword"))
        out.extend(Retrieval("hybrid", "rrf", w) for w in TUNE_WEIGHTS)
        out.append(Retrieval("hybrid", "dbsf"))
    return out


def _tune(
    opened: OpenCollection,
    judge: _Judge,
    picked: list[_Doc],
    rng: random.Random,
    level: str,
    *,
    label: str,
) -> Tuning:
    shuffled = list(picked)
    rng.shuffle(shuffled)
    half = len(shuffled) // 2
    tune_half, test_half = shuffled[:half], shuffled[half:]
    if not tune_half or not test_half:
        raise UserInputError(
            f"{setting('tune')} needs a {setting('sample')} of at least 4 labelled documents"
        )
    tried = []
    best: tuple[float, int, Retrieval] | None = None
    for i, cand in enumerate(candidates(opened.has_keyword())):
        score = judge.precision(cand, tune_half, level)
        tried.append((cand.describe(), score))
        if best is None or score > best[0]:
            best = (score, i, cand)
    assert best is not None
    winner = best[2]
    previous = Retrieval.from_manifest(opened.manifest.search)
    if previous.mode != "dense" and not opened.has_keyword():
        previous = Retrieval("dense")
    saved_levels = judge.levels
    judge.levels = [level]
    try:
        before = judge.measure(previous, test_half)
        after = judge.measure(winner, test_half)
    finally:
        judge.levels = saved_levels
    manifest = opened.coll.read_manifest()
    manifest.search = winner.to_manifest(
        f"search eval --tune: P@{judge.k} {level} of '{label}' on {len(tune_half)} documents"
    )
    manifest.touch()
    opened.coll.write_manifest(manifest)
    opened.manifest = manifest
    return Tuning(tried, before, after, manifest.search.to_dict(), len(tune_half))


# -- the measured default mode of a new collection ---------------------------------------------

MEASURE_SAMPLE = 200  # query documents of the measurement after a load
MEASURE_MIN = 50  # fewer labelled documents than this: nothing is measured
# The sample is drawn from the first points in id order (point ids are hashes of the keys, so
# these are documents in no particular order); others' labels are read when a query finds them.
MEASURE_POOL = 5000


# A code that looks like an IPC/CPC symbol (section, class, subclass): "B24B", "G06F9/30".
def classification_field(coll: Any, fields: dict[str, FieldSpec]) -> str | None:
    """The collection's label field: a keyword field whose values are IPC/CPC codes (80% of
    the codes of its first documents) in at least half of them; a name with ipc/cpc first."""
    candidates = [
        name
        for name, spec in fields.items()
        if not name.startswith("_") and (spec.value_type or spec.type) == "keyword"
    ]
    if not candidates:
        return None
    seen = 0
    have = dict.fromkeys(candidates, 0)
    codes_ok = dict.fromkeys(candidates, 0)
    codes_all = dict.fromkeys(candidates, 0)
    for point in islice(coll.scroll(with_payload=candidates, batch=256), 300):
        seen += 1
        for name in candidates:
            codes = label_codes(point.payload.get(name), "full")
            if codes:
                have[name] += 1
                codes_all[name] += len(codes)
                codes_ok[name] += sum(1 for c in codes if CLASSIFICATION.match(c))
    good = [
        n
        for n in candidates
        if seen and have[n] >= 0.5 * seen and codes_ok[n] >= 0.8 * max(codes_all[n], 1)
    ]
    if not good:
        return None
    return max(good, key=lambda n: (is_classes_name(n), have[n]))


class _LabelsOnDemand(dict[str, _Doc]):
    """Documents by id; one not read yet is read from the store when first asked for."""

    def __init__(self, coll: Any, label: str) -> None:
        super().__init__()
        self.coll = coll
        self.label = label

    def __missing__(self, pid: str) -> _Doc:
        value = None
        for p in self.coll.retrieve([pid], with_payload=True):
            value = p.payload.get(self.label)
        labels = {lvl: label_codes(value, lvl) for lvl in LEVELS}
        doc = _Doc(pid, labels if labels["full"] else {}, None)
        self[pid] = doc
        return doc


def measure_modes(
    coll: Any,
    manifest: Manifest,
    *,
    name: str = "",
    sample: int = MEASURE_SAMPLE,
    seed: int = 0,
    k: int = DEFAULT_K,
) -> Measured:
    """P@k of each mode (subclass and main group averaged) on a seeded sample of the
    collection's labelled documents, from the stored vectors (nothing is embedded): what
    ``ingest load`` decides the default mode by."""
    from .where import fields_of

    levels = ("subclass", "group")
    label = classification_field(coll, manifest.fields)
    if label is None:
        return Measured(None, 0, k, levels, {}, "no label field (IPC/CPC codes)")
    opened = OpenCollection(name or manifest.collection, coll, manifest, fields_of(manifest))
    docs = _documents(opened, label, None, limit=MEASURE_POOL)
    labelled = [d for d in docs if d.labels]
    if len(labelled) < MEASURE_MIN:
        return Measured(label, 0, k, levels, {}, f"{len(labelled)} labelled documents: too few")
    picked = random.Random(seed).sample(labelled, min(sample, len(labelled)))
    known = _LabelsOnDemand(coll, label)
    known.update({d.id: d for d in docs})
    judge = _Judge(opened, known, list(levels), k, None, None, None)
    modes = [Retrieval("dense")]
    if opened.has_keyword():
        modes += [Retrieval("keyword"), Retrieval("hybrid")]
    scores = {}
    for retrieval in modes:
        found = judge.precisions(retrieval, picked, levels)
        scores[retrieval.mode] = round(sum(found.values()) / len(found), 4)
    return Measured(label, len(picked), k, levels, scores)
