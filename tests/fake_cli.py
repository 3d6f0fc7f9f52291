"""``python -m tests.fake_cli ingest|search ARGS``: the CLIs in a fresh process, loading
with the fake embedder (the fault tests need a process of its own that a signal may end).

``PATENTSIM_KILL_AT=POINT[:N]`` kills the process with SIGKILL at a named point of a load
(the N-th time it is reached, default the first), as a power cut or ``kill -9`` would:

- ``create``: the manifest of a new collection is written, its shard not yet made;
- ``index``: the shard exists, a payload index is about to be made;
- ``upsert``: a chunk is about to be written; ``upserted``: it was just written;
- ``delete``: ``--prune`` is about to delete documents;
- ``optimize``: every point is written, the engine is about to index them;
- ``ready``: the manifest that says "ready" is about to be written.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from typing import Any

from .fakes import FakeEmbedder

BEFORE = {
    "create": "create_shard",
    "index": "ensure_index",
    "upsert": "upsert",
    "delete": "delete",
    "optimize": "optimize",
}


def _kill() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(point: str) -> None:
    """Wrap the engine's calls so that the process dies at ``point`` (see above)."""
    from patentsim.store.edge import EdgeCollection

    name, _, nth = point.partition(":")
    wanted = int(nth or 1)
    seen = {"n": 0}

    def reached() -> bool:
        seen["n"] += 1
        return seen["n"] == wanted

    if name in BEFORE:
        method = BEFORE[name]
        real = getattr(EdgeCollection, method)

        @functools.wraps(real)
        def before(self: Any, *args: Any, **kwargs: Any) -> Any:
            if reached():
                _kill()
            return real(self, *args, **kwargs)

        setattr(EdgeCollection, method, before)
    elif name == "upserted":
        real_upsert = EdgeCollection.upsert

        def after(self: Any, points: Any) -> None:
            real_upsert(self, points)
            self.shard.flush()  # what the engine has is on disk, as after any commit
            if reached():
                _kill()

        EdgeCollection.upsert = after  # type: ignore[method-assign]
    elif name == "ready":
        real_write = EdgeCollection.write_manifest

        def write(self: Any, manifest: dict[str, Any]) -> None:
            if manifest.state == "ready" and reached():
                _kill()
            real_write(self, manifest)

        EdgeCollection.write_manifest = write  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def main() -> None:
    tool = sys.argv.pop(1)
    if os.environ.get("PATENTSIM_KILL_AT"):
        install(os.environ["PATENTSIM_KILL_AT"])
    from patentsim.ingest.cli import Seams

    if tool == "ingest":
        from patentsim.ingest.cli import cli
    else:
        from patentsim.search.cli import cli
    # Loads embed with the fake embedder, handed over as click's obj (ingest.cli.Seams).
    cli(prog_name=tool, obj=Seams(embedder=FakeEmbedder(dimension=384)))


if __name__ == "__main__":
    main()
