"""Runs where patent analysts work: Windows and macOS as well as Linux.

CI runs on Linux only, so these tests check, on Linux, what would break elsewhere:

- no module of the package imports a POSIX-only module (``fcntl``, ``termios``,
  ``resource``, ...), and paths are built with ``pathlib`` (no ``os.path``);
- every module imports, and ``ingest load`` / ``ingest info`` / ``search like`` run, in a
  process where ``fcntl``, ``termios`` and ``resource`` cannot be imported, as on Windows;
- a console that cannot encode Korean (a legacy Windows code page) gets replacement
  characters, not a ``UnicodeEncodeError``; a CSV written for Excel keeps its BOM.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, like
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings

from .conftest import EXAMPLE_XLSX, ROOT, slice_xlsx
from .fakes import FakeEmbedder

SRC = ROOT / "src" / "patentsim"
BLOCKED = ("fcntl", "termios", "resource")
POSIX_ONLY = (*BLOCKED, "pwd", "grp", "posix", "pty", "tty", "crypt", "syslog")


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def _modules() -> list[Path]:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 20
    return files


def test_no_module_imports_a_posix_only_module():
    found = []
    for file in _modules():
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [
                f"{file.relative_to(ROOT)}:{node.lineno} {name}"
                for name in names
                if name.split(".")[0] in POSIX_ONLY
            ]
    assert found == []


def test_paths_are_built_with_pathlib():
    found = []
    for file in _modules():
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("path", "sep", "getcwd")
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
            ):
                found.append(f"{file.relative_to(ROOT)}:{node.lineno} os.{node.attr}")
    assert found == []


# The lock library is imported first: its POSIX branch is its own business (on Windows it
# locks with msvcrt or LockFileEx).  Everything imported after it (every module of the
# package, and whatever the commands pull in: torch, sentence-transformers, qdrant-edge)
# finds no fcntl, termios or resource, as on Windows.
WITHOUT_POSIX = textwrap.dedent(
    """
    import importlib, pkgutil, sys
    import portalocker
    for name in {blocked!r}:
        sys.modules[name] = None
    import patentsim
    for info in pkgutil.walk_packages(patentsim.__path__, "patentsim."):
        importlib.import_module(info.name)
    from patentsim.ingest.cli import cli as ingest
    from patentsim.search.cli import cli as search
    for name in {blocked!r}:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
        else:
            raise SystemExit(name + " was importable")
    command = sys.argv[1]
    (ingest if command == "ingest" else search).main(sys.argv[2:], prog_name=command)
    """
).format(blocked=BLOCKED)


def _without_posix(*args: str, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_POSIX, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(QDRANT_PATH=str(store), HF_HUB_OFFLINE="1", PYTHONIOENCODING="utf-8"),
        timeout=600,
    )


@pytest.mark.slow
def test_commands_run_without_posix_only_modules(tmp_path):
    """``ingest load`` with the real offline model, ``ingest info`` and ``search like``, each
    in a fresh process that cannot import fcntl, termios or resource."""
    source = slice_xlsx(EXAMPLE_XLSX, tmp_path / "small.xlsx", 8)
    store = tmp_path / "store"
    loaded = _without_posix(
        "ingest",
        "load",
        str(source),
        "--model",
        "minilm",
        "--id",
        "application_number",
        "-c",
        "w",
        "--quiet",
        "--format",
        "json",
        store=store,
    )
    assert loaded.returncode == 0, loaded.stderr
    summary = json.loads(loaded.stdout)
    assert (summary["added"], summary["points"]) == (8, 8)

    info = _without_posix("ingest", "info", "-c", "w", store=store)
    assert info.returncode == 0, info.stderr
    assert "points      8" in info.stdout

    found = _without_posix(
        "search", "like", "0", "-c", "w", "-n", "3", "--format", "json", store=store
    )
    assert found.returncode == 0, found.stderr
    assert "Traceback" not in found.stderr
    hits = [json.loads(line) for line in found.stdout.splitlines()]
    expected = like(
        0, QueryOptions(limit=3), settings=StoreSettings(path=str(store)), collection="w"
    )
    assert [(h["rank"], h["key"]) for h in hits] == [(h.rank, h.key) for h in expected.hits]
    assert len(hits) == 3


@pytest.fixture(scope="module")
def korean_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("console")
    source = slice_xlsx(EXAMPLE_XLSX, folder / "ko.xlsx", 12)
    settings = StoreSettings(path=str(folder / "store"))
    load(
        source,
        LoadSettings(store_settings=settings, collection="ko", id_column="application_number"),
        embedder=FakeEmbedder(),
    )
    return settings


def _run(module: str, *args: str, settings: StoreSettings, encoding: str, cwd: Path):
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        env=_env(QDRANT_PATH=str(settings.path), PYTHONIOENCODING=encoding),
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "cp437"])
def test_search_like_on_a_console_that_cannot_show_korean(korean_store, encoding, tmp_path):
    """A legacy code page gets '?' for Korean; for ASCII, click itself writes UTF-8 (it takes
    an ASCII stream for a misconfigured locale).  Either way: exit 0, no traceback."""
    proc = _run(
        "patentsim.search",
        "like",
        "0",
        "-c",
        "ko",
        "-n",
        "3",
        settings=korean_store,
        encoding=encoding,
        cwd=tmp_path,
    )
    err = proc.stderr.decode(encoding, errors="replace")
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "UnicodeEncodeError" not in err
    out = proc.stdout.decode("utf-8" if encoding == "ascii" else encoding)
    expected = like(0, QueryOptions(limit=3), settings=korean_store, collection="ko")
    rows = out.splitlines()[1:]
    assert [row.split()[:3] for row in rows] == [
        [str(h.rank), f"{h.score:.4f}", h.key] for h in expected.hits
    ]
    title = expected.hits[0].payload["title"][:6]  # the table shortens long titles
    if encoding == "ascii":
        assert title in rows[0]
    else:
        assert title not in out
        assert "??" in rows[0]
    assert err.startswith("like: key ")


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_ingest_info_on_a_console_that_cannot_show_korean(korean_store, encoding, tmp_path):
    proc = _run(
        "patentsim.ingest",
        "info",
        "-c",
        "ko",
        settings=korean_store,
        encoding=encoding,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert b"Traceback" not in proc.stderr
    out = proc.stdout.decode("utf-8" if encoding == "ascii" else encoding)
    assert "points      12" in out
    assert "application_number" in out


def test_an_error_naming_a_korean_file_on_a_legacy_console(tmp_path):
    proc = _run(
        "patentsim.ingest",
        "load",
        "특허목록.xlsx",
        "--model",
        "minilm",
        settings=StoreSettings(path=str(tmp_path / "s")),
        encoding="cp1252",
        cwd=tmp_path,
    )
    err = proc.stderr.decode("cp1252")
    assert proc.returncode == 1, err
    assert err.startswith("Error: ") and "no such file" in err
    assert "Traceback" not in err


def test_csv_for_excel_keeps_its_bom_whatever_the_console(korean_store, tmp_path):
    proc = _run(
        "patentsim.search",
        "like",
        "0",
        "-c",
        "ko",
        "-n",
        "2",
        "--output",
        "r.csv",
        settings=korean_store,
        encoding="ascii",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    data = (tmp_path / "r.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfrank,score,key,row,")
    assert b"\r\n" not in data
    text = data.decode("utf-8-sig")
    expected = like(0, QueryOptions(limit=2), settings=korean_store, collection="ko")
    assert expected.hits[0].payload["title"] in text
    assert len(text.splitlines()) == 3


def test_python_m_search_is_the_search_command(korean_store):
    direct = CliRunner().invoke(
        search_cli,
        ["like", "0", "-c", "ko", "--format", "json"],
        env={"QDRANT_PATH": korean_store.path},
    )
    assert direct.exit_code == 0, direct.output
    proc = subprocess.run(
        [sys.executable, "-m", "patentsim.search", "like", "0", "-c", "ko", "--format", "json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=_env(QDRANT_PATH=str(korean_store.path), PYTHONIOENCODING="utf-8"),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == direct.stdout


def test_a_windows_model_path_that_does_not_exist_is_named_as_a_folder():
    from patentsim.embed.model import resolve_model
    from patentsim.errors import ModelUnavailable

    for name in (r"C:\models\ko-sroberta", r"models\ko-sroberta", "D:/models/ko"):
        with pytest.raises(ModelUnavailable, match=r"model folder .* does not exist"):
            resolve_model(name)
