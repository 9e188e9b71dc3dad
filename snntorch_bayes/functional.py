r"""Pure functions behind the estimators: noise models, importance weights,
the analytic Gumbel-Rao integral, bias coefficients and the bias penalty.

Everything here is stateless and works elementwise on tensors of any shape,
dtype (float32 / float64; half precision is computed in float32) and device.
The stateful, snnTorch-facing objects in :mod:`snntorch_bayes.surrogate` are
thin wrappers over these functions, so the maths can be tested on its own.

Notation (the :doc:`theory page </theory>`): a noisy binary unit fires,
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

from snntorch_bayes._checks import check_positive

__all__ = [
    "NOISES",
    "agr_ratio_nonnegative",
    "bias_coefficients",
    "bias_penalty",
    "check_noise",
    "counter_uniform",
    "cubic_table",
    "exp_normal",
    "fingerprint",
    "firing_probability",
    "gaussian_weighted_density",
    "gumbel_rao_coefficient",
    "gumbel_rao_expectation",
    "gumbel_rao_mc_coefficient",
    "gumbel_rao_table",
    "gumbel_rao_weight",
    "iw_st_coefficient",
    "iw_weight",
    "log_cdf",
    "log_iw_weight",
    "log_pdf",
    "normal_cdf",
]

#: Noise distributions a noisy binary neuron may use.
NOISES = ("logistic", "gaussian")

_LOG2 = math.log(2.0)


def check_noise(noise: str) -> None:
    """Raise ``ValueError`` unless ``noise`` is one of :data:`NOISES`."""
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {NOISES}, got {noise!r}")


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    """Half precision is widened to float32 for the special functions."""
    return x.dtype if x.dtype in (torch.float32, torch.float64) else torch.float32


def normal_cdf(a: torch.Tensor) -> torch.Tensor:
    r"""Standard normal CDF :math:`\Phi(a) = \tfrac12\operatorname{erfc}(-a/\sqrt2)`.

    Computed through ``erfc``: accurate in the lower tail, where
    ``torch.special.ndtr`` (torch 2.14) flushes to 0 below about -36
    (against SciPy: relative error < 5e-13 down to :math:`\Phi =
    10^{-290}`), and in eager mode on CPU about 4x faster than ``ndtr`` on
    inputs of both signs (``ndtr`` is as fast for non-negative inputs, and
    faster under ``torch.compile``).

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import normal_cdf
        >>> normal_cdf(torch.tensor([0.0]))
        tensor([0.5000])
    """
    return torch.erfc(a * (-1.0 / math.sqrt(2.0))) * 0.5


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
    check_noise(noise)
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
    check_noise(noise)
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
    check_noise(noise)
    if not isinstance(scale, torch.Tensor):
        scale = check_positive("scale", scale)
    a = x / scale
    return a.sigmoid_() if noise == "logistic" else normal_cdf(a)


def log_iw_weight(
    log_prob: torch.Tensor, p: float, max_weight: float | None = None
) -> torch.Tensor:
    r"""Log of the IW-ST(p) importance weight, eq. (3) of the :doc:`theory page </theory>`,

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


def iw_weight(prob: torch.Tensor, p: float, max_weight: float | None = None) -> torch.Tensor:
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


def exp_normal(x: torch.Tensor) -> torch.Tensor:
    r""":math:`e^x`, flushed to exactly 0 below :math:`\log(\text{tiny}) + 1`
    (tiny: the smallest normal number of the dtype), so never subnormal.

    On CPU, ``torch.exp`` takes a slow path (about 30x slower, measured
    with torch 2.14) for arguments below the log of the smallest normal
    number; densities of units far from threshold land there every step.

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import exp_normal
        >>> exp_normal(torch.tensor([0.0, -100.0]))
        tensor([1., 0.])
    """
    floor = math.log(torch.finfo(x.dtype).tiny) + 1.0  # stay clear of the boundary
    return torch.where(x < floor, 0.0, torch.exp(x.clamp_min(floor)))


#: Below this argument, Phi(s) is replaced by its asymptotic series in
#: :func:`gaussian_weighted_density` (series error ~ 945/s^10 relative).
_MILLS_SWITCH = {torch.float64: -26.0, torch.float32: -8.0}


def gaussian_weighted_density(
    signed: torch.Tensor,
    p: float,
    max_weight: float | None = None,
    *,
    nonnegative: bool = False,
    scale: float = 1.0,
) -> torch.Tensor:
    r"""The IW-ST(p) coefficient of a Gaussian noisy neuron,
    :math:`\varphi(s)\,\min\bigl((2\Phi(s))^{-p}, w_{\max}\bigr) / \sigma`, where
    :math:`s = \pm a` is the signed argument of the sampled outcome
    (:math:`P(z) = \Phi(s)`; :math:`\varphi(s) = \varphi(a)`) and
    :math:`\sigma` the noise ``scale`` (the coefficient per unit of
    :math:`x = \sigma a`).

    With ``nonnegative`` (a promise that every :math:`s \ge 0`, true for the
    Heaviside outcome :math:`H(x)` evaluated at :math:`|a|`) the weight is
    at most 1, so no clip applies, and a shorter formula runs: the backward
    pass of the deterministic forward.  There :math:`\varphi/\sigma` is
    floored at :math:`e \cdot \text{tiny}` (never a subnormal, which is slow
    on CPUs).

    Written as :math:`\varphi^{1-p}\,(\varphi/\Phi)^p\,2^{-p}`: the inverse
    Mills ratio :math:`\varphi(s)/\Phi(s)` is computed directly down to
    :math:`s = -8` (float32) or :math:`-26` (float64) and from the
    asymptotic series :math:`\Phi(s) \approx \frac{\varphi(s)}{|s|}
    (1 - s^{-2} + 3s^{-4} - 15s^{-6} + 105s^{-8})` below, so the result is
    finite for every finite :math:`s` (it grows like :math:`|s|/2` for
    :math:`p = 1`) and avoids the slow ``log_ndtr``.

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import gaussian_weighted_density
        >>> gaussian_weighted_density(torch.tensor([0.0]), p=1.0)  # phi(0) / (2 * 1/2)
        tensor([0.3989])
    """
    dtype = _compute_dtype(signed)
    s = signed.to(dtype)
    if nonnegative:
        return _gaussian_iw_from_y(s * (1.0 / math.sqrt(2.0)), p, scale).to(signed.dtype)
    density = exp_normal(-0.5 * s * s) * (1.0 / math.sqrt(2.0 * math.pi))
    if p == 0.0:
        return _per_scale(density.to(signed.dtype), scale)
    tail = s < _MILLS_SWITCH[dtype]
    mills = density / normal_cdf(s)  # phi(s) / Phi(s)
    # the tail is an outcome of probability < 1e-15 (float32): on the CPU, skip
    # it unless present; a compiled graph or an accelerator (no host sync)
    # always evaluates it
    if torch.compiler.is_compiling() or s.device.type != "cpu" or bool(tail.any()):
        u = 1.0 / (s * s)
        series = -s / (1.0 - u * (1.0 - u * (3.0 - u * (15.0 - 105.0 * u))))
        mills = torch.where(tail, series, mills)
    if p == 1.0:
        out = 0.5 * mills
    else:  # in log space: density**(1 - p) would underflow before the result
        log_density = -0.5 * s * s - 0.5 * math.log(2.0 * math.pi)
        out = exp_normal((1.0 - p) * log_density + p * (torch.log(mills) - _LOG2))
    if max_weight is not None:
        out = torch.minimum(out, density * max_weight)
    return _per_scale(out.to(signed.dtype), scale)


def _per_scale(coefficient: torch.Tensor, scale: float) -> torch.Tensor:
    return coefficient if scale == 1.0 else coefficient * (1.0 / scale)


def _gaussian_iw_from_y(y: torch.Tensor, p: float, scale: float) -> torch.Tensor:
    r""":func:`gaussian_weighted_density` for :math:`s \ge 0`, given
    :math:`y = s/\sqrt2` (a temporary it overwrites), in few elementwise
    operations: :math:`\varphi(s)/\sigma = e^{-y^2}/(\sigma\sqrt{2\pi})`
    and :math:`2\Phi(s) = 1 + \mathrm{erf}(y)`."""
    log_norm = y.new_full((), -math.log(scale * math.sqrt(2.0 * math.pi)))
    floor = math.log(torch.finfo(y.dtype).tiny) + 1.0
    density = torch.addcmul(log_norm, y, y, value=-1.0).clamp_min_(floor).exp_()
    if p == 0.0:
        return density
    weight = y.erf_().add_(1.0)
    if p == 1.0:
        return density.div_(weight)
    return density.mul_(weight.pow_(-p))


# --------------------------------------------------------------------------
# Analytic Gumbel-Rao
# --------------------------------------------------------------------------

# Taylor coefficients of R(a) = I(a) / sigma(a) around a = 0, where
# I(a) = int_0^inf s'(u) s'(u - a) du (s the logistic sigmoid), from a symbolic
# expansion of the closed form on the theory page (tests/test_functional.py
# recomputes them with sympy).  The radius of convergence is pi (poles at
# e^{-a} = -1).
_AGR_SERIES = (
    1 / 6,
    -1 / 48,
    -1 / 160,
    -1 / 2880,
    1 / 3360,
    11 / 161280,
    -13 / 1612800,
    -7 / 1382400,
    -1 / 11827200,
    113 / 383201280,
    36161 / 1162377216000,
    -108379 / 6974263296000,
    -1891 / 634023936000,
    3791 / 4782351974400,
    145711 / 632333205504000,
    -996911 / 24389995069440000,
)
#: (radius, terms) of the series per dtype.  Inside the radius the series'
#: truncation error is about (r/pi)^terms; outside, the closed form's
#: cancellation error is about eps/r^3.  Measured against float64: at most
#: 1.5e-5 relative in float32 (tests/test_functional.py).
_AGR_SERIES_SETTINGS = {torch.float64: (0.5, 16), torch.float32: (0.5, 10)}

#: Gauss-Laguerre rule used for tau != 1 (nodes t_i, log weights).
_GL_NODES = 64
_gl_t, _gl_w = np.polynomial.laguerre.laggauss(_GL_NODES)
_GL_T = tuple(float(t) for t in _gl_t)
_GL_LOGW = tuple(float(w) for w in np.log(_gl_w))
del _gl_t, _gl_w


#: (delta, degree) of :func:`agr_ratio_nonnegative` per dtype: below
#: :math:`d = \delta`, where the closed form cancels (relative error
#: growing like :math:`\epsilon/d^2`), :math:`G` is a polynomial of this
#: degree, the Chebyshev least-squares fit on :math:`[0, \delta]`.
#: Measured against the float64 closed form on :math:`0 \le a \le 30`:
#: at most 3e-14 (float64) and 3e-6 (float32) relative.
_AGR_D_SERIES = {torch.float64: (0.2, 10), torch.float32: (0.4, 6)}


def _near_zero_polynomial(delta: float, degree: int) -> tuple[float, tuple[float, ...], float]:
    r"""``(v_edge, coefficients, c0 - P(delta))`` of the polynomial
    :math:`P(d) \approx G(d)` on :math:`[0, \delta]`, fitted at Chebyshev
    points to the Taylor series summed to 400 terms (exact in float64)."""
    n = 4 * (degree + 1)
    d = (np.cos(np.pi * (np.arange(n) + 0.5) / n) + 1.0) * (delta / 2.0)
    k = np.arange(400)
    g = (d[:, None] ** k / (k + 3)).sum(axis=1)
    fit = np.polynomial.Chebyshev.fit(d, g, degree, domain=[0.0, delta])
    coefficients = tuple(float(c) for c in fit.convert(kind=np.polynomial.Polynomial).coef)
    edge = sum(c * delta**i for i, c in enumerate(coefficients))
    return (1.0 - delta) / 2.0, coefficients, coefficients[0] - edge


_AGR_D_CONSTANTS = {
    dtype: _near_zero_polynomial(*setting) for dtype, setting in _AGR_D_SERIES.items()
}


def agr_ratio_nonnegative(v: torch.Tensor) -> torch.Tensor:
    r""":math:`R(a)` at :math:`\tau = 1` for :math:`a \ge 0`, given
    :math:`v = \sigma(-a) \in [0, \tfrac12]`, in few elementwise
    operations: the backward pass of the deterministic forward.

    With :math:`d = 1 - 2v = \tanh(a/2)`, the closed form reduces to

    .. math::

        R = v\,G(d),\qquad G(d) = \frac{-\ln(2v) - d - d^2/2}{d^3}
        = \sum_{k\ge0} \frac{d^k}{k+3},

    (:math:`1 - d = 2v`, so nothing cancels however large :math:`a`).
    The closed form cancels for small :math:`d`, where a polynomial is used.
    Both are evaluated everywhere on clamped arguments and combined
    without a branch, :math:`G = G_{\rm closed}(\max(d, \delta)) +
    P(\min(d, \delta)) - P(\delta)` (:math:`P` a polynomial fit of the
    series on :math:`[0, \delta]`):
    in either region one correction term cancels the other.

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import agr_ratio_nonnegative
        >>> round(agr_ratio_nonnegative(torch.tensor([0.5])).item(), 6)  # a = 0
        0.166667
    """
    # ordered to reuse buffers: on a CPU every new full-size tensor costs
    # more (page faults) than the arithmetic done in it
    v_edge, coefficients, offset = _AGR_D_CONSTANTS[v.dtype]
    d_near = v.clamp_min(v_edge).mul_(-2.0).add_(1.0)  # min(d, delta)
    g = v.clamp(torch.finfo(v.dtype).tiny, v_edge)  # v = 0 (a > 88, 745 in float64): R = 0
    d_far = torch.rsub(g, 1.0, alpha=2.0)  # max(d, delta)
    g.log_().add_(_LOG2).add_(d_far).addcmul_(d_far, d_far, value=0.5)  # -d^3 G
    g.div_(d_far.pow_(3))
    series = torch.mul(d_near, coefficients[-1], out=d_far)
    for c in coefficients[-2:0:-1]:
        series.add_(c).mul_(d_near)
    return series.add_(offset).sub_(g).mul_(v)  # v (P(min) - P(delta) + G(max))


def _agr_ratio_tau1(a: torch.Tensor) -> torch.Tensor:
    r""":math:`R(a) = I(a)/\sigma(a)` at :math:`\tau = 1`, closed form.

    With :math:`e = e^{-|a|}` and :math:`L = \ln(2/(1+e))`:

    * :math:`a \ge 0`: :math:`R = e\,[(e-1)(e+3) - 2(1+e)^2(L - a)]
      / [2(1-e)^3]` (the theory page's formula with :math:`b = e`),
    * :math:`a < 0`: :math:`R = [2(1+e)^2 L - (1-e)(1+3e)] / [2(1-e)^3]`
      (the same with :math:`b = 1/e`, so nothing overflows),
    * :math:`|a| < r`: the Taylor series (the closed form cancels there).

    For :math:`a \ge 0` only, :func:`agr_ratio_nonnegative` is cheaper.
    """
    radius, terms = _AGR_SERIES_SETTINGS[a.dtype]
    abs_a = a.abs()
    e = torch.exp(-abs_a)
    log_l = _LOG2 - torch.log1p(e)
    denom = 2 * (1 - e) ** 3
    sq = (1 + e) ** 2
    far = e * ((e - 1) * (e + 3) - 2 * sq * (log_l - abs_a)) / denom
    negative = (2 * sq * log_l - (1 - e) * (1 + 3 * e)) / denom
    far = torch.where(a >= 0, far, negative)
    a_small = a.clamp(-radius, radius)
    series = torch.full_like(a, _AGR_SERIES[terms - 1])
    for coefficient in reversed(_AGR_SERIES[: terms - 1]):
        series = series * a_small + coefficient
    return torch.where(abs_a < radius, series, far)


def _agr_ratio_quadrature(a: torch.Tensor, tau: float) -> torch.Tensor:
    r""":math:`I_\tau(a)/\sigma(a)` by Gauss-Laguerre quadrature, in log space:

    :math:`I_\tau(a) = \int_0^\infty \sigma'(t)\,\sigma'(\tau t - a)\,dt
    = \int_0^\infty e^{-t}\,\frac{\sigma'(\tau t - a)}{(1 + e^{-t})^2}\,dt.`
    """
    t = torch.tensor(_GL_T, dtype=a.dtype, device=a.device)
    log_w = torch.tensor(_GL_LOGW, dtype=a.dtype, device=a.device)
    y = tau * t - a.unsqueeze(-1)
    log_terms = log_w - 2 * F.softplus(-t) + F.logsigmoid(y) + F.logsigmoid(-y)
    return (torch.logsumexp(log_terms, dim=-1) - F.logsigmoid(a)).exp()


#: Range and step of the tabulated :math:`\log R_\tau` used for
#: :math:`\tau \ne 1` (cubic interpolation error <= 2e-8 relative, measured).
_TABLE_RANGE = 40.0
_TABLE_STEP = 1.0 / 32.0


def gumbel_rao_table(tau: float) -> torch.Tensor:
    r"""Table of :math:`\log R_\tau(a)` at :math:`a_k = -A + (k-1)h`,
    :math:`k = 0, \dots, 2A/h + 2` (:math:`A = 40`, :math:`h = 1/32`), by the
    64-node Gauss-Laguerre rule in float64.  Built once per temperature
    (a few milliseconds) and read by :func:`gumbel_rao_expectation`.

    Example::

        >>> from snntorch_bayes.functional import gumbel_rao_table
        >>> gumbel_rao_table(0.5).shape
        torch.Size([2563])
    """
    n = round(2 * _TABLE_RANGE / _TABLE_STEP) + 3
    grid = -_TABLE_RANGE - _TABLE_STEP + _TABLE_STEP * torch.arange(n, dtype=torch.float64)
    return _agr_ratio_quadrature(grid, tau).log()


def cubic_table(table: torch.Tensor) -> torch.Tensor:
    r"""Per-interval cubic coefficients of a :func:`gumbel_rao_table`: row
    :math:`j` holds :math:`c_0, \dots, c_3` with
    :math:`c_0 + c_1 t + c_2 t^2 + c_3 t^3` the 4-point Lagrange
    interpolant through table entries :math:`j, \dots, j+3` at offsets
    :math:`t = -1, 0, 1, 2` (so :math:`0 \le t \le 1` between entries
    :math:`j+1` and :math:`j+2`).  Shape ``(n - 3, 4)``; what
    :func:`gumbel_rao_expectation` reads, built once per estimator.

    Example::

        >>> from snntorch_bayes.functional import cubic_table, gumbel_rao_table
        >>> cubic_table(gumbel_rao_table(0.5)).shape
        torch.Size([2560, 4])
    """
    p0, p1, p2, p3 = table[:-3], table[1:-2], table[2:-1], table[3:]
    return torch.stack(
        [
            p1,
            p2 - p0 / 3 - p1 / 2 - p3 / 6,
            (p0 + p2) / 2 - p1,
            (p3 - p0) / 6 + (p1 - p2) / 2,
        ],
        dim=1,
    )


def _interpolate_cubic(
    coefficients: torch.Tensor, a: torch.Tensor, nonnegative: bool = False
) -> torch.Tensor:
    r""":math:`R` from a :func:`cubic_table` of :math:`\log R`.  Beyond
    |a| = 40, log R continues linearly with the slope at the table's ends:
    for a < -40, where R is flat, that is exact to 1e-6; for a > 40, where
    R < 1e-16, it stays within 10% of the quadrature.  ``nonnegative``
    promises ``a >= 0`` (one end to continue from)."""
    coefficients = coefficients.to(device=a.device, dtype=a.dtype)
    inside = a.clamp(-_TABLE_RANGE, _TABLE_RANGE)
    # offset from the first interval's left node a = -A (whose t is 0)
    pos = (inside + _TABLE_RANGE).mul_(1.0 / _TABLE_STEP)
    interval = pos.int().clamp_max_(coefficients.shape[0] - 1)  # pos >= 0: floor
    t = pos.sub_(interval)  # in [0, 1]
    # one gather of 4-coefficient rows (faster than four gathers)
    rows = torch.index_select(coefficients, 0, interval.view(-1))
    c0, c1, c2, c3 = (c.view(a.shape) for c in rows.unbind(1))
    value = torch.addcmul(c2, c3, t).mul_(t).add_(c1).mul_(t).add_(c0)  # log R
    # beyond the table, continue log R with the slope at its ends
    excess = a - inside
    slope_hi = coefficients[-1, 1:].sum() * (1.0 / _TABLE_STEP)
    if nonnegative:
        return value.addcmul_(excess, slope_hi).exp_()
    slope_lo = coefficients[0, 1:].sum() * (1.0 / _TABLE_STEP)
    return value.add_(excess * torch.where(excess > 0, slope_hi, slope_lo)).exp_()


def gumbel_rao_expectation(
    a: torch.Tensor,
    tau: float = 1.0,
    nonnegative: bool = False,
    table: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""Gumbel-Rao conditional expectation for the outcome :math:`z = 1` of
    a logistic unit with standardised pre-activation :math:`a`,

    .. math::

        R_\tau(a) = \mathbb E\Bigl[\tfrac1\tau\sigma'\bigl(\tfrac{a+
        \varepsilon}{\tau}\bigr) \Bigm| z = 1\Bigr]
        = \frac{I_\tau(a)}{\sigma(a)},\qquad
        I_\tau(a) = \int_0^\infty \sigma'(t)\,\sigma'(\tau t - a)\,dt .

    For :math:`z = 0` evaluate at :math:`-a` (the logistic is symmetric).
    At :math:`\tau = 1` the closed form of §2 of the :doc:`theory page </theory>` is used (with a
    Taylor series for :math:`|a| < 0.5`, where the closed form cancels);
    for :math:`\tau \ne 1` a fixed 64-node Gauss-Laguerre rule in log space,
    tabulated on a grid of step 1/32 over :math:`|a| \le 40` and read by
    cubic interpolation (:func:`gumbel_rao_table`; the interpolation adds
    at most 2e-8 relative error, measured).  Against adaptive integration
    (``tests/test_functional.py``), for :math:`0 < \tau \le 1`: the closed
    form agrees to 1e-10 relative in float64 (3e-5 in float32); the
    tabulated quadrature to 1e-7
    relative for :math:`|a| \le 6` and to 1e-9 absolute beyond, where the
    gradient :math:`\propto f(a) < 2.5\cdot 10^{-3}` is small (the
    relative error there grows to ~1e-4 at :math:`a = 40,\ \tau \to 1`).
    Larger :math:`\tau` are rejected by
    :class:`~snntorch_bayes.surrogate.GumbelRao`.

    :param a: standardised pre-activation :math:`x/s`
    :param tau: temperature :math:`\tau > 0`
    :param nonnegative: promise that every :math:`a \ge 0` (true for the
        outcome :math:`H(x)` evaluated at :math:`|a|`); selects the cheaper
        :func:`agr_ratio_nonnegative` at :math:`\tau = 1` and one end of the
        table otherwise
    :param table: :func:`gumbel_rao_table` of ``tau``, or its
        :func:`cubic_table`, if already built

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import gumbel_rao_expectation
        >>> round(gumbel_rao_expectation(torch.tensor(0.0)).item(), 6)
        0.166667
    """
    dtype = _compute_dtype(a)
    a_c = a.to(dtype)
    if tau == 1.0:
        out = (
            agr_ratio_nonnegative(torch.neg(a_c).sigmoid_())
            if nonnegative
            else _agr_ratio_tau1(a_c)
        )
    else:
        table = gumbel_rao_table(tau) if table is None else table
        if table.dim() == 1:  # a gumbel_rao_table; estimators pass its cubic_table
            table = cubic_table(table)
        out = _interpolate_cubic(table, a_c, nonnegative)
    return out.to(a.dtype)


def gumbel_rao_weight(a: torch.Tensor, z: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    r"""Gumbel-Rao weight of eq. (4) of the :doc:`theory page </theory>`, for logistic noise:

    .. math::

        w_\tau(z) = \frac{\mathbb E[\sigma'((a+\varepsilon)/\tau)/\tau
        \mid z]}{\sigma'(a)} = \frac{R_\tau(\pm a)}{\sigma'(a)},

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
    return gumbel_rao_expectation(signed, tau) / log_pdf(a, "logistic").exp()


# --------------------------------------------------------------------------
# The estimators' backward coefficients dz/dx
# --------------------------------------------------------------------------


def _signed(x: torch.Tensor, z: torch.Tensor | None, scale: float) -> torch.Tensor:
    r""":math:`\pm a`, the argument whose CDF is the outcome's probability
    (:math:`P(z) = F(\pm a)`); :math:`|a|` for the Heaviside outcome."""
    if z is None:
        return torch.abs(x).mul_(1.0 / scale)
    return z.mul(2.0).sub_(1.0).mul_(x).mul_(1.0 / scale)


def iw_st_coefficient(
    x: torch.Tensor,
    z: torch.Tensor | None,
    noise: str = "logistic",
    scale: float = 0.25,
    p: float = 1.0,
    max_weight: float | None = None,
) -> torch.Tensor:
    r"""The IW-ST(p) surrogate derivative at outcome ``z``, eq. (3):

    .. math::

        \frac{\partial z}{\partial x} = \frac{f(x/s)}{s}\,
        \min\bigl((2P(z))^{-p},\ w_{\max}\bigr),\qquad
        P(1) = F(x/s),\ P(0) = 1 - F(x/s).

    :param x: ``mem - threshold``
    :param z: the outcome (0 or 1, ``x``'s dtype), or ``None`` for the
        Heaviside outcome :math:`H(x)` (then :math:`P(z) \ge 1/2`, the weight
        is at most 1 and shorter formulas run)
    :param noise: ``"logistic"`` or ``"gaussian"``
    :param scale: :math:`s > 0`
    :param p: the exponent in [0, 1]
    :param max_weight: the clip :math:`w_{\max} \ge 1`, or ``None``

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import iw_st_coefficient
        >>> iw_st_coefficient(torch.tensor([0.0]), None, scale=0.25, p=1.0)  # f(0)/s / (2 * 1/2)
        tensor([1.])
    """
    if z is None and noise == "logistic":
        t = torch.abs(x).mul_(-1.0 / scale).sigmoid_()  # 1 - P(z); f(a) = t (1 - t)
        if p == 1.0:
            return t.mul_(0.5 / scale)
        if p == 0.0:
            return t.addcmul_(t, t, value=-1.0).mul_(1.0 / scale)  # t (1 - t) / s
        return torch.rsub(t, 1.0).pow_(1.0 - p).mul_(t).mul_(2.0**-p / scale)
    if noise == "logistic" and p == 1.0 and max_weight is None:
        # f(a) / (2 sigma(signed)) = sigma(-signed) / 2, exact for any outcome
        return z.mul(-2.0).add_(1.0).mul_(x * (1.0 / scale)).sigmoid_().mul_(0.5 / scale)
    signed = _signed(x, z, scale)
    if noise == "gaussian":
        return gaussian_weighted_density(signed, p, max_weight, nonnegative=z is None, scale=scale)
    log_w = log_iw_weight(log_cdf(signed, noise), p, max_weight)
    return exp_normal(log_pdf(x * (1.0 / scale), noise) + log_w) * (1.0 / scale)


def gumbel_rao_coefficient(
    x: torch.Tensor,
    z: torch.Tensor | None,
    scale: float = 0.25,
    tau: float = 1.0,
    table: torch.Tensor | None = None,
) -> torch.Tensor:
    r"""The analytic Gumbel-Rao (AGR) surrogate derivative at outcome ``z``,
    eq. (4): :math:`R_\tau(\pm a)/s` with :math:`a = x/s` (see
    :func:`gumbel_rao_expectation`; ``z`` as in :func:`iw_st_coefficient`).

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import gumbel_rao_coefficient
        >>> gumbel_rao_coefficient(torch.tensor([0.0]), None, scale=1.0)  # I(0)/sigma(0)
        tensor([0.1667])
    """
    signed = _signed(x, z, scale)
    return gumbel_rao_expectation(signed, tau, nonnegative=z is None, table=table).mul_(1.0 / scale)


def gumbel_rao_mc_coefficient(
    x: torch.Tensor,
    z: torch.Tensor | None,
    scale: float = 0.25,
    tau: float = 1.0,
    k: int = 8,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""The Monte-Carlo Gumbel-Rao surrogate derivative at outcome ``z``:
    the mean of :math:`\tfrac1\tau\sigma'(v_k/\tau)/s` over ``k`` draws of
    the logistic :math:`v \sim \mathrm{Logistic}(a, 1)` conditioned on the
    outcome (``z`` as in :func:`iw_st_coefficient`).

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import gumbel_rao_mc_coefficient
        >>> g = torch.Generator().manual_seed(0)
        >>> c = gumbel_rao_mc_coefficient(torch.zeros(1), None, 1.0, k=100_000, generator=g)
        >>> round(c.item(), 2)  # the AGR value 1/6
        0.17
    """
    signed = _signed(x, z, scale)
    # v' = +-v > 0 is logistic(signed) truncated to (0, inf); invert its
    # survival function s(signed - v') / s(signed) = q ~ U(0, 1)
    q = torch.rand((k, *x.shape), dtype=x.dtype, device=x.device, generator=generator)
    log_s = torch.log(q) + F.logsigmoid(signed)
    v = signed - (log_s - torch.log(-torch.expm1(log_s)))
    log_g = F.logsigmoid(v / tau) + F.logsigmoid(-v / tau) - math.log(tau)
    return (torch.logsumexp(log_g, dim=0) - math.log(k)).exp() * (1.0 / scale)


# --------------------------------------------------------------------------
# Bias and the bias penalty
# --------------------------------------------------------------------------


def bias_coefficients(prob: torch.Tensor, p: float) -> tuple[torch.Tensor, torch.Tensor]:
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
    hi, lo = _power(prob, 1.0 - p), _power(1.0 - prob, 1.0 - p)
    return scale * (hi + lo) - 1.0, scale * (hi - lo)


def _power(q: torch.Tensor, k: float) -> torch.Tensor:
    r"""``q ** k`` for ``q`` in [0, 1] and ``k`` in [0, 1], exact in value,
    with a finite gradient at ``q = 0`` where ``k < 1`` (the derivative
    ``k q^(k-1)`` is infinite there, and times a saturated firing
    probability's zero derivative it would give NaN; the gradient of the
    penalty through :math:`\pi = F(x/s)` does tend to 0 there)."""
    positive = q > 0
    safe = torch.where(positive, q, torch.ones_like(q))
    return torch.where(positive, safe**k, torch.zeros_like(q) if k > 0 else torch.ones_like(q))


def bias_penalty(prob: torch.Tensor, p: float = 0.0) -> torch.Tensor:
    r"""Bias-minimising auxiliary loss, eq. (6) of the :doc:`theory page </theory>` (our
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
    outside = (prob < 0) | (prob > 1) | prob.isnan()
    if outside.any():
        raise ValueError(
            f"prob must hold firing probabilities in [0, 1], got {outside.sum().item()} "
            f"value(s) outside, e.g. {prob[outside].flatten()[0].item()!r}"
        )
    c_a, c_d = bias_coefficients(prob, p)
    return (c_a**2 + c_d**2).mean()


# --------------------------------------------------------------------------
# Common random numbers
# --------------------------------------------------------------------------

# int32 arithmetic wraps modulo 2**32 in PyTorch's kernels (and in
# compiled code); tests/test_functional.py checks this hash bit for bit
# against a NumPy uint32 implementation, where wrapping is defined.
_GOLDEN = 0x9E3779B1 - 2**32  # as a signed int32
_SEED_SALT = 0x2545F491


def _mix32(h: torch.Tensor) -> torch.Tensor:
    """32-bit xor-shift-multiply finaliser on int32 tensors (logical shifts
    emulated by masking the sign extension), in place on ``h``."""
    shifted = torch.bitwise_right_shift(h, 16).bitwise_and_(0xFFFF)
    h.bitwise_xor_(shifted).mul_(0x21F0AAAD)
    shifted = torch.bitwise_right_shift(h, 15, out=shifted).bitwise_and_(0x1FFFF)
    h.bitwise_xor_(shifted).mul_(0x735A2D97)
    shifted = torch.bitwise_right_shift(h, 15, out=shifted).bitwise_and_(0x1FFFF)
    return h.bitwise_xor_(shifted)


def _positions(x: torch.Tensor) -> torch.Tensor:
    """Each element's flat position in ``x`` as int32 (wrapping modulo
    :math:`2^{31}`), shaped like ``x``."""
    if x.numel() < 2**31:
        position = torch.arange(x.numel(), device=x.device, dtype=torch.int32)
    else:
        position = (torch.arange(x.numel(), device=x.device) & 0x7FFFFFFF).to(torch.int32)
    return position.view(x.shape)


def _low31(value: torch.Tensor) -> torch.Tensor:
    """The low 31 bits of an integer tensor, as int32."""
    return (value.to(torch.int64) & 0x7FFFFFFF).to(torch.int32)


def _bits32(x: torch.Tensor) -> torch.Tensor:
    """The bits of each element of a floating-point ``x`` as int32 (float64
    folded to 32 bits; a view of ``x`` for float32: do not modify in place)."""
    if x.dtype == torch.float64:
        words = x.contiguous().view(torch.int32).view(*x.shape, 2)
        return words[..., 0] ^ (words[..., 1] * _GOLDEN)
    if x.dtype == torch.float32:
        return x.contiguous().view(torch.int32)
    return x.contiguous().view(torch.int16).to(torch.int32)  # 16-bit floats


def _counter_hash32(x: torch.Tensor, seed: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    """The int32 hash behind :func:`counter_uniform` (a new tensor)."""
    salt = _mix32(_low31(seed) ^ _SEED_SALT)
    key = _mix32(_low31(counter).mul(_GOLDEN) ^ salt)
    # two rounds: the positions are scrambled before the draw's key is mixed
    # in, so no two draws share a shifted copy of one another's numbers
    return _mix32(_mix32(_positions(x) ^ salt).bitwise_xor_(key))


def counter_uniform(x: torch.Tensor, seed: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    r"""Uniform numbers in the open interval (0, 1), one per element of
    ``x``: a deterministic, pseudo-random function of the element's
    *position* in ``x``, a ``seed`` and a draw ``counter`` (not of ``x``'s
    values, which only give the shape, device and dtype).

    Two calls with the same seed and counter return identical numbers;
    another counter or seed gives fresh, independent-looking ones.  The
    sampled estimators of :mod:`snntorch_bayes.surrogate` count their draws,
    so a neuron whose membrane repeats still draws fresh noise every step,
    and snnTorch's reset call can recompute the draw of the spike it resets.

    The key :math:`\mathrm{mix}(\mathrm{mix}(i \oplus s) \oplus k)` of
    position :math:`i`, seed salt :math:`s = \mathrm{mix}(\mathrm{seed})` and
    draw key :math:`k = \mathrm{mix}(c\,\gamma \oplus s)` (mod :math:`2^{32}`;
    :math:`\mathrm{mix}` a 32-bit xor-shift-multiply finaliser, as in
    counter-based generators; seed and counter taken modulo :math:`2^{31}`).
    The numbers are :math:`(j + 	frac12)/2^{23}` for float32 and 16-bit
    inputs (23 random bits: all exactly representable, so none rounds to 0
    or 1) and :math:`(j + 	frac12)/2^{32}` for float64.

    :param x: tensor of any shape, floating dtype and device
    :param seed: integer tensor (a scalar) on ``x``'s device
    :param counter: integer tensor (a scalar) on ``x``'s device
    :return: tensor like ``x`` (float32 for half precision), values in (0, 1)

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import counter_uniform
        >>> x, seed = torch.zeros(3), torch.tensor(7)
        >>> first = counter_uniform(x, seed, torch.tensor(1))
        >>> bool((first == counter_uniform(x, seed, torch.tensor(1))).all())
        True
        >>> bool((first == counter_uniform(x, seed, torch.tensor(2))).any())
        False
    """
    h = _counter_hash32(x, seed, counter)
    if x.dtype == torch.float64:
        return (h.to(torch.int64) & 0xFFFFFFFF).to(torch.float64).add_(0.5).mul_(2.0**-32)
    h = h.bitwise_right_shift_(9).bitwise_and_(0x7FFFFF)
    return h.to(torch.float32).add_(0.5).mul_(2.0**-23)


def fingerprint(x: torch.Tensor) -> torch.Tensor:
    """An int64 scalar that identifies ``x`` bit for bit with its shape: the
    sum of a 32-bit hash of each element's bits and position, plus
    :math:`2^{32}` times the number of elements.  Bit-identical tensors of the
    same size get the same fingerprint; changing any element changes it
    (unless two hashes collide, probability about :math:`2^{-32}`).

    Example::

        >>> import torch
        >>> from snntorch_bayes.functional import fingerprint
        >>> x = torch.tensor([0.5, -1.0])
        >>> bool(fingerprint(x) == fingerprint(x.clone()))
        True
        >>> bool(fingerprint(x) == fingerprint(x.flip(0)))
        False
    """
    h = _mix32(_bits32(x) ^ _mix32(_positions(x) ^ _SEED_SALT))
    return h.sum(dtype=torch.int64) + (x.numel() << 32)
