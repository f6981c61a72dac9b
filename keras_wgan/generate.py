"""Writes samples of a saved model: `python -m keras_wgan.generate
--model=runs/wgan/model.keras --num=64 --out=grid.png` (a grid image for
image models, a scatter plot for 2-D models; `--out=x.npy` saves the array)."""

import os
import sys

import keras
import numpy as np

import keras_wgan  # noqa: F401  (registers WGAN and GAN for loading)
from keras_wgan.callbacks import image_grid


def generate(model_path: str, num: int, out: str, seed: int = 0) -> np.ndarray:
    """Loads a saved WGAN, generates `num` samples and writes them to `out`
    (.png or .npy). Returns the samples.

    Example:

    ```python
    generate("runs/wgan/model.keras", 64, "grid.png")
    ```
    """
    if not os.path.exists(model_path):
        raise FileNotFoundError(f"No saved model at {model_path!r} (expected a .keras file).")
    model = keras.models.load_model(model_path)
    samples = model.generate(num, seed=seed)
    if out.endswith(".npy"):
        np.save(out, samples)
    elif out.endswith(".png"):
        if samples.ndim == 2 and samples.shape[1] == 2:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            figure, ax = plt.subplots(figsize=(5, 5), dpi=100)
            ax.scatter(*samples.T, s=3)
            ax.set_aspect("equal")
            figure.savefig(out)
            plt.close(figure)
        else:
            keras.utils.save_img(out, image_grid(samples), scale=False)
    else:
        raise ValueError(f"--out must end in .png or .npy. Received: {out!r}")
    return samples


def main(argv):
    del argv
    try:
        samples = generate(FLAGS.model, FLAGS.num, FLAGS.out, FLAGS.seed)
    except (ValueError, FileNotFoundError) as error:
        sys.exit(f"error: {error}")
    print(f"Wrote {len(samples)} samples of shape {samples.shape[1:]} to {FLAGS.out}")


if __name__ == "__main__":
    from absl import app, flags

    flags.DEFINE_string("model", None, "Path of a saved .keras model.", required=True)
    flags.DEFINE_integer("num", 64, "Number of samples.", lower_bound=1)
    flags.DEFINE_string("out", "samples.png", "Output: .png (grid or scatter) or .npy.")
    flags.DEFINE_integer("seed", 0, "Seed of the latent vectors.")
    FLAGS = flags.FLAGS
    app.run(main)
