"""`search text` reads a query the way the collection's texts were read at ingest."""

from __future__ import annotations

import pytest

from patentsim.ingest.pipeline import load
from patentsim.search import QueryOptions, text
from patentsim.store import StoreSettings

from .conftest import EXAMPLE_XLSX, slice_xlsx


@pytest.mark.slow
def test_text_search_on_a_chunked_collection(tmp_path):
    src = slice_xlsx(EXAMPLE_XLSX, tmp_path / "few.xlsx", 12)
    settings = StoreSettings(path=str(tmp_path / "store"))
    summary = load(
        src,
        settings=settings,
        collection="c",
        model="minilm",
        long_text="chunk",
        id_column="application_number",
    )
    assert summary.points == 12
    results = text("배터리 모듈 냉각", QueryOptions(limit=3, mode="dense"), settings=settings)
    assert len(results.hits) == 3
    assert results.hits[0].score >= results.hits[-1].score
