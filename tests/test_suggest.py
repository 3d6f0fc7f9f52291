"""Class suggestion (``search suggest``): on a collection whose classes are known, the
right class comes first, by text and by document; a document's own codes never vote; the
scores are the voters' weight shares; ``search eval --suggest`` measures it.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.errors import UserInputError
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import Session
from patentsim.search.cli import cli
from patentsim.search.results import Hit
from patentsim.search.suggest import (
    SuggestEvalOptions,
    SuggestOptions,
    evaluate_suggestions,
    suggest,
    vote,
)
from patentsim.store import StoreSettings, open_store

from .conftest import BACKENDS
from .fakes import FakeEmbedder

# Six topics, each with its own words and its IPC class.
TOPICS = {
    "H01M 10/613": "battery cell cooling plate coolant channel thermal stack module",
    "B24B 37/04": "wafer polishing pad groove slurry platen conditioner carrier",
    "B25J 15/08": "robot gripper finger grasp pressure sensor arm object",
    "G06T 15/00": "graphics render shader pixel texture frame raster scene",
    "G10L 15/22": "speech recogniser phoneme acoustic lexicon utterance decoder",
    "H02S 40/32": "solar photovoltaic panel inverter irradiance module tracker",
}
NOISE = ["Y02E 60/10", "G05B 19/418", "H04L 67/10"]


def rows() -> list[str]:
    """Twelve documents per topic: six of its words, its class and often a class of noise."""
    rng = random.Random(3)
    out = ["doc_id,title,abstract,ipc"]
    n = 0
    for code, words in TOPICS.items():
        vocab = words.split()
        for _ in range(12):
            n += 1
            text = " ".join(rng.sample(vocab, 6))
            codes = [code] + ([rng.choice(NOISE)] if rng.random() < 0.5 else [])
            out.append(f"D{n:03d},t{n},{text},{'|'.join(codes)}")
    # A battery text filed under a wrong class: its own code must not vote for itself.
    out.append("WRONG,t0,battery cell cooling plate coolant channel stack,A01B 1/00")
    return out


@pytest.fixture(params=BACKENDS)
def classed(request, tmp_path, unique_name):
    settings = (
        StoreSettings(path=str(tmp_path / "store"))
        if request.param == "embedded"
        else StoreSettings(url=":memory:")
    )
    src = tmp_path / "classed.csv"
    src.write_text("\n".join(rows()) + "\n", encoding="utf-8")
    load(
        src,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="doc_id"),
        embedder=FakeEmbedder(),
    )
    yield settings, unique_name
    store = open_store(settings)
    if unique_name in store.list():
        store.drop(unique_name)
    store.close()


@pytest.mark.parametrize("mode", ["dense", "keyword"])
def test_the_right_class_comes_first_for_a_text(classed, mode):
    settings, name = classed
    with Session(settings, name, model=FakeEmbedder()) as session:
        for code, words in TOPICS.items():
            query = " ".join(words.split()[1:5])
            found = suggest(session, SuggestOptions("ipc", mode=mode), text=query)
            assert found.classes[0].code == code[:4], (query, found.classes[:3])
            assert found.classes[0].score > 0.5
            full = suggest(session, SuggestOptions("ipc", level="group", mode=mode), text=query)
            assert full.classes[0].code == code.split("/")[0].replace(" ", "")
            assert found.mode == mode and len(found.voters) == 10


def test_a_documents_own_codes_never_vote(classed):
    settings, name = classed
    with Session(settings, name) as session:
        found = suggest(session, SuggestOptions("ipc", k=5), ref="WRONG", key=True)
    assert found.classes[0].code == "H01M"
    assert "A01B" not in {c.code for c in found.classes}
    assert found.query is not None and found.query.key == "WRONG"
    assert "WRONG" not in {h.key for h in found.voters}


def test_scores_are_the_voters_weight_shares():
    def hit(score, ipc):
        return Hit(rank=1, score=score, key=f"k{score}", row=None, payload={"ipc": ipc})

    hits = [hit(0.9, ["H01M 10/6"]), hit(0.6, ["H01M 2/1", "Y02E 60/10"]), hit(0.5, ["B24B 1/0"])]
    got = vote(hits, "ipc", "subclass")
    assert [(c.code, c.documents, c.keys) for c in got] == [
        ("H01M", 2, ["k0.9", "k0.6"]),
        ("Y02E", 1, ["k0.6"]),
        ("B24B", 1, ["k0.5"]),
    ]
    assert [c.score for c in got] == pytest.approx([1.5 / 2.0, 0.6 / 2.0, 0.5 / 2.0])
    assert [c.rank for c in got] == [1, 2, 3]


def test_eval_suggest_measures_held_out_documents(classed):
    settings, name = classed
    with Session(settings, name) as session:
        report = evaluate_suggestions(
            session, SuggestEvalOptions("ipc", sample=40, modes=("dense", "keyword"))
        )
    assert [r.mode for r in report.rows] == ["dense", "keyword"]
    for row in report.rows:
        assert row.queries == 40
        assert row.precision_at_1 >= 0.95
        assert 0.5 < row.recall_at_5 <= 1.0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (SuggestOptions("ipc", level="section"), "`level` must be one of subclass, group, full"),
        (SuggestOptions("ipc", k=0), "-k must be at least 1, not 0"),
        (SuggestOptions("ipc", mode="fuzzy"), "`mode` must be one of"),
        (SuggestOptions(" "), "`label` must name the field of the classes"),
    ],
)
def test_bad_options_are_named(options, message):
    with pytest.raises(UserInputError) as exc:
        options.validate()
    assert message in exc.value.message


def test_cli(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    src = Path(tmp_path / "classed.csv")
    src.write_text("\n".join(rows()) + "\n", encoding="utf-8")
    load(
        src,
        LoadSettings(store_settings=settings, collection="c", id_column="doc_id"),
        embedder=FakeEmbedder(),
    )
    runner = CliRunner()
    base = ["--path", settings.path, "--collection", "c"]
    table = runner.invoke(cli, ["suggest", "--label", "ipc", "--ref", "WRONG", "--key", *base])
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[1].split()[:2] == ["1", "H01M"]
    as_json = runner.invoke(
        cli, ["suggest", "--label", "ipc", "--ref", "D001", "--format", "json", *base]
    )
    assert as_json.exit_code == 0, as_json.output
    first = json.loads(as_json.stdout.splitlines()[0])
    assert first["code"] == "H01M" and first["rank"] == 1 and 0 < first["score"] <= 1
    assert runner.invoke(cli, ["suggest", "--label", "ipc", *base]).exit_code == 2
    unknown = runner.invoke(cli, ["suggest", "--label", "nope", "--ref", "0", *base])
    assert unknown.exit_code == 2 and "nope" in unknown.stderr, unknown.output
    measured = runner.invoke(
        cli,
        ["eval", "--label", "ipc", "--suggest", "--sample", "20", "--mode", "dense", *base],
    )
    assert measured.exit_code == 0, measured.output
    assert "precision@1" in measured.stdout
