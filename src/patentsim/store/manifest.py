"""The collection manifest: what a collection was built from and with.

Written when a collection is created, updated after every ingest, and checked
before every later ingest and search: a search with another model, or an
ingest that would mix models or dimensions, is refused with a message that
says which and what to do.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from .. import __version__
from .errors import LayoutMismatch, ModelMismatch, setting

MANIFEST_VERSION = 1


def now() -> str:
    return (
        dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def new_manifest(
    *,
    name: str,
    model: dict[str, Any] | None,
    text_columns: list[str],
    id_column: str | None,
) -> dict[str, Any]:
    """A fresh manifest for a collection about to be created."""
    stamp = now()
    return {
        "manifest_version": MANIFEST_VERSION,
        "collection": name,
        "tool_version": __version__,
        "model": model,
        "distance": "cosine",
        "normalized": True,
        "text_columns": text_columns,
        "id_column": id_column,
        "fields": {},
        "date_field": None,
        "title_field": None,
        "counts": {"points": 0},
        "source": None,
        "state": "creating",
        "created_at": stamp,
        "updated_at": stamp,
    }


def check_model(manifest: dict[str, Any], model: dict[str, Any], collection: str) -> None:
    """Refuse to mix embeddings of two models (or dimensions) in one collection."""
    stored = manifest.get("model") or {}
    if stored.get("dimension") != model.get("dimension"):
        raise ModelMismatch(
            f"collection '{collection}' holds {stored.get('dimension')}-d vectors of model "
            f"'{stored.get('name')}', but model '{model.get('name')}' makes "
            f"{model.get('dimension')}-d vectors",
            _use_model(stored),
        )
    if stored.get("fingerprint") != model.get("fingerprint") or stored.get("name") != model.get(
        "name"
    ):
        raise ModelMismatch(
            f"collection '{collection}' was built with model '{stored.get('name')}', "
            f"not '{model.get('name')}'",
            _use_model(stored),
        )


def _use_model(stored: dict[str, Any]) -> str:
    return (
        f"use {setting('model')} {stored.get('name')}, or {setting('recreate')}, "
        f"or another {setting('collection')}"
    )


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so that a crash leaves either the old file or the new one."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def check_layout(manifest: dict[str, Any], quantization: str | None, collection: str) -> None:
    """Refuse a ``--quantization`` that differs from the existing collection's."""
    stored = manifest.get("quantization") or "none"
    if quantization is not None and quantization != stored:
        raise LayoutMismatch(
            f"collection '{collection}' is stored with quantization {stored}, not {quantization}: "
            f"{setting('quantization')} applies to new collections",
            f"use {setting('quantization')} {stored} (or leave it out), or {setting('recreate')}, "
            f"or 'ingest copy' with {setting('quantization')} {quantization} into a new "
            "collection (nothing is embedded again)",
        )
