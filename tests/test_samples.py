"""The suite's English samples ingest as the real files of their shape do, and results
convert to pandas for notebooks.

``tests/data/sample_en.xlsx`` has a company's US grants (ISO dates, ``|``-separated CPC
groups), ``tests/data/sample_en.csv`` a mixed English export with empty abstracts and empty
grant dates.  The real files in ``../shared/data`` are checked too where they are present.
"""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest

from patentsim.ingest.manage import info
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, like
from patentsim.search.where import fields_of, where_filter
from patentsim.store import StoreSettings, open_store

from .conftest import EN_CSV, EN_XLSX, shared_file
from .fakes import FakeEmbedder


def _sheet(path):
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    wb.close()
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def _points(settings: StoreSettings, name: str) -> dict[str, dict]:
    store = open_store(settings)
    try:
        return {p.payload["_key"]: p.payload for p in store.open(name).scroll(with_payload=True)}
    finally:
        store.close()


@pytest.fixture(scope="module")
def grants(tmp_path_factory):
    settings = StoreSettings(path=str(tmp_path_factory.mktemp("en") / "store"))
    summary = load(
        EN_XLSX,
        LoadSettings(store_settings=settings, collection="grants", id_column="doc_id"),
        embedder=FakeEmbedder(),
    )
    return settings, summary


def test_english_grants_are_typed_like_the_real_file(grants):
    settings, summary = grants
    rows = _sheet(EN_XLSX)
    assert (summary.rows, summary.added, summary.points) == (60, 60, 60)
    assert summary.skipped == []
    manifest = info(settings, "grants").manifest.to_dict()  # as stored
    assert manifest["date_field"] == "grant_date"
    assert manifest["title_field"] == "title"
    assert manifest["text_columns"] == ["abstract"]
    assert manifest["fields"]["grant_date"]["type"] == "datetime"
    assert manifest["fields"]["cpc"]["list"] is True
    assert manifest["fields"]["assignee"]["type"] == "keyword"
    points = _points(settings, "grants")
    for i, row in enumerate(rows):
        payload = points[row["doc_id"]]
        assert payload["_row"] == i
        assert payload["grant_date"] == f"{row['grant_date']}T00:00:00Z"
        assert payload["cpc"] == row["cpc"].split("|")
        assert payload["assignee"] == row["assignee"]


def test_a_cpc_condition_selects_what_the_sheet_holds(grants):
    settings, _ = grants
    rows = _sheet(EN_XLSX)
    store = open_store(settings)
    try:
        coll = store.open("grants")
        fields = fields_of(coll.read_manifest())
        for code in ("G06F12/0811", "G06T15/06", "H04N19/52"):
            want = sum(code in r["cpc"].split("|") for r in rows)
            assert want > 0
            assert coll.count(where_filter([f"cpc={code}"], fields)) == want
        late = sum(r["grant_date"] >= "2019-06-01" for r in rows)
        assert coll.count(where_filter(["grant_date>=2019-06"], fields)) == late
    finally:
        store.close()


def test_results_to_pandas(grants):
    settings, _ = grants
    results = like(0, QueryOptions(limit=5), settings=settings, collection="grants")
    frame = results.to_pandas()
    assert list(frame.columns[:4]) == ["rank", "score", "key", "row"]
    assert set(frame.columns[4:]) == {
        "doc_id",
        "title",
        "abstract",
        "assignee",
        "grant_date",
        "cpc",
    }
    assert frame["rank"].to_list() == [1, 2, 3, 4, 5]
    assert frame["key"].to_list() == [h.key for h in results.hits]
    assert frame["score"].to_list() == pytest.approx([h.score for h in results.hits])
    assert isinstance(frame["grant_date"].dtype, pd.DatetimeTZDtype)
    assert str(frame["grant_date"].dtype.tz) == "UTC"
    first = results.hits[0].payload
    assert frame.loc[0, "grant_date"] == pd.Timestamp(first["grant_date"])
    assert frame.loc[0, "cpc"] == first["cpc"]
    assert "_hash" not in frame.columns


def test_an_english_csv_with_empty_abstracts(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    with open(EN_CSV, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    empty = [i for i, r in enumerate(rows) if not r["abstract"].strip()]
    assert empty == [3, 11, 12, 25, 38]
    summary = load(
        EN_CSV,
        LoadSettings(store_settings=settings, collection="mixed", id_column="doc_id"),
        embedder=FakeEmbedder(),
    )
    assert summary.rows == 40
    assert summary.skipped == empty
    assert summary.points == 35
    points = _points(settings, "mixed")
    assert set(points) == {r["doc_id"] for i, r in enumerate(rows) if i not in empty}
    for r in rows:
        payload = points.get(r["doc_id"])
        if payload is None:
            continue
        assert payload["filing_date"] == f"{r['filing_date']}T00:00:00Z"
        if r["grant_date"]:
            assert payload["grant_date"] == f"{r['grant_date']}T00:00:00Z"
        else:
            assert "grant_date" not in payload  # empty cells are left out
        assert payload.get("cpc", []) == (r["cpc"].split("|") if r["cpc"] else [])
        assert payload["ipc"] == r["ipc"].split("|")


def test_the_real_korean_file_where_it_is_present(tmp_path):
    path = shared_file("patents_ko.xlsx")
    settings = StoreSettings(path=str(tmp_path / "store"))
    summary = load(
        path,
        LoadSettings(store_settings=settings, collection="ko", id_column="application_number"),
        embedder=FakeEmbedder(),
    )
    assert summary.rows == 1488
    assert summary.points == summary.rows - len(summary.skipped)
    fields = info(settings, "ko").manifest.fields
    assert fields["application_date"].type == "datetime"
    assert fields["ipc"].list is True
