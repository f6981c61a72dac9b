"""The dashboard a user opens: a tiny run of the training program, then
`tensorboard --logdir <workdir>/logs` as the program prints it, read through
TensorBoard's HTTP API and (where Chromium is installed) its Time Series
page in a headless browser. See tests/dashboard_check.py."""

import contextlib
import io
import json
import os

import pytest

from tests import dashboard_check
from tests.dashboard_check import TensorBoard, check_api, compare, expected_points

# tests/test_train.py's TINY run: 20 generator iterations, 10 per epoch.
TINY = dict(generator_iterations=20, iterations_per_epoch=10, width=16, batch_size=32)
TINY_FLAGS = [f"--{name}={value}" for name, value in TINY.items()]

# What the Monitor writes over the TINY run (log_every 5, diagnostics_every
# 50, images and evaluations every epoch of 10), written out by hand.
METRICS = [5, 10, 15, 20]
DIAGNOSTICS = [0, 20]  # before training, and the last iteration
IMAGES = [0, 10, 20]
EVALUATIONS = [10, 20]
TINY_POINTS = {
    "scalars": {
        "wasserstein_estimate": METRICS, "critic_loss": METRICS, "generator_loss": METRICS,
        "learning_rate/generator": METRICS, "learning_rate/critic": METRICS,
        "time/seconds_per_generator_iteration": METRICS,
        "clipped_fraction/critic_mlp": DIAGNOSTICS,
        **{f"input_gradient_norm/{where}_{stat}": DIAGNOSTICS
           for where in ("real", "generated", "interpolated") for stat in ("mean", "max")},
        "evaluation/w1": EVALUATIONS,
        **{f"evaluation/mode_coverage/{name}": EVALUATIONS
           for name in ("modes_covered", "num_modes", "high_quality_fraction", "reverse_kl")},
    },
    "images": {"critic": IMAGES},
    # The toy critic's 4 dense layers: a kernel and a bias each.
    "histograms": {f"critic_weights/critic_mlp/{kind}_{i}": DIAGNOSTICS
                   for kind in ("kernel", "bias") for i in range(4)},
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("dashboard") / "run")


@pytest.fixture(scope="module")
def board(workdir):
    """TensorBoard on the run's logs, opened before training starts, as the
    program invites ("Watch it train: tensorboard --logdir ...")."""
    with TensorBoard(os.path.join(workdir, "logs"), wait=False) as board:
        yield board


@pytest.fixture(scope="module")
def tiny_run(workdir, board):
    """The TINY run of the command line `python -m keras_wgan.train` (its
    `main`, in this process: Python and the backend are already loaded);
    returns what it printed."""
    from absl import flags

    from keras_wgan import train as train_module

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        train_module.command(["keras_wgan.train", f"--workdir={workdir}", "--verbose=0", *TINY_FLAGS],
                             train_module._flags(flags.FlagValues()))
    # The folder the program tells the user to open is the one TensorBoard shows.
    assert f"tensorboard --logdir {board.logdir}" in printed.getvalue()
    return printed.getvalue()


def test_tensorboard_serves_every_tag_at_its_generator_iterations(workdir, tiny_run, board):
    with open(os.path.join(workdir, "config.json")) as f:
        config = json.load(f)
    served, not_finite = check_api(board, expected_points(config))
    assert board.get("/data/runs") == ["train"]
    assert compare(TINY_POINTS, served) == []  # the hand-written points, with messages
    assert served == TINY_POINTS
    # Only the documented NaN may appear (no high-quality sample yet).
    assert set(not_finite) <= {"evaluation/mode_coverage/reverse_kl"}


def test_the_time_series_page_draws_the_estimate_and_the_critic(tiny_run, board, tmp_path):
    if dashboard_check.find_chromium() is None:
        pytest.skip("no chromium binary on this machine (install chromium or set $CHROMIUM): "
                    "the Time Series page is not screenshotted; the HTTP API test still runs")
    tag_filter = dashboard_check.TOY_FILTER
    path = str(tmp_path / "timeseries.png")
    page = dashboard_check.screenshot_timeseries(
        dashboard_check.timeseries_url(board.url, tag_filter), path, TINY_POINTS, tag_filter,
        size=(1600, 1500))
    cards = {card["tag"]: card for card in page["cards"]}
    assert sorted(cards) == sorted([
        "wasserstein_estimate", "critic", "evaluation/w1", "evaluation/mode_coverage/modes_covered",
        "clipped_fraction/critic_mlp", "input_gradient_norm/real_mean",
        "input_gradient_norm/generated_mean", "input_gradient_norm/interpolated_mean"])
    # A vertex per point of the estimate's curve; the contour at the last iteration.
    assert max(s["vertices"] for s in cards["wasserstein_estimate"]["series"]) == len(METRICS)
    assert cards["critic"]["loaded"] and cards["critic"]["step"] == IMAGES[-1]
    assert dashboard_check.check_screenshot(path, page)["colours"] >= 300


def test_compare_names_missing_tags_and_points():
    expected = {"scalars": {"wasserstein_estimate": [5, 10], "clipped_fraction/*": [0, 10]},
                "images": {"samples": [0, 10]}, "histograms": {"critic_weights/*": [0, 10]}}
    served = {"scalars": {"wasserstein_estimate": [5, 10], "clipped_fraction/conv": [0, 10]},
              "images": {"samples": [0, 10]}, "histograms": {"critic_weights/conv/kernel": [0, 10]}}
    assert compare(expected, served) == []
    served["scalars"]["wasserstein_estimate"] = [5]
    served["scalars"]["extra"] = [5]
    del served["images"]["samples"]
    served["histograms"] = {"critic_weights/dense/kernel": [0, 10]}
    problems = "\n".join(compare(expected, served))
    assert "'wasserstein_estimate' has 1 points at [5]; expected 2 at [5, 10] (missing [10]" in problems
    assert "unexpected tag 'extra'" in problems
    assert "images: no tag 'samples'" in problems
    assert "no critic_weights/conv/... for clipped_fraction/conv" in problems
    # TensorBoard keeps 10 images of a tag by default: a longer series shows 10, with the last.
    long = list(range(0, 300, 10))
    shown = long[:9] + [long[-1]]
    assert compare({"images": {"samples": long}}, {"images": {"samples": shown}}) == []
    assert compare({"images": {"samples": long}}, {"images": {"samples": long[:10]}})


def test_expected_points_follow_the_configuration():
    config = dict(generator_iterations=1000, log_every=5, diagnostics_every=50, sample_every=250,
                  dataset="data.npz", lipschitz="clip", model="wgan")
    points = expected_points(config)
    assert points["images"] == {"samples": [0, 250, 500, 750, 1000]}
    assert len(points["scalars"]["wasserstein_estimate"]) == 200
    assert points["scalars"]["clipped_fraction/*"] == list(range(0, 1001, 50))
    assert not any(tag.startswith("evaluation/") for tag in points["scalars"])
    gp = expected_points(dict(config, lipschitz="gp", generator_iterations=1003))
    assert "gradient_penalty" in gp["scalars"] and "clipped_fraction/*" not in gp["scalars"]
    assert gp["scalars"]["wasserstein_estimate"][-2:] == [1000, 1003]  # and the last iteration
