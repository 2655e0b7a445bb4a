"""Rule bench_simulate: speed, sizes and memory of the dataset pipeline; full-run projection."""

import json

from _wf import ensure_src_on_path, logged, write_text

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.simulate_speed import bench_simulate, format_bench
    from dlpaper2code.simulate.dataset import select_styles

    p = snakemake.params
    styles = select_styles(dict(p.render["styles"]), list(p.styles))
    result = bench_simulate(list(p.depths), p.per_depth, p.seed, styles, full_styles=list(p.full_styles), cores=p.cores)
    log.info("\n%s", format_bench(result))
    write_text(snakemake.output[0], json.dumps(result, indent=1) + "\n")
