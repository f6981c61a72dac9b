"""What the benchmarks that keep a section of `benchmarks/RESULTS.md` share:
their JSON-lines results and the marked section they rewrite."""

import json
import os


def read_jsonl(path) -> list:
    """The records of a JSON-lines file; [] if it does not exist yet.

    Example:

    >>> read_jsonl("/no/such/file.jsonl")
    []
    """
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def replace_section(path, begin: str, end: str, block: str, skeleton: str) -> str:
    """Replaces the text of `path` from the marker `begin` to the marker
    `end` with `block` (which holds both markers), keeping the text around
    them; the first time, appends `skeleton + block`. Returns `path`.

    Example:

    ```python
    replace_section("benchmarks/RESULTS.md", BEGIN, END, results_block(records), "## My benchmark\n\n")
    ```
    """
    text = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + skeleton + block + "\n"
    with open(path, "w") as f:
        f.write(text)
    return path
