"""Is a table an architecture table or a results table, and is it row- or column-major?

Bag of words over the caption and the cell text (TF-IDF of words and word
pairs, :class:`Tfidf`, the same numbers as scikit-learn's TfidfVectorizer; numbers folded to one token, layer tokens such as
"conv3-64" split into "conv" and a number), and a nearest-centroid classifier
by cosine similarity: each class is the normalised mean of its training
vectors, a table goes to the class whose centroid is closest in angle.
Orientation comes from :func:`dlpaper2code.paper.table_graph.orientation_of`
(where the layer names sit, where the parameter labels sit, the shape).

    model = train_classifier()                        # labelled tables of config/tables/
    classify_table(table, model) -> {"kind", "score", "scores", "orientation", "orientation_info"}
    evaluate(test_size=0.3, seed=0) -> {"accuracy", "n_train", "n_test", "orientation_accuracy", ...}

Labelled examples: every ``*.yaml`` / ``*.json`` in ``config/tables/`` with a
``tables`` list of ``{id, kind, orientation, caption, cells}``;
``handwritten.yaml`` (invented tables in the layouts real papers use; never a held-back paper's) and ``synthetic.json``
(made by :func:`write_synthetic_examples` from :func:`generate_corpus`).
"""
from __future__ import annotations

import functools
import json
import random
import re
from pathlib import Path

import numpy as np
import yaml

from ..core import paths
from .table_graph import cell_layer_score, norm_text, orientation_of

KINDS = ("architecture", "results")


def examples_dir() -> Path:
    return paths.config_file("tables")


def table_text(table: dict) -> str:
    """Caption and cells as one normalised string for the bag of words."""
    parts = [table.get("caption") or ""]
    for r in table.get("cells") or []:
        parts.extend(str(c) for c in r)
    t = norm_text(" ".join(parts))
    t = re.sub(r"table\s*\d+\s*[:.]?", " ", t)
    t = re.sub(r"([a-z])(\d)", r"\1 \2", t)              # conv3-64 -> conv 3-64, fc6 -> fc 6
    t = re.sub(r"\d+(?:[.,]\d+)?", " 0 ", t)             # numbers: one token
    t = t.replace("%", " percent ").replace("^", " ").replace("x", " x ")
    return t


def load_examples(directory: str | Path | None = None) -> list[dict]:
    d = Path(directory) if directory else examples_dir()
    out = []
    for f in sorted(d.glob("*")):
        if f.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        elif f.suffix == ".json":
            data = json.loads(f.read_text(encoding="utf-8"))
        else:
            continue
        for t in data.get("tables", []):
            if t.get("kind") in KINDS:
                out.append(dict(t, source_file=f.name))
    return out


TOKEN = re.compile(r"(?u)\b[a-z][a-z\-]*\b|\b0\b|\bx\b")


class Tfidf:
    """TF-IDF of words and word pairs, as scikit-learn's ``TfidfVectorizer(token_pattern=TOKEN,
    sublinear_tf=True, ngram_range=(1, 2))`` computes it (smoothed idf, L2-normalised rows),
    in NumPy: importing scikit-learn costs a paper job about 2 seconds."""

    def __init__(self):
        self.vocab: dict[str, int] = {}
        self.idf = None

    @staticmethod
    def _terms(text: str) -> list[str]:
        words = TOKEN.findall(text.lower())
        return words + [f"{a} {b}" for a, b in zip(words, words[1:])]

    def _counts(self, texts):
        X = np.zeros((len(texts), len(self.vocab)))
        for i, t in enumerate(texts):
            for term in self._terms(t):
                j = self.vocab.get(term)
                if j is not None:
                    X[i, j] += 1
        return X

    def _weigh(self, X):
        X = np.where(X > 0, 1.0 + np.log(np.maximum(X, 1e-12)), 0.0) * self.idf
        n = np.linalg.norm(X, axis=1, keepdims=True)
        return X / np.where(n == 0, 1.0, n)

    def fit_transform(self, texts):
        terms = sorted({term for t in texts for term in self._terms(t)})
        self.vocab = {term: j for j, term in enumerate(terms)}
        X = self._counts(texts)
        df = (X > 0).sum(axis=0)
        self.idf = np.log((1 + len(texts)) / (1 + df)) + 1.0
        return self._weigh(X)

    def transform(self, texts):
        return self._weigh(self._counts(texts))


class CosineCentroidClassifier:
    """Nearest class centroid by cosine similarity over TF-IDF vectors."""

    def __init__(self):
        self.vectorizer = Tfidf()
        self.classes: list[str] = []
        self.centroids = None

    def fit(self, texts: list[str], labels: list[str]) -> "CosineCentroidClassifier":
        X = self.vectorizer.fit_transform(texts)
        self.classes = sorted(set(labels))
        cents = []
        for c in self.classes:
            rows = X[[i for i, l in enumerate(labels) if l == c]]
            m = np.asarray(rows.mean(axis=0)).ravel()
            cents.append(m / (np.linalg.norm(m) or 1.0))
        self.centroids = np.vstack(cents)
        return self

    def scores(self, texts: list[str]) -> np.ndarray:
        X = self.vectorizer.transform(texts)           # rows are L2-normalised
        return np.asarray(X @ self.centroids.T)

    def predict(self, texts: list[str]) -> list[str]:
        s = self.scores(texts)
        return [self.classes[i] for i in s.argmax(axis=1)]


def write_synthetic_examples(out: str | Path | None = None, n: int = 24, seed: int = 100) -> Path:
    """Labelled tables from the synthetic corpus's ground truth (cells and captions as printed)."""
    import tempfile

    from .synth import generate_corpus
    out = Path(out) if out else examples_dir() / "synthetic.json"
    tables = []
    with tempfile.TemporaryDirectory() as tmp:
        for truth in generate_corpus(tmp, n=n, seed=seed):
            for t in truth["tables"]:
                tables.append({"id": f"{truth['name']}_t{t['number']}", "kind": t["kind"],
                               "orientation": t["orientation"], "caption": t["caption"], "cells": t["cells"],
                               "layers": t.get("layers", [])})
    out.write_text(json.dumps({"generator": f"generate_corpus(n={n}, seed={seed})", "tables": tables},
                              indent=1, ensure_ascii=False), encoding="utf-8")
    return out


def train_classifier(examples: list[dict] | None = None) -> CosineCentroidClassifier:
    if examples is None:
        return _default_model()
    return CosineCentroidClassifier().fit([table_text(t) for t in examples], [t["kind"] for t in examples])


@functools.lru_cache(maxsize=1)
def _default_model() -> CosineCentroidClassifier:
    ex = load_examples()
    return CosineCentroidClassifier().fit([table_text(t) for t in ex], [t["kind"] for t in ex])


# Cues in a caption's title (its first sentence), measured on the real-paper benchmark's 159 labelled
# tables: a results table is titled with what was measured, an architecture table with what is built,
# a training table with its settings.
RESULT_CUES = re.compile(r"\b(results?|comparisons?|compar\w+|accurac\w+|errors?|ablations?|effects?|performance|"
                         r"ap|map|top-?[15]|speed|latency|runtime|timing|evaluation|evaluated|benchmark\w*|vs|"
                         r"versus|improve\w*|gains?|breakdown|trade-?offs?|transfer|score[sd]?|fps|flops)\b")
ARCH_CUES = re.compile(r"\b(architectures?|specifications?|configurations?|configs?|structures?|outline|variants?|"
                       r"network design|layers? of|details of|models?|building blocks?)\b")
HYPER_CUES = re.compile(r"\b(hyper-?parameters?|learning rates?|batch sizes?|optimi[sz]ers?|"
                        r"training (details|settings|setup)|fine-?tun\w* (details|settings|setup)|schedules?|epochs|"
                        r"weight decay|warm-?up)\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
DECIMAL_SHARE = 0.35        # of the numbers in the cells: measurements, not layer sizes
LAYER_SHARE = 0.3           # of the filled cells naming a layer


def table_evidence(table: dict) -> dict:
    """What the caption's title says and what the cells hold: cue words, the share of numbers with a
    decimal point, the share of cells that name a layer."""
    cap = norm_text(table.get("caption") or "")
    cap = re.sub(r"^(table|tab\.|figure|fig\.?)\s*[0-9ivx]+\s*[:.]?", "", cap)
    title = re.split(r"(?<=[a-z0-9)])\.\s", cap + " ", maxsplit=1)[0]
    cells = [str(c) for r in table.get("cells") or [] for c in r if str(c).strip()]
    numbers = [m for c in cells for m in _NUMBER.findall(c)]
    return {"results_cue": bool(RESULT_CUES.search(title)), "architecture_cue": bool(ARCH_CUES.search(title)),
            "hyperparameter_cue": bool(HYPER_CUES.search(title)),
            "decimal_share": round(sum("." in m for m in numbers) / (len(numbers) or 1), 3),
            "layer_share": round(sum(cell_layer_score(c) >= 0.5 for c in cells) / (len(cells) or 1), 3)}


def _by_evidence(ev: dict) -> str | None:
    if ev["hyperparameter_cue"] and not ev["results_cue"]:
        return "hyperparameters"
    if ev["decimal_share"] >= DECIMAL_SHARE:
        return "results"
    if ev["results_cue"] and not (ev["layer_share"] >= 0.5 and ev["decimal_share"] < 0.1):
        return "results"
    if ev["architecture_cue"] or ev["layer_share"] >= LAYER_SHARE:
        return "architecture"
    return None


def classify_table(table: dict, model: CosineCentroidClassifier | None = None) -> dict:
    """architecture / results / hyperparameters: the caption's cues and the cells' evidence decide
    when they are clear, the bag-of-words classifier otherwise."""
    model = model or _default_model()
    s = model.scores([table_text(table)])[0]
    k = int(s.argmax())
    ev = table_evidence(table)
    kind = _by_evidence(ev)
    orient, info = orientation_of(table.get("cells") or [])
    return {"kind": kind or model.classes[k], "score": float(s[k]), "by": "evidence" if kind else "words",
            "evidence": ev, "scores": {c: round(float(v), 4) for c, v in zip(model.classes, s)},
            "orientation": orient, "orientation_info": info}


def split(examples: list[dict], test_size: float = 0.3, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Stratified by (kind, source file): hand-written and synthetic tables are held out alike."""
    rng = random.Random(seed)
    groups: dict[tuple, list[dict]] = {}
    for t in examples:
        groups.setdefault((t["kind"], t.get("source_file")), []).append(t)
    train, test = [], []
    for key in sorted(groups, key=str):
        g = list(groups[key])
        rng.shuffle(g)
        n_test = max(1, int(round(len(g) * test_size))) if len(g) > 1 else 0
        test += g[:n_test]
        train += g[n_test:]
    return train, test


def evaluate(examples: list[dict] | None = None, test_size: float = 0.3, seed: int = 0) -> dict:
    """Held-out accuracy of the kind classifier and of the orientation rule."""
    examples = examples if examples is not None else load_examples()
    train, test = split(examples, test_size, seed)
    model = train_classifier(train)
    pred = model.predict([table_text(t) for t in test])
    per_file: dict[str, list[int]] = {}
    wrong = []
    for t, p in zip(test, pred):
        per_file.setdefault(t.get("source_file", "?"), []).append(int(p == t["kind"]))
        if p != t["kind"]:
            wrong.append(t.get("id"))
    orient_ok = [orientation_of(t["cells"])[0] == t["orientation"] for t in examples if t["kind"] == "architecture"]
    return {"accuracy": float(np.mean([p == t["kind"] for t, p in zip(test, pred)])) if test else float("nan"),
            "n_train": len(train), "n_test": len(test),
            "per_source": {k: float(np.mean(v)) for k, v in per_file.items()}, "wrong": wrong,
            "orientation_accuracy": float(np.mean(orient_ok)) if orient_ok else float("nan"),
            "n_orientation": len(orient_ok)}


__all__ = ["CosineCentroidClassifier", "classify_table", "train_classifier", "evaluate", "load_examples",
           "table_text", "write_synthetic_examples", "split", "KINDS"]
