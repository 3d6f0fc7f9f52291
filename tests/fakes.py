"""Fakes shared by the tests: an embedder, and an HTTP server that answers like Qdrant.

``FakeEmbedder``: deterministic, counts its work.  Vectors are normalised bags of
hashed words, so texts that share words are close; that is enough for the pipeline
and query logic.  Tests that must prove real embeddings use the offline model
(``offline_embedder`` fixture).

``QdrantHandler`` and ``serving``: a local HTTP server whose handler answers
Qdrant's probe (``GET /`` and ``GET /collections``) like a Qdrant 1.19; subclasses
script the rest.  ``closed_port``: a loopback port where nothing listens.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from patentsim.store.manifest import ModelRecord


class FakeEmbedder:
    name = "fake-bag-of-words"
    fingerprint = "fake0001"
    max_seq_length = 64

    def __init__(self, dimension: int = 32) -> None:
        self.dimension = dimension
        self.batches = 0
        self.texts = 0
        self.query_prompt = None

    def info(self) -> ModelRecord:
        return ModelRecord(
            self.name,
            self.fingerprint,
            self.dimension,
            requested=self.name,
            max_seq_length=self.max_seq_length,
        )

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


# -- a local server that answers like Qdrant ---------------------------------------------------

NO_COLLECTIONS = {"result": {"collections": []}, "status": "ok", "time": 0.0}


class QdrantHandler(BaseHTTPRequestHandler):
    """JSON answers, no request log; ``probe`` answers Qdrant's probe and says if it did."""

    version = "1.19.0"

    def probe(self) -> bool:
        if self.command == "GET" and self.path == "/":
            self.answer(200, {"title": "qdrant - vector search engine", "version": self.version})
        elif self.command == "GET" and self.path == "/collections":
            self.answer(200, NO_COLLECTIONS)
        else:
            return False
        return True

    def answer(self, status: int, body: object = None) -> None:
        data = (
            b""
            if body is None
            else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        )
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def closed_port() -> int:
    """A loopback port with nothing listening (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
