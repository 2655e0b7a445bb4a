"""Errors as pages for browsers, JSON for the API: the handlers for ``BadRequest`` and
for 404 (no route, no static file), and ``register_error_handlers`` to install them."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from .service import BadRequest


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API): such a request gets error.html, others get JSON."""
    return (request.method == "GET" and not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", ""))


def _error_page(request: Request, status: int, message: str):
    return request.app.state.templates.TemplateResponse(request, "error.html", {"status": status, "message": message},
                                                        status_code=status)


async def bad_request(request: Request, exc: BadRequest):
    if wants_html(request):
        return _error_page(request, exc.status, exc.message)
    return JSONResponse({"detail": exc.message, **exc.extra}, status_code=exc.status)


async def not_found(request: Request, exc):
    message = f"nothing at {request.url.path}"
    if wants_html(request):
        return _error_page(request, 404, message)
    return JSONResponse({"detail": message}, status_code=404)


async def invalid_request(request: Request, exc: RequestValidationError):
    """A query or path value of the wrong type (``?version=abc``): a page for a browser,
    FastAPI's JSON (422) for the API."""
    if wants_html(request):
        where = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg', 'invalid')}"
                          for e in exc.errors())
        return _error_page(request, 400, f"the request is not valid: {where}")
    return await request_validation_exception_handler(request, exc)


async def number_out_of_range(request: Request, exc: OverflowError):
    """A version, job or download number larger than the database can hold: no such thing (404)."""
    message = f"nothing at {request.url.path}: a number in the request is out of range"
    if wants_html(request):
        return _error_page(request, 404, message)
    return JSONResponse({"detail": message}, status_code=404)


async def database_refused(request: Request, exc: DataError):
    """A value the database server cannot hold (PostgreSQL checks integer ranges where SQLite's
    driver raises OverflowError): a number out of range is no such thing (404), any other is 400."""
    if getattr(exc.orig, "sqlstate", None) == "22003":      # numeric_value_out_of_range
        return await number_out_of_range(request, exc)
    message = "a value in the request cannot be stored (too long or of the wrong kind)"
    if wants_html(request):
        return _error_page(request, 400, message)
    return JSONResponse({"detail": message}, status_code=400)


async def too_deep(request: Request, exc: RecursionError):
    message = "the request nests data too deeply to be read"
    if wants_html(request):
        return _error_page(request, 400, message)
    return JSONResponse({"detail": message}, status_code=400)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BadRequest, bad_request)
    app.add_exception_handler(404, not_found)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(OverflowError, number_out_of_range)
    app.add_exception_handler(DataError, database_refused)
    app.add_exception_handler(RecursionError, too_deep)
