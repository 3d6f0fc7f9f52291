"""The embedded collection while ``search serve`` holds it, with real second processes.

The server is a holder that lets go when asked (``store/lockfile.py``): another process
that needs the collection writes a request and gets it within moments; the server's
requests meanwhile answer 503 naming that process; the first request after it is done
reopens the collection and sees its changes.  A holder that does not let go (an ingest)
is named with what it is.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings, open_store
from patentsim.store.lockfile import YIELD_GRACE_S, announce, identity

from .conftest import ROOT
from .fakes import FakeEmbedder
from .timing import within

START_TIMEOUT_S = 60


def rows_file(path: Path, n: int) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "title", "abstract"])
    for i in range(n):
        ws.append(
            [f"K{i:03d}", f"냉각 장치 {i}", f"배터리 셀 {i}을 냉각하는 장치와 그 제어 방법 {i}"]
        )
    wb.save(path)
    return path


class Served:
    """``search serve`` in a process of its own."""

    def __init__(self, path: str, collection: str) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        command = ["serve", "--path", path, "-c", collection, "--port", "0"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "patentsim.search", *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], START_TIMEOUT_S)
        line = self.proc.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("http://"):
            self.stop()
            err = self.proc.stderr.read().decode() if self.proc.stderr else ""
            pytest.fail(f"search serve did not start: {line!r} {err}")
        self.url = line.rstrip("/")

    def get(self, path: str) -> tuple[int, dict, Any]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:
                return response.status, json.loads(response.read()), response.headers
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read()), exc.headers

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def store(tmp_path) -> str:
    path = str(tmp_path / "store")
    load(
        rows_file(tmp_path / "a.xlsx", 30),
        LoadSettings(store_settings=StoreSettings(path=path), collection="p", id_column="id"),
        embedder=FakeEmbedder(),
    )
    return path


@pytest.fixture
def served(store):
    server = Served(store, "p")
    yield server
    server.stop()


@pytest.fixture
def as_ingest():
    """This process describes itself as an ingest while the test runs."""
    was = identity()
    announce("ingest load a.xlsx")
    yield
    announce(was.who, yields=was.yields)


@pytest.mark.timing
def test_a_load_while_the_page_is_served_gets_the_collection_and_the_page_sees_it(
    served, store, tmp_path, as_ingest
):
    status, info, _ = served.get("/api/info")
    assert status == 200 and info["points"] == 30  # the server holds the collection now
    started = time.monotonic()
    summary = load(
        rows_file(tmp_path / "b.xlsx", 45),
        LoadSettings(store_settings=StoreSettings(path=store), collection="p", id_column="id"),
        embedder=FakeEmbedder(),
    )
    assert time.monotonic() - started < within(YIELD_GRACE_S)
    assert summary.added == 15
    status, info, _ = served.get("/api/info")
    assert status == 200, info
    assert info["points"] == 45
    status, doc, _ = served.get("/api/doc?ref=K044&key=true")
    assert status == 200 and doc["payload"]["title"] == "냉각 장치 44"
    status, like, _ = served.get("/api/like?ref=K044&key=true&limit=50")
    assert status == 200 and len(like["hits"]) == 44


def test_requests_while_another_process_holds_it_name_that_process(served, store, as_ingest):
    assert served.get("/api/info")[0] == 200
    holder = open_store(StoreSettings(path=store))
    try:
        holder.open("p")  # asks the server, which lets go
        status, body, headers = served.get("/api/like?ref=K001&key=true")
        assert status == 503, body
        assert body["error"].endswith(f"is in use by process {os.getpid()} (ingest load a.xlsx)")
        assert headers["Retry-After"] == "2"
    finally:
        holder.close()
    status, body, _ = served.get("/api/like?ref=K001&key=true")
    assert status == 200 and len(body["hits"]) == 10


def test_a_search_command_is_let_in_and_the_server_answers_again(served, store):
    assert served.get("/api/info")[0] == 200
    result = CliRunner().invoke(
        search_cli, ["like", "K003", "--key", "-n", "3", "--format", "json", "--path", store]
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["rank"] for line in result.stdout.splitlines()] == [1, 2, 3]
    assert served.get("/api/like?ref=K003&key=true&limit=3")[0] == 200


def test_a_holder_that_does_not_let_go_is_named_with_what_it_is(store):
    code = (
        "import sys, time\n"
        "from patentsim.store.edge import EdgeStore\n"
        "from patentsim.store.lockfile import announce\n"
        "announce('ingest load b.xlsx')\n"
        f"store = EdgeStore({store!r})\n"
        "store.open('p')\n"
        "print('ready', flush=True)\n"
        "time.sleep(120)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        result = CliRunner().invoke(search_cli, ["serve", "--path", store, "--port", "0"])
        assert result.exit_code == 1, result.output
        assert f"is in use by process {proc.pid} (ingest load b.xlsx)" in result.output
        assert "Traceback" not in result.output
    finally:
        proc.kill()
        proc.wait(timeout=10)
