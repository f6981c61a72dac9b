"""Scripts that reproduce the claims of the WGAN paper (Arjovsky, Chintala and
Bottou 2017) on a CPU, one per claim, each writing a figure and a table:

    python -m benchmarks.paper.example1         # Example 1: parallel lines
    python -m benchmarks.paper.figure2          # Figure 2: saturating D vs linear critic
    python -m benchmarks.paper.mode_collapse    # modes covered on 8 and 25 Gaussians
    python -m benchmarks.paper.meaningful_loss  # the critic's estimate vs W1 and FID
    python -m benchmarks.paper.diagnosis        # why targets are missed (WGAN-GP lambda, training length)

Tables go to `benchmarks/RESULTS.md`, figures to `benchmarks/paper/figures/`,
raw results (JSON lines) to `benchmarks/paper/results/`; a run already in
the results is not trained again (delete the file to redo it). `--quick`
trains for seconds, into `benchmarks/paper/quick/` unless `--out_dir`,
`--figure_dir` and `--report_md` say otherwise (tests/test_paper.py).
"""

import os
import tempfile

# JAX is the fastest backend for these small networks on a CPU. Set before
# any script imports Keras, which fixes its backend at import.
os.environ.setdefault("KERAS_BACKEND", "jax")
# Compiled training steps are kept between runs (a few seconds each).
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(tempfile.gettempdir(), "keras_wgan_paper_jax_cache"))
