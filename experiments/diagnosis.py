"""Why targets are missed: WGAN-GP with the library's defaults (lambda = 10,
Adam(1e-4, 0, 0.9)) does not learn the 2-D toys in a few thousand
iterations; on 25 Gaussians WGAN-GP needs far longer than the mode-collapse
runs to reach 90% high-quality samples, and clipping stalls.

1. Is the gradient penalty's gradient right? One critic update of
   `keras_wgan.WGAN(lipschitz="gp")` (and `"lp"`) with SGD(1), fixed real and
   fake batches and fixed interpolation weights, against central differences
   of the same loss written in float64 NumPy.
2. lambda in {10, 0.1} x beta_1 in {0, 0.5} on 8 Gaussians (one seed): modes,
   W1, the critic's estimate against the exact W1, gradient norms.
3. 25 Gaussians, longer (one seed): WGAN-GP with the reference's toy
   settings at constant learning rate (the decayed 1e-3 of the 25-Gaussian
   target is in `mode_collapse`); WGAN with clipping as in the mode-collapse
   runs, with a smaller clipping bound, and with 25 critic iterations per
   generator iteration. Coverage, high-quality fraction and
   the critics' value surfaces.
4. The clipping runs of the mode-collapse table that missed a mode of 8
   Gaussians, trained twice as long.
5. Clipping with the paper's critic schedule on 8 Gaussians: the rank
   correlation of the critic's estimate with the exact W1.

    KERAS_BACKEND=jax python -m experiments.diagnosis
"""

import dataclasses
import os

import keras
import numpy as np
from absl import app
from absl import flags
from keras import ops

from experiments import common
import keras_wgan
from keras_wgan import models
from keras_wgan.data import toy2d

STUDY_ITERATIONS = flags.DEFINE_integer("study_iterations", 2000, "Generator iterations of the lambda study.")
LONG_ITERATIONS = flags.DEFINE_integer("long_iterations", 4000, "Generator iterations of the long 25-Gaussian runs.")

REFERENCE = common.TOY_METHODS["wgan-gp"]  # lambda 0.1, Adam(1e-4, 0.5, 0.9)
STUDY = {
    "λ = 10, β1 = 0 (library defaults)": dataclasses.replace(REFERENCE, penalty_weight=10.0, beta_1=0.0),
    "λ = 10, β1 = 0.5": dataclasses.replace(REFERENCE, penalty_weight=10.0),
    "λ = 0.1, β1 = 0": dataclasses.replace(REFERENCE, beta_1=0.0),
    "λ = 0.1, β1 = 0.5 (reference toy code)": REFERENCE,
}
CLIP = common.TOY_METHODS["wgan-clip"]
# label -> (settings, fraction of --long_iterations): the costlier variants run shorter.
LONG = {
    "WGAN-GP λ = 0.1, Adam 1e-4 constant": (REFERENCE, 1.0),
    "WGAN clipping c = 0.1, RMSProp 2e-4 decayed to 0": (CLIP, 1.0),
    "WGAN clipping c = 0.05, RMSProp 2e-4 decayed to 0": (dataclasses.replace(CLIP, clip_value=0.05), 0.5),
    "WGAN clipping c = 0.1, RMSProp 2e-4 decayed to 0, n_critic = 25": (dataclasses.replace(CLIP, n_critic=25), 0.2),
}


# ------------------------------------------------------ 1. gradient check

class _FixedAlphaWGAN(keras_wgan.WGAN):
    """Interpolation weights from a table, so that an update is reproducible."""

    def __init__(self, *args, alpha=None, **kwargs):
        self.alpha_table = np.asarray(alpha, "float32")
        super().__init__(*args, **kwargs)

    def sample_interpolation(self, batch_size, seed=None):
        return ops.convert_to_tensor(self.alpha_table)


def _numpy_loss(weights, real, fake, alpha, penalty_weight, one_sided):
    """The critic's loss with its penalty, float64, for the ReLU MLP of
    `models.toy_critic` (weights: kernel, bias, kernel, bias, ...)."""
    def forward(x):
        pre = []
        for kernel, bias in zip(weights[:-2:2], weights[1:-2:2]):
            pre.append(x @ kernel + bias)
            x = np.maximum(pre[-1], 0.0)
        return x @ weights[-2] + weights[-1], pre

    x = alpha[:, None] * real + (1 - alpha[:, None]) * fake
    _, pre = forward(x)
    grad = np.ones((len(x), 1)) @ weights[-2].T  # backpropagate d sum f / dx
    for kernel, h in zip(reversed(weights[:-2:2]), reversed(pre)):
        grad = (grad * (h > 0)) @ kernel.T
    norms = np.sqrt((grad**2).sum(1) + 1e-12)
    excess = np.maximum(norms - 1, 0) if one_sided else norms - 1
    return forward(fake)[0].mean() - forward(real)[0].mean() + penalty_weight * np.mean(excess**2)


def gradient_check(lipschitz, width=16, batch=64, penalty_weight=10.0, eps=1e-6):
    rng = np.random.default_rng(0)
    real = rng.normal(1.0, 1.0, (batch, 2)).astype("float32")
    fake = rng.normal(0.0, 1.0, (batch, 2)).astype("float32")
    alpha = rng.uniform(size=batch).astype("float32")
    generator = common.fixed_generator(lambda z: 0.0 * z + fake, latent_dim=2, output_shape=(2,))
    critic = models.toy_critic(2, hidden=width, seed=1)
    # Large weights put the gradient norms on both sides of 1.
    critic.set_weights([rng.normal(0, 0.7, w.shape).astype("float32") for w in critic.get_weights()])
    wgan = _FixedAlphaWGAN(generator, critic, latent_dim=2, n_critic=1, lipschitz=lipschitz,
                           penalty_weight=penalty_weight, alpha=alpha)
    wgan.compile(generator_optimizer=keras.optimizers.SGD(0.0),
                 critic_optimizer=keras.optimizers.SGD(1.0))
    before = critic.get_weights()
    wgan.fit(real, batch_size=batch, epochs=1, shuffle=False, verbose=0)
    library = np.concatenate([(b - a).ravel() for b, a in zip(before, critic.get_weights())])

    weights = [w.astype("float64") for w in before]
    args = (real.astype("float64"), fake.astype("float64"), alpha.astype("float64"), penalty_weight, lipschitz == "lp")
    reference = []
    for w in weights:
        flat = w.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = _numpy_loss(weights, *args)
            flat[j] = old - eps
            minus = _numpy_loss(weights, *args)
            flat[j] = old
            reference.append((plus - minus) / (2 * eps))
    reference = np.array(reference)
    return {
        "lipschitz": lipschitz,
        "parameters": int(reference.size),
        "max_abs_error_over_max_abs_gradient": float(np.abs(library - reference).max() / np.abs(reference).max()),
        "cosine": float(library @ reference / (np.linalg.norm(library) * np.linalg.norm(reference))),
    }


# --------------------------------------------------------------- plots

def _series(run, key):
    return [r["generator_iteration"] for r in run["trajectory"]], [r[key] for r in run["trajectory"]]


def plot_study(runs, path):
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 4, figsize=(17, 3.8))
    for i, (label, run) in enumerate(runs.items()):
        color = f"C{i}"
        axes[0].plot(*_series(run, "modes/modes_covered"), color=color, label=label)
        axes[1].plot(*_series(run, "w1"), color=color)
        steps, estimate = _series(run, "train/wasserstein_estimate")
        axes[2].plot(steps, estimate, color=color)
        axes[2].plot(*_series(run, "w1"), color=color, ls=":")
        axes[3].plot(*_series(run, "critic/grad_norm_interpolates"), color=color)
        axes[3].plot(*_series(run, "critic/grad_norm_fake"), color=color, ls="--")
    axes[0].set_ylabel("modes covered (of 8)")
    axes[1].set_ylabel("exact W1 to the data")
    axes[1].set_yscale("log")
    axes[2].set_ylabel("training estimate (solid) / exact W1 (dotted)")
    axes[2].axhline(0, color="gray", lw=0.5)
    axes[3].set_ylabel("critic ||∇f||: interpolates (solid), fake (dashed)")
    for ax in axes:
        ax.set_xlabel("generator iterations")
    axes[0].legend(fontsize=7)
    common.save_figure(fig, path)


def plot_long(runs, path):
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2 + len(runs), figsize=(5.5 * 2 + 3.6 * len(runs), 3.8),
                             gridspec_kw={"width_ratios": [1.5, 1.5] + [1] * len(runs)})
    modes = toy2d.get_toy("25gaussians").modes
    for i, (label, run) in enumerate(runs.items()):
        ax = axes[2 + i]
        common.plot_critic(ax, run["critic_grid"])
        ax.scatter(*np.asarray(run["samples"]).T, s=1, c="k", alpha=0.5)
        ax.scatter(*modes.T, s=30, c="orange", marker="+")
        ax.set_title(f"C{i}: {run['modes_covered']}/25 modes, {100 * run['high_quality_fraction']:.0f}% HQ", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for i, (label, run) in enumerate(runs.items()):
        steps, quality = _series(run, "modes/high_quality_fraction")
        axes[0].plot(steps, 100 * np.asarray(quality), f"C{i}", label=f"C{i}: {label}")
        axes[1].plot(*_series(run, "modes/modes_covered"), f"C{i}")
    axes[0].axhline(90, color="gray", ls="--", lw=0.7)
    axes[0].set_ylabel("high-quality samples, %")
    axes[1].set_ylabel("modes covered (of 25)")
    for ax in axes:
        ax.set_xlabel("generator iterations")
    axes[0].legend(fontsize=7)
    common.save_figure(fig, path)


def plot_longer(runs, iterations, path):
    plt = common.pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for i, (seed, run) in enumerate(runs.items()):
        axes[0].plot(*_series(run, "modes/modes_covered"), f"C{i}", label=f"seed {seed}")
        steps, quality = _series(run, "modes/high_quality_fraction")
        axes[1].plot(steps, 100 * np.asarray(quality), f"C{i}")
    for ax in axes:
        ax.axvline(iterations, color="gray", ls=":", lw=0.8)
        ax.set_xlabel("generator iterations")
    axes[0].set_ylabel("modes covered (of 8; 1,000 samples)")
    axes[1].set_ylabel("high-quality samples, %")
    axes[0].legend(fontsize=7)
    common.save_figure(fig, path)


def main(argv):
    del argv
    quick = common.QUICK.value
    checks = [gradient_check("gp", width=4 if quick else 16), gradient_check("lp", width=4 if quick else 16)]
    checks_path = f"{common.out_dir()}/gp_gradient_check.jsonl"
    if os.path.exists(checks_path):
        os.remove(checks_path)
    for check in checks:
        print(check)
        common.append_jsonl(checks_path, check)

    study_iterations, long_iterations, eval_every = (20, 20, 10) if quick else (
        STUDY_ITERATIONS.value, LONG_ITERATIONS.value, common.TOY_EVAL_EVERY.value)
    study_settings, long_settings = STUDY, LONG
    if quick:  # the first and last of the study, the first long run
        study_settings = {k: STUDY[k] for k in (list(STUDY)[0], list(STUDY)[-1])}
        long_settings = {k: LONG[k] for k in list(LONG)[:1]}
    study = {label: common.toy_run(f"study: {label}", "8gaussians", 0, study_iterations, eval_every, method=m)
             for label, m in study_settings.items()}
    long_runs = {
        label: common.toy_run(f"long: {label}", "25gaussians", 0,
                              max(eval_every, int(fraction * long_iterations) // eval_every * eval_every),
                              eval_every, method=m)
        for label, (m, fraction) in long_settings.items()
    }
    # 4. The mode-collapse runs of clipping on 8 Gaussians that missed a mode, twice as long.
    toy_iterations, _ = common.toy_lengths()
    # The mode-collapse table's runs (trained here if they are not in the results yet).
    constant = {seed: common.toy_run("wgan-clip", "8gaussians", seed, toy_iterations, eval_every)
                for seed in range(1 if quick else common.SEEDS.value)}
    missed = [seed for seed, run in constant.items() if run["modes_covered"] < 8]
    longer = {seed: common.toy_run("longer: wgan-clip", "8gaussians", seed, 2 * toy_iterations, eval_every,
                                   method=common.TOY_METHODS["wgan-clip"])
              for seed in missed}
    # 5. Clipping with the paper's critic schedule: is the estimate meaningful from the start?
    paper_schedule = {
        seed: common.toy_run("paper schedule: wgan-clip", "8gaussians", seed, toy_iterations, max(eval_every, 100),
                             method=dataclasses.replace(CLIP, n_critic="paper"))
        for seed in range(1 if quick else 3)
    }
    warmup = int(common.WARMUP * toy_iterations)
    schedule_rows = []
    for seed, run in paper_schedule.items():
        row = [seed]
        for r in (run, constant.get(seed)):
            if r is None:
                row += ["", "", ""]
                continue
            whole, late = common.correlations(r), common.correlations(r, after=warmup)
            row += [f"{whole['estimate']:.2f}", f"{late['estimate']:.2f}", f"{whole['train']:.2f}"]
        schedule_rows.append(row + [f"{run['modes_covered']}/8", f"{100 * run['high_quality_fraction']:.1f}",
                                    f"{run['train_seconds']:.0f}"])
    schedule_header = ["seed", "paper's schedule: ρ(estimate, W1)", f"after iteration {warmup}", "ρ(training estimate, W1)",
                       "n_critic = 5: ρ(estimate, W1)", f"after iteration {warmup}", "ρ(training estimate, W1)",
                       "modes (schedule)", "high quality % (schedule)", "s"]
    study_figure = common.figure_path("diagnosis_gp_lambda.png")
    long_figure = common.figure_path("diagnosis_25gaussians_long.png")
    plot_study(study, study_figure)
    plot_long(long_runs, long_figure)

    check_rows = [[c["lipschitz"], c["parameters"], f"{c['max_abs_error_over_max_abs_gradient']:.1e}", f"{c['cosine']:.6f}"]
                  for c in checks]
    study_rows = []
    for label, run in study.items():
        t = run["trajectory"]
        estimates = [r["train/wasserstein_estimate"] for r in t]
        study_rows.append([
            label, f"{run['modes_covered']}/8", f"{100 * run['high_quality_fraction']:.1f}", f"{run['w1_to_data']:.3f}",
            f"{sum(e < 0 for e in estimates)}/{len(estimates)}",
            f"{np.mean([r['critic/grad_norm_interpolates'] for r in t]):.2f}",
            f"{np.mean([r['train/gradient_penalty'] for r in t]):.3f}",
            f"{run['train_seconds']:.0f}",
        ])
    checkpoints = sorted({c for c in (1000, 2000, 4000, long_iterations) if c <= long_iterations})
    long_rows = []
    for label, run in long_runs.items():
        by_step = {r["generator_iteration"]: r for r in run["trajectory"]}
        long_rows.append([label] + [
            f"{by_step[c]['modes/modes_covered']} / {100 * by_step[c]['modes/high_quality_fraction']:.0f}%"
            if c in by_step else "" for c in checkpoints
        ] + [f"{run['generator_iterations']}: {run['modes_covered']} / {100 * run['high_quality_fraction']:.1f}%",
             f"{run['train_seconds']:.0f}"])

    if longer:
        longer_figure = common.figure_path("diagnosis_clip_8gaussians_longer.png")
        plot_longer(longer, toy_iterations, longer_figure)
        longer_rows = []
        for seed, run in longer.items():
            at = {r["generator_iteration"]: r for r in run["trajectory"]}
            late = [r["modes/modes_covered"] for r in run["trajectory"] if r["generator_iteration"] > toy_iterations]
            longer_rows.append([seed, f"{run['modes_covered']}/8", f"{100 * run['high_quality_fraction']:.1f}",
                                f"{at[toy_iterations]['modes/modes_covered']}/8" if toy_iterations in at else "",
                                f"{min(late)}–{max(late)}" if late else "", f"{run['train_seconds']:.0f}"])
        longer_text = f"""The clipping runs of the mode-collapse table that missed a mode of 8 Gaussians
(seeds {missed}), trained again for {2 * toy_iterations} generator iterations (the same run up to
{toy_iterations}: same seed, data and noise):

{common.table(["seed", f"modes at {2 * toy_iterations} (2,000 samples)", "high quality %",
               f"modes at {toy_iterations} (1,000 samples)", f"modes over evaluations after {toy_iterations}", "s"],
              longer_rows)}

![clipping, 8 Gaussians, longer]({common.relative_to_report(longer_figure)})"""
    else:
        longer_text = "No clipping run of the mode-collapse table missed a mode of 8 Gaussians."

    markdown = f"""### Diagnosis: WGAN-GP's λ on the toys, and training length on 25 Gaussians

`KERAS_BACKEND=jax python -m experiments.diagnosis`. {common.environment()}.

**1. The penalty's gradient is right.** One critic update of `WGAN(lipschitz=...)` with
SGD(1) (fixed real, fake and interpolation weights, λ = 10, a 2-{4 if quick else 16}-…-1 ReLU
critic with weights large enough to put gradient norms on both sides of 1) against central
differences (ε = 1e-6) of the same loss in float64 NumPy:

{common.table(["penalty", "critic parameters", "max abs error / max abs gradient", "cosine"], check_rows)}

**2. λ, not β1.** 8 Gaussians, seed 0, {study_iterations} generator iterations, Adam(1e-4, β1, 0.9),
ReLU MLPs of width {common.TOY_WIDTH}, n_critic = 5, batch {common.TOY_BATCH}:

{common.table(["settings", "modes", "high quality %", "W1 to data", "evaluations with a negative training estimate",
               "mean critic ‖∇f‖ at interpolates", "mean logged gradient_penalty (λ·E(‖∇f‖−1)²)", "s"], study_rows)}

![λ study]({common.relative_to_report(study_figure)})

**3. 25 Gaussians, training length.** Seed 0, up to {long_iterations} generator iterations (modes covered /
high-quality % on 1,000 samples at each checkpoint; final: iterations, then modes / high quality on 2,000
samples). Right: the final samples over the critic's values.

{common.table(["settings"] + [f"at {c}" for c in checkpoints] + ["final", "s"], long_rows)}

![25 Gaussians, long runs]({common.relative_to_report(long_figure)})

**4. Clipping on 8 Gaussians, training length.** {longer_text}

**5. Clipping with the paper's critic schedule** (100 critic iterations for the first 25 and every
500th generator iteration, else 5; the reference code's), 8 Gaussians, {toy_iterations} generator iterations,
evaluated every 100 training steps; next to the same seeds' runs of the mode-collapse table (n_critic = 5):

{common.table(schedule_header, schedule_rows)}
"""
    print(f"Wrote {common.write_section('diagnosis', markdown)}, {study_figure} and {long_figure}")


if __name__ == "__main__":
    app.run(main)
