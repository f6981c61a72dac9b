"""A callback that evaluates the generator every N generator iterations."""

import json
import math
import os
from collections.abc import Callable
from collections.abc import Mapping

import keras
import numpy as np

from keras_wgan._clock import TrainingClock
from keras_wgan._summary import SummaryWriter
from keras_wgan._summary import drop_events_after
from keras_wgan.metrics.registry import get_metric
from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed
from keras_wgan.metrics.utils import to_numpy


def _resolve_metrics(metrics):
    """`metrics` as a list of `(name, fn)`."""
    if isinstance(metrics, (str, bytes)) or callable(metrics):
        metrics = [metrics]
    if isinstance(metrics, Mapping):
        items = list(metrics.items())
    else:
        try:
            entries = list(metrics)
        except TypeError:
            entries = None
        if not entries:
            raise ValueError(
                "`metrics` must name at least one metric: registered names, callables "
                f"or a dict name -> metric. Received: metrics={metrics!r}"
            )
        items = []
        for entry in entries:
            if isinstance(entry, str):
                items.append((entry, entry))
            elif callable(entry) and getattr(entry, "__name__", "<lambda>") != "<lambda>":
                items.append((entry.__name__, entry))
            else:
                raise ValueError(
                    "Each metric must be a registered name or a named function; give "
                    "lambdas and partials a name with a dict {name: fn}. Received: "
                    f"{entry!r}"
                )
    resolved = []
    for name, fn in items:
        if not isinstance(name, str) or not name:
            raise ValueError(f"Metric names must be non-empty strings. Received: {name!r}")
        if isinstance(fn, str):
            fn = get_metric(fn)
        elif not callable(fn):
            raise TypeError(
                f"Metric {name!r} must be a registered name or a callable "
                f"fn(real, fake). Received: {fn!r}"
            )
        resolved.append((name, fn))
    names = [name for name, _ in resolved]
    if len(set(names)) != len(names):
        raise ValueError(f"Metric names must be unique. Received: {names}")
    return resolved


def _flatten(name, value):
    """A metric's result as `{key: number or list}`, nested keys joined by
    '/' (TensorBoard's grouping)."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, Mapping):
        flat = {}
        for key, item in value.items():
            flat.update(_flatten(f"{name}/{key}", item))
        return flat
    if isinstance(value, (list, tuple, np.ndarray)):
        return {name: np.asarray(value).tolist()}
    try:
        return {name: to_numpy(value, name).item()}
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"Metric {name!r} must return a number, a dict of numbers or a result "
            f"with as_dict(). Received: {value!r}"
        ) from error


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


class EvaluationCallback(keras.callbacks.Callback):
    """Evaluates a WGAN's generator during `fit`, every N generator iterations.

    At every multiple of `every_n_iterations` generator iterations (counted
    from the model's counters and critic schedule, or as one per training
    batch for models without them), the callback draws `num_samples`
    samples with `model.generate(num_samples, seed=seed)` (the same latent
    vectors each time) and computes each metric against `real_samples`.
    Each evaluation is appended to `results` and, with a `log_dir`, written
    as one JSON line to `log_dir/metrics.jsonl`:
    `{"generator_iteration": 1000, "sliced_w": 0.12, "mode_coverage/modes_covered": 8, ...}`
    (results with several values get `metric/key` names; NaN is written as
    null), and as TensorBoard scalars under `log_dir/eval` (the writer and
    TensorFlow are loaded on the first evaluation).

    An `evaluator`, a callable `model -> {name: number}` such as
    `ImageEvaluator` (FID, KID, IS, precision / recall, streamed over as many
    generated images as it asks for), is called at the same iterations and
    its numbers join the record.

    A resumed run (`keras.callbacks.BackupAndRestore`) continues the file:
    records after the iteration training resumes from are dropped, as the
    events of TensorBoard's curves are.

    Args:
        real_samples: Reference real samples `(N, ...)`, a NumPy array or a
            backend tensor; for images, in the generator's range `[-1, 1]`.
            None with `metrics=None` (an `evaluator` only).
        metrics: The metrics: registered names (`"w1"`, `"sliced_w"`,
            `"fid"`, `"kid"`, `"mode_coverage"`, `"mnist_classes"`; see
            `available_metrics()`), named functions `fn(real, fake)`, or a
            dict `{name: registered name or fn}`; None with an `evaluator`.
        every_n_iterations: Evaluate whenever the generator iteration count
            reaches a multiple of this.
        num_samples: Samples generated per evaluation; default
            `len(real_samples)` (equal sizes let `"w1"` use SciPy's exact
            assignment solver).
        seed: Seed of the latent vectors passed to `generate`.
        log_dir: Directory of `metrics.jsonl` and of the TensorBoard logs
            (`log_dir/eval`); None keeps results in `results` only.
        metric_kwargs: Dict `{metric name: {keyword: value}}` of extra
            arguments, e.g. `{"mode_coverage": {"centers": c, "std": 0.014},
            "fid": {"extractor": ClassifierExtractor(classifier)}}`.
        evaluate_at_end: Also evaluate when training ends, unless the last
            evaluation was at the final generator iteration.
        tensorboard: Whether to write TensorBoard scalars (with `log_dir`).
        verbose: 1 prints each evaluation.
        evaluator: A callable `model -> dict of numbers`, evaluated with
            the metrics.
        tensorboard_dir: Where the TensorBoard scalars go; default
            `log_dir/eval`.

    Example:

    ```python
    callback = EvaluationCallback(
        real_samples=toy_samples,
        metrics=["w1", "mode_coverage"],
        every_n_iterations=500,
        num_samples=2000,
        log_dir=workdir,
        metric_kwargs={"mode_coverage": {"centers": centers, "std": 0.02 / 1.414}},
    )
    wgan.fit(dataset, epochs=10, callbacks=[callback])
    callback.results[-1]["mode_coverage/modes_covered"]
    ```
    """

    def __init__(
        self,
        real_samples,
        metrics,
        every_n_iterations: int = 1000,
        num_samples: int | None = None,
        seed: int | None = 0,
        log_dir: str | None = None,
        metric_kwargs: Mapping[str, Mapping] | None = None,
        evaluate_at_end: bool = True,
        tensorboard: bool = True,
        verbose: int = 0,
        evaluator: Callable | None = None,
        tensorboard_dir: str | None = None,
    ):
        super().__init__()
        self.real_samples = None if real_samples is None else to_numpy(real_samples, "real_samples")
        self.metrics = metrics
        if evaluator is not None and not callable(evaluator):
            raise TypeError(
                "`evaluator` must be a callable model -> dict of numbers, such as an "
                f"ImageEvaluator. Received: {evaluator!r}"
            )
        self.evaluator = evaluator
        if metrics is None and evaluator is not None:
            self._metrics: list[tuple[str, Callable]] = []
            num_samples = 1 if num_samples is None else num_samples
        else:
            self._metrics = _resolve_metrics(metrics)
        self.every_n_iterations = check_int("every_n_iterations", every_n_iterations, 1)
        if num_samples is None:
            if self.real_samples is None or self.real_samples.ndim == 0:
                raise ValueError(
                    "Pass `num_samples` when `real_samples` is None. Received: "
                    f"real_samples={real_samples!r}"
                )
            num_samples = len(self.real_samples)
        self.num_samples = check_int("num_samples", num_samples, 1)
        self.seed = check_seed(seed)
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        self.tensorboard_dir = (
            os.fspath(tensorboard_dir) if tensorboard_dir is not None
            else None if self.log_dir is None else os.path.join(self.log_dir, "eval")
        )
        metric_kwargs = dict(metric_kwargs or {})
        unknown = sorted(set(metric_kwargs) - {name for name, _ in self._metrics})
        if unknown:
            raise ValueError(
                f"`metric_kwargs` names metrics that are not evaluated: {unknown}. "
                f"Evaluated metrics: {[name for name, _ in self._metrics]}"
            )
        for name, kwargs in metric_kwargs.items():
            if not isinstance(kwargs, Mapping):
                raise TypeError(
                    f"`metric_kwargs[{name!r}]` must be a dict of keyword arguments. "
                    f"Received: {kwargs!r}"
                )
        self.metric_kwargs = metric_kwargs
        self.evaluate_at_end = bool(evaluate_at_end)
        self.tensorboard = bool(tensorboard)
        self.verbose = verbose
        self.results: list[dict] = []
        self._summary_writer = None
        self._batches = 0
        self._clock = None
        self._next_iteration = self.every_n_iterations

    # ------------------------------------------------------------ schedule

    def _current_iteration(self):
        counter = getattr(self.model, "generator_iterations", None)
        if counter is not None:
            return int(np.asarray(keras.ops.convert_to_numpy(counter)))
        return self._batches

    def on_epoch_begin(self, epoch, logs=None):
        # Counted from the schedule, not read from the model in every batch
        # (which waits for the step, and on JAX copies the training state).
        self._clock = TrainingClock().start_epoch(self.model) if hasattr(self.model, "schedule") else None

    def on_train_begin(self, logs=None):
        if not callable(getattr(self.model, "generate", None)):
            raise TypeError(
                "EvaluationCallback needs a model with `generate(num_samples, seed)`, "
                f"such as keras_wgan.WGAN. Received: {type(self.model).__name__}"
            )
        current = self._current_iteration()
        self._next_iteration = (current // self.every_n_iterations + 1) * self.every_n_iterations
        self._drop_records_after(current)

    def _drop_records_after(self, iteration):
        """A resumed run: the records of iterations after `iteration` (the
        state training resumes from) belong to a lost future."""
        self.results = [r for r in self.results if r["generator_iteration"] <= iteration]
        if self.log_dir is None:
            return
        path = os.path.join(self.log_dir, "metrics.jsonl")
        if os.path.exists(path):
            with open(path) as f:
                lines = [line for line in f if line.strip()]
            kept = [line for line in lines if json.loads(line)["generator_iteration"] <= iteration]
            if len(kept) != len(lines):
                with open(path, "w") as f:
                    f.writelines(kept)
        if self.tensorboard and self.tensorboard_dir is not None and os.path.isdir(self.tensorboard_dir):
            drop_events_after(self.tensorboard_dir, iteration)

    def on_train_batch_end(self, batch, logs=None):
        self._batches += 1
        if self._clock is None:  # not a WGAN: its counter, or batches
            iteration = self._current_iteration()
        else:
            iteration = self._clock.after(batch + 1).generator_iterations
        if iteration >= self._next_iteration:
            self.evaluate(iteration)
            self._next_iteration = (
                iteration // self.every_n_iterations + 1
            ) * self.every_n_iterations

    def on_train_end(self, logs=None):
        if self.evaluate_at_end:
            iteration = self._current_iteration()
            if not self.results or self.results[-1]["generator_iteration"] != iteration:
                self.evaluate(iteration)
        if self._summary_writer is not None:
            self._summary_writer.close()
            self._summary_writer = None

    # ---------------------------------------------------------- evaluation

    def evaluate(self, generator_iteration: int | None = None) -> dict:
        """Generates samples, computes every metric and logs the results.

        Callable outside `fit` once the model is set
        (`callback.set_model(wgan)`).

        Args:
            generator_iteration: The step logged; default the model's
                current generator iteration.

        Returns:
            The record `{"generator_iteration": ..., metric: value, ...}`.
        """
        if generator_iteration is None:
            generator_iteration = self._current_iteration()
        record = {"generator_iteration": int(generator_iteration)}
        if self._metrics:
            fake = to_numpy(self.model.generate(self.num_samples, seed=self.seed), "generated samples")
            for name, fn in self._metrics:
                value = fn(self.real_samples, fake, **self.metric_kwargs.get(name, {}))
                record.update(_flatten(name, value))
        if self.evaluator is not None:
            for name, value in self.evaluator(self.model).items():
                record.update(_flatten(name, value))
        self.results.append(record)
        if self.log_dir is not None:
            os.makedirs(self.log_dir, exist_ok=True)
            line = json.dumps({key: _json_safe(value) for key, value in record.items()})
            with open(os.path.join(self.log_dir, "metrics.jsonl"), "a") as f:
                f.write(line + "\n")
            if self.tensorboard:
                self._write_summaries(record)
        if self.verbose:
            values = ", ".join(
                f"{key}={value:.5g}"
                for key, value in record.items()
                if key != "generator_iteration" and isinstance(value, (int, float))
            )
            print(f"Evaluation at generator iteration {generator_iteration}: {values}")
        return record

    def _write_summaries(self, record):
        if self._summary_writer is None:
            self._summary_writer = SummaryWriter(self.tensorboard_dir)
        self._summary_writer.scalars({
            key: value for key, value in record.items()
            if key != "generator_iteration" and isinstance(value, (int, float))
        }, record["generator_iteration"])
        self._summary_writer.flush()
