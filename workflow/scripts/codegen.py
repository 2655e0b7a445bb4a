"""Rule codegen: emit the code of one graph for the configured frameworks.

A framework whose template declares a layer inexpressible (BVLC Caffe and attention)
gets `<target>.refused.txt` with the reason instead of code; any other emission error
fails the job."""

from pathlib import Path

from _wf import atomic_dir, ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.core.errors import EmitError
    from dlpaper2code.emit.codegen import emit_options, write_code
    from dlpaper2code.core.graph import load_graph

    graph = load_graph(snakemake.input.graph)
    targets = list(snakemake.params.targets)
    log.info("graph %s -> %s", graph.name, targets)
    with atomic_dir(snakemake.output[0]) as tmp:
        for target in targets:
            try:
                with emit_options(caffe_version=str(snakemake.params.caffe_version),
                                  final_softmax=str(snakemake.params.final_softmax),
                                  blocks=bool(snakemake.params.blocks)):
                    written = write_code(graph, [target], str(tmp))
            except EmitError as exc:
                if not exc.declared:
                    raise
                (tmp / f"{target}.refused.txt").write_text(str(exc) + "\n", encoding="utf-8")
                log.warning("%s refused: %s", target, exc)
                continue
            for path in written:
                log.info("wrote %s", Path(snakemake.output[0]) / Path(path).name)
        if not any(tmp.iterdir()):
            raise RuntimeError(f"write_code wrote no file for {graph.name}")
