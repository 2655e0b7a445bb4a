# Stage "figclass": which figure shows a model, and in which drawing style.
# Generated figures per kind -> features per backbone and kind (cached, one job
# each) -> the six-classifier comparison per backbone (the paper's Tables 3 to 5,
# two stages vs one) -> summary tables and metrics; and the trained two-stage
# classifier that `dlpaper2code classify-figure` uses.
FIG = config["figclass"]
FIG_STYLES = ["neurons", "box2d", "stacked2d", "box3d", "pipeline"]
FIG_KINDS = FIG_STYLES + ["simulated"] + list(FIG["negative_kinds"])
FIG_TASKS = ["table3", "table4", "table5", "stages"]
FIG_DIR = "results/figclass"


wildcard_constraints:
    kind=r"[a-z0-9_]+",
    backbone=r"[a-z0-9_]+",


rule figclass_figures:
    input:
        code=code_for("figclass_figures.py"),
    output:
        directory(f"{FIG_DIR}/figures/{{kind}}"),
    params:
        seed=FIG["seed"],
        n_per_style=FIG["n_per_style"],
        n_negative=FIG["n_negative"],
        n_simulated=FIG["n_simulated"],
        negative_kinds=FIG["negative_kinds"],
        simulated_styles=FIG["simulated_styles"],
        box2d_render_style=FIG["box2d_render_style"],
        box2d_render_share=FIG["box2d_render_share"],
        degrade_p=FIG["degrade_p"],
        render=config["render"],
    log:
        f"{LOG_DIR}/figclass/figures_{{kind}}.log",
    threads: 1
    resources:
        # about 0.1 to 0.3 s per image on one core
        runtime=lambda wc: 5 + int(max(FIG["n_per_style"], FIG["n_simulated"], FIG["n_negative"]) * 0.3 / 60),
        mem_mb=2000,
    script:
        "../scripts/figclass_figures.py"


rule figclass_features:
    input:
        figures=expand(rules.figclass_figures.output[0], kind=FIG_KINDS),
        code=code_for("figclass_features.py"),
    output:
        # one file per kind: a row per image (file name, sha256, features)
        features=expand(f"{FIG_DIR}/features/{{{{backbone}}}}/{{kind}}.npz", kind=FIG_KINDS),
        speed=f"{FIG_DIR}/features/{{backbone}}/speed.json",
    params:
        vgg19_weights=FIG["vgg19_weights"],
        image_size=FIG["image_size"],
        fit=FIG["fit"],
        batch_size=FIG["batch_size"],
    log:
        f"{LOG_DIR}/figclass/features_{{backbone}}.log",
    threads: 2
    resources:
        # EfficientNet-Lite0 about 25 images/s on 2 cores, VGG19 about 3
        runtime=lambda wc: 5 + int((5 * FIG["n_per_style"] + FIG["n_negative"] + FIG["n_simulated"]) / 60),
        mem_mb=4000,
    script:
        "../scripts/figclass_features.py"


rule figclass_compare:
    input:
        features=expand(f"{FIG_DIR}/features/{{{{backbone}}}}/{{kind}}.npz", kind=FIG_KINDS),
        code=code_for("figclass_compare.py"),
    output:
        comparison=f"{FIG_DIR}/compare/{{backbone}}/comparison.json",
        tables=expand(f"{FIG_DIR}/compare/{{{{backbone}}}}/{{task}}.{{ext}}", task=FIG_TASKS, ext=["md", "csv"]),
        plots=expand(f"{PLOTS_DIR}/figclass/{{{{backbone}}}}_{{task}}.png", task=FIG_TASKS[:3]),
    params:
        seed=FIG["seed"],
        split=FIG["split"],
        classifiers=FIG["classifiers"],
        mlp_hidden=FIG["mlp_hidden"],
        scale=FIG["scale"],
    log:
        f"{LOG_DIR}/figclass/compare_{{backbone}}.log",
    threads: 2
    resources:
        runtime=lambda wc: 10 + int((5 * FIG["n_per_style"] + FIG["n_negative"] + FIG["n_simulated"]) / 100),
        mem_mb=4000,
    script:
        "../scripts/figclass_compare.py"


rule figclass_summary:
    localrule: True
    input:
        comparisons=expand(rules.figclass_compare.output.comparison, backbone=FIG["backbones"]),
        speeds=expand(rules.figclass_features.output.speed, backbone=FIG["backbones"]),
    output:
        tables=f"{FIG_DIR}/tables.md",
        metrics=f"{METRICS_DIR}/figclass.json",
    params:
        backbones=FIG["backbones"],
    log:
        f"{LOG_DIR}/figclass/summary.log",
    script:
        "../scripts/figclass_summary.py"


rule figclass_train:
    input:
        features=expand(f"{FIG_DIR}/features/{FIG['classifier_backbone']}/{{kind}}.npz", kind=FIG_KINDS),
        # hand-labelled figures of the real-paper benchmark (their features; eval.figclass_bench real-features)
        real=[FIG["real_features"]] if FIG["real_features"] else [],
        code=code_for("figclass_train.py"),
    output:
        model=f"{FIG_DIR}/classifier.joblib",
        info=f"{FIG_DIR}/classifier.json",
    params:
        classifier_backbone=FIG["classifier_backbone"],
        vgg19_weights=FIG["vgg19_weights"],
        image_size=FIG["image_size"],
        fit=FIG["fit"],
        seed=FIG["seed"],
        split=FIG["split"],
        mlp_hidden=FIG["mlp_hidden"],
        scale=FIG["scale"],
        model=FIG["model"],
        real_features=FIG["real_features"],
        real_repeat=FIG["real_repeat"],
    log:
        f"{LOG_DIR}/figclass/train.log",
    threads: 2
    resources:
        runtime=20,
        mem_mb=4000,
    script:
        "../scripts/figclass_train.py"
