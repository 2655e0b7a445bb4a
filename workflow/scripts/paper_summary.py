"""Rule paper_summary: extraction metrics on the synthetic corpus and end-to-end accuracy and speed.

A failed paper (its report.json says ``status: failed``) is counted by error kind and listed
with its reason; it never stops the summary."""

import json
from pathlib import Path

from _wf import ensure_src_on_path, logged, write_text

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.paper_metrics import evaluate_corpus
    from dlpaper2code.paper.guard import corpus_summary, corpus_table
    from dlpaper2code.paper.pipeline import end_to_end, summarize_papers

    p = snakemake.params
    rows = []
    truth_dir = Path(snakemake.input.corpus) if snakemake.input.corpus else None
    for out in sorted(Path(d) for d in snakemake.input.papers):
        truth = None
        if truth_dir is not None and (truth_dir / f"{out.name}.json").is_file():
            truth = json.loads((truth_dir / f"{out.name}.json").read_text(encoding="utf-8"))
        rows.append(end_to_end(out, truth))
    metrics = summarize_papers(rows)
    if truth_dir is not None:
        ext = evaluate_corpus(truth_dir, iou_min=p.iou_min)
        metrics.update({k: v for k, v in ext.items() if k not in ("per_paper", "counts")})
        n_scan = p.scanned_eval          # OCR quality on scanned copies of the first N corpus papers
        if n_scan:
            from dlpaper2code.eval.paper_metrics import evaluate_scanned
            metrics.update(evaluate_scanned(truth_dir, n_scan, iou_min=p.iou_min))
    lines = ["# Papers", "", *[f"- {k}: {v}" for k, v in metrics.items()], "",
             "| paper | status | pages | graphs | layer-sequence accuracy | seconds | problem |",
             "|---|---|---:|---:|---:|---:|---|"]
    lines += [f"| {r['paper']} | {r['status']} | {r['pages']} | {r['graphs']} | {r.get('layer_sequence_accuracy', '')} | "
              f"{r['seconds']} | {(r.get('kind') or '') + (': ' + r['message'] if r.get('message') else '')} |"
              for r in rows]
    # the corpus as a whole (papers, pages, seconds, graphs, failures by reason, a row per paper)
    corpus = corpus_summary(snakemake.input.papers)
    corpus["input_dir"] = p.input_dir or "(the synthetic corpus)"
    lines += ["", *corpus_table(corpus)]
    log.info("\n".join(lines))
    write_text(snakemake.output.table, "\n".join(lines) + "\n")
    write_text(snakemake.output.metrics, json.dumps(metrics, indent=1) + "\n")
    write_text(snakemake.output.corpus, json.dumps(corpus, indent=1) + "\n")
