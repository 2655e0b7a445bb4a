"""A real SLURM run: the workflow's simulate and paper stages through ``--profile workflow/profiles/slurm``.

A one-node cluster (munge, slurmctld, slurmd; :mod:`dlpaper2code.workflow.slurmcluster`) is
started by the session fixture in a temporary directory and stopped after the tests; a
system cluster is never used.  Debian's slurm-wlm and munge come from ``make apt``; without
them (or without root) the tests fail, naming what is missing.

The embedded default's simulate stage, made small (depths 5-6, 2 models each, 2 models a
shard: 2 shard jobs + the summary, 16 images), runs once through the SLURM executor and once
locally, each into its own working directory; the outputs must be byte-identical except the
logs and the measured seconds and memory.  The paper stage, on two synthetic papers (the
corpus job and one job per paper on SLURM, the summary local), is compared the same way,
without what is timed (``seconds`` in report.json, status.json and the metrics, the seconds
columns of the summary).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from dlpaper2code.workflow.slurmcluster import LocalSlurmCluster, SlurmClusterError, missing_programs

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SMALL_SIMULATE = {"simulate": {"depth_min": 5, "depth_max": 6, "models_per_depth": 2, "shard_size": 2}}
TARGET = "simulate_summary"
# two synthetic papers, every figure tried (no classifier: the figclass stage is not needed)
SMALL_PAPER = {"paper": {"corpus_size": 2, "figure_classifier": "", "scanned_eval": 0, "targets": ["pytorch", "keras"]}}
# the SLURM executor's options for a cluster without slurmdbd (see slurmcluster's docstring)
SLURM_ARGS = ["--profile", "workflow/profiles/slurm", "--default-resources", "slurm_partition=cpu",
              "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "2",
              "--latency-wait", "5", "--retries", "0"]


@pytest.fixture(scope="session")
def slurm_cluster():
    missing = missing_programs()
    if missing:
        pytest.fail("the SLURM tests need Debian's slurm-wlm and munge (`make apt`); missing: " + ", ".join(missing))
    try:
        cluster = LocalSlurmCluster().start()
    except SlurmClusterError as exc:
        pytest.fail(f"could not start the one-node SLURM cluster: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()


def _env(cluster: LocalSlurmCluster) -> dict[str, str]:
    return {**cluster.env, "PATH": f"{BIN}{os.pathsep}{cluster.env.get('PATH', '')}",
            "KERAS_BACKEND": "torch", "PYTHONHASHSEED": "0", "OMP_THREAD_LIMIT": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2"}


def workdir(path: Path, sections: dict) -> Path:
    """A working directory on the shared filesystem: the checkout's workflow and package, own
    params.yaml (the embedded default with ``sections``' keys changed)."""
    path.mkdir(parents=True)
    for name in ("Snakefile", "workflow", "config", "src"):
        (path / name).symlink_to(ROOT / name)
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    for section, values in sections.items():
        params[section].update(values)
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def snakemake(work: Path, env: dict, *args: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "snakemake", "--nolock", *args], cwd=work, env=env,
                         capture_output=True, text=True, timeout=timeout)
    return res, time.monotonic() - t0


TIMED_KEYS = ("seconds", "rss_mb")


def untimed(doc):
    """A JSON document without what is measured: keys naming seconds or memory, at any depth."""
    if isinstance(doc, dict):
        return {k: untimed(v) for k, v in doc.items() if not any(t in k for t in TIMED_KEYS)}
    if isinstance(doc, list):
        return [untimed(v) for v in doc]
    return doc


def untimed_text(text: str) -> str:
    """A Markdown or HTML report without what is timed: lines naming seconds, table columns
    headed seconds, and durations (``3.5 s``)."""
    out, masked = [], set()
    for line in text.splitlines():
        if line.startswith("|"):
            cells = line.split("|")
            if any("seconds" in c for c in cells):
                masked = {i for i, c in enumerate(cells) if "seconds" in c}
            elif not set(line) <= set("|-: "):
                line = "|".join("~" if i in masked else c for i, c in enumerate(cells))
        else:
            masked = set()
            if "seconds" in line:
                continue
        out.append(re.sub(r"\b\d+(?:\.\d+)? s\b", "~ s", line))
    return "\n".join(out)


def outputs(work: Path) -> dict[str, bytes]:
    """Every result file except logs and Snakemake's markers; JSON, Markdown and HTML without what is measured."""
    files = {}
    for p in sorted((work / "results").rglob("*")):
        rel = p.relative_to(work).as_posix()
        if not p.is_file() or rel.startswith("results/logs/") or p.name.startswith(".snakemake"):
            continue
        data = p.read_bytes()
        if p.suffix == ".json":
            data = json.dumps(untimed(json.loads(data)), indent=1, sort_keys=True).encode()
        elif p.suffix in (".md", ".html"):
            data = untimed_text(data.decode()).encode()
        files[rel] = data
    return files


def shard_seconds(work: Path) -> list[float]:
    """Each shard's own measured time (write_shard's total, in its stats.json)."""
    return [json.loads(p.read_text())["seconds"]["total"]
            for p in sorted((work / "results/simulated").glob("shard*/stats.json"))]


def scontrol_job(cluster: LocalSlurmCluster, jobid: str) -> dict[str, str]:
    """``scontrol show job`` of a (recently finished) job as key/value pairs (Comment, TimeLimit, MinMemoryNode ...)."""
    text = cluster.run("scontrol", "show", "job", "--oneliner", jobid).stdout
    return dict(part.partition("=")[::2] for part in text.split() if "=" in part)


def test_sbatch_runs_a_job(slurm_cluster, tmp_path):
    out = tmp_path / "hostname.out"
    res = slurm_cluster.run("sbatch", "--wait", "--partition", "cpu", "-o", str(out), "--wrap", "hostname",
                            timeout=120, check=False)
    assert res.returncode == 0, res.stdout + res.stderr + slurm_cluster.log("slurmctld")[-3000:]
    assert out.read_text().strip().split(".")[0] == slurm_cluster.node
    jobid = res.stdout.split()[-1]
    state = slurm_cluster.run("squeue", "--states=all", "--noheader", "--format=%i|%T", "-j", jobid).stdout
    assert state.strip() == f"{jobid}|COMPLETED"


def run_both_stages(slurm_cluster, tmp: Path) -> dict:
    """The small simulate and paper stages run once through SLURM and once locally (one
    Snakemake run each way: the cluster's job start-ups and status polling overlap)."""
    env = _env(slurm_cluster)
    sections = {**SMALL_SIMULATE, **SMALL_PAPER}
    on_slurm, local = workdir(tmp / "slurm", sections), workdir(tmp / "local", sections)
    res, slurm_wall = snakemake(on_slurm, env, *SLURM_ARGS, TARGET, "paper_summary")
    log = res.stdout + res.stderr
    assert res.returncode == 0, log[-8000:] + slurm_cluster.log("slurmctld")[-3000:]
    records = [r for r in slurm_cluster.job_records() if r.get("WorkDir") == str(on_slurm)]
    jobs = [{**r, **scontrol_job(slurm_cluster, r["JobId"])} for r in records]
    res, local_wall = snakemake(local, env, "--cores", "2", TARGET, "paper_summary")
    assert res.returncode == 0, (res.stdout + res.stderr)[-8000:]
    return {"slurm": on_slurm, "local": local, "jobs": jobs, "log": log,
            "slurm_wall": slurm_wall, "local_wall": local_wall,
            "got": outputs(on_slurm), "want": outputs(local)}


def stage_files(files: dict[str, bytes], prefixes: tuple[str, ...]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k.startswith(prefixes)}


def span(r: dict) -> float:
    return (datetime.fromisoformat(r["EndTime"]) - datetime.fromisoformat(r["StartTime"])).total_seconds()


def check_simulate_stage(run: dict) -> None:
    # the shard jobs really went through SLURM (the summary is a localrule)
    jobs = [r for r in run["jobs"] if r.get("Comment", "").startswith("rule_simulate_shard")]
    small = SMALL_SIMULATE["simulate"]
    n_shards = -(-(small["depth_max"] - small["depth_min"] + 1) * small["models_per_depth"] // small["shard_size"])
    assert len(jobs) == n_shards and all(r["JobState"] == "COMPLETED" for r in jobs), (run["jobs"], run["log"][-4000:])

    prefixes = ("results/simulate", "results/metrics/simulate")
    got, want = stage_files(run["got"], prefixes), stage_files(run["want"], prefixes)
    assert sorted(got) == sorted(want)
    assert len(want) > 30 and any(name.endswith(".png") for name in want)
    differ = [name for name in want if got[name] != want[name]]
    assert not differ, f"SLURM and local outputs differ: {differ}"
    print(f"\nsimulate ({len(want)} files): shard jobs {[span(r) for r in jobs]} s (slurm Start-End), "
          f"shards {shard_seconds(run['slurm'])} s on SLURM, {shard_seconds(run['local'])} s locally")


def check_paper_stage(run: dict) -> None:
    # the corpus job and one job per paper went through SLURM (the summary is a localrule)
    n_papers = SMALL_PAPER["paper"]["corpus_size"]
    corpus = [r for r in run["jobs"] if r.get("Comment", "").startswith("rule_paper_corpus")]
    paper_jobs = [r for r in run["jobs"] if r.get("Comment", "").startswith("rule_paper_wildcards")]
    assert len(corpus) == 1 and len(paper_jobs) == n_papers, run["jobs"]
    assert all(r["JobState"] == "COMPLETED" for r in corpus + paper_jobs), run["jobs"]
    # each paper job asked SLURM for the paper's limits: paper.timeout_s (+1 min) and paper.mem_mb
    params = yaml.safe_load((run["slurm"] / "params.yaml").read_text())["paper"]
    minutes = -(-params["timeout_s"] // 60) + 1
    for r in paper_jobs:
        assert r["TimeLimit"] == f"{minutes // 60:02d}:{minutes % 60:02d}:00", r
        assert r["MinMemoryNode"] == f"{params['mem_mb']}M", r

    prefixes = ("results/papers", "results/corpus", "results/metrics/papers")
    got, want = stage_files(run["got"], prefixes), stage_files(run["want"], prefixes)
    assert sorted(got) == sorted(want)
    assert sum(name.endswith("status.json") for name in want) == n_papers
    assert any(name.endswith(".py") for name in want) and any(name.endswith(".png") for name in want)
    differ = [name for name in want if got[name] != want[name]]
    assert not differ, f"SLURM and local outputs differ: {differ}"
    print(f"\npaper ({n_papers} papers, {len(want)} files) and simulate together: SLURM wall "
          f"{run['slurm_wall']:.1f} s ({len(run['jobs'])} jobs), local wall {run['local_wall']:.1f} s")


def test_simulate_and_paper_stages_on_slurm_equal_the_local_run(slurm_cluster, tmp_path):
    # one test (not two sharing a fixture): pytest-xdist never splits it over two workers
    run = run_both_stages(slurm_cluster, tmp_path)
    check_simulate_stage(run)
    check_paper_stage(run)
