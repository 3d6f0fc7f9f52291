"""The backends of the behaviour suite, a real Qdrant server in Docker among them.

``conftest.settings`` runs a test on each of ``ALL_BACKENDS``: the embedded store,
qdrant-client's in-memory imitation of a server, and a real server in Docker.

The ``docker`` variant starts ``tests/docker-compose.yml`` through pytest-docker
once per session (random host port, API key ``TEST_API_KEY``) and waits until
``/readyz`` answers.  Where no Docker engine runs (no binary, no daemon, no
compose plugin), it is skipped with the reason; ``REQUIRE_DOCKER=1`` turns that
skip into a failure.  Each test's collections are dropped afterwards.
"""

from __future__ import annotations

import functools
import http.client
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from patentsim.store import StoreSettings, open_store

COMPOSE_FILE = Path(__file__).resolve().with_name("docker-compose.yml")
SERVICE = "qdrant"
REST_PORT = 6333
TEST_API_KEY = "patentsim-test-key"  # QDRANT__SERVICE__API_KEY in tests/docker-compose.yml
READY_TIMEOUT_S = 90.0  # the first run may still be unpacking the image

DOCKER = pytest.param("docker", marks=pytest.mark.docker)
ALL_BACKENDS = ["embedded", "memory", DOCKER]

_ready: dict[int, str] = {}  # id(docker_services) -> the server's URL, once /readyz answered


def docker_required() -> bool:
    return os.environ.get("REQUIRE_DOCKER", "").strip().lower() in {"1", "true", "yes"}


@functools.lru_cache(maxsize=1)
def docker_unavailable() -> str | None:
    """Why the Docker tests cannot run here, or None when they can (asked once per session)."""
    if shutil.which("docker") is None:
        return "Docker is not installed (no 'docker' on PATH)"
    for args, what in (
        (["docker", "info", "--format", "{{.ServerVersion}}"], "no Docker engine answers"),
        (["docker", "compose", "version"], "the Docker Compose plugin is missing"),
    ):
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{what} ('{' '.join(args[:2])}' failed: {exc})"
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            return f"{what} ('{' '.join(args[:2])}': {detail[-1] if detail else 'failed'})"
    return None


def skip_or_fail(reason: str) -> None:
    if docker_required():
        pytest.fail(f"REQUIRE_DOCKER is set, but {reason}", pytrace=False)
    pytest.skip(reason)


def is_ready(url: str) -> bool:
    """True once Qdrant's /readyz answers 200; False on any connection error."""
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):  # URLError and HTTPError are OSErrors
        return False


def compose(request: pytest.FixtureRequest, *args: str) -> str:
    """Run ``docker compose -f FILE -p PROJECT ARGS`` for the test project; its output."""
    command = request.getfixturevalue("docker_compose_command").split()
    files = request.getfixturevalue("docker_compose_file")
    for f in [files] if isinstance(files, str) else files:
        command += ["-f", str(f)]
    command += ["-p", request.getfixturevalue("docker_compose_project_name"), *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    return (done.stdout + done.stderr).strip()


def compose_logs(request: pytest.FixtureRequest) -> str:
    """``docker compose logs`` of the test project, for a failure message."""
    try:
        return compose(request, "logs", "--no-color", "--tail", "200") or "(no output)"
    except Exception as exc:  # the logs are a courtesy; never hide the real failure
        return f"(docker compose logs failed: {exc})"


def host_port(request: pytest.FixtureRequest, services: Any) -> int:
    """The random host port Docker published for the REST port."""
    try:
        return int(services.port_for(SERVICE, REST_PORT))
    except ValueError:
        # pytest-docker cannot parse an IPv6 answer such as "[::]:49153".
        lines = compose(request, "port", SERVICE, str(REST_PORT)).splitlines()
        return int(lines[-1].rsplit(":", 1)[-1])


def server_url(request: pytest.FixtureRequest) -> str:
    """The test server's REST URL: Docker checked, compose up (once), /readyz answered."""
    reason = docker_unavailable()
    if reason:
        skip_or_fail(reason)
    try:
        services = request.getfixturevalue("docker_services")
    except Exception as exc:
        pytest.fail(
            f"'docker compose up' of {COMPOSE_FILE} failed: {exc}\n{compose_logs(request)}",
            pytrace=False,
        )
    key = id(services)
    if key not in _ready:
        host = request.getfixturevalue("docker_ip")
        url = f"http://{host}:{host_port(request, services)}"
        try:
            services.wait_until_responsive(
                check=lambda: is_ready(url), timeout=READY_TIMEOUT_S, pause=0.5
            )
        except Exception:
            pytest.fail(
                f"Qdrant in Docker did not answer {url}/readyz within {READY_TIMEOUT_S:g} s; "
                f"docker compose logs:\n{compose_logs(request)}",
                pytrace=False,
            )
        _ready[key] = url
    return _ready[key]


def _dropping_new_collections(settings: StoreSettings) -> Iterator[StoreSettings]:
    """Yield the settings; afterwards drop the collections the test made on that server."""
    store = open_store(settings)
    before = set(store.list())
    try:
        yield settings
    finally:
        for name in set(store.list()) - before:
            store.drop(name)
        store.close()


def backend_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreSettings]:
    """The StoreSettings of ``request.param``: embedded, memory or docker."""
    kind: Any = request.param
    if kind == "embedded":
        yield StoreSettings(path=str(tmp_path / "store"))
    elif kind == "memory":
        yield from _dropping_new_collections(StoreSettings(url=":memory:"))
    elif kind == "docker":
        url = server_url(request)
        yield from _dropping_new_collections(StoreSettings(url=url, api_key=TEST_API_KEY))
    else:
        raise ValueError(f"unknown backend {kind!r}")
