"""Near-duplicate groups (``search dups``): the groups of a constructed collection equal the
groups this test builds by hand, on both backends and from both kinds of vectors; marking
writes them into the payload, where ``--where`` finds them, and bad input changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.errors import UserInputError
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session
from patentsim.search.cli import cli
from patentsim.search.dups import DUP_FIELD, DupOptions, find_duplicates
from patentsim.store import StoreSettings, open_store

from .conftest import BACKENDS
from .fakes import FakeEmbedder

# Eight inventions in words of their own.  Each ``base`` has its copies: the same text, or
# the text with one or two words changed or a few added (as a grant or a filing abroad
# words it); the groups are the keys written here, nothing else.
INVENTIONS = {
    "A": "battery cooling plate with coolant channels between the cells of a stack",
    "B": "wafer polishing pad whose grooves carry slurry to the edge of the wafer",
    "C": "robot gripper fingers with pressure sensors that hold fragile objects",
    "D": "graphics processor scheduling threads of shaders across streaming cores",
    "E": "speech recogniser decoding phonemes with a beam over a lexicon graph",
    "F": "solar inverter tracking the maximum power point of photovoltaic panels",
    "G": "hearing aid suppressing feedback howling with an adaptive notch filter",
    "H": "lidar scanner steering laser pulses with a rotating polygon mirror",
}
COPIES = {
    "A1": ("A", lambda t: t),
    "A2": ("A", lambda t: t.replace("plate", "plates")),
    "B1": ("B", lambda t: t + " during polishing"),
    "C1": ("C", lambda t: t.replace("fragile", "delicate")),
    "C2": ("C", lambda t: t.replace("fingers", "jaws")),
    "C3": ("C", lambda t: t),
    "F1": ("F", lambda t: t.replace("panels", "modules")),
}
HAND_GROUPS = [{"A", "A1", "A2"}, {"B", "B1"}, {"C", "C1", "C2", "C3"}, {"F", "F1"}]


def write_fixture(path: Path) -> Path:
    rows = ["doc_id,title,abstract"]
    for key, text in INVENTIONS.items():
        rows.append(f"{key},{key} title,{text}")
    for key, (base, edit) in COPIES.items():
        rows.append(f"{key},{base} title,{edit(INVENTIONS[base])}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def load_fixture(settings: StoreSettings, name: str, folder: Path) -> None:
    load(
        write_fixture(folder / "dups.csv"),
        LoadSettings(store_settings=settings, collection=name, id_column="doc_id"),
        embedder=FakeEmbedder(dimension=256),
    )


@pytest.fixture(params=BACKENDS)
def dup_collection(request, tmp_path, unique_name):
    settings = (
        StoreSettings(path=str(tmp_path / "store"))
        if request.param == "embedded"
        else StoreSettings(url=":memory:")
    )
    load_fixture(settings, unique_name, tmp_path)
    yield settings, unique_name
    store = open_store(settings)
    if unique_name in store.list():
        store.drop(unique_name)
    store.close()


@pytest.fixture
def embedded_dups(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    load_fixture(settings, "dups", tmp_path)
    return settings, "dups"


def keys_of(found) -> list[set[str]]:
    return sorted(({m.key for m in g.members} for g in found.groups), key=sorted)


@pytest.mark.parametrize("source", ["dense", "keyword"])
def test_groups_equal_the_hand_made_ones(dup_collection, source):
    settings, name = dup_collection
    with Session(settings, name) as session:
        found = find_duplicates(session, DupOptions(source=source, threshold=0.7))
    assert keys_of(found) == sorted(HAND_GROUPS, key=sorted)
    assert found.documents == len(INVENTIONS) + len(COPIES)
    assert found.source == source
    big = found.groups[0]
    assert big.size == 4 and big.group == "C"  # largest first, named by its first row
    assert [m.key for m in big.members] == ["C", "C1", "C2", "C3"]
    assert all(0.7 <= m.score <= 1.0 + 1e-6 for g in found.groups for m in g.members)


def test_a_threshold_of_one_keeps_only_identical_texts(dup_collection):
    settings, name = dup_collection
    with Session(settings, name) as session:
        found = find_duplicates(session, DupOptions(threshold=0.9999))
    assert keys_of(found) == [{"A", "A1"}, {"C", "C3"}]


def test_a_filter_looks_only_at_the_documents_it_selects(dup_collection):
    settings, name = dup_collection
    with Session(settings, name) as session:
        found = find_duplicates(
            session, DupOptions(threshold=0.7, where=("doc_id!=A", "doc_id!=C3"))
        )
    assert keys_of(found) == sorted(
        [{"A1", "A2"}, {"B", "B1"}, {"C", "C1", "C2"}, {"F", "F1"}], key=sorted
    )
    assert found.filtered


def test_neighbours_asked_again_when_an_answer_is_full(dup_collection):
    # One neighbour per question: C's group of four still comes out whole.
    settings, name = dup_collection
    with Session(settings, name) as session:
        found = find_duplicates(session, DupOptions(threshold=0.7, neighbours=1))
    assert keys_of(found) == sorted(HAND_GROUPS, key=sorted)
    assert found.searches > found.documents


def test_mark_writes_the_groups_where_filters_find_them(dup_collection):
    settings, name = dup_collection
    with Session(settings, name) as session:
        found = find_duplicates(session, DupOptions(threshold=0.7, mark=True))
        assert found.marked == 11
        hits = session.like("A", QueryOptions(limit=20, where=(f"{DUP_FIELD}=A",)), key=True)
        assert sorted(h.key for h in hits.hits) == ["A1", "A2"]
        marked = session.facets(DUP_FIELD, QueryOptions(limit=10))
        assert {c.value: c.count for c in marked.counts} == {"A": 3, "B": 2, "C": 4, "F": 2}
        # A stricter threshold: the groups shrink, and marks of documents in none go.
        again = find_duplicates(session, DupOptions(threshold=0.9999, mark=True))
        assert again.marked == 4 and again.unmarked == 7
        marked = session.facets(DUP_FIELD, QueryOptions(limit=10))
        assert {c.value: c.count for c in marked.counts} == {"A": 2, "C": 2}
        manifest = session.open().manifest
        assert manifest.duplicates is not None and manifest.duplicates.threshold == 0.9999
        assert manifest.fields[DUP_FIELD].index == "keyword"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (DupOptions(threshold=0), "`threshold` is a similarity above 0 and at most 1, not 0"),
        (DupOptions(threshold=1.5), "not 1.5"),
        (DupOptions(source="sparse"), "`source` must be one of dense, keyword, not 'sparse'"),
        (DupOptions(neighbours=0), "`neighbours` must be from 1 to 1024, not 0"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(UserInputError) as exc:
        options.validate()
    assert message in exc.value.message


def test_cli_table_json_and_xlsx(embedded_dups, tmp_path):
    settings, name = embedded_dups
    runner = CliRunner()
    base = ["--path", settings.path, "--collection", name]
    table = runner.invoke(cli, ["dups", "--threshold", "0.7", *base])
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split()[:4] == ["group", "size", "key", "row"]
    assert sum(1 for line in lines if line.split()[:1] == ["C"]) == 4
    assert "4 groups of near-duplicates (11 of 15 documents)" in table.stderr
    as_json = runner.invoke(cli, ["dups", "--threshold", "0.7", "--format", "json", *base])
    assert as_json.exit_code == 0, as_json.output
    groups = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [g["group"] for g in groups] == ["C", "A", "B", "F"]
    assert [m["key"] for m in groups[0]["members"]] == ["C", "C1", "C2", "C3"]
    out = tmp_path / "dups.xlsx"
    written = runner.invoke(cli, ["dups", "--threshold", "0.7", "--output", str(out), *base])
    assert written.exit_code == 0, written.output
    import pandas as pd

    frame = pd.read_excel(out, dtype={"key": str})
    assert list(frame.columns[:4]) == ["group", "size", "key", "row"]
    assert frame.groupby("group")["key"].apply(set).to_dict() == {
        "A": {"A", "A1", "A2"},
        "B": {"B", "B1"},
        "C": {"C", "C1", "C2", "C3"},
        "F": {"F", "F1"},
    }


def test_cli_bad_threshold_leaves_the_collection_as_it_was(embedded_dups):
    settings, name = embedded_dups
    runner = CliRunner()
    base = ["--path", settings.path, "--collection", name]
    bad = runner.invoke(cli, ["dups", "--threshold", "2", "--mark", *base])
    assert bad.exit_code == 2, bad.output
    assert "threshold" in bad.stderr and "Traceback" not in bad.output
    with Session(settings, name) as session:
        assert DUP_FIELD not in session.open().manifest.fields
        assert session.open().coll.count() == 15


def test_ingest_info_names_the_families_and_the_marks(embedded_dups):
    from patentsim.ingest.cli import cli as ingest_cli

    settings, name = embedded_dups
    runner = CliRunner()
    base = ["--path", settings.path, "--collection", name]
    before = runner.invoke(ingest_cli, ["info", *base])
    assert before.exit_code == 0, before.output
    assert "families    - (--collapse family groups near-duplicates)" in before.stdout
    assert "duplicates  " not in before.stdout
    marked = runner.invoke(cli, ["dups", "--threshold", "0.7", "--mark", *base])
    assert marked.exit_code == 0, marked.output
    after = runner.invoke(ingest_cli, ["info", *base])
    assert "duplicates  4 groups marked in _dup_group by search dups --mark" in after.stdout
    assert "(dense vectors, threshold 0.7," in after.stdout
