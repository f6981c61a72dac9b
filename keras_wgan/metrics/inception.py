"""The FID Inception network: the TensorFlow Inception graph of 2015-12-05
that published FID, KID, Inception Score and precision / recall numbers are
computed with, in Keras 3 layers (the same on every backend).

The architecture is that of pytorch-fid's `FIDInceptionA/C/E` and
torch-fidelity's `FeatureExtractorInceptionV3`: torchvision's InceptionV3
with the TensorFlow graph's quirks (3x3 average pools that exclude padding,
a max pool in the last block, 1008 classes). Layer names are the torch
module names with "-" for "." (`"Mixed_5b-branch1x1-conv"` holds torch's
`Mixed_5b.branch1x1.conv`; Keras's torch backend refuses "." in layer
names), so the published PyTorch weights
(`pt_inception-2015-12-05-6726825d.pth`) load by name, without torch
(`keras_wgan.metrics._torch_file`).
"""

import hashlib
import os

import keras
import numpy as np

from keras_wgan.metrics._torch_file import read_torch_state_dict
from keras_wgan.metrics.feature_extractor import FeatureExtractor
from keras_wgan.metrics.utils import to_numpy

WEIGHTS_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
    "pt_inception-2015-12-05-6726825d.pth"
)
WEIGHTS_FILENAME = "pt_inception-2015-12-05-6726825d.pth"
# torch.hub checks that the file's SHA-256 starts with the 8 hex digits in its
# name; the full hash is not published, so that prefix is all we can verify.
WEIGHTS_SHA256_PREFIX = "6726825d"
INPUT_SIZE = 299
RESIZE_MODES = ("tf1_bilinear", "clean_bicubic")


class TF1BilinearResize(keras.layers.Layer):
    """Bilinear resize as TensorFlow 1.x's `tf.image.resize_bilinear` with
    `align_corners=False` (no half-pixel centers), the resize of the FID
    reference graph.

    Output pixel `i` samples the input at `i * in_size / out_size` (in
    float32), between the pixels `floor` of that and the next one (clamped at
    the edge). The two 1-D interpolations are matrices built from the static
    input size and applied with `einsum`, so the layer is plain `keras.ops`.

    Args:
        size: Output `(height, width)`.

    Example:

    ```python
    resize = TF1BilinearResize((299, 299))
    resized = resize(np.zeros((2, 32, 32, 3), "float32"))  # (2, 299, 299, 3)
    ```
    """

    def __init__(self, size=(INPUT_SIZE, INPUT_SIZE), **kwargs):
        super().__init__(**kwargs)
        self.size = tuple(int(n) for n in size)

    @staticmethod
    def interpolation_matrix(in_size: int, out_size: int) -> np.ndarray:
        """The `(out_size, in_size)` float32 matrix of TF1's 1-D bilinear
        interpolation (align_corners=False)."""
        scale = np.float32(in_size) / np.float32(out_size)
        position = np.arange(out_size, dtype=np.float32) * scale
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, in_size - 1)
        fraction = position - low.astype(np.float32)
        matrix = np.zeros((out_size, in_size), np.float32)
        rows = np.arange(out_size)
        matrix[rows, low] += 1 - fraction
        matrix[rows, high] += fraction
        return matrix

    def build(self, input_shape):
        self._rows = self.interpolation_matrix(input_shape[1], self.size[0])
        self._columns = self.interpolation_matrix(input_shape[2], self.size[1])

    def call(self, images):
        rows = keras.ops.convert_to_tensor(self._rows, dtype=images.dtype)
        columns = keras.ops.convert_to_tensor(self._columns, dtype=images.dtype)
        images = keras.ops.einsum("oh,nhwc->nowc", rows, images)
        return keras.ops.einsum("pw,nowc->nopc", columns, images)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.size, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def _conv(x, name, filters, kernel_size, strides=1, padding="valid"):
    """torch's BasicConv2d: convolution without bias, BatchNorm (eps 1e-3), ReLU.

    Every padded convolution of the network has stride 1 and odd kernels
    padded by half their size on each side, which is Keras's "same"."""
    x = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding=padding, use_bias=False, name=f"{name}-conv"
    )(x)
    x = keras.layers.BatchNormalization(epsilon=1e-3, name=f"{name}-bn")(x)
    return keras.layers.ReLU(name=f"{name}-relu")(x)


def _average_pool(x, name):
    # Keras's "same" average pool divides by the number of real pixels in the
    # window on every backend (torch's count_include_pad=False, as TF).
    return keras.layers.AveragePooling2D(3, strides=1, padding="same", name=name)(x)


def _block_a(x, name, pool_features):
    branch1x1 = _conv(x, f"{name}-branch1x1", 64, 1)
    branch5x5 = _conv(x, f"{name}-branch5x5_1", 48, 1)
    branch5x5 = _conv(branch5x5, f"{name}-branch5x5_2", 64, 5, padding="same")
    branch3x3dbl = _conv(x, f"{name}-branch3x3dbl_1", 64, 1)
    branch3x3dbl = _conv(branch3x3dbl, f"{name}-branch3x3dbl_2", 96, 3, padding="same")
    branch3x3dbl = _conv(branch3x3dbl, f"{name}-branch3x3dbl_3", 96, 3, padding="same")
    branch_pool = _average_pool(x, f"{name}-pool")
    branch_pool = _conv(branch_pool, f"{name}-branch_pool", pool_features, 1)
    return keras.layers.Concatenate(name=name)([branch1x1, branch5x5, branch3x3dbl, branch_pool])


def _block_b(x, name):
    branch3x3 = _conv(x, f"{name}-branch3x3", 384, 3, strides=2)
    branch3x3dbl = _conv(x, f"{name}-branch3x3dbl_1", 64, 1)
    branch3x3dbl = _conv(branch3x3dbl, f"{name}-branch3x3dbl_2", 96, 3, padding="same")
    branch3x3dbl = _conv(branch3x3dbl, f"{name}-branch3x3dbl_3", 96, 3, strides=2)
    branch_pool = keras.layers.MaxPooling2D(3, strides=2, name=f"{name}-pool")(x)
    return keras.layers.Concatenate(name=name)([branch3x3, branch3x3dbl, branch_pool])


def _block_c(x, name, channels_7x7):
    c7 = channels_7x7
    branch1x1 = _conv(x, f"{name}-branch1x1", 192, 1)
    branch7x7 = _conv(x, f"{name}-branch7x7_1", c7, 1)
    branch7x7 = _conv(branch7x7, f"{name}-branch7x7_2", c7, (1, 7), padding="same")
    branch7x7 = _conv(branch7x7, f"{name}-branch7x7_3", 192, (7, 1), padding="same")
    dbl = _conv(x, f"{name}-branch7x7dbl_1", c7, 1)
    dbl = _conv(dbl, f"{name}-branch7x7dbl_2", c7, (7, 1), padding="same")
    dbl = _conv(dbl, f"{name}-branch7x7dbl_3", c7, (1, 7), padding="same")
    dbl = _conv(dbl, f"{name}-branch7x7dbl_4", c7, (7, 1), padding="same")
    dbl = _conv(dbl, f"{name}-branch7x7dbl_5", 192, (1, 7), padding="same")
    branch_pool = _average_pool(x, f"{name}-pool")
    branch_pool = _conv(branch_pool, f"{name}-branch_pool", 192, 1)
    return keras.layers.Concatenate(name=name)([branch1x1, branch7x7, dbl, branch_pool])


def _block_d(x, name):
    branch3x3 = _conv(x, f"{name}-branch3x3_1", 192, 1)
    branch3x3 = _conv(branch3x3, f"{name}-branch3x3_2", 320, 3, strides=2)
    branch7x7x3 = _conv(x, f"{name}-branch7x7x3_1", 192, 1)
    branch7x7x3 = _conv(branch7x7x3, f"{name}-branch7x7x3_2", 192, (1, 7), padding="same")
    branch7x7x3 = _conv(branch7x7x3, f"{name}-branch7x7x3_3", 192, (7, 1), padding="same")
    branch7x7x3 = _conv(branch7x7x3, f"{name}-branch7x7x3_4", 192, 3, strides=2)
    branch_pool = keras.layers.MaxPooling2D(3, strides=2, name=f"{name}-pool")(x)
    return keras.layers.Concatenate(name=name)([branch3x3, branch7x7x3, branch_pool])


def _block_e(x, name, max_pool):
    branch1x1 = _conv(x, f"{name}-branch1x1", 320, 1)
    branch3x3 = _conv(x, f"{name}-branch3x3_1", 384, 1)
    branch3x3 = keras.layers.Concatenate(name=f"{name}-branch3x3")(
        [
            _conv(branch3x3, f"{name}-branch3x3_2a", 384, (1, 3), padding="same"),
            _conv(branch3x3, f"{name}-branch3x3_2b", 384, (3, 1), padding="same"),
        ]
    )
    dbl = _conv(x, f"{name}-branch3x3dbl_1", 448, 1)
    dbl = _conv(dbl, f"{name}-branch3x3dbl_2", 384, 3, padding="same")
    dbl = keras.layers.Concatenate(name=f"{name}-branch3x3dbl")(
        [
            _conv(dbl, f"{name}-branch3x3dbl_3a", 384, (1, 3), padding="same"),
            _conv(dbl, f"{name}-branch3x3dbl_3b", 384, (3, 1), padding="same"),
        ]
    )
    if max_pool:
        # The 2015 graph's last block max-pools here (an oddity of that graph
        # that every FID implementation keeps).
        branch_pool = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}-pool")(x)
    else:
        branch_pool = _average_pool(x, f"{name}-pool")
    branch_pool = _conv(branch_pool, f"{name}-branch_pool", 192, 1)
    return keras.layers.Concatenate(name=name)([branch1x1, branch3x3, dbl, branch_pool])


def fid_inception_v3(input_shape=(INPUT_SIZE, INPUT_SIZE, 3), name: str = "fid_inception_v3") -> keras.Model:
    """Builds the FID Inception network (random weights; see
    `load_torch_state_dict`).

    The input is a batch of RGB images with pixel values in `[0, 255]`
    (floats; the reference feeds uint8). Images of another size than
    299x299 are first resized with TensorFlow 1.x's bilinear resize
    (`TF1BilinearResize`, as the reference graph does), then scaled to
    `(x - 128) / 128`.

    Args:
        input_shape: `(height, width, 3)` of the images given to the model.
        name: The model's name.

    Returns:
        A functional `keras.Model` whose outputs are a dict: `"features"`, the
        2048 pool features `(batch, 2048)` of FID / KID / precision-recall,
        and `"logits"`, the 1008 class logits `(batch, 1008)` (the final
        dense layer `"fc"`, with its bias).

    Example:

    ```python
    model = fid_inception_v3((32, 32, 3))
    load_torch_state_dict(model, read_torch_state_dict("pt_inception-2015-12-05-6726825d.pth"))
    out = model.predict_on_batch(pixels)  # pixels in [0, 255], (N, 32, 32, 3)
    out["features"].shape  # (N, 2048)
    ```
    """
    input_shape = tuple(input_shape)
    if len(input_shape) != 3 or input_shape[2] != 3 or min(input_shape[:2]) < 1:
        raise ValueError(
            f"`input_shape` must be (height, width, 3). Received: input_shape={input_shape}"
        )
    inputs = keras.Input(input_shape, name="pixels")
    x = inputs
    if input_shape[:2] != (INPUT_SIZE, INPUT_SIZE):
        x = TF1BilinearResize((INPUT_SIZE, INPUT_SIZE), name="resize_tf1_bilinear")(x)
    # (x - 128) / 128 with an exact power-of-two scale.
    x = keras.layers.Rescaling(1.0 / 128, offset=-1.0, name="normalize")(x)
    x = _conv(x, "Conv2d_1a_3x3", 32, 3, strides=2)
    x = _conv(x, "Conv2d_2a_3x3", 32, 3)
    x = _conv(x, "Conv2d_2b_3x3", 64, 3, padding="same")
    x = keras.layers.MaxPooling2D(3, strides=2, name="MaxPool_1")(x)
    x = _conv(x, "Conv2d_3b_1x1", 80, 1)
    x = _conv(x, "Conv2d_4a_3x3", 192, 3)
    x = keras.layers.MaxPooling2D(3, strides=2, name="MaxPool_2")(x)
    x = _block_a(x, "Mixed_5b", pool_features=32)
    x = _block_a(x, "Mixed_5c", pool_features=64)
    x = _block_a(x, "Mixed_5d", pool_features=64)
    x = _block_b(x, "Mixed_6a")
    x = _block_c(x, "Mixed_6b", channels_7x7=128)
    x = _block_c(x, "Mixed_6c", channels_7x7=160)
    x = _block_c(x, "Mixed_6d", channels_7x7=160)
    x = _block_c(x, "Mixed_6e", channels_7x7=192)
    x = _block_d(x, "Mixed_7a")
    x = _block_e(x, "Mixed_7b", max_pool=False)
    x = _block_e(x, "Mixed_7c", max_pool=True)
    features = keras.layers.GlobalAveragePooling2D(name="AvgPool")(x)
    logits = keras.layers.Dense(1008, name="fc")(features)
    return keras.Model(inputs, {"features": features, "logits": logits}, name=name)


def _torch_weights_of(layer, state_dict):
    """The torch tensors a layer needs, converted to its variables' layout."""
    prefix = layer.name.replace("-", ".")
    if isinstance(layer, keras.layers.Conv2D):
        kernel = state_dict(f"{prefix}.weight")  # (out, in, kh, kw)
        return [kernel.transpose(2, 3, 1, 0)]
    if isinstance(layer, keras.layers.BatchNormalization):
        return [
            state_dict(f"{prefix}.weight"),
            state_dict(f"{prefix}.bias"),
            state_dict(f"{prefix}.running_mean"),
            state_dict(f"{prefix}.running_var"),
        ]
    if isinstance(layer, keras.layers.Dense):
        return [state_dict(f"{prefix}.weight").T, state_dict(f"{prefix}.bias")]
    return []


def load_torch_state_dict(model: keras.Model, state_dict: dict) -> keras.Model:
    """Loads the FID Inception weights of a PyTorch state dict (pytorch-fid's
    and torch-fidelity's names) into a model of `fid_inception_v3`.

    A torch layer `X.conv` (convolution), `X.bn` (batch norm) or `fc`
    (dense) maps to the Keras layer of the same name with "-" for ".": convolution kernels go from
    `(out, in, h, w)` to `(h, w, in, out)`, the dense kernel is transposed,
    batch norm's weight, bias, running mean and variance become gamma, beta,
    the moving mean and variance. `num_batches_tracked` is ignored.

    Args:
        model: A model built by `fid_inception_v3`.
        state_dict: `{name: array}`, e.g. from `read_torch_state_dict`.

    Returns:
        `model`, with its weights set.

    Raises:
        ValueError: a key is missing, a shape differs, or a key is left unused
            (one line naming it).

    Example:

    ```python
    model = fid_inception_v3()
    load_torch_state_dict(model, read_torch_state_dict(path))
    ```
    """
    used = set()

    def lookup(key):
        if key not in state_dict:
            raise ValueError(
                f"The FID Inception weights lack the tensor {key!r} (found {len(state_dict)} "
                "tensors): not a state dict of pytorch-fid's / torch-fidelity's network."
            )
        used.add(key)
        return np.asarray(state_dict[key])

    for layer in model.layers:
        arrays = _torch_weights_of(layer, lookup)
        if not arrays:
            continue
        for variable, array in zip(layer.weights, arrays):
            if tuple(variable.shape) != array.shape:
                raise ValueError(
                    f"The FID Inception weight for layer {layer.name!r} ({variable.path}) has "
                    f"shape {array.shape} in the state dict; expected {tuple(variable.shape)}."
                )
        layer.set_weights([array.astype(layer.weights[0].dtype) for array in arrays])
    unused = sorted(
        key for key in state_dict if key not in used and not key.endswith("num_batches_tracked")
    )
    if unused:
        raise ValueError(
            f"The state dict holds {len(unused)} tensors the FID Inception network does "
            f"not use, e.g. {unused[0]!r}: not pytorch-fid's / torch-fidelity's network."
        )
    return model


def _keras_cache_dir(cache_dir=None) -> str:
    """Where `keras.utils.get_file(..., cache_subdir="models")` keeps files."""
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras"))
    cache_dir = os.path.expanduser(cache_dir)
    if not os.access(cache_dir, os.W_OK):
        cache_dir = os.path.join("/tmp", ".keras")
    return os.path.join(cache_dir, "models")


def _sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class WeightsUnavailableError(OSError):
    """The FID Inception weights are neither cached nor downloadable (an
    offline machine): the message says where to put the file."""


def cached_weights_path(cache_dir: str | None = None) -> str | None:
    """The path of the published weights in the Keras cache if they are
    there (nothing is downloaded), else None.

    Example:

    ```python
    if cached_weights_path() is None:
        print("FID Inception weights not downloaded yet")
    ```
    """
    path = os.path.join(_keras_cache_dir(cache_dir), WEIGHTS_FILENAME)
    return path if os.path.isfile(path) else None


def fid_inception_weights(
    url: str | None = None,
    sha256_prefix: str | None = None,
    cache_dir: str | None = None,
) -> str:
    """The path of the published FID Inception weights, downloaded on first
    use into the Keras cache (`~/.keras/models/`, or `$KERAS_HOME/models/`).

    The file's SHA-256 must start with `sha256_prefix`: the 8 hex digits of
    its name, which are all that torch.hub checks (no full hash is
    published). A file that fails the check is removed from the cache and
    reported.

    Args:
        url: Where to download the file from (a `file://` URL works too);
            default `WEIGHTS_URL`, pytorch-fid's release.
        sha256_prefix: The expected beginning of the file's SHA-256;
            default `WEIGHTS_SHA256_PREFIX`.
        cache_dir: The Keras cache directory; default `$KERAS_HOME` or `~/.keras`.

    Returns:
        The local path of the verified file.

    Raises:
        WeightsUnavailableError: the file is not cached and cannot be
            downloaded (an OSError; the message says where to put it).
        ValueError: the file's hash does not match.

    Example:

    ```python
    path = fid_inception_weights()  # ~/.keras/models/pt_inception-2015-12-05-6726825d.pth
    ```
    """
    url = WEIGHTS_URL if url is None else url
    sha256_prefix = WEIGHTS_SHA256_PREFIX if sha256_prefix is None else sha256_prefix
    filename = os.path.basename(url.split("?")[0]) or WEIGHTS_FILENAME
    target = os.path.join(_keras_cache_dir(cache_dir), filename)
    try:
        path = keras.utils.get_file(filename, url, cache_subdir="models", cache_dir=cache_dir)
    except Exception as error:
        raise WeightsUnavailableError(
            f"Could not download the FID Inception weights from {url} ({error}). On an "
            f"offline machine, download that file elsewhere and put it at {target}, or pass "
            "its path as `weights=PATH` (--inception_weights=PATH on the command line)."
        ) from None
    digest = _sha256(path)
    if not digest.startswith(sha256_prefix):
        os.remove(path)
        raise ValueError(
            f"The FID Inception weights downloaded from {url} have SHA-256 {digest[:16]}..., "
            f"expected a hash starting with {sha256_prefix}; the file was removed from the "
            f"cache. Download it again, or put the right file at {target}."
        )
    return path


def quantize_images(images: np.ndarray) -> np.ndarray:
    """Images in `[-1, 1]` to the pixel values `[0, 255]` a saved PNG would
    hold: `floor((x + 1) * 127.5 + 0.5)`, i.e. `(x + 1) / 2 * 255` rounded
    half up, as `torchvision.utils.save_image` does; returned as float32.

    Example:

    ```python
    quantize_images(np.array([-1.0, 0.0, 1.0]))  # [0., 128., 255.]
    ```
    """
    pixels = np.floor((np.asarray(images, np.float64) + 1.0) * 127.5 + 0.5)
    return np.clip(pixels, 0, 255).astype(np.float32)


def clean_bicubic_resize(pixels: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """clean-fid's "clean" resize: PIL's antialiased bicubic resize of each
    channel as a float32 image, clipped to `[0, 255]` and not re-quantized.

    Args:
        pixels: `(N, H, W, C)` pixel values in `[0, 255]`.
        size: The output side.

    Returns:
        `(N, size, size, C)` float32.

    Example:

    ```python
    clean_bicubic_resize(quantize_images(images))  # (N, 299, 299, C)
    ```
    """
    from PIL import Image

    pixels = np.asarray(pixels, np.float32)
    out = np.empty((len(pixels), size, size, pixels.shape[-1]), np.float32)
    for n, image in enumerate(pixels):
        for c in range(pixels.shape[-1]):
            channel = Image.fromarray(np.ascontiguousarray(image[:, :, c]), mode="F")
            channel = channel.resize((size, size), resample=Image.BICUBIC)
            out[n, :, :, c] = np.asarray(channel)
    return np.clip(out, 0, 255)


class FIDInceptionExtractor(FeatureExtractor):
    """The standard FID features: the 2048 pool features and 1008 logits of
    the 2015-12-05 TensorFlow Inception graph, with the published weights.

    Images in `[-1, 1]` (grey or RGB, any size) are quantized to 8-bit pixel
    values as a saved PNG would be (`quantize_images`), grey repeated to 3
    channels, resized to 299x299 by `resize`, and fed to
    `fid_inception_v3`. The resize modes:

    - `"tf1_bilinear"`: TensorFlow 1.x's bilinear resize inside the network,
      as the original TF FID code, pytorch-fid's TF-compatible numbers and
      torch-fidelity compute them.
    - `"clean_bicubic"`: clean-fid's antialiased PIL bicubic resize (its
      "clean" mode), done in NumPy / PIL before the network.

    FIDs of the two modes differ; `name` (`"inception_2015_12_05.<resize>"`)
    says which one made a number. The network is built, and the weights
    read, on first use.

    `extract` returns `{"features", "logits", "logits_unbiased"}`:
    `"logits_unbiased"` leaves out the dense layer's bias, as the original
    Inception Score code and torch-fidelity's `isc` do.

    Args:
        weights: None to download the published file to the Keras cache on
            first use (`fid_inception_weights`), or the path of a PyTorch
            state dict of the network (e.g. the same file, copied by hand
            to an offline machine).
        resize: `"tf1_bilinear"` or `"clean_bicubic"`.
        batch_size: Images per forward pass.
        cache_size: Inputs whose features are remembered (`FeatureExtractor`).

    Example:

    ```python
    extractor = FIDInceptionExtractor(resize="tf1_bilinear")
    extractor.name                       # "inception_2015_12_05.tf1_bilinear"
    out = extractor.outputs(images)      # {"features": (N, 2048), "logits": ...}
    score = fid(real_images, fake_images, extractor)
    ```
    """

    def __init__(self, weights=None, resize: str = "tf1_bilinear", batch_size: int = 64, cache_size: int = 2):
        if resize not in RESIZE_MODES:
            raise ValueError(f"`resize` must be one of {RESIZE_MODES}. Received: resize={resize!r}")
        if weights is not None and not isinstance(weights, (str, os.PathLike)):
            raise TypeError(
                "`weights` must be None (download) or the path of the PyTorch weights file. "
                f"Received: {weights!r} of type {type(weights).__name__}"
            )
        super().__init__(batch_size=batch_size, cache_size=cache_size, name=f"inception_2015_12_05.{resize}")
        self.weights = weights
        self.resize = resize
        self._models = {}
        self._state_dict = None

    def check_images(self, images) -> np.ndarray:
        """Checks a batch is floats in `[-1, 1]`, `(N, H, W)` or `(N, H, W, 1|3)`."""
        images = to_numpy(images, "images")
        if images.dtype.kind != "f":
            raise TypeError(
                f"`images` must be floats in [-1, 1]. Received: dtype {images.dtype}; "
                "scale 0..255 images with `images / 127.5 - 1`."
            )
        if images.ndim not in (3, 4) or images.shape[0] < 1 or (images.ndim == 4 and images.shape[-1] not in (1, 3)):
            raise ValueError(
                "`images` must have shape (N, height, width, 1 or 3) or (N, height, width). "
                f"Received: shape {images.shape}"
            )
        low, high = float(images.min()), float(images.max())
        if not (low >= -1.001 and high <= 1.001):
            raise ValueError(
                f"`images` must lie in [-1, 1]. Received: values in [{low:.4g}, {high:.4g}]; "
                "scale 0..255 images with `images / 127.5 - 1`."
            )
        return images

    def preprocess(self, images: np.ndarray) -> np.ndarray:
        """`[-1, 1]` images to 3-channel pixel values in `[0, 255]`, resized
        to 299x299 here in `"clean_bicubic"` mode (in the network in
        `"tf1_bilinear"` mode)."""
        if images.ndim == 3:
            images = images[..., None]
        pixels = quantize_images(images)
        if self.resize == "clean_bicubic" and pixels.shape[1:3] != (INPUT_SIZE, INPUT_SIZE):
            pixels = clean_bicubic_resize(pixels)
        if pixels.shape[-1] == 1:
            pixels = np.repeat(pixels, 3, axis=-1)
        return pixels

    def _weights(self) -> dict:
        if self._state_dict is None:
            path = self.weights if self.weights is not None else fid_inception_weights()
            if not os.path.exists(path):
                raise FileNotFoundError(
                    f"FID Inception weights file not found: {path!s}. Expected the PyTorch file "
                    f"{WEIGHTS_FILENAME} from {WEIGHTS_URL}."
                )
            self._state_dict = read_torch_state_dict(path)
        return self._state_dict

    def model(self, image_shape=(INPUT_SIZE, INPUT_SIZE, 3)) -> keras.Model:
        """The network for images of `image_shape`, built with its weights on
        first use (one model per input size: the TF1 resize is inside)."""
        key = tuple(image_shape)
        if key not in self._models:
            state_dict = None if self._models else self._weights()  # fails fast, before a build
            model = fid_inception_v3(key)
            if self._models:
                model.set_weights(next(iter(self._models.values())).get_weights())
            else:
                load_torch_state_dict(model, state_dict)
                self._bias = keras.ops.convert_to_numpy(model.get_layer("fc").bias)
                self._state_dict = None
            self._models[key] = model
        return self._models[key]

    def extract(self, batch) -> dict:
        outputs = self.model(batch.shape[1:]).predict_on_batch(batch)
        features = to_numpy(outputs["features"], "features")
        logits = to_numpy(outputs["logits"], "logits")
        return {"features": features, "logits": logits, "logits_unbiased": logits - self._bias}
