"""The page in a real browser (headless Chromium through Playwright; see tests/browser.py).

A collection of the test fixtures (the Korean sample's first 60 rows, fake embeddings) is
served in this process; what the page shows is checked against the library's answers
and against pandas on the fixture file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session
from patentsim.store import StoreSettings

from .browser import ARGS, chromium_path, screenshot_folder, skip_or_fail
from .conftest import KO_XLSX, slice_xlsx
from .fakes import FakeEmbedder
from .test_web_api import HOSTILE, hostile_file

ROWS = 60
WAIT_MS = 20_000
# The first map of a collection is computed (UMAP where umap-learn is installed: seconds to
# minutes on a busy 2-core machine, numba compiling it first), later ones come from the cache.
MAP_WAIT_MS = 240_000


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        skip_or_fail("no Chromium found (apt-get install chromium, or set CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=path, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return screenshot_folder(tmp_path_factory)


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    return slice_xlsx(KO_XLSX, tmp_path_factory.mktemp("src") / "ko60.xlsx", ROWS)


@pytest.fixture(scope="module")
def site(source, tmp_path_factory) -> Iterator[Any]:
    from patentsim.web.server import start

    settings = StoreSettings(path=str(tmp_path_factory.mktemp("store")))
    load(
        source, LoadSettings(store_settings=settings, collection="patents"), embedder=FakeEmbedder()
    )
    running = start(settings, "patents", embedder=FakeEmbedder())
    yield running
    running.stop()


@pytest.fixture
def page(chromium) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1400, "height": 950}, locale="ko-KR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    yield page
    context.close()
    assert not errors, errors


def settled(page: Any, action: Any) -> None:
    """Do ``action`` and wait until the page has drawn everything it asked for."""
    before = page.evaluate("document.body.dataset.ready || ''")
    action()
    page.wait_for_function(
        "b => document.body.dataset.ready && document.body.dataset.ready !== b",
        arg=before,
        timeout=WAIT_MS,
    )


def open_page(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("body[data-ready]", timeout=WAIT_MS)


def shown_keys(page: Any) -> list[str]:
    return page.eval_on_selector_all("#hits tbody tr", "rows => rows.map(r => r.dataset.key)")


def library(question: str, first: str, options: QueryOptions, *, site: Any, **kwargs: Any) -> Any:
    """The library's answer (``Session.like`` or ``Session.text``), asked on the server's
    own open store."""
    model = FakeEmbedder()
    return site.served.ask(
        lambda store: getattr(Session(store=store, collection="patents", model=model), question)(
            first, options, **kwargs
        )
    ).value


def test_a_korean_query_shows_the_librarys_results(page, site, shots):
    open_page(page, site.url)
    page.fill("#q", "연삭 장치 측정")
    settled(page, lambda: page.press("#q", "Enter"))
    expected = library("text", "연삭 장치 측정", QueryOptions(limit=20), site=site)
    assert shown_keys(page) == [h.key for h in expected.hits]
    titles = page.eval_on_selector_all("#hits td.title", "cells => cells.map(c => c.textContent)")
    assert titles[0] == expected.hits[0].payload["title"]
    assert any("연삭" in t for t in titles)
    # The classes column is the field /api/info names (columns.classes_column): ipc here.
    classes = page.eval_on_selector_all(
        "#hits td.classes", "cells => cells.map(c => c.textContent)"
    )
    assert expected.hits[0].payload["ipc"][0] in classes[0]
    assert "q=" in page.url
    page.screenshot(path=str(shots / "web-search.png"))


def test_a_facet_click_narrows_the_list_to_the_rows_pandas_selects(page, site, source, shots):
    import pandas as pd

    from patentsim.store.names import display_name, name_key

    frame = pd.read_excel(source)
    # Applicants are counted as parties: their spellings as one name (store/names.py), shown
    # by the most frequent spelling's display name.
    keys = frame["applicant"].map(name_key, na_action="ignore")
    counts = keys.value_counts()

    def one_spelling_leads(key: str) -> bool:
        spellings = frame.loc[keys == key, "applicant"].value_counts().to_list()
        return len(spellings) == 1 or spellings[0] > spellings[1]

    key = next(
        k for k, n in counts.items() if 3 <= n <= 8 and k != keys.loc[0] and one_spelling_leads(k)
    )
    value = display_name(frame.loc[keys == key, "applicant"].value_counts().index[0])
    open_page(page, site.url + "?like=0&limit=100")
    assert len(shown_keys(page)) == ROWS - 1
    button = page.locator(f'button.facet[data-field="applicant"][data-value="{value}"]')
    assert button.locator(".count").inner_text() == str(counts[key])
    settled(page, button.click)
    expected = {str(i) for i in frame.index[keys == key]} - {"0"}
    assert sorted(shown_keys(page), key=int) == sorted(expected, key=int)
    chips = page.eval_on_selector_all("#chips .chip", "cs => cs.map(c => c.firstChild.data)")
    assert chips == [f"applicant={value}"]
    page.screenshot(path=str(shots / "web-facet.png"))


def test_a_document_shows_every_column_and_its_neighbours(page, site, source, shots):
    import pandas as pd

    frame = pd.read_excel(source)
    open_page(page, site.url + "?like=0")
    first = shown_keys(page)[0]
    settled(page, lambda: page.click(f'#hits tr[data-key="{first}"] td.title a'))
    assert page.is_visible("#doc-panel")
    fields = dict(
        page.eval_on_selector_all(
            "#doc-fields tr",
            "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])",
        )
    )
    row = frame.loc[int(first)]
    assert fields["title"] == row["title"]
    assert fields["abstract"] == row["abstract"]
    assert fields["applicant"] == row["applicant"]
    assert {c for c in frame.columns if not pd.isna(row[c])} <= set(fields)
    expected = library("like", first, QueryOptions(limit=10), key=True, site=site)
    near = page.eval_on_selector_all("#neighbours li", "items => items.map(i => i.dataset.key)")
    assert near == [h.key for h in expected.hits]
    page.screenshot(path=str(shots / "web-document.png"))


def test_why_similar_highlights_the_shared_terms_in_both_texts(page, site, shots):
    from patentsim.search.explain import shared_terms

    open_page(page, site.url + "?like=0&doc=0")
    near = page.eval_on_selector_all("#neighbours li", "items => items.map(i => i.dataset.key)")
    settled(page, lambda: page.click(f'#neighbours li[data-key="{near[0]}"] button.why'))
    assert page.is_visible("#why-panel")
    why = site.served.ask(
        lambda store: shared_terms(near[0], "0", key=True, collection="patents", store=store)
    ).value
    assert why.terms, "the nearest neighbour shares no term: a poor example"
    words = page.eval_on_selector_all("#why-terms .term", "ts => ts.map(t => t.firstChild.data)")
    assert words == [t.word for t in why.terms]
    for side, spans in (("left", why.query_spans), ("right", why.hit_spans)):
        marked = page.eval_on_selector_all(
            f"#why-{side} mark", "ms => ms.map(m => [m.textContent, m.dataset.term])"
        )
        expected = [s for field in spans.values() for s in field]
        assert len(marked) == len(expected) > 0
        assert {term for _, term in marked} == {t.term for t in why.terms}
        # Each mark is the characters the analyzer found the term in (Korean morphemes
        # without their particles: 배터리 of 배터리를).
        texts = page.eval_on_selector_all(f"#why-{side} p.text", "ps => ps.map(p => p.textContent)")
        doc = library(
            "like", "0" if side == "left" else near[0], QueryOptions(limit=1), key=True, site=site
        )
        assert all(
            t in {v for v in doc.query.payload.values() if isinstance(v, str)} for t in texts
        )
    page.screenshot(path=str(shots / "web-why.png"), full_page=True)


def test_the_map_draws_one_point_per_document_and_a_box_selection_filters(page, site, shots):
    open_page(page, site.url + "?map=1&color=cluster&like=0&limit=100")
    page.wait_for_selector("#map[data-points]", timeout=MAP_WAIT_MS)
    assert page.get_attribute("#map", "data-points") == str(ROWS)
    drawn = page.evaluate("document.getElementById('map').data.reduce((n, t) => n + t.x.length, 0)")
    assert drawn == ROWS
    keys = page.evaluate("[].concat(...document.getElementById('map').data.map(t => t.customdata))")
    assert sorted(keys, key=int) == [str(i) for i in range(ROWS)]
    note = page.inner_text("#map-note")
    assert "PCA" in note or "UMAP" in note
    page.screenshot(path=str(shots / "web-map.png"))
    # A box drawn with the mouse over the left half: the list narrows to exactly the
    # documents plotly selected.
    page.evaluate(
        """() => document.getElementById('map').on('plotly_selected', (ev) => {
             window.boxed = ev ? ev.points.map(p => String(p.customdata)) : [];
           })"""
    )
    box = page.locator("#map .nsewdrag").bounding_box()
    settled(page, lambda: drag(page, box))
    boxed = page.evaluate("window.boxed")
    assert 0 < len(boxed) < ROWS
    assert sorted(shown_keys(page), key=int) == sorted(set(boxed) - {"0"}, key=int)
    chosen = boxed
    # A click on a point opens its document.
    settled(
        page,
        lambda: page.evaluate(
            "document.getElementById('map').emit('plotly_click', "
            f"{{points: [{{customdata: {json.dumps(chosen[1])}}}]}})"
        ),
    )
    assert f"doc={chosen[1]}" in page.url and page.is_visible("#doc-panel")


def test_the_map_follows_a_facet_click_and_says_how_many_of_how_many(page, site, source, shots):
    import pandas as pd

    frame = pd.read_excel(source)
    open_page(page, site.url + "?map=1&color=status")
    page.wait_for_selector("#map[data-points]", timeout=MAP_WAIT_MS)
    assert page.get_attribute("#map", "data-points") == str(ROWS)
    assert page.inner_text("#map-note").startswith(f"{ROWS} of {ROWS} documents")
    value = frame["status"].value_counts().index[1]
    expected = sorted((str(i) for i in frame.index[frame["status"] == value]), key=int)
    before = page.get_attribute("#map", "data-drawn")
    button = page.locator(f'button.facet[data-field="status"][data-value="{value}"]')
    settled(page, button.click)
    page.wait_for_function(
        "b => document.getElementById('map').dataset.drawn !== b", arg=before, timeout=WAIT_MS
    )
    assert page.get_attribute("#map", "data-points") == str(len(expected))
    keys = page.evaluate("[].concat(...document.getElementById('map').data.map(t => t.customdata))")
    assert sorted(keys, key=int) == expected
    assert page.inner_text("#map-note").startswith(f"{len(expected)} of {ROWS} documents")
    page.screenshot(path=str(shots / "web-map-filtered.png"))


def drag(page: Any, box: dict[str, float]) -> None:
    page.mouse.move(box["x"] + 5, box["y"] + 5)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] - 5, steps=8)
    page.mouse.up()


def test_the_url_of_a_view_reproduces_it_in_a_new_page(page, site, chromium):
    open_page(page, site.url)
    page.fill("#q", "배터리 냉각")
    settled(page, lambda: page.press("#q", "Enter"))
    settled(page, lambda: page.select_option("#limit", "10"))
    settled(page, lambda: page.click('button.facet[data-field="status"] >> nth=0'))
    first = shown_keys(page)[0]
    settled(page, lambda: page.click(f'#hits tr[data-key="{first}"] td.title a'))
    seen = view_of(page)
    other = chromium.new_context(viewport={"width": 1400, "height": 950}).new_page()
    try:
        open_page(other, page.url)
        assert view_of(other) == seen
    finally:
        other.context.close()
    assert seen["keys"] and seen["doc"] and seen["chips"]


def view_of(page: Any) -> dict[str, Any]:
    return {
        "q": page.input_value("#q"),
        "keys": shown_keys(page),
        "chips": page.eval_on_selector_all("#chips .chip", "cs => cs.map(c => c.firstChild.data)"),
        "doc": page.inner_text("#doc-title") if page.is_visible("#doc-panel") else None,
        "limit": page.input_value("#limit"),
        "neighbours": page.eval_on_selector_all(
            "#neighbours li", "items => items.map(i => i.dataset.key)"
        ),
    }


def test_html_in_a_payload_shows_as_text(page, tmp_path):
    from patentsim.web.server import start

    settings = StoreSettings(path=str(tmp_path / "store"))
    load(
        hostile_file(tmp_path / "h.csv"),
        LoadSettings(store_settings=settings, collection="h"),
        embedder=FakeEmbedder(),
    )
    running = start(settings, "h", embedder=FakeEmbedder())
    try:
        open_page(page, running.url + "?like=2&doc=0")
        rows = [HOSTILE[i] for i in (0, 1, 3)]  # like=2 leaves row 2 out
        titles = page.eval_on_selector_all("#hits td.title", "cs => cs.map(c => c.textContent)")
        assert sorted(titles) == sorted(t for t, _ in rows)
        assert page.inner_text("#doc-title") == HOSTILE[0][0]
        owners = page.eval_on_selector_all(
            "#hits tbody tr", "rs => rs.map(r => r.cells[4].textContent)"
        )
        assert sorted(owners) == sorted(a for _, a in rows)
        # The <img> applicant, held twice, counts first; as text, and its click filters.
        facet = page.locator('button.facet[data-field="applicant"]')
        values = facet.locator(".value").all_inner_texts()
        assert values[0] == HOSTILE[0][1] and sorted(values) == sorted({a for _, a in HOSTILE})
        settled(page, facet.first.click)
        assert sorted(shown_keys(page)) == ["0", "3"]
        # Nothing ran, and no element of the payload's markup exists on the page.
        assert page.evaluate("window.pwned") is None
        assert (
            page.eval_on_selector_all(
                "main img, main svg, main script, main b, main i", "n => n.length"
            )
            == 0
        )
    finally:
        running.stop()


def test_results_page_and_export_links(page, site):
    open_page(page, site.url + "?like=3&limit=10&where=" + "status%3D등록")
    first = shown_keys(page)
    settled(page, lambda: page.click("#next"))
    second = shown_keys(page)
    expected = library("like", "3", QueryOptions(limit=20, where=("status=등록",)), site=site)
    assert first + second == [h.key for h in expected.hits]
    assert "offset=10" in page.url
    href = page.get_attribute("#export-csv", "href")
    assert href.startswith("/api/like/export?") and "format=csv" in href
    with page.expect_download() as download:
        page.click("#export-xlsx")
    assert download.value.suggested_filename == "like-3.xlsx"
    body = json.loads(page.evaluate("fetch('/api/info').then(r => r.text())"))
    assert body["collection"] == "patents"


def test_one_per_family_shows_the_librarys_collapsed_list(page, site):
    open_page(page, site.url + "?like=3")
    settled(page, lambda: page.select_option("#collapse", "near-dup"))
    expected = library("like", "3", QueryOptions(limit=20, collapse="near-dup"), site=site)
    assert shown_keys(page) == [h.key for h in expected.hits]
    assert "collapse=near-dup" in page.url
    # a field's families (the URL may name any field): each hit's note says how many more
    open_page(page, site.url + "?like=3&collapse=status")
    expected = library("like", "3", QueryOptions(limit=20, collapse="status"), site=site)
    assert shown_keys(page) == [h.key for h in expected.hits]
    notes = page.eval_on_selector_all("#hits span.family", "s => s.map(x => x.textContent)")
    assert notes == [f" +{h.family.size - 1}" for h in expected.hits if h.family.size > 1]
    assert notes, "status families hold several documents each"


def test_the_date_range_asks_the_server_and_dates_show_as_python_shows_them(page, site, source):
    """The page's date inputs send the day picked to the server (a where expression the
    library parses); its one piece of date knowledge, ``cell``'s mirror of ``shown_date``,
    agrees with Python over the table of tests/test_dates.py."""
    import pandas as pd

    from patentsim.dates import shown_date

    from .test_dates import STORED

    open_page(page, site.url + "?like=0&limit=100")
    stored = [s for s, _ in STORED]
    assert page.evaluate("xs => xs.map(x => cell(x, 'datetime'))", stored) == [
        shown_date(s) for s in stored
    ]
    field = page.evaluate("info.date_field")
    frame = pd.read_excel(source)
    days = pd.to_datetime(
        frame[field].astype("Int64").astype(str), format="%Y%m%d", errors="coerce"
    )
    low, high = days.quantile(0.25).date().isoformat(), days.quantile(0.75).date().isoformat()
    settled(page, lambda: page.fill("#date-from", low))
    settled(page, lambda: page.fill("#date-to", high))
    chips = page.eval_on_selector_all("#chips .chip", "cs => cs.map(c => c.firstChild.data)")
    assert chips == [f"{field}>={low}", f"{field}<={high}"]
    inside = (days >= pd.Timestamp(low)) & (days < pd.Timestamp(high) + pd.Timedelta(days=1))
    expected = {str(i) for i in frame.index[inside]} - {"0"}
    assert expected and len(expected) < ROWS - 1
    assert sorted(shown_keys(page), key=int) == sorted(expected, key=int)
    assert page.input_value("#date-from") == low and page.input_value("#date-to") == high


def test_the_date_boxes_show_the_days_a_year_or_month_condition_means(page, site, source, shots):
    """A where condition on the date field written as a year or a month (date>=2019,
    date<=2019-03) fills its box with the first day a >= takes and the last day a <= takes,
    as the server reads them; the list is the one pandas selects, and picking another day in
    a box replaces that condition."""
    from urllib.parse import urlencode

    import pandas as pd

    open_page(page, site.url)
    field = page.evaluate("info.date_field")
    frame = pd.read_excel(source)
    days = pd.to_datetime(
        frame[field].astype("Int64").astype(str), format="%Y%m%d", errors="coerce"
    )
    low, high = days.quantile(0.25), days.quantile(0.75)
    year, month = f"{low.year}", f"{high.year}-{high.month:02d}"
    after_month = (high.to_period("M") + 1).to_timestamp()
    last_day = (after_month - pd.Timedelta(days=1)).date().isoformat()
    where = [f"{field}>={year}", f"{field}<={month}"]
    open_page(page, site.url + "?" + urlencode({"like": "0", "limit": "100", "where": where}, True))
    assert page.input_value("#date-from") == f"{year}-01-01"
    assert page.input_value("#date-to") == last_day
    chips = page.eval_on_selector_all("#chips .chip", "cs => cs.map(c => c.firstChild.data)")
    assert chips == where
    page.screenshot(path=str(shots / "web-dates.png"))
    inside = (days >= pd.Timestamp(f"{year}-01-01")) & (days < after_month)
    expected = {str(i) for i in frame.index[inside]} - {"0"}
    assert expected and len(expected) < ROWS - 1
    assert sorted(shown_keys(page), key=int) == sorted(expected, key=int)
    # a Korean month means the same days
    korean = [f"{field}>={low.year}년", f"{field}<={high.year}년 {high.month}월"]
    open_page(
        page, site.url + "?" + urlencode({"like": "0", "limit": "100", "where": korean}, True)
    )
    assert page.input_value("#date-from") == f"{year}-01-01"
    assert page.input_value("#date-to") == last_day
    assert sorted(shown_keys(page), key=int) == sorted(expected, key=int)
    # a day picked in a box replaces the condition the box showed
    settled(page, lambda: page.fill("#date-from", f"{year}-02-01"))
    chips = page.eval_on_selector_all("#chips .chip", "cs => cs.map(c => c.firstChild.data)")
    assert chips == [korean[1], f"{field}>={year}-02-01"]
    assert page.input_value("#date-from") == f"{year}-02-01"
    assert page.input_value("#date-to") == last_day
    assert not page.errors
