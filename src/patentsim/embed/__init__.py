"""Embedding: text → vectors.

``analyzer`` turns text into terms (Korean morphemes, stemmed words) for keyword
search and ``~`` filters; ``sparse`` turns terms into BM25 sparse vectors.  Both
``ingest`` and ``search`` use this package; it uses neither.
"""
