"""The write side: files → records → embeddings → points."""

from .manage import info, list_collections
from .pipeline import IngestSummary, load

__all__ = ["IngestSummary", "info", "list_collections", "load"]
