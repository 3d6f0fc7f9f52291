"""New tokens for the words the base model reads poorly (fit/vocab.py) and their use in tuning."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from patentsim.fit.documents import Reading, read_corpus
from patentsim.fit.tune import TuneOptions, tune
from patentsim.fit.vocab import MIN_DOCUMENTS, add_tokens, poorly_read_words, words_of

from .conftest import EN_XLSX

KO_XLSX = Path(__file__).parent / "data" / "sample_ko.xlsx"

pytest.importorskip("mecab_ko", reason="the Korean analyzer (mecab-ko) is not installed")


@pytest.fixture(scope="module")
def base_model(offline_embedder):
    from sentence_transformers import SentenceTransformer

    return lambda: SentenceTransformer(str(offline_embedder.config.folder), device="cpu")


def test_words_of_a_korean_text_are_surfaces_the_text_contains():
    text = "본 발명은 PVD 코팅을 위하여 초경 제품의 표면을 처리하는 장치에 관한 것이다."
    words = words_of(text)
    assert {"발명", "코팅", "제품", "표면", "장치", "PVD"} <= words
    assert all(w in text for w in words)  # a token is found in the text as written
    assert "코팅을" not in words and "을" not in words  # particles are not words
    assert words_of("A memory controller orders requests by bank.") == {
        "memory", "controller", "orders", "requests", "by", "bank",
    }  # fmt: skip


def test_only_frequent_words_the_tokenizer_reads_poorly(base_model):
    tokenizer = base_model().tokenizer
    texts = [
        "배터리 냉각 장치와 memory controller",
        "배터리 냉각 구조와 memory bank",
        "팬과 controller",
        "드론 배터리",
    ]
    words, found = poorly_read_words(texts, tokenizer.tokenize, tokenizer.unk_token, 10)
    # Hangul words in at least MIN_DOCUMENTS texts, most frequent first; English words are read
    # well (one piece or a few real pieces) and never added.
    assert MIN_DOCUMENTS == 2
    assert words[:2] == ["배터리", "냉각"] and found == len(words) == 2
    limited, found = poorly_read_words(texts, tokenizer.tokenize, tokenizer.unk_token, 1)
    assert limited == ["배터리"] and found == 2
    # Ties go in code-point order, whatever order the texts' words came in.
    tied = ["냉각 배터리", "배터리 냉각"]
    assert poorly_read_words(tied, tokenizer.tokenize, tokenizer.unk_token, 2)[0] == [
        "냉각",
        "배터리",
    ]


def test_a_new_token_starts_at_the_mean_of_its_old_pieces_and_survives_saving(
    tmp_path, base_model, monkeypatch
):
    from sentence_transformers import SentenceTransformer

    model = base_model()
    tokenizer = model.tokenizer
    old_ids = tokenizer("배터리", add_special_tokens=False)["input_ids"]
    assert len(old_ids) >= 6  # three syllables in jamo pieces
    table = model[0].auto_model.get_input_embeddings().weight.detach().clone()
    assert add_tokens(model, ["배터리", "냉각"]) == 2
    new_id = tokenizer.convert_tokens_to_ids("배터리")
    assert tokenizer("배터리를 냉각", add_special_tokens=False)["input_ids"][0] == new_id
    row = model[0].auto_model.get_input_embeddings().weight[new_id].detach()
    assert np.allclose(row.numpy(), table[old_ids].mean(dim=0).numpy(), atol=1e-6)
    assert add_tokens(model, ["배터리"]) == 0  # there already

    model.save(str(tmp_path / "m"))
    again = SentenceTransformer(str(tmp_path / "m"), device="cpu")
    text = "배터리 냉각 장치"
    assert np.allclose(again.encode([text]), model.encode([text]), atol=1e-5)
    # The query path (``search text``: the ONNX export and the tokenizers library) reads
    # the new tokens as sentence-transformers does.
    from patentsim.embed.engines import (
        OnnxEncoder,
        exporter_available,
        onnxruntime_available,
        write_export,
    )

    if not (exporter_available() and onnxruntime_available()):
        pytest.skip("the ONNX exporter or onnxruntime is not installed")
    monkeypatch.setenv("PATENTSIM_CACHE", str(tmp_path / "cache"))
    export = write_export(again, "vocab-test")
    ids, _ = OnnxEncoder(export).tokenizer.batch([text])
    assert list(ids[0]) == again.tokenizer(text)["input_ids"]
    theirs = again.encode([text], normalize_embeddings=True)
    assert np.allclose(OnnxEncoder(export).encode([text], batch_size=1), theirs, atol=1e-4)


@pytest.mark.parametrize("data", ["ko", "en"])
def test_tuning_adds_only_words_the_base_reads_poorly(tmp_path, data):
    if data == "ko":
        corpus = read_corpus("ipc", source=KO_XLSX, reading=Reading(id_column="application_number"))
    else:
        corpus = read_corpus("cpc", source=EN_XLSX, reading=Reading(id_column="doc_id"))
    corpus.documents = corpus.documents[:24]
    opts = TuneOptions(
        level="subclass",
        loss="mnrl",
        batch_size=4,
        max_seq_length=32,
        holdout=0.25,
        new_tokens=3000,
    )
    out = tmp_path / data
    report = tune(corpus.label, output=out, base="minilm", options=opts, corpus=corpus)
    v = report.vocabulary
    card = (out / "README.md").read_text(encoding="utf-8")
    record = json.loads((out / "patentsim_tuning.json").read_text(encoding="utf-8"))
    assert record["vocabulary"] == v
    if data == "ko":
        assert v["poor_share"] > 0.9 and v["added"] > 10
        assert f"New tokens: {v['added']:,} frequent training words" in card
        from sentence_transformers import SentenceTransformer

        tuned = SentenceTransformer(str(out), device="cpu")
        assert len(tuned.tokenizer) > 30522  # the base vocabulary and the new words
        # Words come from the training documents only, never from the held-out ones.
        trained = " ".join(d.text for d in corpus.documents if d.key in record["train_keys"])
        assert record["held_out_keys"] and all(w in trained for w in v["examples"])
    else:
        # English words are read well: none is added, whatever the limit.
        assert v["poor_share"] < 0.1 and v["added"] == 0 and "New tokens: none" in card
