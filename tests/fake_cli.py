"""``python -m tests.fake_cli ingest|search ARGS``: the CLIs in a fresh process, loading
with the fake embedder (the fault tests need a process of its own that a signal may end)."""

from __future__ import annotations

import functools
import sys

from patentsim.ingest import pipeline

from .fakes import FakeEmbedder


def main() -> None:
    tool = sys.argv.pop(1)
    pipeline.load = functools.partial(pipeline.load, embedder=FakeEmbedder(dimension=384))
    if tool == "ingest":
        from patentsim.ingest.cli import cli
    else:
        from patentsim.search.cli import cli
    cli(prog_name=tool)


if __name__ == "__main__":
    main()
