"""Scoring reports of the diagram reader: per-style summary, table, box plots."""
from __future__ import annotations

from PIL import Image

from dlpaper2code.eval.reader_flow import boxplots, format_summary, load_rows, summarize, write_rows


def _rows():
    rows = []
    for i in range(10):
        rows.append({"model": f"m{i}", "style": "keras3", "look": "keras3", "depth": 5, "layers": 7, "edges": 6,
                     "status": "ok", "layer_acc": 1.0, "edge_acc": 1.0 if i else 0.5, "exact": int(i > 0),
                     "hparam_acc": 0.9, "hparams": 10, "seconds": 0.1 * (i + 1), "message": ""})
        rows.append({"model": f"m{i}", "style": "caffe", "look": "caffe", "depth": 5, "layers": 7, "edges": 6,
                     "status": "ok" if i else "no_diagram", "layer_acc": 0.0 if i == 0 else 1.0, "edge_acc": 0.0 if i == 0 else 1.0,
                     "exact": int(i > 0), "hparam_acc": "", "hparams": 0, "seconds": 0.5, "message": ""})
    return rows


def test_summary_per_style_and_overall(tmp_path):
    path = tmp_path / "scores.csv"
    assert write_rows(_rows(), path) == 20
    rows = load_rows([path])
    s = summarize(rows)
    assert set(s) == {"keras3", "caffe", "all"}
    assert s["keras3"]["edge_accuracy"] == 0.95 and s["keras3"]["exact_share"] == 0.9
    assert s["keras3"]["hparam_accuracy"] == 0.9 and s["caffe"]["hparam_accuracy"] is None
    assert s["caffe"]["not_ok"] == 1 and s["caffe"]["layer_accuracy"] == 0.9
    # linear interpolation between ranks (core.stats.percentile): 0.9 + 0.55 * 0.1
    assert s["keras3"]["seconds_median"] == 0.55 and s["keras3"]["seconds_p95"] == 0.955
    assert s["all"]["images"] == 20
    table = format_summary(s)
    assert "| keras3 | 10 | 100.00% | 95.00% | 90.0% | 90.00% | 0 |" in table
    assert "| caffe | 10 | 90.00% | 90.00% | 90.0% | n/a | 1 |" in table


def test_one_summary_for_the_flow_and_the_benchmark():
    """CSV rows (the workflow) and score_diagram rows (the benchmark) give one and the same summary;
    hyper-parameter accuracy is micro-averaged over every shown parameter."""
    from dlpaper2code.eval.reader_score import summarize as bench_summarize

    rows = _rows()
    rows[0].update(hparam_acc=0.5, hparams=2)           # 1 of 2 right, beside 9 images with 9 of 10 right
    long = [{**r, "layer_accuracy": r["layer_acc"], "edge_accuracy": r["edge_acc"],
             "hparam_accuracy": r["hparam_acc"]} for r in rows]
    for r in long:
        for k in ("layer_acc", "edge_acc", "hparam_acc"):
            del r[k]
    assert summarize(rows) == bench_summarize(long)
    assert summarize(rows)["keras3"]["hparam_accuracy"] == round(82 / 92, 5)


def test_boxplots_written_atomically(tmp_path):
    png = tmp_path / "plots" / "box.png"
    boxplots(load_rows([write_rows(_rows(), tmp_path / "s.csv") and tmp_path / "s.csv"]), png)
    with Image.open(png) as im:
        assert im.size[0] > 300 and im.size[1] > 200
    assert not list(png.parent.glob(".*"))
