"""One state for both front ends: ``dvc.lock`` after a Snakemake run, and its staleness check.

Snakemake runs the stages (``make run``); DVC only knows a stage is done when
``dvc.lock`` records the hashes of its deps, params and outs.  After a successful
``make run`` on ``params.yaml`` (no ``--configfile``/``--config`` override), ``commit``
records the stages that run brought up to date (``dvc commit -f``, quietly), so
``dvc status`` is clean and ``dvc repro`` has nothing to do.

``check`` compares the committed ``dvc.lock`` with the code and params it was made
from: every dep that is a repository file (not another stage's output), every params
key and every stage command, for each stage ``make run`` runs.  It hashes like DVC
(DVC's own dependency objects, ``.dvcignore`` included), fast: no output is hashed.

Usage::

    python -m dlpaper2code.workflow.lock commit [--snakemake-args "$(SNAKEMAKE_ARGS)"]
    python -m dlpaper2code.workflow.lock check      # exit 1 naming each stale file/param
    python -m dlpaper2code.workflow.lock stages     # the stages `make run` brings up to date
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

import yaml

from . import sync

REFRESH = ("refresh it: `make dvc-lock` in a fresh clone (make run, which ends with `dvc commit -f` "
           "of its stages), then commit dvc.lock")
OVERRIDES = ("--configfile", "--config", "-C", "--configfiles")


def _within(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _dvc_bin() -> str:
    local = Path(sys.executable).parent / "dvc"
    return str(local) if local.exists() else "dvc"


def run_stages(root: Path, dvc_doc: dict | None = None) -> list[str]:
    """The DVC stages whose outputs Snakemake's default target (rule ``all``) makes,
    and the stages those depend on, in dvc.yaml order."""
    doc = dvc_doc or yaml.safe_load((root / sync.DVC_FILE).read_text())
    stages = doc["stages"]
    wf = sync.load_workflow(root)
    wanted = [i for r in wf.rules if r.name == "all" and r.stage is None for i in r.inputs]
    return sync.reached_stages(stages, wanted)


def commit(root: Path, snakemake_args: str = "", quiet: bool = False) -> int:
    """``dvc commit -f`` of the stages ``make run`` ran (call it only after a successful run)."""
    args = shlex.split(snakemake_args or "")
    if any(a == o or a.startswith(o + "=") for a in args for o in OVERRIDES):
        print("dvc.lock left as it is: this run overrode params.yaml "
              f"({snakemake_args.strip()}); dvc.lock records params.yaml runs only")
        return 0
    stages = run_stages(root)
    doc = yaml.safe_load((root / sync.DVC_FILE).read_text())
    outs = {s: sync.out_paths(doc["stages"][s]) for s in stages}
    missing = [s for s in stages if not all((root / o).exists() for o in outs[s])]
    if missing:
        print(f"dvc.lock left as it is: outputs of {', '.join(missing)} are missing", file=sys.stderr)
        return 1
    # DVC copies what it caches (the metrics) back into the workspace: their times are put back,
    # so that Snakemake, which judges by modification times, still finds nothing to do
    times = {}
    for s in stages:
        for o in sync.out_paths(doc["stages"][s], cached_only=True):
            for f in ([root / o] if (root / o).is_file() else (root / o).rglob("*")):
                if f.is_file() and not f.is_symlink():
                    st = f.stat()
                    times[f] = (st.st_atime_ns, st.st_mtime_ns)
    res = subprocess.run([_dvc_bin(), "commit", "--force", "--quiet", *stages], cwd=root,
                         capture_output=True, text=True)
    for f, ns in times.items():
        if f.is_file() and f.stat().st_mtime_ns != ns[1]:
            os.utime(f, ns=ns)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        print(f"dvc commit failed (exit {res.returncode})", file=sys.stderr)
        return res.returncode
    if not quiet:
        print(f"dvc.lock: recorded {len(stages)} stages ({' '.join(stages)}); "
              "`dvc status` is clean and `dvc repro` has nothing to do")
    return 0


def stale(root: Path, stages: list[str] | None = None) -> list[str]:
    """What in dvc.lock no longer matches the code, params and commands (empty: current)."""
    from dvc.repo import Repo

    doc = yaml.safe_load((root / sync.DVC_FILE).read_text())
    lock_path = root / "dvc.lock"
    lock = (yaml.safe_load(lock_path.read_text()) or {}).get("stages", {}) if lock_path.exists() else {}
    stages = run_stages(root, doc) if stages is None else stages
    produced = [o for st in doc["stages"].values() for o in sync.out_paths(st)]
    problems: list[str] = []
    dvc_stages = {}
    with Repo(str(root)) as repo:
        for st in repo.index.stages:
            dvc_stages[st.name] = st
        for name in stages:
            entry = lock.get(name)
            if entry is None:
                problems.append(f"stage {name}: not in dvc.lock")
                continue
            want_cmd = doc["stages"][name]["cmd"]
            if entry.get("cmd") != want_cmd:
                problems.append(f"stage {name}: command changed (dvc.lock: {entry.get('cmd')!r}, "
                                f"dvc.yaml: {want_cmd!r})")
            locked_deps = {d["path"] for d in entry.get("deps", [])}
            for dep in dvc_stages[name].deps:
                path = str(dep.def_path)
                if any(_within(path, o) for o in produced):
                    continue  # another stage's output: its hash is the run's
                if path != sync.PARAMS_FILE and path not in locked_deps:
                    problems.append(f"stage {name}: dep {path} not in dvc.lock")
                    continue
                for what, how in (dep.status() or {}).items():
                    if isinstance(how, dict):  # params: {key: new|deleted|modified}
                        problems += [f"stage {name}: param {key} {change} in {what} since dvc.lock was made"
                                     for key, change in how.items()]
                    else:
                        problems.append(f"stage {name}: {what} {how} since dvc.lock was made")
    return problems


def check(root: Path) -> int:
    problems = stale(root)
    if not problems:
        print("dvc.lock is current with the code, params and commands of the stages `make run` runs")
        return 0
    print("dvc.lock is stale:", file=sys.stderr)
    for p in problems:
        print(f"  {p}", file=sys.stderr)
    print(REFRESH, file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlpaper2code.workflow.lock", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("commit", help="dvc commit -f the stages `make run` ran")
    c.add_argument("--snakemake-args", default="", help="the run's extra Snakemake arguments (overrides: no commit)")
    c.add_argument("--quiet", action="store_true")
    sub.add_parser("check", help="exit 1 when dvc.lock is stale with respect to code, params or commands")
    sub.add_parser("stages", help="the stages `make run` brings up to date")
    ap.add_argument("--root", type=Path, default=None)
    args = ap.parse_args(argv)
    root = (args.root or Path.cwd()).resolve()
    os.environ.setdefault("DVC_NO_ANALYTICS", "1")
    if args.command == "commit":
        return commit(root, args.snakemake_args, args.quiet)
    if args.command == "check":
        return check(root)
    print(" ".join(run_stages(root)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
