"""Damaged store files (issue 24): every command ends in one line naming the collection,
the damage and the recovery; none reports a damaged collection as healthy.

A pristine collection is loaded once (fake embedder); each case copies it, damages one
kind of file as a disk fault, a bad copy or a stray tool would, and runs the commands in
fresh processes (a Rust panic or an abort ends the process, which an in-process runner
would hide): ``ingest info``, ``ingest list``, ``search like``, ``search text --mode
keyword`` and ``ingest check``.  Then the collection is recovered the two ways the hint
names: loading its file again with ``--recreate``, and dropping it and restoring a copy
made with ``ingest copy``; it answers as before.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, health, tuning

from .conftest import ROOT
from .fakes import FakeEmbedder

ROWS = 60


def _xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "abstract", "applicant"])
    for i in range(ROWS):
        ws.append([i, f"abstract {i} about a cooling loop for battery cells", ["LG", "SK"][i % 2]])
    wb.save(path)
    return path


def _pristine(folder: Path, *, immutable: bool) -> tuple[Path, Path]:
    folder.mkdir(parents=True)
    source = _xlsx(folder / "patents.xlsx")
    store = folder / "store"
    with pytest.MonkeyPatch.context() as mp:
        if immutable:  # the engine indexes (and freezes) any segment: an immutable id tracker
            mp.setattr(tuning, "INDEXING_THRESHOLD_KB", 1)
        load(
            source,
            LoadSettings(
                store_settings=StoreSettings(path=str(store)), collection="k", id_column="id"
            ),
            embedder=FakeEmbedder(),
        )
    return source, store


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("pristine")
    return {
        "appendable": _pristine(root / "a", immutable=False),
        "immutable": _pristine(root / "i", immutable=True),
    }


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), HF_HUB_OFFLINE="1", RUST_BACKTRACE="1")
    env.pop("QDRANT_URL", None)
    tool = "patentsim.ingest" if args[0] == "ingest" else "patentsim.search"
    return subprocess.run(
        [sys.executable, "-m", tool, *args[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(cwd),
        timeout=120,
        check=False,
    )


def segment(store: Path, kind: str) -> Path:
    """The segment holding the points (the appendable one holds none once indexed)."""
    folders = list(health.segment_folders(store / "k" / "shard"))
    wanted = "id_tracker.mappings" if kind == "immutable" else "mutable_id_tracker.mappings"
    return next(f for f in folders if (f / wanted).is_file() and (f / wanted).stat().st_size)


def garble(path: Path, start: int = 0, length: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    end = len(data) if length is None else start + length
    data[start:end] = bytes((i * 151 + 89) % 256 for i in range(end - start))
    path.write_bytes(bytes(data))


def payload_tracker(seg: Path) -> None:
    garble(seg / "payload_storage" / "tracker.dat")
    journal = seg / "payload_storage" / "tracker_journal.dat"
    if journal.exists():  # replayed into the tracker when the shard opens
        garble(journal)


def id_tracker_count(seg: Path) -> None:
    """The count in an immutable id tracker's header: the engine allocated ~78 GB and
    aborted the process for such a count."""
    with open(seg / "id_tracker.mappings", "r+b") as fh:
        fh.write(struct.pack("<Q", 78_841_138_608 // 21))


def id_tracker_garbled(seg: Path) -> None:
    garble(seg / "mutable_id_tracker.mappings", 0, 64)


def id_tracker_truncated(seg: Path) -> None:
    path = seg / "mutable_id_tracker.mappings"
    os.truncate(path, 100)


def segments_deleted(seg: Path) -> None:
    shutil.rmtree(seg.parent)


def vectors_zeroed(seg: Path) -> None:
    path = seg / "vector_storage" / "vectors" / "chunk_0.mmap"
    with open(path, "r+b") as fh:
        fh.write(bytes(1 << 20))


CASES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "payload tracker garbled": ("appendable", payload_tracker, "the engine failed reading it"),
    "id tracker count garbled": ("immutable", id_tracker_count, "its id tracker is damaged"),
    "id tracker garbled": ("appendable", id_tracker_garbled, "the engine cannot open it"),
    "id tracker truncated": (
        "appendable",
        id_tracker_truncated,
        f"where its manifest says {ROWS}",
    ),
    "segments folder deleted": ("appendable", segments_deleted, "its segments folder is missing"),
    "vectors zeroed": ("appendable", vectors_zeroed, "vectors are zero"),
}


def answers(result: subprocess.CompletedProcess) -> dict[str, float]:
    """Each document's score in a ``search like --format json`` (ties come in either order)."""
    assert result.returncode == 0, result.stderr
    hits = [json.loads(line) for line in result.stdout.splitlines()]
    return {hit["key"]: round(hit["score"], 5) for hit in hits}


def like_all(store: Path, cwd: Path) -> dict[str, float]:
    args = ("search", "like", "0", "-c", "k", "-n", str(ROWS), "--format", "json")
    return answers(run(*args, "--path", str(store), cwd=cwd))


def assert_one_line(result: subprocess.CompletedProcess, damage: str, store: Path) -> None:
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "Traceback" not in out and "panicked" not in out and "Bus error" not in out, out
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith(f"Error: collection 'k' in {store} is damaged: "), out
    assert damage in lines[-2], out
    assert lines[-1].startswith("  hint: load its files again (ingest load "), out
    recover = "--collection k --recreate), or drop it and restore a copy made with 'ingest copy'"
    assert recover in out


@pytest.mark.parametrize("case", list(CASES))
def test_each_damage_is_named_with_its_recovery(case, pristine, tmp_path):
    kind, damage, words = CASES[case]
    source, clean = pristine[kind]
    store = tmp_path / "store"
    shutil.copytree(clean, store)
    backup = tmp_path / "backup"
    assert (
        run(
            "ingest",
            "copy",
            "--from-path",
            str(store),
            "--to-path",
            str(backup),
            "-c",
            "k",
            cwd=tmp_path,
        ).returncode
        == 0
    )
    before = like_all(store, tmp_path)
    assert len(before) == ROWS - 1

    damage(segment(store, kind))

    for args in (
        ("ingest", "info", "-c", "k"),
        ("search", "like", "0", "-c", "k"),
        ("search", "text", "cooling loop", "-c", "k", "--mode", "keyword"),
        ("ingest", "check", "-c", "k"),
    ):
        result = run(*args, "--path", str(store), cwd=tmp_path)
        assert_one_line(result, words, store)
    listed = run("ingest", "list", "--path", str(store), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("k\tdamaged: "), listed.stdout
    check = run("ingest", "check", "-c", "k", "--path", str(store), cwd=tmp_path)
    assert "  DAMAGED  " in check.stdout, check.stdout

    # Recovery 1: drop, and restore the copy.
    restored = tmp_path / "restored"
    shutil.copytree(store, restored)
    assert (
        run("ingest", "drop", "-c", "k", "--yes", "--path", str(restored), cwd=tmp_path).returncode
        == 0
    )
    back = run(
        "ingest",
        "copy",
        "--from-path",
        str(backup),
        "--to-path",
        str(restored),
        "-c",
        "k",
        cwd=tmp_path,
    )
    assert back.returncode == 0, back.stderr
    assert like_all(restored, tmp_path) == before

    # Recovery 2: load the file again with --recreate (in process: the fake embedder).
    summary = load(
        source,
        LoadSettings(
            store_settings=StoreSettings(path=str(store)),
            collection="k",
            id_column="id",
            recreate=True,
        ),
        embedder=FakeEmbedder(),
    )
    assert summary.points == ROWS
    healthy = run("ingest", "check", "-c", "k", "--path", str(store), cwd=tmp_path)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "is healthy" in healthy.stderr
    assert like_all(store, tmp_path) == before


def test_check_of_a_healthy_collection(pristine, tmp_path):
    _, clean = pristine["appendable"]
    result = run(
        "ingest", "check", "-c", "k", "--path", str(clean), "--format", "json", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["healthy"] is True and report["problems"] == []
    assert report["points"] == report["manifest_points"] == ROWS
    assert any(line.startswith("indexes answer (key, row, keyword)") for line in report["passed"])


def test_an_unfinished_load_is_noted_not_called_damage(pristine, tmp_path):
    _, clean = pristine["appendable"]
    store = tmp_path / "store"
    shutil.copytree(clean, store)
    manifest = store / "k" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["state"] = "loading"
    data["counts"]["points"] = 0
    manifest.write_text(json.dumps(data))
    result = run("ingest", "check", "-c", "k", "--path", str(store), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "note     its last load did not finish (state loading)" in result.stdout


def test_the_id_tracker_layout_is_the_engines(pristine):
    """``health`` reads the immutable id tracker's header: a u64 count of 21-byte UUID
    entries (type byte, 16-byte UUID, u32 internal id) in this engine version."""
    _, clean = pristine["immutable"]
    path = segment(clean, "immutable") / health.ID_TRACKER
    (count,) = struct.unpack("<Q", path.read_bytes()[:8])
    assert count == ROWS
    assert path.stat().st_size == 8 + count * 21


def test_check_of_a_server_collection(tmp_path):
    """The in-memory stand-in for a server: no files to check; the rest runs the same."""
    from click.testing import CliRunner

    from patentsim.ingest.cli import cli as ingest_cli
    from patentsim.store import open_store

    memory = StoreSettings(url=":memory:")
    chk = LoadSettings(store_settings=memory, collection="chk", id_column="id")
    load(_xlsx(tmp_path / "p.xlsx"), chk, embedder=FakeEmbedder())
    try:
        result = CliRunner().invoke(ingest_cli, ["check", "-c", "chk", "--url", ":memory:"])
        assert result.exit_code == 0, result.output
        assert f"ok       points: {ROWS}, as the manifest says" in result.output
        assert "ok       payload: every point has its key and hash" in result.output
    finally:
        store = open_store(memory)
        store.drop("chk")


def test_a_keyword_only_collection_is_healthy(tmp_path):
    """No dense vectors is how it was made, not damage."""
    from click.testing import CliRunner

    from patentsim.ingest.cli import cli as ingest_cli
    from patentsim.search.cli import cli as search_cli

    settings = StoreSettings.resolve()
    kw = LoadSettings(store_settings=settings, collection="kw", id_column="id", keyword_only=True)
    load(_xlsx(tmp_path / "p.xlsx"), kw)
    result = CliRunner().invoke(ingest_cli, ["check", "-c", "kw"])
    assert result.exit_code == 0, result.output
    assert "note     a keyword-only collection: no dense vectors to check" in result.output
    found = CliRunner().invoke(search_cli, ["like", "0", "-c", "kw", "--format", "json"])
    assert found.exit_code == 0, found.output
