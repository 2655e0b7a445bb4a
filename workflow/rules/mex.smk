# Stage "mex": each processed paper described in the MEX vocabulary (dlpaper2code.formats.mex):
# Turtle, JSON-LD and a JSON digest per paper (results/mex/<paper>/; a rule cannot write into the
# paper rule's directory output), each validated against config/mex.shacl.ttl; then the count.


rule mex:
    input:
        paper=rules.paper.output[0],
        code=code_for("mex.py"),
    output:
        ttl="results/mex/{paper}/mex.ttl",
        jsonld="results/mex/{paper}/mex.jsonld",
        digest="results/mex/{paper}/mex.json",
    params:
        # the tool parameters: the paper route's section (its targets) and the Caffe version
        paper=PAPERS_CFG,
        caffe_version=config["codegen"]["caffe_version"],
    log:
        f"{LOG_DIR}/mex/{{paper}}.log",
    threads: 1
    resources:
        runtime=10,
        mem_mb=1000,
    script:
        "../scripts/mex.py"


rule mex_summary:
    localrule: True
    input:
        digests=expand("results/mex/{paper}/mex.json", paper=PAPERS),
    output:
        metrics=f"{METRICS_DIR}/mex.json",
    log:
        f"{LOG_DIR}/mex/summary.log",
    script:
        "../scripts/mex.py"
