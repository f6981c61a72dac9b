"""PyTorch: eager execution, gradients from `torch.autograd.grad`."""

import keras
import torch

from keras_wgan.trainers.base import BackendTrainer


class TorchTrainer(BackendTrainer):
    def make_seed_generator(self, seed, name):
        return keras.random.SeedGenerator(seed, name=name)

    def train_step(self, data):
        return self._wgan_train_step(data)

    def test_step(self, data):
        with torch.no_grad():
            return self._wgan_test_step(data)

    def _minimize(self, loss_fn, variables, optimizer):
        loss, aux = loss_fn()
        values = [v.value for v in variables]
        if not values:  # e.g. a fixed generator: nothing to train
            return loss.detach(), keras.tree.map_structure(_detach, aux)
        # `autograd.grad` differentiates only with respect to `variables`:
        # the critic's parameters get no gradient from the generator's loss.
        grads = torch.autograd.grad(loss, values, allow_unused=True)
        grads = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, values)]
        with torch.no_grad():
            optimizer.apply(grads, variables)
        return loss.detach(), keras.tree.map_structure(_detach, aux)

    def _without_gradient(self, fn):
        # No autograd graph at all, rather than one cut off afterwards.
        with torch.no_grad():
            return fn()

    def _input_gradient(self, fn, x):
        # enable_grad: also under evaluate(), which runs without gradients.
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            # create_graph: the penalty on this gradient is differentiated again.
            (gradient,) = torch.autograd.grad(fn(x).sum(), x, create_graph=True)
        return gradient

    def _repeat(self, n, body, unroll):
        for i in range(n):  # eager: a loop is what unrolling compiles to
            body(i)

    def _run_if(self, pred, fn):
        if bool(pred):
            fn()

    def _check_labels(self, labels, num_classes, message):
        if len(labels) and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
            bad = labels[(labels < 0) | (labels >= num_classes)][0]
            raise ValueError(f"{message} Received: label {int(bad)}.")
        return labels

    def _check_splits(self, real, n, message):
        return real  # Shapes are static in eager mode: checked before this is called.


def _detach(value):
    return value.detach() if isinstance(value, torch.Tensor) else value
