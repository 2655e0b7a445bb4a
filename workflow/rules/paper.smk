# Stage "paper": every PDF of papers.input_dir (default: the synthetic corpus, generated
# here with exact ground truth) -> figures, tables, graphs, code and an HTML report,
# one job per paper; then extraction and end-to-end metrics.
# Each paper runs in a child process under paper.timeout_s and paper.mem_mb (also the job's
# runtime and mem_mb resources): a paper that fails, hangs or takes too much memory is recorded
# in its folder (report.json, status.json) and its job still succeeds, so the others go on.

PAPERS_CFG = config["paper"]
CORPUS_DIR = "results/corpus"
PAPER_DIR = PAPERS_CFG["input_dir"].rstrip("/") if PAPERS_CFG["input_dir"] else CORPUS_DIR
if PAPERS_CFG["input_dir"]:
    PAPERS = sorted(glob_wildcards(f"{PAPER_DIR}/{{paper}}.pdf").paper)
else:
    # generate_corpus names papers synth_<seed>
    PAPERS = [f"synth_{s:03d}" for s in range(PAPERS_CFG["corpus_seed"], PAPERS_CFG["corpus_seed"] + PAPERS_CFG["corpus_size"])]


if not PAPERS_CFG["input_dir"]:

    rule paper_corpus:
        input:
            code=code_for("paper_corpus.py"),
        output:
            directory(CORPUS_DIR),
        params:
            corpus_size=PAPERS_CFG["corpus_size"],
            corpus_seed=PAPERS_CFG["corpus_seed"],
            dpi=PAPERS_CFG["dpi"],
        log:
            f"{LOG_DIR}/paper/corpus.log",
        script:
            "../scripts/paper_corpus.py"


rule paper:
    input:
        # the corpus folder (one job makes it), or the PDF itself in a user folder
        src=f"{PAPER_DIR}/{{paper}}.pdf" if PAPERS_CFG["input_dir"] else CORPUS_DIR,
        code=code_for("paper.py"),
        classifier=PAPERS_CFG["figure_classifier"] or [],
    output:
        directory("results/papers/{paper}"),
    params:
        # the whole section: dlpaper2code.paper.options.PaperOptions.from_params takes the route's options
        paper=PAPERS_CFG,
    log:
        f"{LOG_DIR}/paper/{{paper}}.log",
    threads: 1
    resources:
        # minutes: the paper's own limit, plus a minute for the job around it
        runtime=int(-(-PAPERS_CFG["timeout_s"] // 60)) + 1,
        mem_mb=PAPERS_CFG["mem_mb"],
    script:
        "../scripts/paper.py"


rule paper_summary:
    localrule: True
    input:
        papers=expand(rules.paper.output[0], paper=PAPERS),
        corpus=[] if PAPERS_CFG["input_dir"] else CORPUS_DIR,
    output:
        table="results/papers/summary.md",
        metrics=f"{METRICS_DIR}/papers.json",
        # the corpus as a whole: papers, pages, seconds, graphs found, failures by reason, a row per paper
        corpus=f"{METRICS_DIR}/papers_corpus.json",
    params:
        input_dir=PAPERS_CFG["input_dir"],
        iou_min=PAPERS_CFG["iou_min"],
        scanned_eval=PAPERS_CFG["scanned_eval"],
    log:
        f"{LOG_DIR}/paper/summary.log",
    script:
        "../scripts/paper_summary.py"
