"""The documentation's examples run, so they cannot drift from the code.

README.md and every page under docs/ (tests/docs_examples.py says which fenced blocks run).
Each page's examples run in a folder of their own holding the example file's first rows as
``patents.xlsx`` and as ``patents.csv``, with the offline model standing in for the default
model (``EMBED_MODEL=minilm``: the hub cannot be reached here):

- every ``ingest load`` line on a store of its own (a page's loads are alternatives, not a
  sequence: one keys rows by number, the next by id);
- then, on the default store ``./qdrant_data`` holding ``patents.xlsx`` keyed by
  ``application_number`` (collection ``patents``), the page's other command lines in page
  order, its Python blocks, and its ``ingest drop`` lines last.

``EXPECTED`` says which examples each page must hold, so a page whose examples vanish (a
fence renamed, a section cut) fails instead of passing with nothing run.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import cli as ingest_cli
from patentsim.search.cli import cli as search_cli

from .conftest import EXAMPLE_XLSX, slice_xlsx
from .docs_examples import (
    FENCE,
    NOT_RUN,
    ROOT,
    Example,
    counts,
    examples,
    name,
    pages,
    unrunnable,
)

ROWS = 40

# The least each page must yield, by kind; {}: a page without runnable examples.
EXPECTED: dict[str, dict[str, int]] = {
    "README.md": {
        "ingest load": 1,
        "ingest info": 1,
        "ingest list": 1,
        "search like": 3,
        "search text": 1,
        "search facets": 1,
        "python": 1,
    },
    "docs/index.md": {},  # an overview; its block is shown only
    "docs/install.md": {},  # install commands: tests/test_readme.py holds them to the README's
    "docs/loading.md": {"ingest load": 8, "ingest info": 1, "ingest list": 1, "ingest drop": 1},
    "docs/searching.md": {
        "search like": 15,
        "search text": 3,
        "search facets": 1,
        "search eval": 1,
        "python": 2,
    },
    "docs/quality.md": {"search eval": 3},
    "docs/fit.md": {"ingest models": 1, "ingest tune": 1, "python": 1},
    "docs/landscape.md": {
        "search map": 3,
        "search clusters": 3,
        "search like": 1,
        "search text": 1,
        "python": 1,
    },
    "docs/toolkit.md": {
        "search like": 2,
        "search text": 1,
        "search dups": 3,
        "search suggest": 2,
        "search facets": 1,
        "search eval": 1,
        "python": 1,
    },
    "docs/server.md": {"ingest copy": 1},
    "docs/web.md": {},  # search serve runs until stopped: tests/test_web_*.py test it
    "docs/scaling.md": {},  # its commands need a server or take hours: shown only
    "docs/troubleshooting.md": {},
    "docs/benchmarks.md": {},  # `python -m bench` runs: tests/test_bench*.py test the bench
    "docs/benchmarks-report.md": {},
    "docs/development.md": {},
}

RUNNABLE = sorted(name(p) for p in pages() if examples(p))


def test_every_page_is_listed():
    found = {name(p) for p in pages()}
    assert found - EXPECTED.keys() == set(), "add the new page to EXPECTED with its examples"
    assert EXPECTED.keys() - found == set(), "a listed page is gone: remove it from EXPECTED"


@pytest.mark.parametrize("page", sorted(EXPECTED))
def test_each_page_holds_its_examples(page):
    got = counts(ROOT / page)
    short = {
        kind: (got[kind], least) for kind, least in EXPECTED[page].items() if got[kind] < least
    }
    assert not short, f"{page}: examples (found, expected at least): {short}"


def test_no_page_has_a_command_that_cannot_run_here():
    bad = [line for p in pages() for line in unrunnable(p)]
    assert not bad, "mark these blocks <!-- not run: REASON -->:\n" + "\n".join(bad)


def test_a_not_run_mark_stands_right_above_a_fence():
    for page in pages():
        lines = page.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if line.lstrip().startswith("<!-- not run"):
                assert NOT_RUN.match(line), f"{name(page)}:{i + 1}: give a reason: {line}"
                below = lines[i + 1] if i + 1 < len(lines) else ""
                assert FENCE.match(below), f"{name(page)}:{i + 1}: no fence right below"


@pytest.fixture(scope="session")
def docs_folder(tmp_path_factory, model_cache) -> Path:
    """The example files and the default store loaded from them, built once and copied."""
    if not EXAMPLE_XLSX.is_file():
        pytest.skip(f"{EXAMPLE_XLSX} not found")
    folder = tmp_path_factory.mktemp("docs")
    slice_xlsx(EXAMPLE_XLSX, folder / "patents.xlsx", ROWS)
    wb = openpyxl.load_workbook(folder / "patents.xlsx", read_only=True)
    with open(folder / "patents.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(wb.active.iter_rows(values_only=True))
    wb.close()
    env = {
        "QDRANT_PATH": str(folder / "qdrant_data"),
        "EMBED_MODEL": "minilm",
        "PATENTSIM_CACHE": str(model_cache),
        "HF_HUB_OFFLINE": "1",
    }
    args = ["load", str(folder / "patents.xlsx"), "--id", "application_number", "--quiet"]
    result = CliRunner().invoke(ingest_cli, args, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return folder


def run(example: Example, env: dict[str, str] | None = None) -> None:
    args = example.args
    cli = ingest_cli if args[0] == "ingest" else search_cli
    result = CliRunner().invoke(cli, args[1:], env=env, catch_exceptions=False)
    where = f"{example.page}, block at line {example.line}"
    assert result.exit_code == 0, f"{where}: {example.text}\n{result.output}"


def _outputs(example: Example) -> list[str]:
    args = example.args
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a in ("--output", "-o")]


@pytest.mark.slow
@pytest.mark.parametrize("page", RUNNABLE)
def test_page_examples_run(page, docs_folder, tmp_path, monkeypatch):
    work = tmp_path / "work"
    shutil.copytree(docs_folder, work)
    monkeypatch.chdir(work)
    monkeypatch.setenv("EMBED_MODEL", "minilm")
    monkeypatch.setenv("QDRANT_PATH", str(work / "qdrant_data"))
    found = examples(ROOT / page)
    loads = [ex for ex in found if ex.kind == "ingest load"]
    drops = [ex for ex in found if ex.kind == "ingest drop"]
    python = [ex for ex in found if ex.kind == "python"]
    for i, ex in enumerate(loads):
        run(ex, env={"QDRANT_PATH": str(work / f"load{i}")})
    for ex in found:
        if ex.kind not in ("ingest load", "ingest drop", "python"):
            run(ex)
            for out in _outputs(ex):
                assert (work / out).exists(), (
                    f"{ex.page}: {ex.text} wrote no {out}"
                )  # file or model folder
    for ex in python:
        code = compile(ex.text, f"{ex.page}:{ex.line}", "exec")
        exec(code, {"__name__": "__main__"})
    for ex in drops:
        run(ex)


# Options of other tools that the pages name, and the tool.
OTHER_OPTIONS = {"--index-url": "pip", "--strict": "mkdocs"}


def test_every_option_the_pages_name_exists():
    """An option renamed or removed in the code shows here, wherever a page names it."""
    known = {"--help", "--version"}
    commands = [*ingest_cli.commands.values(), *search_cli.commands.values()]
    while commands:
        command = commands.pop()
        known.update(o for p in command.params for o in (*p.opts, *p.secondary_opts))
        commands.extend(getattr(command, "commands", {}).values())  # a group's own commands
    for script in (ROOT / "bench").glob("*.py"):  # python -m bench, python -m bench.map_subset
        text = script.read_text(encoding="utf-8")
        known.update(re.findall(r'add_argument\(\s*"(--[a-z-]+)"', text))
    named = {
        (option, name(page))
        for page in pages()
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", page.read_text("utf-8"))
    }
    unknown = sorted(
        f"{page}: {option}" for option, page in named if option not in known | OTHER_OPTIONS.keys()
    )
    assert {"--where", "--quantization", "--scale"} <= known
    assert not unknown, "options that no command has: " + ", ".join(unknown)


def test_the_readme_stays_short():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 250, f"README.md has {len(lines)} lines: move the detail into docs/"


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lowercase, punctuation dropped, spaces as dashes."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_the_readme_links_resolve():
    """mkdocs checks the site's links; the README is outside the site, so it is checked here
    the way GitHub resolves it (files beside it, anchors by GitHub's rule)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    assert links
    for link in links:
        if re.match(r"[a-z]+://", link):
            continue
        path, _, anchor = link.partition("#")
        target = ROOT / path if path else ROOT / "README.md"
        assert target.exists(), f"README.md links to {link}: no such file"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), re.M)
            anchors = {_github_anchor(h) for h in headings}
            assert anchor in anchors, f"README.md links to {link}: no such heading"
