"""Rule read_summary: per-style accuracy and speed of the diagram reader, box plots, metrics."""

import json

from _wf import ensure_src_on_path, logged, write_text

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.reader_flow import boxplots, format_summary, load_rows, summarize, write_rows

    rows = load_rows(sorted(snakemake.input))
    summary = summarize(rows)
    table = format_summary(summary)
    log.info("\n%s", table)
    write_rows(rows, snakemake.output.scores)
    boxplots(rows, snakemake.output.boxplots)
    write_text(snakemake.output.table, table)
    write_text(snakemake.output.metrics, json.dumps(summary, indent=1) + "\n")
