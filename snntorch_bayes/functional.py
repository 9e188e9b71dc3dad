r"""Pure functions behind the estimators: noise models, importance weights,
the analytic Gumbel-Rao integral, bias coefficients and the bias penalty.

Everything here is stateless and works elementwise on tensors of any shape,
dtype (float32 / float64; half precision is computed in float32) and device.
The stateful, snnTorch-facing objects in :mod:`snntorch_bayes.surrogate` are
thin wrappers over these functions, so the maths can be tested on its own.

Notation (``docs/theory.md``): a noisy binary unit fires,
:math:`z = H(x + s\varepsilon)`, with :math:`x = U - \theta` the
threshold-shifted membrane, :math:`s` the noise scale and :math:`\varepsilon`
symmetric noise with CDF :math:`F` and density :math:`f`.  Its firing
probability is :math:`\pi = F(a)` with :math:`a = x/s`.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "NOISES",
    "log_cdf",
    "log_pdf",
    "firing_probability",
    "log_iw_weight",
    "iw_weight",
    "log_gumbel_rao_integral",
    "gumbel_rao_weight",
    "bias_coefficients",
    "bias_penalty",
    "hash_uniform",
]

#: Noise distributions a noisy binary neuron may use.
NOISES = ("logistic", "gaussian")

_LOG2 = math.log(2.0)


def _check_noise(noise: str) -> None:
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    """Half precision is widened to float32 for the special functions."""
    return x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32


def log_cdf(a: torch.Tensor, noise: str = "logistic") -> torch.Tensor:
    r"""Log of the standard noise CDF, :math:`\log F(a)`, stable for large
    :math:`|a|`: :math:`\log\sigma(a)` (logistic) or :math:`\log\Phi(a)`
    (Gaussian).

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import log_cdf
        >>> round(log_cdf(torch.tensor(0.0)).exp().item(), 6)
        0.5
    """
    _check_noise(noise)
    if noise == "logistic":
        return F.logsigmoid(a)
    return torch.special.log_ndtr(a)


def log_pdf(a: torch.Tensor, noise: str = "logistic") -> torch.Tensor:
    r"""Log of the standard noise density, :math:`\log f(a)`:
    :math:`\log\sigma(a) + \log\sigma(-a)` (logistic) or
    :math:`-a^2/2 - \tfrac12\log 2\pi` (Gaussian).

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import log_pdf
        >>> round(log_pdf(torch.tensor(0.0)).exp().item(), 6)
        0.25
    """
    _check_noise(noise)
    if noise == "logistic":
        return F.logsigmoid(a) + F.logsigmoid(-a)
    return -0.5 * a * a - 0.5 * math.log(2.0 * math.pi)


def firing_probability(
    x: torch.Tensor, noise: str = "logistic", scale: float = 1.0
) -> torch.Tensor:
    r"""Firing probability of a noisy binary neuron,
    :math:`\pi(x) = F(x/s)`.

    :param x: threshold-shifted membrane :math:`x = U - \theta`
    :param noise: ``"logistic"`` (:math:`F=\sigma`) or ``"gaussian"``
        (:math:`F=\Phi`)
    :param scale: noise scale :math:`s > 0`

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import firing_probability
        >>> firing_probability(torch.tensor([0.0]), "gaussian", 0.5)
        tensor([0.5000])
    """
    _check_noise(noise)
    a = x / scale
    return torch.sigmoid(a) if noise == "logistic" else torch.special.ndtr(a)


def log_iw_weight(
    log_prob: torch.Tensor, p: float, max_weight: float | None = None
) -> torch.Tensor:
    r"""Log of the IW-ST(p) importance weight, eq. (3) of theory.md,

    .. math::

        \log w_p(z) = -p\,\bigl(\log 2 + \log P(z)\bigr),
        \qquad w \le w_{\max} \text{ if a clip is given,}

    where :math:`P(z)` is the probability of the sampled outcome
    (``log_prob`` is :math:`\log P(z)`).
    """
    log_w = -p * (_LOG2 + log_prob)
    if max_weight is not None:
        log_w = log_w.clamp(max=math.log(max_weight))
    return log_w


def iw_weight(
    prob: torch.Tensor, p: float, max_weight: float | None = None
) -> torch.Tensor:
    r"""IW-ST(p) importance weight of an outcome of probability :math:`P`,

    .. math::

        w_p = \min\!\bigl((2P)^{-p},\ w_{\max}\bigr).

    :math:`p = 0` gives the straight-through weight 1, :math:`p = 1` the
    trapezoid weight :math:`1/(2P)`.

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import iw_weight
        >>> iw_weight(torch.tensor([0.5, 0.25]), p=1.0)
        tensor([1., 2.])
    """
    return log_iw_weight(torch.log(prob), p, max_weight).exp()


# --------------------------------------------------------------------------
# Analytic Gumbel-Rao
# --------------------------------------------------------------------------

# Taylor coefficients of I(a) = int_0^inf s'(u) s'(u - a) du around a = 0
# (s = logistic sigmoid), obtained by expanding the closed form of theory.md
# symbolically; the radius of convergence is pi (poles at b = e^{-a} = -1).
# tests/test_functional.py recomputes them with sympy.
_AGR_SERIES = (
    1 / 12,
    1 / 32,
    -1 / 120,
    -1 / 192,
    1 / 2016,
    3 / 5120,
    -1 / 43200,
    -19 / 322560,
    1 / 1064448,
    269 / 46448640,
    -691 / 19813248000,
    -487 / 851558400,
    1 / 821145600,
    181561 / 3188234649600,
    -3617 / 88921857024000,
    -955231 / 167382319104000,
)
#: Below this |a| the series is used; at |a| = 0.5 its truncation error is
#: below (0.5/pi)^16 ~ 2e-13 relative and the closed form's cancellation is
#: mild.
_AGR_SERIES_RADIUS = 0.5

#: Gauss-Laguerre rule used for tau != 1 (nodes t_i, log weights).
_GL_NODES = 64
_gl_t, _gl_w = np.polynomial.laguerre.laggauss(_GL_NODES)
_GL_T = tuple(float(t) for t in _gl_t)
_GL_LOGW = tuple(float(w) for w in np.log(_gl_w))
del _gl_t, _gl_w


def _log_agr_ratio_tau1(a: torch.Tensor) -> torch.Tensor:
    r""":math:`\log(I(a)/\sigma(a))` at :math:`\tau = 1`, closed form."""
    # a >= 0:  b = e^{-a} in (0, 1]
    #   I/sigma = b [(b-1)(b+3) - 2(b+1)^2 ln(2b/(b+1))] / [2 (1-b)^3]
    # a < 0:   c = e^{a} in (0, 1)
    #   I/sigma = [2(1+c)^2 ln(2/(1+c)) - (1-c)(1+3c)] / [2 (1-c)^3]
    small = a.abs() < _AGR_SERIES_RADIUS
    a_pos = torch.where(small, torch.ones_like(a), a.clamp(min=_AGR_SERIES_RADIUS))
    b = torch.exp(-a_pos)
    log_ratio_b = _LOG2 - a_pos - torch.log1p(b)
    num_pos = (b - 1) * (b + 3) - 2 * (b + 1) ** 2 * log_ratio_b
    log_pos = -a_pos + torch.log(num_pos) - torch.log(2 * (1 - b) ** 3)
    a_neg = torch.where(
        small, -torch.ones_like(a), a.clamp(max=-_AGR_SERIES_RADIUS)
    )
    c = torch.exp(a_neg)
    num_neg = 2 * (1 + c) ** 2 * (_LOG2 - torch.log1p(c)) - (1 - c) * (1 + 3 * c)
    log_neg = torch.log(num_neg) - torch.log(2 * (1 - c) ** 3)
    a_small = torch.where(small, a, torch.zeros_like(a))
    series = torch.zeros_like(a)
    for coefficient in reversed(_AGR_SERIES):
        series = series * a_small + coefficient
    log_small = torch.log(series) - F.logsigmoid(a_small)
    return torch.where(small, log_small, torch.where(a >= 0, log_pos, log_neg))


def _log_agr_ratio_quadrature(a: torch.Tensor, tau: float) -> torch.Tensor:
    r""":math:`\log(I_\tau(a)/\sigma(a))` by Gauss-Laguerre quadrature.

    :math:`I_\tau(a) = \int_0^\infty \sigma'(t)\,\sigma'(\tau t - a)\,dt
    = \int_0^\infty e^{-t}\,\frac{\sigma'(\tau t - a)}{(1 + e^{-t})^2}\,dt.`
    """
    t = torch.tensor(_GL_T, dtype=a.dtype, device=a.device)
    log_w = torch.tensor(_GL_LOGW, dtype=a.dtype, device=a.device)
    y = tau * t - a.unsqueeze(-1)
    log_terms = log_w - 2 * F.softplus(-t) + F.logsigmoid(y) + F.logsigmoid(-y)
    return torch.logsumexp(log_terms, dim=-1) - F.logsigmoid(a)


def log_gumbel_rao_integral(a: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    r"""Log of the Gumbel-Rao conditional expectation for the outcome
    :math:`z = 1` of a logistic unit with standardised pre-activation
    :math:`a`,

    .. math::

        \log\,\mathbb E\Bigl[\tfrac1\tau\sigma'\bigl(\tfrac{a+\varepsilon}
        {\tau}\bigr) \Bigm| z = 1\Bigr]
        = \log \frac{I_\tau(a)}{\sigma(a)},\qquad
        I_\tau(a) = \int_0^\infty \sigma'(t)\,\sigma'(\tau t - a)\,dt .

    For :math:`z = 0` evaluate at :math:`-a` (the logistic is symmetric).
    At :math:`\tau = 1` the closed form of theory.md §2 is used (with a
    Taylor series for :math:`|a| < 0.5`, where the closed form cancels);
    for :math:`\tau \ne 1` a fixed 64-node Gauss-Laguerre rule.  Both are
    computed in log space, so they stay finite for any finite :math:`a`.
    Against adaptive integration (``tests/test_functional.py``), for
    :math:`0 < \tau \le 1`: the closed form agrees to 1e-10 relative
    everywhere; the quadrature to 1e-7 relative for :math:`|a| \le 6` and
    to 1e-9 absolute beyond, where the gradient :math:`\propto f(a) <
    2.5\cdot 10^{-3}` is small (relative error there grows to ~1e-4 at
    :math:`a = 40,\ \tau \to 1`).  Larger :math:`\tau` are rejected by
    :class:`~snntorch_bayes.surrogate.GumbelRao`.

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import log_gumbel_rao_integral
        >>> round(log_gumbel_rao_integral(torch.tensor(0.0)).exp().item(), 6)
        0.166667
    """
    dtype = _compute_dtype(a)
    a_c = a.to(dtype)
    if tau == 1.0:
        out = _log_agr_ratio_tau1(a_c)
    else:
        out = _log_agr_ratio_quadrature(a_c, tau)
    return out.to(a.dtype)


def gumbel_rao_weight(
    a: torch.Tensor, z: torch.Tensor, tau: float = 1.0
) -> torch.Tensor:
    r"""Gumbel-Rao weight of eq. (4) in theory.md, for logistic noise:

    .. math::

        w_\tau(z) = \frac{\mathbb E[\sigma'((a+\varepsilon)/\tau)/\tau
        \mid z]}{\sigma'(a)}
        = \frac{I_\tau(\pm a)}{\sigma(\pm a)\,\sigma'(a)},

    with :math:`+a` for :math:`z = 1` and :math:`-a` for :math:`z = 0`.  As
    :math:`\tau \to 0` it tends to the IW-ST(1) weight :math:`1/(2P(z))`.

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import gumbel_rao_weight
        >>> w = gumbel_rao_weight(torch.tensor([0.0]), torch.tensor([1.0]))
        >>> round(w.item(), 6)  # (1/6) / (1/4)
        0.666667
    """
    signed = torch.where(z > 0, a, -a)
    return (log_gumbel_rao_integral(signed, tau) - log_pdf(a, "logistic")).exp()


# --------------------------------------------------------------------------
# Bias and the bias penalty
# --------------------------------------------------------------------------


def bias_coefficients(
    prob: torch.Tensor, p: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Bias coefficients of IW-ST(p) for a locally quadratic loss, eq. (5):

    .. math::

        c_A = 2^{-p}\bigl(\pi^{1-p} + (1-\pi)^{1-p}\bigr) - 1,\qquad
        c_D = 2^{-p}\bigl(\pi^{1-p} - (1-\pi)^{1-p}\bigr),

    so that :math:`\mathrm{bias}/(f/s) = c_A A + c_D D/2` with
    :math:`A = (L'(1)+L'(0))/2` and :math:`D = L'(1)-L'(0)`.

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import bias_coefficients
        >>> c_a, c_d = bias_coefficients(torch.tensor([0.9]), p=0.0)
        >>> round(c_a.item(), 6), round(c_d.item(), 6)
        (0.0, 0.8)
    """
    scale = 2.0**-p
    hi = prob ** (1.0 - p)
    lo = (1.0 - prob) ** (1.0 - p)
    return scale * (hi + lo) - 1.0, scale * (hi - lo)


def bias_penalty(prob: torch.Tensor, p: float = 0.0) -> torch.Tensor:
    r"""Bias-minimising auxiliary loss, eq. (6) of theory.md (our
    formulation):

    .. math::

        R = \operatorname{mean}\bigl(c_A(\pi, p)^2 + c_D(\pi, p)^2\bigr),

    the mean taken over every element of ``prob`` (units, batch and time).
    It is 0 at :math:`\pi = \tfrac12` for every :math:`p`, 0 everywhere for
    :math:`p = 1`, and :math:`(2\pi - 1)^2` for straight-through
    (:math:`p = 0`).  Add :math:`\lambda R` to the loss; whether it helps is
    an empirical question.

    :param prob: firing probabilities :math:`\pi`, any shape, values in
        [0, 1]
    :param p: the IW-ST exponent in [0, 1]

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import bias_penalty
        >>> bias_penalty(torch.tensor([0.5, 1.0]), p=0.0)
        tensor(0.5000)
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if prob.numel() == 0:
        raise ValueError("bias_penalty needs at least one firing probability")
    c_a, c_d = bias_coefficients(prob, p)
    return (c_a**2 + c_d**2).mean()


# --------------------------------------------------------------------------
# Common random numbers
# --------------------------------------------------------------------------

_MASK32 = 0xFFFFFFFF


def _mix32(h: torch.Tensor) -> torch.Tensor:
    """32-bit integer finaliser (xor-shift-multiply), on int64 tensors that
    hold values in [0, 2**32); multipliers are below 2**31, so no product
    overflows int64."""
    h = h ^ (h >> 16)
    h = (h * 0x21F0AAAD) & _MASK32
    h = h ^ (h >> 15)
    h = (h * 0x735A2D97) & _MASK32
    return h ^ (h >> 15)


_INT_VIEW = {
    torch.float64: torch.int64,
    torch.float32: torch.int32,
    torch.float16: torch.int16,
    torch.bfloat16: torch.int16,
}


def hash_uniform(x: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
    r"""Uniform numbers in (0, 1) that are a deterministic, pseudo-random
    function of each element's *value*, its *position* in ``x`` and a
    ``seed``.

    Two calls on bit-identical tensors return identical numbers; any change
    of value, position or seed gives a fresh, independent-looking number.
    This is what lets a sampled spike and snnTorch's reset (recomputed from
    the same membrane one step later) agree exactly.

    :param x: floating-point tensor (any shape, dtype, device)
    :param seed: integer tensor (a scalar) on ``x``'s device
    :return: tensor like ``x`` with values in (0, 1)

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import hash_uniform
        >>> x, seed = torch.tensor([0.3, 0.3, -1.0]), torch.tensor(7)
        >>> bool((hash_uniform(x, seed) == hash_uniform(x.clone(), seed)).all())
        True
    """
    bits = x.contiguous().view(_INT_VIEW[x.dtype]).to(torch.int64)
    index = torch.arange(x.numel(), device=x.device).view(x.shape)
    h = _mix32((seed.to(torch.int64) & _MASK32) ^ 0x2545F491)
    h = _mix32((index & _MASK32) ^ h)
    h = _mix32((bits & _MASK32) ^ h)
    if x.dtype == torch.float64:
        h = _mix32(((bits >> 32) & _MASK32) ^ h)
        return (h.to(torch.float64) + 0.5) * 2.0**-32
    return ((h >> 8).to(_compute_dtype(x)) + 0.5) * 2.0**-24
