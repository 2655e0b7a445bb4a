# Stage "read": read every simulated diagram back into a graph (the diagram reader),
# score it against the ground truth, and summarise per style with box plots.


rule read_shard:
    input:
        shard=rules.simulate_shard.output[0],
        code=code_for("read_shard.py"),
    output:
        "results/read/scores/shard{shard}.csv",
    params:
        score_styles=config["read"]["score_styles"],
    log:
        f"{LOG_DIR}/read/shard{{shard}}.log",
    threads: 1
    resources:
        # about 1 s per diagram on one core, OCR included
        runtime=lambda wc: 5 + int(SIM["shard_size"] * len(SIM["styles"]) * 1.5 / 60),
        mem_mb=2000,
    script:
        "../scripts/read_shard.py"


rule read_summary:
    localrule: True
    input:
        expand(rules.read_shard.output[0], shard=SIM_SHARDS),
    output:
        scores="results/read/scores.csv",
        table="results/read/summary.md",
        boxplots=f"{PLOTS_DIR}/read_accuracy.png",
        metrics=f"{METRICS_DIR}/read.json",
    log:
        f"{LOG_DIR}/read/summary.log",
    script:
        "../scripts/read_summary.py"
