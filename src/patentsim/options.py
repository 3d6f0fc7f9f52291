"""CLI plumbing shared by ``ingest`` and ``search``.

Option bundles as decorators (store options with env-var fallbacks, the
collection option), the error boundary that turns the library's named
exceptions into one-line messages with exit 1 or 2, and progress on stderr.
Commands stay thin: parse options, call one library function, render.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from .errors import PatentSimError, UserInputError, name_settings
from .store import StoreSettings

F = TypeVar("F", bound=Callable[..., Any])


def store_options(fn: F) -> F:
    """``--url``, ``--api-key``, ``--path``, ``--wait``, with env-var fallbacks, handed to the
    command as one ``settings`` argument (a ``StoreSettings``)."""
    return _store_options(fn, "--api-key")


def served_store_options(fn: F) -> F:
    """``store_options`` for ``search serve``, whose own ``--api-key`` guards the page: the
    Qdrant server's key is ``--qdrant-api-key`` there (env QDRANT_API_KEY all the same)."""
    return _store_options(fn, "--qdrant-api-key")


def _store_options(fn: F, api_key_flag: str) -> F:
    @functools.wraps(fn)
    def with_settings(
        *args: Any,
        url: Any = None,
        qdrant_api_key: Any = None,
        path: Any = None,
        wait: Any = 0,
        **kwargs: Any,
    ) -> Any:
        ctx = click.get_current_context(silent=True)
        if ctx is not None and ctx.get_parameter_source("path") is ParameterSource.ENVIRONMENT:
            path = None  # read from QDRANT_PATH by resolve, which says so in 'ingest info'
        settings = StoreSettings.resolve(url=url, api_key=qdrant_api_key, path=path, wait=wait)
        return fn(*args, settings=settings, **kwargs)

    decorators = [
        click.option(
            "--url",
            envvar="QDRANT_URL",
            help="Qdrant server URL (env QDRANT_URL). Without it: the embedded store.",
        ),
        click.option(
            api_key_flag,
            "qdrant_api_key",
            envvar="QDRANT_API_KEY",
            help="API key of the Qdrant server (env QDRANT_API_KEY).",
        ),
        click.option(
            "--path",
            envvar="QDRANT_PATH",
            type=click.Path(file_okay=False),
            help="Folder of the embedded store (env QDRANT_PATH; default: a per-user folder, "
            "or ./qdrant_data where it exists; 'ingest info' shows which).",
        ),
        click.option(
            "--wait",
            type=click.FloatRange(min=0),
            default=0,
            show_default=True,
            help="Seconds to wait for another process using the embedded collection.",
        ),
    ]
    return bundle(with_settings, decorators)


def bundle(fn: Any, decorators: list[Callable[[Any], Any]]) -> Any:
    """``fn`` with a bundle of click options, the first listed shown first in ``--help``."""
    for d in reversed(decorators):
        fn = d(fn)
    return fn


def collection_option(fn: F) -> F:
    return click.option(
        "--collection",
        "-c",
        envvar="QDRANT_COLLECTION",
        help="Collection name (env QDRANT_COLLECTION).",
    )(fn)


class ErrorBoundary(click.Group):
    """A click group whose commands never show a traceback for an error a user can cause."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        tolerant_console()
        return super().main(*args, **kwargs)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, cmd, rest = super().resolve_command(ctx, args)
        if cmd is not None:
            # What another process's "in use by process N (ingest load)" names.
            from .store.lockfile import announce

            program = (self.callback.__module__ if self.callback else "").split(".")[-2:][0]
            announce(f"{program} {cmd.name}")
        return name, cmd, rest

    def invoke(self, ctx: click.Context) -> Any:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                return super().invoke(ctx)
            except UserInputError as exc:
                raise click.UsageError(_line(exc), ctx=None) from None
            except PatentSimError as exc:
                raise click.ClickException(_line(exc)) from None
            except KeyboardInterrupt:
                click.echo("interrupted: run the same command again to finish", err=True)
                sys.exit(130)
            except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
                raise
            except MemoryError:
                raise click.ClickException("out of memory: try a smaller --batch-size") from None
            except OSError as exc:
                if exc.errno not in (errno.ENOSPC, errno.EPIPE) or os.environ.get(
                    "PATENTSIM_DEBUG"
                ):
                    raise _internal(exc) from None
                _drop_stdout()
                if exc.errno == errno.EPIPE:  # the reader went away (| head): nothing to say
                    sys.exit(1)
                where = exc.filename or "the standard output"
                raise click.ClickException(
                    f"cannot write {where}: the disk holding it is full\n"
                    "  hint: free some space, or write elsewhere"
                ) from None
            except Exception as exc:
                if os.environ.get("PATENTSIM_DEBUG"):
                    raise
                raise _internal(exc) from None


def _internal(exc: BaseException) -> click.ClickException:
    """A failure of ours, not the user's: one line, and how to see more."""
    return click.ClickException(
        f"internal error: {type(exc).__name__}: {exc} "
        "(set PATENTSIM_DEBUG=1 to see the traceback, and please report it)"
    )


def _drop_stdout() -> None:
    """Standard output to nowhere: what is buffered there cannot be written, and Python's
    own flush at exit would print a traceback for it."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def tolerant_console() -> None:
    """Let a console that cannot encode Korean (a legacy Windows code page, ``LANG=C``)
    show replacement characters instead of failing with ``UnicodeEncodeError``."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            "한국어 — ü".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(errors="replace")


def _line(exc: PatentSimError) -> str:
    text = name_settings(exc.message.replace("\n", " "), option_of)
    return f"{text}\n  hint: {name_settings(exc.hint, option_of)}" if exc.hint else text


def option_of(setting: str) -> str:
    """The command-line option that sets a library setting: ``api_key`` -> ``--api-key``."""
    return "--" + setting.replace("_", "-")


def _show_warning(
    message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None
) -> None:
    # Library warnings name settings as the library spells them: here, as options.
    click.echo(f"warning: {name_settings(str(message), option_of)}", err=True)


class Progress:
    """Rows, rows/s and ETA on stderr, redrawn in place; silent when not a terminal."""

    def __init__(self, label: str, *, enabled: bool | None = None, unit: str = "rows") -> None:
        self.label = label
        self.unit = unit
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last < 0.2 and done < total:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate > 0 else 0
        sys.stderr.write(
            f"\r{self.label}: {done:,}/{total:,} {self.unit}  {rate:,.1f} {self.unit}/s  "
            f"ETA {_duration(eta)}   "
        )
        sys.stderr.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    if seconds >= 60:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds}s"


def with_progress(label: str, quiet: bool) -> Callable[[Callable[[Progress], Any]], Any]:
    """Run ``fn(progress)`` and close the progress line whatever happens."""

    def run(fn: Callable[[Progress], Any]) -> Any:
        progress = Progress(label, enabled=False if quiet else None)
        try:
            return fn(progress)
        finally:
            progress.close()

    return run
