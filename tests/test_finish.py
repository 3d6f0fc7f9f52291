"""The end of a load (``ingest/finish.py``): field specs, column order, the date field."""

from __future__ import annotations

from patentsim.ingest.finish import field_order, field_specs, pick_date_field
from patentsim.store.manifest import FieldSpec


def test_field_specs_merge_earlier_loads_types_and_mark_mixed_fields():
    stored = {
        "claims": FieldSpec("integer", "integer", index="integer"),
        "grade": FieldSpec("integer", "integer", index="integer"),
    }
    types = {"claims": {"float"}, "grade": {"keyword"}, "abstract": {"keyword"}, "ipc": {"keyword"}}
    got = field_specs(stored, types, {"ipc"}, {"abstract"}, terms=["abstract"], names=["nope"])
    # integers then floats: a number field, not mixed; integers then words: mixed keyword
    assert got["claims"] == FieldSpec("float", "float", index="float")
    assert got["grade"].mixed and got["grade"].type == "keyword"
    assert got["abstract"] == FieldSpec("text", "keyword", index="text", terms="_terms_abstract")
    assert got["ipc"].list and not got["abstract"].list
    assert "nope" not in got  # a name field the load did not write gets no spec


def test_field_order_keeps_earlier_loads_order_then_the_files_columns():
    fields = {k: FieldSpec() for k in ("b", "a", "_row", "c")}
    assert field_order(["c", "gone"], ["a", "b"], fields) == ["c", "a", "b", "_row"]


def test_the_prior_art_date_is_the_filing_date_first():
    assert pick_date_field(["grant_date", "filing_date"]) == "filing_date"
    assert pick_date_field(["grant_date", "출원일"]) == "출원일"
    assert pick_date_field(["grant_date", "application_dt"]) == "application_dt"
    assert pick_date_field(["grant_date"]) == "grant_date"
    assert pick_date_field([]) is None
