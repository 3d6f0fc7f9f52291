"""The benchmark suite of patentsim: ``python -m bench`` (see BENCHMARKS.md)."""
