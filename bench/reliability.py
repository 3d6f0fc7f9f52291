"""Costs of the reliability checks (issue 24), side by side in one run.

    python -m bench.reliability            # writes its section of BENCHMARKS.md
    python -m bench.reliability --no-write

1. Wide files: ``ingest load --keyword-only`` (no model: the payload indexes are what is
   measured) of 300 columns x 3 rows, with the index budget (``ingest/indexing.py``) and
   with an index for every column as before, in process, one after the other; and 10,000
   columns with the budget (every column indexed would take hours).
2. The opening check of an embedded collection (``store/health.py``): opening a 5,000-point
   collection with and without it, alternating, in process.
3. Disk space (``store/space.py``): the peak a load of 2,000 rows (384-d vectors) takes on a
   file system of its own, ext4 and tmpfs, against the estimate it is checked with (root
   only: it mounts them; otherwise left out and said so).
4. Marking near-duplicates (``search dups --mark``, ``store/space.py``'s ``update_bytes``):
   the peak of a first marking (a new index, groups of pairs) and of a second one that
   rewrites every mark, on 2,000 documents, against the estimate each was checked with
   (``python -m bench.reliability --only mark`` writes its own section).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .common import OUT, ROOT, log, machine

BEGIN = "<!-- reliability: written by python -m bench.reliability -->"
END = "<!-- /reliability -->"
MARK_BEGIN = "<!-- reliability-mark: written by python -m bench.reliability --only mark -->"
MARK_END = "<!-- /reliability-mark -->"


def _wide_csv(path: Path, columns: int, rows: int = 3) -> Path:
    rng = random.Random(columns)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", *(f"c{i}" for i in range(columns - 2))])
        for r in range(rows):
            cells = [rng.choice([str(rng.randint(0, 99)), f"x{r}", "2020-01-0" + str(r + 1)])]
            w.writerow([r, f"battery cooling loop {r}", *(cells * (columns - 2))])
    return path


def _load_seconds(path: Path, budget: int | None) -> float:
    from patentsim.ingest import indexing
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings

    store = Path(tempfile.mkdtemp(dir=OUT, prefix="wide-"))
    saved = indexing.MAX_FIELD_INDEXES
    if budget is not None:
        indexing.MAX_FIELD_INDEXES = budget
    try:
        started = time.perf_counter()
        load(
            path,
            LoadSettings(
                store_settings=StoreSettings(path=str(store)),
                collection="w",
                id_column="id",
                keyword_only=True,
            ),
        )
        return round(time.perf_counter() - started, 2)
    finally:
        indexing.MAX_FIELD_INDEXES = saved
        shutil.rmtree(store, ignore_errors=True)


def wide() -> dict[str, Any]:
    p300 = _wide_csv(OUT / "wide300.csv", 300)
    p10k = _wide_csv(OUT / "wide10000.csv", 10_000)
    log("300 columns with the budget, then with an index per column")
    budget = _load_seconds(p300, None)
    every = _load_seconds(p300, 10**9)
    log("10,000 columns with the budget")
    big = _load_seconds(p10k, None)
    return {"300_budget_s": budget, "300_every_column_s": every, "10000_budget_s": big}


def opening(points: int = 5000, rounds: int = 40) -> dict[str, Any]:
    import numpy as np

    from patentsim.store import StoreSettings, open_store
    from patentsim.store.backend import CreateOptions, PointData
    from patentsim.store.edge import EdgeStore
    from patentsim.store.ids import point_id
    from patentsim.store.manifest import Manifest, ModelRecord

    folder = Path(tempfile.mkdtemp(dir=OUT, prefix="open-"))
    store = open_store(StoreSettings(path=str(folder)))
    rng = np.random.default_rng(0)
    try:
        model = ModelRecord(name="bench", fingerprint="b", dimension=384)
        coll = store.create(
            "o",
            384,
            Manifest.new(name="o", model=model, text_columns=["t"], id_column=None),
            CreateOptions(),
        )
        vectors = rng.normal(size=(points, 384)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for i in range(0, points, 500):
            coll.upsert(
                [
                    PointData(
                        point_id(str(j)),
                        vectors[j].tolist(),
                        {"_key": str(j), "_row": j, "_hash": "h"},
                    )
                    for j in range(i, min(points, i + 500))
                ]
            )
        manifest = coll.read_manifest()
        manifest.state, manifest.points = "ready", points
        coll.write_manifest(manifest)
        coll.optimize()
    finally:
        store.close()
    # What a command pays: the open, and a first query (the check reads a few vectors
    # first, which the query would have read: it moves a first read, and adds its own).
    times: dict[tuple[bool, bool], list[float]] = {}
    query = vectors[0].tolist()
    for _ in range(rounds):
        for verify in (False, True):
            s = EdgeStore(folder)
            started = time.perf_counter()
            coll = s.open("o", verify=verify)
            opened = time.perf_counter()
            coll.query(query, limit=10)
            done = time.perf_counter()
            s.close()
            times.setdefault((verify, False), []).append(opened - started)
            times.setdefault((verify, True), []).append(done - started)
    shutil.rmtree(folder, ignore_errors=True)
    ms = {k: round(statistics.median(v) * 1000, 2) for k, v in times.items()}
    return {
        "points": points,
        "rounds": rounds,
        "open_ms": ms[(False, False)],
        "open_checked_ms": ms[(True, False)],
        "open_query_ms": ms[(False, True)],
        "open_query_checked_ms": ms[(True, True)],
    }


def _mount(kind: str, size: int) -> Path | None:
    if os.geteuid() != 0:
        return None
    target = Path(tempfile.mkdtemp(dir=OUT, prefix=f"disk-{kind}-"))
    if kind == "tmpfs":
        cmd = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)]
    else:
        image = target.with_suffix(".img")
        with open(image, "wb") as fh:
            fh.truncate(size)
        subprocess.run(
            ["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=False, capture_output=True
        )
        cmd = ["mount", "-o", "loop", str(image), str(target)]
    if subprocess.run(cmd, capture_output=True, check=False).returncode:
        return None
    return target


def disk(rows: int = 2000) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings, space
    from tests.fakes import FakeEmbedder

    source = OUT / "space.csv"
    with open(source, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", "applicant", "application_date"])
        for i in range(rows):
            w.writerow(
                [
                    i,
                    f"배터리 냉각 장치 {i}: 셀의 열을 관리하는 냉각 루프와 센서 " * 4,
                    ["LG", "SK", "삼성"][i % 3],
                    f"2020-01-{i % 28 + 1:02d}",
                ]
            )
    out: dict[str, Any] = {"rows": rows}
    real = space.ensure
    for kind in ("ext4", "tmpfs"):
        target = _mount(kind, 1 << 30)
        if target is None:
            out[kind] = None
            continue
        try:
            base = space.free_bytes(target)
            low = [base]
            stop = threading.Event()

            def watch(
                target: Path = target, low: list[int] = low, stop: threading.Event = stop
            ) -> None:
                while not stop.is_set():
                    low[0] = min(low[0], space.free_bytes(target))
                    time.sleep(0.01)

            watcher = threading.Thread(target=watch)
            watcher.start()
            estimate: dict[str, int] = {}

            def ensure(
                folder: Path, need: int, what: str, estimate: dict[str, int] = estimate
            ) -> None:
                estimate.setdefault("first", need)  # the load's check, before anything
                real(folder, need, what)

            space.ensure = ensure
            try:
                load(
                    source,
                    LoadSettings(
                        store_settings=StoreSettings(path=str(target / "s")),
                        collection="k",
                        id_column="id",
                    ),
                    embedder=FakeEmbedder(384),
                )
            finally:
                space.ensure = real
                stop.set()
                watcher.join()
            settings = StoreSettings(path=str(target / "s"))
            from patentsim.store import open_store

            s = open_store(settings)
            s.open("k")
            s.close()
            peak = base - min(low[0], space.free_bytes(target))
            out[kind] = {
                "peak_mb": round(peak / 2**20, 1),
                "estimate_mb": round(estimate["first"] / 2**20, 1),
                "ratio": round(estimate["first"] / max(peak, 1), 2),
            }
        finally:
            subprocess.run(["umount", "-l", str(target)], check=False)
    return out


def _peak(target: Path, run: Any) -> int:
    """The most bytes of ``target``'s file system that ``run()`` took at once."""
    from patentsim.store import space

    base = space.free_bytes(target)
    low = [base]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            low[0] = min(low[0], space.free_bytes(target))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run()
    finally:
        stop.set()
        watcher.join()
    return base - min(low[0], space.free_bytes(target))


def mark(rows: int = 2000) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.search import Session
    from patentsim.search.dups import DupOptions, find_duplicates
    from patentsim.store import StoreSettings, space
    from tests.fakes import FakeEmbedder

    source = OUT / "marks.csv"
    with open(source, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", "applicant", "application_date"])
        for i in range(rows):
            text = f"배터리 냉각 장치 {i // 2}: 셀의 열을 관리하는 냉각 루프와 센서 " * 4
            w.writerow([i, text, ["LG", "SK", "삼성"][i % 3], f"2020-01-{i % 28 + 1:02d}"])
    out: dict[str, Any] = {"rows": rows}
    real = space.ensure
    for kind in ("ext4", "tmpfs"):
        target = _mount(kind, 1 << 30)
        if target is None:
            out[kind] = None
            continue
        try:
            settings = StoreSettings(path=str(target / "s"))
            load(
                source,
                LoadSettings(store_settings=settings, collection="k", id_column="id"),
                embedder=FakeEmbedder(384),
            )
            with Session(settings, "k") as session:
                session.open()  # the open's own writes are not the marking's
            runs = []
            for threshold in (0.999, None):  # pairs (a new index), then one rewrite of all
                checked: list[int] = []

                def ensure(folder: Path, need: int, what: str, checked: list = checked) -> None:
                    if what.startswith("marking"):
                        checked.append(need)
                    real(folder, need, what)

                found: list[Any] = []

                def run(
                    threshold: float | None = threshold,
                    settings: StoreSettings = settings,
                    found: list[Any] = found,
                ) -> None:
                    with Session(settings, "k") as session:
                        found.append(find_duplicates(session, DupOptions(threshold, mark=True)))

                space.ensure = ensure
                try:
                    peak = _peak(target, run)
                finally:
                    space.ensure = real
                runs.append(
                    {
                        "groups": len(found[0].groups),
                        "marked": found[0].marked,
                        "peak_mb": round(peak / 2**20, 2),
                        "estimate_mb": round(checked[0] / 2**20, 2),
                        "ratio": round(checked[0] / max(peak, 1), 2),
                    }
                )
            out[kind] = runs
        finally:
            subprocess.run(["umount", "-l", str(target)], check=False)
    return out


def mark_section(r: dict[str, Any]) -> str:
    m, d = r["machine"], r["mark"]
    lines = [
        MARK_BEGIN,
        "### Disk space of `search dups --mark`",
        "",
        f"- Run: `python -m bench.reliability --only mark` on {r['started']}, in process, on "
        f"a machine shared with other developers (load average {r['load_average'][0]} at the "
        f"start, {r['load_average'][1]} at the end); {m.get('cpu', '?')}, "
        f"{m.get('cores', '?')} cores; {d['rows']:,} documents of 384-d vectors (fake "
        "embedder), texts in pairs, whole payloads of about 840 bytes as JSON.",
        "- The check (`store/space.py`, `update_bytes`): each marked document's whole payload "
        "and its mark `PAYLOAD_FACTOR` times, 64 bytes for its id in the log, the "
        "`_dup_group` index where it is new, the manifest, and on tmpfs the collection's "
        "unread files (what the engine's reads may allocate there: about "
        f"{_holes_mb(d)} MB of the tmpfs estimates, which the peak of one marking does not "
        "show).",
        "",
        "| file system | marking | groups | documents marked | peak MB | estimate MB | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in ("ext4", "tmpfs"):
        runs = d.get(kind)
        if runs is None:
            lines.append(f"| {kind} | not measured (mounting needs root) | | | | | |")
            continue
        for name, x in zip(("first (new index)", "again (all rewritten)"), runs):
            lines.append(
                f"| {kind} | {name} | {x['groups']:,} | {x['marked']:,} | {x['peak_mb']} | "
                f"{x['estimate_mb']} | {x['ratio']}x |"
            )
    lines.append(MARK_END)
    return "\n".join(lines)


def _holes_mb(d: dict[str, Any]) -> str:
    """The tmpfs estimate's unread files: its estimate less ext4's, of the same marking."""
    if not d.get("tmpfs") or not d.get("ext4"):
        return "?"
    return f"{d['tmpfs'][1]['estimate_mb'] - d['ext4'][1]['estimate_mb']:.0f}"


def keep_mark_section(old: str, fresh: str) -> str:
    """``old`` with the marking section replaced by ``fresh`` (placed after the reliability
    section the first time)."""
    if MARK_BEGIN in old and MARK_END in old:
        head, rest = old.split(MARK_BEGIN, 1)
        return head + fresh + rest.split(MARK_END, 1)[1]
    if END in old:
        head, rest = old.split(END, 1)
        return head + END + "\n\n" + fresh + rest
    return old.rstrip("\n") + "\n\n" + fresh + "\n"


def section(r: dict[str, Any]) -> str:
    w, o, d, m = r["wide"], r["opening"], r["disk"], r["machine"]
    lines = [
        BEGIN,
        "## Reliability checks: wide files, the opening check, disk space",
        "",
        f"- Run: `python -m bench.reliability` on {r['started']}, in process, on a machine "
        f"shared with other developers (load average {r['load_average'][0]} at the start, "
        f"{r['load_average'][1]} at the end); {m.get('cpu', '?')}, {m.get('cores', '?')} cores.",
        "",
        "| load (`--keyword-only`, 3 rows) | seconds |",
        "|---|---|",
        f"| 300 columns, an index per column (before) | {w['300_every_column_s']:.1f} |",
        f"| 300 columns, at most 32 indexed | {w['300_budget_s']:.1f} |",
        f"| 10,000 columns, at most 32 indexed | {w['10000_budget_s']:.1f} |",
        "",
        f"- Opening a {o['points']:,}-point collection (384-d) and answering a first query: "
        f"{o['open_query_ms']:.1f} ms without the opening check, "
        f"{o['open_query_checked_ms']:.1f} ms with it; the open alone "
        f"{o['open_ms']:.1f} / {o['open_checked_ms']:.1f} ms (medians of {o['rounds']}, "
        "alternating; the check's read of three stored vectors is the first read of the "
        "vectors, which the query then finds done).",
    ]
    for kind in ("ext4", "tmpfs"):
        x = d.get(kind)
        if x is None:
            lines.append(f"- Disk space on {kind}: not measured (mounting needs root).")
            continue
        lines.append(
            f"- Disk space on {kind}, {d['rows']:,} rows of 384-d vectors: the load and an open "
            f"took {x['peak_mb']} MB at the peak; the load was checked against an estimate of "
            f"{x['estimate_mb']} MB ({x['ratio']}x)."
        )
    lines.append(END)
    return "\n".join(lines)


def keep_section(old: str, new: str, fresh: str | None = None) -> str:
    """``new`` with this benchmark's section: ``fresh``, else the one ``old`` holds."""
    kept = fresh
    if kept is None and BEGIN in old and END in old:
        kept = BEGIN + old.split(BEGIN, 1)[1].split(END, 1)[0] + END
    if kept is None:
        return new
    if BEGIN in new and END in new:
        head, rest = new.split(BEGIN, 1)
        return head + kept + rest.split(END, 1)[1]
    marker = "\n## Scale"
    if marker in new:
        head, tail = new.split(marker, 1)
        return head.rstrip("\n") + "\n\n" + kept + "\n" + marker + tail
    return new.rstrip("\n") + "\n\n" + kept + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.reliability")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument(
        "--only",
        help="comma-separated parts: wide, opening, disk, mark (the others are taken from the "
        "last run's bench/out/reliability.json; mark alone writes only its own section)",
    )
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    saved = OUT / "reliability.json"
    result: dict[str, Any] = {}
    if args.only and saved.is_file():
        result = json.loads(saved.read_text(encoding="utf-8"))
    result.update(started=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), machine=machine())
    parts = set((args.only or "wide,opening,disk,mark").split(","))
    load_before = [round(x, 2) for x in os.getloadavg()]
    if "wide" in parts:
        result["wide"] = wide()
    if "opening" in parts:
        log("opening check")
        result["opening"] = opening()
    if "disk" in parts:
        log("disk space")
        result["disk"] = disk()
    if "mark" in parts:
        log("disk space of search dups --mark")
        result["mark"] = mark()
    result["load_average"] = [load_before, [round(x, 2) for x in os.getloadavg()]]
    (OUT / "reliability.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    if not args.no_write:
        target = ROOT / "BENCHMARKS.md"
        text = target.read_text(encoding="utf-8")
        if {"wide", "opening", "disk"} <= set(result):
            text = keep_section(text, text, section(result))
            log("wrote the reliability section of BENCHMARKS.md")
        if "mark" in result:
            text = keep_mark_section(text, mark_section(result))
            log("wrote the marking section of BENCHMARKS.md")
        target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
