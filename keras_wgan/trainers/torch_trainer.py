"""PyTorch: eager execution, gradients from `torch.autograd.grad`; under a
`torch.distributed` process group (`keras_wgan/distribution/torch_engine.py`)
each process is one replica, and the step all-reduces what it must."""

import keras
import torch
import torch.distributed as dist

from keras_wgan.trainers import torch_layers
from keras_wgan.trainers import torch_updates
from keras_wgan.trainers.base import BackendTrainer


class TorchTrainer(BackendTrainer):
    def make_seed_generator(self, seed, name):
        return keras.random.SeedGenerator(seed, name=name)

    def fit(self, *args, **kwargs):
        self._start_in_sync = True
        return super().fit(*args, **kwargs)

    def train_step(self, data):
        if getattr(self, "_start_in_sync", False):
            self._start_in_sync = False
            if _world_size() > 1:
                self._broadcast_from_first_replica()
        # Images as a channels-first network takes them fastest (one copy
        # of the batch, as a PyTorch loader's NCHW batch): the DCGAN
        # networks' convolutions are channels-first on PyTorch.
        data = keras.tree.map_structure(torch_layers.in_memory_order_of_channels_first, data)
        return self._wgan_train_step(data)

    def _broadcast_from_first_replica(self):
        """Process 0's state on every process, at the first step of each
        `fit` (as DistributedDataParallel broadcasts its parameters when
        made): the weights, the optimizers' state, the counters and the
        noise's seed state. The replicas' updates are all-reduced, so
        replicas that start alike stay alike; without this, processes that
        initialised or seeded differently (`seed=None`) would train apart."""
        variables = list(self.variables)
        seen = {id(v) for v in variables}
        variables += [v for v in self.optimizer.variables if id(v) not in seen]
        values = [v.value.detach().contiguous() for v in variables]
        # evaluate()'s noise starts alike too (a NumPy copy of its seed state).
        evaluation_start = getattr(self, "_evaluation_seed_start", None)
        if evaluation_start is not None:
            values.append(torch.as_tensor(evaluation_start, device=values[0].device).contiguous())
        # One buffer of bytes: every dtype (int64 seed states too) in one broadcast.
        buffer = torch.cat([value.reshape(-1).view(torch.uint8) for value in values])
        dist.broadcast(buffer, src=0)
        sizes = [value.numel() * value.element_size() for value in values]
        parts = torch.split(buffer, sizes)  # copies: a view as int64 needs an aligned offset
        parts = [part.clone().view(value.dtype).view(value.shape) for value, part in zip(values, parts)]
        with torch.no_grad():
            for variable, part in zip(variables, parts):
                variable.assign(part)
        if evaluation_start is not None:
            self._evaluation_seed_start = parts[-1].cpu().numpy()

    def test_step(self, data):
        with torch.no_grad():
            return self._wgan_test_step(data)

    def _minimize(self, loss_fn, variables, optimizer):
        loss, aux = loss_fn()
        values = [v.value for v in variables]
        grads = []
        if values:  # none: e.g. a fixed generator, nothing to train
            # `autograd.grad` differentiates only with respect to `variables`:
            # the critic's parameters get no gradient from the generator's loss.
            grads = torch.autograd.grad(loss, values, allow_unused=True)
            grads = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, values)]
        loss, aux = loss.detach(), keras.tree.map_structure(_detach, aux)
        if _world_size() > 1:
            # The replicas' means, in one all-reduce: the gradients (each a
            # replica's mean over its equal part, so their mean is the
            # gradient of the global batch's mean), the loss and the scalar
            # entries of `aux` (what the metrics log).
            flat = keras.tree.flatten(aux)
            scalars = [i for i, x in enumerate(flat) if isinstance(x, torch.Tensor) and x.ndim == 0]
            reduced = _all_reduce_mean([*grads, loss, *(flat[i] for i in scalars)])
            grads, loss = reduced[: len(grads)], reduced[len(grads)]
            for i, x in zip(scalars, reduced[len(grads) + 1 :]):
                flat[i] = x
            aux = keras.tree.pack_sequence_as(aux, flat)
        if values:
            with torch.no_grad():
                torch_updates.apply_gradients(optimizer, grads, variables)
            if not getattr(optimizer, "_keras_wgan_laid_out", False):  # built by its first apply
                torch_layers.lay_out_like_kernels(optimizer, [v for v in variables if _laid_out(v)])
                optimizer._keras_wgan_laid_out = True
        return loss, aux

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

    # Distribution: each process of a torch.distributed group is a replica.

    def _replica(self):
        world = _world_size()
        return (dist.get_rank(), world) if world > 1 else (0, 1)

    def _replicas_mean(self, values):
        if _world_size() == 1:
            return values
        return _all_reduce_mean([keras.ops.convert_to_tensor(v, "float32") for v in values])

    def _gather(self, x):
        world = _world_size()
        if world == 1:
            return x
        x = keras.ops.convert_to_tensor(x).detach().contiguous()
        parts = [torch.empty_like(x) for _ in range(world)]
        dist.all_gather(parts, x)
        return torch.cat(parts, dim=0)

    def _speed_up_layer(self, layer):
        # Stock layers only, patched per instance (torch_layers): what
        # they compute, their config and their weights' shapes stay Keras's.
        if isinstance(layer, keras.layers.BatchNormalization):
            # Replicas need Keras's path: its `_moments` is synchronized.
            torch_layers.fuse_batch_norm(layer, fallback_when=lambda: _world_size() > 1)
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            torch_layers.lay_out_kernel(layer.kernel)
        if isinstance(layer, keras.layers.Conv2DTranspose):
            torch_layers.crop_in_kernel(layer)

    def _synchronize_batch_norm(self, layer):
        if getattr(layer, "_keras_wgan_synchronized", False):
            return  # already patched: calling twice changes nothing
        keras_moments = layer._moments

        def moments(inputs, mask):
            world = _world_size()
            if world == 1 or mask is not None:
                return keras_moments(inputs, mask)
            return _global_moments(inputs, layer._reduction_axes, world)

        # The instance's method, not its config: saving, cloning and
        # one-process training are unchanged.
        layer._moments = moments
        layer._keras_wgan_synchronized = True


def _laid_out(variable):
    value = variable.value
    return value.ndim == 4 and value.permute(3, 2, 0, 1).is_contiguous() and not value.is_contiguous()


def _detach(value):
    return value.detach() if isinstance(value, torch.Tensor) else value


def _world_size():
    """The default process group's size, 1 without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def _all_reduce_mean(tensors):
    """The replicas' mean of each tensor: one flat buffer (per dtype) in
    one all-reduce, rather than one collective per tensor."""
    out = list(tensors)
    by_dtype = {}
    for i, tensor in enumerate(tensors):
        by_dtype.setdefault(tensor.dtype, []).append(i)
    world = dist.get_world_size()
    for indices in by_dtype.values():
        buffer = torch.cat([tensors[i].reshape(-1) for i in indices])
        dist.all_reduce(buffer)
        buffer = buffer / world
        for i, part in zip(indices, torch.split(buffer, [tensors[i].numel() for i in indices])):
            out[i] = part.view(tensors[i].shape)
    return out


class _AllReduceSum(torch.autograd.Function):
    """The sum of `x` over the replicas, differentiable (also twice: a
    gradient penalty differentiates a gradient): the gradient of each
    replica's `x` is the sum of every replica's gradient of the result.
    (`torch.distributed.nn.functional.all_reduce`, the same, is deprecated
    for `_functional_collectives`, which is private.)"""

    @staticmethod
    def forward(ctx, x):
        x = x.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(x)
        return x

    @staticmethod
    def backward(ctx, gradient):
        return _AllReduceSum.apply(gradient)


def _global_moments(inputs, axes, world):
    """The mean and variance of `inputs` over `axes` and over every
    replica's samples (equal parts), differentiably: the sums are
    all-reduced by `_AllReduceSum`, so each replica's samples get the
    gradient of every replica's loss. As Keras computes moments on torch
    (`ops.moments`): the mean, and the mean of squares less the squared
    mean."""
    axes = tuple(axes)
    count = 1
    for axis in axes:
        count *= inputs.shape[axis]
    sums = torch.stack([torch.sum(inputs, dim=axes), torch.sum(torch.square(inputs), dim=axes)])
    sums = _AllReduceSum.apply(sums) / (count * world)
    mean, mean_of_squares = sums[0], sums[1]
    return mean, mean_of_squares - torch.square(mean)
