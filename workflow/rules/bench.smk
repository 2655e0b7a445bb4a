# Stage "bench": time code generation on a synthetic deep graph.


rule bench_codegen:
    input:
        code=CODE,
    output:
        f"{METRICS_DIR}/codegen_bench.json",
    params:
        depth=config["bench"]["depth"],
        repeats=config["bench"]["repeats"],
        seed=config["bench"]["seed"],
    log:
        f"{LOG_DIR}/bench/codegen.log",
    threads: 1
    resources:
        runtime=30,
        mem_mb=2000,
    script:
        "../scripts/bench_codegen.py"
