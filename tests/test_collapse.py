"""One hit per family (``--collapse``): collapsing by a family field equals grouping the
rows with pandas, pages continue after the families of the page before, near-duplicate
families are the hand-made groups, and the exporters' family columns are recorded.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from patentsim.errors import UserInputError
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session
from patentsim.search import collapse as collapse_module
from patentsim.search import dups as dups_module
from patentsim.search.cli import cli
from patentsim.store import StoreSettings, open_store

from .conftest import BACKENDS, SAMPLES
from .fakes import FakeEmbedder
from .test_dups import HAND_GROUPS, load_fixture

TOPICS = [
    "battery cooling plate coolant channel cell stack",
    "wafer polishing pad groove slurry edge",
    "robot gripper finger pressure sensor object",
    "graphics processor thread shader core schedule",
    "speech recogniser phoneme beam lexicon graph",
    "solar inverter maximum power point panel",
]


def family_rows() -> list[dict[str, str]]:
    """Publications of 14 families of one to four members (and three documents without a
    family), their texts a family's topic words with a few words of their own."""
    rows = []
    n = 0
    for fam in range(14):
        topic = TOPICS[fam % len(TOPICS)].split()
        for member in range(1 + (fam * 7) % 4):
            n += 1
            words = [*topic[fam % 3 :], f"w{fam}", f"v{member}", f"x{n}"]
            rows.append(
                {
                    "pub": f"P{n:03d}",
                    "title": f"title {fam}",
                    "abstract": " ".join(words),
                    "family_id": f"F{fam:02d}",
                    # two priorities for every fourth family; all members claim the same
                    "priority_numbers": f"PR{fam}" + (f"|PRX{fam}" if fam % 4 == 0 else ""),
                }
            )
    for extra in range(3):
        n += 1
        rows.append(
            {
                "pub": f"P{n:03d}",
                "title": f"lone {extra}",
                "abstract": " ".join([*TOPICS[extra].split()[::-1], f"lone{extra}"]),
                "family_id": "",
                "priority_numbers": "",
            }
        )
    return rows


def write_families(path: Path) -> Path:
    pd.DataFrame(family_rows()).to_csv(path, index=False)
    return path


@pytest.fixture(params=BACKENDS)
def families(request, tmp_path, unique_name):
    settings = (
        StoreSettings(path=str(tmp_path / "store"))
        if request.param == "embedded"
        else StoreSettings(url=":memory:")
    )
    src = write_families(tmp_path / "families.csv")
    summary = load(
        src,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="pub"),
        embedder=FakeEmbedder(dimension=64),
    )
    yield settings, unique_name, src, summary
    store = open_store(settings)
    if unique_name in store.list():
        store.drop(unique_name)
    store.close()


def expected_families(ranked: list[str], frame: pd.DataFrame, column: str) -> list[tuple]:
    """What collapsing must give, by pandas: the rows grouped by ``column`` (a document
    without a value alone), families in the order of their best-ranked document, each as
    (best key, size, the other members' keys)."""
    frame = frame.copy()
    frame["group"] = frame[column].where(frame[column].notna() & (frame[column] != ""))
    frame["group"] = frame["group"].fillna("alone:" + frame["pub"])
    rank = {key: i for i, key in enumerate(ranked)}
    frame["rank"] = frame["pub"].map(rank)
    out = []
    for _, members in frame.groupby("group"):
        listed = members.dropna(subset=["rank"]).sort_values("rank")
        if listed.empty:
            continue
        best = listed.iloc[0]["pub"]
        others = sorted(set(members["pub"]) - {best})
        out.append((int(listed.iloc[0]["rank"]), best, len(members), others))
    return [entry[1:] for entry in sorted(out)]


def as_families(results) -> list[tuple]:
    return [(h.key, h.family.size, sorted(m.key for m in h.family.members)) for h in results.hits]


@pytest.mark.parametrize("column", ["family_id", "priority_numbers"])
def test_collapse_by_a_family_field_equals_pandas_grouping(families, column):
    settings, name, src, _ = families
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    with Session(settings, name, model=FakeEmbedder(dimension=64)) as session:
        everything = session.like("P005", QueryOptions(limit=200), key=True)
        ranked = [h.key for h in everything.hits]
        for ref, query in (("P005", everything), (None, "battery cooling plate w3")):
            if ref is None:
                ranked = [h.key for h in session.text(query, QueryOptions(limit=200)).hits]
            want = expected_families(ranked, frame, column)
            options = QueryOptions(limit=len(want), collapse=column)
            got = session.like(ref, options, key=True) if ref else session.text(query, options)
            assert as_families(got) == want
            assert len({h.key for h in got.hits}) == len(got.hits)
            assert [h.rank for h in got.hits] == list(range(1, len(want) + 1))


def test_collapse_family_uses_the_recorded_family_field(families):
    settings, name, src, _ = families
    frame = pd.read_csv(src, dtype=str, keep_default_na=False)
    if settings.url is None:  # embedded (the in-memory server lives in this process only)
        args = ["info", "--path", settings.path, "--collection", name]
        shown = CliRunner().invoke(ingest_cli, args)
        assert "families    family_id (used by --collapse family)" in shown.stdout, shown.output
    with Session(settings, name) as session:
        assert session.open().manifest.family_field == "family_id"
        ranked = [h.key for h in session.like("P010", QueryOptions(limit=200), key=True).hits]
        got = session.like("P010", QueryOptions(limit=8, collapse="family"), key=True)
    assert as_families(got) == expected_families(ranked, frame, "family_id")[:8]
    assert "family_id" in got.collapse
    assert all(h.family.by == "family_id" for h in got.hits)


def test_pages_continue_after_the_families_of_the_page_before(families):
    settings, name, _, _ = families
    with Session(settings, name) as session:
        whole = session.like("P001", QueryOptions(limit=12, collapse="family"), key=True)
        pages = [
            session.like("P001", QueryOptions(limit=4, offset=o, collapse="family"), key=True)
            for o in (0, 4, 8)
        ]
    assert [as_families(p) for p in pages] == [
        as_families(whole)[0:4],
        as_families(whole)[4:8],
        as_families(whole)[8:12],
    ]
    assert [h.rank for p in pages for h in p.hits] == list(range(1, 13))


@pytest.mark.parametrize("source", ["keyword", "dense"])
def test_near_duplicate_families_are_the_hand_made_groups(tmp_path, monkeypatch, source):
    monkeypatch.setitem(dups_module.DEFAULT_THRESHOLD, source, 0.7)
    monkeypatch.setattr(collapse_module, "NEAR_DUP_SOURCES", (source,))
    settings = StoreSettings(path=str(tmp_path / "store"))
    load_fixture(settings, "dups", tmp_path)
    hand = {key: group for group in HAND_GROUPS for key in group}
    with Session(settings, "dups", model=FakeEmbedder(dimension=256)) as session:
        got = session.text(
            "robot gripper fingers pressure sensors", QueryOptions(limit=20, collapse="near-dup")
        )
        # no family field in this file: "family" falls back on near-duplicates
        same = session.text(
            "robot gripper fingers pressure sensors", QueryOptions(limit=20, collapse="family")
        )
    assert as_families(same) == as_families(got)
    keys = [h.key for h in got.hits]
    assert len(keys) == 8  # the fixture's eight inventions, one hit each
    for hit in got.hits:
        group = hand.get(hit.key, {hit.key})
        assert {hit.key, *(m.key for m in hit.family.members)} == group
        assert hit.family.size == len(group)
        assert all(0.7 <= m.score <= 1 + 1e-6 for m in hit.family.members)
    assert "near-duplicates" in got.collapse
    assert ("keyword vectors" in got.collapse) == (source == "keyword")


def test_collapse_refusals(families):
    settings, name, _, _ = families
    with Session(settings, name) as session:
        with pytest.raises(UserInputError) as exc:
            session.like("P001", QueryOptions(collapse="nope"), key=True)
        assert "`collapse`" in exc.value.message and "nope" in exc.value.message
        with pytest.raises(UserInputError) as exc:
            session.like("P001", QueryOptions(collapse="abstract"), key=True)
        assert "'abstract' is a text field" in exc.value.message
    with pytest.raises(UserInputError) as exc:
        QueryOptions(collapse="family", group_by="title").validate()
    assert "`collapse` and `group_by`" in exc.value.message


def test_cli_json_table_and_file(tmp_path):
    settings, name = StoreSettings(path=str(tmp_path / "store")), "families"
    src = write_families(tmp_path / "families.csv")
    load(
        src,
        LoadSettings(store_settings=settings, collection=name, id_column="pub"),
        embedder=FakeEmbedder(64),
    )
    runner = CliRunner()
    base = ["--path", settings.path, "--collection", name]
    as_json = runner.invoke(
        cli, ["like", "P002", "--key", "--collapse", "family", "-n", "3", "--format", "json", *base]
    )
    assert as_json.exit_code == 0, as_json.output
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [set(x) >= {"rank", "key", "family"} for x in lines] == [True] * 3
    assert lines[0]["family"]["by"] == "family_id"
    assert "one per family" in as_json.stderr
    table = runner.invoke(cli, ["like", "P002", "--key", "--collapse", "family", *base])
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[0].split()[:5] == ["rank", "cosine", "key", "row", "family"]
    out = tmp_path / "collapsed.xlsx"
    written = runner.invoke(
        cli, ["like", "P002", "--key", "--collapse", "family", "-o", str(out), *base]
    )
    assert written.exit_code == 0, written.output
    frame = pd.read_excel(out, dtype=str, keep_default_na=False)
    assert list(frame.columns[-2:]) == ["family_size", "family_members"]
    for x, (_, row) in zip(lines, frame.iterrows()):
        assert int(row["family_size"]) == x["family"]["size"]
        members = [m["key"] for m in x["family"]["members"]]
        assert row["family_members"] == "|".join(members)
    bad = runner.invoke(cli, ["like", "P002", "--key", "--collapse", "nope", *base])
    assert bad.exit_code == 2 and "--collapse" in bad.stderr, bad.output


def test_exporter_profiles_name_their_family_columns(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    expected = {
        "lens_family.csv": "Simple Family Members",
        "espacenet.csv": "Family number",
        "wipson.xlsx": "패밀리 문헌번호",
    }
    for name, field in expected.items():
        coll = name.split(".")[0]
        load(
            SAMPLES / name,
            LoadSettings(store_settings=settings, collection=coll),
            embedder=FakeEmbedder(),
        )
        with Session(settings, coll) as session:
            assert session.open().manifest.family_field == field, name
    load(
        SAMPLES / "google_patents.csv",
        LoadSettings(store_settings=settings, collection="g"),
        embedder=FakeEmbedder(),
    )
    with Session(settings, "g") as session:
        assert session.open().manifest.family_field is None


def test_family_uses_the_marked_groups_where_the_file_names_no_family(tmp_path):
    from patentsim.search.dups import DupOptions, find_duplicates

    settings = StoreSettings(path=str(tmp_path / "store"))
    load_fixture(settings, "dups", tmp_path)
    hand = {key: group for group in HAND_GROUPS for key in group}
    with Session(settings, "dups", model=FakeEmbedder(dimension=256)) as session:
        find_duplicates(session, DupOptions(threshold=0.7, mark=True))
    with Session(settings, "dups", model=FakeEmbedder(dimension=256)) as session:
        got = session.text("battery cooling plate", QueryOptions(limit=20, collapse="family"))
    assert "'_dup_group'" in got.collapse
    assert len(got.hits) == 8
    for hit in got.hits:
        assert hit.family.by == "_dup_group"
        assert {hit.key, *(m.key for m in hit.family.members)} == hand.get(hit.key, {hit.key})
