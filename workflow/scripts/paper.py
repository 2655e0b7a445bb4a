"""Rule paper: one PDF -> figures, tables, graphs, code and report.

The paper runs in a child process (dlpaper2code.paper.guard) under ``paper.timeout_s`` and
``paper.mem_mb``: one that hangs or takes too much memory is stopped and recorded (``kind``
``timeout`` / ``memory``; a process that dies, ``crashed``).  Every folder gets ``status.json``
(status, reason, pages, seconds, graphs, valid graphs) for the corpus summary.

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
    from dlpaper2code.paper.guard import process_paper_guarded
    from dlpaper2code.paper.options import PaperOptions

    from pathlib import Path

    # the whole params.yaml `paper` section: every option of the route (the figure classifier, when
    # set, is also this rule's input); the corpus and summary keys are skipped
    options = PaperOptions.from_params(snakemake.params.paper)
    src = Path(snakemake.input.src)
    pdf = src / f"{snakemake.wildcards.paper}.pdf" if src.is_dir() else src
    cfg = snakemake.params.paper
    status = process_paper_guarded(pdf, snakemake.output[0], options, timeout_s=cfg.get("timeout_s"),
                                   mem_mb=cfg.get("mem_mb"), address_space_mb=cfg.get("address_space_mb") or None)
    log.info("%s: %s %s", pdf, status["status"], status.get("message") or "")
