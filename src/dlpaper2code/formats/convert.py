"""Import + emit + verify in one step: ``dlpaper2code convert MODEL --to TARGET -o DIR``.

The model is imported (:func:`formats.import_model`), the graph and its canonical weights are
written to DIR (``graph.json``, ``weights.npz``), the target's code is emitted into DIR, and the
emitted model is built in its own process with the imported weights and run on random inputs
(the graph's inputs, channels last).  Its outputs are compared with the SOURCE model's own outputs
on the same inputs (:data:`SOURCE_RUNNERS`: a Keras model is run by Keras itself), every element
within ``atol + rtol x scale`` (``emit.verify.compare_outputs``).  Caffe cannot be run here: its
prototxt gets verify's schema and shape checks instead of numbers.  A model file without weights
(a Keras JSON) is run with the canonical random weights in both the source and the target.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from . import ImportFailure, Imported, import_model


def available_targets() -> list[str]:
    from ..emit import codegen

    return list(codegen.TARGETS) + [t for t in getattr(codegen, "EXPORTS", ()) if t not in codegen.TARGETS]


def runnable_targets() -> list[str]:
    from ..emit import codegen

    return list(codegen.RUNNABLE) + [t for t in getattr(codegen, "EXPORTS", ()) if t == "onnx"]


# ------------------------------------------------------------------ the source model's own outputs
def keras_source(path: str | Path, graph) -> tuple[object, dict[str, np.ndarray]]:
    """The Keras model itself and its weights in the canonical layout: a .keras file as saved; a
    JSON document (no weights) built by Keras with its own initial weights, which are then imported."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    from .keras_import import import_model_object

    path = Path(path)
    if path.read_bytes()[:1] == b"{":
        model = keras.models.model_from_json(path.read_text(encoding="utf-8"))
    else:
        model = keras.saving.load_model(str(path), compile=False, safe_mode=True)
    return model, import_model_object(model, str(path)).weights


def keras_outputs(model, inputs: list[np.ndarray]) -> list[np.ndarray]:
    import keras

    out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    out = out if isinstance(out, (list, tuple)) else [out]
    return [np.asarray(keras.ops.convert_to_numpy(o)) for o in out]


def _keras_runner(path, graph, inputs):
    model, weights = keras_source(path, graph)
    return keras_outputs(model, inputs), weights


# format -> f(path, graph, inputs) -> (the source model's outputs, its weights in the canonical layout)
SOURCE_RUNNERS = {"keras": _keras_runner}


# ------------------------------------------------------------------ run emitted targets
def run_targets(graph, weights: dict[str, np.ndarray], inputs: list[np.ndarray], targets: list[str],
                work: Path, timeout_s: float = 900) -> dict:
    """Emit each target into work/<target>, build it in its own process with `weights`, run it on
    `inputs`: target -> {"report": ..., "outputs": [...] or None, "error": ...}."""
    from ..core.errors import EmitError
    from ..emit.codegen import write_code
    from ..emit.verify import run_target, graph_document

    work.mkdir(parents=True, exist_ok=True)
    graph_json = work / "graph.json"
    graph_json.write_text(json.dumps(graph_document(graph), indent=1))
    inputs_path, weights_path = work / "inputs.npz", work / "weights.npz"
    np.savez(inputs_path, **{f"input_{i}": a for i, a in enumerate(inputs)})
    np.savez(weights_path, **weights)
    results = {}
    for t in targets:
        t0 = time.perf_counter()
        try:
            files = write_code(graph, [t], work / t)
        except EmitError as exc:
            results[t] = {"emitted": False, "error": str(exc), "refused": exc.declared}
            continue
        except Exception as exc:  # an exporter failing (onnx) is reported, not raised
            results[t] = {"emitted": False, "error": f"{type(exc).__name__}: {exc}"}
            continue
        code = next((p for p in files if p.suffix == (".onnx" if t == "onnx" else ".py")), None)
        if code is None:
            results[t] = {"emitted": True, "error": "nothing runnable emitted"}
            continue
        out_path = work / f"outputs_{t}.npz"
        report = run_target(t, code, graph_json, inputs_path, weights_path, out_path, timeout_s)
        entry = {k: v for k, v in report.items() if k != "traceback"}
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        if report.get("built") and out_path.is_file():
            with np.load(out_path) as data:
                entry["outputs"] = [data[f"output_{i}"] for i in range(len(data.files))]
            out_path.unlink()
        results[t] = entry
    weights_path.unlink(missing_ok=True)
    return results


# ------------------------------------------------------------------ convert
def convert(model: str | Path, to: str, out_dir: str | Path, fmt: str | None = None, *, verify: bool = True,
            atol: float = 1e-4, rtol: float = 1e-5, batch: int = 2, seed: int = 0, timeout_s: float = 900,
            **options) -> dict:
    """Import `model`, emit it for `to` into `out_dir`, and (with `verify`) run it and compare with the
    source model's outputs.  Returns a JSON-ready report (``ok``, ``max_abs_diff``, ...)."""
    from ..core.graph import parse_graph
    from ..emit.codegen import write_code
    from ..emit.verify import check_caffe, compare_outputs
    from ..emit.weights import canonical_weights, random_inputs

    targets = available_targets()
    if to not in targets:
        raise ImportFailure(model, f"unknown target '{to}'; choose from {', '.join(targets)}")
    imported: Imported = import_model(model, fmt, **options)
    graph = parse_graph(imported.doc, source=str(model))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "graph.json").write_text(json.dumps(imported.doc, indent=1) + "\n", encoding="utf-8")
    inputs = random_inputs(graph, batch=batch, seed=seed)
    runner = SOURCE_RUNNERS.get(imported.format) if verify and to != "caffe" else None
    ref = None
    has_weights = imported.weights is not None
    weights = imported.weights if has_weights else canonical_weights(graph, seed=seed)
    if runner is not None:
        ref, source_weights = runner(model, graph, inputs)
        if not has_weights and source_weights is not None:
            weights = source_weights          # the source's own initial weights, so both sides agree
    np.savez(out / "weights.npz", **weights)
    report: dict = {"model": str(model), "format": imported.format, "target": to, "graph": graph.name,
                    "layers": len(graph.nodes), "weights": "imported" if has_weights else ("the source framework's initial weights (the file has none)" if runner else "canonical random (the file has none)"),
                    "notes": imported.notes, "ok": False}
    files = write_code(graph, [to], out / "code")
    report["files"] = [str(p) for p in files]
    if not verify:
        report["ok"] = True
        return report
    if to == "caffe":
        check = check_caffe(graph, {p.name: p for p in files}, timeout_s)
        report["caffe"] = {k: v for k, v in check.items() if k != "traceback"}
        report["compared"] = "Caffe is not installed here: schema, shapes and NetSpec checked, no numbers"
        report["ok"] = bool(check.get("built") and check.get("shape_ok", True))
        return report
    if ref is not None:
        report["reference"] = f"the source model ({imported.format}, run by its own framework)"
    run = run_targets(graph, weights, inputs, [to] if ref is not None else _others(to), out / "work", timeout_s)
    res = run.get(to, {})
    report["build"] = {k: v for k, v in res.items() if k != "outputs"}
    if "outputs" not in res:
        report["error"] = res.get("error", "the emitted model did not run")
        return report
    if ref is None:              # no runner for the source format: the emitted targets against each other
        others = [t for t in run if t != to and "outputs" in run[t]]
        if not others:
            report["error"] = f"no way to run a {imported.format} model here, and no other target ran"
            return report
        ref = run[others[0]]["outputs"]
        report["reference"] = f"the emitted {others[0]} model (no runner for {imported.format} sources)"
    cmp = compare_outputs(ref, res["outputs"], atol, rtol)
    report.update({"max_abs_diff": cmp["max_abs_diff"], "max_rel_diff": cmp["max_rel_diff"],
                   "atol": atol, "rtol": rtol, "ok": cmp["ok"]})
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    return report


def _others(to: str) -> list[str]:
    return [to] + [t for t in runnable_targets() if t != to][:1]
