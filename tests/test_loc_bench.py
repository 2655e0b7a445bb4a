"""The lines-of-code count behind the README's comparison with torchvision and keras.applications."""
from dlpaper2code.eval.loc_bench import code_lines, definition_ranges, emitted_counts

from conftest import ROOT

SOURCE = '''"""Module docstring,
two lines."""
import os  # a comment


# only a comment
def f(x):
    """Docstring."""
    y = (x +
         1)
    return y


class C:
    pass
'''


def test_code_lines_skip_blank_comment_and_docstring_lines():
    assert code_lines(SOURCE) == 7                        # import, def, y = (2 lines), return, class, pass
    assert code_lines(SOURCE, definition_ranges(SOURCE, ["f"])) == 4
    assert code_lines(SOURCE, definition_ranges(SOURCE, exclude={"f"})) == 2


def test_blocks_make_the_emitted_resnet50_shorter_than_written_out():
    counts = {blocks: emitted_counts(str(ROOT / "config/zoo/reference/resnet50.json"), blocks) for blocks in (True, False)}
    for target in ("pytorch", "keras", "tensorflow"):
        assert counts[True][target]["model"] * 2 < counts[False][target]["model"], target
        assert counts[True][target]["model"] < counts[True][target]["file"]
