"""Benchmark the diagram reader on a held-back simulated set.

    from dlpaper2code.eval.reader_bench import bench_reader
    report = bench_reader("results/read_bench", models=1008, seed=1000)
    report["summary"]["keras3"]      # layer/edge accuracy, exact share, hyper-parameters, seconds

The set is drawn with its own seed (1000: the workflow's simulated data use
seed 0), depths 5 to 40 in turn, every style of params.yaml's
``render.styles``; it is written with :func:`simulate.dataset.write_shard`,
read back image by image with :func:`read_diagram` and scored with
:func:`score_diagram`.  Times are per diagram: wall seconds and CPU seconds
(this process plus Tesseract), each reader process on one core.
"""
from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import Callable

from ..core.stats import percentile

ROW_FIELDS = ["model", "style", "look", "rankdir", "layers", "edges", "status", "layer_accuracy", "edge_accuracy",
              "exact", "hparam_accuracy", "hparams", "extra_edges", "seconds", "cpu_seconds", "message"]


def default_styles() -> dict[str, dict]:
    from ..core import paths

    params = paths.project_params()
    return dict(((params.get("render") or {}).get("styles")) or {"keras3": {"look": "keras3"},
                                                                 "keras2": {"look": "keras2"},
                                                                 "caffe": {"look": "caffe"}})


def _row(model: str, style: str, truth: dict, result: dict, graph: dict) -> dict:
    from .reader_score import score_diagram

    s = score_diagram(result, truth, graph)
    return {"model": model, "style": style, "look": truth.get("look"),
            "rankdir": (truth.get("knobs") or {}).get("rankdir"), "layers": s["layers"], "edges": s["edges"],
            "status": s["status"], "layer_accuracy": s["layer_accuracy"], "edge_accuracy": s["edge_accuracy"],
            "exact": s["exact"], "hparam_accuracy": s["hparam_accuracy"], "hparams": s["hparams"],
            "extra_edges": s["extra_edges"], "seconds": (result.get("seconds") or {}).get("total"),
            "cpu_seconds": (result.get("seconds") or {}).get("cpu"), "message": (result.get("message") or "")[:200]}


def _score_row(args: tuple[str, dict]) -> dict:
    from ..read.core import read_diagram

    root, row = args
    root = Path(root)
    truth = json.loads((root / row["ground_truth"]).read_text(encoding="utf-8"))
    graph = json.loads((root / row["graph"]).read_text(encoding="utf-8"))
    return _row(row["model"], row["style"], truth, read_diagram(str(root / row["image"])), graph)


def bench_reader(out_dir: str | Path, *, models: int = 1008, seed: int = 1000, depths: range | list[int] = range(5, 41),
                 styles: dict[str, dict] | None = None, processes: int = 1, chunk: int = 72,
                 set_dir: str | Path | None = None, progress: Callable[[str], None] | None = None) -> dict:
    """Generate `models` held-back models (every style each), read and score
    every image; write rows.csv and summary.json under `out_dir` and return
    ``{"summary": {style: {...}}, "rows": [...], "seconds": {...}}``.

    The images go to `set_dir` (default: `out_dir`); shards already there are
    reused, so a second run only reads."""
    from ..simulate.dataset import ShardOptions, write_shard

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    styles = styles or default_styles()
    depths = list(depths)
    pairs = [(depths[i % len(depths)], i // len(depths)) for i in range(models)]
    t0 = time.perf_counter()
    shards = []
    for k in range(0, len(pairs), chunk):
        shard = Path(set_dir or out_dir) / f"set_{k // chunk:03d}"
        if not (shard / "manifest.csv").is_file():
            write_shard(shard, pairs[k:k + chunk], seed, ShardOptions(styles=styles, keras_config=False, caffe=False))
        shards.append(shard)
        if progress:
            progress(f"generated {min(k + chunk, len(pairs))}/{len(pairs)} models")
    t_gen = time.perf_counter() - t0
    jobs = []
    for shard in shards:
        with open(shard / "manifest.csv", encoding="utf-8", newline="") as fh:
            jobs.extend((str(shard), row) for row in csv.DictReader(fh))
    rows: list[dict] = []
    t1 = time.perf_counter()
    if processes > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(processes, initializer=_warm) as pool:
            for i, r in enumerate(pool.imap(_score_row, jobs, chunksize=4), 1):
                rows.append(r)
                if progress and i % 200 == 0:
                    progress(f"read {i}/{len(jobs)} images, {time.perf_counter() - t1:.0f} s")
    else:
        _warm()
        for i, job in enumerate(jobs, 1):
            rows.append(_score_row(job))
            if progress and i % 200 == 0:
                progress(f"read {i}/{len(jobs)} images, {time.perf_counter() - t1:.0f} s")
    t_read = time.perf_counter() - t1
    return _write_report(out_dir, rows, {"models": models, "seed": seed, "depths": [depths[0], depths[-1]],
                                         "images": len(rows), "processes": processes,
                                         "seconds": {"generate": round(t_gen, 1), "read": round(t_read, 1)}})


def _write_report(out_dir: Path, rows: list[dict], report: dict) -> dict:
    """Summary per style (with CPU percentiles) into `report`; rows.csv and summary.json written."""
    from .reader_score import summarize

    summary = summarize(rows)
    for style, m in summary.items():
        cpu = [r["cpu_seconds"] for r in rows if style in ("all", r["style"]) and r.get("cpu_seconds") is not None]
        m["cpu_median"] = _pct(cpu, 50)
        m["cpu_p95"] = _pct(cpu, 95)
    with open(out_dir / "rows.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=ROW_FIELDS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in ROW_FIELDS})
    report["summary"] = summary
    (out_dir / "summary.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    report["rows"] = rows
    return report


def bench_graph_diagrams(graphs: list[str | Path], out_dir: str | Path, *, styles: dict[str, dict] | None = None,
                         seeds: int = 2) -> dict:
    """Draw given graphs (e.g. tests/graphs/layers_*.json: the layer types the simulated
    grammar does not draw) in every style, `seeds` renders each, read and score them.
    Same report as :func:`bench_reader` ("models" = graphs x seeds)."""
    from ..core.graph import load_graph
    from ..read.core import read_diagram
    from ..render.core import render_diagram

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    out_dir = Path(out_dir)
    (out_dir / "images").mkdir(parents=True, exist_ok=True)
    styles = styles or default_styles()
    _warm()
    rows, t0 = [], time.perf_counter()
    for path in graphs:
        graph = load_graph(path)
        doc = graph.to_dict()
        for style, knobs in styles.items():
            for seed in range(seeds):
                png = out_dir / "images" / f"{graph.name}_{style}_{seed}.png"
                truth = render_diagram(graph, dict(knobs), png, seed=seed)
                rows.append(_row(f"{graph.name}/{seed}", style, truth, read_diagram(str(png)), doc))
    return _write_report(out_dir, rows, {"graphs": [str(p) for p in graphs], "models": len(graphs) * seeds,
                                         "images": len(rows), "seconds": {"read": round(time.perf_counter() - t0, 1)}})


def _warm() -> None:
    """Load the vocabulary once, so the first diagram's time is its own."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    from ..read.labels import lexicon

    lexicon()


def _pct(values: list[float], q: float) -> float | None:
    return round(percentile(values, q), 4) if values else None


def format_report(report: dict) -> str:
    head = (f"held-back set: {report['models']} models x {len(report['summary'])} styles, seed {report['seed']}, "
            f"depths {report['depths'][0]}-{report['depths'][1]}") if "seed" in report else \
        f"graphs: {', '.join(Path(g).stem for g in report['graphs'])} ({report['images']} images)"
    lines = [head,
             "| style | images | layer acc | edge acc | exact | hyper-params | not ok | s median | s p95 | cpu median | cpu p95 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for style, m in report["summary"].items():
        hp = "n/a" if m["hparam_accuracy"] is None else f"{100 * m['hparam_accuracy']:.2f}%"
        lines.append(f"| {style} | {m['images']} | {100 * m['layer_accuracy']:.2f}% | {100 * m['edge_accuracy']:.2f}% | "
                     f"{100 * m['exact_share']:.1f}% | {hp} | {m['not_ok']} | {m['seconds_median']:.3f} | "
                     f"{m['seconds_p95']:.3f} | {m['cpu_median']:.3f} | {m['cpu_p95']:.3f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":   # python -m dlpaper2code.eval.reader_bench OUT_DIR [MODELS] [PROCESSES]
    import sys

    out = sys.argv[1] if len(sys.argv) > 1 else "results/read_bench"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1008
    procs = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rep = bench_reader(out, models=n, processes=procs, progress=lambda m: print(m, file=sys.stderr, flush=True))
    print(format_report(rep), end="")
