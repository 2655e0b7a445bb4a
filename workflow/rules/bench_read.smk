# Stage "bench_read": the diagram reader on a held-back simulated set (its own seed), per style:
# layer/edge accuracy, exact graphs, hyper-parameters, seconds per diagram (median, p95).


rule bench_read:
    input:
        code=code_for("bench_read.py"),
    output:
        metrics=f"{METRICS_DIR}/read_bench.json",
        rows="results/read_bench/rows.csv",
        table="results/read_bench/summary.md",
    params:
        models=config["bench_read"]["models"],
        seed=config["bench_read"]["seed"],
        depths=config["bench_read"]["depths"],
        processes=config["bench_read"]["processes"],
        styles=config["simulate"]["styles"],
        render=config["render"],
    log:
        f"{LOG_DIR}/bench/read.log",
    threads: config["bench_read"]["processes"]
    resources:
        runtime=180,
        mem_mb=4000,
    script:
        "../scripts/bench_read.py"
