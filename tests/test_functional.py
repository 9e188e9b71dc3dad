"""The pure maths of theory.md §2, checked against independent formulas."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy import integrate, special, stats

from snntorch_bayes import functional as Fn


def _sig(x):
    return special.expit(x)


def _dsig(x):
    return _sig(x) * _sig(-x)


def _integral_quad(a: float, tau: float) -> float:
    """I_tau(a) = int_0^inf s'(t) s'(tau t - a) dt by adaptive quadrature."""
    peak = max(a / tau, 0.0)
    pts = [0.0, peak, peak + 40.0 / tau, 80.0 + peak + 40.0 / tau]
    total = 0.0
    for lo, hi in itertools.pairwise(pts):
        total += integrate.quad(
            lambda t: _dsig(t) * _dsig(tau * t - a), lo, hi, epsabs=0, epsrel=1e-13, limit=400
        )[0]
    return total


def _theory_closed_form(a: float) -> float:
    """theory.md §2: I(a) with b = e^{-a}, and its 4-term series near 0."""
    if abs(a) < 1e-3:
        return 1 / 12 + a / 32 - a**2 / 120 - a**3 / 192
    b = math.exp(-a)
    num = 2 * (b + 1) ** 2 * math.log(2 * b / (b + 1)) - (b - 1) * (b + 3)
    return b * num / (2 * (b - 1) ** 3 * (b + 1))


GRID = [
    -30.0,
    -8.0,
    -4.0,
    -1.5,
    -0.6,
    -0.5,
    -0.49,
    -0.3,
    -1e-4,
    0.0,
    5e-4,
    0.2,
    0.5,
    0.7,
    3.0,
    8.0,
    30.0,
]


@pytest.mark.parametrize("a", GRID)
def test_agr_tau1_matches_numerical_integration(a):
    ours = Fn.gumbel_rao_expectation(torch.tensor(a, dtype=torch.float64)).item()
    expected = _integral_quad(a, 1.0) / _sig(a)
    assert ours == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("a", [-4.0, -1.5, -0.3, 5e-4, 0.7, 3.0])
def test_agr_tau1_matches_theory_closed_form(a):
    ours = Fn.gumbel_rao_expectation(torch.tensor(a, dtype=torch.float64)).item()
    assert ours * _sig(a) == pytest.approx(_theory_closed_form(a), rel=1e-12)


def test_agr_series_coefficients_match_symbolic_expansion():
    sp = pytest.importorskip("sympy")
    a = sp.symbols("a")
    b = sp.exp(-a)
    integral = (
        b
        * (2 * (b + 1) ** 2 * sp.log(2 * b / (b + 1)) - (b - 1) * (b + 3))
        / (2 * (b - 1) ** 3 * (b + 1))
    )
    closed = integral * (1 + b)  # I(a) / sigma(a)
    n = len(Fn._AGR_SERIES)
    series = sp.series(closed, a, 0, n).removeO()
    for k, c in enumerate(Fn._AGR_SERIES):
        assert float(series.coeff(a, k)) == pytest.approx(c, rel=1e-15, abs=1e-300)


@pytest.mark.parametrize("dtype, rel", [(torch.float64, 1e-12), (torch.float32, 3e-5)])
def test_agr_is_continuous_across_the_series_switch(dtype, rel):
    r, _ = Fn._AGR_SERIES_SETTINGS[dtype]
    below = float(torch.nextafter(torch.tensor(r, dtype=dtype), torch.tensor(0.0, dtype=dtype)))
    a = torch.tensor([below, r, -below, -r], dtype=dtype)
    v = Fn.gumbel_rao_expectation(a)
    assert v[0].item() == pytest.approx(v[1].item(), rel=rel)
    assert v[2].item() == pytest.approx(v[3].item(), rel=rel)


def test_agr_float32_is_accurate_everywhere():
    a = torch.linspace(-12, 12, 4801, dtype=torch.float64)
    exact = Fn.gumbel_rao_expectation(a)
    approx = Fn.gumbel_rao_expectation(a.float()).double()
    assert ((approx - exact).abs() / exact).max().item() < 3e-5
    nonneg = Fn.gumbel_rao_expectation(a.abs().float(), nonnegative=True).double()
    torch.testing.assert_close(nonneg, Fn.gumbel_rao_expectation(a.abs()), rtol=3e-5, atol=0)


@pytest.mark.parametrize("tau", [0.02, 0.1, 0.3, 0.5, 0.9, 0.99])
@pytest.mark.parametrize("a", [-20.0, -5.0, -1.0, -0.2, 0.0, 0.4, 1.5, 4.0, 6.0, 10.0, 40.0])
def test_agr_quadrature_matches_numerical_integration(tau, a):
    # the accuracy documented in gumbel_rao_expectation
    ours = Fn.gumbel_rao_expectation(torch.tensor(a, dtype=torch.float64), tau).item()
    expected = _integral_quad(a, tau) / _sig(a)
    if abs(a) <= 6:
        assert ours == pytest.approx(expected, rel=1e-7)
    else:
        assert ours == pytest.approx(expected, rel=1e-3, abs=1e-9)


@pytest.mark.parametrize("tau", [0.05, 0.5, 0.95])
def test_agr_table_interpolation_matches_direct_quadrature(tau):
    table = Fn.gumbel_rao_table(tau)
    a = torch.linspace(-40, 40, 16001, dtype=torch.float64) + 1e-3
    direct = Fn._agr_ratio_quadrature(a, tau)
    interpolated = Fn.gumbel_rao_expectation(a, tau, table=table)
    assert ((interpolated - direct).abs() / direct).max().item() < 5e-8
    # beyond the table the log-linear continuation stays close
    far = torch.tensor([-60.0, -45.0, 45.0, 60.0], dtype=torch.float64)
    ratio = Fn.gumbel_rao_expectation(far, tau, table=table) / Fn._agr_ratio_quadrature(far, tau)
    assert ((ratio[:2] - 1).abs() < 1e-6).all(), ratio  # R is flat there
    assert ((ratio[2:] - 1).abs() < 0.1).all(), ratio  # R < 1e-16 there


@pytest.mark.parametrize("a", [0.0, 1e-4, 0.2, 0.4054, 0.4055, 0.8109, 0.811, 3.0, 30.0])
def test_agr_ratio_nonnegative_matches_numerical_integration(a):
    # the two sides of the switch at d = delta (a = 0.405 and 0.811) included
    v = torch.sigmoid(torch.tensor(-a, dtype=torch.float64))
    ours = Fn.agr_ratio_nonnegative(v).item()
    assert ours == pytest.approx(_integral_quad(a, 1.0) / _sig(a), rel=1e-10)


@pytest.mark.parametrize("dtype, rel", [(torch.float64, 1e-13), (torch.float32, 5e-6)])
def test_agr_ratio_nonnegative_matches_the_general_closed_form(dtype, rel):
    """The few-operation form (sigmoid and polynomial) against the
    where-based closed form with its Taylor series, evaluated in float64 at
    the same (rounded) points, across both switches and into the tail."""
    a = torch.cat([torch.linspace(0, 2, 20001), torch.linspace(2, 80, 7801)]).to(dtype)
    ours = Fn.agr_ratio_nonnegative(torch.sigmoid(-a))
    assert ours.dtype == dtype
    reference = Fn.gumbel_rao_expectation(a.double())
    kept = reference > 1e-30
    rel_error = ((ours.double() - reference).abs() / reference)[kept]
    assert rel_error.max().item() < rel, (rel_error.max().item(), a[kept][rel_error.argmax()])
    # v = 0 (far beyond a = 88 in float32) gives exactly 0, not 0 * inf
    zero = Fn.agr_ratio_nonnegative(torch.zeros(3, dtype=dtype))
    assert torch.equal(zero, torch.zeros(3, dtype=dtype))


def test_agr_near_zero_polynomial_is_a_fit_of_the_taylor_series():
    for dtype, (delta, degree) in Fn._AGR_D_SERIES.items():
        v_edge, coefficients, offset = Fn._AGR_D_CONSTANTS[dtype]
        assert v_edge == pytest.approx((1 - delta) / 2) and len(coefficients) == degree + 1
        d = np.linspace(0, delta, 1001)
        series = sum(d**k / (k + 3) for k in range(200))
        polynomial = np.polynomial.Polynomial(coefficients)
        fitted = polynomial(d)
        # well below the cancellation error at d = delta (about 3e-6 in float32)
        assert np.abs(fitted / series - 1).max() < (5e-7 if dtype == torch.float32 else 1e-14)
        assert offset == pytest.approx(coefficients[0] - polynomial(delta))


@pytest.mark.parametrize("tau", [0.1, 0.5, 0.9])
def test_cubic_table_interpolates_through_the_table_nodes(tau):
    table = Fn.gumbel_rao_table(tau)
    cubic = Fn.cubic_table(table)
    assert cubic.shape == (table.numel() - 3, 4) and cubic.is_contiguous()
    # at t = 0 and t = 1 every interval reproduces its inner nodes
    torch.testing.assert_close(cubic[:, 0], table[1:-2], rtol=0, atol=0)
    torch.testing.assert_close(cubic.sum(1), table[2:-1], rtol=1e-14, atol=1e-14)
    # and at t = -1 and t = 2 its outer ones (the 4-point Lagrange interpolant)
    alt = cubic[:, 0] - cubic[:, 1] + cubic[:, 2] - cubic[:, 3]
    torch.testing.assert_close(alt, table[:-3], rtol=1e-13, atol=1e-13)
    at2 = cubic[:, 0] + 2 * cubic[:, 1] + 4 * cubic[:, 2] + 8 * cubic[:, 3]
    torch.testing.assert_close(at2, table[3:], rtol=1e-13, atol=1e-13)
    # nodes a_k = -40 + (k - 1) / 32 are read back exactly
    nodes = -40.0 + (torch.arange(1, table.numel() - 1, dtype=torch.float64) - 1) / 32
    read = Fn.gumbel_rao_expectation(nodes, tau, table=cubic)
    torch.testing.assert_close(read, table[1:-1].exp(), rtol=1e-13, atol=0)
    # the log table and its cubic table give the same result
    a = torch.linspace(-50, 50, 1001, dtype=torch.float64)
    torch.testing.assert_close(
        Fn.gumbel_rao_expectation(a, tau, table=table),
        Fn.gumbel_rao_expectation(a, tau, table=cubic),
        rtol=0,
        atol=0,
    )
    nonneg = a.abs()
    torch.testing.assert_close(
        Fn.gumbel_rao_expectation(nonneg, tau, nonnegative=True, table=cubic),
        Fn.gumbel_rao_expectation(nonneg, tau, table=cubic),
        rtol=0,
        atol=0,
    )


def test_agr_is_finite_in_float32_for_extreme_inputs():
    a = torch.tensor([-1e4, -100.0, -1e-6, 0.0, 1e-6, 100.0, 1e4])
    for tau in (1.0, 0.3):
        v = Fn.gumbel_rao_expectation(a, tau)
        assert v.dtype == torch.float32 and torch.isfinite(v).all() and (v >= 0).all()


def test_gumbel_rao_weight_tends_to_iwst1_as_tau_to_zero():
    a = torch.linspace(-3, 3, 13, dtype=torch.float64)
    for z in (torch.ones_like(a), torch.zeros_like(a)):
        prob = torch.where(z > 0, torch.sigmoid(a), torch.sigmoid(-a))
        target = Fn.iw_weight(prob, p=1.0)
        errors = [
            (Fn.gumbel_rao_weight(a, z, tau) - target).abs().max().item()
            for tau in (0.3, 0.1, 0.03, 0.01, 0.001)
        ]
        assert all(e1 > e2 for e1, e2 in itertools.pairwise(errors)), errors
        # first-order convergence: the error is ~ tau * ln2 |s''(a)| / (s(a) f(a))
        assert errors[-2] / errors[-1] > 8
        assert errors[-1] < 0.02


def test_iw_weight_formula():
    prob = torch.tensor([0.01, 0.2, 0.5, 0.9], dtype=torch.float64)
    for p in (0.0, 0.3, 1.0):
        expected = (2 * prob.numpy()) ** (-p)
        np.testing.assert_allclose(Fn.iw_weight(prob, p).numpy(), expected, rtol=1e-13)
    clipped = Fn.iw_weight(prob, 1.0, max_weight=10.0)
    np.testing.assert_allclose(clipped.numpy(), np.minimum(1 / (2 * prob.numpy()), 10.0))


def test_normal_cdf_matches_scipy_into_the_far_tail():
    a = torch.linspace(-37, 40, 20001, dtype=torch.float64)
    expected = special.ndtr(a.numpy())
    np.testing.assert_allclose(Fn.normal_cdf(a).numpy(), expected, rtol=5e-13)
    a32 = torch.linspace(-9, 9, 2001)
    np.testing.assert_allclose(
        Fn.normal_cdf(a32).double().numpy(), special.ndtr(a32.double().numpy()), rtol=1e-4
    )


def test_log_cdf_and_pdf_match_scipy():
    a = torch.linspace(-30, 30, 61, dtype=torch.float64)
    an = a.numpy()
    np.testing.assert_allclose(Fn.log_cdf(a, "gaussian").numpy(), stats.norm.logcdf(an), rtol=1e-10)
    np.testing.assert_allclose(Fn.log_pdf(a, "gaussian").numpy(), stats.norm.logpdf(an), rtol=1e-12)
    np.testing.assert_allclose(
        Fn.log_cdf(a, "logistic").numpy(), stats.logistic.logcdf(an), rtol=1e-10
    )
    np.testing.assert_allclose(
        Fn.log_pdf(a, "logistic").numpy(), stats.logistic.logpdf(an), rtol=1e-10
    )
    with pytest.raises(ValueError, match="noise must be one of"):
        Fn.log_cdf(a, "uniform")


@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 1.0])
def test_bias_coefficients_formula(p):
    prob = torch.tensor([0.05, 0.3, 0.5, 0.8], dtype=torch.float64)
    c_a, c_d = Fn.bias_coefficients(prob, p)
    pi = prob.numpy()
    np.testing.assert_allclose(
        c_a.numpy(), 2**-p * (pi ** (1 - p) + (1 - pi) ** (1 - p)) - 1, atol=1e-15
    )
    np.testing.assert_allclose(
        c_d.numpy(), 2**-p * (pi ** (1 - p) - (1 - pi) ** (1 - p)), atol=1e-15
    )


def test_bias_penalty_properties():
    prob = torch.rand(4, 7, 5, dtype=torch.float64)
    half = torch.full_like(prob, 0.5)
    for p in (0.0, 0.4, 1.0):
        assert Fn.bias_penalty(half, p).item() == pytest.approx(0.0, abs=1e-15)
    assert Fn.bias_penalty(prob, 1.0).item() == pytest.approx(0.0, abs=1e-15)
    expected = ((2 * prob - 1) ** 2).mean().item()
    assert Fn.bias_penalty(prob, 0.0).item() == pytest.approx(expected, rel=1e-13)
    # non-trivial in between, and differentiable
    prob.requires_grad_(True)
    r = Fn.bias_penalty(prob, 0.5)
    r.backward()
    assert r.item() > 0 and torch.isfinite(prob.grad).all()
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        Fn.bias_penalty(prob, 1.5)


@pytest.mark.parametrize("p", [0.0, 0.25, 0.5, 0.99, 1.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_bias_penalty_saturated_units_have_finite_gradients(p, dtype):
    # pi = F(x/s) rounds to exactly 0 or 1 for saturated units; the penalty
    # keeps its exact value there and its gradient tends to 0 (not NaN)
    x = torch.tensor([-1e4, -30.0, -3.0, 0.0, 3.0, 30.0, 1e4], dtype=dtype, requires_grad=True)
    prob = Fn.firing_probability(x / 0.25, "logistic")
    assert prob[0] == 0 and prob[-1] == 1
    r = Fn.bias_penalty(prob, p)
    r.backward()
    assert torch.isfinite(x.grad).all()
    assert x.grad[0] == 0 and x.grad[-1] == 0
    pi = prob.detach().double().numpy()
    c_a = 2**-p * (pi ** (1 - p) + (1 - pi) ** (1 - p)) - 1
    c_d = 2**-p * (pi ** (1 - p) - (1 - pi) ** (1 - p))
    tol = 1e-6 if dtype == torch.float32 else 1e-14
    assert r.item() == pytest.approx(np.mean(c_a**2 + c_d**2), abs=tol)


def _numpy_mix32(h):
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x21F0AAAD)
    h = h ^ (h >> np.uint32(15))
    h = h * np.uint32(0x735A2D97)
    return h ^ (h >> np.uint32(15))


@pytest.mark.parametrize("counter", [1, 2, 2**31 + 5])
def test_counter_hash_equals_a_numpy_uint32_reference_bit_for_bit(counter):
    # NumPy's uint32 arithmetic wraps by definition; our int32 tensors must too
    x = torch.zeros(3, 1000)
    seed = 123456789
    golden = np.uint32(0x9E3779B1)
    with np.errstate(over="ignore"):
        salt = _numpy_mix32(np.uint32(seed) ^ np.uint32(0x2545F491))
        key = _numpy_mix32(np.uint32(counter & 0x7FFFFFFF) * golden ^ salt)
        index = np.arange(x.numel(), dtype=np.uint32).reshape(3, 1000)
        expected = _numpy_mix32(_numpy_mix32(index ^ salt) ^ key)
    ours = Fn._counter_hash32(x, torch.tensor(seed), torch.tensor(counter))
    np.testing.assert_array_equal(ours.numpy().view(np.uint32), expected)
    u = Fn.counter_uniform(x, torch.tensor(seed), torch.tensor(counter))
    np.testing.assert_array_equal(u.numpy(), ((expected >> 9) + 0.5) / 2**23)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_counter_uniform_is_deterministic_uniform_and_ignores_values(dtype):
    x = torch.randn(200_000, dtype=dtype)
    seed, counter = torch.tensor(99), torch.tensor(4)
    u = Fn.counter_uniform(x, seed, counter)
    assert u.dtype == dtype and u.shape == x.shape
    assert torch.equal(u, Fn.counter_uniform(x.clone(), seed, counter))
    # the values of x only give shape, dtype and device
    assert torch.equal(u, Fn.counter_uniform(torch.zeros_like(x), seed, counter))
    assert (u > 0).all() and (u < 1).all()
    n = u.numel()
    # moments of U(0, 1) within 6 standard errors
    assert abs(u.mean().item() - 0.5) < 6 * math.sqrt(1 / 12 / n)
    assert abs((u**2).mean().item() - 1 / 3) < 6 * math.sqrt(4 / 45 / n)
    # a Kolmogorov-Smirnov test against U(0, 1)
    assert stats.kstest(u.double().numpy(), "uniform").pvalue > 1e-4
    # fresh numbers for a new seed, a new counter, and from position to position
    for other in (
        Fn.counter_uniform(x, torch.tensor(100), counter),
        Fn.counter_uniform(x, seed, counter + 1),
        u.roll(1),
    ):
        assert abs(np.corrcoef(u.double().numpy(), other.double().numpy())[0, 1]) < 0.02
    # 2**32 (float64) or 2**23 possible numbers: about 5 or 2,400 repeats expected
    assert u.unique().numel() > (199_900 if dtype == torch.float64 else 197_000)


def test_fingerprint_identifies_a_tensor_bit_for_bit():
    x = torch.randn(4, 300, dtype=torch.float64)
    assert Fn.fingerprint(x) == Fn.fingerprint(x.clone())
    assert Fn.fingerprint(x) != Fn.fingerprint(x.flip(1))  # same values, moved
    nudged = x.clone()
    nudged[2, 7] = torch.nextafter(nudged[2, 7], torch.tensor(math.inf, dtype=x.dtype))
    assert Fn.fingerprint(x) != Fn.fingerprint(nudged)
    assert Fn.fingerprint(torch.zeros(10)) != Fn.fingerprint(torch.zeros(11))
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        y = x.to(dtype)
        assert Fn.fingerprint(y) == Fn.fingerprint(y.clone())
        assert Fn.fingerprint(y) != Fn.fingerprint(-y)


# --------------------------------------------------------------------------
# gaussian_weighted_density and exp_normal
# --------------------------------------------------------------------------


def _weighted_density_reference(s: torch.Tensor, p: float, max_weight: float | None):
    """phi(s) min((2 Phi(s))^-p, w_max) in log space, in float64."""
    log_prob = torch.special.log_ndtr(s)
    return torch.exp(Fn.log_pdf(s, "gaussian") + Fn.log_iw_weight(log_prob, p, max_weight))


@pytest.mark.parametrize("max_weight", [None, 3.0])
@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
@pytest.mark.parametrize(
    "dtype, floor, rtol", [(torch.float64, 1e-300, 1e-10), (torch.float32, 1e-30, 1e-4)]
)
def test_gaussian_weighted_density_matches_the_log_space_reference(
    p, max_weight, dtype, floor, rtol
):
    """Down to where the reference underflows (1e-300 / 1e-30), across the
    switch to the asymptotic Mills series (s = -26 / -8)."""
    s = torch.linspace(-60, 60, 24001, dtype=torch.float64).to(dtype)
    s64 = s.double()  # the reference at the very points evaluated
    out = Fn.gaussian_weighted_density(s, p, max_weight)
    assert out.dtype == dtype and torch.isfinite(out).all() and (out >= 0).all()
    reference = _weighted_density_reference(s64, p, max_weight)
    kept = reference > floor
    assert kept.sum() > 1000
    rel = (out.double() - reference).abs()[kept] / reference[kept]
    assert rel.max().item() < rtol, (rel.max().item(), s64[kept][rel.argmax()].item())
    # below the floor the result is as small as the reference
    assert (out.double()[~kept] <= 2 * floor).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("max_weight", [None, 3.0])
@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 1.0])
def test_gaussian_weighted_density_is_finite_for_extreme_inputs(p, max_weight, dtype):
    s = torch.tensor([-1e4, -1e3, -200.0, -26.0, -8.0, 0.0, 8.0, 200.0, 1e3, 1e4], dtype=dtype)
    out = Fn.gaussian_weighted_density(s, p, max_weight)
    assert out.dtype == dtype and torch.isfinite(out).all() and (out >= 0).all()
    if p == 1.0 and max_weight is None:  # phi/(2 Phi) = (|s| + 1/|s| + O(|s|^-3))/2
        tail = -s[:3].double()
        torch.testing.assert_close(out[:3].double(), (tail + 1 / tail) / 2, rtol=1e-6, atol=0)
    else:  # every other weight is bounded by a power of phi
        assert (out[[0, 1, 2, -1, -2, -3]] == 0).all()


def test_gaussian_weighted_density_p1_matches_scipy_in_the_deep_tail():
    """p = 1 gives the inverse Mills ratio phi(s) / (2 Phi(s)).  SciPy's
    norm.pdf / norm.cdf holds while both are representable (s > -37); below,
    the same ratio is sqrt(2/pi) / erfcx(-s/sqrt2)."""
    s = torch.linspace(-200, -26, 17401, dtype=torch.float64)
    ours = Fn.gaussian_weighted_density(s, 1.0).numpy()
    sn = s.numpy()
    mills = math.sqrt(2 / math.pi) / special.erfcx(-sn / math.sqrt(2))
    np.testing.assert_allclose(ours, mills / 2, rtol=1e-10)
    direct = sn > -37
    ratio = stats.norm.pdf(sn[direct]) / stats.norm.cdf(sn[direct])
    np.testing.assert_allclose(ours[direct], ratio / 2, rtol=1e-10)
    # the float32 path switches to the series at s = -8
    s32 = torch.linspace(-200, -4, 19601)
    mills32 = math.sqrt(2 / math.pi) / special.erfcx(-s32.double().numpy() / math.sqrt(2))
    np.testing.assert_allclose(
        Fn.gaussian_weighted_density(s32, 1.0).numpy(), mills32 / 2, rtol=1e-5
    )


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_exp_normal_equals_exp_above_its_floor_and_is_exactly_zero_below(dtype):
    """exp_normal never returns a subnormal: it equals torch.exp bit for bit
    for x >= log(tiny) + 1 and is exactly 0 below that floor, which sits one
    unit above the subnormal boundary (results in [tiny, e*tiny) flush too)."""
    tiny = torch.finfo(dtype).tiny
    floor = math.log(tiny) + 1.0
    x = torch.cat(
        [
            torch.linspace(floor - 50, 50, 200_001, dtype=torch.float64).to(dtype),
            torch.tensor([-math.inf, -1e30, floor, math.log(tiny), 0.0], dtype=dtype),
        ]
    )
    out = Fn.exp_normal(x)
    exact = torch.exp(x)
    above = x >= floor
    assert torch.equal(out[above], exact[above])
    assert (out[~above] == 0).all()
    # never subnormal, and the flushed values are below e * tiny
    assert ((out == 0) | (out >= tiny)).all()
    assert (exact[~above] < math.e * tiny).all()
    # wherever torch.exp is subnormal or 0, the result is exactly 0
    assert (out[exact < tiny] == 0).all() and (exact < tiny).sum() > 1000
    assert out.dtype == dtype
