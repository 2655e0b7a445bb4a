"""Rule read_shard: read and score every diagram of one simulated shard."""

import csv

from _wf import Progress, ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.reader_flow import score_shard, write_rows

    styles = snakemake.params.score_styles
    styles = None if styles == "all" else list(styles)
    with open(f"{snakemake.input.shard}/manifest.csv", encoding="utf-8", newline="") as fh:
        total = sum(1 for row in csv.DictReader(fh) if not styles or row["style"] in styles)
    progress = Progress(total, f"read {snakemake.input.shard}")
    n = write_rows(progress.track(score_shard(snakemake.input.shard, styles)), snakemake.output[0])
    log.info("%d diagrams scored", n)
