"""What the scripts of `experiments` share: flags and output paths, the
Markdown report, fixed generators, and the 2-D toy runs (trained once,
cached in `results/toy_runs.jsonl`, used by `mode_collapse` and
`meaningful_loss`). Measurements are the library's own: `keras_wgan.metrics`
(exact W1, mode coverage, `EvaluationCallback`), the model's input-gradient
norms, its objectives and the critic's grid of `keras_wgan.callbacks`."""

import dataclasses
import hashlib
import json
import math
import os
import shutil
import time

import keras
import numpy as np
from absl import flags
from keras import ops

import keras_wgan
from keras_wgan import data as data_sources
from keras_wgan import losses
from keras_wgan import metrics as evaluation
from keras_wgan import models
from keras_wgan.callbacks.critic_contour import critic_on_grid
from keras_wgan.optimizers import linear_decay
from keras_wgan.schedules import steps_for
from keras_wgan.schedules import updates_per_optimizer

QUICK = flags.DEFINE_bool("quick", False, "Tiny training lengths (seconds), for tests.")
OUT_DIR = flags.DEFINE_string(
    "out_dir", None, "Raw results (JSON lines). Default experiments/results (quick: experiments/quick)."
)
FIGURE_DIR = flags.DEFINE_string(
    "figure_dir", None, "Figures. Default experiments/figures (quick: experiments/quick)."
)
REPORT_MD = flags.DEFINE_string(
    "report_md", None, "Markdown report whose section is replaced. Default "
    "experiments/RESULTS.md (quick: experiments/quick/RESULTS.md)."
)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(HERE)
MNIST = os.path.join(REPO_ROOT, "..", "shared", "data", "mnist_test.npz")


# ------------------------------------------------------------------ outputs

def out_dir() -> str:
    default = os.path.join(HERE, "quick" if QUICK.value else "results")
    return _mkdir(OUT_DIR.value or default)


def figure_path(name: str) -> str:
    default = os.path.join(HERE, "quick" if QUICK.value else "figures")
    return os.path.join(_mkdir(FIGURE_DIR.value or default), name)


def report_md() -> str:
    """The report the sections go to: experiments/RESULTS.md (quick:
    experiments/quick/RESULTS.md)."""
    return REPORT_MD.value or os.path.join(HERE, "quick" if QUICK.value else "", "RESULTS.md")


def _mkdir(path):
    os.makedirs(path, exist_ok=True)
    return path


def append_jsonl(path: str, record: dict):
    """Appends one JSON line (NaN and infinities as null)."""
    with open(path, "a") as f:
        f.write(json.dumps(_json_safe(record)) + "\n")


def read_jsonl(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


PAPER_HEADER = "# The paper's claims, measured (`experiments`)\n"


def write_section(name: str, markdown: str) -> str:
    """Replaces the text between `<!-- name -->` and `<!-- /name -->` in the
    report (appending it the first time); the rest of the file is kept."""
    path = report_md()
    text = PAPER_HEADER
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        text = text[: text.index(start)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    _mkdir(os.path.dirname(os.path.abspath(path)))
    with open(path, "w") as f:
        f.write(text)
    return path


def relative_to_report(path: str) -> str:
    """`path` as a link from the report's folder."""
    return os.path.relpath(path, os.path.dirname(os.path.abspath(report_md())))


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def mean_std(values, digits: int = 2) -> str:
    values = np.asarray([v for v in values if v is not None], "float64")
    if len(values) == 0:
        return "n/a"
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def spearman(x, y) -> float:
    """Spearman's rank correlation; NaN if either series is constant."""
    from scipy import stats

    x, y = np.asarray(x, "float64"), np.asarray(y, "float64")
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3 or np.ptp(x[keep]) == 0 or np.ptp(y[keep]) == 0:
        return float("nan")
    return float(stats.spearmanr(x[keep], y[keep]).statistic)


def estimate_series(trajectory, train: bool = False) -> list[float]:
    """The critic's estimate at each evaluation of a run: on the evaluation's
    samples, or (`train`) the logged training estimate averaged since the
    previous evaluation. For a GAN, the discriminator's JS estimate
    `log 2 - L_D / 2`."""
    if "critic/js_estimate" in trajectory[0]:
        return [math.log(2) - r["train/critic_loss"] / 2 if train else r["critic/js_estimate"] for r in trajectory]
    return [r["train/wasserstein_estimate"] if train else r["critic/estimate"] for r in trajectory]


WARMUP = 0.2  # the part of a run left out of the "after warm-up" correlations


def correlations(run, quality: str = "w1", after: int = 0) -> dict:
    """Spearman's rho between the estimates (`estimate`, `train`) and the
    `quality` of the samples (`w1` or `fid`) over a run's evaluations after
    generator iteration `after`."""
    t = [r for r in run["trajectory"] if r["generator_iteration"] > after]
    if not t:
        return {"estimate": float("nan"), "train": float("nan")}
    q = [r[quality] for r in t]
    return {"estimate": spearman(estimate_series(t), q), "train": spearman(estimate_series(t, train=True), q)}


def pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str, dpi: int = 100):
    """Lays out, writes and closes a figure."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


def environment() -> str:
    return (
        f"Keras {keras.__version__}, backend {keras.backend.backend()}, "
        f"{os.cpu_count()} CPU cores (shared: timings are noisy)"
    )


# ------------------------------------------------------------ fixed generators

def fixed_generator(transform, latent_dim: int, output_shape=None, name: str = "fixed_generator") -> keras.Model:
    """A generator without weights, `z -> transform(z)` in `keras.ops`: the
    WGAN trainer then trains only the critic (the generator update is a
    no-op), which is how the critic's estimate of a fixed distance is
    measured."""
    z = keras.Input((latent_dim,))
    return keras.Model(z, keras.layers.Lambda(transform, output_shape=output_shape)(z), name=name)


def normal_cdf(z):
    """Phi(z): turns N(0, 1) latents into U[0, 1] ones."""
    return 0.5 * (1.0 + ops.erf(z / math.sqrt(2.0)))


# ------------------------------------------------------------- 2-D toy runs

@dataclasses.dataclass(frozen=True)
class Method:
    """A training method of the toy runs (plain data; see `TOY_METHODS`)."""

    label: str
    model: str = "wgan"  # "wgan" or "gan"
    lipschitz: str = "clip"
    optimizer: str = "rmsprop"  # "rmsprop" (the paper's, with clipping) or "adam"
    learning_rate: float = 1e-4
    beta_1: float = 0.5
    beta_2: float = 0.9
    n_critic: int = 5
    clip_value: float = 0.05
    penalty_weight: float = 10.0
    lr_decay: bool = False  # linearly to 0 over the run, as WGAN-GP's image code does

    def lipschitz_method(self):
        """The library's Lipschitz method with this method's setting."""
        settings = {"clip_value": self.clip_value, "penalty_weight": self.penalty_weight}
        takes = keras_wgan.lipschitz.SETTINGS.get(self.lipschitz, ())
        return keras_wgan.lipschitz.get(self.lipschitz, **{k: v for k, v in settings.items() if k in takes})

    def build_optimizer(self, name, steps=None):
        """The optimizer of one network; `steps`: its updates in the run
        (needed with `lr_decay`)."""
        lr = self.learning_rate
        if self.lr_decay:
            lr = linear_decay(lr, steps)
        if self.optimizer == "rmsprop":
            # The paper's RMSProp (keras_wgan.default_optimizer) at another learning rate.
            settings = keras_wgan.default_optimizer(name).get_config()
            return keras.optimizers.RMSprop.from_config({**settings, "learning_rate": lr})
        return keras.optimizers.Adam(lr, beta_1=self.beta_1, beta_2=self.beta_2, name=name)

    def build_model(self, generator, critic, latent_dim: int, seed: int, iterations: int | None = None):
        """A WGAN or GAN of `generator` and `critic` with this method's
        Lipschitz method and optimizers, compiled for a run of `iterations`
        generator iterations (needed with `lr_decay`)."""
        critic = self.lipschitz_method().prepare_critic(critic)
        if self.model == "gan":
            model = keras_wgan.GAN(generator, critic, latent_dim=latent_dim, n_critic=self.n_critic, seed=seed)
        else:
            model = keras_wgan.WGAN(
                generator, critic, latent_dim=latent_dim, n_critic=self.n_critic,
                lipschitz=self.lipschitz_method(), seed=seed,
            )
        updates = updates_per_optimizer(model.schedule, iterations) if iterations else {}
        model.compile(**{name: self.build_optimizer(name, updates.get(name))
                         for name in ("generator_optimizer", "critic_optimizer")})
        return model


# The settings of each method on the 2-D toys. Clipping and the GAN are the
# command line's (`python -m keras_wgan.train`); the penalties use the toy settings of the WGAN-GP
# reference code (gan_toy.py of igul222/improved_wgan_training: lambda = 0.1,
# Adam(1e-4, 0.5, 0.9)), because lambda = 10 does not train in these lengths
# (see `diagnosis`).
TOY_METHODS = {
    "wgan-clip": Method("WGAN, clipping (c = 0.1, RMSProp 2e-4 decayed linearly to 0)", clip_value=0.1,
                        learning_rate=2e-4, lr_decay=True),
    "wgan-gp": Method("WGAN-GP (λ = 0.1, Adam 1e-4, β = 0.5, 0.9)", lipschitz="gp", optimizer="adam", penalty_weight=0.1),
    "wgan-lp": Method("WGAN-LP (λ = 0.1, Adam 1e-4, β = 0.5, 0.9)", lipschitz="lp", optimizer="adam", penalty_weight=0.1),
    "wgan-sn": Method("WGAN, spectral norm (Adam 1e-4, β = 0.5, 0.9)", lipschitz="spectral_norm", optimizer="adam"),
    "gan": Method("GAN, non-saturating (Adam 2e-4, β = 0.5, 0.999)", model="gan", lipschitz="none",
                  optimizer="adam", learning_rate=2e-4, beta_2=0.999, n_critic=1),
}

TOY_WIDTH, TOY_BATCH = 128, 256  # the command line's toy networks and batch


def build_toy_model(method: Method, seed: int, iterations: int | None = None, width: int = TOY_WIDTH):
    """The command line's toy networks (`keras_wgan.train.build_models`) in
    a WGAN or GAN compiled with `method`'s optimizers, for a run of
    `iterations` generator iterations."""
    generator = models.toy_generator(2, 2, hidden=width, seed=seed)
    critic = models.toy_critic(2, hidden=width, seed=seed + 1)
    return method.build_model(generator, critic, latent_dim=2, seed=seed, iterations=iterations)


def gradient_norms(model, **points) -> dict:
    """The mean norm of the critic's input gradient (`input_gradient_norms`
    of the library's model, in one call) at each named set of points:
    `{"grad_norm_<name>": mean}`."""
    norms = model.input_gradient_norms(np.concatenate(list(points.values())),
                                       batch_size=sum(len(p) for p in points.values()))
    ends = np.cumsum([len(p) for p in points.values()])
    return {f"grad_norm_{name}": float(np.mean(n)) for name, n in zip(points, np.split(norms, ends[:-1]))}


def critic_estimate(model, real, fake) -> dict:
    """The critic's estimate `mean f(real) - mean f(fake)`
    (`keras_wgan.losses.wasserstein_estimate`) on held-out samples; for a
    GAN also the discriminator's Jensen-Shannon estimate `log 2 - L_D / 2`
    (L_D its cross-entropy loss, `GAN.critic_loss`, sum of the two halves)."""
    real_scores = model.critic(real, training=False)
    fake_scores = model.critic(fake, training=False)
    result = {"estimate": float(ops.convert_to_numpy(losses.wasserstein_estimate(real_scores, fake_scores)))}
    if isinstance(model, keras_wgan.GAN):
        loss = float(ops.convert_to_numpy(model.critic_loss(real_scores, fake_scores)))
        result["js_estimate"] = math.log(2.0) - loss / 2.0
    return result


def critic_grid(model, extent: float, resolution: int = 48) -> dict:
    """The critic's values on a square grid (`critic_on_grid`), rounded, for
    contour plots from the JSON lines."""
    _, values = critic_on_grid(model.critic, extent, resolution)
    return {"extent": extent, "values": np.round(values.astype("float64"), 5).tolist()}


def plot_critic(ax, grid):
    """Draws `critic_grid`'s values as filled contours."""
    extent, values = grid["extent"], np.asarray(grid["values"])
    axis = np.linspace(-extent, extent, values.shape[0])
    ax.contourf(axis, axis, values, levels=20, cmap="viridis", alpha=0.6)


class EpochEvaluation(evaluation.EvaluationCallback):
    """The library's `EvaluationCallback`, evaluating at the end of every
    Keras epoch instead of every N generator iterations: with the paper's
    critic schedule, training steps are not generator iterations, and one
    epoch per evaluation keeps the logged training means over the steps
    since the previous evaluation."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, evaluate_at_end=False, **kwargs)

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        self.evaluate()


def fit_evaluating(model, dataset, iterations: int, eval_every: int, callbacks):
    """Trains for `iterations` generator iterations' worth of steps (more
    steps than iterations with the paper's schedule), one epoch, and so one
    evaluation, every `eval_every` steps (generator iterations, with a
    constant n_critic)."""
    steps = steps_for(model.schedule, iterations)
    model.fit(dataset, steps_per_epoch=eval_every, epochs=math.ceil(steps / eval_every),
              callbacks=callbacks, verbose=0)


class LastLogs(keras.callbacks.Callback):
    """Keeps the latest batch logs: Keras's running means over the epoch, so
    with one epoch per evaluation, the means since the last evaluation."""

    logs = {}

    def on_train_batch_end(self, batch, logs=None):
        self.logs = logs or {}


def _toy_key(method, dataset, seed, iterations, eval_every, width):
    settings = {k: v for k, v in dataclasses.asdict(method).items() if k != "label"}
    spec = dict(settings, dataset=dataset, seed=seed, iterations=iterations,
                eval_every=eval_every, width=width, batch=TOY_BATCH)
    digest = hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]
    return f"{dataset}-{method.lipschitz if method.model == 'wgan' else 'gan'}-s{seed}-g{iterations}-{digest}"


def toy_run(name: str, dataset: str, seed: int, iterations: int, eval_every: int, log=print,
            method: Method | None = None, width: int = TOY_WIDTH) -> dict:
    """Trains `TOY_METHODS[name]` (or `method`, called `name`) on a 2-D toy
    for `iterations` generator iterations, with networks of `width` units
    per hidden layer, or returns the cached result of the same run.

    Every `eval_every` generator iterations, the library's
    `EvaluationCallback` records, on 1,000 generated samples (the same
    latents each time) and 1,000 real ones: the exact W1, the mode
    coverage, the critic's estimate on these samples, the mean norm of
    its gradient at them and at interpolates between them, and the training
    logs averaged since the last evaluation. Those lines are written to
    `out_dir/toy/<key>/metrics.jsonl` as training goes; the finished run
    (trajectory, final metrics on 2,000 samples as the command line
    computes them, 500 samples for plots) is appended to
    `out_dir/toy_runs.jsonl`.
    """
    method = method or TOY_METHODS[name]
    key = _toy_key(method, dataset, seed, iterations, eval_every, width)
    runs_path = os.path.join(out_dir(), "toy_runs.jsonl")
    for record in read_jsonl(runs_path):
        if record["key"] == key:
            # The same run may serve under two names; runs cached before the
            # record kept its width have the width of their key.
            return dict(record, method=name, width=width)
    run_dir = os.path.join(out_dir(), "toy", key)
    shutil.rmtree(run_dir, ignore_errors=True)  # an unfinished earlier attempt

    toy = data_sources.get_toy(dataset)
    keras.utils.set_random_seed(seed)
    model = build_toy_model(method, seed, iterations, width)
    last_logs = LastLogs()
    real_eval = toy.sample(1000, seed=10_000 + seed)
    alpha = np.random.default_rng(seed).uniform(size=(1000, 1)).astype("float32")

    def critic(real, fake):
        norms = gradient_norms(model, real=real, fake=fake, interpolates=alpha * real + (1 - alpha) * fake)
        return {**critic_estimate(model, real, fake), **norms}

    def train(real, fake):
        return {k: float(ops.convert_to_numpy(v)) for k, v in last_logs.logs.items()}

    evaluator = EpochEvaluation(
        real_eval,
        metrics={"w1": "w1", "modes": "mode_coverage", "critic": critic, "train": train},
        seed=20_000 + seed,
        log_dir=run_dir,
        metric_kwargs={"modes": {"centers": toy.modes, "std": toy.mode_std}},
        tensorboard=False,
    )
    start = time.time()
    fit_evaluating(model, data_sources.toy_dataset(dataset, TOY_BATCH, model.schedule.n_critic, seed=seed),
                   iterations, eval_every, [last_logs, evaluator])
    seconds = time.time() - start

    fake = model.generate(2000, seed=seed + 2)
    real = toy.sample(2000, seed=seed + 3)
    coverage = evaluation.mode_coverage(fake, toy.modes, toy.mode_std)
    trajectory = [
        {k: v for k, v in r.items() if not k.endswith("mode_counts")} for r in evaluator.results
    ]
    record = {
        "key": key, "method": name, "dataset": dataset, "seed": seed, "width": width,
        "generator_iterations": int(ops.convert_to_numpy(model.generator_iterations)),
        "train_seconds": round(seconds, 1),
        "w1_to_data": evaluation.wasserstein_1(fake, real),
        **{k: v for k, v in coverage.as_dict().items() if k != "mode_counts"},
        "mode_counts": coverage.mode_counts.tolist(),
        "samples": np.round(fake[:500], 4).tolist(),
        "trajectory": trajectory,
    }
    if seed == 0:
        record["critic_grid"] = critic_grid(model, extent=1.3 * float(np.abs(toy.modes).max()))
    append_jsonl(runs_path, record)
    log(f"{dataset} {name} seed {seed}: {iterations} generator iterations in {seconds:.0f} s, "
        f"modes {record['modes_covered']}/{record['num_modes']}, "
        f"high quality {record['high_quality_fraction']:.3f}, W1 {record['w1_to_data']:.3f}")
    return record


def toy_lengths() -> tuple[int, int]:
    """Generator iterations of the toy runs, and the evaluation period."""
    return (20, 10) if QUICK.value else (TOY_ITERATIONS.value, TOY_EVAL_EVERY.value)


TOY_ITERATIONS = flags.DEFINE_integer("toy_iterations", 2000, "Generator iterations of each 2-D toy run.")
TOY_EVAL_EVERY = flags.DEFINE_integer("toy_eval_every", 100, "Generator iterations between evaluations.")
SEEDS = flags.DEFINE_integer("seeds", 5, "Seeds of the 2-D toy runs (0, 1, ...).")
TOY_DATASETS = ("8gaussians", "25gaussians")


def toy_runs(log=print) -> list[dict]:
    """Every method on both mixtures, `--seeds` seeds, each run once (runs
    already in the cache are not trained again). Seeds are the outer loop,
    so that a budget cut short still leaves every method some seeds."""
    iterations, eval_every = toy_lengths()
    seeds = 1 if QUICK.value else SEEDS.value
    names = ["gan", "wgan-clip"] if QUICK.value else list(TOY_METHODS)
    return [
        toy_run(name, dataset, seed, iterations, eval_every, log)
        for seed in range(seeds)
        for dataset in TOY_DATASETS
        for name in names
    ]
