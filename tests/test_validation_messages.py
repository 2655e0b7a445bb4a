"""The validation messages people meet in the editor: a cycle named as a cycle (not as a wrong
input count), names and values described in words (never a raw regular expression), and one
message for one bad value."""
import copy
import re

import pytest

from dlpaper2code.core.errors import GraphError
from dlpaper2code.core.graph import parse_graph
from dlpaper2code.web.service import generate
from dlpaper2code.web.testing import demo_graph

REGEX_HINT = re.compile(r"\^\[|\]\+\$|\]\*\$|does not match|\\\\s")


def issues_of(doc) -> list[dict]:
    out = generate(copy.deepcopy(doc), [])
    assert not out["ok"]
    return out["issues"]


def parse_issues(doc):
    with pytest.raises(GraphError) as err:
        parse_graph(copy.deepcopy(doc))
    return err.value.issues


# ------------------------------------------------------------------ cycles
def test_a_cycle_through_a_second_input_is_reported_as_a_cycle():
    doc = demo_graph()
    doc["layers"][1]["from_layers"] = ["image", "fc"]      # fc -> conv1 closes conv1 -> pool1 -> flat -> fc
    issues = issues_of(doc)
    cyc = [i for i in issues if i["kind"] == "cycle"]
    assert len(cyc) == 1, issues
    assert cyc[0]["message"].startswith("the graph has a cycle: ")
    loop = cyc[0]["message"].split(": ", 1)[1].split(" -> ")
    assert loop[0] == loop[-1] and set(loop) == {"conv1", "pool1", "flat", "fc"}
    assert cyc[0]["node"] in {"conv1", "pool1", "flat", "fc"}
    assert not any("takes 1 input(s), got 2" in i["message"] for i in issues), issues


def test_a_cycle_of_single_inputs_reads_the_same():
    doc = demo_graph()
    doc["layers"][2]["from_layers"] = ["fc"]
    (issue,) = issues_of(doc)
    assert issue["kind"] == "cycle" and issue["node"] in {"pool1", "flat", "fc"}
    assert re.fullmatch(r"the graph has a cycle: (\w+) -> \w+ -> \w+ -> \1", issue["message"]), issue


def test_a_layer_fed_by_itself_is_a_cycle():
    doc = demo_graph()
    doc["layers"][2]["from_layers"] = ["pool1"]
    issues = parse_issues(doc)
    assert [(i.kind, i.node, i.message) for i in issues] == [("cycle", "pool1", "the graph has a cycle: pool1 -> pool1")]


def test_a_real_extra_input_off_the_cycle_is_still_an_arity_error():
    doc = demo_graph()
    doc["layers"][1]["from_layers"] = ["image", "image"]
    issues = parse_issues(doc)
    assert [i.kind for i in issues] == ["arity"] and issues[0].node == "conv1"


# ------------------------------------------------------------- words, not regexes
def test_a_bad_layer_name_is_described_in_words_on_its_layer():
    doc = demo_graph()
    doc["layers"][1]["layer_name"] = "conv 1"
    doc["layers"][2]["from_layers"] = ["conv 1"]
    issues = issues_of(doc)
    assert issues, issues
    for i in issues:
        assert not REGEX_HINT.search(i["message"]), i["message"]
        assert "spaces" in i["message"]
    assert {i["node"] for i in issues} >= {"conv 1"} or {i["node"] for i in issues} >= {"pool1"}, issues


def test_a_bad_graph_name_is_described_in_words():
    doc = demo_graph()
    doc["name"] = "9lives"
    (issue,) = issues_of(doc)
    assert not REGEX_HINT.search(issue["message"]), issue["message"]
    assert "'9lives'" in issue["message"] and "letter" in issue["message"] and "digits" in issue["message"]


def test_every_pattern_in_the_schema_has_words():
    from dlpaper2code.core import graph as g

    patterns = set(re.findall(r'"pattern":\s*"((?:[^"\\]|\\.)*)"', g.paths.config_file("graph.schema.json").read_text()))
    assert patterns
    import json
    for p in patterns:
        assert json.loads(f'"{p}"') in g.PATTERN_WORDS, p


def test_a_schema_problem_in_a_layer_is_put_on_that_layer():
    doc = demo_graph()
    doc["layers"][2]["from_layers"] = [""]
    issues = issues_of(doc)
    assert any(i["node"] == "pool1" for i in issues), issues
    assert not any(REGEX_HINT.search(i["message"]) for i in issues), issues


# ------------------------------------------------------------- one value, one message
@pytest.mark.parametrize("value", [0, -3, "many", 2.5])
def test_one_bad_value_gives_one_message(value):
    doc = demo_graph()
    doc["layers"][1]["layer_params"]["filters"] = value
    issues = issues_of(doc)
    assert len(issues) == 1, issues
    assert issues[0]["kind"] == "bad_param" and issues[0]["node"] == "conv1"
    assert "filters" in issues[0]["message"]


def test_a_missing_value_is_still_reported():
    doc = demo_graph()
    del doc["layers"][1]["layer_params"]["filters"]
    issues = issues_of(doc)
    assert [(i["kind"], i["node"]) for i in issues] == [("missing_param", "conv1")]
