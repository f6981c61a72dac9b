"""How a WGAN keeps its critic Lipschitz: one object per method.

Each method owns what it changes in the model: its set-up and checks of the
critic (`configure`), the term it adds to the critic's loss (`penalty`), the
optimizers `compile()` defaults to, and its config. `WGAN(lipschitz=...)`
takes an object or a shortcut string:

| shortcut | object |
|---|---|
| `"clip"` | `WeightClipping(clip_value)` (the paper's; `clip_value=` of `WGAN`) |
| `"gp"` | `GradientPenalty(weight)` (WGAN-GP; `penalty_weight=` of `WGAN`) |
| `"lp"` | `GradientPenalty(weight, one_sided=True)` (WGAN-LP) |
| `"spectral_norm"` | `SpectralNormalization()` |
| `"none"` | `NoConstraint()` |
"""

import warnings

import keras
from keras import ops

from keras_wgan import losses
from keras_wgan._networks import has_layer
from keras_wgan.constraints import WeightClip
from keras_wgan.optimizers import default_optimizer
from keras_wgan.optimizers import gradient_penalty_optimizer


class LipschitzMethod:
    """The base of the Lipschitz methods: no constraint, no penalty.

    A new method subclasses it and overrides what it changes; the model
    calls `configure` once its networks are built, and `penalty` in every
    critic update (and in `evaluate()`).

    Example:

    ```python
    @keras.saving.register_keras_serializable()
    class MaxNormKernels(LipschitzMethod):
        name = "max_norm"

        def configure(self, wgan):
            for layer in wgan.critic._flatten_layers():
                if hasattr(layer, "kernel"):
                    layer.kernel.constraint = keras.constraints.MaxNorm(1.0)

    wgan = WGAN(generator, critic, latent_dim=2, lipschitz=MaxNormKernels())
    ```
    """

    #: The shortcut string of `WGAN(lipschitz=...)`.
    name = None
    #: Whether `penalty` adds a term to the critic's loss (logged as
    #: `gradient_penalty`).
    penalized = False
    #: Whether the method works with batch normalization in the critic (the
    #: training program's DCGAN critic has it only then).
    supports_batch_norm = True

    def prepare_critic(self, critic):
        """The critic to give the WGAN, made from a plain one (the training
        program's networks): the same critic unless the method needs
        another (spectral normalization wraps its layers)."""
        return critic

    def configure(self, wgan):
        """Sets up and checks `wgan.critic` (built) when the WGAN is built."""

    def penalty(self, wgan, real, fake, alpha=None, training=True, seed=None, labels=None):
        """The term added to the critic's loss for a real and a fake batch,
        or None (no penalty). `alpha`, `training`, `seed` and `labels` as in
        `WGAN.gradient_penalty`."""
        return None

    def scores_in_one_call(self, critic_has_batch_norm: bool) -> bool:
        """Whether the critic may score a real and a fake batch in one call
        (see `WGAN._critic_scores`): not when batch normalization would mix
        their statistics."""
        return not critic_has_batch_norm

    def default_optimizer(self, name: str) -> keras.optimizers.Optimizer:
        """The optimizer `compile()` gives a network when none is passed:
        WGAN-GP's Adam(1e-4, beta_1=0, beta_2=0.9)."""
        return gradient_penalty_optimizer(name)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), tuple(sorted(self.get_config().items()))))


@keras.saving.register_keras_serializable(package="keras_wgan")
class WeightClipping(LipschitzMethod):
    """The paper's method: every trainable critic weight (kernels, biases,
    normalization scales and offsets, as in the reference implementation)
    clipped to `[-clip_value, clip_value]` after every update, by a
    `WeightClip` constraint set on it (and applied to the initial weights).
    `compile()` defaults to the paper's RMSProp (momentum was unstable with
    clipping).

    Args:
        clip_value: Positive float `c`.

    Example:

    ```python
    wgan = WGAN(generator, critic, latent_dim=2, lipschitz=WeightClipping(0.01))
    ```
    """

    name = "clip"

    def __init__(self, clip_value: float = 0.01):
        self.constraint = WeightClip(clip_value)  # validates clip_value
        self.clip_value = self.constraint.clip_value

    def configure(self, wgan):
        for variable in wgan.critic.trainable_variables:
            if variable.constraint is not None and not isinstance(variable.constraint, WeightClip):
                raise ValueError(
                    f"Critic variable '{variable.path}' already has the constraint "
                    f"{variable.constraint!r}; WGAN clips every critic weight with "
                    "WeightClip. Remove the other constraint."
                )
            variable.constraint = self.constraint
            variable.assign(self.constraint(variable))

    def default_optimizer(self, name):
        """The paper's RMSProp (`keras_wgan.default_optimizer`)."""
        return default_optimizer(name)

    def get_config(self):
        return {"clip_value": self.clip_value}


@keras.saving.register_keras_serializable(package="keras_wgan")
class GradientPenalty(LipschitzMethod):
    """The gradient penalty of WGAN-GP (Gulrajani et al. 2017),
    `weight * mean (||grad f(x)|| - 1)^2` at random interpolates `x` of the
    real and the fake batch, or with `one_sided=True` the penalty of WGAN-LP
    (Petzka et al. 2018), `weight * mean max(0, ||grad f(x)|| - 1)^2`. No
    clipping.

    Args:
        weight: The weight lambda of the penalty (10 in WGAN-GP), > 0.
        one_sided: Penalize only gradient norms above 1 (WGAN-LP).

    Example:

    ```python
    wgan = WGAN(generator, critic, latent_dim=2, lipschitz=GradientPenalty(10.0))
    ```
    """

    penalized = True
    supports_batch_norm = False  # it breaks the per-sample gradient

    def __init__(self, weight: float = 10.0, one_sided: bool = False):
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
            raise ValueError(
                f"The penalty weight (`weight`, WGAN's `penalty_weight`) must be a number > 0. Received: {weight!r}"
            )
        if not isinstance(one_sided, bool):
            raise TypeError(f"`one_sided` must be True or False. Received: one_sided={one_sided!r}")
        self.weight = float(weight)
        self.one_sided = one_sided

    @property
    def name(self):
        return "lp" if self.one_sided else "gp"

    def configure(self, wgan):
        if has_layer(wgan.critic, keras.layers.BatchNormalization):
            warnings.warn(
                "The critic has BatchNormalization layers, but a gradient penalty "
                "constrains the gradient of each sample's score separately, which "
                "batch normalization breaks: the WGAN-GP paper replaces it with "
                "layer normalization (keras.layers.LayerNormalization).",
                stacklevel=4,
            )

    def penalty(self, wgan, real, fake, alpha=None, training=True, seed=None, labels=None):
        # The critic's scores as training computes them (`wgan.score`: after
        # the augmentation, when there is one), so the gradient is taken
        # through the augmentation, with respect to the interpolates; a
        # conditional critic scores each interpolate with its pair's class.
        real = ops.convert_to_tensor(real)
        if alpha is None:
            # This replica's part of the global batch's weights.
            alpha = wgan._replica_part(lambda n, seed: wgan.sample_interpolation(n, seed=seed), ops.shape(real)[0], seed)
        alpha = ops.reshape(ops.cast(alpha, real.dtype), (-1,) + (1,) * (len(real.shape) - 1))
        interpolates = alpha * real + (1.0 - alpha) * ops.cast(fake, real.dtype)
        gradients = wgan._input_gradient(lambda x: wgan.score(x, labels, training=training), interpolates)
        norms = losses.gradient_norm(gradients)
        penalty = losses.lipschitz_penalty if self.one_sided else losses.gradient_penalty
        return self.weight * penalty(norms)

    def get_config(self):
        return {"weight": self.weight, "one_sided": self.one_sided}


@keras.saving.register_keras_serializable(package="keras_wgan")
class SpectralNormalization(LipschitzMethod):
    """Spectral normalization (Miyato et al. 2018): the critic's layers are
    wrapped in `keras.layers.SpectralNormalization` (see
    `keras_wgan.spectral_normalize`); no clipping, no penalty. The critic
    scores a real and a fake batch in one call, so that each layer's power
    iteration runs once per critic update.

    Example:

    ```python
    critic = keras_wgan.spectral_normalize(critic)
    wgan = WGAN(generator, critic, latent_dim=2, lipschitz=SpectralNormalization())
    ```
    """

    name = "spectral_norm"

    def prepare_critic(self, critic):
        """`keras_wgan.spectral_normalize(critic)`."""
        from keras_wgan.spectral_normalization import spectral_normalize

        return spectral_normalize(critic)

    def configure(self, wgan):
        if not has_layer(wgan.critic, keras.layers.SpectralNormalization):
            raise ValueError(
                "lipschitz='spectral_norm' needs a critic whose layers are wrapped in "
                "keras.layers.SpectralNormalization, e.g. "
                "`critic = keras_wgan.spectral_normalize(critic)`. The critic "
                f"'{wgan.critic.name}' has no SpectralNormalization layer."
            )

    def scores_in_one_call(self, critic_has_batch_norm):
        # Spectral normalization rewrites its kernel at every training call:
        # two calls would run the power iteration twice per update, and
        # PyTorch's autograd does not see a kernel modified in place
        # between two uses.
        return True


@keras.saving.register_keras_serializable(package="keras_wgan")
class NoConstraint(LipschitzMethod):
    """No constraint at all: for ablations and the GAN baseline (the
    critic's estimate is then not a distance).

    Example:

    ```python
    wgan = WGAN(generator, critic, latent_dim=2, lipschitz=NoConstraint())
    ```
    """

    name = "none"


SHORTCUTS = ("clip", "gp", "lp", "spectral_norm", "none")
# The settings of `WGAN` that each shortcut takes.
SETTINGS = {"clip": ("clip_value",), "gp": ("penalty_weight",), "lp": ("penalty_weight",)}


def unused_settings(shortcut: str, **settings) -> list:
    """The names of `settings` given (not None) that `shortcut` does not
    take: what `get` and the training program refuse.

    >>> unused_settings("gp", clip_value=0.01, penalty_weight=None)
    ['clip_value']
    """
    takes = SETTINGS.get(shortcut, ())
    return [name for name, value in settings.items() if value is not None and name not in takes]


def get(identifier, clip_value=None, penalty_weight=None) -> LipschitzMethod:
    """The Lipschitz method of `WGAN(lipschitz=identifier, clip_value=...,
    penalty_weight=...)`: a `LipschitzMethod` (returned as it is), a
    shortcut string of `SHORTCUTS`, or a serialized method (a dict).
    `clip_value` goes with `"clip"` only, `penalty_weight` with `"gp"` and
    `"lp"` only (None: the method's default); given with another method,
    they are an error rather than ignored.

    Example:

    >>> get("gp", penalty_weight=5.0)
    GradientPenalty(weight=5.0, one_sided=False)
    """
    if isinstance(identifier, dict):
        identifier = keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, LipschitzMethod):
        for argument, value in (("clip_value", clip_value), ("penalty_weight", penalty_weight)):
            if value is not None:
                raise ValueError(
                    f"`{argument}` goes with a shortcut string of `lipschitz`; the method "
                    f"{identifier!r} carries its own settings. Received: {argument}={value!r}"
                )
        return identifier
    if not isinstance(identifier, str) or identifier not in SHORTCUTS:
        raise ValueError(
            f"`lipschitz` must be one of {SHORTCUTS} or a keras_wgan.lipschitz.LipschitzMethod. "
            f"Received: lipschitz={identifier!r}"
        )
    settings = {"clip_value": clip_value, "penalty_weight": penalty_weight}
    for argument in unused_settings(identifier, **settings):
        uses = SETTINGS.get(identifier, ())
        raise ValueError(
            f"`{argument}` does not apply to lipschitz={identifier!r}"
            + (f", which takes {uses[0]}" if uses else "")
            + f" (clip_value: 'clip'; penalty_weight: 'gp', 'lp'). Received: {argument}={settings[argument]!r}"
        )
    if identifier == "clip":
        return WeightClipping() if clip_value is None else WeightClipping(clip_value)
    if identifier in ("gp", "lp"):
        weight = {} if penalty_weight is None else {"weight": penalty_weight}
        return GradientPenalty(one_sided=identifier == "lp", **weight)
    return SpectralNormalization() if identifier == "spectral_norm" else NoConstraint()
