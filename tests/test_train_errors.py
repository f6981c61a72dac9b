"""Bad input to the training program (`python -m keras_wgan.train`) ends it
with one line naming the value received and what was expected, and leaves
nothing in the working directory that the corrected run trips on.

The table runs the command line in this process (`train.command`, what the
program runs after `absl`), with its own flags; a subprocess check at the
end shows the program itself prints that one line and no traceback."""

import os
import socket
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from absl import flags

from keras_wgan import train as train_module
from tests.test_train import run_cli

# A few generator iterations of tiny networks: seconds per run.
TOY = ["--generator_iterations=4", "--iterations_per_epoch=2", "--width=8", "--batch_size=16"]
IMAGES = ["--image_size=16", "--width=4", "--batch_size=2", "--n_critic=1",
          "--generator_iterations=2", "--iterations_per_epoch=1"]


def write_png(path, pixels):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tf.io.write_file(str(path), tf.io.encode_png(np.asarray(pixels, np.uint8)))


def colour_folder(tmp, count=3):
    for i in range(count):
        write_png(tmp / "images" / f"{i}.png", np.full((20, 20, 3), 40 * i))
    return str(tmp / "images")


def folder_with_non_image(tmp):
    folder = colour_folder(tmp)
    (tmp / "images" / "notes.png").write_bytes(b"this is not a PNG")
    return folder


def folder_with_truncated_png(tmp):
    folder = colour_folder(tmp)
    whole = tf.io.encode_png(np.full((20, 20, 3), 99, np.uint8)).numpy()
    (tmp / "images" / "cut.png").write_bytes(whole[: len(whole) // 2])
    return folder


def folder_with_gray_and_colour(tmp):
    folder = colour_folder(tmp, 2)
    write_png(tmp / "images" / "gray.png", np.zeros((20, 20, 1)))
    return folder


def folder_without_images(tmp):
    os.makedirs(tmp / "images")
    (tmp / "images" / "readme.txt").write_text("no images here")
    return str(tmp / "images")


def folder_of_broken_images(tmp):
    os.makedirs(tmp / "images")
    (tmp / "images" / "a.png").write_bytes(b"")
    (tmp / "images" / "b.jpg").write_bytes(b"GIF89a")
    return str(tmp / "images")


def npz(tmp, nan):
    images = np.zeros((8, 16, 16), np.float32)
    if nan:
        images[3, 2, 1] = np.nan
    np.savez(tmp / "images.npz", images=images)
    return str(tmp / "images.npz")


def labelled_npz(tmp, top=5):
    """8 images with labels 0..top (top the largest)."""
    labels = np.minimum(np.arange(8), top)
    np.savez(tmp / "labelled.npz", images=np.zeros((8, 16, 16), np.uint8), labels=labels)
    return str(tmp / "labelled.npz")


def offline(monkeypatch):
    """No network, on any machine: every DNS lookup fails, as offline."""
    def getaddrinfo(host, *args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    if os.path.isdir(os.path.expanduser("~/tensorflow_datasets/cifar10")):
        pytest.skip("cifar10 is already prepared in ~/tensorflow_datasets: nothing to download")


# lr 1e38 without a Lipschitz constraint: the first step's critic update overflows.
DIVERGED = "critic_loss is nan at generator iteration 1"
TRAINING = object()  # expected: the run trains (after the warnings)

# id: (flags of the bad run, given tmp_path and monkeypatch; the one line it
# ends with, or TRAINING; warnings it gives; flags of the corrected run in
# the same workdir, or None if the bad run trains).
CASES = {
    "batch_size 0": (lambda t, m: TOY + ["--batch_size=0"],
                     "error: --batch_size must be >= 1. Received: 0.", [], lambda t: TOY),
    "batch_size negative": (lambda t, m: TOY + ["--batch_size=-4"],
                            "error: --batch_size must be >= 1. Received: -4.", [], lambda t: TOY),
    "width 0": (lambda t, m: TOY + ["--width=0"],
                "error: --width must be >= 1. Received: 0.", [], lambda t: TOY),
    "latent_dim 0": (lambda t, m: TOY + ["--latent_dim=0"],
                     "error: --latent_dim must be >= 1. Received: 0.", [], lambda t: TOY),
    "image_size 0": (lambda t, m: ["--dataset=mnist", "--image_size=0"],
                     "error: --image_size must be >= 1. Received: 0.", [], None),
    "n_critic 0": (lambda t, m: TOY + ["--n_critic=0"],
                   "error: --n_critic must be >= 1 or 'paper'. Received: 0.", [], lambda t: TOY),
    "generator_iterations negative": (
        lambda t, m: TOY + ["--generator_iterations=-1"],
        "error: --generator_iterations must be >= 1. Received: -1.", [], None),
    "clip_value 0": (lambda t, m: TOY + ["--clip_value=0"],
                     "error: --clip_value must be a finite number > 0. Received: 0.0.", [],
                     lambda t: TOY + ["--clip_value=0.05"]),
    "clip_value inf": (lambda t, m: TOY + ["--clip_value=inf"],
                       "error: --clip_value must be a finite number > 0. Received: inf.", [], None),
    "lr_critic nan": (lambda t, m: TOY + ["--lr_critic=nan"],
                      "error: --lr_critic must be a finite number > 0. Received: nan.", [],
                      lambda t: TOY + ["--lr_critic=1e-4"]),
    "lr_generator -inf": (lambda t, m: TOY + ["--lr_generator=-inf"],
                          "error: --lr_generator must be a finite number > 0. Received: -inf.", [], None),
    "lr_generator 0": (lambda t, m: TOY + ["--lr_generator=0"],
                       "error: --lr_generator must be a finite number > 0. Received: 0.0.", [], None),
    "penalty_weight nan": (lambda t, m: TOY + ["--lipschitz=gp", "--penalty_weight=nan"],
                           "error: --penalty_weight must be a finite number > 0. Received: nan.", [],
                           lambda t: TOY + ["--lipschitz=gp"]),
    "unknown flag value": (lambda t, m: TOY + ["--model=vae"],
                           "error: flag --model=vae: value should be one of <wgan|gan> "
                           "(--helpfull lists the flags)", [], lambda t: TOY + ["--model=gan"]),
    "not an integer": (lambda t, m: TOY + ["--batch_size=many"],
                       "error: flag --batch_size=many: invalid literal for int() with base 10: "
                       "'many' (--helpfull lists the flags)", [], None),
    "unknown flag": (lambda t, m: TOY + ["--batchsize=16"],
                     "error: Unknown command line flag 'batchsize'. Did you mean: batch_size ? "
                     "(--helpfull lists the flags)", [], None),
    "folder with a non-image": (
        lambda t, m: IMAGES + [f"--dataset={folder_with_non_image(t)}"], TRAINING,
        ["Skipping 1 of 4 files under '{t}/images' that are not readable PNG or JPEG images "
         "(not an image, or corrupt): '{t}/images/notes.png'"], None),
    "folder with a truncated PNG": (
        lambda t, m: IMAGES + [f"--dataset={folder_with_truncated_png(t)}"], TRAINING,
        ["Skipping 1 of 4 files under '{t}/images' that are not readable PNG or JPEG images "
         "(not an image, or corrupt): '{t}/images/cut.png'"], None),
    "folder mixing grayscale and colour": (
        lambda t, m: IMAGES + [f"--dataset={folder_with_gray_and_colour(t)}"], TRAINING,
        ["The folder '{t}/images' mixes 1 grayscale and 2 colour images (e.g. grayscale "
         "'{t}/images/gray.png'): training on RGB, with the grayscale images converted "
         "(keras_wgan.data.load(..., channels=1) trains on grayscale)."], None),
    "folder without images": (
        lambda t, m: IMAGES + [f"--dataset={folder_without_images(t)}"],
        "error: Found no image files (.png, .jpg, .jpeg) under '{t}/images' (searched recursively).",
        [], lambda t: IMAGES + [f"--dataset={colour_folder(t)}"]),
    "folder of unreadable images": (
        lambda t, m: IMAGES + [f"--dataset={folder_of_broken_images(t)}"],
        "error: None of the 2 image files under '{t}/images' could be read as a PNG or JPEG "
        "image (e.g. '{t}/images/a.png'). Expected a folder of PNG or JPEG images.", [], None),
    "npz with NaN": (
        lambda t, m: IMAGES + [f"--dataset={npz(t, nan=True)}"],
        "error: Expected finite numbers from '{t}/images.npz'. Received: 1 NaN or infinite "
        "values (the first in sample 3, nan).", [],
        lambda t: IMAGES + [f"--dataset={npz(t, nan=False)}"]),
    "TFDS dataset offline": (
        lambda t, m: offline(m) or ["--dataset=cifar10", "--image_size=16"],
        "error: The TFDS dataset 'cifar10' is not on this machine and could not be downloaded "
        "(cannot reach www.cs.toronto.edu ([Errno -2] Name or service not known)). Connect to "
        "the internet and try again, or train on local data: pass an .npz or .npy file of "
        "images, or a folder of PNG or JPEG images, as the dataset "
        "(--dataset=path/to/images.npz or --dataset=path/to/folder).", [],
        lambda t: IMAGES + [f"--dataset={npz(t, nan=False)}"]),
    "diverges to NaN": (
        lambda t, m: TOY + ["--lipschitz=none", "--lr_critic=1e38", "--lr_generator=1e38"],
        f"error: Training diverged: {DIVERGED}; model.keras was not written and no "
        "checkpoint was written. Lower --lr_critic and --lr_generator (or keep the critic "
        "Lipschitz: --lipschitz=clip, gp, lp or spectral_norm) and train in another --workdir.",
        [], None),
    "workdir under a file": (
        lambda t, m: TOY + [f"--workdir={t / 'images.npz' / 'run'}"] if npz(t, False) else None,
        "error: --workdir='{t}/images.npz/run' is not a folder this run can write to: Not a "
        "directory. Pass a writable folder (it is created if missing).", [], None),
    "labels out of range": (
        lambda t, m: IMAGES + [f"--dataset={labelled_npz(t)}", "--num_classes=3"],
        "error: Expected labels in [0, num_classes=3). Received: '{t}/labelled.npz' has labels up to 5. "
        "Pass --num_classes=6 or more.", [], lambda t: IMAGES + [f"--dataset={labelled_npz(t)}", "--num_classes=6", "--eval_metrics=none"]),
    "num_classes on data without labels": (
        lambda t, m: IMAGES + [f"--dataset={npz(t, nan=False)}", "--num_classes=3"],
        "error: --num_classes=3 needs labelled data, but '{t}/images.npz' holds no labels: none of its "
        "arrays ['images'] is named 'labels' or 'label' or 'y' or 'y_train'. Save them under one of these "
        "names (np.savez(path, images=..., labels=...)).", [], lambda t: IMAGES + [f"--dataset={labelled_npz(t, top=2)}", "--num_classes=3", "--eval_metrics=none"]),
    "num_classes with the MLP": (
        lambda t, m: IMAGES + [f"--dataset={labelled_npz(t)}", "--num_classes=6", "--architecture=mlp"],
        "error: --num_classes needs --architecture=dcgan or resnet (the conditional networks). "
        "Received: --architecture=mlp.", [], None),
    "augment on 2-D data": (
        lambda t, m: TOY + ["--augment=ada"],
        "error: --augment=ada augments images; '8gaussians' is 2-D toy data.", [], lambda t: TOY),
    "ada_target without ada": (
        lambda t, m: IMAGES + [f"--dataset={npz(t, nan=False)}", "--augment=diffaugment", "--ada_target=0.5"],
        "error: --ada_target applies to --augment=ada. Received: --augment=diffaugment.", [],
        lambda t: IMAGES + [f"--dataset={npz(t, nan=False)}", "--augment=ada", "--ada_target=0.5"]),
    "unknown augmentation": (
        lambda t, m: IMAGES + [f"--dataset={npz(t, nan=False)}", "--augment=diffaugment",
                               "--augment_policy=color,blur"],
        "error: DiffAugment: unknown augmentation 'blur' in policy='color,blur'; valid names "
        "(comma-separated): 'color', 'translation', 'cutout'.", [], None),
    "ema_rampup without ema_decay": (
        lambda t, m: TOY + ["--ema_rampup=0.05"],
        "error: --ema_rampup needs --ema_decay (the average is off without it). Received: --ema_rampup=0.05.",
        [], lambda t: TOY + ["--ema_rampup=0.05", "--ema_decay=0.9"]),
    "ema_decay 1": (
        lambda t, m: TOY + ["--ema_decay=1"],
        "error: --ema_decay must be in [0, 1). Received: --ema_decay=1.0.", [], None),
    "conditional ResNet, EMA and ADA": (
        lambda t, m: IMAGES + [f"--dataset={labelled_npz(t)}", "--num_classes=6", "--architecture=resnet",
                               "--ema_decay=0.9", "--ema_rampup=0.05", "--augment=ada", "--eval_metrics=none"],
        TRAINING, [], None),
    "workdir is a file": (
        lambda t, m: TOY + [f"--workdir={npz(t, False)}"],
        "error: --workdir='{t}/images.npz' is not a folder this run can write to: File exists. "
        "Pass a writable folder (it is created if missing).", [], None),
}


def run_command(args, workdir):
    """The command line in process: (exit line or None, warnings' lines)."""
    if not any(a.startswith("--workdir=") for a in args):
        args = args + [f"--workdir={workdir}"]
    flag_values = train_module._flags(flags.FlagValues())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            train_module.command(["keras_wgan.train", "--verbose=0", *args], flag_values)
            line = None
        except SystemExit as stop:
            line = stop.code
    ours = [str(w.message) for w in caught if "keras_wgan" in w.filename or "data" in str(w.message)]
    return line, ours


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gets_one_line_and_the_corrected_run_works(case, tmp_path, monkeypatch):
    bad, expected, expected_warnings, corrected = CASES[case]
    workdir = tmp_path / "run"
    line, warned = run_command(bad(tmp_path, monkeypatch), workdir)
    t = str(tmp_path)
    assert warned == [w.format(t=t) for w in expected_warnings]
    if expected is TRAINING:
        assert line is None
        assert os.path.exists(workdir / "model.keras")
        return
    assert line == expected.format(t=t)
    assert "\n" not in line
    if case == "diverges to NaN":
        # Stopped before any save: no model, no checkpoint of the NaN weights;
        # the TensorBoard logs and the contour of the untrained critic
        # (iteration 0), drawn when training began.
        assert sorted(os.listdir(workdir)) == ["config.json", "logs", "samples"]
        assert sorted(os.listdir(workdir / "samples")) == ["critic.png", "critic_0000000.png"]
        return
    assert not os.path.exists(workdir), "a failed start leaves no working directory behind"
    if corrected is not None:
        monkeypatch.undo()
        line, _ = run_command(corrected(tmp_path), workdir)
        assert line is None and os.path.exists(workdir / "model.keras")


def test_a_run_that_diverges_keeps_its_last_good_checkpoint(tmp_path, monkeypatch):
    """NaN weights injected in the middle of the second epoch (generator
    iteration 13): the run stops at the next batch, naming it; the backup of
    epoch 1 (iteration 10) stays and the same run resumes from it. (The critic
    is poisoned: on TensorFlow relu(NaN) is 0, so NaN generator weights can
    leave the losses finite; the epoch-end weight check catches those.)"""
    workdir = str(tmp_path / "run")
    config = train_module.Config(generator_iterations=20, iterations_per_epoch=10, width=16,
                                 batch_size=32)
    original = train_module._StopAtGeneratorIteration.on_train_batch_end

    def poison(self, batch, logs=None):
        if int(keras.ops.convert_to_numpy(self.model.generator_iterations)) == 13:
            for weight in self.model.critic.weights:
                weight.assign(np.full(weight.shape, np.nan, "float32"))
        original(self, batch, logs)

    monkeypatch.setattr(train_module._StopAtGeneratorIteration, "on_train_batch_end", poison)
    with pytest.raises(train_module.TrainingDiverged) as error:
        train_module.train(config, workdir, verbose=0)
    backup = os.path.join(workdir, "backup")
    assert str(error.value) == (
        "Training diverged: critic_loss is nan at generator iteration 14; model.keras was not "
        f"written and the last good checkpoint (generator iteration 10) stays in {backup!r}. "
        "Lower --lr_critic and --lr_generator (or keep the critic Lipschitz: --lipschitz=clip, "
        "gp, lp or spectral_norm) and train in another --workdir.")
    assert not os.path.exists(os.path.join(workdir, "model.keras"))
    assert os.listdir(backup)
    monkeypatch.undo()
    metrics = train_module.train(config, workdir, verbose=0)  # resumes from iteration 10
    assert metrics["generator_iterations"] == 20
    assert np.isfinite(metrics["w1_to_data"])


def test_the_program_prints_one_line_and_no_traceback(tmp_path):
    result = run_cli("--lr_critic=nan", f"--workdir={tmp_path / 'run'}")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --lr_critic must be a finite number > 0. Received: nan.")
    assert "Traceback" not in result.stderr and not os.path.exists(tmp_path / "run")
