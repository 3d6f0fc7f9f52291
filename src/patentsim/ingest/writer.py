"""Writing one batch while the next is read (and embedded): the overlap that ``load`` and
``copy`` share, so the CPU or GPU never waits on storage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType

from ..store.backend import Collection, PointData

# ``progress(done, total)``: rows (or points) done so far, of how many.
ProgressFn = Callable[[int, int], None]


class WriteBehind:
    """At most one upsert in flight, in a thread of its own; its error is raised at the
    next ``write`` or when the block ends (an error inside the block wins).

    ``checkpoint``: called, with no write in flight, each time ``every`` more points have
    been written (``Collection.checkpoint``: a large collection indexes what was written and
    lets go of its memory)."""

    def __init__(
        self, name: str, *, checkpoint: Callable[[], None] | None = None, every: int = 0
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._pending: Future[None] | None = None
        self._checkpoint = checkpoint
        self._every = every
        self._since = 0  # points written since the last checkpoint

    def __enter__(self) -> WriteBehind:
        return self

    def write(self, points: Sequence[PointData], to: Callable[[], Collection]) -> None:
        """Wait for the write in flight, then start writing ``points`` (if any) to ``to()``."""
        self.wait()
        if points:
            self._pending = self._pool.submit(to().upsert, points)
            self._since += len(points)
        if self._checkpoint is not None and self._since >= self._every:
            self.wait()
            self._checkpoint()
            self._since = 0

    def wait(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                self.wait()
        finally:
            self._pool.shutdown(wait=True)
