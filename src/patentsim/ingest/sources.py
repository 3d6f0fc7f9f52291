"""Which files a load reads: files, folders and glob patterns, in a stable order.

``ingest load a.xlsx b.xlsx``, ``ingest load exports/`` and ``ingest load
'exports/*.xlsx'`` all load several files into one collection (Korean
databases cap an export at a few thousand rows, so people export in parts).
A folder means the readable files directly inside it, by name, leaving out
hidden files and Excel's lock files (``~$name.xlsx``).
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from ..errors import SourceError
from .read import FORMATS

_GLOB_CHARS = set("*?[")


def expand_sources(source: str | Path | Sequence[str | Path]) -> list[Path]:
    """The files named by paths, folders and glob patterns, each once, in order."""
    items = [source] if isinstance(source, (str, Path)) else list(source)
    if not items:
        raise SourceError("no file given", "name a .xlsx, .csv, .jsonl or .parquet file")
    out: list[Path] = []
    seen: set[Path] = set()
    for item in items:
        for path in _expand(item):
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                out.append(path)
    return out


def _expand(item: str | Path) -> list[Path]:
    text = str(item)
    p = Path(text)
    if not p.exists() and _GLOB_CHARS & set(text):
        found = sorted(Path(f) for f in glob.glob(text) if Path(f).is_file() and _loadable(Path(f)))
        if not found:
            raise SourceError(f"{text}: no file matches", "check the pattern")
        return found
    if p.is_dir():
        found = sorted(f for f in p.iterdir() if f.is_file() and _loadable(f))
        if not found:
            raise SourceError(
                f"{p}: the folder holds no .xlsx, .csv, .tsv, .jsonl or .parquet file",
                "name the files, or a folder that holds them",
            )
        return found
    return [p]  # open_table says what is wrong with it, if anything


def _loadable(path: Path) -> bool:
    return path.suffix.lower() in FORMATS and not path.name.startswith((".", "~$"))
