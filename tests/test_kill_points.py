"""Kills at named points of a load (issue 24, the fault-injection suite).

``tests/test_crash.py`` kills a real load at random moments; here each named point of a
load is hit on purpose (``tests/fake_cli.py``: SIGKILL when the process reaches it), for a
first load, an update and a ``--prune``.  After each kill:

- every command opens the collection (no damage reported, no traceback);
- the collection never claims a load finished that did not ("ready" only after one did);
- the same command run again completes the job: the documents of the file, each once,
  the right payload, ``ingest check`` healthy, and the other file's documents untouched
  by the prune.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

FIRST = [
    "create",
    "index",
    "index:3",
    "upsert",
    "upsert:3",
    "upserted",
    "upserted:2",
    "optimize",
    "ready",
]
UPDATE = ["upsert", "upserted", "delete", "optimize", "ready"]


def cli(*args: str, store: Path, cwd: Path, kill: str | None = None):
    env = dict(os.environ, HF_HUB_OFFLINE="1", RUST_BACKTRACE="0")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(ROOT / "src")])
    env.pop("QDRANT_URL", None)
    env.pop("PATENTSIM_KILL_AT", None)
    if kill:
        env["PATENTSIM_KILL_AT"] = kill
    return subprocess.run(
        [sys.executable, "-m", "tests.fake_cli", *args, "--path", str(store)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(cwd),
        timeout=300,
        check=False,
    )


def part(path: Path, ids, tag: str) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", "status"])
        for i in ids:
            w.writerow([i, f"abstract {i} {tag}: a cooling loop for battery cells", tag])
    return path


def load(file: Path, store: Path, cwd: Path, *extra: str, kill: str | None = None):
    return cli(
        "ingest", "load", str(file), "-c", "k", "--id", "id", "--chunk-size", "20",
        "--batch-size", "20", *extra, store=store, cwd=cwd, kill=kill,
    )  # fmt: skip


def state(store: Path, cwd: Path) -> tuple[int | None, str | None]:
    info = cli("ingest", "info", "-c", "k", "--format", "json", store=store, cwd=cwd)
    if info.returncode == 1 and "no collection 'k'" in info.stderr:
        return None, None
    assert info.returncode == 0, info.stderr
    assert "Traceback" not in info.stderr and "damaged" not in info.stderr, info.stderr
    data = json.loads(info.stdout)
    return data["points"], data["manifest"]["state"]


def keys_and_status(store: Path, cwd: Path) -> dict[str, str]:
    code = (
        "import sys, json\n"
        "from patentsim.store.edge import EdgeStore\n"
        "s = EdgeStore(sys.argv[1]); c = s.open('k')\n"
        "print(json.dumps([[p.payload['_key'], p.payload.get('status')] "
        "for p in c.scroll(with_payload=['_key', 'status'])]))\n"
        "s.close()\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    done = subprocess.run([sys.executable, "-c", code, str(store)], capture_output=True,
                          text=True, env=env, check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    pairs = json.loads(done.stdout)
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "duplicate documents"
    return dict(pairs)


def assert_killed(result: subprocess.CompletedProcess, point: str) -> None:
    assert result.returncode == -signal.SIGKILL, (point, result.returncode, result.stderr)


def assert_complete(store: Path, cwd: Path, expected: dict[str, str]) -> None:
    points, manifest_state = state(store, cwd)
    assert manifest_state == "ready" and points == len(expected)
    assert keys_and_status(store, cwd) == expected
    check = cli("ingest", "check", "-c", "k", store=store, cwd=cwd)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("point", FIRST)
def test_a_first_load_killed_at(point, tmp_path):
    file = part(tmp_path / "a.csv", range(100), "first")
    store = tmp_path / "store"
    assert_killed(load(file, store, tmp_path, kill=point), point)
    points, manifest_state = state(store, tmp_path)
    if manifest_state is not None:
        assert manifest_state != "ready" or points == 100, (points, manifest_state)
        listed = cli("ingest", "list", store=store, cwd=tmp_path)
        assert listed.returncode == 0 and "damaged" not in listed.stdout, listed.stdout
    again = load(file, store, tmp_path)
    assert again.returncode == 0, again.stderr
    assert_complete(store, tmp_path, {str(i): "first" for i in range(100)})


@pytest.mark.parametrize("point", UPDATE)
def test_an_update_with_prune_killed_at(point, tmp_path):
    """Two files; a.csv loses rows 0-19 and changes the status of the others; killed."""
    store = tmp_path / "store"
    a = part(tmp_path / "a.csv", range(100), "first")
    b = part(tmp_path / "b.csv", range(500, 540), "other")
    assert load(a, store, tmp_path).returncode == 0
    assert load(b, store, tmp_path).returncode == 0
    part(a, range(20, 100), "second")
    killed = load(a, store, tmp_path, "--prune", kill=point)
    assert_killed(killed, point)
    points, manifest_state = state(store, tmp_path)
    assert manifest_state in ("loading", "ready")
    if manifest_state == "ready":
        assert points == 120
    held = keys_and_status(store, tmp_path)
    assert {str(i) for i in range(500, 540)} <= set(held), "the other file's documents"
    again = load(a, store, tmp_path, "--prune")
    assert again.returncode == 0, again.stderr
    expected = {str(i): "second" for i in range(20, 100)}
    expected.update({str(i): "other" for i in range(500, 540)})
    assert_complete(store, tmp_path, expected)
