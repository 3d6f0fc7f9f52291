"""A fake embedder for fast unit tests: deterministic, counts its work.

Vectors are normalised bags of hashed words, so texts that share words are
close; that is enough for the pipeline and query logic.  Tests that must
prove real embeddings use the offline model (``offline_embedder`` fixture).
"""

from __future__ import annotations

import hashlib
import re

import numpy as np


class FakeEmbedder:
    name = "fake-bag-of-words"
    fingerprint = "fake0001"
    max_seq_length = 64

    def __init__(self, dimension: int = 32) -> None:
        self.dimension = dimension
        self.batches = 0
        self.texts = 0
        self.query_prompt = None

    def info(self) -> dict:
        return {
            "name": self.name,
            "requested": self.name,
            "fingerprint": self.fingerprint,
            "dimension": self.dimension,
            "max_seq_length": self.max_seq_length,
            "normalize": True,
        }

    def _one(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimension, dtype=np.float32)
        for word in re.findall(r"\w+", text.lower()) or [""]:
            h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vec[h % self.dimension] += 1.0 + (h >> 32) % 7 / 10
        vec += 1e-3
        return vec / np.linalg.norm(vec)

    def encode(self, texts: list[str], *, batch_size: int = 32, query: bool = False) -> np.ndarray:
        self.batches += 1
        self.texts += len(texts)
        return np.stack([self._one(t) for t in texts])

    def token_counts(self, texts: list[str]) -> list[int]:
        return [len(re.findall(r"\w+", t)) + 2 for t in texts]
