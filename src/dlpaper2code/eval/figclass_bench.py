"""Feature-extraction speed, and the trained classifier on figures cropped from PDFs.

    python -m dlpaper2code.eval.figclass_bench speed --backbone efficientnet_lite0 --threads 2
    python -m dlpaper2code.eval.figclass_bench papers results/papers      # figures.json with captions
    python -m dlpaper2code.eval.figclass_bench real --pdfs /work/pdfs     # the hand-labelled real figures

``papers`` scores the classifier on the figure crops of the paper stage, with
the truth taken from each caption (the synthetic corpus captions say what a
figure shows): architecture when the caption reads like a model figure.
``real`` scores it on every captioned figure of the real-paper benchmark, cropped from
its PDF at the hand-drawn box (data/realpapers/regions) and labelled by looking at it
(data/realpapers/figure_labels.json: architecture or not, and the style): the coarse
classifier's accuracy (the analogue of the paper's Table 4 on real figures, beside its
86.25%), the recall of architecture figures at the route's threshold, and the fine
classifier's style accuracy on the architecture figures (Table 5).
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

from ..figclass import features, generate

ARCH_CAPTION = re.compile(r"architecture|block diagram|each box is a layer|overview of (our|the) (network|model)|"
                          r"network structure|layers? of the (network|model)", re.I)


def bench_speed(backbone: str = "efficientnet_lite0", n: int = 64, batch_size: int = 16, threads: int = 2,
                size: int = 224, fit: str = "pad", weights=None, tmp_dir=None, random_weights: bool = False) -> dict:
    """Images per second (load + resize + network) on `n` generated figures of every kind
    (`random_weights`: time the network without its weights file, e.g. VGG19 here)."""
    import tempfile

    features.set_threads(threads)
    if random_weights and backbone != "baseline":
        build = {"vgg19": features._build_vgg19, "efficientnet_lite0": features._build_effnet_lite0}[backbone]
        net = build().eval()
        bb = features.Backbone(backbone, net.dim, "random", net)
    else:
        bb = features.load_backbone(backbone, weights)
    with tempfile.TemporaryDirectory(dir=tmp_dir) as tmp:
        paths = []
        kinds = [k for k in generate.KINDS if k not in ("simulated", "box2d")]   # no Graphviz needed
        for i in range(n):
            kind = kinds[i % len(kinds)]
            p = Path(tmp) / f"{i:04d}.png"
            generate.draw_figure(kind, i, 12345, {}).save(p)
            paths.append(p)
        features.extract_features(paths[:batch_size], bb, size=size, fit=fit, batch_size=batch_size)   # warm-up
        t0 = time.perf_counter()
        _, stats = features.extract_features(paths, bb, size=size, fit=fit, batch_size=batch_size)
        wall = time.perf_counter() - t0
    return {"backbone": backbone, "images": n, "threads": threads, "batch_size": batch_size,
            "images_per_s": round(n / wall, 2), "network_images_per_s": round(n / stats.network_seconds, 2),
            "random_weights": bool(random_weights)}


def paper_figures(papers_dir) -> list[dict]:
    """Every figure crop under papers_dir/*/figures/figures.json with its caption truth."""
    out = []
    for fj in sorted(Path(papers_dir).glob("*/figures/figures.json")):
        doc = json.loads(fj.read_text())
        for fig in doc.get("figures", []):
            png = fj.parent / fig.get("png", "")
            if png.is_file():
                out.append({"image": str(png), "caption": fig.get("caption", ""),
                            "truth": "architecture" if ARCH_CAPTION.search(fig.get("caption", "")) else "other"})
    return out


def eval_paper_figures(papers_dir, model=None) -> dict:
    from ..figclass.classify import classify_images

    figs = paper_figures(papers_dir)
    if not figs:
        raise FileNotFoundError(f"{papers_dir}: no */figures/figures.json with figure crops (run the paper stage)")
    res = classify_images([f["image"] for f in figs], model)
    rows, right = [], 0
    for f, r in zip(figs, res):
        pred = "other" if r.get("class", "other") == "other" else "architecture"
        ok = pred == f["truth"]
        right += ok
        rows.append({**f, "predicted": r.get("class"), "probability": r.get("probability"), "correct": ok})
    truth = np.array([r["truth"] for r in rows])
    pred = np.array(["other" if r["predicted"] == "other" else "architecture" for r in rows])
    tp = int(((truth == "architecture") & (pred == "architecture")).sum())
    return {"figures": len(rows), "coarse_accuracy": right / len(rows),
            "architecture_recall": tp / max(1, int((truth == "architecture").sum())),
            "architecture_precision": tp / max(1, int((pred == "architecture").sum())),
            "failures": [r for r in rows if not r["correct"]], "rows": rows}


# the labels' style names -> the classifier's classes
STYLE_CLASS = {"2d-box": "box2d", "3d-box": "box3d", "stacked-2d": "stacked2d", "neurons": "neurons",
               "pipeline": "pipeline", "none": "other"}


def real_figures(labels_path, pdf_dir, crop_dir, dpi: int = 150) -> list[dict]:
    """Every labelled figure of the real-paper benchmark, cropped from its PDF into `crop_dir`."""
    from ..paper.pdf import open_paper, render_page

    labels = json.loads(Path(labels_path).read_text(encoding="utf-8"))
    crop_dir = Path(crop_dir)
    crop_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for paper_name, figs in sorted(labels["papers"].items()):
        pdf = Path(pdf_dir) / f"{paper_name}.pdf"
        if not pdf.is_file():
            continue
        paper = open_paper(pdf)
        for fig in figs:
            img = render_page(paper, fig["page"], dpi)
            s = dpi / 72.0
            x0, t, x1, b = fig["box"]
            png = crop_dir / f"{paper_name}_fig{fig['number']}_p{fig['page']}.png"
            img.crop((max(0, int(x0 * s)), max(0, int(t * s)), min(img.width, int(x1 * s + 1)),
                      min(img.height, int(b * s + 1)))).save(png)
            out.append({"paper": paper_name, "number": fig["number"], "image": str(png),
                        "truth": "architecture" if fig["architecture"] else "other",
                        "style": STYLE_CLASS[fig["style"]] if fig["architecture"] else "other"})
    return out


def eval_real_figures(labels_path, pdf_dir, crop_dir, model=None, threshold: float = 0.2) -> dict:
    """The classifier on the labelled real figures: coarse accuracy (class != other), recall and
    precision of architecture figures at `threshold` on P(architecture) (the route skips a raster
    figure below it), and style accuracy on the architecture figures."""
    from ..figclass.classify import classify_images

    figs = real_figures(labels_path, pdf_dir, crop_dir)
    if not figs:
        raise FileNotFoundError(f"{pdf_dir}: none of the labelled papers' PDFs is there")
    res = classify_images([f["image"] for f in figs], model)
    rows = [{**f, "predicted": r.get("class"), "p_architecture": r.get("architecture_probability")} for f, r in zip(figs, res)]
    arch = [r for r in rows if r["truth"] == "architecture"]
    coarse = [("other" if r["predicted"] == "other" else "architecture") == r["truth"] for r in rows]
    kept = [r for r in rows if (r["p_architecture"] or 0) >= threshold]
    styles = sorted({r["style"] for r in arch})
    return {"figures": len(rows), "architecture_figures": len(arch), "threshold": threshold,
            "coarse_accuracy": sum(coarse) / len(rows),
            "recall_at_threshold": sum(1 for r in arch if (r["p_architecture"] or 0) >= threshold) / max(1, len(arch)),
            "precision_at_threshold": sum(1 for r in kept if r["truth"] == "architecture") / max(1, len(kept)),
            "recall_at_0.5": sum(1 for r in arch if (r["p_architecture"] or 0) >= 0.5) / max(1, len(arch)),
            "style_accuracy": sum(1 for r in arch if r["predicted"] == r["style"]) / max(1, len(arch)),
            "style_confusion": {s: {p: sum(1 for r in arch if r["style"] == s and r["predicted"] == p)
                                    for p in sorted({r["predicted"] for r in arch})} for s in styles},
            "missed": [f"{r['paper']} fig {r['number']} ({r['style']}, P={r['p_architecture']:.2f})" for r in arch
                       if (r["p_architecture"] or 0) < threshold],
            "rows": rows}


def real_features(labels_path, pdf_dir, crop_dir, backbone_name: str = "efficientnet_lite0", size: int = 224,
                  fit: str = "pad") -> dict:
    """Features of every labelled real figure (cropped as :func:`real_figures` does), with its
    six-class label and paper: what ``figclass_train`` adds to the generated figures."""
    figs = real_figures(labels_path, pdf_dir, crop_dir)
    backbone = features.load_backbone(backbone_name)
    X, _ = features.extract_features([f["image"] for f in figs], backbone, size=size, fit=fit)
    return {"X": X.astype(np.float16), "label": np.array([f["style"] for f in figs]),
            "paper": np.array([f["paper"] for f in figs]), "number": np.array([str(f["number"]) for f in figs]),
            "backbone": np.array(backbone_name)}


def eval_real_cv(fs, real: dict, *, folds: int = 5, threshold: float = 0.2, classifier: str = "mlp", seed: int = 0,
                 real_repeat: int = 3) -> dict:
    """Leave-papers-out cross-validation on the real figures: each fold's papers are held out, the
    classifier is trained on the generated figures alone and on them plus the other papers' real
    figures; both are scored on the held-out papers' figures (coarse accuracy, recall and precision
    of architecture figures at `threshold`, style accuracy)."""
    from ..figclass.classify import predict_bundle, train_classifier

    papers = sorted(set(real["paper"].tolist()))
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(papers))
    fold_of = {p: k % folds for k, p in enumerate(order)}
    preds = {"generated only": [], "generated + real": []}
    truth, who = [], []
    generated_only, _ = train_classifier(fs, classifier=classifier, seed=seed)     # the same for every fold
    for k in range(folds):
        test = np.array([fold_of[p] == k for p in real["paper"]])
        if not test.any():
            continue
        train = {key: (v[~test] if key != "backbone" else v) for key, v in real.items()}
        with_real, _ = train_classifier(fs, classifier=classifier, seed=seed, real=train, real_repeat=real_repeat)
        preds["generated only"] += predict_bundle(generated_only, real["X"][test])
        preds["generated + real"] += predict_bundle(with_real, real["X"][test])
        truth += real["label"][test].tolist()
        who += list(zip(real["paper"][test].tolist(), real["number"][test].tolist()))
    truth = np.array(truth)
    arch = truth != "other"
    out = {"figures": int(len(truth)), "architecture_figures": int(arch.sum()), "papers": len(papers), "folds": folds,
           "threshold": threshold}
    for name, ps in preds.items():
        p_arch = np.array([p["architecture_probability"] for p in ps])
        cls = np.array([p["class"] for p in ps])
        kept = p_arch >= threshold
        out[name] = {"coarse_accuracy": float(np.mean((cls != "other") == arch)),
                     "recall_at_threshold": float(np.mean(kept[arch])),
                     "precision_at_threshold": float(np.mean(arch[kept])) if kept.any() else 0.0,
                     "style_accuracy": float(np.mean(cls[arch] == truth[arch]))}
    out["rows"] = [{"paper": pp, "number": nn, "architecture": bool(a), "p_architecture": float(q["architecture_probability"])}
                   for (pp, nn), a, q in zip(who, arch, preds["generated + real"])]
    return out


def route_filter_recall(rows: list[dict], reports_dir, threshold: float = 0.2) -> dict:
    """The route's whole figure filter on the labelled real figures, with each figure's held-out
    P(architecture) (`rows` from :func:`eval_real_cv`): a figure is read when P >= `threshold`, or it
    is a vector drawing, or its caption names a model part (``figclass.classify.CAPTION_CUE``).
    Source and caption come from a ``bench-real`` output folder (``<reports_dir>/papers/<paper>/
    report.json``).  Recall of architecture figures and the share of all figures read."""
    from ..figclass.classify import CAPTION_CUE
    from .regions import caption_number

    info: dict = {}
    for row in rows:
        rp = Path(reports_dir) / "papers" / row["paper"] / "report.json"
        if row["paper"] not in info:
            figs = json.loads(rp.read_text(encoding="utf-8")).get("figures", []) if rp.is_file() else []
            info[row["paper"]] = {}
            for f in figs:
                num = caption_number(f.get("caption"))
                if num:
                    info[row["paper"]].setdefault(num, f)
    read, missed, arch, kept = [], [], 0, 0
    for row in rows:
        f = info.get(row["paper"], {}).get(str(row["number"]))
        if f is None:
            continue
        ok = row["p_architecture"] >= threshold or f.get("source") == "vector" or \
            bool(CAPTION_CUE.search(f.get("caption") or ""))
        read.append(ok)
        if row["architecture"]:
            arch += 1
            kept += ok
            if not ok:
                missed.append(f"{row['paper']} figure {row['number']} ({f.get('source')}): "
                              f"{(f.get('caption') or '')[:80]}")
    return {"figures_matched": len(read), "architecture_figures": arch,
            "recall": kept / max(1, arch), "share_read": sum(read) / max(1, len(read)), "missed": missed}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dlpaper2code.eval.figclass_bench")
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("speed")
    s.add_argument("--backbone", default="efficientnet_lite0", choices=features.BACKBONES)
    s.add_argument("--n", type=int, default=64)
    s.add_argument("--batch-size", type=int, default=16)
    s.add_argument("--threads", type=int, default=2)
    s.add_argument("--weights")
    s.add_argument("--random-weights", action="store_true", help="time the network without its weights file")
    p = sub.add_parser("papers")
    p.add_argument("papers_dir")
    p.add_argument("--model")
    r = sub.add_parser("real")
    r.add_argument("--pdfs", required=True, help="folder of <paper>.pdf (data/realpapers/README.md)")
    r.add_argument("--labels", default="data/realpapers/figure_labels.json")
    r.add_argument("--crops", default="results/figclass/real", help="the crops are written here")
    r.add_argument("--model")
    r.add_argument("--threshold", type=float, default=0.2, help="P(architecture) the route reads a figure at")
    r.add_argument("--json-out", help="write the scores (without rows) here")
    f = sub.add_parser("real-features")
    f.add_argument("--pdfs", required=True)
    f.add_argument("--labels", default="data/realpapers/figure_labels.json")
    f.add_argument("--crops", default="results/figclass/real")
    f.add_argument("--backbone", default="efficientnet_lite0")
    f.add_argument("-o", "--output", default="data/realpapers/figure_features.npz")
    c = sub.add_parser("real-cv")
    c.add_argument("--features", nargs="+", required=True, help="the generated figures' features (results/figclass/features/<backbone>/*.npz)")
    c.add_argument("--real", default="data/realpapers/figure_features.npz")
    c.add_argument("--folds", type=int, default=5)
    c.add_argument("--threshold", type=float, default=0.2)
    c.add_argument("--json-out")
    c.add_argument("--reports", help="a bench-real output folder: also score the route's whole figure filter "
                                     "(classifier, vector drawings, caption cues)")
    args = ap.parse_args(argv)
    if args.what == "real-features":
        rf = real_features(args.labels, args.pdfs, args.crops, args.backbone)
        np.savez_compressed(args.output, **rf)
        print(f"{len(rf['X'])} real figures ({int((rf['label'] != 'other').sum())} architecture) -> {args.output}")
        return 0
    if args.what == "real-cv":
        from ..figclass.classify import load_real_figures
        from ..figclass.compare import load_features

        real = load_real_figures(args.real)
        rep = eval_real_cv(load_features(args.features, real["backbone"]), real, folds=args.folds,
                           threshold=args.threshold)
        rows = rep.pop("rows")
        if args.reports:
            rep["route filter"] = route_filter_recall(rows, args.reports, args.threshold)
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(rep, indent=1) + "\n", encoding="utf-8")
        print(json.dumps(rep, indent=1))
        return 0
    if args.what == "real":
        rep = eval_real_figures(args.labels, args.pdfs, args.crops, args.model, args.threshold)
        rep.pop("rows")
        if args.json_out:
            Path(args.json_out).write_text(json.dumps(rep, indent=1) + "\n", encoding="utf-8")
        print(f"{rep['figures']} real figures ({rep['architecture_figures']} architecture): coarse accuracy "
              f"{rep['coarse_accuracy']:.3f} (the paper: 0.8625); architecture recall at P >= {rep['threshold']}: "
              f"{rep['recall_at_threshold']:.3f}, precision {rep['precision_at_threshold']:.3f}; recall at 0.5: "
              f"{rep['recall_at_0.5']:.3f}; style accuracy on architecture figures {rep['style_accuracy']:.3f}")
        print("style confusion (truth -> predicted):", json.dumps(rep["style_confusion"]))
        for m in rep["missed"]:
            print("  missed:", m)
        return 0
    if args.what == "speed":
        print(json.dumps(bench_speed(args.backbone, args.n, args.batch_size, args.threads, weights=args.weights,
                                      random_weights=args.random_weights)))
        return 0
    r = eval_paper_figures(args.papers_dir, args.model)
    print(f"{r['figures']} figures: coarse accuracy {r['coarse_accuracy']:.3f}, architecture recall "
          f"{r['architecture_recall']:.3f}, precision {r['architecture_precision']:.3f}")
    for f in r["failures"]:
        print(f"  {f['image']}: {f['truth']} -> {f['predicted']} ({f['probability']}) [{f['caption'][:70]}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
