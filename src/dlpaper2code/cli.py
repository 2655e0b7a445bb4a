"""Command line: ``dlpaper2code validate | codegen | verify | bench | layers``."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .errors import EmitError, GraphError


def _print_shapes(graph) -> None:
    rows = graph.shape_table()
    w_name = max(len("layer"), *(len(r["layer_name"]) for r in rows))
    w_type = max(len("type"), *(len(r["layer_type"]) for r in rows))
    print(f"{'layer':<{w_name}}  {'type':<{w_type}}  output shape  inputs")
    for r in rows:
        shape = "x".join(str(d) for d in r["output_shape"]) + (" (int64)" if r["dtype"] == "int64" else "")
        print(f"{r['layer_name']:<{w_name}}  {r['layer_type']:<{w_type}}  {shape:<12}  {', '.join(r['from_layers'])}")


def cmd_validate(args) -> int:
    from .graph import load_graph

    status = 0
    for path in args.graphs:
        try:
            graph = load_graph(path)
        except GraphError as exc:
            status = 1
            if args.json:
                print(json.dumps({"graph": path, "ok": False, "issues": [i.to_dict() for i in exc.issues]}))
            else:
                print(f"{path}: INVALID, {len(exc.issues)} problem(s)", file=sys.stderr)
                for issue in exc.issues:
                    print(f"  - {issue}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"graph": path, "ok": True, "name": graph.name, "outputs": graph.outputs,
                              "layers": graph.shape_table()}))
        else:
            print(f"{path}: valid, {len(graph.nodes)} layers, outputs {', '.join(graph.outputs)}")
            _print_shapes(graph)
    return status


def cmd_codegen(args) -> int:
    from .codegen import write_code
    from .graph import load_graph

    try:
        graph = load_graph(args.graph)
        paths = write_code(graph, args.target, args.output)
    except GraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except EmitError as exc:
        print(f"error: cannot emit: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


def cmd_verify(args) -> int:
    from .verify import format_report, summarize, verify_graph

    results = []
    for path in args.graphs:
        work = Path(args.work_dir) / Path(path).stem
        r = verify_graph(path, args.targets, work, equivalence=not args.no_equivalence, atol=args.atol,
                         seed=args.seed, timeout_s=args.timeout)
        results.append(r)
        if not r["ok"]:
            for t, tr in r.get("targets", {}).items():
                if tr.get("error"):
                    print(f"{r['graph']} [{t}]: {tr['error']}", file=sys.stderr)
            if r.get("error"):
                print(f"{path}: {r['error']}", file=sys.stderr)
    print(format_report(results), end="")
    metrics = summarize(results)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"metrics": metrics, "results": results}, indent=1))
    print(json.dumps(metrics))
    return 0 if all(r["ok"] for r in results) else 1


def cmd_bench(args) -> int:
    from .bench import bench_codegen

    result = bench_codegen(depth=args.depth, repeats=args.repeats)
    for key, value in result.items():
        print(f"{key:32s} {value}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


def cmd_layers(args) -> int:
    from .vocab import load_vocabulary

    vocab = load_vocabulary()
    if args.json:
        print(json.dumps(vocab.to_dict(), indent=1))
        return 0
    for name, spec in vocab.layers.items():
        params = ", ".join(f"{p}={v.default!r}" if not v.required else f"{p} (required)" for p, v in spec.params.items())
        print(f"{name:16s} {params}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .codegen import TARGETS

    ap = argparse.ArgumentParser(prog="dlpaper2code", description="Model graph -> verified PyTorch, Keras 3, TensorFlow and Caffe code.")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="validate graph JSON files and print each layer's output shape")
    p.add_argument("graphs", nargs="+")
    p.add_argument("--json", action="store_true", help="machine-readable output, one JSON object per graph")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("codegen", help="emit framework code for a graph")
    p.add_argument("graph")
    p.add_argument("--target", "-t", default="all", help=f"{', '.join(TARGETS)}, all, or a comma-separated list")
    p.add_argument("--output", "-o", required=True, help="output folder")
    p.set_defaults(func=cmd_codegen)

    p = sub.add_parser("verify", help="emit, build and run every target; compare shapes and outputs")
    p.add_argument("graphs", nargs="+")
    p.add_argument("--targets", default="all")
    p.add_argument("--work-dir", default="results/verify/work")
    p.add_argument("--no-equivalence", action="store_true", help="skip the same-weights output comparison")
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--json-out", help="write the full report here")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("bench", help="time validation and code emission for a deep graph")
    p.add_argument("--depth", type=int, default=40)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", help="also write the numbers as JSON")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("layers", help="list the layer vocabulary")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_layers)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
