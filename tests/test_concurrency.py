"""Concurrent use of the embedded store.

The embedded store (Qdrant Edge, in-process) lets one process use a collection at a
time: its write-ahead log cannot be shared.  The contract:

- a second writer gets "collection 'X' in ... is in use by process N" at once (exit 1),
  or waits up to ``--wait SECONDS`` for the first to finish, then runs;
- a search (or ``ingest info``) while an ingest runs behaves the same way: it fails at
  once with that message, naming the ingesting process, or waits with ``--wait``;
- nothing is ever corrupted: the collection stays complete and consistent;
- a killed holder releases the collection at once (the lock is an operating-system file
  lock taken through ``portalocker``, which the system drops with the process), whatever
  pid the ``.holder`` file still names.

Several processes that must read and write at once should use a Qdrant server
(``docker compose up -d`` and ``QDRANT_URL``).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from patentsim.errors import CollectionExists, StoreLocked
from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, open_store
from patentsim.store.edge import EdgeStore

from .conftest import ROOT
from .fakes import FakeEmbedder
from .timing import within

# The command line loads with the fake embedder (click's obj: ingest.cli.Seams).
FAKE = Seams(embedder=FakeEmbedder())


class MeetingEmbedder(FakeEmbedder):
    """A fake embedder that waits for the other run's when the collection is about to be
    made (its model record is read): both then create the collection at the same moment."""

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__()
        self.barrier = barrier
        self.first = True

    def info(self):
        if self.first:
            self.first = False
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.wait(10)
        return super().info()


def _xlsx(path: Path, n: int, tag: str = "") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "abstract"])
    for i in range(n):
        ws.append([i, f"abstract {i} {tag} about a cooling loop for battery cells"])
    wb.save(path)
    return path


def _state(settings: StoreSettings, name: str = "k") -> tuple[int, dict[str, str]]:
    store = open_store(settings)
    try:
        coll = store.open(name)
        return coll.count(), {
            p.payload["_key"]: p.payload["_hash"] for p in coll.scroll(with_payload=True)
        }
    finally:
        store.close()


@pytest.fixture
def loaded(tmp_path, private_store):
    """A collection 'k' of 30 rows in this test's store (CLI loads pass ``obj=FAKE``)."""
    fake = FAKE.embedder
    assert fake is not None
    settings = StoreSettings(path=str(private_store))
    file = _xlsx(tmp_path / "a.xlsx", 30)
    load(file, LoadSettings(store_settings=settings, collection="k", id_column="id"), embedder=fake)
    return settings, file, _state(settings)


class Holder:
    """Another process that opens collection 'k' and keeps it until killed."""

    def __init__(self, path: str, hold: float = 120) -> None:
        code = (
            "import sys, time\n"
            "from patentsim.store.edge import EdgeStore\n"
            f"store = EdgeStore({path!r})\n"
            "store.open('k')\n"
            "print('ready', flush=True)\n"
            f"time.sleep({hold})\n"
            "store.close()\n"
        )
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == b"ready", self.proc.stderr.read() if self.proc.stderr else line

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def holder(loaded):
    h = Holder(loaded[0].path)
    yield h
    h.kill()


def test_second_writer_is_told_which_process_holds_the_collection(loaded, holder):
    settings, file, before = loaded
    result = CliRunner().invoke(ingest_cli, ["load", str(file), "-c", "k", "--id", "id"], obj=FAKE)
    assert result.exit_code == 1, result.output
    assert f"is in use by process {holder.proc.pid}" in result.output
    assert "--wait" in result.output
    assert "Traceback" not in result.output
    holder.kill()
    assert _state(settings) == before


def test_a_killed_holder_releases_the_collection_at_once(loaded, holder):
    settings, file, _ = loaded
    holder.kill()  # SIGKILL: no cleanup ran, the lock file still names its pid
    holder_file = Path(settings.path) / "k" / ".holder"
    assert holder_file.read_text() == str(holder.proc.pid)
    result = CliRunner().invoke(ingest_cli, ["load", str(file), "-c", "k", "--id", "id"], obj=FAKE)
    assert result.exit_code == 0, result.output
    assert _state(settings)[0] == 30


def test_the_lock_is_the_operating_systems_through_portalocker(loaded, holder):
    import portalocker

    flags = portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
    lock_file = Path(loaded[0].path) / "k" / ".lock"
    with open(lock_file, "a+b") as fh, pytest.raises(portalocker.AlreadyLocked):
        portalocker.lock(fh, flags)
    holder.kill()
    with open(lock_file, "a+b") as fh:
        portalocker.lock(fh, flags)
        portalocker.unlock(fh)


def test_second_process_waits_for_the_first_to_finish(loaded, tmp_path):
    """--wait queues a load behind another process that closes the collection by itself."""
    settings = loaded[0]
    first = Holder(settings.path, hold=1.5)
    try:
        bigger = _xlsx(tmp_path / "b.xlsx", 40)
        started = time.monotonic()
        result = CliRunner().invoke(
            ingest_cli, ["load", str(bigger), "-c", "k", "--id", "id", "--wait", "30"], obj=FAKE
        )
        waited = time.monotonic() - started
        assert first.proc.wait(timeout=30) == 0
    finally:
        first.kill()
    assert result.exit_code == 0, result.output
    assert waited >= 1.0
    assert _state(settings)[0] == 40


def test_second_writer_waits_with_wait(loaded, tmp_path):
    settings = loaded[0]
    store = EdgeStore(settings.path)
    store.open("k")  # this process holds it, through another open file: the same lock
    timer = threading.Timer(1.0, store.close)
    timer.start()
    try:
        bigger = _xlsx(tmp_path / "b.xlsx", 40)
        started = time.monotonic()
        result = CliRunner().invoke(
            ingest_cli, ["load", str(bigger), "-c", "k", "--id", "id", "--wait", "20"], obj=FAKE
        )
        waited = time.monotonic() - started
    finally:
        timer.cancel()
        store.close()
    assert result.exit_code == 0, result.output
    assert waited >= 0.9
    assert _state(settings)[0] == 40


def test_wait_gives_up_after_its_time(loaded):
    settings, file, _ = loaded
    store = EdgeStore(settings.path)
    store.open("k")
    try:
        started = time.monotonic()
        result = CliRunner().invoke(
            ingest_cli, ["load", str(file), "-c", "k", "--id", "id", "--wait", "0.5"], obj=FAKE
        )
        waited = time.monotonic() - started
    finally:
        store.close()
    assert result.exit_code == 1, result.output
    assert f"in use by process {os.getpid()}" in result.output
    assert 0.4 <= waited < 10


def test_info_while_an_ingest_runs(loaded, holder):
    result = CliRunner().invoke(ingest_cli, ["info", "-c", "k"], obj=FAKE)
    assert result.exit_code == 1, result.output
    assert f"in use by process {holder.proc.pid}" in result.output


@pytest.mark.timing
def test_search_while_an_ingest_runs_fails_fast_or_waits(loaded, holder):
    from patentsim.search.cli import cli as search_cli

    started = time.monotonic()
    result = CliRunner().invoke(search_cli, ["like", "0", "-c", "k"])
    assert result.exit_code == 1, result.output
    assert f"in use by process {holder.proc.pid}" in result.output
    assert "Traceback" not in result.output
    assert time.monotonic() - started < within(5), "a search must not hang on a busy collection"

    threading.Timer(1.0, holder.kill).start()
    result = CliRunner().invoke(
        search_cli, ["like", "0", "-c", "k", "--wait", "30", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert '"rank": 1' in result.output


def test_two_writers_creating_one_collection_never_corrupt(tmp_path):
    """Two loads create the same collection at the same moment: one wins, the other is told
    the collection is in use, and nothing breaks."""
    settings = StoreSettings(path=str(tmp_path / "store"))
    files = [_xlsx(tmp_path / f"{t}.xlsx", 50, t) for t in ("a", "b")]
    barrier = threading.Barrier(2)
    outcomes: list[object] = []
    embedders: dict[Path, MeetingEmbedder] = {f: MeetingEmbedder(barrier) for f in files}

    def run(file: Path) -> None:
        try:
            outcomes.append(
                load(
                    file,
                    LoadSettings(
                        store_settings=settings, collection="k", chunk_size=5, id_column="id"
                    ),
                    embedder=embedders[file],
                )
            )
        except Exception as exc:  # recorded and checked below
            outcomes.append(exc)

    threads = [threading.Thread(target=run, args=(f,)) for f in files]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    refused = [o for o in outcomes if isinstance(o, Exception)]
    assert len(outcomes) == 2
    assert len(refused) <= 1, refused
    for exc in refused:
        assert isinstance(exc, (StoreLocked, CollectionExists)), repr(exc)
        assert "process ?" not in str(exc)
    # The refused load was told before it embedded anything (issue 24).
    assert sorted(e.texts for e in embedders.values()) == [0, 50] if refused else True
    count, hashes = _state(settings)
    assert count == 50 == len(hashes)
    store = open_store(settings)
    try:
        coll = store.open("k")
        tags = {p.payload["abstract"].split()[2] for p in coll.scroll()}
        assert coll.read_manifest().state == "ready"
    finally:
        store.close()
    assert len(tags) == 1, "documents of both files mixed"
    again = load(
        files[0],
        LoadSettings(store_settings=settings, collection="k", id_column="id"),
        embedder=FakeEmbedder(),
    )
    assert again.points == 50
