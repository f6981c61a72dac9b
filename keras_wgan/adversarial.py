"""The two-network adversarial training that the WGAN and the GAN baseline
share: the critic schedule, the batch split into critic batches, two
optimizers, noise, counters, sampling, saving and resuming, written once in
`keras.ops` and trained by `fit` on every backend. The models differ only by
their objectives and defaults (`wgan.py`, `gan.py`)."""

import keras
import numpy as np
from keras import ops

from keras_wgan import ema as ema_module
from keras_wgan import lipschitz as lipschitz_methods
from keras_wgan import losses
from keras_wgan import optimizers
from keras_wgan import schedules
from keras_wgan.augment import Augmentation
from keras_wgan._checks import check_int
from keras_wgan._checks import check_seed
from keras_wgan._networks import has_layer
from keras_wgan.conditioning import ClassConditionalBatchNormalization
from keras_wgan.trainers import Trainer
from keras_wgan.trainers.base import unrolls


def _shape_str(shape):
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


class AdversarialModel(Trainer):
    """A generator and a critic trained by `fit`, one round of the critic
    schedule per step: `n_critic` critic updates, each on its own real batch
    and its own noise, then a generator update (Algorithm 1 of the WGAN
    paper, and the alternating updates of a GAN). A subclass gives the
    objectives (`critic_loss`, `generator_loss`) and its defaults; a
    `keras_wgan.lipschitz.LipschitzMethod` adds its constraint or penalty.
    The arguments, the data contract and the logs are documented in `WGAN`.

    Example (a least-squares GAN on the same trainer):

    ```python
    class LSGAN(AdversarialModel):
        def critic_loss(self, real_scores, fake_scores):
            return ops.mean((real_scores - 1) ** 2) + ops.mean(fake_scores**2)

        def generator_loss(self, fake_scores):
            return ops.mean((fake_scores - 1) ** 2)

    model = LSGAN(generator, critic, latent_dim=2, n_critic=1)
    ```
    """

    def __init__(
        self,
        generator: keras.Model,
        critic: keras.Model,
        *,
        latent_dim: int,
        n_critic=5,
        seed: int | None = None,
        lipschitz: lipschitz_methods.LipschitzMethod | None = None,
        unroll_critic_loop: bool | None = None,
        ema=None,
        augment=None,
        num_classes: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, model in (("generator", generator), ("critic", critic)):
            if not isinstance(model, keras.layers.Layer):
                raise TypeError(
                    f"`{name}` must be a Keras model or layer. "
                    f"Received: {name}={model!r} of type {type(model).__name__}"
                )
        if generator is critic:
            raise ValueError("`generator` and `critic` must be two different models.")
        latent_dim = check_int("latent_dim", latent_dim, 1)
        seed = check_seed(seed)
        self.generator = generator
        self.critic = critic
        self.latent_dim = latent_dim
        self.n_critic = n_critic
        self.schedule = schedules.get(n_critic)
        if lipschitz is None:
            lipschitz = lipschitz_methods.NoConstraint()
        if not isinstance(lipschitz, lipschitz_methods.LipschitzMethod):
            raise TypeError(
                "`lipschitz` must be a keras_wgan.lipschitz.LipschitzMethod. "
                f"Received: lipschitz={lipschitz!r}"
            )
        self.lipschitz = lipschitz
        self.seed = seed
        if not (unroll_critic_loop is None or isinstance(unroll_critic_loop, bool)):
            raise ValueError(
                "`unroll_critic_loop` must be None (the backend's default), True or False. "
                f"Received: unroll_critic_loop={unroll_critic_loop!r}"
            )
        self.unroll_critic_loop = unroll_critic_loop
        self.ema = ema_module.get(ema)
        if augment is not None and not isinstance(augment, Augmentation):
            raise TypeError(
                "`augment` must be None or a keras_wgan.augment.Augmentation (DiffAugment, AdaptiveAugment). "
                f"Received: augment={augment!r}"
            )
        self.augment = augment
        self.num_classes = None if num_classes is None else check_int("num_classes", num_classes, 2)
        self.seed_generator = self.make_seed_generator(seed, name="noise_seed")
        # evaluate() and validation draw from their own generator, reset to
        # this start at every evaluate(), so they never advance the training
        # noise and give the same numbers for the same weights.
        self.evaluation_seed_generator = self.make_seed_generator(
            None if seed is None else seed + 1, name="evaluation_noise_seed"
        )
        self._evaluation_seed_start = ops.convert_to_numpy(self.evaluation_seed_generator.state)

        def counter(name):
            return self.add_weight(
                shape=(),
                dtype="int32",
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
                name=name,
            )

        self.generator_iterations = counter("generator_iterations")
        self.critic_iterations = counter("critic_iterations")
        # Critic iterations since the last generator update; the generator
        # update runs once this reaches the schedule's number.
        self.pending_critic_iterations = counter("pending_critic_iterations")
        self.critic_loss_tracker = keras.metrics.Mean(name="critic_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.wasserstein_tracker = keras.metrics.Mean(name="wasserstein_estimate")
        self.penalty_tracker = keras.metrics.Mean(name="gradient_penalty")
        self.build((None, latent_dim))

    # ------------------------------------------------------------------ build

    def build(self, input_shape=None):
        if self.built:
            return
        z = keras.KerasTensor((None, self.latent_dim))
        labels = None if self.num_classes is None else keras.KerasTensor((None,), "int32")
        _check_conditioning(self.generator, "generator", self.num_classes)
        _check_conditioning(self.critic, "critic", self.num_classes)
        expected = _model_input_shape(self.generator)
        if expected is not None and tuple(expected[1:]) != (self.latent_dim,):
            raise ValueError(
                f"The generator takes inputs of shape {_shape_str(expected)} but "
                f"latent_dim={self.latent_dim}: it must take latent vectors of "
                f"shape (batch, {self.latent_dim})."
            )
        fake = self._generator_call(self.generator, z, labels)
        expected = _model_input_shape(self.critic)
        if expected is not None and not _shapes_match(expected[1:], fake.shape[1:]):
            raise ValueError(
                f"The generator's output shape {_shape_str(fake.shape)} does not "
                f"match the critic's input shape {_shape_str(expected)}."
            )
        try:
            scores = self._critic_call(fake, labels)
        except Exception as error:
            raise ValueError(
                "The critic cannot take the generator's output of shape "
                f"{_shape_str(fake.shape)}: {error}"
            ) from error
        if tuple(scores.shape[1:]) not in ((), (1,)):
            raise ValueError(
                "The critic must output one score per sample, of shape (batch, 1) "
                f"or (batch,). Received: output of shape {_shape_str(scores.shape)}."
            )
        _check_no_float16(self)
        self._score_in_one_call = self.lipschitz.scores_in_one_call(
            has_layer(self.critic, keras.layers.BatchNormalization)
        )
        self._generate_in_one_call = not has_layer(self.generator, keras.layers.BatchNormalization)
        self.lipschitz.configure(self)
        for network in (self.generator, self.critic):
            for layer in network._flatten_layers():
                if isinstance(layer, (keras.layers.BatchNormalization, ClassConditionalBatchNormalization)):
                    self._synchronize_batch_norm(layer)  # global-batch moments across replicas
                self._speed_up_layer(layer)
        if self.augment is not None and not self.augment.built:
            self.augment.build(tuple(fake.shape))
        # The average is a copy of the generator made after its set-up (and
        # the Lipschitz method's, which only touches the critic).
        self.averaged_generator = None if self.ema is None else self.ema.averaged_copy(self.generator)
        self.built = True

    def call(self, inputs, training=False):
        """Generates samples from latent vectors (and labels, for a
        conditional model: `wgan([z, labels])`): in training mode by the
        generator, otherwise (`predict`) by the averaged generator when
        there is one."""
        generator = self.generator if training else self.sampling_generator
        return generator(inputs, training=training)

    @property
    def sampling_generator(self) -> keras.Model:
        """The network samples come from: the averaged generator (`ema`),
        else the generator."""
        return self.generator if self.averaged_generator is None else self.averaged_generator

    def _generator_call(self, generator, z, labels, training=False):
        return generator(z if labels is None else [z, ops.convert_to_tensor(labels)], training=training)

    def _critic_call(self, x, labels, training=False):
        """The critic's scores of `x` as it is (no augmentation)."""
        return self.critic(x if labels is None else [x, ops.convert_to_tensor(labels)], training=training)

    def score(self, samples, labels=None, training=True, parts=1):
        """The critic's scores of `samples` as training computes them: in
        training mode, after the augmentation (`augment`) when there is one;
        with `training=False`, of the samples as they are. `labels` are the
        samples' classes for a conditional model (`num_classes`), else None.
        `parts`: how many equal batches `samples` joins (2 for a real and a
        fake batch scored in one call), so that under a distribution each
        replica's augmentation draws are its part of each batch's.

        Example:

        ```python
        scores = wgan.score(images, training=False)  # (batch, 1)
        ```
        """
        if training and self.augment is not None:
            params = self._replica_part(
                lambda n, seed: self.augment.draw(n, samples.shape[1:], seed),
                ops.shape(samples)[0], self.seed_generator, parts,
            )
            samples = self.augment.apply(samples, params)
        return self._critic_call(samples, labels, training=training)

    def _replica_part(self, draw, batch_size, seed=None, parts=1):
        """`draw(n, seed)` (a sampler of noise with a leading batch axis,
        or a structure of them) for this replica's `batch_size` rows. Where
        the step runs as replica r of R (`keras_wgan.distribution`), every
        replica draws the global batch, R * batch_size rows, from the same
        seed and keeps rows r * batch_size onwards: the replicas' noise
        differs, and together it is what one device draws. `parts`: how
        many equal batches the rows join (a real and a fake batch scored in
        one call): the replica keeps its part of each."""
        index, count = self._replica()
        if count == 1:
            return draw(batch_size, seed)
        size = batch_size // parts
        rows = ops.concatenate([ops.arange(size) + (k * count + index) * size for k in range(parts)])
        return keras.tree.map_structure(lambda x: ops.take(x, rows, axis=0), draw(batch_size * count, seed))

    def _replica_latent(self, batch_size, seed=None):
        return self._replica_part(lambda n, seed: self.sample_latent(n, seed=seed), batch_size, seed)

    # ---------------------------------------------------------------- compile

    def compile(self, *args, generator_optimizer=None, critic_optimizer=None, **kwargs):
        """Sets the two optimizers, by keyword (two optimizers in an order
        guessed wrong would train silently; keras-io's WGAN-GP example
        passes the discriminator's first).

        Args:
            generator_optimizer: Optimizer (or its name) of the generator.
                Default: `default_optimizer()`, RMSProp with learning rate
                5e-5; without clipping (`lipschitz` other than "clip"),
                `gradient_penalty_optimizer()`, Adam(1e-4, beta_1=0, beta_2=0.9).
            critic_optimizer: Optimizer of the critic; same default.
            **kwargs: `keras.Model.compile` options that apply to a WGAN:
                `jit_compile`, `steps_per_execution`, `run_eagerly`.

        Example:

        ```python
        wgan.compile(
            generator_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5),
            critic_optimizer=keras.optimizers.Adam(1e-4, beta_1=0.5),
        )
        ```
        """
        if args:
            raise TypeError(
                f"{type(self).__name__}.compile() takes the optimizers by keyword: "
                "compile(generator_optimizer=..., critic_optimizer=...). "
                f"Received {len(args)} positional argument{'s' if len(args) > 1 else ''}."
            )
        for key in ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics"):
            if kwargs.get(key) is not None:
                raise ValueError(
                    f"{type(self).__name__}.compile() does not take `{key}`: the model computes its "
                    "own losses and metrics. Pass `generator_optimizer` and "
                    f"`critic_optimizer` instead. Received: {key}={kwargs[key]!r}"
                )
            kwargs.pop(key, None)
        # The model's and the networks' policies were checked in build(),
        # which __init__ runs; a float16 global policy set since is refused here.
        global_policy = keras.config.dtype_policy()
        if global_policy.compute_dtype == "float16":
            raise ValueError(_FLOAT16_MESSAGE.format(
                model=type(self).__name__, where=f"the global dtype policy '{global_policy.name}'"))
        # RMSProp is the paper's choice for clipping (momentum was unstable
        # with it); the methods that do not clip use WGAN-GP's Adam.
        self.generator_optimizer = optimizers.get(
            generator_optimizer, "generator_optimizer", self.build_default_optimizer
        )
        self.critic_optimizer = optimizers.get(
            critic_optimizer, "critic_optimizer", self.build_default_optimizer
        )
        if self.generator_optimizer is self.critic_optimizer:
            raise ValueError(
                "`generator_optimizer` and `critic_optimizer` must be two different "
                "optimizer instances: each keeps the state of one network."
            )
        self._wgan_compile_kwargs = dict(kwargs)
        optimizer = optimizers.TwoNetworkOptimizer(
            self.generator, self.generator_optimizer, self.critic_optimizer, name="wgan_optimizers"
        )
        super().compile(optimizer=optimizer, **kwargs)
        optimizer.build(self.trainable_variables)

    def get_compile_config(self):
        if not self.compiled:
            return None
        return {
            "generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
            "critic_optimizer": keras.saving.serialize_keras_object(self.critic_optimizer),
            **self._wgan_compile_kwargs,
        }

    def compile_from_config(self, config):
        config = dict(config)
        for key in ("generator_optimizer", "critic_optimizer"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        self.compile(**config)

    def build_default_optimizer(self, name: str) -> keras.optimizers.Optimizer:
        """The optimizer `compile()` gives a network when none is passed:
        the Lipschitz method's (the paper's RMSProp with clipping, momentum
        being unstable with it; WGAN-GP's Adam for the other methods)."""
        return self.lipschitz.default_optimizer(name)

    def critic_loss(self, real_scores, fake_scores):
        """What the critic minimizes, before any penalty, from its scores of
        a real and a fake batch. Each model defines its objective."""
        raise NotImplementedError(f"{type(self).__name__} defines no critic_loss.")

    def generator_loss(self, fake_scores):
        """What the generator minimizes, from the critic's scores of its samples."""
        raise NotImplementedError(f"{type(self).__name__} defines no generator_loss.")

    @property
    def metrics(self):
        metrics = [self.critic_loss_tracker, self.generator_loss_tracker, self.wasserstein_tracker]
        return metrics + [self.penalty_tracker] if self.lipschitz.penalized else metrics

    # --------------------------------------------------------------- training

    def sample_latent(self, batch_size, seed=None):
        """The prior: latent vectors `(batch_size, latent_dim)` from N(0, I).

        Training, `evaluate()` and `generate()` all draw through this method,
        so an override changes the prior everywhere. Draw with `seed` (pass
        it to `keras.random`), which is the model's training noise generator
        when None, its evaluation noise generator in `evaluate()`, and a
        generator seeded by `generate(seed=...)` there.

        Example:

        ```python
        class UniformPriorWGAN(WGAN):
            def sample_latent(self, batch_size, seed=None):
                seed = self.seed_generator if seed is None else seed
                return keras.random.uniform((batch_size, self.latent_dim), -1, 1, seed=seed)
        ```
        """
        seed = self.seed_generator if seed is None else seed
        return keras.random.normal((batch_size, self.latent_dim), seed=seed)

    def sample_interpolation(self, batch_size, seed=None):
        """Draws the weights `alpha ~ U[0, 1]`, one per sample, of the
        interpolates `alpha * real + (1 - alpha) * fake` of the gradient
        penalty, with `seed` as in `sample_latent`. Override to change them."""
        seed = self.seed_generator if seed is None else seed
        return keras.random.uniform((batch_size,), seed=seed)

    def sample_labels(self, batch_size, seed=None):
        """A conditional model's labels for generated samples where none are
        given (the generator update, `generate()` without `labels`): classes
        drawn uniformly from `[0, num_classes)`, int32 `(batch_size,)`, with
        `seed` as in `sample_latent`. Override to draw another way (from
        the data's class frequencies, say)."""
        seed = self.seed_generator if seed is None else seed
        return keras.random.randint((batch_size,), 0, self.num_classes, dtype="int32", seed=seed)

    def gradient_penalty(self, real, fake, alpha=None, training=True, seed=None, labels=None):
        """The critic's gradient penalty of the Lipschitz method
        (`GradientPenalty`: WGAN-GP, or one-sided for WGAN-LP), with its
        weight, at the interpolates of `real` and `fake` with weights `alpha`
        (drawn with `seed` when None; see `sample_latent`). `training` is
        the critic's mode: `evaluate()` passes False, so that batch
        statistics are not updated. `labels`: the classes of a conditional
        model's samples (each interpolate keeps its pair's class). An error
        with a method that has no penalty.

        Example:

        ```python
        wgan = WGAN(generator, critic, latent_dim=2, lipschitz="gp")
        penalty = wgan.gradient_penalty(real, wgan.generate(len(real)))
        ```
        """
        if not self.lipschitz.penalized:
            raise ValueError(
                f"This {type(self).__name__} keeps its critic Lipschitz by {self.lipschitz!r}, which has no "
                "gradient penalty; pass lipschitz='gp' or 'lp' (or a GradientPenalty) for one."
            )
        return self.lipschitz.penalty(
            self, real, fake, alpha=alpha, training=training, seed=seed, labels=self._labels_for(labels, real)
        )

    def input_gradient_norms(self, samples, training=False, batch_size=256, labels=None):
        """The norm of the critic's gradient with respect to its input,
        `||grad_x f(x)||`, at each of `samples`, as a NumPy array: a direct
        view of the Lipschitz constraint (1 is the bound a 1-Lipschitz
        critic keeps). The critic runs in inference mode unless `training`
        (then on augmented samples, as in training). A conditional model
        takes the samples' `labels`.

        Example:

        ```python
        norms = wgan.input_gradient_norms(wgan.generate(256, seed=0))
        ```
        """
        samples = np.asarray(samples, "float32")
        labels = self._labels_for(labels, samples)
        norms = []
        for start in range(0, len(samples), batch_size):
            x = ops.convert_to_tensor(samples[start : start + batch_size])
            y = None if labels is None else ops.convert_to_tensor(labels[start : start + batch_size])
            gradients = self._input_gradient(lambda x: self.score(x, y, training=training), x)
            norms.append(ops.convert_to_numpy(losses.gradient_norm(gradients, epsilon=0.0)))
        return np.concatenate(norms).astype("float32")

    def _real_samples(self, data):
        """The real samples of a batch, and their labels for a conditional
        model (None otherwise: an unconditional model ignores labels)."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (dict, list, tuple)):
            raise ValueError(
                f"{type(self).__name__} expects batches of samples, or (samples, labels) pairs. "
                f"Received a batch of type {type(x).__name__}."
            )
        dtype = keras.backend.standardize_dtype(x.dtype)
        if "int" in dtype or dtype == "bool":
            raise TypeError(
                f"{type(self).__name__} received real samples of dtype {dtype}; they must be floats "
                "on the generator's output scale, e.g. images scaled to [-1, 1] "
                "with `images / 127.5 - 1` for a tanh generator."
            )
        if self.num_classes is None:
            return x, None
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} is conditional (num_classes={self.num_classes}): its data must "
                "be (images, labels) pairs, with int labels of shape (batch,). Received batches without labels."
            )
        return x, self._check_labels(self._as_labels(y), self.num_classes, self._labels_message())

    def _labels_message(self):
        return (
            f"{type(self).__name__} with num_classes={self.num_classes} needs labels in "
            f"[0, {self.num_classes - 1}]; a batch has labels out of that range."
        )

    def _as_labels(self, y):
        """Int32 labels of shape (batch,) from (batch,) or (batch, 1) ints."""
        dtype = keras.backend.standardize_dtype(y.dtype)
        if "int" not in dtype or len(y.shape) not in (1, 2) or (len(y.shape) == 2 and y.shape[1] != 1):
            raise ValueError(
                f"{type(self).__name__} (num_classes={self.num_classes}) takes int class labels of shape "
                f"(batch,). Received labels of dtype {dtype} and shape {_shape_str(y.shape)}."
            )
        return ops.reshape(ops.cast(y, "int32"), (-1,))

    def _labels_for(self, labels, samples):
        """Labels given to a public method, checked eagerly: None for an
        unconditional model (where labels are an error), int32 NumPy for a
        conditional one (where they are required)."""
        if self.num_classes is None:
            if labels is not None:
                raise ValueError(
                    f"This {type(self).__name__} is unconditional (num_classes=None); it takes no labels. "
                    f"Received: labels of shape {np.shape(labels)}."
                )
            return None
        if labels is None:
            raise ValueError(
                f"This {type(self).__name__} is conditional (num_classes={self.num_classes}): pass the "
                "samples' `labels`."
            )
        return check_labels(labels, self.num_classes, len(samples))

    def _split(self, real, n):
        message = (
            f"A {type(self).__name__} training batch holds n_critic critic batches, so its size "
            f"must be a multiple of n_critic={n}. Batch the dataset at "
            f"n_critic * batch_size with whole batches only, e.g. "
            f"`dataset.batch({n} * 64, drop_remainder=True)`."
        )
        size = real.shape[0]
        if size is not None and size % n:
            raise ValueError(f"{message} Received a batch of {size} samples.")
        if size is None:
            real = self._check_splits(real, n, message)
        return ops.reshape(real, (n, -1) + tuple(ops.shape(real)[1:]))

    def _fake_batches(self, n, batch_size, label_batches=None):
        """The fake batches of the `n` critic iterations of a step,
        `(n, batch_size, ...)`, made in one generator call, or None where
        the generator has BatchNormalization (each batch is then made in its
        own iteration, normalized by its own statistics). A conditional
        model's fakes have the classes of the real batches, `label_batches`.

        The generator does not change during the critic iterations, so its
        samples are the same whenever they are made, and one call of `n`
        batches costs less than `n` calls where Keras runs eagerly (PyTorch):
        8 model calls per step instead of 12 at n_critic = 5. The noise is
        drawn batch by batch, in the order of the per-iteration path, so both
        paths train alike from the same seed.
        """
        if not self._generate_in_one_call:
            return None
        z = ops.concatenate([self._replica_latent(batch_size) for _ in range(n)])
        labels = None if label_batches is None else ops.reshape(label_batches, (-1,))
        fakes = self._fakes_for_critic(z, labels)
        return ops.reshape(fakes, (n, -1) + tuple(ops.shape(fakes)[1:]))

    def _fakes_for_critic(self, z, labels=None):
        """Generated samples for a critic update: training mode, no gradient."""
        return self._without_gradient(lambda: self._generator_call(self.generator, z, labels, training=True))

    def critic_update(self, real, fake, labels=None):
        """One critic update, the body of a step's critic loop: the critic
        minimizes `critic_loss` (plus the Lipschitz method's penalty and the
        losses it carries) on a real and a fake batch (of a conditional
        model: both of the classes `labels`), and the metrics are updated;
        then the augmentation's state is updated from the scores (adaptive
        augmentation's probability). Runs inside the compiled step: override
        to add to it, in `keras.ops`, and call `super()`.

        Example:

        ```python
        class CountingWGAN(WGAN):
            def critic_update(self, real, fake, labels=None):
                super().critic_update(real, fake, labels)
                self.updates_seen.assign_add(1)  # a variable made in build()
        ```
        """

        def loss_fn():
            real_scores, fake_scores, carried = self._critic_scores(real, fake, labels=labels)
            estimate = losses.wasserstein_estimate(real_scores, fake_scores)
            # Read before the penalty's critic calls, which would replace
            # the losses that layers add in a call (`add_loss`).
            loss = self.critic_loss(real_scores, fake_scores) + carried
            penalty = self.lipschitz.penalty(self, real, fake, labels=labels)
            scores = (real_scores, fake_scores) if self.augment is not None else ()
            if penalty is None:
                return loss, (estimate, 0.0, scores)
            return loss + penalty, (estimate, penalty, scores)

        loss, (estimate, penalty, scores) = self._minimize(
            loss_fn, self.critic.trainable_variables, self.critic_optimizer
        )
        self.critic_loss_tracker.update_state(loss)
        self.wasserstein_tracker.update_state(estimate)
        if self.lipschitz.penalized:
            self.penalty_tracker.update_state(penalty)
        if self.augment is not None:
            self.augment.update(*(self._gather(s) for s in scores))  # every replica's scores

    def _critic_scores(self, real, fake, training=True, labels=None):
        """The critic's scores of a real and a fake batch (in training mode
        unless `training=False`, then with no augmentation), and the sum of
        the losses the critic carries for them
        (`critic.losses`: its weight regularizers, and what its layers
        `add_loss` in the call).

        One call on the two batches concatenated, unless the critic has
        BatchNormalization: then two calls, as in the reference, so that
        batch statistics are those of the real and of the fake batch. A
        critic that scores each sample on its own gives the same scores
        either way, and one call of twice the batch is faster where Keras
        runs eagerly (PyTorch), whose layer calls cost more Python time than
        a small network's arithmetic (the default 2-D run's step went from
        33.7 to 27.7 ms, with the fakes made without autograd; see
        `_fake_batches` for the next saving). Spectral normalization always
        takes one call: it rewrites its kernel on every training call, so
        its power iteration runs once per critic update (as in Miyato et
        al.), and PyTorch's autograd does not see a kernel modified in place
        between two uses.
        """
        fake = ops.cast(fake, real.dtype)
        if not self._score_in_one_call:
            real_scores = self.score(real, labels, training=training)
            # What the critic's layers added in the real batch's call; the
            # fake batch's call replaces it (Keras clears a model's `losses`
            # at each call).
            added_for_real, _ = _added_and_regularizer_losses(self.critic)
            fake_scores = self.score(fake, labels, training=training)
            added_for_fake, regularizers = _added_and_regularizer_losses(self.critic)
            # The mean of the two calls: what one call of both batches adds
            # when a layer adds a per-sample mean (an activity regularizer).
            return real_scores, fake_scores, (added_for_real + added_for_fake) / 2.0 + regularizers
        size = ops.shape(real)[0]
        both_labels = None if labels is None else ops.concatenate([labels, labels])
        scores = self.score(ops.concatenate([real, fake]), both_labels, training=training, parts=2)
        return scores[:size], scores[size:], _sum_of(self.critic.losses)

    def generator_update(self, batch_size):
        """One generator update on `batch_size` latent vectors from
        `sample_latent` (and, for a conditional model, labels from
        `sample_labels`): the generator minimizes `generator_loss` (plus its
        own carried losses); the generator counter advances, and the
        averaged generator (`ema`) follows. Runs inside the compiled step
        when the schedule says so; override as `critic_update`."""
        z = self._replica_latent(batch_size)
        labels = None
        if self.num_classes is not None:
            labels = self._replica_part(lambda n, seed: self.sample_labels(n, seed=seed), batch_size)

        def loss_fn():
            fake = self._generator_call(self.generator, z, labels, training=True)
            # The generator's own losses only: the critic's regularizers are
            # no part of what the generator minimizes.
            carried = _sum_of(self.generator.losses)
            return self.generator_loss(self.score(fake, labels, training=True)) + carried, ()

        loss, _ = self._minimize(loss_fn, self.generator.trainable_variables, self.generator_optimizer)
        self.generator_loss_tracker.update_state(loss)
        self.generator_iterations.assign_add(1)
        self.pending_critic_iterations.assign(0)
        if self.ema is not None:
            self.ema.update(self.averaged_generator, self.generator, self.generator_iterations.value)

    def _constant_schedule(self) -> bool:
        return isinstance(self.schedule, schedules.ConstantSchedule)

    def _generator_update_due_after(self, n) -> bool:
        """Whether the generator update is due after `n` more critic
        iterations, from the counters' current values (on the host)."""
        pending = int(ops.convert_to_numpy(ops.convert_to_tensor(self.pending_critic_iterations))) + n
        needed = self.schedule.critic_iterations(ops.convert_to_tensor(self.generator_iterations))
        return pending >= int(ops.convert_to_numpy(needed))

    def _wgan_train_step(self, data, generator_update=None):
        """The training step. `generator_update`: whether the step ends with
        the generator update, when the caller has decided it on the host
        (True / False), else None: always for a constant schedule, or by
        the counters in the compiled step."""
        n = self.schedule.n_critic
        real, labels = self._real_samples(data)
        real_batches = self._split(real, n)
        label_batches = None if labels is None else self._split(labels, n)
        batch_size = ops.shape(real_batches)[1]
        fake_batches = self._fake_batches(n, batch_size, label_batches)

        def critic_iteration(i):
            y = None if label_batches is None else ops.take(label_batches, i, axis=0)
            if fake_batches is None:
                fake = self._fakes_for_critic(self._replica_latent(batch_size), y)
            else:
                fake = ops.take(fake_batches, i, axis=0)
            real = ops.take(real_batches, i, axis=0)
            # Labels only to a conditional model: an override written
            # before conditioning, `critic_update(self, real, fake)`, works.
            self.critic_update(real, fake) if y is None else self.critic_update(real, fake, y)

        self._repeat(n, critic_iteration, unroll=unrolls(n, self.unroll_critic_loop))
        self.critic_iterations.assign_add(n)
        self.pending_critic_iterations.assign_add(n)
        if generator_update is not None:
            if generator_update:
                self.generator_update(batch_size)
        elif self._constant_schedule():
            # After n_critic critic iterations the update is always due: no
            # branch in the graph (and none that a distribution strategy
            # would have to synchronize inside).
            self.generator_update(batch_size)
        else:
            due = ops.greater_equal(
                self.pending_critic_iterations.value,
                self.schedule.critic_iterations(self.generator_iterations.value),
            )
            self._run_if(due, lambda: self.generator_update(batch_size))
        self.optimizer.iterations.assign_add(1)
        return self._logs()

    def _wgan_test_step(self, data):
        """`evaluate()` and validation: the step's metrics on the given real
        samples, with the networks in inference mode, no augmentation and
        noise from the evaluation generator, so no training state changes
        (weights, batch-norm statistics, counters, optimizers, training
        noise, the augmentation's state). The generated samples come from
        the generator being trained (not the averaged one): these are the
        numbers of the training objective."""
        real, labels = self._real_samples(data)
        seed = self.evaluation_seed_generator
        z = self._replica_latent(ops.shape(real)[0], seed=seed)
        fake = self._generator_call(self.generator, z, labels, training=False)
        generator_carried = _sum_of(self.generator.losses)
        real_scores, fake_scores, carried = self._critic_scores(real, fake, training=False, labels=labels)
        estimate = losses.wasserstein_estimate(real_scores, fake_scores)
        critic_loss = self.critic_loss(real_scores, fake_scores) + carried
        penalty = self.lipschitz.penalty(self, real, fake, training=False, seed=seed, labels=labels)
        if penalty is not None:
            critic_loss = critic_loss + penalty
        generator_loss = self.generator_loss(fake_scores) + generator_carried
        values = [estimate, critic_loss, generator_loss] + ([] if penalty is None else [penalty])
        estimate, critic_loss, generator_loss, *penalty = self._replicas_mean(values)  # global means
        if penalty:
            self.penalty_tracker.update_state(penalty[0])
        self.critic_loss_tracker.update_state(critic_loss)
        self.generator_loss_tracker.update_state(generator_loss)
        self.wasserstein_tracker.update_state(estimate)
        return self._logs(training=False)

    def _logs(self, training=True):
        # The metrics only: the counters are model variables
        # (`generator_iterations`, `critic_iterations`), not running means
        # for the progress bar and Keras's TensorBoard curves. The
        # augmentation's state (adaptive augmentation's probability) is
        # reported as it stands after the step.
        logs = {metric.name: metric.result() for metric in self.metrics}
        if training and self.augment is not None:
            logs.update(self.augment.logs())
        return logs

    @property
    def instantaneous_logs(self) -> tuple:
        """The names in the step's logs that are values of the model's
        state as the step leaves it (the augmentation's), not running means
        over the epoch like the metrics."""
        return () if self.augment is None else tuple(self.augment.logs())

    def evaluate(self, *args, **kwargs):
        """`keras.Model.evaluate`, on the same evaluation noise every call
        (validation during `fit` included): the numbers depend only on the
        weights and the data, and training continues exactly as without it."""
        self.evaluation_seed_generator.state.assign(self._evaluation_seed_start)
        return super().evaluate(*args, **kwargs)

    # -------------------------------------------------------------- sampling

    def generate(
        self,
        num_samples: int,
        seed: int | None = None,
        batch_size: int = 256,
        labels=None,
        averaged: bool | None = None,
    ):
        """Generates `num_samples` samples as a NumPy array.

        The latent vectors come from `sample_latent`, the prior training
        draws from, with a noise generator seeded with `seed`: the same seed
        gives the same samples on a backend (each backend's random numbers
        differ), and generating does not advance the training noise.

        Args:
            num_samples: How many samples.
            seed: Seed of the noise (None: a random one).
            batch_size: Samples per generator call.
            labels: A conditional model's classes: one int for all samples,
                or `num_samples` ints; None draws them with `sample_labels`
                (from `seed`). An error for an unconditional model.
            averaged: Whether the samples come from the averaged generator
                (`ema`): None (default) when there is one, False for the
                generator being trained; True without `ema` is an error.

        Example:

        ```python
        images = wgan.generate(64, seed=0)  # (64, height, width, channels)
        sevens = conditional_wgan.generate(16, seed=0, labels=7)
        ```
        """
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(
                f"`num_samples` must be a positive integer. Received: {num_samples!r}"
            )
        if averaged not in (None, True, False):
            raise ValueError(f"`averaged` must be None, True or False. Received: averaged={averaged!r}")
        if averaged and self.averaged_generator is None:
            raise ValueError(
                f"This {type(self).__name__} has no averaged generator (ema=None): "
                "generate(..., averaged=True) needs one; pass `ema=` to the model."
            )
        generator = self.generator if averaged is False else self.sampling_generator
        if labels is not None and self.num_classes is not None and np.ndim(labels) == 0:
            labels = np.full((num_samples,), labels)
        if labels is not None or self.num_classes is None:
            labels = self._labels_for(labels, range(num_samples))
        seed = keras.random.SeedGenerator(check_seed(seed))
        chunks = []
        for start in range(0, num_samples, batch_size):
            size = min(batch_size, num_samples - start)
            z = self.sample_latent(size, seed=seed)
            if self.num_classes is None:
                y = None
            elif labels is None:
                y = self.sample_labels(size, seed=seed)
            else:
                y = ops.convert_to_tensor(labels[start : start + size])
            chunks.append(ops.convert_to_numpy(self._generator_call(generator, z, y)))
        return np.concatenate(chunks).astype("float32")

    # ---------------------------------------------------------- serialization

    _NOISE_STATE_KEY = "noise_seed_state"

    def save_own_variables(self, store):
        # Keras does not save seed generators; the noise state is part of
        # the training state, so that training resumes exactly.
        super().save_own_variables(store)
        store[self._NOISE_STATE_KEY] = ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        own = {key: store[key] for key in store.keys() if key != self._NOISE_STATE_KEY}
        super().load_own_variables(own)
        if self._NOISE_STATE_KEY in store.keys():
            self.seed_generator.state.assign(store[self._NOISE_STATE_KEY])

    def get_config(self):
        n_critic = self.n_critic
        if isinstance(n_critic, schedules.CriticSchedule):
            n_critic = keras.saving.serialize_keras_object(n_critic)
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "critic": keras.saving.serialize_keras_object(self.critic),
            "latent_dim": self.latent_dim,
            "n_critic": n_critic,
            "seed": self.seed,
            "unroll_critic_loop": self.unroll_critic_loop,
            "lipschitz": keras.saving.serialize_keras_object(self.lipschitz),
            "ema": None if self.ema is None else keras.saving.serialize_keras_object(self.ema),
            "augment": None if self.augment is None else keras.saving.serialize_keras_object(self.augment),
            "num_classes": self.num_classes,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        for key in ("generator", "critic"):
            config[key] = keras.saving.deserialize_keras_object(
                config[key], custom_objects=custom_objects
            )
        if isinstance(config["n_critic"], dict):
            config["n_critic"] = schedules.get(config["n_critic"], custom_objects=custom_objects)
        for key in ("lipschitz", "ema", "augment"):
            if isinstance(config.get(key), dict):
                config[key] = keras.saving.deserialize_keras_object(config[key], custom_objects=custom_objects)
        return cls(**config)


_FLOAT16_MESSAGE = (
    "{model} does not train in float16 ({where}): float16 needs loss scaling, "
    "which its two optimizers do not do. Use 'mixed_bfloat16' (the same "
    "speed-up on TPUs and recent GPUs, no loss scaling needed) or 'float32'."
)


def _check_no_float16(wgan):
    """Refuses float16 however it is asked for: on the WGAN (`dtype=` or the
    global policy when it was built) or on any layer of the two networks."""
    if wgan.dtype_policy.compute_dtype == "float16":
        raise ValueError(_FLOAT16_MESSAGE.format(
            model=type(wgan).__name__, where=f"received: dtype={wgan.dtype_policy.name!r}"))
    for role, network in (("generator", wgan.generator), ("critic", wgan.critic)):
        for layer in network._flatten_layers():
            if layer.dtype_policy.compute_dtype == "float16":
                raise ValueError(_FLOAT16_MESSAGE.format(
                    model=type(wgan).__name__, where=f"the {role}'s layer '{layer.name}' has the dtype policy "
                    f"'{layer.dtype_policy.name}'"
                ))


def check_labels(labels, num_classes: int, count: int | None = None) -> np.ndarray:
    """Class labels given to a conditional model, as int32 NumPy `(n,)`:
    ints in `[0, num_classes)`, as many as `count` when given; otherwise a
    one-line ValueError saying what was received.

    >>> check_labels([0, 2], 3)
    array([0, 2], dtype=int32)
    """
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.dtype.kind not in "iu" or array.ndim != 1:
        raise ValueError(
            f"Labels must be ints of shape (n,). Received: dtype {array.dtype}, shape {array.shape}."
        )
    if count is not None and len(array) != count:
        raise ValueError(f"Expected {count} labels, one per sample. Received {len(array)}.")
    if len(array) and (array.min() < 0 or array.max() >= num_classes):
        bad = array[(array < 0) | (array >= num_classes)][0]
        raise ValueError(
            f"Labels must be in [0, {num_classes - 1}] (num_classes={num_classes}). Received: label {bad}."
        )
    return array.astype("int32")


def _input_count(model):
    """How many inputs a Functional/Sequential model declares, else None."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    return len(inputs) if inputs else None


def _check_conditioning(network, role, num_classes):
    """A conditional model's networks take [samples, labels]; an
    unconditional one's take the samples only (where that is declared)."""
    count = _input_count(network)
    if count is None:
        return
    builder = "dcgan_generator" if role == "generator" else "dcgan_critic"
    if num_classes is not None and count != 2:
        raise ValueError(
            f"num_classes={num_classes} makes a conditional model, whose {role} takes two inputs, "
            f"[{'latent' if role == 'generator' else 'images'}, labels]; '{network.name}' takes {count}. "
            f"Build it conditional, e.g. keras_wgan.models.{builder}(..., num_classes={num_classes})."
        )
    if num_classes is None and count == 2:
        raise ValueError(
            f"The {role} '{network.name}' takes two inputs (a conditional network?): pass the "
            "number of classes, num_classes=..., for a conditional model."
        )


def _sum_of(network_losses):
    """The sum of a network's losses as float32 (0.0 when there are none)."""
    return sum((ops.cast(loss, "float32") for loss in network_losses), 0.0)


def _added_and_regularizer_losses(network):
    """`network.losses` in two sums: what its layers `add_loss` in the last
    call, and its weight regularizers' terms (Keras lists those last)."""
    carried = list(network.losses)
    split = len(carried) - sum(1 for v in network.trainable_weights if v.regularizer is not None)
    return _sum_of(carried[:split]), _sum_of(carried[split:])


def _model_input_shape(model):
    """The declared input shape of a Functional/Sequential model, else None."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return None
    if not inputs or len(inputs) != 1:
        return None
    return tuple(inputs[0].shape)


def _shapes_match(expected, actual):
    return len(expected) == len(actual) and all(
        e is None or a is None or e == a for e, a in zip(expected, actual)
    )
