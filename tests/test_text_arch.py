"""Architectures stated in the body text (paper.text_arch), on generated sentences and a generated
two-column PDF: the notations and phrasings met on the real papers' dev set (a layer chain with
abbreviations the text defines, as DeepPose writes it; a multi-layer perceptron stated in one
sentence and "followed by two layers with the same structure", as the parking-trajectory paper
writes it), with invented numbers."""
from __future__ import annotations

from dlpaper2code.paper.options import PaperOptions
from dlpaper2code.paper.pipeline import process_paper
from dlpaper2code.paper.table_graph import graph_issues
from dlpaper2code.paper.text_arch import VALUES, Passage, _chains, _legend, _sentences, text_graphs


def types(doc):
    return [(l["layer_type"], l["layer_params"]) for l in doc["layers"]]


CHAIN_TEXT = ("We denote by C a convolutional layer, by N a local response normalization layer, S a pooling layer "
              "and by D a fully connected layer. Only C and D layers have weights. For C layers the size is written "
              "as width × height × depth. The network is C(60 × 60 × 48) − N − S − C(30 × 30 × 128) − S − "
              "C(15 × 15 × 192) − S − D(1024) − D(512). The input image of 240 × 240 pixels is fed with stride 4.")


def test_a_chain_in_the_papers_own_notation_with_the_abbreviations_it_defines():
    legend = _legend(CHAIN_TEXT)
    assert {k: v[0] for k, v in legend.items()} == {"C": "Conv2D", "N": "LRN", "S": "MaxPool2D", "D": "Dense"}
    chain, = _chains(Passage(3, CHAIN_TEXT), legend)
    assert [l["type"] for l in chain["layers"]] == ["Conv2D", "LRN", "MaxPool2D", "Conv2D", "MaxPool2D", "Conv2D",
                                                   "MaxPool2D", "Dense", "Dense"]
    assert [l["params"].get("filters") or l["params"].get("units") for l in chain["layers"]
            if l["type"] in ("Conv2D", "Dense")] == [48, 128, 192, 1024, 512]


def test_a_chain_of_layer_names_the_vocabulary_knows():
    text = "Our classifier is conv3-32 → conv3-32 → max pool → conv3-64 → max pool → FC-256 → FC-10, trained with SGD."
    chain, = _chains(Passage(1, text), {})
    assert [(l["type"], l["params"]) for l in chain["layers"]] == [
        ("Conv2D", {"kernel_size": 3, "filters": 32}), ("Conv2D", {"kernel_size": 3, "filters": 32}), ("MaxPool2D", {}),
        ("Conv2D", {"kernel_size": 3, "filters": 64}), ("MaxPool2D", {}), ("Dense", {"units": 256}),
        ("Dense", {"units": 10})]


def test_prose_with_dashes_is_not_a_chain():
    text = ("The results − shown in Table 2 − improve on the baseline − a strong one − by two points. "
            "We denote by N the number of samples and by T the number of steps.")
    assert _chains(Passage(1, text), _legend(text)) == []
    assert _sentences(Passage(1, text)) == []


def test_layers_stated_by_sentences():
    text = ("The network takes the state as input. Two hidden layers consist of 64 rectified linear units "
            "serve as the shared trunk, followed by one layer with the same structure as the head.")
    group, = _sentences(Passage(5, text))
    assert [(l["type"], l["params"]) for l in group["layers"]] == [("Dense", {"units": 64, "activation": "relu"})] * 3
    text = ("The first convolutional layer filters the input with 64 kernels of size 7 × 7 × 3 with a stride of 2 "
            "pixels. The second takes its output and filters it with 128 kernels of size 3 × 3 × 64. We then use "
            "two fully connected layers with 512 neurons each.")
    group, = _sentences(Passage(2, text))
    assert [(l["type"], l["params"]) for l in group["layers"]] == [
        ("Conv2D", {"filters": 64, "kernel_size": [7, 7], "strides": 2}),
        ("Conv2D", {"filters": 128, "kernel_size": [3, 3]}), ("Dense", {"units": 512}), ("Dense", {"units": 512})]


def _two_column_pdf(path, left_lines, right_lines):
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(612, 792))
    c.setFont("Times-Roman", 9)
    for k, line in enumerate(left_lines):
        c.drawString(50, 720 - 11 * k, line)
    for k, line in enumerate(right_lines):
        c.drawString(320, 720 - 11 * k, line)
    c.showPage()
    c.save()


def test_a_paper_whose_model_is_only_in_its_text(tmp_path):
    """Two columns, the chain broken over lines and a hyphenated word; the route offers the text's graph."""
    left = ["1. Introduction", "Pose estimation is hard and we study it here in", "a new way that is simple.",
            "We denote by C a convolutional layer, by N a local", "response normalization layer, S a pooling layer and",
            "by D a fully connected layer. The input image of 240"]
    right = ["× 240 pixels is fed with stride 4. The net is", "C(60 × 60 × 48) − N − S − C(30 × 30 × 128) − S −",
             "C(15 × 15 × 192) − S − D(1024) − D(512). The convolu-", "tional layers use rectified linear units."]
    pdf = tmp_path / "textonly.pdf"
    _two_column_pdf(pdf, left, right)
    out = tmp_path / "out"
    report = process_paper(pdf, out, PaperOptions(read_figures=False, targets=("pytorch",), render_graphs=False,
                                                  page_images=False))
    assert report["status"] == "ok", report
    assert report["steps"]["text"] == {"read": True, "graphs": 1, "values": [], "figure_graphs_filled": 0,
                                       "fused_with_figures": 0}
    assert report["primary_graph"] == "text_p1_1" and report["primary_valid"]
    entry, = report["text"]
    assert entry["reader"] == "chain" and "C(60 × 60 × 48)" in entry["text"]
    doc = __import__("json").loads((out / "graph.json").read_text())
    assert doc["layers"][0]["layer_params"] == {"shape": [240, 240, 3]}
    assert [l["layer_type"] for l in doc["layers"]][1:4] == ["Conv2D", "LRN", "MaxPool2D"]
    assert all(l["meta"]["source"] == "text" and l["meta"]["page"] == 1 for l in doc["layers"])
    assert not graph_issues(doc)
    html = (out / "report.html").read_text()
    assert "Body text" in html and "C(60 × 60 × 48)" in html and "1 architecture(s) stated" in html
    off = process_paper(pdf, tmp_path / "off", PaperOptions(read_figures=False, read_text=False, targets=("pytorch",),
                                                            render_graphs=False, page_images=False))
    assert off["steps"]["text"] == {"read": False, "graphs": 0, "values": [], "figure_graphs_filled": 0,
                                    "fused_with_figures": 0} and \
        off["primary_graph"] is None


def test_text_graphs_on_layouts_without_text():
    assert text_graphs([]) == []


def test_convolution_and_pooling_sentences():
    text = ("The encoder has two convolutional layers with 32 filters of size 5 × 5 and a stride of 1, followed "
            "by max pooling with a window of 2 × 2 and stride 2. Then one convolutional layer with 64 feature maps "
            "and average pooling over regions of 3 × 3 lead to a fully connected layer with 10 units.")
    group, = _sentences(Passage(4, text))
    assert [(l["type"], l["params"]) for l in group["layers"]] == [
        ("Conv2D", {"filters": 32, "kernel_size": [5, 5], "strides": 1}),
        ("Conv2D", {"filters": 32, "kernel_size": [5, 5], "strides": 1}),
        ("MaxPool2D", {"pool_size": [2, 2], "strides": 2}), ("Conv2D", {"filters": 64}),
        ("AvgPool2D", {"pool_size": [3, 3]}), ("Dense", {"units": 10})]
    # a related-work sentence that counts layers without stating them is not a description
    assert _sentences(Passage(1, "AlexNet has five convolutional layers and three fully connected ones.")) == []


def _first_value(text, name):
    for rx in VALUES[name]:
        m = rx.search(text)
        if m:
            return next(g for g in m.groups() if g)
    return None


def test_values_stated_by_name():
    """BERT's notation (L, H, A), the issue's (N = 6, d_model = 512, h = 8), d_ff and a dropout rate;
    a lone "h = 3" that is no head count is not taken."""
    bert = ("We denote the number of layers (i.e., Transformer blocks) as L, the hidden size as H, and the number "
            "of self-attention heads as A. We report results on two model sizes: BERTBASE (L=12, H=768, A=12, "
            "Total Parameters=110M).")
    assert [_first_value(bert, k) for k in ("N", "d_model", "heads")] == ["12", "768", "12"]
    ours = "The model has N = 6 layers, d_model = 512 and h = 8 heads; d_ff = 2048, dropout rate of 0.1."
    assert [_first_value(ours, k) for k in ("N", "d_model", "heads", "d_ff", "dropout")] == \
        ["6", "512", "8", "2048", "0.1"]
    assert _first_value("The kernel is h = 3 pixels high.", "heads") is None
    assert _first_value("We use N = 100 samples.", "N") is None

