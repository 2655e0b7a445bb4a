"""The first shards of the full-scale simulated dataset through the SLURM profile, measured.

    python -m dlpaper2code.workflow.slurmscale --shards 5 --read-shards 1 \\
        --out results/metrics/slurm_scale.json

Starts a one-node cluster (:class:`~dlpaper2code.workflow.slurmcluster.LocalSlurmCluster`),
makes a working directory (the checkout's Snakefile, workflow/, config/ and src/ linked;
params.yaml plus ``config/params/full.yaml``), runs ``simulate_shard`` for the first
``--shards`` shards (and ``read_shard`` for the first ``--read-shards``) through
``snakemake --profile workflow/profiles/slurm``, and writes per job: SLURM's start and end
(jobcomp/filetxt), the shard's own seconds and peak memory (its stats.json: ``rss_mb`` is
the process's ru_maxrss), images and bytes on disk.  The working directory is deleted
afterwards (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import yaml

from dlpaper2code.workflow.slurmcluster import LocalSlurmCluster

SLURM_ARGS = ["--profile", "workflow/profiles/slurm", "--default-resources", "slurm_partition=cpu",
              "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "5",
              "--latency-wait", "10", "--retries", "0", "--slurm-keep-successful-logs"]


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _span(rec: dict) -> float:
    return (datetime.fromisoformat(rec["EndTime"]) - datetime.fromisoformat(rec["StartTime"])).total_seconds()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=".", help="the checkout (Snakefile, workflow/, config/, src/)")
    ap.add_argument("--params", default="config/params/full.yaml")
    ap.add_argument("--shards", type=int, default=5)
    ap.add_argument("--read-shards", type=int, default=0)
    ap.add_argument("--out", default="results/metrics/slurm_scale.json")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)

    root = Path(args.root).resolve()
    params = yaml.safe_load((root / "params.yaml").read_text())
    full = yaml.safe_load((root / args.params).read_text())
    for section, values in full.items():
        params.setdefault(section, {}).update(values)
    sim = params["simulate"]
    n_depths = sim["depth_max"] - sim["depth_min"] + 1
    models_total = n_depths * sim["models_per_depth"]
    shards_total = -(-models_total // sim["shard_size"])

    work = Path(tempfile.mkdtemp(prefix="slurmscale-"))
    try:
        for name in ("Snakefile", "workflow", "config", "src"):
            (work / name).symlink_to(root / name)
        (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        shards = [f"{k:04d}" for k in range(args.shards)]
        targets = [f"results/simulated/shard{s}" for s in shards]
        targets += [f"results/read/scores/shard{s}.csv" for s in shards[:args.read_shards]]
        with LocalSlurmCluster() as cluster:
            env = {**cluster.env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{cluster.env['PATH']}",
                   "KERAS_BACKEND": "torch", "PYTHONHASHSEED": "0", "OMP_THREAD_LIMIT": "1",
                   "TF_CPP_MIN_LOG_LEVEL": "2"}
            t0 = time.monotonic()
            res = subprocess.run([sys.executable, "-m", "snakemake", "--nolock", *SLURM_ARGS, *targets],
                                 cwd=work, env=env, capture_output=True, text=True)
            wall = time.monotonic() - t0
            (work / "snakemake.out").write_text(res.stdout + res.stderr)
            if res.returncode != 0:
                print((res.stdout + res.stderr)[-6000:], file=sys.stderr)
                raise SystemExit(f"snakemake exited {res.returncode} (working directory {work})")
            records = {r["JobId"]: r for r in cluster.job_records() if r.get("WorkDir") == str(work)}
            node = cluster.node
        jobs_by_log = {}
        for log in (work / ".snakemake" / "slurm_logs").rglob("*.log"):
            rule = log.parent.parent.name.removeprefix("rule_")
            jobs_by_log[log.stem] = (rule, log.parent.name)
        jobs = []
        for jobid, rec in sorted(records.items(), key=lambda kv: int(kv[0])):
            rule, wildcards = jobs_by_log.get(jobid, ("?", "?"))
            job = {"slurm_job": int(jobid), "rule": rule, "shard": wildcards, "state": rec["JobState"],
                   "slurm_seconds": _span(rec), "tres": rec.get("Tres", "")}
            if rule == "simulate_shard":
                shard_dir = work / "results" / "simulated" / f"shard{wildcards}"
                stats = json.loads((shard_dir / "stats.json").read_text())
                job.update(models=stats["models"], images=stats["images"],
                           work_seconds=stats["seconds"]["total"],
                           keras_config_seconds=stats["seconds"].get("keras_config"),
                           peak_rss_mb=max(stats.get("rss_mb") or [0]),
                           disk_bytes=_du(shard_dir), image_bytes=stats["image_bytes"],
                           model_bytes=stats["model_bytes"])
            elif rule == "read_shard":
                scores = work / "results" / "read" / "scores" / f"shard{wildcards}.csv"
                job.update(diagrams=max(0, len(scores.read_text().splitlines()) - 1))
            jobs.append(job)
        sims = [j for j in jobs if j["rule"] == "simulate_shard"]
        reads = [j for j in jobs if j["rule"] == "read_shard"]
        result = {
            "what": f"first {args.shards} of {shards_total} simulate shards of {args.params} "
                    f"({sum(j['models'] for j in sims)} of {models_total} models) through "
                    "snakemake --profile workflow/profiles/slurm on a one-node LocalSlurmCluster",
            "machine": {"node": node, "cpus": os.cpu_count(), "load_avg_at_end": os.getloadavg(),
                        "python": platform.python_version()},
            "full_scale": {"models": models_total, "shards": shards_total, "shard_size": sim["shard_size"],
                           "styles": sim["styles"], "images": models_total * len(sim["styles"])},
            "wall_seconds": round(wall, 1),
            "jobs": jobs,
            "simulate": {
                "models": sum(j["models"] for j in sims), "images": sum(j["images"] for j in sims),
                "share_of_full": round(sum(j["models"] for j in sims) / models_total, 4),
                "slurm_seconds_per_job": [j["slurm_seconds"] for j in sims],
                "work_seconds_per_job": [j["work_seconds"] for j in sims],
                "peak_rss_mb_per_job": [j["peak_rss_mb"] for j in sims],
                "disk_bytes": sum(j["disk_bytes"] for j in sims),
                "disk_bytes_per_image": round(sum(j["disk_bytes"] for j in sims) / max(1, sum(j["images"] for j in sims))),
                "core_seconds_per_model": round(sum(j["slurm_seconds"] for j in sims) / max(1, sum(j["models"] for j in sims)), 4),
            },
            "read": {"diagrams": sum(j["diagrams"] for j in reads),
                     "slurm_seconds_per_job": [j["slurm_seconds"] for j in reads],
                     "core_seconds_per_diagram": round(sum(j["slurm_seconds"] for j in reads)
                                                       / max(1, sum(j["diagrams"] for j in reads)), 3)} if reads else None,
        }
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps({k: v for k, v in result.items() if k != "jobs"}, indent=1))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
