"""The README's command lines run, so they cannot drift from the code.

Every line of a ```bash block that starts with ``ingest`` or ``search`` runs
through the CLI against a copy of the example file (``patents.xlsx``, and a
CSV made from it as ``patents.csv``), with the offline model standing in for
the default model (``EMBED_MODEL=minilm``: the hub cannot be reached here).
Lines that need a Qdrant server (``QDRANT_URL=http://...``) or Docker are
left to tests/test_docker.py.  The ```python block runs too, and so do the
quickstart's commands, which are the same for Windows PowerShell, macOS/Linux and
``make demo``; the Python versions it names are those of ``pyproject.toml``.

Each ``ingest load`` line runs on a store of its own (README lines are
alternatives, not a sequence: one keys rows by number, the next by id); the
search lines, then ``ingest info/list``, then ``ingest drop`` run on one store
loaded with ``--id application_number``.
"""

from __future__ import annotations

import csv
import re
import shlex
import shutil
import textwrap

import openpyxl
import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import cli as ingest_cli
from patentsim.search.cli import cli as search_cli

from .conftest import EXAMPLE_XLSX, ROOT, slice_xlsx

README = ROOT / "README.md"
ROWS = 40

pytestmark = pytest.mark.slow


def _blocks(lang: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def readme_commands() -> list[list[str]]:
    commands = []
    for block in _blocks("bash"):
        for line in block.replace("\\\n", " ").splitlines():
            args = shlex.split(line, comments=True)
            if args and args[0] in ("ingest", "search"):
                commands.append(args)
    return commands


def makefile_demo() -> list[list[str]]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    body = text.split("\ndemo:", 1)[1].split("\n\n", 1)[0]
    return [shlex.split(line.strip()) for line in body.splitlines()[1:] if line.strip()]


def quickstart(lang: str) -> list[str]:
    """The lines of the quickstart's ``lang`` block, comments dropped."""
    section = README.read_text(encoding="utf-8").split("## Quickstart", 1)[1].split("\n## ")[0]
    (block,) = re.findall(rf"```{lang}\n(.*?)```", section, flags=re.S)
    lines = [line.split("  #")[0].strip() for line in block.splitlines()]
    return [line for line in lines if line]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EMBED_MODEL", "minilm")
    slice_xlsx(EXAMPLE_XLSX, tmp_path / "patents.xlsx", ROWS)
    wb = openpyxl.load_workbook(tmp_path / "patents.xlsx", read_only=True)
    with open(tmp_path / "patents.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(wb.active.iter_rows(values_only=True))
    wb.close()
    return tmp_path


def run(args: list[str], env: dict[str, str] | None = None):
    cli = ingest_cli if args[0] == "ingest" else search_cli
    result = CliRunner().invoke(cli, args[1:], env=env, catch_exceptions=False)
    shown = " ".join(shlex.quote(a) for a in args)
    assert result.exit_code == 0, f"README line failed: {shown}\n{result.output}\n{result.stderr}"
    return result


def test_readme_has_commands():
    commands = readme_commands()
    assert sum(1 for c in commands if c[:2] == ["ingest", "load"]) >= 3
    assert sum(1 for c in commands if c[0] == "search") >= 10


def test_readme_command_lines_run(workdir):
    commands = readme_commands()
    loads = [c for c in commands if c[:2] == ["ingest", "load"]]
    for i, args in enumerate(loads):
        run(args, env={"QDRANT_PATH": str(workdir / f"store{i}")})

    store = {"QDRANT_PATH": str(workdir / "search-store")}
    run(["ingest", "load", "patents.xlsx", "--id", "application_number", "--quiet"], env=store)
    searches = [c for c in commands if c[0] == "search"]
    for args in searches:
        run(args, env=store)
    assert (workdir / "results.xlsx").is_file()
    for args in [c for c in commands if c[0] == "ingest" and c[1] in ("info", "list")]:
        run(args, env=store)
    for args in [c for c in commands if c[:2] == ["ingest", "drop"]]:
        run(args, env=store)


def test_readme_python_block_runs(workdir, monkeypatch):
    monkeypatch.setenv("QDRANT_PATH", str(workdir / "py-store"))
    run(["ingest", "load", "patents.xlsx", "--id", "application_number", "--quiet"])
    for block in _blocks("python"):
        exec(compile(textwrap.dedent(block), str(README), "exec"), {})


def test_quickstart_is_the_same_on_every_system():
    windows, posix = quickstart("powershell"), quickstart("sh")
    assert windows[:2] == ["py -m venv .venv", r".venv\Scripts\Activate.ps1"]
    assert posix[:2] == ["python3 -m venv .venv", ". .venv/bin/activate"]
    assert (
        windows[2:]
        == posix[2:]
        == [
            'python -m pip install -e ".[offline]"',
            *(shlex.join(args) for args in makefile_demo()),
            'python -m pip install -e ".[test]"',
            "python -m pytest",
        ]
    )


def test_readme_names_the_python_versions_of_pyproject():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    prefix = "Programming Language :: Python :: 3."
    minors = sorted(int(c[len(prefix) :]) for c in project["classifiers"] if c.startswith(prefix))
    assert minors == list(range(minors[0], minors[-1] + 1))
    assert project["requires-python"] == f">=3.{minors[0]}"
    named = ", ".join(f"3.{m}" for m in minors[:-1]) + f" or 3.{minors[-1]}"
    section = README.read_text(encoding="utf-8").split("## Quickstart", 1)[1]
    assert section.lstrip().startswith(f"Python {named}, on Windows, macOS or Linux")
    extras = project["optional-dependencies"]
    assert {"offline", "test"} <= extras.keys()


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
