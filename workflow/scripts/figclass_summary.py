"""Rule figclass_summary: every backbone's tables in one Markdown file, DVC metrics."""

from _wf import ensure_src_on_path, logged, write_json, write_text

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    import json
    from dlpaper2code.figclass.compare import TASK_ORDER, summary_metrics, table_markdown

    results = [json.loads(open(f).read()) for f in snakemake.input.comparisons]
    speeds = {}
    for f in snakemake.input.speeds:
        s = json.loads(open(f).read())
        speeds[s["backbone"]] = s["images_per_s"]
    lines = ["# Figure classifiers: the six-classifier comparison", "",
             "Generated figures (`dlpaper2code.figclass.generate`); test accuracy of the paper in the last "
             "column. Feature speed (load + resize + network, 2 threads): " +
             ", ".join(f"{b} {v} images/s" for b, v in speeds.items()) + ".", ""]
    for r in results:
        lines += [f"## Backbone {r['backbone']} ({r['dim']}-d, {r['images']} images)", ""]
        for task in TASK_ORDER:
            lines += [table_markdown(r, task)]
    write_text(snakemake.output.tables, "\n".join(lines))
    write_json(snakemake.output.metrics, summary_metrics(results, speeds))
    log.info("%d backbones; speeds %s", len(results), speeds)
