"""TensorBoard monitoring of a WGAN on the generator-iteration axis."""

import os
import time

import keras
import numpy as np

from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed
from keras_wgan._clock import TrainingClock
from keras_wgan._clock import read_counter
from keras_wgan.callbacks._periodic import save_png
from keras_wgan._summary import SummaryWriter
from keras_wgan._summary import drop_events_after
from keras_wgan.callbacks._window_means import WindowMeans
from keras_wgan.callbacks.critic_contour import draw_critic_map
from keras_wgan.callbacks.sample_grid import class_rows
from keras_wgan.callbacks.sample_grid import image_grid
from keras_wgan.constraints import WeightClip

# Generated points drawn over the critic's map of 2-D data.
_POINTS_ON_MAP = 512


class Monitor(keras.callbacks.Callback):
    """Shows a WGAN's training in TensorBoard, every point at its generator
    iteration (the x-axis of the paper's figures).

    Writes the run `log_dir/train` (and `log_dir/validation` with
    `validation_data`), so `tensorboard --logdir <log_dir>` shows, on one
    generator-iteration axis:

    - every `every_n_iterations`: the model's metrics (`wasserstein_estimate`,
      `critic_loss`, `generator_loss`, `gradient_penalty` with a penalty),
      each the mean over the iterations since the previous point (not
      Keras's running mean over the epoch); `learning_rate/generator` and
      `learning_rate/critic`; `time/seconds_per_generator_iteration` (wall
      time; the first point includes compiling the step);
    - every `image_every_n_iterations`: `samples`, a grid generated from
      fixed noise (images), or `critic`, the critic's contours with real
      and generated points (2-D samples);
    - every `diagnostics_every_n_iterations`, the Lipschitz diagnostics:
      `clipped_fraction/<layer>`, the fraction of each clipped critic
      layer's weights at +-c (the paper's warning that clipping limits the
      critic's capacity: near 1, the critic is a sign function); the mean
      and largest norm of the critic's input gradient (inference mode) at
      real, generated and interpolated samples,
      `input_gradient_norm/{real,generated,interpolated}_{mean,max}`
      (1 is the bound of a 1-Lipschitz critic); and histograms
      `critic_weights/<variable>`;
    - every `metrics_every_n_iterations`, the evaluation `metrics`
      (`keras_wgan.metrics`, e.g. `"w1"`, `"mode_coverage"`), as
      `evaluation/<name>`;
    - and a last point of each at the end of training.

    With `steps_per_execution=k`, Keras calls back every k steps: points
    are then at least k generator iterations apart. A run resumed from a
    checkpoint (`keras.callbacks.BackupAndRestore`) continues the curves
    from the restored generator iteration: points written after it by the
    interrupted run are removed from this callback's event files. Keras's
    own `keras.callbacks.TensorBoard(log_dir)` can write beside it (its
    curves are per epoch).

    Args:
        log_dir: The folder to point TensorBoard at.
        every_n_iterations: Generator iterations between two points of the
            metrics.
        image_every_n_iterations: Generator iterations between two images
            (None: no images).
        diagnostics_every_n_iterations: Generator iterations between two
            points of the Lipschitz diagnostics (None: none).
        real_samples: Real samples `(N, ...)` on the generator's scale: the
            first `num_samples` are where the input gradient is measured,
            the contour draws them, and the metrics compare with all.
            Without them, the input gradient is measured at generated
            samples only.
        real_labels: The classes of `real_samples`, for a conditional model
            (`num_classes`): its generated probe samples take the same
            classes, so each interpolate stays within its class. Without
            them a conditional model's input gradient is measured at
            generated samples only.
        metrics: Evaluation metrics (names or functions, as
            `keras_wgan.metrics.EvaluationCallback` takes); needs
            `real_samples`.
        metrics_every_n_iterations: Generator iterations between two
            evaluations.
        metric_kwargs: Extra arguments of the metrics, `{name: {...}}`.
        num_samples: Samples in the grid and at which the input gradient is
            measured.
        seed: Seed of the fixed noise and interpolation weights.
        image_dir: A folder for PNG copies of the images, or None.

    Example:

    ```python
    wgan.fit(dataset, epochs=10, callbacks=[Monitor("runs/x/logs", real_samples=real)])
    # tensorboard --logdir runs/x/logs
    ```
    """

    def __init__(
        self,
        log_dir,
        every_n_iterations=5,
        image_every_n_iterations=250,
        diagnostics_every_n_iterations=250,
        real_samples=None,
        metrics=None,
        metrics_every_n_iterations=250,
        real_labels=None,
        metric_kwargs=None,
        num_samples=64,
        seed=0,
        image_dir=None,
    ):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.every = {
            "scalars": check_int("every_n_iterations", every_n_iterations, 1),
            "images": _optional_count("image_every_n_iterations", image_every_n_iterations),
            "diagnostics": _optional_count("diagnostics_every_n_iterations", diagnostics_every_n_iterations),
            "metrics": None if metrics is None else check_int(
                "metrics_every_n_iterations", metrics_every_n_iterations, 1),
        }
        self.real_samples = None if real_samples is None else np.asarray(real_samples, "float32")
        self.real_labels = None if real_labels is None else np.asarray(real_labels, "int32").reshape(-1)
        if self.real_labels is not None and (
            self.real_samples is None or len(self.real_labels) != len(self.real_samples)
        ):
            raise ValueError(
                "`real_labels` are the classes of `real_samples`, one each. Received "
                f"{len(self.real_labels)} labels for {0 if real_samples is None else len(self.real_samples)} samples."
            )
        if metrics is not None and self.real_samples is None:
            raise ValueError(
                "Monitor computes `metrics` against real samples: pass `real_samples`. "
                f"Received: metrics={metrics!r}, real_samples=None"
            )
        self.metrics = metrics
        self.metric_kwargs = metric_kwargs
        self.num_samples = check_int("num_samples", num_samples, 1)
        self.seed = check_seed(seed)
        self.image_dir = None if image_dir is None else os.fspath(image_dir)
        self._evaluator = None
        if metrics is not None:
            from keras_wgan.metrics.evaluation_callback import EvaluationCallback

            self._evaluator = EvaluationCallback(
                self.real_samples, metrics, every_n_iterations=self.every["metrics"],
                seed=self.seed, metric_kwargs=metric_kwargs, log_dir=None,
            )
        self._clock = TrainingClock()
        self._means = WindowMeans()
        self._writers = {}
        self._last = {}  # kind -> generator iteration of its last point
        self._samples = None  # (iteration, generated samples)
        self._2d = None  # whether the samples are points of the plane
        self._writing = None  # the iteration being written

    # ---------------------------------------------------------------- hooks

    def on_train_begin(self, logs=None):
        if not all(hasattr(self.model, name) for name in ("schedule", "generator_iterations", "generate")):
            raise TypeError(
                "Monitor shows the training of a keras_wgan.WGAN (or GAN). Received a model "
                f"of type {type(self.model).__name__}."
            )
        # A fit that ended in an exception never reached on_train_end: its
        # writers, windows and samples belong to iterations a restore may
        # have rolled back.
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
        self._means = WindowMeans()
        self._samples = None
        self._last = {}  # set when the first epoch begins (after a restore)

    def on_epoch_begin(self, epoch, logs=None):
        model = self.model
        clock = self._clock.start_epoch(model)
        self._means.start_epoch()
        self._rates = {}  # optimizer name -> constant rate, or the epoch's table
        self._optimizer_start = {
            name: read_counter(getattr(model, f"{name}_optimizer").iterations)
            for name in ("generator", "critic") if getattr(model, f"{name}_optimizer", None) is not None
        }
        if not self._last:
            self._begin(clock.generator_iterations)

    def on_train_batch_end(self, batch, logs=None):
        iteration = self._clock.after(batch + 1).generator_iterations
        self._means.update(logs, self._clock, getattr(self.model, "instantaneous_logs", ()))
        due = [kind for kind, every in self.every.items()
               if every is not None and iteration // every > self._last[kind] // every]
        if due:
            self._write(iteration, due)

    def on_epoch_end(self, epoch, logs=None):
        validation = {k[len("val_"):]: v for k, v in (logs or {}).items() if k.startswith("val_")}
        if validation:
            self._writer("validation").scalars(validation, self._clock.generator_iterations)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        if not self._last:
            return  # no epoch ran
        iteration = read_counter(self.model.generator_iterations)
        due = [kind for kind, every in self.every.items()
               if every is not None and self._last.get(kind, -1) != iteration]
        if due:
            self._write(iteration, due)
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -------------------------------------------------------------- writing

    def _begin(self, iteration):
        """The first epoch of this `fit`: curves continue from `iteration`."""
        for run in ("train", "validation"):
            drop_events_after(os.path.join(self.log_dir, run), iteration)
        self._last = {kind: iteration for kind in self.every}
        self._time = (time.perf_counter(), iteration)
        if iteration == 0:  # a new run: the state training starts from
            self._write(0, [kind for kind in ("images", "diagnostics") if self.every[kind]])

    def _write(self, iteration, kinds):
        self._writing = iteration
        for kind in kinds:
            self._last[kind] = iteration
        writer = self._writer("train")
        if "scalars" in kinds:
            writer.scalars(self._scalars(iteration), iteration)
        if "images" in kinds:
            for tag, image in self._images(iteration).items():
                png = writer.image(tag, image, iteration)
                if self.image_dir is not None:
                    save_png(png, self.image_dir, tag, iteration)
        if "diagnostics" in kinds:
            self._diagnostics(writer, iteration)
        if "metrics" in kinds:
            self._evaluator.set_model(self.model)
            record = self._evaluator.evaluate(iteration)
            writer.scalars({
                f"evaluation/{key}": value for key, value in record.items()
                if key != "generator_iteration" and isinstance(value, (int, float))
            }, iteration)
        if kinds != ["scalars"]:
            writer.flush()

    def _writer(self, run):
        if run not in self._writers:
            self._writers[run] = SummaryWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _scalars(self, iteration):
        values = self._means.take()
        now, previous = time.perf_counter(), self._time
        if iteration > previous[1]:
            values["time/seconds_per_generator_iteration"] = (now - previous[0]) / (iteration - previous[1])
        self._time = (now, iteration)
        # The rate of each optimizer's next update, without reading the
        # model (see TrainingClock): it has made one update per generator
        # (critic) iteration since the epoch began.
        updates = {"generator": self._clock.epoch_generator_iterations,
                   "critic": self._clock.epoch_critic_iterations}
        for name in self._optimizer_start:
            rate = self._rate(name, updates[name])
            values[f"learning_rate/{name}"] = rate
        return values

    def _rate(self, name, updates):
        """The learning rate of optimizer `name` after `updates` updates
        this epoch. A schedule is evaluated for the whole epoch at once
        (one call of ~1 ms instead of one per point); a constant rate is
        read once per epoch (a callback such as LearningRateScheduler may
        set it when the epoch begins)."""
        start = self._optimizer_start[name]
        optimizer = getattr(self._model, f"{name}_optimizer")
        schedule = getattr(optimizer, "_learning_rate", None)
        if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            if name not in self._rates:
                # On JAX the model's variables hold values only after a sync.
                optimizer = getattr(self.model, f"{name}_optimizer")
                self._rates[name] = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
            return self._rates[name]
        if name not in self._rates:
            steps = (self.params or {}).get("steps") or 0
            per_step = 1 if name == "generator" else self._clock.schedule.n_critic
            count = steps * per_step + 1
            try:
                table = keras.ops.convert_to_numpy(schedule(np.arange(start, start + count, dtype="int32")))
                table = np.asarray(table, "float64").reshape(-1)
            except Exception:  # a schedule of scalars only: evaluated point by point
                table = np.zeros(0)
            self._rates[name] = table if len(table) == count else np.zeros(0)
        table = self._rates[name]
        if updates < len(table):
            return float(table[updates])
        return float(keras.ops.convert_to_numpy(schedule(start + updates)))

    def _images(self, iteration):
        fake = self._generated()
        if _is_2d(fake):
            if self._samples[2] is not None:
                return {}  # a conditional critic has one map per class: none drawn
            real = self.real_samples
            extent = float(np.abs(fake if real is None else real).max() * 1.25)
            return {"critic": draw_critic_map(self.model.critic, real, fake, extent)}
        if fake.ndim in (3, 4):
            if self._samples[2] is not None:  # a conditional model's rows per class
                return {"samples": image_grid(fake, columns=len(fake) // self.model.num_classes)}
            return {"samples": image_grid(fake[: self.num_samples])}
        return {}  # samples that are neither images nor points of the plane

    def _diagnostics(self, writer, iteration):
        model = self.model
        critic = model.critic
        weights = {variable.path: keras.ops.convert_to_numpy(variable) for variable in critic.trainable_variables}
        clipped = {}
        for variable in critic.trainable_variables:
            if isinstance(variable.constraint, WeightClip):
                layer = variable.path.rsplit("/", 1)[0]
                bound = np.float32(variable.constraint.clip_value)
                w = np.abs(weights[variable.path])
                at, size = clipped.get(layer, (0, 0))
                clipped[layer] = (at + int(np.sum(w >= bound * (1 - 1e-6))), size + w.size)
        values = {f"clipped_fraction/{layer}": at / size for layer, (at, size) in clipped.items()}
        # One gradient computation for the three kinds of samples.
        probe = self._probe()
        labels = None
        if getattr(model, "num_classes", None) is not None:
            labels = np.concatenate([probe_labels for _, probe_labels in probe.values()])
        probe = {kind: samples for kind, (samples, _) in probe.items()}
        norms = model.input_gradient_norms(np.concatenate(list(probe.values())), labels=labels)
        for kind, samples in probe.items():
            values[f"input_gradient_norm/{kind}_mean"] = float(np.mean(norms[: len(samples)]))
            values[f"input_gradient_norm/{kind}_max"] = float(np.max(norms[: len(samples)]))
            norms = norms[len(samples) :]
        writer.scalars(values, iteration)
        for path, w in weights.items():
            writer.histogram(f"critic_weights/{path}", w, iteration)

    def _probe(self):
        """Real, generated and interpolated samples where the input gradient
        is measured, `{kind: (samples, labels)}` (labels None for an
        unconditional model): the same real samples, noise and weights
        every time. A conditional model's generated samples take the real
        samples' classes."""
        fake, fake_labels = self._generated(), self._samples[2]
        conditional = fake_labels is not None
        if self.real_samples is None or (conditional and self.real_labels is None):
            n = self.num_samples
            return {"generated": (fake[:n], None if fake_labels is None else fake_labels[:n])}
        real = self.real_samples[: self.num_samples]
        labels = None
        if conditional:
            labels = self.real_labels[: len(real)]
            fake = self.model.generate(len(real), seed=self.seed, labels=labels)
        fake = fake[: len(real)]
        alpha = np.random.default_rng(self.seed).uniform(size=len(real)).astype("float32")
        alpha = alpha.reshape((-1,) + (1,) * (real.ndim - 1))
        return {
            "real": (real, labels), "generated": (fake, labels),
            "interpolated": (alpha * real + (1 - alpha) * fake, labels),
        }

    def _generated(self):
        """Samples from the fixed noise, made once per point (the images and
        the diagnostics of an iteration share them): `num_samples`, or
        `_POINTS_ON_MAP` points of the plane to draw over the critic's map."""
        if self._samples is None or self._samples[0] != self._writing:
            count = self.num_samples
            if self._2d is None:
                self._2d = _is_2d(self.model.generate(1, seed=self.seed))
            if self._2d:
                count = max(count, _POINTS_ON_MAP)
            num_classes = getattr(self.model, "num_classes", None)
            labels = None if num_classes is None else class_rows(count, num_classes)
            samples = self.model.generate(count if labels is None else len(labels), seed=self.seed, labels=labels)
            self._samples = (self._writing, samples, labels)
        return self._samples[1]


def _is_2d(samples):
    return samples.ndim == 2 and samples.shape[1] == 2


def _optional_count(name, value):
    return None if value is None else check_int(name, value, 1)
