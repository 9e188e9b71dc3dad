r"""Model-level helpers for SBNNs: the KL term and the ELBO, mode switches,
Monte-Carlo prediction and export to a plain snnTorch network.

**The objective** (§3 of the :doc:`theory page </theory>`).  With :math:`N` training examples and a
data term that is a *mean over the batch* of per-example negative
log-likelihoods (as every snnTorch loss is), the loss minimised is

.. math::

    \mathcal L = \frac1B \sum_{i \in \text{batch}} -\log p(y_i \mid x_i, w)
    + \lambda_t \frac{\mathrm{KL}(q\,\|\,p)}{N},

i.e. :math:`-\mathrm{ELBO}/N` for :math:`\lambda_t = 1`, with the KL
**summed** over every weight (never averaged: an average would tie the KL's
weight to the layer sizes).  :math:`\lambda_t = \kappa \min(1, (t+1)/T_w)`:
a KL scale :math:`\kappa` and an optional linear warm-up (KL annealing).

**The default is tempered.**  :class:`ELBO` defaults to
:math:`\kappa = 0.1`, the setting the recipe study selected on validation
(``docs/recipe.md``: a 6-layer plain binary SBNN on Fashion-MNIST reached
81.3 % validation accuracy in 3 epochs with the full KL/N weight, 85.6 % at
0.1).  With :math:`\kappa < 1` the objective is *not* the ELBO but a
tempered (β-weighted) one: its optimum over Gaussians is the variational
fit to :math:`p(w) \, p(D \mid w)^{1/\kappa}`, a posterior colder than
Bayes'.  Pass ``kl_scale=1.0`` for the ELBO itself.
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from collections.abc import Callable, Iterator

import torch
from torch import nn

from snntorch_bayes._checks import check_bool
from snntorch_bayes.layers import MODES, Variational
from snntorch_bayes.neurons import detached_state

__all__ = [
    "ELBO",
    "compile",
    "kl_divergence",
    "mc_logits",
    "mixture_cross_entropy",
    "model_kl",
    "sampling",
    "set_mode",
    "to_snntorch",
]


def model_kl(module: nn.Module) -> torch.Tensor:
    r""":math:`\mathrm{KL}(q\,\|\,p)` of every variational layer in ``module``
    (itself included), **summed** over layers and over every weight and bias
    element (each layer's ``kl_divergence()``, i.e.
    ``torch.distributions.kl_divergence`` of its posteriors from its
    priors).  A model with no variational layer gives a zero tensor.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> net = torch.nn.Sequential(sb.BayesLinear(4, 3), sb.VariationalLeaky(0.9))
        >>> sb.model_kl(net).item() > 0
        True
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    total = None
    for m in module.modules():
        if isinstance(m, Variational):
            kl = m.kl_divergence()
            if kl is not None:
                total = kl if total is None else total + kl
    if total is None:
        p = next(module.parameters(), None)
        return torch.zeros((), device=None if p is None else p.device)
    return total


def kl_divergence(module: nn.Module) -> torch.Tensor:
    """Deprecated name of :func:`model_kl` (it shadowed
    ``torch.distributions.kl_divergence``); warns and calls it."""
    warnings.warn(
        "snntorch_bayes.kl_divergence is deprecated: use snntorch_bayes.model_kl",
        DeprecationWarning,
        stacklevel=2,
    )
    return model_kl(module)


class ELBO:
    r"""The negative (tempered) ELBO per training example:
    ``data_loss + kl_weight(step) * KL / num_train`` with
    :math:`\lambda_t = \kappa \min(1, (t+1)/T_w)` (see the module docstring
    for the convention).  The default :math:`\kappa = 0.1` is **tempered**:
    the objective is then not the ELBO; ``kl_scale=1.0`` gives the ELBO.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> net = sb.BayesLinear(4, 2)
        >>> elbo = sb.ELBO(num_train=60_000, warmup_steps=100, kl_scale=1.0)
        >>> data_loss = torch.tensor(2.3)
        >>> loss = elbo(data_loss, net, step=49)   # KL weight 50/100
        >>> elbo.kl_weight(step=49)
        0.5
        >>> bool(loss > data_loss)
        True

    :param num_train: :math:`N`, the number of training examples
    :param warmup_steps: KL annealing: the warm-up fraction
        :math:`\min(1, (t+1)/T_w)` for step :math:`t` (0-based); 0 for none.
        Defaults to 0
    :param kl_scale: :math:`\kappa > 0`, the KL's weight after the warm-up;
        below 1 the objective is a tempered ELBO, not the ELBO. Defaults to
        0.1, the recipe (``docs/recipe.md``)
    """

    def __init__(self, num_train: int, warmup_steps: int = 0, kl_scale: float = 0.1) -> None:
        for name, value, low in (("num_train", num_train, 1), ("warmup_steps", warmup_steps, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        ok = isinstance(kl_scale, (int, float)) and not isinstance(kl_scale, bool)
        if not (ok and math.isfinite(kl_scale) and kl_scale > 0):
            raise ValueError(f"kl_scale must be a finite number > 0, got {kl_scale!r}")
        self.num_train = num_train
        self.warmup_steps = warmup_steps
        self.kl_scale = float(kl_scale)

    def kl_weight(self, step: int | None = None) -> float:
        r""":math:`\lambda_t`: ``kl_scale``, times the warm-up fraction when
        there is a warm-up and ``step`` is given."""
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
            raise ValueError(f"step must be None or an integer >= 0, got {step!r}")
        if not self.warmup_steps or step is None:
            return self.kl_scale
        return self.kl_scale * min(1.0, (step + 1) / self.warmup_steps)

    def __call__(
        self, data_loss: torch.Tensor, model: nn.Module, step: int | None = None
    ) -> torch.Tensor:
        """``data_loss + kl_weight(step) * model_kl(model) / num_train``;
        ``data_loss`` must be a scalar (the mean over the batch)."""
        if not isinstance(data_loss, torch.Tensor) or data_loss.dim() != 0:
            shape = tuple(data_loss.shape) if isinstance(data_loss, torch.Tensor) else None
            raise ValueError(
                "data_loss must be a scalar tensor (reduce it over the batch, e.g. "
                f"reduction='mean'), got {type(data_loss).__name__} of shape {shape}"
            )
        return data_loss + self.kl_weight(step) * model_kl(model) / self.num_train

    def __repr__(self) -> str:
        return (
            f"ELBO(num_train={self.num_train}, warmup_steps={self.warmup_steps}, "
            f"kl_scale={self.kl_scale:g})"
        )


def set_mode(module: nn.Module, mode: str) -> nn.Module:
    """Set the mode (``"auto"``, ``"sample"`` or ``"mean"``) of every
    variational module in ``module``; returns ``module``.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> net = torch.nn.Sequential(sb.BayesLinear(4, 3), sb.VariationalLeaky(0.9))
        >>> sb.set_mode(net, "mean")[1].sampling
        False
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    for m in module.modules():
        if isinstance(m, Variational):
            m.set_mode(mode)
    return module


@contextlib.contextmanager
def sampling(module: nn.Module) -> Iterator[nn.Module]:
    """Context in which every variational module samples (Monte-Carlo
    prediction), restoring each module's mode on exit.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> fc = sb.BayesLinear(4, 3).eval()
        >>> with sb.sampling(fc):
        ...     type(fc(torch.rand(1, 4))).__name__
        'GaussianCurrent'
    """
    saved = [(m, m.mode) for m in module.modules() if isinstance(m, Variational)]
    try:
        for m, _ in saved:
            m.set_mode("sample")
        yield module
    finally:
        for m, mode in saved:
            m.set_mode(mode)


@torch.no_grad()
def mc_logits(
    forward: Callable[[], torch.Tensor], module: nn.Module, num_samples: int
) -> torch.Tensor:
    """Stack the logits of ``num_samples`` sampled passes ``forward()`` of
    ``module`` into ``[K, ...]`` (no gradients; every variational module
    samples).  Average them with
    :func:`~snntorch_bayes.calibration.bayesian_model_average`.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> fc, x = sb.BayesLinear(4, 3), torch.rand(2, 4)
        >>> sb.mc_logits(lambda: fc(x).sample(), fc, 5).shape
        torch.Size([5, 2, 3])
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be an integer >= 1, got {num_samples!r}")
    with sampling(module):
        return torch.stack([forward() for _ in range(num_samples)])


def mixture_cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""The negative log-likelihood of the model average of :math:`K`
    sampled passes, averaged over the batch:

    .. math::

        -\frac1B \sum_{i=1}^{B} \log \frac1K \sum_{k=1}^{K}
        \operatorname{softmax}(\ell_{k,i})_{y_i},

    computed stably with ``logsumexp``.  The ELBO's data term is instead the
    mean of the :math:`K` cross-entropies, which trains every sampled network
    on its own; this one trains their average (the "predictive" or
    PAC\ :sup:`m`-Bayes objective of Masegosa, 2020, and Morningstar et al.,
    2022).  With :math:`K = 1` the two agree.  As a data term in
    :class:`ELBO` the objective is no longer the ELBO.  What it does to the
    model average's calibration is measured in ``docs/recipe.md``.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> logits = torch.tensor([[[2.0, 0.0]], [[0.0, 2.0]]])  # K=2, B=1, C=2
        >>> round(float(sb.mixture_cross_entropy(logits, torch.tensor([0]))), 4)
        0.6931

    :param logits: ``[K, B, C]``, the logits of :math:`K` sampled passes
        over the same batch (from one forward pass of the batch repeated
        :math:`K` times, or from :math:`K` passes)
    :param targets: class labels ``[B]`` in ``[0, C)``, integer dtype
    """
    if not isinstance(logits, torch.Tensor) or logits.dim() != 3:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else None
        raise ValueError(f"logits must be a [K, B, C] tensor, got {shape}")
    if (
        not isinstance(targets, torch.Tensor)
        or targets.shape != logits.shape[1:2]
        or targets.dtype.is_floating_point
        or targets.dtype == torch.bool
    ):
        raise ValueError(
            f"targets must be integer labels of shape [{logits.shape[1]}], got "
            f"{getattr(targets, 'dtype', type(targets).__name__)} "
            f"{tuple(getattr(targets, 'shape', ()))}"
        )
    k = logits.shape[0]
    logp = logits.log_softmax(-1)
    picked = logp.gather(-1, targets.to(logits.device).expand(k, -1).unsqueeze(-1)).squeeze(-1)
    return (math.log(k) - torch.logsumexp(picked, 0)).mean()


def compile(module: nn.Module, *, fallback_random: bool = True, **kwargs: object) -> nn.Module:
    """``torch.compile(module, **kwargs)`` set up for SBNNs: the compiled
    graphs draw the posterior noise with ATen's random-number generator, as
    eager code does (inductor's ``fallback_random``), rather than with
    inductor's own kernels.  On CPU those kernels made the compiled SBNN
    slower than the eager one (``benchmarks/sbnn_step_time.py``); with
    ATen's generator it is faster, and a compiled model draws exactly the
    noise the eager one draws under the same seed.  The variational layers
    and neurons compile without a graph break (``fullgraph=True`` works).

    :param module: the model (or any callable ``torch.compile`` takes)
    :param fallback_random: draw with ATen's generator. Defaults to True
    :param kwargs: passed to ``torch.compile``; inductor ``options`` given
        there are kept

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> net = torch.nn.Sequential(sb.BayesLinear(4, 3), sb.VariationalLeaky(0.9))
        >>> fast = sb.compile(net)  # compiles on the first call
    """
    options = dict(kwargs.pop("options", None) or {})
    options.setdefault("fallback_random", check_bool("fallback_random", fallback_random))
    return torch.compile(module, options=options, **kwargs)


def to_snntorch(module: nn.Module, sample_input: torch.Tensor | None = None) -> nn.Module:
    """A plain snnTorch copy of ``module``: every variational module replaced by
    its deterministic twin (``nn.Linear`` / ``nn.Conv2d`` with the posterior
    means, ``snn.Leaky`` / ``snn.Synaptic``, ``nn.MaxPool2d`` ...).  Its
    outputs equal ``module``'s in ``"mean"`` mode exactly.  ``module`` is not
    changed.

    NIR (``snntorch.export_nir.export_to_nir``) needs every neuron's ``beta``,
    ``alpha`` and ``threshold`` as one value per neuron: pass
    ``sample_input`` (one batch, run once in ``"mean"`` mode) and they are
    broadcast to the neurons' shapes (the outputs do not change).

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> net = torch.nn.Sequential(sb.BayesLinear(4, 3),
        ...                           sb.VariationalLeaky(0.9, init_hidden=True))
        >>> plain = sb.to_snntorch(net)
        >>> type(plain[0]).__name__, type(plain[1]).__name__
        ('Linear', 'Leaky')
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    shapes = _neuron_shapes(module, sample_input) if sample_input is not None else {}
    with detached_state(module):
        twin = copy.deepcopy(module)
    _replace(twin, module, shapes)
    if isinstance(module, Variational):
        twin = module.to_snntorch()
        _broadcast(twin, shapes.get(module))
    return twin.train(module.training)


def _replace(twin: nn.Module, original: nn.Module, shapes: dict) -> None:
    for (name, child), source in zip(list(twin.named_children()), original.children(), strict=True):
        if isinstance(source, Variational):
            new = source.to_snntorch()
            _broadcast(new, shapes.get(source))
            setattr(twin, name, new)
        else:
            _replace(child, source, shapes)


def _neuron_shapes(module: nn.Module, sample_input: torch.Tensor) -> dict:
    """The per-example shape of every variational neuron's output in one
    ``"mean"``-mode pass."""
    from snntorch_bayes.neurons import VariationalLeaky, VariationalSynaptic

    neurons = [
        m for m in module.modules() if isinstance(m, (VariationalLeaky, VariationalSynaptic))
    ]
    shapes: dict = {}
    hooks = [
        m.register_forward_hook(
            lambda m, args, out: shapes.__setitem__(m, tuple(args[0].shape[1:]))
        )
        for m in neurons
    ]
    modes = [(m, m.mode) for m in module.modules() if isinstance(m, Variational)]
    try:
        set_mode(module, "mean")
        with torch.no_grad():
            module(sample_input)
    finally:
        for h in hooks:
            h.remove()
        for m, mode in modes:
            m.set_mode(mode)
        for m in neurons:
            m.reset_mem()
    return shapes


def _broadcast(neuron: nn.Module, shape: tuple | None) -> None:
    """Expand ``beta``, ``alpha`` and ``threshold`` to ``shape``."""
    if shape is None:
        return
    for name in ("alpha", "beta", "threshold"):
        value = getattr(neuron, name, None)
        if value is None:
            continue
        expanded = value.detach().expand(shape).clone()
        if isinstance(value, nn.Parameter):
            setattr(neuron, name, nn.Parameter(expanded))
        else:
            setattr(neuron, name, expanded)
