r"""Recording what the neurons of a network do: spikes and firing probabilities.

:func:`record_firing` is a context manager that puts forward hooks on the
spiking neurons of a network (snnTorch's ``snn.Leaky``, ``snn.Synaptic``, …
and this library's variational neurons) and collects, at every step of
every neuron layer, the mean spike it emitted and its firing probability
:math:`\pi`:

* a variational neuron in ``"sample"`` mode reports its exact
  :math:`\pi = \Phi\bigl((\mu - \theta)/\sqrt{v}\bigr)`, the probability that
  its Gaussian membrane crosses the threshold;
* any other neuron gets :math:`\pi = F\bigl((U - \theta)/s\bigr)` of the
  membrane it returns, in the noise model :math:`F` and at the scale
  :math:`s` of its estimator when that is one of this library's
  (:class:`~snntorch_bayes.surrogate.SpikeEstimator`), or in the ``noise``
  and ``scale`` given to :func:`record_firing` otherwise (snnTorch's own
  surrogates say nothing about noise); without them only its spikes are
  recorded.

The probabilities keep their autograd graph (``keep_graph=True``), so the
bias penalty (:meth:`FiringRecord.bias_penalty`) can join the loss.  The
hooks are removed when the context closes, and contexts nest: each records
independently.

Example::

    >>> import torch
    >>> import snntorch_bayes as sb
    >>> net = torch.nn.Sequential(sb.BayesLinear(4, 3), sb.VariationalLeaky(0.9))
    >>> with sb.record_firing(net) as record:
    ...     spk, mem = net(torch.rand(2, 4))
    >>> len(record.calls), 0.0 < record.mean_firing_probability().item() < 1.0
    (1, True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import snntorch as snn
import torch
from torch import nn

from snntorch_bayes._checks import check_positive
from snntorch_bayes.functional import bias_penalty, check_noise, firing_probability
from snntorch_bayes.surrogate import SpikeEstimator

__all__ = ["FiringCall", "FiringRecord", "record_firing"]


@dataclass(frozen=True)
class FiringCall:
    """One step of one neuron layer, as :func:`record_firing` saw it.

    :param name: the neuron's name in the recorded module (``""`` for the
        module itself)
    :param spike_rate: mean spike emitted over the batch and units
        (detached)
    :param size: number of spikes (batch times units)
    :param probability: the firing probabilities :math:`\\pi`, the spikes'
        shape, or ``None`` where no noise model is known
    :param p: the IW-ST exponent of the neuron's estimator, or ``None``
    """

    name: str
    spike_rate: torch.Tensor
    size: int
    probability: torch.Tensor | None
    p: float | None


class FiringRecord:
    """The steps recorded by :func:`record_firing`, in call order, and their
    summaries."""

    def __init__(self) -> None:
        self.calls: list[FiringCall] = []

    @property
    def probabilities(self) -> list[torch.Tensor]:
        r"""The firing probabilities of every call that has them."""
        return [c.probability for c in self.calls if c.probability is not None]

    def clear(self) -> None:
        """Forget what was recorded (the hooks stay while the context is open)."""
        self.calls.clear()

    def _with_probability(self) -> list[FiringCall]:
        calls = [c for c in self.calls if c.probability is not None]
        if not calls:
            raise ValueError(
                "nothing recorded with a firing probability: run the model inside record_firing() "
                "(variational neurons in 'sample' mode, or pass noise= and scale= for "
                "neurons whose estimator is not one of snntorch_bayes's)"
            )
        return calls

    def mean_firing_rate(self) -> torch.Tensor:
        r"""Mean spike :math:`\bar z` over every recorded unit, example and step."""
        if not self.calls:
            raise ValueError("nothing recorded: run the model inside record_firing()")
        total = sum(c.spike_rate * c.size for c in self.calls)
        return total / sum(c.size for c in self.calls)

    def by_layer(self) -> dict[str, torch.Tensor]:
        """Mean spike per neuron layer (module name), over examples and steps."""
        sums: dict[str, list] = {}
        for c in self.calls:
            acc = sums.setdefault(c.name, [0.0, 0])
            acc[0], acc[1] = acc[0] + c.spike_rate * c.size, acc[1] + c.size
        return {name: s / n for name, (s, n) in sums.items()}

    def mean_firing_probability(self) -> torch.Tensor:
        r"""Mean :math:`\pi` over every recorded unit, example and step."""
        calls = self._with_probability()
        total = sum(c.probability.sum() for c in calls)
        return total / sum(c.probability.numel() for c in calls)

    def bias_penalty(self, p: float | None = None) -> torch.Tensor:
        r"""The bias penalty :func:`~snntorch_bayes.functional.bias_penalty`
        averaged over every recorded unit, example and step, each at the
        exponent ``p`` of its neuron's estimator (or at ``p`` if given)."""
        calls = self._with_probability()
        total = 0.0
        for c in calls:
            exponent = c.p if p is None else p
            if exponent is None:
                raise ValueError(
                    f"neuron {c.name!r} has no IW-ST exponent p: pass p= to bias_penalty"
                )
            total = total + bias_penalty(c.probability, exponent) * c.probability.numel()
        return total / sum(c.probability.numel() for c in calls)


@contextlib.contextmanager
def record_firing(
    module: nn.Module,
    neurons: Iterable[nn.Module] | None = None,
    *,
    probabilities: bool = True,
    keep_graph: bool = True,
    noise: str | None = None,
    scale: float | None = None,
) -> Iterator[FiringRecord]:
    r"""Record the spikes and firing probabilities of every spiking neuron in
    ``module`` (itself included), or only of ``neurons``, while the context
    is open (see the module docstring for what :math:`\pi` is).

    :param neurons: the neurons to record; defaults to every
        ``snn.SpikingNeuron`` in ``module``
    :param probabilities: record :math:`\pi` (else only spikes, which keeps
        nothing of the graph: for a context around a whole training run)
    :param keep_graph: keep :math:`\pi`'s autograd graph (for a loss term)
    :param noise: ``"logistic"`` or ``"gaussian"``: the noise model of
        neurons whose estimator is not this library's
    :param scale: :math:`s > 0` for those neurons

    Example::

        >>> import snntorch as snn
        >>> import torch
        >>> from snntorch_bayes import record_firing
        >>> lif = snn.Leaky(beta=0.9)  # snnTorch's own surrogate
        >>> with record_firing(lif, noise="logistic", scale=0.25) as record:
        ...     spk, mem = lif(torch.tensor([0.5, 1.0, 1.5]))
        >>> record.calls[0].probability  # sigmoid((U - 1) / 0.25)
        tensor([0.1192, 0.5000, 0.8808])
        >>> record.mean_firing_rate()  # one of the three fired
        tensor(0.3333)
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if noise is not None:
        check_noise(noise)
    if scale is not None:
        scale = check_positive("scale", scale)
    if (noise is None) != (scale is None):
        raise ValueError("give noise and scale together, or neither")
    chosen = None if neurons is None else {id(m) for m in neurons}
    named = [
        (name, m)
        for name, m in module.named_modules()
        if isinstance(m, snn.SpikingNeuron) and (chosen is None or id(m) in chosen)
    ]
    record = FiringRecord()
    pending: dict[int, torch.Tensor] = {}

    def exact(neuron: nn.Module, prob: torch.Tensor) -> None:
        pending[id(neuron)] = prob if keep_graph else prob.detach()

    def on_output(name: str) -> Callable:
        def store(neuron: nn.Module, _args: tuple, out: object) -> None:
            spk, mem = out[:2] if isinstance(out, tuple) else (out, None)
            grad = getattr(neuron, "spike_grad", None)
            prob = pending.pop(id(neuron), None)
            if prob is None and probabilities and isinstance(mem, torch.Tensor):
                if isinstance(grad, SpikeEstimator):
                    model = grad.noise, grad.scale
                else:
                    model = None if noise is None else (noise, scale)
                if model is not None:
                    x = mem - neuron.threshold
                    prob = firing_probability(x if keep_graph else x.detach(), *model)
            record.calls.append(
                FiringCall(
                    name,
                    spk.detach().float().mean(),
                    spk.numel(),
                    prob,
                    getattr(grad, "p", None),
                )
            )

        return store

    handles = []
    try:
        for name, m in named:
            if probabilities and hasattr(m, "register_probability_hook"):
                handles.append(m.register_probability_hook(exact))
            handles.append(m.register_forward_hook(on_output(name)))
        yield record
    finally:
        for h in handles:
            h.remove()
