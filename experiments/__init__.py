"""Scripts that reproduce the claims of the WGAN paper (Arjovsky, Chintala and
Bottou 2017) on a CPU, one per claim, each writing a figure and a table.
They ran on the JAX backend (the fastest for these small networks on a CPU;
the DCGAN of `mnist_dcgan` on TensorFlow: see its section),
which Keras takes from the environment:

    KERAS_BACKEND=jax python -m experiments.example1         # Example 1: parallel lines
    KERAS_BACKEND=jax python -m experiments.figure2          # Figure 2: saturating D vs linear critic
    KERAS_BACKEND=jax python -m experiments.mode_collapse    # modes covered on 8 and 25 Gaussians
    KERAS_BACKEND=jax python -m experiments.meaningful_loss  # the critic's estimate vs W1 and FID
    KERAS_BACKEND=jax python -m experiments.diagnosis        # why targets are missed (WGAN-GP lambda, training length)
    KERAS_BACKEND=tensorflow OMP_NUM_THREADS=1 python -m experiments.mnist_dcgan  # DCGAN on real MNIST: FID/KID, 3 methods x 3 seeds

Tables go to `experiments/RESULTS.md`, figures to `experiments/figures/`,
raw results (JSON lines) to `experiments/results/`; a run already in the
results is not trained again (delete the file to redo it). `--quick` trains
for seconds, into `experiments/quick/` unless `--out_dir`, `--figure_dir` and
`--report_md` say otherwise (tests/test_paper.py).

Importing this package or its modules changes no setting: the backend is the
environment's. To keep JAX's compiled training steps on disk between runs (a
few seconds each), name a folder in the environment as well, e.g.
`JAX_COMPILATION_CACHE_DIR=/tmp/jax_cache`.
"""
