"""Devices for embedding: parse ``--device``, share work out, one process per GPU.

``parse_devices`` turns ``auto``, ``cpu``, ``cuda:1``, ``cuda:0,cuda:1``, ``0,1``
or ``all`` into a list of devices.  ``split_work`` shares texts out among
devices so each gets about the same number of tokens (longest first, each to
the least loaded device), and ``length_batches`` forms batches of texts of
similar length so little of a batch is padding.  ``MultiDeviceEmbedder`` runs
one worker process per device and puts the results back in input order.
None of this needs a GPU to be tested: the worker is built by a factory that
tests replace with a fake.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from ..errors import UserInputError
from ..store.manifest import ModelRecord

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class BadDevice(UserInputError):
    """A ``--device`` value that names no usable device."""


def cuda_device_count() -> int:
    """How many CUDA devices torch sees (0 without torch or CUDA)."""
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def check_device(device: str, torch: Any) -> None:
    """``BadDevice`` when ``device`` (cuda, cuda:N, mps) is not there to be used."""
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            why = (
                "this torch is built without CUDA"
                if getattr(torch.version, "cuda", None) is None
                else "no CUDA GPU is visible"
            )
            raise BadDevice(
                f"--device {device}: {why}",
                "use --device auto (it takes the GPU when there is one) or --device cpu",
            )
        index = int(device.split(":", 1)[1]) if ":" in device else 0
        count = int(torch.cuda.device_count())
        if index >= count:
            raise BadDevice(
                f"--device {device}: there {'is' if count == 1 else 'are'} {count} CUDA "
                f"GPU{'' if count == 1 else 's'} (cuda:0 to cuda:{count - 1})",
                "name one of them, or use --device auto",
            )
    elif device == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise BadDevice(
                "--device mps: Apple's MPS is not available here",
                "use --device auto or --device cpu",
            )


def parse_devices(spec: str, *, count: Callable[[], int] = cuda_device_count) -> list[str]:
    """The devices a ``--device`` value names, in order, without repeats.

    ``all`` is every CUDA device; a bare number ``1`` means ``cuda:1``.
    ``count`` is asked only for ``all``.
    """
    text = (spec or "auto").strip().lower()
    if text == "all":
        n = count()
        if n < 1:
            raise BadDevice(
                "--device all: no CUDA GPU is visible",
                "use --device auto (or cpu) on a machine without a GPU",
            )
        return [f"cuda:{i}" for i in range(n)]
    devices: list[str] = []
    for part in text.split(","):
        item = part.strip()
        if item.isdigit():
            item = f"cuda:{item}"
        if not _DEVICE.match(item):
            raise BadDevice(
                f"--device: '{part.strip()}' is not a device",
                "use auto, cpu, mps, cuda, cuda:N, a list such as cuda:0,cuda:1, or all",
            )
        if item not in devices:
            devices.append(item)
    if len(devices) > 1 and any(d in {"auto", "cpu", "mps"} for d in devices):
        raise BadDevice(
            f"--device {spec}: only CUDA devices can be listed together",
            "list GPUs only, e.g. --device cuda:0,cuda:1",
        )
    return devices


def split_work(lengths: Sequence[int], parts: int) -> list[list[int]]:
    """Indices of ``lengths`` in ``parts`` shares of about equal total length.

    Longest first, each to the share with the least so far (the classic LPT
    rule: no share exceeds the best possible by more than a third).  Each
    share lists its indices in increasing order.
    """
    if parts < 1:
        raise ValueError("parts must be at least 1")
    shares: list[list[int]] = [[] for _ in range(parts)]
    loads = [0] * parts
    for i in sorted(range(len(lengths)), key=lambda k: (-lengths[k], k)):
        j = min(range(parts), key=lambda k: (loads[k], k))
        shares[j].append(i)
        loads[j] += max(int(lengths[i]), 1)
    return [sorted(s) for s in shares]


def length_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Batches of indices, longest texts first, so each batch holds similar lengths."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    order = sorted(range(len(lengths)), key=lambda k: (-lengths[k], k))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


# -- one process per device ----------------------------------------------------------------

_WORKER: Any = None


def _init_worker(factory: Callable[[str], Any], device: str) -> None:
    global _WORKER
    _WORKER = factory(device)


def _worker_call(method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    return getattr(_WORKER, method)(*args, **kwargs)


class MultiDeviceEmbedder:
    """An embedder over several devices: one worker process per device.

    ``factory(device)`` builds the embedder inside each worker (a top-level
    function, since it is sent to a fresh ``spawn``-ed process).  ``encode``
    shares the texts out with ``split_work`` by character length, runs the
    shares at the same time and returns the rows in input order.
    """

    def __init__(self, devices: Sequence[str], factory: Callable[[str], Any]) -> None:
        import multiprocessing

        if not devices:
            raise BadDevice("no devices given")
        self.devices = list(devices)
        ctx = multiprocessing.get_context("spawn")  # CUDA cannot live in a forked child
        self._pools = [
            ProcessPoolExecutor(
                max_workers=1, mp_context=ctx, initializer=_init_worker, initargs=(factory, d)
            )
            for d in self.devices
        ]
        info: ModelRecord = self._call(0, "info")
        self._info = dataclasses.replace(info, devices=tuple(self.devices))
        self.name = info.name
        self.fingerprint = info.fingerprint
        self.dimension = int(info.dimension or 0)
        self.max_seq_length = int(info.max_seq_length or 0)
        self.query_prompt = None

    def _submit(self, i: int, method: str, *args: Any, **kwargs: Any) -> Future[Any]:
        return self._pools[i].submit(_worker_call, method, args, kwargs)

    def _call(self, i: int, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._submit(i, method, *args, **kwargs).result()

    def info(self) -> ModelRecord:
        return self._info

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        shares = [s for s in split_work([len(t) for t in texts], len(self.devices)) if s]
        futures = [
            self._submit(i, "encode", [texts[k] for k in share], batch_size=batch_size, query=query)
            for i, share in enumerate(shares)
        ]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for share, fut in zip(shares, futures):
            out[share] = np.asarray(fut.result(), dtype=np.float32)
        return out

    def token_counts(self, texts: list[str]) -> list[int]:
        return list(self._call(0, "token_counts", texts))

    def close(self) -> None:
        for pool in self._pools:
            pool.shutdown(wait=True, cancel_futures=True)

    def __del__(self) -> None:
        for pool in getattr(self, "_pools", []):
            pool.shutdown(wait=False, cancel_futures=True)
