"""The read side: the ``--where`` grammar, queries (like, text, facets), rendering, the CLI.

``where`` → ``query`` → ``render``; ``cli`` is a thin layer over ``query`` and
``render``.  The Python API::

    from patentsim.search import QueryOptions, Session, facets, like, text

    results = like(0, QueryOptions(limit=10, where=["applicant=삼성전자"]))
    for hit in results.hits:
        print(hit.rank, hit.score, hit.key, hit.payload.get("title"))

    with Session(collection="patents") as session:  # many questions, one open collection
        session.text("배터리 냉각", QueryOptions(mode="keyword"))

Nothing heavy is imported here: ``like`` and ``facets`` answer from stored
vectors and never load torch, sentence-transformers or pandas.
"""

from __future__ import annotations

from .options import QueryOptions
from .query import facet_fields, facets, like, text
from .results import Document, FacetCount, FacetField, Facets, Hit, QueryDocument, Results
from .session import IncompleteCollection, Session

__all__ = [
    "Document",
    "FacetCount",
    "FacetField",
    "Facets",
    "Hit",
    "IncompleteCollection",
    "QueryDocument",
    "QueryOptions",
    "Results",
    "Session",
    "facet_fields",
    "facets",
    "like",
    "text",
]
