"""The reproducible workflow: Snakemake DAG, params schema, generated dvc.yaml."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import copy_workflow

from snakemake.exceptions import WorkflowError  # noqa: E402
from snakemake.utils import validate  # noqa: E402

from dlpaper2code.workflow import sync as workflow_sync  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "config" / "params.schema.yaml"
PARAMS = ROOT / "params.yaml"
BIN = Path(sys.executable).parent
ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "KERAS_BACKEND": "torch", "PYTHONHASHSEED": "0"}


def run(cmd: list[str], cwd: Path = ROOT, env: dict | None = None, timeout: float = 300):
    return subprocess.run(
        cmd, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=timeout
    )


def snakemake(*args: str, cwd: Path = ROOT, env: dict | None = None):
    return run([sys.executable, "-m", "snakemake", "--nolock", *args], cwd=cwd, env=env)


def job_counts(output: str) -> dict[str, int]:
    """The last 'Job stats' table of a Snakemake run, as {rule: count}."""
    table = output.rsplit("Job stats:", 1)[-1]
    counts = {}
    for line in table.splitlines():
        m = re.fullmatch(r"\s*(\w+)\s+(\d+)\s*", line)
        if m:
            counts[m.group(1)] = int(m.group(2))
        elif counts and not line.strip():
            break
    return counts


def load_params() -> dict:
    return yaml.safe_load(PARAMS.read_text())


def zoo_graphs() -> list[str]:
    zoo = load_params()["zoo"]
    graphs = sorted(p.stem for p in (ROOT / zoo["dir"]).glob("*.json"))
    if zoo.get("reference"):           # the nine full-size reference networks, as graph "reference/<name>"
        graphs += sorted(f"reference/{p.stem}" for p in (ROOT / zoo["dir"] / "reference").glob("*.json"))
    return graphs


# ----------------------------------------------------------------- dvc.yaml sync


def test_dvc_yaml_is_generated_from_the_workflow():
    res = run([sys.executable, "-m", "dlpaper2code.workflow.sync", "--check"])
    assert res.returncode == 0, (
        "dvc.yaml is stale; run `make dvc` and commit it\n" + res.stdout + res.stderr
    )


def test_dvc_yaml_stages_cover_the_workflow():
    doc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    stages = doc["stages"]
    # every stage file is a DVC stage but make bench's reader benchmark, outside rule `all`
    # (so that after `make run`, `dvc status` is clean and `dvc repro` does not start it)
    assert set(stages) == {p.stem for p in (ROOT / "workflow/rules").glob("*.smk")} - {"common", "bench_read"}
    assert "Not DVC stages (outside rule `all`, so `make run` does not make them): bench_read" in (ROOT / "dvc.yaml").read_text()
    params = load_params()
    for name, stage in stages.items():
        assert stage["cmd"].startswith("snakemake "), name
        for key in stage.get("params", []):
            node = params
            for part in key.split("."):
                assert part in node, f"stage {name}: param {key} not in params.yaml"
                node = node[part]
    produced = {out for stage in stages.values() for out in workflow_sync.out_paths(stage)}
    for name, stage in stages.items():
        for dep in stage["deps"]:
            # a dep is either in the repository or made by another stage
            assert (ROOT / dep).exists() or dep in produced, f"stage {name}: missing dep {dep}"
    assert {"codegen.targets"} <= set(stages["codegen"]["params"])
    assert {"verify.targets", "verify.atol", "verify.fail_on_error"} <= set(stages["verify"]["params"])
    assert {"bench.depth", "bench.repeats", "bench.seed"} <= set(stages["bench"]["params"])
    assert "results/codegen" in workflow_sync.out_paths(stages["codegen"])
    assert "results/verify" in workflow_sync.out_paths(stages["verify"])
    # only the metrics are cached (dvc exp show reads them); DVC never copies the rest back
    for stage in stages.values():
        for out in stage["outs"]:
            assert out in doc["metrics"] if isinstance(out, str) else out[next(iter(out))] == {"cache": False}, out
    assert set(doc["metrics"]) == {"results/metrics/verify.json", "results/metrics/codegen_bench.json",
                                   "results/metrics/simulate.json", "results/metrics/simulate_bench.json",
                                   "results/metrics/read.json", "results/metrics/papers.json",
                                   "results/metrics/papers_corpus.json",
                                   "results/metrics/figclass.json",
                                   "results/metrics/realpapers.json", "results/metrics/loc.json",
                                   "results/metrics/mex.json"}
    assert doc["plots"] == ["results/plots/read_accuracy.png", "results/plots/figclass"]
    assert "results/simulated" in workflow_sync.out_paths(stages["simulate"])
    assert {"simulate.models_per_depth", "simulate.seed", "simulate.styles", "render"} <= set(stages["simulate"]["params"])


def test_dvc_accepts_the_generated_dvc_yaml():
    dvc = BIN / "dvc"
    assert dvc.exists() and (ROOT / ".dvc").is_dir(), "dvc is installed by `make setup` and .dvc/ is committed"
    res = run([str(dvc), "status", "--quiet"])
    # --quiet: 0 = up to date, 1 = something changed/missing; anything else is a bad dvc.yaml
    assert res.returncode in (0, 1), res.stdout + res.stderr
    res = run([str(dvc), "dag", "--dot"])
    assert res.returncode == 0, res.stdout + res.stderr
    for stage in ("codegen", "verify", "bench"):
        assert stage in res.stdout


@pytest.mark.parametrize(
    ("pattern", "tracked"),
    [
        ("results/verify/{graph}.json", "results/verify"),
        ("results/codegen/{graph}", "results/codegen"),
        ("results/metrics/verify.json", "results/metrics/verify.json"),
        ("config/zoo/{graph}.json", "config/zoo"),
        ("results/run_{graph}.json", "results"),
    ],
)
def test_wildcard_paths_are_tracked_as_their_directory(pattern, tracked):
    assert workflow_sync._tracked_path(pattern) == tracked


def test_wildcard_path_without_directory_is_rejected():
    with pytest.raises(workflow_sync.SyncError):
        workflow_sync._tracked_path("{graph}.json")


# ------------------------------------------------------------------- Snakemake DAG


def test_dry_run_lists_one_job_per_zoo_graph():
    res = snakemake("-n", "--forceall", "--cores", "2")
    assert res.returncode == 0, res.stdout + res.stderr
    counts = job_counts(res.stdout + res.stderr)
    n = len(zoo_graphs())
    sim = load_params()["simulate"]
    shards = -(-(sim["depth_max"] - sim["depth_min"] + 1) * sim["models_per_depth"] // sim["shard_size"])
    expected = {"bench_codegen": 1, "verify_summary": 1, "all": 1, "simulate_shard": shards, "simulate_summary": 1,
                "read_shard": shards, "read_summary": 1,
                "paper_corpus": 1, "paper": load_params()["paper"]["corpus_size"], "paper_summary": 1}
    if n:
        expected |= {"codegen": n, "verify": n}
    for rule, count in expected.items():
        assert counts.get(rule) == count, (rule, counts)


# ------------------------------------------------------------------- params schema


def test_default_params_are_valid():
    validate(load_params(), str(SCHEMA))


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("codegen", "targets", ["pytorch", "mxnet"], "'mxnet' is not one of"),
        ("verify", "targets", [], "should be non-empty"),
        ("verify", "atol", -1.0, "less than or equal to the minimum"),
        ("verify", "atoll", 1e-3, "Additional properties are not allowed ('atoll'"),
        ("bench", "depth", 0, "less than the minimum"),
        ("simulate", "models_per_depth", 0, "less than the minimum"),
        ("simulate", "inputs", "some", "is not valid under any of the given schemas"),
    ],
)
def test_schema_rejects_bad_params(section, key, value, message):
    params = load_params()
    params[section][key] = value
    with pytest.raises(WorkflowError) as err:
        validate(params, str(SCHEMA))
    text = str(err.value)
    assert message in text or message.replace("should be non-empty", "is too short") in text, text


def test_full_run_params_are_the_spec_scale():
    """config/params/full.yaml: 36 depths x 3,000 models = 108,000 models, two looks each."""
    params = load_params()
    full = yaml.safe_load((ROOT / "config/params/full.yaml").read_text())
    for section, values in full.items():
        params[section].update(values)
    validate(params, str(SCHEMA))
    sim = params["simulate"]
    models = (sim["depth_max"] - sim["depth_min"] + 1) * sim["models_per_depth"]
    assert models == 108_000 and models * len(sim["styles"]) == 216_000
    assert set(sim["styles"]) <= set(params["render"]["styles"])
    res = snakemake("simulate_summary", "-n", "--cores", "16", "--configfile", "config/params/full.yaml")
    assert res.returncode == 0, res.stdout + res.stderr
    assert job_counts(res.stdout + res.stderr)["simulate_shard"] == -(-models // sim["shard_size"])


def test_snakemake_refuses_a_params_file_with_an_unknown_target(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("codegen:\n  targets: [pytorch, mxnet]\n")
    res = snakemake("-n", "--cores", "1", "--configfile", str(bad))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "'mxnet' is not one of" in out, out


# -------------------------------------------------- end to end, stand-in package

STANDIN = {
    "__init__.py": "",
    "core/graph.py": """
        import json, pathlib
        class Graph:
            def __init__(self, name): self.name = name
        def load_graph(path):
            return Graph(json.loads(pathlib.Path(path).read_text())["name"])
    """,
    "core/errors.py": """
        class EmitError(Exception):
            def __init__(self, message, declared=False):
                super().__init__(message)
                self.declared = declared
    """,
    "emit/codegen.py": """
        import contextlib
        import pathlib
        from dlpaper2code.core.errors import EmitError
        @contextlib.contextmanager
        def emit_options(**options):
            yield
        def write_code(graph, targets, out_dir):
            if graph.name == "refuses" and "caffe" in targets:
                raise EmitError("caffe: layer 'a': MultiHeadAttention cannot be expressed: no attention", declared=True)
            paths = [pathlib.Path(out_dir) / f"model_{t}.py" for t in targets]
            for p in paths:
                p.write_text(f"# {graph.name}\\n")
            return paths
    """,
    "emit/verify.py": """
        import pathlib
        def verify_graph(graph_path, targets, work_dir, equivalence, atol, seed, timeout_s, rtol, caffe_version="1.0",
                         training=True, lr=0.01, training_rtol=0.1):
            name = pathlib.Path(graph_path).stem
            if name == "crashes":
                raise RuntimeError("boom")
            return {"ok": True, "targets": {t: {"built": True, "shape_ok": True, "max_abs_diff": 0.0} for t in targets}}
        def summarize(results):
            return {"graphs": len(results), "passed": sum(bool(r["ok"]) for r in results)}
        def format_report(results):
            return "\\n".join(f"| {r['graph']} | {'yes' if r.get('ok') else 'NO'} |" for r in results) + "\\n"
    """,
    "eval/codegen_speed.py": """
        def bench_codegen(depth, repeats, seed):
            return {"depth": depth, "seconds_per_graph": 0.001}
    """,
    "eval/loc_bench.py": """
        def run(torchvision=None):
            return {"graphs": {}}
        def table(result):
            return ""
    """,
    "simulate/__init__.py": "",
    "simulate/dataset.py": """
        import pathlib
        class ShardOptions:
            def __init__(self, styles, keras_config=True, caffe=True, inputs=None):
                self.styles = styles
        class Stats:
            models = images = 0
            seconds = {"total": 0.0}
            def to_dict(self): return {"models": self.models}
        def select_styles(defined, names):
            return {n: defined[n] for n in names}
        def shard_items(depths, count, shard_size, shard):
            first = shard * shard_size
            return range(first, min(first + shard_size, len(depths) * count))
        def write_shard(out_dir, models, seed, opts, depths=None, count=None, progress=None):
            out = pathlib.Path(out_dir)
            (out / "manifest.csv").write_text("model\\n" + "".join(f"m{g}\\n" for g in models))
            s = Stats(); s.models = len(models)
            return s
        def merge_shards(shard_dirs, manifest_out, root="."):
            rows = [r for d in shard_dirs for r in (pathlib.Path(d) / "manifest.csv").read_text().splitlines()[1:]]
            pathlib.Path(manifest_out).write_text("model\\n" + "".join(r + "\\n" for r in rows))
            s = Stats(); s.models = len(rows)
            return s
    """,
    "simulate/report.py": """
        def summary_metrics(stats): return {"models": stats.models}
        def format_stats(stats): return f"models: {stats.models}\\n"
    """,
    "eval/reader_flow.py": """
        import json, pathlib
        def score_shard(shard, styles):
            return [{"model": m} for m in (pathlib.Path(shard) / "manifest.csv").read_text().splitlines()[1:]]
        def write_rows(rows, path):
            rows = list(rows)
            pathlib.Path(path).write_text("model\\n" + "".join(r["model"] + "\\n" for r in rows))
            return len(rows)
        def load_rows(paths):
            return [{"model": m} for p in paths for m in pathlib.Path(p).read_text().splitlines()[1:]]
        def summarize(rows): return {"all": {"images": len(rows)}}
        def format_summary(summary): return json.dumps(summary)
        def boxplots(rows, path): pathlib.Path(path).write_bytes(b"png")
    """,
    "paper/__init__.py": """
        import json, pathlib
        def generate_paper(out, seed, dpi):
            out = pathlib.Path(out)
            out.mkdir(parents=True, exist_ok=True)
            (out / f"synth_{seed:03d}.pdf").write_text("%PDF-")
            (out / f"synth_{seed:03d}.json").write_text(json.dumps({"pdf": f"synth_{seed:03d}.pdf"}))
            return seed
        def generate_corpus(out, n, seed, dpi):
            return [generate_paper(out, s, dpi) for s in range(seed, seed + n)]
    """,
    "eval/paper_metrics.py": """
        def evaluate_corpus(folder, iou_min):
            return {"figure_recall": 1.0, "per_paper": []}
        def evaluate_scanned(folder, n, iou_min):
            return {"scanned_papers": n}
    """,
    "paper/options.py": """
        class PaperOptions:
            def __init__(self, section):
                self.section = dict(section)
            @classmethod
            def from_params(cls, section):
                return cls(section)
    """,
    "paper/pipeline.py": """
        import json, pathlib
        def process_paper(pdf, out, options):
            opts = options.section          # the whole params.yaml paper section
            if opts["read_figures"] and opts["figure_classifier"]:   # as PaperOptions.load_figure_filter
                from dlpaper2code.figclass.classify import paper_figure_filter
                paper_figure_filter(opts["figure_classifier"], min_probability=opts["figure_min_probability"])
            out = pathlib.Path(out); out.mkdir(parents=True, exist_ok=True)
            (out / "report.json").write_text(json.dumps({"pdf": str(pdf), "status": "ok"}))
            return {"status": "ok"}
        def end_to_end(out, truth):
            return {"paper": pathlib.Path(out).name, "status": "ok", "pages": 1, "graphs": 1, "seconds": 0.1,
                    "truth": truth is not None}
        def summarize_papers(rows):
            return {"papers": len(rows), "with_truth": sum(r["truth"] for r in rows)}
    """,
    "formats/__init__.py": "",
    "formats/mex.py": """
        import json, pathlib
        class V:
            conforms, messages = True, []
        def write(doc, out_base, report=None, **kw):
            base = pathlib.Path(out_base)
            for ext in (".ttl", ".jsonld"):
                base.with_suffix(ext).write_text(kw["tool_params"]["caffe_version"])
            base.with_suffix(".json").write_text(json.dumps({"algorithm": {"class": "CNN", "layers": []},
                                                             "shacl": {"conforms": True, "messages": []}}))
            return [], V()
    """,
    "figclass/__init__.py": "",
    "figclass/generate.py": """
        import pathlib
        def kind_count(kind, n_per_style, n_negative, n_simulated, negative_kinds):
            return 2
        def render_context(styles, simulated_styles, box2d_style, share, degrade_p):
            return None
        def write_kind(out, kind, n, seed, ctx, progress=None):
            (pathlib.Path(out) / "manifest.csv").write_text("file,kind\\n" + "".join(f"{kind}{i}.png,{kind}\\n" for i in range(n)))
            return list(range(n))
        def read_manifest(folder):
            lines = (pathlib.Path(folder) / "manifest.csv").read_text().splitlines()[1:]
            return [{"file": l.split(",")[0], "kind": l.split(",")[1], "sha256": ""} for l in lines]
    """,
    "figclass/features.py": """
        import pathlib
        class ExtractStats:
            def __init__(self, images, seconds, network_seconds, batch_size):
                self.images, self.seconds, self.network_seconds = images, seconds, network_seconds
            images_per_s = 1.0
            def as_dict(self): return {"images": self.images, "images_per_s": 1.0}
        class Backbone:
            dim = 3
        def set_threads(n): pass
        def load_backbone(name, weights=None): return Backbone()
        def features_for_manifest(rows, backbone, size, fit, batch_size, progress=None):
            return [r["kind"] for r in rows], ExtractStats(len(rows), 0.0, 0.0, batch_size)
        def save_features(out, X, files, kinds, shas, name):
            pathlib.Path(out).write_text(",".join(kinds))
    """,
    "figclass/compare.py": """
        import json, pathlib
        TASK_ORDER = ["table3"]
        class Array:
            shape = (0, 3)
        class Features:
            X = Array()
            def __init__(self, kinds): self.kinds = kinds
        def load_features(paths, name):
            return Features([k for p in paths for k in pathlib.Path(p).read_text().split(",")])
        def compare(fs, **kw):
            return {"images": len(fs.kinds), "tasks": {}}
        def write_outputs(result, out_dir, plots):
            out_dir = pathlib.Path(out_dir)
            for t in ("table3", "table4", "table5", "stages"):
                for ext in ("md", "csv"):
                    (out_dir / f"{t}.{ext}").write_text(t)
            for f in plots.values():
                pathlib.Path(f).parent.mkdir(parents=True, exist_ok=True)
                pathlib.Path(f).write_text("png")
            (out_dir / "comparison.json").write_text(json.dumps({"backbone": out_dir.name, "dim": 3, **result}))
        def table_markdown(result, task): return task
        def summary_metrics(results, speeds):
            return {r["backbone"]: r["images"] for r in results}
    """,
    "figclass/classify.py": """
        import json, pathlib
        def train_classifier(fs, **kw):
            n = len(fs.kinds) + (len(kw["real"]["X"]) if kw.get("real") else 0)
            return {"images": n}, {"images": n}
        def load_real_figures(path):
            assert pathlib.Path(path).is_file()
            return {"X": [0.0] * 3}
        def save_classifier(bundle, path): pathlib.Path(path).write_text(json.dumps(bundle))
        def paper_figure_filter(path, min_probability):
            assert json.loads(pathlib.Path(path).read_text())["images"] > 0
            return lambda fig, crop: True
    """,
    "eval/realpapers.py": """
        import json, pathlib
        def run_benchmark(pdf_dir, out_dir, *, data_dir, metrics_path=None, processes=1, timeout_s=600,
                          papers=None, progress=None):
            assert pathlib.Path(data_dir, "truth").is_dir()
            pathlib.Path(out_dir).mkdir(parents=True, exist_ok=True)
            (pathlib.Path(out_dir) / "summary.md").write_text("no pdfs")
            pathlib.Path(metrics_path).write_text(json.dumps({"status": "no_pdfs"}))
            return {"status": "no_pdfs"}
    """,
    "eval/simulate_speed.py": """
        def bench_simulate(depths, count, seed, styles, full_styles=None, cores=16):
            return {"models": len(depths) * count}
        def format_bench(result): return str(result)
    """,
}


@pytest.fixture
def workflow_copy(tmp_path):
    """The workflow (not the package) with a stand-in package and a three-graph zoo."""
    work = copy_workflow(tmp_path / "wf")
    shutil.copy(ROOT / "data" / "realpapers" / "figure_features.npz", work / "data" / "realpapers")
    for graph in ("fine", "crashes", "refuses"):
        (work / "config" / "zoo" / f"{graph}.json").write_text(f'{{"name": "{graph}"}}')
    pkg = tmp_path / "standin" / "dlpaper2code"
    pkg.mkdir(parents=True)
    for name, text in STANDIN.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(textwrap.dedent(text))
    # the scripts' atomic writes are the package's own helper (stdlib only): the real one
    shutil.copy(ROOT / "src" / "dlpaper2code" / "core" / "atomic.py", pkg / "core" / "atomic.py")
    # the paper job's time/memory guard and the corpus summary (stdlib and psutil): the real ones
    shutil.copy(ROOT / "src" / "dlpaper2code" / "paper" / "guard.py", pkg / "paper" / "guard.py")
    env = {**ENV, "PYTHONPATH": str(pkg.parent)}
    return work, env


def test_failed_graph_is_recorded_and_fails_the_summary(workflow_copy):
    work, env = workflow_copy
    res = snakemake("--cores", "2", "--keep-going", "all", cwd=work, env=env)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert (work / "results/verify/crashes.json").exists(), out
    failed = yaml.safe_load((work / "results/verify/crashes.json").read_text())
    assert failed["ok"] is False and "boom" in failed["error"]
    assert yaml.safe_load((work / "results/verify/fine.json").read_text())["ok"] is True
    # the summary failed: no complete-looking outputs, but the table is in its log
    assert not (work / "results/verify/summary.md").exists()
    assert not (work / "results/metrics/verify.json").exists()
    assert "crashes" in (work / "results/logs/verify/summary.log").read_text()
    assert sorted(p.name for p in (work / "results/codegen/fine").iterdir() if not p.name.startswith(".")) == [
        "model_caffe.py", "model_keras.py", "model_pytorch.py", "model_tensorflow.py"
    ]
    # a framework that declares a layer inexpressible: the reason instead of code, the others' code kept
    refused = work / "results/codegen/refuses"
    assert sorted(p.name for p in refused.iterdir() if not p.name.startswith(".")) == [
        "caffe.refused.txt", "model_keras.py", "model_pytorch.py", "model_tensorflow.py"]
    assert "no attention" in (refused / "caffe.refused.txt").read_text()
    assert (work / "results/metrics/codegen_bench.json").exists()
    # the simulated set: every model of every shard once in the merged manifest
    sim = load_params()["simulate"]
    n_models = (sim["depth_max"] - sim["depth_min"] + 1) * sim["models_per_depth"]
    manifest = (work / "results/simulate/manifest.csv").read_text().splitlines()[1:]
    assert sorted(manifest) == sorted(f"m{g}" for g in range(n_models))
    assert len(list((work / "results/simulated").glob("shard*"))) == -(-n_models // sim["shard_size"])
    assert yaml.safe_load((work / "results/metrics/simulate.json").read_text()) == {"models": n_models}
    # every simulated model read and scored once
    assert yaml.safe_load((work / "results/metrics/read.json").read_text()) == {"all": {"images": n_models}}
    assert (work / "results/plots/read_accuracy.png").exists()
    # every corpus paper processed, each with its ground truth
    n_papers = load_params()["paper"]["corpus_size"]
    assert yaml.safe_load((work / "results/metrics/papers.json").read_text()) == {
        "papers": n_papers, "with_truth": n_papers, "figure_recall": 1.0,
        "scanned_papers": load_params()["paper"]["scanned_eval"]}
    # every figure kind generated and featurised once per backbone, the classifier trained on all of them
    fig = load_params()["figclass"]
    n_kinds = 5 + 1 + len(fig["negative_kinds"])
    assert yaml.safe_load((work / "results/metrics/figclass.json").read_text()) == {
        b: 2 * n_kinds for b in fig["backbones"]}
    assert json.loads((work / "results/figclass/classifier.joblib").read_text()) == {"images": 2 * n_kinds + 3}   # + the real figures (stand-in: 3)
    # no temporary leftovers
    assert not list((work / "results").rglob("*.tmp"))

    (work / "ablation.yaml").write_text("verify:\n  fail_on_error: false\n")
    res = snakemake("all", "--cores", "2", "--configfile", "ablation.yaml", cwd=work, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    table = (work / "results/verify/summary.md").read_text()
    assert "| crashes | NO |" in table and "| fine | yes |" in table and "boom" in table
    assert yaml.safe_load((work / "results/metrics/verify.json").read_text()) == {"graphs": 3, "passed": 2}
