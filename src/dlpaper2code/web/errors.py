"""Errors as pages for browsers, JSON for the API: the handlers for ``BadRequest`` and
for 404 (no route, no static file), and ``register_error_handlers`` to install them."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(BadRequest, bad_request)
    app.add_exception_handler(404, not_found)
