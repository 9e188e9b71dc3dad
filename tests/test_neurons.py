"""Variational neurons: the estimator against theory.md §4 and exact
enumeration, the reset from the emitted spike, deployment equal to snnTorch,
export, and the API contract of snn.Leaky / snn.Synaptic."""

from __future__ import annotations

import io
import itertools
import math
import pickle

import numpy as np
import pytest
import snntorch as snn
import torch
import torch.nn.functional as F
from snntorch import utils

import snntorch_bayes as sb
from snntorch_bayes import GaussianCurrent, VariationalLeaky, VariationalSynaptic
from snntorch_bayes.functional import bias_penalty, normal_cdf
from snntorch_bayes.surrogate import iw_st

F64 = torch.float64
THETA = 1.0


def _phi(a: float) -> float:
    return math.exp(-0.5 * a * a) / math.sqrt(2 * math.pi)


def _cdf(a: float) -> float:
    return 0.5 * math.erfc(-a / math.sqrt(2))


def force_noise(neuron, draws):
    """Make ``neuron`` use the given standard-normal draws, one per step."""
    draws = iter(draws)
    original = neuron._noise

    def _noise(mean, var):
        std, _ = original(mean, var)
        return std, torch.as_tensor(next(draws), dtype=mean.dtype).expand_as(mean)

    neuron._noise = _noise
    return neuron


def record_noise(neuron):
    """Record the draws a neuron makes."""
    seen = []
    original = neuron._noise

    def _noise(mean, var):
        std, eps = original(mean, var)
        seen.append((std, eps))
        return std, eps

    neuron._noise = _noise
    return seen


def _leaf(value):
    return torch.tensor([value], dtype=F64, requires_grad=True)


# --------------------------------------------------------------------------
# One neuron, one step: the estimator of theory.md §4
# --------------------------------------------------------------------------


def _one_step_grads(p, m, v, y, z):
    """Gradients of (spk - y)^2 w.r.t. m and v when outcome z is forced."""
    a = (m - THETA) / math.sqrt(v)
    eps = -a + (1.5 if z else -1.5)
    lif = force_noise(VariationalLeaky(0.9, spike_grad=iw_st(p=p, noise="gaussian")).to(F64), [eps])
    mean, var = _leaf(m), _leaf(v)
    spk, _ = lif(GaussianCurrent(mean, var))
    assert spk.item() == z
    ((spk - y) ** 2).sum().backward()
    return mean.grad.item(), var.grad.item()


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize(("m", "v"), [(0.3, 0.2), (1.0, 1.0), (1.7, 0.05), (-2.0, 4.0)])
@pytest.mark.parametrize("z", [0, 1])
def test_one_step_gradient_is_the_written_estimator(p, m, v, z):
    r"""d spk/d m = phi(a) w_p(z) / sqrt(v) and d spk/d v = -phi(a) w_p(z) a / (2v),
    a = (m - theta)/sqrt(v), w_p(z) = (2 P(z))^{-p}."""
    y = 0.3
    a = (m - THETA) / math.sqrt(v)
    prob = _cdf(a) if z else 1 - _cdf(a)
    dz = _phi(a) * (2 * prob) ** -p
    dloss = 2 * (z - y)
    g_m, g_v = _one_step_grads(p, m, v, y, z)
    assert g_m == pytest.approx(dloss * dz / math.sqrt(v), rel=1e-12)
    assert g_v == pytest.approx(dloss * dz * -a / (2 * v), rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(("m", "v"), [(0.3, 0.2), (1.0, 1.0), (1.7, 0.05), (-2.0, 4.0)])
@pytest.mark.parametrize("y", [0.0, 0.3, 1.0])
def test_one_step_iw_st1_is_unbiased_for_mean_and_variance(m, v, y):
    """E over the outcome of the IW-ST(1) gradient equals the exact gradient of
    E[(z - y)^2] w.r.t. the current's mean and variance (eq. 1 via a)."""
    a = (m - THETA) / math.sqrt(v)
    pi = _cdf(a)
    expected = [
        pi * g1 + (1 - pi) * g0
        for g1, g0 in zip(
            _one_step_grads(1.0, m, v, y, 1), _one_step_grads(1.0, m, v, y, 0), strict=True
        )
    ]
    diff = (1 - y) ** 2 - y**2  # L(1) - L(0)
    exact_m = _phi(a) / math.sqrt(v) * diff
    exact_v = _phi(a) * (-a / (2 * v)) * diff
    assert expected[0] == pytest.approx(exact_m, rel=1e-10, abs=1e-14)
    assert expected[1] == pytest.approx(exact_v, rel=1e-10, abs=1e-14)


def test_membrane_sample_is_reparameterised():
    """U = beta U_prev + m + sqrt(v) eps: dU/dm = 1, dU/dv = eps/(2 sqrt v),
    dU/dU_prev = beta."""
    eps = 0.7
    lif = force_noise(VariationalLeaky(0.75).to(F64), [eps])  # 0.75: exact in float32
    mean, var, mem0 = _leaf(0.2), _leaf(0.09), _leaf(0.5)
    _, mem = lif(GaussianCurrent(mean, var), mem0)
    mem.sum().backward()
    assert mem.item() == pytest.approx(0.75 * 0.5 + 0.2 + 0.3 * eps, rel=1e-14)
    assert mean.grad.item() == pytest.approx(1.0)
    assert var.grad.item() == pytest.approx(eps / (2 * 0.3), rel=1e-12)
    assert mem0.grad.item() == pytest.approx(0.75)


# --------------------------------------------------------------------------
# Two steps: formula and exact enumeration
# --------------------------------------------------------------------------


def _two_step(p, beta, reset, m, v, eps, y):
    lif = force_noise(
        VariationalLeaky(beta, spike_grad=iw_st(p=p, noise="gaussian"), reset_mechanism=reset).to(
            F64
        ),
        eps,
    )
    means = [_leaf(x) for x in m]
    vars_ = [_leaf(x) for x in v]
    mem = lif.reset_mem()
    spikes = []
    for t in range(2):
        spk, mem = lif(GaussianCurrent(means[t], vars_[t]), mem)
        spikes.append(spk)
    loss = ((spikes[0] + 2 * spikes[1] - y) ** 2).sum()
    loss.backward()
    grads = [x.grad.item() for x in (*means, *vars_)]
    return [int(s.item()) for s in spikes], grads, loss.item()


M, V, Y = (0.8, 0.6), (0.3, 0.5), 1.4


def _two_step_formula(p, beta, reset, eps):
    """The estimator written out by hand (the reset is a detached signal, as
    in snnTorch)."""
    s1, s2 = math.sqrt(V[0]), math.sqrt(V[1])
    mem1 = M[0] + s1 * eps[0]
    z1 = float(mem1 > THETA)
    a1 = (M[0] - THETA) / s1
    mu2 = beta * mem1 + M[1] - (THETA * z1 if reset == "subtract" else 0.0)
    a2 = (mu2 - THETA) / s2
    z2 = float(mu2 + s2 * eps[1] > THETA)

    def coeff(a, z):
        prob = _cdf(a) if z else 1 - _cdf(a)
        return _phi(a) * (2 * prob) ** -p

    r = z1 + 2 * z2 - Y
    dz1, dz2 = 2 * r, 4 * r
    c1, c2 = coeff(a1, z1), coeff(a2, z2)
    g_m2 = dz2 * c2 / s2
    g_v2 = dz2 * c2 * -a2 / (2 * V[1])
    # a2 depends on m1, v1 through beta * mem1 = beta (m1 + sqrt(v1) eps1)
    g_m1 = dz1 * c1 / s1 + g_m2 * beta
    g_v1 = dz1 * c1 * -a1 / (2 * V[0]) + g_m2 * beta * eps[0] / (2 * s1)
    return [z1, z2], [g_m1, g_m2, g_v1, g_v2]


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("beta", [0.0, 0.75])  # exact in float32, like snnTorch's buffer
@pytest.mark.parametrize("reset", ["subtract", "none"])
@pytest.mark.parametrize("eps", [(-1.3, 0.4), (0.9, -0.2), (1.5, 1.1), (-0.1, -2.0)])
def test_two_step_gradient_is_the_written_estimator(p, beta, reset, eps):
    spikes, grads, _ = _two_step(p, beta, reset, M, V, eps, Y)
    want_spikes, want = _two_step_formula(p, beta, reset, eps)
    assert spikes == want_spikes
    np.testing.assert_allclose(grads, want, rtol=1e-11, atol=1e-14)


def _outcome_noise(a_needed, z):
    return -a_needed + (2.0 if z else -2.0)


def _expected_two_step(p, reset):
    """E[estimator] and the exact gradient of E[L] by enumerating (z1, z2),
    for beta = 0 (the membrane does not carry, so outcomes are all that
    matter)."""
    s1, s2 = math.sqrt(V[0]), math.sqrt(V[1])
    a1 = (M[0] - THETA) / s1
    mean_grad = np.zeros(4)
    for z1, z2 in itertools.product([0, 1], repeat=2):
        mu2 = M[1] - (THETA * z1 if reset == "subtract" else 0.0)
        a2 = (mu2 - THETA) / s2
        eps = (_outcome_noise(a1, z1), _outcome_noise(a2, z2))
        prob = (_cdf(a1) if z1 else 1 - _cdf(a1)) * (_cdf(a2) if z2 else 1 - _cdf(a2))
        spikes, grads, _ = _two_step(p, 0.0, reset, M, V, eps, Y)
        assert spikes == [z1, z2]
        mean_grad += prob * np.array(grads)

    def expected_loss(m1, m2, v1, v2):
        a1 = (m1 - THETA) / math.sqrt(v1)
        total = 0.0
        for z1, z2 in itertools.product([0, 1], repeat=2):
            a2 = (m2 - (THETA * z1 if reset == "subtract" else 0.0) - THETA) / math.sqrt(v2)
            prob = (_cdf(a1) if z1 else 1 - _cdf(a1)) * (_cdf(a2) if z2 else 1 - _cdf(a2))
            total += prob * (z1 + 2 * z2 - Y) ** 2
        return total

    point = np.array([M[0], M[1], V[0], V[1]])
    h = 1e-6
    exact = np.array(
        [
            (expected_loss(*(point + h * e)) - expected_loss(*(point - h * e))) / (2 * h)
            for e in np.eye(4)
        ]
    )
    return mean_grad, exact


def test_two_step_iw_st1_is_unbiased_without_reset():
    """Independent steps (beta = 0, no reset) and a quadratic loss: IW-ST(1)
    is exactly unbiased for every mean and variance, by enumeration."""
    mean_grad, exact = _expected_two_step(1.0, "none")
    np.testing.assert_allclose(mean_grad, exact, rtol=1e-7, atol=1e-9)


def test_two_step_reset_path_is_not_differentiated():
    """With reset by subtraction the first spike also shifts the second
    step's firing probability; like snnTorch, the reset signal is detached,
    so the estimator misses that path and is biased for m1 and v1 (by a
    measured, non-zero amount) while staying exact for the second step."""
    mean_grad, exact = _expected_two_step(1.0, "subtract")
    np.testing.assert_allclose(mean_grad[[1, 3]], exact[[1, 3]], rtol=1e-7, atol=1e-9)
    assert abs(mean_grad[0] - exact[0]) > 1e-3


# --------------------------------------------------------------------------
# The reset uses the emitted spike
# --------------------------------------------------------------------------


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("cls", ["leaky", "synaptic"])
def test_reset_always_equals_the_spike_emitted_one_step_before(cls, reset):
    torch.manual_seed(0)
    fc = sb.BayesLinear(12, 50, posterior_std=0.3)
    if cls == "leaky":
        neuron = VariationalLeaky(0.9, reset_mechanism=reset, graded_spikes_factor=2.0)
    else:
        neuron = VariationalSynaptic(0.8, 0.9, reset_mechanism=reset)
    seen = record_noise(neuron)
    x = torch.rand(16, 12) * 2
    cur = fc(x)
    syn = mem = torch.zeros(16, 50)
    prev_emitted = torch.zeros(16, 50)
    fired = 0
    beta = neuron.beta
    for t in range(40):
        prev_mem, prev_syn = mem, syn
        if cls == "leaky":
            spk, mem = neuron(cur, mem)
            emitted = spk / 2.0
        else:
            spk, syn, mem = neuron(cur, syn, mem)
            emitted = spk
        std, eps = seen[t]
        current = cur.mean + std * eps
        prev_spk = prev_emitted
        # the membrane equation with the spike actually emitted at t - 1
        if cls == "leaky":
            if reset == "zero":
                want = beta * ((1 - prev_spk) * prev_mem) + current
            else:
                want = beta * prev_mem + current - prev_spk * THETA
        else:
            new_syn = neuron.alpha * prev_syn + current
            want = beta * prev_mem + new_syn
            want = want - want * prev_spk if reset == "zero" else want - prev_spk * THETA
        torch.testing.assert_close(mem, want, rtol=1e-6, atol=1e-6)  # a wrong reset is off by 1
        assert torch.equal(emitted, (mem > THETA).float())
        prev_emitted = emitted
        fired += int(emitted.sum())
    assert fired > 100  # the check saw many spikes and resets


def test_firing_rate_matches_the_gaussian_probability():
    """Forward distribution: P(z = 1) = Phi((m - theta)/sqrt v) for a current,
    and Phi((x - theta)/s) for a plain tensor (s = spike_grad.scale)."""
    n = 40_000
    m = torch.linspace(0.2, 1.8, 5).repeat(n, 1)
    lif = VariationalLeaky(0.9, spike_grad=iw_st(noise="gaussian", scale=0.5))
    spk, _ = lif(GaussianCurrent(m, torch.full_like(m, 0.25)))
    rate = spk.mean(0)
    want = normal_cdf((m[0] - THETA) / 0.5)
    assert (rate - want).abs().max() < 5 * math.sqrt(0.25 / n)
    lif.reset_mem()
    spk, _ = lif(m)  # plain tensor: the neuron's own scale, 0.5
    assert (spk.mean(0) - want).abs().max() < 5 * math.sqrt(0.25 / n)


# --------------------------------------------------------------------------
# Deployment equals snnTorch; export
# --------------------------------------------------------------------------


def _run_steps(neuron, inputs, synaptic):
    out = []
    if neuron.init_hidden:
        for x in inputs:
            r = neuron(x)
            out.append(r if isinstance(r, torch.Tensor) else torch.cat(r))
        return torch.stack(out)
    state = neuron.reset_mem()
    for x in inputs:
        if synaptic:
            spk, syn, mem = neuron(x, *state)
            state = (syn, mem)
            out.append(torch.cat([spk, syn, mem]))
        else:
            spk, mem = neuron(x, state)
            state = mem
            out.append(torch.cat([spk, mem]))
    return torch.stack(out)


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("synaptic", [False, True])
@pytest.mark.parametrize("hidden", [(False, False), (True, False), (True, True)])
def test_mean_mode_equals_snntorch_exactly(reset, synaptic, hidden):
    init_hidden, output = hidden
    kwargs = {"reset_mechanism": reset, "init_hidden": init_hidden, "output": output}
    if synaptic:
        neuron = VariationalSynaptic(0.7, 0.9, threshold=0.8, learn_beta=True, **kwargs)
    else:
        neuron = VariationalLeaky(0.9, threshold=0.8, learn_threshold=True, **kwargs)
    neuron.eval()
    twin = sb.to_snntorch(neuron)
    assert type(twin) is (snn.Synaptic if synaptic else snn.Leaky)
    inputs = [torch.randn(3, 7) for _ in range(30)]
    ours = _run_steps(neuron, inputs, synaptic)
    theirs = _run_steps(twin, inputs, synaptic)
    assert torch.equal(ours, theirs)
    assert ours[..., :3, :].sum() > 0  # it spiked


class _ConvNet(torch.nn.Module):
    """Tutorial-6 shape, variational, no normalisation."""

    def __init__(self):
        super().__init__()
        self.conv1 = sb.BayesConv2d(1, 4, 5)
        self.lif1 = VariationalLeaky(0.5)
        self.conv2 = sb.BayesConv2d(4, 8, 5)
        self.lif2 = VariationalLeaky(0.5)
        self.fc = sb.BayesLinear(8 * 4 * 4, 10)
        self.lif3 = VariationalSynaptic(0.6, 0.5)

    def forward(self, x):
        mem1, mem2 = self.lif1.reset_mem(), self.lif2.reset_mem()
        syn3, mem3 = self.lif3.reset_mem()
        out = []
        for _ in range(4):
            spk1, mem1 = self.lif1(sb.max_pool2d(self.conv1(x), 2), mem1)
            spk2, mem2 = self.lif2(sb.max_pool2d(self.conv2(spk1), 2), mem2)
            _, syn3, mem3 = self.lif3(self.fc(spk2.flatten(1)), syn3, mem3)
            out.append(mem3)
        return torch.stack(out)


def test_exported_conv_network_equals_mean_mode_and_samples_in_train_mode():
    net = _ConvNet()
    x = torch.rand(2, 1, 28, 28) * 3
    net.train()
    sampled = net(x)
    assert not torch.equal(sampled, net(x))  # fresh noise every pass
    net.eval()
    deployed = net(x)
    plain = sb.to_snntorch(net).eval()
    assert not any(isinstance(m, sb.layers.Variational) for m in plain.modules())
    assert torch.equal(plain(x), deployed)
    assert torch.equal(net(x), deployed)  # deterministic


def test_to_snntorch_exports_to_nir():
    pytest.importorskip("nir")
    pytest.importorskip("nirtorch")
    from snntorch.export_nir import export_to_nir

    net = torch.nn.Sequential(
        sb.BayesLinear(20, 12),
        VariationalLeaky(0.9, init_hidden=True),
        sb.BayesLinear(12, 4),
        VariationalSynaptic(0.8, 0.9, init_hidden=True, output=True),
    ).eval()
    sample = torch.rand(1, 20)
    plain = sb.to_snntorch(net, sample_input=sample)
    graph = export_to_nir(plain, sample[0])
    kinds = sorted(type(node).__name__ for node in graph.nodes.values())
    assert kinds == ["Affine", "Affine", "CubaLIF", "Input", "LIF", "Output"]
    np.testing.assert_allclose(graph.nodes["0"].weight, net[0].weight_mean.detach().numpy())
    # broadcasting the neuron parameters did not change the outputs
    utils.reset(net)
    utils.reset(plain)
    for _ in range(5):
        x = torch.rand(3, 20) * 3
        a, b = net(x), plain(x)
        assert all(torch.equal(u, w) for u, w in zip(a, b, strict=True))


# --------------------------------------------------------------------------
# API contract
# --------------------------------------------------------------------------


def test_upstream_argument_order_and_return_tuples():
    lif = VariationalLeaky(0.9, 0.5, None, False, True, False, False, False, "zero")
    assert lif.init_hidden and lif.reset_mechanism == "zero"
    assert float(lif.threshold) == 0.5
    cur = GaussianCurrent(torch.zeros(2, 3), torch.ones(2, 3))
    assert isinstance(lif(cur), torch.Tensor)  # init_hidden: spikes only
    syn = VariationalSynaptic(0.5, 0.9, 1.0, None, False, False, False, True)
    assert isinstance(syn.alpha, torch.nn.Parameter)
    spk, s, m = syn(cur)
    assert spk.shape == s.shape == m.shape == (2, 3)


def test_reset_mem_clears_every_state_and_utils_reset_works():
    torch.manual_seed(0)
    lif = VariationalSynaptic(0.8, 0.9, init_hidden=True).eval()
    x = torch.rand(4, 5) * 3
    first = [lif(x) for _ in range(5)]
    lif.reset_mem()
    assert lif.syn.numel() == 0 and lif.mem.numel() == 0
    again = [lif(x) for _ in range(5)]
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    utils.reset(torch.nn.Sequential(lif))
    assert lif.mem.abs().sum() == 0 and lif.syn.abs().sum() == 0
    assert torch.equal(lif(x), first[0])


def test_batch_size_may_change_between_sequences():
    lif = VariationalLeaky(0.9, init_hidden=True)
    lif(torch.rand(8, 3))
    assert lif(torch.rand(5, 3)).shape == (5, 3)
    mem = lif.reset_mem()
    lif2 = VariationalLeaky(0.9)
    assert lif2(torch.rand(5, 3), mem)[1].shape == (5, 3)


@pytest.mark.parametrize("cls", [VariationalLeaky, VariationalSynaptic])
def test_pickle_and_state_dict_round_trips_reproduce_outputs(cls):
    args = (0.9,) if cls is VariationalLeaky else (0.8, 0.9)
    net = torch.nn.Sequential(sb.BayesLinear(6, 4), cls(*args, init_hidden=True))
    x = torch.rand(3, 6)
    copies = [pickle.loads(pickle.dumps(net))]
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    copies.append(torch.load(buffer, weights_only=False))
    fresh = torch.nn.Sequential(sb.BayesLinear(6, 4), cls(*args, init_hidden=True))
    fresh.load_state_dict(net.state_dict())
    copies.append(fresh)
    for other in copies:
        for model in (net, other):
            utils.reset(model)
        torch.manual_seed(5)
        a = [net(x) for _ in range(3)]
        torch.manual_seed(5)
        b = [other(x) for _ in range(3)]
        assert all(torch.equal(u, w) for u, w in zip(a, b, strict=True))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_is_preserved_and_gradients_are_finite(dtype):
    fc = sb.BayesLinear(5, 4, dtype=dtype)
    lif = VariationalSynaptic(0.8, 0.9).to(dtype)
    x = torch.cat([torch.rand(3, 5), 1e4 * torch.rand(3, 5)]).to(dtype)
    cur = fc(x)
    syn, mem = lif.reset_mem()
    total = 0
    for _ in range(4):
        spk, syn, mem = lif(cur, syn, mem)
        assert spk.dtype == syn.dtype == mem.dtype == dtype
        total = total + spk.sum() + mem.sum()
    total.backward()
    for param in fc.parameters():
        assert torch.isfinite(param.grad).all()


def test_modes_sample_in_training_and_not_in_deployment():
    torch.manual_seed(0)
    net = torch.nn.Sequential(sb.BayesLinear(6, 30), VariationalLeaky(0.9, init_hidden=True))
    x = torch.rand(4, 6) * 3

    def run():
        utils.reset(net)
        return torch.stack([net(x) for _ in range(10)])

    assert not torch.equal(run(), run())
    net.eval()
    assert torch.equal(run(), run())
    with sb.sampling(net):
        assert not torch.equal(run(), run())
    assert net[1].mode == "auto"
    logits = sb.mc_logits(lambda: run().sum(0), net, 4)
    assert logits.shape == (4, 4, 30) and not torch.equal(logits[0], logits[1])


@pytest.mark.parametrize("mode", ["sample", "mean"])
@pytest.mark.parametrize("cls", ["leaky", "synaptic"])
def test_no_graph_breaks(cls, mode):
    torch._dynamo.reset()
    fc = sb.BayesLinear(6, 4)
    neuron = VariationalLeaky(0.9) if cls == "leaky" else VariationalSynaptic(0.8, 0.9)
    sb.set_mode(fc, mode)
    neuron.set_mode(mode)
    states = (torch.zeros(2, 4),) * (1 if cls == "leaky" else 2)
    explained = torch._dynamo.explain(lambda x, *s: neuron(fc(x), *s))(torch.rand(2, 6), *states)
    assert explained.graph_break_count == 0


# --------------------------------------------------------------------------
# Firing probabilities and the bias penalty
# --------------------------------------------------------------------------


def test_record_firing_gives_phi_of_a_and_the_bias_penalty():
    torch.manual_seed(0)
    fc = sb.BayesLinear(6, 5)
    lif = VariationalLeaky(0.9, spike_grad=iw_st(p=0.0, noise="gaussian"))
    cur = fc(torch.rand(3, 6))
    seen = record_noise(lif)
    with sb.record_firing(fc) as empty:
        pass
    with pytest.raises(ValueError, match="nothing recorded"):
        empty.bias_penalty()
    with sb.record_firing(lif) as record:
        mem = lif.reset_mem()
        for _ in range(3):
            prev = mem if mem.numel() else torch.zeros(3, 5)
            _, mem = lif(cur, mem)
    assert len(record.probabilities) == 3
    assert not lif._probability_hooks and not lif._forward_hooks  # removed on exit
    std, _ = seen[0]
    want = normal_cdf((cur.mean - THETA) / std)  # step 0: mem 0, no reset
    torch.testing.assert_close(record.probabilities[0], want)
    del prev
    penalty = record.bias_penalty()
    stacked = torch.stack(record.probabilities)
    torch.testing.assert_close(penalty, bias_penalty(stacked, 0.0))
    penalty.backward()
    assert fc.weight_mean.grad.abs().sum() > 0
    # p = 1 estimators have no bias: the penalty vanishes
    lif1 = VariationalLeaky(0.9, spike_grad=iw_st(p=1.0, noise="gaussian"))
    with sb.record_firing(lif1) as record1:
        lif1(fc(torch.rand(3, 6)))
    assert record1.bias_penalty().abs().item() < 1e-12


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors():
    lif = VariationalLeaky(0.9)
    syn = VariationalSynaptic(0.8, 0.9)
    cur = GaussianCurrent(torch.zeros(2, 3), torch.ones(2, 3))
    with pytest.raises(ValueError, match="same shape"):
        lif(GaussianCurrent(torch.zeros(2, 3), torch.ones(2, 4)))
    with pytest.raises(ValueError, match=r"var must be finite and >= 0.*-1"):
        lif(GaussianCurrent(torch.zeros(2, 3), -torch.ones(2, 3)))
    with pytest.raises(ValueError, match="var must be finite and >= 0"):
        lif(GaussianCurrent(torch.zeros(2, 3), torch.full((2, 3), math.nan)))
    with pytest.raises(ValueError, match="finite"):
        lif(GaussianCurrent(torch.zeros(2, 3), torch.full((2, 3), math.inf)))
    with pytest.raises(ValueError, match=r"mem has shape \(4, 3\).*\(2, 3\)"):
        lif(cur, torch.zeros(4, 3))
    with pytest.raises(TypeError, match="mem must be a tensor"):
        lif(cur, (torch.zeros(2, 3), torch.zeros(2, 3)))
    with pytest.raises(ValueError, match=r"syn has shape \(4, 3\)"):
        syn(cur, torch.zeros(4, 3))
    with pytest.raises(TypeError, match="GaussianCurrent"):
        lif([1.0, 2.0])
    with pytest.raises(TypeError, match="init_hidden"):
        VariationalLeaky(0.9, init_hidden=True)(cur, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="num_samples"):
        sb.mc_logits(lambda: torch.zeros(1), lif, 0)


@pytest.mark.parametrize(
    ("option", "value"),
    [("inhibition", True), ("reset_delay", False)],
)
def test_unsupported_options_are_rejected(option, value):
    with pytest.raises(ValueError, match=f"does not support {option}"):
        VariationalLeaky(0.9, **{option: value})


def test_spike_grad_must_be_a_gaussian_deterministic_iw_st():
    with pytest.raises(ValueError, match="Gaussian noise"):
        VariationalLeaky(0.9, spike_grad=iw_st(noise="logistic"))
    with pytest.raises(ValueError, match="Gaussian noise"):
        VariationalLeaky(0.9, spike_grad=snn.surrogate.fast_sigmoid())
    with pytest.raises(ValueError, match="sample=False"):
        VariationalSynaptic(0.8, 0.9, spike_grad=iw_st(noise="gaussian", sample=True))


def test_elbo_scales_the_summed_kl_by_the_training_set_size():
    net = sb.BayesLinear(4, 3)
    data = torch.tensor(1.5)
    kl = sb.model_kl(net)
    elbo = sb.ELBO(num_train=1000, warmup_steps=10, kl_scale=1.0)
    torch.testing.assert_close(elbo(data, net), data + kl / 1000)
    torch.testing.assert_close(elbo(data, net, step=4), data + 0.5 * kl / 1000)
    torch.testing.assert_close(elbo(data, net, step=50), data + kl / 1000)
    for bad in ({"num_train": 0}, {"num_train": 10, "warmup_steps": -1}):
        with pytest.raises(ValueError, match="must be an integer"):
            sb.ELBO(**bad)


def test_elbo_default_is_tempered_by_a_tenth():
    """The default KL scale is the recipe's 0.1 (a tempered ELBO), and it
    multiplies the warm-up fraction."""
    net = sb.BayesLinear(4, 3)
    data = torch.tensor(0.7)
    kl = sb.model_kl(net)
    elbo = sb.ELBO(num_train=500)
    assert elbo.kl_scale == 0.1 and "kl_scale=0.1" in repr(elbo)
    torch.testing.assert_close(elbo(data, net), data + 0.1 * kl / 500)
    warm = sb.ELBO(num_train=500, warmup_steps=4, kl_scale=0.5)
    assert warm.kl_weight(0) == 0.125 and warm.kl_weight(3) == 0.5 and warm.kl_weight() == 0.5
    for bad in (0, -1.0, float("nan"), float("inf"), True, "0.1"):
        with pytest.raises(ValueError, match="kl_scale"):
            sb.ELBO(num_train=10, kl_scale=bad)


def test_neurons_default_to_straight_through_gaussian():
    """The recipe's estimator, IW-ST with p = 0 and Gaussian noise."""
    for neuron in (VariationalLeaky(0.9), VariationalSynaptic(0.8, 0.9)):
        grad = neuron.spike_grad
        assert (grad.p, grad.noise, grad.scale, grad.max_weight) == (0.0, "gaussian", 0.25, None)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("threshold_shape", [(), (6,)])
def test_fused_sampled_step_equals_autograd_of_its_definition(p, threshold_shape):
    """The hand-written backward of the sampled step equals autograd through
    U = mu + sigma eps and the IW-ST estimator at a = (mu - theta)/sigma,
    including the gradients of a learnable threshold and a scalar sigma."""
    from snntorch_bayes.neurons import _sampled_spike

    g = torch.Generator().manual_seed(3)
    mu = torch.randn(5, 6, dtype=F64, generator=g).requires_grad_()
    eps = torch.randn(5, 6, dtype=F64, generator=g)
    theta = (1 + 0.1 * torch.rand(threshold_shape, dtype=F64, generator=g)).requires_grad_()
    up_spk, up_mem = torch.randn(2, 5, 6, dtype=F64, generator=g)
    for std in (torch.rand(5, 6, dtype=F64, generator=g) + 0.2, torch.tensor(0.7, dtype=F64)):
        std.requires_grad_()
        spk, mem = _sampled_spike(p, None).apply(mu, std, eps, theta)
        fused = torch.autograd.grad((spk * up_spk + mem * up_mem).sum(), (mu, std, theta))
        ref_mem = mu + std * eps
        a = (mu - theta) / std
        ref_spk = iw_st(p=p, noise="gaussian", scale=1.0).estimate(a, ref_mem > theta)
        assert torch.equal(spk, ref_spk.detach()) and torch.equal(mem, ref_mem.detach())
        ref = torch.autograd.grad((ref_spk * up_spk + ref_mem * up_mem).sum(), (mu, std, theta))
        for got, want in zip(fused, ref, strict=True):
            torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-14)


def test_intrinsic_noise_adds_its_variance_to_the_current():
    """With intrinsic noise s0 the neuron behaves as if fed N(m, v + s0^2): the
    gradient formula and the firing rate use sqrt(v + s0^2)."""
    m, v, s0 = 0.6, 0.05, 0.4
    total = v + s0**2
    a = (m - THETA) / math.sqrt(total)
    lif = VariationalLeaky(0.9, intrinsic_noise=s0, spike_grad=iw_st(p=1.0, noise="gaussian"))
    lif = force_noise(lif.to(F64), [-a + 1.5])
    mean, var = _leaf(m), _leaf(v)
    spk, _ = lif(GaussianCurrent(mean, var))
    spk.sum().backward()
    dz = _phi(a) * (2 * _cdf(a)) ** -1.0
    assert mean.grad.item() == pytest.approx(dz / math.sqrt(total), rel=1e-12)
    assert var.grad.item() == pytest.approx(dz * -a / (2 * total), rel=1e-12)
    n = 40_000
    lif = VariationalSynaptic(0.0, 0.0, intrinsic_noise=s0)
    spk, _, _ = lif(GaussianCurrent(torch.full((n,), m), torch.full((n,), v)))
    assert abs(spk.mean().item() - _cdf(a)) < 5 * math.sqrt(0.25 / n)
    for bad in (-0.1, math.nan, "0.5"):
        with pytest.raises(ValueError, match="intrinsic_noise"):
            VariationalLeaky(0.9, intrinsic_noise=bad)


def test_each_neuron_holds_its_sampled_step_and_rebuilds_it_with_a_new_estimator():
    a, b = VariationalLeaky(0.9), VariationalLeaky(0.9)
    assert a._sampled_step is not b._sampled_step  # no shared global cache
    before = a._sampled_step
    a.spike_grad = iw_st(p=1.0, noise="gaussian")
    assert a._sampled_step is not before
    clone = pickle.loads(pickle.dumps(a))
    assert clone._sampled_step is not a._sampled_step
    assert clone.spike_grad.config == a.spike_grad.config


# --------------------------------------------------------------------------
# snnTorch's state_quant and surrogate_disable, and Synaptic's state
# --------------------------------------------------------------------------


def _quantiser():
    from snntorch.functional import quant

    return quant.state_quant(num_bits=4, uniform=True, threshold=1.0)


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("cls", ["leaky", "synaptic"])
@pytest.mark.parametrize("option", ["state_quant", "surrogate_disable"])
def test_mean_mode_options_match_snntorch_and_survive_export(reset, cls, option):
    torch.manual_seed(0)
    value = _quantiser() if option == "state_quant" else True
    kwargs = {"reset_mechanism": reset, option: value}
    if cls == "leaky":
        ours = VariationalLeaky(0.8, **kwargs)
        twin = snn.Leaky(0.8, spike_grad=iw_st(p=0.0, noise="gaussian"), **kwargs)
    else:
        ours = VariationalSynaptic(0.7, 0.8, **kwargs)
        twin = snn.Synaptic(0.7, 0.8, spike_grad=iw_st(p=0.0, noise="gaussian"), **kwargs)
    ours.set_mode("mean")
    exported = sb.to_snntorch(ours)
    assert getattr(exported, option) is value
    x = torch.rand(6, 4, 5, requires_grad=True) * 1.5
    outs = []
    for neuron in (ours, twin, exported):
        state = neuron.reset_mem()
        rec = []
        for t in range(6):
            out = neuron(x[t], *state) if isinstance(state, tuple) else neuron(x[t], state)
            state = out[1:] if len(out) == 3 else out[1]
            rec.append(out)
        outs.append(rec)
    for a, b, c in zip(*outs, strict=True):
        for u, v, w in zip(a, b, c, strict=True):
            assert torch.equal(u, v) and torch.equal(u, w)
    spikes = torch.stack([o[0] for o in outs[0]])
    assert 0 < spikes.mean() < 1
    if option == "surrogate_disable":
        assert not spikes.requires_grad  # no gradient, like snnTorch's bypass


@pytest.mark.parametrize("option", ["state_quant", "surrogate_disable"])
def test_mean_mode_options_raise_in_sample_mode(option):
    value = _quantiser() if option == "state_quant" else True
    lif = VariationalLeaky(0.9, **{option: value})
    lif.train()
    with pytest.raises(ValueError, match=rf"{option} applies to 'mean' mode"):
        lif(GaussianCurrent(torch.zeros(2, 3), torch.ones(2, 3)))
    lif.eval()
    lif(torch.zeros(2, 3))  # fine in mean mode


@pytest.mark.parametrize(
    ("option", "value", "match"),
    [
        ("state_quant", "4 bits", "state_quant must be False or a quantiser"),
        ("surrogate_disable", 1, "surrogate_disable must be True or False"),
    ],
)
def test_mean_mode_options_are_checked(option, value, match):
    with pytest.raises(ValueError, match=match):
        VariationalLeaky(0.9, **{option: value})
    lif = VariationalSynaptic(0.8, 0.9)
    with pytest.raises(ValueError, match=match):
        setattr(lif, option, value)


def test_synaptic_takes_either_state_alone_like_snntorch():
    cur = torch.rand(2, 3) + 0.5
    ours = VariationalSynaptic(0.7, 0.8).eval()
    twin = snn.Synaptic(0.7, 0.8, spike_grad=iw_st(p=0.0, noise="gaussian"))
    for kwargs in ({"syn": torch.full((2, 3), 0.3)}, {"mem": torch.full((2, 3), 0.6)}):
        ours.reset_mem(), twin.reset_mem()
        for u, v in zip(ours(cur, **kwargs), twin(cur, **kwargs), strict=True):
            assert torch.equal(u, v)


# --------------------------------------------------------------------------
# The mixture data term
# --------------------------------------------------------------------------


def test_mixture_cross_entropy_is_the_nll_of_the_averaged_softmax():
    """float64: against the written formula, element by element, and its
    gradient against autograd's check; one pass is the cross-entropy."""
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0, 2, 1, 1, 0])
    probs = logits.softmax(-1)
    expected = -sum(math.log(sum(probs[k, i, y[i]].item() for k in range(4)) / 4) for i in range(5))
    got = sb.mixture_cross_entropy(logits, y)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got.item(), expected / 5, rtol=1e-12, atol=0)
    torch.autograd.gradcheck(lambda z: sb.mixture_cross_entropy(z, y), (logits,))
    one = logits[:1]
    torch.testing.assert_close(sb.mixture_cross_entropy(one, y), F.cross_entropy(one[0], y))
    # stable where the softmax underflows: a huge logit gap, still finite
    far = torch.tensor([[[0.0, 2000.0]], [[0.0, -2000.0]]], dtype=torch.float64)
    torch.testing.assert_close(
        sb.mixture_cross_entropy(far, torch.tensor([0])).item(), math.log(2.0), rtol=1e-12, atol=0
    )


@pytest.mark.parametrize(
    "logits, targets, match",
    [
        (torch.zeros(2, 3), torch.zeros(2, dtype=torch.long), "K, B, C"),
        (torch.zeros(2, 3, 4), torch.zeros(2, dtype=torch.long), "shape \\[3\\]"),
        (torch.zeros(2, 3, 4), torch.zeros(3), "integer labels"),
        ([[[0.0]]], torch.zeros(1, dtype=torch.long), "K, B, C"),
    ],
)
def test_mixture_cross_entropy_rejects_bad_input(logits, targets, match):
    with pytest.raises(ValueError, match=match):
        sb.mixture_cross_entropy(logits, targets)
