"""Crash safety: a killed ingest loses nothing stored, and the next run finishes the job.

``ingest load`` runs in a subprocess with the real offline model on a small file, in
small chunks (many commit points), and is killed with SIGKILL at a random moment after
embedding has begun (several seeds, some of them while the run is finishing: indexes,
HNSW, manifest).  After each kill the store must open; after the rerun the collection
must be complete, without duplicate keys, with the right vectors.  A full disk is
simulated by a write error from the engine: a clear message, exit 1, and a store that
opens with what it had.
"""

from __future__ import annotations

import os
import pty
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.records import text_hash
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, open_store
from patentsim.store import edge as edge_mod
from patentsim.store import manifest as manifest_mod

from .conftest import KO_XLSX, ROOT, slice_xlsx
from .fakes import FakeEmbedder

ROWS = 64
ID = "application_number"
PROGRESS = re.compile(rb"embedding: (\d+)/(\d+) rows")


@pytest.fixture(scope="module")
def small_file(tmp_path_factory) -> Path:
    return slice_xlsx(KO_XLSX, tmp_path_factory.mktemp("crash") / "ko64.xlsx", ROWS)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("QDRANT_URL", None)
    env["HF_HUB_OFFLINE"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def run_and_kill(file: Path, store: Path, rng: random.Random, timeout: float = 90) -> str:
    """Start ``ingest load`` and SIGKILL it once progress passes a random row count.

    stderr is a pseudo-terminal, so the progress line is drawn.  Returns what happened:
    'killed at N/M rows' or 'finished before the kill'.
    """
    target = rng.randrange(8, ROWS + 1, 8)  # ROWS: killed while the run is finishing
    delay = rng.uniform(0, 0.4)
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "patentsim.ingest",
            "load",
            str(file),
            "--model",
            "minilm",
            "--path",
            str(store),
            "-c",
            "k",
            "--id",
            ID,
            "--batch-size",
            "8",
            "--chunk-size",
            "8",
            "--device",
            "cpu",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=_env(),
        cwd=str(store.parent),
    )
    os.close(slave)
    seen = b""
    done = 0
    deadline = time.monotonic() + timeout
    try:
        while done < target and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal: it has ended
                break
            if not chunk:
                break
            seen += chunk
            counts = PROGRESS.findall(seen)
            if counts:
                done = int(counts[-1][0])
        if proc.poll() is not None:
            assert proc.returncode == 0, seen.decode(errors="replace")
            return "finished before the kill"
        assert done >= target, f"no progress within {timeout} s: {seen.decode(errors='replace')}"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        return f"killed at {done}/{ROWS} rows (+{delay:.2f} s)"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def stored(settings: StoreSettings, name: str = "k") -> tuple[list, dict]:
    """Every point (opening the store, as any later command does) and the manifest."""
    store = open_store(settings)
    try:
        if name not in store.list():
            return [], {}
        coll = store.open(name)
        points = list(coll.scroll(with_vectors=True))
        assert coll.count() == len(points)
        return points, coll.read_manifest().to_dict()  # as stored
    finally:
        store.close()


def check_complete(settings: StoreSettings, embedder, expected_keys: set[str]) -> None:
    points, manifest = stored(settings)
    keys = [p.payload["_key"] for p in points]
    assert len(keys) == len(set(keys)), "duplicate keys"
    assert set(keys) == expected_keys
    assert manifest["state"] == "ready"
    assert manifest["counts"]["points"] == len(expected_keys)
    for p in points:
        assert p.payload["_hash"] == text_hash(embedder.fingerprint, p.payload["abstract"].strip())
        assert p.vector is not None and len(p.vector) == embedder.dimension
    # The vectors are the texts' embeddings, not leftovers of a half-written batch.
    sample = points[:: max(1, len(points) // 6)]
    fresh = embedder.encode([p.payload["abstract"].strip() for p in sample])
    for p, vec in zip(sample, fresh):
        assert float(np.dot(p.vector, vec)) == pytest.approx(1.0, abs=1e-3)


def _edited_copy(src: Path, dest: Path) -> Path:
    """Odd rows get a new abstract (re-embedded), even rows a new status (payload only)."""
    import openpyxl

    wb = openpyxl.load_workbook(src)
    ws = wb.active
    header = [c.value for c in ws[1]]
    col_abstract, col_status = header.index("abstract") + 1, header.index("status") + 1
    for row in range(2, ROWS + 2):
        if row % 2:
            ws.cell(row=row, column=col_abstract).value = f"Edited abstract number {row}."
        else:
            ws.cell(row=row, column=col_status).value = "edited"
    wb.save(dest)
    return dest


@pytest.mark.slow
def test_sigkill_at_random_moments_then_rerun(small_file, offline_embedder, tmp_path):
    """Seeds 11 and 23 kill a first load; seed 5 kills an update of a loaded collection
    (some texts re-embedded, some payloads rewritten)."""
    reference = StoreSettings(path=str(tmp_path / "reference"))
    summary = load(
        small_file,
        LoadSettings(store_settings=reference, collection="k", id_column=ID),
        embedder=offline_embedder,
    )
    assert summary.points == ROWS - len(summary.skipped)
    expected = {p.payload["_key"] for p in stored(reference)[0]}
    edited = _edited_copy(small_file, tmp_path / "edited.xlsx")

    outcomes = []
    for seed, update in ((11, False), (23, False), (5, True)):
        folder = tmp_path / f"seed{seed}"
        folder.mkdir()
        settings = StoreSettings(path=str(folder / "store"))
        file = small_file
        if update:
            shutil.copytree(tmp_path / "reference", folder / "store")
            file = edited
        outcome = run_and_kill(file, folder / "store", random.Random(seed))
        outcomes.append(f"seed {seed}: {outcome}")
        points, _ = stored(settings)  # the store opens after the kill
        keys = [p.payload["_key"] for p in points]
        assert len(keys) == len(set(keys)), f"seed {seed}: duplicate keys after {outcome}"
        assert set(keys) <= expected
        if update:
            assert set(keys) == expected, "an update must never lose a document"
        summary = load(
            file,
            LoadSettings(store_settings=settings, collection="k", id_column=ID),
            embedder=offline_embedder,
        )
        assert summary.points == len(expected), f"seed {seed}: {outcome}"
        check_complete(settings, offline_embedder, expected)
        if update:
            statuses = [p.payload.get("status") for p in stored(settings)[0]]
            assert statuses.count("edited") == ROWS // 2
    print("\n".join(outcomes))
    assert sum(o.count("killed at") for o in outcomes) >= 2, outcomes


# -- a full disk ------------------------------------------------------------------------------


def _disk_full(monkeypatch, *, after: int) -> None:
    """The engine's writes fail with ENOSPC from the ``after``+1-th upsert on."""
    calls = {"n": 0}
    real = edge_mod.EdgeCollection.upsert

    def upsert(self, points):
        calls["n"] += 1
        if calls["n"] > after:

            def fail():
                raise Exception("Service internal error: No space left on device (os error 28)")

            self._engine(fail)
        real(self, points)

    monkeypatch.setattr(edge_mod.EdgeCollection, "upsert", upsert)


def _rows_xlsx(path: Path, n: int) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "abstract"])
    for i in range(n):
        ws.append([i, f"abstract {i} about a cooling loop for battery cells, variant {i}"])
    wb.save(path)
    return path


def test_full_disk_mid_run_gives_a_clear_error_and_a_store_that_opens(tmp_path, monkeypatch):
    fake = FakeEmbedder()
    settings = StoreSettings(path=str(tmp_path / "store"))
    small = _rows_xlsx(tmp_path / "small.xlsx", 40)
    load(
        small, LoadSettings(store_settings=settings, collection="k", id_column="id"), embedder=fake
    )
    bigger = _rows_xlsx(tmp_path / "bigger.xlsx", 100)

    _disk_full(monkeypatch, after=2)
    result = CliRunner().invoke(
        ingest_cli,
        [
            "load",
            str(bigger),
            "-c",
            "k",
            "--id",
            "id",
            "--path",
            settings.path,
            "--chunk-size",
            "10",
        ],
        obj=Seams(embedder=fake),
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "is full" in result.output and "free some space" in result.output
    assert "points" not in result.output, "a failed run must not print a summary"

    points, _ = stored(settings)
    keys = [p.payload["_key"] for p in points]
    assert len(keys) == len(set(keys))
    # What was there stays; the two chunks written before the failure are kept.
    assert {str(i) for i in range(40)} <= set(keys)
    assert len(keys) <= 60

    monkeypatch.undo()
    summary = load(
        bigger, LoadSettings(store_settings=settings, collection="k", id_column="id"), embedder=fake
    )
    assert summary.points == 100
    assert stored(settings)[1]["state"] == "ready"


def test_manifest_write_failure_at_the_end_is_reported_and_repaired(tmp_path, monkeypatch):
    """The points are written, the final manifest is not: exit 1, and the rerun repairs it."""
    fake = FakeEmbedder()
    settings = StoreSettings(path=str(tmp_path / "store"))
    load(
        _rows_xlsx(tmp_path / "small.xlsx", 20),
        LoadSettings(store_settings=settings, collection="k", id_column="id"),
        embedder=fake,
    )
    before = stored(settings)[1]
    real_write = edge_mod.write_json_atomic
    calls = {"n": 0}

    def no_space_at_the_end(path, data):
        calls["n"] += 1
        if data.get("state") == "ready":
            raise OSError(28, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(edge_mod, "write_json_atomic", no_space_at_the_end)
    bigger = _rows_xlsx(tmp_path / "b.xlsx", 30)
    args = ["load", str(bigger), "-c", "k", "--id", "id", "--path", settings.path]
    result = CliRunner().invoke(ingest_cli, args, obj=Seams(embedder=fake))
    assert result.exit_code == 1, result.output
    assert "cannot write the manifest" in result.output
    assert "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert "points" not in result.output
    monkeypatch.undo()

    points, manifest = stored(settings)
    assert manifest["created_at"] == before["created_at"]
    assert manifest["state"] == "loading"  # not claimed to be complete
    assert len(points) == 30
    summary = load(
        bigger, LoadSettings(store_settings=settings, collection="k", id_column="id"), embedder=fake
    )
    assert summary.unchanged == 30 and summary.embedded == 0
    final = stored(settings)[1]
    assert final["state"] == "ready"
    assert final["manifest_version"] == manifest_mod.MANIFEST_VERSION
