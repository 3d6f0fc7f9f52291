"""A Qdrant server that fails while an ingest runs: named errors, exit 1, no false success.

The server backend's own first contact (unreachable, refused key, not Qdrant) is tested in
test_server.py.  Here the failures come later, at the pipeline level:

- on ``QdrantClient(":memory:")`` (the server stand-in), the client's calls fail part-way
  through a load with what qdrant-client raises for a timeout, a refused connection,
  401/403 and a server error, or the collection is deleted by someone else mid-run;
- on a scripted HTTP server (a real transport) that passes the probe and then answers
  401, 403 or 500, or never answers.

Every time: exit 1, a one-line message with a hint, no traceback, no summary printed (a
partial load is never reported as done), the manifest does not claim "ready", and the
next run finishes the job.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import openpyxl
import pytest
from click.testing import CliRunner
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from patentsim import store as store_mod
from patentsim.errors import (
    CollectionNotFound,
    StoreError,
    StoreUnreachable,
    Unauthorized,
)
from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, open_store
from patentsim.store import server as server_mod

from .fakes import FakeEmbedder, QdrantHandler, serving
from .timing import within

MEMORY = StoreSettings(url=":memory:")


def _xlsx(path, n: int):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "abstract"])
    for i in range(n):
        ws.append([i, f"abstract {i}: a cooling loop for battery cells, variant {i}"])
    wb.save(path)
    return path


@pytest.fixture
def name():
    """A collection of its own on the shared in-memory server, dropped afterwards."""
    coll = "f_" + uuid.uuid4().hex[:8]
    yield coll
    store = open_store(MEMORY)
    if store.exists(coll):
        store.drop(coll)


MEMORY_CALLS = (
    "upsert",
    "scroll",
    "retrieve",
    "count",
    "overwrite_payload",
    "delete",
    "get_collection",
    "update_collection",
    "collection_exists",
    "create_collection",
    "delete_collection",
    "get_collections",
    "query_points",
)


@pytest.fixture
def memory_client(monkeypatch):
    """The shared in-memory client, its calls serialised.

    qdrant-client's local mode is not thread-safe, and the pipeline writes one chunk (a
    thread) while it reads the stored hashes of the next: unserialised, a load of several
    chunks fails at random with "IndexError: index 0 is out of bounds" from local mode.
    A real server has no such problem.  (Reported: ServerStore should serialise the
    calls of its ":memory:" client.)
    """
    store = open_store(MEMORY)
    assert isinstance(store, server_mod.ServerStore)
    client = store.client
    lock = threading.RLock()

    def serialised(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            with lock:
                return fn(*args, **kwargs)

        return call

    for method in MEMORY_CALLS:
        monkeypatch.setattr(client, method, serialised(getattr(client, method)))
    return client


def _fail_from(monkeypatch, client, method: str, after: int, exc: BaseException) -> None:
    """``client.method`` works ``after`` times, then raises ``exc``."""
    real = getattr(client, method)
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(client, method, flaky)


def _run_cli(args: list[str], embedder=None):
    """``ingest`` with ``embedder`` stood in for the model (click's obj: ingest.cli.Seams)."""
    return CliRunner().invoke(ingest_cli, args, obj=Seams(embedder=embedder))


def _assert_failed_cleanly(result, *fragments: str, hint: bool = True) -> None:
    out = result.output
    assert result.exit_code == 1, out
    assert "Traceback" not in out and "internal error" not in out, out
    if hint:
        assert "  hint: " in out, out
    assert "points (model" not in out, "a failed load must not print a summary"
    for fragment in fragments:
        assert fragment in out, out


def _headers() -> httpx.Headers:
    return httpx.Headers({"content-type": "application/json"})


MID_RUN_FAILURES = [
    (
        "timeout",
        ResponseHandlingException(httpx.ReadTimeout("timed out")),
        StoreUnreachable,
        "cannot reach",
    ),
    (
        "refused",
        ResponseHandlingException(httpx.ConnectError("[Errno 111] Connection refused")),
        StoreUnreachable,
        "connection refused",
    ),
    (
        "401",
        UnexpectedResponse(401, "Unauthorized", b"Invalid api-key", _headers()),
        Unauthorized,
        "API key",
    ),
    (
        "403",
        UnexpectedResponse(403, "Forbidden", b"Invalid api-key", _headers()),
        Unauthorized,
        "HTTP 403",
    ),
    (
        "500",
        UnexpectedResponse(
            500, "Internal Server Error", b'{"status":{"error":"disk"}}', _headers()
        ),
        StoreError,
        "HTTP 500",
    ),
]


@pytest.mark.parametrize(
    ("label", "exc", "named", "fragment"), MID_RUN_FAILURES, ids=[f[0] for f in MID_RUN_FAILURES]
)
def test_a_failing_upsert_mid_run_is_named_and_not_reported_as_done(
    label, exc, named, fragment, tmp_path, name, memory_client, monkeypatch
):
    fake = FakeEmbedder()
    file = _xlsx(tmp_path / "a.xlsx", 60)
    _fail_from(monkeypatch, memory_client, "upsert", after=2, exc=exc)

    with pytest.raises(named) as caught:
        load(
            file,
            LoadSettings(store_settings=MEMORY, collection=name, id_column="id", chunk_size=10),
            embedder=fake,
        )
    assert fragment in str(caught.value)

    result = _run_cli(
        ["load", str(file), "-c", name, "--id", "id", "--url", ":memory:", "--chunk-size", "10"],
        fake,
    )
    # A server error (5xx) has no hint yet: reported to the server backend.
    _assert_failed_cleanly(result, fragment, hint=label != "500")

    monkeypatch.undo()
    store = open_store(MEMORY)
    coll = store.open(name)
    assert coll.count() <= 60
    assert coll.read_manifest().state != "ready"
    summary = load(
        file, LoadSettings(store_settings=MEMORY, collection=name, id_column="id"), embedder=fake
    )
    assert summary.points == 60
    assert store.open(name).read_manifest().state == "ready"


def test_a_collection_deleted_mid_run(tmp_path, name, memory_client, monkeypatch):
    """Someone drops the collection while it loads: a named error, not a success."""

    class Dropper(FakeEmbedder):
        def encode(self, texts, **kwargs):
            if self.batches == 2:
                open_store(MEMORY).drop(name)
            return super().encode(texts, **kwargs)

    file = _xlsx(tmp_path / "a.xlsx", 60)
    with pytest.raises(CollectionNotFound, match=name):
        load(
            file,
            LoadSettings(store_settings=MEMORY, collection=name, id_column="id", chunk_size=10),
            embedder=Dropper(),
        )

    result = _run_cli(
        ["load", str(file), "-c", name, "--id", "id", "--url", ":memory:", "--chunk-size", "10"],
        Dropper(),
    )
    # No hint yet for a collection that vanished: reported to the server backend.
    _assert_failed_cleanly(result, f"no collection '{name}'", hint=False)
    assert not open_store(MEMORY).exists(name)

    summary = load(
        file,
        LoadSettings(store_settings=MEMORY, collection=name, id_column="id"),
        embedder=FakeEmbedder(),
    )
    assert summary.created and summary.points == 60


def test_a_failing_read_of_stored_hashes(tmp_path, name, memory_client, monkeypatch):
    """The diff step (retrieve) fails on a rerun: nothing is claimed, nothing is lost."""
    fake = FakeEmbedder()
    file = _xlsx(tmp_path / "a.xlsx", 30)
    load(file, LoadSettings(store_settings=MEMORY, collection=name, id_column="id"), embedder=fake)
    _fail_from(
        monkeypatch,
        memory_client,
        "retrieve",
        after=1,
        exc=ResponseHandlingException(httpx.ReadTimeout("timed out")),
    )
    result = _run_cli(
        [
            "load",
            str(_xlsx(tmp_path / "b.xlsx", 50)),
            "-c",
            name,
            "--id",
            "id",
            "--url",
            ":memory:",
            "--chunk-size",
            "10",
        ],
        fake,
    )
    _assert_failed_cleanly(result, "cannot reach")
    monkeypatch.undo()
    assert open_store(MEMORY).open(name).count() >= 30


# -- a real transport: a scripted server --------------------------------------------------


class Scripted(QdrantHandler):
    """Passes the probe like a Qdrant 1.19, then answers every other call with ``status``
    (or never answers when ``status`` is None)."""

    status: int | None = 500
    hang: threading.Event

    def _any(self) -> None:
        if self.probe():
            return
        if self.status is None:
            self.hang.wait(10)
            return
        self.answer(self.status, {"status": {"error": f"scripted {self.status}"}})

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _any


@pytest.fixture
def scripted() -> Iterator:
    release = threading.Event()
    with contextlib.ExitStack() as servers:

        def start(status: int | None) -> str:
            handler = type("H", (Scripted,), {"status": status, "hang": release})
            return servers.enter_context(serving(handler))

        try:
            yield start
        finally:
            release.set()  # let hanging handlers end before the servers shut down


@pytest.mark.parametrize(
    ("status", "fragment"), [(401, "needs an API key"), (403, "HTTP 403"), (500, "HTTP 500")]
)
def test_a_server_that_fails_after_the_probe(status, fragment, scripted, tmp_path, monkeypatch):
    url = scripted(status)
    result = _run_cli(
        ["load", str(_xlsx(tmp_path / "a.xlsx", 5)), "-c", "k", "--id", "id", "--url", url],
        FakeEmbedder(),
    )
    _assert_failed_cleanly(result, fragment, hint=status != 500)


@pytest.mark.timing
def test_a_server_that_stops_answering_after_the_probe(scripted, tmp_path, monkeypatch):
    url = scripted(None)
    monkeypatch.setattr(store_mod, "SERVER_TIMEOUT_S", 1)
    started = time.monotonic()
    result = _run_cli(
        ["load", str(_xlsx(tmp_path / "a.xlsx", 5)), "-c", "k", "--id", "id", "--url", url],
        FakeEmbedder(),
    )
    _assert_failed_cleanly(result, "cannot reach")
    assert time.monotonic() - started < within(15)


def test_bad_input_is_reported_before_the_server_is_contacted(tmp_path):
    """Validation comes first: a broken file with an unreachable server names the file."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,abstract\n1,a\n1,b\n", encoding="utf-8")
    result = _run_cli(["load", str(bad), "--id", "id", "--url", f"http://127.0.0.1:{port}"])
    _assert_failed_cleanly(result, "bad.csv", "duplicate ids")
