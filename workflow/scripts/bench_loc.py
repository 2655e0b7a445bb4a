"""Rule bench_loc: lines of code of the emitted ResNet-50, MobileNetV2 and VGG-16 (with blocks and
written out flat) against torchvision's and keras.applications' own definitions."""

from pathlib import Path

from _wf import ensure_src_on_path, logged, write_json

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.eval.loc_bench import run, table

    src = str(snakemake.params.torchvision_src or "")
    result = run(Path(src) if src else None)
    log.info("\n%s", table(result))
    write_json(snakemake.output[0], result)
