"""Embedding: text → vectors, dense and sparse.

``embedder`` is where an embedder is built (``EmbedderConfig(...).load()``, or
``load_for_queries()`` for a fast-starting query encoder) and what callers use
of it (the ``Embedder`` protocol); ``model`` resolves a model name and computes
fingerprints; ``engines`` writes and runs the ONNX export of a model (ONNX
Runtime and the ``tokenizers`` library, no torch); ``devices`` parses
``--device`` and runs one process per GPU.  Both ``ingest`` and ``search`` use
this package; it uses neither, and ``store`` (the Qdrant core) does not use it.
Nothing here imports torch until a model is loaded with it.  ``analyzer`` turns text
into terms (Korean morphemes, stemmed words) for keyword search and ``~`` filters;
``sparse`` turns terms into BM25 sparse vectors; ``retrieval`` names the search modes
and a collection's default.
"""
