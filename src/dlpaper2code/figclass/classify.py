"""The trained figure classifier: train (workflow), save, load, and classify images.

Two stages, as the paper found best: a coarse classifier (architecture figure
or not) and, for architecture figures, a fine one over the five drawing styles.
Each image gets one of six classes (``neurons``, ``box2d``, ``stacked2d``,
``box3d``, ``pipeline``, ``other``) with its probability:
P(style) = P(architecture) * P(style | architecture), P(other) = 1 - P(architecture).

    dlpaper2code classify-figure fig1.png fig2.jpg          # class and probability per image
    from dlpaper2code.figclass.classify import classify_images
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np

from ..core.atomic import atomic_path
from .compare import ARCH, make_classifier, split_indices, task_data
from .features import FigureImageError, extract_features, load_backbone, load_image, prepare
from .generate import OTHER, STYLES

DEFAULT_MODEL = "results/figclass/classifier.joblib"


def default_model() -> str:
    """The trained classifier the paper route uses when none is named: DEFAULT_MODEL when the
    workflow has made it, else "" (every figure is tried)."""
    return DEFAULT_MODEL if Path(DEFAULT_MODEL).is_file() else ""


MAKE_COMMAND = f"snakemake --cores 2 {DEFAULT_MODEL}   (or: dvc repro figclass_train)"
FORMAT = 1


class ClassifierMissing(FileNotFoundError):
    pass


def load_real_figures(path) -> dict:
    """Features of hand-labelled real figures (``eval.figclass_bench real-features``): X, the six-class
    label of each (a style or ``other``), its paper, and the backbone that made the features."""
    with np.load(path, allow_pickle=False) as data:
        out = {"X": data["X"].astype(np.float32), "label": data["label"].astype(str),
               "paper": data["paper"].astype(str), "backbone": str(data["backbone"])}
        if "number" in data:
            out["number"] = data["number"].astype(str)      # the figure's number in its paper
        return out


def train_classifier(fs, *, classifier: str = "mlp", seed: int = 0, split=(0.6, 0.2, 0.2),
                     mlp_hidden=(1024, 256), scale: bool = True, size: int = 224, fit: str = "pad",
                     weights: str = "", real: dict | None = None, real_repeat: int = 3) -> tuple[dict, dict]:
    """Fit the two stages on the train + validation images of the six-class split;
    score them on its test images.  Returns (bundle to save, info).

    `real` (:func:`load_real_figures`): labelled figures of real papers added to the fit set,
    each `real_repeat` times (a few dozen real figures beside hundreds of generated ones);
    their held-out score is :func:`dlpaper2code.eval.figclass_bench.eval_real_cv`'s."""
    if classifier == "svm":
        raise ValueError("figclass.model: the saved classifier needs class probabilities; SVC here has none "
                         "(choose mlp, lr, rf, dt or nb)")
    mask, six, strata = task_data(fs, "six")
    X = fs.X[mask]
    sp = split_indices(strata, seed, split)
    fit_idx = np.concatenate([sp["train"], sp["val"]])
    coarse_y = np.where(six == OTHER, OTHER, ARCH)
    fit_X, fit_six = X[fit_idx], six[fit_idx]
    if real is not None and len(real["X"]):
        if real["backbone"] != fs.backbone:
            raise ValueError(f"real figures' features are {real['backbone']}'s, the classifier's backbone is {fs.backbone}")
        fit_X = np.concatenate([fit_X] + [real["X"]] * real_repeat)
        fit_six = np.concatenate([fit_six] + [real["label"]] * real_repeat)
    coarse = make_classifier(classifier, seed, mlp_hidden, scale).fit(fit_X, np.where(fit_six == OTHER, OTHER, ARCH))
    pos = fit_six != OTHER
    fine = make_classifier(classifier, seed, mlp_hidden, scale).fit(fit_X[pos], fit_six[pos])
    bundle = {"format": FORMAT, "backbone": fs.backbone, "weights": weights, "size": size, "fit": fit,
              "classifier": classifier, "coarse": coarse, "fine": fine}
    test = sp["test"]
    pred = predict_bundle(bundle, X[test])
    test_pos = test[six[test] != OTHER]
    info = {"backbone": fs.backbone, "classifier": classifier, "trained_on": int(len(fit_idx)),
            "real_figures": int(len(real["X"])) if real is not None else 0,
            "tested_on": int(len(test)),
            "test_accuracy_six_class": float(np.mean(np.array([p["class"] for p in pred]) == six[test])),
            "test_accuracy_coarse": float(np.mean(coarse.predict(X[test]) == coarse_y[test])),
            "test_accuracy_fine": float(np.mean(fine.predict(X[test_pos]) == six[test_pos])) if len(test_pos) else None,
            "classes": list(STYLES) + [OTHER]}
    bundle["info"] = info
    return bundle, info


def predict_bundle(bundle: dict, X: np.ndarray) -> list[dict]:
    """Class, probability and per-class probabilities for each feature row."""
    coarse, fine = bundle["coarse"], bundle["fine"]
    pc = coarse.predict_proba(X)
    arch_col = list(coarse.classes_).index(ARCH)
    pf = fine.predict_proba(X)
    styles = list(fine.classes_)
    out = []
    for i in range(len(X)):
        p_arch = float(pc[i, arch_col])
        probs = {s: p_arch * float(pf[i, j]) for j, s in enumerate(styles)}
        probs[OTHER] = 1.0 - p_arch
        if p_arch >= 0.5:
            cls = styles[int(np.argmax(pf[i]))]
        else:
            cls = OTHER
        out.append({"class": cls, "probability": probs[cls], "architecture_probability": p_arch,
                    "probabilities": probs})
    return out


def _slim(pipeline):
    """Drop an MLP's optimiser state and store its weights as float32 (half the file)."""
    clf = pipeline[-1]
    if hasattr(clf, "coefs_"):
        if hasattr(clf, "_optimizer"):
            clf._optimizer = None
        clf.coefs_ = [c.astype(np.float32) for c in clf.coefs_]
        clf.intercepts_ = [c.astype(np.float32) for c in clf.intercepts_]
    return pipeline


def save_classifier(bundle: dict, path) -> None:
    import joblib

    bundle = {**bundle, "coarse": _slim(bundle["coarse"]), "fine": _slim(bundle["fine"])}

    with atomic_path(path) as tmp:
        joblib.dump(bundle, tmp)


def load_classifier(path=None) -> dict:
    import joblib

    path = Path(path or DEFAULT_MODEL)
    if not path.is_file():
        raise ClassifierMissing(f"figure classifier {path} not found; train it with: {MAKE_COMMAND}")
    try:
        bundle = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - a corrupt or foreign file
        raise ClassifierMissing(f"figure classifier {path} could not be loaded ({type(exc).__name__}: {exc}); "
                                f"retrain it with: {MAKE_COMMAND}") from exc
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise ClassifierMissing(f"figure classifier {path} is not a format-{FORMAT} figclass model; "
                                f"retrain it with: {MAKE_COMMAND}")
    return bundle


def classify_images(paths, model=None, *, bundle: dict | None = None, batch_size: int = 16,
                    weights: str | None = None) -> list[dict]:
    """Classify image files.  Each result has 'image' and either 'class',
    'probability', 'architecture_probability', 'probabilities', or 'error'
    (an unreadable image does not stop the others)."""
    bundle = bundle or load_classifier(model)
    backbone = load_backbone(bundle["backbone"], weights or bundle.get("weights") or None)
    paths = [str(p) for p in paths]
    good, results = [], {}
    for p in paths:
        try:
            load_image(p)
            good.append(p)
        except FigureImageError as exc:
            results[p] = {"image": p, "error": str(exc)}
    if good:
        X, _ = extract_features(good, backbone, size=bundle["size"], fit=bundle["fit"], batch_size=batch_size)
        for p, r in zip(good, predict_bundle(bundle, X)):
            results[p] = {"image": p, **r}
    return [results[p] for p in paths]


def classify_arrays(arrays: list[np.ndarray], bundle: dict, backbone=None) -> list[dict]:
    """Classify in-memory RGB uint8 images (for callers that hold crops, e.g. the paper route)."""
    from PIL import Image

    backbone = backbone or load_backbone(bundle["backbone"], bundle.get("weights") or None)
    batch = np.stack([prepare(Image.fromarray(a).convert("RGB"), bundle["size"], bundle["fit"]) for a in arrays])
    return predict_bundle(bundle, backbone.batch(batch))


# caption words that announce a drawing of a model (a figure so captioned is read whatever the classifier says)
CAPTION_CUE = re.compile(r"\b(?:architectures?|networks?|model|framework|overview|blocks?|modules?|structures?|"
                         r"pipeline|encoder|decoder|backbone|layers?|cells?|units?|heads?|design|connections?|"
                         # the kinds of model a caption may name instead ("Object detector.")
                         r"detectors?|classifiers?|regressors?|generators?|discriminators?|transformers?|"
                         r"auto-?encoders?|cnns?|rnns?|lstms?|gans?)\b", re.I)


def paper_figure_filter(model=None, *, min_probability: float = 0.2):
    """A ``figure_filter`` for :func:`dlpaper2code.paper.pipeline.process_paper`.

    The classifier and its backbone are loaded once (ClassifierMissing names the
    file and the command that makes it).  A figure is tried unless the
    classifier is fairly sure it is not an architecture figure
    (P(architecture) < `min_probability`): a wrongly skipped model figure costs
    more than reading a plot that yields no diagram.  Vector drawings are always
    tried (the classifier misses tight chains of boxes; reading the PDF's shapes
    is cheap); the verdict is recorded either way."""
    bundle = load_classifier(model)
    backbone = load_backbone(bundle["backbone"], bundle.get("weights") or None)

    def figure_filter(fig: dict, crop) -> tuple[bool, str]:
        r = classify_arrays([np.asarray(load_image(crop))], bundle, backbone)[0]
        p = r["architecture_probability"]
        what = f"figure classifier: {r['class']} (p={r['probability']:.2f}, P(architecture)={p:.2f})"
        fig["classification"] = {"class": r["class"], "style": None if r["class"] == OTHER else r["class"],
                                 "probability": round(r["probability"], 4), "architecture_probability": round(p, 4)}
        if p >= min_probability:
            return True, what
        if fig.get("source") == "vector":      # cheap to read from the PDF's own shapes: never skipped
            return True, f"{what}, but a vector drawing is read from the PDF's shapes whatever its class"
        m = CAPTION_CUE.search(fig.get("caption") or "")
        if m:                                  # the caption says it shows a model: read it anyway
            return True, f"{what}, but its caption names a model part ('{m.group(0)}'): read anyway"
        return False, f"{what} < {min_probability}: skipped"

    return figure_filter


# ----------------------------------------------------------------------------- CLI

def add_parser(subparsers):
    p = subparsers.add_parser(
        "classify-figure", help="which figures show a model, and in which drawing style (class and probability)")
    p.add_argument("images", nargs="+", help="image files (PNG, JPEG, ...)")
    p.add_argument("--model", default=DEFAULT_MODEL, help=f"trained classifier (default {DEFAULT_MODEL})")
    p.add_argument("--weights", help="backbone weights file (vgg19 models: vgg19-dcbbb0d7.pth)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--json", action="store_true", help="one JSON object per image")
    p.set_defaults(func=cmd_classify_figure)
    return p


def cmd_classify_figure(args) -> int:
    try:
        results = classify_images(args.images, args.model, batch_size=args.batch_size, weights=args.weights)
    except (ClassifierMissing, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bad = 0
    for r in results:
        if args.json:
            print(json.dumps(r, sort_keys=True))
        elif "error" in r:
            print(f"{r['image']}\terror\t{r['error']}")
        else:
            print(f"{r['image']}\t{r['class']}\t{r['probability']:.3f}")
        bad += "error" in r
    return 1 if bad else 0
