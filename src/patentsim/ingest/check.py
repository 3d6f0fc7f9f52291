"""``ingest check``: is a collection whole, and if not, what is wrong and how to recover.

Checked, in order (each step only when the ones before it passed):

1. the manifest can be read;
2. embedded store: the shard's files (``store.health.check_files``), then the engine opens
   the shard in a child process first, so that a file that makes the engine abort the
   process is reported instead of ending this one;
3. the engine's point count against the manifest's, and against an exact count;
4. every point has its payload (``_key``, ``_hash``);
5. a sample of points: a dense vector each, not zero and of length 1 (the model's vectors
   are normalised), and keyword vectors where the collection has keyword search;
6. the indexes answer: a sampled document is found by its key, by its row, and by a word
   of its analyzed text; each field the manifest indexes has its index.

The collection is opened without the opening check (``EdgeStore.open(verify=False)``),
which would refuse it at the first problem.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from ..errors import CollectionDamaged, StoreError
from ..store import StoreSettings, health, open_store, pick_collection
from ..store.filters import Filter, HasId, Match, Text
from ..store.manifest import Manifest

SAMPLE = 1000  # points whose vectors are read (the payload of every point is read)
CHILD_TIMEOUT_S = 120  # the engine opening the shard in a child process


@dataclass
class CheckReport:
    collection: str
    backend: str
    location: str
    state: str | None = None
    points: int | None = None  # what the engine holds
    manifest_points: int | None = None
    passed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    recovery: str | None = None

    @property
    def healthy(self) -> bool:
        return not self.problems

    def error(self) -> CollectionDamaged:
        """The one-line verdict for a damaged collection."""
        return CollectionDamaged(
            f"collection '{self.collection}' in {self.location} is damaged: "
            + "; ".join(self.problems),
            self.recovery,
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(asdict(self), healthy=self.healthy)


def check(
    settings: StoreSettings, collection: str | None = None, *, sample: int = SAMPLE
) -> CheckReport:
    """Verify a collection (see the module's docstring); never raises for damage found."""
    store = open_store(settings)
    try:
        name = pick_collection(store, collection)
        report = CheckReport(name, store.kind, store.location)
        from ..store.edge import EdgeStore

        if isinstance(store, EdgeStore):
            coll = _open_embedded(store, name, report)
        else:
            coll = store.open(name)
            report.passed.append("the server answers for the collection")
            _manifest(coll, report)
        if coll is not None and not report.problems:
            from ..store.edge import quiet_stderr

            try:
                with quiet_stderr():  # a panic's own message: the report says it
                    _contents(coll, report, sample)
            except CollectionDamaged as exc:
                report.problems.append(_what(exc))
        return report
    finally:
        store.close()


def _manifest(coll: Any, report: CheckReport) -> Manifest | None:
    try:
        manifest = coll.read_manifest()
    except StoreError as exc:
        report.problems.append(f"its manifest cannot be read ({exc.message})")
        report.recovery = health.recovery(report.collection, [])
        return None
    report.state = manifest.state
    report.manifest_points = health.expected_points(manifest)
    report.recovery = health.recovery(report.collection, health.source_files(manifest))
    report.passed.append("manifest read")
    if report.state != "ready":
        report.notes.append(
            f"its last load did not finish (state {report.state}): run the same "
            "'ingest load' again to finish it; counts are not compared"
        )
    return manifest


def _open_embedded(store: Any, name: str, report: CheckReport) -> Any:
    from ..store.edge import EdgeCollection

    folder = store.root / name
    probe = EdgeCollection(name, folder)
    if _manifest(probe, report) is None:
        return None
    shard = folder / "shard"
    problems = health.check_files(shard, report.manifest_points)
    if problems:
        report.problems.extend(problems)
        return None
    segments = list(health.segment_folders(shard))
    report.passed.append(f"files: {len(segments)} segment(s), id trackers whole")
    crashed = _open_in_child(store.root, name, store.wait)
    if crashed:
        report.problems.append(crashed)
        return None
    try:
        coll = store.open(name, verify=False)
    except CollectionDamaged as exc:
        report.problems.append(_what(exc))
        return None
    report.passed.append("the engine opens it")
    return coll


def _open_in_child(root: Path, name: str, wait: float) -> str | None:
    """Open the shard in another process: what went wrong if the engine ended it."""
    code = (
        "import sys\n"
        "from patentsim.store.edge import EdgeStore\n"
        "from patentsim.errors import PatentSimError\n"
        "store = EdgeStore(sys.argv[1], wait=float(sys.argv[3]))\n"
        "try:\n"
        "    store.open(sys.argv[2], verify=False)\n"
        "except PatentSimError:\n"
        "    pass  # this process reports it again, in its own words\n"
        "finally:\n"
        "    store.close()\n"
    )
    env = dict(os.environ, RUST_BACKTRACE="0")
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(root), name, str(wait)],
            capture_output=True,
            timeout=CHILD_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the engine did not open it within {CHILD_TIMEOUT_S} s"
    if done.returncode >= 0:
        return None
    try:
        how = signal.Signals(-done.returncode).name
    except ValueError:
        how = f"signal {-done.returncode}"
    said = _last_line(done.stderr)
    return f"the engine crashes opening it ({how}{': ' + said if said else ''})"


def _what(exc: CollectionDamaged) -> str:
    """The damage an error names, without the collection's name."""
    return exc.message.split(" is damaged: ", 1)[-1]


def _last_line(raw: bytes) -> str:
    lines = [ln.strip() for ln in raw.decode("utf-8", "replace").splitlines() if ln.strip()]
    return lines[-1][:200] if lines else ""


def _contents(coll: Any, report: CheckReport, sample: int) -> None:
    manifest = coll.read_manifest()
    held = coll.count()
    report.points = held
    expected = report.manifest_points
    if expected is not None and held != expected:
        report.problems.append(f"it holds {held:,} points where its manifest says {expected:,}")
        return
    report.passed.append(
        f"points: {held:,}" + (", as the manifest says" if expected is not None else "")
    )
    missing = []
    seen = 0
    for point in coll.scroll(with_payload=["_key", "_hash"], batch=1024):
        seen += 1
        if not point.payload.get("_key") or not point.payload.get("_hash"):
            missing.append(point.id)
    if seen != held:
        report.problems.append(f"{held:,} points are counted but {seen:,} can be read")
    if missing:
        report.problems.append(
            f"{len(missing):,} points lack their payload (first: point {missing[0]})"
        )
    if seen == held and not missing:
        report.passed.append("payload: every point has its key and hash")
    points = list(islice(coll.scroll(with_vectors=True, batch=256), sample))
    _vectors(points, manifest, report, dense=coll.dense_name is not None)
    if points:
        _indexes(coll, points[0], manifest, report)


def _vectors(
    points: list[Any], manifest: Manifest, report: CheckReport, dense: bool = True
) -> None:
    if not points:
        return
    if not dense:
        report.notes.append("a keyword-only collection: no dense vectors to check")
        _keyword_vectors(points, manifest, report)
        return
    no_vector = [p for p in points if not p.vector]
    zero = [p for p in points if p.vector and not any(p.vector)]
    norms = [math.sqrt(sum(x * x for x in p.vector)) for p in points if p.vector]
    odd = [n for n in norms if n and abs(n - 1.0) > health.NORM_TOLERANCE]

    def key(p: Any) -> str:
        return str(p.payload.get("_key", p.id))

    if no_vector:
        report.problems.append(
            f"{len(no_vector):,} of {len(points):,} sampled points have no vector "
            f"(first: document '{key(no_vector[0])}')"
        )
    if zero:
        report.problems.append(
            f"{len(zero):,} of {len(points):,} sampled vectors are zero "
            f"(first: document '{key(zero[0])}')"
        )
    if odd:
        report.problems.append(
            f"{len(odd):,} of {len(points):,} sampled vectors are not of length 1 "
            f"(e.g. {odd[0]:.3f}): the stored vectors are damaged"
        )
    if not (no_vector or zero or odd):
        report.passed.append(f"vectors: {len(points):,} sampled, present, normalised")
    _keyword_vectors(points, manifest, report)


def _keyword_vectors(points: list[Any], manifest: Manifest, report: CheckReport) -> None:
    if manifest.keyword is not None:
        if all(p.sparse is None or not p.sparse.indices for p in points):
            report.problems.append(f"none of {len(points):,} sampled points has a keyword vector")
        else:
            report.passed.append("keyword vectors present")


def _indexes(coll: Any, point: Any, manifest: Manifest, report: CheckReport) -> None:
    payload = point.payload
    failed = []
    if coll.count(Filter(must=(Match("_key", (str(payload.get("_key")),)),))) < 1:
        failed.append(f"the key index does not find document '{payload.get('_key')}'")
    row = payload.get("_row")
    if isinstance(row, int) and coll.count(Filter(must=(Match("_row", (row,)),))) < 1:
        failed.append(f"the row index does not find row {row}")
    terms_field = next(
        (spec.terms for spec in manifest.fields.values() if spec.terms and payload.get(spec.terms)),
        None,
    )
    if terms_field:
        word = str(payload[terms_field]).split()[0]
        found = coll.count(Filter(must=(Text(terms_field, word), HasId((point.id,)))))
        if found != 1:
            failed.append(f"the keyword index does not find '{word}' in its own document")
    wanted = {name: spec.index for name, spec in manifest.fields.items() if spec.index}
    have = coll.indexes()
    lacking = sorted(n for n, kind in wanted.items() if n not in have)
    if report.backend == "embedded" and lacking:
        failed.append("fields without their index: " + ", ".join(lacking[:10]))
    if failed:
        report.problems.extend(failed)
    else:
        report.passed.append("indexes answer (key, row" + (", keyword)" if terms_field else ")"))
