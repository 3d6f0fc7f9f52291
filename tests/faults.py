"""Faults the tests inject: a small file system that fills up.

``small_disk(size)`` mounts a file system of ``size`` bytes of its own (tmpfs, which
allocates on write as the engine's memory-mapped files expect of a disk, or an ext4 image
on a loop device) where the test may mount one (root, and a kernel that lets this
container mount); elsewhere the test skips and says why.  ``fill(folder, leave)`` writes
a filler file until only ``leave`` bytes are free.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FILLER = "filler"


def free_bytes(folder: Path) -> int:
    st = os.statvfs(folder)
    return st.f_bavail * st.f_frsize


def _mount(target: Path, kind: str, size: int, image: Path) -> str | None:
    """Mount a file system of ``size`` bytes at ``target``; why not, if it cannot."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "mounting a small file system needs root"
    if not shutil.which("mount"):
        return "no 'mount' command"
    if kind == "tmpfs":
        cmd = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)]
    else:
        if not shutil.which("mkfs.ext4"):
            return "no mkfs.ext4"
        with open(image, "wb") as fh:
            fh.truncate(size)
        made = subprocess.run(
            ["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], capture_output=True, check=False
        )
        if made.returncode:
            return f"mkfs.ext4 failed: {made.stderr.decode(errors='replace').strip()}"
        cmd = ["mount", "-o", "loop", str(image), str(target)]
    done = subprocess.run(cmd, capture_output=True, check=False)
    if done.returncode:
        return f"cannot mount a {kind} here: {done.stderr.decode(errors='replace').strip()}"
    return None


@pytest.fixture
def small_disk(tmp_path) -> Iterator[Callable[..., Path]]:
    """``small_disk(size, kind="tmpfs")``: a folder on a file system of its own."""
    mounted: list[Path] = []

    def make(size: int, kind: str = "tmpfs") -> Path:
        target = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
        target.mkdir()
        why = _mount(target, kind, size, tmp_path / f"{target.name}.img")
        if why:
            pytest.skip(why)
        mounted.append(target)
        return target

    yield make
    for target in mounted:
        with contextlib.suppress(Exception):
            subprocess.run(["umount", "-l", str(target)], capture_output=True, check=False)


def fill(folder: Path, leave: int = 0) -> int:
    """Write a filler file into ``folder`` until ``leave`` bytes are free; bytes written."""
    path = folder / FILLER
    written = 0
    block = b"\xa5" * (1 << 16)
    with open(path, "ab") as fh:
        while True:
            room = free_bytes(folder) - leave
            if room <= 0:
                break
            try:
                n = fh.write(block[: max(1, min(len(block), room))])
                fh.flush()
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
            written += n
    return written


def unfill(folder: Path) -> None:
    (folder / FILLER).unlink(missing_ok=True)


@pytest.fixture
def full_disk(small_disk) -> Path:
    """A folder on a file system with no byte free."""
    folder = small_disk(4 << 20)
    fill(folder, 0)
    return folder
