"""A real browser for the page's tests: headless Chromium driven by Playwright.

Debian's ``chromium`` package (``apt-get install chromium``) is the browser; Playwright's
own browser download is not used (``executable_path``).  Where no Chromium or no
Playwright is found the browser tests are skipped with the reason, unless
``REQUIRE_BROWSER=1`` (``.ci/run`` sets it, after installing Chromium): then they fail.

``PATENTSIM_SCREENSHOTS=FOLDER`` keeps the screenshots the tests take there (the docs'
pictures are made with ``PATENTSIM_SCREENSHOTS=docs/images``); otherwise they go to a
temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes"}


def chromium_path() -> str | None:
    """``CHROMIUM`` if set, else the first Chromium on PATH or in /usr/bin."""
    named = os.environ.get("CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    for name in CANDIDATES:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").is_file() else None
        )
        if found:
            return found
    return None


def skip_or_fail(reason: str) -> None:
    if browser_required():
        pytest.fail(f"REQUIRE_BROWSER is set, but {reason}", pytrace=False)
    pytest.skip(reason)


def screenshot_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get("PATENTSIM_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder
