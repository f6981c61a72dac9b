"""Figure 2 of the WGAN paper: a GAN discriminator trained to convergence
between two far-apart 1-D Gaussians saturates, so the gradient that it
passes to the fake samples vanishes, while the clipped WGAN critic stays
linear and its gradient does not.

Both are the same small ReLU MLP, trained on samples with the generator
fixed at the fake Gaussian (`common.fixed_generator`); the GAN discriminator
with the GAN's cross-entropy, the critic with the WGAN's loss and weight
clipping. The networks' gradients with respect to x are the library's
`input_gradient_norms` (in 1-D, the magnitude of the slope); the sigmoid's
is applied to them in float64.

    KERAS_BACKEND=jax python -m experiments.figure2
"""

import math
import os
import time

import keras
import numpy as np
from absl import app
from absl import flags

from experiments import common
import keras_wgan
from keras_wgan import models

REAL = flags.DEFINE_list("real", ["-2", "0.5"], "Mean and std of the real Gaussian.")
FAKE = flags.DEFINE_list("fake", ["2", "0.5"], "Mean and std of the fake Gaussian.")
ITERATIONS = flags.DEFINE_integer("iterations", 5000, "Discriminator / critic iterations.")

BATCH = 256


def train(kind, real_mean, real_std, fake_mean, fake_std, iterations, seed=0):
    generator = common.fixed_generator(lambda z: fake_mean + fake_std * z, latent_dim=1)
    critic = models.toy_critic(1, hidden=64, seed=seed)
    if kind == "gan":
        model = keras_wgan.GAN(generator, critic, latent_dim=1, n_critic=1, seed=seed)
        optimizer = lambda name: keras.optimizers.Adam(2e-4, beta_1=0.5, name=name)
    else:  # the paper's critic: weight clipping and RMSProp
        model = keras_wgan.WGAN(generator, critic, latent_dim=1, n_critic=5, clip_value=0.05, seed=seed)
        optimizer = lambda name: keras.optimizers.RMSprop(5e-4, rho=0.99, epsilon=1e-16, name=name)
    model.compile(generator_optimizer=optimizer("generator_optimizer"),
                  critic_optimizer=optimizer("critic_optimizer"))
    rng = np.random.default_rng(seed)
    real = (real_mean + real_std * rng.standard_normal((iterations * BATCH, 1))).astype("float32")
    history = model.fit(real, batch_size=model.schedule.n_critic * BATCH, epochs=1, shuffle=False, verbose=0)
    return model, {k: float(v[-1]) for k, v in history.history.items()}


def output_and_slope(model, x):
    """The network's output at x and the magnitude of its derivative there
    (`input_gradient_norms`, in 1-D)."""
    points = np.asarray(x, "float32").reshape(-1, 1)
    output = keras.ops.convert_to_numpy(model.critic(points, training=False)).astype("float64").ravel()
    return output, model.input_gradient_norms(points, batch_size=len(points)).astype("float64")


def sigmoid(logits):
    return 0.5 * (1.0 + np.tanh(0.5 * logits))  # float64, no overflow


def main(argv):
    del argv
    real_mean, real_std = map(float, REAL.value)
    fake_mean, fake_std = map(float, FAKE.value)
    iterations = 20 if common.QUICK.value else ITERATIONS.value
    start = time.time()
    gan, gan_logs = train("gan", real_mean, real_std, fake_mean, fake_std, iterations)
    wgan, wgan_logs = train("wgan", real_mean, real_std, fake_mean, fake_std, iterations)
    seconds = time.time() - start

    rng = np.random.default_rng(123)
    fake = fake_mean + fake_std * rng.standard_normal(10_000)
    real = real_mean + real_std * rng.standard_normal(10_000)
    rows, record = [], {"iterations": iterations, "gan_logs": gan_logs, "wgan_logs": wgan_logs,
                        "train_seconds": round(seconds, 1)}
    for name, points in (("fake", fake), ("real", real)):
        logits, dlogits = output_and_slope(gan, points)
        d = sigmoid(logits)
        f, df = output_and_slope(wgan, points)
        gradients = {
            "dD_dx": d * (1 - d) * dlogits,
            # The minimax generator minimizes log(1 - D(x)): the paper's
            # vanishing gradient is this one's.
            "dlog1mD_dx": d * dlogits,
            # The non-saturating generator's -log D(x).
            "dlogD_dx": (1 - d) * dlogits,
            "df_dx": df,
        }
        record[name] = {"D": float(d.mean()), "f": float(f.mean())}
        for key, g in gradients.items():
            record[name][f"mean_abs_{key}"] = float(np.abs(g).mean())
            record[name][f"median_abs_{key}"] = float(np.median(np.abs(g)))
    # The critic's slope relative to its Lipschitz constant K ~ the slope of
    # the line through its values at the two means.
    f_means, _ = output_and_slope(wgan, np.array([real_mean, fake_mean]))
    k = abs(f_means[0] - f_means[1]) / abs(real_mean - fake_mean)
    record["critic_mean_slope_K"] = float(k)
    common.append_jsonl(os.path.join(common.out_dir(), "figure2.jsonl"), record)

    x = np.linspace(min(real_mean, fake_mean) - 4 * max(real_std, fake_std),
                    max(real_mean, fake_mean) + 4 * max(real_std, fake_std), 801)
    logits, dlogits = output_and_slope(gan, x)
    d = sigmoid(logits)
    f, df = output_and_slope(wgan, x)
    plt = common.pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7.5, 7), sharex=True)
    density = lambda m, s: np.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    top.fill_between(x, density(real_mean, real_std) / density(real_mean, real_std).max(), alpha=0.25,
                     color="C0", label=f"density of real N({real_mean:g}, {real_std:g}²)")
    top.fill_between(x, density(fake_mean, fake_std) / density(fake_mean, fake_std).max(), alpha=0.25,
                     color="C2", label=f"density of fake N({fake_mean:g}, {fake_std:g}²)")
    top.plot(x, d, "C3", label="GAN discriminator D(x) = σ(logit)")
    scaled = (f - f.min()) / (f.max() - f.min())
    top.plot(x, scaled, "C1", label=f"WGAN critic f(x), rescaled to [0, 1] (raw range {f.min():.3g}..{f.max():.3g})")
    top.set_ylabel("value")
    top.legend(fontsize=7, loc="center left")
    top.set_title(f"Figure 2: after {iterations} updates each")
    tiny = 1e-30
    bottom.semilogy(x, np.abs(d * (1 - d) * dlogits) + tiny, "C3", label="|dD/dx|")
    bottom.semilogy(x, np.abs(d * dlogits) + tiny, "C3--", label="|d log(1 − D)/dx| (minimax generator)")
    bottom.semilogy(x, np.abs(df) / k + tiny, "C1", label="|df/dx| / K (WGAN critic)")
    bottom.axvspan(fake_mean - 2 * fake_std, fake_mean + 2 * fake_std, color="C2", alpha=0.15,
                   label="fake samples (±2 std)")
    bottom.set_ylim(1e-12, 1e2)
    bottom.set_xlabel("x")
    bottom.set_ylabel("gradient magnitude")
    bottom.legend(fontsize=7, loc="lower left")
    figure = common.figure_path("figure2_saturation.png")
    common.save_figure(fig, figure, dpi=110)

    def cells(key, scale=1.0, sides=("fake", "real")):
        return [f"{record[s][f'{stat}_abs_{key}'] / scale:.3g}" if s in sides else ""
                for s in ("fake", "real") for stat in ("mean", "median")]

    rows = [
        ["GAN discriminator D = σ(logit)", f"{record['fake']['D']:.3g}", f"{record['real']['D']:.3g}", *cells("dD_dx")],
        ["  minimax generator loss log(1 − D)", "", "", *cells("dlog1mD_dx", sides=("fake",))],
        ["  non-saturating loss −log D", "", "", *cells("dlogD_dx", sides=("fake",))],
        [f"WGAN critic f (clipped; K = {k:.3g})", f"{record['fake']['f']:.3g}", f"{record['real']['f']:.3g}", *cells("df_dx")],
        ["  f / K", "", "", *cells("df_dx", scale=k)],
    ]
    header = ["network", "output at fake (mean)", "at real (mean)", "abs gradient wrt x at fake: mean",
              "median", "at real: mean", "median"]
    markdown = f"""### Figure 2: the discriminator saturates, the critic stays linear

`KERAS_BACKEND=jax python -m experiments.figure2` — real N({real_mean:g}, {real_std:g}²), fake
N({fake_mean:g}, {fake_std:g}²) (8 standard deviations apart), generator fixed. A GAN
discriminator (ReLU MLP 1-64-64-64-1, Adam 2e-4, β1 = 0.5, final loss
{gan_logs['critic_loss']:.2e}) and a clipped WGAN critic (same MLP, c = 0.05, RMSProp
5e-4, n_critic = 5) trained for {iterations} updates of batch {BATCH} each
({seconds:.0f} s for both; {common.environment()}). Mean magnitudes over 10,000
samples of each Gaussian (and medians): the discriminator's gradient at the fake samples, and
that of the minimax generator loss log(1 − D), are ~0 (vanishing), while the
critic's is its Lipschitz constant K, the same at real and fake samples (a
linear function). K is the slope of the line through f at the two means. The
mean of the discriminator's gradient comes from the few fake samples in the
tail nearest the real ones; the median shows the typical fake sample's.

![Figure 2]({common.relative_to_report(figure)})

{common.table(header, rows)}
"""
    print(f"Wrote {common.write_section('figure2', markdown)} and {figure}")


if __name__ == "__main__":
    app.run(main)
