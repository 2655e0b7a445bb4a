"""Rule verify_summary: metrics JSON + Markdown table (graph x target), and the
one place where a failed verification fails the run (verify.fail_on_error)."""

import json
import sys
from pathlib import Path

from _wf import ensure_src_on_path, logged, write_json, write_text

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive
p = snakemake.params

with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.emit.verify import format_report, summarize

    results = [json.loads(Path(path).read_text()) for path in snakemake.input]
    failed = [r["graph"] for r in results if not r.get("ok")]
    errors = [f"- `{r['graph']}` / {t}: {tr['error']}" for r in results
              for t, tr in r.get("targets", {}).items() if tr.get("error")]
    errors += [f"- `{r['graph']}`: {r['error']}" for r in results if r.get("error")]
    markdown = "\n".join([
        "# Verification summary", "",
        f"{len(results)} graph(s), {len(results) - len(failed)} passed, {len(failed)} failed; "
        f"targets: {', '.join(p.targets)}; equivalence atol {p.atol:g} + rtol {p.rtol:g} x each output's scale.", "",
        format_report(results),
        *(["## Errors", "", *errors, ""] if errors else []),
    ])
    log.info("\n%s", markdown)
    metrics = summarize(results)
    log.info("metrics: %s", metrics)

    if failed and p.fail_on_error:
        msg = (f"verification failed for {len(failed)} of {len(results)} graph(s): {', '.join(failed)} "
               f"(see results/verify/<graph>.json and results/logs/verify/; set verify.fail_on_error: false to only report)")
        log.error(msg)
        print(markdown + "\n" + msg, file=sys.__stderr__)
        sys.exit(1)
    if failed:
        log.warning("%d graph(s) failed; fail_on_error is false", len(failed))
    write_json(snakemake.output.metrics, metrics)
    write_text(snakemake.output.table, markdown)
