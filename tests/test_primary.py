"""graph.json is the paper's own model: candidates ranked with reasons, --model picks another."""
from dlpaper2code.paper.primary import pick, rank_candidates


def cand(name, frm="table", table="t1", config=None, n=12, valid=True, **kw):
    layers = [{"layer_type": "Input"}] + [{"layer_type": "Conv2D"}] * n
    return dict(name=name, doc={"layers": layers, "source": {"configuration": config}}, table=table,
                valid=valid, **{"from": frm}, **kw)


def test_baseline_column_loses_to_the_proposed_one():
    cands = [cand("t1_ResNet-50", config="ResNet-50"), cand("t1_SE-ResNet-50", config="SE-ResNet-50"),
             cand("t1_SE-ResNeXt-50", config="SE-ResNeXt-50")]
    ranked = rank_candidates(cands, [{"table": "t1", "caption": "Table 1: (Left) ResNet-50. (Middle) ..."}])
    assert ranked[0]["name"] == "t1_SE-ResNet-50"
    base = next(r for r in ranked if r["name"] == "t1_ResNet-50")
    assert any("baseline" in w for w in base["reasons"])


def test_base_variant_first_and_tables_before_figures():
    cands = [cand("fig_p3_1", frm="figure", table=None, n=30, confidence=0.9),
             cand("t2_Swin-T", table="t2", config="Swin-T", n=16, valid=False),
             cand("t2_Swin-S", table="t2", config="Swin-S", n=28, valid=False)]
    ranked = rank_candidates(cands, [{"table": "t2", "caption": "Table 7. Detailed architecture specifications."}])
    assert [r["name"] for r in ranked][:2] == ["t2_Swin-T", "t2_Swin-S"]
    name, why = pick(ranked, cands)
    assert name == "t2_Swin-T" and "architecture table" in why


def test_tiny_graphs_and_the_model_option():
    cands = [cand("t1", n=2), cand("fig", frm="figure", table=None, n=10)]
    ranked = rank_candidates(cands)
    assert ranked[0]["name"] == "fig"
    assert pick(ranked, cands, "t1") == ("t1", "chosen with --model t1")
    name, why = pick(ranked, cands, "nothing-like-this")
    assert name == "fig" and "no candidate matches" in why
    assert pick([], [], "") == (None, "no graph candidate")


def test_figures_in_an_appendix_and_side_networks_rank_below_the_main_figure():
    """PNASNet's case: the main figure's first network (8 layers) before an appendix figure with more
    layers, and before the other networks drawn beside it in the same figure."""
    main = cand("fig_p5_1", "figure", n=8, confidence=0.85)
    side = cand("fig_p5_1_2", "figure", n=15, confidence=0.85, alternative=True)
    appendix = cand("fig_p19_1", "figure", n=14, confidence=0.85, appendix=True)
    ranked = rank_candidates([appendix, side, main])
    assert [r["name"] for r in ranked] == ["fig_p5_1", "fig_p19_1", "fig_p5_1_2"]
    assert any("appendix" in w for w in ranked[1]["reasons"])
