"""One state for Snakemake and DVC (dvc.lock after `make run`, `snakemake -n` after
`dvc repro`, the committed dvc.lock current), ablations through `dvc exp`, and the
readable run log and results table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from dlpaper2code.workflow import lock, progress, report, sync

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
       "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}


def sh(*cmd: str, cwd: Path, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    res = subprocess.run(list(cmd), cwd=cwd, env=ENV, capture_output=True, text=True, timeout=timeout)
    if check and res.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


# ------------------------------------------------------------ the committed dvc.lock


def test_committed_dvc_lock_is_current_with_code_params_and_commands():
    problems = lock.stale(ROOT)
    assert not problems, "dvc.lock is stale:\n  " + "\n  ".join(problems) + "\n" + lock.REFRESH


def test_make_run_records_every_stage_of_rule_all():
    stages = lock.run_stages(ROOT)
    # dvc.yaml holds only what `make run` makes (bench_read, `make bench` only, is not a DVC stage)
    assert set(stages) == set(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])


def test_dvc_metrics_and_plots_are_files_make_run_writes():
    doc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    outs = {o for name in lock.run_stages(ROOT) for o in sync.out_paths(doc["stages"][name])}
    for path in doc["metrics"] + doc["plots"]:
        assert path in outs, f"{path}: in dvc.yaml's metrics/plots but no stage `make run` runs writes it"


# ------------------------------------------------------------ a small DVC project

TOY = {
    "Snakefile": """
        configfile: "params.yaml"
        METRICS_DIR = "results/metrics"
        include: "workflow/rules/count.smk"
        include: "workflow/rules/make.smk"
        rule all:
            input: "results/metrics/count.json"
    """,
    "workflow/rules/make.smk": """
        # Stage make: n copies of src/data.txt.
        rule make_files:
            input: "src/data.txt"
            output: directory("results/files")
            params: n=config["make"]["n"]
            run:
                import shutil
                from pathlib import Path
                Path(output[0]).mkdir(parents=True)
                for i in range(params.n):
                    shutil.copy(input[0], f"{output[0]}/{i}.txt")
    """,
    "workflow/rules/count.smk": """
        # Stage count: how many files, and their bytes.
        rule count:
            input: "results/files"
            output: "results/metrics/count.json"
            run:
                import json
                from pathlib import Path
                files = list(Path(input[0]).glob("*.txt"))
                Path(output[0]).write_text(json.dumps({"files": len(files), "bytes": sum(f.stat().st_size for f in files)}))
    """,
    "params.yaml": "make:\n  n: 3\n",
    "src/data.txt": "hello\n",
    ".gitignore": "/results/\n.snakemake/\n",
}


@pytest.fixture
def toy(tmp_path):
    """A git + DVC project whose dvc.yaml is generated (workflow.sync) from its Snakemake rules."""
    root = tmp_path / "toy"
    for name, text in TOY.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"))
    (root / "dvc.yaml").write_text(sync.generate(root))
    sh("git", "init", "-q", cwd=root)
    sh(str(BIN / "dvc"), "init", "-q", cwd=root)
    sh(str(BIN / "dvc"), "config", "core.analytics", "false", cwd=root)
    sh("git", "add", "-A", cwd=root)
    sh("git", "commit", "-qm", "toy", cwd=root)
    return root


def snakemake(root: Path, *args: str) -> subprocess.CompletedProcess:
    return sh(sys.executable, "-m", "snakemake", "--cores", "1", *args, cwd=root)


def dvc(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return sh(str(BIN / "dvc"), *args, cwd=root, check=check)


def test_snakemake_run_then_commit_leaves_dvc_clean_and_repro_a_no_op(toy):
    snakemake(toy, "all")
    assert json.loads(dvc(toy, "status", "--json").stdout), "DVC cannot know what Snakemake ran"
    assert set(lock.run_stages(toy)) == {"make", "count"}
    times = {p: p.stat().st_mtime_ns for p in (toy / "results").rglob("*") if p.is_file()}
    assert lock.commit(toy) == 0
    assert json.loads(dvc(toy, "status", "--json").stdout) == {}
    # DVC's commit left every output as Snakemake wrote it (it once copied them back from its
    # cache in its own order: results/files newer than count.json, so Snakemake reran count)
    assert {p: p.stat().st_mtime_ns for p in times} == times
    assert "Nothing to be done" in snakemake(toy, "-n", "all").stdout + snakemake(toy, "-n", "all").stderr
    before = (toy / "results/metrics/count.json").stat().st_mtime_ns
    out = dvc(toy, "repro").stdout
    assert "didn't change, skipping" in out and "Running stage" not in out, out
    assert (toy / "results/metrics/count.json").stat().st_mtime_ns == before
    assert "Nothing to be done" in snakemake(toy, "-n", "all").stdout + snakemake(toy, "-n", "all").stderr
    assert lock.stale(toy) == []


def test_commit_is_skipped_for_a_params_override(toy, capsys):
    snakemake(toy, "all")
    assert lock.commit(toy, "--profile x --configfile ablation.yaml") == 0
    assert "left as it is" in capsys.readouterr().out
    assert not (toy / "dvc.lock").exists()


def test_dvc_repro_then_snakemake_has_nothing_to_do(toy):
    out = dvc(toy, "repro").stdout
    assert "Running stage 'make'" in out and "Running stage 'count'" in out, out
    res = snakemake(toy, "-n", "all")
    assert "Nothing to be done" in res.stdout + res.stderr, res.stdout + res.stderr
    # and a code or params change is seen by both
    (toy / "params.yaml").write_text("make:\n  n: 4\n")
    res = snakemake(toy, "-n", "all")
    assert "make_files" in res.stdout + res.stderr
    assert "make" in json.loads(dvc(toy, "status", "--json").stdout)


def test_lock_check_names_the_stale_file_and_param(toy):
    dvc(toy, "repro")
    assert lock.stale(toy) == []
    (toy / "src/data.txt").write_text("changed\n")
    (toy / "params.yaml").write_text("make:\n  n: 5\n")
    problems = lock.stale(toy)
    assert any("src/data.txt" in p and "modified" in p for p in problems), problems
    assert any("param make.n" in p for p in problems), problems
    assert lock.check(toy) == 1
    # a regenerated dvc.yaml with another command: the stage's lock entry is stale too
    doc = yaml.safe_load((toy / "dvc.yaml").read_text())
    doc["stages"]["count"]["cmd"] += " --quiet"
    (toy / "dvc.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    assert any("stage count: command changed" in p for p in lock.stale(toy, ["count"]))


def test_dvc_exp_run_is_an_ablation_and_exp_show_compares_it(toy):
    dvc(toy, "repro")
    sh("git", "add", "dvc.lock", cwd=toy)
    sh("git", "commit", "-qm", "lock", cwd=toy)
    dvc(toy, "exp", "run", "-n", "five", "-S", "make.n=5")
    shown = json.loads(dvc(toy, "exp", "show", "--json").stdout)
    text = json.dumps(shown)
    assert '"five"' in text, text
    # the experiment's metric and param, and the baseline's
    rows = dvc(toy, "exp", "show", "--csv").stdout.splitlines()
    header = rows[0].split(",")
    table = [dict(zip(header, r.split(","))) for r in rows[1:]]
    by_name = {r.get("Experiment") or r.get("rev"): r for r in table}
    assert by_name["five"]["make.n"] == "5" and by_name["five"]["files"] == "5", table
    assert any(r["make.n"] == "3" and r["files"] == "3" for r in table if r is not by_name["five"]), table


# ------------------------------------------------------------ readable run log, results table

SNAKEMAKE_LOG = """\
Assuming unrestricted shared filesystem usage.
Building DAG of jobs...
Using shell: /usr/bin/bash
Provided cores: 2
Rules claiming more threads will be scaled down.
Job stats:
job      count
-----  -------
one          3
total        4

Select jobs to execute...
Execute 2 jobs...
[Thu Dec  3 07:07:17 2026]
Finished jobid: 2 (Rule: one)
1 of 4 steps (25%) done
Select jobs to execute...
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1796281801.224919    3034 port.cc:153] oneDNN custom operations are on. You may see slightly different
[Thu Dec  3 07:07:19 2026]
Error in rule one:
    message: None
    jobid: 3
[Thu Dec  3 07:07:18 2026]
Finished jobid: 0 (Rule: all)
4 of 4 steps (100%) done
Complete log(s): /tmp/toy/.snakemake/log/x.snakemake.log
"""


def test_progress_folds_each_job_into_one_line_with_time_left():
    ticks = iter([0.0, 30.0, 120.0])
    out = list(progress.fold(SNAKEMAKE_LOG.splitlines(True), clock_now=lambda: next(ticks), wall=lambda: "07:00:00"))
    jobs = [line for line in out if line.startswith("[07:00:00]")]
    assert jobs[0] == "[07:00:00]    1/4 ( 25%) one                    elapsed 0:00:30  left ~0:01:30"
    assert jobs[1].startswith("[07:00:00]    4/4 (100%) all") and jobs[1].endswith("left ~0:00:00")
    text = "\n".join(out)
    for noise in ("Select jobs", "Execute 2 jobs", "Finished jobid", "[Thu Dec", "Using shell", "absl", "oneDNN"):
        assert noise not in text
    for kept in ("Error in rule one:", "    jobid: 3", "Job stats:", "Complete log(s)"):
        assert kept in text


def test_local_profile_prints_no_rule_input_lists():
    profile = yaml.safe_load((ROOT / "workflow/profiles/local/config.yaml").read_text())
    assert "rules" in profile["quiet"] and not profile.get("printshellcmds")
    for stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].values():
        assert "--quiet rules host" in stage["cmd"]


def test_long_jobs_log_progress_with_an_eta(tmp_path):
    sys.path.insert(0, str(ROOT / "workflow" / "scripts"))
    try:
        import _wf
    finally:
        sys.path.pop(0)
    lines = []

    class Log:
        def info(self, fmt, *args):
            lines.append(fmt % args)

    p = _wf.Progress(4, "shard 0", logger=Log(), every_s=0)
    list(p.track(range(4)))
    assert lines[0].startswith("shard 0: 0/4 done (0%)") and lines[-1].startswith("shard 0: 4/4 done (100%)")
    assert all("ETA" in line for line in lines)
    p = _wf.Progress(100, "features", logger=Log(), every_s=0)
    p.offset = 40
    p("vgg19: 16/60 images")  # the package's progress callbacks: k of the current batch
    assert p.done == 56
    for script in ("simulate_shard.py", "read_shard.py", "figclass_features.py", "paper_corpus.py"):
        assert "Progress(" in (ROOT / "workflow/scripts" / script).read_text(), script


def test_report_is_a_table_of_the_run_metrics(tmp_path):
    m = tmp_path / "metrics"
    m.mkdir()
    (m / "verify.json").write_text(json.dumps({"graphs": 18, "graphs_ok": 17, "training_ok": 16}))
    (m / "read.json").write_text(json.dumps({"all": {"images": 288, "exact_share": 0.94792, "layer_accuracy": 0.9955,
                                                     "edge_accuracy": 0.98965, "hparam_accuracy": 0.98796}}))
    (m / "papers.json").write_text(json.dumps({"papers": 12, "ok": 11, "failed": 1}))
    (m / "realpapers.json").write_text(json.dumps({"status": "no_pdfs", "papers": 0}))
    (m / "mex.json").write_text("{not json")
    (tmp_path / "figclass").mkdir()
    (tmp_path / "figclass/classifier.json").write_text(json.dumps(
        {"backbone": "efficientnet_lite0", "classifier": "mlp", "test_accuracy_six_class": 0.9333, "tested_on": 90}))
    rows, notes = report.collect(tmp_path)
    table = {label: value for label, value, _ in rows}
    assert table["Reference graphs: built, ran and matched in every framework"] == "17 of 18"
    assert table["Diagram reader: exact graphs"] == "94.8% of 288 diagrams"
    assert table["Synthetic papers processed"] == "11 of 12 (1 failed)"
    assert table["Figure classifier (efficientnet_lite0 + mlp): six classes, test accuracy"] == "93.3% of 90 figures"
    assert table["Real-paper benchmark"].startswith("not run (no_pdfs)")
    assert len(notes) == 1 and "mex.json" in notes[0]
    md = report.format_table(rows)
    assert md.splitlines()[0] == "| result | value | from |" and "| 17 of 18 |" in md
    res = subprocess.run([sys.executable, "-m", "dlpaper2code.workflow.report", "--results", str(tmp_path)],
                         capture_output=True, text=True, env=ENV)
    assert res.returncode == 0 and "94.8% of 288 diagrams" in res.stdout, res.stdout + res.stderr
    res = subprocess.run([sys.executable, "-m", "dlpaper2code.workflow.report", "--results", str(tmp_path / "none")],
                         capture_output=True, text=True, env=ENV)
    assert res.returncode == 1 and "make run" in res.stderr


def test_make_run_commits_the_lock_and_ends_with_the_table():
    make = (ROOT / "Makefile").read_text()
    run = make.split("\nrun: setup\n", 1)[1].split("\n\n", 1)[0]
    assert "| $(PY) -m dlpaper2code.workflow.progress" in run
    assert 'dlpaper2code.workflow.lock commit --snakemake-args "$(SNAKEMAKE_ARGS)"' in run
    assert run.rstrip().endswith("$(PY) -m dlpaper2code.workflow.report")
    assert "\ndvc-lock: run\n" in make


@pytest.mark.slow
def test_dvc_exp_run_on_the_real_dvc_yaml(tmp_path):
    """`dvc exp run codegen -S codegen.targets=[pytorch]` in a clone of this repository: the
    real stage (Snakemake on every zoo graph, one framework), then `dvc exp show`."""
    clone = tmp_path / "repo"
    sh("git", "clone", "-q", str(ROOT), str(clone), cwd=tmp_path)
    env_path = ENV.get("PYTHONPATH")
    ENV["PYTHONPATH"] = str(clone / "src")
    try:
        dvc(clone, "exp", "run", "-n", "pytorch-only", "codegen", "-S", "codegen.targets=[pytorch]")
        made = {p.name for p in (clone / "results/codegen/alexnet").iterdir() if not p.name.startswith(".")}
        assert "model_pytorch.py" in made and "model_keras.py" not in made, made
        shown = dvc(clone, "exp", "show", "--json").stdout
        assert "pytorch-only" in shown and "codegen" in shown, shown[:2000]
    finally:
        if env_path is None:
            ENV.pop("PYTHONPATH", None)
        else:
            ENV["PYTHONPATH"] = env_path
