"""The one way to build an embedder: ``EmbedderConfig(...).load()``.

``EmbedderConfig`` says everything that decides a collection's vectors: the
model (``ModelSpec``), the engine, the long-text mode, and the device.  It is
small and picklable (each GPU worker process gets it), knows the fingerprint
its vectors will have without loading anything, and builds:

* ``load()``: the embedder for documents: ``TorchEmbedder`` (sentence-transformers;
  engines ``torch`` and the legacy ``int8-torch``), ``OnnxEmbedder`` (ONNX Runtime;
  ``int8-onnx`` and the legacy ``onnx``), or ``MultiDeviceEmbedder`` (one process
  per listed GPU, each running ``load_on(device)``);
* ``load_for_queries()``: the embedder for one short query in a fresh process:
  ONNX Runtime with the model's fast tokenizer, from the model's export in the
  cache (no torch: 0.3 s of imports instead of about 10 s), the export written by
  the first call that finds none.  Where that cannot be (onnxruntime missing, an
  export that fails, an ``int8-torch`` collection), the torch path answers, with
  one ``SlowQueryWarning`` saying why.

Everything that callers use is the ``Embedder`` protocol (test fakes implement
it too).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import ModelUnavailable
from ..store.manifest import DEFAULT_BACKEND, DEFAULT_LONG_TEXT, ModelRecord
from .model import (
    BadOption,
    ModelSpec,
    _cached,
    _normalise,
    _quiet_libraries,
    check_options,
    embedding_fingerprint,
    engine_for,
    fingerprint,
    pick_device,
    resolve_model,
    split_windows,
)


class Embedder(Protocol):
    """What ingest and search use of a model: the real embedders and the test fakes."""

    name: str
    fingerprint: str
    dimension: int
    max_seq_length: int

    def info(self) -> ModelRecord: ...

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any: ...

    def token_counts(self, texts: list[str]) -> list[int]: ...


class SlowQueryWarning(UserWarning):
    """A query is embedded with torch (seconds to start) instead of ONNX Runtime; says why."""


class ExportWarning(UserWarning):
    """The model could not be exported for fast queries at ingest; says why."""


@dataclass(frozen=True)
class EmbedderConfig:
    """What decides an embedder's vectors, and where it runs."""

    model: ModelSpec
    engine: str = DEFAULT_BACKEND  # the torch backend's engine is torch
    long_text: str = DEFAULT_LONG_TEXT
    device: str = "auto"

    @classmethod
    def choose(
        cls,
        name: str,
        *,
        backend: str | None = None,
        long_text: str | None = None,
        device: str = "auto",
        stored: ModelRecord | None = None,
        allow_fallback: bool = True,
    ) -> EmbedderConfig:
        """The config for a model name, the options, and a collection's model record.

        Options left out take the record's values, then the defaults (torch,
        truncate); the engine is the record's when the backend is its own.
        """
        backend = backend or (stored.backend if stored else DEFAULT_BACKEND)
        long_text = long_text or (stored.long_text if stored else DEFAULT_LONG_TEXT)
        check_options(backend, long_text)
        engine = engine_for(backend, stored)
        if engine != "torch" and device not in {"auto", "cpu"}:
            raise BadOption(
                f"--backend {backend} runs on the CPU, not on {device}",
                "use --device cpu (or auto), or --backend torch on a GPU",
            )
        spec = resolve_model(name, allow_fallback=allow_fallback)
        return cls(spec, engine, long_text, device)

    @property
    def backend(self) -> str:
        return "int8" if self.engine.startswith("int8") else self.engine

    @property
    def folder(self) -> Path | None:
        """The model's files on this machine (None for a hub model not yet downloaded)."""
        if Path(self.model.source).is_dir():
            return Path(self.model.source)
        cached = _cached(self.model.name)
        return Path(cached) if cached else None

    def model_fingerprint(self) -> str:
        """The model files' fingerprint ("" when they are not on this machine yet)."""
        folder = self.folder
        return fingerprint(folder) if folder is not None else ""

    def fingerprint(self) -> str:
        """The fingerprint the vectors will have, without loading the model ("" for a hub id)."""
        if not self.model.local:
            return ""
        return embedding_fingerprint(self.model_fingerprint(), self.engine, self.long_text)

    def load(self, *, export_for_queries: bool = False) -> Embedder:
        """The embedder for documents; several devices get one process each.

        ``export_for_queries``: where the model is loaded on the CPU in fp32
        anyway, also write its export for fast ``search text`` (a failure is
        an ``ExportWarning``, not an error).
        """
        from .devices import MultiDeviceEmbedder, parse_devices

        devices = parse_devices(self.device)
        if len(devices) > 1:
            return MultiDeviceEmbedder(devices, self.load_on)
        emb = self.load_on(devices[0])
        if export_for_queries and isinstance(emb, TorchEmbedder) and emb.exportable:
            from .engines import ExportFailed, exporter_available, onnxruntime_available

            if onnxruntime_available() and exporter_available():
                try:
                    emb.write_export()
                except ExportFailed as exc:
                    warnings.warn(
                        f"no fast query engine for '{self.model.name}': {exc}; "
                        "search text will load torch (seconds slower)",
                        ExportWarning,
                        stacklevel=2,
                    )
        return emb

    def load_on(self, device: str) -> Embedder:
        """The embedder on one device (what each worker process builds)."""
        one = dataclasses.replace(self, device=device)
        if self.engine in {"onnx", "int8-onnx"}:
            return OnnxEmbedder.open(one)
        return TorchEmbedder(one)

    def load_for_queries(self) -> Embedder:
        """An embedder for queries that starts fast: ONNX Runtime where it can, else torch."""
        from .engines import onnxruntime_available

        reason = self._torch_only_reason()
        if reason is None:
            from .engines import ExportFailed, find_export

            export = find_export(self.model_fingerprint())
            if export is None:
                # The first query of this model here: load it with torch once, export it.
                torch_emb = TorchEmbedder(dataclasses.replace(self, engine="torch", device="cpu"))
                try:
                    export = torch_emb.write_export()
                except ExportFailed as exc:
                    reason = f"the model could not be exported to ONNX ({exc})"
                    if self.engine == "torch":
                        _warn_slow(reason)
                        return torch_emb
            if export is not None:
                return OnnxEmbedder(self, export, int8=self.engine == "int8-onnx")
        if self.engine in {"onnx", "int8-onnx"} and not onnxruntime_available():
            # torch fp32 stands in for the collection's ONNX Runtime engine (cosine to its
            # int8 vectors about 0.99): an answer, where the engine itself cannot run here.
            stand_in = TorchEmbedder(dataclasses.replace(self, engine="torch"))
            stand_in.fingerprint = self.fingerprint()
            _warn_slow(f"{reason}; torch fp32 stands in for the collection's {self.engine} engine")
            return stand_in
        emb = self.load()
        if reason:
            _warn_slow(reason)
        return emb

    def _torch_only_reason(self) -> str | None:
        """Why queries must use torch here ("" for a plain choice, None when they need not)."""
        from .engines import exporter_available, onnxruntime_available

        if self.device not in {"auto", "cpu"}:
            return ""  # asked for a device: the torch path runs there
        if self.engine == "int8-torch":
            return "the collection was embedded with torch's int8 engine"
        if not onnxruntime_available():
            return (
                "onnxruntime is not installed (pip install onnxruntime: part of patentsim's "
                "install)"
            )
        if self.folder is None:
            return f"model '{self.model.name}' is not on this machine yet"
        from .engines import find_export

        if find_export(self.model_fingerprint()) is None and not exporter_available():
            return "no ONNX export of the model, and onnx/onnxscript are not installed to write one"
        return None


def _warn_slow(reason: str) -> None:
    warnings.warn(
        f"the query is embedded with torch, which takes seconds to start: {reason}",
        SlowQueryWarning,
        stacklevel=3,
    )


class _Common:
    """What both engines share: the manifest's view, and chunking long texts."""

    config: EmbedderConfig
    name: str
    fingerprint: str
    dimension: int
    max_seq_length: int
    engine: str

    def info(self) -> ModelRecord:
        """What the manifest records about the model."""
        spec = self.config.model
        return ModelRecord(
            name=spec.name,
            requested=spec.fallback_from or spec.name,
            fingerprint=self.fingerprint,
            dimension=self.dimension,
            max_seq_length=self.max_seq_length,
            normalize=True,
            backend=self.config.backend,
            engine=self.config.engine,
            long_text=self.config.long_text,
        )

    @property
    def spec(self) -> ModelSpec:
        return self.config.model

    @property
    def long_text(self) -> str:
        return self.config.long_text

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any:
        """Normalised float32 embeddings, one row per text (a 2-D numpy array)."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.long_text == "chunk":
            pieces, owner, weight = self.windows(texts)
            parts = self._encode(pieces, batch_size, query)
            out = np.zeros((len(texts), parts.shape[1]), dtype=np.float64)
            np.add.at(out, np.asarray(owner), parts * np.asarray(weight, dtype=np.float64)[:, None])
            return _normalise(out)
        return self._encode(texts, batch_size, query)

    def _encode(self, texts: list[str], batch_size: int, query: bool) -> Any:
        raise NotImplementedError

    def windows(self, texts: list[str]) -> tuple[list[str], list[int], list[int]]:
        raise NotImplementedError


class TorchEmbedder(_Common):
    """A sentence-transformers model: fp32 on the CPU, fp16 on CUDA, or torch int8."""

    def __init__(self, config: EmbedderConfig) -> None:
        if config.model.local:
            # Without this, huggingface_hub retries the network for about 80 seconds.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        _quiet_libraries()
        from sentence_transformers import SentenceTransformer

        device = pick_device(config.device)
        self.config = dataclasses.replace(config, device=device)
        self.engine = config.engine
        kwargs: dict[str, Any] = {"device": device}
        if config.model.local:
            kwargs["local_files_only"] = True
        try:
            model = SentenceTransformer(config.model.source, **kwargs)
        except (OSError, ValueError) as exc:
            raise ModelUnavailable(
                f"model '{config.model.name}' cannot be loaded: {str(exc).splitlines()[0]}",
                "check --model / EMBED_MODEL",
            ) from exc
        if device.startswith("cuda"):
            model.half()
        model.eval()
        get_dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        self.name = config.model.name
        self.dimension = int(get_dim() or 0)
        self.max_seq_length = int(model.max_seq_length or 0)
        self.model_print = config.model_fingerprint() or config.model.name
        self.fingerprint = embedding_fingerprint(self.model_print, config.engine, config.long_text)
        prompts = getattr(model, "prompts", None) or {}
        self.query_prompt = "query" if "query" in prompts else None
        self.exportable = device == "cpu" and config.engine == "torch"
        if config.engine == "int8-torch":
            from .engines import quantize_torch_int8

            model = quantize_torch_int8(model)
        self.model = model

    def write_export(self) -> Any:
        """The model's ONNX export in the cache (written now if there is none)."""
        from .engines import ExportFailed, write_export

        if not self.exportable:
            raise ExportFailed("only an fp32 model on the CPU is exported")
        return write_export(self.model, self.model_print)

    def _encode(self, texts: list[str], batch_size: int, query: bool) -> Any:
        import numpy as np

        prompt = self.query_prompt if query else None
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
        """Each text cut into windows of the model's length: (pieces, owner index, tokens)."""
        return split_windows(texts, self.model.tokenizer, self.max_seq_length)

    def token_counts(self, texts: list[str]) -> list[int]:
        """Tokens per text as the model would see them untruncated (special tokens included)."""
        encoded = self.model.tokenizer(texts, add_special_tokens=True, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def pieces(self, words: list[str]) -> list[list[str]]:
        """The tokenizer's pieces of each word (``embed.coverage`` measures them)."""
        tokenizer = self.model.tokenizer
        return [list(tokenizer.tokenize(w)) for w in words]

    @property
    def unk_token(self) -> str | None:
        return getattr(self.model.tokenizer, "unk_token", None)


class OnnxEmbedder(_Common):
    """An export run by ONNX Runtime, with the model's fast tokenizer: no torch.

    ``int8``: the export's int8 graph (the ``int8-onnx`` engine).  For a
    collection made by torch fp32, the fp32 graph stands in for it: the export
    was checked to agree to a cosine of 0.9999, so the fingerprint is the
    collection's (``engine`` says ``onnx``).
    """

    def __init__(self, config: EmbedderConfig, export: Any, *, int8: bool) -> None:
        from .engines import OnnxEncoder

        self.config = config
        self.export = export
        self.engine = "int8-onnx" if int8 else "onnx"
        self.name = config.model.name
        meta = export.meta
        self.dimension = int(meta["dimension"])
        self.max_seq_length = int(meta["max_seq_length"])
        self.fingerprint = embedding_fingerprint(
            str(meta["model_fingerprint"]), config.engine, config.long_text
        )
        self.query_prompt = export.query_prompt
        self._encoder = OnnxEncoder(export, int8=int8)

    @classmethod
    def open(cls, config: EmbedderConfig) -> OnnxEmbedder:
        """The ONNX engine of ``config``; exports the model first (with torch) if need be."""
        from .engines import ExportFailed, find_export, onnxruntime_available

        if not onnxruntime_available():
            raise ModelUnavailable(
                f"the '{config.engine}' engine needs onnxruntime and tokenizers, which are "
                "not installed",
                "pip install onnxruntime tokenizers (part of patentsim's install, missing here)",
            )
        export = find_export(config.model_fingerprint())
        if export is None:
            torch_emb = TorchEmbedder(dataclasses.replace(config, engine="torch", device="cpu"))
            try:
                export = torch_emb.write_export()
            except ExportFailed as exc:
                raise ModelUnavailable(
                    f"model '{config.model.name}' cannot run on ONNX Runtime: {exc}",
                    "use --backend torch",
                ) from exc
        return cls(config, export, int8=config.engine == "int8-onnx")

    def _encode(self, texts: list[str], batch_size: int, query: bool) -> Any:
        if query and self.query_prompt:
            texts = [self.query_prompt + t for t in texts]
        return self._encoder.encode(texts, batch_size)

    def windows(self, texts: list[str]) -> tuple[list[str], list[int], list[int]]:
        return self._encoder.tokenizer.windows(texts)

    def token_counts(self, texts: list[str]) -> list[int]:
        return self._encoder.tokenizer.token_counts(texts)

    def pieces(self, words: list[str]) -> list[list[str]]:
        return self._encoder.tokenizer.pieces(words)

    @property
    def unk_token(self) -> str | None:
        return self._encoder.tokenizer.unk_token
