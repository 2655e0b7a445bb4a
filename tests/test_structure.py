"""Emitted code keeps the paper's blocks: one class (PyTorch, TensorFlow) or function (Keras) per
block type, instantiated per use, and a loop for a run of equal blocks; the models built from it
are the same networks (parameter counts, outputs equal across frameworks)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlpaper2code.core.graph import load_graph, parse_graph
from dlpaper2code.emit.codegen import emit
from dlpaper2code.emit.structure import Use, _named_constant, explain, find_uses
from dlpaper2code.emit.verify import verify_graph

from test_blocks import _resnet50


def _small_resnet(blocks=(2, 3), width=8) -> dict:
    """A CIFAR-sized bottleneck ResNet: two stages, strided first block in the second."""
    layers = [{"layer_type": "Input", "layer_name": "image", "layer_params": {"shape": [16, 16, 3]}, "from_layers": []},
              {"layer_type": "Conv2D", "layer_name": "stem", "layer_params": {"filters": width, "kernel_size": 3,
                                                                              "padding": 1, "use_bias": False},
               "from_layers": ["image"]}]
    prev, ch = "stem", width
    for s, n in enumerate(blocks):
        for b in range(n):
            name = f"stage{s + 1}_block{b + 1}"
            f = width * 2 ** s
            layers.append({"layer_type": "resnet_bottleneck", "layer_name": name,
                           "layer_params": {"filters": f, "strides": 2 if (b == 0 and s > 0) else 1, "in_filters": ch},
                           "from_layers": [prev]})
            prev, ch = name, f * 4
    layers += [{"layer_type": "GlobalAvgPool2D", "layer_name": "gap", "from_layers": [prev]},
               {"layer_type": "Dense", "layer_name": "fc", "layer_params": {"units": 10}, "from_layers": ["gap"]}]
    return {"schema_version": 1, "name": "small_resnet", "layers": layers}


def test_a_block_used_many_times_is_one_class_not_flattened():
    graph = parse_graph(_resnet50())
    uses = find_uses(graph)
    assert len(uses) == 16
    torch_code = emit(graph, "pytorch")["model_pytorch.py"]
    # two classes (identity and projection shortcut), each written once; the stem, the classes' layers and fc
    assert torch_code.count("class ResnetBottleneck(nn.Module)") == 1
    assert torch_code.count("class ResnetBottleneckProj(nn.Module)") == 1
    assert torch_code.count("nn.Conv2d(") == 1 + 3 + 4           # flattened, it would be 53
    assert torch_code.count("ResnetBottleneckProj(") == 1 + 4      # the class and its 4 uses
    # runs of equal blocks are one nn.Sequential each: 2, 3, 5 and 2 blocks
    runs = re.findall(r"nn\.Sequential\(\*\[ResnetBottleneck\((\d+), in_filters=(\d+)\) for _ in range\((\d+)\)\]\)",
                      torch_code)
    assert [(int(f), int(c), int(n)) for f, c, n in runs] == [(64, 256, 2), (128, 512, 3), (256, 1024, 5), (512, 2048, 2)]
    # the varying widths are the block's parameters, not literals
    assert "nn.Conv2d(filters, filters * 4, kernel_size=(1, 1), bias=False)" in torch_code

    keras_code = emit(graph, "keras")["model_keras.py"]
    assert keras_code.count("def resnet_bottleneck(") == 1 and keras_code.count("def resnet_bottleneck_proj(") == 1
    assert keras_code.count("layers.Conv2D(") == 1 + 3 + 4
    assert "for name in ('s3b2', 's3b3', 's3b4', 's3b5', 's3b6'):" in keras_code

    tf_code = emit(graph, "tensorflow")["model_tensorflow.py"]
    assert tf_code.count("class ResnetBottleneck(tf.Module)") == 1
    assert tf_code.count("tf.nn.conv2d(") == 1 + 3 + 4
    assert "for block in self.s3b2_6:" in tf_code


def test_the_pytorch_resnet50_built_from_its_classes_has_the_reference_parameter_count():
    torch = pytest.importorskip("torch")
    code = emit(parse_graph(_resnet50()), "pytorch")["model_pytorch.py"]
    scope: dict = {"__name__": "generated"}
    exec(compile(code, "model_pytorch.py", "exec"), scope)
    model = scope["build_model"]()
    assert sum(p.numel() for p in model.parameters() if p.requires_grad) == 25_557_032
    assert isinstance(model.s3b2_6, torch.nn.Sequential) and len(model.s3b2_6) == 5


def test_blocks_and_loops_run_the_same_network_in_every_framework(tmp_path):
    """Classes, loops and the weight paths into them: same weights, same outputs in all three."""
    path = tmp_path / "small_resnet.json"
    import json

    path.write_text(json.dumps(_small_resnet()))
    report = verify_graph(path, targets="pytorch,keras,tensorflow", work_dir=tmp_path / "work", timeout_s=300)
    assert report["ok"], report
    assert report["equivalence"]["ok"]
    code = (tmp_path / "work" / "pytorch" / "model_pytorch.py").read_text()
    assert "nn.Sequential(*[ResnetBottleneck(16, in_filters=64) for _ in range(2)])" in code


def test_uses_that_differ_in_layers_become_variants_and_numbers_become_parameters():
    graph = parse_graph(_small_resnet(blocks=(2, 2)))
    code = emit(graph, "pytorch")["model_pytorch.py"]
    assert "class ResnetBottleneck(nn.Module)" in code and "class ResnetBottleneckProj(nn.Module)" in code
    # the stride differs between the projection blocks: a parameter read by the layer, with its default
    assert "def __init__(self, filters, in_filters, strides=1):" in code \
        or "def __init__(self, filters, strides=1, in_filters=0):" in code
    assert "stride=strides" in code


def test_a_block_whose_inner_layer_is_read_from_outside_stays_flat():
    doc = _small_resnet(blocks=(2,))
    doc["layers"].append({"layer_type": "GlobalAvgPool2D", "layer_name": "tap",
                          "from_layers": ["stage1_block1/relu1"]})
    doc["outputs"] = ["fc", "tap"]
    graph = parse_graph(doc)
    assert [u.name for u in find_uses(graph)] == ["stage1_block2"]
    code = emit(graph, "pytorch")["model_pytorch.py"]
    assert "stage1_block1_conv1 = self.stage1_block1_conv1(" in code      # written out
    assert "self.stage1_block2 = ResnetBottleneck(" in code


def test_explain_finds_the_parameter_behind_a_varying_number():
    uses = [Use(name=f"b{i}", id=f"b{i}", type="t", params={"filters": f, "expand": 6}, inputs=["x"],
                input_names=["x"], output="o", in_channels=c) for i, (f, c) in enumerate([(16, 32), (24, 16)])]
    assert explain([16, 24], uses) == "filters"
    assert explain([64, 96], uses) == "filters * 4"
    assert explain([32, 16], uses) == "in_channels"
    assert explain([192, 96], uses) == "expand * in_channels"
    assert explain([5, 7], uses) is None
    # a number equal in every use is named only when it is channel-like (>= 8)
    assert _named_constant([(2, 2), (2, 2)], uses) is None
    assert _named_constant([64, 64], uses[:1]) == "filters * 4"


def test_the_flat_option_writes_every_layer_out():
    from dlpaper2code.emit.codegen import emit_options

    graph = parse_graph(_small_resnet())
    with emit_options(blocks=False):
        code = emit(graph, "pytorch")["model_pytorch.py"]
    assert "class ResnetBottleneck" not in code
    assert code.count("nn.Conv2d(") == 1 + 5 * 3 + 2         # stem, 5 blocks of 3, 2 projections


def _lenet(**p) -> dict:
    return {"schema_version": 1, "name": "tiny", "layers": [
        {"layer_type": "Input", "layer_name": "x", "layer_params": {"shape": [8, 8, 1]}, "from_layers": []},
        {"layer_type": "Conv2D", "layer_name": "c", "layer_params": {"filters": 4, "kernel_size": 3, **p},
         "from_layers": ["x"]},
        {"layer_type": "Flatten", "layer_name": "f", "from_layers": ["c"]},
        {"layer_type": "Dense", "layer_name": "out", "layer_params": {"units": 5, "activation": "softmax"},
         "from_layers": ["f"]}]}


def test_the_model_returns_logits_and_probabilities_is_the_separate_softmax_step():
    torch = pytest.importorskip("torch")
    from dlpaper2code.emit.codegen import emit_options

    graph = parse_graph(_lenet(padding=1))
    scope: dict = {"__name__": "generated"}
    exec(emit(graph, "pytorch")["model_pytorch.py"], scope)
    model = scope["build_model"]().eval()
    x = scope["random_inputs"]()
    logits = model(*x)
    assert not torch.allclose(logits.sum(dim=-1), torch.ones(2))           # logits, for CrossEntropyLoss
    assert torch.allclose(scope["probabilities"](logits).sum(dim=-1), torch.ones(2))
    with emit_options(final_softmax="inside"):
        inside = emit(graph, "pytorch")["model_pytorch.py"]
    assert "def probabilities" not in inside and "torch.softmax(" in inside
    for target in ("keras", "tensorflow"):
        assert "def probabilities(logits):" in emit(graph, target)[f"model_{target}.py"]


def test_explicit_padding_that_equals_same_is_written_as_same():
    same = emit(parse_graph(_lenet(padding=1)), "keras")["model_keras.py"]
    assert "padding='same'" in same and "ZeroPadding2D" not in same
    # 3x3 with stride 2 on an even input: 'same' pads (0, 1), so the explicit (1, 1) keeps its padding layer
    strided = emit(parse_graph(_lenet(padding=1, strides=2)), "keras")["model_keras.py"]
    assert "ZeroPadding2D(((1, 1), (1, 1))" in strided and "padding='same'" not in strided
    vgg = emit(load_graph(Path(__file__).resolve().parents[1] / "config/zoo/vgg16.json"), "keras")["model_keras.py"]
    assert vgg.count("layers.Conv2D(") == 13 and vgg.count("padding='same'") == 13 and "ZeroPadding2D" not in vgg


def test_repeated_groups_of_a_flat_graph_become_blocks_by_their_names():
    """keras.applications' ResNet-50 written layer by layer (conv2_block1_1_conv ...): its 16 blocks are found."""
    graph = load_graph(Path(__file__).resolve().parents[1] / "config/zoo/reference/resnet50.json")
    uses = find_uses(graph)
    assert [u.name for u in uses][:4] == ["conv2_block1", "conv2_block2", "conv2_block3", "conv3_block1"]
    assert len(uses) == 16 and all(u.implicit for u in uses)
    code = emit(graph, "pytorch")["model_pytorch.py"]
    assert "self.conv4_block2_6 = nn.Sequential(*[ConvBlock(1024) for _ in range(5)])" in code
    assert code.count("nn.Conv2d(") == 1 + 3 + 4


def _table_rows(reps=3) -> dict:
    """What the paper reader writes for a table row '[3x3, 16; 3x3, 16] x 3': flat layers whose meta
    names the repetition."""
    layers = [{"layer_type": "Input", "layer_name": "input", "layer_params": {"shape": [8, 8, 16]}, "from_layers": []}]
    prev = "input"
    k = 0
    for r in range(reps):
        meta = {"cell": "[3x3, 16; 3x3, 16] x 3", "block": {"type": "resnet_basic_block", "index": r + 1, "of": reps}}
        start = prev
        for j in range(2):
            k += 1
            layers.append({"layer_type": "Conv2D", "layer_name": f"conv2d{k}", "meta": meta,
                           "layer_params": {"filters": 16, "kernel_size": 3, "padding": "same",
                                            "activation": "relu" if j == 0 else "linear"}, "from_layers": [prev]})
            prev = f"conv2d{k}"
        layers.append({"layer_type": "Add", "layer_name": f"add{r + 1}", "meta": meta, "from_layers": [prev, start]})
        layers.append({"layer_type": "Activation", "layer_name": f"activation{r + 1}", "meta": meta,
                       "layer_params": {"function": "relu"}, "from_layers": [f"add{r + 1}"]})
        prev = f"activation{r + 1}"
    layers.append({"layer_type": "GlobalAvgPool2D", "layer_name": "gap", "from_layers": [prev]})
    return {"schema_version": 1, "name": "table_net", "layers": layers}


def test_the_repetitions_of_a_table_row_become_one_block_and_a_loop():
    graph = parse_graph(_table_rows())
    uses = find_uses(graph)
    assert [len(u.nodes) for u in uses] == [4, 4, 4]
    code = emit(graph, "pytorch")["model_pytorch.py"]
    assert code.count("class ResnetBasicBlock(nn.Module)") == 1
    assert "nn.Sequential(*[ResnetBasicBlock(16) for _ in range(3)])" in code
    assert "self.conv1 = nn.Conv2d(in_channels, in_channels, kernel_size=(3, 3), padding=(1, 1))" in code


@pytest.mark.slow
def test_the_table_row_block_runs_the_same_network_in_every_framework(tmp_path):
    import json

    path = tmp_path / "table_net.json"
    path.write_text(json.dumps(_table_rows()))
    report = verify_graph(path, targets="pytorch,keras,tensorflow", work_dir=tmp_path / "work", timeout_s=300)
    assert report["ok"] and report["equivalence"]["ok"], report
