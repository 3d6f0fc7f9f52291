"""Shared helpers of the benchmark: paths, the machine, timing, data slices, caches."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# The shared real data beside the checkout; BENCH_DATA names another folder (a worktree's).
DATA = Path(os.environ.get("BENCH_DATA") or ROOT.parent / "shared" / "data")
NVIDIA_XLSX = DATA / "patents_nvidia.xlsx"
EN_CSV = DATA / "patents_en.csv"
OUT = ROOT / "bench" / "out"
BIN = Path(sys.executable).parent


def log(message: str) -> None:
    """Progress of the benchmark, on stderr (the JSON report goes to stdout)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    versions = {}
    for name in (
        "torch",
        "sentence_transformers",
        "transformers",
        "onnxruntime",
        "qdrant_edge",
        "numpy",
    ):
        versions[name] = package_version(name)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "gpu": gpu_name(),
        "python": platform.python_version(),
        "versions": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def package_version(name: str) -> str | None:
    from importlib import metadata

    dist = {
        "sentence_transformers": "sentence-transformers",
        "qdrant_edge": "qdrant-edge-py",
    }.get(name, name)
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def gpu_name() -> str | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = [n.strip() for n in out.stdout.splitlines() if n.strip()]
    return ", ".join(names) or None


# -- timing -------------------------------------------------------------------------------


@dataclass
class Run:
    seconds: float
    returncode: int
    stdout: str
    stderr: str
    max_rss_mib: float
    cpu_seconds: float = 0.0
    # Peaks of the sampled anonymous / file-backed resident memory (0: not sampled).
    peak_anon_mib: float = 0.0
    peak_file_mib: float = 0.0


def bench_env(**extra: str) -> dict[str, str]:
    """The environment of every child process: offline, quiet, the same for both sides."""
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    env.pop("QDRANT_URL", None)
    env.update(extra)
    return env


def run_process(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
) -> Run:
    """Run one command; its wall time and its own peak resident memory (wait4)."""
    if cwd is None:
        OUT.mkdir(parents=True, exist_ok=True)  # a fresh clone has no bench/out yet
    started = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or bench_env(),
        cwd=str(cwd or OUT),
    )
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    # communicate() has reaped the child; its rusage is in RUSAGE_CHILDREN only as a maximum
    # over all children, so children that must be compared run through `rss_wrapper` instead.
    return Run(seconds, proc.returncode, stdout, stderr, 0.0)


# Runs the command as its child; reports the child's peak RSS and CPU time (wait4) and, sampled
# every 0.1 s from /proc while it runs, its peak anonymous and file-backed resident memory
# (Linux).  BENCH_CGROUP_PROCS names a cgroup's procs file: the child joins that cgroup before
# it starts the command (``MemoryCgroup``).  A thread samples, the main thread blocks in
# wait4: the wall time is not rounded up to a sampling interval.
RSS_WRAPPER = (
    "import os, sys, threading, time\n"
    "procs = os.environ.pop('BENCH_CGROUP_PROCS', '')\n"
    "t = time.perf_counter()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    if procs:\n"
    "        with open(procs, 'w') as fh:\n"
    "            fh.write(str(os.getpid()))\n"
    "    os.execvp(sys.argv[1], sys.argv[1:])\n"
    "peak = {'RssAnon': 0, 'RssFile': 0}\n"
    "def sample():\n"
    "    while True:\n"
    "        try:\n"
    "            with open('/proc/%d/status' % pid) as fh:\n"
    "                for line in fh:\n"
    "                    key, _, value = line.partition(':')\n"
    "                    if key in peak:\n"
    "                        peak[key] = max(peak[key], int(value.split()[0]))\n"
    "        except (OSError, ValueError):\n"
    "            return\n"
    "        time.sleep(0.1)\n"
    "threading.Thread(target=sample, daemon=True).start()\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "sys.stderr.write('\\nRSS_KIB %d WALL %.6f CPU %.6f ANON_KIB %d FILE_KIB %d\\n' % (\n"
    "    usage.ru_maxrss, time.perf_counter() - t, usage.ru_utime + usage.ru_stime,\n"
    "    peak['RssAnon'], peak['RssFile']))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def run_measured(
    cmd: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900,
    cgroup: MemoryCgroup | None = None,
) -> Run:
    """Like ``run_process``, with the child's own peak RSS and CPU time (a fork/wait4 wrapper);
    with ``cgroup``, the command runs inside it.

    CPU time (user + system, all threads) is the noise-robust companion of wall
    time on a shared machine: other processes stretch wall time, not it.
    """
    if cgroup is not None:
        env = dict(env or bench_env(), BENCH_CGROUP_PROCS=cgroup.procs)
    run = run_process([sys.executable, "-c", RSS_WRAPPER, *cmd], env=env, cwd=cwd, timeout=timeout)
    rss = 0.0
    for line in run.stderr.splitlines():
        if line.startswith("RSS_KIB "):
            parts = line.split()
            rss = int(parts[1]) / 1024
            run.seconds = float(parts[3])
            run.cpu_seconds = round(float(parts[5]), 2)
            if len(parts) >= 10:
                run.peak_anon_mib = round(int(parts[7]) / 1024, 1)
                run.peak_file_mib = round(int(parts[9]) / 1024, 1)
    run.max_rss_mib = round(rss, 1)
    return run


class MemoryCgroup:
    """A memory cgroup limited to ``limit_mib`` that ``run_measured(..., cgroup=)`` starts
    its command in (cgroup v1 ``memory`` or v2; needs the right to create one, e.g. root).

    The limit charges the process's anonymous memory and the page cache of the files it
    reads and writes together; past it the kernel reclaims page cache and, when nothing is
    left to reclaim, kills the process.  ``available()`` says why not where it cannot be used.
    """

    V1 = Path("/sys/fs/cgroup/memory")
    V2 = Path("/sys/fs/cgroup")

    def __init__(self, limit_mib: float) -> None:
        self.limit_mib = limit_mib
        self.path: Path | None = None
        self.v2 = False

    @classmethod
    def available(cls) -> str | None:
        """None when a memory cgroup can be made here, else the reason it cannot."""
        if (cls.V1 / "memory.limit_in_bytes").is_file():
            parent = cls.V1
        elif "memory" in _read(cls.V2 / "cgroup.subtree_control").split():
            parent = cls.V2
        else:
            return "no cgroup memory controller here"
        if not os.access(parent, os.W_OK):
            return f"no right to create a cgroup under {parent}"
        return None

    def __enter__(self) -> MemoryCgroup:
        why = self.available()
        if why:
            raise RuntimeError(why)
        self.v2 = not (self.V1 / "memory.limit_in_bytes").is_file()
        self.path = (self.V2 if self.v2 else self.V1) / f"patentsim-bench-{os.getpid()}"
        self.path.mkdir(exist_ok=True)
        limit = str(int(self.limit_mib * 1024 * 1024))
        (self.path / ("memory.max" if self.v2 else "memory.limit_in_bytes")).write_text(limit)
        if self.v2:
            (self.path / "memory.swap.max").write_text("0")
        else:
            (self.path / "memory.swappiness").write_text("0")
        return self

    @property
    def procs(self) -> str:
        assert self.path is not None
        return str(self.path / "cgroup.procs")

    def stats(self) -> dict[str, Any]:
        """Its peak charge, how often it reached the limit, and OOM kills."""
        assert self.path is not None
        if self.v2:
            events = dict(
                line.split() for line in _read(self.path / "memory.events").splitlines() if line
            )
            peak = _read(self.path / "memory.peak").strip()
            return {
                "peak_charged_mib": round(int(peak) / 2**20) if peak else None,
                "times_at_limit": int(events.get("max", 0)),
                "oom_kills": int(events.get("oom_kill", 0)),
            }
        oom = dict(
            line.split() for line in _read(self.path / "memory.oom_control").splitlines() if line
        )
        return {
            "peak_charged_mib": round(int(_read(self.path / "memory.max_usage_in_bytes")) / 2**20),
            "times_at_limit": int(_read(self.path / "memory.failcnt")),
            "oom_kills": int(oom.get("oom_kill", 0)),
        }

    def __exit__(self, *exc: object) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):  # a process still in it: left as it is
                self.path.rmdir()


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def own_peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    """Median and p99 of latencies in seconds, as milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "n": len(ordered),
    }


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, digits)


# -- data -------------------------------------------------------------------------------------


def read_xlsx(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of the first sheet as dicts (openpyxl read-only; no pandas)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb[wb.sheetnames[0]]
    rows: list[dict[str, Any]] = []
    header: list[str] = []
    for i, values in enumerate(ws.iter_rows(values_only=True)):
        if i == 0:
            header = [str(v) for v in values]
            continue
        rows.append(dict(zip(header, values)))
        if limit is not None and len(rows) >= limit:
            break
    wb.close()
    return rows


def slice_xlsx(src: Path, dest: Path, rows: int, start: int = 0) -> Path:
    """Data rows ``start`` to ``start + rows`` of ``src``, header kept, as a new xlsx (cached)."""
    if dest.is_file():
        return dest
    import openpyxl

    wb = openpyxl.load_workbook(src, read_only=True)
    ws = wb[wb.sheetnames[0]]
    out = openpyxl.Workbook()
    sheet = out.active
    assert sheet is not None
    for i, values in enumerate(ws.iter_rows(values_only=True)):
        if i > start + rows:
            break
        if i == 0 or i > start:
            sheet.append(list(values))
    wb.close()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp.xlsx")
    out.save(tmp)
    os.replace(tmp, dest)
    return dest


def slice_csv(src: Path, dest: Path, rows: int) -> Path:
    """The first ``rows`` data rows of a CSV file (cached).

    Past the file's end its rows come round again, each round's first column (the document
    number) suffixed ``-rN`` so that every row is a new document: a file as long as asked,
    with real texts and payloads (repeated; say so where it is used).
    """
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_suffix(".tmp")
    with (
        open(src, newline="", encoding="utf-8") as fin,
        open(tmp, "w", newline="", encoding="utf-8") as fout,
    ):
        header, *body = list(csv.reader(fin))
        writer = csv.writer(fout)
        writer.writerow(header)
        for i in range(rows):
            row = list(body[i % len(body)])
            if i >= len(body) and row:
                row[0] = f"{row[0]}-r{i // len(body)}"
            writer.writerow(row)
    os.replace(tmp, dest)
    return dest


def nvidia_docs() -> list[dict[str, Any]]:
    """The rows of patents_nvidia.xlsx that have an abstract, with their row number."""
    docs = []
    for row_no, row in enumerate(read_xlsx(NVIDIA_XLSX)):
        text = row.get("abstract")
        if text is None or not str(text).strip():
            continue
        docs.append(dict(row, _row=row_no, abstract=str(text)))
    return docs


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def save_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, path)


def cpc_subclasses(value: Any) -> set[str]:
    """CPC subclasses (first four characters, e.g. G06F) of a '|'-separated cell."""
    if value is None:
        return set()
    return {c.strip()[:4] for c in str(value).split("|") if len(c.strip()) >= 4}
