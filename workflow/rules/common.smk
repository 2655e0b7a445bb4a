# Shared definitions of the stage files; no rules here (so no DVC stage).
import os
from pathlib import Path

# Reference zoo: every <zoo.dir>/<graph>.json is one model graph.
ZOO_DIR = config["zoo"]["dir"].rstrip("/")
GRAPHS = sorted(glob_wildcards(f"{ZOO_DIR}/{{graph}}.json").graph)

# Outputs below this directory are DVC metrics.
METRICS_DIR = "results/metrics"
# Outputs below this directory are DVC plots.
PLOTS_DIR = "results/plots"
LOG_DIR = "results/logs"

# Code the results depend on.  Each existing file below these paths is an input
# of every rule that calls the package, so that Snakemake (by mtime) and DVC (by
# hash; dvc.yaml lists the paths themselves) rerun on the same code changes.
# Config files next to params.yaml (layer vocabulary, blocks, graph schema...) are
# code too; params.schema.yaml is not (params.yaml itself is tracked key by key).
CODE_PATHS = [
    "src/dlpaper2code",
    "config/templates",
    *sorted(
        str(p)
        for p in Path("config").glob("*")
        if p.is_file() and p.suffix in (".yaml", ".yml", ".json") and p.name != "params.schema.yaml"
    ),
]
_CODE_SKIP = ("__pycache__", ".egg-info", ".pyc", ".pyo", ".DS_Store")


def code_files():
    files = []
    for entry in CODE_PATHS:
        path = Path(entry)
        if path.is_file():
            files.append(str(path))
        elif path.is_dir():
            for sub in sorted(path.rglob("*")):
                parts = sub.relative_to(path).parts
                if sub.is_file() and not any(
                    part.endswith(_CODE_SKIP) or part.startswith(".") for part in parts
                ):
                    files.append(str(sub))
    return files


CODE = code_files()


wildcard_constraints:
    graph=r"[^/]+",
    shard=r"\d+",
