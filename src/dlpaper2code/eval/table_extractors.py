"""Table extractors side by side on the real-paper benchmark's architecture tables.

For every table labelled ``architecture`` in ``data/realpapers/tables/`` whose paper's PDF is
at hand, each extractor reads that page; every table it returns goes through the same
:func:`dlpaper2code.paper.table_graph.table_to_graphs`, and the best graph is scored against
the paper's truth (main model and variants) with the benchmark's layer accuracy.  So the
extractors are compared on what matters downstream: the model recovered from their cells.

Extractors: ours (:func:`dlpaper2code.paper.tables.extract_tables`), pdfplumber's table finder
(``lines`` strategy, its default, and ``text``), camelot's ``stream`` mode.  pdfplumber and
camelot are optional (``pip install .[compare]``); a missing one is reported, not skipped
silently.

    python -m dlpaper2code.eval.table_extractors --pdfs data/realpapers/pdfs [-o results/realpapers]
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

from ..core.atomic import atomic_write_text
from .realpapers import caption_key, load_truth, score_graph


@functools.lru_cache(maxsize=2)
def _our_tables(pdf: Path) -> list[dict]:
    """Our extractor reads the whole paper once, however many of its tables are compared."""
    from ..paper import extract_tables

    return extract_tables(pdf)


def _ours(pdf: Path, page: int, label: dict):
    tabs = _our_tables(pdf)
    want = caption_key(label.get("caption", ""))
    same = [t for t in tabs if t["page"] == page and caption_key(t.get("caption", "")) == want]
    return [t["cells"] for t in (same or [t for t in tabs if t["page"] == page])]


def _plumber(strategy: str):
    def run(pdf: Path, page: int, label: dict):
        import pdfplumber

        settings = {} if strategy == "lines" else {"vertical_strategy": "text", "horizontal_strategy": "text"}
        with pdfplumber.open(str(pdf)) as doc:
            return [[[c or "" for c in row] for row in t.extract()] for t in doc.pages[page - 1].find_tables(settings)]
    return run


def _camelot(pdf: Path, page: int, label: dict):
    import camelot

    return [t.df.values.tolist() for t in camelot.read_pdf(str(pdf), pages=str(page), flavor="stream")]


EXTRACTORS = {"ours": _ours, "pdfplumber-lines": _plumber("lines"), "pdfplumber-text": _plumber("text"),
              "camelot-stream": _camelot}


def compare(pdf_dir: Path, data_dir: Path) -> dict:
    from ..paper.table_graph import table_to_graphs

    truth = load_truth(data_dir / "truth")
    rows = []
    for lab_file in sorted((data_dir / "tables").glob("*.json")):
        paper = lab_file.stem
        pdf = pdf_dir / f"{paper}.pdf"
        if not pdf.is_file() or paper not in truth:
            continue
        for label in json.loads(lab_file.read_text(encoding="utf-8"))["tables"]:
            if label["label"] != "architecture":
                continue
            row = {"paper": paper, "page": label["page"], "caption": label["caption"][:50]}
            for name, fn in EXTRACTORS.items():
                t0 = time.perf_counter()
                try:
                    tables = fn(pdf, label["page"], label)
                except ImportError as exc:
                    row[name] = {"error": f"not installed ({exc.name})"}
                    continue
                except Exception as exc:  # noqa: BLE001 - an extractor failing on a real page is a result
                    row[name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
                    continue
                best = 0.0
                for cells in tables:
                    try:
                        docs = table_to_graphs({"cells": cells})
                    except Exception:  # noqa: BLE001 - cells our converter cannot take score 0
                        continue
                    for d in docs:
                        for t in truth[paper].values():
                            best = max(best, score_graph(t, d)["layer_acc"])
                row[name] = {"tables": len(tables), "layer_acc": round(best, 4),
                             "seconds": round(time.perf_counter() - t0, 3)}
            rows.append(row)
    summary = {}
    for name in EXTRACTORS:
        ok = [r[name] for r in rows if "layer_acc" in r.get(name, {})]
        summary[name] = {"tables": len(rows), "ran": len(ok),
                         "found_any": sum(1 for r in ok if r["tables"]),
                         "mean_layer_acc": round(sum(r["layer_acc"] for r in ok) / len(rows), 4) if rows else None,
                         "errors": sorted({r[name]["error"] for r in rows if "error" in r.get(name, {})})[:3]}
    return {"summary": summary, "rows": rows}


def format_compare(result: dict) -> str:
    lines = ["| extractor | architecture tables | found a table on the page | mean layer accuracy of the best graph |",
             "|---|---:|---:|---:|"]
    for name, s in result["summary"].items():
        acc = "—" if s["mean_layer_acc"] is None or not s["ran"] else f"{100 * s['mean_layer_acc']:.0f}%"
        note = f" ({'; '.join(s['errors'])})" if s["errors"] else ""
        lines.append(f"| {name}{note} | {s['tables']} | {s['found_any']} | {acc} |")
    lines += ["", "| paper | page | " + " | ".join(result["summary"]) + " |",
              "|---|---:|" + "---:|" * len(result["summary"])]
    for r in result["rows"]:
        cells = [f"{100 * r[n]['layer_acc']:.0f}%" if "layer_acc" in r.get(n, {}) else "error" for n in result["summary"]]
        lines.append(f"| {r['paper']} | {r['page']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlpaper2code.eval.table_extractors", description=__doc__.split("\n")[0])
    ap.add_argument("--pdfs", required=True, type=Path)
    ap.add_argument("--data", default=Path("data/realpapers"), type=Path)
    ap.add_argument("-o", "--output", default=Path("results/realpapers"), type=Path)
    a = ap.parse_args(argv)
    result = compare(a.pdfs, a.data)
    text = format_compare(result)
    atomic_write_text(a.output / "table_extractors.md", "# Table extractors on the benchmark's architecture "
                      "tables\n\n" + text)
    atomic_write_text(a.output / "table_extractors.json", json.dumps(result, indent=1) + "\n")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
