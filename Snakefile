# dlpaper2code reproducible workflow (Snakemake >= 8).
#
# This file and workflow/rules/*.smk are the single source of truth: dvc.yaml is
# generated from them by `python -m dlpaper2code.workflow.sync` (`make dvc`).
# Every parameter lives once, in params.yaml (override: --configfile / --config).

from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "params.yaml"


validate(config, "config/params.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/codegen.smk"
include: "workflow/rules/verify.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/read.smk"
include: "workflow/rules/paper.smk"
include: "workflow/rules/figclass.smk"
include: "workflow/rules/bench.smk"
include: "workflow/rules/bench_read.smk"
include: "workflow/rules/realpapers.smk"
include: "workflow/rules/mex.smk"


rule all:
    default_target: True
    input:
        rules.codegen_all.input,
        rules.verify_summary.output,
        rules.bench_codegen.output,
        rules.bench_simulate.output,
        rules.bench_loc.output,
        rules.simulate_summary.output,
        rules.read_summary.output,
        rules.paper_summary.output,
        rules.figclass_summary.output,
        rules.figclass_train.output,
        rules.realpapers.output,
        rules.mex_summary.output,
