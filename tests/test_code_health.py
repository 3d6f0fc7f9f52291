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
from patentsim.errors import StoreError, name_settings, setting
from patentsim.options import option_of

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


def test_load_takes_one_settings_object():
    """pipeline.load: the source, one LoadSettings, and the caller's parts (store, embedder,
    progress) as keywords; no option of its own to keep in step with LoadSettings."""
    import inspect

    from patentsim.ingest.pipeline import load

    params = inspect.signature(load).parameters
    assert list(params) == ["source", "settings", "store", "embedder", "progress"]
    assert all(params[n].kind is inspect.Parameter.KEYWORD_ONLY for n in list(params)[2:])


def test_the_body_count_leaves_out_the_docstring():
    def command():
        """Doc
        string."""
        a = 1
        return a

    assert _body_lines(command) == 2


# -- the search API: one options object -----------------------------------------------------

MAX_PARAMETERS = 5  # beside a function's options object (issue 26)


def _search_api():
    """The public functions and methods of the search API: what ``patentsim.search`` exports,
    ``Session``'s methods and ``search eval``'s ``evaluate``."""
    import dataclasses
    import inspect

    import patentsim.search as search
    from patentsim.search.eval import evaluate

    yield "search.eval.evaluate", evaluate
    for name in search.__all__:
        obj = getattr(search, name)
        if inspect.isfunction(obj):
            yield f"search.{name}", obj
        elif inspect.isclass(obj) and not dataclasses.is_dataclass(obj):
            for attr, fn in vars(obj).items():
                if inspect.isfunction(fn) and (attr == "__init__" or not attr.startswith("_")):
                    yield f"search.{name}.{attr}", fn


def _parameters(fn) -> list[str]:
    import inspect

    skip = {"self", "cls", "options"}
    return [p for p in inspect.signature(fn).parameters if p not in skip]


def test_no_search_function_takes_more_than_five_parameters_beside_its_options():
    api = dict(_search_api())
    assert {"search.like", "search.text", "search.Session.text", "search.eval.evaluate"} <= set(api)
    wide = {name: _parameters(fn) for name, fn in api.items()}
    assert {n: p for n, p in wide.items() if len(p) > MAX_PARAMETERS} == {}


def test_the_parameter_rule_catches_a_wide_function():
    def wide(ref, options, *, a, b, c, d, e):
        return ref

    assert len(_parameters(wide)) == MAX_PARAMETERS + 1


def test_like_and_text_share_one_option_bundle():
    """Every option of a query reaches ``like`` and ``text`` as one ``options`` argument."""
    from patentsim.search.cli import cli
    from patentsim.search.options import QueryOptions

    params = {name: {p.name for p in cli.commands[name].params} for name in ("like", "text")}
    shared = set(QueryOptions.names()) - {"prior_art", "date_field"}
    assert shared <= params["like"] and shared <= params["text"]
    assert {"prior_art", "date_field"} <= params["like"]
    for name in ("like", "text"):
        callback = cli.commands[name].callback
        import inspect

        assert "options" in inspect.signature(inspect.unwrap(callback)).parameters
        assert not set(QueryOptions.names()) & set(
            inspect.signature(inspect.unwrap(callback)).parameters
        )


def test_the_bundle_builds_the_options_the_command_line_names(monkeypatch):
    import patentsim.search.query as query
    from patentsim.search.cli import cli
    from patentsim.search.options import QueryOptions
    from patentsim.search.results import Results

    asked = {}

    def fake(name):
        def answer(first, options, **kwargs):
            asked[name] = (first, options, kwargs)
            return Results("c", [])

        return answer

    monkeypatch.setattr(query, "like", fake("like"))
    monkeypatch.setattr(query, "text", fake("text"))
    common = [
        "--where", "a=1", "-w", "b>=2", "--filter-json", "{}", "-n", "3", "--offset", "4",
        "--mode", "keyword", "--min-score", "0.5", "--group-by", "g", "--explain",
    ]  # fmt: skip
    runner = CliRunner()
    result = runner.invoke(cli, ["like", "7", *common, "--prior-art", "--date-field", "d"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["text", "battery", *common, "--format", "json"])
    assert result.exit_code == 0, result.output
    want = QueryOptions(
        limit=3,
        offset=4,
        where=("a=1", "b>=2"),
        filter_json="{}",
        min_score=0.5,
        group_by="g",
        mode="keyword",
        explain=True,
    )
    assert asked["like"][:2] == ("7", want.replace(prior_art=True, date_field="d"))
    assert asked["text"][:2] == ("battery", want)


QUERY_MODULES = {
    "collection",
    "documents",
    "modes",
    "options",
    "paging",
    "query",
    "query_filter",
    "query_model",
    "questions",
    "results",
    "session",
}


def _private_imports(path: Path) -> list[str]:
    """``from .MODULE import _name`` of a query module in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module in QUERY_MODULES:
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private:
                found.append(f"{path.name}: from .{node.module} import {', '.join(private)}")
    return found


def test_search_modules_import_no_private_names_of_the_query_modules():
    """``eval.py`` and the analysis modules build on public names of the query modules."""
    assert [f for p in sorted((SRC / "search").glob("*.py")) for f in _private_imports(p)] == []


def test_the_import_rule_catches_a_private_name(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("from .session import Session, _warn_if_incomplete\n", encoding="utf-8")
    assert _private_imports(path) == ["m.py: from .session import _warn_if_incomplete"]


# -- the manifest is read in one module -------------------------------------------------------

MANIFEST_MODULE = SRC / "store" / "manifest.py"
RAW_MANIFEST = re.compile(r"manifest(\.get\(|\[)")


def _raw_manifest_uses(path: Path) -> list[str]:
    """Lines that read a manifest as a dict: ``manifest.get(`` or ``manifest[`` in the text,
    and, in the syntax tree, a subscript or ``.get`` call on anything named ``*manifest*``."""
    found = []
    source = path.read_text(encoding="utf-8")
    for no, line in enumerate(source.splitlines(), 1):
        if RAW_MANIFEST.search(line):
            found.append(f"{path.name}:{no}: {line.strip()}")

    def named_manifest(node: ast.AST) -> bool:
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
        return "manifest" in name.lower()

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Subscript) and named_manifest(node.value):
            found.append(f"{path.name}:{node.lineno}: subscript")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "setdefault", "pop", "update")
            and named_manifest(node.func.value)
        ):
            found.append(f"{path.name}:{node.lineno}: .{node.func.attr}(")
    return found


def test_the_manifest_is_read_and_written_only_in_its_module():
    found = [
        use
        for path in sorted(SRC.rglob("*.py"))
        if path != MANIFEST_MODULE
        for use in _raw_manifest_uses(path)
    ]
    assert found == []


def test_the_manifest_rule_catches_a_dict_read(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(opened, m):\n"
        "    a = opened.manifest.get('state')\n"
        "    b = m.manifest\\\n"
        "        ['model']\n"
        "    opened.manifest.update(state='ready')\n",
        encoding="utf-8",
    )
    found = _raw_manifest_uses(sample)
    # Line 2 by its text and its syntax; the subscript split over two lines and the
    # ``.update`` call by their syntax only.
    assert sorted(u.rsplit(": ", 1)[0] for u in found) == [
        "sample.py:2",
        "sample.py:2",
        "sample.py:3",
        "sample.py:5",
    ]


def test_errors_are_imported_from_the_package_errors_module():
    """``patentsim.errors`` holds every package's errors; ``store/errors.py`` only keeps the
    old import path for branches written before the move, and nothing here uses it."""
    old = re.compile(r"(patentsim\.store\.errors|from \.\.store\.errors|from \.errors import)")
    root = SRC.parent.parent
    files = [*SRC.rglob("*.py"), *(root / "tests").glob("*.py"), *(root / "bench").glob("*.py")]
    shim = SRC / "store" / "errors.py"
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in files
        if path != shim and path.name != "test_code_health.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if old.search(line) and not (path.parent == SRC and "from .errors import" in line)
    ]
    assert found == [], found


# -- dates have one home ------------------------------------------------------------------------

DATES_MODULE = SRC / "dates.py"
APP_JS = SRC / "web" / "static" / "app.js"
# How a module would read a date itself: a parser's call, a date library, a date's regex or
# Excel's epoch in a literal, the stored midnight spelled out.
DATE_CALLS = {"strptime", "fromisoformat", "to_datetime", "isoparse", "parsedate"}
DATE_LIBRARIES = ("dateutil", "dateparser", "arrow", "pendulum")
DATE_TEXT = re.compile(r"\\d\{[48]\}|T00:00:00")
# The one reading allowed elsewhere: pandas' own conversion of stored strings into a
# datetime column of a data frame (Results.to_frame), not a spelling of its own.
DATE_ALLOWED = {("search/results.py", "to_datetime")}


def _date_parsing(path: Path) -> list[str]:
    """Where ``path`` reads dates by itself (as ``FILE:LINE: what``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(SRC).as_posix() if path.is_relative_to(SRC) else path.name
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        name = (
            node.attr
            if isinstance(node, ast.Attribute)
            else node.id
            if isinstance(node, ast.Name)
            else None
        )
        if name in DATE_CALLS:
            found.append((node.lineno, name))
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            modules = []
        found += [(node.lineno, m) for m in modules if m.split(".")[0] in DATE_LIBRARIES]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "datetime"
            and [getattr(a, "value", None) for a in node.args[:1]] in ([1899], [1904])
        ):
            found.append((node.lineno, "Excel's epoch"))
    found += [
        (line, text) for line, text in _strings_outside_docstrings(path) if DATE_TEXT.search(text)
    ]
    return [
        f"{where}:{line}: {what}"
        for line, what in sorted(found)
        if (where, what) not in DATE_ALLOWED
    ]


def test_dates_are_read_only_in_their_module():
    """``patentsim.dates`` is the one home of what a date looks like: a second parser in the
    library would read a cell or a filter value differently."""
    found = [
        use
        for path in sorted(SRC.rglob("*.py"))
        if path != DATES_MODULE
        for use in _date_parsing(path)
    ]
    assert found == []


def test_the_date_rule_catches_a_parser(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import datetime as dt\n"
        "import re\n"
        "from dateutil import parser\n"
        "DAY = re.compile(r'(\\d{4})-(\\d{2})-(\\d{2})')\n"
        "def f(s):\n"
        "    return dt.datetime.strptime(s, '%Y%m%d'), dt.date.fromisoformat(s)\n"
        "EPOCH = dt.datetime(1899, 12, 30)\n"
        "MIDNIGHT = 'T00:00:00Z'\n",
        encoding="utf-8",
    )
    assert [u.split(": ", 1)[0] for u in _date_parsing(sample)] == [
        f"sample.py:{n}" for n in (3, 4, 6, 6, 7, 8)
    ]


def test_the_page_parses_no_dates():
    """The page sends the date a user picks (an ``<input type="date">``: 2019-01-31) to the
    server inside a where expression; its one piece of date knowledge is ``cell``'s
    ``shown_date`` mirror, run over the same table in Chromium (test_web_browser.py)."""
    script = APP_JS.read_text(encoding="utf-8")
    assert re.findall(r"\bDate\b|\\d\{[48]\}", script) == []
    assert script.count("T00:00:00Z") == 1


# -- column names have one home ------------------------------------------------------------------

COLUMNS_MODULE = SRC / "columns.py"
# The header layouts of named exporters recognise a file by its exact headers (one function).
COLUMN_NAMES_ALLOWED = {("ingest/exporters.py", "detect_exporter")}
# Header names too common to say a rule by themselves (output headers: key, row, title).
_GENERIC = {"id", "key", "uuid", "title", "text", "name", "content", "family", "company"}
# Words in a regex that would recognise a column by its name.
_NAME_PATTERN = re.compile(r"date|ipc|cpc|abstract|title|일자|분류|번호|출원|요약|명칭", re.I)


def _signal_names() -> set[str]:
    from patentsim.columns import ROLES, normalized

    names: set[str] = set()
    for rule in ROLES.values():
        names.update(rule.names, rule.words, (normalized(f) for f in rule.fragments))
    return names - _GENERIC


def _column_name_rules(path: Path, root: Path = SRC) -> list[str]:
    """Where ``path`` spells column names of a role itself (as ``FILE:LINE: what``): a literal
    collection of two or more known names, a regex on names, a ``"ipc" in name`` test."""
    signal = _signal_names()
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    allowed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and (rel, node.name) in COLUMN_NAMES_ALLOWED:
            allowed.update(id(n) for n in ast.walk(node))
    found = []
    for node in ast.walk(tree):
        if id(node) in allowed:
            continue
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            known = [
                e.value
                for e in node.elts
                if isinstance(e, ast.Constant)
                and isinstance(e.value, str)
                and re.sub(r"[^0-9a-z가-힣]+", "_", e.value.lower()).strip("_") in signal
            ]
            if len(known) >= 2:
                found.append(f"{rel}:{node.lineno}: names {known[:3]}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "compile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and _NAME_PATTERN.search(str(node.args[0].value))
        ):
            found.append(f"{rel}:{node.lineno}: pattern {node.args[0].value!r}")
        elif (
            isinstance(node, ast.Compare)
            and isinstance(node.left, ast.Constant)
            and node.left.value in signal
            and any(isinstance(op, ast.In) for op in node.ops)
        ):
            found.append(f"{rel}:{node.lineno}: {node.left.value!r} in")
    return found


def test_column_names_are_recognised_only_in_their_module():
    """``patentsim.columns`` is the one home of the rules that read a column's role from its
    name: a second list of names would let the load and the search disagree."""
    found = [
        use
        for path in sorted(SRC.rglob("*.py"))
        if path != COLUMNS_MODULE
        for use in _column_name_rules(path)
    ]
    assert found == []


def test_the_column_names_rule_catches_copies(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import re\n"
        "OWNERS = ('applicant', 'assignee', '출원인')\n"
        "DATES = re.compile(r'date|일자$')\n"
        "HEADERS = ['rank', 'key', 'title']\n"
        "def f(n):\n"
        "    return 'ipc' in n.lower()\n",
        encoding="utf-8",
    )
    assert [u.split(": ", 1)[0] for u in _column_name_rules(sample, tmp_path)] == [
        f"sample.py:{n}" for n in (2, 3, 6)
    ]


def test_the_page_recognises_no_column_by_its_name():
    """The page takes the classes column from ``/api/info`` (``classes_field``)."""
    script = APP_JS.read_text(encoding="utf-8")
    assert re.findall(r"/[^/\n]*(?:ipc|cpc|분류)[^/\n]*/i?\.test", script, re.I) == []


def _code_patterns(path: Path, root: Path = SRC) -> list[str]:
    """Where ``path`` compiles its own IPC/CPC code pattern (the sections A-H and Y)."""
    rel = path.relative_to(root).as_posix()
    return [
        f"{rel}:{node.lineno}"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.search(r"\[A-HY\]|\[A-H\]", node.value)
    ]


def test_the_classification_code_pattern_has_one_home():
    """``columns.CLASSIFICATION`` says which values are IPC/CPC codes for eval, tuning, the
    map and clusters alike."""
    found = [
        use
        for path in sorted(SRC.rglob("*.py"))
        if path != COLUMNS_MODULE
        for use in _code_patterns(path)
    ]
    assert found == []


def test_the_code_pattern_rule_catches_a_copy(tmp_path):
    sample = tmp_path / "codes.py"
    sample.write_text("import re\n\nCODE = re.compile(r'^[A-HY]\\d{2}[A-Z]')\n", encoding="utf-8")
    assert _code_patterns(sample, tmp_path) == ["codes.py:3"]
