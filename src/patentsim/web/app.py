"""The HTTP API and the page: a thin view over the library, in the words of the CLI.

Every ``/api/...`` route takes the parameters of the command of the same name (``ref``,
``q``, ``limit``, ``offset``, ``where`` repeatable, ``filter_json``, ``mode``, ``min_score``,
``group_by``, ``collapse``, ``prior_art``, ``date_field``, ``key``, ``fields``), calls the
same library function that command calls, and answers with the objects ``--format json`` prints
(rendered by the same code).  Nothing is computed here: no query logic, no filtering.

Errors are one line of JSON, ``{"error": "...", "hint": "..."}``: 400 for a bad parameter,
404 for an unknown document or collection, 503 while another process holds the embedded
collection (with ``Retry-After``), never a stack trace.  Only GET: the server is read-only.
"""

from __future__ import annotations

import hmac
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from .. import __version__
from ..dates import box_day
from ..errors import (
    CollectionNotFound,
    DocumentNotFound,
    ModelMismatch,
    ModelUnavailable,
    PatentSimError,
    StoreError,
    StoreLocked,
    UserInputError,
    name_settings,
)
from ..search import QueryOptions, Results, Session, render
from ..search.overview import describe
from ..store.backend import Store
from .service import Answer, ServedCollection

STATIC = Path(__file__).resolve().with_name("static")
KEY_COOKIE = "patentsim_key"
KEY_HEADER = "x-api-key"
RETRY_AFTER_S = 2
EXPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
}
# The page's own files only; no script, style or font from anywhere else.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

# The parameters of the commands, with the words and help of their options.
Where = Annotated[
    list[str],
    Query(
        description="A condition of the --where grammar (FIELD=VALUE, FIELD>=X, FIELD~WORDS, "
        "'FIELD exists', ...). Repeat to AND them."
    ),
]
FilterJson = Annotated[
    str | None, Query(description="A raw Qdrant filter (JSON text), ANDed with where.")
]
Limit = Annotated[int, Query(description="How many results.")]
Offset = Annotated[int, Query(description="Skip this many results first (the next page).")]
Mode = Annotated[
    str | None,
    Query(description="dense, keyword or hybrid; default: the collection's default mode."),
]
MinScore = Annotated[float | None, Query(description="Only results with at least this score.")]
GroupBy = Annotated[
    str | None,
    Query(description="At most one result per value of this field (list fields: first element)."),
]
Collapse = Annotated[
    str | None,
    Query(
        description="One result per family: family (the file's family or priority field, "
        "else near-duplicates), near-dup, or a field whose shared values make a family."
    ),
]
Fields = Annotated[
    str | None,
    Query(description="Payload fields to return, by column name, separated by commas."),
]
Ref = Annotated[str, Query(description="A row number (from 0) or a document key.")]
KeyOnly = Annotated[bool, Query(description="Read ref as a document key even when a number.")]
PriorArt = Annotated[bool, Query(description="Only documents dated before the query document.")]
DateField = Annotated[str | None, Query(description="The date prior_art compares.")]


def text_options(
    where: Where = [],  # noqa: B006 (FastAPI copies defaults per request)
    filter_json: FilterJson = None,
    limit: Limit = 10,
    offset: Offset = 0,
    mode: Mode = None,
    min_score: MinScore = None,
    group_by: GroupBy = None,
    collapse: Collapse = None,
) -> QueryOptions:
    """The query parameters of /api/text (and its export) as the library's one options
    object: the CLI's option bundle in the API's words."""
    return QueryOptions(
        limit=limit,
        offset=offset,
        where=tuple(where),
        filter_json=filter_json,
        min_score=min_score,
        group_by=group_by,
        mode=mode,
        collapse=collapse,
    )


def like_options(
    options: Annotated[QueryOptions, Depends(text_options)],
    prior_art: PriorArt = False,
    date_field: DateField = None,
) -> QueryOptions:
    """/api/like's parameters: /api/text's and prior art."""
    return replace(options, prior_art=prior_art, date_field=date_field)


def filter_options(
    where: Where = [],  # noqa: B006 (FastAPI copies defaults per request)
    filter_json: FilterJson = None,
) -> QueryOptions:
    """The filter parameters alone (``where``, ``filter_json``), for /api/map and
    /api/facets: the documents the map draws or counts, chosen as like and text choose theirs."""
    return QueryOptions(where=tuple(where), filter_json=filter_json)


FilterOptions = Annotated[QueryOptions, Depends(filter_options)]


def facet_limit(
    limit: Annotated[int, Query(description="How many values, most frequent first.")] = 10,
) -> int:
    return limit


def facet_options(
    options: FilterOptions, limit: Annotated[int, Depends(facet_limit)]
) -> QueryOptions:
    """/api/facets' parameters: the filter, then how many values (a dependency of its own,
    so that the parameters keep their order)."""
    return replace(options, limit=limit)


FacetOptions = Annotated[QueryOptions, Depends(facet_options)]
TextOptions = Annotated[QueryOptions, Depends(text_options)]
LikeOptions = Annotated[QueryOptions, Depends(like_options)]
Text = Annotated[str, Query(description="The text to search for.")]
ExportFormat = Annotated[str, Query(description="xlsx, csv or jsonl: the files --output writes.")]
MapColor = Annotated[
    str | None,
    Query(
        description="Colour by a field (list fields: first element, IPC/CPC at the subclass; "
        "dates: the year), or 'year', 'file', 'cluster'."
    ),
]
MapMethod = Annotated[str, Query(description="auto (UMAP where installed, else PCA), umap, pca.")]
MapClusters = Annotated[
    int | None, Query(description="How many topic clusters with color=cluster.")
]


def create_app(
    served: ServedCollection,
    *,
    api_key: str | None = None,
    dashboard: str | None = None,
) -> FastAPI:
    """The application over ``served``; ``api_key``: every request must carry it;
    ``dashboard``: the Qdrant dashboard's URL for the collection, where there is one."""
    app = FastAPI(
        title="patentsim",
        version=__version__,
        description="Patent similarity search over one collection, in the words of the "
        "`search` commands. Hits are the objects `search ... --format json` prints.",
        docs_url=None,  # Swagger UI loads its scripts from a CDN: the description is enough
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    _errors(app)
    _guard(app, api_key)

    def ask(question: Callable[[Store], Any]) -> Answer:
        return served.ask(question)

    def session(store: Store) -> Session:
        """The library's session over the store the server holds open (one per request: it
        reads the manifest as it is now)."""
        return Session(store=store, collection=served.name, model=served.embedder)

    # -- the collection ------------------------------------------------------------------
    @app.get("/api/info", summary="The collection: fields, facets, modes, size")
    def info() -> dict[str, Any]:
        answer = ask(lambda store: describe(collection=served.name, store=store))
        overview = answer.value
        # What the map can be coloured by (search map --color): topics, then the fields.
        colors = ["cluster", *overview.facet_fields] + (["year"] if overview.date_field else [])
        return dict(overview.to_dict(), dashboard=dashboard, map_colors=colors)

    # -- like, text, facets, doc -----------------------------------------------------------
    def like_answer(ref: str, key: bool, options: QueryOptions) -> Answer:
        return ask(lambda store: session(store).like(ref, options, key=key))

    def text_answer(q: str, options: QueryOptions) -> Answer:
        return ask(lambda store: session(store).text(q, options))

    @app.get("/api/like", summary="Documents most similar to a document (search like)")
    def like(
        ref: Ref,
        options: LikeOptions,
        key: KeyOnly = False,
        fields: Fields = None,
    ) -> dict[str, Any]:
        answer = like_answer(ref, key, options)
        return _hits(answer, fields, options.limit, options.offset)

    @app.get("/api/text", summary="Documents most similar to a text (search text)")
    def text(
        q: Text,
        options: TextOptions,
        fields: Fields = None,
    ) -> dict[str, Any]:
        answer = text_answer(q, options)
        return _hits(answer, fields, options.limit, options.offset)

    @app.get("/api/like/export", summary="search like --output FILE, as a download")
    def like_export(
        ref: Ref,
        options: LikeOptions,
        format: ExportFormat = "xlsx",
        key: KeyOnly = False,
        fields: Fields = None,
    ) -> Response:
        _export_format(format)
        answer = like_answer(ref, key, options)
        return _export(answer.value, format, fields, f"like-{ref}")

    @app.get("/api/text/export", summary="search text --output FILE, as a download")
    def text_export(
        q: Text,
        options: TextOptions,
        format: ExportFormat = "xlsx",
        fields: Fields = None,
    ) -> Response:
        _export_format(format)
        answer = text_answer(q, options)
        return _export(answer.value, format, fields, "text")

    @app.get("/api/facets", summary="How many documents hold each value of a field")
    def facets(
        field: Annotated[str, Query(description="The field to count.")],
        options: FacetOptions,
    ) -> dict[str, Any]:
        answer = ask(lambda store: session(store).facets(field, options))
        result = answer.value
        return {
            "collection": result.collection,
            "field": result.field,
            "total": result.total,
            "filtered": result.filtered,
            "counts": _lines(render.facets_json(result)),
        }

    @app.get("/api/doc", summary="One document: every column")
    def doc(ref: Ref, key: KeyOnly = False) -> dict[str, Any]:
        answer = like_answer(ref, key, QueryOptions(limit=1))
        results = answer.value
        query = results.query
        return {
            "collection": results.collection,
            "key": query.key,
            "row": query.row,
            "title": query.title,
            "date": query.date,
            "payload": query.payload,
            "fields": results.fields,
            "types": results.types,
            "title_field": results.title_field,
            "date_field": results.date_field,
        }

    # -- the landscape and why similar (patentsim.search.landscape / explain) ---------------
    def map_answer(
        color: str | None, method: str, clusters: int | None, options: QueryOptions
    ) -> Answer:
        from ..search.landscape import landscape

        return ask(
            lambda store: landscape(
                color=color,
                method=method,
                k=clusters,
                options=options,
                collection=served.name,
                store=store,
            )
        )

    @app.get("/api/map", summary="The documents the filter selects as points in 2-D (search map)")
    def map_points(
        options: FilterOptions,
        color: MapColor = None,
        method: MapMethod = "auto",
        clusters: MapClusters = None,
    ) -> dict[str, Any]:
        answer = map_answer(color, method, clusters, options)
        return dict(answer.value.to_dict())

    @app.get("/api/map/export", summary="search map --output FILE, as a download")
    def map_export(
        options: FilterOptions,
        format: Annotated[
            str, Query(description="html (interactive, offline), png, xlsx, csv or jsonl.")
        ] = "html",
        color: MapColor = None,
        method: MapMethod = "auto",
        clusters: MapClusters = None,
    ) -> Response:
        from ..search import render_analysis

        render_analysis.check_map_output(f"map.{format}")
        result = map_answer(color, method, clusters, options).value
        return _export_map(result, format, f"map-{color or 'plain'}")

    @app.get("/api/explain", summary="Why similar: the terms a hit shares with its query")
    def explain(
        ref: Annotated[str, Query(description="The hit: a row number or a document key.")],
        query: Annotated[
            str | None, Query(description="The query document (search like's REF).")
        ] = None,
        q: Annotated[str | None, Query(description="Or the query text (search text's).")] = None,
        key: KeyOnly = False,
    ) -> dict[str, Any]:
        from ..search.explain import shared_terms

        answer = ask(
            lambda store: shared_terms(
                ref, query, text=q, key=key, collection=served.name, store=store
            )
        )
        return dict(answer.value.to_dict())

    @app.get("/api/dates", summary="The days the page's date boxes show for date filters")
    def dates(
        from_: Annotated[
            str | None,
            Query(alias="from", description="X of a FIELD>=X filter, in any date spelling."),
        ] = None,
        to: Annotated[
            str | None, Query(description="X of a FIELD<=X filter, in any date spelling.")
        ] = None,
    ) -> dict[str, str | None]:
        # The page holds no date spellings: the server says which day a box shows (null
        # where no day means the same: a time of day, or no date).
        return {
            "from": None if from_ is None else box_day(">=", from_),
            "to": None if to is None else box_day("<=", to),
        }

    # -- the page --------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html; charset=utf-8")

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        path = plotly_path()
        if path is None:
            return _error(404, "plotly is not installed: pip install plotly (the map needs it)")
        return FileResponse(path, media_type="text/javascript; charset=utf-8")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


def plotly_path() -> Path | None:
    """plotly.js as the ``plotly`` package ships it (its licence: MIT), without importing
    plotly."""
    spec = find_spec("plotly")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    return None


# -- answers ------------------------------------------------------------------------------------


def _lines(text: str) -> list[dict[str, Any]]:
    """The objects of ``--format json`` output (one per line), as the CLI renders them."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _fields(fields: str | None) -> list[str] | None:
    from ..search.cli import _fields as parse

    return parse(fields)


def _hits(answer: Answer, fields: str | None, limit: int, offset: int) -> dict[str, Any]:
    results = answer.value
    query = results.query
    return {
        "collection": results.collection,
        "mode": results.mode,
        "mode_detail": results.mode_detail,
        "query": None
        if query is None
        else {
            "key": query.key,
            "row": query.row,
            "title": query.title,
            "date": query.date,
            "payload": query.payload,
        },
        "title_field": results.title_field,
        "date_field": results.date_field,
        "types": results.types,
        "filtered": results.filtered,
        "collapse": results.collapse,
        "prior_art": None
        if results.prior_art_field is None
        else {"field": results.prior_art_field, "before": results.prior_art_before},
        "limit": limit,
        "offset": offset,
        "hits": _lines(render.hits_json(results, _fields(fields))),
    }


def _export_format(fmt: str) -> None:
    if fmt not in EXPORT_TYPES:
        raise UserInputError(f"format must be one of {', '.join(EXPORT_TYPES)}, not {fmt!r}")


def _export(results: Results, fmt: str, fields: str | None, stem: str) -> Response:
    """The file ``--output NAME.fmt`` writes, written by the same code."""
    with tempfile.TemporaryDirectory(prefix="patentsim-export-") as folder:
        path = Path(folder) / f"results.{fmt}"
        render.write_hits(path, results, _fields(fields), keep_formulas=False)
        data = path.read_bytes()
    return Response(
        data,
        media_type=EXPORT_TYPES[fmt],
        headers={"Content-Disposition": _attachment(f"{stem}.{fmt}")},
    )


def _export_map(result: Any, fmt: str, stem: str) -> Response:
    """The file ``search map --output NAME.fmt`` writes, written by the same code."""
    from ..search.figures import write_map
    from ..search.render_analysis import write_map_table

    types = dict(EXPORT_TYPES, html="text/html; charset=utf-8", png="image/png")
    with tempfile.TemporaryDirectory(prefix="patentsim-export-") as folder:
        path = Path(folder) / f"map.{fmt}"
        if fmt in ("html", "png"):
            write_map(result, path)
        else:
            write_map_table(path, result, keep_formulas=False)  # the page's exports: always safe
        data = path.read_bytes()
    return Response(
        data, media_type=types[fmt], headers={"Content-Disposition": _attachment(f"{stem}.{fmt}")}
    )


def _attachment(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return f"attachment; filename=\"{safe}\"; filename*=UTF-8''{quote(name)}"


# -- errors -------------------------------------------------------------------------------------


def _error(status: int, message: str, hint: str | None = None, **headers: str) -> JSONResponse:
    body: dict[str, Any] = {"error": " ".join(message.split())}
    if hint:
        body["hint"] = " ".join(hint.split())
    return JSONResponse(body, status_code=status, headers=headers or None)


def _api_words(text: str) -> str:
    """A library message with the settings it names spelled as the API's parameters."""
    return name_settings(text, lambda name: name)


def status_of(exc: PatentSimError) -> int:
    if isinstance(exc, UserInputError):
        return 400
    if isinstance(exc, (DocumentNotFound, CollectionNotFound)):
        return 404
    if isinstance(exc, ModelMismatch):
        return 409
    if isinstance(exc, (StoreLocked, ModelUnavailable)):
        return 503
    if isinstance(exc, StoreError):
        return 502
    return 422


def _errors(app: FastAPI) -> None:
    @app.exception_handler(PatentSimError)
    def library_error(request: Request, exc: PatentSimError) -> JSONResponse:
        status = status_of(exc)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else {}
        hint = _api_words(exc.hint) if exc.hint else None
        return _error(status, _api_words(exc.message), hint, **headers)

    @app.exception_handler(RequestValidationError)
    def bad_parameter(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = [str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body")]
            value = err.get("input")
            shown = f" (got {value!r})" if isinstance(value, (str, int, float)) else ""
            problems.append(f"{'.'.join(where) or 'request'}: {err.get('msg', 'invalid')}{shown}")
        return _error(400, "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    def internal_error(request: Request, exc: Exception) -> JSONResponse:
        if os.environ.get("PATENTSIM_DEBUG"):
            raise exc
        return _error(
            500,
            f"internal error: {type(exc).__name__}: {exc}",
            "please report it (PATENTSIM_DEBUG=1 shows the traceback on the server)",
        )


# -- access -------------------------------------------------------------------------------------


def _guard(app: FastAPI, api_key: str | None) -> None:
    """Read-only (GET and HEAD only), page headers, and the key where one is set: in the
    ``X-API-Key`` header, as ``Authorization: Bearer KEY``, or in the cookie that opening
    the page as ``/?key=KEY`` sets (so links to a view do not carry the key)."""

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Response:
        if request.method not in ("GET", "HEAD"):
            return _error(405, f"{request.method} is not allowed: the server is read-only")
        if api_key is not None:
            given = request.query_params.get("key")
            if request.url.path == "/" and given is not None and _same(given, api_key):
                response: Response = Response(status_code=303, headers={"Location": "/"})
                response.set_cookie(KEY_COOKIE, api_key, httponly=True, samesite="strict")
                return response
            if not _same(_presented(request), api_key):
                return _error(
                    401,
                    "this server needs its API key",
                    "send it as the X-API-Key header, or open the page as /?key=KEY",
                )
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response


def _presented(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get(KEY_HEADER) or request.cookies.get(KEY_COOKIE) or ""


def _same(given: str, key: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), key.encode("utf-8"))
