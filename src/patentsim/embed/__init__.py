"""Embedding: the dense model of a collection, its faster CPU engines and devices.

``model`` resolves and loads a sentence-transformers model, ``engines`` holds
the ONNX Runtime and int8 engines, ``devices`` parses ``--device`` and runs one
process per GPU.  Both ``ingest`` and ``search`` use this package; it uses
neither, and ``store`` (the Qdrant core) does not use it.
"""
