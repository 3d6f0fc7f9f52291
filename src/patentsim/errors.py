"""Named exceptions of the library.

The library raises only these (or their subclasses); the CLIs turn them into
one-line messages: ``UserInputError`` subclasses exit 2 (the command line was
wrong), every other ``PatentSimError`` exits 1.  Each carries an optional hint
that says what to do.

The library does not know the command line: where a message names a setting
the caller can change, it writes the setting's name as a Python caller spells
it, between backquotes (:func:`setting`: ```path```, ```recreate```).  The CLIs
show the option that sets it instead (``--path``, ``--recreate``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

SETTING = re.compile(r"`([a-z][a-z_]*)`")


def setting(name: str) -> str:
    """How a message names the caller's setting ``name`` (an argument of the library)."""
    return f"`{name}`"


def name_settings(text: str, spell: Callable[[str], str]) -> str:
    """``text`` with every setting named by :func:`setting` spelled by ``spell``."""
    return SETTING.sub(lambda m: spell(m.group(1)), text)


class PatentSimError(Exception):
    """Base class of every error the library raises on purpose."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UserInputError(PatentSimError):
    """Bad command-line input: an option, a filter, a reference (exit 2)."""


class BadFilter(UserInputError):
    """A ``--where`` condition or ``--filter-json`` that cannot be used."""


class SourceError(PatentSimError):
    """A source file that cannot be read or turned into records."""


class CollectionNotFound(PatentSimError):
    """No collection of that name in the store."""


class CollectionExists(PatentSimError):
    """A collection that should not exist yet does."""


class ModelMismatch(PatentSimError):
    """The model or dimension differs from the one the collection was built with."""


class LayoutMismatch(UserInputError):
    """An option of a new collection's layout (``--quantization``) given for an existing one."""


class ModelUnavailable(PatentSimError):
    """The embedding model can neither be found locally nor downloaded."""


class StoreError(PatentSimError):
    """The store (embedded folder or server) failed or refused an operation."""


class StoreUnreachable(StoreError):
    """The Qdrant server cannot be reached."""


class StoreLocked(StoreError):
    """The embedded store is in use by another process (``pid`` when it is known)."""

    def __init__(
        self, message: str, hint: str | None = None, *, pid: str | None = None, who: str = ""
    ) -> None:
        super().__init__(message, hint)
        self.pid = pid
        self.who = who  # what that process is ("ingest load"), when it said

    @property
    def state(self) -> str:
        """What the collection is doing, for listings: ``in use by process 1234 (ingest load)``."""
        if not self.pid:
            return "in use by another process"
        return f"in use by process {self.pid}" + (f" ({self.who})" if self.who else "")


class Unauthorized(StoreError):
    """The Qdrant server refused the API key."""


class DocumentNotFound(PatentSimError):
    """A document reference (row number or key) that the collection does not hold."""


class CollectionDamaged(StoreError):
    """An embedded collection whose files are damaged: it cannot be trusted to answer."""


class DiskFull(StoreError):
    """The disk holding the store has no room for what a command must write."""
