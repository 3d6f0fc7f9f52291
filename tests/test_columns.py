"""Columns known by their names (``patentsim.columns``), over the headers of real exports.

Each row names a file (our fixtures under tests/data, or the raw exports under
../shared/data) and what the module must answer for its header: the text, title,
identifiers, dates, filing date, owner, classes, parties and family columns.
"""

from __future__ import annotations

import pytest

from patentsim.columns import (
    classes_column,
    family_named,
    filing_date_column,
    is_codes_name,
    is_date_name,
    is_identifier_name,
    name_kind,
    owner_column,
    text_column,
    title_column,
)
from patentsim.ingest.read import open_table

from .conftest import SAMPLES, SHARED_DATA

KIPRIS_CRAWL = "sources/Daniela312__Crawling_Patents_from_KIPRIS/Shackle.xlsx"
KIPRIS_PET = "sources/moksu27__Like_Lion/Pet_industry_prediction_streamlit/data/kipris.csv"
GOOGLE_OLD = (
    "sources/WillKoehrsen__recurrent-neural-networks/data/old/gp-search-20181012-181513.csv"
)
PATENTSVIEW = "sources/Qin717__nvidia_analytics/data_cleaned/nvidia_patent.csv"
GOOGLE_DATES = ["priority date", "filing/creation date", "publication date", "grant date"]
KO_DATES = ["application_date", "opening_date", "registration_date"]

# file: text, title, identifiers, dates, filing date, owner, classes, parties, family
CASES: dict[str, tuple] = {
    "tests:sample_ko.xlsx": (
        "abstract", "title", ["application_number"], KO_DATES, "application_date",
        "applicant", "ipc", {"applicant": "company"}, None,
    ),
    "tests:wipson.xlsx": (
        "요약", "발명의 명칭",
        ["WIPS ON key", "출원번호", "공개번호", "등록번호", "우선권 주장번호", "패밀리 문헌번호"],
        ["출원일", "공개일", "등록일", "우선권 주장일"], "출원일", "출원인", "IPC",
        {"출원인": "company", "발명자": "person"}, "패밀리 문헌번호",
    ),
    "tests:espacenet.csv": (
        None, "Title", ["Publication number", "Family number"], ["Publication date"],
        "Publication date", "Applicants", "IPC",
        {"Inventors": "person", "Applicants": "company"}, "Family number",
    ),
    "tests:lens.csv": (
        "Abstract", "Title", ["Display Key", "Lens ID", "Application Number", "Priority Numbers"],
        ["Publication Date", "Application Date", "Earliest Priority Date"], "Application Date",
        "Applicants", "CPC Classifications",
        {"Applicants": "company", "Inventors": "person", "Owners": "company"},
        "Simple Family Members",
    ),
    "tests:kipris_export.xlsx": (
        "요약", "발명의명칭", ["출원번호", "등록번호"], ["출원일자", "등록일자"], "출원일자",
        "출원인", "IPC분류", {"출원인": "company"}, None,
    ),
    "tests:google_patents.csv": (
        None, "title", ["id"], GOOGLE_DATES, "filing/creation date", "assignee", None,
        {"assignee": "company", "inventor/author": "person"}, None,
    ),
    "tests:patentsview.csv": (
        "patent_abstract", "patent_title", ["patent_number"], ["patent_date"], "patent_date",
        None, None, {}, None,
    ),
    "tests:edited.xlsx": (
        "요약", "발명의 명칭", ["app.no"], ["priority date", "filing/creation date"],
        "filing/creation date", "출원인", "IPC (main)",
        {"출원인": "company", "출원인.1": "company"}, None,
    ),
    "shared:patents_ko.xlsx": (
        "abstract", "title", ["application_number"], KO_DATES, "application_date",
        "applicant", "ipc", {"applicant": "company"}, None,
    ),
    "shared:patents_nvidia.xlsx": (
        "abstract", "title", ["doc_id"], ["grant_date"], "grant_date", "assignee", "cpc",
        {"assignee": "company"}, None,
    ),
    "shared:patents_en.csv": (
        "abstract", "title", ["doc_id"], ["filing_date", "publication_date", "grant_date"],
        "filing_date", "assignee", "ipc", {"assignee": "company"}, None,
    ),
    f"shared:{KIPRIS_CRAWL}": (
        "요약", "발명의 명칭", ["출원번호"], [], None, "출원인", "IPC", {"출원인": "company"}, None,
    ),
    f"shared:{KIPRIS_PET}": (
        None, "발명의명칭", ["출원번호", "등록번호", "공개번호"],
        ["출원일자", "등록일자", "공개일자"],
        "출원일자", "출원인", "IPC분류", {"출원인": "company", "발명자": "person"}, None,
    ),
    f"shared:{GOOGLE_OLD}": (
        None, "title", ["id"], GOOGLE_DATES, "filing/creation date", "assignee", None,
        {"assignee": "company", "inventor/author": "person"}, None,
    ),
    f"shared:{PATENTSVIEW}": (
        None, "patent_title", ["patent_id"], ["patent_date"], "patent_date", None, None, {}, None,
    ),
}  # fmt: skip


def _header(case: str) -> list[str]:
    root, rel = case.split(":", 1)
    path = (SHARED_DATA if root == "shared" else SAMPLES) / rel
    if root == "shared" and not path.is_file():
        pytest.skip(f"{path} not found: real data lives in ../shared/data beside the project")
    return list(open_table(path).columns)


@pytest.mark.parametrize("case", list(CASES))
def test_roles_of_a_real_header(case):
    text, title, ids, dates, filing, owner, classes, parties, family = CASES[case]
    columns = _header(case)
    found = {
        "text": text_column(columns, lambda c: True),
        "title": title_column(columns),
        "ids": [c for c in columns if is_identifier_name(c)],
        "dates": [c for c in columns if is_date_name(c)],
        "filing": filing_date_column([c for c in columns if is_date_name(c)]),
        "owner": owner_column(columns),
        "classes": classes_column(columns),
        "parties": {c: k for c in columns if (k := name_kind(c))},
        "family": family_named(columns),
    }
    assert found == {
        "text": text,
        "title": title,
        "ids": ids,
        "dates": dates,
        "filing": filing,
        "owner": owner,
        "classes": classes,
        "parties": parties,
        "family": family,
    }


@pytest.mark.parametrize(
    ("column", "codes"),
    [("ipc", True), ("CPC Classifications", True), ("IPC분류", True), ("F-term", True),
     ("title", False), ("applicant", False)],
)  # fmt: skip
def test_code_lists_by_name(column, codes):
    assert is_codes_name(column) is codes


def test_the_title_rule_is_one_for_load_and_search():
    """A title named loosely (``발명의 명칭(국문)``) is the title on the page and the text a
    load embeds when there is no abstract (the load looked for the word ``title`` only)."""
    columns = ["출원번호", "발명의 명칭(국문)", "청구항"]
    assert title_column(columns) == "발명의 명칭(국문)"
    assert text_column(columns, lambda c: True) is None


def test_a_filing_date_wins_over_a_priority_date():
    assert filing_date_column(["priority date", "filing/creation date"]) == "filing/creation date"
    assert filing_date_column(["grant_date", "Priority Date"]) == "Priority Date"
    assert filing_date_column(["grant_date", "Application Date"]) == "Application Date"
    assert filing_date_column(["grant_date"]) == "grant_date"
    assert filing_date_column([]) is None


def test_family_names_are_compared_normalized():
    assert family_named(["id", "Family-ID"]) == "Family-ID"
    assert family_named(["id", "우선권 주장번호", "패밀리"]) == "패밀리"
    assert family_named(["id", "title"]) is None


class _Table:
    columns = ("출원번호", "발명의 명칭(국문)", "비고")

    def where(self, row=None, column=None, *, line=None):
        return "t.xlsx"


def test_a_load_embeds_the_title_the_page_shows_when_there_is_no_abstract():
    from patentsim.ingest.records import plan_columns

    title = "발명의 명칭(국문)"
    rows = [
        {"출원번호": "1020200001", title: "배터리 냉각 장치", "비고": "긴 메모 " * 20},
        {"출원번호": "1020200002", title: "냉각판", "비고": "다른 긴 메모 " * 20},
    ]
    plan = plan_columns(_Table(), rows)
    assert plan.text_columns == ["발명의 명칭(국문)"]
    assert plan.title_column == "발명의 명칭(국문)"
    assert "text: '발명의 명칭(국문)' (no abstract column with text)" in plan.choices
