"""patentsim: patent similarity search on Qdrant.

Three layers: ``store`` (collections, backends, manifest, ids, filters, the
embedding model), ``ingest`` (files → records → embeddings → points) and
``search`` (the ``--where`` grammar, queries, rendering).
"""

__version__ = "0.1.0"
