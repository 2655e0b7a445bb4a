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
    from dlpaper2code.paper.options import PaperOptions
    from dlpaper2code.paper.pipeline import process_paper

    from pathlib import Path

    # the whole params.yaml `paper` section: every option of the route (the figure classifier, when
    # set, is also this rule's input); the corpus and summary keys are skipped
    options = PaperOptions.from_params(snakemake.params.paper)
    src = Path(snakemake.input.src)
    pdf = src / f"{snakemake.wildcards.paper}.pdf" if src.is_dir() else src
    report = process_paper(pdf, snakemake.output[0], options)
    log.info("%s: %s %s", pdf, report["status"], report.get("message", ""))
