"""Each workflow rule depends on the code its script runs, derived from the import graph."""
from pathlib import Path

import pytest
import yaml

from dlpaper2code.workflow import deps

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "workflow" / "scripts").glob("*.py") if not p.name.startswith("_"))


def files(script):
    return deps.code_files(f"workflow/scripts/{script}", ROOT)


@pytest.mark.parametrize("script", SCRIPTS)
def test_no_pipeline_rule_depends_on_the_web_front_end(script):
    got = files(script)
    assert got, script
    assert not [f for f in got if "/web/" in f], script


def test_codegen_depends_on_the_emitters_and_core_only():
    got = set(files("codegen.py"))
    assert "src/dlpaper2code/emit/codegen.py" in got
    assert "src/dlpaper2code/core/vocab.py" in got
    assert "src/dlpaper2code/config/layers.yaml" in got            # package data through core.paths
    assert "src/dlpaper2code/config/templates/pytorch.yaml" in got
    assert not [f for f in got if "/read/" in f or "/paper/" in f or "/render/" in f]


def test_runtime_only_references_are_followed():
    got = set(files("verify.py"))
    assert "src/dlpaper2code/emit/runner.py" in got                 # run as `python -m dlpaper2code.emit.runner`
    assert any("pycaffe_shim/caffe/net_spec.py" in f for f in got)  # put on sys.path of a subprocess
    reader = set(files("read_shard.py"))
    assert "src/dlpaper2code/read/edges.py" in reader
    assert "src/dlpaper2code/render/_gvworker.py" in reader         # started by path by render.gv


def test_function_level_and_relative_imports(tmp_path):
    pkg = tmp_path / "src" / "dlpaper2code"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "one.py").write_text("def f():\n    from .two import g\n    return g()\n")
    (pkg / "a" / "two.py").write_text("from ..b import h\ndef g():\n    return h\n")
    (pkg / "b.py").write_text("h = 1\n")
    (pkg / "c.py").write_text("unused = 2\n")
    (pkg / "a" / "style.css").write_text("body{}")
    (tmp_path / "workflow" / "scripts").mkdir(parents=True)
    (tmp_path / "workflow" / "scripts" / "s.py").write_text("from dlpaper2code.a.one import f\n")
    deps._modules.cache_clear()
    got = deps.code_files("workflow/scripts/s.py", tmp_path)
    deps._modules.cache_clear()
    assert got == ["src/dlpaper2code/__init__.py", "src/dlpaper2code/a/__init__.py", "src/dlpaper2code/a/one.py",
                   "src/dlpaper2code/a/style.css", "src/dlpaper2code/a/two.py", "src/dlpaper2code/b.py"]


def test_dvc_stages_carry_the_same_narrow_code():
    doc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    for name, stage in doc["stages"].items():
        code = [d for d in stage["deps"] if d.startswith("src/")]
        assert code, name
        assert "src/dlpaper2code" not in code, f"{name} depends on the whole package"
        assert not [d for d in code if "/web" in d], name


def test_dvcignore_is_written_from_the_one_skip_list():
    text = (ROOT / ".dvcignore").read_text()
    assert text == deps.dvcignore_text()
    for part in deps.SKIP_PARTS:
        assert f"*{part}" in text.splitlines()
