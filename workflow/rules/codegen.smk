# Stage "codegen": emit framework code for every reference-zoo graph.


rule codegen:
    input:
        graph=f"{ZOO_DIR}/{{graph}}.json",
        code=code_for("codegen.py"),
    output:
        directory("results/codegen/{graph}"),
    params:
        targets=config["codegen"]["targets"],
        caffe_version=config["codegen"]["caffe_version"],
        final_softmax=config["codegen"]["final_softmax"],
        blocks=config["codegen"]["blocks"],
    log:
        f"{LOG_DIR}/codegen/{{graph}}.log",
    threads: 1
    resources:
        runtime=10,
        mem_mb=2000,
    script:
        "../scripts/codegen.py"


rule codegen_all:
    localrule: True
    input:
        expand(rules.codegen.output[0], graph=GRAPHS),
