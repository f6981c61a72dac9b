"""Trains a WGAN from the command line: `python -m keras_wgan.train`.

The work is done by `train(config, workdir)`; `main` only parses flags. A
run writes into its working directory: `config.json` (the resolved
configuration), TensorBoard logs (`logs/train`: the losses, learning rates,
speed, sample images, Lipschitz diagnostics and, on 2-D data, W1 and mode
coverage, all against generator iterations; see `keras_wgan.callbacks.Monitor`),
PNG copies of the sample images (`samples/`), the
Wasserstein-estimate plot, `metrics.json` and the saved `model.keras`.
Stopped (Ctrl-C, killed) and started again with the same working directory,
it resumes from its last finished epoch (`--iterations_per_epoch`
generator iterations).

    python -m keras_wgan.train                                   # 8 Gaussians, about a minute
    python -m keras_wgan.train --dataset=../shared/data/mnist_test.npz --architecture=dcgan \\
        --image_size=32 --generator_iterations=2000 --workdir=runs/mnist
    python -m keras_wgan.train --lipschitz=gp --dataset=25gaussians --dry_run
"""

import dataclasses
import functools
import json
import math
import os
import sys
import tempfile
import time
import types
import warnings

import keras
import numpy as np

import keras_wgan
from keras_wgan import data as data_sources
from keras_wgan import distribution as distribution_lib
from keras_wgan import models
from keras_wgan.callbacks import EstimatePlot, Monitor
from keras_wgan._cli import USER_ERRORS
from keras_wgan._cli import error_line
from keras_wgan._cli import format_warning
from keras_wgan._cli import parse_flags
from keras_wgan._clock import TrainingClock
from keras_wgan.data import toy2d
from keras_wgan.evaluate import EvaluationSettings
from keras_wgan.evaluate import define_evaluation_flags
from keras_wgan.optimizers import linear_decay
from keras_wgan.schedules import steps_for
from keras_wgan.schedules import updates_per_optimizer
from keras_wgan.wgan import LIPSCHITZ_METHODS

ARCHITECTURES = ("auto", "toy", "mlp", "dcgan", "resnet")
AUGMENTATIONS = ("none", "diffaugment", "ada")
MODELS = ("wgan", "gan")
LR_DECAYS = ("none", "linear")
PRECISIONS = ("float32", "mixed_bfloat16")
# What may change between a run and its resumption: the same training on
# other devices (see keras_wgan.distribution).
RESUMABLE_ELSEWHERE = ("distribution", "distribution_timeout")


@dataclasses.dataclass
class Config:
    """A training run. `None` means "the default for this dataset and
    method", filled in by `resolve()`.

    Example:

    >>> resolve(Config(dataset="25gaussians")).architecture
    'toy'
    """

    dataset: str = "8gaussians"
    model: str = "wgan"
    architecture: str = "auto"
    image_size: int | None = None
    latent_dim: int | None = None
    width: int | None = None
    batch_size: int | None = None
    n_critic: str = "5"
    lipschitz: str = "clip"
    clip_value: float | None = None
    penalty_weight: float | None = None
    lr_generator: float | None = None
    lr_critic: float | None = None
    lr_decay: str | None = None
    # 2,000: the default 2-D run is then the mode-collapse table's clipping
    # run (8/8 modes in 5/5 seeds, benchmarks/RESULTS.md) and takes 29-33 s
    # (TensorFlow), 33-34 s (JAX) and 60-65 s (PyTorch) on a 2-core CPU;
    # 3,000 gave a few points more high-quality samples for 1.5x the time.
    generator_iterations: int = 2000
    iterations_per_epoch: int = 250
    sample_every: int | None = None
    # TensorBoard: 400 points of the metrics over the default 2-D run, 200
    # over a 1,000-iteration image run. The Lipschitz diagnostics (an input
    # gradient per sample, weight histograms) cost ~17 ms a point: every 100
    # iterations the Monitor cost 6.7% of the default 2-D run on TensorFlow
    # (benchmarks/RESULTS.md, target 5%); every 250, with the images (whose
    # generated samples they share).
    log_every: int = 5
    diagnostics_every: int = 250
    # Image runs: FID / KID / IS / precision-recall every `eval_every`
    # generator iterations (default: every epoch), on `eval_samples`
    # generated images (see keras_wgan.evaluate for the features).
    eval_metrics: str | None = None
    eval_every: int | None = None
    eval_samples: int | None = None
    eval_features: str = "auto"
    eval_resize: str = "tf1_bilinear"
    inception_weights: str | None = None
    eval_reference_samples: int = 10_000
    # The averaged generator (keras_wgan.GeneratorEMA): off unless a decay
    # is given; samples, images and the evaluation then come from it.
    ema_decay: float | None = None
    ema_rampup: float | None = None
    # Augmentation of every critic input (keras_wgan.augment).
    augment: str = "none"
    augment_policy: str | None = None
    ada_target: float | None = None
    ada_speed: int | None = None
    # A class-conditional model on (images, labels) data.
    num_classes: int | None = None
    # Data-parallel training (keras_wgan.distribution): none, auto, devices,
    # processes or tpu; and the layers' precision.
    distribution: str = "none"
    distribution_timeout: float = 300.0
    precision: str = "float32"
    seed: int = 0


def resolve(config: Config) -> Config:
    """Checks a configuration and fills in its defaults.

    Only `None` means "the default": a value given is checked, never
    replaced, so `--batch_size=0` is an error rather than a silent 256.
    """
    c = dataclasses.replace(config)
    check_values(c)
    _choice("model", c.model, MODELS)
    _choice("architecture", c.architecture, ARCHITECTURES)
    _choice("lipschitz", c.lipschitz, LIPSCHITZ_METHODS)
    if c.lr_decay is not None:
        _choice("lr_decay", c.lr_decay, LR_DECAYS)
    _choice("distribution", c.distribution, distribution_lib.NAMES)
    _choice("precision", c.precision, PRECISIONS)
    toy = toy2d.is_toy_name(c.dataset)
    if c.architecture == "auto":
        c.architecture = "toy" if toy else "dcgan"
    if toy and c.architecture == "dcgan":
        raise ValueError(f"--architecture=dcgan takes images; {c.dataset!r} is 2-D toy data.")
    if toy and c.image_size is not None:
        raise ValueError(f"--image_size does not apply to the 2-D toy data {c.dataset!r}.")
    if not toy and c.architecture == "toy":
        raise ValueError(f"--architecture=toy is for the 2-D toy data, not {c.dataset!r}.")
    if toy and c.architecture == "resnet":
        raise ValueError(f"--architecture=resnet takes images; {c.dataset!r} is 2-D toy data.")
    if not toy and c.image_size is None:
        c.image_size = 64 if c.architecture == "dcgan" else 32
    size = c.image_size
    if c.architecture in ("dcgan", "resnet") and (size < 16 or size & (size - 1)):
        raise ValueError(
            f"--architecture={c.architecture} needs an image size that is a power of two >= 16 "
            f"(16, 32, 64, ...). Received: --image_size={size}."
        )
    c.latent_dim = _default(c.latent_dim, 2 if toy else (128 if c.architecture == "resnet" else 100))
    c.width = _default(c.width, {"toy": 128, "mlp": 512, "dcgan": 64, "resnet": 128}[c.architecture])
    _resolve_additions(c, toy)
    c.batch_size = _default(c.batch_size, 256 if toy else 64)
    if toy and c.lipschitz == "clip" and c.model == "wgan":
        # A minute of training on 2-D data: faster than the paper's 5e-5 and
        # c = 0.01 (made for DCGAN on images, and the library's defaults),
        # decayed to 0 so that the last iterations sharpen the modes
        # (benchmarks/RESULTS.md: 8/8 modes where a constant 1e-4 left 7/8).
        c.clip_value = _default(c.clip_value, 0.1)
        c.lr_generator = _default(c.lr_generator, 2e-4)
        c.lr_critic = _default(c.lr_critic, 2e-4)
        c.lr_decay = _default(c.lr_decay, "linear")
    c.lr_decay = _default(c.lr_decay, "none")
    if c.n_critic != "paper":
        try:
            c.n_critic = str(int(c.n_critic))
        except ValueError:
            raise ValueError(f"--n_critic must be an integer or 'paper'. Received: {c.n_critic!r}") from None
        if int(c.n_critic) < 1:
            raise ValueError(f"--n_critic must be >= 1 or 'paper'. Received: {c.n_critic}.")
        if c.model == "gan" and config.n_critic == Config.n_critic:
            c.n_critic = "1"  # the GAN baseline's own default
    c.sample_every = _default(c.sample_every, c.iterations_per_epoch)
    evaluation = evaluation_settings(c)
    if toy:
        given = [name for name in _EVAL_FIELDS if getattr(c, name) != getattr(Config, name)]
        if given:
            raise ValueError(
                f"--{given[0]} applies to image data; on the 2-D data {c.dataset!r} every run "
                "reports the exact W1 and the mode coverage."
            )
    else:
        evaluation.check()
        c.eval_every = _default(c.eval_every, c.iterations_per_epoch)
    if c.model == "gan":
        c.lipschitz = "none"
    # Each method's own setting, with the library's default; the other is an
    # error, as in WGAN.
    for name in keras_wgan.lipschitz.unused_settings(
        c.lipschitz, clip_value=c.clip_value, penalty_weight=c.penalty_weight
    ):
        method = "--model=gan" if c.model == "gan" else f"--lipschitz={c.lipschitz}"
        raise ValueError(f"--{name} does not apply to {method}. Received: --{name}={getattr(c, name)}.")
    takes = keras_wgan.lipschitz.SETTINGS.get(c.lipschitz, ())
    defaults = keras_wgan.lipschitz.get(c.lipschitz).get_config()
    if "clip_value" in takes:
        c.clip_value = _default(c.clip_value, defaults["clip_value"])
    if "penalty_weight" in takes:
        c.penalty_weight = _default(c.penalty_weight, defaults["weight"])
    keras_wgan.schedules.get(_n_critic(c))  # validates
    return c


def _resolve_additions(c: Config, toy: bool) -> None:
    """Checks the averaged generator, augmentation and conditioning flags
    and fills in their defaults."""
    if c.ema_rampup is not None and c.ema_decay is None:
        raise ValueError(
            f"--ema_rampup needs --ema_decay (the average is off without it). Received: --ema_rampup={c.ema_rampup}."
        )
    if c.ema_decay is not None and (
        isinstance(c.ema_decay, bool) or not isinstance(c.ema_decay, (int, float)) or not 0 <= c.ema_decay < 1
    ):
        raise ValueError(f"--ema_decay must be in [0, 1). Received: --ema_decay={c.ema_decay}.")
    _choice("augment", c.augment, AUGMENTATIONS)
    if c.augment != "none" and toy:
        raise ValueError(f"--augment={c.augment} augments images; {c.dataset!r} is 2-D toy data.")
    if c.augment == "none" and c.augment_policy is not None:
        raise ValueError(
            f"--augment_policy needs --augment=diffaugment or ada. Received: --augment_policy={c.augment_policy!r}."
        )
    for name in ("ada_target", "ada_speed"):
        if getattr(c, name) is not None and c.augment != "ada":
            raise ValueError(f"--{name} applies to --augment=ada. Received: --augment={c.augment}.")
    if c.augment == "ada":
        c.ada_target = _default(c.ada_target, 0.6)
        c.ada_speed = _default(c.ada_speed, 500_000)
        if not 0 < c.ada_target < 1:
            raise ValueError(f"--ada_target must be in (0, 1). Received: --ada_target={c.ada_target}.")
    if c.augment != "none":
        c.augment_policy = augment_layer(c).policy  # the default's, or the one given (checked, normalized)
    if c.num_classes is not None:
        if toy:
            raise ValueError(
                f"--num_classes makes a conditional model of labelled images; {c.dataset!r} is 2-D toy data."
            )
        if c.architecture not in ("dcgan", "resnet"):
            raise ValueError(
                f"--num_classes needs --architecture=dcgan or resnet (the conditional networks). "
                f"Received: --architecture={c.architecture}."
            )
        if c.num_classes < 2:
            raise ValueError(f"--num_classes must be >= 2. Received: --num_classes={c.num_classes}.")


def augment_layer(config: Config):
    """The augmentation layer of a configuration, or None."""
    if config.augment == "none":
        return None
    from keras_wgan import augment

    policy = {} if config.augment_policy is None else {"policy": config.augment_policy}
    if config.augment == "diffaugment":
        return augment.DiffAugment(**policy)
    if config.augment == "ada":
        return augment.AdaptiveAugment(
            target=config.ada_target if config.ada_target is not None else 0.6,
            speed=config.ada_speed if config.ada_speed is not None else 500_000, **policy,
        )
    return None


# Flags that are counts: whole numbers >= 1 (the seed may be 0).
_COUNTS = ("image_size", "latent_dim", "width", "batch_size", "generator_iterations",
           "iterations_per_epoch", "sample_every", "log_every", "diagnostics_every", "eval_every",
           "ada_speed", "num_classes")
# Flags that are rates, bounds or weights: finite numbers > 0 (as WGAN requires
# of clip_value and penalty_weight).
_POSITIVE_REALS = ("clip_value", "lr_generator", "lr_critic", "penalty_weight", "ema_rampup", "ada_target",
                   "distribution_timeout")
_STRINGS = ("dataset", "model", "architecture", "n_critic", "lipschitz", "lr_decay", "eval_metrics",
            "eval_features", "eval_resize", "inception_weights", "augment", "augment_policy", "distribution",
            "precision")
_EVAL_FIELDS = ("eval_metrics", "eval_every", "eval_samples", "eval_features", "eval_resize",
                "inception_weights", "eval_reference_samples")


def evaluation_settings(config: Config) -> EvaluationSettings:
    """The image evaluation a configuration asks for."""
    return EvaluationSettings(
        metrics=config.eval_metrics, features=config.eval_features, num_samples=config.eval_samples,
        resize=config.eval_resize, inception_weights=config.inception_weights,
        reference_samples=config.eval_reference_samples,
    )


def check_values(config: Config) -> None:
    """Raises a ValueError naming the first value of `config` that is out of
    range: counts must be integers >= 1, rates and bounds finite numbers
    > 0 (NaN and infinity would only show up later as NaN losses), the seed
    an integer >= 0. `None` (the default) passes."""
    for name in _COUNTS:
        _check_count(name, getattr(config, name), 1)
    _check_count("seed", config.seed, 0)
    for name in _POSITIVE_REALS:
        value = getattr(config, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0
        ):
            raise ValueError(f"--{name} must be a finite number > 0. Received: {value!r}.")
    for name in _STRINGS:
        value = getattr(config, name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"--{name} must be a string. Received: {value!r}.")


def _check_count(name, value, minimum):
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"--{name} must be an integer >= {minimum}. Received: {value!r}.")
    if value < minimum:
        raise ValueError(f"--{name} must be >= {minimum}. Received: {value}.")


def _default(value, default):
    """`value`, or `default` if it is None (and only then: 0 is a value)."""
    return default if value is None else value


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"--{name} must be one of {', '.join(choices)}. Received: {value!r}.")


def _n_critic(config):
    return "paper" if config.n_critic == "paper" else int(config.n_critic)


def build_models(config: Config, sample_shape):
    """The generator and critic of a resolved configuration."""
    seed = config.seed
    method = keras_wgan.lipschitz.get(config.lipschitz)
    if config.architecture == "toy":
        generator = models.toy_generator(config.latent_dim, sample_shape[-1], hidden=config.width, seed=seed)
        critic = models.toy_critic(sample_shape[-1], hidden=config.width, seed=seed + 1)
    elif config.architecture == "mlp":
        generator = models.mlp_generator(
            sample_shape, config.latent_dim, hidden=config.width,
            output_activation="tanh" if len(sample_shape) == 3 else None, seed=seed,
        )
        critic = models.mlp_critic(sample_shape, hidden=config.width, seed=seed + 1)
    elif config.architecture == "resnet":
        size, channels = sample_shape[0], sample_shape[-1]
        generator = models.resnet_generator(
            size, config.latent_dim, channels, config.width, num_classes=config.num_classes, seed=seed
        )
        critic = models.resnet_critic(size, channels, config.width, num_classes=config.num_classes, seed=seed + 1)
    else:
        size, channels = sample_shape[0], sample_shape[-1]
        generator = models.dcgan_generator(
            size, config.latent_dim, channels, config.width, num_classes=config.num_classes, seed=seed
        )
        critic = models.dcgan_critic(
            size, channels, config.width, batch_norm=method.supports_batch_norm,
            num_classes=config.num_classes, seed=seed + 1,
        )
    return generator, method.prepare_critic(critic)


def build_wgan(config: Config, sample_shape):
    generator, critic = build_models(config, sample_shape)
    additions = {
        "ema": None if config.ema_decay is None else keras_wgan.GeneratorEMA(config.ema_decay, config.ema_rampup),
        "augment": augment_layer(config),
        "num_classes": config.num_classes,
    }
    if config.model == "gan":
        model = keras_wgan.GAN(
            generator, critic, latent_dim=config.latent_dim, n_critic=_n_critic(config), seed=config.seed,
            **additions,
        )
    else:
        model = keras_wgan.WGAN(
            generator, critic, latent_dim=config.latent_dim, n_critic=_n_critic(config),
            clip_value=config.clip_value, lipschitz=config.lipschitz,
            penalty_weight=config.penalty_weight, seed=config.seed, **additions,
        )
    updates = updates_per_optimizer(model.schedule, config.generator_iterations)
    optimizers = {}
    for name, lr in (("generator_optimizer", config.lr_generator), ("critic_optimizer", config.lr_critic)):
        optimizer = model.build_default_optimizer(name)
        settings = optimizer.get_config()
        if lr is not None:
            settings["learning_rate"] = lr
        if config.lr_decay == "linear":
            settings["learning_rate"] = linear_decay(settings["learning_rate"], updates[name])
        optimizers[name] = type(optimizer).from_config(settings)
    model.compile(**optimizers)
    return model


def training_callbacks(config: Config, dataset, workdir, output_dir=None) -> list:
    """The callbacks of a run: stop on divergence, checkpoints in
    `workdir/backup`, the TensorBoard `Monitor`, the estimate plot, and the
    stop at `config.generator_iterations`. `output_dir`: where this process
    writes its logs, samples and plot (`workdir` by default; a scratch
    directory for the processes of a multi-process job but the chief, which
    compute alike and read the chief's checkpoints, but write nothing)."""
    backup = os.path.join(workdir, "backup")
    writes = output_dir is None or output_dir == workdir
    output_dir = workdir if output_dir is None else output_dir
    return [
        _StopOnNonFinite(backup),  # first: before any save
        (keras.callbacks.BackupAndRestore(backup) if writes
         else _RestoreOnly(backup, os.path.join(output_dir, "backup"))),
        monitor(config, dataset, output_dir),
        EstimatePlot(output_dir),
        _StopAtGeneratorIteration(config.generator_iterations),
    ]


class _RestoreOnly(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` for the processes of a job but the chief: they
    resume from the chief's checkpoint (`backup_dir`), and save theirs, as
    the chief does, into `scratch_dir`: saving reads variables that the
    processes synchronize (TensorFlow's metrics), so every process must."""

    _PATHS = ("backup_dir", "_weights_path", "_training_metadata_path", "_prev_weights_path",
              "_prev_training_metadata_path")

    def __init__(self, backup_dir, scratch_dir):
        super().__init__(backup_dir)
        self.scratch_dir = scratch_dir

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)  # restored from the chief's checkpoint
        scratch = keras.callbacks.BackupAndRestore(self.scratch_dir)
        for name in self._PATHS:
            setattr(self, name, getattr(scratch, name))


def monitor(config: Config, dataset, workdir) -> Monitor:
    """The TensorBoard monitoring of a run, in `workdir/logs`, with PNG
    copies of its images in `workdir/samples`. On 2-D data it also
    evaluates the exact W1 between 256 generated and 256 data samples and
    the mode coverage (of the 256 generated)."""
    real_labels = None
    if toy2d.is_toy_name(config.dataset):
        distribution = toy2d.get_toy(config.dataset)
        real = distribution.sample(256, seed=config.seed + 1)
        metrics, metric_kwargs = ["w1"], {}
        if distribution.modes is not None:
            metrics.append("mode_coverage")
            metric_kwargs["mode_coverage"] = {"centers": distribution.modes, "std": distribution.mode_std}
    else:
        batch = next(iter(dataset))
        real = keras.ops.convert_to_numpy(batch[0] if isinstance(batch, tuple) else batch)[:64]
        if config.num_classes is not None:
            real_labels = keras.ops.convert_to_numpy(batch[1])[:64]
        metrics, metric_kwargs = None, None
    return Monitor(
        os.path.join(workdir, "logs"),
        every_n_iterations=config.log_every,
        image_every_n_iterations=config.sample_every,
        diagnostics_every_n_iterations=config.diagnostics_every,
        real_samples=real,
        real_labels=real_labels,
        metrics=metrics,
        metrics_every_n_iterations=config.sample_every,
        metric_kwargs=metric_kwargs,
        num_samples=64,
        seed=config.seed,
        image_dir=os.path.join(workdir, "samples"),
    )


def image_evaluation(config: Config, workdir, verbose=True):
    """The evaluation of an image run (`keras_wgan.evaluate.image_evaluator`)
    as a callback every `eval_every` generator iterations and at the end:
    TensorBoard scalars in `workdir/logs/eval` on the generator-iteration
    axis, one JSON line per evaluation in `workdir/metrics.jsonl`; None for
    `--eval_metrics=none`. The reference statistics are computed here,
    before training, so that missing weights or data fail at once."""
    from keras_wgan.evaluate import image_evaluator
    from keras_wgan.metrics import EvaluationCallback

    evaluator = image_evaluator(
        config.dataset, config.image_size, evaluation_settings(config), seed=config.seed,
        workdir=workdir, verbose=verbose, data_warnings=False,
    )
    if evaluator is None:
        return None
    return EvaluationCallback(
        None, None, evaluator=evaluator, every_n_iterations=config.eval_every, log_dir=workdir,
        tensorboard_dir=os.path.join(workdir, "logs", "eval"), verbose=int(bool(verbose)),
    )


class _StopAtGeneratorIteration(keras.callbacks.Callback):
    def __init__(self, last):
        super().__init__()
        self.last = last
        self.clock = TrainingClock()

    def on_epoch_begin(self, epoch, logs=None):
        self.clock.start_epoch(self.model)

    def on_train_batch_end(self, batch, logs=None):
        if self.clock.after(batch + 1).generator_iterations >= self.last:
            self.model.stop_training = True


class TrainingDiverged(FloatingPointError):
    """Training produced a NaN or infinite loss or weight."""


class _StopOnNonFinite(keras.callbacks.Callback):
    """Stops a diverged run at once, by raising `TrainingDiverged`.

    It raises from the batch whose losses are no longer finite, so neither
    `BackupAndRestore` (which saves at the end of an epoch) nor `train`
    (which saves `model.keras` at the end) ever writes the NaN model: the
    last good checkpoint stays. Keras's `TerminateOnNaN` only sets
    `stop_training`, after which the epoch's backup would still be written.
    """

    def __init__(self, backup_dir):
        super().__init__()
        self.backup_dir = backup_dir
        self.checkpoint = 0

    def on_epoch_begin(self, epoch, logs=None):
        # The state an epoch starts from is the last checkpoint (restored by
        # BackupAndRestore in on_train_begin, or 0).
        self.checkpoint = int(keras.ops.convert_to_numpy(self.model.generator_iterations))

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if name.endswith("loss") and not math.isfinite(float(value)):
                iteration = int(keras.ops.convert_to_numpy(self.model.generator_iterations))
                raise TrainingDiverged(_diverged_message(
                    f"{name} is {float(value)}", iteration, self.checkpoint, self.backup_dir,
                ))

    def on_epoch_end(self, epoch, logs=None):
        # Before BackupAndRestore's save (this callback comes first): losses
        # can stay finite while a weight overflows.
        _check_finite_weights(self.model, self.checkpoint, self.backup_dir)


def _diverged_message(what, iteration, checkpoint, backup_dir):
    if checkpoint:
        kept = f"the last good checkpoint (generator iteration {checkpoint}) stays in {backup_dir!r}"
    else:
        kept = "no checkpoint was written"
    return (
        f"Training diverged: {what} at generator iteration {iteration}; model.keras was "
        f"not written and {kept}. Lower --lr_critic and --lr_generator (or keep the "
        "critic Lipschitz: --lipschitz=clip, gp, lp or spectral_norm) and train in "
        "another --workdir."
    )


def _check_finite_weights(model, checkpoint=0, backup_dir=""):
    """Raises `TrainingDiverged` if any weight of `model` is NaN or infinite."""
    for variable in model.weights:
        if not np.all(np.isfinite(keras.ops.convert_to_numpy(variable))):
            iteration = int(keras.ops.convert_to_numpy(model.generator_iterations))
            raise TrainingDiverged(_diverged_message(
                f"the weight {variable.path!r} is not finite", iteration, checkpoint, backup_dir))


class WorkdirError(OSError):
    """The working directory cannot be created or written to."""


def _make_workdir(workdir) -> str | None:
    """Creates `workdir` (and its missing parents) and checks that files can
    be written there, before any work is done. Returns the topmost folder it
    created (None if `workdir` existed), for `_remove_if_empty`."""
    workdir = os.path.abspath(workdir)
    top = None
    folder = workdir
    while not os.path.lexists(folder) and os.path.dirname(folder) != folder:
        top, folder = folder, os.path.dirname(folder)
    try:
        os.makedirs(workdir, exist_ok=True)
        with tempfile.TemporaryFile(dir=workdir):
            pass
    except OSError as error:
        _remove_if_empty(workdir, top)
        reason = error.strerror or str(error)
        where = f" ({error.filename!r})" if error.filename and error.filename != workdir else ""
        raise WorkdirError(
            f"--workdir={workdir!r} is not a folder this run can write to: {reason}{where}. "
            "Pass a writable folder (it is created if missing)."
        ) from None
    return top


def _remove_if_empty(workdir, top):
    """Removes the empty folders `_make_workdir` created, from `workdir` up to
    `top`, so that a failed start leaves nothing behind."""
    if top is None:
        return
    folder = os.path.abspath(workdir)
    while True:
        try:
            os.rmdir(folder)
        except OSError:
            return  # not empty (or gone): keep it
        if folder == top:
            return
        folder = os.path.dirname(folder)


def _write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
    os.replace(tmp, path)  # never a half-written file


def train(config: Config, workdir: str, verbose: int | str = "auto") -> dict:
    """Trains (or resumes) the run `config` in `workdir`; returns the final
    metrics, also written to `workdir/metrics.json`.

    Example:

    ```python
    metrics = train(Config(generator_iterations=200), "runs/quick")
    metrics["modes_covered"]  # 8
    ```
    """
    config = resolve(config)
    created = _make_workdir(workdir)
    try:
        return _train(config, workdir, verbose)
    except BaseException:
        _remove_if_empty(workdir, created)
        raise


def _train(config, workdir, verbose):
    config_path = os.path.join(workdir, "config.json")
    resolved = dataclasses.asdict(config)
    if os.path.exists(config_path):
        with open(config_path) as f:
            previous = json.load(f)
        changed = sorted(
            k for k in resolved if previous.get(k) != resolved[k] and k not in RESUMABLE_ELSEWHERE
        )
        if changed:
            raise ValueError(
                f"{workdir!r} holds a run with another configuration (differing: "
                f"{', '.join(changed)}). Use another --workdir, or the same flags to resume it."
            )
    metrics_path = os.path.join(workdir, "metrics.json")
    model_path = os.path.join(workdir, "model.keras")
    if os.path.exists(metrics_path) and os.path.exists(model_path):
        with open(metrics_path) as f:
            return json.load(f)  # finished earlier: nothing lost, nothing redone

    # First: JAX's multi-process initialization precedes any use of JAX.
    distribution = distribution_lib.get(config.distribution, timeout=config.distribution_timeout)
    distribution.check_batch(config.batch_size)
    if verbose and distribution.num_replicas > 1 and distribution.is_chief:
        print(f"Distribution {distribution.describe()}")
    # The processes of a job but the chief write into a scratch directory.
    output_dir = workdir if distribution.is_chief else tempfile.mkdtemp(prefix="keras_wgan_worker_")
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(config.precision)
    try:
        with distribution.scope():
            return _train_with(config, workdir, verbose, distribution, output_dir, resolved, config_path,
                               metrics_path, model_path)
    finally:
        keras.config.set_dtype_policy(previous_policy)


def _load_dataset(config):
    """The run's training data (a new `tf.data.Dataset` each call: every
    one, iterated afresh, gives the same batches)."""
    try:
        return data_sources.load(
            config.dataset,
            image_size=config.image_size,
            batch_size=config.batch_size,
            n_critic=_n_critic(config),
            seed=config.seed,
            repeat=True,
            require_multiple_of=16 if config.architecture in ("dcgan", "resnet") else None,
            **({} if config.num_classes is None else {"labels": True, "num_classes": config.num_classes}),
        )
    except ValueError as error:
        if config.num_classes is None:
            raise
        # The data layer's words for its arguments, in the command line's.
        message = str(error).replace("labels=True, but", f"--num_classes={config.num_classes} needs labelled data, but")
        message = message.replace("Pass num_classes=", "Pass --num_classes=").replace(
            ", or leave it None to take the data's count", "").replace(
            ", pass label_key=..., or pass the labels themselves (labels=array)", "")
        raise ValueError(message) from None


def _finished_epochs(workdir) -> int:
    """The epochs done by the checkpoint `BackupAndRestore` will resume
    from (0 when there is none)."""
    path = os.path.join(workdir, "backup", "training_metadata.json")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return int(json.load(f)["epoch"])


def _train_with(config, workdir, verbose, distribution, output_dir, resolved, config_path, metrics_path,
                model_path):
    toy = toy2d.is_toy_name(config.dataset)
    if not distribution.is_chief:
        verbose = 0
        config_path, metrics_path, model_path = (
            os.path.join(output_dir, os.path.basename(p)) for p in (config_path, metrics_path, model_path)
        )
    dataset = _load_dataset(config)
    spec = dataset.element_spec
    sample_shape = tuple((spec[0] if isinstance(spec, tuple) else spec).shape[1:])
    # Before anything is written: weights, labels or samples missing for
    # the evaluation fail here.
    evaluation = None if toy else image_evaluation(config, output_dir, verbose=bool(verbose))
    _write_json(config_path, resolved)  # only once the dataset is known to load
    keras.utils.set_random_seed(config.seed)
    model = build_wgan(config, sample_shape)

    steps = steps_for(model.schedule, config.generator_iterations)
    steps_per_epoch = min(steps, config.iterations_per_epoch)
    callbacks = training_callbacks(config, dataset, workdir, output_dir)
    if evaluation is not None:
        callbacks.insert(-1, evaluation)
    if verbose:
        print(f"Watch it train: tensorboard --logdir {os.path.join(workdir, 'logs')}")
    start = time.time()
    # A dataset of its own for fit, every batch of it where an uninterrupted
    # run would be: the Monitor has taken a batch from `dataset`, and an
    # engine may rebuild the dataset it is given (a fresh start); a resumed
    # run skips the steps its checkpoint has done, on the same batches.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the data's warnings were given by the first load
        training_data = _load_dataset(config).skip(_finished_epochs(workdir) * steps_per_epoch)
    history = model.fit(
        distribution.distribute_dataset(training_data, model.schedule.n_critic),
        epochs=math.ceil(steps / steps_per_epoch), steps_per_epoch=steps_per_epoch,
        callbacks=callbacks, verbose=verbose,
        shuffle=False,  # the data pipeline shuffles; Keras would warn that it cannot
    )
    seconds = time.time() - start
    _check_finite_weights(model)  # a NaN model never replaces a good one
    model.save(model_path)

    metrics = {
        "backend": keras.backend.backend(),
        "replicas": distribution.num_replicas,
        "train_seconds_this_session": round(seconds, 1),
        "generator_iterations": int(keras.ops.convert_to_numpy(model.generator_iterations)),
        "critic_iterations": int(keras.ops.convert_to_numpy(model.critic_iterations)),
    }
    for name, values in history.history.items():
        if name not in metrics and values:
            metrics[f"last_epoch_{name}"] = float(values[-1])
    if evaluation is not None and evaluation.results:
        last = evaluation.results[-1]
        metrics.update({key: value for key, value in last.items() if key != "generator_iteration"})
        metrics["evaluated_at_generator_iteration"] = last["generator_iteration"]
    if toy:
        from keras_wgan import metrics as evaluation

        fake = model.generate(2000, seed=config.seed + 2)
        real = toy2d.get_toy(config.dataset).sample(2000, seed=config.seed + 3)
        metrics["w1_to_data"] = evaluation.wasserstein_1(fake, real)
        distribution = toy2d.get_toy(config.dataset)
        if distribution.modes is not None:
            coverage = evaluation.mode_coverage(fake, distribution.modes, distribution.mode_std)
            metrics["modes_covered"] = coverage.modes_covered
            metrics["num_modes"] = coverage.num_modes
            metrics["high_quality_fraction"] = coverage.high_quality_fraction
    _write_json(metrics_path, metrics)
    return metrics


# ---------------------------------------------------------------- command line

def _flags(flag_values=None):
    """Defines the command line's flags on `flag_values` (absl's global
    FLAGS by default; tests pass their own `flags.FlagValues()`)."""
    from absl import flags

    d = Config()
    fv = flags.FLAGS if flag_values is None else flag_values
    f = types.SimpleNamespace(**{  # the DEFINE_* used below, defining on `fv`
        kind: functools.partial(getattr(flags, kind), flag_values=fv)
        for kind in ("DEFINE_string", "DEFINE_enum", "DEFINE_integer", "DEFINE_float", "DEFINE_boolean")
    })
    f.DEFINE_string("dataset", d.dataset, "8gaussians, 25gaussians, swissroll, a TFDS name "
                    "(mnist, cifar10, tfds:celeb_a, ...), an .npz/.npy file or a folder of images.")
    f.DEFINE_enum("model", d.model, list(MODELS), "wgan, or the standard (non-saturating) gan baseline.")
    f.DEFINE_enum("architecture", d.architecture, list(ARCHITECTURES), "auto: toy for 2-D data, dcgan for "
                  "images; resnet: the WGAN-GP paper's ResNet networks.")
    f.DEFINE_integer("image_size", None, "Image side (DCGAN: a multiple of 16). Default 64 (DCGAN), 32 (MLP).")
    f.DEFINE_integer("latent_dim", None, "Latent size. Default 2 (2-D data), 100 (images).")
    f.DEFINE_integer("width", None, "Hidden width (toy 128, MLP 512), DCGAN filters (64) or ResNet channels (128).")
    f.DEFINE_integer("batch_size", None, "Samples per critic batch. Default 256 (2-D data), 64 (images).")
    f.DEFINE_string("n_critic", d.n_critic, "Critic iterations per generator iteration, or 'paper'.")
    f.DEFINE_enum("lipschitz", d.lipschitz, list(LIPSCHITZ_METHODS), "How the critic is kept Lipschitz.")
    f.DEFINE_float("clip_value", None, "Weight clipping bound c (lipschitz=clip only). Default 0.1 (2-D data), 0.01.")
    f.DEFINE_float("penalty_weight", None, "Gradient penalty weight (lipschitz=gp or lp only). Default 10.")
    f.DEFINE_float("lr_generator", None, "Generator learning rate. Default: the method's (5e-5 clip, "
                   "1e-4 others; 2e-4 for clipping on 2-D data).")
    f.DEFINE_float("lr_critic", None, "Critic learning rate. Default: the method's.")
    f.DEFINE_enum("lr_decay", None, list(LR_DECAYS), "Learning rates decayed linearly to 0 over the "
                  "run, or constant. Default: linear for clipping on 2-D data, none otherwise.")
    f.DEFINE_integer("generator_iterations", d.generator_iterations, "Generator iterations to train.")
    f.DEFINE_integer("iterations_per_epoch", d.iterations_per_epoch, "Steps per Keras epoch (checkpoint period).")
    f.DEFINE_integer("sample_every", None, "Generator iterations between sample images (and, on 2-D "
                     "data, evaluations). Default: an epoch.")
    f.DEFINE_integer("log_every", d.log_every, "Generator iterations between two TensorBoard points "
                     "of the losses, learning rates and speed.")
    f.DEFINE_integer("diagnostics_every", d.diagnostics_every, "Generator iterations between two "
                     "points of the Lipschitz diagnostics (clipped weights, input gradient norms, "
                     "weight histograms).")
    f.DEFINE_integer("eval_every", None, "Image runs: generator iterations between two "
                     "evaluations (--eval_metrics). Default: an epoch.")
    define_evaluation_flags(fv)
    f.DEFINE_float("ema_decay", None, "Keep an exponential moving average of the generator's weights "
                   "with this decay (e.g. 0.999); samples and evaluations use it. Default: off.")
    f.DEFINE_float("ema_rampup", None, "The average's ramp-up (StyleGAN's 0.05): its half-life is at most "
                   "rampup * generator iterations. Default: none.")
    f.DEFINE_enum("augment", d.augment, list(AUGMENTATIONS), "Augment every critic input: DiffAugment, or "
                  "adaptive augmentation (ADA) whose probability follows the critic's overfitting.")
    f.DEFINE_string("augment_policy", None, "The augmentations, comma-separated. Default: "
                    "color,translation,cutout (diffaugment); xflip,rotate90,translation,color (ada).")
    f.DEFINE_float("ada_target", None, "ADA: the target of the overfitting signal. Default 0.6.")
    f.DEFINE_integer("ada_speed", None, "ADA: real images over which p can go from 0 to 1. Default 500000.")
    f.DEFINE_integer("num_classes", None, "Train a class-conditional model on (images, labels) data "
                     "with this many classes (dcgan or resnet). Default: unconditional.")
    f.DEFINE_enum("distribution", d.distribution, list(distribution_lib.NAMES), "Data-parallel training: "
                  "devices (every device of this host), processes (a multi-process job: torchrun, TF_CONFIG "
                  "or KERAS_DISTRIBUTION_*), tpu (TensorFlow), auto (processes when launched as a job, else "
                  "devices when there are several) or none. --batch_size stays the global critic batch.")
    f.DEFINE_float("distribution_timeout", d.distribution_timeout, "Seconds a process waits for the "
                   "others of its job (to start, and at each collective) before it stops with an error.")
    f.DEFINE_enum("precision", d.precision, list(PRECISIONS), "The layers' precision: float32, or "
                  "mixed_bfloat16 (bfloat16 computations, float32 weights).")
    f.DEFINE_integer("seed", d.seed, "Seed of weights, noise and data.")
    f.DEFINE_enum("backend", None, ["tensorflow", "jax", "torch"], "Keras backend (default: KERAS_BACKEND).")
    f.DEFINE_string("workdir", "runs/wgan", "Working directory; an existing one is resumed.")
    f.DEFINE_boolean("dry_run", False, "Print the resolved configuration and exit.")
    f.DEFINE_integer("verbose", 1, "0: silent, 1: progress bar, 2: one line per epoch.")
    return fv


def main(argv, flags=None):
    """Runs the command line (absl has parsed `flags`, FLAGS by default).

    Errors a user can correct (a value out of range, a missing file, an
    unwritable --workdir, a dataset that cannot be downloaded, a diverged
    run) end the program with one line `error: ...` and exit status 1,
    no traceback; anything else is a bug, and keeps its traceback."""
    del argv
    flags = FLAGS if flags is None else flags
    if flags.backend and flags.backend != keras.backend.backend():
        # Keras fixes its backend at import: run again under the one asked for.
        env = dict(os.environ, KERAS_BACKEND=flags.backend)
        os.execve(sys.executable, [sys.executable, "-m", "keras_wgan.train", *sys.argv[1:]], env)
    config = Config(**{field.name: getattr(flags, field.name) for field in dataclasses.fields(Config)})
    try:
        config = resolve(config)
    except ValueError as error:
        sys.exit(error_line(error))
    if flags.dry_run:
        print(json.dumps(dict(dataclasses.asdict(config), backend=keras.backend.backend(), workdir=flags.workdir), indent=2))
        return
    try:
        metrics = train(config, flags.workdir, verbose=flags.verbose)
    except USER_ERRORS as error:
        sys.exit(error_line(error))
    if distribution_lib.launched_process_index() == 0:  # one process of a job reports
        print(json.dumps(metrics, indent=2, sort_keys=True))
        print(f"Samples, logs and model in {flags.workdir}/ (tensorboard --logdir {flags.workdir}/logs)")


def command(argv, flag_values) -> None:
    """The command line in this process (tests): parses `argv` into the
    flags `_flags(flag_values)` defined and runs `main`; a user error ends
    it with `SystemExit("error: ...")`, as the program does."""
    argv = parse_flags(argv, flag_values)
    main(argv, flag_values)


if __name__ == "__main__":
    from absl import app

    FLAGS = _flags()
    warnings.formatwarning = format_warning
    app.run(main, flags_parser=parse_flags)
