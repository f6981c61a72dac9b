"""Turns the JSON lines of `benchmarks.run` into tables, ratios and a bar
chart, and writes them into `benchmarks/RESULTS.md` between two markers
(the text around them, the analysis, is kept).

    python -m benchmarks.report --results benchmarks/results.jsonl
"""

import collections
import json
import os

from absl import app
from absl import flags

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS_MD = os.path.join(HERE, "RESULTS.md")
CHART = os.path.join(HERE, "results.png")
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"

# Time of the Keras WGAN over the same framework's hand-written loop.
TARGETS = {"jax": 1.10, "torch": 1.00, "tensorflow": 1.25}
BACKENDS = ("tensorflow", "jax", "torch")
REQUIRED_KEYS = {
    "step_time": ("median_s", "p25_s", "p75_s", "mean_s", "steps"),
    "first_step": ("first_step_s", "peak_rss_mb", "rss_increase_mb"),
    "check": ("critic_loss_max_abs_diff", "generator_loss_max_abs_diff",
              "trained_weights_max_abs_diff"),
    "compilations": ("steps", "generator_iterations"),
}
COMMON_KEYS = ("kind", "workload", "backend", "implementation", "variant", "device", "date",
               "versions")


def load(path) -> list:
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def validate(result: dict) -> None:
    """Raises unless `result` is a well-formed result line."""
    missing = [k for k in COMMON_KEYS if k not in result]
    kind = result.get("kind")
    if kind not in REQUIRED_KEYS:
        raise ValueError(f"Unknown result kind {kind!r} in {result!r}")
    missing += [k for k in REQUIRED_KEYS[kind] if k not in result]
    if missing:
        raise ValueError(f"Result of kind {kind!r} lacks {missing}: {result!r}")


def _ms(seconds):
    return "–" if seconds is None else f"{seconds * 1e3:,.1f}"


def _ratio(value):
    return "–" if value is None else f"{value:.2f}×"


def _order(workload_names):
    known = ["mlp", "dcgan32", "dcgan64"]
    return sorted(workload_names, key=lambda w: (known.index(w) if w in known else 99, w))


def step_times(results) -> dict:
    """{(workload, backend, variant label): {"keras": line, "reference": line}}."""
    pairs = collections.defaultdict(dict)
    for r in results:
        if r["kind"] == "step_time":
            key = "keras" if r["implementation"] == "keras_wgan" else "reference"
            pairs[(r["workload"], r["backend"], _variant_label(r))][key] = r
    return pairs


def _variant_label(result):
    """The variant, and "1 thread" for runs with `--single_thread`."""
    if result.get("threads") == "single":
        return f"{result['variant']}, 1 thread"
    return result["variant"]


def ratios(results) -> list:
    """One row per (workload, backend, variant): medians and ratios."""
    pairs = step_times(results)
    fastest = {}
    for (workload, _, _), pair in pairs.items():
        if "reference" in pair and pair["reference"]["median_s"] and (
            pair["reference"].get("threads") != "single"
        ):
            best = fastest.get(workload)
            median = pair["reference"]["median_s"]
            fastest[workload] = median if best is None else min(best, median)
    rows = []
    for (workload, backend, variant), pair in pairs.items():
        keras, reference = pair.get("keras"), pair.get("reference")
        k = keras and keras["median_s"]
        ref = reference and reference["median_s"]
        ratio = k / ref if k and ref else None
        target = TARGETS.get(backend)
        rows.append({
            "workload": workload, "backend": backend, "variant": variant,
            "options": (keras or {}).get("options"),
            "keras_s": k, "reference_s": ref, "ratio": ratio,
            "keras_iqr": keras and (keras["p25_s"], keras["p75_s"]),
            "reference_iqr": reference and (reference["p25_s"], reference["p75_s"]),
            "ratio_to_fastest": k / fastest[workload] if k and workload in fastest else None,
            "reference_ratio_to_fastest": (
                ref / fastest[workload] if ref and workload in fastest else None
            ),
            "target": target,
            "met": None if ratio is None or target is None else ratio <= target,
            "steps": keras and keras["steps"],
            "single": (reference or keras or {}).get("threads") == "single",
        })
    backend_order = {b: i for i, b in enumerate(BACKENDS)}
    workloads = _order({r["workload"] for r in rows})
    rows.sort(key=lambda r: (workloads.index(r["workload"]), r["single"],
                             backend_order.get(r["backend"], 9), r["variant"]))
    return rows


def _options(options):
    if not options:
        return ""
    return ", ".join(f"{k}={v}" for k, v in options.items())


def step_table(results) -> str:
    lines = [
        "| workload | backend | variant | Keras WGAN ms/iter (IQR) | reference ms/iter (IQR) "
        "| ratio | target | met | Keras ÷ fastest reference |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ratios(results):
        kiqr = r["keras_iqr"] and f" ({_ms(r['keras_iqr'][0])}–{_ms(r['keras_iqr'][1])})"
        riqr = r["reference_iqr"] and f" ({_ms(r['reference_iqr'][0])}–{_ms(r['reference_iqr'][1])})"
        met = "–" if r["met"] is None else ("yes" if r["met"] else "**no**")
        variant = r["variant"] + (f" ({_options(r['options'])})" if r["options"] else "")
        lines.append(
            f"| {r['workload']} | {r['backend']} | {variant} | {_ms(r['keras_s'])}{kiqr or ''} "
            f"| {_ms(r['reference_s'])}{riqr or ''} | {_ratio(r['ratio'])} "
            f"| ≤ {r['target']:.2f}× | {met} | {_ratio(r['ratio_to_fastest'])} |"
        )
    return "\n".join(lines)


def reference_table(results) -> str:
    """The hand-written loops against each other (default threads)."""
    lines = ["| workload | framework | reference ms/iter | ÷ fastest reference |",
             "|---|---|---|---|"]
    seen = set()
    for r in ratios(results):  # the first pass of each (workload, framework)
        if r["reference_s"] and not r["single"] and (r["workload"], r["backend"]) not in seen:
            seen.add((r["workload"], r["backend"]))
            lines.append(f"| {r['workload']} | {r['backend']} | {_ms(r['reference_s'])} "
                         f"| {_ratio(r['reference_ratio_to_fastest'])} |")
    return "\n".join(lines)


def first_step_table(results) -> str:
    rows = collections.defaultdict(dict)
    for r in results:
        if r["kind"] == "first_step":
            rows[(r["workload"], r["backend"])][r["implementation"]] = r
    lines = [
        "| workload | backend | first step, Keras WGAN (s) | first step, reference (s) "
        "| peak RSS Keras / reference (MiB) | RSS growth Keras / reference (MiB) "
        "| Keras traces / compiles after step 1 |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {w: i for i, w in enumerate(_order({w for w, _ in rows}))}
    for (workload, backend), pair in sorted(
        rows.items(), key=lambda kv: (order[kv[0][0]], BACKENDS.index(kv[0][1]))
    ):
        k, ref = pair.get("keras_wgan", {}), pair.get("reference", {})

        def get(r, key, fmt="{:.1f}"):
            value = r.get(key)
            return "–" if value is None else fmt.format(value)

        device = [get(r, "peak_device_memory_mb") for r in (k, ref)]
        memory = f"{get(k, 'peak_rss_mb', '{:.0f}')} / {get(ref, 'peak_rss_mb', '{:.0f}')}"
        if device != ["–", "–"]:
            memory += f" (GPU peak {device[0]} / {device[1]})"
        traces = k.get("traces_after_first_step")
        compiles = k.get("compiles_after_first_step")
        recompiled = "eager" if traces is None and compiles is None else (
            f"{'–' if traces is None else traces} / {'–' if compiles is None else compiles}"
        )
        lines.append(
            f"| {workload} | {backend} | {get(k, 'first_step_s', '{:.2f}')} "
            f"| {get(ref, 'first_step_s', '{:.2f}')} | {memory} "
            f"| {get(k, 'rss_increase_mb', '{:.0f}')} / {get(ref, 'rss_increase_mb', '{:.0f}')} "
            f"| {recompiled} |"
        )
    return "\n".join(lines)


def _e(value):
    return "–" if value is None else f"{value:.1e}"


def _latest(records):
    """The last record of each (workload, backend): measured again with
    `--append`, a row replaces the earlier one."""
    latest = {}
    for r in records:
        latest[(r["workload"], r["backend"])] = r
    return list(latest.values())


def check_table(results) -> str:
    lines = [
        "| workload | backend | steps | first critic loss: Keras / reference (abs diff) "
        "| loss max abs diff: critic / generator "
        "| weight updates, relative diff: Keras vs reference / reference vs itself, "
        "inputs moved 1 ulp | weights max abs diff (largest change) |",
        "|---|---|---|---|---|---|---|",
    ]
    checks = _latest([r for r in results if r["kind"] == "check"])
    order = {w: i for i, w in enumerate(_order({r["workload"] for r in checks}))}
    for r in sorted(checks, key=lambda r: (order[r["workload"]], BACKENDS.index(r["backend"]))):
        first = r.get("keras_first_critic_loss")
        first = "–" if first is None else (
            f"{first:.6g} / {r['reference_first_critic_loss']:.6g} "
            f"({r['first_critic_loss_abs_diff']:.1e})"
        )
        lines.append(
            f"| {r['workload']} | {r['backend']} | {r['check_steps']} | {first} "
            f"| {_e(r['critic_loss_max_abs_diff'])} / {_e(r['generator_loss_max_abs_diff'])} "
            f"| {_e(r.get('trained_weights_relative_update_diff'))} / "
            f"{_e(r.get('reference_rounding_update_diff'))} "
            f"| {_e(r['trained_weights_max_abs_diff'])} "
            f"({_e(r['trained_weights_max_abs_change'])}) |"
        )
    return "\n".join(lines)


def compilation_table(results) -> str:
    lines = ["| workload | backend | schedule | steps | generator / critic iterations "
             "| traces | traces / compiles after step 1 |", "|---|---|---|---|---|---|---|"]
    for r in _latest([r for r in results if r["kind"] == "compilations"]):
        after = (f"{r.get('traces_after_first_step', '–')} / "
                 f"{r.get('compiles_after_first_step', '–')}")
        lines.append(
            f"| {r['workload']} | {r['backend']} | `{r['schedule']}` | {r['steps']} "
            f"| {r['generator_iterations']} / {r['critic_iterations']} "
            f"| {r.get('traces', 'eager')} | {after if 'traces' in r else 'eager'} |"
        )
    return "\n".join(lines)


def environment_lines(results) -> str:
    devices = sorted({r["device"] for r in results})
    versions = {}
    for r in results:
        versions.update(r.get("versions", {}))
    dates = sorted(r["date"] for r in results)
    loads = [r["load_average"][0] for r in results if r.get("load_average")]
    lines = [
        f"- Device: {'; '.join(devices)}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())),
        f"- Date: {dates[0]} to {dates[-1]}" if dates else "- Date: –",
    ]
    if loads:
        lines.append(f"- Machine load (1-minute average) at the results: {min(loads):.1f} to "
                     f"{max(loads):.1f}")
    return "\n".join(lines)


def chart(results, path) -> None:
    """Grouped bars: ms per generator iteration, one panel per workload."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in ratios(results) if not r["single"]]
    workloads = _order({r["workload"] for r in rows})
    if not workloads:
        return
    figure, axes = plt.subplots(1, len(workloads), figsize=(5 * len(workloads), 4), squeeze=False)
    for ax, workload in zip(axes[0], workloads):
        backends = [b for b in BACKENDS if any(r["workload"] == workload and r["backend"] == b
                                               for r in rows)]
        series = collections.OrderedDict()
        for r in rows:
            if r["workload"] != workload:
                continue
            series.setdefault(f"Keras WGAN, {r['variant']}", {})[r["backend"]] = (
                r["keras_s"], r["keras_iqr"])
            if r["reference_s"]:  # the first pass measured of this backend
                series.setdefault("hand-written reference", {}).setdefault(
                    r["backend"], (r["reference_s"], r["reference_iqr"]))
        width = 0.8 / max(1, len(series))
        for i, (label, values) in enumerate(series.items()):
            xs, heights, lows, highs = [], [], [], []
            for j, backend in enumerate(backends):
                median, iqr = values.get(backend, (None, None))
                if median is None:
                    continue
                xs.append(j + (i - (len(series) - 1) / 2) * width)
                heights.append(median * 1e3)
                lows.append(max(0.0, (median - iqr[0]) * 1e3) if iqr else 0.0)
                highs.append(max(0.0, (iqr[1] - median) * 1e3) if iqr else 0.0)
            ax.bar(xs, heights, width, yerr=[lows, highs], capsize=2, label=label)
        ax.set_xticks(range(len(backends)), backends)
        ax.set_title(workload)
        ax.set_ylabel("ms per generator iteration (median, IQR)")
    axes[0][0].legend(fontsize="small")
    devices = sorted({r["device"] for r in results})
    figure.suptitle("keras_wgan vs hand-written WGAN loops — " + "; ".join(devices),
                    fontsize="medium")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def results_block(results, chart_name=None, command=None, duration_min=None) -> str:
    parts = [BEGIN, "", "### Environment", "", environment_lines(results)]
    if command:
        parts += [f"- Command: `{command}`" + (
            f" ({duration_min:.0f} min)" if duration_min is not None else "")]
    parts += ["", "### Time per generator iteration", "",
              "Median over the timed generator iterations after the warm-up, Keras WGAN "
              "(through `fit`) and the same framework's hand-written loop measured in "
              "alternating windows in one process; ratio = Keras ÷ reference.", "",
              step_table(results), "", reference_table(results), ""]
    if chart_name:
        parts += [f"![time per generator iteration]({chart_name})", ""]
    parts += ["### Time to the first step and memory", "",
              "Each implementation alone in a fresh process (framework started first). "
              "Peak RSS: the process's `ru_maxrss`; growth: over the resident memory after "
              "the imports and the framework's start.", "",
              first_step_table(results), "",
              "### Agreement of each reference with the Keras WGAN", "",
              "Same initial weights, real batches and noise; losses of each generator "
              "iteration (critic: mean over its critic iterations).", "",
              check_table(results), ""]
    compilations = compilation_table(results)
    if compilations.count("\n") > 1:
        parts += ["### Compilations under the paper's schedule", "", compilations, ""]
    parts.append(END)
    return "\n".join(parts)


_SKELETON = """# keras_wgan benchmarks

## Speed: the backends against hand-written loops

Reproduce (about {minutes} minutes on a 2-core CPU):

```
python -m benchmarks.run --out benchmarks/results.jsonl
```

{block}
"""


def write_report(results_path, md_path=RESULTS_MD, chart_path=CHART, command=None,
                 duration_min=None) -> None:
    results = load(results_path)
    for r in results:
        validate(r)
    chart(results, chart_path)
    block = results_block(results, os.path.relpath(chart_path, os.path.dirname(md_path)),
                          command, duration_min)
    if os.path.exists(md_path):
        with open(md_path) as f:
            text = f.read()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            text = head + block + rest.split(END, 1)[1]
        else:
            text = text.rstrip() + "\n\n" + block + "\n"
    else:
        minutes = "?" if duration_min is None else f"{duration_min:.0f}"
        text = _SKELETON.format(minutes=minutes, block=block)
    with open(md_path, "w") as f:
        f.write(text)


def main(argv):
    del argv
    write_report(flags.FLAGS.results, flags.FLAGS.md, flags.FLAGS.png)


if __name__ == "__main__":
    # Defined here, not on import: `benchmarks.run` imports this module.
    flags.DEFINE_string("results", "benchmarks/results.jsonl", "JSON lines to read.")
    flags.DEFINE_string("md", RESULTS_MD, "Markdown report to write.")
    flags.DEFINE_string("png", CHART, "Bar chart to write.")
    app.run(main)
