"""Features per second of the FID Inception network
(`keras_wgan.metrics.FIDInceptionExtractor`) on each backend, beside
torch-fidelity's own network (`FeatureExtractorInceptionV3`) on the same
images in the same process.

    python -m benchmarks.fid_throughput --write_results

One worker process per backend (Keras fixes its backend at import). Each
worker gives torch-fidelity's network random weights (speed does not depend
on them), writes them as a state-dict file and loads that file into ours, so
both compute the same function. Both see the same `--images` RGB images of
`--size` pixels (ours as floats in [-1, 1], torch-fidelity's as the uint8
pixels they quantize to), in batches of `--batch_size`, resized to 299x299
by the TF1 bilinear resize inside each network. One batch of each is run
first, untimed (compilation, memory); then `--repetitions` timed passes over
all images, alternating ours and torch-fidelity's (ours, theirs, theirs,
ours, ...), so that a change of the machine's load weighs on both. The
figure is images / median seconds per pass; the target is ours no slower
than torch-fidelity's on the fastest backend.

Results are appended to `--out` (JSON lines, one per backend); the table is
printed, and with `--write_results` it replaces the marked section of
`benchmarks/RESULTS.md`.
"""

import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types

from absl import app
from absl import flags

from benchmarks import environment
from benchmarks import sections

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS_MD = os.path.join(HERE, "RESULTS.md")
OUT = os.path.join(HERE, "fid_throughput.jsonl")
BACKENDS = ("tensorflow", "jax", "torch")
HEADING = "## FID network throughput"
BEGIN, END = "<!-- fid_throughput:begin -->", "<!-- fid_throughput:end -->"

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_list("backends", list(BACKENDS), "Backends to measure, one worker process each.")
    flags.DEFINE_integer("images", 64, "Images per timed pass.")
    flags.DEFINE_integer("size", 32, "Side of the square RGB input images.")
    flags.DEFINE_integer("batch_size", 32, "Images per forward pass, both networks.")
    flags.DEFINE_integer("repetitions", 3, "Timed passes per network.")
    flags.DEFINE_string("out", OUT, "JSON lines file of the records.")
    flags.DEFINE_bool("write_results", False, f"Rewrite the section {HEADING!r} of --results_md.")
    flags.DEFINE_string("results_md", RESULTS_MD, "Report whose section is rewritten.")
    flags.DEFINE_bool("worker", False, "Internal: measure the current KERAS_BACKEND.")
    flags.DEFINE_integer("timeout", 1200, "Seconds allowed to each worker.")
    flags.DEFINE_bool(
        "single_thread", True,
        "One compute thread in every framework (benchmarks.environment.SINGLE_THREAD_ENV): on a "
        "shared machine PyTorch's OpenMP threads stall when another process takes a core.")


def torch_fidelity_inception():
    """torch-fidelity's FeatureExtractorInceptionV3 with its default (random)
    initialization, imported without the package `__init__` (which needs
    torchvision) and without downloading its weights."""
    if "torch_fidelity" not in sys.modules:
        spec = importlib.util.find_spec("torch_fidelity")
        stub = types.ModuleType("torch_fidelity")
        stub.__path__ = list(spec.submodule_search_locations)
        sys.modules["torch_fidelity"] = stub
    module = importlib.import_module("torch_fidelity.feature_extractor_inceptionv3")

    class RandomInception(module.FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True):
            if state_dict:
                return super().load_state_dict(state_dict, strict)

    download = module.load_state_dict_from_url
    module.load_state_dict_from_url = lambda *args, **kwargs: {}
    try:
        return RandomInception("inception", ["2048", "logits"])
    finally:
        module.load_state_dict_from_url = download


def measure(images=64, size=32, batch_size=32, repetitions=3) -> dict:
    """Times ours and torch-fidelity's network on the same images; returns a record."""
    import keras
    import numpy as np
    import torch

    from keras_wgan.metrics.inception import FIDInceptionExtractor

    torch.manual_seed(0)
    reference = torch_fidelity_inception()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "random_inception.pth")
        torch.save(reference.state_dict(), path)
        ours = FIDInceptionExtractor(weights=path, batch_size=batch_size, cache_size=0)
        pixels = np.random.default_rng(0).integers(0, 256, (images, size, size, 3), dtype=np.uint8)
        floats = (pixels / 127.5 - 1).astype("float32")
        batches = torch.from_numpy(pixels.transpose(0, 3, 1, 2).copy()).split(batch_size)

        def run_ours(count=images):
            return ours.outputs(floats[:count])["features"]

        def run_theirs(count=None):
            with torch.no_grad():
                return torch.cat([reference(batch)[0] for batch in batches[: count]]).numpy()

        begun = time.perf_counter()
        first = run_ours(batch_size)
        warmup_ours = time.perf_counter() - begun
        begun = time.perf_counter()
        run_theirs(1)
        warmup_theirs = time.perf_counter() - begun
        difference = float(np.abs(first - run_theirs(1)).max() / np.abs(first).max())
        times = {"ours": [], "theirs": []}
        loads = [environment.load_average()]
        for repetition in range(repetitions):
            for arm in (("ours", "theirs") if repetition % 2 == 0 else ("theirs", "ours")):
                begun = time.perf_counter()
                (run_ours if arm == "ours" else run_theirs)()
                times[arm].append(time.perf_counter() - begun)
            loads.append(environment.load_average())
    ours_s, theirs_s = statistics.median(times["ours"]), statistics.median(times["theirs"])
    return {
        "backend": keras.backend.backend(),
        "images": images,
        "size": size,
        "batch_size": batch_size,
        "repetitions": repetitions,
        "ours_s": times["ours"],
        "theirs_s": times["theirs"],
        "ours_images_per_s": images / ours_s,
        "theirs_images_per_s": images / theirs_s,
        "ratio": theirs_s / ours_s,
        "warmup_ours_s": warmup_ours,
        "warmup_theirs_s": warmup_theirs,
        "max_relative_difference": difference,
        "device": environment.device(keras.backend.backend()),
        "threads": environment.threads(),
        "versions": environment.versions(),
        "loads": loads,
        "date": environment.now(),
    }


load = sections.read_jsonl


def table(records) -> str:
    lines = [
        "| backend | ours, images/s | torch-fidelity, images/s | ours ÷ torch-fidelity | passes | "
        "ours, s per pass (all) | torch-fidelity, s per pass (all) | first batch s, ours / torch-fidelity | "
        "max difference of the features (÷ largest) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['backend']} | {r['ours_images_per_s']:.1f} | {r['theirs_images_per_s']:.1f} | "
            f"{r['ratio']:.2f} | {r['repetitions']} | {', '.join(f'{t:.2f}' for t in r['ours_s'])} | "
            f"{', '.join(f'{t:.2f}' for t in r['theirs_s'])} | {r['warmup_ours_s']:.1f} / "
            f"{r['warmup_theirs_s']:.1f} | {r['max_relative_difference']:.1e} |"
        )
    return "\n".join(lines)


def results_block(records, command) -> str:
    r0 = records[0]
    best = max(records, key=lambda r: r["ours_images_per_s"])
    best_theirs = max(records, key=lambda r: r["theirs_images_per_s"])
    met = best["ours_images_per_s"] >= best["theirs_images_per_s"]
    met_all = best["ours_images_per_s"] >= best_theirs["theirs_images_per_s"]
    loads = [x[0] for r in records for x in r["loads"]]
    versions = ", ".join(f"{k} {v}" for k, v in sorted(r0["versions"].items()))
    return "\n".join([
        BEGIN, "",
        f"- Device: {r0['device']}; compute threads: {r0['threads']}",
        f"- Versions: {versions}",
        f"- Date: {records[0]['date']} to {records[-1]['date']}; machine load (1-minute average) "
        f"{min(loads):.1f} to {max(loads):.1f}",
        f"- Command: `{command}`",
        f"- Work: {r0['images']} RGB images of {r0['size']}x{r0['size']} per pass, batches of "
        f"{r0['batch_size']}, resized to 299x299 inside both networks (TF1 bilinear); images/s = "
        "images ÷ median seconds per pass; passes alternate ours / torch-fidelity (ours, theirs, "
        "theirs, ours, ...) in one process per backend, after one untimed batch of each. Ours: "
        "`FIDInceptionExtractor.outputs` (quantization, `predict_on_batch`, features and logits to "
        "NumPy); torch-fidelity: `FeatureExtractorInceptionV3` (float32, eval mode, `torch.no_grad`).",
        "",
        table(records), "",
        f"Target (ours no slower than torch-fidelity's network on the fastest backend): "
        f"{'met' if met else 'missed'} — fastest: {best['backend']}, "
        f"{best['ours_images_per_s']:.1f} against {best['theirs_images_per_s']:.1f} images/s "
        f"(×{best['ratio']:.2f}) in the same process; against torch-fidelity's fastest figure "
        f"of the run ({best_theirs['theirs_images_per_s']:.1f} images/s, in the {best_theirs['backend']} "
        f"worker): {'met' if met_all else 'missed'} "
        f"(×{best['ours_images_per_s'] / best_theirs['theirs_images_per_s']:.2f}). torch-fidelity's "
        "network runs the same code in every worker; its spread between workers is not explained "
        "here (the shared machine's load, or the other framework's runtime in the same process), "
        "which is why each backend is compared within its own process.", "",
        END,
    ])


_SKELETON = f"""{HEADING}

Features per second of the FID Inception network (`keras_wgan.metrics.FIDInceptionExtractor`)
on each backend, beside torch-fidelity's own network on the same images in the same run (random
weights: the speed does not depend on them). Target: ours no slower than torch-fidelity's on the
fastest backend.

Reproduce (a few minutes on a 2-core CPU):

```
python -m benchmarks.fid_throughput --write_results
```

"""


def write_section(records, path=RESULTS_MD, command="python -m benchmarks.fid_throughput") -> str:
    """Replaces the text between this section's markers; the first time,
    adds the section at the end."""
    return sections.replace_section(path, BEGIN, END, results_block(records, command), _SKELETON)


def main(argv):
    out = os.path.abspath(FLAGS.out)
    if FLAGS.worker:
        environment.warm_up(os.environ["KERAS_BACKEND"])
        record = measure(FLAGS.images, FLAGS.size, FLAGS.batch_size, FLAGS.repetitions)
        with open(out, "a") as f:
            f.write(json.dumps(record) + "\n")
        print(f"{record['backend']}: ours {record['ours_images_per_s']:.1f} images/s, torch-fidelity "
              f"{record['theirs_images_per_s']:.1f}", flush=True)
        return 0
    if os.path.exists(out):
        os.remove(out)
    command = " ".join(["python -m benchmarks.fid_throughput"] + [
        a for a in sys.argv[1:] if not a.startswith(("--out=", "--results_md="))])
    threads = environment.SINGLE_THREAD_ENV if FLAGS.single_thread else {}
    for backend in FLAGS.backends:
        print(f"=== KERAS_BACKEND={backend}", flush=True)
        args = [sys.executable, "-m", "benchmarks.fid_throughput", "--worker", f"--out={out}",
                f"--images={FLAGS.images}", f"--size={FLAGS.size}",
                f"--batch_size={FLAGS.batch_size}", f"--repetitions={FLAGS.repetitions}"]
        try:
            subprocess.run(args, env={**os.environ, **threads, "KERAS_BACKEND": backend}, cwd=ROOT,
                           timeout=FLAGS.timeout, check=True)
        except (subprocess.TimeoutExpired, subprocess.CalledProcessError) as error:
            print(f"    {backend} FAILED: {error}", flush=True)
    records = load(out)
    if records:
        print(table(records))
        if FLAGS.write_results:
            print("wrote", write_section(records, FLAGS.results_md, command))
    return 0


if __name__ == "__main__":
    define_flags()
    app.run(main)
