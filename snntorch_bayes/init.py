r"""Data-dependent initialisation: :func:`initialize` puts every binary or
spiking unit of a network at its low-bias operating point before training.

Every spike estimator's gradient scales with the noise density at the
unit's normalised pre-activation :math:`a = (\mu - \theta)/\sqrt v`, so a
unit far from its threshold gets no gradient, and its estimator is most
biased there (Walker, Khajehnejad & Razi, 2025; Shekhovtsov & Yanush, 2020).
A freshly initialised snnTorch layer feeds zero-mean currents of standard
deviation about 0.2 to neurons of threshold 1: :math:`a \approx -5` and
Gaussian :math:`\varphi(a) \approx 10^{-6}`, so deep plain stacks start dead.
BatchNorm fixes this at initialisation by standardising every unit; the
data-dependent initialisation of Shekhovtsov & Yanush (2020) and the
fluctuation-driven initialisation of Rossbroich, Gygax & Zenke (2022) fix it
by choosing the weights from one batch.  :func:`initialize` does the latter,
layer by layer in forward order, for the layer :math:`W` that feeds each
neuron:

1. **Scale.**  Each output unit's weights and bias are multiplied by
   :math:`g_c = s^\star / \operatorname{std}(m_c)` so that its mean current
   :math:`m_c` has standard deviation :math:`s^\star` over the batch (and
   time and space), with :math:`s^\star = \text{spread}\cdot\theta\,(1-\beta)`
   (times :math:`1-\alpha` for ``Synaptic``): the membrane's steady-state
   spread is then ``spread`` thresholds.  A neuron called once per forward
   pass (one step from rest, whose membrane is its input current) gets
   :math:`s^\star = \text{spread}\cdot\theta` whatever its decay.
2. **Noise** (variational layers).  Every posterior standard deviation of
   the layer is multiplied by one factor so that the root-mean-square current
   noise is :math:`\sqrt{\bar v} = \text{noise\_ratio}\cdot s^\star`: the
   posterior noise is comparable to the spread of :math:`\mu - \theta`, so
   :math:`a` is of order 1.  A neuron whose spikes reach no ``Linear`` /
   ``Conv`` layer (the network's spiking output, read by a spike count or its
   membrane) gets ``output_noise_ratio`` instead: a hidden layer's noise is
   passed on and compounds with depth, the output's is not, and an output
   unit that drifts below threshold takes the gradient of the whole network
   with it (``docs/recipe.md`` §5).
3. **Centre.**  Each unit's bias is shifted (bisection, all units at once)
   until its firing rate on the batch is ``target_rate``: for a binary unit
   (a neuron called once per forward pass) the default is the mean firing
   probability :math:`\bar\pi = \tfrac12`, the low-bias point of eq. (5);
   for a spiking unit (called over several time steps) it is the fraction
   of steps it fires, by default :data:`SPIKING_TARGET_RATE`.  Variational
   neurons are centred on :math:`\pi = \Phi(a)` itself, deterministic ones
   on their spikes.

Plain snnTorch networks (``nn.Linear`` / ``nn.Conv2d`` feeding ``snn.Leaky``,
``snn.Synaptic``, ``snn.RLeaky`` ...) are initialised the same way, so a
deterministic twin can be given the same start.  A neuron whose input passes
through a normalisation layer (BatchNorm, LayerNorm, ...) is left alone: the
normalisation does this job.  The layer feeding a neuron is the last
``Linear`` / ``Conv`` (variational or not) called before it.  When the
neuron reads more than that layer's output (a residual stream), only the
layer's bias is set, to centre the neuron; its weights are left as they are.

**Prior** (``match_prior``, variational layers).  Every layer's prior
becomes :math:`\mathcal N(0, \sigma_p^2)` with :math:`\sigma_p` the
root-mean-square of its initialised weight means, and its bias prior the
same from its bias means.  With the layers' default prior
:math:`\mathcal N(0, 1/\text{fan-in})` the centred biases alone sit many
prior standard deviations out, and the KL term, tens of nats per example
on a 6-layer MLP, pulls the units back off their threshold (measured in
``docs/recipe.md``).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from snntorch import SpikingNeuron
from torch import nn

from snntorch_bayes._checks import MAX_STD, check_int, check_range, check_real
from snntorch_bayes.functional import normal_cdf
from snntorch_bayes.gaussian import GaussianCurrent
from snntorch_bayes.layers import BayesConv2d, BayesLinear, GaussianPrior, Variational

__all__ = [
    "BINARY_TARGET_RATE",
    "NOISE_RATIO",
    "OUTPUT_NOISE_RATIO",
    "SPIKING_TARGET_RATE",
    "LayerInit",
    "initialize",
    "measure",
]

#: default target of a binary unit (a neuron called once per forward pass):
#: firing probability 1/2, the low-bias point of eq. (5)
BINARY_TARGET_RATE = 0.5
#: default target of a spiking unit (a neuron called over several time
#: steps): the fraction of steps it fires.  Screened on tutorial 6's
#: convolutional SNN (``docs/recipe.md`` §5): 0.1-0.2 trained far better than
#: 0.5 for both the SBNN and the ``fast_sigmoid`` twin
SPIKING_TARGET_RATE = 0.2
#: default ``noise_ratio`` of a hidden variational layer (``docs/recipe.md`` §3)
NOISE_RATIO = 0.5
#: default ``output_noise_ratio``: the posterior noise of the layer feeding a
#: spiking output, relative to its spread (``docs/recipe.md`` §5)
OUTPUT_NOISE_RATIO = 1.0

_AFFINE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, BayesLinear, BayesConv2d)
_NORMS = (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)


@dataclass
class LayerInit:
    """What :func:`initialize` measured and did for one (layer, neuron) pair.

    Rates and probabilities are medians over the layer's units: ``rate`` the
    fraction of spikes over every step and example, ``pi`` the mean firing
    probability :math:`\\Phi(a)` of the first step (from rest), ``snr`` the
    median over units and examples of :math:`\\sqrt v / |\\mu - \\theta|` at
    the first step (``pi`` and ``snr`` only for neurons fed by Gaussian
    currents, else ``nan``).
    """

    layer: str
    neuron: str
    gain: float = 1.0  #: median weight gain over units
    noise_gain: float = 1.0  #: factor applied to the posterior standard deviations
    rate_before: float = math.nan
    rate_after: float = math.nan
    pi_before: float = math.nan
    pi_after: float = math.nan
    snr_before: float = math.nan
    snr_after: float = math.nan
    skipped: str = ""  #: why the pair was left alone, if it was
    #: whether the neuron's spikes reach no ``Linear`` / ``Conv`` layer (a
    #: spiking output: its layer gets ``output_noise_ratio``)
    output: bool = False
    extra: dict = field(default_factory=dict)


#: end each measuring pass at the probed neuron's last call (the rest of the
#: network cannot change what that neuron sees); False runs every pass whole.
#: The start is the same either way, except in a network holding a sampling
#: estimator (``sample=True``) after the probed neuron: its draw counter then
#: advances less, which gives an equally valid but different start
_STOP_AT_PROBE = True


class _PassDone(BaseException):
    """Raised by a :class:`_Probe` to end a measuring pass early (a
    ``BaseException``, so that no ``except Exception`` in a user's forward
    swallows it)."""


class _Probe:
    """Forward hooks that record what one neuron sees and emits; with
    ``stop_after = n`` the ``n``-th call ends the pass (:class:`_PassDone`)."""

    def __init__(self, neuron: nn.Module, channel_dim: int) -> None:
        self.neuron = neuron
        self.dim = channel_dim
        self.stop_after: int | None = None
        self.reset()
        self.handles = [
            neuron.register_forward_pre_hook(self._input),
            neuron.register_forward_hook(self._output),
        ]

    def reset(self) -> None:
        self.mean: list[torch.Tensor] = []
        self.var: list[torch.Tensor] = []
        self.spikes: list[torch.Tensor] = []

    def _input(self, module: nn.Module, args: tuple) -> None:
        cur = args[0]
        if isinstance(cur, GaussianCurrent):
            self.mean.append(cur.mean.detach())
            self.var.append(cur.var.detach())
        elif isinstance(cur, torch.Tensor):
            self.mean.append(cur.detach())

    def _output(self, module: nn.Module, args: tuple, out: object) -> None:
        spk = out[0] if isinstance(out, tuple) else out
        self.spikes.append(spk.detach())
        if self.stop_after is not None and len(self.spikes) >= self.stop_after:
            raise _PassDone

    def run(self, run: Callable[[], None]) -> None:
        """``run()``, ended at this neuron's ``stop_after``-th call."""
        try:
            run()
        except _PassDone:
            pass

    def remove(self) -> None:
        for h in self.handles:
            h.remove()

    def per_channel(self, values: list[torch.Tensor]) -> torch.Tensor:
        """``[C, n]``: every recorded value of each channel."""
        x = torch.stack(values) if len({v.shape for v in values}) == 1 else None
        if x is None:
            return torch.cat([v.movedim(self.dim, 0).flatten(1) for v in values], 1)
        dim = self.dim % values[0].dim() + 1
        return x.movedim(dim, 0).flatten(1)


def _threshold_scale(neuron: nn.Module, one_step: bool = False) -> float:
    r""":math:`\theta(1-\beta)(1-\alpha)`: the current that holds the
    membrane one threshold from rest in the steady state (scalar: the median
    over the neuron's parameters); :math:`\theta` for a neuron run for one
    step from rest, whose membrane is its input current."""
    scale = float(torch.as_tensor(neuron.threshold).float().abs().median())
    if one_step:
        return scale
    for name in ("beta", "alpha"):
        value = getattr(neuron, name, None)
        if value is None or not isinstance(value, torch.Tensor):
            continue
        decay = float(value.detach().float().clamp(0, 1).median())
        scale *= max(1.0 - decay, 1e-3)
    return scale


def _affine_params(layer: nn.Module) -> tuple[torch.Tensor, torch.Tensor | None]:
    if isinstance(layer, (BayesLinear, BayesConv2d)):
        return layer.weight_mean, layer.bias_mean
    return layer.weight, layer.bias


def _inverse_softplus(y: torch.Tensor) -> torch.Tensor:
    return y + torch.log(-torch.expm1(-y))


def _channel_view(t: torch.Tensor, dim: int, ndim: int) -> torch.Tensor:
    shape = [1] * ndim
    shape[dim] = -1
    return t.reshape(shape)


def initialize(
    net: nn.Module,
    example_input: torch.Tensor | tuple,
    *,
    target_rate: float | None = None,
    spread: float = 1.0,
    noise_ratio: float = NOISE_RATIO,
    output_noise_ratio: float = OUTPUT_NOISE_RATIO,
    match_prior: bool = True,
    forward: Callable[[nn.Module, object], object] | None = None,
    iterations: int = 16,
    seed: int = 0,
) -> list[LayerInit]:
    r"""Data-dependent initialisation to the low-bias operating point (see
    :mod:`snntorch_bayes.init`): layer by layer, scale each unit's weights,
    set the posterior noise and centre each unit's bias so that it fires at
    ``target_rate`` on ``example_input``.  Modifies ``net`` in place, keeps
    its ``train``/``eval`` state, its modes and its normalisation statistics,
    and clears the neurons' hidden state.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> net = torch.nn.Sequential(
        ...     sb.BayesLinear(20, 32), sb.VariationalLeaky(0.0, init_hidden=True),
        ...     sb.BayesLinear(32, 32), sb.VariationalLeaky(0.0, init_hidden=True),
        ... )
        >>> stats = sb.initialize(net, torch.rand(256, 20))
        >>> [round(s.pi_after, 1) for s in stats]
        [0.5, 0.5]

    :param net: any network of ``torch.nn`` / snntorch_bayes affine layers and
        snnTorch-style neurons (variational or not)
    :param example_input: one batch, passed as ``net(example_input)`` (a
        tuple is unpacked into positional arguments)
    :param target_rate: firing rate to centre every unit on, in (0, 1).
        Defaults to None: :data:`BINARY_TARGET_RATE` (½, the low-bias point)
        for a neuron called once per forward pass, :data:`SPIKING_TARGET_RATE`
        for one called over several time steps
    :param spread: standard deviation of each unit's steady-state membrane
        over the batch, in thresholds. Defaults to 1
    :param noise_ratio: root-mean-square posterior noise of each variational
        layer's current, relative to that spread. Defaults to
        :data:`NOISE_RATIO` (0.5)
    :param output_noise_ratio: the same for a layer feeding a spiking output,
        a neuron whose spikes reach no ``Linear`` / ``Conv`` layer (traced
        through autograd in the first pass; :attr:`LayerInit.output`).
        Defaults to :data:`OUTPUT_NOISE_RATIO` (1)
    :param match_prior: afterwards, set every variational layer's prior to
        :math:`\mathcal N(0, \sigma_p^2)` with :math:`\sigma_p` the
        root-mean-square of its initialised weight means, and its bias prior
        likewise from its bias means (see :mod:`snntorch_bayes.init`).
        Defaults to True
    :param forward: ``forward(net, example_input)`` when ``net(...)`` is not
        how the network is run (e.g. a time loop outside the module)
    :param iterations: bisection steps of the centring (each a pass over
        ``example_input`` that ends at the neuron being centred, so a deep
        one-step network costs about half of whole passes). Defaults to 16
    :param seed: seed of the random numbers of every measuring pass (the
        global generator is restored afterwards). Defaults to 0
    :returns: one :class:`LayerInit` per neuron, in forward order
    """
    if target_rate is not None and not 0 < check_real("target_rate", target_rate) < 1:
        raise ValueError(f"target_rate must be in (0, 1), got {target_rate!r}")
    spread = check_range("spread", spread, 0.0, MAX_STD, low_open=True)
    noise_ratio = check_range("noise_ratio", noise_ratio, 0.0, MAX_STD, low_open=True)
    output_noise_ratio = check_range(
        "output_noise_ratio", output_noise_ratio, 0.0, MAX_STD, low_open=True
    )
    iterations = check_int("iterations", iterations, 1)
    seed = check_int("seed", seed, 0)
    if forward is None:

        def forward(module, inputs):
            return module(*inputs) if isinstance(inputs, tuple) else module(inputs)

    neurons = [m for m in net.modules() if isinstance(m, SpikingNeuron)]
    if not neurons:
        raise ValueError("initialize found no spiking neuron (snnTorch SpikingNeuron) in net")
    names = {m: n or type(net).__name__ for n, m in net.named_modules()}

    order: list[nn.Module] = []

    def record_order(module, args, out):
        order.append(module)

    hooks = [
        m.register_forward_hook(record_order)
        for m in net.modules()
        if isinstance(m, (*_AFFINE, *_NORMS, SpikingNeuron))
    ]

    def run() -> None:
        for m in neurons:
            m.reset_mem()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            forward(net, example_input)

    results: list[LayerInit] = []
    try:
        with _measuring(net, neurons):
            outputs = _spiking_outputs(net, neurons, run)
            if outputs is None:  # the pass could not be traced: run it plainly
                order.clear()
                run()
                outputs = []
            for h in hooks:
                h.remove()
            hooks = []
            feeder = _feeders(order)
            for neuron in _unique(m for m in order if isinstance(m, SpikingNeuron)):
                layer, why = feeder.get(neuron, (None, "no Linear/Conv layer before it"))
                record = LayerInit(names.get(layer, "-"), names[neuron])
                record.output = any(neuron is m for m in outputs)
                if layer is None or why:
                    record.skipped = why
                    results.append(record)
                    continue
                ratio = output_noise_ratio if record.output else noise_ratio
                _initialize_pair(layer, neuron, record, run, target_rate, spread, ratio, iterations)
                results.append(record)
            if match_prior:
                _match_priors(net)
    finally:
        for h in hooks:
            h.remove()
    return results


@contextlib.contextmanager
def _measuring(net: nn.Module, neurons: list[nn.Module]) -> Iterator[None]:
    """Training mode, every variational module sampling, no gradients; on
    exit the train/eval flags, modes and normalisation statistics are
    restored and the neurons' hidden states cleared."""
    training = [(m, m.training) for m in net.modules()]
    modes = [(m, m.mode) for m in net.modules() if isinstance(m, Variational)]
    norms = [(m, copy.deepcopy(m.state_dict())) for m in net.modules() if isinstance(m, _NORMS)]
    try:
        net.train()
        for m, _ in modes:
            m.set_mode("sample")
        with torch.no_grad():
            yield
    finally:
        for m, mode in modes:
            m.set_mode(mode)
        for m, was_training in training:
            m.train(was_training)
        for m, state in norms:
            m.load_state_dict(state)
        for m in neurons:
            m.reset_mem()


def _spiking_outputs(
    net: nn.Module, neurons: list[nn.Module], run: Callable[[], None]
) -> list[nn.Module] | None:
    """Run one pass and return the neurons whose spikes reach no affine layer.

    Each neuron's spikes are handed on as fresh autograd leaves; before every
    ``Linear`` / ``Conv`` call the graph of its input is walked back to those
    leaves (whatever pooling, flattening, concatenation or residual sums lie
    in between).  Returns None, with a warning, where the pass cannot be
    traced: it fails on the leaves (e.g. an in-place op on the spikes), or
    runs its layers with gradients disabled."""
    leaves: dict[int, nn.Module] = {}
    keep: list[torch.Tensor] = []  # the leaves stay alive, so their ids stay unique
    feeding: list[nn.Module] = []
    visited: set = set()
    untraced: list[str] = []

    def hand_on(module, args, out):
        spk = out[0] if isinstance(out, tuple) else out
        if not isinstance(spk, torch.Tensor) or not spk.is_floating_point():
            return None
        leaf = spk.detach().requires_grad_()
        keep.append(leaf)
        leaves[id(leaf)] = module
        return (leaf, *out[1:]) if isinstance(out, tuple) else leaf

    def mark(tensor: torch.Tensor) -> None:
        neuron = leaves.get(id(tensor))
        if neuron is not None and not any(neuron is m for m in feeding):
            feeding.append(neuron)

    def trace(module, args):
        x = args[0] if args else None
        x = x.mean if isinstance(x, GaussianCurrent) else x
        if not isinstance(x, torch.Tensor):
            return
        if id(x) in leaves:
            mark(x)
            return
        if not torch.is_grad_enabled():
            untraced.append(type(module).__name__)
            return
        stack = [x.grad_fn]
        while stack:
            node = stack.pop()
            if node is None or node in visited:
                continue
            visited.add(node)
            variable = getattr(node, "variable", None)
            if variable is not None:
                mark(variable)
            stack.extend(n for n, _ in node.next_functions)

    handles = [m.register_forward_hook(hand_on) for m in neurons]
    handles += [m.register_forward_pre_hook(trace) for m in net.modules() if isinstance(m, _AFFINE)]
    try:
        with torch.enable_grad():
            run()
    except RuntimeError as error:
        reason = f"the pass failed on them ({error})"
    else:
        if not untraced:
            return [m for m in neurons if not any(m is f for f in feeding)]
        reason = f"the {untraced[0]} ran with gradients disabled"
    finally:
        for h in handles:
            h.remove()
    warnings.warn(
        f"initialize could not trace which neurons feed a layer: {reason}; every "
        "variational layer gets noise_ratio, none output_noise_ratio",
        stacklevel=3,
    )
    return None


def _match_priors(net: nn.Module) -> None:
    """Every variational layer's prior (and bias prior) becomes a zero-mean
    Gaussian with the root-mean-square of its (initialised) means as std."""
    for m in net.modules():
        if not isinstance(m, (BayesLinear, BayesConv2d)):
            continue
        rms = float(m.weight_mean.detach().pow(2).mean().sqrt())
        if 0 < rms < math.inf:
            m.prior = GaussianPrior(std=rms)
        if m.bias_mean is not None:
            rms = float(m.bias_mean.detach().pow(2).mean().sqrt())
            if 0 < rms < math.inf:
                m.bias_prior = GaussianPrior(std=rms)


def _unique(modules) -> list[nn.Module]:
    seen: list[nn.Module] = []
    for m in modules:
        if not any(m is s for s in seen):
            seen.append(m)
    return seen


def _feeders(order: list[nn.Module]) -> dict:
    """For each neuron, at its first call: the affine layer called last before
    it, and why it is skipped ('' if not)."""
    out: dict = {}
    last_affine = None
    normalised = False
    for m in order:
        if isinstance(m, _AFFINE):
            last_affine, normalised = m, False
        elif isinstance(m, _NORMS):
            normalised = True
        elif isinstance(m, SpikingNeuron) and m not in out:
            why = "a normalisation layer feeds it" if normalised else ""
            out[m] = (last_affine, why if last_affine is not None else "no layer")
    return out


def _channel_dim(layer: nn.Module) -> int:
    return -1 if isinstance(layer, (nn.Linear, BayesLinear)) else 1


def _initialize_pair(
    layer: nn.Module,
    neuron: nn.Module,
    record: LayerInit,
    run: Callable[[], None],
    target_rate: float | None,
    spread: float,
    noise_ratio: float,
    iterations: int,
) -> None:
    weight, bias = _affine_params(layer)
    dim = _channel_dim(layer)
    channels = weight.shape[0]
    probe = _Probe(neuron, dim)
    threshold = float(torch.as_tensor(neuron.threshold).float().median())
    variational = isinstance(neuron, Variational)
    outputs: list[torch.Tensor] = []

    def layer_output(module, args, out):
        outputs.append((out.mean if isinstance(out, GaussianCurrent) else out).detach())

    handle = layer.register_forward_hook(layer_output)
    try:
        run()
        handle.remove()
        if _STOP_AT_PROBE:  # later passes need nothing after this neuron's last call
            probe.stop_after = len(probe.spikes)
        measured = functools.partial(probe.run, run)
        mean = probe.per_channel(probe.mean)
        if mean.shape[0] != channels:
            record.skipped = f"{mean.shape[0]} neuron channels but {channels} layer outputs"
            return
        record.rate_before, record.pi_before, record.snr_before = _rates(probe, threshold)
        one_step = len(probe.spikes) == 1
        if target_rate is None:
            target_rate = BINARY_TARGET_RATE if one_step else SPIKING_TARGET_RATE
        record.extra["target_rate"] = target_rate
        target_std = spread * _threshold_scale(neuron, one_step)
        if _shares_input(outputs, probe.mean):
            # the neuron reads a sum (a residual stream): only its offset is ours to set
            record.extra["shared_input"] = True
            if bias is not None:
                _centre(
                    bias,
                    probe,
                    measured,
                    threshold,
                    target_rate,
                    target_std,
                    iterations,
                    variational,
                )
            probe.reset()
            measured()
            record.rate_after, record.pi_after, record.snr_after = _rates(probe, threshold)
            return
        std = mean.std(1)
        gain = torch.where(std > 0, target_std / std, torch.ones_like(std)).to(weight.dtype)
        weight.mul_(_channel_view(gain, 0, weight.dim()))
        if bias is not None:
            bias.mul_(gain)
        record.gain = float(gain.median())
        if isinstance(layer, (BayesLinear, BayesConv2d)) and probe.var:
            var = probe.per_channel(probe.var)
            rms = float(var.mean().sqrt())
            if rms > 0:
                k = noise_ratio * target_std / rms
                layer.weight_rho.copy_(_inverse_softplus(F.softplus(layer.weight_rho) * k))
                if layer.bias_rho is not None:
                    layer.bias_rho.copy_(_inverse_softplus(F.softplus(layer.bias_rho) * k))
                record.noise_gain = k
        if bias is None:
            record.skipped = "no bias to centre"
        else:
            _centre(
                bias, probe, measured, threshold, target_rate, target_std, iterations, variational
            )
        probe.reset()
        measured()
        record.rate_after, record.pi_after, record.snr_after = _rates(probe, threshold)
    finally:
        handle.remove()
        probe.remove()


def _shares_input(outputs: list[torch.Tensor], inputs: list[torch.Tensor]) -> bool:
    """Whether the neuron's first input differs from the layer's last output
    before it while having its shape: the neuron then reads the layer's
    output plus something else (a residual stream).  Pooling, flattening and
    reshaping change the shape and commute with per-channel scaling."""
    if not outputs or not inputs:
        return False
    out, inp = outputs[0], inputs[0]
    if out.shape != inp.shape:
        return False
    return not (out is inp or torch.allclose(out, inp))


def _rates(probe: _Probe, threshold: float) -> tuple[float, float, float]:
    """Median over units of the firing rate, of :math:`\\bar\\pi` and of
    :math:`\\sqrt v/|\\mu-\\theta|` (the last two for Gaussian inputs)."""
    rate = float(probe.per_channel(probe.spikes).float().mean(1).median())
    pi, snr = _probabilities(probe, threshold)
    if pi is None:
        return rate, math.nan, math.nan
    return rate, float(pi.mean(1).median()), float(snr.median())


def _probabilities(
    probe: _Probe, threshold: float
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    r"""Per-channel :math:`\pi = \Phi(a)` of the first step (``[C, n]``) and
    :math:`\sqrt v/|\mu - \theta|`, where the neuron saw a Gaussian current
    and starts from rest (so :math:`\mu` is the current's mean)."""
    if not probe.var or not probe.spikes:
        return None, None
    mu = probe.per_channel(probe.mean[:1])
    var = probe.per_channel(probe.var[:1]) + getattr(probe.neuron, "intrinsic_noise", 0.0) ** 2
    std = var.clamp_min(torch.finfo(var.dtype).tiny).sqrt()
    return normal_cdf((mu - threshold) / std), std / (mu - threshold).abs()


def _centre(
    bias: torch.Tensor,
    probe: _Probe,
    run: Callable[[], None],
    threshold: float,
    target_rate: float,
    target_std: float,
    iterations: int,
    variational: bool,
) -> None:
    """Bisect a per-unit shift of ``bias`` until each unit's rate (or, for a
    variational neuron driven by Gaussian currents, mean :math:`\\pi` over
    every step) is ``target_rate``."""
    base = bias.clone()

    def rate(shift: torch.Tensor) -> torch.Tensor:
        bias.copy_(base + shift)
        probe.reset()
        run()
        if variational and probe.var and len(probe.var) == len(probe.spikes):
            return _step_probabilities(probe, threshold)
        return probe.per_channel(probe.spikes).float().mean(1)

    # start from the shift that puts the mean current at the steady-state
    # threshold current θ(1-β)(1-α)
    mean0 = probe.per_channel(probe.mean).mean(1)
    start = (_threshold_scale(probe.neuron, len(probe.spikes) == 1) - mean0).to(base.dtype)
    width = torch.full_like(base, 4 * target_std + 1e-6)
    lo, hi = start - width, start + width
    for _ in range(8):  # widen until the bracket holds the target
        r_lo, r_hi = rate(lo), rate(hi)
        low_bad, high_bad = r_lo > target_rate, r_hi < target_rate
        if not (low_bad.any() or high_bad.any()):
            break
        width = torch.where(low_bad | high_bad, width * 2, width)
        lo = torch.where(low_bad, start - width, lo)
        hi = torch.where(high_bad, start + width, hi)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        above = rate(mid) > target_rate
        hi = torch.where(above, mid, hi)
        lo = torch.where(above, lo, mid)
    bias.copy_(base + (lo + hi) / 2)


def _step_probabilities(probe: _Probe, threshold: float) -> torch.Tensor:
    r"""Per-channel firing rate of a variational neuron: the exact mean
    :math:`\pi = \Phi(a)` for a one-step neuron, the sampled spike rate (with
    the fixed seed of every measuring pass) for a multi-step one."""
    if len(probe.spikes) == 1:
        pi, _ = _probabilities(probe, threshold)
        return pi.mean(1)
    return probe.per_channel(probe.spikes).float().mean(1)


def measure(
    net: nn.Module,
    example_input: torch.Tensor | tuple,
    *,
    forward: Callable[[nn.Module, object], object] | None = None,
    seed: int = 0,
) -> list[LayerInit]:
    r"""The operating point of every neuron of ``net`` on ``example_input``,
    in sample mode, without changing anything: per neuron (in forward
    order) the median firing rate, the median mean firing probability
    :math:`\bar\pi` and the median :math:`\sqrt v/|\mu-\theta|` (the
    last two for neurons fed by Gaussian currents), in the ``*_after``
    fields of a :class:`LayerInit`.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> net = torch.nn.Sequential(sb.BayesLinear(20, 8),
        ...                           sb.VariationalLeaky(0.0, init_hidden=True))
        >>> [s.neuron for s in sb.measure(net, torch.rand(64, 20))]
        ['1']
    """
    neurons = [m for m in net.modules() if isinstance(m, SpikingNeuron)]
    names = {m: n or type(net).__name__ for n, m in net.named_modules()}
    probes = {m: _Probe(m, 1) for m in neurons}  # batch first: channels in dimension 1
    if forward is None:

        def forward(module, inputs):
            return module(*inputs) if isinstance(inputs, tuple) else module(inputs)

    out = []
    try:
        with _measuring(net, neurons), torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            for m in neurons:
                m.reset_mem()
            forward(net, example_input)
        for m in neurons:
            probe = probes[m]
            if not probe.spikes:
                continue
            threshold = float(torch.as_tensor(m.threshold).float().median())
            record = LayerInit("-", names[m])
            record.rate_after, record.pi_after, record.snr_after = _rates(probe, threshold)
            out.append(record)
    finally:
        for probe in probes.values():
            probe.remove()
    return out
