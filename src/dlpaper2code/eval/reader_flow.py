"""Score the diagram reader on simulated diagrams: per-image rows, per-style summary, box plots.

The workflow reads every image of a simulated shard (``read_shard``), then
summarises all shards (``read_summary``): mean layer and edge accuracy per
style (the paper's Figure 6 definitions), the share of graphs recovered
exactly, hyper-parameter accuracy, and seconds per diagram (median, 95th
percentile).  A diagram the reader cannot read scores 0 and is counted, the
batch goes on.
"""
from __future__ import annotations

import csv
import json
import os
import statistics
from pathlib import Path
from typing import Iterable, Iterator

SCORE_FIELDS = ["model", "style", "look", "depth", "layers", "edges", "status", "layer_acc", "edge_acc",
                "exact", "hparam_acc", "hparams", "seconds", "message"]


def score_image(image: Path, gt_path: Path, graph_path: Path) -> dict:
    """Read one diagram and score it against its ground truth."""
    from ..read import read_diagram
    from .reader_score import score_diagram

    gt = json.loads(gt_path.read_text(encoding="utf-8"))
    graph_doc = json.loads(graph_path.read_text(encoding="utf-8"))
    result = read_diagram(str(image))
    score = score_diagram(result, gt, graph_doc)
    seconds = score.get("seconds")
    if seconds is None:
        seconds = (result.get("seconds") or {}).get("total", 0.0)
    return {"status": result.get("status", "error"), "layer_acc": score["layer_acc"],
            "edge_acc": score["edge_acc"], "exact": int(bool(score["exact"])),
            "hparam_acc": score.get("hparam_acc") if score.get("hparam_n") else None,
            "hparams": score.get("hparam_n", 0), "seconds": round(float(seconds), 4),
            "message": (result.get("message") or "")[:200]}


def score_shard(shard_dir: str | Path, styles: list[str] | None = None) -> Iterator[dict]:
    """One row per image of a simulated shard (its manifest.csv), in manifest order."""
    shard_dir = Path(shard_dir)
    with open(shard_dir / "manifest.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if styles and row["style"] not in styles:
                continue
            out = {"model": row["model"], "style": row["style"], "look": row["look"], "depth": row["depth"],
                   "layers": row["layers"], "edges": row["edges"]}
            out.update(score_image(shard_dir / row["image"], shard_dir / row["ground_truth"], shard_dir / row["graph"]))
            yield out


def write_rows(rows: Iterable[dict], path: str | Path) -> int:
    """Write score rows as CSV atomically; returns the number of rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SCORE_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in SCORE_FIELDS})
            n += 1
    os.replace(tmp, path)
    return n


def load_rows(paths: Iterable[str | Path]) -> list[dict]:
    rows = []
    for p in paths:
        with open(p, encoding="utf-8", newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(q * (len(values) - 1)))))
    return values[k]


def summarize(rows: list[dict]) -> dict:
    """Per style (and 'all'): images, mean layer/edge accuracy, exact share, hyper-parameter
    accuracy (over images whose diagram shows any), failures, median/p95 seconds."""
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["style"], []).append(r)
    groups["all"] = list(rows)
    out = {}
    for style, rs in sorted(groups.items()):
        if not rs:
            continue
        secs = [float(r["seconds"]) for r in rs]
        hp = [float(r["hparam_acc"]) for r in rs if r.get("hparam_acc") not in ("", None)]
        out[style] = {
            "images": len(rs),
            "layer_accuracy": round(statistics.fmean(float(r["layer_acc"]) for r in rs), 5),
            "edge_accuracy": round(statistics.fmean(float(r["edge_acc"]) for r in rs), 5),
            "exact_share": round(statistics.fmean(int(r["exact"]) for r in rs), 5),
            "hparam_accuracy": round(statistics.fmean(hp), 5) if hp else None,
            "not_read": sum(r["status"] != "ok" for r in rs),
            "seconds_median": round(statistics.median(secs), 4),
            "seconds_p95": round(_pct(secs, 0.95), 4),
        }
    return out


def format_summary(summary: dict) -> str:
    lines = ["# Diagram reader on simulated diagrams", "",
             "| style | images | layer acc | edge acc | exact | hyper-params | not read | s median | s p95 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for style, m in summary.items():
        hp = "n/a" if m["hparam_accuracy"] is None else f"{100 * m['hparam_accuracy']:.2f}%"
        lines.append(f"| {style} | {m['images']} | {100 * m['layer_accuracy']:.2f}% | {100 * m['edge_accuracy']:.2f}% | "
                     f"{100 * m['exact_share']:.1f}% | {hp} | {m['not_read']} | {m['seconds_median']:.3f} | "
                     f"{m['seconds_p95']:.3f} |")
    return "\n".join(lines) + "\n"


def boxplots(rows: list[dict], png_path: str | Path) -> None:
    """Box plots of per-image layer and edge accuracy per style (the paper's Figure 6)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = sorted({r["style"] for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.2 * len(styles), 3.6), sharey=True)
    for ax, key, title in ((axes[0], "layer_acc", "Layer accuracy"), (axes[1], "edge_acc", "Edge accuracy")):
        data = [[100 * float(r[key]) for r in rows if r["style"] == s] for s in styles]
        ax.boxplot(data, tick_labels=styles, showmeans=True)
        ax.set_title(title)
        ax.set_ylim(-2, 102)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("% per diagram")
    fig.tight_layout()
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = png_path.with_name(f".{png_path.name}.tmp.png")
    fig.savefig(tmp, dpi=100, metadata={"Software": None})
    plt.close(fig)
    os.replace(tmp, png_path)
