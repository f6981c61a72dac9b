"""No mode collapse: the modes of the 8- and 25-Gaussian mixtures that WGANs
(each way of keeping the critic Lipschitz) and the standard GAN cover, and
their fraction of high-quality samples, over several seeds.

The runs are those of `common.toy_runs` (shared with `meaningful_loss`, and
not trained again when cached). Coverage is `keras_wgan.metrics.mode_coverage`
on 2,000 generated samples: a sample is high quality within 3 standard
deviations of its nearest mode's centre, a mode is covered with at least one
high-quality sample (the PacGAN convention).

    KERAS_BACKEND=jax python -m experiments.mode_collapse
"""

import numpy as np
from absl import app
from absl import flags

from experiments import common
from keras_wgan.data import toy2d


GP_TARGET_ITERATIONS = flags.DEFINE_integer(
    "gp_target_iterations", 8000, "Generator iterations of the WGAN-GP runs for the 25-Gaussian target.")
GP_TARGET_WIDTH = flags.DEFINE_integer(
    "gp_target_width", 512, "Units per hidden layer of the WGAN-GP networks for the 25-Gaussian target.")

# WGAN-GP for the 25-Gaussian target (>= 90% high-quality samples): the
# reference toy code's lambda, betas and width (512), a 10x larger learning
# rate decayed linearly to 0, and a longer run (the constant 1e-4 of the
# table reaches ~6% in 2,000 iterations). What stands between it and the
# target is the mass on the "bridges" between modes, which width and
# iterations thin out alike (seed 0, 25/25 modes each: width 128, 4,000
# iterations: 64% high quality; 128, 8,000: 81%; 256, 4,000: 77%;
# 256, 8,000: 87%; 512, 4,000: 87%).
GP_TARGET = common.Method("WGAN-GP (λ = 0.1, Adam 1e-3 decayed linearly to 0, β = 0.5, 0.9)",
                          lipschitz="gp", optimizer="adam", penalty_weight=0.1, learning_rate=1e-3,
                          lr_decay=True)


def gp_target_run(seed, width=None, log=print):
    """WGAN-GP with `GP_TARGET` on 25 Gaussians, one seed (cached); networks
    of `width` units (default `--gp_target_width`)."""
    iterations, eval_every = (20, 10) if common.QUICK.value else (
        GP_TARGET_ITERATIONS.value, 5 * common.TOY_EVAL_EVERY.value)
    width = common.TOY_WIDTH if common.QUICK.value else (width or GP_TARGET_WIDTH.value)
    return common.toy_run("wgan-gp-target", "25gaussians", seed, iterations, eval_every, log,
                          method=GP_TARGET, width=width)


def gp_target_runs(width=None, log=print):
    """`gp_target_run` for every seed."""
    seeds = 1 if common.QUICK.value else common.SEEDS.value
    return [gp_target_run(seed, width, log) for seed in range(seeds)]


def group(runs):
    """{(dataset, method): [runs, by seed]}."""
    groups = {}
    for run in runs:
        groups.setdefault((run["dataset"], run["method"]), []).append(run)
    return groups


def summary_rows(groups, dataset, names=None):
    rows = []
    for name, method in common.TOY_METHODS.items():
        if names is not None and name not in names:
            continue
        runs = groups.get((dataset, name))
        if not runs:
            continue
        modes = [r["modes_covered"] for r in runs]
        quality = [r["high_quality_fraction"] for r in runs]
        rows.append([
            method.label,
            len(runs),
            f"{np.mean(modes):.1f} ± {np.std(modes):.1f}",
            " ".join(str(m) for m in modes),
            f"{sum(m == runs[0]['num_modes'] for m in modes)}/{len(runs)}",
            common.mean_std([100 * q for q in quality], 1),
            " ".join(f"{100 * q:.1f}" for q in quality),
            common.mean_std([r["w1_to_data"] for r in runs], 3),
            f"{np.mean([r['train_seconds'] for r in runs]):.0f}",
        ])
    return rows


def targets(groups, gp_runs):
    def runs(dataset, name):
        return groups.get((dataset, name), [])

    def all_modes(dataset, name):
        rs = runs(dataset, name)
        return bool(rs) and all(r["modes_covered"] == r["num_modes"] for r in rs)

    lines = []
    for dataset in common.TOY_DATASETS:
        n = len(toy2d.get_toy(dataset).modes)
        clip = runs(dataset, "wgan-clip")
        gan = runs(dataset, "gan")
        lines.append(
            f"- WGAN with clipping covers all {n} modes in every seed ({dataset}): "
            f"**{'met' if all_modes(dataset, 'wgan-clip') else 'missed'}** "
            f"({sum(r['modes_covered'] == n for r in clip)}/{len(clip)} seeds)."
        )
        lines.append(
            f"- The GAN baseline misses modes ({dataset}): in "
            f"{sum(r['modes_covered'] < n for r in gan)}/{len(gan)} seeds, "
            f"{common.mean_std([r['modes_covered'] for r in gan], 1)} modes covered."
        )
    for label, gp in (("the table's settings", runs("25gaussians", "wgan-gp")),
                      (f"{GP_TARGET.label}, width {gp_runs[0]['width'] if gp_runs else '?'}, "
                       f"{gp_runs[0]['generator_iterations'] if gp_runs else '?'} generator iterations", gp_runs)):
        met = bool(gp) and all(r["modes_covered"] == 25 and r["high_quality_fraction"] >= 0.9 for r in gp)
        lines.append(
            f"- WGAN-GP covers all 25 modes with ≥ 90% high-quality samples in every seed ({label}): "
            f"**{'met' if met else 'missed'}** (modes {[r['modes_covered'] for r in gp]}, high quality "
            f"{[round(100 * r['high_quality_fraction'], 1) for r in gp]} %)."
        )
    return "\n".join(lines)


def plot_samples(groups, path, seed=0):
    plt = common.pyplot()
    names = [n for n in common.TOY_METHODS if any(k[1] == n for k in groups)]
    fig, axes = plt.subplots(len(common.TOY_DATASETS), len(names), figsize=(2.6 * len(names), 5.4), squeeze=False)
    for row, dataset in enumerate(common.TOY_DATASETS):
        toy = toy2d.get_toy(dataset)
        for col, name in enumerate(names):
            ax = axes[row, col]
            run = next((r for r in groups.get((dataset, name), []) if r["seed"] == seed), None)
            if run is not None and "critic_grid" in run:
                common.plot_critic(ax, run["critic_grid"])
            ax.scatter(*toy.modes.T, s=40, c="orange", marker="+", zorder=3)
            if run is not None:
                ax.scatter(*np.asarray(run["samples"]).T, s=1, c="k", alpha=0.5)
                ax.set_title(f"{name}: {run['modes_covered']}/{run['num_modes']} modes, "
                             f"{100 * run['high_quality_fraction']:.0f}% HQ", fontsize=8)
            lim = 1.3 * np.abs(toy.modes).max()
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"Seed {seed}: 500 samples (black), modes (orange), critic (contours)", fontsize=9)
    common.save_figure(fig, path)


def plot_trajectories(groups, path):
    """Modes covered and high-quality fraction against generator iterations,
    mean over seeds (on the 1,000 samples of each evaluation)."""
    plt = common.pyplot()
    fig, axes = plt.subplots(2, len(common.TOY_DATASETS), figsize=(11, 6.5), squeeze=False)
    for col, dataset in enumerate(common.TOY_DATASETS):
        for name in common.TOY_METHODS:
            runs = groups.get((dataset, name))
            if not runs:
                continue
            steps = [r["generator_iteration"] for r in runs[0]["trajectory"]]
            modes = np.mean([[r["modes/modes_covered"] for r in run["trajectory"]] for run in runs], axis=0)
            quality = np.mean([[r["modes/high_quality_fraction"] for r in run["trajectory"]] for run in runs], axis=0)
            axes[0, col].plot(steps, modes, label=name)
            axes[1, col].plot(steps, 100 * quality, label=name)
        axes[0, col].set_title(dataset)
        axes[0, col].set_ylabel("modes covered (mean over seeds)")
        axes[1, col].set_ylabel("high-quality samples, % (mean)")
        axes[1, col].set_xlabel("generator iterations")
        axes[1, col].axhline(90, color="gray", lw=0.5, ls="--")
    axes[0, 0].legend(fontsize=8)
    common.save_figure(fig, path)


def main(argv):
    del argv
    runs = common.toy_runs()
    gp_runs = gp_target_runs()
    groups = group(runs)
    samples = common.figure_path("mode_collapse_samples.png")
    curves = common.figure_path("mode_collapse_curves.png")
    plot_samples(groups, samples)
    plot_trajectories(groups, curves)
    iterations, eval_every = common.toy_lengths()
    header = ["method", "seeds", "modes covered", "per seed", "all modes", "high quality %",
              "per seed", "W1 to data", "s / run"]
    sections = []
    for dataset in common.TOY_DATASETS:
        n = len(toy2d.get_toy(dataset).modes)
        sections.append(f"**{dataset}** ({n} modes)\n\n" + common.table(header, summary_rows(groups, dataset)))
    gp_rows = []
    # The same runs with the table's networks (width 128), for comparison.
    for runs_of_width in ([gp_runs] if common.QUICK.value else [gp_runs, gp_target_runs(common.TOY_WIDTH)]):
        row = summary_rows({("25gaussians", "wgan-gp"): runs_of_width}, "25gaussians", names=["wgan-gp"])[0]
        gp_rows.append([f"{GP_TARGET.label}, width {runs_of_width[0]['width']}"] + row[1:])
    settings = "\n".join(f"- `{name}`: {m.label}, n_critic = {m.n_critic}" for name, m in common.TOY_METHODS.items())
    markdown = f"""### No mode collapse: 8 and 25 Gaussians

`KERAS_BACKEND=jax python -m experiments.mode_collapse` — {iterations} generator iterations per run
(batch {common.TOY_BATCH}; ReLU MLPs 2-{common.TOY_WIDTH}-{common.TOY_WIDTH}-{common.TOY_WIDTH}-2/1, the
command line's toy networks), seeds 0..{max(r['seed'] for r in runs)}; mean ± std over seeds
of the final generator's 2,000 samples. High quality: within 3 standard deviations
of the nearest mode's centre; covered: at least one high-quality sample.
{common.environment()}. Settings:

{settings}

{chr(10).join(s + chr(10) for s in sections)}
**WGAN-GP for the 25-Gaussian target**: {GP_TARGET.label}, networks of width
{gp_runs[0]['width']} (the reference's; `--gp_target_width`), other settings
as above, {gp_runs[0]['generator_iterations']} generator iterations per run; the same runs with the
table's width 128 below it. Off-mode samples lie on thin bridges between neighbouring modes,
which wider networks (or longer runs) thin out:

{common.table(header, gp_rows)}

Targets:

{targets(groups, gp_runs)}

![samples]({common.relative_to_report(samples)})

![coverage during training]({common.relative_to_report(curves)})
"""
    print(f"Wrote {common.write_section('mode_collapse', markdown)}, {samples} and {curves}")


if __name__ == "__main__":
    app.run(main)
