"""Keyword search on real rows of patents_ko.xlsx (skipped where ../shared/data is missing)."""

from __future__ import annotations

import openpyxl
import pytest

from patentsim.embed.analyzer import Analyzer
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, like, text
from patentsim.store import StoreSettings

from .conftest import shared_file, slice_xlsx
from .fakes import FakeEmbedder


def _abstracts(path) -> list[str | None]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    col = list(rows[0]).index("abstract")
    return [r[col] for r in rows[1:]]


@pytest.fixture(scope="module")
def ko120(tmp_path_factory):
    real = shared_file("patents_ko.xlsx")
    return slice_xlsx(real, tmp_path_factory.mktemp("ko") / "ko120.xlsx", 120)


def test_tilde_matches_exactly_the_rows_whose_analyzed_abstract_holds_the_word(
    ko120, settings, unique_name
):
    load(
        ko120,
        LoadSettings(store_settings=settings, collection=unique_name),
        embedder=FakeEmbedder(),
    )
    analyzer = Analyzer()
    abstracts = _abstracts(ko120)
    expected = sorted(
        i for i, a in enumerate(abstracts) if isinstance(a, str) and "센서" in analyzer.terms(a)
    )
    # More than a whitespace match finds: 센서를, 센서의, 센서가 ... count too.
    plain = [i for i, a in enumerate(abstracts) if isinstance(a, str) and "센서" in a.split()]
    assert len(expected) > len(plain)
    for mode in ("dense", "keyword"):
        got = like(
            0,
            QueryOptions(where=("abstract~센서",), limit=200, mode=mode),
            settings=settings,
            collection=unique_name,
        )
        rows = sorted([h.row for h in got.hits] + ([0] if 0 in expected else []))
        assert rows == expected, mode


@pytest.mark.slow
def test_keyword_finds_a_rare_exact_term_that_dense_ranks_low(ko120, offline_embedder, tmp_path):
    """이더넷 (Ethernet) occurs in one abstract of these 120 rows: row 17."""
    settings = StoreSettings(path=str(tmp_path / "store"))
    load(ko120, LoadSettings(store_settings=settings, collection="ko"), embedder=offline_embedder)
    holders = [i for i, a in enumerate(_abstracts(ko120)) if a and "이더넷" in Analyzer().terms(a)]
    assert holders == [17]
    keyword = text(
        "이더넷", QueryOptions(mode="keyword", limit=10), settings=settings, collection="ko"
    )
    assert keyword.hits[0].row == 17
    dense = text(
        "이더넷",
        QueryOptions(mode="dense", limit=120),
        settings=settings,
        model=offline_embedder,
        collection="ko",
    )
    rank = [h.row for h in dense.hits].index(17) + 1
    assert rank > 20  # 31 with all-MiniLM-L6-v2: the English model cannot read it
