"""Rules of the code's shape that a review would otherwise have to remember.

- ``store/`` speaks no CLI: no message it raises names a command-line option; the CLIs
  spell the settings a message names (```path```) as their options (``--path``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from click.testing import CliRunner

import patentsim
from patentsim.options import option_of
from patentsim.store.errors import StoreError, name_settings, setting

SRC = Path(patentsim.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _strings_outside_docstrings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_the_store_names_no_command_line_option():
    found = [
        f"{path.relative_to(SRC)}:{line}: {text!r}"
        for path in sorted((SRC / "store").glob("*.py"))
        for line, text in _strings_outside_docstrings(path)
        if FLAG.search(text)
    ]
    assert found == []


def test_the_rule_catches_an_option():
    assert FLAG.search("choose another --path") and not FLAG.search("a 6-d --- x")


def test_settings_are_spelled_as_options_by_the_cli():
    hint = f"use {setting('api_key')} or {setting('recreate')}, or another {setting('collection')}"
    assert hint == "use `api_key` or `recreate`, or another `collection`"
    assert name_settings(hint, option_of) == "use --api-key or --recreate, or another --collection"


def test_a_store_error_reaches_the_user_with_the_option(tmp_path):
    from patentsim.ingest.cli import cli

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    src = tmp_path / "p.csv"
    src.write_text("doc_id,abstract\n1,graphics processor\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["load", str(src), "--path", str(blocker / "store")])
    assert result.exit_code == 1, result.output
    assert "hint: choose a writable --path or set QDRANT_PATH" in result.output
    assert "`" not in result.output
    err = StoreError("x", f"choose another {setting('path')}")
    assert str(err) == "x (choose another `path`)"


# -- commands stay thin -------------------------------------------------------------------------

MAX_BODY_LINES = 30


def _commands():
    import click

    from patentsim.ingest.cli import cli as ingest_cli
    from patentsim.search.cli import cli as search_cli

    for side, group in (("ingest", ingest_cli), ("search", search_cli)):
        for name, command in group.commands.items():
            assert isinstance(command, click.Command)
            yield f"{side} {name}", command.callback


def _body_lines(fn) -> int:
    """Lines of a function's body, its docstring left out."""
    import inspect
    import textwrap

    fn = inspect.unwrap(fn)
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return body[-1].end_lineno - body[0].lineno + 1 if body else 0


def test_every_command_body_is_thin():
    long = {name: n for name, fn in _commands() if (n := _body_lines(fn)) > MAX_BODY_LINES}
    assert long == {}


def _unpacks_keywords(fn) -> bool:
    """Whether a function's body passes ``**something`` on to a call."""
    import inspect
    import textwrap

    tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(fn))))
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    return any(
        isinstance(call, ast.Call) and any(k.arg is None for k in call.keywords)
        for stmt in node.body
        for call in ast.walk(stmt)
    )


def test_no_command_passes_its_options_through_by_name():
    """A command hands the library settings objects (``StoreSettings``, ``LoadSettings``),
    not ``**options``."""
    assert sorted(name for name, fn in _commands() if _unpacks_keywords(fn)) == []


def test_the_unpacking_rule_catches_one():
    def command(**options):
        return dict(a=1, **options)

    def thin(settings, **options):
        return dict(settings=settings)

    assert _unpacks_keywords(command)
    assert not _unpacks_keywords(thin)


def test_load_settings_are_the_arguments_of_load():
    """LoadSettings and pipeline.load are twins: the same names, the same defaults."""
    import inspect

    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings

    where = {"settings", "store", "embedder", "progress"}  # what to load, not how
    arguments = {
        name: p.default
        for name, p in inspect.signature(load).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in where
    }
    assert LoadSettings().arguments() == arguments


def test_the_body_count_leaves_out_the_docstring():
    def command():
        """Doc
        string."""
        a = 1
        return a

    assert _body_lines(command) == 2
