"""ASGI middleware around every response: security headers (CSP, nosniff, referrer policy)
and the request-body size limit (413 before the body is read)."""
from __future__ import annotations

import json

CSP = ("default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


class SecurityHeadersMiddleware:
    """Defence in depth behind the escaping: no inline or foreign scripts may run on our pages."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"same-origin"))
                message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyTooLarge(Exception):
    pass


def _wants_html(scope, headers: dict) -> bool:
    """A browser route (not /api/) asked by a browser (Accept: text/html): errors as a page."""
    return (not scope["path"].startswith("/api/")
            and "text/html" in headers.get(b"accept", b"").decode("latin-1"))


class BodyLimitMiddleware:
    """Refuse request bodies above a limit (413) without reading them: by Content-Length
    when given, else by counting the streamed chunks."""

    def __init__(self, app, default: int, upload: int):
        self.app, self.default, self.upload = app, default, upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        limit = self.upload if scope["path"].rstrip("/") in ("/upload", "/api/upload") else self.default
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        html = _wants_html(scope, headers)
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._refuse(send, int(length), limit, html)
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, seen, limit, html)

    @staticmethod
    async def _refuse(send, size: int, limit: int, html: bool = False):
        message = (f"the request body is larger than the limit of {_size(limit)} "
                   f"({_size(size)} or more sent)")
        if html:        # a browser's form post (an upload): a page, not raw JSON
            body = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>413 - dlpaper2code</title>'
                    f'</head><body><main><h1>413</h1><p class="error-message">{message}</p>'
                    f'<p><a href="/">Back to the catalog</a></p></main></body></html>').encode()
            ctype = b"text/html; charset=utf-8"
        else:
            body, ctype = json.dumps({"detail": message}).encode(), b"application/json"
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _size(n: int) -> str:
    """A byte count for people: 20 MB, 512 KB, 900 bytes."""
    for unit, k in (("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= k:
            v = n / k
            return f"{v:.0f} {unit}" if v >= 10 or v == int(v) else f"{v:.1f} {unit}"
    return f"{n:,} bytes"
