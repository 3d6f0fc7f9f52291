"""One process per collection folder: an operating-system file lock, on every platform.

The lock is ``portalocker``'s (``fcntl.flock`` on Linux and macOS, ``LockFileEx`` or
``msvcrt.locking`` on Windows): the operating system holds it for the process and drops it
when the process ends, however it ends, so a killed process never leaves a stale lock.

Files in the folder::

    .lock     the locked file (always empty: Windows locks are mandatory, so nothing
              another process needs to read may live in the locked bytes)
    .holder   the pid of the process that holds the lock, written after locking, then
              what that process is ("search serve at http://...") and whether it lets
              go when asked; only read for the "in use" message and the request below,
              never trusted for locking
    .wanted   a request to a holder that lets go when asked (``announce(yields=True)``,
              e.g. ``search serve``): the pid of the process waiting for the lock, the
              time it stops waiting and what it is; it closes the collection and reopens
              it once the other process is done (``asked``)

A process that finds the lock held by a holder that lets go writes the request and waits up
to ``YIELD_GRACE_S`` (or its own ``wait``, if longer); a holder that does not let go keeps
the old contract: fail at once, or wait ``wait`` seconds.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

LOCK_FILE = ".lock"
HOLDER_FILE = ".holder"
REQUEST_FILE = ".wanted"
# How long a process waits for a holder that lets go when asked (it checks a few times a
# second, then finishes the request it is answering).
YIELD_GRACE_S = 10.0
_POLL_S = 0.1


@dataclass(frozen=True)
class Holder:
    """A process named in a holder or request file: its pid ("?" when unreadable), what it
    is (empty when it did not say) and whether it lets go when asked."""

    pid: str
    who: str = ""
    yields: bool = False

    def describe(self) -> str:
        return f"process {self.pid}" + (f" ({self.who})" if self.who else "")


class Busy(Exception):
    """Another process holds the lock; ``pid`` names it ("?" when it cannot be read),
    ``who`` says what it is (empty when it did not say)."""

    def __init__(self, pid: str, who: str = "") -> None:
        super().__init__(f"locked by {Holder(pid, who).describe()}")
        self.pid = pid
        self.who = who


_me = Holder(str(os.getpid()))
_held: weakref.WeakSet[FolderLock] = weakref.WeakSet()


def announce(who: str, *, yields: bool = False) -> None:
    """Describe this process in the holder files it writes from now on (``who``: what
    another process's "in use" message names, e.g. "search serve at http://..."), and say
    whether it lets go of a collection when another process asks for it (it must then
    check ``asked`` a few times a second and close what it holds)."""
    global _me
    _me = Holder(str(os.getpid()), " ".join(who.split()), yields)
    for lock in list(_held):
        lock.write_holder()


def identity() -> Holder:
    """How this process describes itself in holder files (``announce``)."""
    return _me


def asked() -> list[Path]:
    """The folders this process holds that another process is waiting for."""
    return [lock.folder for lock in list(_held) if lock.held and lock.request() is not None]


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
        if _me.yields:
            # A process that lets go when asked does not take the lock back from one
            # that asked for it and has not got it yet.
            waiting = self.request()
            if waiting is not None:
                raise Busy(waiting.pid, waiting.who)
        pl = _portalocker()
        path = self.folder / LOCK_FILE
        try:
            fh = open(path, "a+b")  # noqa: SIM115 (held while the collection is in use)
        except OSError as exc:
            raise LockUnavailable(f"cannot open {path}: {exc.strerror}") from exc
        deadline = time.monotonic() + wait
        asking = False
        try:
            while True:
                try:
                    pl.lock(fh, pl.LockFlags.EXCLUSIVE | pl.LockFlags.NON_BLOCKING)
                    break
                except pl.AlreadyLocked:
                    holder = self.holder_info()
                    if holder.yields and not asking:
                        deadline = max(deadline, time.monotonic() + YIELD_GRACE_S)
                        asking = self._ask(deadline - time.monotonic())
                    if time.monotonic() >= deadline:
                        fh.close()
                        raise Busy(holder.pid, holder.who) from None
                    time.sleep(_POLL_S)
                except pl.LockException as exc:
                    fh.close()
                    raise LockUnavailable(f"cannot lock {path}: {exc}") from exc
        finally:
            if asking:
                self._withdraw()
        self._fh = fh
        _held.add(self)
        self.write_holder()

    def write_holder(self) -> None:
        """Name this process in the holder file (while it holds the lock)."""
        if self._fh is None:
            return
        text = _me.pid
        if _me.who or _me.yields:
            text += f"\n{_me.who}\n{'yields' if _me.yields else ''}"
        try:
            with open(self.folder / HOLDER_FILE, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError:
            pass  # only the message of a second process would lack the pid

    def _ask(self, seconds: float) -> bool:
        """Ask the holder to let go: this process's pid, when it stops waiting, what it is."""
        until = time.time() + max(seconds, 0.0)
        try:
            with open(self.folder / REQUEST_FILE, "w", encoding="utf-8") as out:
                out.write(f"{_me.pid}\n{until:.3f}\n{_me.who}")
        except OSError:
            return False
        return True

    def _withdraw(self) -> None:
        """Remove this process's request (not a later one of another process)."""
        found = self.request(include_own=True)
        if found is not None and found.pid == _me.pid:
            with contextlib.suppress(OSError):
                (self.folder / REQUEST_FILE).unlink()

    def request(self, *, include_own: bool = False) -> Holder | None:
        """The process waiting for this folder, if its request is still current."""
        try:
            lines = (self.folder / REQUEST_FILE).read_text(encoding="utf-8").split("\n")
            pid, until = lines[0].strip(), float(lines[1])
        except (OSError, UnicodeDecodeError, ValueError, IndexError):
            return None
        if not pid.isdigit() or until < time.time() or (pid == _me.pid and not include_own):
            return None
        return Holder(pid, lines[2].strip() if len(lines) > 2 else "")

    def release(self) -> None:
        fh, self._fh = self._fh, None
        _held.discard(self)
        if fh is None:
            return
        try:
            _portalocker().unlock(fh)
        finally:
            fh.close()

    def holder(self) -> str:
        """The pid the holder file names; the holder may be between locking and writing it."""
        return self.holder_info().pid

    def holder_info(self) -> Holder:
        """The process the holder file names, what it is and whether it lets go when asked."""
        path = self.folder / HOLDER_FILE
        for _ in range(10):
            try:
                lines = path.read_text(encoding="utf-8").split("\n")
            except (OSError, UnicodeDecodeError):
                lines = [""]
            pid = lines[0].strip()
            if pid.isdigit():
                who = lines[1].strip() if len(lines) > 1 else ""
                return Holder(pid, who, len(lines) > 2 and lines[2].strip() == "yields")
            time.sleep(0.02)
        return Holder("?")
