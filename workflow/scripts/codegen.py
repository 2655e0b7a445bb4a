"""Rule codegen: emit the code of one graph for the configured frameworks."""

from pathlib import Path

from _wf import atomic_dir, ensure_src_on_path, logged

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.emit.codegen import write_code
    from dlpaper2code.core.graph import load_graph

    graph = load_graph(snakemake.input.graph)
    targets = list(snakemake.params.targets)
    log.info("graph %s -> %s", graph.name, targets)
    with atomic_dir(snakemake.output[0]) as tmp:
        written = write_code(graph, targets, str(tmp))
        for path in written:
            log.info("wrote %s", Path(snakemake.output[0]) / Path(path).name)
        if not any(tmp.iterdir()):
            raise RuntimeError(f"write_code wrote no file for {graph.name}")
