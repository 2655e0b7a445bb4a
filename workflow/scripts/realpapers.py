"""Rule realpapers: the real-paper benchmark (dlpaper2code.eval.realpapers)."""

from pathlib import Path

from _wf import ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.realpapers import run_benchmark

    p = snakemake.params
    result = run_benchmark(p.pdf_dir, Path(snakemake.output.summary).parent,
                           data_dir=Path(snakemake.input.truth).parent, metrics_path=snakemake.output.metrics,
                           processes=p.processes, timeout_s=p.timeout_s, progress=log.info)
    log.info("%s", Path(snakemake.output.summary).read_text())
