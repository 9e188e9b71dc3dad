r"""Importance-weighted straight-through (IW-ST) estimators as drop-in
``spike_grad`` objects for snnTorch neurons.

Every estimator here treats the spike as a *noisy binary neuron*
(§1 of the :doc:`theory page </theory>`): :math:`z = H(x + s\varepsilon)`, with
:math:`x = U - U_{\rm thr}` the argument snnTorch passes to ``spike_grad``.
The backward pass is the single-sample estimator of eq. (2),

.. math::

    \frac{\partial z}{\partial x} \;\leftarrow\; \frac{f(x/s)}{s}\,w(z),

and the estimators differ only in the weight :math:`w(z)` of the outcome
:math:`z \in \{0, 1\}` that was emitted:

============================ ===================================================
:func:`straight_through`     :math:`w = 1`
:func:`iw_st`                :math:`w = \min((2P(z))^{-p}, w_{\max})`, eq. (3)
:func:`gumbel_rao`           analytic Gumbel-Rao (AGR), eq. (4), no sampling
:func:`gumbel_rao_mc`        Monte-Carlo Gumbel-Rao, :math:`K` conditional
                             samples (the reference AGR is tested against)
============================ ===================================================

Usage is exactly that of :mod:`snntorch.surrogate`::

    >>> import snntorch as snn
    >>> from snntorch_bayes import surrogate
    >>> lif = snn.Leaky(beta=0.95, spike_grad=surrogate.iw_st(p=1.0))

**Forward pass and** ``sample``. With ``sample=False`` (the default) the
forward pass is snnTorch's deterministic Heaviside, :math:`z = H(x)`
(strictly :math:`x > 0`), and the backward is the estimator evaluated at that
outcome; this is a drop-in replacement for ``fast_sigmoid`` and nothing else
in a model changes.  With ``sample=True`` the neuron fires stochastically,
:math:`z = \mathbb 1[u < F(x/s)]`.

**sample=True inside vanilla snnTorch neurons.** ``snn.Leaky``,
``snn.Synaptic`` and ``snn.RLeaky`` call ``spike_grad`` twice per step: once
on the *previous* membrane to compute the reset, once on the new membrane to
fire.  An independent draw per call would let resets disagree with emitted
spikes (snnTorch issue #366), so a sampled estimator keeps a small state:

* the calls alternate, reset then fire; every *fresh* draw is numbered
  (``draws``) and its uniforms :math:`u` are a function of the element's
  position, the estimator's ``seed`` and that number
  (:func:`~snntorch_bayes.functional.counter_uniform`), not of the membrane;
* a fire call's draw stays *pending*, filed under a fingerprint of its
  input; the next reset call on a bit-identical input (it sees exactly the
  membrane the fire call saw) repeats that draw, so the reset equals the
  emitted spike, and consumes it.

So a neuron whose membrane does not change from step to step (at rest,
under constant input) still fires independently with probability
:math:`F(x/s)` every step, each Monte-Carlo pass draws new spikes, and up to
:data:`PENDING_DRAWS` neuron layers may share one estimator.  Consequences:

* with ``reset_delay=True`` (snnTorch's default) every reset at step
  :math:`t \ge 1` equals the spike emitted at step :math:`t-1`; the reset
  at step 0 is a fresh draw at the initial membrane (usually 0, so with
  probability :math:`F(-U_{\rm thr}/s)`);
* called directly (outside a neuron), the calls are still read as
  reset/fire pairs: an odd-numbered call on the very input of the call
  before it repeats that call's spikes; inputs that change from call to
  call always draw fresh;
* the state (``seed``, ``draws``, ``calls``, ``pending``) is in the ``state_dict``, so a
  reloaded checkpoint continues the saved stream exactly, and
  :func:`reseed` with a seeded generator makes a run reproducible;
* ``reset_delay=False`` and ``inhibition=True`` re-evaluate the reset on a
  modified membrane in snnTorch itself; do not combine them with
  ``sample=True``.

A neuron that resets from the spike it emitted, instead of calling
``spike_grad`` again, needs none of this.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import nn

from snntorch_bayes._checks import check_bool, check_positive, check_real
from snntorch_bayes.functional import (
    check_noise,
    counter_uniform,
    cubic_table,
    fingerprint,
    firing_probability,
    gumbel_rao_coefficient,
    gumbel_rao_mc_coefficient,
    gumbel_rao_table,
    iw_st_coefficient,
)

__all__ = [
    "IWST",
    "MIN_SCALE",
    "PENDING_DRAWS",
    "EstimatorConfig",
    "GumbelRao",
    "GumbelRaoConfig",
    "GumbelRaoMC",
    "GumbelRaoMCConfig",
    "IWSTConfig",
    "SpikeEstimator",
    "StraightThrough",
    "gumbel_rao",
    "gumbel_rao_mc",
    "iw_st",
    "reseed",
    "straight_through",
]


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------


#: the smallest noise scale an estimator takes: below it float32 rounds the
#: scale (or the density over it) to 0 or infinity and the gradients are NaN
MIN_SCALE = 1e-30


def _check_scale(value: object) -> float:
    value = check_positive("scale", value)
    if value < MIN_SCALE:
        raise ValueError(
            f"scale must be in [{MIN_SCALE:g}, inf) (float32 cannot hold a smaller noise "
            f"scale's density), got {value!r}"
        )
    return value


# --------------------------------------------------------------------------
# Configurations: the hyper-parameters of each estimator's backward pass
# --------------------------------------------------------------------------


class IWSTConfig(NamedTuple):
    """The backward pass of :class:`IWST` (immutable)."""

    noise: str
    scale: float
    p: float
    max_weight: float | None

    def coefficient(
        self, x: torch.Tensor, z: torch.Tensor | None, table: torch.Tensor | None = None
    ) -> torch.Tensor:
        """:func:`~snntorch_bayes.functional.iw_st_coefficient`."""
        return iw_st_coefficient(x, z, self.noise, self.scale, self.p, self.max_weight)


class GumbelRaoConfig(NamedTuple):
    """The backward pass of :class:`GumbelRao` (immutable)."""

    scale: float
    tau: float

    def coefficient(
        self, x: torch.Tensor, z: torch.Tensor | None, table: torch.Tensor | None = None
    ) -> torch.Tensor:
        """:func:`~snntorch_bayes.functional.gumbel_rao_coefficient`."""
        return gumbel_rao_coefficient(x, z, self.scale, self.tau, table)


class GumbelRaoMCConfig(NamedTuple):
    """The backward pass of :class:`GumbelRaoMC` (immutable)."""

    scale: float
    tau: float
    k: int

    def coefficient(
        self, x: torch.Tensor, z: torch.Tensor | None, table: torch.Tensor | None = None
    ) -> torch.Tensor:
        """:func:`~snntorch_bayes.functional.gumbel_rao_mc_coefficient`."""
        return gumbel_rao_mc_coefficient(x, z, self.scale, self.tau, self.k)


EstimatorConfig = IWSTConfig | GumbelRaoConfig | GumbelRaoMCConfig


def _coefficient(
    config: EstimatorConfig,
    x: torch.Tensor,
    z: torch.Tensor | None,
    table: torch.Tensor | None = None,
) -> torch.Tensor:
    """``config``'s :math:`\\partial z/\\partial x` at outcome ``z`` (``None``:
    the Heaviside outcome ``x > 0``); half precision is computed in float32."""
    if x.dtype not in (torch.float32, torch.float64):
        z = None if z is None else z.float()
        return config.coefficient(x.float(), z, table).to(x.dtype)
    return config.coefficient(x, z, table)


#: how many fresh draws an estimator with ``sample=True`` keeps pending for
#: snnTorch's reset call: the number of neuron layers that may share one
#: estimator (each layer's draw waits for one time step of the others')
PENDING_DRAWS = 64
#: the buffers that make up the sampling state
_STATE = ("seed", "draws", "calls", "pending")
#: the attributes an estimator's configuration is made of
_HYPER_PARAMETERS = frozenset({"noise", "scale", "p", "max_weight", "tau", "k"})


def _estimator_function(config: EstimatorConfig, heaviside: bool) -> type[torch.autograd.Function]:
    """The autograd function of one estimator configuration.

    The hyper-parameters are closed over as Python constants rather than
    passed to ``apply``: ``torch.compile`` then specialises on them instead
    of lifting floats into the graph (which fails inside ``backward``).
    Each estimator builds its two (Heaviside and sampled outcome) when it is
    built and holds them itself, so nothing accumulates in a global cache
    and a compiled forward pass only reads an attribute.
    """

    class _Estimator(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, z, table):
            if z is None:  # Heaviside: compare straight into x's dtype (on a CPU
                # several times faster than a bool tensor converted afterwards)
                spikes = torch.gt(x, 0, out=torch.empty_like(x))
            else:  # sampled spikes arrive as x's dtype; estimate() passes bools
                spikes = z.to(x.dtype)
            # the Heaviside outcome is implied by x; otherwise keep the spikes
            ctx.save_for_backward(x, None if heaviside else spikes, table)
            return spikes

        @staticmethod
        def backward(ctx, grad_output):
            x, z, table = ctx.saved_tensors
            return _coefficient(config, x, z, table).mul_(grad_output), None, None

    return _Estimator


# --------------------------------------------------------------------------
# Estimator objects
# --------------------------------------------------------------------------


class SpikeEstimator(nn.Module):
    r"""Base class of the IW-ST estimator family.

    An estimator is a ``spike_grad`` callable: ``estimator(x)`` returns
    spikes :math:`z \in \{0,1\}` of ``x``'s shape, dtype and device, with the
    estimator's gradient attached.  It is an :class:`torch.nn.Module`, so a
    neuron that receives it registers it as a submodule: it moves with
    ``.to(device)``, pickles with the model, and prints its
    hyper-parameters; called on its own with ``sample=True`` it is moved
    like any module (an input on another device than its sampling state
    raises, naming the ``.to`` to call).  Its sampling state (the buffers
    ``seed``, ``draws`` and ``pending``; see the module docstring) is saved
    in the ``state_dict`` only with ``sample=True``, and a table for
    :class:`GumbelRao` never is,
    so a deterministic estimator's ``state_dict`` keys match a model built
    with an snnTorch surrogate; loading a checkpoint without the sampling
    state keeps the estimator's own.

    Subclasses define :attr:`config`.  Useful methods for analysis:

    * :meth:`firing_probability` -- :math:`\pi = F(x/s)`;
    * :meth:`grad_coefficient` -- the estimator's :math:`\partial z /
      \partial x` for a given outcome;
    * :meth:`estimate` -- spikes equal to a *given* outcome with the
      estimator's backward (used by :mod:`snntorch_bayes.diagnostics`).
    """

    noise: str
    scale: float

    def __init__(self, noise: str, scale: float, sample: bool) -> None:
        super().__init__()
        check_noise(noise)
        self.noise = noise
        self.scale = _check_scale(scale)
        # the sampling state (see the module docstring): 0 until the first
        # draw or reseed(); building an estimator never touches torch's RNG,
        # so swapping one in for an snnTorch surrogate changes no initialisation
        self.register_buffer("seed", torch.zeros((), dtype=torch.int64))
        self.register_buffer("draws", torch.zeros((), dtype=torch.int64))
        self.register_buffer("calls", torch.zeros((), dtype=torch.int64))
        self.register_buffer("pending", torch.zeros(2, PENDING_DRAWS, dtype=torch.int64))
        self.sample = check_bool("sample", sample)

    @property
    def sample(self) -> bool:
        """Whether the forward pass samples; the sampling state is part of the
        ``state_dict`` only then."""
        return self._sample

    @sample.setter
    def sample(self, value: bool) -> None:
        self._sample = check_bool("sample", value)
        for name in _STATE:
            if self._sample:
                self._non_persistent_buffers_set.discard(name)
            else:
                self._non_persistent_buffers_set.add(name)

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ) -> None:
        # a checkpoint saved with a deterministic estimator or an snnTorch
        # surrogate has no sampling state: keep ours rather than fail
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        for name in _STATE:
            if prefix + name in missing_keys:
                missing_keys.remove(prefix + name)

    def __setattr__(self, name: str, value: object) -> None:
        # the backward pass is built from the hyper-parameters at
        # construction: changing one afterwards would be silently ignored
        if name in _HYPER_PARAMETERS and "_functions" in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}.{name} is fixed at construction: build a new "
                f"estimator instead (e.g. surrogate.iw_st({name}=...))"
            )
        super().__setattr__(name, value)

    @property
    def config(self) -> EstimatorConfig:
        """The hyper-parameters of the backward pass, as an immutable
        (hashable, comparable) tuple."""
        raise NotImplementedError

    def _table(self) -> torch.Tensor | None:
        """A tabulated function the backward pass reads, if any."""
        return None

    def _prepare(self) -> None:
        """Create the autograd functions now, outside any compiled region:
        ``_functions[heaviside]``."""
        config = self.config
        self.__dict__["_functions"] = (
            _estimator_function(config, False),
            _estimator_function(config, True),
        )

    def __getstate__(self) -> dict:
        # the autograd functions are local classes: rebuilt on unpickling
        return {k: v for k, v in super().__getstate__().items() if k != "_functions"}

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._prepare()

    def firing_probability(self, x: torch.Tensor) -> torch.Tensor:
        r""":math:`\pi = F(x/s)`, the probability the unit fires."""
        return firing_probability(x, self.noise, self.scale)

    def outcome(self, x: torch.Tensor) -> torch.Tensor:
        r"""The emitted outcome as a bool tensor: :math:`x > 0` if not
        ``sample``, else :math:`u < F(x/s)`: the spikes of the pending draw
        on this very input if there is one (what the last fire call on it
        emitted), a fresh draw otherwise; nothing is consumed (see the
        module docstring; firing probabilities up to :math:`2^{-24}`, or
        :math:`2^{-33}` in float64, never fire)."""
        if not self.sample:
            return x > 0
        return self._draw(x, torch.empty_like(x, dtype=torch.bool), bookkeeping=False)

    def _draw(self, x: torch.Tensor, out: torch.Tensor, bookkeeping: bool = True) -> torch.Tensor:
        """The sampled outcome :math:`u < F(x/s)`, written into ``out`` (of
        any dtype: the forward pass writes spikes of ``x``'s dtype directly).

        snnTorch's neurons call ``spike_grad`` in pairs, reset then fire, so
        the calls alternate.  A reset call (odd call) whose input is
        bit-identical to that of a pending fire draw (the oldest, if several)
        repeats that draw and consumes it; any other call draws fresh, and a
        fresh fire draw (even call) is kept pending for the next step's
        reset.  Without ``bookkeeping`` (:meth:`outcome`) any pending draw
        may be repeated, nothing is consumed or filed and the alternation is
        left alone.  All of it is tensor arithmetic (no Python branch on
        values), so ``torch.compile`` sees no graph break."""
        if self.pending.device != x.device:
            raise RuntimeError(
                f"{type(self).__name__}(sample=True) keeps its sampling state on "
                f"{self.pending.device}, but its input is on {x.device}: move the "
                f"estimator (or the neuron or network holding it) with .to('{x.device}')"
            )
        key = fingerprint(x)
        resetting = self.calls % 2 == 0 if bookkeeping else torch.ones((), dtype=torch.bool)
        match = (self.pending[1] > 0) & (self.pending[0] == key) & resetting
        repeat = match.any()
        oldest = torch.where(match, self.pending[1], torch.iinfo(torch.int64).max).min()
        fresh = self.draws + 1
        draw = torch.where(repeat, oldest, fresh)
        u = counter_uniform(x, self.seed, draw)
        torch.lt(u, self.firing_probability(x.to(u.dtype)), out=out)
        self.draws.copy_(draw.maximum(self.draws))
        if bookkeeping:
            # consume the repeated draw, or file a fresh fire draw in slot
            # fresh mod PENDING_DRAWS (overwriting the oldest)
            slot = torch.arange(PENDING_DRAWS, device=x.device) == fresh % PENDING_DRAWS
            consumed = match & (self.pending[1] == oldest)
            filed = slot & ~resetting
            self.pending[0].copy_(torch.where(filed, key, self.pending[0]))
            self.pending[1].copy_(
                torch.where(filed, fresh, torch.where(consumed, 0, self.pending[1]))
            )
            self.calls.add_(1)
        return out

    def estimate(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Return the outcome ``z`` (any values, read as ``z != 0``) as ``x``'s
        dtype, with this estimator's backward."""
        return self._functions[False].apply(x, z.bool(), self._table())

    def grad_coefficient(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        r"""The surrogate derivative :math:`\partial z/\partial x` this
        estimator uses when outcome ``z`` was emitted at ``x``."""
        return _coefficient(self.config, x, (z != 0).to(x.dtype), self._table())

    def reseed(self, generator: torch.Generator | None = None) -> None:
        """Start a new stream of random numbers (``sample=True``): draw a new
        seed from ``generator`` (torch's global one if None) and clear the
        count of draws and the pending draws.  With a seeded ``generator`` a
        run is reproducible from here.  Call it between sequences, not
        between the steps of one (the next reset would not find its spike)."""
        seed = torch.randint(0, 2**31 - 1, (), generator=generator)
        self.seed.copy_(seed)
        self.draws.zero_()
        self.calls.zero_()
        self.pending.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Spikes of ``x = mem - threshold``, with the estimator's gradient."""
        if not isinstance(x, torch.Tensor) or not x.is_floating_point():
            what = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(
                f"{type(self).__name__} takes a floating-point tensor (mem - threshold), got {what}"
            )
        function = self._functions[not self.sample]
        spikes = self._draw(x, torch.empty_like(x)) if self.sample else None
        return function.apply(x, spikes, self._table())


class IWST(SpikeEstimator):
    r"""Importance-weighted straight-through estimator IW-ST(p), eq. (3).

    **Forward pass:** Heaviside (``sample=False``) or a noisy neuron
    (``sample=True``):

    .. math::

        z = H(x) \quad\text{or}\quad z = H(x + s\varepsilon),\
        \varepsilon \sim F.

    **Backward pass:**

    .. math::

        \frac{\partial z}{\partial x} = \frac{f(x/s)}{s}\,
        \min\Bigl(\bigl(2P(z)\bigr)^{-p},\ w_{\max}\Bigr),\qquad
        P(1) = F(x/s),\ P(0) = 1 - F(x/s),

    evaluated in log space, so it is finite for every finite :math:`x`.

    * :math:`x` -- ``mem - threshold``, the argument snnTorch passes
    * :math:`s` -- ``scale``, the noise scale
    * :math:`F, f` -- CDF and density of the standard ``noise``
    * :math:`p` -- tempering exponent; 0 is straight-through, 1 the
      trapezoid rule, unbiased for any loss quadratic in :math:`z`
    * :math:`w_{\max}` -- optional clip of the weight (``max_weight``)

    With ``sample=False`` the weight is that of the likelier outcome
    (:math:`P(z) \ge 1/2`, so :math:`w \le 1`); the peak of the surrogate
    is :math:`f(0)/s` (:math:`1/(4s)` for logistic noise) at threshold.

    Example::

        >>> import torch, snntorch as snn
        >>> from snntorch_bayes import surrogate
        >>> lif = snn.Leaky(beta=0.9, spike_grad=surrogate.iw_st(p=1.0))
        >>> spk, mem = lif(torch.ones(2, 3))
        >>> spk.shape
        torch.Size([2, 3])

    :param p: exponent in [0, 1]. Defaults to 1
    :param noise: ``"logistic"`` or ``"gaussian"``. Defaults to
        ``"logistic"``
    :param scale: noise scale :math:`s > 0`. Defaults to 0.25 (peak
        gradient 1 at threshold for logistic noise, like
        ``fast_sigmoid``)
    :param max_weight: clip :math:`w_{\max} \ge 1`, or ``None``. Defaults
        to ``None``
    :param sample: stochastic forward pass. Defaults to ``False``
    """

    def __init__(
        self,
        p: float = 1.0,
        noise: str = "logistic",
        scale: float = 0.25,
        max_weight: float | None = None,
        sample: bool = False,
    ) -> None:
        super().__init__(noise, scale, sample)
        p = check_real("p", p)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be in [0, 1], got {p}")
        self.p = p
        if max_weight is not None:
            max_weight = check_real("max_weight", max_weight)
            if not 1.0 <= max_weight <= math.inf:
                raise ValueError(f"max_weight must be None or in [1, inf], got {max_weight}")
        self.max_weight = max_weight
        self._prepare()

    @property
    def config(self) -> IWSTConfig:
        return IWSTConfig(self.noise, self.scale, self.p, self.max_weight)

    def extra_repr(self) -> str:
        return (
            f"p={self.p}, noise={self.noise!r}, scale={self.scale}, "
            f"max_weight={self.max_weight}, sample={self.sample}"
        )


class StraightThrough(IWST):
    r"""Straight-through estimator for a noisy neuron: IW-ST(0).

    **Backward pass:**

    .. math::

        \frac{\partial z}{\partial x} = \frac{f(x/s)}{s}

    (the weight is 1 for either outcome).  Unbiased exactly when
    :math:`\pi = 1/2`; its bias is :math:`(2\pi - 1)\,D/2` in units of
    :math:`f/s` (eq. 5 of the :doc:`theory page </theory>`, which identifies
    it with the gradient of snnTorch's later ``NoisyLeaky``; that neuron is
    not in snnTorch 1.0.0, so this is not checked here).

    Example::

        >>> import torch
        >>> from snntorch_bayes import surrogate
        >>> st = surrogate.straight_through(noise="gaussian", scale=0.5)
        >>> x = torch.zeros(1, requires_grad=True)
        >>> st(x).sum().backward()
        >>> round(x.grad.item(), 4)  # phi(0) / 0.5
        0.7979

    :param noise: ``"logistic"`` or ``"gaussian"``. Defaults to
        ``"logistic"``
    :param scale: noise scale :math:`s > 0`. Defaults to 0.25
    :param sample: stochastic forward pass. Defaults to ``False``
    """

    def __init__(self, noise: str = "logistic", scale: float = 0.25, sample: bool = False) -> None:
        super().__init__(p=0.0, noise=noise, scale=scale, sample=sample)

    def extra_repr(self) -> str:
        return f"noise={self.noise!r}, scale={self.scale}, sample={self.sample}"


class GumbelRao(SpikeEstimator):
    r"""Analytic Gumbel-Rao (AGR) estimator: the Gumbel-Rao gradient of a
    logistic noisy neuron, computed without sampling (eq. 4).

    **Backward pass** (:math:`a = x/s`, :math:`\pm` the sign of the
    outcome):

    .. math::

        \frac{\partial z}{\partial x}
        = \frac1s\,\mathbb E\Bigl[\tfrac1\tau\sigma'\bigl(\tfrac{a+\varepsilon}
        {\tau}\bigr)\Bigm| z\Bigr]
        = \frac{I_\tau(\pm a)}{s\,\sigma(\pm a)},\qquad
        I_\tau(a) = \int_0^\infty \sigma'(t)\,\sigma'(\tau t - a)\,dt,

    i.e. :math:`f(a)/s \cdot w_\tau(z)`.  Closed form at :math:`\tau = 1`
    (see :func:`~snntorch_bayes.functional.gumbel_rao_expectation`),
    64-node Gauss-Laguerre quadrature for :math:`0 < \tau < 1`, tabulated
    once at construction (buffer ``table``) and read by cubic interpolation.
    :math:`\tau \to 0` recovers IW-ST(1).

    Example::

        >>> import torch
        >>> from snntorch_bayes import surrogate
        >>> agr = surrogate.gumbel_rao(tau=1.0, scale=1.0)
        >>> x = torch.zeros(1, requires_grad=True)
        >>> agr(x).sum().backward()  # z = 0 at x = 0: I(0)/sigma(0) = 1/6
        >>> round(x.grad.item(), 6)
        0.166667

    :param tau: temperature in (0, 1]. Defaults to 1
    :param scale: noise scale :math:`s > 0`. Defaults to 0.25
    :param sample: stochastic forward pass. Defaults to ``False``
    """

    def __init__(self, tau: float = 1.0, scale: float = 0.25, sample: bool = False) -> None:
        super().__init__("logistic", scale, sample)
        tau = check_real("tau", tau)
        if not 0.0 < tau <= 1.0:
            raise ValueError(
                f"tau must be in (0, 1], got {tau} (the quadrature is verified "
                "there; use gumbel_rao_mc for larger temperatures)"
            )
        self.tau = tau
        # R_tau tabulated by quadrature (tau != 1); non-persistent: rebuilt here
        if tau != 1.0:
            table = cubic_table(gumbel_rao_table(tau))
        else:
            table = torch.zeros(0, dtype=torch.float64)
        self.register_buffer("table", table, persistent=False)
        self._prepare()

    def _table(self) -> torch.Tensor | None:
        return self.table if self.tau != 1.0 else None

    @property
    def config(self) -> GumbelRaoConfig:
        return GumbelRaoConfig(self.scale, self.tau)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, scale={self.scale}, sample={self.sample}"


class GumbelRaoMC(SpikeEstimator):
    r"""Monte-Carlo Gumbel-Rao estimator (Paulus et al., 2021) for a
    logistic noisy neuron: :math:`K` samples of the noise *given the
    emitted outcome* in every backward pass.

    **Backward pass:**

    .. math::

        \frac{\partial z}{\partial x} = \frac{1}{sK}\sum_{k=1}^K
        \tfrac1\tau\sigma'\bigl(v_k/\tau\bigr),\qquad
        v_k \sim \mathrm{Logistic}(a, 1)\ \text{conditioned on}\
        \mathbb 1[v_k > 0] = z .

    (The difference of two Gumbels is logistic, so this is Gumbel-Rao for a
    binary variable.)  Unbiased for the AGR gradient of :class:`GumbelRao`;
    it is the reference AGR is tested against, and allows any
    :math:`\tau > 0`.

    Example::

        >>> import torch
        >>> from snntorch_bayes import surrogate
        >>> mc = surrogate.gumbel_rao_mc(tau=0.5, k=64)
        >>> x = torch.randn(4, requires_grad=True)
        >>> mc(x).sum().backward()
        >>> bool(torch.isfinite(x.grad).all())
        True

    :param tau: temperature in (0, inf). Defaults to 1
    :param k: number of conditional samples, an integer >= 1. Defaults to 8
    :param scale: noise scale :math:`s > 0`. Defaults to 0.25
    :param sample: stochastic forward pass. Defaults to ``False``
    """

    def __init__(
        self, tau: float = 1.0, k: int = 8, scale: float = 0.25, sample: bool = False
    ) -> None:
        super().__init__("logistic", scale, sample)
        self.tau = check_positive("tau", tau)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be an integer in [1, inf), got {k!r}")
        self.k = k
        self._prepare()

    @property
    def config(self) -> GumbelRaoMCConfig:
        return GumbelRaoMCConfig(self.scale, self.tau, self.k)

    def extra_repr(self) -> str:
        return f"tau={self.tau}, k={self.k}, scale={self.scale}, sample={self.sample}"


# --------------------------------------------------------------------------
# Lowercase factories, snnTorch style
# --------------------------------------------------------------------------


def straight_through(
    noise: str = "logistic", scale: float = 0.25, sample: bool = False
) -> StraightThrough:
    """Straight-through estimator of a noisy neuron; see
    :class:`StraightThrough`."""
    return StraightThrough(noise=noise, scale=scale, sample=sample)


def iw_st(
    p: float = 1.0,
    noise: str = "logistic",
    scale: float = 0.25,
    max_weight: float | None = None,
    sample: bool = False,
) -> IWST:
    """Importance-weighted straight-through IW-ST(p); see :class:`IWST`."""
    return IWST(p=p, noise=noise, scale=scale, max_weight=max_weight, sample=sample)


def gumbel_rao(tau: float = 1.0, scale: float = 0.25, sample: bool = False) -> GumbelRao:
    """Analytic Gumbel-Rao (AGR); see :class:`GumbelRao`."""
    return GumbelRao(tau=tau, scale=scale, sample=sample)


def gumbel_rao_mc(
    tau: float = 1.0, k: int = 8, scale: float = 0.25, sample: bool = False
) -> GumbelRaoMC:
    """Monte-Carlo Gumbel-Rao with ``k`` conditional samples; see
    :class:`GumbelRaoMC`."""
    return GumbelRaoMC(tau=tau, k=k, scale=scale, sample=sample)


def reseed(module: nn.Module, generator: torch.Generator | None = None) -> int:
    """Draw new common-random-number seeds for every estimator in
    ``module`` (itself included); returns how many were reseeded.

    Use between Monte-Carlo passes of a model whose estimators have
    ``sample=True``, so that repeated passes draw fresh spikes.

    Example::

        >>> import torch, snntorch as snn
        >>> from snntorch_bayes import surrogate
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 4),
        ...     snn.Leaky(beta=0.9, spike_grad=surrogate.iw_st(sample=True),
        ...               init_hidden=True))
        >>> surrogate.reseed(net)
        1
    """
    count = 0
    for m in module.modules():
        if isinstance(m, SpikeEstimator):
            m.reseed(generator)
            count += 1
    return count
