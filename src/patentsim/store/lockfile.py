"""One process per collection folder: an operating-system file lock, on every platform.

The lock is ``portalocker``'s (``fcntl.flock`` on Linux and macOS, ``LockFileEx`` or
``msvcrt.locking`` on Windows): the operating system holds it for the process and drops it
when the process ends, however it ends, so a killed process never leaves a stale lock.

Two files in the folder::

    .lock     the locked file (always empty: Windows locks are mandatory, so nothing
              another process needs to read may live in the locked bytes)
    .holder   the pid of the process that holds the lock, written after locking; only
              read to name that process in the "in use" message, never trusted for locking
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import IO, Any

LOCK_FILE = ".lock"
HOLDER_FILE = ".holder"


class Busy(Exception):
    """Another process holds the lock; ``pid`` names it ("?" when it cannot be read)."""

    def __init__(self, pid: str) -> None:
        super().__init__(f"locked by process {pid}")
        self.pid = pid


class LockUnavailable(Exception):
    """The lock file cannot be opened or locked at all (permissions, a file system without
    locks): not a matter of another process."""


def _portalocker() -> Any:
    import portalocker

    return portalocker


class FolderLock:
    """The exclusive lock on ``folder``; ``acquire`` waits up to ``wait`` seconds."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._fh: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self, wait: float = 0.0) -> None:
        if self._fh is not None:
            return
        pl = _portalocker()
        path = self.folder / LOCK_FILE
        try:
            fh = open(path, "a+b")  # noqa: SIM115 (held while the collection is in use)
        except OSError as exc:
            raise LockUnavailable(f"cannot open {path}: {exc.strerror}") from exc
        deadline = time.monotonic() + wait
        while True:
            try:
                pl.lock(fh, pl.LockFlags.EXCLUSIVE | pl.LockFlags.NON_BLOCKING)
                break
            except pl.AlreadyLocked:
                if time.monotonic() >= deadline:
                    fh.close()
                    raise Busy(self.holder()) from None
                time.sleep(0.1)
            except pl.LockException as exc:
                fh.close()
                raise LockUnavailable(f"cannot lock {path}: {exc}") from exc
        self._fh = fh
        try:
            with open(self.folder / HOLDER_FILE, "w", encoding="ascii") as out:
                out.write(str(os.getpid()))
        except OSError:
            pass  # only the message of a second process would lack the pid

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            _portalocker().unlock(fh)
        finally:
            fh.close()

    def holder(self) -> str:
        """The pid the holder file names; the holder may be between locking and writing it."""
        path = self.folder / HOLDER_FILE
        for _ in range(10):
            try:
                pid = path.read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError):
                pid = ""
            if pid.isdigit():
                return pid
            time.sleep(0.02)
        return "?"
