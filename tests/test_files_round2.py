"""Users' files, round 2 (issue 25, and the silent changes of issue 24).

Each fixture (tests/data/make_exports2.py: own rows in the exporters' layouts) loads with no
options, and ``--where`` on an applicant, a list column, a date column and an identifier
returns the rows pandas selects on the raw file.  Also: delimiters found and forced, lines
above the header skipped as lines, Latin-1 with UTF-8 sequences, identifiers kept as
written, lists of dates, old Excel, and what the readers say instead of changing silently.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search.cli import cli as search_cli
from patentsim.store.manifest import Vectors

from .fakes import FakeEmbedder
from .test_exports import (
    ingest,
    listed,
    loaded_json,
    payloads,
    selected,
    where_keys,
)

DATA = Path(__file__).resolve().parent / "data"
# The command line loads with the fake embedder (click's obj: ingest.cli.Seams).
FAKE = Seams(embedder=FakeEmbedder())


def refused(*args: str) -> str:
    result = CliRunner().invoke(ingest_cli, ["load", "-q", *args], obj=FAKE)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    return result.output


def column_types(summary: dict) -> dict[str, str]:
    return {c["column"]: c["type"] for c in summary["columns"]}


# -- the exporters of round 2, with no options -------------------------------------------------


def test_espacenet_semicolons_preamble_and_latin1_load_with_no_options():
    summary = loaded_json(str(DATA / "espacenet.csv"), "-c", "esp")
    (f,) = summary["files"]
    assert (f["header_row"], f["delimiter"], f["exporter"]) == (8, ";", "Espacenet result list")
    assert f["encoding"] == "latin-1 (found), 1 characters written in UTF-8 read as UTF-8"
    assert summary["id_column"] == "Publication number" and summary["points"] == 6
    types = column_types(summary)
    assert types["Inventors"] == "keyword[]" and types["Earliest priority"] == "datetime"
    assert types["Family number"] == "keyword"
    got = payloads("esp")["EP3456789A1"]
    assert got["Inventors"] == ["MÜLLER ANNA [DE]", "RENÉ DUPONT [FR]"]  # UTF-8 and Latin-1
    assert got["Family number"] == "064500123"

    df = pd.read_csv(DATA / "espacenet.csv", sep=";", skiprows=7, encoding="latin-1", dtype=str)
    key, q = "Publication number", "CN111234567A"
    applicants = df["Applicants"].map(lambda c: listed(c, "\n"))
    assert where_keys("esp", q, "Applicants=VOLTA GMBH [DE]") == selected(
        df, applicants.map(lambda x: "VOLTA GMBH [DE]" in x), key, q
    )
    ipc = df["IPC"].map(lambda c: listed(c, "\n"))
    assert where_keys("esp", q, "IPC=H01M10/613") == selected(
        df, ipc.map(lambda x: "H01M10/613" in x), key, q
    )
    prio = pd.to_datetime(df["Earliest priority"])
    assert where_keys("esp", q, "Earliest priority>=2019-01-01") == selected(
        df, prio >= "2019-01-01", key, q
    )
    assert where_keys("esp", q, "Family number=064500123") == selected(
        df, df["Family number"] == "064500123", key, q
    )
    assert len(where_keys("esp", q, "Applicants=VOLTA GMBH [DE]")) == 3


def test_espacenet_with_header_row_and_encoding_given():
    summary = loaded_json(
        str(DATA / "espacenet.csv"), "-c", "esp2", "--header-row", "8", "--encoding", "latin1"
    )
    (f,) = summary["files"]
    assert f["header_given"] is True and f["header_row"] == 8 and summary["points"] == 6
    assert f["encoding"] == "iso8859-1 (given), 1 characters written in UTF-8 read as UTF-8"
    assert f["above_header"][2] == 'Query: "ta=(battery and cooling); pd within 2018,2023"'
    assert payloads("esp2")["EP3456789A1"]["Inventors"][0] == "MÜLLER ANNA [DE]"


def test_a_european_resave_reads_semicolons_decimal_commas_and_day_first_dates():
    summary = loaded_json(str(DATA / "european.csv"), "-c", "eu")
    (f,) = summary["files"]
    assert (f["delimiter"], f["header_row"], f["exporter"]) == (";", 2, "Google Patents CSV")
    assert f["encoding"].startswith("latin-1 (found)")
    types = column_types(summary)
    assert types["relevance"] == "float" and types["priority date"] == "datetime"
    got = payloads("eu")
    assert got["US-7451234-B2"]["priority date"] == "2008-10-20T00:00:00Z"
    assert got["US-7451234-B2"]["grant date"] == "2008-11-11T00:00:00Z"
    assert got["EP-3456789-A1"]["relevance"] == 1234.5
    assert got["EP-3456789-A1"]["title"] == "Modul mit Kühlplatte"

    df = pd.read_csv(DATA / "european.csv", sep=";", skiprows=1, encoding="cp1252", dtype=str)
    q = "US-9012345-B1"
    assert where_keys("eu", q, "assignee=Harbor Energy") == selected(
        df, df["assignee"] == "Harbor Energy", "id", q
    )
    inventors = df["inventor/author"].map(lambda c: listed(c, ", "))
    assert where_keys("eu", q, "inventor/author=Mina Cho") == selected(
        df, inventors.map(lambda x: "Mina Cho" in x), "id", q
    )
    prio = pd.to_datetime(df["priority date"], format="%d/%m/%Y")
    assert where_keys("eu", q, "priority date>=2015-01-01") == selected(
        df, prio >= "2015-01-01", "id", q
    )
    relevance = pd.to_numeric(df["relevance"].str.replace(".", "").str.replace(",", "."))
    assert where_keys("eu", q, "relevance>=0.7") == selected(df, relevance >= 0.7, "id", q)
    assert where_keys("eu", "US-7451234-B2", "id=US-9012345-B1") == {"US-9012345-B1"}


@pytest.mark.parametrize("name", ["wipson.xlsx", "wipson.xls"])
def test_wips_on_exports_load_with_no_options(name):
    result = ingest("load", "-q", str(DATA / name), "-c", "wips")
    assert "recognised as WIPS ON export" in result.stderr
    assert (
        "chose key: 'WIPS ON key' (WIPS ON export: unique per row; 출원번호 repeats on an "
        "application's A and B1 rows)"
    ) in result.stderr
    assert "list of dates (separator '|')" in result.stderr
    got = payloads("wips")
    assert len(got) == 8
    assert got["KR1020180012345B1"]["등록번호"] == "0490308"
    assert got["KR1020190055555B1"]["등록번호"] == "1512171"
    assert got["KR1020190055555A"]["출원인"] == ["현대모터스 주식회사", "기아모터스 주식회사"]
    assert got["KR1020190055555A"]["우선권 주장일"] == [
        "2018-05-11T00:00:00Z",
        "2018-06-20T00:00:00Z",
    ]
    assert got["KR1020180012345A"]["우선권 주장일"] == ["2017-02-03T00:00:00Z"]

    df = pd.read_excel(DATA / name, header=2, dtype=str)
    key, q = "WIPS ON key", "KR1020200077777A"
    applicants = df["출원인"].map(lambda c: listed(c, "|"))
    assert where_keys("wips", q, "출원인=주식회사 한빛에너지") == selected(
        df, applicants.map(lambda x: "주식회사 한빛에너지" in x), key, q
    )
    ipc = df["IPC"].map(lambda c: listed(c, "|"))
    assert where_keys("wips", q, "IPC=H01M 10/613") == selected(
        df, ipc.map(lambda x: "H01M 10/613" in x), key, q
    )
    filed = pd.to_datetime(df["출원일"], format="%Y.%m.%d")
    assert where_keys("wips", q, "출원일>=2020-01-01") == selected(
        df, filed >= "2020-01-01", key, q
    )
    # a list of dates matches when any of them is in range
    prio = df["우선권 주장일"].map(
        lambda c: [pd.to_datetime(d, format="%Y.%m.%d") for d in listed(c, "|")]
    )
    assert where_keys("wips", q, "우선권 주장일>=2018-06-01") == selected(
        df, prio.map(lambda ds: any(d >= pd.Timestamp("2018-06-01") for d in ds)), key, q
    )
    assert where_keys("wips", q, "등록번호=0490308") == selected(
        df, df["등록번호"] == "0490308", key, q
    )
    assert where_keys("wips", q, "출원번호=1020190055555") == {
        "KR1020190055555A",
        "KR1020190055555B1",
    }


def test_lens_family_members_are_lists():
    summary = loaded_json(str(DATA / "lens_family.csv"), "-c", "lensf")
    types = column_types(summary)
    assert types["Simple Family Members"] == "keyword[]"
    assert types["Cited Patents"] == "keyword[]"
    assert types["Application Number"] == "keyword"
    df = pd.read_csv(DATA / "lens_family.csv", dtype=str)
    key, q = "Lens ID", "180-007-662-914-01Z"
    family = df["Simple Family Members"].map(lambda c: listed(c, ";;"))
    assert where_keys("lensf", q, "Simple Family Members=012-345-678-901-23X") == selected(
        df, family.map(lambda x: "012-345-678-901-23X" in x), key, q
    )
    applicants = df["Applicants"].map(lambda c: listed(c, ";;"))
    assert where_keys("lensf", q, "Applicants=HARBOR ENERGY SYSTEMS LLC") == selected(
        df, applicants.map(lambda x: "HARBOR ENERGY SYSTEMS LLC" in x), key, q
    )
    prio = pd.to_datetime(df["Earliest Priority Date"])
    assert where_keys("lensf", q, "Earliest Priority Date<2019") == selected(
        df, prio < "2019-01-01", key, q
    )
    assert where_keys("lensf", q, "Application Number=EP 18190011 A") == {"104-220-331-876-55Y"}


# -- delimiters ------------------------------------------------------------------------------


def test_semicolons_load_as_two_documents_of_three_columns(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text(
        "id;title;abstract\n1;Battery, cooling;A battery cooling plate\n2;Motor;An electric motor\n"
    )
    result = ingest("load", "-q", str(path), "-c", "semi")
    assert "delimiter ';' (semicolon) (found)" in result.stderr
    got = payloads("semi")
    assert len(got) == 2
    assert {k for k in got["0"] if not k.startswith("_")} == {"id", "title", "abstract"}
    assert got["0"]["title"] == "Battery, cooling"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("abstract\n1;Battery, cooling;A\n2;Motor;B\n3;Fan;C\n", "split by semicolon ';' into 3"),
        ("id,title,abstract\n1;Battery, cooling;A\n2;Motor;B\n", "split by semicolon ';' into 3"),
        ("id|abstract\n1\tbattery\tx\n2\tmotor\ty\n", "split by tab '\\t' into 3"),
    ],
)
def test_a_header_that_disagrees_with_its_rows_is_an_error(tmp_path, text, fragment):
    path = tmp_path / "odd.csv"
    path.write_text(text)
    out = refused(str(path), "-c", "odd")
    assert fragment in out and "--delimiter" in out


def test_delimiter_given(tmp_path):
    path = tmp_path / "pipes.txt"
    path.write_text("id|abstract|codes\n1|battery|A;B\n2|motor|C\n")
    summary = loaded_json(str(path), "-c", "pipes", "--delimiter", "|")
    assert (
        summary["files"][0]["delimiter"] == "|" and summary["files"][0]["delimiter_found"] is False
    )
    assert payloads("pipes")["1"]["codes"] == ["C"]  # ';' found as the codes' separator
    assert "--delimiter" in refused(str(path), "-c", "pipes2", "--delimiter", ",")


def test_lines_above_the_header_are_lines_not_records(tmp_path):
    path = tmp_path / "quote.csv"
    path.write_text('Query: "battery cooling\nexported by someone\n\nid,abstract\n1,a\n2,b\n')
    summary = loaded_json(str(path), "-c", "q1")
    assert summary["files"][0]["header_row"] == 4 and summary["points"] == 2
    summary = loaded_json(str(path), "-c", "q2", "--header-row", "4")
    assert summary["files"][0]["header_given"] is True and summary["points"] == 2


def test_a_csv_cell_over_the_csv_modules_limit_loads(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("id,abstract\n1," + "battery " * 20_000 + "\n2,motor\n")
    loaded_json(str(path), "-c", "long", "--id", "id")
    assert len(payloads("long")["1"]["abstract"]) == len("battery " * 20_000)


# -- identifiers, numbers ---------------------------------------------------------------------


def test_identifiers_keep_leading_zeros_and_stay_text(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text(
        "doc,abstract,registration number,등록번호,claims\n"
        "a,battery,0490308,1512171,12\nb,motor,1512171,0490308,3\n"
    )
    summary = loaded_json(str(path), "-c", "ids", "--id", "doc")
    types = column_types(summary)
    assert types == {
        "doc": "keyword",
        "abstract": "text",
        "registration number": "keyword",
        "등록번호": "keyword",
        "claims": "integer",
    }
    got = payloads("ids")
    assert got["a"]["registration number"] == "0490308" and got["b"]["등록번호"] == "0490308"
    assert got["a"]["등록번호"] == "1512171"


def test_a_number_beyond_floats_is_text_and_nothing_fails_after_embedding(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("id,abstract,score\n1,a,1e400\n2,b,0.5\n")
    result = ingest("load", "-q", str(path), "-c", "huge", "--id", "id")
    assert "column 'score' holds 1 number(s) beyond the range of numbers" in result.stderr
    assert payloads("huge")["1"]["score"] == "1e400"
    state = json.loads(ingest("info", "-c", "huge", "--format", "json").stdout)
    assert state["manifest"]["state"] == "ready"


# -- workbooks -------------------------------------------------------------------------------


def test_an_xlsx_renamed_xls_is_read_by_its_bytes(tmp_path):
    path = tmp_path / "renamed.xls"
    shutil.copy(DATA / "wipson.xlsx", path)
    summary = loaded_json(str(path), "-c", "renamed")
    assert summary["files"][0]["format"] == "xlsx" and summary["points"] == 8


def test_silent_changes_are_said(tmp_path):
    """Formula cells without a stored value, a date cell of -5, a date-named column with
    cells that are no dates (issue 24)."""
    import openpyxl

    path = tmp_path / "silent.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "abstract", "total", "filing date", "note date"])
    ws.append([1, "battery cooling", "=2+3", 45000, "2020-01-01"])
    ws.append([2, '=CONCAT("a","b")', 7, -5, "soon"])
    ws.append([3, "motor", 8, 45001, "2021-01-01"])
    ws.append([4, "fan", 9, 45002, "later"])
    ws.append([5, "pump", 9, 45003, "2022-01-01"])
    for row in range(2, 7):
        ws.cell(row, 4).number_format = "yyyy-mm-dd"
    wb.save(path)  # openpyxl stores formulas without values, as programs that do not calculate
    result = ingest("load", "-q", str(path), "-c", "silent", "--id", "id")
    err = result.stderr
    assert "2 formula cell(s) saved without a value (first: row 0, column 'total')" in err
    assert "rows 1 have no text for that reason and are skipped" in err
    assert "row 1, column 'filing date': a date cell holding -5 (before 1900-01-01" in err
    assert "column 'note date' is named like a date, but 2 of its 5 values read as no date" in err
    got = payloads("silent")
    assert "1" in got and "2" not in got and "total" not in got["1"]
    assert got["3"]["filing date"] == "2023-03-16T00:00:00Z"  # serial 45001


def test_lists_of_dates_match_any_element_on_every_backend(settings, unique_name):
    from patentsim.search import QueryOptions, like

    load(
        DATA / "wipson.xlsx",
        LoadSettings(store_settings=settings, collection=unique_name),
        embedder=FakeEmbedder(),
    )
    q = "KR1020200077777A"

    def keys(*where: str) -> set[str]:
        res = like(
            q,
            QueryOptions(where=where, limit=20),
            key=True,
            settings=settings,
            collection=unique_name,
        )
        return {h.key for h in res.hits}

    both = {"KR1020190055555A", "KR1020190055555B1"}
    # 2018.05.11 | 2018.06.20: in a range that holds only the second, and one that holds none
    assert both <= keys("우선권 주장일>=2018-06-01")
    assert keys("우선권 주장일>=2018-06-01", "우선권 주장일<2018-07-01") == both
    assert not keys("우선권 주장일>=2018-07-01") & both


def test_an_ods_workbook_loads(tmp_path):
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "abstract": ["battery cooling", "motor"],
            "application date": pd.to_datetime(["2020-01-02", "2021-03-04"]),
            "registration number": ["0490308", "1512171"],
        }
    )
    path = tmp_path / "sheet.ods"
    frame.to_excel(path, engine="odf", index=False)
    summary = loaded_json(str(path), "-c", "ods", "--id", "id")
    assert summary["files"][0]["format"] == "ods"
    got = payloads("ods")
    assert got["a"]["application date"] == "2020-01-02T00:00:00Z"
    assert got["a"]["registration number"] == "0490308"


# -- row references in collections of several files --------------------------------------------


def _two_files(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("id,abstract\nA0,battery cooling plate\nA1,battery pack\n")
    b.write_text("id,abstract\nB0,electric motor\nB1,motor winding\nB2,motor housing\n")
    return a, b


def test_row_references_name_one_file(tmp_path):
    a, b = _two_files(tmp_path)
    loaded_json(str(a), str(b), "-c", "two", "--id", "id")

    def like(*args: str):
        return CliRunner().invoke(
            search_cli, ["like", *args, "-c", "two", "--format", "json", "--limit", "1"]
        )

    result = like("0")
    assert result.exit_code == 2, result.output
    assert "row 0 exists in 2 files of collection 'two': a.csv, b.csv" in result.output
    assert "a.csv:0 (or --file a.csv)" in result.output
    result = like("b.csv:0")
    assert result.exit_code == 0, result.output
    assert "like: key B0, row 0 of b.csv" in result.stderr
    result = like("0", "--file", str(b))
    assert result.exit_code == 0 and "key B0" in result.stderr, result.output
    result = like("2")  # only b.csv has a row 2
    assert result.exit_code == 0 and "key B2" in result.stderr, result.output
    result = like("a.csv:5")
    assert result.exit_code == 1 and "no row 5 of file 'a.csv'" in result.output
    result = like("A1")
    assert result.exit_code == 0 and "key A1" in result.stderr


def test_row_references_in_the_python_api(tmp_path):
    from patentsim.search import QueryOptions, like
    from patentsim.search.refs import AmbiguousReference, parse_reference

    a, b = _two_files(tmp_path)
    load([a, b], LoadSettings(collection="two", id_column="id"), embedder=FakeEmbedder())
    with pytest.raises(AmbiguousReference) as err:
        like(0, collection="two")
    assert "a.csv, b.csv" in err.value.message
    assert like("a.csv:1", QueryOptions(limit=1), collection="two").query.key == "A1"
    assert like(1, QueryOptions(limit=1), file="b.csv", collection="two").query.key == "B1"
    assert parse_reference("EP:12").file == "EP" and parse_reference("EP:x").row is None


# -- the language of a collection, from a sample across all files -------------------------------

KO_TEXTS = [
    "배터리 셀 사이에 냉각판을 두어 열을 빼낸다",
    "냉각수 유로와 히트펌프를 함께 제어한다",
    "상변화 물질로 급속 충전 중의 열을 흡수한다",
    "연삭 장치에서 가공물의 연삭량을 측정한다",
    "셀 표면에 온도 센서를 밀착시키는 홀더",
    "전동기의 권선을 냉각하는 유로를 구비한다",
]
EN_TEXTS = [
    "A cooling plate between the cells removes heat",
    "A coolant loop and a heat pump are controlled together",
    "A phase change material absorbs heat while charging",
    "The grinding amount of a workpiece is measured",
    "A holder presses a temperature sensor onto the cell",
    "A motor winding is cooled by a channel",
    "A neural network predicts the remaining capacity",
    "Gas sensors warn of thermal runaway before venting",
    "A busbar is cooled by a liquid channel",
    "An inverter switches the current of the motor",
    "The charging current is limited above a threshold",
    "A battery pack holds modules in a tray",
]


def test_two_files_give_the_same_language_share_and_mode_in_either_order(
    tmp_path, offline_embedder
):
    """The sample is taken across both files by content hash; the mode follows from what the
    model's tokenizer does with it (the offline English model breaks Hangul into jamo)."""
    ko, en = tmp_path / "ko.csv", tmp_path / "en.csv"
    ko.write_text("id,abstract\n" + "".join(f"K{i},{t}\n" for i, t in enumerate(KO_TEXTS)))
    en.write_text("id,abstract\n" + "".join(f"E{i},{t}\n" for i, t in enumerate(EN_TEXTS)))
    first = load(
        [ko, en], LoadSettings(collection="ko_en", id_column="id"), embedder=offline_embedder
    )
    second = load(
        [en, ko], LoadSettings(collection="en_ko", id_column="id"), embedder=offline_embedder
    )
    assert first.mode_reason == second.mode_reason and first.mode_reason is not None
    # mostly English letters: the model reads most of the text, so dense in both orders
    assert first.default_mode == second.default_mode == "dense"
    assert first.mode_reason.startswith("dense (18 sampled texts, ")
    assert "of the letters poorly" in first.mode_reason
    korean = load(ko, LoadSettings(collection="ko_only", id_column="id"), embedder=offline_embedder)
    assert korean.default_mode == "keyword" and "100% of their letters Hangul" in str(
        korean.mode_reason
    )
    assert any("reads 100% of the letters of these texts poorly" in w for w in korean.warnings)


def test_coverage_of_the_offline_tokenizer(offline_embedder):
    from patentsim.embed.coverage import TextSample, measure

    emb = offline_embedder
    korean = measure(KO_TEXTS, emb.pieces, emb.unk_token)
    english = measure(EN_TEXTS, emb.pieces, emb.unk_token)
    assert korean.poor_share > 0.9 and english.poor_share < 0.05
    a, b = TextSample(size=5), TextSample(size=5)
    for t in KO_TEXTS + EN_TEXTS:
        a.add(t)
    for t in reversed(EN_TEXTS + KO_TEXTS):
        b.add(t)
    assert a.texts() == b.texts() and len(a.texts()) == 5


# -- keyword-only collections -------------------------------------------------------------------


def test_a_keyword_only_collection_answers_and_later_gets_dense_vectors(settings, unique_name):
    from patentsim.errors import UserInputError
    from patentsim.search import QueryOptions, like, text
    from patentsim.store import open_store

    name = unique_name
    first = load(
        DATA / "wipson.xlsx",
        LoadSettings(store_settings=settings, collection=name, keyword_only=True),
    )
    assert first.keyword_only and first.embedded == 0 and first.points == 8
    assert first.default_mode == "keyword" and first.model == "none (keyword-only)"
    q = "KR1020200077777A"
    hits = like(
        q,
        QueryOptions(where=("출원인=주식회사 한빛에너지",)),
        key=True,
        settings=settings,
        collection=name,
    )
    assert hits.mode == "keyword" and {h.key for h in hits.hits} <= {
        "KR1020180012345A",
        "KR1020180012345B1",
        "KR1020220044444A",
    }
    found = text(
        "배터리 냉각", QueryOptions(where=("출원일>=2019",)), settings=settings, collection=name
    )
    assert found.hits and all(h.payload["출원일"] >= "2019" for h in found.hits)
    with pytest.raises(UserInputError) as err:
        like(q, QueryOptions(mode="dense"), key=True, settings=settings, collection=name)
    assert "no dense vectors" in err.value.message
    store = open_store(settings)
    try:
        manifest = store.open(name).read_manifest()
    finally:
        store.close()
    assert manifest.vectors == Vectors(dense=None, sparse="keyword") and manifest.model is None

    again = load(
        DATA / "wipson.xlsx", LoadSettings(store_settings=settings, collection=name)
    )  # still no model
    assert again.keyword_only and again.unchanged == 8

    emb = FakeEmbedder()
    later = load(
        DATA / "wipson.xlsx", LoadSettings(store_settings=settings, collection=name), embedder=emb
    )
    assert later.dense_added == 8 and later.embedded == 8 and later.updated == 0
    assert later.points == 8 and not later.keyword_only
    dense = like(
        q, QueryOptions(mode="dense", limit=3), key=True, settings=settings, collection=name
    )
    assert dense.mode == "dense" and len(dense.hits) == 3
    hybrid = text(
        "배터리", QueryOptions(mode="hybrid"), settings=settings, model=emb, collection=name
    )
    assert hybrid.hits
    store = open_store(settings)
    try:
        manifest = store.open(name).read_manifest()
    finally:
        store.close()
    assert manifest.vectors.dense == "dense"
    assert manifest.model is not None and manifest.model.name == emb.name
    unchanged = load(
        DATA / "wipson.xlsx", LoadSettings(store_settings=settings, collection=name), embedder=emb
    )
    assert unchanged.unchanged == 8 and unchanged.embedded == 0


def test_keyword_only_through_the_cli(tmp_path):
    result = CliRunner().invoke(
        ingest_cli,
        ["load", str(DATA / "lens_family.csv"), "-c", "kwcli", "--keyword-only"],
        obj=FAKE,
    )
    assert result.exit_code == 0, result.output
    assert "keyword-only: no model, no dense vectors" in result.stdout
    result = CliRunner().invoke(
        search_cli, ["like", "0", "-c", "kwcli", "--format", "json", "--limit", "2"]
    )
    assert result.exit_code == 0 and "mode keyword" in result.stderr, result.output
    result = CliRunner().invoke(search_cli, ["text", "battery", "-c", "kwcli", "--mode", "hybrid"])
    assert result.exit_code == 2 and "no dense vectors" in result.output
    info = CliRunner().invoke(ingest_cli, ["info", "-c", "kwcli"], obj=FAKE)
    assert "model       none: keyword-only" in info.stdout
    listed_ = CliRunner().invoke(ingest_cli, ["list"], obj=FAKE)
    assert "kwcli\t4 points\tnone (keyword-only)\tready" in listed_.stdout


def test_dots_and_underscores_name_the_same_field(tmp_path):
    path = tmp_path / "dots.csv"
    path.write_text("id,abstract,priority.date\n1,battery,2020-01-01\n2,motor,2021-01-01\n")
    loaded_json(str(path), "-c", "dots", "--id", "id")
    assert where_keys("dots", "1", "priority_date>=2020-06-01") == {"2"}
    assert where_keys("dots", "1", "priority.date>=2020-06-01") == {"2"}


# -- the tool's own output loads back -----------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_search_output_loads_back_with_every_value(tmp_path, suffix):
    loaded_json(str(DATA / "wipson.xlsx"), "-c", "orig")
    out = tmp_path / f"results{suffix}"
    result = CliRunner().invoke(
        search_cli, ["like", "0", "-c", "orig", "--limit", "100", "--output", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = loaded_json(str(out), "-c", "back")
    assert summary["files"][0]["exporter"] == "patentsim search results"
    assert summary["id_column"] == "key"
    before, after = payloads("orig"), payloads("back")
    assert len(after) == len(before) - 1  # the query document is not among its results
    for key, got in after.items():
        want = before[key]
        for field, value in want.items():
            if field.startswith("_"):
                continue
            back = got[field]
            if isinstance(value, list) and not isinstance(back, list):
                back = [back]  # a one-element list comes back as its element
            assert back == value, (key, field)


def test_the_files_own_dates_beat_the_exporters_order(tmp_path):
    """A Google Patents CSV (month/day) re-saved day first: a column no value decides takes
    the order the file's other date columns prove, not the exporter's."""
    path = tmp_path / "resaved.csv"
    path.write_text(
        "id;title;assignee;inventor/author;priority date;grant date;result link\n"
        "US-1;Battery;A;Ada Park;20/10/2008;03/02/2012;https://x/1\n"
        "US-2;Motor;B;Mina Cho;15/01/2018;04/05/2019;https://x/2\n"
    )
    result = ingest("load", "-q", str(path), "-c", "resaved")
    assert "dates in 'grant date': DMY (proven by the file's other date columns)" in result.stderr
    assert payloads("resaved")["US-1"]["grant date"] == "2012-02-03T00:00:00Z"


def test_the_keyword_only_benchmark_section_survives_a_full_report():
    from bench.keyword_only import BEGIN, END, keep_section

    page = "# Benchmarks\n\n## Summary\n\nrows\n\n## Scale\n\nscale\n"
    section = f"{BEGIN}\n## Keyword-only load\n\nfirst\n{END}"
    first = keep_section(page, page, section)
    assert first.index(BEGIN) < first.index("## Scale")
    rendered = keep_section(first, page)  # a full run renders the page without it: kept
    assert section in rendered and rendered.count(BEGIN) == 1
    newer = keep_section(rendered, rendered, section.replace("first", "second"))
    assert "second" in newer and "first" not in newer


def test_load_help_names_every_format_it_reads():
    from patentsim.ingest.read import FORMATS

    result = CliRunner().invoke(ingest_cli, ["load", "--help"], obj=FAKE)
    assert result.exit_code == 0, result.output
    missing = [suffix for suffix in FORMATS if suffix not in result.output]
    assert not missing, f"ingest load --help does not name {missing}"
