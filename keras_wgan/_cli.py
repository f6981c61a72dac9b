"""What the command-line programs (`keras_wgan.train`, `keras_wgan.evaluate`)
share: which errors a user can correct, and how they and bad flags are
printed (one line, no traceback)."""

import sys

# What a user can correct: bad values and files (ValueError), missing files,
# an unwritable workdir and failed downloads (OSError), a diverged run.
USER_ERRORS = (ValueError, OSError, FloatingPointError)


def error_line(error) -> str:
    """The one line the command line prints for `error`."""
    return "error: " + " ".join(str(error).split())


def parse_flags(argv, flag_values=None):
    """absl's flag parsing, but a bad flag (`--model=vae`, `--batch_size=x`,
    an unknown flag) ends the program with one line naming it, the value
    received and what was expected, as every other error does."""
    from absl import flags

    fv = flags.FLAGS if flag_values is None else flag_values
    try:
        return fv(argv)
    except flags.Error as error:
        sys.exit(error_line(error) + " (--helpfull lists the flags)")


def format_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings on the command line: one line each, `warning: ...`, like
    errors (not Python's file, line and source line)."""
    return "warning: " + " ".join(str(message).split()) + "\n"
