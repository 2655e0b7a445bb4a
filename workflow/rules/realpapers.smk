# Stage "realpapers": the paper route on the real-paper benchmark (PDFs in realpapers.pdf_dir),
# scored against the hand-written truth of data/realpapers; without the PDFs (as in CI) it
# writes a "no PDFs" result.


rule realpapers:
    input:
        truth="data/realpapers/truth",
        tables="data/realpapers/tables",
        code=code_for("realpapers.py"),
    output:
        summary="results/realpapers/summary.md",
        metrics=f"{METRICS_DIR}/realpapers.json",
    params:
        pdf_dir=config["realpapers"]["pdf_dir"],
        processes=config["realpapers"]["processes"],
        timeout_s=config["realpapers"]["timeout_s"],
    log:
        f"{LOG_DIR}/realpapers/realpapers.log",
    threads: config["realpapers"]["processes"]
    resources:
        runtime=120,
        mem_mb=6000,
    script:
        "../scripts/realpapers.py"
