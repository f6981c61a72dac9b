"""Results on real images: the paper's DCGAN on the real MNIST test digits
(`../shared/data/mnist_test.npz`, 10,000 digits resized to 32x32 and scaled
to [-1, 1] by the training program's pipeline), trained as a WGAN with weight
clipping, as a WGAN-GP and as a GAN, under the same budget of generator
iterations, 3 seeds each. Every `--dcgan_eval_every` generator iterations:
the FID and KID of 2,000 generated digits (the same latent vectors each
time) against the 10,000 real ones, with the features of a classifier
trained once on the labelled digits (`keras_wgan.metrics.train_classifier`),
and the critic's Wasserstein estimate (the GAN: its discriminator's loss).
The Spearman rank correlation between the estimate and the FID over each run
tests the paper's "meaningful loss" claim on real images.

    KERAS_BACKEND=tensorflow OMP_NUM_THREADS=1 python -m experiments.mnist_dcgan

Each finished run is appended to `results/mnist_dcgan_runs.jsonl` and not
trained again; the report is written from those records.
"""

import base64
import dataclasses
import hashlib
import json
import math
import os
import time

import keras
import numpy as np
from absl import app
from absl import flags

from experiments import common
from experiments.meaningful_loss import MNIST_SETTINGS
import keras_wgan
from keras_wgan import metrics as evaluation
from keras_wgan import models

ITERATIONS = flags.DEFINE_integer("dcgan_iterations", 1000, "Generator iterations of each DCGAN run.")
EVAL_EVERY = flags.DEFINE_integer("dcgan_eval_every", 50, "Generator iterations between evaluations.")
WIDTH = flags.DEFINE_integer("dcgan_width", 32, "Base filters of the DCGAN (the paper's: 64).")
DCGAN_SEEDS = flags.DEFINE_integer("dcgan_seeds", 3, "Seeds of each method (0, 1, ...).")

METHODS = ("wgan-clip", "wgan-gp", "gan")
IMAGE_SIZE, LATENT, BATCH = 32, 100, 64
EVAL_SAMPLES = 2000  # generated digits per evaluation
KID_SUBSETS, KID_SUBSET_SIZE = 20, 1000
CLASSIFIER_EPOCHS = 2


# ------------------------------------------------------------------ data

def load_real() -> tuple[np.ndarray, np.ndarray]:
    """The 10,000 test digits as the training program sees them (its
    pipeline: resized to 32x32, scaled to [-1, 1]), in file order, with
    their labels."""
    dataset = keras_wgan.data.array_dataset(
        common.MNIST, image_size=IMAGE_SIZE, batch_size=10_000, n_critic=1, shuffle=False
    )
    images = np.concatenate([np.asarray(batch) for batch in dataset])
    with np.load(common.MNIST) as f:
        labels = f["labels"].astype("int32")
    return images, labels


def classifier_extractor(images, labels, path: str, epochs: int) -> tuple[evaluation.ClassifierExtractor, float]:
    """`train_classifier` on the labelled digits at 32x32 (seed 0), its
    weights kept at `path` so that a later run of the script measures with
    the same network; returns its extractor and its accuracy on the digits."""
    if os.path.exists(path):
        classifier = evaluation.train_classifier(images[:64], labels[:64], num_classes=10, epochs=1, seed=0)
        classifier.load_weights(path)
    else:
        classifier = evaluation.train_classifier(images, labels, num_classes=10, image_size=IMAGE_SIZE,
                                                 epochs=epochs, seed=0)
        classifier.save_weights(path)
    predictions = np.concatenate([
        np.argmax(keras.ops.convert_to_numpy(classifier.predict_on_batch(images[i : i + 1000])), -1)
        for i in range(0, len(images), 1000)
    ])
    return evaluation.ClassifierExtractor(classifier), float(np.mean(predictions == labels))


# ----------------------------------------------------------------- runs

def build_model(name: str, seed: int, width: int, iterations: int):
    """The paper's DCGAN (`dcgan_generator` / `dcgan_critic`, 32x32, one
    channel) with `width` base filters, in the method's WGAN or GAN. The
    critic keeps batch normalization unless the method forbids it (the
    gradient penalty: batch norm mixes the samples of a batch, so the
    per-sample input gradient is not the one penalized)."""
    method = MNIST_SETTINGS[name]
    generator = models.dcgan_generator(IMAGE_SIZE, LATENT, 1, width, seed=seed)
    critic = models.dcgan_critic(IMAGE_SIZE, 1, width,
                                 batch_norm=method.lipschitz_method().supports_batch_norm, seed=seed + 1)
    return method.build_model(generator, critic, latent_dim=LATENT, seed=seed, iterations=iterations)


class SinceLastEvaluation:
    """An `EvaluationCallback` metric: the mean of each of the model's
    logged values (`critic_loss`, `wasserstein_estimate`, ...) over the
    updates since the previous evaluation, read from its `keras.metrics.Mean`
    trackers (total and count), so nothing is read during training."""

    def __init__(self, model):
        self.model = model
        self.previous = {}

    def __call__(self, real, fake) -> dict:
        means = {}
        for tracker in self.model.metrics:
            total = float(keras.ops.convert_to_numpy(tracker.total))
            count = float(keras.ops.convert_to_numpy(tracker.count))
            last_total, last_count = self.previous.get(tracker.name, (0.0, 0.0))
            if count < last_count:  # Keras reset the trackers (a new epoch)
                last_total, last_count = 0.0, 0.0
            means[tracker.name] = (total - last_total) / (count - last_count) if count > last_count else math.nan
            self.previous[tracker.name] = (total, count)
        return means


class ImageQuality:
    """FID and KID of the generated digits against the real features
    (computed once), from one feature pass per evaluation; also times the
    evaluations."""

    def __init__(self, extractor, real_features, seed: int):
        self.extractor, self.real_features, self.seed = extractor, real_features, seed
        self.seconds = 0.0

    def __call__(self, real, fake) -> dict:
        start = time.time()
        features = self.extractor(fake)
        result = {
            "fid": evaluation.fid_from_features(self.real_features, features),
            "kid": evaluation.kid_from_features(self.real_features, features, subsets=KID_SUBSETS,
                                                subset_size=KID_SUBSET_SIZE, seed=self.seed),
        }
        self.seconds += time.time() - start
        return result


def run_key(name: str, seed: int, iterations: int, eval_every: int, width: int) -> str:
    spec = dict(dataclasses.asdict(MNIST_SETTINGS[name]), seed=seed, iterations=iterations, eval_every=eval_every,
                width=width, batch=BATCH, latent=LATENT, eval_samples=EVAL_SAMPLES, kid_subsets=KID_SUBSETS,
                backend=keras.backend.backend())
    digest = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    return f"dcgan-{name}-s{seed}-w{width}-g{iterations}-{digest}"


def dcgan_run(name, seed, real, extractor, real_features, iterations, eval_every, width, log=print) -> dict:
    """Trains `MNIST_SETTINGS[name]` on the digits for `iterations`
    generator iterations (or returns the cached record of the same run),
    evaluating at iteration 0 and every `eval_every` generator iterations:
    FID and KID (`ImageQuality`), the critic's estimate on 2,000 held-out
    real digits and the 2,000 generated ones (`common.critic_estimate`;
    critic in inference mode), and the training means since the previous
    evaluation (`SinceLastEvaluation`)."""
    key = run_key(name, seed, iterations, eval_every, width)
    runs_path = os.path.join(common.out_dir(), "mnist_dcgan_runs.jsonl")
    for record in common.read_jsonl(runs_path):
        if record["key"] == key:
            return record
    log_dir = os.path.join(common.out_dir(), "mnist", key)
    if os.path.exists(os.path.join(log_dir, "metrics.jsonl")):
        os.remove(os.path.join(log_dir, "metrics.jsonl"))  # an unfinished earlier attempt

    keras.utils.set_random_seed(seed)
    model = build_model(name, seed, width, iterations)
    held_out = real[np.random.default_rng(seed).permutation(len(real))[:EVAL_SAMPLES]]
    quality = ImageQuality(extractor, real_features, seed)
    evaluator = evaluation.EvaluationCallback(
        None,
        metrics={"image": quality,
                 "critic": lambda r, fake: common.critic_estimate(model, held_out, fake),
                 "train": SinceLastEvaluation(model)},
        every_n_iterations=eval_every, num_samples=EVAL_SAMPLES, seed=1000 + seed, log_dir=log_dir,
        tensorboard=False, verbose=1,
    )
    evaluator.set_model(model)
    dataset = keras_wgan.data.array_dataset(
        common.MNIST, image_size=IMAGE_SIZE, batch_size=BATCH, n_critic=model.schedule.n_critic,
        seed=seed, repeat=True,
    )
    start = time.time()
    evaluator.evaluate(0)  # the untrained generator
    steps = keras_wgan.schedules.steps_for(model.schedule, iterations)
    model.fit(dataset, steps_per_epoch=steps, epochs=1, callbacks=[evaluator], verbose=0)
    seconds = time.time() - start
    trajectory = [
        {**{k.removeprefix("image/"): v for k, v in r.items()}} for r in evaluator.results
    ]
    samples = model.generate(64, seed=99)
    record = {
        "key": key, "method": name, "seed": seed, "width": width, "iterations": iterations,
        "eval_every": eval_every,
        "generator_iterations": int(keras.ops.convert_to_numpy(model.generator_iterations)),
        "seconds": round(seconds, 1), "evaluation_seconds": round(quality.seconds, 1),
        "trajectory": trajectory,
    }
    if seed == 0:
        record["samples"] = encode_digits(samples[..., 0])
    common.append_jsonl(runs_path, record)
    log(f"MNIST DCGAN {name} seed {seed}: {iterations} generator iterations in {seconds:.0f} s "
        f"(FID/KID {quality.seconds:.0f} s), final FID {trajectory[-1]['fid']:.2f}, "
        f"KID {trajectory[-1]['kid']:.4f}")
    return record


# ---------------------------------------------------------------- report

def training_estimate(point, method: str) -> float:
    """The training estimate at one evaluation (mean since the previous
    one): the critic's Wasserstein estimate, or for the GAN the
    discriminator's Jensen-Shannon estimate `log 2 - L_D / 2` from its loss
    L_D (a decreasing function of L_D: rho(L_D, FID) = -rho(this, FID)).
    NaN where nothing was trained yet."""
    key = "train/critic_loss" if method == "gan" else "train/wasserstein_estimate"
    value = math.nan if point.get(key) is None else point[key]
    return math.log(2.0) - value / 2.0 if method == "gan" else value


def run_summary(run, warmup: int) -> dict:
    """Final and best FID, final KID and the Spearman correlations of one
    run: of the training estimate (`training_estimate`) and of the critic's
    estimate on the evaluation samples with the FID, over the evaluations
    after iteration 0 and after `warmup`."""
    t = run["trajectory"]
    trained = [r for r in t if r["generator_iteration"] > 0]
    late = [r for r in t if r["generator_iteration"] > warmup]
    eval_key = "critic/js_estimate" if run["method"] == "gan" else "critic/estimate"

    def rho(points, k):
        values = [training_estimate(r, run["method"]) if k == "train" else r[k] for r in points]
        return common.spearman(values, [r["fid"] for r in points])

    return {
        "final_fid": t[-1]["fid"], "final_kid": t[-1]["kid"], "best_fid": min(r["fid"] for r in t),
        "best_at": min(t, key=lambda r: r["fid"])["generator_iteration"],
        "rho_train": rho(trained, "train"), "rho_train_late": rho(late, "train"),
        "rho_eval": rho(trained, eval_key), "rho_eval_late": rho(late, eval_key),
    }


def method_table(runs, warmup: int) -> str:
    """One row per method: final FID, final KID, best FID, mean ±
    std over its seeds."""
    rows = []
    for name in METHODS:
        mine = [run_summary(r, warmup) for r in runs if r["method"] == name]
        if not mine:
            continue
        rows.append([
            f"`{name}`", MNIST_SETTINGS[name].label, len(mine),
            common.mean_std([s["final_fid"] for s in mine]),
            common.mean_std([s["final_kid"] for s in mine], 3),
            common.mean_std([s["best_fid"] for s in mine]),
            ", ".join(str(s["best_at"]) for s in mine),
        ])
    return common.table(["method", "settings", "seeds", "final FID", "final KID", "best FID",
                         "best FID at iteration (per seed)"], rows)


def correlation_table(runs, warmup: int) -> str:
    """Per run and per method (mean ± std): Spearman's rho between the
    training estimate and the FID (whole run, after `warmup`) and between
    the critic's estimate on the evaluation samples and the FID."""
    rows = []
    for name in METHODS:
        mine = [r for r in runs if r["method"] == name]
        summaries = [run_summary(r, warmup) for r in mine]
        if not mine:
            continue
        label = "JS estimate log 2 − L_D/2" if name == "gan" else "W estimate"
        for r, s in zip(mine, summaries):
            rows.append([f"`{name}`", label, r["seed"], f"{s['rho_train']:.2f}", f"{s['rho_train_late']:.2f}",
                         f"{s['rho_eval']:.2f}", f"{s['rho_eval_late']:.2f}"])
        rows.append([f"`{name}`", label, "**mean**"] + [
            f"**{common.mean_std([s[k] for s in summaries])}**"
            for k in ("rho_train", "rho_train_late", "rho_eval", "rho_eval_late")
        ])
    return common.table(
        ["method", "estimate", "seed", "ρ(training estimate, FID)", f"after iteration {warmup}",
         "ρ(estimate on eval samples, FID)", f"after iteration {warmup}"], rows)


def plot_curves(runs, path, warmup: int = 0):
    """Top: FID and KID against generator iterations, per-seed curves (thin)
    and the mean over seeds (thick), one colour per method. Bottom, one
    panel per method: its training estimate (`training_estimate`) seed by
    seed, with the FID of the same runs on a second axis."""
    plt = common.pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    for i, name in enumerate(METHODS):
        mine = [r for r in runs if r["method"] == name]
        if not mine:
            axes[1, i].axis("off")
            continue
        for quality, ax in zip(("fid", "kid"), axes[0]):
            curves = []
            for r in mine:
                steps = [t["generator_iteration"] for t in r["trajectory"]]
                values = [t[quality] for t in r["trajectory"]]
                ax.plot(steps, values, color=f"C{i}", alpha=0.35, lw=0.8)
                curves.append(values)
            if len({len(c) for c in curves}) == 1:
                ax.plot(steps, np.mean(curves, axis=0), color=f"C{i}", lw=2,
                        label=f"{name} (mean of {len(mine)} seeds)")
            ax.set_yscale("log")
            ax.set_xlabel("generator iterations")
            ax.set_ylabel(f"{quality.upper()} (classifier features)")
        ax, twin = axes[1, i], axes[1, i].twinx()
        for r in mine:
            t = [p for p in r["trajectory"] if p["generator_iteration"] > 0]
            steps = [p["generator_iteration"] for p in t]
            ax.plot(steps, [training_estimate(p, name) for p in t], color=f"C{r['seed']}", lw=1.2,
                    label=f"seed {r['seed']}")
            twin.plot(steps, [p["fid"] for p in t], color=f"C{r['seed']}", lw=0.8, ls=":")
        rho = common.mean_std([run_summary(r, warmup)["rho_train"] for r in mine])
        ax.set_title(f"{name}: ρ(training estimate, FID) = {rho}", fontsize=9)
        ax.set_ylabel("JS estimate log 2 − L_D/2 (training mean)" if name == "gan" else "W estimate (training mean)")
        twin.set_ylabel("FID (dotted)")
        twin.set_yscale("log")
        ax.set_xlabel("generator iterations")
        ax.legend(fontsize=7)
    axes[0, 0].legend(fontsize=8)
    axes[0, 0].set_title("FID (thin: seeds, thick: mean)")
    axes[0, 1].set_title("KID (thin: seeds, thick: mean)")
    axes[0, 2].axis("off")
    common.save_figure(fig, path)


def encode_digits(digits) -> dict:
    """Digits in [-1, 1] as 8-bit grey levels in base64 (a JSON record
    stays small: 64 digits of 32x32 take 87 kB, not 1 MB of decimals)."""
    digits = np.asarray(digits, "float64")
    levels = np.round((np.clip(digits, -1, 1) + 1) * 127.5).astype("uint8")
    return {"shape": list(digits.shape), "uint8_base64": base64.b64encode(levels.tobytes()).decode("ascii")}


def decode_digits(encoded: dict) -> np.ndarray:
    """`encode_digits`'s digits back in [-1, 1] (to within 1/255)."""
    levels = np.frombuffer(base64.b64decode(encoded["uint8_base64"]), "uint8")
    return levels.reshape(encoded["shape"]).astype("float64") / 127.5 - 1.0


def digit_grid(digits) -> np.ndarray:
    """Square grid of `(n*n, H, W)` digits as one `(n*H, n*W)` image."""
    digits = np.asarray(digits)
    n = int(math.isqrt(len(digits)))
    h, w = digits.shape[1:3]
    return digits[: n * n].reshape(n, n, h, w).transpose(0, 2, 1, 3).reshape(n * h, n * w)


def plot_samples(runs, real, path):
    plt = common.pyplot()
    shown = [r for r in runs if r["seed"] == 0 and "samples" in r]
    fig, axes = plt.subplots(1, len(shown) + 1, figsize=(3.2 * (len(shown) + 1), 3.9), squeeze=False)
    axes[0, 0].imshow(digit_grid(real[:64, ..., 0]), cmap="gray", vmin=-1, vmax=1)
    axes[0, 0].set_title("real (32x32)", fontsize=9)
    for ax, r in zip(axes[0, 1:], shown):
        ax.imshow(digit_grid(decode_digits(r["samples"])), cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"{r['method']}, seed 0, iteration {r['generator_iterations']}\n"
                     f"FID {r['trajectory'][-1]['fid']:.1f}", fontsize=9)
    for ax in axes[0]:
        ax.axis("off")
    common.save_figure(fig, path)


def cpu_model() -> str:
    """The CPU's model name (Linux), or "unknown CPU"."""
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def findings(runs, summaries) -> str:
    """What the numbers show, in words computed from them."""
    trained = [n for n in METHODS if summaries[n]]
    if not trained:
        return ""
    order = sorted(trained, key=lambda n: np.mean([s["final_fid"] for s in summaries[n]]))
    at_end = sum(s["best_at"] == r["generator_iterations"] for r, s in
                 zip(runs, [run_summary(r, 0) for r in runs]))
    wgan = [s["rho_train"] for n in ("wgan-clip", "wgan-gp") for s in summaries[n]]
    gan = [s["rho_train"] for s in summaries["gan"]]
    text = (f"Reading: final FID from lowest to highest: {', '.join(order)}. The best FID is at the "
            f"last evaluation in {at_end} of {len(runs)} runs: every method is still improving, so this "
            "budget compares early training, not converged models (the GAN, one discriminator update per "
            "generator iteration, is also the cheapest per iteration).")
    if wgan:
        text += (f" The WGAN critics' training estimate falls with the FID in every run (ρ from "
                 f"{min(wgan):.2f} to {max(wgan):.2f}): the paper's meaningful loss holds on real images, with a "
                 "caveat: over these short runs the FID falls almost steadily, so anything that falls "
                 "steadily with training time would also score high; whether the estimate follows the FID "
                 "when the samples stall or get worse is not tested here.")
    if gan:
        on_samples = np.mean([s["rho_eval"] for s in summaries["gan"]])
        text += (f" The GAN discriminator's JS estimate follows the FID far less (ρ from {min(gan):.2f} to "
                 f"{max(gan):.2f}); on the evaluation samples its mean ρ is {on_samples:.2f}"
                 + (" (it rises as the FID falls)." if on_samples < 0 else "."))
    return text


def report(runs, *, iterations, eval_every, width, seeds, accuracy, wall_seconds,
           figure, samples_figure) -> str:
    """The section's Markdown, from the run records alone (and the
    classifier's accuracy and the times)."""
    warmup = int(common.WARMUP * iterations)
    missing = [(n, s) for s in range(seeds) for n in METHODS
               if not any(r["method"] == n and r["seed"] == s for r in runs)]
    train_seconds = {n: common.mean_std([r["seconds"] for r in runs if r["method"] == n], 0) for n in METHODS}
    summaries = {n: [run_summary(r, warmup) for r in runs if r["method"] == n] for n in METHODS}
    rho = {n: common.mean_std([s["rho_train"] for s in summaries[n]]) for n in METHODS}
    return f"""### Results on real images: DCGAN on MNIST, FID/KID and the meaningful loss

`KERAS_BACKEND=tensorflow OMP_NUM_THREADS=1 python -m experiments.mnist_dcgan` — the real MNIST test
set (`../shared/data/mnist_test.npz`, 10,000 digits, resized to 32×32 and scaled to [−1, 1] by
the training program's pipeline, `keras_wgan.data.array_dataset`), the paper's DCGAN
(`dcgan_generator` / `dcgan_critic`, 32×32, batch {BATCH}, latent {LATENT}) with **{width} base
filters instead of the paper's 64** (this 2-core CPU, shared: see below), {iterations} generator
iterations per run, seeds {", ".join(str(s) for s in range(seeds))} of each method.
{"**Missing runs: " + ", ".join(f"{n} seed {s}" for n, s in missing) + ".**" if missing else "All runs finished."}
The critic keeps batch normalization for clipping and the GAN (as the paper's); the
WGAN-GP critic has none (batch norm couples the samples of a batch, so the penalized
per-sample gradient is not the critic's; the WGAN-GP paper drops it too and suggests layer
normalization instead, not used here).

Evaluated at iteration 0 and every {eval_every} generator iterations: FID and KID (unbiased,
cubic polynomial kernel, {KID_SUBSETS} subsets of {KID_SUBSET_SIZE}) of {EVAL_SAMPLES} generated digits (the same latent vectors
each time) against the 10,000 real ones, on the 128-d features of `train_classifier`
({CLASSIFIER_EPOCHS} epochs on the 10,000 labelled digits at 32×32, seed 0, trained once and its weights kept in
`results/mnist/`; accuracy {accuracy:.4f} on them): feature extractor `classifier`, not Inception — these numbers compare the
methods with each other, not with published FIDs (the classifier's unnormalized ReLU
features make KID of order 1 here, not 10⁻³ as on Inception features).

{method_table(runs, warmup)}

Spearman's ρ over each run's evaluations after iteration 0 between the FID and (a) the
training estimate averaged over the critic updates since the previous evaluation (the WGAN's
logged `wasserstein_estimate`, the paper's Figure 3 curves; for the GAN, the JS estimate
log 2 − L_D/2 from its discriminator's loss L_D, the paper's Figure 4), (b) the critic's
estimate mean f(real) − mean f(fake) on 2,000 held-out real digits and the evaluation's 2,000
generated ones (critic in inference mode; for the GAN the JS estimate log 2 − L_D/2 on them).
ρ ≈ +1: the estimate falls as the FID falls (a meaningful loss). For the GAN,
ρ(L_D, FID) = −ρ(JS estimate, FID). "After iteration {warmup}": the evaluations after the first {100 * common.WARMUP:.0f}% of the run.

{correlation_table(runs, warmup)}

Mean ρ(training estimate, FID): clipping {rho['wgan-clip']}, WGAN-GP {rho['wgan-gp']}, GAN (JS estimate from L_D) {rho['gan']}.

{findings(runs, summaries)}

Time: {sum(r["seconds"] for r in runs) / 60:.0f} min of training with evaluations for the {len(runs)} runs
(per run, mean ± std over seeds: clipping {train_seconds['wgan-clip']} s, WGAN-GP {train_seconds['wgan-gp']} s,
GAN {train_seconds['gan']} s; of which FID/KID {common.mean_std([r["evaluation_seconds"] for r in runs], 0)} s), run one after
the other; the last invocation of the script took {wall_seconds:.0f} s (finished runs are read from
`results/mnist_dcgan_runs.jsonl`, not retrained). Machine: {cpu_model()}, {common.environment()},
OMP_NUM_THREADS=1 (another job on the other core). Why {width} filters: measured here before the runs
(2026-12-03), the paper's 64 take ~1.5 s per generator iteration (JAX backend; 64 filters have about
4× the convolution work of 32: both input and output channels double); on TensorFlow
32 take 0.13 s (GAN) to 0.3–0.5 s (WGAN: 5 critic updates and a generator update) per training
step, which fits the 9 runs of 1,000 generator iterations in about an hour of this CPU.

![FID and KID against generator iterations]({common.relative_to_report(figure)})

![samples of the final generators, seed 0]({common.relative_to_report(samples_figure)})
"""


def main(argv):
    del argv
    start = time.time()
    quick = common.QUICK.value
    iterations = 6 if quick else ITERATIONS.value
    eval_every = 3 if quick else EVAL_EVERY.value
    width = 4 if quick else WIDTH.value
    seeds = 1 if quick else DCGAN_SEEDS.value
    real, labels = load_real()
    if quick:
        real, labels = real[:640], labels[:640]
    classifier_start = time.time()
    path = os.path.join(common._mkdir(os.path.join(common.out_dir(), "mnist")), "dcgan_classifier.weights.h5")
    extractor, accuracy = classifier_extractor(real, labels, path, 1 if quick else CLASSIFIER_EPOCHS)
    real_features = extractor(real)
    classifier_seconds = time.time() - classifier_start
    print(f"classifier accuracy {accuracy:.4f} ({classifier_seconds:.0f} s)")
    runs = [
        dcgan_run(name, seed, real, extractor, real_features, iterations, eval_every, width)
        for seed in range(seeds) for name in METHODS
    ]
    figure = common.figure_path("mnist_dcgan_fid.png")
    samples_figure = common.figure_path("mnist_dcgan_samples.png")
    plot_curves(runs, figure, int(common.WARMUP * iterations))
    plot_samples(runs, real, samples_figure)
    markdown = report(runs, iterations=iterations, eval_every=eval_every, width=width, seeds=seeds,
                      accuracy=accuracy,
                      wall_seconds=time.time() - start, figure=figure, samples_figure=samples_figure)
    print(f"Wrote {common.write_section('mnist_dcgan', markdown)}, {figure} and {samples_figure}")


if __name__ == "__main__":
    app.run(main)
