"""The screenshot tool (python -m dlpaper2code.web.screenshots) on paper folders in the route's
layout: it imports them into a fresh catalog and shoots the catalog, a filtered catalog, a paper
page with highlighted code, a failed candidate opened in the editor and a large design."""
from __future__ import annotations

import json

from PIL import Image

from dlpaper2code.web import screenshots
from dlpaper2code.web.testing import make_paper_dir


def test_screenshots_of_a_catalog(tmp_path):
    root = tmp_path / "papers"
    alpha = make_paper_dir(root, "alpha", title="Alpha: a convolutional network for digits")
    # a failed candidate with no layer at all (a nomenclature table, as on a real paper): nothing
    # to see in the editor, so the shot takes the failed candidate with the most layers
    (alpha / "graphs" / "tab_p3_1.json").write_text(json.dumps({"layers": []}))
    rep = json.loads((alpha / "report.json").read_text())
    rep["graphs"].append({"name": "tab_p3_1", "from": "table", "layers": 0, "valid": False,
                          "issues": ["graph: layers: [] should be non-empty"], "code": {}})
    (alpha / "report.json").write_text(json.dumps(rep))
    folder = make_paper_dir(root, "beta", title="Beta: a paper whose figure was misread", style="box3d")
    bad = {"layers": [{"layer_type": "Input", "layer_name": "image", "layer_params": {}, "from_layers": []},
                      {"layer_type": "Conv2D", "layer_name": "conv1", "layer_params": {"filters": 0},
                       "from_layers": ["image"]}]}
    (folder / "graphs" / "fig_p2_1.json").write_text(json.dumps(bad))
    report = json.loads((folder / "report.json").read_text())
    report["graphs"].append({"name": "fig_p2_1", "from": "figure", "layers": 2, "valid": False,
                             "issues": ["conv1: filters must be >= 1"], "code": {}})
    (folder / "report.json").write_text(json.dumps(report))
    out = tmp_path / "shots"
    result = screenshots.take(root, out, width=1000, height=700)
    assert tuple(result["picks"]["candidate"]) == ("beta", "fig_p2_1")
    assert result["picks"]["framework"] == "pytorch" and result["picks"]["style"] in ("keras3", "box3d")
    for name in screenshots.SHOT_NAMES:
        path = out / f"{name}.png"
        assert result[name] == str(path) and path.is_file(), (name, result[name])
        with Image.open(path) as im:
            assert im.size == (1000, 700)
            assert len(set(im.convert("L").resize((50, 35)).getdata())) > 5, f"{name} is blank"


def test_screenshots_refuse_an_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert screenshots.main(["--papers", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    assert "no paper folder to import" in capsys.readouterr().err
