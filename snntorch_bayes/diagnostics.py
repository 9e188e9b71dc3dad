r"""Exact enumeration for small stochastic binary networks.

For a network with :math:`n \lesssim 16` noisy binary units every joint
outcome :math:`c \in \{0,1\}^n` can be listed.  That gives, with no sampling
error,

* the exact gradient of the expected loss,

  .. math::

      \nabla_\theta\, \mathbb E[L] = \nabla_\theta \sum_c P_\theta(c)\,
      L_\theta(c),

* and the exact mean and variance of any single-sample estimator
  :math:`\hat g(c)`, which is a deterministic function of the outcome:

  .. math::

      \mathbb E[\hat g] = \sum_c P(c)\,\hat g(c),\qquad
      \mathrm{Var}[\hat g] = \sum_c P(c)\,\bigl(\hat g(c) - \mathbb
      E[\hat g]\bigr)^2 .

This is how the claims of §2 of the :doc:`theory page </theory>` are tested, and a diagnostic
for choosing an estimator on a problem of one's own.

Example::

    >>> import torch
    >>> from snntorch_bayes import diagnostics, surrogate
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = diagnostics.BinaryMLP([3, 4, 2], noise="logistic", scale=1.0)
    >>> x, y = torch.randn(3, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    >>> m = diagnostics.estimator_moments(net, surrogate.iw_st(p=1.0, scale=1.0), x, y)
    >>> float(m.bias["layers.0.weight"].abs().max()) < 1e-10  # quadratic loss
    True
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch
from torch import nn

from snntorch_bayes._checks import check_positive
from snntorch_bayes.functional import check_noise, log_cdf
from snntorch_bayes.surrogate import GumbelRaoMC, SpikeEstimator

__all__ = [
    "MAX_UNITS",
    "BinaryMLP",
    "EstimatorMoments",
    "all_outcomes",
    "compare_estimators",
    "estimator_moments",
    "exact_gradient",
    "squared_error",
]

#: Largest number of stochastic units enumerated (2**20 joint outcomes).
MAX_UNITS = 20

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def squared_error(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    r"""Per-outcome squared error :math:`\sum_j (o_j - y_j)^2`: a loss
    quadratic in the spikes of the last stochastic layer."""
    return ((output - target) ** 2).sum(-1)


def all_outcomes(n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Every joint outcome of ``n`` binary units, a bool tensor
    ``[2**n, n]`` (row ``c`` is the binary expansion of ``c``).

    Example::

        >>> from snntorch_bayes.diagnostics import all_outcomes
        >>> all_outcomes(2).int().tolist()
        [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    if not 0 <= n <= MAX_UNITS:
        raise ValueError(f"n must be in [0, {MAX_UNITS}] to enumerate, got {n}")
    codes = torch.arange(2**n, device=device)
    bits = 2 ** torch.arange(n - 1, -1, -1, device=device)
    return (codes.unsqueeze(-1) & bits) > 0


class BinaryMLP(nn.Module):
    r"""A small fully connected network of noisy binary units.

    .. math::

        h_l = W_l z_{l-1} + b_l,\quad z_l = H(h_l + s\varepsilon_l)
        \ (l < L),\qquad o = W_L z_{L-1} + b_L,

    with :math:`z_0 = x` the input.  Every hidden unit is stochastic, the
    readout :math:`o` is linear.  ``sizes = [d_in, n_1, ..., n_{L-1}, d_out]``.

    :param sizes: layer widths, input first, readout last (at least 3)
    :param noise: ``"logistic"`` or ``"gaussian"``
    :param scale: noise scale :math:`s > 0`
    :param dtype: parameter dtype. Defaults to float64 (exact tests)

    Example::

        >>> from snntorch_bayes.diagnostics import BinaryMLP
        >>> BinaryMLP([2, 3, 1]).n_units
        3
    """

    def __init__(
        self,
        sizes: Sequence[int],
        noise: str = "logistic",
        scale: float = 1.0,
        dtype: torch.dtype = torch.float64,
    ) -> None:
        super().__init__()

        def width(n: object) -> bool:
            return isinstance(n, numbers.Integral) and not isinstance(n, bool) and n >= 1

        listed = isinstance(sizes, Sequence) and not isinstance(sizes, (str, bytes))
        if not listed or len(sizes) < 3 or not all(map(width, sizes)):
            raise ValueError(
                "sizes must list >= 3 widths, each an integer >= 1 (input, hidden..., "
                f"readout), got {sizes!r}"
            )
        check_noise(noise)
        scale = check_positive("scale", scale)
        self.sizes = [int(n) for n in sizes]
        self.noise = noise
        self.scale = float(scale)
        self.n_units = sum(self.sizes[1:-1])
        if self.n_units > MAX_UNITS:
            raise ValueError(
                f"{self.n_units} stochastic units cannot be enumerated; at most {MAX_UNITS}"
            )
        self.layers = nn.ModuleList(
            nn.Linear(i, o, dtype=dtype) for i, o in itertools.pairwise(self.sizes)
        )

    def forward(
        self,
        x: torch.Tensor,
        outcomes: torch.Tensor,
        estimator: SpikeEstimator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
        """Run every joint outcome at once.

        :param x: one input, shape ``[d_in]``
        :param outcomes: bool ``[C, n_units]``, the spikes of every hidden unit
        :param estimator: if given, the spikes carry its backward pass;
            otherwise they are constants
        :return: readout ``[C, d_out]``, log-probability of each outcome
            ``[C]``, the pre-activations and the inputs of every layer
        """
        if x.shape != (self.sizes[0],):
            raise ValueError(f"x must have shape ({self.sizes[0]},), got {tuple(x.shape)}")
        if outcomes.dim() != 2 or outcomes.shape[1] != self.n_units:
            raise ValueError(
                f"outcomes must have shape [C, {self.n_units}], got {tuple(outcomes.shape)}"
            )
        z = x.expand(outcomes.shape[0], -1)
        log_prob = torch.zeros(outcomes.shape[0], dtype=x.dtype, device=x.device)
        pre, inputs, start = [], [], 0
        for layer in self.layers[:-1]:
            inputs.append(z)
            h = layer(z)
            pre.append(h)
            c = outcomes[:, start : start + layer.out_features]
            start += layer.out_features
            a = h / self.scale
            log_prob = log_prob + log_cdf(torch.where(c, a, -a), self.noise).sum(-1)
            z = c.to(h.dtype) if estimator is None else estimator.estimate(h, c)
        inputs.append(z)
        return self.layers[-1](z), log_prob, pre, inputs


def _check_estimator(net: BinaryMLP, estimator: SpikeEstimator) -> None:
    if isinstance(estimator, GumbelRaoMC):
        raise ValueError(
            "GumbelRaoMC samples inside its backward pass, so its gradient is "
            "not a function of the outcome; enumerate GumbelRao (AGR) instead"
        )
    if (estimator.noise, estimator.scale) != (net.noise, net.scale):
        raise ValueError(
            f"the estimator models noise={estimator.noise!r}, "
            f"scale={estimator.scale} but the network has noise={net.noise!r}, "
            f"scale={net.scale}; build them with the same noise and scale"
        )


def exact_gradient(
    net: BinaryMLP, x: torch.Tensor, target: torch.Tensor, loss: Loss = squared_error
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    r"""Exact expected loss :math:`\mathbb E[L]` and its gradient with
    respect to every parameter of ``net``, by enumeration.

    :param loss: maps readouts ``[C, d_out]`` and ``target`` to per-outcome
        losses ``[C]``. Defaults to :func:`squared_error`
    :return: ``(E[L], {parameter name: gradient})``
    """
    outcomes = all_outcomes(net.n_units, device=x.device)
    names = [name for name, _ in net.named_parameters()]
    params = [param for _, param in net.named_parameters()]
    with torch.enable_grad():
        out, log_prob, _, _ = net(x, outcomes)
        expected = (log_prob.exp() * loss(out, target)).sum()
        grads = torch.autograd.grad(expected, params)
    return expected.detach(), dict(zip(names, grads, strict=True))


class EstimatorMoments(NamedTuple):
    """Exact moments of an estimator, each a dict keyed by parameter name."""

    mean: dict[str, torch.Tensor]
    variance: dict[str, torch.Tensor]
    exact: dict[str, torch.Tensor]
    bias: dict[str, torch.Tensor]


def estimator_moments(
    net: BinaryMLP,
    estimator: SpikeEstimator,
    x: torch.Tensor,
    target: torch.Tensor,
    loss: Loss = squared_error,
) -> EstimatorMoments:
    r"""Exact mean, (elementwise) variance and bias of ``estimator``'s
    gradient for every parameter of ``net``.

    The estimate for outcome :math:`c` is the backward pass of
    :math:`L(c)` with the spikes fixed to :math:`c` and the estimator's
    surrogate derivative at every unit.  Per-outcome parameter gradients of
    the linear layers are formed from the per-outcome pre-activation
    gradients :math:`\delta_l(c)` as :math:`\delta_l(c)\,z_{l-1}(c)^\top`.
    """
    _check_estimator(net, estimator)
    outcomes = all_outcomes(net.n_units, device=x.device)
    with torch.enable_grad():
        out, log_prob, pre, inputs = net(x, outcomes, estimator)
        losses = loss(out, target)
        if losses.shape != (outcomes.shape[0],):
            raise ValueError(
                "loss must return one value per outcome, shape "
                f"[{outcomes.shape[0]}], got {tuple(losses.shape)}"
            )
        deltas = torch.autograd.grad(losses.sum(), [*pre, out])
    prob = log_prob.detach().exp()
    _, exact = exact_gradient(net, x, target, loss)
    mean, variance, bias = {}, {}, {}
    for i, (delta, z_in) in enumerate(zip(deltas, inputs, strict=True)):
        per_outcome = {
            f"layers.{i}.weight": torch.einsum("co,ci->coi", delta, z_in.detach()),
            f"layers.{i}.bias": delta,
        }
        for name, g in per_outcome.items():
            w = prob.view(-1, *([1] * (g.dim() - 1)))
            m = (w * g).sum(0)
            mean[name] = m
            variance[name] = (w * (g - m) ** 2).sum(0)
            bias[name] = m - exact[name]
    return EstimatorMoments(mean, variance, exact, bias)


def compare_estimators(
    net: BinaryMLP,
    estimators: dict[str, SpikeEstimator],
    x: torch.Tensor,
    target: torch.Tensor,
    loss: Loss = squared_error,
) -> list[dict[str, float]]:
    r"""One row per estimator: squared bias norm
    :math:`\|\mathbb E\hat g - \nabla\|^2`, total variance
    :math:`\sum \mathrm{Var}\,\hat g`, and their sum (the mean squared
    error), over all parameters of the stochastic layers (the readout's
    gradient does not pass through any estimator).

    Example::

        >>> import torch
        >>> from snntorch_bayes import diagnostics, surrogate
        >>> net = diagnostics.BinaryMLP([2, 3, 1])
        >>> rows = diagnostics.compare_estimators(
        ...     net, {"ST": surrogate.straight_through(scale=1.0)},
        ...     torch.ones(2, dtype=torch.float64), torch.ones(1, dtype=torch.float64))
        >>> sorted(rows[0])
        ['bias2', 'estimator', 'mse', 'variance']
    """
    readout = f"layers.{len(net.layers) - 1}."
    rows = []
    for label, est in estimators.items():
        m = estimator_moments(net, est, x, target, loss)
        keys = [k for k in m.bias if not k.startswith(readout)]
        bias2 = float(sum((m.bias[k] ** 2).sum() for k in keys))
        var = float(sum(m.variance[k].sum() for k in keys))
        rows.append({"estimator": label, "bias2": bias2, "variance": var, "mse": bias2 + var})
    return rows
