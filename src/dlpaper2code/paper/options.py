"""The paper route's options: every setting a user can give :func:`.pipeline.process_paper`, in one object.

``PaperOptions()`` is the route's defaults; the command line (``dlpaper2code paper``) builds one
from its flags, the workflow (``workflow/scripts/paper.py``) from the ``paper`` section of
``params.yaml`` with :meth:`PaperOptions.from_params`, and the website's job runner uses its own.
A new option is a field here (with its default) and, for the workflow, a key of
``config/params.schema.yaml`` and ``params.yaml``; the callers pass the object on whole.

Fields
------
Opening the PDF
    ``max_pages`` / ``max_mb`` (a longer or larger PDF is refused, ``max_mb=None``: no size
    limit), ``password`` (the user password of an encrypted PDF).
Scanned pages
    ``ocr`` (read pages without a text layer with Tesseract), ``ocr_dpi`` (their rendering),
    ``max_ocr_pages`` (scanned pages read per paper; the rest are listed as unread).
Figures and tables
    ``dpi`` (crops and page renderings), ``read_figures`` (pass figures to the diagram reader),
    ``figure_classifier`` (path of the trained figure classifier that picks the figures to read;
    ``""``: every figure is tried), ``figure_min_probability`` (a figure is skipped when the
    classifier's P(architecture) is below this), ``figure_filter`` (a hook
    ``(fig, crop_png) -> bool | (bool, reason)`` used instead of the classifier; code, not a
    parameter), ``min_figure_layers`` (a figure counts as a diagram with at least this many
    layers), ``fuse_ratio`` (share of matching layers for a table and a figure to describe the
    same model), ``figure_ocr`` (the engine that reads the words of raster figures: ``rapidocr``
    or ``tesseract``, :func:`.ocr.figure_words`).
Body text
    ``read_text`` (architectures stated in the text: layer chains in the paper's notation and
    sentences that state layers, :mod:`.text_arch`).
Outputs
    ``model`` (the graph candidate offered as ``graph.json``, by name or configuration, as
    ``dlpaper2code paper --model NAME``; empty: the best ranked, :mod:`.primary`), ``targets``
    (code targets; empty: every target), ``render_graphs`` (draw each graph as a PNG),
    ``page_images`` (small page images with the found figures and tables outlined).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ..emit.codegen import TARGETS

#: Keys of params.yaml's ``paper`` section that are not options of the route: the corpus rule's
#: and the summary rule's (:meth:`PaperOptions.from_params` skips them, and refuses any other key
#: that is not a field, so an option added to params.yaml but not here is caught).
WORKFLOW_KEYS = frozenset({"input_dir", "corpus_size", "corpus_seed", "iou_min", "scanned_eval",
                           "timeout_s", "mem_mb", "address_space_mb"})


@dataclass(frozen=True)
class PaperOptions:
    """Every user-facing setting of the paper route (see the module's docstring); the defaults
    are the route's own.  Frozen: one object may serve many papers (the workflow, the website)."""

    # opening the PDF
    max_pages: int = 200
    max_mb: float | None = 64
    password: str = ""
    # scanned pages
    ocr: bool = True
    ocr_dpi: int = 200
    max_ocr_pages: int = 30
    # figures and tables
    dpi: int = 150
    read_figures: bool = True
    figure_classifier: str = ""
    figure_min_probability: float = 0.2
    figure_filter: Callable | None = field(default=None, compare=False)
    min_figure_layers: int = 3
    fuse_ratio: float = 0.8
    figure_ocr: str = "rapidocr"
    # body text
    read_text: bool = True
    # outputs
    model: str = ""                 # the candidate to offer as graph.json (name or configuration); "": best ranked
    targets: tuple[str, ...] = TARGETS
    render_graphs: bool = True
    page_images: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "targets", tuple(self.targets or ()))
        object.__setattr__(self, "figure_classifier", str(self.figure_classifier or ""))

    @classmethod
    def from_params(cls, section: Mapping[str, Any]) -> PaperOptions:
        """The options of params.yaml's ``paper`` section (validated by config/params.schema.yaml):
        each key that names a field sets it, missing keys keep the defaults, the corpus and summary
        keys (:data:`WORKFLOW_KEYS`) are skipped; any other key is a ValueError."""
        names = {f.name for f in fields(cls)} - {"figure_filter"}
        unknown = sorted(set(section) - names - WORKFLOW_KEYS)
        if unknown:
            raise ValueError(f"paper section: {', '.join(unknown)} not an option of the paper route "
                             "(add it to dlpaper2code.paper.options.PaperOptions, or to WORKFLOW_KEYS "
                             "if only the corpus or summary rules use it)")
        return cls(**{k: v for k, v in section.items() if k in names})

    @property
    def max_bytes(self) -> int | None:
        """``max_mb`` in bytes (None: no limit)."""
        return None if self.max_mb is None else int(self.max_mb * 2**20)

    def load_figure_filter(self) -> Callable | None:
        """The figure filter of a run: the ``figure_filter`` hook when given, else the classifier at
        ``figure_classifier``, loaded now (:class:`~dlpaper2code.figclass.classify.ClassifierMissing`
        names the file when it cannot be), else None (every figure is tried).  None whenever
        ``read_figures`` is off: no figure is read, so none is filtered."""
        if not self.read_figures:
            return None
        if self.figure_filter is not None:
            return self.figure_filter
        if not self.figure_classifier:
            return None
        from ..figclass.classify import paper_figure_filter

        return paper_figure_filter(self.figure_classifier, min_probability=self.figure_min_probability)
