"""Embedding: text → vectors, dense and sparse.

``model`` resolves and loads a sentence-transformers model, ``engines`` holds
the ONNX Runtime and int8 engines, ``devices`` parses ``--device`` and runs one
process per GPU.  ``analyzer`` turns text into terms (Korean morphemes, stemmed
words) for keyword search and ``~`` filters; ``sparse`` turns terms into BM25
sparse vectors; ``retrieval`` names the search modes and a collection's default.
Both ``ingest`` and ``search`` use this package; it uses neither, and ``store``
(the Qdrant core) does not use it.
"""
