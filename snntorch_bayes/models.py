r"""Reference network shapes from the snnTorch tutorials, parameterised by
their ``spike_grad`` so a surrogate and an estimator can be compared on the
same architecture."""

from __future__ import annotations

import math
from collections.abc import Callable

import snntorch as snn
import torch
from snntorch import surrogate as snn_surrogate
from torch import nn

from snntorch_bayes._checks import check_int, check_positive, check_unit
from snntorch_bayes.gaussian import GaussianCurrent
from snntorch_bayes.layers import BayesConv2d, BayesLinear
from snntorch_bayes.neurons import DetachedDeepCopy, VariationalLeaky, VariationalSynaptic
from snntorch_bayes.surrogate import IWST

__all__ = [
    "BayesFCSpikingNet",
    "BinaryResNet",
    "FCSpikingNet",
    "FastSigmoid",
    "ResidualBlock",
    "SpikingResNet",
]


def _check_sizes(num_inputs: object, num_hidden: object, num_outputs: object) -> None:
    check_int("num_inputs", num_inputs, 1)
    check_int("num_hidden", num_hidden, 1)
    check_int("num_outputs", num_outputs, 1)


class _TwoLayerNet(DetachedDeepCopy, nn.Module):
    """The time loop of tutorial 5, shared by its deterministic and
    variational versions: subclasses build ``fc1, lif1, fc2, lif2``.  The
    input projection is computed once (the input is constant)."""

    fc1: nn.Module
    lif1: nn.Module
    fc2: nn.Module
    lif2: nn.Module

    def __init__(self, num_steps: int) -> None:
        super().__init__()
        self.num_steps = check_int("num_steps", num_steps, 1)

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
        _check_sizes(num_inputs, num_hidden, num_outputs)
        beta = check_unit("beta", beta)
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
        Defaults to ``iw_st(p=0.0, noise="gaussian")``
    :param num_inputs: input features. Defaults to 784
    :param num_hidden: hidden units. Defaults to 1000
    :param num_outputs: classes. Defaults to 10
    :param beta: membrane decay. Defaults to 0.95
    :param num_steps: time steps. Defaults to 25
    :param posterior_std: initial posterior :math:`\sigma` of both layers
        (absolute, as in :class:`~snntorch_bayes.layers.BayesLinear`), or ``None``
        for each layer's default :math:`0.5/\sqrt{\text{fan-in}}`. Defaults
        to ``None``
    """

    def __init__(
        self,
        spike_grad: IWST | None = None,
        num_inputs: int = 784,
        num_hidden: int = 1000,
        num_outputs: int = 10,
        beta: float = 0.95,
        num_steps: int = 25,
        posterior_std: float | None = None,
    ) -> None:
        super().__init__(num_steps)
        _check_sizes(num_inputs, num_hidden, num_outputs)
        self.fc1 = BayesLinear(num_inputs, num_hidden, posterior_std=posterior_std)
        self.lif1 = VariationalLeaky(beta=beta, spike_grad=spike_grad)
        self.fc2 = BayesLinear(num_hidden, num_outputs, posterior_std=posterior_std)
        self.lif2 = VariationalLeaky(beta=beta, spike_grad=spike_grad)


# --------------------------------------------------------------------------
# Normalisation-free residual networks
# --------------------------------------------------------------------------


class FastSigmoid:
    r"""snnTorch's fast-sigmoid surrogate as a picklable object:
    ``FastSigmoid(slope)(x)`` computes what ``snntorch.surrogate.fast_sigmoid(slope)(x)``
    computes (:math:`H(x)` forward, :math:`1/(\text{slope}\,|x| + 1)^2` backward).
    snnTorch 1.0.0's factory returns a closure, which ``torch.save`` cannot
    pickle; the deterministic twins of :class:`BinaryResNet` and
    :class:`SpikingResNet` use this instead.

    .. math::

        z = H(x),\qquad \frac{\partial z}{\partial x} = \frac{1}{(k|x| + 1)^2}

    Example::

        >>> import torch
        >>> from snntorch_bayes.models import FastSigmoid
        >>> x = torch.tensor([-0.1, 0.2], requires_grad=True)
        >>> z = FastSigmoid(slope=25)(x)
        >>> z.sum().backward()
        >>> z.tolist(), [round(g, 4) for g in x.grad.tolist()]
        ([0.0, 1.0], [0.0816, 0.0278])

    :param slope: :math:`k > 0`. Defaults to 25
    """

    def __init__(self, slope: float = 25.0) -> None:
        self.slope = check_positive("slope", slope)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return snn_surrogate.FastSigmoid.apply(x, self.slope)

    def __repr__(self) -> str:
        return f"FastSigmoid(slope={self.slope:g})"


def _residual_add(
    stream: torch.Tensor | GaussianCurrent,
    gain: torch.Tensor,
    branch: torch.Tensor | GaussianCurrent,
) -> torch.Tensor | GaussianCurrent:
    r""":math:`x + \alpha f` for tensors and Gaussian currents (independent:
    means add, variances add with :math:`\alpha^2`)."""
    if isinstance(branch, GaussianCurrent):
        if isinstance(stream, GaussianCurrent):
            return GaussianCurrent(
                stream.mean + gain * branch.mean, stream.var + gain.square() * branch.var
            )
        return GaussianCurrent(stream + gain * branch.mean, gain.square() * branch.var)
    if isinstance(stream, GaussianCurrent):
        return GaussianCurrent(stream.mean + gain * branch, stream.var)
    return stream + gain * branch


def _reset(neuron: nn.Module) -> tuple[torch.Tensor, ...]:
    """The empty state of a neuron, always as a tuple (``(mem,)`` or ``(syn, mem)``)."""
    state = neuron.reset_mem()
    return state if isinstance(state, tuple) else (state,)


def _step(
    neuron: nn.Module, current: torch.Tensor | GaussianCurrent, state: tuple[torch.Tensor, ...]
) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
    """One step of a ``Leaky``- or ``Synaptic``-like neuron: ``(spk, new_state)``.
    Spikes take the membrane's dtype (snnTorch 1.0.0's surrogates cast them to
    float32)."""
    spk, *state = neuron(current, *state)
    return spk.to(state[-1].dtype), tuple(state)


class _NeuronLayer(nn.Module):
    """``[BatchNorm →] neuron``: the binary / spiking non-linearity of a block."""

    def __init__(self, neuron: nn.Module, norm: nn.Module | None) -> None:
        super().__init__()
        self.norm = norm
        self.neuron = neuron

    def forward(
        self, current: torch.Tensor | GaussianCurrent, state: tuple[torch.Tensor, ...]
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        if self.norm is not None:
            current = self.norm(current)
        return _step(self.neuron, current, state)


class ResidualBlock(nn.Module):
    r"""One pre-activation residual block of :class:`BinaryResNet` /
    :class:`SpikingResNet`: the stream of currents passes unchanged, plus a
    scaled branch that reads it through a layer of binary/spiking neurons.

    .. math::

        z_l = \mathrm{neuron}_l(x_l),\qquad x_{l+1} = x_l + \alpha_l\, W_l z_l

    :math:`W_l` is a 3x3 convolution (``padding=1``) or a linear layer,
    :math:`\alpha_l` a learnable scalar (``gain``).  In ``"sample"`` mode
    :math:`x_l` and :math:`W_l z_l` are Gaussian currents; they are added as
    independent currents (means add, variances add with :math:`\alpha_l^2`).

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> from snntorch_bayes.models import ResidualBlock
        >>> block = ResidualBlock(sb.VariationalLeaky(0.0), sb.BayesLinear(8, 8), gain=0.5)
        >>> state = block.reset()
        >>> x, state = block(torch.randn(2, 8), state)
        >>> type(x).__name__, x.shape
        ('GaussianCurrent', torch.Size([2, 8]))

    :param neuron: the neuron layer (``Leaky``/``Synaptic``-like)
    :param layer: the branch's weights :math:`W_l`
    :param gain: initial :math:`\alpha_l`
    :param norm: optional normalisation before the neuron (deterministic
        reference networks only). Defaults to None
    """

    def __init__(
        self, neuron: nn.Module, layer: nn.Module, gain: float, norm: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.act = _NeuronLayer(neuron, norm)
        self.layer = layer
        self.gain = nn.Parameter(torch.tensor(float(gain), dtype=_weight_dtype(layer)))

    def reset(self) -> tuple[torch.Tensor, ...]:
        """The neuron's empty state."""
        return _reset(self.act.neuron)

    def forward(
        self, stream: torch.Tensor | GaussianCurrent, state: tuple[torch.Tensor, ...]
    ) -> tuple[torch.Tensor | GaussianCurrent, tuple[torch.Tensor, ...]]:
        spk, state = self.act(stream, state)
        return _residual_add(stream, self.gain, self.layer(spk)), state


def _weight_dtype(layer: nn.Module) -> torch.dtype:
    p = next(layer.parameters(), None)
    return torch.get_default_dtype() if p is None else p.dtype


class _ResNet(DetachedDeepCopy, nn.Module):
    """What :class:`BinaryResNet` and :class:`SpikingResNet` share: stem,
    residual blocks, head."""

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        num_classes: int,
        depth: int,
        width: int,
        block: str,
        variational: bool,
        batch_norm: bool,
        make_neuron: Callable[[], nn.Module],
        stem_bias: float,
    ) -> None:
        super().__init__()
        if (
            not isinstance(in_shape, (tuple, list))
            or len(in_shape) != 3
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in in_shape)
        ):
            raise ValueError(
                f"in_shape must be (C, H, W) with three integers in [1, inf), got {in_shape!r}"
            )
        check_int("num_classes", num_classes, 1)
        check_int("depth", depth, 1)
        check_int("width", width, 1)
        if block not in ("conv", "linear"):
            raise ValueError(f"block must be one of ('conv', 'linear'), got {block!r}")
        for name, value in (("variational", variational), ("batch_norm", batch_norm)):
            if not isinstance(value, bool):
                raise ValueError(f"{name} must be True or False, got {value!r}")
        if variational and batch_norm:
            raise ValueError(
                "batch_norm must be False when variational=True (the SBNN is normalisation-"
                "free; BatchNorm is for the deterministic reference), got batch_norm=True"
            )
        self.in_shape = tuple(in_shape)
        self.num_classes = num_classes
        self.depth = depth
        self.width = width
        self.block = block
        self.variational = variational
        self.batch_norm = batch_norm
        channels, height, width_px = self.in_shape
        gain = 1.0 / math.sqrt(depth)
        if block == "conv":
            stride = max(1, math.ceil(min(height, width_px) / _STREAM_SIDE))
            self.stream_shape = (width, height // stride, width_px // stride)
            conv = BayesConv2d if variational else nn.Conv2d
            self.stem = conv(channels, width, stride, stride=stride)
            branch = lambda: conv(width, width, 3, padding=1)  # noqa: E731
            norm = (lambda: nn.BatchNorm2d(width)) if batch_norm else (lambda: None)
            head_in = math.prod(self.stream_shape)
        else:
            self.stream_shape = (width,)
            linear = BayesLinear if variational else nn.Linear
            self.stem = linear(math.prod(self.in_shape), width)
            branch = lambda: linear(width, width)  # noqa: E731
            norm = (lambda: nn.BatchNorm1d(width)) if batch_norm else (lambda: None)
            head_in = width
        self.blocks = nn.ModuleList(
            ResidualBlock(make_neuron(), branch(), gain, norm()) for _ in range(depth)
        )
        self.head = _NeuronLayer(make_neuron(), norm())
        self.fc = (BayesLinear if variational else nn.Linear)(head_in, num_classes)
        with torch.no_grad():  # centre the stream where the neurons fire about half the time
            self.stem.bias.fill_(stem_bias)

    @property
    def first_layer(self) -> nn.Module:
        """The stem: the layer whose weight gradient is "the gradient reaching
        the first layer"."""
        return self.stem

    def _project(self, x: torch.Tensor) -> torch.Tensor | GaussianCurrent:
        """The stem's current for one input frame ``[B, C, H, W]``."""
        return self.stem(x if self.block == "conv" else x.flatten(1))

    def _check_frame(self, x: torch.Tensor, dims: str) -> None:
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x must be a tensor, got {type(x).__name__}")
        if tuple(x.shape[-3:]) != self.in_shape or x.dim() != len(dims.split(",")):
            raise ValueError(
                f"x must be [{dims}] with (C, H, W) = {self.in_shape}, got shape {tuple(x.shape)}"
            )

    def _states(self) -> list[tuple[torch.Tensor, ...]]:
        return [b.reset() for b in self.blocks] + [_reset(self.head.neuron)]

    def _trunk(
        self, stream: torch.Tensor | GaussianCurrent, states: list[tuple[torch.Tensor, ...]]
    ) -> torch.Tensor | GaussianCurrent:
        """Blocks and head for one step; updates ``states`` in place; returns
        the readout current."""
        for i, block in enumerate(self.blocks):
            stream, states[i] = block(stream, states[i])
        spk, states[-1] = self.head(stream, states[-1])
        return self.fc(spk.flatten(1))


_STREAM_SIDE = 8  # the conv stem downsamples to at most 8x8


def _extra(net: _ResNet) -> str:
    return (
        f"in_shape={net.in_shape}, num_classes={net.num_classes}, depth={net.depth}, "
        f"width={net.width}, block={net.block!r}, variational={net.variational}, "
        f"batch_norm={net.batch_norm}"
    )


class BinaryResNet(_ResNet):
    r"""A normalisation-free residual network of binary neurons (one time
    step): a Bayesian one (SBNN, ``variational=True``) or its deterministic
    twin, with or without BatchNorm.

    .. math::

        x_0 &= W_0 \star \mathbf x,\\
        z_l &= H(x_l - \theta),\quad x_{l+1} = x_l + \alpha_l W_l z_l
            \qquad (l = 0, \dots, L-1),\\
        \text{logits} &= W_{\text{out}}\, H(x_L - \theta) .

    * :math:`x_l` -- the residual stream: a real-valued current (a
      :class:`~snntorch_bayes.gaussian.GaussianCurrent` of mean and variance in the
      SBNN's ``"sample"`` mode), never binarised on the skip path
    * :math:`W_0` -- the stem (``first_layer``): for ``block="conv"`` an
      :math:`s\times s` convolution of stride :math:`s =
      \lceil\min(H, W)/8\rceil` (28x28 → 7x7); for ``block="linear"`` a
      linear layer of the flattened image.  Its bias starts at :math:`\theta`, so
      the stream starts centred where the neurons fire half the time (the
      low-bias point of the estimators); weights as ``torch.nn`` initialises them
    * :math:`W_l` -- a 3x3 convolution (padding 1) or a linear layer of
      ``width`` features; :math:`\alpha_l` a learnable scalar initialised to
      :math:`1/\sqrt L`, so the stream's variance at initialisation does not
      grow with depth
    * :math:`H(\cdot - \theta)` -- in the SBNN a
      :class:`~snntorch_bayes.neurons.VariationalLeaky` with ``beta=0`` and no reset
      (a noisy binary neuron whose noise is the stream's posterior variance
      plus ``intrinsic_noise``; IW-ST gradient); in the twins ``snn.Leaky``
      (``beta=0``, no reset) with ``spike_grad`` (default
      :class:`FastSigmoid` (25)), after ``BatchNorm`` if ``batch_norm``

    **The SBNN's stream** (our formulation): branches are added as
    independent Gaussian currents (means add, variances add with
    :math:`\alpha_l^2`), and every neuron draws the whole stream with fresh
    noise, :math:`\mathcal N(m_l, v_l + s_0^2)`.  This treats upstream
    posterior noise as fresh at every depth (the independence that local
    reparameterisation assumes across units, extended across depth), where
    the exact conditional of §4 of the :doc:`theory page </theory>` would
    count only the last branch's noise as fresh; the deployed network is
    unaffected.

    In ``train()`` the SBNN returns one sampled pass (the logits current is
    sampled); in ``eval()`` the deployed network (posterior means,
    deterministic thresholds), which :func:`~snntorch_bayes.inference.to_snntorch`
    exports exactly.  The design and its measurements are in
    ``docs/deep-networks.md``.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> from snntorch_bayes.models import BinaryResNet
        >>> net = BinaryResNet((1, 28, 28), 10, depth=4, width=8)
        >>> net(torch.rand(2, 1, 28, 28)).shape
        torch.Size([2, 10])
        >>> bool(sb.model_kl(net) > 0)
        True

    :param in_shape: ``(C, H, W)`` of one input image
    :param num_classes: number of classes
    :param depth: number of residual blocks :math:`L \ge 1`
    :param width: channels (``"conv"``) or features (``"linear"``) of the stream
    :param block: ``"conv"`` or ``"linear"``. Defaults to ``"conv"``
    :param variational: ``BayesConv2d``/``BayesLinear`` and
        ``VariationalLeaky`` (SBNN) if True, ``nn.Conv2d``/``nn.Linear`` and
        ``snn.Leaky`` if False. Defaults to True
    :param batch_norm: BatchNorm before every binary neuron (deterministic
        reference only; ``ValueError`` with ``variational=True``). Defaults
        to False
    :param spike_grad: the neurons' ``spike_grad``. Defaults to
        ``iw_st(p=0, noise="gaussian")`` (SBNN) or ``FastSigmoid(25)`` (twins)
    :param intrinsic_noise: ``intrinsic_noise`` of the variational neurons.
        Defaults to 0

    Inputs: x of shape ``[B, C, H, W]``.
    Outputs: logits of shape ``[B, num_classes]``.
    """

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        num_classes: int,
        depth: int,
        width: int,
        block: str = "conv",
        variational: bool = True,
        batch_norm: bool = False,
        spike_grad: Callable[[torch.Tensor], torch.Tensor] | None = None,
        intrinsic_noise: float = 0.0,
    ) -> None:
        if variational:

            def make_neuron() -> nn.Module:
                return VariationalLeaky(
                    beta=0.0,
                    spike_grad=spike_grad,
                    reset_mechanism="none",
                    intrinsic_noise=intrinsic_noise,
                )
        else:
            grad = FastSigmoid(25.0) if spike_grad is None else spike_grad

            def make_neuron() -> nn.Module:
                return snn.Leaky(beta=0.0, spike_grad=grad, reset_mechanism="none")

        super().__init__(
            in_shape, num_classes, depth, width, block, variational, batch_norm, make_neuron,
            stem_bias=1.0,  # the threshold: P(fire) = 1/2 at the stream's mean
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self._check_frame(x, "B, C, H, W")
        logits = self._trunk(self._project(x), self._states())
        return logits.sample() if isinstance(logits, GaussianCurrent) else logits

    def extra_repr(self) -> str:
        return _extra(self)


class SpikingResNet(_ResNet):
    r"""A normalisation-free residual spiking network: :class:`BinaryResNet`
    with leaky (or current-based) integrate-and-fire neurons run for
    ``num_steps`` steps.

    .. math::

        x_{0,t} &= W_0 \star \mathbf x_t,\qquad
        x_{l+1,t} = x_{l,t} + \alpha_l W_l z_{l,t},\\
        U_{l,t} &= \beta U_{l,t-1} + x_{l,t} - \theta z_{l,t-1},\qquad
        z_{l,t} = H(U_{l,t} - \theta),

    (``neuron="synaptic"``: :math:`S_{l,t} = \alpha S_{l,t-1} + x_{l,t}`
    drives :math:`U`), and an output layer of the same neurons fed by
    :math:`W_{\text{out}} z_{L,t}`, whose spikes and membrane are returned
    (read the logits as the mean over time of the membrane, e.g. with
    :func:`~snntorch_bayes.training.membrane_ce_loss`).  The stream carries
    *currents*: every block's neuron integrates the stream at its depth, and
    the skip path is never spiking.  A static input is projected once and
    presented every step; a spike train ``[T, B, C, H, W]`` is projected step
    by step (``T`` is then the train's length).  Stem, scaling, neurons and
    modes as in :class:`BinaryResNet`, except the stem's initial bias:
    :math:`\theta/2` for leaky neurons (whose rate with reset by subtraction is
    about :math:`I/\theta`), :math:`(1-\alpha)\theta/2` for synaptic ones (whose
    current settles at :math:`I/(1-\alpha)`), so they start firing at roughly
    40 %.  Every neuron, the output layer included, uses ``beta`` (and
    ``alpha``), reset by subtraction.

    Example::

        >>> import torch
        >>> from snntorch_bayes.models import SpikingResNet
        >>> net = SpikingResNet((1, 28, 28), 10, depth=2, width=8, num_steps=4)
        >>> spk, mem = net(torch.rand(3, 1, 28, 28))
        >>> spk.shape, mem.shape
        (torch.Size([4, 3, 10]), torch.Size([4, 3, 10]))

    :param in_shape: ``(C, H, W)`` of one input frame
    :param num_classes: number of classes
    :param depth: number of residual blocks :math:`L \ge 1`
    :param width: channels (``"conv"``) or features (``"linear"``) of the stream
    :param block: ``"conv"`` or ``"linear"``. Defaults to ``"conv"``
    :param variational: SBNN if True, deterministic twin if False. Defaults to True
    :param batch_norm: BatchNorm before every hidden neuron (twins only).
        Defaults to False
    :param spike_grad: as in :class:`BinaryResNet`
    :param intrinsic_noise: as in :class:`BinaryResNet`
    :param num_steps: time steps :math:`T` for a static input. Defaults to 8
    :param neuron: ``"leaky"`` (``Leaky``) or ``"synaptic"`` (``Synaptic``).
        Defaults to ``"leaky"``
    :param beta: membrane decay in [0, 1]. Defaults to 0.9
    :param alpha: synaptic decay in [0, 1] (``"synaptic"`` only). Defaults to 0.8

    Inputs: x of shape ``[B, C, H, W]`` (static) or ``[T, B, C, H, W]``.
    Outputs: spk, mem of the output layer, each ``[T, B, num_classes]``.
    """

    def __init__(
        self,
        in_shape: tuple[int, int, int],
        num_classes: int,
        depth: int,
        width: int,
        block: str = "conv",
        variational: bool = True,
        batch_norm: bool = False,
        spike_grad: Callable[[torch.Tensor], torch.Tensor] | None = None,
        intrinsic_noise: float = 0.0,
        num_steps: int = 8,
        neuron: str = "leaky",
        beta: float = 0.9,
        alpha: float = 0.8,
    ) -> None:
        check_int("num_steps", num_steps, 1)
        if neuron not in ("leaky", "synaptic"):
            raise ValueError(f"neuron must be one of ('leaky', 'synaptic'), got {neuron!r}")
        beta = check_unit("beta", beta)
        alpha = check_unit("alpha", alpha)
        if variational:
            extra = {"spike_grad": spike_grad, "intrinsic_noise": intrinsic_noise}
            leaky, synaptic = VariationalLeaky, VariationalSynaptic
        else:
            extra = {"spike_grad": FastSigmoid(25.0) if spike_grad is None else spike_grad}
            leaky, synaptic = snn.Leaky, snn.Synaptic

        def make_neuron() -> nn.Module:
            if neuron == "leaky":
                return leaky(beta=beta, **extra)
            return synaptic(alpha=alpha, beta=beta, **extra)

        # rate ~ I/theta for a leaky neuron with reset by subtraction: start at about 1/2;
        # a synaptic current settles at I/(1 - alpha)
        stem_bias = 0.5 if neuron == "leaky" else 0.5 * (1.0 - alpha)
        super().__init__(
            in_shape, num_classes, depth, width, block, variational, batch_norm, make_neuron,
            stem_bias,
        )  # fmt: skip
        self.num_steps = num_steps
        self.neuron = neuron
        self.out = make_neuron()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        static = isinstance(x, torch.Tensor) and x.dim() == 4
        self._check_frame(x, "B, C, H, W" if static else "T, B, C, H, W")
        states = self._states()
        out_state = _reset(self.out)
        steps = self.num_steps if static else x.shape[0]
        stem = self._project(x) if static else None
        spk_rec, mem_rec = [], []
        for t in range(steps):
            current = self._trunk(stem if static else self._project(x[t]), states)
            spk, out_state = _step(self.out, current, out_state)
            spk_rec.append(spk)
            mem_rec.append(out_state[-1])
        return torch.stack(spk_rec), torch.stack(mem_rec)

    def extra_repr(self) -> str:
        return f"{_extra(self)}, num_steps={self.num_steps}, neuron={self.neuron!r}"
