"""The six-classifier comparison of the paper's Tables 3 to 5, on image features.

Tasks (``TASKS``):

- ``table3``: simulated Keras/Caffe diagrams vs other figures (the negatives and
  the four styles that are not 2D boxes; hand-drawn and ``varied`` 2D boxes are
  left out, being box diagrams themselves);
- ``table4``: architecture figure (any of the five styles, the simulated Keras/Caffe
  diagrams counting as 2D boxes) vs not (the negatives);
- ``table5``: the five drawing styles, on the architecture figures;
- ``stages``: one six-class classifier (five styles + other) vs two stages
  (table4's classifier, then table5's on the figures it calls architecture),
  on the test images of table4.

Classifiers (``CLASSIFIERS``): Naive Bayes, Decision Tree, Logistic Regression,
Random Forest, SVM (RBF kernel), and a neural network (MLP) with hidden layers
1024 and 256; every other setting is scikit-learn's default.  Features are
standardised first (``scale``).  Splits: 60/20/20, stratified by figure kind.
"""
from __future__ import annotations

import csv
import io
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .generate import NEGATIVE_KINDS, OTHER, SIMULATED, STYLES

CLASSIFIERS = {
    "nb": "Naive Bayes",
    "dt": "Decision Tree",
    "lr": "Logistic Regression",
    "rf": "Random Forest",
    "svm": "SVM (RBF)",
    "mlp": "NNet [1024, 256]",
}
# the paper's test accuracies (%), for reference next to ours
PAPER_TEST = {
    "table3": {"nb": 98.39, "dt": 99.55, "lr": 99.99, "rf": 99.68, "svm": 99.83, "mlp": 99.94},
    "table4": {"nb": 62.56, "dt": 74.35, "lr": 85.27, "rf": 82.94, "svm": 85.25, "mlp": 86.25},
    "table5": {"nb": 52.84, "dt": 49.13, "lr": 68.47, "rf": 66.02, "svm": 69.68, "mlp": 71.60},
}
TASK_TITLES = {
    "table3": "Table 3: simulated Keras/Caffe diagram vs other figure",
    "table4": "Table 4: architecture figure vs not (coarse)",
    "table5": "Table 5: drawing style of an architecture figure (fine, five classes)",
    "stages": "Two stages (coarse, then fine) vs one six-class classifier",
}
ARCH = "architecture"
TASK_ORDER = ("table3", "table4", "table5", "stages")


def make_classifier(key: str, seed: int = 0, mlp_hidden=(1024, 256), scale: bool = True):
    """A scikit-learn pipeline: optional StandardScaler, then classifier `key`."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler as Scaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    if key == "nb":
        clf = GaussianNB()
    elif key == "dt":
        clf = DecisionTreeClassifier(random_state=seed)
    elif key == "lr":
        clf = LogisticRegression()
    elif key == "rf":
        clf = RandomForestClassifier(random_state=seed)
    elif key == "svm":
        clf = SVC(kernel="rbf", probability=False)
    elif key == "mlp":
        clf = MLPClassifier(hidden_layer_sizes=tuple(int(h) for h in mlp_hidden), random_state=seed)
    else:
        raise ValueError(f"unknown classifier {key!r}; choose from {', '.join(CLASSIFIERS)}")
    return make_pipeline(Scaler(), clf) if scale else make_pipeline(clf)


# ----------------------------------------------------------------------------- data

@dataclass
class FeatureSet:
    """Features of every image: X (n, d), kinds (n,), files (n,)."""
    X: np.ndarray
    kinds: np.ndarray
    files: np.ndarray
    backbone: str

    def select(self, kinds) -> np.ndarray:
        return np.isin(self.kinds, list(kinds))


def load_features(paths, backbone: str = "") -> FeatureSet:
    """Concatenate per-kind feature files (.npz from features.save_features)."""
    Xs, kinds, files = [], [], []
    for p in sorted(map(str, paths)):
        with np.load(p, allow_pickle=False) as z:
            Xs.append(z["X"])
            kinds.append(z["kinds"])
            files.append(z["files"])
    if not Xs:
        raise ValueError("no feature files given")
    dims = {x.shape[1] for x in Xs if x.size}
    if len(dims) > 1:
        raise ValueError(f"feature files of different widths {sorted(dims)} (mixed backbones?)")
    return FeatureSet(np.concatenate(Xs).astype(np.float32), np.concatenate(kinds).astype(str),
                      np.concatenate(files).astype(str), backbone)


def split_indices(strata: np.ndarray, seed: int, fractions=(0.6, 0.2, 0.2)) -> dict[str, np.ndarray]:
    """Train/val/test indices, stratified by `strata`, deterministic for `seed`."""
    fr = np.asarray(fractions, dtype=float)
    if fr.shape != (3,) or (fr <= 0).any():
        raise ValueError(f"split must be three positive fractions, got {fractions}")
    fr = fr / fr.sum()
    rng = np.random.default_rng(seed)
    out = {"train": [], "val": [], "test": []}
    for s in sorted(set(strata.tolist())):
        idx = np.flatnonzero(strata == s)
        idx = idx[rng.permutation(len(idx))]
        n = len(idx)
        n_test = int(round(n * fr[2]))
        n_val = int(round(n * fr[1]))
        if n >= 3:
            n_test, n_val = max(1, n_test), max(1, n_val)
        out["test"].extend(idx[:n_test])
        out["val"].extend(idx[n_test:n_test + n_val])
        out["train"].extend(idx[n_test + n_val:])
    return {k: np.array(sorted(v), dtype=int) for k, v in out.items()}


def task_data(fs: FeatureSet, task: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mask over fs, labels of the masked rows, strata of the masked rows) for a task."""
    neg = [k for k in NEGATIVE_KINDS if k in set(fs.kinds.tolist())]
    if task == "table3":
        kinds = [SIMULATED] + [s for s in STYLES if s != "box2d"] + neg
        mask = fs.select(kinds)
        labels = np.where(fs.kinds[mask] == SIMULATED, SIMULATED, OTHER)
    elif task in ("table4", "table5", "six"):
        # the simulated Keras/Caffe diagrams are 2D-box figures too
        arch = list(STYLES) + ([SIMULATED] if SIMULATED in set(fs.kinds.tolist()) else [])
        mask = fs.select(arch + (neg if task != "table5" else []))
        kinds = fs.kinds[mask]
        fine = np.where(kinds == SIMULATED, "box2d", kinds)
        if task == "table4":
            labels = np.where(np.isin(kinds, arch), ARCH, OTHER)
        elif task == "table5":
            labels = fine
        else:
            labels = np.where(np.isin(kinds, arch), fine, OTHER)
    else:
        raise ValueError(f"unknown task {task!r}")
    return mask, labels.astype(str), fs.kinds[mask]


# ----------------------------------------------------------------------------- fitting

def _fit(clf, X, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(X, y)
        secs = time.perf_counter() - t0
    conv = sum(1 for w in caught if issubclass(w.category, ConvergenceWarning))
    return clf, secs, conv


def _acc(y, p) -> float:
    return float(np.mean(np.asarray(y) == np.asarray(p))) if len(y) else float("nan")


def run_task(X, y, split, keys, seed, mlp_hidden, scale, progress=None) -> dict:
    """Fit every classifier on split['train']; accuracies and the test confusion matrix."""
    from sklearn.metrics import confusion_matrix

    classes = sorted(set(y.tolist()))
    out = {"classes": classes, "n": {k: int(len(v)) for k, v in split.items()}, "classifiers": {}}
    for key in keys:
        clf, secs, conv = _fit(make_classifier(key, seed, mlp_hidden, scale), X[split["train"]], y[split["train"]])
        res = {"name": CLASSIFIERS[key], "fit_seconds": round(secs, 3), "convergence_warnings": conv}
        for part in ("train", "val", "test"):
            res[part] = _acc(y[split[part]], clf.predict(X[split[part]]))
        res["confusion"] = confusion_matrix(y[split["test"]], clf.predict(X[split["test"]]), labels=classes).tolist()
        out["classifiers"][key] = res
        if progress:
            progress(f"  {key}: train {res['train']:.4f} val {res['val']:.4f} test {res['test']:.4f} "
                     f"({secs:.1f} s)")
    return out


def run_stages(fs: FeatureSet, split, keys, seed, mlp_hidden, scale, progress=None) -> dict:
    """One six-class classifier vs coarse-then-fine, trained and tested on the same images."""
    mask, six, strata = task_data(fs, "six")
    X = fs.X[mask]
    coarse_y = np.where(six == OTHER, OTHER, ARCH)
    out = {"classes": sorted(set(six.tolist())), "n": {k: int(len(v)) for k, v in split.items()}, "classifiers": {}}
    for key in keys:
        res = {"name": CLASSIFIERS[key]}
        one, s1, _ = _fit(make_classifier(key, seed, mlp_hidden, scale), X[split["train"]], six[split["train"]])
        coarse, s2, _ = _fit(make_classifier(key, seed, mlp_hidden, scale), X[split["train"]],
                             coarse_y[split["train"]])
        pos = split["train"][six[split["train"]] != OTHER]
        fine, s3, _ = _fit(make_classifier(key, seed, mlp_hidden, scale), X[pos], six[pos])
        for part in ("val", "test"):
            idx = split[part]
            res[f"one_stage_{part}"] = _acc(six[idx], one.predict(X[idx]))
            pc = coarse.predict(X[idx])
            pred = np.array([OTHER] * len(idx), dtype=object)
            sel = pc == ARCH
            if sel.any():
                pred[sel] = fine.predict(X[idx][sel])
            res[f"two_stage_{part}"] = _acc(six[idx], pred.astype(str))
        res["fit_seconds"] = round(s1 + s2 + s3, 3)
        out["classifiers"][key] = res
        if progress:
            progress(f"  {key}: one-stage test {res['one_stage_test']:.4f}, two-stage test {res['two_stage_test']:.4f}")
    return out


def compare(fs: FeatureSet, *, seed: int = 0, split=(0.6, 0.2, 0.2), classifiers=tuple(CLASSIFIERS),
            mlp_hidden=(1024, 256), scale: bool = True, stages: bool = True, progress=None) -> dict:
    """Every task's comparison on a feature set."""
    result = {"backbone": fs.backbone, "dim": int(fs.X.shape[1]), "images": int(len(fs.kinds)),
              "kinds": {k: int(v) for k, v in zip(*np.unique(fs.kinds, return_counts=True))},
              "seed": seed, "split": list(split), "scale": scale, "mlp_hidden": list(mlp_hidden), "tasks": {}}
    splits = {}
    for task in ("table3", "table4", "table5"):
        mask, y, strata = task_data(fs, task)
        if len(set(y.tolist())) < 2:
            raise ValueError(f"{task}: needs at least two classes, got {sorted(set(y.tolist()))}")
        if task == "table5":   # the table4 split restricted to the styles, so stages use one split
            idx4 = np.flatnonzero(task_data(fs, "table4")[0])
            idx5 = np.flatnonzero(mask)
            pos = {g: i for i, g in enumerate(idx5)}
            sp = {part: np.array([pos[idx4[i]] for i in splits["table4"][part] if idx4[i] in pos], dtype=int)
                  for part in ("train", "val", "test")}
        else:
            sp = split_indices(strata, seed, split)
        splits[task] = sp
        if progress:
            progress(f"{fs.backbone} {task}: {int(mask.sum())} images, classes {sorted(set(y.tolist()))}")
        result["tasks"][task] = run_task(fs.X[mask], y, sp, classifiers, seed, mlp_hidden, scale, progress)
    if stages:
        if progress:
            progress(f"{fs.backbone} stages")
        result["tasks"]["stages"] = run_stages(fs, splits["table4"], classifiers, seed, mlp_hidden, scale, progress)
    return result


# ----------------------------------------------------------------------------- tables and plots

def _pct(v) -> str:
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{100 * v:.2f}"


def table_rows(result: dict, task: str) -> tuple[list[str], list[list[str]]]:
    t = result["tasks"][task]
    ordered = [(k, t["classifiers"][k]) for k in CLASSIFIERS if k in t["classifiers"]]
    if task == "stages":
        head = ["Classifier", "One stage (val)", "Two stages (val)", "One stage (test)", "Two stages (test)"]
        rows = [[r["name"], _pct(r["one_stage_val"]), _pct(r["two_stage_val"]), _pct(r["one_stage_test"]),
                 _pct(r["two_stage_test"])] for _, r in ordered]
        return head, rows
    head = ["Classifier", "Train", "Validation", "Test", "Paper test"]
    rows = [[r["name"], _pct(r["train"]), _pct(r["val"]), _pct(r["test"]),
             f"{PAPER_TEST[task][k]:.2f}" if k in PAPER_TEST.get(task, {}) else ""]
            for k, r in ordered]
    return head, rows


def table_markdown(result: dict, task: str) -> str:
    head, rows = table_rows(result, task)
    t = result["tasks"][task]
    n = t["n"]
    lines = [f"**{TASK_TITLES[task]}** ({result['backbone']} features, {result['dim']}-d; accuracy %; "
             f"{n['train']} train / {n['val']} validation / {n['test']} test images)", "",
             "| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def table_csv(result: dict, task: str) -> str:
    head, rows = table_rows(result, task)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(head)
    wr.writerows(rows)
    return buf.getvalue()


def plot_confusions(result: dict, task: str, png) -> None:
    """One confusion matrix (test split) per classifier, in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    t = result["tasks"][task]
    classes = t["classes"]
    keys = [k for k in CLASSIFIERS if k in t["classifiers"]]
    ncol = min(3, len(keys))
    nrow = -(-len(keys) // ncol)
    side = 1.2 + 0.45 * len(classes)
    fig = Figure(figsize=(ncol * side + 0.5, nrow * side + 0.8), dpi=90)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrow, ncol, squeeze=False).ravel()
    for ax, key in zip(axes, keys):
        m = np.asarray(t["classifiers"][key]["confusion"])
        ax.imshow(m, cmap="Blues")
        for i in range(len(classes)):
            for j in range(len(classes)):
                ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if m[i, j] > m.max() / 2 else "black")
        ax.set_xticks(range(len(classes)))
        ax.set_xticklabels(classes, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(classes)))
        ax.set_yticklabels(classes, fontsize=7)
        ax.set_title(f"{t['classifiers'][key]['name']}: {100 * t['classifiers'][key]['test']:.1f}%", fontsize=8)
    for ax in axes[len(keys):]:
        ax.axis("off")
    fig.suptitle(f"{TASK_TITLES[task]} - {result['backbone']} (test; rows true, columns predicted)", fontsize=8)
    fig.tight_layout()
    Path(png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, metadata={"Software": None})


def write_outputs(result: dict, out_dir, plot_paths: dict | None = None) -> dict:
    """comparison.json, tableN.{md,csv}, stages.{md,csv} in out_dir; confusion PNGs."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for task in [t for t in TASK_ORDER if t in result["tasks"]]:
        (out_dir / f"{task}.md").write_text(table_markdown(result, task))
        (out_dir / f"{task}.csv").write_text(table_csv(result, task))
        written[task] = str(out_dir / f"{task}.md")
        if plot_paths and task in plot_paths:
            plot_confusions(result, task, plot_paths[task])
    (out_dir / "comparison.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    return written


def summary_metrics(results: list[dict], speeds: dict | None = None) -> dict:
    """DVC metrics: test accuracy (%) per backbone, task and classifier, and feature speeds."""
    out = {}
    for r in results:
        b = {}
        for task, t in r["tasks"].items():
            if task == "stages":
                b[task] = {k: {"one_stage_test": round(100 * v["one_stage_test"], 2),
                               "two_stage_test": round(100 * v["two_stage_test"], 2)}
                           for k, v in t["classifiers"].items()}
            else:
                b[task] = {k: round(100 * v["test"], 2) for k, v in t["classifiers"].items()}
                b[task]["n_test"] = t["n"]["test"]
        b["images"] = r["images"]
        if speeds and r["backbone"] in speeds:
            b["images_per_s"] = speeds[r["backbone"]]
        out[r["backbone"]] = b
    return out
