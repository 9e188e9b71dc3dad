r"""Reference network shapes from the snnTorch tutorials, parameterised by
their ``spike_grad`` so a surrogate and an estimator can be compared on the
same architecture."""

from __future__ import annotations

import math
from collections.abc import Callable

import snntorch as snn
import torch
from torch import nn

from snntorch_bayes.layers import BayesLinear
from snntorch_bayes.neurons import VariationalLeaky
from snntorch_bayes.surrogate import IWST

__all__ = ["BayesFCSpikingNet", "FCSpikingNet"]


class _TwoLayerNet(nn.Module):
    """The time loop of tutorial 5, shared by its deterministic and
    variational versions: subclasses build ``fc1, lif1, fc2, lif2``.  The
    input projection is computed once (the input is constant)."""

    fc1: nn.Module
    lif1: nn.Module
    fc2: nn.Module
    lif2: nn.Module

    def __init__(self, num_steps: int) -> None:
        super().__init__()
        if num_steps < 1:
            raise ValueError(f"num_steps must be in [1, inf), got {num_steps}")
        self.num_steps = num_steps

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        cur1 = self.fc1(x.flatten(1))
        mem1 = self.lif1.reset_mem()
        mem2 = self.lif2.reset_mem()
        spk_rec, mem_rec = [], []
        for _ in range(self.num_steps):
            spk1, mem1 = self.lif1(cur1, mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spk_rec.append(spk2)
            mem_rec.append(mem2)
        return torch.stack(spk_rec), torch.stack(mem_rec)


class FCSpikingNet(_TwoLayerNet):
    r"""The fully connected network of snnTorch tutorial 5:
    ``Linear(784, 1000) → Leaky → Linear(1000, 10) → Leaky``, run for
    ``num_steps`` steps on a constant input current.

    .. math::

        U^{(1)}_t = \beta U^{(1)}_{t-1} + W_1 x - \theta z^{(1)}_{t-1},\quad
        z^{(1)}_t = H(U^{(1)}_t - \theta),

    and likewise for the output layer fed by :math:`W_2 z^{(1)}_t`.  The
    input projection :math:`W_1 x` does not change across steps, so it is
    computed once (upstream recomputes it every step; the result is
    identical).

    Example::

        >>> import torch
        >>> from snntorch_bayes import surrogate
        >>> from snntorch_bayes.models import FCSpikingNet
        >>> net = FCSpikingNet(spike_grad=surrogate.iw_st(), num_steps=5)
        >>> spk, mem = net(torch.rand(2, 1, 28, 28))
        >>> spk.shape, mem.shape
        (torch.Size([5, 2, 10]), torch.Size([5, 2, 10]))

    :param spike_grad: ``spike_grad`` of both neuron layers (one shared
        object, as in the tutorial)
    :param num_inputs: input features. Defaults to 784
    :param num_hidden: hidden units. Defaults to 1000
    :param num_outputs: classes. Defaults to 10
    :param beta: membrane decay. Defaults to 0.95
    :param num_steps: time steps. Defaults to 25

    Inputs: x of shape ``[B, ...]`` (flattened to ``[B, num_inputs]``).
    Outputs: spikes and membrane of the output layer, each ``[T, B, C]``.
    """

    def __init__(
        self,
        spike_grad: Callable[[torch.Tensor], torch.Tensor] | None = None,
        num_inputs: int = 784,
        num_hidden: int = 1000,
        num_outputs: int = 10,
        beta: float = 0.95,
        num_steps: int = 25,
    ) -> None:
        super().__init__(num_steps)
        self.fc1 = nn.Linear(num_inputs, num_hidden)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad)
        self.fc2 = nn.Linear(num_hidden, num_outputs)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=spike_grad)


class BayesFCSpikingNet(_TwoLayerNet):
    r"""The tutorial-5 network as a spiking Bayesian neural network:
    ``BayesLinear(784, 1000) → VariationalLeaky → BayesLinear(1000, 10) →
    VariationalLeaky``, no normalisation.

    .. math::

        I^{(1)}_t \sim \mathcal N\bigl(\mu_1 x + \mu_{b_1},\ \sigma_1^2 x^2 + \sigma_{b_1}^2\bigr),
        \qquad
        I^{(2)}_t \sim \mathcal N\bigl(\mu_2 z^{(1)}_t + \mu_{b_2},\
        \sigma_2^2 z^{(1)}_t + \sigma_{b_2}^2\bigr),

    with fresh noise every step.  The input is constant, so its mean and
    variance are projected once (hoisted out of the time loop).

    Example::

        >>> import torch
        >>> from snntorch_bayes.models import BayesFCSpikingNet
        >>> net = BayesFCSpikingNet(num_steps=5)
        >>> spk, mem = net(torch.rand(2, 1, 28, 28))
        >>> spk.shape, mem.shape
        (torch.Size([5, 2, 10]), torch.Size([5, 2, 10]))

    :param spike_grad: IW-ST estimator of both neuron layers (Gaussian noise).
        Defaults to ``iw_st(p=1.0, noise="gaussian")``
    :param num_inputs: input features. Defaults to 784
    :param num_hidden: hidden units. Defaults to 1000
    :param num_outputs: classes. Defaults to 10
    :param beta: membrane decay. Defaults to 0.95
    :param num_steps: time steps. Defaults to 25
    :param posterior_std: initial posterior :math:`\sigma` as a multiple of
        ``1/sqrt(fan_in)``. Defaults to 0.5
    """

    def __init__(
        self,
        spike_grad: IWST | None = None,
        num_inputs: int = 784,
        num_hidden: int = 1000,
        num_outputs: int = 10,
        beta: float = 0.95,
        num_steps: int = 25,
        posterior_std: float = 0.5,
    ) -> None:
        super().__init__(num_steps)
        self.fc1 = BayesLinear(
            num_inputs, num_hidden, posterior_std=posterior_std / math.sqrt(num_inputs)
        )
        self.lif1 = VariationalLeaky(beta=beta, spike_grad=spike_grad)
        self.fc2 = BayesLinear(
            num_hidden, num_outputs, posterior_std=posterior_std / math.sqrt(num_hidden)
        )
        self.lif2 = VariationalLeaky(beta=beta, spike_grad=spike_grad)
