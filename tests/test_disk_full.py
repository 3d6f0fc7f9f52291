"""A disk that fills up (issue 24): one line, exit 1, and a collection that answers as
before once space is freed.  Never ``Bus error`` (exit 135): the engine writes through
memory-mapped files and dies of SIGBUS where a page cannot be allocated, so the store
checks the free space before each write (``store/space.py``).

Each test mounts a small file system of its own (``tests/faults.py``: an ext4 image on a
loop device, or tmpfs, where the engine's reads allocate too) and skips, saying why,
where this machine lets no test mount one.  The commands run in fresh processes
(``tests/fake_cli.py``: the CLIs with the fake embedder), so a signal would show as one.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from patentsim.store import space

from .conftest import ROOT
from .faults import fill, free_bytes, small_disk, unfill  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="mounts a Linux file system")


def cli(*args: str, path: Path | None, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1", RUST_BACKTRACE="0")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src")])
    env.pop("QDRANT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "tests.fake_cli", *args, *(["--path", str(path)] if path else [])],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(cwd),
        timeout=300,
        check=False,
    )


def rows_csv(path: Path, first: int, n: int) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", "applicant", "application_date"])
        for i in range(first, first + n):
            text = f"배터리 냉각 장치 {i}: 셀의 열을 관리하는 냉각 루프와 센서 " * 4
            w.writerow([i, text, ["LG", "SK", "삼성"][i % 3], f"2020-01-{i % 28 + 1:02d}"])
    return path


def assert_disk_full(result: subprocess.CompletedProcess, folder: Path) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 1, (result.returncode, out)
    assert "Traceback" not in out and "Bus error" not in out and "panicked" not in out, out
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith(f"Error: the disk holding {folder}"), out
    assert " is full" in lines[-2], out
    assert lines[-1].startswith("  hint: free some space"), out


def answers(store: Path, cwd: Path) -> str:
    done = cli(
        "search", "like", "0", "-c", "k", "-n", "20", "--format", "json", path=store, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("kind", ["ext4", "tmpfs"])
def test_a_load_into_a_nearly_full_disk(kind, small_disk, tmp_path):  # noqa: F811
    """An existing collection; a bigger load into the little room left: one line, exit 1;
    once space is freed the collection answers as before, and the load then finishes."""
    disk = small_disk(256 << 20 if kind == "tmpfs" else 96 << 20, kind)
    store = disk / "store"
    first = cli(
        "ingest",
        "load",
        str(rows_csv(tmp_path / "a.csv", 0, 200)),
        "-c",
        "k",
        "--id",
        "id",
        path=store,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    before = answers(store, tmp_path)
    fill(disk, leave=1 << 20)

    more = rows_csv(tmp_path / "b.csv", 0, 3000)
    result = cli(
        "ingest",
        "load",
        str(more),
        "-c",
        "k",
        "--id",
        "id",
        "--chunk-size",
        "256",
        path=store,
        cwd=tmp_path,
    )
    assert_disk_full(result, disk)
    assert free_bytes(disk) > 0 or kind == "tmpfs"

    unfill(disk)
    assert answers(store, tmp_path) == before
    again = cli("ingest", "load", str(more), "-c", "k", "--id", "id", path=store, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    info = cli("ingest", "info", "-c", "k", "--format", "json", path=store, cwd=tmp_path)
    assert json.loads(info.stdout)["points"] == 3000


@pytest.mark.parametrize("kind", ["ext4", "tmpfs"])
def test_a_new_collection_that_cannot_fit_is_refused_before_anything_is_written(
    kind,
    small_disk,  # noqa: F811
    tmp_path,
):
    disk = small_disk(32 << 20, kind)
    store = disk / "store"
    big = rows_csv(tmp_path / "big.csv", 0, 20_000)
    result = cli("ingest", "load", str(big), "-c", "k", "--id", "id", path=store, cwd=tmp_path)
    assert_disk_full(result, disk)
    assert (
        "collection 'k' (20,000 rows of 384-d vectors and their cells) needs about" in result.stderr
    )
    listed = cli("ingest", "list", path=store, cwd=tmp_path)
    assert listed.returncode == 0 and listed.stdout == "", listed.stdout


@pytest.mark.parametrize("kind", ["ext4", "tmpfs"])
def test_reading_commands_on_a_full_disk(kind, small_disk, tmp_path):  # noqa: F811
    """Opening a shard writes its configuration (and on tmpfs reads allocate): on a full
    disk every command says so in one line; freed, the collection answers as before."""
    disk = small_disk(256 << 20 if kind == "tmpfs" else 64 << 20, kind)
    store = disk / "store"
    first = cli(
        "ingest",
        "load",
        str(rows_csv(tmp_path / "a.csv", 0, 100)),
        "-c",
        "k",
        "--id",
        "id",
        path=store,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    before = answers(store, tmp_path)
    fill(disk, leave=0)
    for args in (
        ("ingest", "info", "-c", "k"),
        ("ingest", "list"),
        ("search", "like", "0", "-c", "k"),
    ):
        result = cli(*args, path=store, cwd=tmp_path)
        if args[1] == "list":
            assert result.returncode == 0, result.stderr
            assert result.stdout == "k\tnot opened: its disk is full\n", result.stdout
            continue
        assert_disk_full(result, disk)
    unfill(disk)
    assert answers(store, tmp_path) == before


def test_a_copy_into_a_full_disk(small_disk, tmp_path):  # noqa: F811
    """``ingest copy`` writes through the same checks."""
    source = tmp_path / "source"
    first = cli(
        "ingest",
        "load",
        str(rows_csv(tmp_path / "a.csv", 0, 2000)),
        "-c",
        "k",
        "--id",
        "id",
        path=source,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    disk = small_disk(48 << 20, "ext4")
    fill(disk, leave=2 << 20)
    result = cli(
        "ingest",
        "copy",
        "--from-path",
        str(source),
        "--to-path",
        str(disk / "copy"),
        "-c",
        "k",
        path=None,
        cwd=tmp_path,
    )
    assert_disk_full(result, disk)
    shutil.rmtree(disk / "copy", ignore_errors=True)


def marked(store: Path, cwd: Path) -> tuple[int, bool]:
    """How many documents carry a near-duplicate mark, and whether the manifest says so."""
    script = (
        "from patentsim.store import StoreSettings, open_store\n"
        f"s = open_store(StoreSettings(path={str(store)!r})); c = s.open('k')\n"
        "n = sum(1 for p in c.scroll(with_payload=['_dup_group'], batch=1024)"
        " if p.payload.get('_dup_group'))\n"
        "print(n, c.read_manifest().duplicates is not None); s.close()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        cwd=str(cwd),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    count, said = done.stdout.split()
    return int(count), said == "True"


@pytest.mark.parametrize("kind", ["ext4", "tmpfs"])
def test_marking_near_duplicates_on_a_nearly_full_disk(kind, small_disk, tmp_path):  # noqa: F811
    """``search dups --mark`` rewrites the payload of every document it marks: with room to
    open the collection but not to mark, one line (exit 1) and the collection as it was;
    once space is freed the marking runs."""
    disk = small_disk(256 << 20 if kind == "tmpfs" else 64 << 20, kind)
    store = disk / "store"
    first = cli(
        "ingest",
        "load",
        str(rows_csv(tmp_path / "a.csv", 0, 200)),
        "-c",
        "k",
        "--id",
        "id",
        path=store,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    before = answers(store, tmp_path)
    # Room to open the collection (on tmpfs its unread files count: reads allocate there).
    opening = space.holes(store / "k" / "shard", skip=space.NOT_READ_IN_FULL)
    fill(disk, leave=(opening if kind == "tmpfs" else 0) + 2 * space.OPEN_BYTES)

    result = cli("search", "dups", "-c", "k", "--mark", path=store, cwd=tmp_path)
    assert_disk_full(result, disk)
    assert "marking 200 documents in '_dup_group' needs about" in result.stderr
    unfill(disk)
    assert marked(store, tmp_path) == (0, False)
    assert answers(store, tmp_path) == before

    again = cli("search", "dups", "-c", "k", "--mark", path=store, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert marked(store, tmp_path)[0] > 0


MARK_AFTER_OPENING = """
import sys
from pathlib import Path
from tests.faults import fill
from patentsim.errors import DiskFull
from patentsim.search import Session
from patentsim.search.dups import DupOptions, find_duplicates
from patentsim.store import StoreSettings

disk, store = Path(sys.argv[1]), sys.argv[2]
session = Session(StoreSettings(path=store), "k")
session.open()
fill(disk, leave=64 << 10)
try:
    find_duplicates(session, DupOptions(mark=True))
    print("marked")
except DiskFull as exc:
    print("refused:", exc)
"""


@pytest.mark.parametrize("kind", ["ext4", "tmpfs"])
def test_the_disk_fills_while_the_collection_is_open(kind, small_disk, tmp_path):  # noqa: F811
    """Another program fills the disk after the collection was opened: without the check
    the engine died of SIGBUS halfway through the marks (some documents marked, the
    manifest not saying so); with it the marking is refused before its first write."""
    disk = small_disk(256 << 20 if kind == "tmpfs" else 64 << 20, kind)
    store = disk / "store"
    first = cli(
        "ingest",
        "load",
        str(rows_csv(tmp_path / "a.csv", 0, 200)),
        "-c",
        "k",
        "--id",
        "id",
        path=store,
        cwd=tmp_path,
    )
    assert first.returncode == 0, first.stderr
    env = dict(os.environ, RUST_BACKTRACE="0")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src")])
    done = subprocess.run(
        [sys.executable, "-c", MARK_AFTER_OPENING, str(disk), str(store)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(tmp_path),
        timeout=300,
        check=False,
    )
    unfill(disk)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-2000:])
    assert "refused: the disk holding" in done.stdout, done.stdout
    assert "marking 200 documents in '_dup_group' needs about" in done.stdout
    assert marked(store, tmp_path) == (0, False)
