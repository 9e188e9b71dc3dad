"""Estimator objects: formulas, snnTorch integration, serialisation, errors."""

from __future__ import annotations

import copy
import io
import math
import pickle

import numpy as np
import pytest
import snntorch as snn
import torch
from scipy import integrate, special, stats
from snntorch import surrogate as snn_surrogate

from snntorch_bayes import surrogate
from tests.conftest import DEVICES


def _estimators():
    return {
        "straight_through": surrogate.straight_through(),
        "straight_through_gauss": surrogate.straight_through(noise="gaussian", scale=0.5),
        "iw_st_p1": surrogate.iw_st(p=1.0),
        "iw_st_p05_gauss_clip": surrogate.iw_st(p=0.5, noise="gaussian", scale=0.3, max_weight=4.0),
        "gumbel_rao": surrogate.gumbel_rao(),
        "gumbel_rao_tau05": surrogate.gumbel_rao(tau=0.5, scale=0.4),
        "gumbel_rao_mc": surrogate.gumbel_rao_mc(tau=0.5, k=4),
        "iw_st_sampled": surrogate.iw_st(sample=True),
        "gumbel_rao_sampled": surrogate.gumbel_rao(sample=True),
    }


ESTIMATOR_NAMES = list(_estimators())


@pytest.fixture(params=ESTIMATOR_NAMES)
def estimator(request):
    return _estimators()[request.param]


# --------------------------------------------------------------------------
# The backward pass equals the formula in each docstring (NumPy, float64)
# --------------------------------------------------------------------------

X = np.concatenate([np.linspace(-6, 6, 49), [0.0, -0.0, 1e-9, -1e-9, 40.0, -40.0]])


def _grad(est, x_np, z_np=None):
    x = torch.tensor(x_np, dtype=torch.float64, requires_grad=True)
    z = est.outcome(x.detach()) if z_np is None else torch.tensor(z_np)
    out = est.estimate(x, z)
    out.sum().backward()
    return x.grad.numpy(), z.numpy()


@pytest.mark.parametrize("noise", ["logistic", "gaussian"])
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("max_weight", [None, 1.5])
@pytest.mark.parametrize("outcome", ["heaviside", "ones", "zeros"])
def test_iwst_backward_matches_docstring_formula(noise, p, max_weight, outcome):
    s = 0.7
    est = surrogate.iw_st(p=p, noise=noise, scale=s, max_weight=max_weight)
    z = {"heaviside": X > 0, "ones": np.ones_like(X, bool), "zeros": np.zeros_like(X, bool)}[
        outcome
    ]
    grad, _ = _grad(est, X, z)
    dist = stats.logistic if noise == "logistic" else stats.norm
    a = X / s
    log_prob = np.where(z, dist.logcdf(a), dist.logcdf(-a))  # log P(z), no underflow
    log_w = -p * (np.log(2) + log_prob)
    if max_weight is not None:
        log_w = np.minimum(log_w, np.log(max_weight))
    expected = np.exp(dist.logpdf(a) + log_w) / s
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-300)


def test_forward_backward_equals_estimate_at_the_emitted_outcome(estimator):
    # forward() takes faster, equivalent formulas when z = H(x); they must agree
    if isinstance(estimator, surrogate.GumbelRaoMC):
        pytest.skip("random backward")
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    spikes = estimator(x)
    spikes.sum().backward()
    z = spikes.detach() != 0
    np.testing.assert_allclose(
        x.grad.numpy(), _grad(estimator, X, z.numpy())[0], rtol=1e-12, atol=1e-300
    )


@pytest.mark.parametrize("p", [0.0, 0.4, 1.0])
@pytest.mark.parametrize("noise", ["logistic", "gaussian"])
def test_heaviside_fast_paths_match_general_formula(p, noise):
    est = surrogate.iw_st(p=p, noise=noise, scale=0.3, max_weight=3.0)
    x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
    est(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), _grad(est, X, X > 0)[0], rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize(
    "factory",
    [
        lambda: surrogate.straight_through(),
        lambda: surrogate.iw_st(p=0.4, scale=0.3),
        lambda: surrogate.iw_st(p=1.0),
        lambda: surrogate.straight_through(noise="gaussian", scale=0.3),
        lambda: surrogate.iw_st(p=0.4, noise="gaussian", scale=0.3),
        lambda: surrogate.iw_st(p=1.0, noise="gaussian", scale=0.3),
        lambda: surrogate.gumbel_rao(),
        lambda: surrogate.gumbel_rao(tau=0.5, scale=0.4),
    ],
)
def test_heaviside_backward_in_float32_matches_float64_and_is_never_subnormal(factory):
    """The deterministic forward's fast backward formulas, in float32."""
    est = factory()
    x64 = torch.cat([torch.linspace(-30, 30, 60001, dtype=torch.float64), torch.zeros(1)])
    x32 = x64.float().requires_grad_()
    x64 = x32.detach().double().requires_grad_()  # the same points
    est(x32).sum().backward()
    est(x64).sum().backward()
    g32, g64 = x32.grad.double(), x64.grad
    kept = g64 > 1e-30
    rel = ((g32 - g64).abs() / g64)[kept]
    assert kept.sum() > 1000 and rel.max().item() < 2e-5, rel.max().item()
    # below that the float32 result is as small
    assert (g32[~kept] < 1e-30).all()
    if est.noise == "gaussian":  # floored: never subnormal (slow on CPUs)
        assert ((x32.grad == 0) | (x32.grad >= torch.finfo(torch.float32).tiny)).all()


def test_straight_through_is_iwst_zero_and_matches_density():
    st = surrogate.straight_through(noise="gaussian", scale=0.5)
    grad, _ = _grad(st, X)
    np.testing.assert_allclose(grad, stats.norm.pdf(X / 0.5) / 0.5, rtol=1e-12)
    assert st.p == 0.0 and isinstance(st, surrogate.IWST)


@pytest.mark.parametrize("tau", [1.0, 0.4])
@pytest.mark.parametrize("outcome", ["heaviside", "ones", "zeros"])
def test_gumbel_rao_backward_matches_conditional_expectation(tau, outcome):
    s = 0.6
    est = surrogate.gumbel_rao(tau=tau, scale=s)
    xs = np.linspace(-3, 3, 13)
    z = {"heaviside": xs > 0, "ones": np.ones_like(xs, bool), "zeros": np.zeros_like(xs, bool)}[
        outcome
    ]
    grad, _ = _grad(est, xs, z)
    for xi, zi, gi in zip(xs, z, grad, strict=True):
        a = xi / s

        # E[ s'((a + eps)/tau) / tau | z ] / s, over the logistic eps given the outcome
        def integrand(e, a=a):
            return (
                special.expit((a + e) / tau)
                * special.expit(-(a + e) / tau)
                / tau
                * stats.logistic.pdf(e)
            )

        lo, hi = (-a, np.inf) if zi else (-np.inf, -a)
        mass = special.expit(a) if zi else special.expit(-a)
        expected = (
            integrate.quad(integrand, lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0] / mass / s
        )
        assert gi == pytest.approx(expected, rel=1e-7)


def test_gumbel_rao_mc_backward_matches_docstring_formula():
    est = surrogate.gumbel_rao_mc(tau=0.5, k=16, scale=0.8)
    x = torch.linspace(-4, 4, 17, dtype=torch.float64, requires_grad=True)
    z = x.detach() > 0.5  # include outcomes against the odds
    torch.manual_seed(7)
    est.estimate(x, z).sum().backward()
    torch.manual_seed(7)
    q = torch.rand((16, 17), dtype=torch.float64).numpy()
    a = x.detach().numpy() / 0.8
    signed = np.where(z.numpy(), a, -a)
    # inverse survival function of the logistic truncated to v' > 0
    v = signed - special.logit(q * special.expit(signed))
    expected = (special.expit(v / 0.5) * special.expit(-v / 0.5) / 0.5).mean(0) / 0.8
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-10)


@pytest.mark.parametrize("tau", [1.0, 0.3])
def test_analytic_gumbel_rao_agrees_with_monte_carlo_within_its_error(tau):
    agr = surrogate.gumbel_rao(tau=tau, scale=1.0)
    mc = surrogate.gumbel_rao_mc(tau=tau, k=1, scale=1.0)
    x = torch.tensor([-4.0, -1.5, -0.3, 0.0, 0.7, 3.0], dtype=torch.float64)
    for z in (torch.ones_like(x, dtype=torch.bool), torch.zeros_like(x, dtype=torch.bool)):
        exact = agr.grad_coefficient(x, z)
        draws = torch.stack([mc.grad_coefficient(x, z) for _ in range(20_000)])
        mean, se = draws.mean(0), draws.std(0) / math.sqrt(draws.shape[0])
        assert ((mean - exact).abs() < 5 * se + 1e-12).all(), (mean, exact, se)


# --------------------------------------------------------------------------
# Behaviour of every estimator object
# --------------------------------------------------------------------------


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_device_and_finite_gradients_on_extreme_inputs(estimator, dtype, device):
    est = estimator.to(device)
    x = torch.cat([torch.linspace(-1e4, 1e4, 2001), torch.linspace(-3, 3, 601), torch.zeros(3)])
    x = x.to(device=device, dtype=dtype).requires_grad_()
    z = est(x)
    assert z.dtype == dtype and z.device == x.device and z.shape == x.shape
    assert set(z.unique().tolist()) <= {0.0, 1.0}
    (z * torch.linspace(-1, 1, x.numel(), device=device, dtype=dtype)).sum().backward()
    assert x.grad.dtype == dtype and torch.isfinite(x.grad).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_no_tensor_is_created_on_a_fixed_device(estimator, dtype):
    # on the meta device any CPU-bound tensor inside forward or backward fails
    est = estimator.to("meta")
    x = torch.empty(7, 3, device="meta", dtype=dtype, requires_grad=True)
    z = est(x)
    z.sum().backward()
    assert z.device.type == x.grad.device.type == "meta"
    assert z.dtype == x.grad.dtype == dtype


@pytest.mark.parametrize(
    "make",
    [surrogate.iw_st, surrogate.gumbel_rao, surrogate.gumbel_rao_mc, surrogate.straight_through],
)
def test_a_sampling_estimator_left_on_another_device_says_so(make):
    # its sampling state is in buffers: like any module it must be moved
    x = torch.zeros(4, device="meta")
    with pytest.raises(
        RuntimeError, match=r"state on cpu, but its input is on meta: .*\.to\('meta'\)"
    ):
        make(sample=True)(x)
    assert make(sample=True).to("meta")(x).device.type == "meta"
    assert make()(x).device.type == "meta"  # a deterministic one holds no state it reads


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_heaviside_spikes_on_edge_values(dtype):
    # written by a comparison straight into x's dtype: same as (x > 0).to(dtype)
    x = torch.tensor([-math.inf, -1.0, -0.0, 0.0, 1e-45, 1.0, math.inf, math.nan]).to(dtype)
    x = x.requires_grad_()
    spikes = surrogate.iw_st()(x)
    expected = (x.detach() > 0).to(dtype)
    assert spikes.dtype == dtype and torch.equal(spikes, expected)
    assert not torch.signbit(spikes).any()  # no -0.0


def test_deterministic_forward_is_heaviside_like_snntorch(estimator):
    if estimator.sample:
        pytest.skip("sampled forward")
    x = torch.linspace(-2, 2, 41)
    assert torch.equal(estimator(x), snn_surrogate.fast_sigmoid()(x))


def test_repr_shows_hyper_parameters():
    assert repr(surrogate.iw_st(p=0.5, noise="gaussian", scale=0.3, max_weight=4.0)) == (
        "IWST(p=0.5, noise='gaussian', scale=0.3, max_weight=4.0, sample=False)"
    )
    assert repr(surrogate.straight_through()) == (
        "StraightThrough(noise='logistic', scale=0.25, sample=False)"
    )
    assert repr(surrogate.gumbel_rao(tau=0.5)) == "GumbelRao(tau=0.5, scale=0.25, sample=False)"
    assert repr(surrogate.gumbel_rao_mc(k=3, sample=True)) == (
        "GumbelRaoMC(tau=1.0, k=3, scale=0.25, sample=True)"
    )


@pytest.mark.parametrize("copier", ["pickle", "deepcopy"])
def test_pickle_round_trip_keeps_behaviour(estimator, copier):
    if copier == "pickle":
        clone = pickle.loads(pickle.dumps(estimator))
    else:
        clone = copy.deepcopy(estimator)
    assert repr(clone) == repr(estimator) and torch.equal(clone.seed, estimator.seed)
    x = torch.randn(64, dtype=torch.float64, requires_grad=True)
    z = estimator(x)
    x2 = x.detach().clone().requires_grad_()
    z2 = clone(x2)
    assert torch.equal(z, z2)
    if not isinstance(estimator, surrogate.GumbelRaoMC):
        z.sum().backward()
        z2.sum().backward()
        assert torch.equal(x.grad, x2.grad)


NEURONS = {
    "Leaky": lambda sg: snn.Leaky(beta=0.9, spike_grad=sg),
    "Synaptic": lambda sg: snn.Synaptic(alpha=0.8, beta=0.9, spike_grad=sg),
    "RLeaky": lambda sg: snn.RLeaky(beta=0.9, linear_features=6, spike_grad=sg),
}


class _Net(torch.nn.Module):
    def __init__(self, neuron):
        super().__init__()
        self.fc = torch.nn.Linear(5, 6)
        self.lif = neuron

    def forward(self, x):
        if isinstance(self.lif, snn.Synaptic):
            syn, mem = self.lif.reset_mem()
            state = (syn, mem)
        else:
            state = (self.lif.reset_mem(),)
            if isinstance(self.lif, snn.RLeaky):
                state = self.lif.init_rleaky()
        spikes = []
        for t in range(x.shape[0]):
            out = self.lif(self.fc(x[t]), *state)
            spikes.append(out[0])
            state = out[1:]
        return torch.stack(spikes)


@pytest.mark.parametrize("neuron", list(NEURONS))
def test_works_as_spike_grad_and_survives_torch_save(estimator, neuron):
    torch.manual_seed(0)
    net = _Net(NEURONS[neuron](estimator))
    x = torch.rand(8, 3, 5) * 3
    spk = net(x)
    (spk.sum() + 0.0).backward()
    assert net.fc.weight.grad is not None and torch.isfinite(net.fc.weight.grad).all()
    assert net.fc.weight.grad.abs().sum() > 0
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert repr(loaded.lif.spike_grad) == repr(estimator)
    assert torch.equal(loaded(x), net(x))
    # state_dict keys equal those of the same model with an snnTorch surrogate
    # (plus the sampling state of a sampled estimator), and loading either way
    # round works
    reference = _Net(NEURONS[neuron](snn_surrogate.fast_sigmoid()))
    state = {f"lif.spike_grad.{n}" for n in ("seed", "draws", "calls", "pending")}
    assert set(net.state_dict()) == set(reference.state_dict()) | (
        state if estimator.sample else set()
    )
    net.load_state_dict(reference.state_dict())


@pytest.mark.parametrize("neuron", list(NEURONS))
def test_zero_graph_breaks_inside_neuron(estimator, neuron):
    torch._dynamo.reset()
    lif = NEURONS[neuron](estimator)
    x = torch.randn(4, 6)
    explanation = torch._dynamo.explain(lif)(x)
    assert explanation.graph_break_count == 0, explanation.break_reasons


# --------------------------------------------------------------------------
# snnTorch's double call: resets agree with emitted spikes
# --------------------------------------------------------------------------


class _FreshBernoulli(torch.nn.Module):
    """A naive stochastic spike: an independent draw on every call (the
    behaviour behind snnTorch issue #366); the control for the test below."""

    def forward(self, x):
        return (torch.rand_like(x) < torch.sigmoid(x / 0.25)).to(x.dtype)


def _resets_and_spikes(neuron_name, spike_grad, steps=60):
    torch.manual_seed(3)
    lif = NEURONS[neuron_name](spike_grad)
    fc = torch.nn.Linear(5, 6)
    with torch.no_grad():
        fc.weight.uniform_(0.0, 0.4)
        fc.bias.zero_()
    gain = 0.3 if neuron_name == "Synaptic" else 1.5  # Synaptic integrates ~5x more
    x = torch.rand(steps, 32, 5) * gain
    if neuron_name == "Synaptic":
        state = lif.reset_mem()
    elif neuron_name == "RLeaky":
        state = lif.init_rleaky()
    else:
        state = (lif.reset_mem(),)
    resets, spikes = [], []
    with torch.no_grad():
        for t in range(steps):
            out = lif(fc(x[t]), *state)
            resets.append(lif.reset.clone())
            spikes.append(out[0].clone())
            state = out[1:]
    return torch.stack(resets), torch.stack(spikes)


@pytest.mark.parametrize("neuron", list(NEURONS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sampled_resets_equal_the_spike_emitted_one_step_before(neuron, dtype):
    for est in (surrogate.iw_st(sample=True), surrogate.gumbel_rao(sample=True)):
        torch.set_default_dtype(dtype)
        try:
            resets, spikes = _resets_and_spikes(neuron, est)
        finally:
            torch.set_default_dtype(torch.float32)
        assert resets.dtype == dtype
        # the firing is neither silent nor saturated ...
        assert 0.1 < spikes.mean().item() < 0.9
        # ... and every reset at t >= 1 is the spike emitted at t - 1
        assert torch.equal(resets[1:], spikes[:-1])
    # the test can fail: a fresh draw per call breaks it
    resets, spikes = _resets_and_spikes(neuron, _FreshBernoulli())
    assert not torch.equal(resets[1:], spikes[:-1])


@pytest.mark.parametrize("noise", ["logistic", "gaussian"])
def test_sampled_firing_frequency_equals_firing_probability(noise):
    est = surrogate.iw_st(noise=noise, scale=0.5, sample=True)
    n = 100_000
    for x0 in (-1.0, -0.2, 0.0, 0.6):
        x = torch.full((n,), x0, dtype=torch.float64)
        freq = est(x).mean().item()
        prob = est.firing_probability(torch.tensor(x0, dtype=torch.float64)).item()
        assert abs(freq - prob) < 5 * math.sqrt(prob * (1 - prob) / n)


def test_building_an_estimator_leaves_torch_rng_untouched():
    # swapping fast_sigmoid for an estimator must not change any initialisation
    state = torch.random.get_rng_state()
    for factory in (surrogate.straight_through, surrogate.iw_st, surrogate.gumbel_rao):
        factory(sample=True)
    surrogate.gumbel_rao(tau=0.5)
    assert torch.equal(torch.random.get_rng_state(), state)


# --------------------------------------------------------------------------
# Invalid hyper-parameters
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory, kwargs, message",
    [
        (surrogate.iw_st, {"p": 1.5}, r"p must be in \[0, 1\], got 1.5"),
        (surrogate.iw_st, {"p": -0.1}, r"p must be in \[0, 1\], got -0.1"),
        (surrogate.iw_st, {"p": float("nan")}, r"p must be a real number, got nan"),
        (surrogate.iw_st, {"scale": 0.0}, r"scale must be in \(0, inf\), got 0.0"),
        (surrogate.iw_st, {"scale": -1}, r"scale must be in \(0, inf\), got -1.0"),
        (
            surrogate.iw_st,
            {"max_weight": 0.5},
            r"max_weight must be None or in \[1, inf\], got 0.5",
        ),
        (
            surrogate.iw_st,
            {"noise": "cauchy"},
            r"noise must be one of \('logistic', 'gaussian'\), got 'cauchy'",
        ),
        (surrogate.iw_st, {"sample": 1}, r"sample must be True or False, got 1"),
        (
            surrogate.straight_through,
            {"scale": float("inf")},
            r"scale must be in \(0, inf\), got inf",
        ),
        (surrogate.gumbel_rao, {"tau": 2.0}, r"tau must be in \(0, 1\], got 2.0"),
        (surrogate.gumbel_rao, {"tau": 0.0}, r"tau must be in \(0, 1\], got 0.0"),
        (surrogate.gumbel_rao_mc, {"tau": -1.0}, r"tau must be in \(0, inf\), got -1.0"),
        (surrogate.gumbel_rao_mc, {"k": 0}, r"k must be an integer in \[1, inf\), got 0"),
        (surrogate.gumbel_rao_mc, {"k": 2.5}, r"k must be an integer in \[1, inf\), got 2.5"),
        (surrogate.iw_st, {"p": "1"}, r"p must be a real number, got '1'"),
    ],
)
def test_invalid_hyper_parameters_raise_value_error_naming_them(factory, kwargs, message):
    with pytest.raises(ValueError, match=message):
        factory(**kwargs)


def test_per_element_noise_scale_through_standardised_input():
    # docs/estimators.md: estimate((mem - thr) / sd, z) with scale=1 gives the
    # eq. (2) gradient with s = sd for the mean, and chains into sd too
    est = surrogate.iw_st(p=1.0, noise="gaussian", scale=1.0)
    mean = torch.tensor([0.2, 1.4, 0.9, -0.5], dtype=torch.float64, requires_grad=True)
    sd = torch.tensor([0.3, 0.5, 1.0, 2.0], dtype=torch.float64, requires_grad=True)
    z = torch.tensor([True, False, True, False])
    a = (mean - 1.0) / sd
    est.estimate(a, z).sum().backward()
    an = a.detach().numpy()
    prob = np.where(z.numpy(), stats.norm.cdf(an), stats.norm.cdf(-an))
    coefficient = stats.norm.pdf(an) / (2 * prob)
    np.testing.assert_allclose(mean.grad.numpy(), coefficient / sd.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(sd.grad.numpy(), -coefficient * an / sd.detach().numpy(), rtol=1e-12)


# --------------------------------------------------------------------------
# Typed configurations, pure functions and no global cache
# --------------------------------------------------------------------------


def test_configs_are_typed_immutable_and_hashable():
    from snntorch_bayes.surrogate import GumbelRaoConfig, GumbelRaoMCConfig, IWSTConfig

    assert surrogate.iw_st(p=0.5, noise="gaussian").config == IWSTConfig(
        "gaussian", 0.25, 0.5, None
    )
    assert surrogate.straight_through().config == IWSTConfig("logistic", 0.25, 0.0, None)
    assert surrogate.gumbel_rao(tau=0.5, scale=1.0).config == GumbelRaoConfig(1.0, 0.5)
    assert surrogate.gumbel_rao_mc(k=3).config == GumbelRaoMCConfig(0.25, 1.0, 3)
    config = surrogate.iw_st().config
    assert hash(config) == hash(surrogate.iw_st().config)
    with pytest.raises(AttributeError):
        config.p = 0.0


@pytest.mark.parametrize(
    ("make", "name", "value"),
    [
        (surrogate.iw_st, "p", 0.5),
        (surrogate.iw_st, "noise", "gaussian"),
        (surrogate.straight_through, "scale", 1.0),
        (surrogate.gumbel_rao, "tau", 0.5),
        (surrogate.gumbel_rao_mc, "k", 2),
        (surrogate.iw_st, "max_weight", 2.0),
    ],
)
def test_hyper_parameters_are_fixed_at_construction(make, name, value):
    est = make()
    before = est.config
    with pytest.raises(AttributeError, match=rf"\.{name} is fixed at construction"):
        setattr(est, name, value)
    assert est.config == before
    est.sample = True  # the forward pass's option stays settable
    assert est.sample


def test_no_autograd_class_outlives_its_estimator():
    # each estimator holds its own autograd functions; none is kept globally
    import gc
    import weakref

    refs = []
    for i in range(50):
        est = surrogate.iw_st(p=i / 49)
        x = torch.randn(3, requires_grad=True)
        est(x).sum().backward()
        refs.extend(weakref.ref(f) for f in est._functions)
    del est, x
    gc.collect()
    assert sum(r() is not None for r in refs) == 0


@pytest.mark.parametrize("noise", ["logistic", "gaussian"])
@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_heaviside_fast_paths_equal_the_general_formula(noise, p):
    from snntorch_bayes.functional import iw_st_coefficient

    x = torch.linspace(-12, 12, 2001, dtype=torch.float64)
    fast = iw_st_coefficient(x, None, noise, 0.25, p, None)
    general = iw_st_coefficient(x, (x > 0).double(), noise, 0.25, p, None)
    torch.testing.assert_close(fast, general, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_gumbel_rao_heaviside_path_equals_the_general_formula(tau):
    from snntorch_bayes.functional import gumbel_rao_coefficient

    x = torch.linspace(-8, 8, 1001, dtype=torch.float64)
    fast = gumbel_rao_coefficient(x, None, 0.25, tau)
    general = gumbel_rao_coefficient(x, (x > 0).double(), 0.25, tau)
    torch.testing.assert_close(fast, general, rtol=1e-9, atol=1e-300)
