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
