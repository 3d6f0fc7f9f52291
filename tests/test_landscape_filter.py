"""The landscape map of a filtered subset: ``landscape(options=...)`` and ``search map
--where / --filter-json`` draw exactly the documents the filter selects (checked against
pandas on the constructed topics collection), each at its place on the whole map."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from patentsim.search.landscape import NoMap, landscape
from patentsim.search.options import QueryOptions

from .test_landscape import N, topics  # noqa: F401 (the fixture)
from .topics import topic_rows

SINCE_2012 = "filing_date>=2012-01-01"


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = pd.DataFrame(topic_rows())
    rows["filing_date"] = pd.to_datetime(rows["filing_date"])
    return rows


def _selected(frame: pd.DataFrame, mask: pd.Series) -> list[str]:
    return sorted(frame.loc[mask, "id"])


def test_a_filtered_map_draws_the_documents_pandas_selects_where_the_whole_map_has_them(
    topics,  # noqa: F811
    frame,
):
    whole = landscape(method="pca", settings=topics)
    options = QueryOptions(where=("applicant=Battery Corp", SINCE_2012))
    sub = landscape(method="pca", settings=topics, options=options)
    expected = _selected(
        frame, (frame.applicant == "Battery Corp") & (frame.filing_date >= "2012-01-01")
    )
    assert 0 < len(expected) < N
    assert sorted(p.key for p in sub.points) == expected
    assert (len(sub.points), sub.total) == (len(expected), N)
    assert sub.filtered and sub.where == options.where
    # the positions of the whole collection's cached projection: nothing is projected again
    assert sub.cached and sub.signature == whole.signature
    at = {p.key: (p.x, p.y) for p in whole.points}
    assert all((p.x, p.y) == at[p.key] for p in sub.points)


def test_a_raw_filter_selects_as_where_does(topics, frame):  # noqa: F811
    raw = {"must": [{"key": "applicant", "match": {"value": "Wafer Inc"}}]}
    sub = landscape(method="pca", settings=topics, options=QueryOptions(filter_json=raw))
    assert sorted(p.key for p in sub.points) == _selected(frame, frame.applicant == "Wafer Inc")
    assert sub.filter_text() == "filter " + json.dumps(raw)


def test_colours_and_legend_count_the_drawn_documents(topics, frame):  # noqa: F811
    sub = landscape(
        method="pca", color="year", settings=topics, options=QueryOptions(where=(SINCE_2012,))
    )
    years = frame.loc[frame.filing_date >= "2012-01-01", "filing_date"].dt.year.astype(str)
    assert {e.value: e.count for e in sub.legend} == years.value_counts().to_dict()
    assert sum(e.count for e in sub.legend) == len(sub.points)


def test_clusters_of_the_whole_collection_colour_a_subset(topics, frame):  # noqa: F811
    whole = landscape(method="pca", color="cluster", k=3, settings=topics)
    options = QueryOptions(where=("applicant=Battery Corp|Wafer Inc",))
    sub = landscape(method="pca", color="cluster", k=3, settings=topics, options=options)
    keys = _selected(frame, frame.applicant.isin(["Battery Corp", "Wafer Inc"]))
    assert sorted(p.key for p in sub.points) == keys
    cluster = {p.key: p.cluster for p in whole.points}
    assert all(p.cluster == cluster[p.key] for p in sub.points)
    # two topics drawn: two clusters in the legend, each counting its drawn documents
    assert len(sub.clusters) == 2
    assert [e.count for e in sub.legend] == [12, 12]
    for c in sub.clusters:
        drawn = [p for p in sub.points if p.cluster == c.id]
        assert min(p.x for p in drawn) <= c.x <= max(p.x for p in drawn)


def test_a_filter_selecting_nothing_is_no_map_naming_it(topics):  # noqa: F811
    with pytest.raises(NoMap) as caught:
        landscape(method="pca", settings=topics, options=QueryOptions(where=("applicant=Nobody",)))
    assert "applicant=Nobody" in caught.value.message


def test_one_document_is_drawn_at_its_place(topics):  # noqa: F811
    whole = landscape(method="pca", settings=topics)
    sub = landscape(method="pca", settings=topics, options=QueryOptions(where=("_key=D005",)))
    (point,) = sub.points
    assert (point.x, point.y) == next((p.x, p.y) for p in whole.points if p.key == "D005")


# -- search map ------------------------------------------------------------------------------


@pytest.fixture
def search(topics):  # noqa: F811
    from patentsim.search.cli import cli

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), env={"QDRANT_PATH": topics.path})

    return run


def test_search_map_where_maps_the_rows_pandas_selects_and_says_how_many(search, frame):
    result = search(
        "map", "--method", "pca", "--where", "applicant=차량전자", "--where", SINCE_2012,
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    keys = sorted(json.loads(line)["key"] for line in result.stdout.splitlines())
    expected = _selected(
        frame, (frame.applicant == "차량전자 주식회사") & (frame.filing_date >= "2012-01-01")
    )
    assert keys == expected
    assert (
        f"map: {len(expected)} of {N} documents matching applicant=차량전자 AND {SINCE_2012};"
        in result.stderr
    )


def test_search_map_filter_json_into_a_file(search, frame, tmp_path):
    out = tmp_path / "wafer.csv"
    raw = json.dumps({"must": [{"key": "applicant", "match": {"value": "Wafer Inc"}}]})
    result = search("map", "--method", "pca", "--filter-json", raw, "-o", str(out))
    assert result.exit_code == 0, result.output
    written = pd.read_csv(out)
    assert sorted(written["key"]) == _selected(frame, frame.applicant == "Wafer Inc")
    assert f"wrote the map of 12 documents to {out}" in result.stderr


def test_search_map_html_title_says_the_subset(search, tmp_path):
    out = tmp_path / "since.html"
    result = search("map", "--method", "pca", "--where", SINCE_2012, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"of {N} documents of &#x27;topics&#x27; matching {SINCE_2012}".replace(
        ">", "&gt;"
    ) in out.read_text(encoding="utf-8")


def test_search_map_of_an_empty_subset_is_one_line_exit_1(search):
    result = search("map", "--method", "pca", "--where", "applicant=Nobody Ltd")
    assert result.exit_code == 1, result.output
    error, hint = result.output.strip().splitlines()  # the project's one line, and its hint
    assert error.startswith("Error: no document of 'topics' matches --where 'applicant=Nobody Ltd'")
    assert hint.startswith("  hint: ") and "--where" in hint


def test_search_map_bad_filter_is_exit_2(search):
    result = search("map", "--method", "pca", "--where", "nope=1")
    assert result.exit_code == 2, result.output
    assert "nope" in result.output and "Traceback" not in result.output
