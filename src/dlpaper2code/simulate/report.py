"""Summaries of the simulated dataset's statistics: DVC metrics and a Markdown table."""
from __future__ import annotations

from .dataset import ShardStats
from .grammar import load_grammar


def summary_metrics(stats: ShardStats) -> dict:
    """The headline numbers (results/metrics/simulate.json)."""
    n = max(stats.models, 1)
    grammar = load_grammar()
    reached = sorted(s for s in grammar.symbols if stats.symbols.get(s))
    with_concat = sum(v for k, v in stats.merges.items() if k > 0)
    return {
        "models": stats.models,
        "images": stats.images,
        "rejection_rate": round(stats.draw.rejected / stats.draw.attempts, 6) if stats.draw.attempts else 0.0,
        "mean_layers": round(stats.layers / n, 3),
        "mean_edges": round(stats.edges / n, 3),
        "share_with_concat": round(with_concat / n, 4),
        "symbols_reached": len(reached),
        "symbols_in_grammar": len(grammar.symbols),
        "caffe_prototxt_share": round(1 - sum(stats.caffe_refused.values()) / n, 4),
        "images_not_drawn": sum(stats.render_failed.values()),
        "bytes_per_image": round(stats.image_bytes / stats.images) if stats.images else 0,
        "bytes_per_model": round(stats.model_bytes / n),
    }


def format_stats(stats: ShardStats) -> str:
    """A Markdown report of the distribution statistics."""
    m = summary_metrics(stats)
    n = max(stats.models, 1)
    out = ["# Simulated dataset: distribution statistics", ""]
    out += [f"- {k.replace('_', ' ')}: {v}" for k, v in m.items()]
    out += ["", "## Layers by grammar symbol", "", "| symbol | layers | per model |", "|---|---:|---:|"]
    for sym, count in sorted(stats.symbols.items(), key=lambda kv: -kv[1]):
        out.append(f"| {sym} | {count} | {count / n:.2f} |")
    out += ["", "## Inputs", "", "| input | models |", "|---|---:|"]
    out += [f"| {k} | {v} |" for k, v in sorted(stats.inputs.items())]
    out += ["", "## Depths", "", "| depth | models |", "|---:|---:|"]
    out += [f"| {k} | {v} |" for k, v in sorted(stats.depths.items())]
    out += ["", "## Branching (Concat layers per model)", "", "| Concat layers | models |", "|---:|---:|"]
    out += [f"| {k} | {v} |" for k, v in sorted(stats.merges.items())]
    out += ["", "## Draws", "",
            f"- attempts {stats.draw.attempts}, rejected {stats.draw.rejected}",
            "- transitions filtered out before drawing (table tick, but the shape or dtype forbids it):", ""]
    out += ["| transition: reason | times |", "|---|---:|"]
    out += [f"| {k} | {v} |" for k, v in sorted(stats.draw.filtered.items(), key=lambda kv: -kv[1])]
    out += ["", "- window sizes restricted to fit the image: "
            + (", ".join(f"{k} {v}" for k, v in sorted(stats.draw.repaired.items())) or "none")]
    out += ["", "## Caffe", "", f"- models Caffe cannot express: {sum(stats.caffe_refused.values())} of {stats.models}", ""]
    out += ["| reason | models |", "|---|---:|"]
    out += [f"| {k} | {v} |" for k, v in sorted(stats.caffe_refused.items(), key=lambda kv: -kv[1])]
    if stats.render_failed:
        out += ["", "## Images Graphviz failed to lay out", "", "| style: reason | images |", "|---|---:|"]
        out += [f"| {k} | {v} |" for k, v in sorted(stats.render_failed.items())]
    out += ["", "## Images", "", "| style | images | bytes (PNG + ground truth) |", "|---|---:|---:|"]
    out += [f"| {k} | {v} | {stats.style_bytes.get(k, 0)} |" for k, v in sorted(stats.styles.items())]
    return "\n".join(out) + "\n"
