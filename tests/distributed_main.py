"""The training program as the distribution tests launch it: `python -m
keras_wgan.train`'s own `main`, with two test-only switches read from the
environment:

- `KERAS_WGAN_TEST_DEVICES=2`: split this process's CPU into 2 devices
  first (`tests.two_devices`), for `--distribution=devices`;
- `KERAS_WGAN_TEST_EXIT_AT=N` and `KERAS_WGAN_TEST_EXIT_PROCESS=P`: process P
  of the job dies (`os._exit`) once N generator iterations are done, as a
  killed process would, to test that the job resumes.
"""

import os

if os.environ.get("KERAS_WGAN_TEST_DEVICES") == "2":
    import tests.two_devices  # noqa: F401  (first: it splits the CPU)

import warnings  # noqa: E402

from absl import app  # noqa: E402

from keras_wgan import train  # noqa: E402
from keras_wgan._cli import format_warning, parse_flags  # noqa: E402


def _exit_hook():
    last = os.environ.get("KERAS_WGAN_TEST_EXIT_AT")
    if not last:
        return
    process = os.environ.get("KERAS_WGAN_TEST_EXIT_PROCESS", "0")
    if process != os.environ.get("RANK", os.environ.get("KERAS_DISTRIBUTION_PROCESS_ID", _tf_index())):
        return
    original = train._StopAtGeneratorIteration.on_train_batch_end

    def on_train_batch_end(self, batch, logs=None):
        original(self, batch, logs)
        if self.clock.after(batch + 1).generator_iterations >= int(last):
            os._exit(17)

    train._StopAtGeneratorIteration.on_train_batch_end = on_train_batch_end


def _tf_index():
    import json

    config = os.environ.get("TF_CONFIG")
    return str(json.loads(config)["task"]["index"]) if config else "0"


if __name__ == "__main__":
    _exit_hook()
    train.FLAGS = train._flags()
    warnings.formatwarning = format_warning
    app.run(train.main, flags_parser=parse_flags)
