"""The compose files are valid and safe: pinned tag, loopback-only ports, volumes, no curl.

Parsed with PyYAML, so these run everywhere, Docker or not.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "docker-compose.yml"
CLUSTER = ROOT / "docker-compose.cluster.yml"
TESTS = ROOT / "tests" / "docker-compose.yml"
PINNED = re.compile(r"^qdrant/qdrant:v\d+\.\d+\.\d+$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("services"), dict), path
    return data


def published(service: dict[str, Any]) -> list[str]:
    ports = service.get("ports") or []
    assert all(isinstance(p, str) for p in ports), "write ports as quoted strings"
    return ports


def image_version(image: str) -> tuple[int, ...]:
    return tuple(int(x) for x in image.rsplit(":v", 1)[1].split("."))


@pytest.mark.parametrize("path", [MAIN, CLUSTER, TESTS], ids=lambda p: p.name)
def test_every_service_runs_the_same_pinned_qdrant(path):
    images = {s["image"] for s in load(path)["services"].values()}
    assert len(images) == 1
    (image,) = images
    assert PINNED.match(image), f"{image}: pin an exact version, not latest"
    assert image == load(MAIN)["services"]["qdrant"]["image"]
    # v1.16: collection metadata (the manifest); v1.19: an empty API key means "no key".
    assert image_version(image) >= (1, 19, 0)


@pytest.mark.parametrize("path", [MAIN, CLUSTER, TESTS], ids=lambda p: p.name)
def test_no_curl_healthcheck(path):
    """The Qdrant image has no curl: readiness is checked from the host (/readyz)."""
    for service in load(path)["services"].values():
        assert "curl" not in str(service.get("healthcheck", ""))


def test_main_file_publishes_rest_and_grpc_on_loopback_only():
    service = load(MAIN)["services"]["qdrant"]
    assert sorted(published(service)) == ["127.0.0.1:6333:6333", "127.0.0.1:6334:6334"]


def test_main_file_keeps_data_in_a_named_volume():
    data = load(MAIN)
    mounts = data["services"]["qdrant"]["volumes"]
    assert mounts == ["qdrant_storage:/qdrant/storage"]
    assert "qdrant_storage" in (data.get("volumes") or {})


@pytest.mark.parametrize("path", [MAIN, CLUSTER], ids=lambda p: p.name)
def test_api_key_comes_from_the_environment(path):
    for service in load(path)["services"].values():
        assert service["environment"]["QDRANT__SERVICE__API_KEY"] == "${QDRANT_API_KEY:-}"


def test_cluster_has_three_nodes_bootstrapping_from_the_first():
    data = load(CLUSTER)
    services = data["services"]
    assert len(services) == 3
    names = sorted(services)
    first = names[0]
    for name in names:
        env = services[name]["environment"]
        assert env["QDRANT__CLUSTER__ENABLED"] == "true"
        assert env["QDRANT__CLUSTER__P2P__PORT"] == "6335"
        command = services[name]["command"]
        assert f"--uri http://{name}:6335" in command
        if name != first:
            assert f"--bootstrap http://{first}:6335" in command
            assert services[name]["depends_on"] == [first]
        else:
            assert "--bootstrap" not in command
    ports = [p for s in services.values() for p in published(s)]
    assert all(p.startswith("127.0.0.1:") for p in ports)
    assert len({p.split(":")[1] for p in ports}) == len(ports), "host ports must differ"
    assert not any(p.endswith(":6335") for p in ports), "p2p stays inside the compose network"
    mounts = {s["volumes"][0].split(":")[0] for s in services.values()}
    assert len(mounts) == 3 and mounts <= set(data["volumes"])


def test_tests_file_publishes_container_ports_only():
    """A random host port per run: no clash with a Qdrant on 6333, nor between runs."""
    data = load(TESTS)
    assert list(data["services"]) == ["qdrant"]  # tests/backends.py: SERVICE
    service = data["services"]["qdrant"]
    assert published(service) == ["6333"]
    assert "container_name" not in service
    assert not service.get("volumes"), "test data stays in the container (down -v)"


def test_tests_file_key_is_the_one_the_tests_use():
    from .backends import SERVICE, TEST_API_KEY

    service = load(TESTS)["services"][SERVICE]
    assert service["environment"]["QDRANT__SERVICE__API_KEY"] == TEST_API_KEY


SERVICE_KEYS = {
    "image", "restart", "ports", "environment", "volumes", "command", "depends_on",
    "healthcheck", "deploy", "ulimits", "networks",
}  # fmt: skip


@pytest.mark.parametrize("path", [MAIN, CLUSTER, TESTS], ids=lambda p: p.name)
def test_only_compose_keys(path):
    """No typos that Compose would reject (no engine here to run `docker compose config`)."""
    data = load(path)
    top = {k for k in data if not k.startswith("x-")}
    assert top <= {"services", "volumes", "networks", "name"}
    for service in data["services"].values():
        assert set(service) <= SERVICE_KEYS, set(service) - SERVICE_KEYS
        assert isinstance(service.get("environment", {}), dict)
        for mount in service.get("volumes") or []:
            assert mount.split(":")[0] in (data.get("volumes") or {}), f"undeclared {mount}"
