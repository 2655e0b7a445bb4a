"""Write the reference networks of the zoo, config/zoo/reference/<name>.json, from their builders here.

Each data/zoo/<network>.py defines ``build() -> dict``, the graph document written
from a reference implementation nobody here wrote (keras.applications, timm,
Hugging Face, torch.nn.Transformer), never from a paper. ``python data/zoo/build.py``
rewrites the JSON files; ``--check`` only reports which differ (tests/test_reference_zoo.py
runs the same check, so the committed graphs cannot drift from their builders).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "config" / "zoo" / "reference"
NETWORKS = ["resnet50", "densenet121", "inception_v3", "mobilenet_v3_large", "efficientnet_b0",
            "squeezenet1_0", "vit_b16", "bert_base", "transformer_base"]


def builder(name: str):
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))          # the builders share _graph.py
    spec = importlib.util.spec_from_file_location(f"zoo_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(doc: dict) -> str:
    """One layer per line, so a diff shows which layer changed."""
    head = {k: v for k, v in doc.items() if k != "layers"}
    head.setdefault("schema_version", 1)
    parts = [f' "{k}": {json.dumps(v)}' for k, v in head.items() if k != "outputs"]
    parts.append(' "layers": [\n' + ",\n".join("  " + json.dumps(layer) for layer in doc["layers"]) + "\n ]")
    if "outputs" in doc:
        parts.append(f' "outputs": {json.dumps(doc["outputs"])}')
    return "{\n" + ",\n".join(parts) + "\n}\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="report graphs that differ from their builders; write nothing")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for name in NETWORKS:
        text = render(builder(name).build())
        path = OUT / f"{name}.json"
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("differ from their builders:", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
