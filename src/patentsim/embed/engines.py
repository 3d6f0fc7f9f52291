"""Faster CPU engines for a sentence-transformers model: ONNX Runtime and int8.

* ``onnx``: the whole model (transformer, pooling, normalisation) exported once
  with ``torch.onnx.export`` (the dynamo exporter, dynamic batch and sequence
  axes) and run by ONNX Runtime.
* ``int8``: the same graph with its weights quantized to int8, per output
  channel (``onnxruntime.quantization.quantize_dynamic``).  Measured here
  (BENCHMARKS.md) it is the fastest CPU engine that still agrees with fp32 to
  a mean cosine above 0.99.  Without ``onnxruntime`` installed, ``int8`` falls
  back to torch's dynamic quantization with per-channel weights (faster too,
  agreement lower); the fingerprint says which engine made the vectors.

Exported graphs are cached on disk under ``PATENTSIM_CACHE`` (default
``~/.cache/patentsim``), keyed by the model's fingerprint, so the conversion
happens once and works offline.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

EXPORT_VERSION = 1


def cache_dir() -> Path:
    root = os.environ.get("PATENTSIM_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "patentsim"
    )
    return Path(root)


def onnxruntime_available() -> bool:
    return (
        importlib.util.find_spec("onnxruntime") is not None
        and importlib.util.find_spec("onnx") is not None
    )


def onnx_paths(model_fingerprint: str) -> tuple[Path, Path]:
    """Where the fp32 and the int8 graphs of a model are cached."""
    folder = cache_dir() / "onnx" / f"{model_fingerprint}-v{EXPORT_VERSION}"
    return folder / "model.onnx", folder / "model_int8.onnx"


class _Wrapper:
    """The model as a function of (input_ids, attention_mask) → sentence embedding."""

    @staticmethod
    def build(model: Any) -> Any:
        import torch

        class Wrapped(torch.nn.Module):
            def __init__(self, st: Any) -> None:
                super().__init__()
                self.st = st

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                features = {"input_ids": input_ids, "attention_mask": attention_mask}
                return self.st(features)["sentence_embedding"]

        return Wrapped(model).eval()


def export_onnx(model: Any, path: Path) -> Path:
    """Export a (CPU, fp32) SentenceTransformer to ``path``; atomic, so a crash leaves none."""
    import contextlib
    import io
    import logging
    import warnings

    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    wrapped = _Wrapper.build(model)
    sample = model.tokenizer(
        ["a sample text to trace the graph", "another"], padding=True, return_tensors="pt"
    )
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("sequence", max=max(int(model.max_seq_length or 512), 8))
    tmp = Path(tempfile.mkdtemp(dir=path.parent)) / path.name
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "torchvision is not installed" notes
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (sample["input_ids"], sample["attention_mask"]),
            str(tmp),
            dynamo=True,
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_shapes={
                "input_ids": {0: batch, 1: seq},
                "attention_mask": {0: batch, 1: seq},
            },
            external_data=False,
        )
    quiet.setLevel(level)
    os.replace(tmp, path)
    tmp.parent.rmdir()
    return path


def quantize_onnx(src: Path, dest: Path) -> Path:
    """int8 weights, one scale per output channel; activations quantized on the fly."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" noise
    try:
        quantize_dynamic(str(src), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().setLevel(level)
    os.replace(tmp, dest)
    return dest


def prepare_onnx(model: Any, model_fingerprint: str, *, int8: bool) -> Path:
    """The cached graph for this model (exported and quantized on first use)."""
    fp32, q8 = onnx_paths(model_fingerprint)
    if not fp32.is_file():
        export_onnx(model, fp32)
    if not int8:
        return fp32
    if not q8.is_file():
        quantize_onnx(fp32, q8)
    return q8


class OnnxEngine:
    """Runs an exported graph with ONNX Runtime on the CPU: texts in, embeddings out."""

    def __init__(self, path: Path, tokenizer: Any, max_length: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads sleep instead of spinning: measured 2.2x instead of 1.9x over
        # torch fp32 on 2 shared cores (spinning threads fight the tokenizer and other work).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        threads = os.environ.get("PATENTSIM_THREADS")
        if threads:
            options.intra_op_num_threads = int(threads)
        self.session = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = tokenizer
        self.max_length = max_length

    def encode(self, texts: list[str], batch_size: int) -> Any:
        import numpy as np

        from .devices import length_batches

        out: Any = None
        for batch in length_batches([len(t) for t in texts], batch_size):
            enc = self.tokenizer(
                [texts[i] for i in batch],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="np",
            )
            (vectors,) = self.session.run(
                None,
                {
                    "input_ids": enc["input_ids"].astype(np.int64),
                    "attention_mask": enc["attention_mask"].astype(np.int64),
                },
            )
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[batch] = vectors
        return out


def quantize_torch_int8(model: Any) -> Any:
    """torch dynamic quantization of every Linear layer, int8 weights per output channel."""
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return quantize_dynamic(
            model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
