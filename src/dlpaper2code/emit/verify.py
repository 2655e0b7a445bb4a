"""Verification: emitted code must build, run, and agree with the graph.

For each graph and target: emit the code; for PyTorch, Keras and TensorFlow
build the model in its own process, run a forward pass and compare every
output shape with the graph's inferred shape; for Caffe parse the prototxt
against Caffe's real ``NetParameter`` schema, run Caffe's shape inference on
it and compare every layer's blob, and run the pyCaffe script (through a
NetSpec shim) to check it builds the same net. With ``equivalence`` the same
weights go into every runnable framework and the outputs must agree: every
element within ``atol + rtol * scale``, the scale being the largest magnitude of
that output in the reference framework (:func:`compare_outputs`).  float32
rounding grows with the size of the numbers summed, so a ResNet whose logits
reach 5e4 differs by 8e-2 between frameworks (1.7e-6 of its scale) and is right;
the report gives each comparison's worst absolute and relative difference.
ONNX (``--targets ...,onnx``) is run in onnxruntime (``emit.onnx_export.run_onnx``: exported
again holding the canonical weights) and compared like the others; it takes no training step.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .codegen import EXPORTS, RUNNABLE, TARGETS, expand_targets, node_contexts, without_output_softmax, write_code
from ..core.errors import EmitError, GraphError
from ..core.graph import Graph, load_graph
from .weights import canonical_weights, random_inputs

SUBPROCESS_ENV = {"KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "",
                  "OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                  "PYTHONHASHSEED": "0", "TF_ENABLE_ONEDNN_OPTS": "0"}


def _env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(SUBPROCESS_ENV)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def caffe_to_canonical(shape: tuple[int, ...], kind: str) -> list[int]:
    """A Caffe blob shape (batch 1; time-major sequences) in the graph's layout."""
    if kind == "image":
        return [shape[2], shape[3], shape[1]]
    if kind == "vector":
        return [shape[1]] if len(shape) == 2 else list(shape[1:])
    if kind == "tokens":
        return [shape[0]]
    if kind == "sequence":
        return [shape[0], shape[2]]
    return list(shape)


def check_caffe(graph: Graph, files: dict[str, Path], timeout_s: float, caffe_version: str = "1.0") -> dict:
    from .caffe import (PYCAFFE_SHIM_DIR, CaffeSchemaError, CaffeShapeError, blob_shapes, parse_prototxt,
                        post_1_0_features)

    out: dict = {"emitted": True}
    t0 = time.perf_counter()
    try:
        net = parse_prototxt(files["model.prototxt"].read_text(), source=str(files["model.prototxt"]))
        shapes = blob_shapes(net)
    except (CaffeSchemaError, CaffeShapeError) as exc:
        return {**out, "built": False, "shape_ok": False, "error": str(exc)}
    newer = post_1_0_features(net) if caffe_version == "1.0" else []
    if newer:
        return {**out, "built": False, "shape_ok": False,
                "error": "model.prototxt needs Caffe after 1.0: " + "; ".join(newer[:5])}
    out["built"] = True
    mismatches = []
    contexts = node_contexts(graph)
    for ctx in contexts:
        got = shapes.get(ctx["id"])
        want = list(ctx["out_shape"])
        if got is None or caffe_to_canonical(got, ctx["out_kind"]) != want:
            mismatches.append(f"{ctx['name']}: caffe {got} vs graph {want}")
    out["output_shapes"] = [caffe_to_canonical(shapes[c["id"]], c["out_kind"]) for c in contexts
                            if c["name"] in graph.outputs]
    out["shape_ok"] = not mismatches
    if mismatches:
        out["error"] = "shape mismatch: " + "; ".join(mismatches[:5])
    if "train_val.prototxt" in files:
        # the training net: the same schema (and Caffe version) and, in each phase, the graph's shapes
        train = _check_train_val(files["train_val.prototxt"], contexts, caffe_version)
        out["train_val_ok"] = train is None
        if train:
            out["error"] = train
    proc = subprocess.run([sys.executable, str(files["model_pycaffe.py"])], capture_output=True, text=True,
                          timeout=timeout_s, env=_env({"PYTHONPATH": str(PYCAFFE_SHIM_DIR)}))
    if proc.returncode != 0:
        out["netspec_ok"] = False
        out["error"] = "pyCaffe script failed: " + proc.stderr.strip()[-800:]
    else:
        spec_net = parse_prototxt(proc.stdout, source="model_pycaffe.py output")
        by_name = lambda n: {l.name: l.SerializeToString(deterministic=True) for l in n.layer}  # noqa: E731
        out["netspec_ok"] = by_name(spec_net) == by_name(net) and len(spec_net.layer) == len(net.layer)
        if not out["netspec_ok"]:
            out["error"] = "the pyCaffe script builds a different net than model.prototxt"
    out["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def _check_train_val(path: Path, contexts: list[dict], caffe_version: str) -> str | None:
    """None when train_val.prototxt parses, has only Caffe-1.0 features (unless `caffe_version` is
    'master') and gives every graph node's blob its graph shape in the TRAIN and TEST phases, with a
    scalar loss; else what is wrong."""
    from .caffe import CaffeSchemaError, CaffeShapeError, blob_shapes, parse_prototxt, post_1_0_features

    try:
        net = parse_prototxt(path.read_text(), source=str(path))
        newer = post_1_0_features(net) if caffe_version == "1.0" else []
        if newer:
            return "train_val.prototxt needs Caffe after 1.0: " + "; ".join(newer[:5])
        for phase in ("TRAIN", "TEST"):
            shapes = blob_shapes(net, phase=phase)
            bad = [f"{c['name']}: caffe {shapes.get(c['id'])} vs graph {list(c['out_shape'])}" for c in contexts
                   if shapes.get(c["id"]) is None
                   or caffe_to_canonical(shapes[c["id"]], c["out_kind"]) != list(c["out_shape"])]
            if bad:
                return f"train_val.prototxt ({phase}) shape mismatch: " + "; ".join(bad[:5])
            if not any(l.type.endswith("Loss") and shapes.get(l.top[0]) == () for l in net.layer):
                return f"train_val.prototxt ({phase}) has no loss"
    except (CaffeSchemaError, CaffeShapeError) as exc:
        return f"train_val.prototxt: {exc}"
    return None


def run_target(target: str, code: Path, graph_json: Path, inputs: Path, weights: Path | None,
                out: Path, timeout_s: float, train: dict | None = None) -> dict:
    cmd = [sys.executable, "-m", "dlpaper2code.emit.runner", "--target", target, "--code", str(code),
           "--graph", str(graph_json), "--inputs", str(inputs), "--out", str(out)]
    if weights is not None:
        cmd += ["--weights", str(weights)]
    if train is not None:       # also one SGD step (runner.train_step): {"targets", "lr", "out"}
        cmd += ["--train-out", str(train["out"]), "--train-targets", str(train["targets"]), "--lr", repr(train["lr"])]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=_env())
    except subprocess.TimeoutExpired:
        return {"emitted": True, "built": False, "shape_ok": False, "error": f"timed out after {timeout_s} s"}
    seconds = round(time.perf_counter() - t0, 3)
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        report = {"ok": False, "error": (proc.stderr or proc.stdout).strip()[-800:] or f"exit code {proc.returncode}"}
    if not report.get("ok"):
        return {"emitted": True, "built": False, "shape_ok": False, "error": report.get("error"),
                "traceback": report.get("traceback"), "seconds": seconds}
    return {"emitted": True, "built": True, "output_shapes": report["output_shapes"],
            "build_s": round(report["build_s"], 3), "forward_s": round(report["forward_s"], 3), "seconds": seconds,
            **({"train": report["train"]} if "train" in report else {})}


def compare_outputs(ref: list[np.ndarray], outs: list[np.ndarray], atol: float = 1e-4,
                    rtol: float = 1e-5) -> dict:
    """Two frameworks' outputs of the same inputs and weights: ``{"max_abs_diff", "max_rel_diff",
    "ok"}``.  The relative difference is the absolute one over the output's scale (its largest
    magnitude in `ref`); they agree when every element is within ``atol + rtol * scale``."""
    worst_abs = worst_rel = 0.0
    ok = len(ref) == len(outs)
    for a, b in zip(ref, outs):
        a64, b64 = a.astype(np.float64), np.asarray(b, dtype=np.float64)
        if a64.shape != b64.shape:
            ok = False
            continue
        if not a64.size:
            continue
        if not (np.all(np.isfinite(a64)) and np.all(np.isfinite(b64))):
            ok = False
            worst_abs = worst_rel = float("inf")
            continue
        d = float(np.max(np.abs(a64 - b64)))
        scale = float(np.max(np.abs(a64)))
        worst_abs = max(worst_abs, d)
        worst_rel = max(worst_rel, d / scale if scale > 0 else (0.0 if d == 0 else float("inf")))
        ok = ok and d <= atol + rtol * scale
    return {"max_abs_diff": worst_abs, "max_rel_diff": worst_rel, "ok": ok}


def logits_twin(graph: Graph) -> Graph | None:
    """The graph with its output softmax removed (:func:`codegen.without_output_softmax`), or None
    when no output ends in a softmax.  Outputs are compared on it: with untrained weights a softmax
    saturates to exact 0s and 1s in every framework and would hide any difference before it."""
    twin, _ = without_output_softmax(graph)
    if twin is not None:
        twin.name = f"{graph.name}_logits"
    return twin


def graph_document(graph: Graph) -> dict:
    """The document the framework runners load: the graph as written (block uses kept, so the
    runner finds a layer inside its block's class) when it uses blocks, else the expanded graph."""
    if graph.block_uses and graph.source_doc:
        return {**graph.to_dict(expanded=False), "name": graph.name}
    return graph.to_dict()


def training_twin(graph: Graph) -> Graph | None:
    """The graph with dropout off (every Dropout's rate and MultiHeadAttention's dropout 0), same
    name and so the same canonical weights, or None when it has no dropout.  The training check
    runs on it: dropout draws different masks in every framework."""
    from ..core.graph import parse_graph

    doc = graph.to_dict()
    changed = False
    for layer in doc["layers"]:
        params = layer.get("layer_params") or {}
        key = {"Dropout": "rate", "MultiHeadAttention": "dropout"}.get(layer["layer_type"])
        if key and params.get(key, graph_default(layer["layer_type"], key)):
            layer["layer_params"] = {**params, key: 0.0}
            changed = True
    if not changed:
        return None
    try:
        return parse_graph(doc, source=f"{graph.name} without dropout")
    except GraphError:
        return None


def graph_default(ltype: str, param: str):
    """A layer parameter's default in the vocabulary (config/layers.yaml)."""
    from ..core.vocab import load_vocabulary

    spec = load_vocabulary().layers[ltype].params.get(param)
    return getattr(spec, "default", None)


def training_targets(graph: Graph, seed: int = 0, batch: int = 2) -> list[np.ndarray]:
    """The loss's fixed targets, one standard-normal array per output (canonical layout)."""
    rng = np.random.default_rng([seed, 16])
    return [rng.standard_normal((batch, *graph.shapes[o].shape)).astype(np.float32) for o in graph.outputs]


TRAINING_LOSS = "sum over outputs of mean((output - target)^2), targets N(0, 1) fixed by the seed"


TRAINING_RTOL = 0.1


def compare_training(ref: dict[str, np.ndarray], other: dict[str, np.ndarray], before: dict[str, np.ndarray],
                     atol: float = 1e-4, rtol: float = 1e-5, update_rtol: float = TRAINING_RTOL) -> dict:
    """Two frameworks' results of one SGD step (runner.train_step: "loss", "weight/<key>") from the
    same weights `before`, judged by the rule of :func:`compare_outputs`, ``atol + rtol * scale``:

    - the loss, scale its magnitude;
    - every moved BatchNorm statistic, scale the tensor's largest magnitude in `ref`;
    - every updated weight, scale the largest update |lr * gradient| anywhere in the model and
      `update_rtol` for rtol: a weight is its old value (equal everywhere) plus the update, so only
      the gradients can differ, and in float32 they differ by more than the forward pass does: a
      ReLU or max-pool decision flipped by rounding sends one term elsewhere, and a BatchNorm
      gradient is a small difference of large sums.  In PyTorch alone, the float32 step differs
      from the float64 one by 1.9 % of the largest update for ResNet-50 and 2.7 % for
      Inception-v3 (between frameworks: 2.3 % and 3.8 %); TRAINING_RTOL is 10 %.

    ``max_rel_diff`` is the worst weight difference over the weight tensor's own magnitude,
    ``update_rel_diff`` over the largest update; the step must move the weights (``max_update``
    > 0), and the statistics where there are any."""
    from .weights import NON_TRAINABLE

    loss_ref, loss = float(ref["loss"]), float(other["loss"])
    loss_diff = abs(loss_ref - loss) if np.isfinite(loss_ref) and np.isfinite(loss) else float("inf")
    out = {"loss_abs_diff": loss_diff, "loss_rel_diff": loss_diff / abs(loss_ref) if loss_ref else loss_diff,
           "loss_ok": loss_diff <= atol + rtol * abs(loss_ref)}
    keys = sorted(k[len("weight/"):] for k in ref if k.startswith("weight/"))
    missing = sorted(set(before) - set(keys)) + sorted(k for k in keys if f"weight/{k}" not in other)
    groups = {"weights": [k for k in keys if k.split("/")[-1] not in NON_TRAINABLE],
              "statistics": [k for k in keys if k.split("/")[-1] in NON_TRAINABLE]}
    for group, names in groups.items():
        worst_abs = worst_rel = max_update = 0.0
        worst_key, ok = None, True
        for k in names:
            if f"weight/{k}" not in other:
                continue
            a, b = ref[f"weight/{k}"], other[f"weight/{k}"]
            c = compare_outputs([a], [b], atol, rtol)
            # weights: only the shape here, their differences are judged against the largest update below
            ok = ok and (c["ok"] if group == "statistics" else a.shape == b.shape)
            gauge = "max_abs_diff" if group == "weights" else "max_rel_diff"
            if worst_key is None or c[gauge] > (worst_abs if group == "weights" else worst_rel):
                worst_key = k
            worst_abs, worst_rel = max(worst_abs, c["max_abs_diff"]), max(worst_rel, c["max_rel_diff"])
            step = np.abs(a.astype(np.float64) - before[k]) if k in before else np.zeros(0)
            max_update = max(max_update, float(step.max()) if step.size else 0.0)
        prefix = "" if group == "weights" else "statistics_"
        if group == "weights":
            ok = ok and np.isfinite(worst_abs) and worst_abs <= atol + update_rtol * max_update
        out.update({f"{prefix}max_abs_diff": worst_abs, f"{prefix}max_rel_diff": worst_rel,
                    f"{prefix}worst": worst_key, f"{prefix}ok": ok, f"{prefix}max_update": max_update,
                    f"{prefix}update_rel_diff": (worst_abs / max_update if max_update > 0
                                                 else (0.0 if worst_abs == 0 else float("inf")))})
    out["missing"] = missing[:10]
    # the step must move the weights, and the statistics where there are any (training mode on)
    moved = out["max_update"] > 0 and (out["statistics_max_update"] > 0 or not groups["statistics"])
    out["ok"] = out["loss_ok"] and out["ok"] and out["statistics_ok"] and not missing and moved
    return out


def _training_report(trained: dict, before: dict[str, np.ndarray], lr: float, atol: float, rtol: float,
                     on: str, update_rtol: float = TRAINING_RTOL) -> dict:
    """The training check's result over frameworks: `trained` maps a target to the npz its
    runner wrote, or to {"error": ...} when its step failed."""
    errors = {t: v["error"] for t, v in trained.items() if isinstance(v, dict)}
    done = {t: Path(v) for t, v in trained.items() if not isinstance(v, dict)}
    report: dict = {"on": on, "loss_fn": TRAINING_LOSS, "optimizer": f"SGD lr {lr:g}, no momentum, no weight decay",
                    "lr": lr, "atol": atol, "rtol": rtol, "update_rtol": update_rtol, "loss": {}, "ok": False}
    if errors:
        report["errors"] = errors
    if not done:
        return report
    load = lambda p: dict(np.load(p))  # noqa: E731
    ref_name = next(iter(done))
    ref = load(done[ref_name])
    report["reference"] = ref_name
    report["loss"][ref_name] = float(ref["loss"])
    pairs = {}
    for t, path in done.items():
        if t == ref_name:
            continue
        other = load(path)
        report["loss"][t] = float(other["loss"])
        pairs[f"{ref_name}_vs_{t}"] = compare_training(ref, other, before, atol, rtol, update_rtol)
        del other
    for field in ("loss_abs_diff", "loss_rel_diff", "max_abs_diff", "max_rel_diff", "worst", "statistics_max_abs_diff",
                  "statistics_max_rel_diff", "statistics_worst", "update_rel_diff", "statistics_update_rel_diff"):
        report[field] = {k: c[field] for k, c in pairs.items()}
    report["max_update"] = max((c["max_update"] for c in pairs.values()), default=0.0)
    report["statistics_max_update"] = max((c["statistics_max_update"] for c in pairs.values()), default=0.0)
    missing = sorted({m for c in pairs.values() for m in c["missing"]})
    if missing:
        report["missing"] = missing
    report["ok"] = bool(pairs) and not errors and all(c["ok"] for c in pairs.values())
    for path in done.values():
        path.unlink(missing_ok=True)
    return report


def verify_graph(graph_path: str | Path, targets: list[str] | str = "all", work_dir: str | Path | None = None,
                 equivalence: bool = True, atol: float = 1e-4, seed: int = 0, timeout_s: float = 600,
                 rtol: float = 1e-5, caffe_version: str = "1.0", training: bool = True, lr: float = 0.01,
                 training_rtol: float = TRAINING_RTOL) -> dict:
    """Emit, build and run every target for one graph; returns a JSON-ready report.  ``caffe_version``
    '1.0' (BVLC Caffe's last release) or 'master' is what the Caffe code must load in.  With
    ``training`` every runnable framework also takes one SGD step (learning rate `lr`) from the same
    weights and batch, and the losses, updated weights and BatchNorm statistics must agree
    (``result["training"]``, :func:`compare_training`; updated weights within atol + training_rtol x
    the largest update); it runs on the graph without its output
    softmax and without dropout, in the same processes as the forward check where it can."""
    from .codegen import emit_options

    graph_path = Path(graph_path)
    targets = expand_targets(targets)
    result: dict = {"graph": graph_path.stem, "path": str(graph_path), "targets": {}, "ok": False}
    try:
        graph = load_graph(graph_path)
    except GraphError as exc:
        result["error"] = str(exc)
        return result
    result["graph"] = graph.name
    result["layers"] = len(graph.nodes)
    expected = [list(graph.shapes[o].shape) for o in graph.outputs]
    result["expected_output_shapes"] = expected
    work = Path(work_dir) if work_dir else Path("results/verify/work") / graph.name
    work.mkdir(parents=True, exist_ok=True)
    graph_json = work / "graph.json"
    graph_json.write_text(json.dumps(graph_document(graph), indent=1))

    files: dict[str, dict[str, Path]] = {}
    for t in targets:
        try:
            with emit_options(caffe_version=caffe_version):
                files[t] = {p.name: p for p in write_code(graph, [t], work / t)}
        except EmitError as exc:
            result["targets"][t] = {"emitted": False, "built": False, "shape_ok": False, "error": str(exc),
                                    "refused": exc.declared}

    runnable = [t for t in targets if t in RUNNABLE + EXPORTS and t in files]
    trainable = [t for t in runnable if t in RUNNABLE]      # ONNX runs inference only
    outputs: dict[str, list[np.ndarray]] = {}
    # the training check's graph: the logits twin and/or dropout off; None = the graph itself,
    # trained in the main runs.  The logits twin, when there is one, is run as that graph.
    lt = logits_twin(graph) if equivalence or training else None
    train_graph = (training_twin(lt or graph) or lt) if training else None
    twin = (train_graph or lt) if lt is not None else None
    trained: dict = {}
    train_main = training and train_graph is None and len(trainable) >= 2
    if runnable:
        inputs_path = work / "inputs.npz"
        np.savez(inputs_path, **{f"input_{i}": a for i, a in enumerate(random_inputs(graph, seed=seed))})
        weights_path = None
        if train_main:
            np.savez(work / "train_targets.npz", **{f"target_{i}": a for i, a in enumerate(training_targets(graph, seed))})
        if equivalence or train_main:
            weights_path = work / "weights.npz"
            np.savez(weights_path, **canonical_weights(graph, seed=seed))
        for t in runnable:
            code = next(p for name, p in files[t].items() if name.endswith((".py", ".onnx")))
            out_path = work / f"outputs_{t}.npz"
            train = ({"targets": work / "train_targets.npz", "lr": lr, "out": work / f"train_{t}.npz"}
                     if train_main and t in trainable else None)
            report = run_target(t, code, graph_json, inputs_path, weights_path, out_path, timeout_s, train)
            if train is not None and report.get("built"):
                trained[t] = train["out"] if report.get("train", {}).get("ok") else \
                    {"error": report.get("train", {}).get("error", "no training result")}
            if report.get("built"):
                report["shape_ok"] = report["output_shapes"] == expected
                if not report["shape_ok"]:
                    report["error"] = f"output shapes {report['output_shapes']} != graph {expected}"
                with np.load(out_path) as data:
                    outputs[t] = [data[f"output_{i}"] for i in range(len(data.files))]
                out_path.unlink()
            result["targets"][t] = report
        if weights_path is not None:
            weights_path.unlink()
    if "caffe" in files:
        result["targets"]["caffe"] = check_caffe(graph, files["caffe"], timeout_s, caffe_version)

    if equivalence and len(outputs) >= 2:
        compared = "outputs"
        if twin is not None:
            # the same weights (a softmax has none) through the graph without its output softmax
            # (and, for the training check run in the same processes, without dropout: the same in inference)
            logits = _run_twin(twin, list(outputs), work, seed, timeout_s, lr if twin is train_graph else None, trained)
            if len(logits) == len(outputs):
                outputs, compared = logits, "logits (the output softmax removed: untrained weights saturate it)"
            else:
                compared = "outputs (the logits could not be run in every framework)"
        ref_name = next(iter(outputs))
        ref = outputs[ref_name]
        pairs = {f"{ref_name}_vs_{t}": compare_outputs(ref, outs, atol, rtol)
                 for t, outs in outputs.items() if t != ref_name}
        result["equivalence"] = {"reference": ref_name, "compared": compared,
                                 "max_abs_diff": {k: c["max_abs_diff"] for k, c in pairs.items()},
                                 "max_rel_diff": {k: c["max_rel_diff"] for k, c in pairs.items()},
                                 "ok": all(c["ok"] for c in pairs.values()), "atol": atol, "rtol": rtol}
    if training and train_graph is not None and not trained and len(outputs) >= 2:
        _run_twin(train_graph, [t for t in outputs if t in RUNNABLE], work, seed, timeout_s, lr, trained, folder="train")
    if training and len(trained) >= 2:
        before = canonical_weights(train_graph or graph, seed=seed)
        on = ("the graph" if train_graph is None else
              "the graph " + " and ".join(w for w, yes in (("without its output softmax", lt is not None),
                                                           ("without dropout", train_graph is not lt)) if yes))
        result["training"] = _training_report(trained, before, lr, atol, rtol, on, training_rtol)
    # a target that refuses by design (its template declares the layer inexpressible, with the reason)
    # does not fail the graph, as long as some framework builds it
    checked = [r for r in result["targets"].values() if not r.get("refused")]
    result["refused"] = sorted(t for t, r in result["targets"].items() if r.get("refused"))
    result["ok"] = bool(checked) and all(r.get("built") and r.get("shape_ok") and r.get("netspec_ok", True)
                                         and r.get("train_val_ok", True) for r in checked) and len(result["targets"]) == len(targets) \
        and result.get("equivalence", {}).get("ok", True) and result.get("training", {}).get("ok", True)
    return result


def _run_twin(twin: Graph, targets: list[str], work: Path, seed: int, timeout_s: float,
              lr: float | None = None, trained: dict | None = None, folder: str = "logits") -> dict:
    """Emit and run `twin` (:func:`logits_twin`) in each target with the canonical weights:
    target -> its outputs (targets that fail are left out).  With `lr` each run also takes the
    training step; `trained` gets target -> its results' npz (or {"error": ...})."""
    tw = work / folder
    tw.mkdir(parents=True, exist_ok=True)
    if lr is not None:
        np.savez(tw / "train_targets.npz", **{f"target_{i}": a for i, a in enumerate(training_targets(twin, seed))})
    graph_json = tw / "graph.json"
    graph_json.write_text(json.dumps(graph_document(twin), indent=1))
    inputs_path, weights_path = tw / "inputs.npz", tw / "weights.npz"
    np.savez(inputs_path, **{f"input_{i}": a for i, a in enumerate(random_inputs(twin, seed=seed))})
    np.savez(weights_path, **canonical_weights(twin, seed=seed))
    got: dict[str, list[np.ndarray]] = {}
    for t in targets:
        try:
            files = write_code(twin, [t], tw / t)
        except EmitError:
            continue
        code = next(p for p in files if p.suffix in (".py", ".onnx"))
        out_path = tw / f"outputs_{t}.npz"
        train = ({"targets": tw / "train_targets.npz", "lr": lr, "out": tw / f"train_{t}.npz"}
                 if lr is not None and t in RUNNABLE else None)
        report = run_target(t, code, graph_json, inputs_path, weights_path, out_path, timeout_s, train)
        if train is not None and trained is not None:
            trained[t] = train["out"] if report.get("train", {}).get("ok") else \
                {"error": report.get("train", {}).get("error") or report.get("error") or "no training result"}
        if report.get("built") and out_path.is_file():
            with np.load(out_path) as data:
                got[t] = [data[f"output_{i}"] for i in range(len(data.files))]
            out_path.unlink()
    weights_path.unlink()
    return got


def summarize(results: list[dict]) -> dict:
    """Flat metrics over many graphs (for DVC)."""
    metrics: dict = {"graphs": len(results), "graphs_ok": sum(1 for r in results if r.get("ok"))}
    for t in TARGETS + EXPORTS:
        rows = [r["targets"][t] for r in results if t in r.get("targets", {})]
        if not rows:
            continue
        metrics[f"{t}_emitted"] = sum(1 for r in rows if r.get("emitted"))
        metrics[f"{t}_refused"] = sum(1 for r in rows if r.get("refused"))
        metrics[f"{t}_built"] = sum(1 for r in rows if r.get("built"))
        metrics[f"{t}_shape_ok"] = sum(1 for r in rows if r.get("shape_ok"))
    eq = [r["equivalence"] for r in results if "equivalence" in r]
    if eq:
        metrics["equivalence_ok"] = sum(1 for e in eq if e["ok"])
        metrics["equivalence_max_abs_diff"] = max((max(e["max_abs_diff"].values()) for e in eq if e["max_abs_diff"]),
                                                  default=0.0)
        metrics["equivalence_max_rel_diff"] = max((max(e.get("max_rel_diff", {}).values(), default=0.0) for e in eq),
                                                  default=0.0)
    tr = [r["training"] for r in results if "training" in r]
    if tr:
        worst = lambda field: max((max(t.get(field, {}).values(), default=0.0) for t in tr), default=0.0)  # noqa: E731
        metrics["training_ok"] = sum(1 for t in tr if t["ok"])
        metrics["training_loss_max_rel_diff"] = worst("loss_rel_diff")
        metrics["training_max_abs_diff"] = worst("max_abs_diff")
        metrics["training_max_rel_diff"] = worst("max_rel_diff")
        metrics["training_update_max_rel_diff"] = worst("update_rel_diff")
        metrics["training_statistics_max_rel_diff"] = worst("statistics_max_rel_diff")
    return metrics


def format_report(results: list[dict]) -> str:
    """A Markdown table: graph x target -> built / shapes / agreement."""
    shown = TARGETS + tuple(t for t in EXPORTS if any(t in r.get("targets", {}) for r in results))
    head = "| graph | layers | " + " | ".join(shown) + " | max abs / rel diff | training: loss / weights rel diff | ok |"
    lines = [head, "|" + "---|" * (len(shown) + 5)]
    for r in results:
        cells = []
        for t in shown:
            tr = r.get("targets", {}).get(t)
            if tr is None:
                cells.append("-")
            elif tr.get("refused"):
                cells.append("refused: " + str(tr.get("error", "?")).split(": ", 2)[-1].replace("|", "/").replace("\n", " ")[:120])
            elif tr.get("built") and tr.get("shape_ok") and tr.get("netspec_ok", True) and tr.get("train_val_ok", True):
                cells.append("built, shapes ok" + (f" ({tr['forward_s']:.2f} s)" if "forward_s" in tr else ""))
            else:
                cells.append("FAIL: " + str(tr.get("error", "?")).replace("|", "/").replace("\n", " ")[:120])
        eq = r.get("equivalence")
        diff = (f"{max(eq['max_abs_diff'].values()):.1e} / {max(eq.get('max_rel_diff', {}).values(), default=0.0):.1e}"
                if eq and eq["max_abs_diff"] else "-")
        tr = r.get("training")
        train = "-" if not tr else (
            f"{max(tr.get('loss_rel_diff', {}).values(), default=0.0):.1e} / {max(tr.get('max_rel_diff', {}).values(), default=0.0):.1e}"
            + ("" if tr["ok"] else " FAIL" + (": " + "; ".join(f"{t}: {e}" for t, e in tr["errors"].items())
                                              .replace("|", "/").replace("\n", " ")[:120] if tr.get("errors") else "")))
        lines.append(f"| {r['graph']} | {r.get('layers', '-')} | " + " | ".join(cells) + f" | {diff} | {train} | {'yes' if r.get('ok') else 'NO'} |")
    return "\n".join(lines) + "\n"
