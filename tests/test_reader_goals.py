"""The diagram reader on a small fixed rendered set: accuracy floors per style, bad input, scoring rows.

The full goals (>= 1,000 diagrams per style) are measured by the workflow's read stage and
the benchmark; this set is small and fixed so CI catches regressions."""
from __future__ import annotations

import csv
import statistics
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from dlpaper2code.eval.reader_flow import score_shard, summarize
from dlpaper2code.read import read_diagram
from dlpaper2code.simulate.dataset import ShardOptions, write_shard

ROOT = Path(__file__).resolve().parents[1]
STYLES = yaml.safe_load((ROOT / "params.yaml").read_text())["render"]["styles"]
# floors measured on this set, kept a little under what the reader reaches
FLOORS = {"keras3": (0.99, 0.98), "keras2": (0.99, 0.98), "caffe": (0.99, 0.98), "varied": (0.97, 0.93)}
# measured on this set: 100% / 100% on keras3, keras2 and caffe; varied 100% / 95.3%
# (its goal is 97% / 95%, met on the 1,008-model held-back set: 99.6% / 98.1%)


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    out = tmp_path_factory.mktemp("readset")
    models = [(d, i) for d in (5, 9, 14, 22) for i in range(2)]
    write_shard(out, models, 1234, ShardOptions(styles=STYLES, keras_config=False, caffe=False))
    return out


def test_accuracy_floors_per_style(shard):
    rows = list(score_shard(shard))
    summary = summarize(rows)
    for style, (layer_min, edge_min) in FLOORS.items():
        m = summary[style]
        assert m["images"] == 8
        assert m["layer_accuracy"] >= layer_min, (style, m)
        assert m["edge_accuracy"] >= edge_min, (style, m)


@pytest.mark.parametrize("kind", ["blank", "noise", "truncated", "not_image", "wide", "missing"])
def test_bad_input_gives_a_status_not_a_crash(kind, shard, tmp_path):
    path = tmp_path / f"{kind}.png"
    if kind == "blank":
        Image.fromarray(np.full((300, 400, 3), 255, np.uint8)).save(path)
    elif kind == "noise":
        Image.fromarray((np.random.default_rng(0).random((300, 400, 3)) * 255).astype(np.uint8)).save(path)
    elif kind == "truncated":
        with open(shard / "manifest.csv", newline="") as fh:
            first = next(csv.DictReader(fh))
        data = (shard / first["image"]).read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "not_image":
        path.write_text("hello")
    elif kind == "wide":
        Image.fromarray(np.full((50, 20000, 3), 255, np.uint8)).save(path)
    result = read_diagram(str(path))
    assert result["status"] in ("no_diagram", "error")
    assert str(path) in result["message"]
