"""Speed of keras_wgan against hand-written WGANs in JAX, PyTorch and TensorFlow.

Run everything: `python -m benchmarks.run --out benchmarks/results.jsonl`
(see benchmarks/RESULTS.md)."""
