"""Topic clusters of a filtered subset: ``clusters(options=...)`` and ``search clusters
--where / --filter-json`` show the whole collection's clusters restricted to exactly the
documents the filter selects (checked against pandas on the constructed topics collection),
as ``search map --color cluster`` colours a filtered map."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from patentsim.search.clusters import clusters
from patentsim.search.landscape import NoMap, landscape
from patentsim.search.options import QueryOptions

from .test_landscape import N, topics  # noqa: F401 (the fixture)
from .topics import PER_TOPIC, TOPICS, topic_rows

SINCE_2012 = "filing_date>=2012-01-01"


@pytest.fixture
def frame() -> pd.DataFrame:
    rows = pd.DataFrame(topic_rows())
    rows["filing_date"] = pd.to_datetime(rows["filing_date"])
    return rows


def test_a_filtered_clustering_counts_what_pandas_selects_in_the_whole_clusters(
    topics,  # noqa: F811
    frame,
):
    whole = clusters(k=3, settings=topics)
    options = QueryOptions(where=("applicant=Battery Corp|Wafer Inc", SINCE_2012))
    sub = clusters(k=3, settings=topics, options=options)
    mask = frame.applicant.isin(["Battery Corp", "Wafer Inc"]) & (frame.filing_date >= "2012-01-01")
    selected = frame[mask]
    assert 0 < len(selected) < N
    assert sorted(sub.keys) == sorted(selected.id)
    assert (len(sub.labels), sub.total) == (len(selected), N)
    assert sub.filtered and sub.filter_text() == " AND ".join(options.where)
    # every document keeps the cluster and the label it has in the whole collection
    cluster = dict(zip(whole.keys, whole.labels))
    assert all(cluster[key] == c for key, c in zip(sub.keys, sub.labels))
    label = {c.id: c.label for c in whole.clusters}
    # two topics selected: two clusters, the third (no document selected) left out
    assert len(sub.clusters) == 2
    topic_of = {c: selected.topic[selected.id.map(cluster) == c].unique() for c in sub.labels}
    for c in sub.clusters:
        (topic,) = topic_of[c.id]
        mine = selected[selected.topic == topic]
        assert c.label == label[c.id]
        assert (c.size, c.total) == (len(mine), PER_TOPIC)
        assert c.applicants == [(TOPICS[topic][2], len(mine))]
        years = mine.filing_date.dt.year.astype(str).value_counts().sort_index()
        assert c.years == list(years.items())
        assert c.classes[0] == (TOPICS[topic][1][:4], len(mine))
        assert {e.key for e in c.examples} <= set(mine.id)
        assert len(c.examples) == min(5, len(mine))
    assert sub.to_dict()["total"] == N and sub.clusters[0].to_dict()["total"] == PER_TOPIC


def test_the_subset_s_clusters_are_those_its_filtered_map_is_coloured_by(topics):  # noqa: F811
    options = QueryOptions(where=(SINCE_2012,))
    sub = clusters(k=3, settings=topics, options=options)
    drawn = landscape(method="pca", color="cluster", k=3, settings=topics, options=options)
    assert dict(zip(sub.keys, sub.labels)) == {p.key: p.cluster for p in drawn.points}
    assert [(c.label, c.size) for c in sub.clusters] == [(e.value, e.count) for e in drawn.legend]


def test_a_raw_filter_selects_as_where_does(topics, frame):  # noqa: F811
    raw = {"must": [{"key": "applicant", "match": {"value": "Wafer Inc"}}]}
    sub = clusters(k=3, settings=topics, options=QueryOptions(filter_json=raw))
    assert sorted(sub.keys) == sorted(frame.id[frame.applicant == "Wafer Inc"])
    assert [c.size for c in sub.clusters] == [PER_TOPIC]


def test_a_filter_selecting_nothing_names_it(topics):  # noqa: F811
    with pytest.raises(NoMap) as caught:
        clusters(k=3, settings=topics, options=QueryOptions(where=("applicant=Nobody",)))
    assert "applicant=Nobody" in caught.value.message


# -- search clusters ---------------------------------------------------------------------------


@pytest.fixture
def search(topics):  # noqa: F811
    from patentsim.search.cli import cli

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, list(args), env={"QDRANT_PATH": topics.path})

    return run


def test_search_clusters_where_writes_the_subset_and_says_how_many(search, frame, tmp_path):
    import openpyxl

    out = tmp_path / "lidar.xlsx"
    result = search(
        "clusters", "-k", "3", "--where", "applicant=차량전자", "--where", SINCE_2012,
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    mask = (frame.applicant == "차량전자 주식회사") & (frame.filing_date >= "2012-01-01")
    expected = sorted(frame.id[mask])
    assert (
        f"clusters: {len(expected)} of {N} documents matching applicant=차량전자 AND "
        f"{SINCE_2012};" in result.stderr
    )
    wb = openpyxl.load_workbook(out)
    rows = list(wb["clusters"].iter_rows(values_only=True))[1:]
    assert [r[1] for r in rows] == [len(expected)]
    docs = list(wb["documents"].iter_rows(values_only=True))[1:]
    assert sorted(d[0] for d in docs) == expected


def test_search_clusters_filter_json_as_json(search, frame):
    raw = json.dumps({"must": [{"key": "applicant", "match": {"value": "Battery Corp"}}]})
    result = search("clusters", "-k", "3", "--filter-json", raw, "--format", "json")
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    found = json.loads(line)
    assert (found["size"], found["total"]) == (PER_TOPIC, PER_TOPIC)
    assert found["applicants"] == [{"value": "Battery Corp", "count": PER_TOPIC}]


def test_search_clusters_of_an_empty_subset_is_one_line_exit_1(search):
    result = search("clusters", "--where", "applicant=Nobody Ltd")
    assert result.exit_code == 1, result.output
    error, hint = result.output.strip().splitlines()
    assert error == (
        "Error: no document of 'topics' matches --where 'applicant=Nobody Ltd': no clusters to show"
    )
    assert hint.startswith("  hint: ") and "--where" in hint


def test_search_clusters_bad_filter_is_exit_2(search):
    result = search("clusters", "--where", "nope=1")
    assert result.exit_code == 2, result.output
    assert "nope" in result.output and "Traceback" not in result.output
