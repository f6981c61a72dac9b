"""A hand-written WGAN in pure PyTorch, in the style of the reference
implementation (martinarjovsky/WassersteinGAN, `main.py`): `nn.Module`
networks in NCHW, RMSProp, `backward()`, `zero_grad()`, the
generator run under `no_grad` for the critic's fakes, the critic's
`requires_grad` switched off for the generator update, weights clamped in
place.

Three differences from `main.py`, all to compute what `keras_wgan.WGAN`
computes: weights are clamped after each critic update rather than before
it (the generator update sees a clipped critic); the critic minimizes
`mean f(fake) - mean f(real)` (the paper's sign; `main.py` flips it and
maximizes); and RMSProp adds its epsilon under the square root, as Keras
does (`RMSprop` below, a `torch.optim.Optimizer` of `torch._foreach` ops).
`torch.optim.RMSprop(eps=1e-8)` adds it after the root, which changes the
steps of the small gradients of a clipped critic (|g| ~ 1e-8) by ~10%, and
the agreement check could then not be tight; both cost the same.
"""

import numpy as np
import torch
from torch import nn

from benchmarks import networks

LEARNING_RATE, RHO, EPSILON = 5e-5, 0.99, 1e-16


class RMSprop(torch.optim.Optimizer):
    """RMSProp as Keras computes it: `v = rho v + (1 - rho) g^2`,
    `w -= lr g / sqrt(v + epsilon)`, all parameters at once."""

    def __init__(self, params, lr=LEARNING_RATE, rho=RHO, epsilon=EPSILON):
        super().__init__(params, dict(lr=lr, rho=rho, epsilon=epsilon))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = [p.grad for p in params]
            slots = []
            for p in params:
                if "square_avg" not in self.state[p]:
                    self.state[p]["square_avg"] = torch.zeros_like(p)
                slots.append(self.state[p]["square_avg"])
            torch._foreach_mul_(slots, group["rho"])
            torch._foreach_addcmul_(slots, grads, grads, value=1 - group["rho"])
            denominators = torch._foreach_add(slots, group["epsilon"])
            torch._foreach_sqrt_(denominators)
            torch._foreach_addcdiv_(params, grads, denominators, value=-group["lr"])


class _LatentToImage(nn.Module):
    def forward(self, x):
        return x.view(x.shape[0], x.shape[1], 1, 1)


def build(layers) -> nn.Sequential:
    """An `nn.Sequential` of `layers` (NCHW)."""
    modules = []
    for layer in layers:
        kind = layer.kind
        if kind == "dense":
            modules.append(nn.Linear(layer.inputs, layer.outputs))
        elif kind in ("conv", "conv_transpose"):
            cls = nn.Conv2d if kind == "conv" else nn.ConvTranspose2d
            modules.append(
                cls(layer.inputs, layer.outputs, layer.kernel, layer.stride, layer.padding,
                    bias=False)
            )
        elif kind == "batch_norm":
            modules.append(
                nn.BatchNorm2d(layer.outputs, eps=networks.BATCH_NORM_EPSILON,
                               momentum=networks.BATCH_NORM_MOMENTUM)
            )
        elif kind == "relu":
            modules.append(nn.ReLU(inplace=True))
        elif kind == "leaky_relu":
            modules.append(nn.LeakyReLU(networks.LEAKY_SLOPE, inplace=True))
        elif kind == "tanh":
            modules.append(nn.Tanh())
        elif kind == "latent_to_image":
            modules.append(_LatentToImage())
        elif kind == "flatten":
            modules.append(nn.Flatten())
    return nn.Sequential(*modules)


def _tensors(module):
    """The module's tensors in Keras's weight order."""
    tensors = []
    for m in module:
        if isinstance(m, nn.Linear):
            tensors += [m.weight, m.bias]
        elif isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            tensors += [m.weight]
        elif isinstance(m, nn.BatchNorm2d):
            tensors += [m.weight, m.bias, m.running_mean, m.running_var]
    return tensors


def _to_torch_layout(value):
    if value.ndim == 2:  # dense (in, out) -> (out, in)
        return value.T
    if value.ndim == 4:  # conv HWIO -> OIHW; transposed (h, w, out, in) -> (in, out, h, w)
        return value.transpose(3, 2, 0, 1)
    return value


def _to_keras_layout(value):
    if value.ndim == 2:
        return value.T
    if value.ndim == 4:
        return value.transpose(2, 3, 1, 0)
    return value


def load(module, weights):
    with torch.no_grad():
        for tensor, value in zip(_tensors(module), weights, strict=True):
            value = torch.from_numpy(np.ascontiguousarray(_to_torch_layout(value)))
            tensor.copy_(value.to(tensor.device))


class Reference:
    """The pure-PyTorch WGAN of `workload`, from Keras-layout weights. Same
    interface as `benchmarks.reference_jax.Reference`."""

    framework = "torch"

    def __init__(self, workload, generator_weights, critic_weights, seed=0, device=None):
        self.workload = workload
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.netG = build(networks.generator_layers(workload)).to(self.device).train()
        self.netD = build(networks.critic_layers(workload)).to(self.device).train()
        self.load_weights(generator_weights, critic_weights, seed)
        self.noise = torch.empty(
            workload.batch_size, workload.latent_dim, device=self.device
        )

    def load_weights(self, generator_weights, critic_weights, seed=0):
        """Starts again from these weights, with fresh optimizer slots and noise."""
        torch.manual_seed(seed)
        load(self.netG, generator_weights)
        load(self.netD, critic_weights)
        self.optimizerG = RMSprop(self.netG.parameters())
        self.optimizerD = RMSprop(self.netD.parameters())

    def prepare(self, batch: np.ndarray) -> torch.Tensor:
        """A real batch as a PyTorch DataLoader hands it over: NCHW, host memory."""
        tensor = torch.from_numpy(np.ascontiguousarray(batch))
        if tensor.ndim == 4:
            tensor = tensor.permute(0, 3, 1, 2).contiguous()
        return tensor

    def _noise(self, noise, i):
        if noise is None:
            return self.noise.normal_(0, 1)
        return noise[i]

    def _train(self, batch, noise=None):
        n, c = self.workload.n_critic, self.workload.clip_value
        netG, netD = self.netG, self.netD
        batch = batch.to(self.device, non_blocking=True)
        reals = batch.view((n, -1) + tuple(batch.shape[1:]))
        errD_values = []
        for p in netD.parameters():
            p.requires_grad = True
        for i in range(n):
            netD.zero_grad()
            errD_real = netD(reals[i]).mean()
            with torch.no_grad():
                fake = netG(self._noise(noise, i))
            errD_fake = netD(fake).mean()
            errD = errD_fake - errD_real
            errD.backward()
            self.optimizerD.step()
            for p in netD.parameters():
                p.data.clamp_(-c, c)
            errD_values.append(errD.detach())
        for p in netD.parameters():
            p.requires_grad = False  # no gradient for the critic
        netG.zero_grad()
        errG = -netD(netG(self._noise(noise, n))).mean()
        errG.backward()
        self.optimizerG.step()
        # Logging to the host, as the reference does every iteration.
        return torch.stack(errD_values).cpu().numpy(), errG.item()

    def step(self, batch):
        return self._train(batch)

    def step_with_noise(self, batch, noise):
        return self._train(batch, torch.as_tensor(np.asarray(noise), device=self.device))

    def weights(self):
        return tuple(
            [_to_keras_layout(t.detach().cpu().numpy()) for t in _tensors(m)]
            for m in (self.netG, self.netD)
        )

    def peak_device_memory(self):
        if self.device.type != "cuda":
            return None
        return torch.cuda.max_memory_allocated(self.device)
