"""Lines of code of the emitted models against the reference implementations engineers know.

``python -m dlpaper2code.eval.loc_bench [--torchvision DIR] [--out FILE]``

For ResNet-50, MobileNetV2 and VGG-16 (the reference-zoo graphs) this emits the PyTorch, Keras and
TensorFlow code with blocks (the default) and without them (every layer written out, what the
emitter wrote before blocks), and counts the source lines of each: lines that hold code, not blank,
not comments, not docstrings.  Two counts: the whole file (imports, INPUTS, random_inputs and the
``__main__`` check included) and the model alone (the block classes or functions, the model class
or ``build_model``, and the helpers they call).

The references are counted the same way over the definitions that build that one network:
``keras.applications`` from the installed Keras (``resnet.py``: ResNet, stack1, block1, ResNet50;
``mobilenet_v2.py``: MobileNetV2, _inverted_res_block, _make_divisible; ``vgg16.py``: VGG16), and
torchvision's ``models`` sources from ``--torchvision`` (the folder holding ``torchvision/``, e.g. an
unpacked wheel; torchvision is not installed here: its PyPI wheel is a CUDA build):
``resnet.py``: conv3x3, conv1x1, BasicBlock, Bottleneck, ResNet, _resnet; ``mobilenetv2.py``:
InvertedResidual, MobileNetV2; ``vgg.py``: VGG, make_layers, cfgs, _vgg.  Their functions also
handle options (weights download, include_top, other depths), so they are not minimal either:
the table says what each count covers.
"""
from __future__ import annotations

import argparse
import ast
import io
import json
import sys
import tokenize
from pathlib import Path

GRAPHS = {"resnet50": "config/zoo/reference/resnet50.json", "mobilenet_v2": "config/zoo/mobilenet_v2.json",
          "vgg16": "config/zoo/vgg16.json"}
KERAS_REF = {"resnet50": ("resnet.py", ["ResNet", "stack1", "block1", "ResNet50"]),
             "mobilenet_v2": ("mobilenet_v2.py", ["MobileNetV2", "_inverted_res_block", "_make_divisible"]),
             "vgg16": ("vgg16.py", ["VGG16"])}
TORCHVISION_REF = {"resnet50": ("resnet.py", ["conv3x3", "conv1x1", "BasicBlock", "Bottleneck", "ResNet", "_resnet"]),
                   "mobilenet_v2": ("mobilenetv2.py", ["InvertedResidual", "MobileNetV2"]),
                   "vgg16": ("vgg.py", ["VGG", "make_layers", "cfgs", "_vgg"])}
# what the model alone is in an emitted file: everything but these top-level names
BOILERPLATE = {"INPUTS", "OUTPUTS", "random_inputs", "initial_value", "probabilities"}


def code_lines(source: str, ranges: list[tuple[int, int]] | None = None) -> int:
    """Lines holding code (no blank, comment-only or docstring lines), within ``ranges`` if given."""
    tree = ast.parse(source)
    doc_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                doc_lines.update(range(first.lineno, first.end_lineno + 1))
    lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                        tokenize.ENDMARKER):
            continue
        for line in range(tok.start[0], tok.end[0] + 1):
            if line not in doc_lines:
                lines.add(line)
    if ranges is not None:
        lines = {l for l in lines if any(a <= l <= b for a, b in ranges)}
    return len(lines)


def definition_ranges(source: str, names: list[str] | None = None, exclude: set[str] | None = None,
                      skip_main: bool = False) -> list[tuple[int, int]]:
    """Line ranges of top-level definitions (functions, classes, assignments) by name."""
    out = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            name = node.name
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
        else:
            continue
        if names is not None and name not in names:
            continue
        if exclude is not None and name in exclude:
            continue
        start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        out.append((start, node.end_lineno))
    return out


def emitted_counts(graph_path: str, blocks: bool) -> dict:
    from ..core.graph import load_graph
    from ..emit.codegen import emit, emit_options

    graph = load_graph(graph_path)
    out = {}
    for target in ("pytorch", "keras", "tensorflow"):
        with emit_options(blocks=blocks):
            (name, text), = emit(graph, target).items()
        model = definition_ranges(text, exclude=BOILERPLATE)
        out[target] = {"file": code_lines(text), "model": code_lines(text, model)}
    return out


def reference_counts(torchvision: Path | None) -> dict:
    import os

    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    out: dict = {}
    kdir = Path(keras.__file__).parent / "src" / "applications"
    for net, (fname, names) in KERAS_REF.items():
        src = (kdir / fname).read_text(encoding="utf-8")
        out.setdefault(net, {})["keras.applications"] = {
            "file": code_lines(src), "model": code_lines(src, definition_ranges(src, names)),
            "source": f"keras {keras.__version__} keras/src/applications/{fname}: {', '.join(names)}"}
    if torchvision is not None:
        tdir = Path(torchvision) / "torchvision" / "models"
        version = ""
        vfile = Path(torchvision) / "torchvision" / "version.py"
        if vfile.is_file():
            for line in vfile.read_text().splitlines():
                if line.startswith("__version__"):
                    version = line.split("=", 1)[1].strip().strip("'\"")
        for net, (fname, names) in TORCHVISION_REF.items():
            src = (tdir / fname).read_text(encoding="utf-8")
            out.setdefault(net, {})["torchvision"] = {
                "file": code_lines(src), "model": code_lines(src, definition_ranges(src, names)),
                "source": f"torchvision {version} torchvision/models/{fname}: {', '.join(names)}"}
    return out


def run(torchvision: Path | None = None) -> dict:
    result: dict = {"graphs": {}}
    refs = reference_counts(torchvision)
    for net, path in GRAPHS.items():
        if not Path(path).is_file():          # a trimmed zoo (tests' workflow copies): left out, not failed
            continue
        result["graphs"][net] = {"graph": path, "blocks": emitted_counts(path, True),
                                 "flat": emitted_counts(path, False), "references": refs.get(net, {})}
    return result


def table(result: dict) -> str:
    lines = ["| network | PyTorch (flat -> blocks) | Keras (flat -> blocks) | TensorFlow (flat -> blocks) "
             "| torchvision | keras.applications |", "|---|---:|---:|---:|---:|---:|"]
    for net, r in result["graphs"].items():
        cells = [f"{r['flat'][t]['model']} -> **{r['blocks'][t]['model']}** ({r['blocks'][t]['file']} in the file)"
                 for t in ("pytorch", "keras", "tensorflow")]
        refs = [str(r["references"][k]["model"]) if k in r["references"] else "-"
                for k in ("torchvision", "keras.applications")]
        lines.append(f"| {net} | " + " | ".join(cells + refs) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--torchvision", type=Path, help="folder holding torchvision/ (an unpacked wheel)")
    ap.add_argument("--out", type=Path, default=Path("results/metrics/loc.json"))
    args = ap.parse_args(argv)
    if args.torchvision is not None and not (args.torchvision / "torchvision" / "models").is_dir():
        print(f"error: {args.torchvision} has no torchvision/models folder", file=sys.stderr)
        return 2
    result = run(args.torchvision)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(result), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
