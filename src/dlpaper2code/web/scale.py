"""The catalog at scale: fill a fresh database with N generated papers and time the catalog.

    python -m dlpaper2code.web.scale --papers 5000 --db sqlite:///results/web/scale.sqlite \\
        --out results/metrics/web_scale.json

The papers (titles, authors, arXiv ids, layer types, frameworks, figure styles, confidence,
ratings) are drawn from a seeded generator (:func:`generate_papers`, the same for every run
with one seed) and bulk inserted with their ``paper_tag`` rows (seconds, not minutes). Then the
real application (FastAPI ``TestClient``, in process, warmed up first) answers ``--requests``
requests of each kind: the catalog page with a search word, each filter alone (framework, layer
type, figure style, rating), filter + search + sort, page 10, and ``/api/papers`` with a
filter. Prints p50/p95/max per kind and writes them to ``--out`` (JSON; the database URL is
recorded by dialect only, never its password).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select

from ..core.stats import percentile
from ..emit.codegen import TARGETS
from .db import Database, Paper, PaperTag, paper_tags, utcnow

TARGET_P95_MS = 100.0
LAYERS = ("Input", "Conv2D", "Conv1D", "Conv3D", "DepthwiseConv2D", "SeparableConv2D", "Dense", "BatchNormalization",
          "LayerNormalization", "Activation", "ReLU", "Dropout", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D",
          "Flatten", "Add", "Concat", "Multiply", "LSTM", "GRU", "Embedding", "MultiHeadAttention",
          "PositionalEncoding", "Upsample2D", "Conv2DTranspose", "ZeroPadding2D", "Softmax", "Reshape", "LRN")
STYLES = ("neurons", "box2d", "stacked2d", "box3d", "pipeline")   # the figure classifier's styles (figclass)
WORDS = ("deep", "residual", "dense", "attention", "recurrent", "convolutional", "sparse", "efficient", "mobile",
         "graph", "capsule", "generative", "adversarial", "transformer", "vision", "speech", "language", "segment",
         "detection", "pyramid", "fusion", "lightweight", "squeeze", "excitation", "wide", "shallow", "binary",
         "quantized", "neural", "network", "learning", "representation", "temporal", "spatial", "multi-scale")
NOUNS = ("networks", "nets", "models", "encoders", "learners", "architectures", "features", "blocks")
FIRST = ("Alice", "Bob", "Carol", "David", "Eva", "Feng", "Gita", "Hiro", "Ines", "Jonas", "Kemal", "Lena", "Mei",
         "Nikolai", "Olga", "Pedro", "Qiang", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe")
LAST = ("Smith", "Jones", "Zhang", "Wang", "Kumar", "Garcia", "Muller", "Rossi", "Tanaka", "Kim", "Silva", "Novak",
        "Ivanova", "Okafor", "Haddad", "Nguyen", "Larsen", "Dubois", "Cohen", "Moreau", "Schmidt", "Ito", "Park")


def generate_papers(n: int, seed: int = 0) -> list[dict]:
    """``n`` catalog rows (the ``paper`` columns, search_text included), the same for one seed."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        title = " ".join(w.capitalize() for w in rng.sample(WORDS, rng.randint(2, 4))) + " " + rng.choice(NOUNS)
        authors = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(rng.randint(1, 6))]
        arxiv_id = f"{rng.randint(12, 25):02d}{rng.randint(1, 12):02d}.{rng.randint(0, 99999):05d}" \
            if rng.random() < 0.8 else ""
        has_model = rng.random() < 0.85
        layer_types = sorted({"Input", *rng.sample(LAYERS[1:], rng.randint(2, 9))}) if has_model else []
        frameworks = [t for t in TARGETS if has_model and rng.random() < (0.9 if t != "caffe" else 0.6)]
        styles = sorted(set(rng.sample(STYLES, rng.choice((0, 1, 1, 1, 2)))))
        ratings = rng.choice((0, 0, 0, 1, 2, 3, 5, 8))
        rating_sum = sum(rng.randint(1, 5) for _ in range(ratings))
        caption = f"Figure 1: The {title.lower()} architecture."
        report = {"status": "ok" if has_model else "no_model", "metadata": {
            "title": title, "authors": authors, "arxiv_id": arxiv_id}}
        p = Paper(slug=f"paper-{i:05d}", title=title, layer_types=layer_types, report=report,
                  figures=[{"id": "fig_p1_1", "caption": caption, "style": styles[0] if styles else None}], tables=[])
        p.refresh_search_text()
        out.append({"slug": p.slug, "title": title, "source": "generated (dlpaper2code.web.scale)",
                    "status": report["status"], "message": "",
                    "confidence": round(rng.uniform(0.2, 1.0), 3) if has_model else None,
                    "confidence_detail": {}, "frameworks": frameworks, "layer_types": layer_types,
                    "figure_styles": styles, "figures": p.figures, "tables": [], "report": report, "mex": None,
                    "search_text": p.search_text, "authors": authors, "arxiv_id": arxiv_id,
                    "rating_count": ratings, "rating_sum": rating_sum})
    return out


def fill(db: Database, rows: list[dict], chunk: int = 1000) -> float:
    """Bulk insert ``rows`` (from :func:`generate_papers`) and their tags into an empty catalog;
    returns the seconds it took."""
    t0 = time.perf_counter()
    with db.write_session() as s, s.begin():
        if s.scalar(select(func.count(Paper.id))):
            raise SystemExit(f"{db.url.split('://')[0]}: the catalog is not empty; scale fills a fresh database")
        now = utcnow()
        for i in range(0, len(rows), chunk):
            s.execute(insert(Paper.__table__), [dict(r, created=now) for r in rows[i:i + chunk]])
        ids = dict(s.execute(select(Paper.slug, Paper.id)).all())
        tags = [{"paper_id": ids[r["slug"]], "kind": k, "value": v} for r in rows
                for k, v in sorted(paper_tags(r["frameworks"], r["layer_types"], r["figure_styles"]))]
        for i in range(0, len(tags), 5 * chunk):
            s.execute(insert(PaperTag.__table__), tags[i:i + 5 * chunk])
    return time.perf_counter() - t0


def workload(rows: list[dict], seed: int = 1):
    """Endless (kind, url) pairs per kind: the requests timed (values drawn from the data)."""
    rng = random.Random(seed)
    words = sorted({w for r in rows for w in r["title"].lower().split()} | {a.split()[-1].lower() for r in rows
                                                                             for a in r["authors"]})
    layers = sorted({t for r in rows for t in r["layer_types"]})
    styles = sorted({t for r in rows for t in r["figure_styles"]})
    frameworks = [t for t in TARGETS if any(t in r["frameworks"] for r in rows)]
    from urllib.parse import urlencode

    kinds = {
        "search": lambda: "/?" + urlencode({"q": rng.choice(words)}),
        "framework": lambda: "/?" + urlencode({"framework": rng.choice(frameworks)}),
        "layer": lambda: "/?" + urlencode({"layer": rng.choice(layers)}),
        "style": lambda: "/?" + urlencode({"style": rng.choice(styles)}),
        "min_rating": lambda: "/?" + urlencode({"min_rating": rng.choice("12345")}),
        "filter_search_sort": lambda: "/?" + urlencode({"framework": rng.choice(frameworks), "q": rng.choice(words),
                                                        "sort": rng.choice(("rating", "confidence"))}),
        "page_10": lambda: "/?" + urlencode({"page": 10}),
        "api_filter": lambda: "/api/papers?" + urlencode({"layer": rng.choice(layers)}),
    }
    return kinds


def measure(app, rows: list[dict], requests: int, seed: int = 1) -> dict:
    from fastapi.testclient import TestClient

    kinds = workload(rows, seed)
    out = {}
    with TestClient(app) as c:
        for make in kinds.values():               # warm: templates compiled, connections open
            for _ in range(3):
                assert c.get(make()).status_code == 200
        for kind, make in kinds.items():
            times = []
            for _ in range(requests):
                url = make()
                t0 = time.perf_counter()
                r = c.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                if r.status_code != 200:
                    raise RuntimeError(f"{url}: HTTP {r.status_code} {r.text[:200]}")
            out[kind] = {"n": len(times), "p50_ms": round(percentile(times, 50), 2),
                         "p95_ms": round(percentile(times, 95), 2), "max_ms": round(max(times), 2)}
    return out


def run(papers: int, db_url: str, out: str | Path | None, requests: int = 200, seed: int = 0) -> dict:
    from .app import create_app

    db = Database(db_url)
    rows = generate_papers(papers, seed)
    fill_s = fill(db, rows)
    db.engine.dispose()
    db.write_engine.dispose()
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(db_url, data_dir)
        kinds = measure(app, rows, requests, seed + 1)
        app.state.db.engine.dispose()
        app.state.db.write_engine.dispose()
    worst = max(k["p95_ms"] for k in kinds.values())
    result = {"papers": papers, "seed": seed, "database": db_url.split("://", 1)[0].split("+")[0],
              "fill_seconds": round(fill_s, 2), "requests_per_kind": requests, "kinds": kinds,
              "target_p95_ms": TARGET_P95_MS, "worst_p95_ms": worst, "target_met": worst < TARGET_P95_MS,
              "cpus": os.cpu_count(), "python": platform.python_version(),
              "client": "fastapi TestClient, in process, sequential, warm"}
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--papers", type=int, default=5000)
    ap.add_argument("--db", default=None, help="SQLAlchemy URL of a fresh database (default: a new SQLite file in a temporary folder)")
    ap.add_argument("--out", default="results/metrics/web_scale.json")
    ap.add_argument("--requests", type=int, default=200, help="requests timed per kind")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = a.db or f"sqlite:///{Path(tmp) / 'scale.sqlite'}"
        res = run(a.papers, url, a.out, a.requests, a.seed)
    print(f"{res['papers']} papers on {res['database']}: filled in {res['fill_seconds']} s; "
          f"{res['requests_per_kind']} requests per kind")
    print(f"{'kind':20s} {'p50 ms':>8s} {'p95 ms':>8s} {'max ms':>8s}")
    for kind, k in res["kinds"].items():
        print(f"{kind:20s} {k['p50_ms']:8.1f} {k['p95_ms']:8.1f} {k['max_ms']:8.1f}")
    print(f"worst p95 {res['worst_p95_ms']} ms: target < {TARGET_P95_MS} ms {'met' if res['target_met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
