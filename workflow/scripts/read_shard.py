"""Rule read_shard: read and score every diagram of one simulated shard."""

from _wf import ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.reader_flow import score_shard, write_rows

    styles = snakemake.params.score_styles
    styles = None if styles == "all" else list(styles)
    n = write_rows(score_shard(snakemake.input.shard, styles), snakemake.output[0])
    log.info("%d diagrams scored", n)
