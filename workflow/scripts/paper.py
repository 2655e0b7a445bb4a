"""Rule paper: one PDF -> figures, tables, graphs, code and report.

A bad PDF (encrypted, truncated, not a PDF, too long, too large, scanned without OCR ...) or
an unexpected error on one paper is recorded in its folder as ``report.json`` with
``status: failed``, the error ``kind`` and a message naming the file; the job still succeeds,
so the other papers go on and the summary counts the failure.  ``process_paper`` writes into a
temporary sibling folder renamed at the end: an interrupted job leaves nothing complete-looking.
"""

from _wf import ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.paper.pipeline import process_paper

    from pathlib import Path

    p = snakemake.params
    src = Path(snakemake.input.src)
    pdf = src / f"{snakemake.wildcards.paper}.pdf" if src.is_dir() else src
    figure_filter = None
    if snakemake.input.get("classifier"):
        from dlpaper2code.figclass.classify import paper_figure_filter

        figure_filter = paper_figure_filter(snakemake.input.classifier, min_probability=p.figure_min_probability)
    report = process_paper(pdf, snakemake.output[0], dpi=p.dpi, targets=list(p.targets),
                           max_pages=p.max_pages, max_bytes=int(p.max_mb * 2**20), read_figures=p.read_figures,
                           ocr=p.ocr, ocr_dpi=p.ocr_dpi, max_ocr_pages=p.max_ocr_pages, fuse_ratio=p.fuse_ratio,
                           min_figure_layers=p.min_figure_layers, figure_filter=figure_filter)
    log.info("%s: %s %s", pdf, report["status"], report.get("message", ""))
