# Shared definitions of the stage files; no rules here (so no DVC stage).
import os
from pathlib import Path

# Reference zoo: every <zoo.dir>/<graph>.json is one model graph; with zoo.reference the nine
# full-size reference networks of <zoo.dir>/reference/ too (as graph "reference/<name>").
ZOO_DIR = config["zoo"]["dir"].rstrip("/")
GRAPHS = sorted(g for g in glob_wildcards(f"{ZOO_DIR}/{{graph}}.json").graph if "/" not in g)
if config["zoo"].get("reference"):
    GRAPHS += sorted(f"reference/{g}" for g in glob_wildcards(f"{ZOO_DIR}/reference/{{graph}}.json").graph if "/" not in g)

# Outputs below this directory are DVC metrics.
METRICS_DIR = "results/metrics"
# Outputs below this directory are DVC plots.
PLOTS_DIR = "results/plots"
LOG_DIR = "results/logs"

# Code the results depend on: each rule's `code` input is the package code its script
# runs, derived from the import graph (dlpaper2code.workflow.deps, loaded by path: the
# package need not be importable yet).  Snakemake reruns on those files' mtimes; DVC
# (dvc.yaml is generated from these rules) hashes the same files, with whole folders
# where a stage needs all of one.  A CSS edit reruns nothing; a reader edit, what reads.
CODE_PATHS = ["src/dlpaper2code"]


def _load_deps():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_dlpaper2code_deps", "src/dlpaper2code/workflow/deps.py")
    if spec is None or not Path(spec.origin).is_file():
        return None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_DEPS = _load_deps() if Path("src/dlpaper2code/workflow/deps.py").is_file() else None


def code_for(script):
    """The package files workflow/scripts/<script> depends on (none without a package checkout)."""
    if _DEPS is None:
        return []
    return _DEPS.code_files(f"workflow/scripts/{script}")


wildcard_constraints:
    graph=r"(reference/)?[^/]+",
    shard=r"\d+",
