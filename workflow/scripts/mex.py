"""Rules mex and mex_summary: one paper's MEX description (Turtle, JSON-LD, digest with the SHACL
result), and the count of papers whose description passes SHACL (results/metrics/mex.json).

A paper without a graph (failed, or no model found) still gets a description of what the paper
route did; it cannot pass SHACL (no algorithm) and the summary counts it as not valid."""

import json
from pathlib import Path

from _wf import ensure_src_on_path, logged, write_json

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive


def _read(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


with logged(snakemake) as log:
    ensure_src_on_path()
    if snakemake.rule == "mex":
        from dlpaper2code.formats import mex

        folder = Path(snakemake.input.paper)
        report = _read(folder / "report.json") or {}
        doc = _read(folder / "graph.json") or {"layers": []}
        truth = _read(Path(str(report.get("pdf") or "")).with_suffix(".json")) if report.get("pdf") else None
        title = (truth or {}).get("title") if isinstance(truth, dict) else None
        params = {"targets": list(snakemake.params.paper["targets"]),
                  "caffe_version": str(snakemake.params.caffe_version)}
        g, v = mex.write(doc, Path(snakemake.output.ttl).with_suffix(""), report, name=folder.name,
                         tool_params=params, graph_path=str(folder / "graph.json"), title=title)
        log.info("%s: %d triples, SHACL %s %s", folder.name, len(g), "valid" if v.conforms else "INVALID",
                 "; ".join(v.messages[:10]))
    else:
        per_paper = {}
        for path in sorted(Path(p) for p in snakemake.input.digests):
            d = _read(path) or {}
            shacl = d.get("shacl") or {}
            alg = d.get("algorithm") or {}
            per_paper[path.parent.name] = {"valid": bool(shacl.get("conforms")), "class": alg.get("class"),
                                           "layers": len(alg.get("layers") or []),
                                           "violations": len(shacl.get("messages") or [])}
        classes = {}
        for row in per_paper.values():
            classes[str(row["class"])] = classes.get(str(row["class"]), 0) + 1
        metrics = {"papers": len(per_paper), "valid": sum(r["valid"] for r in per_paper.values()),
                   "classes": dict(sorted(classes.items())), "per_paper": per_paper}
        write_json(snakemake.output.metrics, metrics)
        log.info("MEX: %d of %d papers pass SHACL", metrics["valid"], metrics["papers"])
