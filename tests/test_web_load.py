"""The bounded load test against a real server process on loopback, on SQLite and on an empty
database of the session's PostgreSQL server (small here; the 50-client run is
`python -m dlpaper2code.web.loadtest`, with `--postgres` for PostgreSQL)."""
from __future__ import annotations

import json

import pytest

from dlpaper2code.web.loadtest import run


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_concurrent_clients_lose_no_edit_or_rating(tmp_path, request, database):
    out = tmp_path / "load.json"
    url = request.getfixturevalue("postgres_url") if database == "postgresql" else None
    r = run(clients=12, requests=8, papers=None, out=str(out), seed=1, quiet=True, db_url=url)
    assert r["database"] == database
    assert r["errors"] == {}, r["status"]
    assert r["requests"] == 96 and r["requests_per_s"] > 0
    assert r["lost_edits"] == 0 and r["lost_ratings"] == 0
    assert r["versions_contiguous"] and r["rating_means_match"]
    assert r["saves_accepted"] > 0 and r["ratings_accepted"] > 0
    assert r["ok"] and json.loads(out.read_text())["http_requests"] >= 96
