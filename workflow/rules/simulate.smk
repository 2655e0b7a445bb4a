# Stage "simulate": draw grammar models (config/grammar.yaml), write each one's
# graph, Keras config, prototxt and diagrams with pixel ground truth, in fixed-size
# shards (one job each, locally or on SLURM); then merge manifests and statistics.
SIM = config["simulate"]
SIM_DEPTHS = list(range(SIM["depth_min"], SIM["depth_max"] + 1))
# shard k holds global model numbers k*shard_size ... (dlpaper2code.simulate.dataset.shard_items)
SIM_SHARDS = [f"{k:04d}" for k in range(-(-len(SIM_DEPTHS) * SIM["models_per_depth"] // SIM["shard_size"]))]
SIM_DIR = "results/simulated"


rule simulate_shard:
    input:
        code=code_for("simulate_shard.py"),
    output:
        directory(f"{SIM_DIR}/shard{{shard}}"),
    params:
        depth_min=SIM["depth_min"],
        depth_max=SIM["depth_max"],
        models_per_depth=SIM["models_per_depth"],
        seed=SIM["seed"],
        shard_size=SIM["shard_size"],
        styles=SIM["styles"],
        inputs=SIM["inputs"],
        keras_config=SIM["keras_config"],
        caffe=SIM["caffe"],
        render=config["render"],
    log:
        f"{LOG_DIR}/simulate/shard{{shard}}.log",
    threads: 1
    resources:
        # about 0.5 s per model and style on one core, plus imports
        runtime=lambda wc: 5 + int(SIM["shard_size"] * (1 + len(SIM["styles"])) * 0.5 / 60),
        mem_mb=SIM["mem_mb"],
    script:
        "../scripts/simulate_shard.py"


rule simulate_summary:
    localrule: True
    input:
        expand(rules.simulate_shard.output[0], shard=SIM_SHARDS),
    output:
        manifest="results/simulate/manifest.csv",
        stats="results/simulate/stats.json",
        table="results/simulate/stats.md",
        metrics=f"{METRICS_DIR}/simulate.json",
    log:
        f"{LOG_DIR}/simulate/summary.log",
    script:
        "../scripts/simulate_summary.py"
