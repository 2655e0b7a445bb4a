"""The table of results a workflow run produced (``make run`` ends with it).

Reads the metrics files of ``results/`` (``results/metrics/*.json`` and the figure
classifier's ``results/figclass/classifier.json``) and prints one line per headline
result; a file or key that is missing (a stage not run, a different version) only
drops its line.  Usage::

    python -m dlpaper2code.workflow.report [--results results] [--format markdown|plain]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Callable

Row = tuple[str, str, str]  # (result, value, source file)


def _pct(x: Any) -> str:
    return f"{100 * float(x):.1f}%"


def _verify(m: dict) -> list[tuple[str, str]]:
    rows = [("Reference graphs: built, ran and matched in every framework",
             f"{m['graphs_ok']} of {m['graphs']}")]
    if "training_ok" in m:
        rows.append(("Reference graphs: one training step matched", f"{m['training_ok']} of {m['graphs']}"))
    return rows


def _simulate(m: dict) -> list[tuple[str, str]]:
    return [("Simulated dataset", f"{m['models']} models, {m['images']} diagrams")]


def _read(m: dict) -> list[tuple[str, str]]:
    a = m["all"]
    return [("Diagram reader: exact graphs", f"{_pct(a['exact_share'])} of {a['images']} diagrams"),
            ("Diagram reader: layers / edges / hyper-parameters right",
             f"{_pct(a['layer_accuracy'])} / {_pct(a['edge_accuracy'])} / {_pct(a['hparam_accuracy'])}")]


def _papers(m: dict) -> list[tuple[str, str]]:
    rows = [("Synthetic papers processed", f"{m['ok']} of {m['papers']} ({m['failed']} failed)")]
    if "layer_sequence_accuracy_mean" in m:
        rows.append(("Synthetic papers: layer-sequence accuracy (mean)", _pct(m["layer_sequence_accuracy_mean"])))
    if "figure_recall" in m and "table_recall" in m:
        rows.append(("Synthetic papers: figure / table recall",
                     f"{_pct(m['figure_recall'])} / {_pct(m['table_recall'])}"))
    return rows


def _classifier(m: dict) -> list[tuple[str, str]]:
    name = f"{m['backbone']} + {m['classifier']}"
    rows = [(f"Figure classifier ({name}): six classes, test accuracy",
             f"{_pct(m['test_accuracy_six_class'])} of {m['tested_on']} figures")]
    if "test_accuracy_coarse" in m:
        rows.append((f"Figure classifier ({name}): architecture figure or not", _pct(m["test_accuracy_coarse"])))
    return rows


def _realpapers(m: dict) -> list[tuple[str, str]]:
    if m.get("status") != "ok":
        return [("Real-paper benchmark", f"not run ({m.get('status', '?')}): see results/realpapers/summary.md")]
    a = m["all"]
    rows = [("Real-paper benchmark: papers", str(m["papers"])),
            ("Real-paper benchmark: layer accuracy, best / primary graph",
             f"{_pct(a['best_layer_accuracy'])} / {_pct(a['primary_layer_accuracy'])}"),
            ("Real-paper benchmark: papers with a valid graph", f"{a['with_valid_graph']} of {a['papers']}")]
    speed = m.get("speed") or {}
    if speed.get("seconds_per_page_median") is not None:
        rows.append(("Real-paper benchmark: seconds per page (median)", str(speed["seconds_per_page_median"])))
    return rows


def _mex(m: dict) -> list[tuple[str, str]]:
    return [("MEX descriptions passing SHACL", f"{m['valid']} of {m['papers']} papers")]


def _codegen_bench(m: dict) -> list[tuple[str, str]]:
    return [("Code generation: edit to code in all frameworks (median)", f"{m['edit_to_all_code_ms_median']} ms "
             f"({m['layers']} layers)")]


def _read_bench(m: dict) -> list[tuple[str, str]]:
    a = m.get("all", m)
    return [("Reader benchmark (held-back set): exact graphs", f"{_pct(a['exact_share'])} of {a['images']} diagrams")]


# (file under results/, reader): the order of the table
SOURCES: list[tuple[str, Callable[[dict], list[tuple[str, str]]]]] = [
    ("metrics/verify.json", _verify),
    ("metrics/simulate.json", _simulate),
    ("metrics/read.json", _read),
    ("metrics/papers.json", _papers),
    ("figclass/classifier.json", _classifier),
    ("metrics/realpapers.json", _realpapers),
    ("metrics/mex.json", _mex),
    ("metrics/codegen_bench.json", _codegen_bench),
    ("metrics/read_bench.json", _read_bench),
]


def collect(results: str | Path = "results") -> tuple[list[Row], list[str]]:
    """The table's rows and a note per metrics file that could not be read."""
    results = Path(results)
    rows: list[Row] = []
    notes: list[str] = []
    for rel, reader in SOURCES:
        path = results / rel
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            got = reader(data)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            notes.append(f"{path}: not summarised ({type(exc).__name__}: {exc})")
            continue
        rows += [(label, value, str(path)) for label, value in got]
    return rows, notes


def format_table(rows: list[Row], fmt: str = "markdown") -> str:
    if fmt == "plain":
        width = max((len(r[0]) for r in rows), default=0)
        return "".join(f"  {label:<{width}}  {value}\n" for label, value, _ in rows)
    lines = ["| result | value | from |", "|---|---|---|"]
    lines += [f"| {label} | {value} | {src} |" for label, value, src in rows]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlpaper2code.workflow.report",
                                 description="Print the table of results a workflow run produced.")
    ap.add_argument("--results", default="results", help="the results folder (default: results)")
    ap.add_argument("--format", choices=("markdown", "plain"), default="markdown")
    args = ap.parse_args(argv)
    rows, notes = collect(args.results)
    if not rows:
        print(f"no results in {args.results}/metrics yet: run `make run`", file=sys.stderr)
        return 1
    sys.stdout.write(format_table(rows, args.format))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
