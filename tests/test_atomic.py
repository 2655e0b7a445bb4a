"""One atomic-write helper: a failed write leaves the old file or folder, never a partial one."""
import os

import pytest

from dlpaper2code.core.atomic import atomic_dir, atomic_path, atomic_write_text


def test_file_replaced_whole(tmp_path):
    p = tmp_path / "sub" / "m.json"
    atomic_write_text(p, "one")
    atomic_write_text(p, "two")
    assert p.read_text() == "two"
    assert sorted(x.name for x in p.parent.iterdir()) == ["m.json"]
    assert oct(p.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask():
    m = os.umask(0)
    os.umask(m)
    return m


def test_failure_keeps_the_old_file_and_no_temporary(tmp_path):
    p = tmp_path / "m.png"
    p.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            assert tmp.suffix == ".png" and tmp.parent == p.parent
            tmp.write_text("half")
            raise RuntimeError("writer died")
    assert p.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["m.png"]


def test_folder_swapped_in_whole(tmp_path):
    d = tmp_path / "out"
    d.mkdir()
    (d / "stale.txt").write_text("x")
    with atomic_dir(d) as tmp:
        (tmp / "graph.json").write_text("{}")
    assert sorted(x.name for x in d.iterdir()) == ["graph.json"]
    with pytest.raises(ValueError):
        with atomic_dir(d) as tmp:
            (tmp / "half.json").write_text("{")
            raise ValueError
    assert sorted(x.name for x in d.iterdir()) == ["graph.json"]
    assert [x.name for x in tmp_path.iterdir()] == ["out"]


def test_replace_into_swaps_a_prepared_folder_or_file(tmp_path):
    from dlpaper2code.core.atomic import replace_into

    out = tmp_path / "paper"
    out.mkdir()
    (out / "old.json").write_text("1")
    tmp = tmp_path / ".paper.tmp"
    tmp.mkdir()
    (tmp / "report.json").write_text("2")
    replace_into(tmp, out)
    assert [p.name for p in out.iterdir()] == ["report.json"] and not tmp.exists()
    f = tmp_path / ".x.pdf.tmp"
    f.write_text("pdf")
    replace_into(f, tmp_path / "x.pdf")
    assert (tmp_path / "x.pdf").read_text() == "pdf"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["paper", "x.pdf"]
