"""Files of many columns (issue 24): a 300-column file of 3 rows took 345 s to load (one
payload index per column, each costing more than the last), and one of 10,000 columns
never finished and left the collection "loading".

A collection now indexes at most ``MAX_FIELD_INDEXES`` of its columns
(``ingest/indexing.py``); filters on the others are answered from the payload, and must
select exactly what pandas selects, on every kind of field; facets of an unindexed field
count what an index would.  How long such loads take is measured by the benchmark
(BENCHMARKS.md), not asserted here.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from patentsim.ingest import indexing
from patentsim.ingest.cli import Seams
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, Session
from patentsim.search.query import facets
from patentsim.store import StoreSettings, open_store
from patentsim.store import edge as edge_mod

from .fakes import FakeEmbedder

ROWS = 40
KINDS = ("int", "float", "date", "word", "list", "bool")


def wide_csv(path: Path, columns: int, rows: int, seed: int = 7) -> Path:
    """``id``, ``abstract``, then ``columns`` columns cycling through the kinds above."""
    rng = random.Random(seed)
    names = [f"{KINDS[i % len(KINDS)]}_{i}" for i in range(columns)]
    start = dt.date(2015, 1, 1)

    def cell(kind: str) -> str:
        if rng.random() < 0.1:
            return ""  # missing
        if kind == "int":
            return str(rng.randint(-50, 50))
        if kind == "float":
            return f"{rng.uniform(-5, 5):.3f}"
        if kind == "date":
            return (start + dt.timedelta(days=rng.randint(0, 3000))).isoformat()
        if kind == "word":
            return rng.choice(["LG", "SK", "Samsung", "Hyundai"])
        if kind == "list":
            return "|".join(rng.sample(["B24B 3/34", "G01N 21/88", "H01M 10/6", "G06T 7/0"], 2))
        return rng.choice(["true", "false"])

    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", *names])
        for r in range(rows):
            w.writerow(
                [
                    r,
                    f"abstract {r} about a battery cooling loop",
                    *(cell(n.split("_")[0]) for n in names),
                ]
            )
    return path


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """The payload indexes the engine is asked to make."""
    made: list[str] = []
    real = edge_mod.EdgeCollection.ensure_index

    def ensure_index(self, key, index_type):
        if self.indexes().get(key) != index_type:
            made.append(key)
        return real(self, key, index_type)

    monkeypatch.setattr(edge_mod.EdgeCollection, "ensure_index", ensure_index)
    return made


def test_a_300_column_file_makes_at_most_the_budget_of_indexes(tmp_path, counted, monkeypatch):
    fake = Seams(embedder=FakeEmbedder())
    path = wide_csv(tmp_path / "wide.csv", 298, 3)
    result = CliRunner().invoke(ingest_cli, ["load", str(path), "--id", "id", "-c", "w"], obj=fake)
    assert result.exit_code == 0, result.output
    fields = [k for k in counted if not k.startswith("_")]
    # The embedded text's word index, and the budget's worth of the others.
    assert len(fields) == indexing.MAX_FIELD_INDEXES, fields
    assert "abstract" in fields
    assert "fields have no payload index (a collection indexes at most 32" in result.output
    store = open_store(StoreSettings.resolve())
    try:
        coll = store.open("w")
        manifest = coll.read_manifest()
        # Dates first (more date columns than the budget here), in the file's order.
        dates = [k for k, spec in manifest.fields.items() if spec.type == "datetime"]
        dates.sort(key=lambda k: int(k.split("_")[1]))
        assert sorted(fields) == sorted(["abstract", *dates[: indexing.MAX_FIELD_INDEXES - 1]])
        assert manifest.state == "ready" and coll.count() == 3
        unindexed = [k for k, spec in manifest.fields.items() if spec.index is None]
        assert len(unindexed) == 300 - indexing.MAX_FIELD_INDEXES
        assert set(coll.indexes()) >= set(fields)
    finally:
        store.close()

    # Loading it again makes no index (the choice is kept).
    counted.clear()
    again = CliRunner().invoke(ingest_cli, ["load", str(path), "--id", "id", "-c", "w"], obj=fake)
    assert again.exit_code == 0, again.output
    assert [k for k in counted if not k.startswith("_")] == []


def test_10000_columns_finish(tmp_path):
    path = wide_csv(tmp_path / "wider.csv", 9_998, 3)
    settings = StoreSettings.resolve()
    summary = load(
        path,
        LoadSettings(store_settings=settings, collection="w", id_column="id"),
        embedder=FakeEmbedder(),
    )
    assert summary.points == 3
    store = open_store(settings)
    try:
        manifest = store.open("w").read_manifest()
    finally:
        store.close()
    with open(path, encoding="utf-8", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    filled = [name for i, name in enumerate(header) if any(row[i] for row in rows)]
    assert manifest.state == "ready" and sorted(manifest.fields) == sorted(filled)


def _conditions(df: pd.DataFrame, name: str) -> list[tuple[str, pd.Series]]:
    """--where conditions on one column, with the rows pandas selects for each."""
    kind = name.split("_")[0]
    col = df[name]
    present = col.notna() & (col.astype(str) != "")
    out = [(f"{name} exists", present), (f"{name} missing", ~present)]
    if kind in ("int", "float"):
        num = pd.to_numeric(col, errors="coerce")
        out += [(f"{name}>=0", num >= 0), (f"{name}<1.5", num < 1.5)]
    elif kind == "date":
        when = pd.to_datetime(col, errors="coerce")
        out += [(f"{name}>=2018-06", when >= "2018-06-01"), (f"{name}<2017", when < "2017-01-01")]
    elif kind == "word":
        out += [(f"{name}=LG", col == "LG"), (f"{name}!=SK", col != "SK")]
    elif kind == "list":
        holds = col.fillna("").str.split("|").map(lambda xs: "G01N 21/88" in xs)
        out += [(f"{name}=G01N 21/88", holds)]
    else:
        out += [(f"{name}=true", col.astype(str).str.lower() == "true")]
    return out


def test_filters_on_fields_without_an_index_equal_pandas(tmp_path, monkeypatch):
    """More columns than the budget (a small one here), every kind among the unindexed."""
    monkeypatch.setattr(indexing, "MAX_FIELD_INDEXES", 4)
    path = wide_csv(tmp_path / "wide.csv", 24, ROWS)
    settings = StoreSettings.resolve()
    load(
        path,
        LoadSettings(store_settings=settings, collection="w", id_column="id"),
        embedder=FakeEmbedder(),
    )
    df = pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None)
    store = open_store(settings)
    session = Session(settings, "w", store=store)
    try:
        manifest = store.open("w").read_manifest()
        unindexed = {k for k, spec in manifest.fields.items() if spec.index is None}
        assert {k.split("_")[0] for k in unindexed} - {"id"} == set(KINDS)
        checked = 0
        for name in [c for c in df.columns if c not in ("id", "abstract")]:
            for where, mask in _conditions(df, name):
                hits = session.like("0", QueryOptions(where=(where,), limit=ROWS), key=True)
                got = {h.key for h in hits.hits}
                want = {str(k) for k in df.loc[mask.fillna(False).astype(bool), "id"]} - {"0"}
                assert got == want, (where, name in unindexed)
                checked += 1
        assert checked >= 60
    finally:
        store.close()


def test_facets_of_a_field_without_an_index_count_what_an_index_would(tmp_path, monkeypatch):
    path = wide_csv(tmp_path / "wide.csv", 12, ROWS)
    counts = {}
    for budget, name in ((0, "bare"), (100, "indexed")):
        monkeypatch.setattr(indexing, "MAX_FIELD_INDEXES", budget)
        settings = StoreSettings.resolve()
        load(
            path,
            LoadSettings(store_settings=settings, collection=name, id_column="id"),
            embedder=FakeEmbedder(),
        )
        counts[name] = {
            field: facets(field, QueryOptions(limit=10), collection=name, settings=settings).counts
            for field in ("word_3", "list_4", "int_0", "bool_5")
        }
    assert counts["bare"] == counts["indexed"]
    assert all(counts["bare"].values())


def test_name_keys_count_in_the_index_budget(tmp_path, counted):
    """Each name column's keys (``_name_*``) are an index: they count in the budget, rank
    with the list fields, and those left out are said in the summary; a facet of a name
    field whose keys have no index still counts what pandas counts."""
    columns = 40
    path = tmp_path / "names.csv"
    rng = random.Random(3)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "abstract", "word_a", *(f"applicant_{i}" for i in range(columns))])
        for r in range(ROWS):
            parties = ["LG Chem", "LG화학", "SK On", "Samsung SDI"]
            names = [rng.choice(parties) for _ in range(columns)]
            w.writerow([r, f"abstract {r} about a battery cooling loop", "x", *names])
    fake = Seams(embedder=FakeEmbedder())
    result = CliRunner().invoke(ingest_cli, ["load", str(path), "--id", "id", "-c", "n"], obj=fake)
    assert result.exit_code == 0, result.output
    keys = [k for k in counted if k.startswith("_name_")]
    fields = [k for k in counted if not k.startswith("_")]
    assert len(keys) + len(fields) == indexing.MAX_FIELD_INDEXES, (keys, fields)
    assert fields == ["abstract"]
    assert keys == [f"_name_applicant_{i}" for i in range(indexing.MAX_FIELD_INDEXES - 1)]
    left = columns - (indexing.MAX_FIELD_INDEXES - 1)
    assert "name keys included" in result.output
    assert f"note: the name keys of applicant_{columns - left}, " in result.output

    store = open_store(StoreSettings.resolve())
    try:
        coll = store.open("n")
        manifest = coll.read_manifest()
        spec = manifest.fields[f"applicant_{columns - 1}"]
        assert spec.names == f"_name_applicant_{columns - 1}" and not spec.names_indexed
        assert spec.names not in coll.indexes()
        assert manifest.fields["applicant_0"].names_indexed
    finally:
        store.close()

    frame = pd.read_csv(path)
    for name in ("applicant_0", f"applicant_{columns - 1}"):
        counts = {c.value: c.count for c in facets(name, collection="n").counts}
        assert counts == frame[name].value_counts().to_dict(), name

    counted.clear()
    again = CliRunner().invoke(ingest_cli, ["load", str(path), "--id", "id", "-c", "n"], obj=fake)
    assert again.exit_code == 0, again.output
    assert counted == []
