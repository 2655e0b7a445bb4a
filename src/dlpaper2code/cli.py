"""Command line: ``dlpaper2code validate | codegen | verify | bench | layers | simulate | bench-simulate | bench-read | render | read-diagram | score-diagrams | paper | serve | import-papers``."""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from .core.atomic import atomic_path, atomic_write_text
from .core.errors import EmitError, GraphError


def _print_shapes(graph) -> None:
    rows = graph.shape_table()
    w_name = max(len("layer"), *(len(r["layer_name"]) for r in rows))
    w_type = max(len("type"), *(len(r["layer_type"]) for r in rows))
    print(f"{'layer':<{w_name}}  {'type':<{w_type}}  output shape  inputs")
    for r in rows:
        shape = "x".join(str(d) for d in r["output_shape"]) + (" (int64)" if r["dtype"] == "int64" else "")
        print(f"{r['layer_name']:<{w_name}}  {r['layer_type']:<{w_type}}  {shape:<12}  {', '.join(r['from_layers'])}")


def cmd_validate(args) -> int:
    from .core.graph import load_graph
    from .emit.weights import parameter_counts

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
                              "parameters": parameter_counts(graph), "layers": graph.shape_table()}))
        else:
            counts = parameter_counts(graph)
            print(f"{path}: valid, {len(graph.nodes)} layers, {counts['trainable']:,} trainable parameters"
                  f" ({counts['non_trainable']:,} non-trainable), outputs {', '.join(graph.outputs)}")
            _print_shapes(graph)
    return status


def cmd_codegen(args) -> int:
    from .emit.codegen import emit_options, write_code
    from .core.graph import load_graph

    failures: dict = {}
    try:
        graph = load_graph(args.graph)
        with emit_options(caffe_version=args.caffe_version, final_softmax=args.final_softmax, blocks=not args.flat):
            paths = write_code(graph, args.target, args.output, partial=args.partial, failures=failures)
    except GraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except EmitError as exc:
        print(f"error: cannot emit: {exc}; nothing was written to {args.output} "
              f"(--partial writes the targets that can be emitted)", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write the code into {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    for p in paths:
        print(p)
    for t, exc in failures.items():
        print(f"error: cannot emit {t}: {exc}", file=sys.stderr)
    return 1 if failures else 0


def _import_options(args) -> dict:
    opts = {}
    if getattr(args, "input_shape", None):
        try:
            opts["input_shape"] = [int(x) for x in args.input_shape.replace("x", ",").split(",") if x.strip()]
        except ValueError:
            raise SystemExit(f"error: --input-shape wants integers like 224,224,3, not {args.input_shape!r}")
    return opts


def cmd_import(args) -> int:
    """Import a Keras, Caffe, ONNX or PyTorch model into a graph (and its weights)."""
    import numpy as np

    from .core.graph import parse_graph
    from .formats import ImportFailure, import_model

    try:
        imported = import_model(args.model, args.fmt, **_import_options(args))
        graph = parse_graph(imported.doc, source=args.model)
    except ImportFailure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except GraphError as exc:
        print(f"error: the imported graph does not validate: {exc}", file=sys.stderr)
        return 1
    atomic_write_text(Path(args.output), json.dumps(imported.doc, indent=1) + "\n")
    print(f"{args.output}: {len(graph.nodes)} layers from {imported.format} ({args.model})")
    if args.weights:
        if imported.weights is None:
            print(f"note: {args.model} holds no weights; {args.weights} not written", file=sys.stderr)
        else:
            with atomic_path(Path(args.weights)) as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(fh, **imported.weights)
            print(f"{args.weights}: {len(imported.weights)} weight arrays (canonical layout)")
    for note in imported.notes:
        print(f"note: {note}")
    return 0


def cmd_convert(args) -> int:
    """Import a model, emit it for one target and check the emitted model against the source's outputs."""
    from .formats import ImportFailure
    from .formats.convert import convert

    try:
        report = convert(args.model, args.to, args.output, args.fmt, verify=not args.no_verify, atol=args.atol,
                         rtol=args.rtol, **_import_options(args))
    except ImportFailure as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (GraphError, EmitError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for note in report.get("notes", []):
        print(f"note: {note}")
    line = f"{args.output}: {report['layers']} layers from {report['format']} -> {args.to}"
    if "max_abs_diff" in report:
        line += (f"; against {report['reference']}: max abs diff {report['max_abs_diff']:.3g}, "
                 f"rel {report['max_rel_diff']:.3g} ({'ok' if report['ok'] else 'FAIL'})")
    elif report.get("compared"):
        line += f"; {report['compared']} ({'ok' if report['ok'] else 'FAIL'})"
    print(line)
    if report.get("error"):
        print(f"error: {report['error']}", file=sys.stderr)
    return 0 if report["ok"] else 1


def cmd_mex(args) -> int:
    """Describe a graph (and its paper report) in the MEX vocabulary; validate it with SHACL."""
    from .formats import mex

    try:
        doc = json.loads(Path(args.graph).read_text(encoding="utf-8"))
        report = json.loads(Path(args.report).read_text(encoding="utf-8")) if args.report else None
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    params = {"targets": list(args.target)} if args.target else {}
    if args.caffe_version:
        params["caffe_version"] = args.caffe_version
    g = mex.describe(doc, report, tool_params=params or None, graph_path=args.graph,
                     name=(report or {}).get("name") or Path(args.graph).stem)
    text = mex.serialize(g, args.format)
    if args.output:
        atomic_write_text(Path(args.output), text)
    else:
        sys.stdout.write(text)
    v = mex.validate(g)
    where = args.output or "stdout"
    if v.conforms:
        print(f"{where}: {len(g)} triples, SHACL valid ({mex.SHAPES_PATH.name})", file=sys.stderr)
        return 0
    print(f"{where}: {len(g)} triples, SHACL: {len(v.messages)} violation(s)", file=sys.stderr)
    for m in v.messages:
        print(f"  {m}", file=sys.stderr)
    return 1


def cmd_verify(args) -> int:
    from .emit.verify import format_report, summarize, verify_graph

    results = []
    for path in args.graphs:
        work = Path(args.work_dir) / Path(path).stem
        r = verify_graph(path, args.targets, work, equivalence=not args.no_equivalence, atol=args.atol, rtol=args.rtol,
                         seed=args.seed, timeout_s=args.timeout, caffe_version=args.caffe_version,
                         training=not args.no_training, lr=args.lr, training_rtol=args.training_rtol)
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
    from .eval.codegen_speed import bench_codegen

    result = bench_codegen(depth=args.depth, repeats=args.repeats)
    for key, value in result.items():
        print(f"{key:32s} {value}")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


def cmd_layers(args) -> int:
    from .core.vocab import load_vocabulary

    vocab = load_vocabulary()
    if args.json:
        print(json.dumps(vocab.to_dict(), indent=1))
        return 0
    for name, spec in vocab.layers.items():
        params = ", ".join(f"{p}={v.default!r}" if not v.required else f"{p} (required)" for p, v in spec.params.items())
        print(f"{name:16s} {params}")
    return 0


def _styles(args) -> dict[str, dict]:
    """Render styles: `render.styles` of the params file (if any), else one per built-in look."""
    import yaml

    from .simulate.dataset import select_styles

    params = Path(args.params)
    defined: dict[str, dict] = {}
    chosen = None
    if params.is_file():
        doc = yaml.safe_load(params.read_text(encoding="utf-8")) or {}
        defined = dict((doc.get("render") or {}).get("styles") or {})
        chosen = (doc.get("simulate") or {}).get("styles")
    elif args.params != DEFAULT_PARAMS:
        raise FileNotFoundError(f"{params}: params file not found")
    if not defined:
        from .render import LOOKS

        defined = {look: {"look": look} for look in LOOKS}
    if args.styles:
        chosen = [s.strip() for s in args.styles.split(",") if s.strip()]
    return select_styles(defined, chosen)


def _depths_and_styles(args) -> tuple[list[int], dict[str, dict]]:
    """--depth and the styles for simulate / bench-simulate; ValueError names the problem."""
    from .simulate.dataset import parse_depths

    if args.count < 1:
        raise ValueError("--count must be >= 1")
    try:
        return parse_depths(args.depth), _styles(args)
    except FileNotFoundError as exc:
        raise ValueError(str(exc)) from exc


def cmd_simulate(args) -> int:
    from .simulate.dataset import ShardOptions, write_shard

    try:
        depths, styles = _depths_and_styles(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    opts = ShardOptions(styles=styles, keras_config=not args.no_keras, caffe=not args.no_caffe)
    models = [(d, i) for d in depths for i in range(args.start, args.start + args.count)]
    stats = write_shard(args.output, models, args.seed, opts,
                        progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    t = stats.seconds["total"]
    print(f"{stats.models} models, {stats.images} images ({', '.join(styles) or 'no styles'}) in {t:.1f} s "
          f"-> {args.output} (manifest.csv, stats.json); rejected draws {stats.draw.rejected}/{stats.draw.attempts}")
    return 0


def _bench_defaults(args) -> dict:
    import yaml

    params = Path(args.params)
    if not params.is_file():
        return {}
    return (yaml.safe_load(params.read_text(encoding="utf-8")) or {}).get("bench_simulate") or {}


def cmd_bench_simulate(args) -> int:
    from .eval.simulate_speed import bench_simulate, format_bench

    try:
        depths, styles = _depths_and_styles(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    full = [s.strip() for s in args.full_styles.split(",")] if args.full_styles else _bench_defaults(args).get("full_styles")
    result = bench_simulate(depths, args.count, args.seed, styles, full_styles=full, cores=args.cores,
                            keras_config=not args.no_keras, caffe=not args.no_caffe)
    print(format_bench(result))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return 0


def cmd_bench_read(args) -> int:
    import tempfile

    from .eval.reader_bench import bench_reader, format_report

    try:
        if args.models < 1:
            raise ValueError("--models must be >= 1")
        depths, styles = _depths_and_styles(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.graphs:
        from .core.graph import load_graph
        from .eval.reader_bench import bench_graph_diagrams

        if args.seeds < 1:
            print("error: --seeds must be >= 1", file=sys.stderr)
            return 2
        for path in args.graphs:            # every graph checked before any is drawn
            try:
                load_graph(path)
            except GraphError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        report = bench_graph_diagrams(args.graphs, args.output, styles=styles, seeds=args.seeds)
        report.pop("rows")
        print(format_report(report), end="")
        print(f"rows: {Path(args.output) / 'rows.csv'}, summary: {Path(args.output) / 'summary.json'}")
        return 0
    with tempfile.TemporaryDirectory(prefix="read_bench_") as scratch:
        report = bench_reader(args.output, models=args.models, seed=args.seed, depths=depths, styles=styles,
                              processes=args.processes, set_dir=args.keep_set or scratch,
                              progress=lambda m: print(m, file=sys.stderr, flush=True))
    report.pop("rows")
    print(format_report(report), end="")
    print(f"rows: {Path(args.output) / 'rows.csv'}, summary: {Path(args.output) / 'summary.json'}")
    return 0


def cmd_bench_real(args) -> int:
    from .eval.realpapers import format_summary, run_benchmark

    if args.processes < 1:
        print("error: --processes must be >= 1", file=sys.stderr)
        return 2
    if args.robustness:
        from .eval.realpapers import run_robustness

        r = run_robustness(args.pdfs, args.output, processes=args.processes, timeout_s=args.timeout,
                           progress=lambda m: print(m, file=sys.stderr, flush=True))
        print(f"{r['pdfs']} PDFs: {r['statuses']}; internal errors {r['internal_errors']}, hangs {r['hangs']}; "
              f"{Path(args.output) / 'robustness.md'}")
        return 1 if r["internal_errors"] or r["hangs"] else 0
    if not Path(args.data, "truth").is_dir():
        print(f"error: {args.data}: no truth/ folder (the benchmark's ground truth)", file=sys.stderr)
        return 2
    result = run_benchmark(args.pdfs, args.output, data_dir=args.data, metrics_path=args.metrics,
                           processes=args.processes, timeout_s=args.timeout, papers=args.paper or None,
                           progress=lambda m: print(m, file=sys.stderr, flush=True))
    if result["status"] != "ok":
        print(result["message"])
        return 0
    print(format_summary(result.pop("rows"), result, args.pdfs), end="")
    print(f"per paper: {Path(args.output) / 'scores.json'}, table: {Path(args.output) / 'summary.md'}")
    return 0


def cmd_render(args) -> int:
    from .core.graph import load_graph
    from .render import render_diagram

    try:
        graph = load_graph(args.graph)
        styles = _styles(args)
        if args.style not in styles:
            raise ValueError(f"unknown style {args.style!r}; defined: {sorted(styles)}")
        knobs = dict(styles[args.style])
        for item in args.set or []:
            key, _, value = item.partition("=")
            if not _:
                raise ValueError(f"--set {item!r}: expected KNOB=VALUE")
            import yaml

            knobs[key.strip()] = yaml.safe_load(value)
        gt = render_diagram(graph, knobs, args.output, seed=args.seed)
    except GraphError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    gt_path = Path(args.ground_truth) if args.ground_truth else Path(args.output).with_suffix(".json")
    gt_path.write_text(json.dumps(gt, indent=1) + "\n", encoding="utf-8")
    print(f"{args.output}: {gt['width']}x{gt['height']} px, {len(gt['nodes'])} nodes, {len(gt['edges'])} edges; "
          f"ground truth {gt_path}")
    return 0


def cmd_read_diagram(args) -> int:
    from .read import read_diagram

    out = Path(args.output)
    many = len(args.images) > 1
    if many:
        out.mkdir(parents=True, exist_ok=True)
    status = 0
    for image in args.images:
        result = read_diagram(image)            # never raises on bad input: status + message
        target = out / f"{Path(image).stem}.json" if many else out
        if result["status"] == "ok" and result.get("graph"):
            atomic_write_text(target, json.dumps(result["graph"], indent=1) + "\n")
            if args.details:
                Path(args.details if not many else out / f"{Path(image).stem}.read.json").write_text(
                    json.dumps({k: v for k, v in result.items() if k != "graph"}, indent=1) + "\n", encoding="utf-8")
            layers = result["graph"]["layers"]
            edges = sum(len(l.get("from_layers", [])) for l in layers)
            print(f"{image}: {len(layers)} layers, {edges} edges -> {target}")
        else:
            status = 1
            print(f"{image}: {result['status']}: {result.get('message', '')}", file=sys.stderr)
    return status


def cmd_score_diagrams(args) -> int:
    from .eval.reader_flow import format_summary, score_shard, summarize, write_rows

    rows = []
    for shard in args.shards:
        if not (Path(shard) / "manifest.csv").is_file():
            print(f"error: {shard}: no manifest.csv (a folder written by `dlpaper2code simulate`)", file=sys.stderr)
            return 2
        rows.extend(score_shard(shard, args.styles.split(",") if args.styles else None))
    if args.output:
        write_rows(rows, args.output)
    print(format_summary(summarize(rows)), end="")
    return 0


ARXIV_URL = "https://arxiv.org/pdf/{id}"


def fetch_arxiv(arxiv_id: str, dest_dir: Path, url_template: str | None = None, timeout: float = 60) -> Path:
    """Download an arXiv paper's PDF (the URL template is overridable: DLPAPER2CODE_ARXIV_URL)."""
    import os
    import re
    import urllib.error
    import urllib.request

    if not re.fullmatch(r"(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})(v\d+)?", arxiv_id):
        raise ValueError(f"{arxiv_id!r} is not an arXiv identifier (e.g. 1409.1556 or cs/0112017)")
    url = (url_template or os.environ.get("DLPAPER2CODE_ARXIV_URL") or ARXIV_URL).format(id=arxiv_id)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / f"{arxiv_id.replace('/', '_')}.pdf"
    try:
        with atomic_path(dest) as tmp, urllib.request.urlopen(url, timeout=timeout) as resp, open(tmp, "wb") as fh:
            shutil.copyfileobj(resp, fh)
    except (urllib.error.URLError, OSError) as exc:
        raise ValueError(f"cannot download arXiv {arxiv_id} from {url}: {exc}") from exc
    return dest


def cmd_paper(args) -> int:
    from .emit.codegen import expand_targets
    from .figclass.classify import ClassifierMissing, default_model
    from .paper.options import PaperOptions
    from .paper.pipeline import process_paper

    if bool(args.pdf) == bool(args.arxiv):
        print("error: give a PDF or --arxiv ID (one of them)", file=sys.stderr)
        return 2
    try:
        targets = expand_targets(args.target)
        pdf = Path(args.pdf) if args.pdf else fetch_arxiv(args.arxiv, Path(args.output).parent / "downloads")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    model = args.figure_classifier
    if model is None and not args.no_classifier:
        model = default_model() or None
    flags = {"targets": targets, "dpi": args.dpi, "max_pages": args.max_pages, "max_mb": args.max_mb,
             "read_figures": not args.no_figures, "read_text": not args.no_text, "ocr": not args.no_ocr, "max_ocr_pages": args.max_ocr_pages,
             "password": args.password, "figure_classifier": "" if args.no_classifier else (model or ""),
             "figure_min_probability": args.figure_min_probability, "model": args.model}
    # a flag left out keeps PaperOptions' default (the parser's defaults are None)
    options = PaperOptions(**{k: v for k, v in flags.items() if v is not None})
    try:
        report = process_paper(pdf, args.output, options)
    except ClassifierMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if report["status"] == "failed":
        print(f"error: {report['message']}", file=sys.stderr)
        return 1
    graphs = report.get("graphs", [])
    print(f"{pdf}: {report['pages']} page(s), {len(report.get('figures', []))} figure(s), "
          f"{len(report.get('tables', []))} table(s), {sum(g['valid'] for g in graphs)} valid graph(s) "
          f"-> {args.output}/report.html")
    return 0 if report["status"] == "ok" else 1


DEFAULT_PARAMS = "params.yaml"
CAFFE_VERSION_HELP = ("the Caffe the prototxt must load in: 1.0 (BVLC Caffe's last release, the default) or master "
                      "(also pooling's round_mode: FLOOR and the Clip and Swish layers, added in 2018)")


def build_parser() -> argparse.ArgumentParser:
    from .emit.codegen import TARGETS

    ap = argparse.ArgumentParser(prog="dlpaper2code", description="Model graph -> verified PyTorch, Keras 3, TensorFlow and Caffe code.")
    sub = ap.add_subparsers(dest="command", required=True)
    from .web.cli import add_parser as add_web_parsers

    add_web_parsers(sub)          # serve, import-papers (dlpaper2code.web)
    from .figclass.classify import DEFAULT_MODEL as DEFAULT_FIGURE_CLASSIFIER, add_parser as add_classify_parser

    add_classify_parser(sub)      # classify-figure (dlpaper2code.figclass)

    p = sub.add_parser("validate", help="validate graph JSON files and print each layer's output shape")
    p.add_argument("graphs", nargs="+")
    p.add_argument("--json", action="store_true", help="machine-readable output, one JSON object per graph")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("codegen", help="emit framework code for a graph")
    p.add_argument("graph")
    p.add_argument("--target", "-t", default="all", help=f"{', '.join(TARGETS)}, all, or a comma-separated list")
    p.add_argument("--output", "-o", required=True, help="output folder")
    p.add_argument("--partial", action="store_true",
                   help="write the targets that can be emitted and report the others (default: all or nothing)")
    p.add_argument("--caffe-version", choices=["1.0", "master"], default="1.0", help=CAFFE_VERSION_HELP)
    p.add_argument("--final-softmax", choices=["separate", "inside"], default="separate",
                   help="separate (default): the Python models return logits and the file's probabilities() applies "
                        "the output softmax; inside: the models return probabilities")
    p.add_argument("--flat", action="store_true",
                   help="write every layer out in the model (default: a class or function per block, a loop per run "
                        "of equal blocks)")
    p.set_defaults(func=cmd_codegen)

    p = sub.add_parser("import", help="import a Keras, Caffe, ONNX or PyTorch model into a graph JSON (and weights)")
    p.add_argument("model", help="the model file (.keras, .json from model.to_json(), .prototxt, .onnx) or, for "
                                 "PyTorch, module.path:Class or file.py:Class")
    p.add_argument("--output", "-o", required=True, help="the graph JSON to write")
    p.add_argument("--from", dest="fmt", default=None, help="the format, when the file name does not say it")
    p.add_argument("--weights", default=None, help="also write the model's weights here (.npz, canonical layout)")
    p.add_argument("--input-shape", default=None,
                   help="PyTorch: the example input's per-sample shape, channels last (e.g. 224,224,3)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("convert", help="import a model, emit it for another framework and compare it with the source's outputs")
    p.add_argument("model", help="the model file (as for import)")
    p.add_argument("--to", required=True, help="the target: pytorch, keras, tensorflow, caffe or onnx")
    p.add_argument("--output", "-o", required=True, help="the folder to write (graph.json, weights.npz, code/, report.json)")
    p.add_argument("--from", dest="fmt", default=None, help="the format, when the file name does not say it")
    p.add_argument("--input-shape", default=None, help="PyTorch: the example input's per-sample shape, channels last")
    p.add_argument("--no-verify", action="store_true", help="only import and emit")
    p.add_argument("--atol", type=float, default=1e-4)
    p.add_argument("--rtol", type=float, default=1e-5)
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("mex", help="describe a graph (and its paper) in the MEX vocabulary (RDF), SHACL-validated")
    p.add_argument("graph", help="the graph JSON (any graph; results/papers/<paper>/graph.json for a paper)")
    p.add_argument("--output", "-o", default=None, help="the file to write (default: stdout)")
    p.add_argument("--format", choices=["turtle", "json-ld"], default="turtle")
    p.add_argument("--report", default=None, help="the paper's report.json (the paper, pages, sources, measures)")
    p.add_argument("--target", action="append", default=None, help="a framework target (tool parameter; repeat)")
    p.add_argument("--caffe-version", default=None, help="the Caffe version (tool parameter)")
    p.set_defaults(func=cmd_mex)

    p = sub.add_parser("verify", help="emit, build and run every target; compare shapes and outputs")
    p.add_argument("graphs", nargs="+")
    p.add_argument("--targets", default="all")
    p.add_argument("--work-dir", default="results/verify/work")
    p.add_argument("--no-equivalence", action="store_true", help="skip the same-weights output comparison")
    p.add_argument("--no-training", action="store_true",
                   help="skip the training check (one SGD step from the same weights in every framework)")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate of the training check's SGD step")
    p.add_argument("--training-rtol", type=float, default=0.1,
                   help="updated weights agree within atol + this x the largest update lr x gradient in the model")
    p.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance of the cross-framework comparison")
    p.add_argument("--rtol", type=float, default=1e-5,
                   help="tolerance relative to each output's largest magnitude (float32 rounding grows with it)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--json-out", help="write the full report here")
    p.add_argument("--caffe-version", choices=["1.0", "master"], default="1.0", help=CAFFE_VERSION_HELP)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("bench", help="time validation and code emission for a deep graph")
    p.add_argument("--depth", type=int, default=40)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--out", help="also write the numbers as JSON")
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("simulate", help="draw grammar models and write their diagrams with pixel ground truth")
    p.add_argument("--depth", default="5-40", help="depth, range or list: 12, 5-40, 5,10,20 (default 5-40)")
    p.add_argument("--count", type=int, default=1, help="models per depth")
    p.add_argument("--start", type=int, default=0, help="first model index (to extend a set)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", "-o", required=True, help="output folder (one sub-folder per model)")
    p.add_argument("--styles", help="comma-separated style names (default: simulate.styles of the params file)")
    p.add_argument("--params", default=DEFAULT_PARAMS, help="params file with render.styles (default params.yaml, if present)")
    p.add_argument("--no-keras", action="store_true", help="skip the Keras model config (the slowest part)")
    p.add_argument("--no-caffe", action="store_true", help="skip the Caffe prototxt")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("bench-simulate", help="time the simulated-dataset pipeline and project the full run")
    p.add_argument("--depth", default="5,10,15,20,25,30,35,40")
    p.add_argument("--count", type=int, default=5, help="models per depth")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--styles", help="comma-separated style names (default: simulate.styles of the params file)")
    p.add_argument("--full-styles", help="styles of the projected full run (default: bench_simulate.full_styles "
                   "of the params file, else all benchmarked)")
    p.add_argument("--cores", type=int, default=16, help="cores of the projected full run")
    p.add_argument("--params", default=DEFAULT_PARAMS)
    p.add_argument("--no-keras", action="store_true")
    p.add_argument("--no-caffe", action="store_true")
    p.add_argument("--out", help="also write the numbers as JSON")
    p.set_defaults(func=cmd_bench_simulate)

    p = sub.add_parser("bench-read", help="read and score a held-back simulated set per style (accuracy, seconds)")
    p.add_argument("--models", type=int, default=1008, help="models, each drawn in every style (default 1008)")
    p.add_argument("--depth", default="5-40", help="depths in turn (default 5-40)")
    p.add_argument("--seed", type=int, default=1000, help="held back: not the workflow's simulate.seed (default 1000)")
    p.add_argument("--styles", help="comma-separated style names (default: simulate.styles of the params file)")
    p.add_argument("--params", default=DEFAULT_PARAMS)
    p.add_argument("--processes", type=int, default=1, help="reader processes, one core each")
    p.add_argument("--keep-set", metavar="DIR", help="write the images here and keep them (default: a temp folder)")
    p.add_argument("--output", "-o", default="results/read_bench", help="rows.csv and summary.json go here")
    p.add_argument("--graphs", nargs="+", metavar="GRAPH", help="instead of the simulated set: draw these graph files "
                   "(e.g. the layer types the grammar does not use, tests/graphs/*.json) in every style and read them")
    p.add_argument("--seeds", type=int, default=2, help="with --graphs: renders per graph and style (default 2)")
    p.set_defaults(func=cmd_bench_read, count=1)

    p = sub.add_parser("bench-real", help="run the paper route on the real-paper benchmark and score it "
                                          "against the hand-written truth (data/realpapers)")
    p.add_argument("--pdfs", required=True, help="folder of <paper>.pdf files (data/realpapers/README.md: how to "
                                                 "get them)")
    p.add_argument("--data", default="data/realpapers", help="truth/, tables/ and sources.tsv (default: %(default)s)")
    p.add_argument("-o", "--output", default="results/realpapers", help="output folder (default: %(default)s)")
    p.add_argument("--metrics", default=None, help="also write the summary as a JSON metric here")
    p.add_argument("--processes", type=int, default=1, help="papers run at once (default: %(default)s)")
    p.add_argument("--timeout", type=float, default=600, help="seconds one paper may take (default: %(default)s)")
    p.add_argument("--paper", action="append", help="only this paper (repeatable)")
    p.add_argument("--robustness", action="store_true", help="run every PDF of --pdfs unscored: statuses, internal "
                                                             "errors, hangs, slowest pages (robustness.md)")
    p.set_defaults(func=cmd_bench_real)

    p = sub.add_parser("render", help="draw a graph as a Keras- or Caffe-style diagram (PNG + pixel ground truth)")
    p.add_argument("graph")
    p.add_argument("--style", default="keras3", help="a style of render.styles (params file) or a look")
    p.add_argument("--set", action="append", metavar="KNOB=VALUE", help="override a knob, e.g. --set rankdir=LR")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--params", default=DEFAULT_PARAMS)
    p.add_argument("--output", "-o", required=True, help="PNG file")
    p.add_argument("--ground-truth", help="JSON file (default: next to the PNG)")
    p.set_defaults(func=cmd_render, styles=None)

    p = sub.add_parser("read-diagram", help="read a box diagram image (PNG, JPEG...) into a model graph")
    p.add_argument("images", nargs="+")
    p.add_argument("--output", "-o", required=True, help="graph JSON (one image) or a folder (several)")
    p.add_argument("--details", help="also write nodes, edges, OCR text and timings here (one image)")
    p.set_defaults(func=cmd_read_diagram)

    p = sub.add_parser("score-diagrams", help="read every diagram of simulated folders and score it")
    p.add_argument("shards", nargs="+", help="folders written by `dlpaper2code simulate`")
    p.add_argument("--styles", help="comma-separated styles to score (default: all)")
    p.add_argument("--output", "-o", help="per-image scores as CSV")
    p.set_defaults(func=cmd_score_diagrams)

    p = sub.add_parser("paper", help="a paper PDF -> figures, tables, model graphs, code and an HTML report")
    p.add_argument("pdf", nargs="?")
    p.add_argument("--arxiv", help="download this arXiv paper first (e.g. 1409.1556)")
    p.add_argument("--output", "-o", required=True, help="output folder")
    p.add_argument("--target", "-t", default="all", help="code targets (default all)")
    # no defaults here: a flag left out keeps PaperOptions' default (dlpaper2code.paper.options)
    p.add_argument("--dpi", type=int, help="figure crops (default 150)")
    p.add_argument("--max-pages", type=int, help="longer PDFs are refused (default 200)")
    p.add_argument("--max-mb", type=float, help="larger PDFs are refused (default 64)")
    p.add_argument("--no-figures", action="store_true", help="do not pass figures to the diagram reader")
    p.add_argument("--no-text", action="store_true", help="do not read architectures stated in the body text")
    p.add_argument("--no-ocr", action="store_true", help="refuse pages without a text layer instead of OCR")
    p.add_argument("--max-ocr-pages", type=int, help="scanned pages read by OCR (default 30)")
    p.add_argument("--model", help="offer this graph candidate as graph.json (its name or configuration, e.g. "
                                   "'Swin-S'); default: the best ranked (report.json: candidates_ranked)")
    p.add_argument("--password", help="user password of an encrypted PDF")
    p.add_argument("--figure-classifier", metavar="MODEL", help="figure classifier that picks the figures to read "
                   f"(default {DEFAULT_FIGURE_CLASSIFIER} when present, made by the figclass stage)")
    p.add_argument("--figure-min-probability", type=float,
                   help="skip a figure when the classifier's P(architecture) is below this (default 0.2)")
    p.add_argument("--no-classifier", action="store_true", help="try every figure")
    p.set_defaults(func=cmd_paper)

    p = sub.add_parser("layers", help="list the layer vocabulary")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_layers)
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
