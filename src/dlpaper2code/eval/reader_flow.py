"""Score the diagram reader on simulated diagrams: per-image rows, the summary table, box plots.

The workflow reads every image of a simulated shard (``read_shard``), then
summarises all shards (``read_summary``): mean layer and edge accuracy per
style (the paper's Figure 6 definitions), the share of graphs recovered
exactly, hyper-parameter accuracy, and seconds per diagram (median, 95th
percentile); the summary itself is :func:`.reader_score.summarize`, the one
definition the held-back benchmark uses too.  A diagram the reader cannot read scores 0 and is counted, the
batch goes on.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Iterable, Iterator

from ..core.atomic import atomic_path
from .reader_score import score_diagram, summarize

SCORE_FIELDS = ["model", "style", "look", "depth", "layers", "edges", "status", "layer_acc", "edge_acc",
                "exact", "hparam_acc", "hparams", "seconds", "message"]


def score_image(image: Path, gt_path: Path, graph_path: Path) -> dict:
    """Read one diagram and score it against its ground truth."""
    from ..read import read_diagram

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
    n = 0
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=SCORE_FIELDS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in SCORE_FIELDS})
            n += 1
    return n


def load_rows(paths: Iterable[str | Path]) -> list[dict]:
    rows = []
    for p in paths:
        with open(p, encoding="utf-8", newline="") as fh:
            rows.extend(csv.DictReader(fh))
    return rows


def format_summary(summary: dict) -> str:
    lines = ["# Diagram reader on simulated diagrams", "",
             "| style | images | layer acc | edge acc | exact | hyper-params | not read | s median | s p95 |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for style, m in summary.items():
        hp = "n/a" if m["hparam_accuracy"] is None else f"{100 * m['hparam_accuracy']:.2f}%"
        lines.append(f"| {style} | {m['images']} | {100 * m['layer_accuracy']:.2f}% | {100 * m['edge_accuracy']:.2f}% | "
                     f"{100 * m['exact_share']:.1f}% | {hp} | {m['not_ok']} | {m['seconds_median']:.3f} | "
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
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, dpi=100, metadata={"Software": None})
    plt.close(fig)


__all__ = ["SCORE_FIELDS", "score_image", "score_shard", "write_rows", "load_rows", "summarize", "format_summary",
           "boxplots"]
