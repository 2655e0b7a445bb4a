"""Reading papers: a PDF's figures and tables, with captions, and the synthetic corpus to measure it.

    from dlpaper2code.paper import open_paper, extract_figures, extract_tables, PaperError
    paper = open_paper("p.pdf", max_pages=200, max_bytes=64 << 20)   # PaperError on bad input
    figs = extract_figures(paper, "out/figures", dpi=150)             # crops + figures.json
    tabs = extract_tables(paper, "out/tables")                        # cells + tables.json

Modules: :mod:`.pdf` (open/validate), :mod:`.layout` (one pdfminer pass per
page -> text segments and graphics; landscape pages in their own frame),
:mod:`.ocr` (scanned pages: Tesseract words, graphics from pixels),
:mod:`.figures`, :mod:`.tables`, :mod:`.table_classify`, :mod:`.table_graph`
(cells -> graph docs), :mod:`.vecfig` (vector block diagrams from the PDF's
paths and text: as a graph of boxes, wires, arrowheads, junctions and colour legends by
:mod:`.vecgraph`, stage by stage from the words of a 3D or stacked drawing by :mod:`.stagefig`,
else as a chain), :mod:`.text_arch` (architectures and named values in the body text), :mod:`.fuse` (table + figure of one model), :mod:`.pipeline`
(PDF -> report, graphs, code), :mod:`.synth` (synthetic papers with ground
truth, scanned copies), scoring lives in :mod:`dlpaper2code.eval.paper_metrics`.
Boxes are PDF points, origin top-left, ``[x0, top, x1, bottom]``.

Layer: may import core, emit, render, simulate, read and figclass (the figure filter).  Inside: ``pdf`` and
``page`` at the bottom, then ``ocr``, ``layout`` and ``common``, then ``tables``,
``table_graph`` and ``synth``, then ``vecgraph`` and ``stagefig``, then ``figures``, ``vecfig``, ``table_classify`` and
``fuse``, and ``pipeline`` on top (the order is a contract in ``pyproject.toml``).
"""
from .figures import extract_figures
from .layout import read_layout
from .pdf import ERROR_KINDS, Paper, PaperError, open_paper, require_text
from .synth import generate_corpus, generate_paper, scan_paper
from .tables import extract_tables

__all__ = ["ERROR_KINDS", "Paper", "PaperError", "open_paper", "require_text", "read_layout", "extract_figures",
           "extract_tables", "generate_paper", "generate_corpus", "scan_paper"]
