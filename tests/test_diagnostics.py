"""Exact enumeration pins the claims of theory.md §1–2 (float64)."""

from __future__ import annotations

import pytest
import torch

from snntorch_bayes import diagnostics, surrogate
from snntorch_bayes.functional import bias_coefficients, log_pdf

NOISES = ["logistic", "gaussian"]


def _net(sizes, noise, scale=1.0, seed=0):
    torch.manual_seed(seed)
    net = diagnostics.BinaryMLP(sizes, noise=noise, scale=scale)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(3.0)  # spread firing probabilities away from 1/2
    x = torch.randn(sizes[0], dtype=torch.float64)
    y = torch.randn(sizes[-1], dtype=torch.float64)
    return net, x, y


def test_all_outcomes_lists_each_configuration_once():
    c = diagnostics.all_outcomes(5)
    assert c.shape == (32, 5) and c.dtype == torch.bool
    assert len({tuple(r.tolist()) for r in c}) == 32
    with pytest.raises(ValueError, match=r"n must be in \[0, 20\]"):
        diagnostics.all_outcomes(21)


@pytest.mark.parametrize("noise", NOISES)
def test_exact_gradient_matches_finite_differences(noise):
    net, x, y = _net([3, 4, 3, 2], noise)
    value, grads = diagnostics.exact_gradient(net, x, y)
    for name, param in net.named_parameters():
        flat = param.detach().view(-1)
        for i in range(0, flat.numel(), max(1, flat.numel() // 4)):
            old = flat[i].item()
            with torch.no_grad():
                flat[i] = old + 1e-6
                up = diagnostics.exact_gradient(net, x, y)[0].item()
                flat[i] = old - 1e-6
                down = diagnostics.exact_gradient(net, x, y)[0].item()
                flat[i] = old
            assert grads[name].view(-1)[i].item() == pytest.approx(
                (up - down) / 2e-6, rel=1e-6, abs=1e-9
            )
    assert value.item() > 0


@pytest.mark.parametrize("noise", NOISES)
def test_exact_gradient_of_one_unit_is_the_finite_difference_formula(noise):
    # eq. (1): d/dx E[L] = f(x/s)/s * (L(1) - L(0)); x is the bias of the unit
    s = 0.7
    net, x, y = _net([2, 1, 1], noise, scale=s)
    _, grads = diagnostics.exact_gradient(net, x, y)
    h = net.layers[0](x).item()
    readout = net.layers[1]
    loss = lambda z: (readout.weight.item() * z + readout.bias.item() - y.item()) ** 2  # noqa: E731
    f = log_pdf(torch.tensor(h / s, dtype=torch.float64), noise).exp().item()
    assert grads["layers.0.bias"].item() == pytest.approx(f / s * (loss(1) - loss(0)), rel=1e-12)


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("sizes", [[3, 5, 2], [4, 8, 1], [2, 12, 3]])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_iwst1_is_unbiased_for_every_quadratic_loss(noise, sizes, seed):
    # one stochastic layer and a squared error: L is quadratic in z
    net, x, y = _net(sizes, noise, scale=0.8, seed=seed)
    est = surrogate.iw_st(p=1.0, noise=noise, scale=0.8)
    m = diagnostics.estimator_moments(net, est, x, y)
    for name in m.exact:
        torch.testing.assert_close(m.mean[name], m.exact[name], rtol=0, atol=1e-10)
    # a different quadratic loss, with cross terms between units
    q = torch.randn(sizes[-1], sizes[-1], dtype=torch.float64)

    def quadratic(out, target):
        d = out - target
        return torch.einsum("ci,ij,cj->c", d, q, d) + d.sum(-1)

    m = diagnostics.estimator_moments(net, est, x, y, loss=quadratic)
    for name in m.exact:
        torch.testing.assert_close(m.mean[name], m.exact[name], rtol=0, atol=1e-10)


def test_straight_through_is_biased_away_from_one_half():
    # the control for the test above: the enumeration can detect a bias
    net, x, y = _net([3, 5, 2], "logistic")
    m = diagnostics.estimator_moments(net, surrogate.straight_through(scale=1.0), x, y)
    assert max(b.abs().max().item() for b in m.bias.values()) > 1e-3


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("p", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("pre", [-2.0, -0.5, 0.0, 0.4, 1.7])
def test_bias_equals_equation_5(noise, p, pre):
    s = 0.9
    net, x, y = _net([1, 1, 1], noise, scale=s)
    with torch.no_grad():
        net.layers[0].weight.zero_()
        net.layers[0].bias.fill_(pre)  # pre-activation x = pre
    est = surrogate.iw_st(p=p, noise=noise, scale=s)
    m = diagnostics.estimator_moments(net, est, x, y)
    v, c = net.layers[1].weight.item(), net.layers[1].bias.item()
    dl = lambda z: 2 * v * (v * z + c - y.item())  # noqa: E731  L'(z)
    big_a, big_d = (dl(1) + dl(0)) / 2, dl(1) - dl(0)
    a = torch.tensor(pre / s, dtype=torch.float64)
    prob = est.firing_probability(torch.tensor(pre, dtype=torch.float64))
    c_a, c_d = bias_coefficients(prob, p)
    f_over_s = log_pdf(a, noise).exp().item() / s
    expected = f_over_s * (c_a.item() * big_a + c_d.item() * big_d / 2)
    assert m.bias["layers.0.bias"].item() == pytest.approx(expected, rel=1e-10, abs=1e-13)
    if pre == 0.0:  # pi = 1/2: every member is unbiased
        assert abs(m.bias["layers.0.bias"].item()) < 1e-13
    if p == 0.0:  # ST: (2 pi - 1) D / 2
        assert expected == pytest.approx(f_over_s * (2 * prob.item() - 1) * big_d / 2, rel=1e-12)


def test_variance_equals_sampling_variance():
    # the exact variance matches a brute-force average over sampled outcomes
    net, x, y = _net([3, 4, 1], "logistic", scale=1.0)
    est = surrogate.iw_st(p=0.5, scale=1.0)
    m = diagnostics.estimator_moments(net, est, x, y)
    h = net.layers[0](x).detach()
    prob = torch.sigmoid(h)
    n = 40_000
    z = torch.rand(n, 4, dtype=torch.float64) < prob
    hs = h.expand(n, 4).clone().requires_grad_()
    out = net.layers[1](est.estimate(hs, z))
    ((out - y) ** 2).sum().backward()
    g = hs.grad  # per-sample gradient of the first layer's bias
    mean, var = g.mean(0), g.var(0)
    se = (var / n).sqrt()
    assert ((mean - m.mean["layers.0.bias"]).abs() < 5 * se + 1e-12).all()
    torch.testing.assert_close(var, m.variance["layers.0.bias"], rtol=0.05, atol=1e-12)


def test_compare_estimators_reports_bias_and_variance():
    net, x, y = _net([3, 6, 2], "logistic", scale=1.0)
    rows = diagnostics.compare_estimators(
        net,
        {
            "ST": surrogate.straight_through(scale=1.0),
            "IW-ST(1)": surrogate.iw_st(p=1.0, scale=1.0),
            "AGR": surrogate.gumbel_rao(scale=1.0),
        },
        x,
        y,
    )
    by = {r["estimator"]: r for r in rows}
    assert by["IW-ST(1)"]["bias2"] < 1e-20 < by["ST"]["bias2"]
    for r in rows:
        assert r["mse"] == pytest.approx(r["bias2"] + r["variance"])


def test_bad_input_is_rejected_clearly():
    with pytest.raises(ValueError, match="sizes must list >= 3 widths"):
        diagnostics.BinaryMLP([3, 2])
    with pytest.raises(ValueError, match="21 stochastic units cannot be enumerated"):
        diagnostics.BinaryMLP([2, 21, 1])
    net, x, y = _net([3, 4, 1], "logistic")
    with pytest.raises(ValueError, match=r"the estimator models noise='gaussian'"):
        diagnostics.estimator_moments(net, surrogate.iw_st(noise="gaussian", scale=1.0), x, y)
    with pytest.raises(ValueError, match="GumbelRaoMC samples inside its backward"):
        diagnostics.estimator_moments(net, surrogate.gumbel_rao_mc(scale=1.0), x, y)
    with pytest.raises(ValueError, match=r"x must have shape \(3,\)"):
        diagnostics.exact_gradient(net, torch.zeros(4, dtype=torch.float64), y)
    with pytest.raises(ValueError, match="loss must return one value per outcome"):
        diagnostics.estimator_moments(
            net, surrogate.iw_st(scale=1.0), x, y, loss=lambda o, t: (o - t).sum()
        )
