"""The examples of the documentation pages: which fenced blocks run, and what they hold.

The convention (docs/development.md gives it to writers):

- a ```` ```bash ```` block: every line whose command is ``ingest`` or ``search`` runs
  through the CLI; other lines (``docker``, ``python -m bench``, ...) are shown only;
- a ```` ```python ```` block runs as a script;
- ``<!-- not run: REASON -->`` on the line right above a fence shows the block only;
- any other fence (``text``, ``sh``, ``powershell``, ``json``, ...) is shown only.

A line of a runnable block that cannot run on a test machine (a Qdrant server's URL, an
environment variable set before the command or exported) is a mistake of the page: its block
needs the ``not run`` mark, and ``unrunnable`` lists it.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOT_RUN = re.compile(r"^\s*<!--\s*not run:\s*\S.*-->\s*$")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
COMMANDS = ("ingest", "search")
# Options that reach a Qdrant server: no test machine has one.
SERVER_OPTIONS = ("--url", "--to-url", "--from-url")


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    run: bool  # False where the page marks it ``not run``


@dataclass(frozen=True)
class Example:
    page: str
    line: int
    kind: str  # "python", or the command and subcommand: "ingest load", "search like", ...
    text: str  # the command line as written, or the Python source

    @property
    def args(self) -> list[str]:
        return shlex.split(self.text, comments=True)


def pages() -> list[Path]:
    """README.md and every page of the docs site."""
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def blocks(page: Path) -> list[Block]:
    """The fenced blocks of a page, with their language and whether they run."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, lang = opening.group(1), opening.group(2)
        body: list[str] = []
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        marked = i > 0 and bool(NOT_RUN.match(lines[i - 1]))
        found.append(Block(name(page), i + 1, lang, "\n".join(body) + "\n", not marked))
        i = j + 1
    return found


def _command_lines(block: Block) -> list[str]:
    return [ln.strip() for ln in block.text.replace("\\\n", " ").splitlines() if ln.strip()]


def _command(line: str) -> list[str]:
    """The words of a line, from its ``ingest``/``search`` command on (after any VAR=value)."""
    words = shlex.split(line, comments=True)
    for k, word in enumerate(words):
        if word in COMMANDS:
            return words[k:]
        if not re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", word):
            return []
    return []


def examples(page: Path) -> list[Example]:
    """What runs of a page: its command lines and its Python blocks, in page order."""
    found: list[Example] = []
    for block in blocks(page):
        if not block.run:
            continue
        if block.lang == "python":
            found.append(Example(block.page, block.line, "python", block.text))
        elif block.lang == "bash":
            for line in _command_lines(block):
                words = shlex.split(line, comments=True)
                if words and words[0] in COMMANDS:
                    kind = " ".join(words[:2])
                    found.append(Example(block.page, block.line, kind, line))
    return found


def unrunnable(page: Path) -> list[str]:
    """Lines of runnable bash blocks that no test machine can run: mark their blocks."""
    bad = []
    for block in blocks(page):
        if not block.run or block.lang != "bash":
            continue
        for line in _command_lines(block):
            words = _command(line)
            server = any(w.split("=")[0] in SERVER_OPTIONS for w in words)
            env_first = bool(words) and shlex.split(line, comments=True)[0] not in COMMANDS
            exported = line.startswith("export ") and "QDRANT" in line
            if server or env_first or exported:
                bad.append(f"{block.page}:{block.line}: {line}")
    return bad


def counts(page: Path) -> Counter[str]:
    """How many examples of each kind a page holds ("ingest load", "search", "python", ...)."""
    tally: Counter[str] = Counter()
    for ex in examples(page):
        tally[ex.kind] += 1
        if ex.kind != "python":
            tally[ex.kind.split()[0]] += 1
    return tally
