"""Wall-clock bounds in tests, one slack factor for all of them.

A test marked ``timing`` asserts that something ends in time: a promise the product makes
(a dead server named within 5 s, a search that does not hang on a busy collection), not a
speed target (those are benchmarks).  On a loaded machine a kept promise can still run past
its bound, and a broken one looks the same; ``PATENTSIM_TIME_SLACK`` (default 1) multiplies
every bound so a slow CI machine can say how slow it is rather than skip the promise, and
``-m "not timing"`` leaves these tests out.
"""

from __future__ import annotations

import os

SLACK = float(os.environ.get("PATENTSIM_TIME_SLACK") or 1)


def within(seconds: float) -> float:
    """``seconds``, the bound of a timing test, times the slack factor."""
    return seconds * SLACK
