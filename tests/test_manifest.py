"""The typed manifest: its stored form, upgrades of older manifests, the one model check.

``tests/data/manifests/`` holds manifests as earlier versions wrote them (read off the
git history of ``store/manifest.py``, ``ingest/pipeline.py``, ``store/edge.py``):
the first release (no model options, no layout but the dimension, no keyword search),
the keyword-search era (a keyword spec with one ``terms_field``, ``--backend`` and
``--quantization`` recorded), a large collection (segments on disk, the short-lived
``full_scan_threshold_kb``, several files, a copy) and a keyword-only collection with name
fields and the files' column order (written by the untyped code just before the type came:
``ingest load --keyword-only`` of ``tests/data/wipson.xlsx``, file paths shortened).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from patentsim.errors import ModelMismatch, ModelUnavailable, StoreError, setting
from patentsim.ingest.cli import cli as ingest_cli
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.search import QueryOptions, like, text
from patentsim.search.cli import cli as search_cli
from patentsim.store import StoreSettings, open_store
from patentsim.store.manifest import (
    MANIFEST_VERSION,
    FieldSpec,
    Layout,
    Manifest,
    ModelRecord,
    Vectors,
    check_model,
    steps,
    upgrade,
)

from .conftest import EXAMPLE_XLSX
from .fakes import FakeEmbedder

OLD = Path(__file__).parent / "data" / "manifests"


def old(name: str) -> dict:
    return json.loads((OLD / f"{name}.json").read_text(encoding="utf-8"))


# -- upgrades ------------------------------------------------------------------------------------


def test_every_step_takes_one_version_to_the_next():
    assert 1 + len(steps()) == MANIFEST_VERSION
    assert [s.__name__[:4] for s in steps()] == [f"m{i:03d}" for i in range(1, MANIFEST_VERSION)]


def test_the_first_release_upgrades_to_the_current_version():
    data = old("v1_first_release")
    m = Manifest.from_dict(data)
    assert data == old("v1_first_release")  # the caller's dict is left as it was
    assert m.model == ModelRecord(
        name="sentence-transformers/all-MiniLM-L6-v2",
        fingerprint="3f1c2b7a9d0e4c55",
        dimension=384,
        requested="jhgan/ko-sroberta-multitask",
        max_seq_length=256,
        backend="torch",  # made before --backend: fp32 torch
        engine=None,
        long_text="truncate",  # made before --long-text
    )
    assert m.layout == Layout(dimension=384, on_disk=False, quantization="none")
    assert m.vectors == Vectors(dense="", sparse=None)  # one unnamed dense vector
    assert m.fields["ipc"] == FieldSpec("keyword", None, list=True, index="keyword")
    assert m.fields["abstract"].value_type is None  # typed before value types were kept
    assert (m.keyword, m.search, m.sources, m.field_names) == (None, None, {}, {})
    assert (m.points, m.state) == (198, "ready")
    assert (m.date_field, m.title_field) == ("application_date", "title")
    assert m.source is not None and m.source.rows == 200 and m.source.skipped is None
    stored = m.to_dict()
    assert stored["manifest_version"] == MANIFEST_VERSION
    # Every key the first release wrote is still there, with its value where no step filled it.
    for key, value in data.items():
        if key not in ("manifest_version", "model", "fields"):
            assert stored[key] == value, key
    for key, value in data["model"].items():
        assert stored["model"][key] == value, key
    assert stored["model"]["backend"] == "torch" and stored["model"]["long_text"] == "truncate"
    assert stored["quantization"] == "none"


def test_the_keyword_era_keeps_its_options_and_defaults():
    m = Manifest.from_dict(old("v1_keyword_search"))
    assert m.model is not None
    assert (m.model.backend, m.model.engine, m.model.long_text) == ("int8", "int8-onnx", "chunk")
    assert m.layout == Layout(dimension=768, on_disk=True, quantization="int8")
    assert m.keyword is not None and m.keyword.title is None and m.keyword.fields == ("요약",)
    assert m.keyword.bm25 == {"k1": 2.0, "b": 0.75, "avg_len": 64.5}
    assert m.search is not None and m.search.default_mode == "keyword"
    assert m.search.weights == (1.0, 1.0)
    assert m.fields["출원일자"].value_type == "datetime"


def test_a_large_collection_keeps_its_layout_files_and_provenance():
    data = old("v1_large_collection")
    m = Manifest.from_dict(data)
    assert m.layout == Layout(
        dimension=384,
        on_disk=True,
        quantization="int8",
        indexes_on_disk=True,
        quantized_memory="page cache",
        full_scan_threshold_kb=48000,
    )
    assert m.sources["grants_1.csv"].skipped == (17, 4242)
    assert m.field_names == {"Patent Number ": "patent.number"}
    assert m.copied_from is not None and m.copied_from.store == "server"
    stored = m.to_dict()
    # Written today, this manifest differs from the old one only in its version and in
    # naming its one unnamed dense vector (made before keyword-only collections).
    assert stored.pop("vectors") == {"dense": "", "sparse": None}
    assert {k: v for k, v in stored.items() if k != "manifest_version"} == {
        k: v for k, v in data.items() if k != "manifest_version"
    }


def test_a_keyword_only_collection_keeps_its_names_column_order_and_measured_mode():
    data = old("v1_names_keyword_only")
    m = Manifest.from_dict(data)
    assert m.model is None and m.dimension is None
    assert m.vectors == Vectors(dense=None, sparse="keyword")
    assert m.search is not None and m.search.default_mode == "keyword"
    assert m.search.measured == "keyword (the collection has no dense vectors)"
    assert m.field_order[:3] == ["번호", "WIPS ON key", "국가코드"]
    assert set(m.field_order) == set(m.fields)
    assert m.fields["출원인"].names == "_name_출원인" and m.fields["요약"].names is None
    assert m.names["fields"] == {"발명자": "person", "출원인": "company"}
    assert m.sources["wipson.xlsx"].header_row == 3 and m.sources["wipson.xlsx"].skipped == ()
    stored = m.to_dict()
    assert stored["manifest_version"] == MANIFEST_VERSION
    # Nothing lost: the version aside, written today it differs only in saying "no dimension"
    # as null rather than 0, and "not a copy" out loud.
    assert (stored.pop("dimension"), data["dimension"]) == (None, 0)
    assert stored.pop("copied_from") is None and "copied_from" not in data
    assert {k: v for k, v in stored.items() if k not in ("manifest_version", "dimension")} == {
        k: v for k, v in data.items() if k not in ("manifest_version", "dimension")
    }


def test_the_current_form_reads_back_unchanged():
    names = ("v1_first_release", "v1_keyword_search", "v1_large_collection")
    for name in (*names, "v1_names_keyword_only"):
        once = Manifest.from_dict(old(name))
        again = Manifest.from_dict(json.loads(json.dumps(once.to_dict())))
        assert again == once, name
        assert again.to_dict() == once.to_dict(), name


def test_unknown_keys_are_kept():
    data = dict(old("v1_first_release"), reviewed_by="kim", notes={"a": 1})
    stored = Manifest.from_dict(data).to_dict()
    assert stored["reviewed_by"] == "kim" and stored["notes"] == {"a": 1}


def test_a_newer_manifest_is_refused_and_a_broken_one_is_no_manifest():
    newer = dict(old("v1_first_release"), manifest_version=MANIFEST_VERSION + 1)
    with pytest.raises(StoreError, match="written by a newer patentsim"):
        Manifest.from_dict(newer)
    with pytest.raises(ValueError):
        Manifest.from_dict(["not", "a", "manifest"])  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Manifest.from_dict(dict(old("v1_first_release"), fields=["abstract"]))
    with pytest.raises(ValueError):
        upgrade({"manifest_version": "two"})


# -- a stored collection of an older version ------------------------------------------------------


def _as_first_release(stored: dict) -> dict:
    """The manifest the first release wrote for the same collection (its keys only)."""
    keep = (
        "collection",
        "tool_version",
        "distance",
        "normalized",
        "text_columns",
        "id_column",
        "date_field",
        "title_field",
        "counts",
        "state",
        "created_at",
        "updated_at",
        "dimension",
        "on_disk",
    )
    out = {k: stored[k] for k in keep}
    out["manifest_version"] = 1
    model_keys = ("name", "requested", "fingerprint", "dimension", "max_seq_length", "normalize")
    out["model"] = {k: stored["model"][k] for k in model_keys}
    out["fields"] = {
        name: {k: spec[k] for k in ("type", "list", "mixed", "index")}
        for name, spec in stored["fields"].items()
    }
    out["source"] = {k: stored["source"][k] for k in ("file", "sheet", "rows", "loaded_at")}
    return out


def test_a_collection_of_the_first_release_opens_searches_and_loads_again(tmp_path):
    fake = FakeEmbedder()
    settings = StoreSettings(path=str(tmp_path / "store"))
    first = load(
        EXAMPLE_XLSX,
        LoadSettings(store_settings=settings, collection="p", id_column="application_number"),
        embedder=fake,
    )
    dense = QueryOptions(limit=5, mode="dense")
    before_like = like(0, dense, collection="p", settings=settings)
    before_text = text("battery cooling", dense, model=fake, collection="p", settings=settings)
    path = tmp_path / "store" / "p" / "manifest.json"
    written = _as_first_release(json.loads(path.read_text(encoding="utf-8")))
    path.write_text(json.dumps(written, ensure_ascii=False), encoding="utf-8")

    # Read as it is: no keyword spec yet, so the default mode is dense.
    five = QueryOptions(limit=5)
    got = like(0, five, collection="p", settings=settings)
    assert got.mode == "dense"
    assert [h.to_dict() for h in got.hits] == [h.to_dict() for h in before_like.hits]
    got = text("battery cooling", five, model=fake, collection="p", settings=settings)
    assert [h.to_dict() for h in got.hits] == [h.to_dict() for h in before_text.hits]
    result = CliRunner().invoke(ingest_cli, ["info", "-c", "p", "--path", settings.path])
    assert result.exit_code == 0, result.output
    assert "embedding   backend torch, long texts truncate" in result.output
    assert "vectors     float32, not quantized (in RAM)" in result.output
    assert "keyword     none yet" in result.output
    assert json.loads(path.read_text(encoding="utf-8")) == written  # reading writes nothing

    # The next load writes the current version: nothing embedded again, keywords added.
    again = load(
        EXAMPLE_XLSX,
        LoadSettings(store_settings=settings, collection="p", id_column="application_number"),
        embedder=fake,
    )
    assert (again.unchanged, again.embedded) == (first.points, 0)
    assert again.keyword_backfilled == first.points
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["manifest_version"] == MANIFEST_VERSION
    assert stored["model"]["backend"] == "torch" and stored["keyword"]["title"] == "title"
    assert stored["created_at"] == written["created_at"]
    got = like(0, dense, collection="p", settings=settings)
    assert [h.to_dict() for h in got.hits] == [h.to_dict() for h in before_like.hits]


def test_a_newer_collection_is_refused_with_exit_1(tmp_path):
    settings = StoreSettings(path=str(tmp_path / "store"))
    load(
        EXAMPLE_XLSX, LoadSettings(store_settings=settings, collection="p"), embedder=FakeEmbedder()
    )
    path = tmp_path / "store" / "p" / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(dict(data, manifest_version=MANIFEST_VERSION + 1)), "utf-8")
    result = CliRunner().invoke(search_cli, ["like", "0", "-c", "p", "--path", settings.path])
    assert result.exit_code == 1, result.output
    assert f"manifest version {MANIFEST_VERSION + 1}" in result.output
    assert "Traceback" not in result.output


# -- the one model check -------------------------------------------------------------------------

STORED = ModelRecord("org/model", "abc123", 384)


def test_the_same_model_passes_every_use():
    same = ModelRecord("org/model", "abc123", 384)
    for use in ("load", "copy", "query"):
        check_model(STORED, same, "c", use=use)  # type: ignore[arg-type]
    check_model(STORED, ModelRecord("org/model", "abc123"), "c")  # dimension not known yet


def test_a_load_with_another_model_or_options_is_refused():
    with pytest.raises(ModelMismatch) as err:
        check_model(STORED, ModelRecord("other/model", "fff000"), "c")
    assert err.value.message == "collection 'c' was built with model 'org/model', not 'other/model'"
    assert err.value.hint == (
        f"use {setting('model')} org/model, or {setting('recreate')}, "
        f"or another {setting('collection')}"
    )
    with pytest.raises(ModelMismatch) as err:
        check_model(STORED, ModelRecord("org/model", "abc123", backend="int8"), "c")
    assert err.value.message == (
        f"collection 'c' was embedded with {setting('backend')} torch, not int8"
    )
    with pytest.raises(ModelMismatch, match="truncate, not chunk"):
        check_model(STORED, ModelRecord("org/model", "abc123", long_text="chunk"), "c")
    with pytest.raises(ModelUnavailable, match="which is not cached here"):
        check_model(STORED, ModelRecord("offline", "x"), "c", fallback_from="org/model")
    with pytest.raises(ModelMismatch, match="holds 384-d vectors of model 'org/model', but model"):
        check_model(STORED, ModelRecord("org/model", "abc123", 768), "c", use="copy")


def test_a_copy_checks_the_model_not_the_load_options():
    # A copy brings vectors as they are: another backend shows as another fingerprint.
    with pytest.raises(ModelMismatch, match="was built with model 'org/model', not 'org/model'"):
        other = ModelRecord("org/model", "abc123+int8-onnx", 384, backend="int8")
        check_model(STORED, other, "c", use="copy")


def test_a_query_model_is_compared_by_fingerprint_and_dimension():
    with pytest.raises(ModelMismatch) as err:
        check_model(STORED, ModelRecord("q", "zzz"), "c", use="query")
    assert err.value.message == (
        "collection 'c' was built with model 'org/model' (fingerprint abc123), but the query "
        "model 'q' has fingerprint zzz"
    )
    with pytest.raises(ModelMismatch):
        check_model(STORED, ModelRecord("q", "abc123", 768), "c", use="query")
    # Unknown on either side is not compared (a record without a fingerprint, a model
    # whose fingerprint is not known before it loads).
    check_model(ModelRecord("org/model", "", 384), ModelRecord("q", "zzz", 384), "c", use="query")
    check_model(STORED, ModelRecord("q", ""), "c", use="query")


def test_the_cli_shows_the_options_a_library_message_names(tmp_path):
    src = tmp_path / "p.csv"
    src.write_text("doc_id,abstract\n1,graphics processor\n", encoding="utf-8")
    settings = StoreSettings(path=str(tmp_path / "store"))
    load(src, LoadSettings(store_settings=settings), embedder=FakeEmbedder())
    store = open_store(settings)
    try:
        coll = store.open("p")
        manifest = coll.read_manifest()
        manifest.model = ModelRecord("sentence-transformers/all-MiniLM-L6-v2", "elsewhere", 384)
        coll.write_manifest(manifest)
    finally:
        store.close()
    result = CliRunner().invoke(
        ingest_cli, ["load", str(src), "--path", settings.path, "--model", "minilm"]
    )
    assert result.exit_code == 1, result.output
    assert (
        "collection 'p' was built with model 'sentence-transformers/all-MiniLM-L6-v2', not "
        "'sentence-transformers/all-MiniLM-L6-v2'" in result.output
    )
    hint = "hint: use --model sentence-transformers/all-MiniLM-L6-v2, or --recreate"
    assert hint in result.output


def test_family_field_and_duplicate_marks_read_and_write_back():
    data = old("v1_names_keyword_only")
    data["family_field"] = "패밀리 문헌번호"
    data["duplicates"] = {
        "field": "_dup_group",
        "source": "keyword",
        "threshold": 0.8,
        "groups": 2,
        "documents": 8,
        "filtered": False,
        "marked_at": "2026-12-07T12:00:00Z",
    }
    m = Manifest.from_dict(data)
    assert m.family_field == "패밀리 문헌번호"
    assert m.duplicates is not None and (m.duplicates.groups, m.duplicates.threshold) == (2, 0.8)
    stored = m.to_dict()
    assert stored["family_field"] == data["family_field"]
    assert stored["duplicates"] == data["duplicates"]
    assert Manifest.from_dict(stored) == m
    assert "family_field" not in Manifest.from_dict(old("v1_first_release")).to_dict()
