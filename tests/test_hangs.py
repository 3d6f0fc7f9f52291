"""Nothing waits forever (issue 24).

- A server that sends its headers, then one byte every 2 s: each read has its timeout,
  but the probe as a whole has a deadline, so ``ingest info --url`` answers within the
  documented 5 s.
- A server that stops answering after the probe: the message names the timeout that
  applied (it said 4 s after 31 s).
- ``--filter-json @/dev/zero``: the file read is bounded.
- A filter nested 5,000 deep: one line, not a RecursionError.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.errors import StoreUnreachable
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings
from patentsim.store.server import ServerStore

from .fakes import FakeEmbedder
from .timing import within


@pytest.fixture
def dripping() -> Iterator[str]:
    """A server that answers any request with headers, then a byte every 2 s, forever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n{"
            )
            while not stop.wait(2):
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


@pytest.mark.timing
def test_a_dripping_server_is_reported_within_5_seconds(dripping):
    started = time.monotonic()
    result = CliRunner().invoke(ingest_cli, ["info", "--url", dripping])
    took = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert f"the Qdrant server at {dripping} did not answer within 4.5 s" in result.output
    assert "hint: start one with 'docker compose up -d'" in result.output
    assert took < within(5.5), took


@pytest.mark.timing
def test_the_probe_deadline_holds_in_the_library(dripping):
    started = time.monotonic()
    # Each read waits up to 3 s, and a byte comes every 2 s: only the deadline ends it.
    with pytest.raises(StoreUnreachable, match=r"did not answer within 3\.5 s"):
        ServerStore(dripping, probe_timeout=3).list()
    assert time.monotonic() - started < within(5)


@pytest.mark.timing
def test_a_call_that_drips_after_the_probe_ends_at_its_deadline(dripping, monkeypatch):
    from patentsim.store import server

    # Each read waits up to 3 s, and a byte comes every 2 s: only the deadline ends it.
    store = ServerStore(dripping, timeout=3)
    store._checked = True  # as after a probe that passed
    monkeypatch.setattr(server, "CALL_DEADLINE_FACTOR", 1.5)
    started = time.monotonic()
    with pytest.raises(StoreUnreachable, match=r"did not finish answering within 4\.5 s"):
        store.list()
    assert time.monotonic() - started < within(15)  # it ends (the drip alone would never)


def test_a_timeout_names_the_timeout_that_applied(monkeypatch, tmp_path):
    """The client's timeout (here 1 s), not the probe's 4 s."""
    from .fakes import serving
    from .test_server_failures import Scripted

    release = threading.Event()
    handler = type("H", (Scripted,), {"status": None, "hang": release})
    try:
        with serving(handler) as url:
            store = ServerStore(url, timeout=1)
            with pytest.raises(StoreUnreachable) as err:
                store.exists("k")
    finally:
        release.set()
    assert "no answer within 1 s" in str(err.value), str(err.value)


# -- filters that never end ---------------------------------------------------------------------


@pytest.fixture
def collection(tmp_path) -> StoreSettings:
    path = tmp_path / "p.csv"
    path.write_text("id,abstract\n1,battery cooling\n2,battery heating\n", encoding="utf-8")
    settings = StoreSettings.resolve()
    load(
        path,
        LoadSettings(store_settings=settings, collection="k", id_column="id"),
        embedder=FakeEmbedder(),
    )
    return settings


def search(*args: str):
    return CliRunner().invoke(search_cli, [*args, "-c", "k"])


@pytest.mark.timing
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_filter_json_from_an_endless_file_is_refused_at_once(collection):
    started = time.monotonic()
    result = search("like", "1", "--key", "--filter-json", "@/dev/zero")
    assert result.exit_code == 2, result.output
    assert "--filter-json @/dev/zero: the file is larger than 1,024 KB" in result.output
    assert time.monotonic() - started < within(10)


def test_a_filter_nested_5000_deep_is_one_line(collection, tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text('{"must": [' * 5000 + "]}" * 5000, encoding="utf-8")
    for raw in ("@" + str(deep), '{"must": [' * 5000 + "]}" * 5000):
        result = search("like", "1", "--key", "--filter-json", raw)
        assert result.exit_code == 2, result.output
        assert "--filter-json: nested more than 32 levels deep" in result.output
        assert "internal error" not in result.output


def test_a_filter_nested_within_the_limit_still_works(collection):
    inner = '{"key": "abstract", "match": {"text": "heating"}}'
    for _ in range(20):
        inner = '{"must": [' + inner + "]}"
    result = search("like", "1", "--key", "--filter-json", inner, "--format", "json")
    assert result.exit_code == 0, result.output
    assert '"key": "2"' in result.stdout
