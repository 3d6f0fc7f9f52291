"""The server backend's behaviour at its edges: unreachable servers, API keys, URLs, shards.

No test here leaves this machine: "servers" are a closed loopback port, a
loopback socket that never answers, and a tiny HTTP server on 127.0.0.1 that
plays a Qdrant with an API key.  Each is bounded by a few seconds.
"""

from __future__ import annotations

import logging
import socket
import time
import warnings
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from patentsim.errors import StoreError, StoreUnreachable, Unauthorized
from patentsim.ingest.cli import cli
from patentsim.store import StoreSettings, open_store
from patentsim.store.backend import CreateOptions
from patentsim.store.manifest import Manifest, ModelRecord
from patentsim.store.server import (
    InsecureApiKeyWarning,
    MemoryStore,
    ServerStore,
    is_loopback,
    redact,
)

from .fakes import QdrantHandler, closed_port, serving
from .timing import within

SECRET = "s3cr3t-key-4711"


class FakeQdrant(QdrantHandler):
    """Answers like a Qdrant v1.19 with API key ``good-key``; records the keys it was sent."""

    seen_keys: list[str | None]

    def do_GET(self) -> None:
        self.seen_keys.append(self.headers.get("api-key"))
        if self.path == "/":  # whitelisted by Qdrant: no key needed
            self.probe()
        elif self.headers.get("api-key") != "good-key":
            self.answer(403, "Invalid api-key")
        elif not self.probe():
            self.answer(404, {"status": {"error": "Not found"}})


@pytest.fixture
def fake_qdrant() -> Iterator[tuple[str, list[str | None]]]:
    seen: list[str | None] = []
    with serving(type("Handler", (FakeQdrant,), {"seen_keys": seen})) as url:
        yield url, seen


# -- unreachable ------------------------------------------------------------------------


@pytest.mark.timing
def test_unreachable_server_is_named_within_5_seconds():
    url = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    with pytest.raises(StoreUnreachable) as err:
        ServerStore(url).list()
    assert time.monotonic() - started < within(5)
    assert url in str(err.value)
    assert "docker compose up -d" in str(err.value)


@pytest.mark.timing
def test_unreachable_server_in_the_cli_exits_1_within_5_seconds():
    url = f"http://127.0.0.1:{closed_port()}"
    started = time.monotonic()
    result = CliRunner().invoke(cli, ["list", "--url", url])
    assert time.monotonic() - started < within(5)
    assert result.exit_code == 1, result.output
    assert f"cannot reach the Qdrant server at {url}" in result.output
    assert "docker compose up -d" in result.output
    assert "Traceback" not in result.output


@pytest.mark.timing
def test_a_server_that_never_answers_times_out_quickly():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        started = time.monotonic()
        with pytest.raises(StoreUnreachable, match=r"no answer within 0\.5 s"):
            ServerStore(url, probe_timeout=0.5).list()
        assert time.monotonic() - started < within(3)


def test_not_a_qdrant_server_is_said_so(fake_qdrant, monkeypatch):
    url, _ = fake_qdrant
    monkeypatch.setattr(FakeQdrant, "version", "")
    with pytest.raises(StoreError, match="does not look like a Qdrant server"):
        ServerStore(url, "good-key").list()


def test_a_server_too_old_for_collection_metadata_is_refused(fake_qdrant, monkeypatch):
    url, _ = fake_qdrant
    monkeypatch.setattr(FakeQdrant, "version", "1.15.4")
    with pytest.raises(StoreError, match=r"version 1\.15\.4; patentsim needs 1\.16"):
        ServerStore(url, "good-key").list()


def test_invalid_urls_are_refused():
    for url in ("localhost:6333", "ftp://host:6333", "http://"):
        with pytest.raises(StoreError, match="invalid"):
            ServerStore(url)


# -- API keys ------------------------------------------------------------------------------


def test_the_right_key_is_sent_as_a_header(fake_qdrant):
    url, seen = fake_qdrant
    assert ServerStore(url, "good-key").list() == []
    assert "good-key" in seen


def test_a_wrong_key_is_a_clear_error_without_the_key(fake_qdrant, caplog):
    url, seen = fake_qdrant
    caplog.set_level(logging.DEBUG)
    with pytest.raises(Unauthorized) as err:
        ServerStore(url, SECRET).list()
    message = str(err.value)
    assert "refused the API key" in message and url in message
    assert "QDRANT_API_KEY" in message
    assert SECRET in seen  # it was sent ...
    assert SECRET not in message  # ... and never shown
    assert SECRET not in caplog.text


def test_a_missing_key_says_how_to_give_one(fake_qdrant):
    url, _ = fake_qdrant
    with pytest.raises(Unauthorized, match="needs an API key") as err:
        ServerStore(url).list()
    assert "`api_key`" in str(err.value)  # the CLI shows --api-key


def test_the_cli_never_prints_the_key(fake_qdrant, monkeypatch):
    url, _ = fake_qdrant
    runner = CliRunner()
    for args, env in (
        (["list", "--url", url, "--api-key", SECRET], {}),
        (["info", "-c", "x", "--url", url], {"QDRANT_API_KEY": SECRET}),
        (["copy", "--from-url", url, "--to-path", "out", "-c", "x"], {"QDRANT_API_KEY": SECRET}),
    ):
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 1, result.output
        assert "refused the API key" in result.output
        assert SECRET not in result.output


def test_a_key_in_the_url_is_not_shown():
    assert redact("https://user:pw@host.example:6333/x") == "https://host.example:6333/x"
    url = f"http://user:{SECRET}@127.0.0.1:{closed_port()}"
    with pytest.raises(StoreUnreachable) as err:
        ServerStore(url).list()
    assert SECRET not in str(err.value)


def test_key_over_http_warns_only_for_other_machines():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ServerStore(f"http://localhost:{closed_port()}", SECRET)
        ServerStore(f"http://127.0.0.1:{closed_port()}", SECRET)
    assert caught == []  # not even qdrant-client's "insecure connection" warning
    with pytest.warns(InsecureApiKeyWarning, match="use an https:// URL") as caught:
        ServerStore("http://qdrant.example.com:6333", SECRET)
    assert all(SECRET not in str(w.message) for w in caught)


def test_https_urls_keep_https_and_the_port():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning for a key over https
        store = ServerStore("https://qdrant.example.com/base/", SECRET)
    assert store.rest_uri == "https://qdrant.example.com:6333/base"
    remote = store.client._client  # qdrant-client's remote implementation
    assert remote.rest_uri.rstrip("/") == "https://qdrant.example.com:6333/base"
    assert ServerStore("https://[::1]:443").rest_uri == "https://[::1]:443"


def test_is_loopback():
    assert is_loopback("localhost") and is_loopback("127.0.0.2") and is_loopback("::1")
    assert not is_loopback("10.0.0.1") and not is_loopback("qdrant") and not is_loopback(None)


def test_the_key_is_not_in_the_store_settings_repr_of_messages(fake_qdrant):
    """Library messages carry the location only, never the settings object."""
    url, _ = fake_qdrant
    settings = StoreSettings(url=url, api_key=SECRET)
    with pytest.raises(Unauthorized) as err:
        open_store(settings).list()
    assert SECRET not in str(err.value) and SECRET not in repr(err.value)


# -- shards and replicas ------------------------------------------------------------------


def _manifest(name: str) -> Manifest:
    return Manifest.new(name=name, model=ModelRecord("m"), text_columns=[], id_column=None)


def test_shards_and_replicas_reach_create_collection(monkeypatch, unique_name):
    store = MemoryStore()  # the in-process stand-in: creates like a server
    calls: list[dict] = []
    original = store.client.create_collection

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(store.client, "create_collection", spy)
    try:
        store.create(unique_name, 8, _manifest(unique_name), CreateOptions(shards=3, replicas=2))
        assert calls[0]["shard_number"] == 3
        assert calls[0]["replication_factor"] == 2
        store.create(unique_name + "_d", 8, _manifest(unique_name + "_d"), CreateOptions())
        assert calls[1]["shard_number"] is None and calls[1]["replication_factor"] is None
    finally:
        for name in (unique_name, unique_name + "_d"):
            if store.exists(name):
                store.drop(name)


def test_the_cli_passes_shards_and_replicas_to_the_pipeline(monkeypatch, tmp_path):
    seen = {}

    def fake_load(file, settings, **kwargs):
        seen["settings"] = settings
        raise StoreError("stop here")

    monkeypatch.setattr("patentsim.ingest.pipeline.load", fake_load)
    (tmp_path / "p.csv").write_text("abstract\nx\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["load", str(tmp_path / "p.csv"), "--shards", "4", "--replicas", "2", "--url", "x"]
    )
    assert result.exit_code == 1, result.output
    assert seen["settings"].create_options == CreateOptions(shards=4, replicas=2)
