"""Rule verify_summary: metrics JSON + Markdown table (graph x target), and the
one place where a failed verification fails the run (verify.fail_on_error)."""

import json
import sys
from pathlib import Path

from _wf import ensure_src_on_path, logged, write_json, write_text

snakemake = globals()["snakemake"]  # injected by Snakemake's script directive
p = snakemake.params
TARGET_KEYS = ("targets", "frameworks", "backends", "results")


def per_target(result: dict) -> dict:
    """{target: dict} from a per-graph result (tolerates a list or flat layout)."""
    for key in TARGET_KEYS:
        value = result.get(key)
        if isinstance(value, dict) and all(isinstance(v, dict) for v in value.values()):
            return value
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return {str(v.get("target", v.get("framework", i))): v for i, v in enumerate(value)}
    return {t: result[t] for t in p.targets if isinstance(result.get(t), dict)}


def first(d: dict, *keys):
    for key in keys:
        if key in d:
            return d[key]
    return None


def target_ok(d: dict) -> bool:
    if "ok" in d:
        return bool(d["ok"])
    diff = first(d, "max_abs_diff", "max_diff")
    return (
        bool(first(d, "built", "build_ok"))
        and first(d, "shape_ok", "shapes_ok") is not False
        and not d.get("error")
        and (diff is None or float(diff) <= float(p.atol))
    )


def graph_ok(result: dict) -> bool:
    if isinstance(result.get("ok"), bool):
        return result["ok"]
    if result.get("error"):
        return False
    targets = per_target(result)
    return bool(targets) and all(target_ok(d) for d in targets.values())


def cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(results: list[dict], failed: list[str]) -> str:
    lines = [
        "# Verification summary",
        "",
        f"{len(results)} graph(s), {len(results) - len(failed)} passed, {len(failed)} failed; "
        f"targets: {', '.join(p.targets)}; atol {p.atol:g}.",
        "",
        "| graph | target | built | shape ok | max abs diff | status |",
        "|---|---|---|---|---|---|",
    ]
    errors = []
    for result in results:
        name = result["graph"]
        targets = per_target(result)
        for target in list(p.targets) + sorted(set(targets) - set(p.targets)):
            d = targets.get(target, {})
            if d:
                status = "ok" if target_ok(d) else "**FAIL**"
            else:
                status = "**FAIL**" if name in failed else "–"
            lines.append(
                f"| {cell(name)} | {target} | {cell(first(d, 'built', 'build_ok'))} "
                f"| {cell(first(d, 'shape_ok', 'shapes_ok'))} "
                f"| {cell(first(d, 'max_abs_diff', 'max_diff'))} | {status} |"
            )
            if d.get("error"):
                errors.append(f"- `{name}` / {target}: {cell(d['error'])}")
        if result.get("error"):
            errors.append(f"- `{name}`: {cell(result['error'])}")
    if failed:
        lines += ["", "Failed graphs: " + ", ".join(f"`{g}`" for g in failed)]
    if errors:
        lines += ["", "## Errors", "", *errors]
    return "\n".join(lines) + "\n"


with logged(snakemake) as log:
    ensure_src_on_path()
    from dlpaper2code.verify import summarize

    results = []
    for path in snakemake.input:
        result = json.loads(Path(path).read_text())
        result.setdefault("graph", Path(path).stem)
        results.append(result)
    failed = [r["graph"] for r in results if not graph_ok(r)]
    markdown = table(results, failed)
    log.info("\n%s", markdown)
    metrics = summarize(results)
    log.info("metrics: %s", metrics)

    if failed and p.fail_on_error:
        msg = (
            f"verification failed for {len(failed)} of {len(results)} graph(s): "
            f"{', '.join(failed)} (see results/verify/<graph>.json and "
            f"results/logs/verify/; set verify.fail_on_error: false to only report)"
        )
        log.error(msg)
        print(markdown + "\n" + msg, file=sys.__stderr__)
        sys.exit(1)
    if failed:
        log.warning("%d graph(s) failed; fail_on_error is false", len(failed))
    write_json(snakemake.output.metrics, metrics)
    write_text(snakemake.output.table, markdown)
