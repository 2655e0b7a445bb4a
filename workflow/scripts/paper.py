"""Rule paper: one PDF -> figures, tables, graphs, code and report (a bad PDF is recorded as failed)."""

from _wf import ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.paper.pipeline import process_paper

    from pathlib import Path

    p = snakemake.params
    src = Path(snakemake.input.src)
    pdf = src / f"{snakemake.wildcards.paper}.pdf" if src.is_dir() else src
    report = process_paper(pdf, snakemake.output[0], dpi=p.dpi, targets=list(p.targets),
                           max_pages=p.max_pages, max_bytes=int(p.max_mb * 2**20), read_figures=p.read_figures)
    log.info("%s: %s %s", pdf, report["status"], report.get("message", ""))
