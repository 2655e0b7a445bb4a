"""How the reader puts right the arrows a tangle of crossing lines got wrong.

Deep Keras diagrams route long skip arrows side by side, sometimes a pixel
apart, and the arrow tracer can hand a Concatenate the wrong tail.  Keras
prints every input shape of a Concatenate in order, and every layer but the
last feeds something: the assembler checks both.  Unit cases on made-up boxes,
then real renders of the kinds of diagram that went wrong before."""
from __future__ import annotations

import pytest

from dlpaper2code.read.assemble import Box, concat_slots, repair_with_shapes, retail_dangling
from dlpaper2code.eval.reader_bench import default_styles
from dlpaper2code.read.labels import Reading, read_box
from dlpaper2code.eval.reader_score import score_set
from dlpaper2code.simulate.dataset import ShardOptions, write_shard


def _box(i: int, rank: float, layer_type: str, out: tuple, ins: list | None = None) -> Box:
    r = Reading(layer_type=layer_type, out_shape=out, in_shapes=ins)
    return Box(i, (0, int(rank), 10, int(rank) + 5), r, role="layer", layer_type=layer_type,
               name=f"l{i}", rank=rank)


def _concat_case(pool_extra: list[Box] | None = None, ins=((504,), (5,), (490,)), out=(999,)):
    boxes = [_box(0, 10, "SimpleRNN", (9,)), _box(1, 20, "Dense", (5,)), _box(2, 30, "Dropout", (504,)),
             _box(3, 40, "Dense", (490,)), _box(4, 50, "Concat", out, [tuple(s) for s in ins])]
    boxes += pool_extra or []
    by = {b.index: b for b in boxes}
    # the tracer gave the Concat simple_rnn (9) where dense_1 (5) feeds it
    cur = [(2, 4, 1.0), (3, 4, 1.0), (0, 4, 0.64)]
    siblings = {4: frozenset(b.index for b in boxes)}
    return by, cur, siblings


def test_a_concat_takes_the_tail_whose_shape_fills_its_empty_slot():
    by, cur, siblings = _concat_case()
    fixed = concat_slots(by, by[4], cur, [], siblings)
    assert fixed is not None
    assert sorted(e[0] for e in fixed) == [1, 2, 3]


def test_a_concat_whose_shapes_agree_or_were_misread_is_left_alone():
    by, cur, siblings = _concat_case()
    right = [(2, 4, 1.0), (3, 4, 1.0), (1, 4, 1.0)]
    assert concat_slots(by, by[4], right, [], siblings) is None
    # input shapes that do not add up to the output: an OCR slip, not evidence
    by, cur, siblings = _concat_case(ins=((504,), (5,), (49,)))
    assert concat_slots(by, by[4], cur, [], siblings) is None


def test_an_empty_slot_two_boxes_could_fill_is_not_guessed():
    twin = _box(5, 25, "Dropout", (5,))
    by, cur, siblings = _concat_case([twin])
    assert concat_slots(by, by[4], cur, [], siblings) is None
    # ... unless an alternative arrow the tracer found says which
    fixed = concat_slots(by, by[4], cur, [(5, 4, 0.7)], siblings)
    assert sorted(e[0] for e in fixed) == [2, 3, 5]


def test_a_box_downstream_or_outside_the_tangle_is_not_a_candidate():
    late = _box(1, 60, "Dense", (5,))          # below the Concat
    by, cur, siblings = _concat_case()
    by[1] = late
    assert concat_slots(by, by[4], cur, [], siblings) is None
    by, cur, _ = _concat_case()
    assert concat_slots(by, by[4], cur, [], {4: frozenset({0, 2, 3, 4})}) is None


def test_repair_with_shapes_applies_the_slots_without_alternatives():
    by, cur, siblings = _concat_case()
    chain = [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0)]
    out = repair_with_shapes(list(by.values()), chain + cur, [], siblings)
    assert sorted(e for e in out if e[1] == 4)[0][0] == 1
    assert {(e[0], e[1]) for e in out} == {(0, 1), (1, 2), (2, 3), (1, 4), (2, 4), (3, 4)}


def test_a_layer_that_feeds_nothing_takes_the_arrow_of_its_twin():
    # dense (0) -> dropout (1), both (None, 220); the arrow into concat (2)
    # was read from dense, so dropout feeds nothing; out (3) is the last layer
    boxes = [_box(0, 10, "Dense", (220,)), _box(1, 20, "Dropout", (220,)),
             _box(2, 30, "Dense", (64,)), _box(3, 40, "Dense", (10,))]
    by = {b.index: b for b in boxes}
    edges = [(0, 1, 1.0), (0, 2, 0.6), (2, 3, 1.0)]
    out = retail_dangling(by, set(by), edges, {i: frozenset(by) for i in by})
    assert {(e[0], e[1]) for e in out} == {(0, 1), (1, 2), (2, 3)}
    # not in the same tangle, or a different shape: nothing to go on
    assert retail_dangling(by, set(by), edges, {}) == edges
    by[1].reading.out_shape = (221,)
    assert retail_dangling(by, set(by), edges, {i: frozenset(by) for i in by}) == edges


def test_a_header_found_cut_in_two_still_names_the_layer():
    cells = [("interior", "Input shape: (None, 1280)", (1115, 2145, 1406, 2194)),
             ("interior", "Output shape: (None, 1280)", (1409, 2145, 1716, 2194)),
             ("panel", "out)", (1480, 2085, 1720, 2145)),
             ("panel", "dropout_8 (Dropout)", (1111, 2085, 1720, 2145))]
    r = read_box(cells)
    assert (r.name, r.layer_type, r.out_shape) == ("dropout_8", "Dropout", (1280,))


# Deep models of the held-back bench set (seed 1000) whose Keras 3 drawings the
# reader once got wrong: a skip arrow into a Concatenate crossing another one
# beside a box (30, 0), a Dropout whose arrow was read from the Dense before it
# (35, 8), a header found in two pieces (39, 22), an arrow leaving a box's side
# right where another line crosses, whose ink passed for an arrowhead (21, 11).
TANGLED = [(30, 0), (35, 8), (39, 22), (21, 11)]


@pytest.fixture(scope="module")
def tangled(tmp_path_factory):
    out = tmp_path_factory.mktemp("tangled")
    write_shard(out, TANGLED, 1000, ShardOptions(styles={"keras3": default_styles()["keras3"]},
                                                 keras_config=False, caffe=False))
    return out


def test_deep_tangled_keras3_diagrams_are_read_exactly(tangled):
    rows = score_set(tangled / "manifest.csv", tangled)
    assert len(rows) == len(TANGLED)
    for row in rows:
        assert row["status"] == "ok", row
        assert row["exact"], row
