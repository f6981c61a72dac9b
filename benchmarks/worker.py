"""One measurement in one process (the Keras backend is fixed per process:
set KERAS_BACKEND). `benchmarks.run` launches these; run one by hand to
investigate, e.g.

    KERAS_BACKEND=jax python -m benchmarks.worker --task=pair --workload=mlp
"""

import json

from absl import app
from absl import flags

from benchmarks import configs
from benchmarks import tasks

TASKS = ("pair", "first_step")


def define_flags():
    """Defined on demand, not on import: tests and `benchmarks.run` import
    this module, and absl flags are global."""
    flags.DEFINE_enum(
        "task", "pair", TASKS,
        "pair: the agreement check, then the Keras WGAN and the reference timed side "
        "by side (and, with --compilations, the paper-schedule compilation count); "
        "first_step: time to the first step and peak memory of one implementation.",
    )
    flags.DEFINE_string("workload", "tiny_mlp", "A name in benchmarks.configs.")
    flags.DEFINE_enum("implementation", tasks.KERAS, (tasks.KERAS, tasks.REFERENCE),
                      "For --task=first_step.")
    flags.DEFINE_enum(
        "framework", None, ("tensorflow", "jax", "torch"),
        "The reference's framework for --task=first_step --implementation=reference "
        "(Keras is then not imported). Default: KERAS_BACKEND.",
    )
    flags.DEFINE_list("variants", ["default"], "Keras WGAN variants to time (with "
                      "--task=first_step, the first one is measured).")
    flags.DEFINE_bool("compilations", False,
                      "With --task=pair: also count compilations under the paper schedule.")
    flags.DEFINE_integer("check_steps", None, "Generator iterations of the agreement check "
                         "(0 skips it). Default: the workload's.")
    flags.DEFINE_integer("warmup_steps", None, "Override the workload's warm-up steps.")
    flags.DEFINE_integer("windows", None, "Override the workload's timed windows.")
    flags.DEFINE_integer("window_steps", None, "Override the steps per window.")
    flags.DEFINE_integer("seed", 0, "Seed of weights, data and noise.")
    flags.DEFINE_string("out", None, "Append JSON lines to this file (default: stdout).")


def workload_from_flags():
    f = flags.FLAGS
    workload = configs.get(f.workload)
    overrides = {
        "warmup_steps": f.warmup_steps,
        "windows": f.windows,
        "window_steps": f.window_steps,
        "check_steps": f.check_steps,
    }
    return workload.replace(**{k: v for k, v in overrides.items() if v is not None})


def run_task(task, workload, implementation=tasks.KERAS, framework=None,
             variants=("default",), compilations=False, seed=0):
    """Yields the results of one task, as dicts, as they come."""
    if task == "first_step":
        yield from tasks.measure_first_step(workload, implementation, variants[0],
                                            framework=framework, seed=seed)
        return
    if workload.check_steps:
        yield from tasks.check_agreement(workload, steps=workload.check_steps, seed=seed,
                                         variant=variants[0])
    yield from tasks.measure_step_times(workload, variants=variants, seed=seed)
    if compilations:
        yield from tasks.measure_compilations(workload, seed=seed)


def write(results, path=None):
    lines = "".join(json.dumps(r, sort_keys=False) + "\n" for r in results)
    if path is None:
        print(lines, end="", flush=True)
    else:
        with open(path, "a") as f:
            f.write(lines)


def main(argv):
    del argv
    f = flags.FLAGS
    for result in run_task(
        f.task, workload_from_flags(), f.implementation, f.framework, tuple(f.variants),
        f.compilations, f.seed,
    ):
        write([result], f.out)


if __name__ == "__main__":
    define_flags()
    app.run(main)
