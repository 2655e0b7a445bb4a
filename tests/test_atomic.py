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
