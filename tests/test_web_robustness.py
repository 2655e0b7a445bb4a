"""Hostile input to the web server (issue 18): never an HTTP 500. Deeply nested JSON is refused
with 400, numbers too large for the database are 404, a malformed query on a browser route is an
HTML page (the API keeps JSON), and an oversized upload from a browser is a page naming the limit."""
from __future__ import annotations

import pytest

from dlpaper2code.web.app import MAX_UPLOAD_BYTES
from test_web_api import client, db_url, papers  # noqa: F401  (fixtures)

DEEP = b"[" * 100_000
HUGE = "99999999999999999999"
HTML = {"accept": "text/html,application/xhtml+xml"}


@pytest.mark.parametrize("url", ["/api/generate", "/api/papers/alpha/versions", "/api/merge"])
@pytest.mark.parametrize("body", [DEEP, b'{"graph": ' + b"[" * 5000 + b"]" * 5000 + b"}"])
def test_deeply_nested_json_is_refused_with_a_clear_message(client, url, body):
    r = client.post(url, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert "deep" in r.json()["detail"] and "limit" in r.json()["detail"]


@pytest.mark.parametrize("url", [f"/papers/alpha?version={HUGE}", f"/papers/alpha/edit?version={HUGE}",
                                 f"/api/papers/alpha/versions/{HUGE}", f"/papers/alpha/code/{HUGE}.zip",
                                 f"/papers/alpha/versions/{HUGE}/graph.json", f"/jobs/{HUGE}",
                                 f"/api/jobs/{HUGE}", f"/papers/alpha/code/{HUGE}/pytorch/model_pytorch.py"])
def test_numbers_too_large_for_the_database_are_not_found(client, url):
    r = client.get(url)
    assert r.status_code in (400, 404), (r.status_code, r.text[:300])
    page = client.get(url, headers=HTML)
    assert page.status_code in (400, 404)
    if not url.startswith("/api/"):
        assert page.headers["content-type"].startswith("text/html") and "<h1>" in page.text


def test_a_malformed_query_on_a_browser_route_is_a_page_and_json_on_the_api(client):
    r = client.get("/papers/alpha?version=abc", headers=HTML)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")
    assert "version" in r.text and '"detail"' not in r.text and "<h1>400</h1>" in r.text
    api = client.get("/api/papers", params={"min_rating": "lots"})
    assert api.status_code == 422 and "detail" in api.json()


def test_an_oversized_upload_from_a_browser_is_a_page_naming_the_limit(client):
    big = b"%PDF-1.4\n" + b"0" * (25 * 1024 * 1024)
    r = client.post("/upload", files={"pdf": ("big.pdf", big, "application/pdf")}, headers=HTML)
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html"), r.text[:300]
    assert '{"detail"' not in r.text and "limit" in r.text and f"limit of {MAX_UPLOAD_BYTES >> 20} MB" in r.text
    api = client.post("/api/upload", files={"pdf": ("big.pdf", big, "application/pdf")}, headers=HTML)
    assert api.status_code == 413 and "limit" in api.json()["detail"]
