"""Issue 6: figure generator, feature backbones, the six-classifier comparison and
the trained figure classifier (classify-figure)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]

from dlpaper2code.figclass import classify, compare, features, generate

REPO = Path(__file__).resolve().parents[1]

# A small configuration trained and scored end to end.  Its accuracy floors are
# set from measurements on this configuration (seed 0, EfficientNet-Lite0, MLP
# test accuracy): table 3 0.970 (33 test images), table 4 0.944 (36), table 5
# 0.833 (18), two stages 0.861 (36).  The floors allow two or three more misses
# than measured; table 3's floor is above its majority class (30 of 33 "other").
SMALL = {"n_per_style": 16, "n_negative": 72, "n_simulated": 16, "seed": 0}
FLOOR = {"table3_mlp": 0.94, "table4_mlp": 0.85, "table5_mlp": 0.70, "six_two_stage_mlp": 0.75}


def _params() -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    if "figclass" not in params:    # until the section is merged into params.yaml
        params.update(yaml.safe_load((REPO / "config/params/figclass_section.yaml").read_text()))
    return params


def _ctx() -> dict:
    p = _params()
    fc = p["figclass"]
    return generate.render_context(p["render"]["styles"], fc["simulated_styles"], fc["box2d_render_style"],
                                   fc["box2d_render_share"], fc["degrade_p"])


def _png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


# ----------------------------------------------------------------------------- generator

def test_every_kind_is_deterministic_and_seeded(tmp_path):
    ctx = _ctx()
    ctx["tmp"] = tmp_path / "r.png"
    for kind in generate.KINDS:
        a = generate.draw_figure(kind, 3, 0, dict(ctx))
        b = generate.draw_figure(kind, 3, 0, dict(ctx))
        c = generate.draw_figure(kind, 3, 1, dict(ctx))
        assert a.mode == "RGB" and min(a.size) >= 16, kind
        assert _png_bytes(a) == _png_bytes(b), f"{kind}: same seed, different image"
        assert _png_bytes(a) != _png_bytes(c), f"{kind}: another seed drew the same image"
        grey = np.asarray(a.convert("L"))
        assert grey.std() > 5, f"{kind}: blank image"


def test_kind_counts_and_labels():
    n = [generate.kind_count(k, 7, 40, 5) for k in generate.NEGATIVE_KINDS]
    assert sum(n) == 40 and max(n) - min(n) <= 1
    assert generate.kind_count("box3d", 7, 40, 5) == 7
    assert generate.kind_count("simulated", 7, 40, 5) == 5
    assert generate.label_of("tsne") == "other" and generate.label_of("neurons") == "neurons"
    with pytest.raises(ValueError, match="unknown figure kind 'pie'"):
        generate.label_of("pie")
    with pytest.raises(ValueError, match="render style"):
        generate.render_context({"keras3": {"look": "keras3"}}, ["keras3", "nope"], None)


def test_write_kind_manifest(tmp_path):
    rows = generate.write_kind(tmp_path / "box3d", "box3d", 3, 0, _ctx())
    back = generate.read_manifest(tmp_path / "box3d")
    assert [r["file"] for r in back] == ["box3d_00000.png", "box3d_00001.png", "box3d_00002.png"]
    assert all(features.file_sha256(r["path"]) == r["sha256"] for r in back)
    assert rows[0]["label"] == "box3d"
    with pytest.raises(FileNotFoundError, match="no figure manifest"):
        generate.read_manifest(tmp_path / "missing")


# ----------------------------------------------------------------------------- features

def test_efficientnet_lite0_imagenet_weights():
    """The network definition matches the packaged weights: Grace Hopper is a
    'military uniform' (ImageNet class 652); folded batch norms change nothing."""
    import matplotlib

    bb = features.load_backbone("efficientnet_lite0")
    img = features.load_image(Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg")
    arr = features.prepare(img, 224, "squash")[None]
    assert int(np.argmax(bb.logits(arr)[0])) == 652
    raw = features._load_state(features._build_effnet_lite0(), features.effnet_weights_path(), "e")
    import torch

    x = (torch.from_numpy(arr).permute(0, 3, 1, 2).float() - 127.0) / 128.0
    with torch.inference_mode():
        ref = raw.features(x).numpy()
    f = bb.batch(arr)
    assert f.shape == (1, 1280)
    np.testing.assert_allclose(f, ref, rtol=1e-3, atol=1e-3)
    # a batch gives each image the features it gets alone
    two = np.concatenate([arr, features.prepare(img.rotate(90, expand=True), 224, "pad")[None]])
    np.testing.assert_allclose(bb.batch(two)[0], f[0], rtol=1e-4, atol=1e-4)


def test_vgg19_missing_weights_message(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    with pytest.raises(features.WeightsMissing) as exc:
        features.load_backbone("vgg19")
    msg = str(exc.value)
    assert str(tmp_path / "th" / "hub" / "checkpoints" / "vgg19-dcbbb0d7.pth") in msg
    assert "vgg19_weights" in msg and "TORCH_HOME" in msg
    with pytest.raises(features.WeightsMissing, match=str(tmp_path / "nope.pth")):
        features.load_backbone("vgg19", tmp_path / "nope.pth")
    with pytest.raises(ValueError, match="unknown backbone 'resnet'"):
        features.load_backbone("resnet")


def test_vgg19_torchvision_layout_and_fc2(tmp_path):
    """torchvision's VGG19 state_dict keys and shapes; a file in that layout loads
    from $TORCH_HOME/hub/checkpoints and gives 4096-d fc2 features; a file that does
    not fit is refused with its path."""
    import torch

    net = features._build_vgg19()
    sd = net.state_dict()
    convs = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]
    want = {f"features.{i}.{p}" for i in convs for p in ("weight", "bias")}
    want |= {f"classifier.{i}.{p}" for i in (0, 3, 6) for p in ("weight", "bias")}
    assert set(sd) == want
    assert tuple(sd["features.0.weight"].shape) == (64, 3, 3, 3)
    assert tuple(sd["classifier.0.weight"].shape) == (4096, 25088)
    assert tuple(sd["classifier.6.weight"].shape) == (1000, 4096)
    ckpt = tmp_path / "hub" / "checkpoints" / features.VGG19_FILE
    ckpt.parent.mkdir(parents=True)
    # small stand-in weights (zeros compress nothing, but the file must only load):
    # half precision halves the 548 MB; load_state_dict casts back to float32
    torch.save({k: v.half() for k, v in sd.items()}, ckpt)
    old = os.environ.get("TORCH_HOME")
    os.environ["TORCH_HOME"] = str(tmp_path)
    try:
        bb = features.load_backbone("vgg19")
    finally:
        if old is None:
            os.environ.pop("TORCH_HOME")
        else:
            os.environ["TORCH_HOME"] = old
    ckpt.unlink()
    assert bb.dim == 4096 and bb.weights == str(ckpt)
    out = bb.batch(np.full((1, 224, 224, 3), 200, np.uint8))
    assert out.shape == (1, 4096) and (out >= 0).all()      # fc2 is after its ReLU
    bad = tmp_path / "bad.pth"
    torch.save({"features.0.weight": torch.zeros(1)}, bad)
    with pytest.raises(features.WeightsMissing, match="bad.pth does not fit"):
        features.load_backbone("vgg19", bad)


def test_baseline_features_and_bad_images(tmp_path):
    bb = features.load_backbone("baseline")
    arr = features.prepare(Image.new("RGB", (300, 100), "white"), 224, "pad")
    f = bb.batch(arr[None])
    assert f.shape == (1, features.BASELINE_DIM) and np.isfinite(f).all()
    (tmp_path / "text.png").write_text("not an image")
    good = tmp_path / "good.png"
    Image.new("RGB", (50, 40), "red").save(good)
    (tmp_path / "cut.png").write_bytes(good.read_bytes()[:40])
    for name, why in [("text.png", "not a readable image"), ("cut.png", "not a readable image"),
                      ("missing.png", "no such file")]:
        with pytest.raises(features.FigureImageError) as exc:
            features.load_image(tmp_path / name)
        assert str(tmp_path / name) in str(exc.value) and why in str(exc.value)
    with pytest.raises(ValueError, match="fit must be"):
        features.prepare(Image.new("RGB", (5, 5)), 224, "crop")


def test_saved_features_are_byte_identical(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    for name in ("a.npz", "b.npz"):
        features.save_features(tmp_path / name, X, ["x", "y", "z"], ["k"] * 3, ["0"] * 3, "baseline")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    fs = compare.load_features([tmp_path / "a.npz"], "baseline")
    np.testing.assert_array_equal(fs.X, X)
    assert list(fs.files) == ["x", "y", "z"]


# ----------------------------------------------------------------------------- comparison + classifier

def test_split_is_stratified_and_deterministic():
    strata = np.array(["a"] * 10 + ["b"] * 20)
    s1 = compare.split_indices(strata, 0)
    s2 = compare.split_indices(strata, 0)
    assert all((s1[k] == s2[k]).all() for k in s1)
    assert sorted(np.concatenate(list(s1.values())).tolist()) == list(range(30))
    assert [int((strata[s1["test"]] == c).sum()) for c in "ab"] == [2, 4]
    assert [int((strata[s1["train"]] == c).sum()) for c in "ab"] == [6, 12]
    with pytest.raises(ValueError, match="three positive fractions"):
        compare.split_indices(strata, 0, (0.5, 0.5))


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """Generate the SMALL set, extract EfficientNet-Lite0 features, compare, train."""
    root = tmp_path_factory.mktemp("figclass")
    p = _params()["figclass"]
    ctx = _ctx()
    kinds = list(generate.STYLES) + [generate.SIMULATED] + list(p["negative_kinds"])
    bb = features.load_backbone("efficientnet_lite0")
    paths = []
    for kind in kinds:
        n = generate.kind_count(kind, SMALL["n_per_style"], SMALL["n_negative"], SMALL["n_simulated"],
                                p["negative_kinds"])
        generate.write_kind(root / "fig" / kind, kind, n, SMALL["seed"], dict(ctx))
        rows = generate.read_manifest(root / "fig" / kind)
        X, stats = features.features_for_manifest(rows, bb, batch_size=16)
        out = root / "feat" / f"{kind}.npz"
        features.save_features(out, X, [r["file"] for r in rows], [r["kind"] for r in rows],
                               [r["sha256"] for r in rows], bb.name)
        paths.append(out)
    fs = compare.load_features(paths, bb.name)
    result = compare.compare(fs, seed=0)
    compare.write_outputs(result, root / "out", {"table4": root / "plots" / "t4.png"})
    bundle, info = classify.train_classifier(fs, seed=0)
    classify.save_classifier(bundle, root / "clf.joblib")
    return root, fs, result, info


def test_small_comparison_tables(small_run):
    root, fs, result, _ = small_run
    assert len(fs.kinds) == 5 * 16 + 72 + 16
    for task in ("table3", "table4", "table5", "stages"):
        assert set(result["tasks"][task]["classifiers"]) == set(compare.CLASSIFIERS)
        md = (root / "out" / f"{task}.md").read_text()
        assert md.count("\n| ") == 7, md        # header + six classifiers
        assert "NNet [1024, 256]" in md and "SVM (RBF)" in md
    t4 = result["tasks"]["table4"]
    assert sum(t4["n"].values()) == 5 * 16 + 16 + 72         # simulated diagrams count as 2D boxes
    assert t4["classes"] == ["architecture", "other"]
    assert np.asarray(t4["classifiers"]["mlp"]["confusion"]).sum() == t4["n"]["test"]
    assert result["tasks"]["table5"]["classes"] == sorted(generate.STYLES)
    csv = (root / "out" / "table3.csv").read_text().splitlines()
    assert csv[0] == "Classifier,Train,Validation,Test,Paper test" and csv[-1].endswith(",99.94")
    with Image.open(root / "plots" / "t4.png") as im:
        assert im.width > 300
    # accuracy floors (set from measurements; see FLOOR)
    tasks = result["tasks"]
    got = {"table3_mlp": tasks["table3"]["classifiers"]["mlp"]["test"],
           "table4_mlp": tasks["table4"]["classifiers"]["mlp"]["test"],
           "table5_mlp": tasks["table5"]["classifiers"]["mlp"]["test"],
           "six_two_stage_mlp": tasks["stages"]["classifiers"]["mlp"]["two_stage_test"]}
    low = {k: round(v, 3) for k, v in got.items() if v < FLOOR[k]}
    assert not low, f"accuracy under the floor {FLOOR}: {low}"


def test_comparison_is_deterministic(small_run):
    _, fs, result, _ = small_run
    sub = compare.FeatureSet(fs.X, fs.kinds, fs.files, fs.backbone)
    again = compare.compare(sub, seed=0, classifiers=["nb", "mlp"], stages=False)
    for task in ("table3", "table4", "table5"):
        for key in ("nb", "mlp"):
            assert again["tasks"][task]["classifiers"][key]["test"] == result["tasks"][task]["classifiers"][key]["test"]


def test_classify_figure_command(small_run, tmp_path, capsys):
    root, _, _, info = small_run
    assert info["test_accuracy_coarse"] >= FLOOR["table4_mlp"]
    ctx = _ctx()
    ctx["tmp"] = tmp_path / "r.png"
    imgs = {}
    for kind in ("neurons", "box3d", "line", "photogrid"):      # seed 7: not in the training set
        path = tmp_path / f"{kind}.png"
        generate.draw_figure(kind, 0, 7, dict(ctx)).save(path)
        imgs[kind] = path
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    import argparse

    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="command")
    classify.add_parser(sub)
    args = ap.parse_args(["classify-figure", *map(str, imgs.values()), str(bad), "--model", str(root / "clf.joblib")])
    rc = args.func(args)
    out = capsys.readouterr().out.strip().splitlines()
    assert rc == 1                      # one unreadable image
    assert len(out) == 5
    got = {}
    for line in out[:4]:
        path, cls, prob = line.split("\t")
        assert 0.0 <= float(prob) <= 1.0
        got[Path(path).stem] = cls
    assert out[4].startswith(f"{bad}\terror\t") and "not a readable image" in out[4]
    assert got["line"] == "other" and got["photogrid"] == "other", got
    assert got["neurons"] == "neurons" and got["box3d"] == "box3d", got
    res = classify.classify_images([imgs["neurons"]], root / "clf.joblib")
    probs = res[0]["probabilities"]
    assert abs(sum(probs.values()) - 1.0) < 1e-6 and set(probs) == set(generate.STYLES) | {"other"}


def test_classify_figure_missing_model(tmp_path, capsys):
    import argparse

    ap = argparse.ArgumentParser()
    classify.add_parser(ap.add_subparsers(dest="command"))
    args = ap.parse_args(["classify-figure", "x.png", "--model", str(tmp_path / "none.joblib")])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "none.joblib") in err and "snakemake --cores 2 results/figclass/classifier.joblib" in err
    (tmp_path / "junk.joblib").write_text("junk")
    with pytest.raises(classify.ClassifierMissing, match="could not be loaded"):
        classify.load_classifier(tmp_path / "junk.joblib")


# ----------------------------------------------------------------------------- workflow

def test_figclass_rules_dry_run(tmp_path):
    """The figclass rules build a DAG from params (figures per kind -> features per
    backbone -> comparison -> summary, classifier) with the rule params named after
    their params.yaml keys."""
    params = _params()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(params))
    snakefile = tmp_path / "Snakefile"
    snakefile.write_text(
        f'configfile: "{cfg}"\n'
        f'include: "{REPO}/workflow/rules/common.smk"\n'
        f'include: "{REPO}/workflow/rules/figclass.smk"\n'
        "rule all_fc:\n    input:\n        rules.figclass_summary.output,\n        rules.figclass_train.output,\n")
    snakemake = Path(sys.executable).parent / "snakemake"
    proc = subprocess.run([str(snakemake), "-s", str(snakefile), "-d", str(REPO), "-n", "--forceall", "--quiet",
                           "rules"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout + proc.stderr
    n_kinds = 5 + 1 + len(params["figclass"]["negative_kinds"])
    n_bb = len(params["figclass"]["backbones"])
    for rule, n in [("figclass_figures", n_kinds), ("figclass_features", n_bb), ("figclass_compare", n_bb),
                    ("figclass_summary", 1), ("figclass_train", 1)]:
        assert any(line.split()[:2] == [rule, str(n)] for line in text.splitlines()), (rule, n, text[-2000:])
    smk = (REPO / "workflow/rules/figclass.smk").read_text()
    for key in params["figclass"]:          # every key reaches a rule (so DVC tracks it)
        assert f'{key}=FIG["{key}"]' in smk, key
    assert "count=" not in smk


def test_fold_keeps_elongated_figures_readable():
    wide = Image.new("RGB", (1000, 80), "white")
    ImageDraw = __import__("PIL.ImageDraw", fromlist=["Draw"])
    ImageDraw.Draw(wide).rectangle([0, 0, 999, 79], outline="black")
    f = features.fold(wide)
    assert max(f.size) / min(f.size) < 2.0 and f.height > 80
    assert features.fold(Image.new("RGB", (300, 200))).size == (300, 200)     # not elongated: unchanged
    tall = features.fold(Image.new("RGB", (100, 900)))
    assert tall.width > tall.height / 2
    assert features.prepare(wide, 224, "fold").shape == (224, 224, 3)


def test_paper_route_picks_figures_with_the_classifier(small_run, tmp_path):
    """The trained classifier as process_paper's figure_filter: every figure gets a class and a verdict."""
    from dlpaper2code.cli import main
    from dlpaper2code.paper.pipeline import process_paper
    from dlpaper2code.paper.synth import generate_paper

    root = small_run[0]
    generate_paper(tmp_path, seed=1, name="p")
    pdf = tmp_path / "p.pdf"
    filt = classify.paper_figure_filter(root / "clf.joblib", min_probability=0.2)
    report = process_paper(pdf, tmp_path / "out", figure_filter=filt, targets=["pytorch"], render_graphs=False)
    figs = report["figures"]
    assert figs and all("classification" in f for f in figs), figs
    for f in figs:
        c = f["classification"]
        assert c["class"] in set(generate.STYLES) | {"other"} and 0 <= c["architecture_probability"] <= 1
        assert f["tried"] == (c["architecture_probability"] >= 0.2 or f["source"] == "vector"), f
        assert ("figure classifier" in f.get("filter", "")) or ("figure classifier" in f.get("why", ""))
    # the command: a missing classifier is a clear error, not a silent "try everything"
    rc = main(["paper", str(pdf), "-o", str(tmp_path / "cli"), "-t", "pytorch",
               "--figure-classifier", str(tmp_path / "none.joblib")])
    assert rc == 2 and not (tmp_path / "cli").exists()


# ------------------------------------------------------------ real figures in training (issue 15)

def _fake_features(rng, n_per_kind=12, dim=16):
    """Generated-figure features: architecture styles around +1 on feature 0, others around -1."""
    from dlpaper2code.figclass.compare import FeatureSet

    kinds = ["neurons", "box2d", "stacked2d", "box3d", "pipeline", "line", "bar", "photogrid"]
    X, ks = [], []
    for k in kinds:
        base = np.zeros(dim)
        base[0] = 1.0 if k in ("neurons", "box2d", "stacked2d", "box3d", "pipeline") else -1.0
        base[1 + kinds.index(k)] = 1.0
        X.append(base + 0.1 * rng.standard_normal((n_per_kind, dim)))
        ks += [k] * n_per_kind
    X = np.concatenate(X).astype(np.float32)
    return FeatureSet(X, np.array(ks), np.array([f"f{i}" for i in range(len(ks))]), "fake")


def test_real_figures_teach_what_generated_ones_do_not():
    """Real 3D-box figures whose features lie where the generated set has only 'other' figures
    (what the benchmark's real figures showed: P(architecture) 0.00 for most): without them the
    classifier calls such a figure other; trained with them (a held-out one) it is architecture."""
    from dlpaper2code.figclass.classify import predict_bundle, train_classifier

    rng = np.random.default_rng(0)
    fs = _fake_features(rng)
    real_like = np.zeros(16)
    real_like[0], real_like[15] = -1.0, 3.0               # 'other'-side on feature 0, a real-only trait on 15
    real = {"X": (real_like + 0.1 * rng.standard_normal((10, 16))).astype(np.float32),
            "label": np.array(["box3d"] * 10), "paper": np.array([f"p{i}" for i in range(10)]), "backbone": "fake"}
    held_out = (real_like + 0.1 * rng.standard_normal((1, 16))).astype(np.float32)
    plain, _ = train_classifier(fs, classifier="lr", seed=0)
    with_real, info = train_classifier(fs, classifier="lr", seed=0, real=real, real_repeat=3)
    assert info["real_figures"] == 10
    assert predict_bundle(plain, held_out)[0]["class"] == "other"
    assert predict_bundle(with_real, held_out)[0]["class"] == "box3d"
    with pytest.raises(ValueError, match="backbone"):
        train_classifier(fs, classifier="lr", real={**real, "backbone": "vgg19"})


def test_the_committed_real_figure_features_match_their_labels():
    """data/realpapers/figure_features.npz (made by `figclass_bench real-features` from the PDFs) holds
    one row per hand-labelled figure of data/realpapers/figure_labels.json, with its label."""
    import json

    from dlpaper2code.eval.figclass_bench import STYLE_CLASS
    from dlpaper2code.figclass.classify import load_real_figures

    labels = json.loads((ROOT / "data" / "realpapers" / "figure_labels.json").read_text())
    real = load_real_figures(ROOT / "data" / "realpapers" / "figure_features.npz")
    want = [(paper, STYLE_CLASS[f["style"]] if f["architecture"] else "other")
            for paper, figs in sorted(labels["papers"].items()) for f in figs]
    assert list(zip(real["paper"].tolist(), real["label"].tolist())) == want
    assert real["X"].shape == (len(want), 1280) and real["backbone"] == "efficientnet_lite0"
    regions = {p.stem: json.loads(p.read_text()) for p in (ROOT / "data" / "realpapers" / "regions").glob("*.json")}
    for paper, figs in labels["papers"].items():
        boxes = [r["box"] for r in regions[paper]["regions"] if r["kind"] == "figure"]
        assert [f["box"] for f in figs] == boxes, paper


def test_the_route_filter_reads_vector_and_captioned_figures_the_classifier_doubts(tmp_path):
    """route_filter_recall: a figure is read when P(architecture) >= the threshold, or it is a vector
    drawing, or its caption names a model part or kind; recall counts the architecture figures read,
    and a raster figure with a plain caption and a low P is reported missed."""
    import json

    from dlpaper2code.eval.figclass_bench import route_filter_recall
    from dlpaper2code.figclass.classify import CAPTION_CUE

    figs = [{"figure": "f1", "caption": "Figure 1: Our network.", "source": "raster"},
            {"figure": "f2", "caption": "Figure 2: Something drawn in boxes.", "source": "vector"},
            {"figure": "f3", "caption": "Figure 3: Object detector.", "source": "raster"},
            {"figure": "f4", "caption": "Figure 4: Illustrations of tasks.", "source": "raster"},
            {"figure": "f5", "caption": "Figure 5: Accuracy against time.", "source": "raster"}]
    (tmp_path / "papers" / "p").mkdir(parents=True)
    (tmp_path / "papers" / "p" / "report.json").write_text(json.dumps({"figures": figs}))
    rows = [{"paper": "p", "number": str(k), "architecture": k <= 4, "p_architecture": 0.05} for k in range(1, 6)]
    rep = route_filter_recall(rows, tmp_path, 0.2)
    assert rep["figures_matched"] == 5 and rep["architecture_figures"] == 4
    assert rep["recall"] == 0.75 and rep["share_read"] == 0.6
    assert rep["missed"] == ["p figure 4 (raster): Figure 4: Illustrations of tasks."]
    rows[3]["p_architecture"] = 0.5
    assert route_filter_recall(rows, tmp_path, 0.2)["recall"] == 1.0
    assert not CAPTION_CUE.search("Accuracy against time") and CAPTION_CUE.search("The U-Net architecture")
