"""Rule simulate_summary: one manifest (a row per image) and the dataset's statistics."""

import json
from pathlib import Path

from _wf import ensure_src_on_path, logged, write_text

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.simulate.dataset import merge_shards
    from dlpaper2code.simulate.report import format_stats, summary_metrics

    shards = sorted(Path(p) for p in snakemake.input)
    stats = merge_shards(shards, snakemake.output.manifest, root=".")
    log.info("%d shards, %d models, %d images", len(shards), stats.models, stats.images)
    write_text(snakemake.output.stats, json.dumps(stats.to_dict(), indent=1) + "\n")
    write_text(snakemake.output.table, format_stats(stats))
    write_text(snakemake.output.metrics, json.dumps(summary_metrics(stats), indent=1) + "\n")
