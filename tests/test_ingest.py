"""The ingest behaviour suite: runs on every backend of the `settings` fixture."""

from __future__ import annotations

import openpyxl
import pytest

from patentsim.errors import ModelMismatch
from patentsim.ingest.pipeline import load
from patentsim.ingest.settings import LoadSettings
from patentsim.store import open_store
from patentsim.store.ids import point_id

from .conftest import slice_xlsx
from .fakes import FakeEmbedder


def _all_points(settings, name):
    store = open_store(settings)
    try:
        coll = store.open(name)
        return {p.payload["_key"]: p for p in coll.scroll(with_vectors=True)}
    finally:
        store.close()


def _edit_cell(path, row: int, column: str, value) -> None:
    """Set a cell of data row ``row`` (0-based, header excluded) in an xlsx."""
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    ws.cell(row=row + 2, column=header.index(column) + 1, value=value)
    wb.save(path)


def test_ingest_counts_and_types(settings, ko200, fake_embedder, unique_name):
    summary = load(
        ko200,
        LoadSettings(
            store_settings=settings, collection=unique_name, id_column="application_number"
        ),
        embedder=fake_embedder,
    )
    assert summary.created
    assert summary.rows == 200
    assert summary.added == 200 and len(summary.skipped) == 0
    assert summary.points == summary.added
    points = _all_points(settings, unique_name)
    assert len(points) == summary.points
    p = points["1020230004711"]
    payload = p.payload
    # yyyymmdd integers become RFC 3339 dates; ipc codes become a list
    assert payload["application_date"] == "2023-01-10T00:00:00Z"
    assert payload["opening_date"] == "2024-07-17T00:00:00Z"
    assert payload["ipc"] == ["B24B 49/12", "B24B 7/22", "G01B 11/06", "B23Q 17/20"]
    assert payload["applicant"] == "주식회사 한빛정밀"
    assert payload["status"] == "공개"
    assert payload["_key"] == "1020230004711"
    assert payload["_row"] == 0
    assert len(payload["_hash"]) == 24
    # empty cells are left out
    assert "registration_date" not in payload
    assert p.id == point_id("1020230004711")


def test_second_run_changes_nothing_and_one_edit_reembeds_one(settings, ko200, unique_name):
    fake = FakeEmbedder()
    first = load(
        ko200, LoadSettings(store_settings=settings, collection=unique_name), embedder=fake
    )
    before = _all_points(settings, unique_name)
    texts_after_first = fake.texts

    second = load(
        ko200, LoadSettings(store_settings=settings, collection=unique_name), embedder=fake
    )
    assert fake.texts == texts_after_first, "an unchanged file must embed nothing"
    assert second.embedded == 0
    assert second.unchanged == first.added
    assert second.added == second.updated == second.payload_updated == 0
    assert second.points == first.points
    assert _all_points(settings, unique_name).keys() == before.keys()

    _edit_cell(ko200, 5, "abstract", "완전히 새로운 요약 문장입니다. 배터리 냉각 장치.")
    third = load(
        ko200, LoadSettings(store_settings=settings, collection=unique_name), embedder=fake
    )
    assert third.embedded == 1
    assert third.updated == 1
    assert fake.texts == texts_after_first + 1
    after = _all_points(settings, unique_name)
    assert after["5"].payload["abstract"].startswith("완전히 새로운")
    assert after["5"].vector != before["5"].vector
    assert after["6"].vector == before["6"].vector


def test_changed_non_text_cell_updates_payload_only(settings, ko200, unique_name):
    fake = FakeEmbedder()
    load(ko200, LoadSettings(store_settings=settings, collection=unique_name), embedder=fake)
    embedded = fake.texts
    _edit_cell(ko200, 3, "status", "취하")
    summary = load(
        ko200, LoadSettings(store_settings=settings, collection=unique_name), embedder=fake
    )
    assert fake.texts == embedded
    assert summary.payload_updated == 1 and summary.embedded == 0
    assert _all_points(settings, unique_name)["3"].payload["status"] == "취하"


def test_prune_removes_rows_that_left_the_file(settings, tmp_path, unique_name):
    from .conftest import KO_XLSX

    # The same file, first with 30 rows, then with 20 (--prune is limited to the files given).
    big = slice_xlsx(KO_XLSX, tmp_path / "a.xlsx", 30)
    fake = FakeEmbedder()
    load(
        big,
        LoadSettings(
            store_settings=settings, collection=unique_name, id_column="application_number"
        ),
        embedder=fake,
    )
    small = slice_xlsx(KO_XLSX, tmp_path / "a.xlsx", 20)
    kept = load(
        small,
        LoadSettings(
            store_settings=settings, collection=unique_name, id_column="application_number"
        ),
        embedder=fake,
    )
    assert kept.points == 30 and kept.pruned == 0
    pruned = load(
        small,
        LoadSettings(
            store_settings=settings,
            collection=unique_name,
            id_column="application_number",
            prune=True,
        ),
        embedder=fake,
    )
    assert pruned.pruned == 10
    assert pruned.points == 20
    assert pruned.embedded == 0


def test_same_text_under_a_new_key_is_copied_not_embedded(settings, tmp_path, unique_name):
    from .conftest import KO_XLSX

    src = slice_xlsx(KO_XLSX, tmp_path / "a.xlsx", 20)
    shifted = slice_xlsx(KO_XLSX, tmp_path / "b.xlsx", 20, start=1)
    fake = FakeEmbedder()
    load(src, LoadSettings(store_settings=settings, collection=unique_name), embedder=fake)
    embedded = fake.texts
    # Keys are row numbers: every row moved up by one, so 19 texts sit under new keys.
    summary = load(
        shifted, LoadSettings(store_settings=settings, collection=unique_name), embedder=fake
    )
    assert summary.updated == 20
    assert summary.reused == 19
    assert fake.texts == embedded + 1


def test_model_mismatch_is_refused(settings, ko200, unique_name):
    load(
        ko200,
        LoadSettings(store_settings=settings, collection=unique_name),
        embedder=FakeEmbedder(32),
    )
    other = FakeEmbedder(16)
    other.name = "another-model"
    other.fingerprint = "other001"
    with pytest.raises(ModelMismatch) as err:
        load(ko200, LoadSettings(store_settings=settings, collection=unique_name), embedder=other)
    assert "`recreate`" in str(err.value)  # the CLI shows it as --recreate
    assert other.texts == 0
    recreated = load(
        ko200,
        LoadSettings(store_settings=settings, collection=unique_name, recreate=True),
        embedder=other,
    )
    assert recreated.created and recreated.added == recreated.points


def test_id_column_change_is_refused(settings, ko200, unique_name):
    load(
        ko200,
        LoadSettings(store_settings=settings, collection=unique_name),
        embedder=FakeEmbedder(),
    )
    with pytest.raises(ModelMismatch, match="keyed by row number"):
        load(
            ko200,
            LoadSettings(
                store_settings=settings, collection=unique_name, id_column="application_number"
            ),
            embedder=FakeEmbedder(),
        )


def test_manifest_and_indexes(settings, ko200, unique_name):
    from patentsim.ingest.manage import info

    load(
        ko200,
        LoadSettings(store_settings=settings, collection=unique_name),
        embedder=FakeEmbedder(),
    )
    result = info(settings, unique_name)
    m = result.manifest.to_dict()  # as stored
    assert m["state"] == "ready"
    assert m["model"]["name"] == "fake-bag-of-words"
    assert m["dimension"] == 32
    assert m["distance"] == "cosine"
    assert m["text_columns"] == ["abstract"]
    assert m["date_field"] == "application_date"
    assert m["title_field"] == "title"
    fields = m["fields"]
    assert fields["application_date"]["type"] == "datetime"
    assert fields["ipc"] == {
        "type": "keyword",
        "value_type": "keyword",
        "list": True,
        "mixed": False,
        "index": "keyword",
    }
    assert fields["title"]["index"] == "text"
    assert fields["applicant"]["type"] == "keyword"
    if result.backend == "embedded":
        assert result.indexes["application_date"] == "datetime"
        assert result.indexes["ipc"] == "keyword"
        assert result.indexes["title"] == "text"
        assert result.indexes["_hash"] == "keyword"


def test_a_date_column_with_a_stray_text_cell_is_reported(settings, tmp_path, unique_name):
    src = tmp_path / "mixed.csv"
    src.write_text(
        "id,abstract,filing_date\n1,battery cooling,2015-01-02\n2,wafer polishing,unknown\n"
        "3,robot gripper,2016-03-04\n",
        encoding="utf-8",
    )
    summary = load(
        src,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="id"),
        embedder=FakeEmbedder(),
    )
    assert summary.points == 3
    assert summary.mixed_fields == {"filing_date": ["datetime", "keyword"]}


def test_recreate_with_a_model_that_cannot_load_keeps_the_collection(
    settings, ko200, unique_name, monkeypatch
):
    from patentsim.errors import ModelUnavailable
    from patentsim.ingest import pipeline

    first = load(
        ko200,
        LoadSettings(store_settings=settings, collection=unique_name),
        embedder=FakeEmbedder(),
    )

    def broken(self):
        raise ModelUnavailable("model 'x' cannot be loaded")

    monkeypatch.setattr(pipeline._Model, "get", broken)
    with pytest.raises(ModelUnavailable):
        load(
            ko200,
            LoadSettings(store_settings=settings, collection=unique_name, recreate=True),
            embedder=FakeEmbedder(),
        )
    assert len(_all_points(settings, unique_name)) == first.points


def test_yyyymmdd_written_as_floats_in_a_csv_are_dates(settings, tmp_path, unique_name):
    src = tmp_path / "floats.csv"
    src.write_text(
        "id,abstract,application_date\n1,battery cooling,20230110.0\n2,wafer polishing,\n"
        "3,robot gripper,20220520.0\n",
        encoding="utf-8",
    )
    load(
        src,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="id"),
        embedder=FakeEmbedder(),
    )
    points = _all_points(settings, unique_name)
    assert points["1"].payload["application_date"] == "2023-01-10T00:00:00Z"
    assert "application_date" not in points["2"].payload


def test_a_column_whose_type_changes_between_runs_is_marked_mixed(settings, tmp_path, unique_name):
    from patentsim.ingest.manage import info

    src = tmp_path / "a.csv"
    src.write_text(
        "id,abstract,grade\n1,battery cooling,A1\n2,wafer polishing,B2\n", encoding="utf-8"
    )
    load(
        src,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="id"),
        embedder=FakeEmbedder(),
    )
    src.write_text(
        "id,abstract,grade\n1,battery cooling,11\n2,wafer polishing,22\n", encoding="utf-8"
    )
    load(
        src,
        LoadSettings(store_settings=settings, collection=unique_name, id_column="id"),
        embedder=FakeEmbedder(),
    )
    assert info(settings, unique_name).manifest.fields["grade"].mixed is True
