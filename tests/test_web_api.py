"""``search serve``'s JSON API: the CLI's answers, one-line errors, safety.

The API's ``like`` / ``text`` / ``facets`` hits must be the very objects ``search ...
--format json`` prints for the same parameters, on every backend of the behaviour suite
(embedded, the in-memory stand-in for a server, and a server in Docker where one runs).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import query_model
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings
from patentsim.web.app import create_app
from patentsim.web.service import ServedCollection

from .conftest import KO_XLSX, ROOT, slice_xlsx
from .fakes import FakeEmbedder

ROWS = 60
# The query model the fake collection names, as the library's cache keys it (name, device,
# engine, long-text mode): `search text` in the CLI and the server both find it there.
FAKE_MODEL_KEY = (FakeEmbedder.name, "auto", "torch", "truncate")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return slice_xlsx(KO_XLSX, tmp_path_factory.mktemp("src") / "ko60.xlsx", ROWS)


@pytest.fixture
def fake_model(monkeypatch):
    fake = FakeEmbedder()
    monkeypatch.setitem(query_model._EMBEDDERS, FAKE_MODEL_KEY, fake)
    return fake


@pytest.fixture
def served(settings, source, unique_name, fake_model):
    """The sample's first 60 rows on each backend, served by the application."""
    load(
        source,
        LoadSettings(store_settings=settings, collection=unique_name),
        embedder=FakeEmbedder(),
    )
    held = ServedCollection(settings, unique_name)
    yield held, settings
    held.close()


@pytest.fixture
def each_client(served):
    """A client of the application on each backend."""
    held, _ = served
    with TestClient(create_app(held)) as c:
        yield c


@pytest.fixture(scope="module")
def embedded(source, tmp_path_factory):
    """One embedded collection for the tests that are not about backends."""
    settings = StoreSettings(path=str(tmp_path_factory.mktemp("store")))
    load(source, LoadSettings(store_settings=settings, collection="p"), embedder=FakeEmbedder())
    held = ServedCollection(settings, "p", embedder=FakeEmbedder())
    yield held, settings
    held.close()


@pytest.fixture
def client(embedded):
    with TestClient(create_app(embedded[0])) as c:
        yield c


def cli_lines(settings: StoreSettings, collection: str, *args: str) -> list[dict]:
    env = {"QDRANT_PATH": settings.path, "QDRANT_URL": settings.url or None}
    if settings.api_key:
        env["QDRANT_API_KEY"] = settings.api_key
    result = CliRunner().invoke(
        search_cli, [*args, "--collection", collection, "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


CASES = [
    # (command line, API path, API parameters)
    (["like", "0", "--limit", "5"], "/api/like", {"ref": "0", "limit": 5}),
    (
        ["like", "3", "--limit", "4", "--offset", "2", "--where", "status=등록"],
        "/api/like",
        {"ref": "3", "limit": 4, "offset": 2, "where": ["status=등록"]},
    ),
    (
        ["like", "5", "--prior-art", "--group-by", "applicant", "--mode", "hybrid"],
        "/api/like",
        {"ref": "5", "prior_art": "true", "group_by": "applicant", "mode": "hybrid"},
    ),
    (
        ["like", "7", "--min-score", "0.3", "--where", "application_date>=2015", "-w", "ipc~B24B"],
        "/api/like",
        {"ref": "7", "min_score": 0.3, "where": ["application_date>=2015", "ipc~B24B"]},
    ),
    (
        ["text", "연삭 장치 측정", "--limit", "6"],
        "/api/text",
        {"q": "연삭 장치 측정", "limit": 6},
    ),
    (
        ["text", "배터리 냉각", "--mode", "keyword", "--where", "country=KR"],
        "/api/text",
        {"q": "배터리 냉각", "mode": "keyword", "where": ["country=KR"]},
    ),
    (
        ["text", "표시 장치", "--group-by", "status", "--fields", "title,applicant"],
        "/api/text",
        {"q": "표시 장치", "group_by": "status", "fields": "title,applicant"},
    ),
    (
        ["like", "2", "--collapse", "status", "--limit", "3"],
        "/api/like",
        {"ref": "2", "collapse": "status", "limit": 3},
    ),
    (
        ["text", "연삭 장치", "--collapse", "near-dup", "--offset", "1"],
        "/api/text",
        {"q": "연삭 장치", "collapse": "near-dup", "offset": 1},
    ),
    (["facets", "applicant", "--limit", "5"], "/api/facets", {"field": "applicant", "limit": 5}),
    (
        ["facets", "ipc", "--where", "status=등록"],
        "/api/facets",
        {"field": "ipc", "where": ["status=등록"]},
    ),
]


@pytest.mark.parametrize(("args", "path", "params"), CASES, ids=lambda c: str(c)[:40])
def test_api_answers_are_the_clis_json(served, each_client, args, path, params):
    held, settings = served
    expected = cli_lines(settings, held.name, *args)
    response = each_client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    got = body["counts"] if path == "/api/facets" else body["hits"]
    assert same_answers(got, expected)
    assert expected, "a case whose answer is empty proves little"


def same_answers(got: list[dict], expected: list[dict], tolerance: float = 2e-6) -> bool:
    """Equal, but for the last digit of a score and the order of hits with equal scores.
    The engines order ties as they meet them (hybrid fusion gives many), and
    qdrant-client's in-memory imitation sums in an order that moves the sixth decimal,
    both also between two runs of the same command in one process."""
    if got == expected:
        return True
    if len(got) != len(expected):
        return False
    for a, b in zip(got, expected):
        if a.get("rank") != b.get("rank"):
            return False
        if abs(a.get("score", 0) - b.get("score", 0)) > tolerance:
            return False

    def unranked(hits: list[dict]) -> list[str]:
        return sorted(json.dumps(dict(h, rank=None, score=None), sort_keys=True) for h in hits)

    def near_ties_only(a: list[dict], b: list[dict]) -> bool:
        # A hit may only move among hits whose scores are within the tolerance of its own.
        where = {h["key"]: h["score"] for h in b}
        return all(abs(where.get(h["key"], -9) - h["score"]) <= 2 * tolerance for h in a)

    return unranked(got) == unranked(expected) and near_ties_only(got, expected)


def same_bodies(got: dict, expected: dict) -> bool:
    """Two API answers equal as ``same_answers`` compares their hits."""
    rest = {k: v for k, v in got.items() if k != "hits"}
    if rest != {k: v for k, v in expected.items() if k != "hits"}:
        return False
    return same_answers(got.get("hits", []), expected.get("hits", []))


def test_like_answer_names_its_query_document_and_mode(client):
    body = client.get("/api/like", params={"ref": "0", "limit": 3}).json()
    assert body["query"]["key"] == "0" and body["query"]["row"] == 0
    assert body["query"]["title"].startswith("연삭 장치의 연삭량 측정 시스템")
    # The collection's default (measured on its ipc labels at load), as /api/info names it.
    default = client.get("/api/info").json()["default_mode"]
    assert default in ("dense", "keyword", "hybrid")
    assert body["mode"] == default and [h["rank"] for h in body["hits"]] == [1, 2, 3]
    dense = client.get("/api/like", params={"ref": "0", "limit": 3, "mode": "dense"}).json()
    assert dense["mode"] == "dense"
    assert "0" not in [h["key"] for h in body["hits"]]


def test_doc_has_every_column(client, source):
    import pandas as pd

    frame = pd.read_excel(source)
    body = client.get("/api/doc", params={"ref": "4"}).json()
    assert body["key"] == "4" and body["row"] == 4
    for column in frame.columns:
        value = frame.loc[4, column]
        if pd.isna(value):
            continue
        assert column in body["payload"], column
    assert body["payload"]["title"] == frame.loc[4, "title"]


def test_export_is_the_file_output_writes(served, each_client, tmp_path):
    held, settings = served
    env = {"QDRANT_PATH": settings.path, "QDRANT_URL": settings.url or None}
    if settings.api_key:
        env["QDRANT_API_KEY"] = settings.api_key
    # The command lines first: once the server has opened the embedded collection, this
    # process holds it (another process would be let in, this one is the holder).
    for fmt in ("csv", "xlsx"):
        args = ["like", "2", "-n", "7", "-w", "status=등록", "-c", held.name]
        result = CliRunner().invoke(
            search_cli, [*args, "-o", str(tmp_path / f"cli.{fmt}")], env=env
        )
        assert result.exit_code == 0, result.output
    for fmt in ("csv", "xlsx"):
        params = {"ref": "2", "limit": 7, "where": "status=등록", "format": fmt}
        response = each_client.get("/api/like/export", params=params)
        assert response.status_code == 200, response.text
        assert "attachment" in response.headers["content-disposition"]
        written = (tmp_path / f"cli.{fmt}").read_bytes()
        if fmt == "csv":
            assert response.content == written
        else:
            assert _xlsx_rows(response.content) == _xlsx_rows(written)
            assert len(_xlsx_rows(written)) == 8


def _xlsx_rows(data: bytes) -> list[tuple]:
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(r) for r in wb.active.iter_rows(values_only=True)]


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/api/like", {"ref": "0", "limit": "abc"}, 400, "limit"),
        ("/api/like", {"ref": "0", "limit": "0"}, 400, "limit must be at least 1"),
        ("/api/like", {}, 400, "ref"),
        ("/api/like", {"ref": "0", "mode": "fuzzy"}, 400, "mode"),
        ("/api/like", {"ref": "0", "where": "nosuchfield=1"}, 400, "unknown field 'nosuchfield'"),
        ("/api/like", {"ref": "0", "where": "application_date>=soon"}, 400, "application_date"),
        ("/api/like", {"ref": "0", "filter_json": "{not json"}, 400, "not valid JSON"),
        ("/api/like", {"ref": "0", "group_by": "nope"}, 400, "group_by: unknown field"),
        ("/api/text", {"q": "장치", "collapse": "abstract"}, 400, "'abstract' is a text field"),
        ("/api/like", {"ref": "99999"}, 404, "no document"),
        ("/api/text", {"q": "   "}, 400, "empty"),
        ("/api/facets", {"field": "abstract"}, 400, "text field"),
        ("/api/doc", {"ref": "nokey", "key": "true"}, 404, "nokey"),
        ("/api/like/export", {"ref": "0", "format": "pdf"}, 400, "format"),
        ("/api/nothing", {}, 404, "Not Found"),
    ],
)
def test_bad_parameters_get_a_one_line_json_error(client, path, params, status, words):
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "hint"}
    assert words in body["error"]
    assert "\n" not in response.text and "Traceback" not in response.text


def test_dates_answers_the_days_the_date_boxes_show(client):
    """The page's date boxes ask the server which day a >= or <= condition's value means
    (patentsim.dates.box_day): a year or month in any spelling; null where no day does."""
    from patentsim.dates import box_day

    values = {"from": "2019", "to": "2019년 2월"}
    response = client.get("/api/dates", params=values)
    assert response.json() == {"from": "2019-01-01", "to": "2019-02-28"}
    for value in ("2019-01-31T09:30:00Z", "someday", "03/04/2008"):
        body = client.get("/api/dates", params={"from": value, "to": value}).json()
        assert body == {"from": box_day(">=", value), "to": box_day("<=", value)}
        assert body["to"] is None
    assert client.get("/api/dates").json() == {"from": None, "to": None}


def test_the_server_is_read_only(client):
    for method in ("post", "put", "delete", "patch"):
        response = getattr(client, method)("/api/like?ref=0")
        assert response.status_code == 405, (method, response.text)
        assert "read-only" in response.json()["error"]


def test_concurrent_requests_give_the_sequential_answers(each_client):
    client = each_client
    requests = [("/api/like", {"ref": str(i), "limit": 5}) for i in range(12)]
    requests += [("/api/text", {"q": "장치 방법", "offset": i}) for i in range(4)]
    requests += [("/api/facets", {"field": "applicant", "where": "status=등록"})] * 4
    sequential = [client.get(p, params=q).json() for p, q in requests]
    got: list = [None] * len(requests)

    def ask(i: int) -> None:
        got[i] = client.get(requests[i][0], params=requests[i][1]).json()

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(requests))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(got) == len(sequential)
    for answer, alone in zip(got, sequential):
        assert same_bodies(answer, alone), (answer, alone)


def test_payload_html_is_returned_as_data(tmp_path):
    """The API answers with the stored characters; the page shows them as text
    (tests/test_web_browser.py)."""
    settings = StoreSettings(path=str(tmp_path / "store"))
    file = hostile_file(tmp_path / "hostile.csv")
    load(file, LoadSettings(store_settings=settings, collection="h"), embedder=FakeEmbedder())
    held = ServedCollection(settings, "h")
    try:
        with TestClient(create_app(held)) as c:
            body = c.get("/api/doc", params={"ref": "0"}).json()
            assert body["payload"]["title"] == HOSTILE[0][0]
            assert c.get("/").headers["content-security-policy"].startswith("default-src 'self'")
    finally:
        held.close()


HOSTILE = [
    ("<script>window.pwned = 1</script> 배터리", '<img src=x onerror="window.pwned=2">'),
    ("<b>bold</b> & <i>냉각</i> 장치", "ACME <svg onload=window.pwned=3>"),
    ("plain 배터리 냉각 장치", "ACME"),
    ("another 배터리 냉각 장치 \"quoted\" & 'single'", '<img src=x onerror="window.pwned=2">'),
]


def hostile_file(path: Path) -> Path:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["title", "applicant", "abstract"])
        for title, applicant in HOSTILE:
            writer.writerow([title, applicant, f"{title} 배터리 냉각 시스템의 제어 방법"])
    return path


# -- access -------------------------------------------------------------------------------------


def test_api_key_guards_every_request(embedded):
    held, _ = embedded
    with TestClient(create_app(held, api_key="s3cret")) as c:
        for path in ("/api/like?ref=0", "/", "/api/openapi.json", "/static/app.js"):
            response = c.get(path)
            assert response.status_code == 401, path
            assert "API key" in response.json()["error"]
        assert c.get("/api/like?ref=0", headers={"X-API-Key": "wrong"}).status_code == 401
        assert c.get("/api/like?ref=0", headers={"X-API-Key": "s3cret"}).status_code == 200
        bearer = {"Authorization": "Bearer s3cret"}
        assert c.get("/api/info", headers=bearer).status_code == 200
        # Opening the page with ?key= sets a cookie and drops the key from the address.
        opened = c.get("/?key=s3cret", follow_redirects=False)
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        assert c.get("/api/info").status_code == 200


def test_collapse_lists_one_hit_per_family_with_its_members(client):
    body = client.get("/api/like", params={"ref": "0", "collapse": "status"}).json()
    statuses = [h["payload"].get("status") for h in body["hits"]]
    assert len(statuses) == len(set(statuses)) >= 2
    assert "'status'" in body["collapse"]
    for hit in body["hits"]:
        assert hit["family"]["by"] == "status"
        assert hit["family"]["size"] == 1 + len(hit["family"]["members"])
    exported = client.get("/api/like/export", params={"ref": "0", "collapse": "status"})
    assert exported.status_code == 200, exported.text


def test_openapi_describes_the_routes_in_the_clis_words(client):
    spec = client.get("/api/openapi.json").json()
    like = spec["paths"]["/api/like"]["get"]
    names = {p["name"] for p in like["parameters"]}
    assert {"ref", "limit", "offset", "where", "mode", "prior_art", "group_by", "min_score"} <= (
        names
    )
    assert "collapse" in names
    assert {"/api/text", "/api/facets", "/api/doc", "/api/info"} <= set(spec["paths"])


def test_query_parameters_reach_every_route_through_one_dependency():
    """No route reads where/filter_json/limit itself: like and text take the QueryOptions
    dependency, map and facets the filter one (facets adds its limit), with the parameters
    in the same order as before."""
    from fastapi.routing import APIRoute

    app = create_app(None)  # type: ignore[arg-type]  # routes only; nothing is served
    own = {
        route.path: [p.name for p in route.dependant.query_params]
        for route in app.routes
        if isinstance(route, APIRoute)
    }
    assert all(not {"where", "filter_json"} & set(names) for names in own.values()), own
    assert own["/api/facets"] == ["field"]
    spec = app.openapi()["paths"]["/api/facets"]["get"]["parameters"]
    assert [p["name"] for p in spec] == ["field", "where", "filter_json", "limit"]
    assert spec[3]["schema"]["default"] == 10


def test_non_loopback_host_without_key_is_refused(tmp_path):
    result = CliRunner().invoke(
        search_cli, ["serve", "--host", "0.0.0.0", "--path", str(tmp_path)], env={}
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-2].startswith("Error: --host 0.0.0.0 serves the collection to other machines")
    assert "--api-key" in result.output and "Traceback" not in result.output


def test_serve_names_a_missing_collection_in_one_line(tmp_path):
    result = CliRunner().invoke(
        search_cli, ["serve", "--path", str(tmp_path), "-c", "nothing", "--port", "0"], env={}
    )
    assert result.exit_code == 1, result.output
    assert "no collection 'nothing'" in result.output and "Traceback" not in result.output


def test_other_commands_do_not_import_the_web_stack(tmp_path, source):
    settings = StoreSettings(path=str(tmp_path / "store"))
    load(source, LoadSettings(store_settings=settings, collection="p"), embedder=FakeEmbedder())
    code = (
        "import sys\n"
        "from patentsim.search.cli import cli\n"
        "try:\n"
        "    cli(['like', '0', '-n', '1', '--path', sys.argv[1]])\n"
        "except SystemExit:\n"
        "    pass\n"
        "web = ('fastapi', 'starlette', 'uvicorn', 'plotly', 'pydantic', 'patentsim.web')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in web or "
        "m.startswith('patentsim.web')), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, settings.path],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert "연삭" in done.stdout, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"


# -- the map and why similar --------------------------------------------------------------------


def test_map_points_are_search_maps(embedded, client):
    held, settings = embedded
    env = {"QDRANT_PATH": settings.path}
    # The command first: once the server has opened the collection, this process holds it.
    held.release()
    result = CliRunner().invoke(
        search_cli, ["map", "--color", "applicant", "-c", "p", "--format", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    expected = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    body = client.get("/api/map", params={"color": "applicant"}).json()
    assert [p["key"] for p in body["points"]] == [p["key"] for p in expected]
    assert body["points"] == [
        {k: p[k] for k in ("id", "key", "row", "title", "x", "y", "color", "cluster")}
        for p in body["points"]
    ]
    assert len(body["points"]) == ROWS and body["color_field"] == "applicant"
    for got, want in zip(body["points"], expected):
        assert (got["x"], got["y"], got["color"]) == (want["x"], want["y"], want["color"])


def test_map_takes_the_filter_parameters_and_draws_the_rows_pandas_selects(
    embedded, client, source
):
    import pandas as pd

    frame = pd.read_excel(source)
    dates = pd.to_datetime(frame["application_date"].astype(str), format="%Y%m%d")
    wanted = frame.index[(frame["status"] == "등록") & (dates >= "2023-06-01")]
    params = {"where": ["status=등록", "application_date>=2023-06-01"], "color": "status"}
    body = client.get("/api/map", params=params).json()
    assert 0 < len(wanted) < ROWS
    assert sorted(p["row"] for p in body["points"]) == sorted(int(i) for i in wanted)
    assert (body["total"], body["filtered"], body["where"]) == (ROWS, True, params["where"])
    assert body["legend"] == [{"value": "등록", "count": len(wanted)}]
    whole = {p["key"]: (p["x"], p["y"]) for p in client.get("/api/map").json()["points"]}
    assert all(whole[p["key"]] == (p["x"], p["y"]) for p in body["points"])
    raw = json.dumps({"must": [{"key": "status", "match": {"value": "거절"}}]})
    rejected = client.get("/api/map", params={"filter_json": raw}).json()
    assert sorted(p["row"] for p in rejected["points"]) == sorted(
        int(i) for i in frame.index[frame["status"] == "거절"]
    )
    # the export draws the same subset
    csv = client.get("/api/map/export", params=dict(params, format="csv"))
    assert csv.status_code == 200, csv.text
    assert len(csv.text.strip().splitlines()) == len(wanted) + 1
    # the CLI's map of the same filter
    held, settings = embedded
    held.release()
    result = CliRunner().invoke(
        search_cli,
        ["map", "-c", "p", "--color", "status", "--format", "json"]
        + [a for w in params["where"] for a in ("--where", w)],
        env={"QDRANT_PATH": settings.path},
    )
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == body["points"]


def test_map_of_a_filter_selecting_nothing_is_a_one_line_error(client):
    response = client.get("/api/map", params={"where": "status=없음"})
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body["error"] == (
        "no document of 'p' matches where 'status=없음': the map has nothing to draw"
    )
    assert "\n" not in body["error"] and "`" not in body.get("hint", "")


def test_map_export_is_an_offline_file(client):
    response = client.get("/api/map/export", params={"format": "html", "color": "status"})
    assert response.status_code == 200, response.text
    page = response.text
    assert "Plotly.newPlot" in page or "plotly" in page.lower()
    # plotly.js inlined: no script or style is fetched from anywhere.
    assert not re.search(r"<script[^>]*\ssrc=", page) and not re.search(r"<link[^>]*href=", page)
    bad = client.get("/api/map/export", params={"format": "pdf"})
    assert bad.status_code == 400 and "unknown file type" in bad.json()["error"]


def test_explain_is_the_librarys_shared_terms(embedded, client):
    from patentsim.search.explain import shared_terms

    held, _ = embedded
    body = client.get("/api/explain", params={"ref": "5", "query": "0"}).json()
    expected = held.ask(lambda s: shared_terms("5", "0", collection="p", store=s)).value
    assert body["terms"] == json.loads(json.dumps(expected.to_dict()["terms"]))
    assert body["terms"] and body["hit_spans"]["abstract"]
    text = client.get("/api/explain", params={"ref": "5", "q": "연삭 장치의 측정"}).json()
    assert text["query_spans"]["text"] and text["query_key"] is None
    both = client.get("/api/explain", params={"ref": "5"})
    assert both.status_code == 400 and "query" in both.json()["error"]


def test_loopback_hosts_and_the_dashboard_link():
    from patentsim.web.server import dashboard_url, is_loopback, url_of

    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "192.168.1.4", "example.org", "::"))
    assert url_of("::1", 8000) == "http://[::1]:8000/"
    server = StoreSettings(url="http://qdrant.local:6333/")
    assert dashboard_url(server, "demo") == "http://qdrant.local:6333/dashboard#/collections/demo"
    assert dashboard_url(StoreSettings(path="x"), "demo") is None
    assert dashboard_url(StoreSettings(url=":memory:"), "demo") is None


def test_serve_help_names_its_options():
    result = CliRunner().invoke(search_cli, ["serve", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--host", "--port", "--api-key", "--collection", "--qdrant-api-key", "--path"):
        assert option in result.output
    assert "search serve --host 0.0.0.0 --api-key" in result.output
