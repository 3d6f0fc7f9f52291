"""`search text` reads a query the way the collection's texts were read at ingest.

A collection loaded with ``long_text="chunk"`` holds, for each text longer than the model's
window, the normalised token-weighted mean of its windows' embeddings; a text query is read
the same way.  Both are checked against vectors computed here from the windows with the plain
(truncating) model, and against the truncated vectors they must differ from, so the test
fails if either side ignored chunking.
"""

from __future__ import annotations

import numpy as np
import pytest

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, text
from patentsim.store import StoreSettings, open_store

from .conftest import EXAMPLE_XLSX, slice_xlsx

ROWS = 12
SAME = 1e-3  # the query side may run ONNX Runtime instead of torch


def chunked(embedder, texts: list[str]) -> np.ndarray:
    """Each text as the normalised mean of its windows' vectors, weighted by their tokens."""
    pieces, owner, weight = embedder.windows(texts)
    parts = np.asarray(embedder.encode(pieces), dtype=np.float64)
    out = np.zeros((len(texts), parts.shape[1]))
    np.add.at(out, np.asarray(owner), parts * np.asarray(weight, dtype=np.float64)[:, None])
    return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.mark.slow
def test_text_search_on_a_chunked_collection(tmp_path, offline_embedder):
    src = slice_xlsx(EXAMPLE_XLSX, tmp_path / "few.xlsx", ROWS)
    settings = StoreSettings(path=str(tmp_path / "store"))
    summary = load(
        src,
        LoadSettings(
            store_settings=settings,
            collection="c",
            model="minilm",
            long_text="chunk",
            id_column="application_number",
        ),
    )
    assert summary.points == ROWS
    store = open_store(settings)
    try:
        coll = store.open("c")
        manifest = coll.read_manifest()
        points = sorted(coll.scroll(with_vectors=True), key=lambda p: p.payload["_row"])
    finally:
        store.close()
    assert manifest.model is not None and manifest.model.long_text == "chunk"
    assert manifest.model.fingerprint == offline_embedder.fingerprint + "+chunk"
    (column,) = manifest.text_columns
    texts = [str(p.payload[column]) for p in points]
    stored = np.array([p.vector for p in points], dtype=np.float64)
    windows = np.bincount(offline_embedder.windows(texts)[1], minlength=len(texts))
    long = [i for i, n in enumerate(windows) if n > 1]
    assert len(long) >= 3, windows  # the example's abstracts outgrow the window

    # Ingest: every stored vector is its text's chunked vector, and not its truncated one.
    want = chunked(offline_embedder, texts)
    assert np.min(np.sum(stored * want, axis=1)) > 1 - SAME
    truncated = np.asarray(offline_embedder.encode([texts[i] for i in long]), dtype=np.float64)
    assert np.max(np.sum(stored[long] * truncated, axis=1)) < 0.99

    # Query: a long text is read in windows too; its own document comes first at cosine 1.
    i = long[0]
    results = text(texts[i], QueryOptions(mode="dense", limit=3), settings=settings)
    assert results.hits[0].row == i
    query = chunked(offline_embedder, [texts[i]])[0]
    for hit in results.hits:
        assert hit.score == pytest.approx(float(stored[hit.row] @ query), abs=SAME), hit.row
    cut = np.asarray(offline_embedder.encode([texts[i]])[0], dtype=np.float64)
    assert float(stored[i] @ cut) < 0.99  # a truncated query would have scored this
