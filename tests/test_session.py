"""QueryOptions and Session: one options object, one collection held open between questions.

The session answers what the one-question functions answer, leaves a caller's store open,
and sees a collection that another ingest changed under it (a new column, new documents)
without being opened again.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.errors import DocumentNotFound, PatentSimError, UserInputError
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session, facets, like, text
from patentsim.store import StoreSettings, open_store

from .conftest import BACKENDS
from .fakes import FakeEmbedder

HEADER = "doc_id,title,abstract,applicant,application_date"
FIRST = [
    "K1,배터리 냉각 장치,배터리를 냉각하는 장치와 냉각수 유로,가나전자,2015-03-01",
    "K2,배터리 온도 센서,온도 센서로 배터리 과열을 감지하는 시스템,가나전자,2016-05-10",
    "K3,연삭 장치,연삭량을 측정하는 연삭 장치와 변위 센서,다라정밀,2017-01-20",
    "K4,로봇 그리퍼,물체를 잡는 로봇 그리퍼와 압력 센서,마바로봇,2018-07-07",
]


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(params=BACKENDS)
def loaded(request, tmp_path, unique_name):
    if request.param == "embedded":
        settings = StoreSettings(path=str(tmp_path / "store"))
    else:
        settings = StoreSettings(url=":memory:")
    src = write_csv(tmp_path / "first.csv", HEADER, FIRST)
    load(
        src,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="doc_id"),
        embedder=FakeEmbedder(),
    )
    yield request.param, settings, unique_name
    store = open_store(settings)
    if unique_name in store.list():
        store.drop(unique_name)
    store.close()


# -- QueryOptions -------------------------------------------------------------------------------


def test_options_keep_conditions_as_a_tuple():
    assert QueryOptions(where=["a=1", "b=2"]).where == ("a=1", "b=2")
    assert QueryOptions(where="a=1").where == ("a=1",)
    options = QueryOptions(limit=5, where=("a=1",))
    assert options.replace(offset=5) == QueryOptions(limit=5, offset=5, where=("a=1",))
    assert QueryOptions.names()[:3] == ("limit", "offset", "where")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"limit": 0}, "`limit` must be at least 1, not 0"),
        ({"limit": True}, "`limit` must be at least 1"),
        ({"offset": -1}, "`offset` must be 0 or more, not -1"),
        ({"mode": "fuzzy"}, "`mode` must be one of dense, keyword, hybrid, not 'fuzzy'"),
        ({"min_score": math.nan}, "`min_score` must be a number, not nan"),
        ({"min_score": math.inf}, "`min_score` must be a number, not inf"),
        ({"min_score": "0.5"}, "`min_score` must be a number"),
        ({"where": (1,)}, "`where` takes conditions as text"),
        ({"group_by": " "}, "`group_by` must name a field"),
        ({"date_field": ""}, "`date_field` must name a field"),
    ],
)
def test_validate_names_the_option_that_cannot_be_used(changes, named):
    with pytest.raises(UserInputError) as exc:
        QueryOptions(**changes).validate()
    assert named in str(exc.value)


def test_validate_returns_good_options():
    options = QueryOptions(limit=3, offset=2, mode="hybrid", min_score=0.25, group_by="applicant")
    assert options.validate() is options


def test_a_nan_min_score_is_refused_on_the_command_line(loaded):
    from patentsim.search.cli import cli

    _, settings, name = loaded
    env = {"QDRANT_PATH": settings.path, "QDRANT_URL": settings.url}
    result = CliRunner().invoke(cli, ["like", "0", "-c", name, "--min-score", "nan"], env=env)
    assert result.exit_code == 2, result.output
    assert "--min-score must be a number, not nan" in result.stderr


# -- Session ------------------------------------------------------------------------------------


def test_a_session_answers_what_the_functions_answer(loaded):
    _, settings, name = loaded
    options = QueryOptions(limit=2, mode="keyword", where=("application_date>=2016",))
    hybrid = QueryOptions(mode="hybrid", limit=3)
    with Session(settings, name, model=FakeEmbedder()) as session:
        assert session.name == name
        held = (
            session.like("K1", options, key=True),
            session.text("배터리 센서", hybrid),
            session.facets("applicant"),
        )
        doc = session.document("K3")
        assert session.document(0).key == "K1"
        with pytest.raises(DocumentNotFound):
            session.document("K9", key=True)
    # One question each, the collection opened and closed for it (after the session let go).
    assert held == (
        like("K1", options, key=True, collection=name, settings=settings),
        text("배터리 센서", hybrid, model=FakeEmbedder(), collection=name, settings=settings),
        facets("applicant", collection=name, settings=settings),
    )
    assert sorted(h.key for h in held[0].hits) == ["K2", "K3"] and held[1].mode == "hybrid"
    assert (doc.key, doc.row, doc.title) == ("K3", 2, "연삭 장치")
    assert doc.date is not None and doc.date.startswith("2017-01-20")
    assert doc.payload["applicant"] == "다라정밀" and "_key" not in doc.payload
    assert doc.to_dict()["key"] == "K3"


def test_text_refuses_prior_art_of_a_text(loaded):
    _, settings, name = loaded
    with Session(settings, name) as session, pytest.raises(UserInputError) as exc:
        session.text("배터리", QueryOptions(prior_art=True, mode="keyword"))
    assert "`prior_art` needs a query document" in str(exc.value)


def test_a_callers_store_stays_open_and_a_closed_session_refuses(loaded):
    _, settings, name = loaded
    store = open_store(settings)
    try:
        with Session(store=store, collection=name) as session:
            assert session.like(0, QueryOptions(limit=1, mode="keyword")).hits
        # The caller's store still answers after the session closed.
        assert store.open(name).count() == len(FIRST)
    finally:
        store.close()
    session = Session(settings, name)
    session.close()
    with pytest.raises(PatentSimError, match="closed"):
        session.like(0)


def test_a_session_sees_what_another_ingest_changed(loaded, tmp_path):
    """Another ingest adds documents and a column: the session held open answers with them
    (on the embedded store it lets the ingest in with ``release``, as a web server does)."""
    kind, settings, name = loaded
    with Session(settings, name) as session:
        assert session.facets("applicant").total == len(FIRST)
        with pytest.raises(UserInputError, match="unknown field 'status'"):
            session.facets("status")
        if kind == "embedded":
            session.release()  # the embedded collection takes one process at a time
        more = write_csv(
            tmp_path / "more.csv",
            HEADER + ",status",
            ["K5,배터리 팩,배터리 팩과 냉각 장치,가나전자,2019-02-02,등록"],
        )
        load(
            more,
            LoadSettings(store_settings=settings, collection=name, id_column="doc_id"),
            embedder=FakeEmbedder(),
        )
        counts = session.facets("status")
        assert [(c.value, c.count) for c in counts.counts] == [("등록", 1)]
        assert session.facets("applicant").total == len(FIRST) + 1
        hits = session.like("K1", QueryOptions(mode="keyword", where=("status=등록",)), key=True)
        assert [h.key for h in hits.hits] == ["K5"]
        assert session.document("K5").payload["status"] == "등록"


def test_an_embedded_session_holds_the_collection_until_released(tmp_path, unique_name):
    settings = StoreSettings(path=str(tmp_path / "store"))
    src = write_csv(tmp_path / "first.csv", HEADER, FIRST)
    load(
        src,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="doc_id"),
        embedder=FakeEmbedder(),
    )
    with Session(settings, unique_name) as session:
        session.open()
        other = open_store(settings)
        try:
            with pytest.raises(PatentSimError, match="in use by process"):
                other.open(unique_name)
            session.release()
            assert other.open(unique_name).count() == len(FIRST)
        finally:
            other.close()
        assert session.document("K2", key=True).row == 1  # opened again on the next question
