"""The package works installed from its wheel, outside the checkout: configuration is package data."""
import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_outside_the_checkout_generates_code(tmp_path):
    wheels = tmp_path / "wheels"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(wheels), str(ROOT)], capture_output=True, text=True, timeout=600,
                       cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (whl,) = wheels.glob("dlpaper2code-*.whl")
    names = set(zipfile.ZipFile(whl).namelist())
    for f in ("layers.yaml", "blocks.yaml", "grammar.yaml", "styles.yaml", "graph.schema.json",
              "templates/pytorch.yaml", "templates/caffe.yaml", "tables/synthetic.json"):
        assert f"dlpaper2code/config/{f}" in names, f
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(whl)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    work = tmp_path / "elsewhere"            # no params.yaml, no config/ here
    work.mkdir()
    graph = work / "lenet5.json"
    graph.write_text((ROOT / "config" / "zoo" / "lenet5.json").read_text())
    env = {k: v for k, v in os.environ.items() if k not in ("DLPAPER2CODE_CONFIG", "DLPAPER2CODE_PARAMS")}
    env["PYTHONPATH"] = str(site)
    code = ("import sys, dlpaper2code; from dlpaper2code.cli import main; "
            "print('FROM', dlpaper2code.__file__); sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", code, "codegen", str(graph), "--target", "pytorch,caffe", "-o", "out"],
                       cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"FROM {site}" in r.stdout
    assert "import torch" in (work / "out" / "model_pytorch.py").read_text()
    assert "layer {" in (work / "out" / "model.prototxt").read_text()
    r = subprocess.run([sys.executable, "-c", code, "validate", str(graph)], cwd=work, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_config_override_still_wins(tmp_path, monkeypatch):
    from dlpaper2code.core import paths

    monkeypatch.setenv("DLPAPER2CODE_CONFIG", str(tmp_path))
    try:
        paths.config_dir()
    except FileNotFoundError as exc:
        assert str(tmp_path) in str(exc) and "DLPAPER2CODE_CONFIG" in str(exc)
    else:
        raise AssertionError("an empty override folder must be refused")
    (tmp_path / "layers.yaml").write_text("{}")
    assert paths.config_file("layers.yaml") == tmp_path / "layers.yaml"
