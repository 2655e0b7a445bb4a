"""Rule bench_codegen: time code generation on a synthetic deep graph."""

from _wf import ensure_src_on_path, logged, write_json

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive
p = snakemake.params

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.codegen_speed import bench_codegen

    metrics = bench_codegen(depth=int(p.depth), repeats=int(p.repeats), seed=int(p.seed))
    log.info("metrics: %s", metrics)
    write_json(snakemake.output[0], metrics)
