"""Fitting the model to the data: the semi-hard miner, tuning, comparing models, the split.

The real offline model (all-MiniLM-L6-v2) is tuned once per session for one short epoch on a
small labelled fixture (the English sample without repeated abstracts); the comparison, the
load into a new collection and ``search text`` through the ONNX export use that model.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from patentsim.errors import UserInputError
from patentsim.fit.documents import Document, Reading, read_corpus
from patentsim.fit.mining import LabelIndex, batch_relations, mine_triplets, semi_hard_negative
from patentsim.fit.split import holdout_split, text_key
from patentsim.fit.tune import MaskedCosine, TuneOptions, amp_dtype, tune
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.search.cli import cli as search_cli

from .conftest import EN_XLSX

pytestmark = pytest.mark.slow


# -- the semi-hard miner ---------------------------------------------------------------------


def _unit(cos: float) -> list[float]:
    """A 2-D unit vector whose cosine with (1, 0) is ``cos``."""
    return [cos, float(np.sqrt(1 - cos * cos))]


def test_semi_hard_miner_picks_the_negative_computed_by_hand():
    # Document 0 is the anchor at (1, 0); every other vector's cosine with it is given.
    cosines = {
        1: 0.80,  # the positive: shares the main group G06F9 with the anchor
        2: 0.95,  # shares the subclass G06F (not the group): never a negative
        3: 0.90,  # the hardest negative: closer than the positive
        4: 0.75,  # semi-hard: d(a,p) = 0.20 < d = 0.25 < 0.20 + margin 0.2
        5: 0.65,  # semi-hard too, but farther (d = 0.35)
        6: 0.30,  # easy: beyond the margin (d = 0.70)
    }
    labels = ["G06F9/30", "G06F9/38", "G06F12/08", "H04N19/1", "G06T1/20", "H04L9/40", "B60L3/00"]
    vectors = np.array([[1.0, 0.0]] + [_unit(cosines[i]) for i in range(1, 7)], dtype=np.float32)
    docs = [Document(str(i), f"text {i}", code) for i, code in enumerate(labels)]
    positives = LabelIndex([d.codes("group") for d in docs])
    negatives = LabelIndex([d.codes("subclass") for d in docs])
    mined = mine_triplets(
        vectors, positives, negatives, list(range(7)), margin=0.2, rng=random.Random(0)
    )
    triplet = dict(zip(mined.anchors, zip(mined.positives, mined.negatives)))
    # By hand: allowed negatives of 0 are 3, 4, 5, 6 (2 shares G06F); the band is
    # 0.6 < cos < 0.8, holding 4 (0.75) and 5 (0.65); the closest of those is 4.
    assert triplet[0] == (1, 4)
    hardest = max((3, 4, 5, 6), key=lambda j: cosines[j])
    easiest = min((3, 4, 5, 6), key=lambda j: cosines[j])
    assert triplet[0][1] not in (hardest, easiest)
    # Document 1's positive is 0; everything else falls where its own cosines put it.
    assert triplet[1][0] == 0 and mined.no_positive == 5


def test_semi_hard_fallbacks():
    sims = np.array([0.0, 0.95, 0.9, 0.2])
    allowed = np.array([False, True, True, True])
    # Nothing in the band (0.6, 0.8): the least hard of those closer than the positive.
    assert semi_hard_negative(sims, 0.8, allowed, 0.2) == (2, "hard")
    # Only easy negatives: no triplet.
    assert semi_hard_negative(sims, 0.8, np.array([False, False, False, True]), 0.2) == (
        None,
        "easy",
    )
    assert semi_hard_negative(sims, 0.8, np.zeros(4, dtype=bool), 0.2) == (None, "easy")


def test_masked_cosine_removes_in_batch_false_negatives():
    import torch

    masked = MaskedCosine()
    a = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    masked.mask = torch.tensor([[False, True], [False, False]])
    scores = masked(a, a)
    assert scores[0, 1] == float("-inf") and scores[0, 0] == pytest.approx(1.0)
    assert scores[1, 0] == pytest.approx(0.0)


def test_supervised_contrastive_loss_equals_a_hand_computation():
    """``supcon`` over a constructed batch: the relations and the loss, against numpy."""
    import torch

    from patentsim.fit.contrastive import supcon_loss

    # Batch documents (indices into these labels); 4 repeats 0's text.
    labels = ["G06F9/30", "G06F9/38", "G06F12/08", "H04N19/1", "G06F9/30"]
    docs = [Document(str(i), f"text {i}", code) for i, code in enumerate(labels)]
    groups = LabelIndex([d.codes("group") for d in docs])
    subclasses = LabelIndex([d.codes("subclass") for d in docs])
    text_groups = [0, 1, 2, 3, 0]
    exclude, (pos_group, pos_sub) = batch_relations(
        [0, 1, 2, 3, 4], [groups, subclasses], text_groups
    )
    assert exclude[0] == [True, False, False, False, True]
    # 0's positives: 1 (same group G06F9); at the subclass also 2 (G06F); 4 has its text.
    assert pos_group[0] == [False, True, False, False, False]
    assert pos_sub[0] == [False, True, True, False, False]
    assert pos_group[3] == [False] * 5 and pos_sub[2] == [True, True, False, False, True]

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(5, 8))
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    logits = 20.0 * unit @ unit.T
    by_level = []
    for pos in (pos_group, pos_sub):
        terms = []
        for i in range(5):
            kept = [k for k in range(5) if not exclude[i][k]]
            positives = [k for k in kept if pos[i][k]]
            if not positives:
                continue
            log_norm = np.log(np.sum(np.exp(logits[i, kept])))
            terms.append(-np.mean([logits[i, p] - log_norm for p in positives]))
        by_level.append(np.mean(terms))
    expected = float(np.mean(by_level))
    got = supcon_loss(
        torch.tensor(vectors, dtype=torch.float32),
        torch.tensor(exclude),
        [torch.tensor(pos_group), torch.tensor(pos_sub)],
    )
    assert float(got) == pytest.approx(expected, rel=1e-5)
    # The gradient pulls a positive closer: moving 1 towards 0 lowers the loss.
    moved = vectors.copy()
    moved[1] = 0.5 * moved[1] + 0.5 * unit[0] * np.linalg.norm(vectors[1])
    lower = supcon_loss(
        torch.tensor(moved, dtype=torch.float32),
        torch.tensor(exclude),
        [torch.tensor(pos_group), torch.tensor(pos_sub)],
    )
    assert float(lower) < float(got)


def test_amp_dtype_picks_mixed_precision_on_cuda_only():
    assert amp_dtype("cpu", "auto") is None
    assert amp_dtype("cuda", "auto", bf16_supported=True) == "bfloat16"
    assert amp_dtype("cuda:1", "auto", bf16_supported=False) == "float16"
    assert amp_dtype("cuda", "fp32") is None
    assert amp_dtype("cpu", "fp16") == "float16"


# -- the split --------------------------------------------------------------------------------


def test_holdout_keeps_repeated_texts_on_one_side():
    docs = [Document(str(i), f"abstract {i % 30}", "G06F1/00") for i in range(60)]
    split = holdout_split(docs, 0.25, seed=3)
    assert len(split.held_out) == 16  # whole pairs: the first group past 15 documents
    held = {text_key(docs[i].text) for i in split.held_out}
    trained = {text_key(docs[i].text) for i in split.train}
    assert not held & trained and split.repeated_texts == 60
    assert holdout_split(docs, 0.25, seed=3).held_out == split.held_out
    assert holdout_split(docs, 0.25, seed=4).held_out != split.held_out


# -- tuning on a small labelled fixture -----------------------------------------------------


@pytest.fixture(scope="session")
def fixture_file(tmp_path_factory) -> Path:
    """The English sample's rows without repeated abstracts, as CSV (54 documents)."""
    import pandas as pd

    df = pd.read_excel(EN_XLSX)
    df = df.drop_duplicates("abstract")
    path = tmp_path_factory.mktemp("fit") / "labelled.csv"
    df.to_csv(path, index=False)
    return path


OPTIONS = TuneOptions(
    level="group", loss="triplet", epochs=1, batch_size=8, max_seq_length=64, holdout=0.3
)


@pytest.fixture(scope="session")
def tuned(tmp_path_factory, fixture_file):
    """One short epoch of the offline model on the fixture, with what training saw."""
    from patentsim.fit import tune as tune_module

    seen: list[str] = []
    measured: list[list[str]] = []
    features = tune_module._Trainer._features
    measure = tune_module._Trainer.measure

    def spy_features(self, texts):
        seen.extend(texts)
        return features(self, texts)

    def spy_measure(self, held, info):
        measured.append([d.key for d in held])
        return measure(self, held, info)

    mp = pytest.MonkeyPatch()
    mp.setattr(tune_module._Trainer, "_features", spy_features)
    mp.setattr(tune_module._Trainer, "measure", spy_measure)
    out = tmp_path_factory.mktemp("models") / "tuned"
    try:
        report = tune(
            "cpc",
            output=out,
            source=fixture_file,
            reading=Reading(id_column="doc_id"),
            base="minilm",
            options=OPTIONS,
        )
    finally:
        mp.undo()
    return out, report, seen, measured


# One short epoch of in-batch negatives on a small corpus: the runs the tests compare.
TINY = TuneOptions(level="subclass", loss="mnrl", batch_size=4, max_seq_length=16, holdout=0.25)


def small_corpus(path: Path, count: int = 24):
    """The first ``count`` documents of the labelled fixture."""
    corpus = read_corpus("cpc", source=path, reading=Reading(id_column="doc_id"))
    corpus.documents = corpus.documents[:count]
    return corpus


def test_tuning_changes_the_model_and_writes_a_loadable_folder_with_its_card(
    tuned, offline_embedder
):
    from sentence_transformers import SentenceTransformer

    from patentsim.embed.embedder import EmbedderConfig

    out, report, _, _ = tuned
    probe = ["A memory controller orders requests by bank.", "Rays are traversed in hardware."]
    model = SentenceTransformer(str(out), device="cpu")
    assert model.max_seq_length == 64  # the window it was trained with
    base = SentenceTransformer(str(offline_embedder.config.folder), device="cpu")
    base.max_seq_length = 64
    after = model.encode(probe, normalize_embeddings=True)
    untouched = base.encode(probe, normalize_embeddings=True)
    assert np.abs(after - untouched).max() > 1e-3  # the weights moved
    # patentsim loads the folder as any model folder.
    emb = EmbedderConfig.choose(str(out), device="cpu").load()
    assert emb.name == str(out.resolve()) and emb.dimension == 384
    assert np.allclose(emb.encode(probe), after, atol=1e-5)
    card = (out / "README.md").read_text(encoding="utf-8")
    for needle in (
        'base_model: "sentence-transformers/all-MiniLM-L6-v2"',
        "label `cpc`",
        "level `group`",
        "Loss: `triplet`",
        "Epochs 1",
        f"{report.split['train']} documents trained on, {report.split['held_out']} held out",
        "| dense | P@10 subclass |",
    ):
        assert needle in card, needle
    record = json.loads((out / "patentsim_tuning.json").read_text(encoding="utf-8"))
    assert record["options"]["loss"] == "triplet" and record["label"] == "cpc"
    assert {r["mode"] for r in record["after"]} == {"dense", "keyword", "hybrid"}
    assert record["epochs"][0]["mining"]["triplets"] == record["epochs"][0]["examples"] > 0


def test_held_out_documents_are_never_trained_on(tuned, fixture_file):
    _, report, seen, measured = tuned
    corpus = read_corpus("cpc", source=fixture_file, reading=Reading(id_column="doc_id"))
    by_key = {d.key: d for d in corpus.documents}
    # Both measurements (base and tuned) ran on the same held-out documents, and only on them.
    assert measured[0] == measured[1] and len(measured[0]) == report.split["held_out"]
    held_texts = {by_key[k].text for k in measured[0]}
    assert seen and not held_texts & set(seen)
    trained = {d.key for d in corpus.documents if d.text in set(seen)}
    assert trained and not trained & set(measured[0])
    assert report.split["train"] + report.split["held_out"] == len(corpus.documents) == 54


def test_tuning_is_deterministic_on_the_cpu_for_a_seed(tmp_path, fixture_file):
    corpus = small_corpus(fixture_file)
    tiny = TuneOptions(
        level="subclass", loss="mnrl", batch_size=4, max_seq_length=16, holdout=0.25, seed=7
    )
    first = tune("cpc", output=tmp_path / "a", base="minilm", options=tiny, corpus=corpus)
    again = tune("cpc", output=tmp_path / "b", base="minilm", options=tiny, corpus=corpus)
    a = (tmp_path / "a" / "model.safetensors").read_bytes()
    assert a == (tmp_path / "b" / "model.safetensors").read_bytes()
    assert first.epochs[0].loss == again.epochs[0].loss
    other = tune(
        "cpc",
        output=tmp_path / "c",
        base="minilm",
        options=TuneOptions(**{**vars(tiny), "seed": 8}),
        corpus=corpus,
    )
    assert (tmp_path / "c" / "model.safetensors").read_bytes() != a
    assert other.split["seed"] == 8


def test_mixed_precision_path_trains(tmp_path, fixture_file):
    """The autocast path that CUDA takes, run here with bf16 on the CPU."""
    corpus = read_corpus("cpc", source=fixture_file, reading=Reading(id_column="doc_id"))
    corpus.documents = corpus.documents[:16]
    opts = TuneOptions(
        level="subclass",
        loss="mnrl",
        batch_size=4,
        max_seq_length=16,
        holdout=0.25,
        precision="bf16",
    )
    report = tune("cpc", output=tmp_path / "m", base="minilm", options=opts, corpus=corpus)
    assert report.precision == "bf16" and np.isfinite(report.epochs[0].loss)


def test_in_batch_negatives_with_mined_ones_train(tmp_path, fixture_file, offline_embedder):
    """``mnrl-mined``: the semi-hard negatives are mined every epoch and join the batch."""
    corpus = small_corpus(fixture_file)
    opts = TuneOptions(
        level="subclass",
        loss="mnrl-mined",
        epochs=2,
        batch_size=4,
        max_seq_length=16,
        holdout=0.25,
        margin=1.5,
    )
    out = tmp_path / "mm"
    report = tune("cpc", output=out, base="minilm", options=opts, corpus=corpus)
    for epoch in report.epochs:
        assert epoch.mining["triplets"] == epoch.examples > 0 and np.isfinite(epoch.loss)
    # Three texts per example: anchor, positive and the mined negative.
    examples = sum(e.examples for e in report.epochs)
    passes = report.train_seconds - sum(e.mining_seconds for e in report.epochs)
    assert report.train_texts_per_second * passes == pytest.approx(3 * examples, rel=0.2)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "`mnrl-mined` (MultipleNegativesRankingLoss" in card and "plus one semi-hard" in card
    base = offline_embedder.config.folder / "model.safetensors"
    assert (out / "model.safetensors").read_bytes() != base.read_bytes()


def test_supervised_contrastive_tuning_trains(tmp_path, fixture_file, offline_embedder):
    """``supcon``: pairs' documents form the batch; the model changes and the card says so."""
    corpus = small_corpus(fixture_file)
    opts = dataclasses.replace(TINY, level="group", loss="supcon")
    out = tmp_path / "sc"
    report = tune("cpc", output=out, base="minilm", options=opts, corpus=corpus)
    assert report.epochs[0].examples > 0 and np.isfinite(report.epochs[0].loss)
    assert report.negative_level == "subclass"
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "`supcon` (supervised contrastive" in card
    base = offline_embedder.config.folder / "model.safetensors"
    assert (out / "model.safetensors").read_bytes() != base.read_bytes()


def test_title_pairs_join_the_training(tmp_path, fixture_file):
    """``titles``: each titled anchor's title is also trained to find its text; every text
    through the passes is counted, and documents without titles are refused."""
    corpus = small_corpus(fixture_file)
    assert all(d.title for d in corpus.documents)
    opts = TINY
    plain = tune("cpc", output=tmp_path / "p", base="minilm", options=opts, corpus=corpus)
    titled = tune(
        "cpc",
        output=tmp_path / "t",
        base="minilm",
        options=dataclasses.replace(opts, titles=True),
        corpus=corpus,
    )
    # Pairs of texts, plus a title and its text for every anchor (all have titles).
    assert plain.epochs[0].texts == 2 * plain.epochs[0].examples
    assert titled.epochs[0].texts == 4 * titled.epochs[0].examples
    assert titled.epochs[0].loss > plain.epochs[0].loss  # the title term adds its own loss
    a = (tmp_path / "p" / "model.safetensors").read_bytes()
    assert (tmp_path / "t" / "model.safetensors").read_bytes() != a
    untitled = dataclasses.replace(
        corpus, documents=[dataclasses.replace(d, title=None) for d in corpus.documents]
    )
    card = (tmp_path / "t" / "README.md").read_text(encoding="utf-8")
    assert "each title trained to find its text (`--titles`)" in card
    assert "`--titles`" not in (tmp_path / "p" / "README.md").read_text(encoding="utf-8")
    said: list[str] = []
    with pytest.raises(UserInputError, match="`titles`: fewer than 2 training documents"):
        tune(
            "cpc",
            output=tmp_path / "u",
            base="minilm",
            options=dataclasses.replace(opts, titles=True),
            corpus=untitled,
            log=said.append,
        )
    # Refused before the base model is measured, and nothing written.
    assert not any("measuring" in m for m in said) and not (tmp_path / "u").exists()
    # Without titles there are no known-item queries (before, the key stood in as a title
    # and measuring failed for want of its query vector).
    report = tune("cpc", output=tmp_path / "n", base="minilm", options=opts, corpus=untitled)
    assert report.before and all(r.mrr is None for r in report.before + report.after)


def test_a_training_share_keeps_the_held_out_side(tmp_path, fixture_file):
    """The benchmarks' learning curve: fewer training documents, the same held-out ones."""
    corpus = small_corpus(fixture_file)
    opts = TINY
    full = tune("cpc", output=tmp_path / "f", base="minilm", options=opts, corpus=corpus)
    half = tune(
        "cpc", output=tmp_path / "h", base="minilm", options=opts, corpus=corpus, train_share=0.5
    )
    assert half.keys["held_out"] == full.keys["held_out"]
    assert set(half.keys["train"]) < set(full.keys["train"])
    assert len(half.keys["train"]) == round(0.5 * len(full.keys["train"]))
    assert half.split["train_share"] == 0.5 and "train_share" not in full.split
    assert half.epochs[0].examples < full.epochs[0].examples


# -- comparing models -----------------------------------------------------------------------


def _labels(cell: str, level: str) -> set[str]:
    out = set()
    for item in str(cell).split("|"):
        code = re.sub(r"\s+", "", item).upper()
        out.add(code[:4] if level == "subclass" else code.split("/")[0])
    return out


def _mrr(scores: np.ndarray) -> float:
    """Known-item MRR@10: query i's own document i; documents tied with it on score share
    their ranks (texts that agree on the model's whole window get one vector)."""
    total = 0.0
    for i, row in enumerate(scores):
        above = int(np.sum(row > row[i] + 1e-6))
        tied = int(np.sum(np.abs(row - row[i]) <= 1e-6))
        assert not above < 10 < above + tied, "a tie across rank 10: the engine's order decides"
        if above < 10:
            total += np.mean([1 / r for r in range(above + 1, above + tied + 1)])
    return total / len(scores)


def test_compare_prints_one_row_per_model_equal_to_numpy(tuned, fixture_file):
    import pandas as pd
    from sentence_transformers import SentenceTransformer

    from patentsim.embed.model import offline_model_path

    out, report, _, _ = tuned
    res = CliRunner().invoke(
        ingest_cli,
        [
            "models",
            "compare",
            str(fixture_file),
            "--label",
            "cpc",
            "--id",
            "doc_id",
            "--model",
            "minilm",
            "--model",
            str(out),
            "--mode",
            "dense",
            "--sample",
            "100",
            "--format",
            "json",
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [r["mode"] for r in rows] == ["dense", "dense"]
    assert rows[1]["model"] == str(out.resolve()) and rows[0]["model"].endswith("all-MiniLM-L6-v2")
    # The tuned model was trained on some of these documents, and says so.
    assert rows[1]["trained_on"] == report.split["train"] and rows[0]["trained_on"] == 0
    df = pd.read_csv(fixture_file)
    for row, folder in zip(rows, [offline_model_path(), out]):
        assert row["queries"] == len(df) == 54
        model = SentenceTransformer(str(folder), device="cpu")
        # The batch size of the command (16): the same padding, the same floats.
        docs = model.encode(df["abstract"].tolist(), batch_size=16, normalize_embeddings=True)
        titles = model.encode(df["title"].tolist(), batch_size=16, normalize_embeddings=True)
        sims = docs @ docs.T
        np.fill_diagonal(sims, -np.inf)
        nearest = np.argsort(-sims, axis=1)[:, :10]
        for level in ("subclass", "group"):
            labels = [_labels(c, level) for c in df["cpc"]]
            p10 = np.mean(
                [
                    sum(1 for j in near if labels[j] & labels[i]) / 10
                    for i, near in enumerate(nearest)
                ]
            )
            assert row["precision"][level] == pytest.approx(p10, abs=1e-4)
        assert row["mrr"] == pytest.approx(_mrr(titles @ docs.T), abs=1e-4)
        assert row["embed_seconds"] > 0 and row["docs_per_second"] > 0


def test_compare_table_and_bad_input(fixture_file):
    runner = CliRunner()
    res = runner.invoke(
        ingest_cli,
        ["models", "compare", str(fixture_file), "--label", "cpcc", "--model", "minilm"],
    )
    assert res.exit_code == 2 and "no column 'cpcc'" in res.output
    assert "Traceback" not in res.output
    res = runner.invoke(ingest_cli, ["models", "compare", str(fixture_file), "--label", "cpc"])
    assert res.exit_code == 2 and "--model" in res.output


# -- using the tuned model -------------------------------------------------------------------


def test_tuned_folder_loads_into_a_new_collection_and_answers_search_text(
    tuned, fixture_file, tmp_path
):
    from patentsim.embed.engines import find_export
    from patentsim.embed.model import fingerprint

    out, _, _, _ = tuned
    runner = CliRunner()
    base = runner.invoke(
        ingest_cli,
        ["load", str(fixture_file), "--id", "doc_id", "-c", "pats", "--model", "minilm", "-q"],
    )
    assert base.exit_code == 0, base.output
    # The old collection refuses the tuned model: it goes into a new one.
    mixed = runner.invoke(
        ingest_cli, ["load", str(fixture_file), "-c", "pats", "--model", str(out), "-q"]
    )
    assert mixed.exit_code == 1 and "another --collection" in mixed.output
    new = runner.invoke(
        ingest_cli,
        [
            "load",
            str(fixture_file),
            "--id",
            "doc_id",
            "-c",
            "pats-tuned",
            "--model",
            str(out),
            "-q",
        ],
    )
    assert new.exit_code == 0, new.output
    listed = runner.invoke(ingest_cli, ["list", "--format", "json"])
    names = {json.loads(line)["collection"] for line in listed.output.splitlines()}
    assert names == {"pats", "pats-tuned"}
    assert find_export(fingerprint(out)) is not None  # written at load: search text runs it
    res = runner.invoke(
        search_cli,
        [
            "text",
            "ray traversal of a bounding volume hierarchy",
            "-c",
            "pats-tuned",
            "--mode",
            "dense",
            "--format",
            "json",
        ],
    )
    assert res.exit_code == 0, res.output
    hits = [json.loads(line) for line in res.output.splitlines() if line.startswith("{")]
    assert len(hits) == 10 and hits[0]["score"] > 0.3
    # The folder changes: the fingerprint no longer matches the collection's.
    changed = tmp_path / "changed"
    import shutil

    shutil.copytree(out, changed)
    config = changed / "sentence_bert_config.json"
    config.write_text(config.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    res = runner.invoke(
        search_cli,
        ["text", "ray traversal", "-c", "pats-tuned", "--model", str(changed), "--mode", "dense"],
    )
    assert res.exit_code == 1 and "fingerprint" in res.output


def test_tune_cli_refuses_bad_input(fixture_file, tmp_path):
    runner = CliRunner()
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("x")
    res = runner.invoke(
        ingest_cli,
        ["tune", str(fixture_file), "--label", "cpc", "-o", str(full), "--base", "minilm"],
    )
    assert res.exit_code == 2 and "is not empty" in res.output and "--overwrite" in res.output
    res = runner.invoke(
        ingest_cli,
        [
            "tune",
            str(fixture_file),
            "--label",
            "nope",
            "-o",
            str(tmp_path / "m"),
            "--base",
            "minilm",
        ],
    )
    assert res.exit_code == 2 and "no column 'nope'" in res.output
    res = runner.invoke(ingest_cli, ["tune", str(fixture_file), "--label", "cpc"])
    assert res.exit_code == 2 and "--output" in res.output
    res = runner.invoke(
        ingest_cli,
        [
            *("tune", str(fixture_file), "--label", "cpc", "-o", str(tmp_path / "n")),
            *("--level", "subclass", "--negative-level", "group", "--base", "minilm"),
        ],
    )
    assert res.exit_code == 2 and "--negative-level 'group' is finer than" in res.output
    assert not (tmp_path / "n").exists()
    import pandas as pd

    untitled = tmp_path / "untitled.csv"
    pd.read_csv(fixture_file).drop(columns=["title"]).to_csv(untitled, index=False)
    res = runner.invoke(
        ingest_cli,
        [
            *("tune", str(untitled), "--label", "cpc", "--id", "doc_id", "--titles"),
            *("-o", str(tmp_path / "t"), "--base", "minilm"),
        ],
    )
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    assert "--titles: fewer than 2 training documents have a title" in res.output
    assert not (tmp_path / "t").exists()


def test_a_collection_gives_the_same_documents_as_its_file(fixture_file, tmp_path):
    from patentsim.ingest.pipeline import load
    from patentsim.ingest.settings import LoadSettings
    from patentsim.store import StoreSettings

    from .fakes import FakeEmbedder

    settings = StoreSettings(path=str(tmp_path / "store"))
    load(
        fixture_file,
        LoadSettings(store_settings=settings, collection="c", id_column="doc_id"),
        embedder=FakeEmbedder(),
    )
    from_file = read_corpus("cpc", source=fixture_file, reading=Reading(id_column="doc_id"))
    from_collection = read_corpus("cpc", collection="c", settings=settings)
    assert from_collection.source == "collection 'c'" and from_collection.label == "cpc"
    assert [(d.key, d.text, d.codes("full"), d.title) for d in from_collection.documents] == [
        (d.key, d.text, d.codes("full"), d.title) for d in from_file.documents
    ]
