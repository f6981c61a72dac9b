"""The FID Inception network against the real thing: torch-fidelity's
FeatureExtractorInceptionV3 with random weights (no machine here can download
the published ones), written as a torch state-dict file and loaded through our
torch-free reader and converter; the TF1 bilinear and clean-fid bicubic
resizes against their references; the weights download, cache and hash check
through a file:// URL; the errors."""

import collections
import hashlib
import os
import pickle

import keras
import numpy as np
import pytest

from keras_wgan.metrics._torch_file import read_torch_state_dict
from keras_wgan.metrics.inception import FIDInceptionExtractor
from keras_wgan.metrics.inception import TF1BilinearResize
from keras_wgan.metrics.inception import clean_bicubic_resize
from keras_wgan.metrics.inception import fid_inception_v3
from keras_wgan.metrics.inception import fid_inception_weights
from keras_wgan.metrics.inception import load_torch_state_dict
from keras_wgan.metrics.inception import WeightsUnavailableError
from keras_wgan.metrics.inception import quantize_images
from tests.references import clean_fid_module
from tests.references import torch_fidelity_module

torch = pytest.importorskip("torch")

# Our network runs in float32, the reference in float64 (from the same
# float32 weights): features reach ~70 and logits ~30, and agree to ~6e-5
# (about 1e-6 of the largest value) on every backend; 1e-5 of the largest
# value leaves a margin and still fails on any wrong layer.
RELATIVE_TOLERANCE = 1e-5


def _random_reference_network():
    """torch-fidelity's network (float64) with seeded random weights: He-normal
    convolutions and random batch-norm statistics and affine parameters, so a
    wrong mapping of any of them changes the outputs."""
    module = torch_fidelity_module("feature_extractor_inceptionv3")

    class RandomInception(module.FeatureExtractorInceptionV3):
        def load_state_dict(self, state_dict, strict=True):
            if state_dict:  # the constructor's load of the (absent) download
                return super().load_state_dict(state_dict, strict)

    download = module.load_state_dict_from_url
    module.load_state_dict_from_url = lambda *args, **kwargs: {}
    try:
        net = RandomInception(
            "inception", ["2048", "logits_unbiased", "logits"], feature_extractor_internal_dtype="float64"
        )
    finally:
        module.load_state_dict_from_url = download
    generator = torch.Generator().manual_seed(0)

    def random(*shape, scale=1.0, uniform=False):
        draw = torch.rand if uniform else torch.randn
        return draw(shape, generator=generator, dtype=torch.float64) * scale

    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, torch.nn.Conv2d):
                fan_in = layer.weight[0].numel()
                layer.weight.copy_(random(*layer.weight.shape, scale=(2 / fan_in) ** 0.5))
            elif isinstance(layer, torch.nn.BatchNorm2d):
                n = layer.num_features
                layer.weight.copy_(random(n, uniform=True) + 0.5)
                layer.bias.copy_(random(n, scale=0.2))
                layer.running_mean.copy_(random(n, scale=0.2))
                layer.running_var.copy_(random(n, uniform=True) + 0.5)
            elif isinstance(layer, torch.nn.Linear):
                layer.weight.copy_(random(*layer.weight.shape, scale=layer.in_features**-0.5))
                layer.bias.copy_(random(*layer.bias.shape))
    # The file holds float32 weights, as the published one; the reference
    # then computes in float64 from exactly those values.
    state_dict = {key: value.float() for key, value in net.state_dict().items()}
    net.load_state_dict(state_dict)
    return net, state_dict


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    net, state_dict = _random_reference_network()
    path = tmp_path_factory.mktemp("weights") / "random_inception.pth"
    torch.save(state_dict, path)
    return net, state_dict, path


@pytest.fixture(scope="module")
def extractor(reference):
    return FIDInceptionExtractor(weights=str(reference[2]), batch_size=4)


def _uint8_images(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def _reference_outputs(net, pixels):
    batch = torch.from_numpy(np.ascontiguousarray(pixels.transpose(0, 3, 1, 2)))
    if batch.shape[1] == 1:
        batch = batch.repeat(1, 3, 1, 1)
    with torch.no_grad():
        features, logits_unbiased, logits = net(batch)
    return {"features": features, "logits": logits, "logits_unbiased": logits_unbiased}


@pytest.mark.parametrize("size, out", [((28, 28), (299, 299)), ((40, 17), (11, 23))])
def test_tf1_bilinear_resize_equals_torch_fidelity(size, out):
    compat = torch_fidelity_module("interpolate_compat_tensorflow")
    images = np.random.default_rng(0).uniform(0, 255, (2, *size, 3)).astype("float32")
    ours = keras.ops.convert_to_numpy(TF1BilinearResize(out)(images))
    theirs = compat.interpolate_bilinear_2d_like_tensorflow1x(
        torch.from_numpy(images.transpose(0, 3, 1, 2)), size=out, align_corners=False
    ).numpy().transpose(0, 2, 3, 1)
    # Weights as matrices add the same terms in another order: float32
    # rounding of values up to 255.
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)


def test_tf1_bilinear_resize_equals_tensorflow_resize_bilinear():
    tf = pytest.importorskip("tensorflow")
    images = np.random.default_rng(1).uniform(0, 255, (1, 28, 28, 1)).astype("float32")
    ours = keras.ops.convert_to_numpy(TF1BilinearResize((299, 299))(images))
    theirs = tf.raw_ops.ResizeBilinear(
        images=images, size=[299, 299], align_corners=False, half_pixel_centers=False
    ).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)


def test_clean_bicubic_resize_equals_clean_fid():
    resize = clean_fid_module("resize").make_resizer("PIL", False, "bicubic", (299, 299))
    pixels = _uint8_images((2, 28, 28, 3), seed=3)
    ours = clean_bicubic_resize(pixels.astype("float32"))
    theirs = np.stack([resize(image) for image in pixels])
    np.testing.assert_array_equal(ours, theirs)
    assert ours.min() >= 0 and ours.max() <= 255 and not np.array_equal(ours, np.round(ours))


def test_clean_bicubic_preprocess_resizes_grey_images_to_rgb():
    extractor = FIDInceptionExtractor(resize="clean_bicubic")
    pixels = _uint8_images((2, 28, 28, 1), seed=4)
    batch = extractor.preprocess(pixels / 127.5 - 1)
    expected = clean_bicubic_resize(np.repeat(pixels, 3, axis=-1).astype("float32"))
    np.testing.assert_array_equal(batch, expected)


def test_quantize_images_like_a_saved_png():
    pixels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(quantize_images((pixels / 127.5 - 1).astype("float32")), pixels)
    # (x + 1) * 127.5 = 0, 63.75, 127.5 (a half: rounds up), 191.25, 255.
    np.testing.assert_array_equal(quantize_images(np.array([-1, -0.5, 0, 0.5, 1])), [0, 64, 128, 191, 255])
    np.testing.assert_array_equal(quantize_images(np.array([-1.0005, 1.0005])), [0, 255])


@pytest.mark.parametrize("zip_format", [True, False])
def test_reader_reads_both_torch_formats(tmp_path, zip_format):
    state_dict = collections.OrderedDict(
        conv=torch.randn(4, 3, 2, 2),
        transposed=torch.arange(12.0).reshape(3, 4).t(),  # not contiguous
        offset=torch.arange(10.0, dtype=torch.float64)[3:7],  # a view inside a storage
        half=torch.randn(3).half(),
        num_batches_tracked=torch.tensor(7),
    )
    path = tmp_path / "state.pth"
    torch.save(state_dict, path, _use_new_zipfile_serialization=zip_format)
    arrays = read_torch_state_dict(path)
    assert list(arrays) == list(state_dict)
    for key, value in state_dict.items():
        assert arrays[key].dtype == value.numpy().dtype, key
        np.testing.assert_array_equal(arrays[key], value.numpy(), err_msg=key)


@pytest.mark.parametrize("zip_format", [True, False])
def test_reader_refuses_other_python_objects(tmp_path, zip_format):
    path = tmp_path / "bad.pth"
    torch.save({"x": collections.Counter("ab")}, path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(pickle.UnpicklingError, match="collections.Counter"):
        read_torch_state_dict(path)


def test_download_caches_and_checks_the_hash_prefix(tmp_path):
    source = tmp_path / "source" / "weights.pth"
    source.parent.mkdir()
    source.write_bytes(np.random.default_rng(0).bytes(1000))
    prefix = hashlib.sha256(source.read_bytes()).hexdigest()[:8]
    url = source.as_uri()
    cache = tmp_path / "keras_home"
    cache.mkdir()  # as keras.utils.get_file, a cache_dir that is not writable means /tmp/.keras
    path = fid_inception_weights(url=url, sha256_prefix=prefix, cache_dir=str(cache))
    assert path == str(cache / "models" / "weights.pth")
    assert open(path, "rb").read() == source.read_bytes()
    source.unlink()  # cached: no second download
    assert fid_inception_weights(url=url, sha256_prefix=prefix, cache_dir=str(cache)) == path
    wrong = "0" * 8 if prefix != "0" * 8 else "1" * 8
    with pytest.raises(ValueError, match=f"expected a hash starting with {wrong}"):
        fid_inception_weights(url=url, sha256_prefix=wrong, cache_dir=str(cache))
    assert not os.path.exists(path)  # the bad file left the cache


def test_weights_unavailable_offline_says_where_to_put_them(tmp_path):
    missing = (tmp_path / "nowhere" / "pt_inception-2015-12-05-6726825d.pth").as_uri()
    (tmp_path / "home").mkdir()
    expected_place = os.path.join(str(tmp_path / "home"), "models", "pt_inception-2015-12-05-6726825d.pth")
    with pytest.raises(WeightsUnavailableError, match="put it at " + expected_place.replace(".", r"\.") + ".*weights=PATH"):
        fid_inception_weights(url=missing, cache_dir=str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match="not found: /no/such.pth"):
        FIDInceptionExtractor(weights="/no/such.pth").outputs(np.zeros((1, 8, 8, 3), "float32"))


def test_bad_images_and_arguments_are_one_line_errors():
    extractor = FIDInceptionExtractor()
    with pytest.raises(TypeError, match="floats in \\[-1, 1\\]. Received: dtype uint8"):
        extractor.outputs(np.zeros((2, 8, 8, 3), np.uint8))
    with pytest.raises(ValueError, match=r"must lie in \[-1, 1\]. Received: values in \[255, 255\]"):
        extractor.outputs(np.full((2, 8, 8, 3), 255.0))
    with pytest.raises(ValueError, match=r"Received: shape \(2, 8, 8, 2\)"):
        extractor.outputs(np.zeros((2, 8, 8, 2), "float32"))
    with pytest.raises(ValueError, match="resize='bilinear'"):
        FIDInceptionExtractor(resize="bilinear")
    with pytest.raises(ValueError, match=r"input_shape=\(32, 32, 1\)"):
        fid_inception_v3((32, 32, 1))


# The tests of the network come last: the module's network, once built, makes
# every later test's teardown (Keras's clear_session and its garbage
# collection) slower.


@pytest.mark.parametrize("channels", [1, 3])
def test_features_and_logits_equal_torch_fidelity(reference, extractor, channels):
    # 32x32 images (one network build for both), grey ones repeated to RGB;
    # the network resizes them to 299x299 with the TF1 bilinear resize.
    pixels = _uint8_images((2, 32, 32, channels), seed=channels)
    ours = extractor.outputs(pixels / 127.5 - 1)
    theirs = _reference_outputs(reference[0], pixels)
    for key in ("features", "logits", "logits_unbiased"):
        expected = theirs[key].numpy()
        assert ours[key].shape == expected.shape == (2, 2048 if key == "features" else 1008)
        scale = np.abs(expected).max()
        assert scale > 1.0  # the random network is not degenerate
        np.testing.assert_allclose(ours[key], expected, rtol=0, atol=RELATIVE_TOLERANCE * scale, err_msg=key)


def test_extractor_names_its_network_and_resize(extractor):
    assert extractor.name == "inception_2015_12_05.tf1_bilinear"
    assert FIDInceptionExtractor(resize="clean_bicubic").name == "inception_2015_12_05.clean_bicubic"


def test_layer_names_are_the_torch_module_names(reference, extractor):
    model = extractor.model((32, 32, 3))
    names = {layer.name for layer in model.layers}
    for key in reference[1]:
        module = key.rsplit(".", 1)[0]
        if module.endswith((".conv", ".bn")) or module == "fc":
            assert module.replace(".", "-") in names, key


def test_converter_names_a_missing_key_and_a_wrong_shape(reference):
    model = fid_inception_v3()
    state_dict = {key: value.numpy() for key, value in reference[1].items()}
    missing = dict(state_dict)
    del missing["Mixed_6c.branch7x7dbl_3.bn.running_var"]
    with pytest.raises(ValueError, match=r"lack the tensor 'Mixed_6c\.branch7x7dbl_3\.bn\.running_var'"):
        load_torch_state_dict(model, missing)
    wrong = dict(state_dict, **{"fc.bias": np.zeros(1000, "float32")})
    with pytest.raises(ValueError, match=r"layer 'fc' .* shape \(1000,\) .* expected \(1008,\)"):
        load_torch_state_dict(model, wrong)
    extra = dict(state_dict, **{"AuxLogits.fc.weight": np.zeros(3, "float32")})
    with pytest.raises(ValueError, match="AuxLogits.fc.weight"):
        load_torch_state_dict(model, extra)
