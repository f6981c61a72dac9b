"""The pure pieces of `experiments.modern_practice` (its runs take minutes
and are not run here): each row's configuration resolves as the training
program's, and the report's table holds each record's numbers."""

import numpy as np
import pytest
from absl import flags

from experiments import modern_practice
from keras_wgan.train import resolve


@pytest.fixture(autouse=True)
def parsed_flags():
    if not flags.FLAGS.is_parsed():
        flags.FLAGS(["test"])


def test_every_row_is_a_valid_training_configuration():
    for name in modern_practice.RUNS:
        config = resolve(modern_practice.config_of(name, 500, 32, 0, "subset.npz"))
        assert config.lipschitz == "gp" and config.generator_iterations == 500 and config.width == 32
    assert resolve(modern_practice.config_of("ema", 500, 32, 0, "s.npz")).ema_rampup == 0.05
    assert resolve(modern_practice.config_of("subset_ada", 500, 32, 0, "s.npz")).ada_speed == 100_000
    assert resolve(modern_practice.config_of("resnet", 500, 32, 0, "s.npz")).architecture == "resnet"
    assert modern_practice.config_of("subset_none", 500, 32, 0, "s.npz").dataset == "s.npz"
    # Another setting is another run (another cache key).
    keys = {modern_practice.run_key(modern_practice.config_of(n, 500, 32, 0, "s.npz")) for n in modern_practice.RUNS}
    assert len(keys) == len(modern_practice.RUNS)


def _record(name, fid, seconds=1.0, iterations=500, **extra):
    return {"name": name, "key": name, "iterations": iterations, "seconds_per_iteration": seconds,
            "raw": {"fid": fid, "kid": fid / 10}, **extra}


def test_report_rows_hold_the_records_numbers():
    accuracy = [1.0] * 9 + [0.5]
    records = [
        _record("ema", 40.0, averaged={"fid": 35.0, "kid": 3.5}),
        _record("subset_none", 100.0), _record("subset_diffaugment", 90.0),
        _record("subset_ada", 95.0, augment={"augment_probability": 0.25, "overfitting_signal": 0.7}),
        _record("conditional", 50.0, 2.0, class_accuracy=accuracy, per_class_fid=list(range(10, 110, 10))),
    ]
    longer = [_record("conditional", 30.0, iterations=1500, class_accuracy=[1.0] * 10,
                      per_class_fid=[20.0] * 10),
              _record("ema", 25.0, iterations=1500, averaged={"fid": 21.0, "kid": 2.1})]
    text = modern_practice.report(records, iterations=500, width=32, seed=0, accuracy=0.98, longer=longer)
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in text.splitlines() if line.startswith("| ")}
    assert rows["EMA off"][2:5] == ["40.00", "4.000", "1.00"]
    assert rows["EMA on"][2:4] == ["35.00", "3.500"]
    subset = [line.split(" | ") for line in text.splitlines() if line.startswith("| 1,000 digits")]
    assert [row[2] for row in subset] == ["100.00", "90.00", "95.00"]  # none, DiffAugment, ADA
    assert subset[2][-1].strip(" |") == "final augment_probability 0.25, final overfitting_signal 0.70"
    conditional = rows["conditional"]
    assert conditional[2] == "50.00" and conditional[4] == "2.00"
    assert f"class accuracy {np.mean(accuracy):.3f} (per class 0.50–1.00)" in conditional[5]
    assert "per-class FID 55.0 (10.0–100.0)" in conditional[5]
    assert rows["conditional, 1,500 iterations"][2] == "30.00"
    assert rows["EMA off, 1,500 iterations"][2] == "25.00" and rows["EMA on, 1,500 iterations"][2] == "21.00"
    assert rows["ResNet"][2] == "n/a" and "**Missing rows: resnet.**" in text
