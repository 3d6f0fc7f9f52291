"""Rendering: display width of wide characters, shortening, tables, json lines, files."""

from __future__ import annotations

import json

import pytest

from patentsim.errors import UserInputError
from patentsim.search.render import (
    cell,
    display_width,
    facets_csv,
    facets_json,
    facets_table,
    file_format,
    format_table,
    hits_csv,
    hits_json,
    hits_table,
    query_header,
    shorten,
    table_fields,
    write_hits,
)
from patentsim.search.results import FacetCount, Facets, Hit, QueryDocument, Results


def results(**kw) -> Results:
    hits = [
        Hit(
            1,
            0.91234,
            "KR1",
            3,
            {
                "title": "배터리 열관리 시스템",
                "applicant": "삼성전자",
                "application_date": "2015-01-13T00:00:00Z",
                "ipc": ["H01M 10/60", "H01M 10/613"],
                "abstract": "본 발명은",
            },
        ),
        Hit(
            2,
            0.5,
            "KR22",
            17,
            {
                "title": "Battery pack",
                "applicant": "LG",
                "application_date": "2016-02-01T09:30:00Z",
            },
        ),
    ]
    base = dict(
        collection="c",
        hits=hits,
        title_field="title",
        date_field="application_date",
        fields=["title", "abstract", "applicant", "application_date", "ipc"],
        types={
            "title": "text",
            "abstract": "text",
            "applicant": "keyword",
            "application_date": "datetime",
            "ipc": "keyword",
        },
    )
    base.update(kw)
    return Results(**base)


def test_display_width():
    assert display_width("abc") == 3
    assert display_width("배터리") == 6
    assert display_width("ＡＢ") == 4  # fullwidth forms
    assert display_width("e\u0301") == 1  # a combining accent takes no column


def test_shorten_by_display_width():
    assert shorten("배터리 열관리 시스템", 100) == "배터리 열관리 시스템"
    short = shorten("배터리 열관리 시스템", 9)
    assert short == "배터리…" and display_width(short) <= 9
    assert shorten("a  b\n c", 10) == "a b c"
    assert display_width(shorten("x" * 50, 10)) == 10


def test_table_aligns_wide_characters():
    text = format_table(["name", "n"], [["배터리", "1"], ["ab", "22"]], right=[False, True])
    lines = text.splitlines()
    assert [display_width(line) for line in lines] == [10, 10, 10]
    assert lines[1] == "배터리   1"


def test_hits_table_shows_title_applicant_and_date():
    r = results()
    assert table_fields(r) == ["title", "applicant", "application_date"]
    lines = hits_table(r, width=200).splitlines()
    assert lines[0].split() == [
        "rank",
        "cosine",
        "key",
        "row",
        "title",
        "applicant",
        "application_date",
    ]
    assert "0.9123" in lines[1] and "2015-01-13" in lines[1]
    assert "2016-02-01T09:30:00Z" in lines[2]  # a time of day is kept
    # Columns line up by display width.
    assert len({display_width(line[: line.index("20")]) for line in lines[1:]}) == 1


def test_hits_table_shortens_the_title_to_the_width():
    long = results()
    long.hits[0].payload["title"] = "배터리 열관리 시스템 " * 10
    lines = hits_table(long, width=80).splitlines()
    assert max(display_width(line) for line in lines) <= 80
    assert "…" in lines[1]


def test_fields_choose_the_columns():
    r = results()
    assert hits_table(r, ["ipc"], width=200).splitlines()[1].endswith("H01M 10/60|H01M 10/613")
    with pytest.raises(UserInputError, match="--fields: unknown field 'nope'"):
        hits_json(r, ["nope"])
    assert json.loads(hits_json(r, ["APPLICANT"]).splitlines()[0])["payload"] == {
        "applicant": "삼성전자"
    }


def test_json_lines_exact_shape():
    lines = hits_json(results()).splitlines()
    first = json.loads(lines[0])
    assert first == {
        "rank": 1,
        "score": 0.91234,
        "key": "KR1",
        "row": 3,
        "payload": results().hits[0].payload,
    }
    assert "배터리" in lines[0]  # not escaped


def test_csv_joins_lists():
    text = hits_csv(results(), ["title", "ipc"], keep_formulas=False)
    assert text.splitlines()[0] == "rank,score,key,row,title,ipc"
    assert text.splitlines()[1] == "1,0.91234,KR1,3,배터리 열관리 시스템,H01M 10/60|H01M 10/613"
    assert text.splitlines()[2] == "2,0.5,KR22,17,Battery pack,"


def test_cells():
    assert cell(None) == ""
    assert cell(True) == "true"
    assert cell(2.50) == "2.5"
    assert cell("2015-01-13T00:00:00Z", "datetime") == "2015-01-13"
    assert cell(["a", "b"]) == "a|b"


def test_output_files_by_extension(tmp_path):
    assert file_format("x.XLSX") == "xlsx"
    assert file_format("x.jsonl") == "jsonl"
    with pytest.raises(UserInputError, match=r"unknown file type '\.json'"):
        file_format("x.json")
    with pytest.raises(UserInputError, match=r"unknown file type '\(none\)'"):
        file_format("results")
    r = results()
    write_hits(tmp_path / "r.csv", r, None, keep_formulas=False)
    assert (tmp_path / "r.csv").read_bytes().startswith(b"\xef\xbb\xbfrank,score,key,row,title")
    write_hits(tmp_path / "r.xlsx", r, ["title", "application_date"], keep_formulas=False)
    import openpyxl

    ws = openpyxl.load_workbook(tmp_path / "r.xlsx").active
    assert [c.value for c in ws[1]] == ["rank", "score", "key", "row", "title", "application_date"]
    assert ws.cell(2, 6).value.year == 2015
    with pytest.raises(UserInputError, match="cannot write"):
        write_hits(tmp_path / "missing" / "r.jsonl", r, None, keep_formulas=False)


def test_query_header():
    doc = QueryDocument("KR1", 3, "배터리 열관리 시스템", "2015-01-13T00:00:00Z")
    r = results(
        query=doc, prior_art_field="application_date", prior_art_before="2015-01-13T00:00:00Z"
    )
    assert query_header(r) == (
        "like: key KR1, row 3 — 배터리 열관리 시스템 (application_date 2015-01-13); "
        "prior art: application_date before 2015-01-13; mode dense"
    )
    assert query_header(results()) == ""


def test_facets_output():
    f = Facets("c", "applicant", [FacetCount("삼성전자", 12), FacetCount("LG", 3)], total=15)
    lines = facets_table(f, width=80).splitlines()
    assert lines == ["applicant  count", "삼성전자      12", "LG             3"]
    assert [json.loads(x) for x in facets_json(f).splitlines()] == [
        {"value": "삼성전자", "count": 12},
        {"value": "LG", "count": 3},
    ]
    text = facets_csv(f, keep_formulas=False)
    assert text.splitlines() == ["applicant,count", "삼성전자,12", "LG,3"]
