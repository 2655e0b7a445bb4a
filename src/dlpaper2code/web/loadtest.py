"""Bounded load test of the web app on loopback.

Starts ``dlpaper2code.web serve`` in its own process on a fresh SQLite database
(``--db-url``: an empty database at that SQLAlchemy URL instead; ``--postgres``: an empty
database on a throwaway PostgreSQL server it starts itself, ``dlpaper2code.web.pgserver``)
(with the pipeline's papers from ``--papers`` if given and present, else small demo
papers), then runs ``--clients`` concurrent clients (asyncio + httpx), each doing
``--requests`` requests of a mixed workload: catalog, paper page, code regeneration,
rating, and saving a new version of a shared paper (reading the latest version
first; a 409 from a concurrent save is answered by reloading and saving again, as
the editor does). At the end the database is checked: every accepted save is a
version (numbers 1..n without gaps), every accepted rating is counted. Prints
requests/s and latency percentiles; writes ``--out`` (JSON).

    python -m dlpaper2code.web.loadtest --clients 50 --requests 40
    python -m dlpaper2code.web.loadtest --clients 50 --requests 40 --postgres
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from ..core.stats import percentile
from .testing import demo_graph, make_paper_dir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    return percentile(values, 100 * q)        # the project's one definition (core.stats)


async def _client(k: int, base: str, n: int, slugs: list[str], shared_all: list[str], stats: dict, rng: random.Random):
    shared = shared_all[k % len(shared_all)]          # about 10 clients edit and rate each shared paper
    async with httpx.AsyncClient(base_url=base, timeout=60) as c:
        for i in range(n):
            kind = rng.choices(["catalog", "paper", "generate", "rate", "save"], weights=[2, 2, 3, 2, 1])[0]
            t0 = time.perf_counter()
            try:
                if kind == "catalog":
                    r = await c.get("/", params={"q": rng.choice(["", "conv", "net"])})
                elif kind == "paper":
                    r = await c.get(f"/papers/{rng.choice(slugs)}")
                elif kind == "generate":
                    r = await c.post("/api/generate", json={"graph": demo_graph(filters=rng.randint(1, 64))})
                elif kind == "rate":
                    value = rng.randint(1, 5)
                    r = await c.post(f"/api/papers/{shared}/ratings", json={"value": value, "author": f"c{k}"})
                    if r.status_code == 200:
                        stats["ratings"].setdefault(shared, []).append(value)
                else:
                    for attempt in range(5):
                        latest = (await c.get(f"/api/papers/{shared}")).json()["latest_version"]
                        stats["extra_requests"] += 1
                        r = await c.post(f"/api/papers/{shared}/versions", json={
                            "graph": demo_graph(filters=1 + (k * 1000 + i) % 500), "base_version": latest,
                            "author": f"client{k}", "message": f"edit {i}"})
                        if r.status_code != 409:
                            break
                        stats["conflicts"] += 1
                        stats["extra_requests"] += 1
                    if r.status_code == 201:
                        stats["saves"].setdefault(shared, []).append(r.json()["number"])
                status = r.status_code
            except httpx.HTTPError as exc:
                status = f"error {type(exc).__name__}"
            dt = (time.perf_counter() - t0) * 1000
            stats["lat"].setdefault(kind, []).append(dt)
            stats["status"][str(status)] = stats["status"].get(str(status), 0) + 1


async def _run(base: str, clients: int, requests: int, slugs: list[str], shared: list[str], seed: int) -> dict:
    stats = {"lat": {}, "status": {}, "saves": {}, "ratings": {}, "conflicts": 0, "extra_requests": 0}
    t0 = time.perf_counter()
    await asyncio.gather(*(_client(k, base, requests, slugs, shared, stats, random.Random(seed * 1000 + k))
                           for k in range(clients)))
    stats["wall_s"] = time.perf_counter() - t0
    return stats


def _database_kind(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


def run(clients: int = 50, requests: int = 40, papers: str | None = None, out: str | None = None,
        seed: int = 0, quiet: bool = False, workers: int = 1, db_url: str | None = None,
        postgres: bool = False) -> dict:
    """The load test; the server's database is a new SQLite file, else ``db_url`` (it should be
    empty: the checks count versions and ratings), else with ``postgres`` a throwaway PostgreSQL
    server started here (durable settings: fsync and synchronous commit on)."""
    if postgres and not db_url:
        from .pgserver import PostgresServer

        with PostgresServer("dlpaper2code_load", fast=False) as pg:
            return run(clients, requests, papers, out, seed, quiet, workers, db_url=pg.url)
    tmp = Path(tempfile.mkdtemp(prefix="dlp2c-load-"))
    db = db_url or str(tmp / "load.sqlite")
    src = Path(papers) if papers else None
    if not (src and src.is_dir() and any(src.glob("*/report.json"))):
        src = tmp / "papers"
        for k in range(6):
            make_paper_dir(src, f"demo_{k}", title=f"Demo net {k}")
    n_shared = max(1, clients // 10)
    shared = [f"shared_{k}" for k in range(n_shared)]
    for name in shared:
        make_paper_dir(tmp / "shared", name, title="A paper many clients edit and rate")
    load_before = round(os.getloadavg()[0], 2)
    port = _free_port()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "dlpaper2code.web", "serve", "--port", str(port), "--db", db,
           "--data-dir", str(tmp / "data"), "--import", str(src), "--import", str(tmp / "shared"), "--log-level", "warning", "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited: {proc.stdout.read()}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise RuntimeError("the server did not start within 60 s")
            time.sleep(0.2)
        slugs = [p["slug"] for p in httpx.get(base + "/api/papers").json()["papers"]]
        httpx.post(base + "/api/generate", json=demo_graph())        # warm the templates
        stats = asyncio.run(_run(base, clients, requests, slugs, shared, seed))
        db_versions = {s: [v["number"] for v in httpx.get(f"{base}/api/papers/{s}/versions").json()["versions"]]
                       for s in shared}
        db_papers = {s: httpx.get(f"{base}/api/papers/{s}").json() for s in shared}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    all_lat = [x for v in stats["lat"].values() for x in v]
    total = len(all_lat)
    http_total = total + stats["extra_requests"]
    # a 409 that is still refused after 5 tries is a correct answer (nothing overwritten), not an error
    errors = {s: n for s, n in stats["status"].items() if not s.startswith(("2", "3")) and s != "409"}
    saves = {s: stats["saves"].get(s, []) for s in shared}
    ratings = {s: stats["ratings"].get(s, []) for s in shared}
    lost_edits = sum(len(saves[s]) + 1 - len(db_versions[s]) for s in shared)
    lost_ratings = sum(len(ratings[s]) - db_papers[s]["ratings"] for s in shared)
    contiguous = all(db_versions[s] == list(range(1, len(db_versions[s]) + 1)) for s in shared)
    means_ok = all(abs((statistics.fmean(ratings[s]) if ratings[s] else 0) - (db_papers[s]["rating"] or 0)) < 0.01
                   for s in shared)
    result = {
        "database": _database_kind(db_url) if db_url else "sqlite",
        "clients": clients, "requests_per_client": requests, "requests": total,
        "http_requests": http_total, "wall_s": round(stats["wall_s"], 2),
        "requests_per_s": round(http_total / stats["wall_s"], 1),
        "latency_ms": {"p50": round(_pct(all_lat, 0.5), 1), "p95": round(_pct(all_lat, 0.95), 1),
                       "p99": round(_pct(all_lat, 0.99), 1), "max": round(max(all_lat), 1)},
        "per_kind": {k: {"n": len(v), "p50_ms": round(_pct(v, 0.5), 1), "p95_ms": round(_pct(v, 0.95), 1)}
                     for k, v in sorted(stats["lat"].items())},
        "status": stats["status"], "errors": errors, "shared_papers": len(shared),
        "saves_accepted": sum(len(v) for v in saves.values()), "save_conflicts_retried": stats["conflicts"],
        "versions_in_db": sum(len(v) for v in db_versions.values()), "versions_contiguous": contiguous,
        "ratings_accepted": sum(len(v) for v in ratings.values()),
        "ratings_in_db": sum(p["ratings"] for p in db_papers.values()), "rating_means_match": means_ok,
        "lost_edits": lost_edits, "lost_ratings": lost_ratings,
        "server_workers": workers, "cpu_count": os.cpu_count(), "load_average_1min_before": load_before,
    }
    result["ok"] = not errors and lost_edits == 0 and lost_ratings == 0 and contiguous and means_ok
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=1) + "\n")
    if not quiet:
        print(f"database: {result['database']}")
        print(f"{http_total} HTTP requests ({total} client actions) from {clients} concurrent clients in "
              f"{result['wall_s']} s: {result['requests_per_s']} requests/s (load average before: {load_before})")
        print("latency ms: " + ", ".join(f"{k} {v}" for k, v in result["latency_ms"].items()))
        for k, v in result["per_kind"].items():
            print(f"  {k:<9} n={v['n']:<5} p50 {v['p50_ms']} ms  p95 {v['p95_ms']} ms")
        print(f"saves accepted {result['saves_accepted']} (409s retried: {result['save_conflicts_retried']}), "
              f"versions in the database {result['versions_in_db']} over {len(shared)} papers (contiguous: {contiguous}); "
              f"ratings accepted {result['ratings_accepted']}, in the database {result['ratings_in_db']}")
        print(f"errors: {errors or 'none'}; lost edits {result['lost_edits']}, lost ratings {result['lost_ratings']}")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlpaper2code.web.loadtest", description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--requests", type=int, default=40, help="requests per client")
    ap.add_argument("--papers", default="results/papers", help="paper output folders to serve (demo papers if absent)")
    ap.add_argument("--out", default=None, help="result file (default results/metrics/web_load.json, "
                                                "web_load_<database>.json for another database)")
    ap.add_argument("--db-url", default=None, help="SQLAlchemy URL of an empty database to serve from "
                                                   "(default: a new SQLite file)")
    ap.add_argument("--postgres", action="store_true",
                    help="start a throwaway PostgreSQL server and serve from it (needs the postgresql package)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    args = ap.parse_args(argv)
    if args.postgres and args.db_url:
        ap.error("--postgres starts its own server: give --postgres or --db-url, not both")
    kind = "postgresql" if args.postgres else _database_kind(args.db_url) if args.db_url else "sqlite"
    out = args.out or ("results/metrics/web_load.json" if kind == "sqlite" else f"results/metrics/web_load_{kind}.json")
    try:
        result = run(args.clients, args.requests, args.papers, out, args.seed, workers=args.workers,
                     db_url=args.db_url, postgres=args.postgres)
    except RuntimeError as exc:          # PostgresServerError, or a server that did not start
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
