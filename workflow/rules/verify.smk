# Stage "verify": build and run the emitted code of every reference-zoo graph in
# every framework, then summarise.  A failing graph still gets its JSON (with the
# failure recorded); verify_summary decides whether the run fails.


rule verify:
    input:
        graph=f"{ZOO_DIR}/{{graph}}.json",
        code=code_for("verify.py"),
    output:
        "results/verify/{graph}.json",
    params:
        targets=config["verify"]["targets"],
        equivalence=config["verify"]["equivalence"],
        training=config["verify"].get("training", True),
        training_lr=config["verify"].get("training_lr", 0.01),
        training_rtol=config["verify"].get("training_rtol", 0.1),
        atol=config["verify"]["atol"],
        rtol=config["verify"]["rtol"],
        seed=config["verify"]["seed"],
        timeout_s=config["verify"]["timeout_s"],
        caffe_version=config["codegen"]["caffe_version"],
    log:
        f"{LOG_DIR}/verify/{{graph}}.log",
    threads: 1
    resources:
        # minutes: one timeout per framework, plus the logits / training twin runs
        runtime=lambda wc: 1 + int(config["verify"]["timeout_s"] * (2 * len(config["verify"]["targets"]) + 1) / 60),
        mem_mb=config["verify"]["mem_mb"],
    script:
        "../scripts/verify.py"


rule verify_summary:
    localrule: True
    input:
        expand(rules.verify.output[0], graph=GRAPHS),
    output:
        metrics=f"{METRICS_DIR}/verify.json",
        table="results/verify/summary.md",
    params:
        targets=config["verify"]["targets"],
        atol=config["verify"]["atol"],
        rtol=config["verify"]["rtol"],
        fail_on_error=config["verify"]["fail_on_error"],
    log:
        f"{LOG_DIR}/verify/summary.log",
    script:
        "../scripts/verify_summary.py"
