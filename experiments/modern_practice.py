"""What the modern additions do on real images (issue 17): the averaged
generator (EMA) on and off, augmentation on a limited subset (none,
DiffAugment, ADA), the class-conditional model's class accuracy and
per-class FID, and the WGAN-GP paper's ResNet against the DCGAN, all WGAN-GP
on the real MNIST test digits at 32x32, trained by the training program
(`keras_wgan.train.train`, the command line's code) with the same budget of
generator iterations and the same seed.

Every run is evaluated at its end, the same way: FID and KID of 2,000
generated digits against the 10,000 real ones on the features of the
classifier `experiments.mnist_dcgan` trains (2 epochs on the labelled
digits, its weights kept in `results/mnist/`), so the subset runs are
measured against the whole set, not the 1,000 digits they saw.

    KERAS_BACKEND=tensorflow OMP_NUM_THREADS=1 python -m experiments.modern_practice
    # two processes, one row each at a time, on a 2-core machine:
    ... python -m experiments.modern_practice --mp_rows=ema,subset_none,subset_ada --mp_report=false &
    ... python -m experiments.modern_practice --mp_rows=subset_diffaugment,conditional,resnet

Each finished run's record is appended to `results/modern_practice_runs.jsonl`
and not trained again; the report is written from those records.
"""

import dataclasses
import hashlib
import json
import os
import time

import keras
import numpy as np
from absl import app
from absl import flags

from experiments import common
from experiments import mnist_dcgan
import keras_wgan
from keras_wgan import metrics as evaluation
from keras_wgan.train import Config
from keras_wgan.train import train

ITERATIONS = flags.DEFINE_integer("mp_iterations", 500, "Generator iterations of each run.")
WIDTH = flags.DEFINE_integer("mp_width", 32, "DCGAN base filters and ResNet channels.")
ROWS = flags.DEFINE_list("mp_rows", None, "Rows to run (default: all).")
SEED = flags.DEFINE_integer("mp_seed", 0, "Seed of every run.")
REPORT = flags.DEFINE_bool("mp_report", True, "Write the report section from the records.")
CONTINUE = flags.DEFINE_integer("mp_continue", 0, "Train the finished runs of --mp_rows (at --mp_iterations) "
                                "this many generator iterations more, from their saved models.")

SUBSET = 1000
ADA_SPEED = 100_000
EVAL_SAMPLES = mnist_dcgan.EVAL_SAMPLES
PER_CLASS = 1000  # generated digits per class for the class accuracy and the per-class FID

# name -> (what it is, the training program's settings beyond the common ones, data)
RUNS = {
    "ema": ("DCGAN, WGAN-GP, EMA (decay 0.999, ramp-up 0.05)",
            dict(ema_decay=0.999, ema_rampup=0.05), "full"),
    "subset_none": ("DCGAN, WGAN-GP, no augmentation", {}, "subset"),
    "subset_diffaugment": ("DCGAN, WGAN-GP, DiffAugment (color, translation, cutout)",
                           dict(augment="diffaugment"), "subset"),
    "subset_ada": (f"DCGAN, WGAN-GP, ADA (target 0.6, p: 0 to 1 in {ADA_SPEED:,} real images)",
                   dict(augment="ada", ada_speed=ADA_SPEED), "subset"),
    "conditional": ("DCGAN, WGAN-GP, class-conditional (label embedding, projection critic)",
                    dict(num_classes=10), "full"),
    "resnet": ("ResNet (the WGAN-GP paper's), WGAN-GP", dict(architecture="resnet"), "full"),
}


def subset_file(images, labels) -> str:
    """`SUBSET` digits drawn at random (seed 0) from the test set, with
    their labels, as an `.npz` the training program reads."""
    path = os.path.join(common.out_dir(), f"mnist_subset_{SUBSET}.npz")
    if not os.path.exists(path):
        index = np.sort(np.random.default_rng(0).choice(len(images), SUBSET, replace=False))
        np.savez(path, images=images[index], labels=labels[index])
    return path


def config_of(name: str, iterations: int, width: int, seed: int, subset: str) -> Config:
    _, settings, data = RUNS[name]
    return Config(
        dataset=common.MNIST if data == "full" else subset, architecture=settings.get("architecture", "dcgan"),
        image_size=32, width=width, latent_dim=100, batch_size=64, lipschitz="gp",
        generator_iterations=iterations, iterations_per_epoch=min(250, iterations),
        eval_metrics="none", seed=seed,
        **{k: v for k, v in settings.items() if k != "architecture"},
    )


def run_key(config: Config) -> str:
    spec = dict(dataclasses.asdict(config), dataset=os.path.basename(config.dataset), backend=keras.backend.backend(),
                eval_samples=EVAL_SAMPLES, per_class=PER_CLASS)
    return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:10]


class Quality:
    """FID and KID against the real digits' classifier features."""

    def __init__(self, extractor, real_features):
        self.extractor, self.real_features = extractor, real_features

    def __call__(self, fake, real_features=None) -> dict:
        real_features = self.real_features if real_features is None else real_features
        features = self.extractor(fake)
        return {
            "fid": evaluation.fid_from_features(real_features, features),
            "kid": evaluation.kid_from_features(real_features, features, subsets=mnist_dcgan.KID_SUBSETS,
                                                subset_size=min(mnist_dcgan.KID_SUBSET_SIZE, len(fake)), seed=0),
        }


def evaluate_run(model, quality, real_labels) -> dict:
    """The row's numbers from the trained model."""
    result = {"averaged" if model.averaged_generator is not None else "raw": quality(model.generate(EVAL_SAMPLES, seed=1000))}
    if model.averaged_generator is not None:
        result["raw"] = quality(model.generate(EVAL_SAMPLES, seed=1000, averaged=False))
    if model.augment is not None:
        result["augment"] = {k: float(keras.ops.convert_to_numpy(v)) for k, v in model.augment.logs().items()}
    if model.num_classes is not None:
        accuracy, per_class = [], []
        for c in range(model.num_classes):
            fake = model.generate(PER_CLASS, seed=2000 + c, labels=c)
            predicted = quality.extractor.predict_classes(fake)
            accuracy.append(float(np.mean(predicted == c)))
            per_class.append(quality(fake, quality.real_features[real_labels == c])["fid"])
        result["class_accuracy"] = accuracy
        result["per_class_fid"] = per_class
    return result


def run(name, quality, real_labels, subset, iterations, width, seed, log=print) -> dict:
    config = config_of(name, iterations, width, seed, subset)
    key = run_key(config)
    runs_path = os.path.join(common.out_dir(), "modern_practice_runs.jsonl")
    for record in common.read_jsonl(runs_path):
        if record["key"] == key:
            return record
    workdir = os.path.join(common.out_dir(), "mnist", f"modern-{name}-{key}")
    log(f"{name}: training in {workdir}")
    metrics = train(config, workdir, verbose=0)
    model = keras.saving.load_model(os.path.join(workdir, "model.keras"))
    start = time.time()
    result = evaluate_run(model, quality, real_labels)
    record = {
        "key": key, "name": name, "seed": seed, "iterations": iterations, "width": width,
        "train_seconds": metrics["train_seconds_this_session"],
        "seconds_per_iteration": metrics["train_seconds_this_session"] / iterations,
        "evaluation_seconds": round(time.time() - start, 1), **result,
    }
    common.append_jsonl(runs_path, record)
    log(f"{name}: {json.dumps({k: v for k, v in record.items() if k not in ('class_accuracy', 'per_class_fid')})}")
    return record


def continue_run(record, more, quality, real_labels, subset, log=print) -> dict:
    """A finished run trained `more` generator iterations further: its
    saved model (weights, optimizers' state, noise state) fits on a fresh
    pass of the same data pipeline, and is evaluated as the runs are; the
    record's `iterations` is the total, `continued_from` the run's."""
    key = f"{record['key']}+{more}"
    runs_path = os.path.join(common.out_dir(), "modern_practice_runs.jsonl")
    for previous in common.read_jsonl(runs_path):
        if previous["key"] == key:
            return previous
    config = config_of(record["name"], record["iterations"], record["width"], record["seed"], subset)
    model = keras.saving.load_model(os.path.join(workdir_of(record), "model.keras"))
    dataset = keras_wgan.data.load(
        config.dataset, image_size=config.image_size, batch_size=config.batch_size, n_critic=model.schedule.n_critic,
        seed=config.seed + 1, repeat=True, labels=config.num_classes is not None, num_classes=config.num_classes,
    )
    log(f"{record['name']}: {more} more iterations from {record['iterations']}")
    start = time.time()
    model.fit(dataset, steps_per_epoch=keras_wgan.schedules.steps_for(model.schedule, more), epochs=1, verbose=0)
    seconds = time.time() - start
    path = os.path.join(workdir_of(record), f"continued_{more}", "model.keras")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model.save(path)
    start = time.time()
    result = evaluate_run(model, quality, real_labels)
    continued = {
        "key": key, "name": record["name"], "seed": record["seed"], "width": record["width"],
        "iterations": record["iterations"] + more, "continued_from": record["iterations"], "model_path": path,
        "train_seconds": round(record["train_seconds"] + seconds, 1),
        "seconds_per_iteration": (record["train_seconds"] + seconds) / (record["iterations"] + more),
        "evaluation_seconds": round(time.time() - start, 1), **result,
    }
    common.append_jsonl(runs_path, continued)
    return continued


def workdir_of(record) -> str:
    return os.path.join(common.out_dir(), "mnist", f"modern-{record['name']}-{record['key']}")


def plot_samples(records, path, iterations: int) -> str | None:
    """One row of 16 samples per run (seed 99; the conditional model's
    classes 0..9 then 0..5), from the saved models; None if none is left."""
    from keras_wgan.callbacks.sample_grid import image_grid

    rows, names = [], []
    for record in records:
        model_path = record.get("model_path") or os.path.join(workdir_of(record), "model.keras")
        if not os.path.exists(model_path):
            continue
        model = keras.saving.load_model(model_path)
        labels = None if model.num_classes is None else np.arange(16) % model.num_classes
        rows.append(model.generate(16, seed=99, labels=labels))
        longer = record["iterations"] != iterations
        names.append(f"{record['name']} ({record['iterations']})" if longer else record["name"])
    if not rows:
        return None
    plt = common.pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 0.4))
    ax.imshow(image_grid(np.concatenate(rows), columns=16)[..., 0], cmap="gray")
    ax.set_yticks([2 + 34 * i + 16 for i in range(len(rows))], names)
    ax.set_xticks([])
    common.save_figure(fig, path)
    return path


def _fid(entry):
    return f"{entry['fid']:.2f}" if entry else "n/a"


def _conditional_notes(record) -> str:
    accuracy, fids = record["class_accuracy"], record["per_class_fid"]
    return (f"class accuracy {np.mean(accuracy):.3f} (per class {min(accuracy):.2f}–{max(accuracy):.2f}); "
            f"per-class FID {np.mean(fids):.1f} ({min(fids):.1f}–{max(fids):.1f})")


def findings(by_name, longer) -> str:
    """What the rows say, from their numbers."""
    lines = []
    for record in [by_name.get("ema"), *(r for r in longer if r["name"] == "ema")]:
        if record:
            on, off = record["averaged"]["fid"], record["raw"]["fid"]
            lines.append(f"EMA at {record['iterations']:,} iterations: FID {on:.1f} averaged against {off:.1f} raw "
                         f"({'better' if on < off else 'worse'} by {abs(on - off):.1f}).")
    none = by_name.get("subset_none")
    for name, label in (("subset_diffaugment", "DiffAugment"), ("subset_ada", "ADA")):
        record = by_name.get(name)
        if none and record:
            delta = record["raw"]["fid"] - none["raw"]["fid"]
            text = f"{label} on {SUBSET:,} digits: FID {record['raw']['fid']:.1f} against {none['raw']['fid']:.1f} without " \
                   f"augmentation ({'worse' if delta > 0 else 'better'} by {abs(delta):.1f})"
            if "augment" in record and record["augment"]:
                text += (f"; its probability ended at {record['augment']['augment_probability']:.2f} with the "
                         f"signal at {record['augment']['overfitting_signal']:.2f}")
            lines.append(text + ".")
    for record in [by_name.get("conditional"), *(r for r in longer if r["name"] == "conditional")]:
        if record:
            mean = float(np.mean(record["class_accuracy"]))
            lines.append(f"Conditional at {record['iterations']:,} iterations: class accuracy {mean:.3f} "
                         f"({'meets' if mean >= 0.9 else 'below'} the 0.90 target).")
    resnet, dcgan = by_name.get("resnet"), by_name.get("ema")
    if resnet and dcgan:
        lines.append(f"ResNet against the DCGAN (the EMA run's raw generator): FID {resnet['raw']['fid']:.1f} against "
                     f"{dcgan['raw']['fid']:.1f}, at {resnet['seconds_per_iteration'] / dcgan['seconds_per_iteration']:.1f}× "
                     "the time per generator iteration.")
    return "\n".join(f"- {line}" for line in lines)


def report(records, *, iterations, width, seed, accuracy, figure=None, longer=()) -> str:
    """The section's Markdown from the run records (`longer`: EMA and
    conditional runs at longer budgets, reported below the table's rows)."""
    by_name = {r["name"]: r for r in records}
    rows = []

    def row(label, what, record, entry, extra=""):
        rows.append([label, what, _fid(entry), f"{entry['kid']:.3f}" if entry else "n/a",
                     f"{record['seconds_per_iteration']:.2f}" if record else "n/a", extra])

    ema = by_name.get("ema")
    row("EMA off", "DCGAN, WGAN-GP: the EMA run's generator being trained", ema, ema and ema["raw"])
    row("EMA on", RUNS["ema"][0] + ": its averaged generator", ema, ema and ema["averaged"],
        "same run, same training: the average costs its update only")
    for name in ("subset_none", "subset_diffaugment", "subset_ada"):
        record = by_name.get(name)
        extra = ""
        if record and "augment" in record:
            extra = ", ".join(f"final {k} {v:.2f}" for k, v in record["augment"].items())
        row(f"{SUBSET:,} digits", RUNS[name][0], record, record and record["raw"], extra)
    conditional = by_name.get("conditional")
    row("conditional", RUNS["conditional"][0], conditional, conditional and conditional["raw"],
        _conditional_notes(conditional) if conditional else "")
    row("ResNet", RUNS["resnet"][0], by_name.get("resnet"), by_name.get("resnet") and by_name["resnet"]["raw"],
        "compare with 'EMA off' (the DCGAN, same settings)")
    for record in longer:
        budget = f"{record['iterations']:,} iterations"
        if "continued_from" in record:
            budget += f" (the {record['continued_from']:,}-iteration run continued)"
        if record["name"] == "ema":
            row(f"EMA off, {budget}", "the EMA run's generator being trained", record, record["raw"])
            row(f"EMA on, {budget}", RUNS["ema"][0] + ": its averaged generator", record, record["averaged"])
        else:
            row(f"conditional, {budget}", RUNS["conditional"][0], record, record["raw"], _conditional_notes(record))
    missing = [n for n in RUNS if n not in by_name]
    per_class = ""
    conditionals = ([conditional] if conditional else []) + [r for r in longer if r["name"] == "conditional"]
    if conditionals:
        per_class = "\n\nThe conditional model, per class (classifier's accuracy on 1,000 digits generated for each class; FID of those against the real digits of the class):\n\n" + common.table(
            ["run", "", *[str(c) for c in range(10)]],
            [row for r in conditionals for row in (
                [f"{r['iterations']:,} iterations", "accuracy", *[f"{a:.3f}" for a in r["class_accuracy"]]],
                ["", "FID", *[f"{f:.1f}" for f in r["per_class_fid"]]])])
    return f"""### Modern practice on MNIST: EMA, augmentation on 1,000 digits, a conditional model, the ResNet

`KERAS_BACKEND=tensorflow OMP_NUM_THREADS=1 python -m experiments.modern_practice` — each row
is one run of the training program (`keras_wgan.train.train`, what `python -m keras_wgan.train`
runs) with WGAN-GP (λ = 10, Adam 1e-4, β = 0, 0.9, n_critic 5), batch 64, latent 100, 32×32,
{iterations} generator iterations, seed {seed}, width {width} (DCGAN base filters; ResNet channels,
the paper's 128 being too slow for this CPU). The DCGAN critic has no batch normalization (the
penalty). Data: the real MNIST test set (10,000 digits), or {SUBSET:,} of them drawn at random
(seed 0) for the augmentation rows. Every row is measured the same way at the end: FID and KID
(unbiased, cubic kernel) of {EVAL_SAMPLES:,} generated digits against all 10,000 real ones on
the 128-d features of `experiments.mnist_dcgan`'s classifier (accuracy {accuracy:.4f} on the
digits): numbers that compare the rows with each other, not with published FIDs. Time per
generator iteration: the run's training time (the training program's monitoring included,
evaluation not) over its iterations, TensorFlow with one thread per run, two to four runs
(and at times the test suite) sharing this 2-core CPU: noisy, compare within a few tens of percent only. {"**Missing rows: " + ", ".join(missing) + ".**" if missing else ""}

{common.table(["row", "what", "FID", "KID", "s / generator iteration", "notes"], rows)}{per_class}

What the rows say, from their numbers:

{findings(by_name, longer)}

One seed per row: differences of a few FID points between rows are within what another seed
could give (the 3 seeds of `mnist_dcgan`'s WGAN-GP at 1,000 iterations spread ± 0.7).
{"" if figure is None else chr(10) + "![16 samples of each run's final model](" + common.relative_to_report(figure) + ")" + chr(10)}"""


def main(argv):
    del argv
    start = time.time()
    real, real_labels = mnist_dcgan.load_real()
    classifier_path = os.path.join(common.out_dir(), "mnist", "classifier.weights.h5")
    os.makedirs(os.path.dirname(classifier_path), exist_ok=True)
    extractor, accuracy = mnist_dcgan.classifier_extractor(real, real_labels, classifier_path,
                                                            mnist_dcgan.CLASSIFIER_EPOCHS)
    quality = Quality(extractor, extractor(real))
    with np.load(common.MNIST) as f:
        subset = subset_file(f["images"], f["labels"])
    iterations = 20 if common.QUICK.value else ITERATIONS.value
    width = 8 if common.QUICK.value else WIDTH.value
    for name in ROWS.value or list(RUNS):
        if name not in RUNS:
            raise app.UsageError(f"--mp_rows: {name!r} is not one of {', '.join(RUNS)}.")
        record = run(name, quality, real_labels, subset, iterations, width, SEED.value)
        if CONTINUE.value:
            continue_run(record, CONTINUE.value, quality, real_labels, subset)
    if REPORT.value:
        records = [r for r in common.read_jsonl(os.path.join(common.out_dir(), "modern_practice_runs.jsonl"))
                   if r["width"] == width and r["seed"] == SEED.value]
        main_budget = [r for r in records if r["iterations"] == iterations]
        latest = [r for name in RUNS for r in [{r["name"]: r for r in main_budget}.get(name)] if r]
        longer = sorted((r for r in records if r["name"] in ("ema", "conditional") and r["iterations"] > iterations),
                        key=lambda r: (r["iterations"], r["name"]))
        figure = plot_samples(latest + longer, common.figure_path("modern_practice_samples.png"), iterations)
        path = common.write_section("modern_practice", report(latest, iterations=iterations, width=width,
                                                              seed=SEED.value, accuracy=accuracy, figure=figure,
                                                              longer=longer))
        print(f"Report: {path} ({time.time() - start:.0f} s)")


if __name__ == "__main__":
    app.run(main)
