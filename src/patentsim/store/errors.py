"""The package's errors now live in ``patentsim.errors``; this module only keeps the old
import path working for branches written before the move (tests/test_code_health.py keeps
src, tests and bench off it)."""

from ..errors import *  # noqa: F403
from ..errors import setting  # noqa: F401  (the name most callers imported)
