"""Golden answers: what ``search`` answers on the fixture collections, stored as JSON.

The answers in ``tests/data/golden/`` were computed by the code before the query-options
refactor of issue 26; this test asks the same questions again on each backend and compares
(ranks, keys, rows and payloads exactly, scores with ``pytest.approx``), so a refactor that
changes any answer, message or exit code fails here.  The collections are built
deterministically from the suite's samples with the fake embedder:

- ``ko``: the first 120 rows of ``sample_ko.xlsx`` keyed by application number, its default
  mode set to dense in the manifest (the load would measure keyword on its labels);
- ``en``: the 60 rows of ``sample_en.xlsx`` keyed by ``doc_id``, its default mode set to
  keyword in the manifest;
- ``kw``: the 12 rows of ``keyword_sample.csv``, its default mode set to hybrid (DBSF) in the
  manifest, as ``search eval --tune`` would.

Questions go through the ``search`` CLI with ``--format json`` where no model is needed
(``like``, ``facets``, ``text --mode keyword``) and through the Python API with the fake
embedder for ``text`` in dense and hybrid mode.  ``PATENTSIM_GOLDEN=write`` rewrites the files
(the embedded store's answers, and a backend's own where it answers otherwise; only when a
change of answers is intended and reviewed).
"""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from patentsim.errors import PatentSimError
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import StoreSettings, open_store
from patentsim.store.manifest import SearchDefaults

from .conftest import BACKENDS, EN_XLSX, KO_XLSX, SAMPLES, slice_xlsx
from .fakes import FakeEmbedder

GOLDEN = SAMPLES / "golden"
KW_CSV = SAMPLES / "keyword_sample.csv"
WRITE = os.environ.get("PATENTSIM_GOLDEN") == "write"
# Answers hold scores rounded to 6 places; BM25 scores in the tens keep float32's 7 digits.
SCORE_TOLERANCE = 2e-6
SCORE_RELATIVE = 1e-6

# name -> the command line after `search` (a collection named by -c); the answer of each is its
# exit code, its JSON lines and its stderr.
CLI_QUESTIONS: dict[str, str] = {
    # like: every mode, paging, the default mode of each collection
    "ko_like_default": "like 0 -c ko --format json",
    "ko_like_dense": "like 0 -c ko --mode dense --limit 5 --format json",
    "ko_like_hybrid": "like 3 -c ko --mode hybrid --limit 7 --format json",
    "ko_like_keyword_page2": "like 5 -c ko --mode keyword --offset 4 --limit 4 --format json",
    "ko_like_dense_page3": "like 7 -c ko --mode dense --offset 20 --limit 10 --format json",
    "ko_like_key": "like 1020220192711 -c ko --key --mode dense --limit 4 --format json",
    "ko_like_row_as_key": "like 1020210155930 -c ko --mode dense --limit 3 --format json",
    "en_like_default": "like US10005124 -c en --limit 6 --format json",
    "kw_like_hybrid_rrf": "like 2 -c kw --mode hybrid --limit 5 --format json",
    "en_like_keyword": "like 4 -c en --mode keyword --limit 5 --format json",
    "kw_like_default": "like 0 -c kw --limit 5 --format json",
    "kw_like_dense": "like 0 -c kw --mode dense --limit 5 --format json",
    # filters of each kind
    "ko_where_keyword": "like 0 -c ko --mode dense --where 'applicant=삼성전자 주식회사' "
    "--format json",
    "ko_where_not": "like 0 -c ko --mode dense --where 'status!=등록' --limit 8 --format json",
    "ko_where_any_of": "like 2 -c ko --mode keyword --where 'status=거절|포기|공개' --format json",
    "ko_where_list": "like 0 -c ko --mode dense --where 'ipc=H10K 59/12' --format json",
    "ko_where_list_any": "like 0 -c ko --mode hybrid --where 'ipc=B24B 49/12|G01N 21/88' "
    "--format json",
    "ko_where_date_range": "like 4 -c ko --mode dense --where 'application_date>=2015-01-01' "
    "--where 'application_date<2019-01-01' --format json",
    "ko_where_date_year": "like 4 -c ko --mode keyword --where 'application_date>=2020' "
    "--format json",
    "ko_where_words": "like 1 -c ko --mode dense --where 'abstract~연삭 측정' --format json",
    "ko_where_words_any": "like 1 -c ko --mode keyword --where 'title~배터리|센서' --format json",
    "ko_where_missing": "like 0 -c ko --mode dense --where 'registration_date missing' "
    "--format json",
    "ko_where_exists": "like 9 -c ko --mode hybrid --where 'registration_date exists' "
    "--where 'status=등록' --limit 5 --format json",
    "ko_filter_json": "like 0 -c ko --mode dense --filter-json "
    '\'{"must": [{"key": "status", "match": {"value": "등록"}}]}\' '
    "--where 'application_date>=2018-01-01' --format json",
    "ko_where_key": "like 0 -c ko --mode dense --where '_row<30' --limit 5 --format json",
    "en_where_date": "like 0 -c en --where 'grant_date>=2020-01-01' --limit 5 --format json",
    "en_where_list": "like 0 -c en --mode keyword --where 'cpc=G06T1/20' --format json",
    # min score, group by, prior art
    "ko_min_score": "like 0 -c ko --mode dense --min-score 0.55 --limit 50 --format json",
    "ko_min_score_keyword": "like 0 -c ko --mode keyword --min-score 5 --limit 50 --format json",
    "ko_group_applicant": "like 0 -c ko --mode dense --group-by applicant --limit 8 --format json",
    "ko_group_list": "like 2 -c ko --mode keyword --group-by ipc --limit 6 --format json",
    "ko_group_date_paged": "like 2 -c ko --mode dense --group-by application_date --offset 3 "
    "--limit 5 --format json",
    "ko_group_status_filtered": "like 3 -c ko --mode hybrid --group-by status "
    "--where 'application_date>=2016' --format json",
    "ko_prior_art": "like 0 -c ko --mode dense --prior-art --limit 8 --format json",
    "ko_prior_art_field": "like 1 -c ko --mode keyword --prior-art --date-field opening_date "
    "--group-by applicant --format json",
    "en_prior_art": "like 30 -c en --prior-art --limit 5 --format json",
    # shared terms
    "ko_explain_like": "like 0 -c ko --mode keyword --explain --limit 4 --format json",
    "ko_explain_like_dense": "like 2 -c ko --mode dense --explain --limit 3 --format json",
    "ko_explain_text": "text '연삭 장치의 측정' -c ko --mode keyword --explain --limit 3 "
    "--format json",
    # text without a model
    "ko_text_keyword": "text '연삭량 측정 장치' -c ko --mode keyword --limit 8 --format json",
    "en_text_default": "text 'ray tracing' -c en --format json",
    "ko_text_keyword_filtered": "text '센서' -c ko --mode keyword --where 'status=등록' "
    "--group-by applicant --offset 1 --limit 5 --format json",
    "ko_text_keyword_min_score": "text '디스플레이 패널' -c ko --mode keyword --min-score 4 "
    "--format json",
    "en_text_keyword": "text 'ray tracing hierarchy' -c en --mode keyword --limit 5 --format json",
    # facets
    "ko_facets_applicant": "facets applicant -c ko --format json",
    "ko_facets_ipc_filtered": "facets ipc -c ko --where 'application_date>=2020' --limit 5 "
    "--format json",
    "ko_facets_status_json": "facets status -c ko --filter-json "
    '\'{"must": [{"key": "applicant", "match": {"value": "삼성전자 주식회사"}}]}\' --format json',
    "en_facets_cpc": "facets cpc -c en --limit 4 --format json",
    "kw_facets_file": "facets _file -c kw --format json",
    # refusals: the exit code and the message are answers too
    "err_no_row": "like 999 -c ko --format json",
    "err_unknown_field": "like 0 -c ko --where 'nope=1' --format json",
    "err_bad_type": "like 0 -c ko --where 'application_date>=yesterday' --format json",
    "err_bad_json": "like 0 -c ko --filter-json '{must' --format json",
    "err_unknown_json_field": "like 0 -c ko --filter-json "
    '\'{"must": [{"key": "nope", "match": {"value": 1}}]}\' --format json',
    "err_group_unknown": "like 0 -c ko --group-by nope --format json",
    "err_date_field_not_date": "like 0 -c ko --prior-art --date-field title --format json",
    "kw_prior_art": "like 0 -c kw --prior-art --format json",
    "err_limit_zero": "like 0 -c ko --limit 0 --format json",
    "err_offset_negative": "like 0 -c ko --offset -1 --format json",
    "err_mode": "like 0 -c ko --mode fuzzy --format json",
    "err_text_empty": "text '  ' -c ko --format json",
    "ko_text_particles": "text '는 을' -c ko --mode keyword --format json",
    "err_text_stop_words": "text 'the of and' -c en --mode keyword --format json",
    "err_facets_text_field": "facets abstract -c ko --format json",
    "err_facets_unknown": "facets nope -c ko --format json",
}

# name -> (collection, query, options of the Python API's text) for the modes that embed.
API_QUESTIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "ko_api_text_dense": ("ko", "연삭 장치 측정", {"mode": "dense", "limit": 6}),
    "ko_api_text_hybrid": ("ko", "배터리 냉각 장치", {"mode": "hybrid", "limit": 6}),
    "ko_api_text_dense_filtered": (
        "ko",
        "디스플레이 패널",
        {
            "mode": "dense",
            "where": ["application_date>=2016-01-01", "ipc=H10K 59/12|G06F 3/041"],
            "limit": 5,
            "offset": 1,
        },
    ),
    "ko_api_text_hybrid_grouped": (
        "ko",
        "로봇 그리퍼",
        {"mode": "hybrid", "group_by": "applicant", "limit": 5, "min_score": 0.01},
    ),
    "en_api_text_default": ("en", "memory controller cache", {"limit": 5}),
    "en_api_text_min_score": ("en", "graphics processor", {"min_score": 0.3, "limit": 20}),
    "en_api_text_filter_json": (
        "en",
        "power management",
        {"filter_json": {"must": [{"key": "assignee", "match": {"value": "NVIDIA CORPORATION"}}]}},
    ),
    "kw_api_text_default": ("kw", "battery cooling", {"limit": 4}),
    "kw_api_text_dense": ("kw", "배터리 냉각", {"mode": "dense", "limit": 4}),
}


def build(settings: StoreSettings, folder: Path) -> None:
    """The three fixture collections, loaded with the fake embedder."""
    ko = slice_xlsx(KO_XLSX, folder / "ko120.xlsx", 120)
    load(
        ko,
        LoadSettings(store_settings=settings, collection="ko", id_column="application_number"),
        embedder=FakeEmbedder(),
    )
    load(
        EN_XLSX,
        LoadSettings(store_settings=settings, collection="en", id_column="doc_id"),
        embedder=FakeEmbedder(),
    )
    load(KW_CSV, LoadSettings(store_settings=settings, collection="kw"), embedder=FakeEmbedder())
    defaults = {
        # The load measures a default on the labels (the fake vectors lose to keyword there);
        # these answers were made in dense mode, so ko keeps it as a stored choice.
        "ko": {"default_mode": "dense", "fusion": "rrf", "weights": [1.0, 1.0]},
        "en": {"default_mode": "keyword", "fusion": "rrf", "weights": [1.0, 1.0]},
        "kw": {"default_mode": "hybrid", "fusion": "dbsf", "weights": [1.0, 1.0]},
    }
    store = open_store(settings)
    try:
        for name, search in defaults.items():
            coll = store.open(name)
            manifest = coll.read_manifest()
            manifest.search = SearchDefaults.from_dict(search)
            coll.write_manifest(manifest)
    finally:
        store.close()


def ask_cli(settings: StoreSettings, line: str) -> dict[str, Any]:
    from patentsim.search.cli import cli

    env = {"QDRANT_PATH": settings.path, "QDRANT_URL": settings.url}
    result = CliRunner().invoke(cli, shlex.split(line), env=env)
    return {
        "exit_code": result.exit_code,
        "lines": [json.loads(x) for x in result.stdout.splitlines() if x.strip()],
        "stderr": result.stderr.replace(settings.path, "<store>"),
    }


def ask_api(settings: StoreSettings, collection: str, query: str, options: dict[str, Any]):
    from patentsim.search import QueryOptions, Session

    try:
        with Session(settings, collection, model=FakeEmbedder()) as session:
            results = session.text(query, QueryOptions(**options))
    except PatentSimError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    return {
        "mode": results.mode_detail,
        "lines": [h.to_dict() for h in results.hits],
    }


def answer(settings: StoreSettings, name: str) -> dict[str, Any]:
    if name in CLI_QUESTIONS:
        return {"question": CLI_QUESTIONS[name], **ask_cli(settings, CLI_QUESTIONS[name])}
    collection, query, options = API_QUESTIONS[name]
    question = {"collection": collection, "text": query, "options": options}
    return {"question": question, **ask_api(settings, collection, query, options)}


NAMES = [*CLI_QUESTIONS, *API_QUESTIONS]


def golden_path(kind: str, name: str) -> Path:
    """The stored answer: ``golden/NAME.json``, or the backend's own where its answer differs
    (``golden/memory/``: a server returns the manifest's fields in file order, the embedded
    store's manifest file keeps them sorted, so messages listing fields differ)."""
    own = GOLDEN / kind / f"{name}.json"
    return own if own.is_file() else GOLDEN / f"{name}.json"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"golden_{request.param}")
    if request.param == "embedded":
        settings = StoreSettings(path=str(folder / "store"))
    else:
        settings = StoreSettings(url=":memory:", path=str(folder / "unused"))
    if request.param == "memory":
        pytest.importorskip("qdrant_client")
    build(settings, folder)
    yield request.param, settings
    if request.param == "memory":
        store = open_store(settings)
        for name in ("ko", "en", "kw"):
            store.drop(name)
        store.close()


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=SCORE_RELATIVE, abs=SCORE_TOLERANCE)


def tie_groups(lines: list[dict[str, Any]]) -> list[list[int]]:
    """Positions of consecutive hits with the same score."""
    groups: list[list[int]] = []
    for i, line in enumerate(lines):
        if groups and close(line["score"], lines[groups[-1][0]]["score"]):
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def same_hits(got: list[dict[str, Any]], want: list[dict[str, Any]], where: str) -> None:
    """The same hits, where the engine may order equal scores either way: each run of equal
    scores holds the same documents; a run cut by the page's edge holds equal scores only."""
    assert len(got) == len(want), (where, [g["key"] for g in got], [w["key"] for w in want])
    for i, (g, w) in enumerate(zip(got, want)):
        assert g["rank"] == w["rank"] and close(g["score"], w["score"]), (where, i, g, w)
    groups = tie_groups(want)
    for n, group in enumerate(groups):
        if (n == 0 and want[0]["rank"] > 1) or n == len(groups) - 1:
            continue  # documents tied with it may lie beyond the page
        by_key = {want[i]["key"]: want[i] for i in group}
        for i in group:
            assert got[i]["key"] in by_key, (where, i, got[i], sorted(by_key))
            same({**got[i], "rank": 0}, {**by_key[got[i]["key"]], "rank": 0}, f"{where}[{i}]")


def same(got: Any, want: Any, where: str = "") -> None:
    """Equal, scores within the tolerance, hits compared by ``same_hits``; the assertion names
    the first difference."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and sorted(got) == sorted(want), (where, got, want)
        for k in want:
            if k == "lines" and want[k] and "score" in want[k][0]:
                same_hits(got[k], want[k], f"{where}.lines")
            else:
                same(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, list):
        assert isinstance(got, list) and len(got) == len(want), (where, got, want)
        for i, (g, w) in enumerate(zip(got, want)):
            same(g, w, f"{where}[{i}]")
    elif isinstance(want, float) and isinstance(got, float):
        assert close(got, want), (where, got, want)  # scores and term weights
    else:
        assert got == want, (where, got, want)


def test_golden_files_cover_every_question():
    stored = {p.stem for p in GOLDEN.glob("*.json")}
    assert stored == set(NAMES) or WRITE, sorted(stored ^ set(NAMES))
    assert {p.stem for p in GOLDEN.glob("*/*.json")} <= set(NAMES)


def write_golden(kind: str, name: str, got: dict[str, Any]) -> None:
    text = json.dumps(got, ensure_ascii=False, indent=1) + "\n"
    path = GOLDEN / f"{name}.json"
    if kind != "embedded":
        try:
            same(got, json.loads(path.read_text(encoding="utf-8")), name)
        except AssertionError:
            pass
        else:
            pytest.skip(f"{kind}: the same answer as the embedded store")
        path = GOLDEN / kind / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    pytest.skip(f"wrote {path.relative_to(GOLDEN)}")


@pytest.mark.parametrize("name", NAMES)
def test_answers_are_unchanged(backend, name):
    kind, settings = backend
    got = answer(settings, name)
    if WRITE:
        write_golden(kind, name, got)
    want = json.loads(golden_path(kind, name).read_text(encoding="utf-8"))
    same(got, want, name)
