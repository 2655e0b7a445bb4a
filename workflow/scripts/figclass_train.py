"""Rule figclass_train: the two-stage figure classifier used by `dlpaper2code classify-figure`."""

from _wf import ensure_src_on_path, logged, write_json

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.figclass.classify import load_real_figures, save_classifier, train_classifier
    from dlpaper2code.figclass.compare import load_features

    p = snakemake.params
    fs = load_features(snakemake.input.features, p.classifier_backbone)
    real = load_real_figures(snakemake.input.real[0]) if snakemake.input.real else None
    bundle, info = train_classifier(fs, classifier=p.model, seed=p.seed, split=tuple(p.split),
                                    mlp_hidden=tuple(p.mlp_hidden), scale=p.scale, size=p.image_size, fit=p.fit,
                                    weights=p.vgg19_weights if p.classifier_backbone == "vgg19" else "",
                                    real=real, real_repeat=p.real_repeat)
    save_classifier(bundle, snakemake.output.model)
    write_json(snakemake.output.info, info)
    log.info("classifier %s on %s: %s", p.model, p.classifier_backbone, info)
