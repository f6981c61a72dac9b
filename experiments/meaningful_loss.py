"""A meaningful loss: over a run, the WGAN critic's estimate of the
Earth-Mover distance follows the generator's quality, measured by the exact
W1 to the data (2-D mixtures) and by the FID (MNIST), while the GAN
discriminator's loss does not. Reported as Spearman rank correlations over
each run's evaluations.

- 2-D: the runs of `common.toy_runs` (shared with `mode_collapse`, trained
  once), evaluated every `--toy_eval_every` generator iterations: exact W1
  between 1,000 generated and 1,000 real samples, against the critic's
  estimate `mean f(real) - mean f(fake)` on the same samples, and against
  the mean of the training estimate since the last evaluation (the curve of
  the paper's Figure 3). For the GAN, the discriminator's Jensen-Shannon
  estimate `log 2 - L_D / 2` (the paper's Figure 4).
- MNIST (`../shared/data/mnist_test.npz`, the 10,000 test digits, as real data
  and to train the FID's feature extractor, `keras_wgan.metrics.train_classifier`):
  MLP generator and critic (the paper's MLP, 3 hidden layers, here of 256
  units: the DCGAN takes seconds per iteration on this CPU), FID of 2,000
  generated digits against the 10,000 real ones.

    KERAS_BACKEND=jax python -m experiments.meaningful_loss
"""

import dataclasses
import hashlib
import json
import os
import shutil
import time

import keras
import numpy as np
from absl import app
from absl import flags

from experiments import common
import keras_wgan
from keras_wgan import metrics as evaluation
from keras_wgan import models

MNIST_ITERATIONS = flags.DEFINE_integer("mnist_iterations", 1500, "Generator iterations of each MNIST run.")
MNIST_EVAL_EVERY = flags.DEFINE_integer("mnist_eval_every", 50, "Generator iterations between FIDs.")
MNIST_METHODS = flags.DEFINE_list("mnist_methods", ["wgan-clip", "wgan-gp", "wgan-lp", "wgan-sn", "gan"],
                                  "Methods trained on MNIST.")

# On images each method keeps its paper's settings (the library's defaults):
# clipping c = 0.01 with RMSProp 5e-5 and the paper's schedule (100 critic
# iterations for the first 25 and every 500th generator iteration, else 5:
# without it the critic is far from optimal for the first hundreds of
# iterations, and so is its estimate); the penalties lambda = 10 and
# spectral normalization with WGAN-GP's Adam(1e-4, 0, 0.9); the GAN Adam(2e-4, 0.5).
MNIST_SETTINGS = {
    "wgan-clip": common.Method("WGAN, clipping (c = 0.01, RMSProp 5e-5, the paper's n_critic schedule)",
                               clip_value=0.01, learning_rate=5e-5, n_critic="paper"),
    "wgan-gp": common.Method("WGAN-GP (λ = 10, Adam 1e-4, β = 0, 0.9)", lipschitz="gp", optimizer="adam", beta_1=0.0),
    "wgan-lp": common.Method("WGAN-LP (λ = 10, Adam 1e-4, β = 0, 0.9)", lipschitz="lp", optimizer="adam", beta_1=0.0),
    "wgan-sn": common.Method("WGAN, spectral norm (Adam 1e-4, β = 0, 0.9)", lipschitz="spectral_norm",
                             optimizer="adam", beta_1=0.0),
    "gan": common.Method("GAN, non-saturating (Adam 2e-4, β = 0.5, 0.999)", model="gan", lipschitz="none",
                         optimizer="adam", learning_rate=2e-4, beta_2=0.999, n_critic=1),
}
MNIST_WIDTH, MNIST_LATENT, MNIST_BATCH = 256, 100, 64


# ----------------------------------------------------------------- MNIST

def load_mnist():
    with np.load(common.MNIST) as f:
        images = (f["images"].astype("float32") / 127.5 - 1.0)[..., None]
        return images, f["labels"].astype("int32")


def build_mnist_model(method, seed):
    generator = models.mlp_generator((28, 28, 1), MNIST_LATENT, hidden=MNIST_WIDTH, output_activation="tanh", seed=seed)
    critic = models.mlp_critic((28, 28, 1), hidden=MNIST_WIDTH, seed=seed + 1)
    return method.build_model(generator, critic, latent_dim=MNIST_LATENT, seed=seed)


def mnist_run(name, images, extractor, iterations, eval_every, seed=0) -> dict:
    """Trains one method on MNIST (or returns the cached run); FID and
    estimates every `eval_every` generator iterations."""
    method = MNIST_SETTINGS[name]
    spec = dict(dataclasses.asdict(method), iterations=iterations, eval_every=eval_every, seed=seed,
                width=MNIST_WIDTH, batch=MNIST_BATCH, latent=MNIST_LATENT)
    key = f"mnist-{name}-g{iterations}-" + hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    runs_path = os.path.join(common.out_dir(), "mnist_runs.jsonl")
    for record in common.read_jsonl(runs_path):
        if record["key"] == key:
            return record
    run_dir = os.path.join(common.out_dir(), "mnist", key)
    shutil.rmtree(run_dir, ignore_errors=True)

    keras.utils.set_random_seed(seed)
    model = build_mnist_model(method, seed)
    last_logs = common.LastLogs()
    held_out = images[np.random.default_rng(seed).permutation(len(images))[:2000]]

    def critic(real, fake):
        return common.critic_estimate(model, held_out, fake)

    def train(real, fake):
        return {k: float(keras.ops.convert_to_numpy(v)) for k, v in last_logs.logs.items()}

    evaluator = common.EpochEvaluation(
        images, metrics={"fid": "fid", "critic": critic, "train": train},
        num_samples=2000, seed=seed + 7, log_dir=run_dir,
        metric_kwargs={"fid": {"extractor": extractor}}, tensorboard=False,
    )
    dataset = keras_wgan.data.array_dataset(
        images, batch_size=MNIST_BATCH, n_critic=model.schedule.n_critic, seed=seed, repeat=True
    )
    start = time.time()
    common.fit_evaluating(model, dataset, iterations, eval_every, [last_logs, evaluator])
    seconds = time.time() - start
    samples = model.generate(16, seed=99)
    record = {"key": key, "method": name,
              "generator_iterations": int(keras.ops.convert_to_numpy(model.generator_iterations)),
              "train_seconds": round(seconds, 1), "trajectory": evaluator.results,
              "samples": np.round(samples[..., 0], 2).tolist()}
    common.append_jsonl(runs_path, record)
    print(f"MNIST {name}: {iterations} generator iterations in {seconds:.0f} s "
          f"(with evaluations), final FID {evaluator.results[-1]['fid']:.2f}")
    return record


# ---------------------------------------------------------------- report

def _estimate_series(run, train):
    label = "JS estimate log 2 − L_D/2" if run["method"] == "gan" else "critic estimate"
    return common.estimate_series(run["trajectory"], train), label + (" (training mean)" if train else "")


def plot(toy_runs, mnist_runs, path):
    plt = common.pyplot()
    names = [n for n in common.TOY_METHODS if any(r["method"] == n for r in toy_runs)]
    rows = [("8gaussians", "w1", "exact W1"), ("25gaussians", "w1", "exact W1")]
    if mnist_runs:
        rows.append(("mnist", "fid", "FID"))
    fig, axes = plt.subplots(len(rows), len(names), figsize=(3.3 * len(names), 2.7 * len(rows)), squeeze=False)
    for i, (dataset, key, quality_label) in enumerate(rows):
        for j, name in enumerate(names):
            ax = axes[i, j]
            pool = mnist_runs if dataset == "mnist" else [r for r in toy_runs if r["dataset"] == dataset]
            run = next((r for r in pool if r["method"] == name and r.get("seed", 0) == 0), None)
            if run is None:
                ax.axis("off")
                continue
            steps = [r["generator_iteration"] for r in run["trajectory"]]
            estimate, label = _estimate_series(run, train=False)
            training, _ = _estimate_series(run, train=True)
            ax.plot(steps, estimate, "C0", label=label)
            ax.plot(steps, training, "C0:", label="same, training mean")
            ax.set_ylabel(label, color="C0", fontsize=7)
            twin = ax.twinx()
            quality = [r[key] for r in run["trajectory"]]
            twin.plot(steps, quality, "C3", label=quality_label)
            twin.set_ylabel(quality_label, color="C3", fontsize=7)
            if key == "fid":
                twin.set_yscale("log")
            rho = common.spearman(estimate, quality)
            ax.set_title(f"{dataset}, {name}: ρ = {rho:.2f}", fontsize=8)
            ax.tick_params(labelsize=7)
            twin.tick_params(labelsize=7)
            if i == len(rows) - 1:
                ax.set_xlabel("generator iterations", fontsize=7)
    common.save_figure(fig, path)


def plot_digits(mnist_runs, path):
    plt = common.pyplot()
    fig, axes = plt.subplots(1, len(mnist_runs), figsize=(2.2 * len(mnist_runs), 2.4), squeeze=False)
    for ax, run in zip(axes[0], mnist_runs):
        digits = np.asarray(run["samples"])
        grid = digits.reshape(4, 4, 28, 28).transpose(0, 2, 1, 3).reshape(4 * 28, 4 * 28)
        ax.imshow(grid, cmap="gray", vmin=-1, vmax=1)
        ax.set_title(f"{run['method']}, FID {run['trajectory'][-1]['fid']:.1f}", fontsize=8)
        ax.axis("off")
    common.save_figure(fig, path)


def main(argv):
    del argv
    quick = common.QUICK.value
    iterations = 4 if quick else MNIST_ITERATIONS.value
    eval_every = 20 if quick else MNIST_EVAL_EVERY.value
    names = ["wgan-clip", "gan"] if quick else MNIST_METHODS.value
    images, labels = load_mnist()
    if quick:
        images, labels = images[:600], labels[:600]
    start = time.time()
    classifier = evaluation.train_classifier(images, labels, epochs=1 if quick else 2, seed=0)
    accuracy = float(np.mean(np.argmax(classifier.predict(images, verbose=0), -1) == labels))
    extractor = evaluation.ClassifierExtractor(classifier)
    classifier_seconds = time.time() - start
    mnist_runs = [mnist_run(name, images, extractor, iterations, eval_every) for name in names]
    toy_runs = common.toy_runs()

    figure = common.figure_path("meaningful_loss.png")
    digits = common.figure_path("meaningful_loss_mnist_samples.png")
    plot(toy_runs, mnist_runs, figure)
    plot_digits(mnist_runs, digits)

    toy_iterations, toy_eval = common.toy_lengths()
    toy_warmup, mnist_warmup = int(common.WARMUP * toy_iterations), int(common.WARMUP * iterations)
    rows = []
    for name in common.TOY_METHODS:
        row = [f"`{name}`"]
        for dataset in common.TOY_DATASETS:
            runs = [r for r in toy_runs if r["method"] == name and r["dataset"] == dataset]
            whole = [common.correlations(r) for r in runs]
            late = [common.correlations(r, after=toy_warmup) for r in runs]
            row += [common.mean_std([c["estimate"] for c in whole]), common.mean_std([c["estimate"] for c in late]),
                    common.mean_std([c["train"] for c in whole])]
        rows.append(row)
    header = ["method", "8 Gaussians: ρ(estimate, W1)", f"after iteration {toy_warmup}", "ρ(training estimate, W1)",
              "25 Gaussians: ρ(estimate, W1)", f"after iteration {toy_warmup}", "ρ(training estimate, W1)"]
    mnist_rows = []
    for run in mnist_runs:
        whole, late = common.correlations(run, "fid"), common.correlations(run, "fid", after=mnist_warmup)
        mnist_rows.append([
            f"`{run['method']}`", MNIST_SETTINGS[run["method"]].label, run["generator_iterations"],
            f"{run['trajectory'][0]['fid']:.0f} → {run['trajectory'][-1]['fid']:.1f}",
            f"{whole['estimate']:.2f}", f"{late['estimate']:.2f}", f"{whole['train']:.2f}", f"{late['train']:.2f}",
            f"{run['train_seconds']:.0f}",
        ])
    mnist_header = ["method", "settings", "generator iterations", "FID, first → last evaluation",
                    "ρ(estimate, FID)", f"after iteration {mnist_warmup}", "ρ(training estimate, FID)",
                    f"after iteration {mnist_warmup}", "s (with FIDs)"]
    clip_runs = [r for r in toy_runs if r["method"] == "wgan-clip"]
    clip = [common.correlations(r)["estimate"] for r in clip_runs]
    clip_late = [common.correlations(r, after=toy_warmup)["estimate"] for r in clip_runs]
    met = bool(clip) and min(clip) > 0.9
    markdown = f"""### A meaningful loss: the critic's estimate against W1 and FID

`KERAS_BACKEND=jax python -m experiments.meaningful_loss` — Spearman rank correlation ρ, over the
evaluations of a run, between the critic's estimate and the exact W1 to the data
(2-D; the runs of the mode-collapse table: {toy_iterations} generator iterations,
evaluated every {toy_eval}, mean ± std over seeds) or the FID (MNIST: {iterations}
generator iterations, FID every {eval_every} training steps, i.e. every {eval_every} generator
iterations but with the paper's schedule (clipping) in its 100-critic-iteration phases; one seed). "Estimate": `mean f(real) −
mean f(fake)` on the evaluation's samples; "training estimate": the mean of the
logged `wasserstein_estimate` since the previous evaluation (the paper's curves).
For the GAN both are the discriminator's JS estimate log 2 − L_D/2 (L_D: its
cross-entropy loss). ρ close to +1: the estimate falls as the samples improve. "After
iteration N": over the evaluations after the first {100 * common.WARMUP:.0f}% of the run, once the critic
has been trained for a while (its estimate is a distance only for a critic near its optimum).

{common.table(header, rows)}

{common.table(mnist_header, mnist_rows)}

Target ρ(WGAN-clip estimate, exact W1) > 0.9 in every run: **{'met' if met else 'missed'}**
(over the whole run: lowest {min(clip) if clip else float('nan'):.2f}, mean {common.mean_std(clip)} over
{len(clip)} runs; after iteration {toy_warmup}: lowest {min(clip_late) if clip_late else float('nan'):.2f},
mean {common.mean_std(clip_late)}).

MNIST: digits in [−1, 1]; MLP generator 100-{MNIST_WIDTH}-{MNIST_WIDTH}-{MNIST_WIDTH}-784 (tanh) and critic
784-{MNIST_WIDTH}-{MNIST_WIDTH}-{MNIST_WIDTH}-1, batch {MNIST_BATCH}, n_critic 5 (clipping: the paper's schedule; GAN 1). FID features: the
128-unit hidden layer of `train_classifier` (2 epochs on the same 10,000 digits, accuracy
{accuracy:.3f} on them; {classifier_seconds:.0f} s). {common.environment()}.

![estimates against W1 and FID (seed 0)]({common.relative_to_report(figure)})

![MNIST samples at the end]({common.relative_to_report(digits)})
"""
    print(f"Wrote {common.write_section('meaningful_loss', markdown)}, {figure} and {digits}")


if __name__ == "__main__":
    app.run(main)
