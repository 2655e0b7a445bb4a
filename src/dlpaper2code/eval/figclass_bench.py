"""Feature-extraction speed, and the trained classifier on figures cropped from PDFs.

    python -m dlpaper2code.eval.figclass_bench speed --backbone efficientnet_lite0 --threads 2
    python -m dlpaper2code.eval.figclass_bench papers results/papers      # figures.json with captions

``papers`` scores the classifier on the figure crops of the paper stage, with
the truth taken from each caption (the synthetic corpus captions say what a
figure shows): architecture when the caption reads like a model figure.
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
    args = ap.parse_args(argv)
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
