"""Integration with a real Qdrant in Docker (pytest-docker, ``tests/docker-compose.yml``).

The ``docker``-marked tests start the server once per session and skip with the
reason where no Docker engine runs (``REQUIRE_DOCKER=1``: fail instead).  The
behaviour suites reach the same server through ``settings`` from
``tests/backends.py``.  The first tests here check that machinery itself and
run everywhere.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.errors import Unauthorized
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, open_store
from patentsim.store.backend import CreateOptions
from patentsim.store.manifest import Manifest, ModelRecord
from patentsim.store.server import MANIFEST_KEY, ServerStore

from . import backends
from .backends import TEST_API_KEY, is_ready, skip_or_fail
from .fakes import QdrantHandler, closed_port, serving

# -- the machinery (no Docker needed) ------------------------------------------------------


def test_pytest_docker_uses_our_compose_file(docker_compose_file):
    assert Path(docker_compose_file).resolve() == backends.COMPOSE_FILE


def test_without_docker_the_reason_is_given(monkeypatch):
    backends.docker_unavailable.cache_clear()
    monkeypatch.setattr(backends.shutil, "which", lambda name: None)
    try:
        assert backends.docker_unavailable() == "Docker is not installed (no 'docker' on PATH)"
    finally:
        backends.docker_unavailable.cache_clear()


def test_require_docker_turns_the_skip_into_a_failure(monkeypatch):
    monkeypatch.delenv("REQUIRE_DOCKER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no engine"):
        skip_or_fail("no engine")
    monkeypatch.setenv("REQUIRE_DOCKER", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_DOCKER is set, but no engine"):
        skip_or_fail("no engine")


def test_readiness_is_false_until_readyz_answers_200():
    assert is_ready(f"http://127.0.0.1:{closed_port()}") is False
    status = {"code": 503}

    class Handler(QdrantHandler):
        def do_GET(self) -> None:
            self.answer(status["code"] if self.path == "/readyz" else 404)

    with serving(Handler) as url:
        assert is_ready(url) is False
        status["code"] = 200
        assert is_ready(url) is True


# -- a real server ---------------------------------------------------------------------------


@pytest.fixture
def qdrant_url(request) -> str:
    """The Docker test server's URL (skipped, with the reason, where Docker does not run)."""
    return backends.server_url(request)


@pytest.fixture
def server(qdrant_url) -> StoreSettings:
    return StoreSettings(url=qdrant_url, api_key=TEST_API_KEY)


@pytest.fixture
def collection(server, unique_name):
    """A unique collection name on the server, dropped afterwards."""
    yield unique_name
    store = open_store(server)
    if store.exists(unique_name):
        store.drop(unique_name)


@pytest.mark.docker
def test_readyz_and_dashboard_answer_without_the_key(qdrant_url):
    for path in ("/readyz", "/dashboard"):
        with urllib.request.urlopen(qdrant_url + path, timeout=10) as response:
            assert response.status == 200, path


@pytest.mark.docker
def test_the_server_refuses_a_wrong_or_missing_key(qdrant_url):
    with pytest.raises(Unauthorized, match="refused the API key") as err:
        ServerStore(qdrant_url, "wrong-key-0815").list()
    assert "wrong-key-0815" not in str(err.value)
    with pytest.raises(Unauthorized, match="needs an API key"):
        ServerStore(qdrant_url).list()
    assert isinstance(ServerStore(qdrant_url, TEST_API_KEY).list(), list)


@pytest.mark.docker
def test_load_info_and_search_through_the_cli(server, collection, ko200, fake_embedder):
    from patentsim.ingest.cli import cli as ingest_cli
    from patentsim.search.cli import cli as search_cli

    summary = load(
        ko200, LoadSettings(store_settings=server, collection=collection), embedder=fake_embedder
    )
    assert summary.points == 200
    runner = CliRunner()
    opts = ["-c", collection, "--url", server.url, "--api-key", TEST_API_KEY]
    info = runner.invoke(ingest_cli, ["info", *opts, "--format", "json"])
    assert info.exit_code == 0, info.output
    described = json.loads(info.stdout)
    assert described["points"] == 200 and described["backend"] == "server"
    assert described["indexes"]["_key"] == "keyword"
    like = runner.invoke(search_cli, ["like", "0", *opts, "--format", "json"])
    assert like.exit_code == 0, like.output
    hits = [json.loads(line) for line in like.stdout.splitlines() if line.startswith("{")]
    assert len(hits) == 10 and all(h["row"] != 0 for h in hits)
    assert TEST_API_KEY not in info.output + like.output


@pytest.mark.docker
def test_manifest_lives_in_collection_metadata(server, collection):
    store = ServerStore(server.url, server.api_key)
    made = Manifest.new(name=collection, model=ModelRecord("m"), text_columns=[], id_column=None)
    store.create(collection, 8, made, CreateOptions(shards=2))
    raw = store.client.get_collection(collection)
    assert raw.config.params.shard_number == 2
    manifest = json.loads(raw.config.metadata[MANIFEST_KEY])
    assert manifest["model"]["name"] == "m" and manifest["dimension"] == 8
    assert store.open(collection).read_manifest().to_dict() == manifest
