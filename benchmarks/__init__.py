"""Speed of keras_wgan against hand-written WGANs in JAX, PyTorch and TensorFlow,
and what the TensorBoard Monitor costs a training run.

Run everything: `python -m benchmarks.run --out benchmarks/results.jsonl`
(see benchmarks/RESULTS.md). The paper's reproductions are in `experiments/`."""
