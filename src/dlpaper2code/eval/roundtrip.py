"""Round trips against implementations nobody here wrote: keras.applications in, every target out.

``python -m dlpaper2code.eval.roundtrip [--networks VGG16,ResNet50] [--targets pytorch,tensorflow,onnx]
[--zoo]``

Each network is built by ``keras.applications`` (weights=None, so offline; Keras' own random
initialisation under a fixed seed, BatchNorm moving statistics and scales randomised too so they
matter), with ``classifier_activation=None`` (compared on logits: untrained softmaxes saturate and
hide differences).  It is imported (``formats.keras_import``), emitted for each target, built in
its own process with the imported weights and run on the same random input (batch 1); its output
is compared with the Keras model's own output.  A network the vocabulary cannot express gives a
row naming the operator.  Results: ``results/metrics/roundtrip.json`` and the committed copy
``data/zoo/roundtrip_measured.json``.

``--zoo`` also round-trips the zoo's own graphs (``config/zoo/*.json``) through the Keras emitter
and back: emit Keras code, build it with the canonical weights, save it as ``.keras``, import it,
and compare the imported graph's layer count and parameters and the outputs of the imported graph
(emitted for PyTorch) with the Keras model's.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np

NETWORKS = ["VGG16", "ResNet50", "MobileNet", "MobileNetV2", "MobileNetV3Large", "DenseNet121", "InceptionV3",
            "EfficientNetB0", "Xception"]
OUT = Path("results/metrics/roundtrip.json")
COPY = Path("data/zoo/roundtrip_measured.json")


def default_targets() -> list[str]:
    from ..emit import codegen

    out = ["pytorch", "tensorflow"]
    if "onnx" in getattr(codegen, "EXPORTS", ()) or "onnx" in codegen.TARGETS:
        out.append("onnx")
    return out


def build_application(name: str, seed: int = 0):
    import keras

    keras.utils.set_random_seed(seed)
    size = 299 if name in ("InceptionV3", "Xception") else 224
    model = getattr(keras.applications, name)(weights=None, classifier_activation=None, input_shape=(size, size, 3))
    rng = np.random.default_rng(seed)
    for layer in _leaves(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            vals = layer.get_weights()
            new = []
            for w, v in zip(layer.weights, vals):
                kind = w.path.split("/")[-1]
                if kind in ("gamma", "moving_variance"):
                    new.append(rng.uniform(0.5, 1.5, v.shape).astype(np.float32))
                else:
                    new.append(rng.uniform(-0.1, 0.1, v.shape).astype(np.float32))
            layer.set_weights(new)
    return model


def _leaves(model):
    for layer in model.layers:
        if getattr(layer, "layers", None):
            yield from _leaves(layer)
        else:
            yield layer


def roundtrip_network(name: str, targets: list[str], work: Path, atol: float = 1e-4, rtol: float = 1e-5,
                      batch: int = 1, seed: int = 0) -> dict:
    from ..core.graph import parse_graph
    from ..emit.verify import compare_outputs
    from ..emit.weights import parameter_counts, random_inputs
    from ..formats import ImportFailure
    from ..formats.convert import keras_outputs, run_targets
    from ..formats.keras_import import import_model_object

    t0 = time.perf_counter()
    row: dict = {"network": name, "targets": {}}
    model = build_application(name, seed)
    row["keras_parameters"] = int(model.count_params())
    try:
        imported = import_model_object(model, f"keras.applications.{name}")
    except ImportFailure as exc:
        row.update(ok=False, error=str(exc), operator=exc.operator, node=exc.node,
                   seconds=round(time.perf_counter() - t0, 1))
        return row
    graph = parse_graph(imported.doc, source=name)
    counts = parameter_counts(graph)
    row.update(layers=len(graph.nodes), parameters=counts["trainable"] + counts["non_trainable"],
               trainable=counts["trainable"], notes=imported.notes[:20], notes_total=len(imported.notes))
    inputs = random_inputs(graph, batch=batch, seed=seed)
    ref = keras_outputs(model, inputs)
    row["output_scale"] = float(max(np.abs(r).max() for r in ref))
    del model
    gc.collect()
    results = run_targets(graph, imported.weights, inputs, targets, work / name)
    ok = True
    for t in targets:
        res = results.get(t, {})
        entry = {"seconds": res.get("seconds")}
        if "outputs" in res:
            cmp = compare_outputs(ref, res["outputs"], atol, rtol)
            entry.update(max_abs_diff=cmp["max_abs_diff"], max_rel_diff=cmp["max_rel_diff"], ok=cmp["ok"])
        else:
            entry.update(ok=False, error=str(res.get("error"))[-600:], refused=bool(res.get("refused")))
        ok = ok and entry["ok"]
        row["targets"][t] = entry
    # Keras counts Normalization's sample count too (EfficientNet: 1 more than the graph's 1x1 depthwise)
    row["parameters_match"] = row["parameters"] == row["keras_parameters"]
    row["ok"] = ok
    row["seconds"] = round(time.perf_counter() - t0, 1)
    return row


# ------------------------------------------------------------------ our zoo through Keras and back
def roundtrip_zoo_graph(path: Path, work: Path, atol: float = 1e-4, rtol: float = 1e-5, seed: int = 0) -> dict:
    """Emit Keras code for a zoo graph, build it with the canonical weights, save it as .keras, import it,
    compare the imported graph and its PyTorch outputs with the Keras model."""
    import importlib.util

    from ..core.graph import load_graph, parse_graph
    from ..emit.codegen import layer_paths, write_code
    from ..emit.runner import keras_layer
    from ..emit.verify import compare_outputs
    from ..emit.weights import canonical_weights, parameter_counts, random_inputs, target_weights
    from ..formats import ImportFailure
    from ..formats.convert import keras_outputs, run_targets
    from ..formats.keras_import import import_keras

    t0 = time.perf_counter()
    graph = load_graph(path)
    row: dict = {"graph": path.stem, "layers": len(graph.nodes)}
    counts = parameter_counts(graph)
    row["parameters"] = counts["trainable"] + counts["non_trainable"]
    out = work / "zoo" / path.stem
    files = write_code(graph, ["keras"], out)
    code = next(p for p in files if p.suffix == ".py")
    spec = importlib.util.spec_from_file_location(f"zoo_keras_{path.stem}", code)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    model = module.build_model()
    canon = canonical_weights(graph, seed=seed)
    paths = layer_paths(graph, "keras")
    for layer, params in target_weights(graph, "keras", canon).items():
        keras_layer(model, layer, paths).set_weights([params[str(i)] for i in range(len(params))])
    saved = out / f"{path.stem}.keras"
    model.save(saved)
    try:
        imported = import_keras(saved)
    except ImportFailure as exc:
        row.update(ok=False, error=str(exc), operator=exc.operator, seconds=round(time.perf_counter() - t0, 1))
        return row
    back = parse_graph(imported.doc, source=str(saved))
    bc = parameter_counts(back)
    row.update(imported_layers=len(back.nodes), imported_parameters=bc["trainable"] + bc["non_trainable"])
    types = lambda g: sorted(n.type for n in g.nodes if n.type not in ("Dropout",))  # noqa: E731
    row["same_layer_types"] = types(graph) == types(back)
    inputs = random_inputs(back, batch=2, seed=seed)
    ref = keras_outputs(model, inputs)
    res = run_targets(back, imported.weights, inputs, ["pytorch"], out / "work").get("pytorch", {})
    if "outputs" in res:
        cmp = compare_outputs(ref, res["outputs"], atol, rtol)
        row.update(max_abs_diff=cmp["max_abs_diff"], max_rel_diff=cmp["max_rel_diff"], outputs_ok=cmp["ok"])
    else:
        row.update(outputs_ok=False, error=str(res.get("error"))[-600:])
    row["ok"] = bool(row.get("outputs_ok")) and row["parameters"] == row["imported_parameters"]
    row["seconds"] = round(time.perf_counter() - t0, 1)
    return row


def table(rows: list[dict], targets: list[str]) -> str:
    head = "| network | layers | parameters | " + " | ".join(f"max diff {t} (abs / rel)" for t in targets) + " | seconds |"
    lines = [head, "|" + "---|" * (4 + len(targets))]
    for r in rows:
        if "error" in r and "layers" not in r:
            lines.append(f"| {r['network']} | - | {r.get('keras_parameters', 0):,} | "
                         + " | ".join(f"cannot be expressed: {r.get('operator')}" for _ in targets) + f" | {r.get('seconds')} |")
            continue
        cells = []
        for t in targets:
            e = r["targets"].get(t, {})
            if "max_abs_diff" in e:
                cells.append(f"{e['max_abs_diff']:.1e} / {e['max_rel_diff']:.1e}" + ("" if e["ok"] else " FAIL"))
            else:
                cells.append("failed: " + str(e.get("error", "not run"))[:80].replace("|", "/"))
        lines.append(f"| {r['network']} | {r['layers']} | {r['parameters']:,} | " + " | ".join(cells) + f" | {r['seconds']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--networks", default=",".join(NETWORKS))
    ap.add_argument("--targets", default=None, help="default: pytorch,tensorflow and onnx where the emitter has it")
    ap.add_argument("--work", default="results/roundtrip/work")
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--copy", default=str(COPY), help="the committed copy of the results ('' for none)")
    ap.add_argument("--zoo", action="store_true", help="also round-trip config/zoo/*.json through the Keras emitter")
    ap.add_argument("--no-applications", action="store_true")
    args = ap.parse_args(argv)
    targets = args.targets.split(",") if args.targets else default_targets()
    work = Path(args.work)
    out = Path(args.out)
    previous = json.loads(out.read_text()) if out.is_file() else {}
    rows = {r["network"]: r for r in previous.get("networks", [])}
    zoo_rows = {r["graph"]: r for r in previous.get("zoo", [])}

    def save():
        doc = {"targets": targets, "atol": 1e-4, "rtol": 1e-5, "batch": 1,
               "networks": [rows[n] for n in NETWORKS if n in rows] + [r for n, r in rows.items() if n not in NETWORKS],
               "zoo": list(zoo_rows.values())}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=1, default=float) + "\n")
        if args.copy:
            Path(args.copy).write_text(json.dumps(doc, indent=1, default=float) + "\n")

    if not args.no_applications:
        for name in [n for n in args.networks.split(",") if n]:
            print(f"{name} ...", flush=True)
            try:
                rows[name] = roundtrip_network(name, targets, work)
            except Exception as exc:      # one network's crash is its row, not the end of the table
                rows[name] = {"network": name, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:600], "targets": {}}
            print(json.dumps({k: v for k, v in rows[name].items() if k != "notes"}, default=float), flush=True)
            save()
            gc.collect()
    if args.zoo:
        root = Path(__file__).resolve().parents[3] / "config" / "zoo"
        for path in sorted(root.glob("*.json")):
            print(f"zoo {path.stem} ...", flush=True)
            try:
                zoo_rows[path.stem] = roundtrip_zoo_graph(path, work)
            except Exception as exc:
                zoo_rows[path.stem] = {"graph": path.stem, "ok": False, "error": f"{type(exc).__name__}: {exc}"[:600]}
            print(json.dumps(zoo_rows[path.stem], default=float), flush=True)
            save()
    print(table([rows[n] for n in NETWORKS if n in rows], targets))
    return 0 if all(r.get("ok") for r in rows.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
