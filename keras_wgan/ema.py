"""The averaged generator: an exponential moving average of the generator's
weights, the network that modern GAN trainers sample from (StyleGAN's
`G_ema`, BigGAN's and StudioGAN's `ema`)."""

import math

import keras
from keras import ops



@keras.saving.register_keras_serializable(package="keras_wgan")
class GeneratorEMA:
    """An exponential moving average of the generator's weights, kept by
    `WGAN(..., ema=GeneratorEMA(...))` and updated inside the compiled
    training step after each generator update:

        averaged <- beta_t * averaged + (1 - beta_t) * weights

    for every trainable weight of the generator, while its non-trainable
    weights (batch-normalization statistics) are copied, as StyleGAN does
    with its buffers. `beta_t` is `decay`, or with a ramp-up (StyleGAN's
    `ema_rampup`) `min(decay, 0.5 ** (1 / (rampup * t)))` at the `t`-th
    generator update: the average's half-life, `log 0.5 / log decay`
    updates, is at most `rampup * t`, so the early, fast-changing weights are
    forgotten quickly (StyleGAN2-ADA's formula, counted in generator updates
    rather than images; 0.05 is its value).

    The averaged network is a copy of the generator made when the model is
    built (`averaged_copy`); it is saved with the model and resumes exactly.
    `generate()`, `predict()` and the sample and evaluation callbacks use it
    by default (`generate(..., averaged=False)` for the raw generator).

    Args:
        decay: The largest `beta_t`, in [0, 1). 0.999 is a half-life of 693
            generator updates.
        rampup: None (constant `decay`), or a number > 0 of the ramp-up.

    Example:

    ```python
    wgan = WGAN(generator, critic, latent_dim=100, lipschitz="gp",
                ema=GeneratorEMA(decay=0.999, rampup=0.05))
    wgan.compile()
    wgan.fit(dataset)
    images = wgan.generate(64)  # from the averaged generator
    ```
    """

    def __init__(self, decay: float = 0.999, rampup: float | None = None):
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 <= decay < 1:
            raise ValueError(f"`decay` must be a number in [0, 1). Received: decay={decay!r}")
        if rampup is not None and (
            isinstance(rampup, bool) or not isinstance(rampup, (int, float))
            or not (math.isfinite(rampup) and rampup > 0)
        ):
            raise ValueError(f"`rampup` must be None or a finite number > 0. Received: rampup={rampup!r}")
        self.decay = float(decay)
        self.rampup = None if rampup is None else float(rampup)

    def beta(self, iteration):
        """`beta_t` at the `iteration`-th generator update (1 for the first),
        a float32 tensor; `iteration` may be a tensor."""
        decay = ops.convert_to_tensor(self.decay, "float32")
        if self.rampup is None:
            return decay
        t = ops.maximum(ops.cast(iteration, "float32"), 1.0)
        return ops.minimum(decay, ops.power(0.5, 1.0 / (self.rampup * t)))

    def averaged_copy(self, generator: keras.Model) -> keras.Model:
        """A copy of `generator` with its weights, non-trainable (so that no
        optimizer sees it), to hold the average."""
        try:
            copy = keras.models.clone_model(generator)
        except Exception as error:
            raise ValueError(
                "GeneratorEMA needs a copy of the generator, made with keras.models.clone_model "
                "(a subclassed model needs `get_config`/`from_config`). Could not copy "
                f"'{generator.name}': {error}"
            ) from error
        if len(copy.weights) != len(generator.weights):
            raise ValueError(
                f"The copy of the generator '{generator.name}' has {len(copy.weights)} weights, the "
                f"generator {len(generator.weights)}: build the generator before passing it."
            )
        for target, source in zip(copy.weights, generator.weights):
            if tuple(target.shape) != tuple(source.shape):
                raise ValueError(
                    f"The copy of the generator's weight '{source.path}' has shape "
                    f"{tuple(target.shape)}, not {tuple(source.shape)}."
                )
            # Through NumPy: a buffer of its own (JAX would otherwise share the
            # generator's, which its compiled step cannot donate twice).
            target.assign(ops.convert_to_numpy(source))
        copy.trainable = False
        return copy

    def update(self, averaged: keras.Model, generator: keras.Model, iteration) -> None:
        """One averaging step, after the `iteration`-th generator update."""
        beta = self.beta(iteration)
        trainable = {id(v) for v in generator.trainable_weights}
        for target, source in zip(averaged.weights, generator.weights):
            value = ops.cast(source, target.dtype)
            if id(source) in trainable:
                b = ops.cast(beta, target.dtype)
                value = b * target + (1 - b) * value
            target.assign(value)

    def get_config(self):
        return {"decay": self.decay, "rampup": self.rampup}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"GeneratorEMA(decay={self.decay}, rampup={self.rampup})"

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash((type(self), self.decay, self.rampup))


def get(identifier) -> GeneratorEMA | None:
    """A `GeneratorEMA` from None (no averaging), a decay (a float), a
    config dict or an instance.

    >>> get(0.99)
    GeneratorEMA(decay=0.99, rampup=None)
    """
    if identifier is None or isinstance(identifier, GeneratorEMA):
        return identifier
    if isinstance(identifier, (int, float)) and not isinstance(identifier, bool):
        return GeneratorEMA(decay=identifier)
    if isinstance(identifier, dict):
        return keras.saving.deserialize_keras_object(identifier)
    raise TypeError(
        "`ema` must be None, a decay in [0, 1) or a keras_wgan.ema.GeneratorEMA. "
        f"Received: ema={identifier!r}"
    )
