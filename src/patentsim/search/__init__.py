"""The read side: the ``--where`` grammar, queries (like, text, facets), rendering, the CLI.

``where`` → ``query`` → ``render``; ``cli`` is a thin layer over ``query`` and
``render``.  The Python API::

    from patentsim.search import like, text, facets

    results = like(0, limit=10, where=["applicant=삼성전자"])
    for hit in results.hits:
        print(hit.rank, hit.score, hit.key, hit.payload.get("title"))

Nothing heavy is imported here: ``like`` and ``facets`` answer from stored
vectors and never load torch, sentence-transformers or pandas.
"""

from __future__ import annotations

from .query import FacetCount, Facets, Hit, QueryDocument, Results, facets, like, text

__all__ = ["FacetCount", "Facets", "Hit", "QueryDocument", "Results", "facets", "like", "text"]
