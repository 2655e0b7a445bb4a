"""The bounded load test against a real server process on loopback (small here; the
50-client run is `python -m dlpaper2code.web.loadtest`)."""
from __future__ import annotations

import json

from dlpaper2code.web.loadtest import run


def test_concurrent_clients_lose_no_edit_or_rating(tmp_path):
    out = tmp_path / "load.json"
    r = run(clients=12, requests=8, papers=None, out=str(out), seed=1, quiet=True)
    assert r["errors"] == {}, r["status"]
    assert r["requests"] == 96 and r["requests_per_s"] > 0
    assert r["lost_edits"] == 0 and r["lost_ratings"] == 0
    assert r["versions_contiguous"] and r["rating_means_match"]
    assert r["saves_accepted"] > 0 and r["ratings_accepted"] > 0
    assert r["ok"] and json.loads(out.read_text())["http_requests"] >= 96
