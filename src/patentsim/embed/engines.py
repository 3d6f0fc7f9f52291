"""ONNX Runtime engines: an export of a sentence-transformers model, run without torch.

An *export* is a folder in the model cache (``PATENTSIM_CACHE``, default
``~/.cache/patentsim``), keyed by the model's fingerprint:

* ``model.onnx``: the model's own module stack (transformer, its Pooling module
  as configured: mean, CLS, ...; Dense and Normalize modules where it has them)
  as one graph from (input_ids, attention_mask) to the sentence embedding,
  written by ``torch.onnx.export`` (the dynamo exporter, dynamic batch and
  sequence axes);
* ``tokenizer.json``: the model's fast tokenizer, for the ``tokenizers`` library;
* ``model_int8.onnx``: the same graph with int8 weights per output channel
  (``onnxruntime.quantization.quantize_dynamic``), made when asked for;
* ``export.json``: what the export reads from the model's sentence-transformers
  configuration (window, pooling, normalisation, prompts, padding), written last,
  after the graph was checked against the model itself on sample texts
  (cosine ≥ 0.9999), so a folder without it is no export.

Writing an export needs torch (it happens where the model is loaded anyway);
using one needs only ``onnxruntime``, ``tokenizers`` and numpy.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PatentSimError
from .model import cut_windows

EXPORT_VERSION = 2
AGREEMENT = 0.9999  # least cosine between the graph's and the model's embeddings at export
_SAMPLES = [
    "a sample text to trace the graph",
    "another",
    "A battery pack with a liquid cooling plate between the cells keeps them at an even "
    "temperature while the vehicle charges quickly. " * 12,
    "배터리 열관리 시스템",
]


class ExportFailed(PatentSimError):
    """A model could not be exported to ONNX (the reason is the message)."""


def cache_dir() -> Path:
    if os.environ.get("PATENTSIM_CACHE"):
        return Path(os.environ["PATENTSIM_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "patentsim"


def onnxruntime_available() -> bool:
    """What running an export needs: onnxruntime and tokenizers."""
    return (
        importlib.util.find_spec("onnxruntime") is not None
        and importlib.util.find_spec("tokenizers") is not None
    )


def exporter_available() -> bool:
    """What writing an export needs besides torch: onnx and onnxscript (the dynamo exporter)."""
    return (
        importlib.util.find_spec("onnx") is not None
        and importlib.util.find_spec("onnxscript") is not None
    )


def export_dir(model_fingerprint: str) -> Path:
    return cache_dir() / "onnx" / f"{model_fingerprint}-v{EXPORT_VERSION}"


def onnx_paths(model_fingerprint: str) -> tuple[Path, Path]:
    """Where the fp32 and the int8 graphs of a model are cached."""
    folder = export_dir(model_fingerprint)
    return folder / "model.onnx", folder / "model_int8.onnx"


@dataclass(frozen=True)
class Export:
    """A complete export folder and what its ``export.json`` says."""

    folder: Path
    meta: dict[str, Any]

    @property
    def graph(self) -> Path:
        return self.folder / "model.onnx"

    @property
    def int8_graph(self) -> Path:
        return self.folder / "model_int8.onnx"

    @property
    def tokenizer(self) -> Path:
        return self.folder / "tokenizer.json"

    @property
    def query_prompt(self) -> str:
        return str((self.meta.get("prompts") or {}).get("query") or "")


def find_export(model_fingerprint: str) -> Export | None:
    """The finished export of a model, or None (reads two small files, imports nothing)."""
    folder = export_dir(model_fingerprint)
    try:
        meta = json.loads((folder / "export.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("version") != EXPORT_VERSION or meta.get("model_fingerprint") != model_fingerprint:
        return None
    if not (folder / "model.onnx").is_file():
        return None
    if not (folder / "tokenizer.json").is_file():
        return None
    return Export(folder, meta)


# -- writing an export (needs torch and the loaded model) -----------------------------------


def describe(model: Any) -> dict[str, Any]:
    """What the export needs to know of a loaded SentenceTransformer, from its own modules.

    Raises ``ExportFailed`` for what a graph of (input_ids, attention_mask)
    cannot reproduce: a pooling that leaves the query prompt out, lower-casing
    done outside the tokenizer, a tokenizer without a fast (Rust) version.
    """
    modules = [type(m).__name__ for m in model]
    if not modules or modules[0] != "Transformer":
        raise ExportFailed(f"its first module is {modules[:1]}, not a Transformer")
    pooling: dict[str, Any] = {}
    for module in model:
        if type(module).__name__ == "Pooling":
            pooling = dict(module.get_config_dict())
    prompts = {k: str(v) for k, v in (getattr(model, "prompts", None) or {}).items() if v}
    if prompts.get("query") and pooling and pooling.get("include_prompt") is False:
        raise ExportFailed("its pooling leaves the query prompt out, which the graph cannot do")
    if getattr(model[0], "do_lower_case", False):
        raise ExportFailed("it lower-cases texts before its tokenizer (do_lower_case)")
    tokenizer = model.tokenizer
    if getattr(tokenizer, "backend_tokenizer", None) is None:
        raise ExportFailed("its tokenizer has no fast (tokenizers) version")
    if getattr(tokenizer, "padding_side", "right") != "right":
        raise ExportFailed("its tokenizer pads on the left")
    get_dim = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return {
        "version": EXPORT_VERSION,
        "modules": modules,
        "pooling": pooling,
        "normalize": "Normalize" in modules,
        "prompts": prompts,
        "max_seq_length": int(model.max_seq_length),
        "dimension": int(get_dim() or 0),
        "pad_token_id": int(tokenizer.pad_token_id or 0),
        "special_tokens": int(tokenizer.num_special_tokens_to_add(pair=False)),
    }


def _wrap(model: Any) -> Any:
    """The model as a torch module of (input_ids, attention_mask) → sentence embedding."""
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self, st: Any) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            return self.st(features)["sentence_embedding"]

    return Wrapped(model).eval()


def _export_graph(model: Any, path: Path, max_seq_length: int) -> None:
    import contextlib
    import io
    import logging
    import warnings

    import torch

    sample = model.tokenizer(_SAMPLES[:2], padding=True, return_tensors="pt")
    batch = torch.export.Dim("batch")
    seq = torch.export.Dim("sequence", max=max(max_seq_length, 8))
    quiet = logging.getLogger("torch.onnx")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "torchvision is not installed" notes
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            torch.no_grad(),
        ):
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _wrap(model),
                (sample["input_ids"], sample["attention_mask"]),
                str(path),
                dynamo=True,
                input_names=["input_ids", "attention_mask"],
                output_names=["sentence_embedding"],
                dynamic_shapes={
                    "input_ids": {0: batch, 1: seq},
                    "attention_mask": {0: batch, 1: seq},
                },
                external_data=False,
            )
    finally:
        quiet.setLevel(level)


def write_export(model: Any, model_fingerprint: str) -> Export:
    """Export a loaded (CPU, fp32) SentenceTransformer once; atomic, checked, then kept.

    Raises ``ExportFailed`` (with the reason) when the model cannot be exported
    or the graph disagrees with the model; nothing is left behind then.
    """
    found = find_export(model_fingerprint)
    if found is not None:
        return found
    if not exporter_available() or not onnxruntime_available():
        raise ExportFailed("onnx, onnxscript, onnxruntime or tokenizers is not installed")
    meta = describe(model)
    meta["model_fingerprint"] = model_fingerprint
    final = export_dir(model_fingerprint)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=".export-"))
    try:
        if str(next(model.parameters()).device) != "cpu":
            raise ExportFailed("the model is not on the CPU")
        try:
            _export_graph(model, tmp / "model.onnx", meta["max_seq_length"])
        except Exception as exc:  # the exporter raises many kinds; all mean "no export"
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ExportFailed(f"torch.onnx.export failed: {first[:200]}") from exc
        model.tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        meta["agreement"] = _check_agreement(model, Export(tmp, meta))
        (tmp / "export.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        if final.exists():  # another process finished first: keep its export
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    done = find_export(model_fingerprint)
    if done is None:
        raise ExportFailed(f"the export in {final} is incomplete")
    return done


def _check_agreement(model: Any, export: Export) -> float:
    """The least cosine between the graph's and the model's own embeddings of sample texts."""
    import numpy as np

    ours = OnnxEncoder(export).encode(_SAMPLES, batch_size=8)
    theirs = model.encode(_SAMPLES, batch_size=8, normalize_embeddings=True, convert_to_numpy=True)
    cos = float(np.min((ours * np.asarray(theirs, dtype=np.float32)).sum(1)))
    if not cos >= AGREEMENT:
        raise ExportFailed(f"the exported graph disagrees with the model (cosine {cos:.6f})")
    return round(cos, 7)


def int8_graph(export: Export) -> Path:
    """The int8 graph of an export, quantized on first use (needs onnxruntime only)."""
    dest = export.int8_graph
    if dest.is_file():
        return dest
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    level = logging.getLogger().level
    logging.getLogger().setLevel(logging.ERROR)  # "consider pre-processing" noise
    try:
        quantize_dynamic(str(export.graph), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().setLevel(level)
    os.replace(tmp, dest)
    return dest


# -- running an export (no torch) -------------------------------------------------------------


class FastTokenizer:
    """The model's tokenizer from its ``tokenizer.json``, read the way sentence-transformers reads.

    Right padding with the model's pad id, truncation at the model's window,
    special tokens added by the tokenizer's own post-processor.
    """

    def __init__(self, path: Path, max_length: int, pad_id: int, special_tokens: int) -> None:
        from tokenizers import Tokenizer

        self.max_length = int(max_length)
        self.pad_id = int(pad_id)
        self.special_tokens = int(special_tokens)
        self._cut = Tokenizer.from_file(str(path))
        self._cut.no_padding()
        self._cut.enable_truncation(max_length=self.max_length, strategy="longest_first")
        self._whole = Tokenizer.from_file(str(path))
        self._whole.no_padding()
        self._whole.no_truncation()

    def batch(self, texts: list[str]) -> tuple[Any, Any]:
        """(input_ids, attention_mask) as int64 arrays, padded to the longest text."""
        import numpy as np

        encoded = self._cut.encode_batch(texts)
        width = max(len(e.ids) for e in encoded)
        ids = np.full((len(texts), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for i, e in enumerate(encoded):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        return ids, mask

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(e.ids) for e in self._whole.encode_batch(texts)]

    def pieces(self, words: list[str]) -> list[list[str]]:
        return [list(e.tokens) for e in self._whole.encode_batch(words, add_special_tokens=False)]

    @property
    def unk_token(self) -> str | None:
        unk = getattr(self._whole.model, "unk_token", None)
        return str(unk) if unk else None

    def windows(self, texts: list[str]) -> tuple[list[str], list[int], list[int]]:
        """``model.split_windows`` for this tokenizer (cuts on the same token boundaries)."""
        room = max(self.max_length - self.special_tokens, 1)
        encoded = self._whole.encode_batch(texts, add_special_tokens=False)

        def piece(i: int, start: int, end: int) -> str:
            offsets = encoded[i].offsets
            return texts[i][offsets[start][0] : offsets[end - 1][1]]

        return cut_windows(texts, [len(e.ids) for e in encoded], room, piece)


class OnnxEncoder:
    """Runs an export with ONNX Runtime on the CPU: texts in, normalised embeddings out."""

    def __init__(self, export: Export, *, int8: bool = False) -> None:
        import onnxruntime as ort

        meta = export.meta
        self.export = export
        self.tokenizer = FastTokenizer(
            export.tokenizer,
            int(meta["max_seq_length"]),
            int(meta.get("pad_token_id") or 0),
            int(meta.get("special_tokens") or 0),
        )
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle worker threads sleep instead of spinning: measured 2.2x instead of 1.9x over
        # torch fp32 on 2 shared cores (spinning threads fight the tokenizer and other work).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        threads = os.environ.get("PATENTSIM_THREADS")
        if threads:
            options.intra_op_num_threads = int(threads)
        graph = int8_graph(export) if int8 else export.graph
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: list[str], batch_size: int) -> Any:
        import numpy as np

        from .devices import length_batches

        out = np.zeros((len(texts), int(self.export.meta["dimension"])), dtype=np.float32)
        for batch in length_batches([len(t) for t in texts], batch_size):
            ids, mask = self.tokenizer.batch([texts[i] for i in batch])
            (vectors,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            out[batch] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


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
