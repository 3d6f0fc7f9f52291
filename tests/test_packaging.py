"""The package declares what it imports, and pandas has a job: ``Results.to_pandas()``."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import subprocess
import sys

import pytest

from .conftest import ROOT

tomllib = pytest.importorskip("tomllib")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {_normalize(re.match(r"[A-Za-z0-9_.-]+", r).group(0)) for r in requirements}


def _imported_top_level() -> dict[str, str]:
    """Top-level module -> first place it is imported, for every absolute import in src/."""
    found: dict[str, str] = {}
    for file in sorted((ROOT / "src" / "patentsim").rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], f"{file.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_third_party_import_is_declared():
    distributions = importlib.metadata.packages_distributions()
    declared = _declared()
    third_party = {
        module: where
        for module, where in _imported_top_level().items()
        if module not in sys.stdlib_module_names and module != "patentsim"
    }
    assert {"torch", "qdrant_edge", "httpx", "transformers", "portalocker"} <= set(third_party)
    undeclared = []
    for module, where in sorted(third_party.items()):
        names = {_normalize(d) for d in distributions.get(module, [module])}
        if not names & declared:
            undeclared.append(f"{module} ({where}; distribution {sorted(names)})")
    assert undeclared == []


def test_search_and_info_stay_free_of_pandas_but_results_convert_to_it():
    code = (
        "import sys\n"
        "from patentsim.search import like, text, facets\n"
        "from patentsim.search.results import Results\n"
        "assert 'pandas' not in sys.modules\n"
        "frame = Results('c', []).to_pandas()\n"
        "assert 'pandas' in sys.modules\n"
        "print(list(frame.columns))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['rank', 'score', 'key', 'row']"
