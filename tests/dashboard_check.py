"""Opens a training run's TensorBoard dashboard the way a user does, and checks it.

    python -m tests.dashboard_check runs/wgan --screenshot=dashboard.png

For a working directory of `python -m keras_wgan.train` (it reads the run's
`config.json`), this

1. starts `tensorboard --logdir <workdir>/logs --host 127.0.0.1 --port <free port>`
   (the TensorBoard installed beside this Python) and waits until it answers;
2. checks through TensorBoard's HTTP data API (the routes its web page reads:
   `/data/runs`, `/data/plugin/{scalars,images,histograms}/tags`,
   `/data/plugin/scalars/scalars`, `/data/plugin/images/images`,
   `/data/plugin/histograms/histograms`) that the run `train` holds every tag
   `keras_wgan.callbacks.Monitor` writes for that run, each with a point at
   every generator iteration where the Monitor writes one (`expected_points`),
   and no other tag; that the images are PNGs and the histograms have buckets;
3. with `screenshot=`, loads the Time Series page (`#timeseries`, filtered by
   a tag regex in the URL's `tagFilter`) in headless Chromium, driven over the
   DevTools protocol on a pipe (standard library only), waits until every
   card of the filter has drawn its data (each scalar card's curve has a
   vertex per point, each image has loaded at the last step), saves a PNG of
   the page and checks it is not blank: each curve's colour is on its chart
   and each image holds more than a few colours;
4. always stops TensorBoard (and Chromium).

`check_dashboard(workdir, screenshot=...)` does the same from Python and
returns what it saw (`{"tags": {plugin: {tag: [steps]}}, ...}`); a
mismatch raises `DashboardError` naming the tags and steps.
"""

import argparse
import base64
import json
import math
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

RUN = "train"
EVAL_RUN = "eval"  # the image metrics of keras_wgan.train, beside its metrics.jsonl
# keras_wgan.data.toy2d's distributions (not imported: this script needs
# neither Keras nor a backend); names compare as toy2d compares them.
TOY_DATASETS = ("8gaussians", "25gaussians", "swissroll")
# Tag filters (regular expressions) of the Time Series page: the Wasserstein
# estimate and the images; on 2-D data also the Lipschitz diagnostics and
# the evaluation.
IMAGE_FILTER = r"^(wasserstein_estimate|samples|(fid|kid|is|precision|recall|sliced_w)/.*)$"
TOY_FILTER = (r"^(wasserstein_estimate|critic|evaluation/w1|evaluation/mode_coverage/modes_covered"
              r"|clipped_fraction/.*|input_gradient_norm/(real|generated|interpolated)_mean)$")
# The points per tag that TensorBoard 2.21 serves of a longer series (a
# sample that keeps the last point): its data server keeps 1000 scalars and
# 10 images by default (--samples_per_plugin changes that), and the
# histograms route always samples 51 (histograms_plugin.SAMPLE_SIZE).
# Measured: 1,200 scalars, 20 images and 600 histograms come back as 1000,
# 10 and 51.
SAMPLES_KEPT = {"scalars": 1000, "images": 10, "histograms": 51}
# Scalars that may be NaN: the mode coverage's reverse KL when no sample is
# high quality (keras_wgan.metrics.mode_coverage says so), early in a run.
MAY_BE_NAN = ("evaluation/mode_coverage/reverse_kl",)


class DashboardError(AssertionError):
    """The dashboard does not show what the run should have written."""


# ----------------------------------------------------------- expectations

def _steps(every, last, first=None):
    """Generator iterations of a Monitor series: every `every`-th, the last
    one (`on_train_end`), and `first` (0: the state before training)."""
    steps = set(range(every, last + 1, every)) | {last}
    if first is not None:
        steps.add(first)
    return sorted(steps)


def expected_points(config) -> dict:
    """`{plugin: {tag: [steps]}}` that `Monitor` writes to the run `train`
    of a finished `keras_wgan.train` run with the resolved configuration
    `config` (a dict, as in `config.json`). A tag ending in `/*` stands for
    one or more tags under that prefix (one per critic layer or variable),
    each with those steps.

    >>> expected_points(dict(generator_iterations=20, log_every=5, diagnostics_every=50,
    ...     sample_every=10, dataset="8gaussians", lipschitz="clip", model="wgan"))["images"]
    {'critic': [0, 10, 20]}
    """
    if config.get("model", "wgan") != "wgan":
        raise ValueError("expected_points knows the tags of --model=wgan only. "
                         f"Received: {config['model']!r}")
    last = int(config["generator_iterations"])
    toy = _is_toy(config["dataset"])
    metrics = _steps(config["log_every"], last)
    diagnostics = _steps(config["diagnostics_every"], last, first=0)
    images = _steps(config["sample_every"], last, first=0)
    scalars = {tag: metrics for tag in (
        "wasserstein_estimate", "critic_loss", "generator_loss", "learning_rate/generator",
        "learning_rate/critic", "time/seconds_per_generator_iteration")}
    if config["lipschitz"] in ("gp", "lp"):
        scalars["gradient_penalty"] = metrics
    if config["lipschitz"] == "clip":
        scalars["clipped_fraction/*"] = diagnostics
    for where in ("real", "generated", "interpolated"):
        for stat in ("mean", "max"):
            scalars[f"input_gradient_norm/{where}_{stat}"] = diagnostics
    if toy:  # the training program evaluates W1 (and the mode coverage) on 2-D data
        evaluation = _steps(config["sample_every"], last)
        scalars["evaluation/w1"] = evaluation
        if _toy_name(config["dataset"]) != "swissroll":  # the Gaussians have modes
            for name in ("modes_covered", "num_modes", "high_quality_fraction", "reverse_kl"):
                scalars[f"evaluation/mode_coverage/{name}"] = evaluation
    return {
        "scalars": scalars,
        "images": {("critic" if toy else "samples"): images},
        "histograms": {"critic_weights/*": diagnostics},
    }


def _toy_name(dataset):
    return dataset.lower().replace("_", "").replace("-", "")


def _is_toy(dataset):
    return _toy_name(dataset) in TOY_DATASETS


def _shown(steps, plugin):
    """The steps TensorBoard serves of a series written at `steps`: all of
    them, or (beyond its default sample count) that many, with the last."""
    return steps if len(steps) <= SAMPLES_KEPT[plugin] else None


def compare(expected, observed) -> list:
    """Differences between `expected_points` and what TensorBoard serves,
    `{plugin: {tag: [steps]}}`, as sentences (none: they agree)."""
    problems = []
    for plugin, tags in expected.items():
        seen = dict(observed.get(plugin, {}))
        for pattern, steps in tags.items():
            if pattern.endswith("/*"):
                names = sorted(t for t in seen if t.startswith(pattern[:-1]))
                if not names:
                    problems.append(f"{plugin}: no tag {pattern}")
            else:
                names = [pattern] if pattern in seen else []
                if not names:
                    problems.append(f"{plugin}: no tag {pattern!r}")
            for name in names:
                got = seen.pop(name)
                want = _shown(steps, plugin)
                if want is None:  # downsampled by TensorBoard
                    kept = SAMPLES_KEPT[plugin]
                    if len(got) != kept or got[-1] != steps[-1] or not set(got) <= set(steps):
                        problems.append(f"{plugin}: {name!r} shows steps {_brief(got)}; expected "
                                        f"{kept} of {_brief(steps)} with the last")
                elif got != want:
                    missing = sorted(set(want) - set(got))
                    extra = sorted(set(got) - set(want))
                    problems.append(
                        f"{plugin}: {name!r} has {len(got)} points at {_brief(got)}; expected {len(want)} "
                        f"at {_brief(want)} (missing {_brief(missing)}, unexpected {_brief(extra)})")
        for name in sorted(seen):
            problems.append(f"{plugin}: unexpected tag {name!r} ({len(seen[name])} points)")
    if "clipped_fraction/*" in expected.get("scalars", {}):
        # Each clipped layer's weights have their histograms.
        layers = [t[len("clipped_fraction/"):] for t in observed.get("scalars", {})
                  if t.startswith("clipped_fraction/")]
        for layer in layers:
            if not any(t.startswith(f"critic_weights/{layer}/") for t in observed.get("histograms", {})):
                problems.append(f"histograms: no critic_weights/{layer}/... for clipped_fraction/{layer}")
    return problems


def _brief(steps):
    steps = list(steps)
    if len(steps) <= 8:
        return str(steps)
    return f"[{', '.join(map(str, steps[:3]))}, ..., {', '.join(map(str, steps[-3:]))}]"


# ------------------------------------------------------------ TensorBoard

def tensorboard_command():
    """The `tensorboard` installed beside this Python (the venv's)."""
    script = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "tensorboard.main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TensorBoard:
    """`tensorboard --logdir <logdir>` on a free local port, for a `with`
    block; stopped when it ends.

    Example:

    ```python
    with TensorBoard("runs/wgan/logs") as board:
        board.get("/data/runs")   # ["train"]
    ```
    """

    def __init__(self, logdir, port=None, timeout=60, wait=True):
        self.logdir = os.fspath(logdir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timeout = timeout
        self.wait = wait
        self.process = None
        self._answered = False

    def __enter__(self):
        """Starts TensorBoard, and with `wait` waits until it answers (else
        the first `get` does: the caller can work meanwhile)."""
        self._log = tempfile.TemporaryFile()
        command = [*tensorboard_command(), "--logdir", self.logdir,
                   "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        if self.wait:
            try:
                self.ready()
            except BaseException:
                self.stop()
                raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def ready(self):
        """Waits until TensorBoard answers (at most `timeout` seconds)."""
        deadline = time.monotonic() + self.timeout
        while not self._answered:
            if self.process.poll() is not None:
                raise DashboardError(f"tensorboard exited with status {self.process.returncode}:\n{self.log()}")
            try:
                self._get("/data/runs", timeout=2)
                self._answered = True
            except (OSError, ValueError):
                if time.monotonic() > deadline:
                    raise DashboardError(f"tensorboard did not answer at {self.url} within "
                                         f"{self.timeout} s:\n{self.log()}") from None
                time.sleep(0.25)

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    def get(self, route, timeout=10, raw=False):
        """The answer to a GET of `route` (JSON, or bytes with `raw`)."""
        self.ready()
        return self._get(route, timeout, raw)

    def _get(self, route, timeout=10, raw=False):
        with urllib.request.urlopen(self.url + route, timeout=timeout) as response:
            body = response.read()
        return body if raw else json.loads(body)

    def stop(self):
        """Stops TensorBoard (its data server exits when TensorBoard's pipe
        to it closes)."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
        self._log.close()


def served_points(board, run=RUN) -> dict:
    """`{plugin: {tag: [steps]}}` of `run`, as TensorBoard's HTTP API serves them."""
    quote = urllib.parse.quote
    points = {}
    for plugin, route in (("scalars", "scalars"), ("images", "images"), ("histograms", "histograms")):
        tags = board.get(f"/data/plugin/{plugin}/tags").get(run, {})
        points[plugin] = {}
        for tag in tags:
            query = f"?run={quote(run)}&tag={quote(tag)}" + ("&sample=0" if plugin == "images" else "")
            data = board.get(f"/data/plugin/{plugin}/{route}{query}")
            if plugin == "images":
                points[plugin][tag] = [entry["step"] for entry in data]
            else:  # [wall_time, step, value] rows
                points[plugin][tag] = [row[1] for row in data]
    return points


def check_api(board, expected, timeout=60, run=RUN) -> dict:
    """Waits until TensorBoard serves the run's `expected` points (it loads
    event files in the background) and checks what it serves; returns
    `{plugin: {tag: [steps]}}` and `{tag: [steps]}` of the scalars that are
    not finite (only `MAY_BE_NAN` may be). Raises `DashboardError` if they still
    differ after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        runs = board.get("/data/runs")
        observed = served_points(board, run) if run in runs else {}
        problems = compare(expected, observed) if run in runs else [f"no run {run!r} (runs: {runs})"]
        if not problems:
            break
        if time.monotonic() > deadline:
            raise DashboardError(
                "TensorBoard does not show what the Monitor writes:\n  " + "\n  ".join(problems))
        time.sleep(1)
    problems = []
    quote = urllib.parse.quote
    for tag, steps in observed["images"].items():
        data = board.get(f"/data/plugin/images/images?run={quote(run)}&tag={quote(tag)}&sample=0")
        png = board.get("/data/plugin/images/individualImage?" + data[-1]["query"], raw=True)
        if not png.startswith(b"\x89PNG\r\n\x1a\n") or len(png) < 200:
            problems.append(f"images: {tag!r} at step {steps[-1]} is not a PNG ({len(png)} bytes)")
    for tag in observed["histograms"]:
        rows = board.get(f"/data/plugin/histograms/histograms?run={quote(run)}&tag={quote(tag)}")
        for _, step, buckets in rows:
            if not buckets or not all(len(b) == 3 and b[0] <= b[1] and b[2] >= 0 for b in buckets):
                problems.append(f"histograms: {tag!r} at step {step} has no buckets: {buckets!r}"[:300])
    not_finite = {}
    for tag in observed["scalars"]:
        rows = board.get(f"/data/plugin/scalars/scalars?run={quote(run)}&tag={quote(tag)}")
        # JSON has no NaN: TensorBoard sends "NaN", "Infinity" as strings.
        bad = [row[1] for row in rows if not math.isfinite(float(row[2]))]
        if bad:
            not_finite[tag] = bad
            if tag not in MAY_BE_NAN:
                problems.append(f"scalars: {tag!r} is not finite at steps {_brief(bad)}")
    if problems:
        raise DashboardError("TensorBoard serves bad data:\n  " + "\n  ".join(problems))
    return observed, not_finite


# ------------------------------------------------------------- Chromium

def find_chromium():
    """A Chromium or Chrome binary ($CHROMIUM first), or None."""
    names = [os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome",
             "google-chrome-stable", "chrome"]
    for name in filter(None, names):
        path = shutil.which(name)
        if path:
            return path
    return None


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe
    (`--remote-debugging-pipe`: JSON messages ending in a NUL byte, on
    file descriptors 3 and 4 of Chromium), so that no websocket client is
    needed. Use in a `with` block; `close()` ends the browser."""

    def __init__(self, binary=None, timeout=30):
        self.binary = binary or find_chromium()
        if self.binary is None:
            raise FileNotFoundError("no chromium binary (install chromium, or set $CHROMIUM)")
        self.timeout = timeout
        self.process = None

    def __enter__(self):
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="dashboard_chromium_")
        self._log = tempfile.TemporaryFile()
        command = [
            self.binary, "--headless", "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
            # The page is a local TensorBoard; the sandbox fails as root and
            # in many containers.
            "--no-sandbox",
            # No GPU: TensorBoard then draws its charts as SVG, in the page,
            # where the screenshot sees them as soon as they are in the DOM.
            "--disable-gpu", "--disable-3d-apis",
            "--hide-scrollbars", "--mute-audio", "--no-first-run", "--no-default-browser-check",
            "about:blank",
        ]
        # Chromium reads fd 3 and writes fd 4: a small Python moves the pipes
        # there and becomes Chromium (moving them in a preexec_fn could
        # clobber subprocess's own error pipe).
        move = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
                "os.execv(sys.argv[3], sys.argv[3:])")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", move, str(to_browser_r), str(from_browser_w), *command],
                pass_fds=(to_browser_r, from_browser_w), stdin=subprocess.DEVNULL, stdout=self._log,
                stderr=subprocess.STDOUT)
        finally:
            os.close(to_browser_r)
            os.close(from_browser_w)
        self._write, self._read = to_browser_w, from_browser_r
        self._buffer, self._id = b"", 0
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, method, params=None, session=None, timeout=None):
        """Sends a DevTools command and returns its result (events are dropped)."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise DashboardError(f"chromium: {method} failed: {answer['error']}")
                return answer["result"]

    def _receive(self, deadline):
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise DashboardError(f"chromium did not answer in time:\n{self.log()}")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise DashboardError(f"chromium closed its pipe:\n{self.log()}")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def log(self):
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    def close(self):
        if self.process is None:
            return
        try:
            if self.process.poll() is None:
                self.send("Browser.close", timeout=10)
                self.process.wait(10)
        except (DashboardError, OSError, subprocess.TimeoutExpired):
            pass
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None
        for fd in (self._write, self._read):
            os.close(fd)
        self._log.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# What the Time Series page shows: each card's tag, kind, state and place.
_CARDS_JS = r"""
(() => {
  const cards = [];
  // The cards of the tag filter's view (the grouped view stays in the DOM,
  // hidden and not drawn, beside it).
  for (const card of document.querySelectorAll('metrics-filtered-view card-view')) {
    const title = card.querySelector('tb-truncated-path');
    const rect = card.getBoundingClientRect();
    const info = {tag: title ? title.getAttribute('title') : null,
                  rect: [rect.left, rect.top, rect.width, rect.height]};
    if (card.querySelector('scalar-card')) {
      info.kind = 'scalars';
      // One <path> per drawn series (the faint unsmoothed one and the
      // smoothed one), a vertex per point.
      info.series = [...card.querySelectorAll('.series-view path')].map(p => ({
        vertices: (p.getAttribute('d') || '').split(/[ML]/).filter(s => s.trim()).length,
        stroke: getComputedStyle(p).stroke, opacity: getComputedStyle(p).opacity}));
      const chart = card.querySelector('.series-view');
      if (chart) { const r = chart.getBoundingClientRect(); info.chart = [r.left, r.top, r.width, r.height]; }
    } else if (card.querySelector('image-card')) {
      info.kind = 'images';
      const img = card.querySelector('img');
      info.loaded = !!(img && img.complete && img.naturalWidth > 0);
      if (img) { const r = img.getBoundingClientRect(); info.image = [r.left, r.top, r.width, r.height]; }
      const step = (card.innerText.match(/Step\s+([0-9,]+)/) || [])[1];
      info.step = step ? Number(step.replace(/,/g, '')) : null;
    } else if (card.querySelector('histogram-card')) {
      info.kind = 'histograms';
      // One <g class="histogram"> per step drawn (with its outline <path>).
      info.drawn = card.querySelectorAll('tb-histogram g.histogram path').length;
    } else {
      info.kind = 'other';
    }
    cards.push(info);
  }
  const count = (document.body.innerText.match(/(\d+)\s+cards?/) || [])[1];
  return {cards, matching: count ? Number(count) : null,
          spinners: document.querySelectorAll('mat-spinner, mat-progress-spinner').length};
})()
"""


def _card_ready(card, expected):
    """Whether a card has drawn all its data (`expected`: `{plugin: {tag: [steps]}}` served)."""
    steps = expected.get(card["kind"], {}).get(card["tag"])
    if steps is None:
        return False
    if card["kind"] == "scalars":
        return bool(card["series"]) and max(s["vertices"] for s in card["series"]) == len(steps)
    if card["kind"] == "images":
        return card["loaded"] and card["step"] == steps[-1]
    if card["kind"] == "histograms":
        return card["drawn"] == len(steps)
    return False


def timeseries_url(base_url, tag_filter):
    return f"{base_url}/?{urllib.parse.urlencode({'tagFilter': tag_filter})}#timeseries"


def screenshot_timeseries(url, path, served, tag_filter, size=(1400, 1000), timeout=60, chromium=None):
    """Loads TensorBoard's Time Series page `url` in headless Chromium and,
    once every card of `tag_filter` has drawn the points TensorBoard
    serves (`served`, from `check_api`), saves a PNG of the page to `path`.
    Returns what the page showed: `{"cards": [...], "matching": n}`."""
    pattern = re.compile(tag_filter)
    wanted = sorted((plugin, tag) for plugin, tags in served.items() for tag in tags if pattern.search(tag))
    if not wanted:
        raise DashboardError(f"no tag matches the filter {tag_filter!r}")
    with Chromium(chromium) as browser:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        browser.send("Page.enable", session=session)
        width, height = size
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        # A first visit opens the settings pane beside the cards; a user
        # closes it once (TensorBoard keeps that in localStorage).
        settings = json.dumps({"timeSeriesSettingsPaneOpened": False})
        store = f"localStorage.setItem('_tb_global_settings', {json.dumps(settings)})"
        browser.send("Page.addScriptToEvaluateOnNewDocument",
                     {"source": f"try {{ {store}; }} catch (e) {{}}"}, session=session)
        browser.send("Page.navigate", {"url": url}, session=session)
        deadline = time.monotonic() + timeout
        previous = None
        while True:
            time.sleep(0.5)
            page = browser.send("Runtime.evaluate", {"expression": _CARDS_JS, "returnByValue": True},
                                session=session)["result"].get("value") or {"cards": []}
            shown = sorted((card["kind"], card["tag"]) for card in page["cards"])
            ready = (shown == wanted and not page["spinners"]
                     and all(_card_ready(card, served) for card in page["cards"]))
            if ready and page == previous:  # drawn, and the same twice in a row: settled
                break
            previous = page
            if time.monotonic() > deadline:
                _save_screenshot(browser, session, path)  # to see what it showed
                waiting = [f"{c['kind']} {c['tag']!r}" for c in page["cards"] if not _card_ready(c, served)]
                raise DashboardError(
                    f"the Time Series page did not finish loading in {timeout} s (its screenshot: "
                    f"{path}): cards shown {shown}, expected {wanted}; not drawn: {waiting}; "
                    f"spinners: {page['spinners']}")
        time.sleep(0.5)  # a frame to paint what the DOM holds
        _save_screenshot(browser, session, path)
    return page


def _save_screenshot(browser, session, path):
    png = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    with open(path, "wb") as f:
        f.write(base64.b64decode(png))


def check_screenshot(path, page, min_colours=300):
    """Checks that the screenshot is not blank nor a loading page: it has at
    least `min_colours` colours, each scalar card shows its curve's colour,
    and each image holds more than a few colours. Returns `{"colours": n}`."""
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(path).convert("RGB"))
    colours = len(np.unique(pixels.reshape(-1, 3), axis=0))
    problems = []
    if colours < min_colours:
        problems.append(f"{path} has {colours} colours (< {min_colours}): blank or still loading?")

    def crop(rect):
        left, top, width, height = (int(round(v)) for v in rect)
        return pixels[max(top, 0):top + height, max(left, 0):left + width].reshape(-1, 3)

    for card in page["cards"]:
        if card["kind"] == "scalars":
            solid = [s for s in card["series"] if float(s["opacity"]) == 1.0] or card["series"]
            stroke = [int(v) for v in re.findall(r"\d+", solid[-1]["stroke"])[:3]]
            region = crop(card["chart"]).astype(int)
            on_curve = int(np.sum(np.all(np.abs(region - stroke) <= 12, axis=1)))
            if on_curve < 20:
                problems.append(f"the {card['tag']!r} chart has {on_curve} pixels of its curve's colour {stroke}")
        elif card["kind"] == "images":
            image_colours = len(np.unique(crop(card["image"]), axis=0))
            if image_colours < 8:
                problems.append(f"the {card['tag']!r} image shows {image_colours} colours")
    if problems:
        raise DashboardError("the screenshot does not show the dashboard:\n  " + "\n  ".join(problems))
    return {"colours": colours}


# ------------------------------------------------------------------ all

def check_dashboard(workdir, screenshot=None, tag_filter=None, size=None, expected=None,
                    timeout=60, chromium=None) -> dict:
    """Opens `<workdir>/logs` in TensorBoard and checks it (see the module's
    docstring); with `screenshot` (a path), also the Time Series page.
    `expected` defaults to `expected_points` of the run's `config.json`.
    Returns `{"tags": {plugin: {tag: [steps]}}, "not_finite": {tag: [steps]},
    "url": ..., "seconds": {phase: seconds}, "page": ...,
    "screenshot": {"path": ..., "colours": ...}}`."""
    workdir = os.fspath(workdir)
    with open(os.path.join(workdir, "config.json")) as f:
        config = json.load(f)
    if expected is None:
        expected = expected_points(config)
    toy = _is_toy(config["dataset"])
    if tag_filter is None:
        tag_filter = TOY_FILTER if toy else IMAGE_FILTER
    evaluations = expected_evaluations(workdir)
    if size is None:
        # Every card of the filter must be on the page to be drawn: an image
        # run's evaluations add a row or two of charts.
        size = (1600, 1500) if toy else (1400, 800) if evaluations is None else (1400, 1250)
    result = {"seconds": {}}
    clock = time.monotonic()

    def lap(name):
        nonlocal clock
        now = time.monotonic()
        result["seconds"][name] = round(now - clock, 1)
        clock = now

    with TensorBoard(os.path.join(workdir, "logs"), timeout=timeout) as board:
        lap("tensorboard_start")
        result["tags"], result["not_finite"] = check_api(board, expected, timeout=timeout)
        shown = {plugin: dict(tags) for plugin, tags in result["tags"].items()}
        if evaluations is not None:
            result["eval_tags"], _ = check_api(board, evaluations, timeout=timeout, run=EVAL_RUN)
            shown["scalars"].update(result["eval_tags"]["scalars"])
        result["url"] = timeseries_url(board.url, tag_filter)
        lap("api")
        if screenshot is not None:
            page = screenshot_timeseries(result["url"], screenshot, shown, tag_filter, size=size,
                                         timeout=timeout, chromium=chromium)
            result["page"] = page
            result["screenshot"] = dict(path=os.fspath(screenshot), **check_screenshot(screenshot, page))
            lap("screenshot")
    lap("tensorboard_stop")
    return result


def expected_evaluations(workdir):
    """`{plugin: {tag: [steps]}}` of the run `eval` (image metrics), as the
    program's `metrics.jsonl` records them; None for a run without it."""
    path = os.path.join(os.fspath(workdir), "metrics.jsonl")
    if not os.path.exists(path):
        return None
    scalars = {}
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            for key, value in record.items():
                if key != "generator_iteration" and isinstance(value, (int, float)):
                    scalars.setdefault(key, []).append(record["generator_iteration"])
    return {"scalars": scalars, "images": {}, "histograms": {}}


def summary(tags) -> str:
    """One line per tag: plugin, tag, points, first and last step."""
    lines = []
    for plugin, series in tags.items():
        for tag, steps in sorted(series.items()):
            lines.append(f"{plugin:10s} {tag:50s} {len(steps):4d} points, steps {steps[0]}..{steps[-1]}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("workdir", help="a working directory of python -m keras_wgan.train")
    parser.add_argument("--screenshot", help="save a PNG of the Time Series page here (needs chromium)")
    parser.add_argument("--tag_filter", help="tag regex of the Time Series page (default: the estimate "
                        "and the images; on 2-D data also the diagnostics)")
    parser.add_argument("--size", help="window size WIDTHxHEIGHT of the screenshot")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.split("x")) if args.size else None
    start = time.monotonic()
    try:
        result = check_dashboard(args.workdir, args.screenshot, args.tag_filter, size, timeout=args.timeout)
    except DashboardError as error:
        print(f"FAILED: {error}", file=sys.stderr)
        return 1
    print(summary(result["tags"]))
    if "eval_tags" in result:
        print(f"run {EVAL_RUN} (as metrics.jsonl records it):\n" + summary(result["eval_tags"]))
    for tag, steps in result["not_finite"].items():
        print(f"not finite (allowed): {tag} at steps {_brief(steps)}")
    if "screenshot" in result:
        cards = ", ".join(f"{c['kind']}:{c['tag']}" for c in result["page"]["cards"])
        print(f"screenshot {result['screenshot']['path']} ({result['screenshot']['colours']} colours; "
              f"cards {cards})")
    phases = ", ".join(f"{name} {seconds} s" for name, seconds in result["seconds"].items())
    print(f"dashboard OK ({time.monotonic() - start:.1f} s: {phases}): {result['url']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
