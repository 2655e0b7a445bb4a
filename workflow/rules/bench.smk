# Stage "bench": time code generation on a synthetic deep graph, and the simulated-dataset pipeline.

from pathlib import Path


rule bench_codegen:
    input:
        code=code_for("bench_codegen.py"),
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


rule bench_simulate:
    input:
        code=code_for("bench_simulate.py"),
    output:
        f"{METRICS_DIR}/simulate_bench.json",
    params:
        depths=config["bench_simulate"]["depths"],
        per_depth=config["bench_simulate"]["per_depth"],
        seed=config["bench_simulate"]["seed"],
        full_styles=config["bench_simulate"]["full_styles"],
        cores=config["bench_simulate"]["cores"],
        styles=config["simulate"]["styles"],
        render=config["render"],
    log:
        f"{LOG_DIR}/bench/simulate.log",
    threads: 1
    resources:
        runtime=60,
        mem_mb=3000,
    script:
        "../scripts/bench_simulate.py"


rule bench_loc:
    input:
        code=code_for("bench_loc.py"),
        # the three networks compared with torchvision and keras.applications (those present)
        graphs=[g for g in ("config/zoo/reference/resnet50.json", "config/zoo/mobilenet_v2.json",
                            "config/zoo/vgg16.json") if Path(g).exists()],
    output:
        f"{METRICS_DIR}/loc.json",
    params:
        torchvision_src=config["bench"].get("torchvision_src", ""),
    log:
        f"{LOG_DIR}/bench/loc.log",
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    script:
        "../scripts/bench_loc.py"
