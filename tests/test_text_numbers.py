"""Numbers and other short words in a full-text match: the same documents on every backend.

Qdrant's multilingual full-text index (the text fields' index, on the embedded engine and on
a server alike) leaves out every token without a letter, so ``"7"`` matched nothing there and
``"loop 7"`` matched as ``"loop"``, while qdrant-client's in-memory imitation found the
number.  A match's numbers are now looked up in the field's analyzed terms, which keep them;
a field without analyzed terms refuses them with a message instead of answering wrongly.
"""

from __future__ import annotations

import json

import pytest

from patentsim.errors import BadFilter, setting
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session
from patentsim.search.query_filter import build_filter, raw_filter
from patentsim.search.where import FieldInfo, parse_where
from patentsim.store.filters import Filter, Match, Text

from .fakes import FakeEmbedder

ABSTRACTS = [
    "battery cooling loop 7",
    "loop 17 with 7 parts",
    "3D printer nozzle",
    "5G antenna array",
    "ratio 1.5 mm",
    "이차전지 모듈 7 개",
    "x-ray unit 42",
    "H01M 7/00 cell",
    "배터리 7개",  # a number written against its Korean counter: the analyzer splits it off
]
# Each match and the rows of the documents holding every one of its words.
CASES = [
    ("7", {0, 1, 5, 7, 8}),
    ("loop 7", {0, 1}),
    ("7 loop", {0, 1}),
    ("17", {1}),
    ("loop 42", set()),
    ("1.5", {4}),
    ("42", {6}),
    ("7/00", {7}),
    ("７", {0, 1, 5, 7, 8}),  # a full-width digit, NFKC-normalised like the documents
    ("3D", {2}),
    ("3d", {2}),
    ("5G", {3}),
    ("x", {6}),
    ("이차전지 7", {5}),
    ("H01M", {7}),
]


@pytest.fixture
def session(settings, tmp_path, unique_name):
    path = tmp_path / "docs.jsonl"
    rows = [{"id": i, "abstract": a, "applicant": a} for i, a in enumerate(ABSTRACTS)]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    load(
        path,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="id"),
        embedder=FakeEmbedder(),
    )
    with Session(settings, unique_name) as s:
        yield s


def _rows(session: Session, options: QueryOptions) -> set[int]:
    opened = session.open()
    found = opened.coll.scroll(flt=build_filter(opened, options), with_payload=["_key"])
    return {int(p.payload["_key"]) for p in found}


def test_a_match_finds_the_documents_holding_its_numbers_on_every_backend(session):
    wrong = []
    for words, rows in CASES:
        got = {
            "where": _rows(session, QueryOptions(where=(f"abstract~{words}",))),
            "filter_json": _rows(
                session,
                QueryOptions(filter_json={"must": [{"key": "abstract", "match": {"text": words}}]}),
            ),
            "not": _rows(
                session,
                QueryOptions(
                    filter_json={"must_not": [{"key": "abstract", "match": {"text": words}}]}
                ),
            ),
        }
        if got != {"where": rows, "filter_json": rows, "not": set(range(len(ABSTRACTS))) - rows}:
            wrong.append((words, rows, got))
    assert not wrong, wrong


def test_keyword_search_finds_a_lone_number(session):
    results = session.text("7", QueryOptions(mode="keyword", limit=20))
    assert {int(h.key) for h in results.hits} == {0, 1, 5, 7, 8}


ABSTRACT = FieldInfo("abstract", "text", terms="_terms_abstract")


def test_numbers_go_to_the_analyzed_terms_and_words_stay_on_the_field():
    fields = {"abstract": ABSTRACT, "applicant": FieldInfo("applicant", "keyword")}
    raw = {
        "should": [
            {"key": "abstract", "match": {"text": "loop 7"}},
            {"key": "abstract", "match": {"text": "1.5"}},
            {"key": "abstract", "match": {"text": "5G 3D"}},
            {"key": "applicant", "match": {"text": "7"}},  # no full-text index: left as it is
        ]
    }
    assert raw_filter(raw, fields, str.split) == Filter(
        should=(
            Filter(must=(Text("abstract", "loop"), Text("_terms_abstract", "7"))),
            Text("_terms_abstract", "1 5"),
            Text("abstract", "5G 3D"),
            Text("applicant", "7"),
        )
    )
    # A Filter from the Python API is read the same way.
    assert raw_filter(Filter(must=(Text("abstract", "7"),)), fields, str.split) == Filter(
        must=(Text("_terms_abstract", "7"),)
    )
    assert raw_filter(Filter(must=(Match("applicant", ("7",)),)), fields, str.split) == Filter(
        must=(Match("applicant", ("7",)),)
    )


def test_a_field_without_analyzed_terms_refuses_numbers_instead_of_finding_nothing():
    plain = FieldInfo("abstract", "text")  # a collection made before keyword search
    fields = {"abstract": plain}
    with pytest.raises(BadFilter) as err:
        parse_where("abstract~loop 7", fields)
    assert "leaves out words without a letter (7)" in err.value.message
    assert "'ingest load'" in err.value.message
    with pytest.raises(BadFilter) as err:
        raw_filter({"must": [{"key": "abstract", "match": {"text": "1.5"}}]}, fields)
    assert err.value.message.startswith(f"{setting('filter_json')}: match.text '1.5' on 'abstract'")
    assert "(1, 5)" in err.value.message
    # Words with a letter stay answerable: the index keeps them.
    assert parse_where("abstract~3D x", fields) == Text("abstract", "3D x")
