"""The quickstart: the same steps in the README and on the docs' getting-started page, for
Windows PowerShell, macOS/Linux and ``make demo``; the Python versions it names are those of
``pyproject.toml``; and the demo's two commands run on the example file as they stand.

The other command lines and Python blocks of the README and the docs pages run in
tests/test_docs_examples.py.
"""

from __future__ import annotations

import re
import shlex
import shutil

import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import cli as ingest_cli
from patentsim.search.cli import cli as search_cli

from .conftest import ROOT

# Each page's quickstart: the section that holds the install commands.
QUICKSTARTS = {"README.md": "## Quickstart", "docs/install.md": "## Install and try the demo"}


def makefile_demo() -> list[list[str]]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    body = text.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    return [shlex.split(line.strip()) for line in body.splitlines()[1:] if line.strip()]


def section(page: str) -> str:
    text = (ROOT / page).read_text(encoding="utf-8")
    return text.split(QUICKSTARTS[page] + "\n", 1)[1].split("\n## ")[0]


def quickstart(lang: str, page: str = "README.md") -> list[str]:
    """The lines of the quickstart's ``lang`` block, comments dropped."""
    (block,) = re.findall(rf"```{lang}\n(.*?)```", section(page), flags=re.S)
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line]


def run(args: list[str]):
    cli = ingest_cli if args[0] == "ingest" else search_cli
    result = CliRunner().invoke(cli, args[1:], catch_exceptions=False)
    shown = " ".join(shlex.quote(a) for a in args)
    assert result.exit_code == 0, f"quickstart line failed: {shown}\n{result.output}"
    return result


@pytest.mark.parametrize("page", sorted(QUICKSTARTS))
def test_quickstart_is_the_same_on_every_system(page):
    windows, posix = quickstart("powershell", page), quickstart("sh", page)
    assert windows[:2] == ["py -m venv .venv", r".venv\Scripts\Activate.ps1"]
    assert posix[:2] == ["python3 -m venv .venv", ". .venv/bin/activate"]
    assert (
        windows[2:]
        == posix[2:]
        == [
            "python -m pip install -e .",
            *(shlex.join(args) for args in makefile_demo()),
            'python -m pip install -e ".[test]"',
            "python -m pytest",
        ]
    )


@pytest.mark.parametrize("page", sorted(QUICKSTARTS))
def test_quickstart_names_the_python_versions_of_pyproject(page):
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    prefix = "Programming Language :: Python :: 3."
    minors = sorted(int(c[len(prefix) :]) for c in project["classifiers"] if c.startswith(prefix))
    assert minors == list(range(minors[0], minors[-1] + 1))
    assert project["requires-python"] == f">=3.{minors[0]}"
    named = ", ".join(f"3.{m}" for m in minors[:-1]) + f" or 3.{minors[-1]}"
    assert section(page).lstrip().startswith(f"Python {named}, on Windows, macOS or Linux")
    extras = project["optional-dependencies"]
    assert "test" in extras


@pytest.mark.slow
def test_quickstart_demo_runs(tmp_path, monkeypatch):
    demo = [
        shlex.split(line) for line in quickstart("sh") if line.split()[0] in ("ingest", "search")
    ]
    assert demo == makefile_demo()
    assert [a[:2] for a in demo] == [["ingest", "load"], ["search", "like"]]
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.setenv("QDRANT_PATH", str(tmp_path / "qdrant_data"))
    run(demo[0])
    result = run(demo[1])
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 6  # a header and five hits
    assert [line.split()[0] for line in lines[1:]] == ["1", "2", "3", "4", "5"]
