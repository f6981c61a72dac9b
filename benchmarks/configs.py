"""The benchmark workloads as plain data: the networks, the batch and how
many steps to time. Variants override only what differs."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Workload:
    """One benchmark: a generator/critic pair, its data and its schedule.

    Attributes:
        name: Name in the results, e.g. `"dcgan64"`.
        architecture: `"mlp"` (2-D toy data) or `"dcgan"` (images).
        batch_size: Samples per critic batch (and per generator batch).
        n_critic: Critic iterations per generator iteration.
        latent_dim: Size of the noise vectors.
        sample_shape: Shape of one real sample: `(2,)` or `(size, size, channels)`.
        width: Hidden units of the MLPs, or `ngf = ndf` of the DCGANs.
        hidden_layers: Hidden layers of the MLPs (unused by the DCGANs).
        clip_value: Critic weights stay in `[-clip_value, clip_value]`.
        warmup_steps: Generator iterations run before timing (the first
            compiles).
        windows: Timed windows per implementation; the Keras WGAN and the
            reference alternate window by window.
        window_steps: Generator iterations per window.
        memory_steps: Generator iterations after the first in the
            first-step/peak-memory run.
        check_steps: Generator iterations of the check that the Keras WGAN
            and the reference agree (0: no check).
    """

    name: str
    architecture: str
    batch_size: int
    n_critic: int
    latent_dim: int
    sample_shape: tuple
    width: int
    hidden_layers: int = 3
    clip_value: float = 0.01
    warmup_steps: int = 3
    windows: int = 5
    window_steps: int = 4
    memory_steps: int = 2
    check_steps: int = 1

    @property
    def image_size(self) -> int:
        return self.sample_shape[0]

    @property
    def samples_per_step(self) -> int:
        """Real samples consumed by one generator iteration."""
        return self.n_critic * self.batch_size

    def real_batches(self, steps: int, seed: int = 0) -> np.ndarray:
        """`steps` training batches of uniform [-1, 1] "real" samples,
        `(steps, n_critic * batch_size, *sample_shape)`. No download: the
        speed does not depend on what the pixels show."""
        rng = np.random.default_rng(seed)
        shape = (steps, self.samples_per_step) + tuple(self.sample_shape)
        return rng.uniform(-1, 1, shape).astype("float32")

    def replace(self, **changes) -> "Workload":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


# The toy problem: 2-D data, ReLU MLPs 2 -> 512 -> 512 -> 512 -> {2, 1}.
MLP = Workload(
    name="mlp",
    architecture="mlp",
    batch_size=256,
    n_critic=5,
    latent_dim=2,
    sample_shape=(2,),
    width=512,
    warmup_steps=5,
    windows=6,
    window_steps=5,
    memory_steps=3,
    check_steps=2,
)

# The paper's DCGAN (martinarjovsky/WassersteinGAN models/dcgan.py):
# nz = 100, ngf = ndf = 64, RGB.
DCGAN32 = Workload(
    name="dcgan32",
    architecture="dcgan",
    batch_size=64,
    n_critic=5,
    latent_dim=100,
    sample_shape=(32, 32, 3),
    width=64,
    warmup_steps=1,
    windows=4,
    window_steps=1,
    memory_steps=1,
)

DCGAN64 = DCGAN32.replace(
    name="dcgan64", sample_shape=(64, 64, 3), warmup_steps=1, windows=3, window_steps=1
)

# Tiny versions for the test suite: seconds per backend.
TINY_MLP = MLP.replace(
    name="tiny_mlp", batch_size=8, n_critic=2, width=16, hidden_layers=1,
    warmup_steps=1, windows=2, window_steps=2, memory_steps=1, check_steps=2,
)
TINY_DCGAN = DCGAN32.replace(
    name="tiny_dcgan", batch_size=4, n_critic=2, latent_dim=8, sample_shape=(16, 16, 1),
    width=4, warmup_steps=1, windows=2, window_steps=1, memory_steps=1, check_steps=2,
)

WORKLOADS = {w.name: w for w in (MLP, DCGAN32, DCGAN64, TINY_MLP, TINY_DCGAN)}
DEFAULT_WORKLOADS = ("mlp", "dcgan32", "dcgan64")


def get(name: str) -> Workload:
    try:
        return WORKLOADS[name]
    except KeyError:
        raise ValueError(
            f"Unknown workload {name!r}; expected one of {sorted(WORKLOADS)}."
        ) from None
