"""Real exports load as they come (issue 9).

Each known exporter's fixture (tests/data/, own rows in the exporter's header layout) loads
with no options, and ``--where`` on a column with a space in its name, on a list column
and on a date column returns the rows pandas selects.  Also: types decided from the whole
file, several files in one collection with ``--prune`` limited to the files given, header
detection, slash dates, oversized cells, and the raw exports in ../shared/data/sources.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings, open_store

from .conftest import SHARED_DATA
from .fakes import FakeEmbedder

# The command line loads with the fake embedder (click's obj: ingest.cli.Seams).
FAKE = Seams(embedder=FakeEmbedder())

DATA = Path(__file__).resolve().parent / "data"
SOURCES = SHARED_DATA / "sources"
PATENTS_EN = SHARED_DATA / "patents_en.csv"


def ingest(*args: str):
    result = CliRunner().invoke(ingest_cli, list(args), obj=FAKE)
    assert result.exit_code == 0, result.output
    return result


def loaded_json(*args: str) -> dict:
    return json.loads(ingest("load", "-q", "--format", "json", *args).stdout)


def where_keys(collection: str, query: str, *where: str) -> set[str]:
    """Keys ``search like QUERY --where ...`` returns (all of them; a like search leaves its
    query document out, so the expected sets leave it out too)."""
    args = ["like", query, "-c", collection, "--limit", "100", "--format", "json", "--key"]
    for w in where:
        args += ["--where", w]
    result = CliRunner().invoke(search_cli, args)
    assert result.exit_code == 0, result.output
    return {json.loads(line)["key"] for line in result.stdout.splitlines() if line.strip()}


def selected(df: pd.DataFrame, mask: pd.Series, key: str, query: str) -> set[str]:
    return {str(k) for k in df.loc[mask, key]} - {query}


def payloads(collection: str) -> dict[str, dict]:
    store = open_store(StoreSettings.resolve())
    try:
        return {p.payload["_key"]: p.payload for p in store.open(collection).scroll()}
    finally:
        store.close()


def manifest(collection: str) -> dict:
    """The collection's manifest as stored."""
    store = open_store(StoreSettings.resolve())
    try:
        return store.open(collection).read_manifest().to_dict()
    finally:
        store.close()


def listed(cell: object, sep: str) -> list[str]:
    return [] if pd.isna(cell) else [s.strip() for s in str(cell).split(sep) if s.strip()]


# -- the exporters, with no options ---------------------------------------------------------


def test_google_patents_csv_loads_with_no_options():
    summary = loaded_json(str(DATA / "google_patents.csv"), "-c", "gp")
    assert summary["id_column"] == "id" and summary["text_columns"] == ["title"]
    (f,) = summary["files"]
    assert f["header_row"] == 2 and f["exporter"] == "Google Patents CSV"
    assert f["above_header"] == [
        "search URL:,https://patents.google.com/?q=(battery+thermal+management)&oq=bat..."
    ]
    types = {c["column"]: c["type"] for c in summary["columns"]}
    assert types["grant date"] == "datetime" and types["priority date"] == "datetime"
    assert types["inventor/author"] == "keyword[]"
    got = payloads("gp")["US-7451234-B2"]
    assert got["priority date"] == "2008-10-20T00:00:00Z"  # M/D/YYYY
    assert got["inventor/author"] == ["Ada Park", "Louis Romero"]

    df = pd.read_csv(DATA / "google_patents.csv", skiprows=1)
    q = "US-9012345-B1"
    grant = pd.to_datetime(df["grant date"], format="%m/%d/%Y")
    assert where_keys("gp", q, "grant date>=2011") == selected(df, grant >= "2011-01-01", "id", q)
    assert where_keys("gp", q, '"grant date" missing') == selected(df, grant.isna(), "id", q)
    inventors = df["inventor/author"].map(lambda c: listed(c, ", "))
    assert where_keys("gp", q, "inventor/author=Mina Cho") == selected(
        df, inventors.map(lambda x: "Mina Cho" in x), "id", q
    )
    assert where_keys("gp", q, "filing/creation date<2015-01-01") == selected(
        df, pd.to_datetime(df["filing/creation date"], format="%m/%d/%Y") < "2015-01-01", "id", q
    )
    assert len(where_keys("gp", q, "inventor/author=Mina Cho")) == 2


def test_kipris_style_excel_loads_with_no_options():
    result = ingest("load", "-q", str(DATA / "kipris_export.xlsx"), "-c", "kr")
    err = result.stderr
    assert "header row 8 (found); recognised as KIPRIS-style export" in err
    assert "skipped above the header: 검색식,TAC=[배터리*냉각]+[배터리*열관리]" in err
    assert "key: '출원번호'; text: '요약'" in err
    m = manifest("kr")
    assert m["id_column"] == "출원번호"
    assert m["fields"]["출원일자"]["type"] == "datetime"
    assert m["fields"]["등록일자"]["type"] == "datetime"
    assert m["fields"]["IPC분류"]["list"] is True and m["fields"]["CPC분류"]["list"] is True
    got = payloads("kr")["1020230003245"]
    assert got["출원일자"] == "2023-01-10T00:00:00Z" and got["등록일자"] == "2024-03-05T00:00:00Z"
    assert got["IPC분류"] == ["H01M 10/613", "H01M 10/6556"]

    df = pd.read_excel(DATA / "kipris_export.xlsx", header=7, dtype={"출원번호": str})
    q = "1020190100688"
    dates = pd.to_datetime(df["출원일자"], format="%Y.%m.%d")
    assert where_keys("kr", q, "출원일자>=2021-01-01") == selected(
        df, dates >= "2021-01-01", "출원번호", q
    )
    ipc = df["IPC분류"].map(lambda c: listed(c, "|"))
    assert where_keys("kr", q, "IPC분류=H01M 10/613") == selected(
        df, ipc.map(lambda x: "H01M 10/613" in x), "출원번호", q
    )
    assert where_keys("kr", q, "등록일자<2023") == selected(
        df, pd.to_datetime(df["등록일자"]) < "2023-01-01", "출원번호", q
    )


def test_patentsview_table_loads_with_no_options():
    summary = loaded_json(str(DATA / "patentsview.csv"), "-c", "pv")
    assert summary["id_column"] == "patent_number"
    assert summary["text_columns"] == ["patent_abstract"]
    assert summary["files"][0]["exporter"] == "PatentsView table"
    df = pd.read_csv(DATA / "patentsview.csv")
    q = "5759113"
    assert where_keys("pv", q, "patent_date>=2011") == selected(
        df, pd.to_datetime(df["patent_date"]) >= "2011-01-01", "patent_number", q
    )


def test_lens_csv_loads_with_no_options():
    summary = loaded_json(str(DATA / "lens.csv"), "-c", "lens")
    assert summary["id_column"] == "Lens ID" and summary["text_columns"] == ["Abstract"]
    types = {c["column"]: c["type"] for c in summary["columns"]}
    assert types["CPC Classifications"] == "keyword[]"
    assert types["Publication Date"] == "datetime"
    assert types["Publication Year"] == "integer" and types["Has Full Text"] == "bool"
    got = payloads("lens")["180-007-662-914-01Z"]
    assert got["Inventors"] == ["MUELLER ANNA", "SCHMIDT JONAS", "WEBER LEA"]
    assert got["NPL Resolved Citation Count"] == 0

    df = pd.read_csv(DATA / "lens.csv")
    q = "055-901-348-227-12W"
    cpc = df["CPC Classifications"].map(lambda c: listed(c, ";;"))
    assert where_keys("lens", q, "CPC Classifications=G06N3/08") == selected(
        df, cpc.map(lambda x: "G06N3/08" in x), "Lens ID", q
    )
    assert len(where_keys("lens", q, '"CPC Classifications"=G06N3/08')) == 2
    assert where_keys("lens", q, "Publication Date>=2020-01-01") == selected(
        df, pd.to_datetime(df["Publication Date"]) >= "2020-01-01", "Lens ID", q
    )
    assert where_keys("lens", q, "Earliest Priority Date<2018-06", "Jurisdiction=US|EP") == (
        selected(
            df,
            (pd.to_datetime(df["Earliest Priority Date"]) < "2018-06-01")
            & df["Jurisdiction"].isin(["US", "EP"]),
            "Lens ID",
            q,
        )
    )


def test_an_edited_spreadsheet_keeps_its_column_names():
    """Saved from pandas (an unnamed index column), names with spaces, a slash, parentheses,
    a dot and a repeated name: every one is a payload key and a --where/--fields name."""
    summary = loaded_json(str(DATA / "edited.xlsx"), "-c", "ed", "--id", "app.no")
    assert summary["files"][0]["renamed"] == {"출원인.1": "출원인"}
    got = payloads("ed")["10-2023-0003245"]
    assert got["Unnamed: 0"] == 0
    assert got["발명의 명칭"] == "배터리 모듈의 냉각 장치"
    assert got["filing/creation date"] == "2023-01-10T00:00:00Z"
    assert got["IPC (main)"] == ["H01M 10/613"]
    assert got["app.no"] == "10-2023-0003245" and got["출원인.1"] == "한빛"
    q = "10-2019-0100688"
    assert where_keys("ed", q, '"발명의 명칭"~배터리') == {"10-2023-0003245", "10-2022-0062084"}
    assert where_keys("ed", q, "발명의 명칭~배터리", "priority date<2022") == {"10-2022-0062084"}
    assert where_keys("ed", q, "IPC (main)=B60L 58/26") == {"10-2022-0062084"}
    assert where_keys("ed", q, "Unnamed: 0>=1") == {"10-2022-0062084"}
    result = CliRunner().invoke(
        search_cli,
        [
            "like",
            q,
            "-c",
            "ed",
            "--key",
            "--format",
            "json",
            "--limit",
            "1",
            "--fields",
            "발명의 명칭,filing/creation date,app.no",
        ],
    )
    assert result.exit_code == 0, result.output
    hit = json.loads(result.stdout.splitlines()[0])
    assert set(hit["payload"]) == {"발명의 명칭", "filing/creation date", "app.no"}


# -- types from the whole file ----------------------------------------------------------------


def test_columns_empty_in_the_first_2000_rows_are_typed_by_the_rest(tmp_path):
    path = tmp_path / "late.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["doc_id", "abstract", "cpc", "grant_date", "claims"])
        for i in range(2500):
            late = i >= 2100
            w.writerow(
                [
                    f"D{i}",
                    f"battery cell number {i}",
                    f"G06T15/{i % 7}|H01M10/{i % 3}" if late else "",
                    f"20{10 + i % 10}-0{1 + i % 9}-1{i % 10}" if late else "",
                    str(i % 40) if late else "",
                ]
            )
    summary = loaded_json(str(path), "-c", "late", "--id", "doc_id")
    types = {c["column"]: c["type"] for c in summary["columns"]}
    assert types == {
        "doc_id": "keyword",
        "abstract": "text",
        "cpc": "keyword[]",
        "grant_date": "datetime",
        "claims": "integer",
    }
    df = pd.read_csv(path, dtype=str)
    cpc = df["cpc"].map(lambda c: listed(c, "|"))
    q = "D0"
    assert where_keys("late", q, "cpc=G06T15/5") == selected(
        df, cpc.map(lambda x: "G06T15/5" in x), "doc_id", q
    )
    assert where_keys("late", q, "grant_date>=2019") == selected(
        df, pd.to_datetime(df["grant_date"]) >= "2019-01-01", "doc_id", q
    )
    assert where_keys("late", q, "claims>37") == selected(
        df, pd.to_numeric(df["claims"]) > 37, "doc_id", q
    )


# -- several files ---------------------------------------------------------------------------


def _parts(tmp_path: Path, name: str, ids: range) -> Path:
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["출원번호", "요약", "출원일자"])
        for i in ids:
            w.writerow([f"10{i:05d}", f"배터리 냉각 장치 {i}", f"2020.01.{1 + i % 28:02d}"])
    return path


def test_two_files_then_one_again_with_prune_keeps_the_others(tmp_path):
    a = _parts(tmp_path, "a.csv", range(0, 6))
    b = _parts(tmp_path, "b.csv", range(6, 10))
    summary = loaded_json(str(a), str(b), "-c", "both", "--id", "출원번호")
    assert summary["points"] == 10 and [f["rows"] for f in summary["files"]] == [6, 4]
    files = {k: p["_file"] for k, p in payloads("both").items()}
    assert files["1000000"] == "a.csv" and files["1000009"] == "b.csv"
    assert set(manifest("both")["sources"]) == {str(a.resolve()), str(b.resolve())}

    _parts(tmp_path, "a.csv", range(0, 4))  # a.csv lost two rows
    again = loaded_json(str(a), "-c", "both", "--prune")
    assert again["pruned"] == 2 and again["points"] == 8 and again["embedded"] == 0
    assert sorted(payloads("both")) == [f"10{i:05d}" for i in (0, 1, 2, 3, 6, 7, 8, 9)]
    q = "1000006"
    assert where_keys("both", q, "_file=b.csv") == {"1000007", "1000008", "1000009"}
    facets = CliRunner().invoke(search_cli, ["facets", "_file", "-c", "both", "--format", "json"])
    assert facets.exit_code == 0, facets.output
    assert [json.loads(line) for line in facets.stdout.splitlines()] == [
        {"value": "a.csv", "count": 4},
        {"value": "b.csv", "count": 4},
    ]
    info = ingest("info", "-c", "both")
    assert "files       2 (field _file):" in info.stdout
    assert f"  {b.resolve()}: 4 rows, header row 1" in info.stdout


def test_a_folder_and_a_glob_load_every_file_in_them(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    _parts(folder, "part1.csv", range(0, 3))
    _parts(folder, "part2.csv", range(3, 5))
    (folder / "~$part1.xlsx").write_bytes(b"lock file of an open workbook")
    summary = loaded_json(str(folder), "--id", "출원번호")
    assert summary["collection"] == "exports" and summary["points"] == 5
    summary = loaded_json(str(folder / "part*.csv"), "-c", "globbed", "--id", "출원번호")
    assert [Path(f["file"]).name for f in summary["files"]] == ["part1.csv", "part2.csv"]


# -- headers, dates, cells --------------------------------------------------------------------


def test_header_row_given_and_found(tmp_path):
    path = tmp_path / "above.csv"
    path.write_text(
        "Patent list,exported 2024-05-10\n\nnote,see below\n"
        "id,abstract,application date\n1,battery,2020-01-02\n2,cooling,2021-02-03\n",
        encoding="utf-8",
    )
    summary = loaded_json(str(path), "-c", "above", "--id", "id")
    f = summary["files"][0]
    assert f["header_row"] == 4 and f["header_given"] is False
    assert f["above_header"] == ["Patent list,exported 2024-05-10", "note,see below"]
    assert f["columns"] == ["id", "abstract", "application date"]
    summary = loaded_json(str(path), "-c", "given", "--id", "id", "--header-row", "4")
    assert summary["files"][0]["header_given"] is True and summary["points"] == 2


def test_slash_dates_are_read_in_the_order_their_values_prove(tmp_path):
    path = tmp_path / "slash.csv"
    path.write_text(
        "id,abstract,us date,eu date,unclear date\n"
        "1,a,10/20/2008,20/10/2008,3/4/2010\n2,b,1/2/2009,1/2/2009,5/6/2011\n",
        encoding="utf-8",
    )
    result = ingest("load", "-q", str(path), "-c", "slash", "--id", "id")
    assert "'unclear date' holds slash dates such as '3/4/2010'" in result.stderr
    got = payloads("slash")
    assert got["2"]["us date"] == "2009-01-02T00:00:00Z"  # month/day, proven by 10/20/2008
    assert got["2"]["eu date"] == "2009-02-01T00:00:00Z"  # day/month, proven by 20/10/2008
    assert got["1"]["unclear date"] == "3/4/2010"  # no value decides: kept as text
    ingest(
        "load", "-q", str(path), "-c", "slash2", "--id", "id", "--date-format", "unclear date:DMY"
    )
    assert payloads("slash2")["1"]["unclear date"] == "2010-04-03T00:00:00Z"


def test_other_date_forms_and_list_separators(tmp_path):
    path = tmp_path / "forms.csv"
    path.write_text(
        "id,abstract,filing_date,pub_date,codes,names\n"
        "1,a,44936,2023.01.10,A01B 1/00;;A01B 3/00,Kim; Lee\n"
        "2,b,20230111,2023. 01. 11,A01C 5/00,Park; Choi; Han\n",
        encoding="utf-8",
    )
    ingest("load", "-q", str(path), "-c", "forms", "--id", "id", "--list", "names:; ")
    got = payloads("forms")
    assert got["1"]["filing_date"] == "2023-01-10T00:00:00Z"  # an Excel serial number
    assert got["2"]["filing_date"] == "2023-01-11T00:00:00Z"
    assert got["2"]["pub_date"] == "2023-01-11T00:00:00Z"
    assert got["1"]["codes"] == ["A01B 1/00", "A01B 3/00"]  # ';;' found in the column
    assert got["2"]["names"] == ["Park", "Choi", "Han"]


def test_an_oversized_cell_loads_truncated_and_is_listed(tmp_path):
    from patentsim.ingest.read import MAX_CELL_CHARS

    path = tmp_path / "big.csv"
    path.write_text(
        "id,abstract\n1," + "x" * (MAX_CELL_CHARS + 5000) + "\n2,small\n", encoding="utf-8"
    )
    result = ingest("load", "-q", str(path), "-c", "big", "--id", "id")
    assert (
        f"row 0, column 'abstract': a cell of {MAX_CELL_CHARS + 5000:,} characters, "
        f"stored truncated to its first {MAX_CELL_CHARS:,}"
    ) in result.stderr
    assert len(payloads("big")["1"]["abstract"]) == MAX_CELL_CHARS


# -- the raw exports in ../shared/data ---------------------------------------------------------

needs_sources = pytest.mark.skipif(
    not SOURCES.is_dir(), reason=f"{SOURCES} not found (../shared/data/sources)"
)


@needs_sources
@pytest.mark.parametrize(
    ("path", "key", "text", "header_row"),
    [
        (
            "WillKoehrsen__recurrent-neural-networks/data/old/patent_search/"
            "gp-search-deep-learning.csv",
            "id",
            "title",
            2,
        ),
        ("Daniela312__Crawling_Patents_from_KIPRIS/Shackle.xlsx", "출원번호", "요약", 1),
        (
            "moksu27__Like_Lion/Pet_industry_prediction_streamlit/data/kipris.csv",
            "출원번호",
            "발명의명칭",
            1,
        ),
        (
            "WillKoehrsen__recurrent-neural-networks/data/baseball_patent_query.csv",
            "patent_number",
            "patent_abstract",
            1,
        ),
    ],
)
def test_raw_exports_are_planned_with_no_options(path, key, text, header_row):
    """The validation pass and plan over real exports (no embedding: that is the slow part)."""
    from patentsim.ingest.pipeline import _plan
    from patentsim.ingest.read import open_table

    table = open_table(SOURCES / path)
    plan, _, res = _plan([table], None, (), None, (), (), (), "error")
    assert (plan.id_column, plan.text_columns, table.header_row) == (key, [text], header_row)
    assert sum(len(w) for w in res.winners) > 100


@pytest.mark.skipif(not PATENTS_EN.is_file(), reason=f"{PATENTS_EN} not found (../shared/data)")
def test_patents_en_cpc_and_grant_date_are_typed_from_every_row():
    """cpc is empty in the first 1,000 rows of patents_en.csv; its 5,133 values are lists."""
    from patentsim.ingest.pipeline import _plan
    from patentsim.ingest.read import open_table

    plan, scan, _ = _plan([open_table(PATENTS_EN)], None, (), None, (), (), (), "error")
    assert plan.list_seps["cpc"] == "|" and scan.profiles["cpc"].values == 5133
    assert {"grant_date", "filing_date", "publication_date"} <= plan.date_columns


# -- the smaller fixes ------------------------------------------------------------------------


class _Torch:
    """What ``check_device`` asks of torch, without a GPU."""

    def __init__(self, cuda_build: bool, gpus: int) -> None:
        self.version = type("V", (), {"cuda": "12.4" if cuda_build else None})()
        self.cuda = type("C", (), {"is_available": lambda: gpus > 0, "device_count": lambda: gpus})
        self.backends = type("B", (), {"mps": None})()


@pytest.mark.parametrize(
    ("device", "cuda_build", "gpus", "message"),
    [
        ("cuda", False, 0, "--device cuda: this torch is built without CUDA"),
        ("cuda:0", True, 0, "--device cuda:0: no CUDA GPU is visible"),
        ("cuda:1", True, 1, "--device cuda:1: there is 1 CUDA GPU (cuda:0 to cuda:0)"),
        ("mps", False, 0, "--device mps: Apple's MPS is not available here"),
    ],
)
def test_a_device_that_is_not_there_is_a_clear_error(device, cuda_build, gpus, message):
    from patentsim.embed.devices import BadDevice, check_device

    with pytest.raises(BadDevice) as err:
        check_device(device, _Torch(cuda_build, gpus))
    assert err.value.message == message
    check_device("cuda:0", _Torch(True, 1))  # there: no error


def test_ingest_device_cuda_without_cuda_exits_2(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    path = tmp_path / "one.csv"
    path.write_text("id,abstract\n1,battery cooling\n", encoding="utf-8")
    result = CliRunner().invoke(
        ingest_cli, ["load", str(path), "--model", "minilm", "--device", "cuda", "-q"]
    )
    assert result.exit_code == 2, result.output
    assert "Error: --device cuda: " in result.output and "Traceback" not in result.output


def test_output_into_a_missing_folder_leaves_no_traceback(tmp_path):
    import subprocess
    import sys

    loaded_json(str(DATA / "patentsview.csv"), "-c", "pv")
    out = tmp_path / "missing" / "dir" / "out.xlsx"
    code = (
        "import sys; from patentsim.search.cli import cli; "
        f"sys.argv = ['search', 'like', '0', '-c', 'pv', '--output', {str(out)!r}]; cli()"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    # Checked before the query runs (issue 28): the folder is named, with what to do.
    assert f"Error: --output {out}: the folder {out.parent} does not exist" in proc.stderr
    assert "hint: create it first" in proc.stderr
    assert not out.parent.exists()
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_column_names_with_spaces_work_on_every_backend(settings, unique_name):
    """The same load and the same --where on the embedded store, on qdrant-client's
    in-memory imitation of a server and (where Docker runs) on a real server: both read
    field names as JSON paths, where a space or a slash must be quoted."""
    from patentsim.search import QueryOptions, like

    name = unique_name
    load(
        DATA / "edited.xlsx",
        LoadSettings(store_settings=settings, collection=name, id_column="app.no"),
        embedder=FakeEmbedder(),
    )
    q = "10-2019-0100688"

    def keys(*where: str) -> set[str]:
        res = like(
            q, QueryOptions(where=where, limit=10), key=True, settings=settings, collection=name
        )
        return {h.key for h in res.hits}

    assert keys("발명의 명칭~배터리") == {"10-2023-0003245", "10-2022-0062084"}
    assert keys("IPC (main)=B60L 58/26") == {"10-2022-0062084"}
    assert keys("filing/creation date>=2023") == {"10-2023-0003245"}
    assert keys("Unnamed: 0<1", "priority date exists") == {"10-2023-0003245"}
    assert keys("출원인.1=현대") == {"10-2022-0062084"}
