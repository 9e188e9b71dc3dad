"""sb.initialize and sb.measure: the low-bias operating point on every kind
of network, for variational and plain snnTorch neurons."""

import pickle

import pytest
import snntorch as snn
import torch
from torch import nn
from torch.distributions import Normal

import snntorch_bayes as sb
from snntorch_bayes import init, models


def _stack(variational: bool, depth: int = 4, width: int = 32, beta: float = 0.0):
    layers, fan_in = [], 20
    for _ in range(depth):
        if variational:
            layers += [
                sb.BayesLinear(fan_in, width),
                sb.VariationalLeaky(beta, reset_mechanism="none", init_hidden=True),
            ]
        else:
            layers += [
                nn.Linear(fan_in, width),
                snn.Leaky(beta, reset_mechanism="none", init_hidden=True),
            ]
        fan_in = width
    return nn.Sequential(*layers)


def _current_noise_ratio(layer, inputs) -> float:
    """rms posterior noise of ``layer``'s current over the spread of its mean,
    in the units :func:`initialize` sets it in."""
    with torch.no_grad(), sb.sampling(layer):
        cur = layer(inputs)
    return float(cur.var.mean().sqrt() / cur.mean.std(0).mean())


@pytest.mark.parametrize("variational", [True, False])
def test_plain_stack_starts_at_the_low_bias_point(variational):
    torch.manual_seed(0)
    net = _stack(variational)
    x = torch.rand(256, 20)
    before = sb.measure(net, x)
    stats = sb.initialize(net, x)
    after = sb.measure(net, x)
    assert len(stats) == len(after) == 4
    # the default start is far from threshold: the deep layers are (almost) silent
    assert all(s.rate_after < 0.1 for s in before[1:])
    for s, m in zip(stats, after, strict=True):
        assert not s.skipped
        assert 0.4 < m.rate_after < 0.6
        if variational:
            assert 0.2 <= m.pi_after <= 0.8
            assert abs(s.pi_after - 0.5) < 0.02  # centred on pi itself
            assert 0.2 < m.snr_after < 5  # sqrt(v) of the order of |mu - theta|


def test_variational_noise_and_matched_prior():
    torch.manual_seed(1)
    net = _stack(True, depth=2)
    x = torch.rand(512, 20)
    sb.initialize(net, x, noise_ratio=0.5)
    for layer in (net[0], net[2]):
        rms = layer.weight_mean.pow(2).mean().sqrt().item()
        assert float(layer.prior.stddev) == pytest.approx(rms, rel=1e-6)
        assert float(layer.bias_prior.stddev) == pytest.approx(
            layer.bias_mean.pow(2).mean().sqrt().item(), rel=1e-6
        )
    # the rms current noise is noise_ratio times the spread of the mean current
    assert _current_noise_ratio(net[0], x) == pytest.approx(0.5, rel=0.1)
    net2 = _stack(True, depth=2)
    prior = net2[0].prior
    sb.initialize(net2, x, match_prior=False)
    assert net2[0].prior == prior and net2[0].bias_prior is None


def test_kl_uses_the_bias_prior():
    fc = sb.BayesLinear(4, 3, bias_prior=sb.GaussianPrior(std=2.0))
    kl = torch.distributions.kl_divergence
    expected = (
        kl(Normal(fc.weight_mean, fc.weight_std), fc.prior).sum()
        + kl(Normal(fc.bias_mean, fc.bias_std), Normal(0.0, 2.0)).sum()
    )
    assert torch.allclose(fc.kl_divergence(), expected)
    assert "bias_prior=GaussianPrior(std=2" in repr(fc)
    with pytest.raises(ValueError, match="bias_prior"):
        sb.BayesLinear(4, 3, bias_prior=2.0)


class _ConvNet(nn.Module):
    """Tutorial 6's shape, multi-step, with the time loop inside forward."""

    def __init__(self, variational: bool, steps: int = 5):
        super().__init__()
        conv = sb.BayesConv2d if variational else nn.Conv2d
        linear = sb.BayesLinear if variational else nn.Linear
        neuron = (lambda: sb.VariationalLeaky(0.8)) if variational else (lambda: snn.Leaky(0.8))
        self.c1, self.n1 = conv(1, 6, 5), neuron()
        self.fc, self.n2 = linear(6 * 6 * 6, 10), neuron()
        self.variational, self.steps = variational, steps

    def forward(self, x):
        pool = sb.max_pool2d if self.variational else nn.functional.max_pool2d
        m1, m2 = self.n1.reset_mem(), self.n2.reset_mem()
        out = []
        for _ in range(self.steps):
            s1, m1 = self.n1(pool(self.c1(x), 2), m1)
            s2, m2 = self.n2(self.fc(s1.flatten(1)), m2)
            out.append(s2)
        return torch.stack(out)


@pytest.mark.parametrize("variational", [True, False])
def test_conv_multistep_reaches_the_target_rate(variational):
    torch.manual_seed(2)
    net = _ConvNet(variational)
    x = torch.rand(64, 1, 16, 16)
    stats = sb.initialize(net, x, target_rate=0.25)
    assert [s.layer for s in stats] == ["c1", "fc"]
    for m in sb.measure(net, x):
        assert 0.2 < m.rate_after < 0.3


@pytest.mark.parametrize("variational", [True, False])
def test_synaptic(variational):
    torch.manual_seed(3)
    neuron = (
        (lambda: sb.VariationalSynaptic(0.5, 0.5, init_hidden=True))
        if variational
        else (lambda: snn.Synaptic(0.5, 0.5, init_hidden=True))
    )
    linear = sb.BayesLinear if variational else nn.Linear
    net = nn.Sequential(linear(20, 16), neuron(), linear(16, 8), neuron())
    x = torch.rand(128, 20)
    sb.initialize(net, x)
    assert all(0.4 < m.rate_after < 0.6 for m in sb.measure(net, x))


@pytest.mark.parametrize("cls", [models.BinaryResNet, models.SpikingResNet])
@pytest.mark.parametrize("variational", [True, False])
def test_residual_networks_are_centred_through_the_stream(cls, variational):
    torch.manual_seed(4)
    net = cls((1, 12, 12), 10, depth=3, width=8, variational=variational)
    x = torch.rand(64, 1, 12, 12)
    stats = sb.initialize(net, x)
    shared = [s for s in stats if s.extra.get("shared_input")]
    assert len(shared) == 3  # blocks 1, 2 and the head read the residual stream
    assert all(s.gain == 1.0 for s in shared)  # only the offset is set there
    # binary (one call per forward) units default to 1/2, spiking ones to 0.2
    multi_step = cls is models.SpikingResNet
    target = init.SPIKING_TARGET_RATE if multi_step else init.BINARY_TARGET_RATE
    assert (init.BINARY_TARGET_RATE, init.SPIKING_TARGET_RATE) == (0.5, 0.2)
    assert all(s.extra["target_rate"] == target for s in stats)
    assert all(abs(s.rate_after - target) < 0.1 for s in stats)


def test_the_default_target_rate_follows_the_number_of_steps():
    """One call per forward pass: a binary unit, centred on 1/2; several:
    a spiking unit, centred on SPIKING_TARGET_RATE; an explicit target wins."""
    torch.manual_seed(5)
    x = torch.rand(128, 20)
    for steps, target in ((1, 0.5), (4, 0.2)):
        net = nn.Sequential(sb.BayesLinear(20, 16), sb.VariationalLeaky(0.5, init_hidden=True))

        def run(net, x, steps=steps):
            for _ in range(steps):
                net(x)

        (stat,) = sb.initialize(net, x, forward=run)
        assert stat.extra["target_rate"] == target
        assert abs(stat.rate_after - target) < 0.05
        (stat,) = sb.initialize(net, x, forward=run, target_rate=0.3)
        assert stat.extra["target_rate"] == 0.3


@pytest.mark.parametrize("train", [True, False])
def test_normalised_neurons_are_left_alone(train):
    net = models.BinaryResNet((1, 12, 12), 10, depth=2, width=8, variational=False, batch_norm=True)
    net.train(train)
    norm = net.blocks[0].act.norm
    before = {k: v.clone() for k, v in net.state_dict().items()}
    stats = sb.initialize(net, torch.rand(32, 1, 12, 12))
    assert all(s.skipped == "a normalisation layer feeds it" for s in stats)
    for k, v in net.state_dict().items():  # nothing changed, running statistics included
        assert torch.equal(v, before[k]), k
    assert norm.training == train


def test_state_is_restored_and_measure_changes_nothing():
    torch.manual_seed(5)
    net = _stack(True, depth=2).eval()
    net[0].set_mode("mean")
    x = torch.rand(64, 20)
    rng = torch.get_rng_state()
    sb.initialize(net, x)
    assert torch.equal(torch.get_rng_state(), rng)
    assert not net.training and net[0].mode == "mean" and net[2].mode == "auto"
    assert net[1].mem.numel() == 0
    params = [p.clone() for p in net.parameters()]
    sb.measure(net, x)
    assert all(torch.equal(a, b) for a, b in zip(params, net.parameters(), strict=True))
    pickle.loads(pickle.dumps(net))  # the matched priors pickle with the model


def test_initialize_is_deterministic_and_float64():
    x = torch.rand(64, 20, dtype=torch.float64)
    nets = []
    for _ in range(2):
        torch.manual_seed(6)
        net = _stack(True, depth=2).double()
        sb.initialize(net, x)
        nets.append(net)
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert a.dtype == torch.float64 and torch.equal(a, b)


def test_custom_forward():
    net = _stack(False, depth=2)
    x = torch.rand(64, 20)
    calls = []

    def forward(module, inputs):
        calls.append(1)
        return module(inputs[0])

    sb.initialize(net, (x,), forward=forward, iterations=4)
    assert calls


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"target_rate": 0.0}, "target_rate"),
        ({"target_rate": 1.5}, "target_rate"),
        ({"spread": 0}, "spread"),
        ({"noise_ratio": float("inf")}, "noise_ratio"),
        ({"output_noise_ratio": 0.0}, "output_noise_ratio"),
        ({"output_noise_ratio": "1"}, "output_noise_ratio"),
        ({"iterations": 0}, "iterations"),
        ({"iterations": True}, "iterations"),
    ],
)
def test_bad_arguments(bad, match):
    with pytest.raises(ValueError, match=match):
        sb.initialize(_stack(False, depth=1), torch.rand(8, 20), **bad)


def test_no_neuron():
    with pytest.raises(ValueError, match="no spiking neuron"):
        sb.initialize(nn.Linear(3, 2), torch.rand(4, 3))


def test_one_step_leaky_scales_to_the_threshold_not_the_steady_state():
    """Run for one step from rest, a Leaky(beta=0.9) membrane is its input
    current: the spread is spread * theta, not spread * theta * (1 - beta)."""
    torch.manual_seed(6)
    x = torch.rand(256, 20)
    stds = {}
    for beta in (0.0, 0.9):
        net = nn.Sequential(nn.Linear(20, 16), snn.Leaky(beta, init_hidden=True))
        sb.initialize(net, x, spread=0.5)
        stds[beta] = float((net[0](x)).detach().std(0).median())
    assert stds[0.0] == pytest.approx(0.5, rel=1e-3)
    assert stds[0.9] == pytest.approx(stds[0.0], rel=1e-3)


@pytest.mark.parametrize("ratio", [None, 0.7])
def test_the_spiking_output_gets_the_output_noise_ratio(ratio):
    """The neuron whose spikes reach no layer (the network's output) has its
    layer's noise set by output_noise_ratio; the hidden layers keep noise_ratio."""
    torch.manual_seed(7)
    net = _stack(True, depth=3)
    x = torch.rand(512, 20)
    kwargs = {} if ratio is None else {"output_noise_ratio": ratio}
    stats = sb.initialize(net, x, **kwargs)
    assert [s.output for s in stats] == [False, False, True]
    assert init.OUTPUT_NOISE_RATIO == 1.0 and init.NOISE_RATIO == 0.5
    with torch.no_grad(), sb.sampling(net):
        hidden = net[:4](x)  # sampled spikes into the last layer
    expected = init.OUTPUT_NOISE_RATIO if ratio is None else ratio
    assert _current_noise_ratio(net[4], hidden) == pytest.approx(expected, rel=0.1)
    assert _current_noise_ratio(net[0], x) == pytest.approx(init.NOISE_RATIO, rel=0.1)


@pytest.mark.parametrize("variational", [True, False])
def test_outputs_are_traced_through_pooling_flattening_and_time(variational):
    torch.manual_seed(8)
    stats = sb.initialize(_ConvNet(variational), torch.rand(32, 1, 16, 16))
    assert [(s.neuron, s.output) for s in stats] == [("n1", False), ("n2", True)]


def test_outputs_of_residual_networks_and_readouts():
    """Every neuron of a network with a linear readout feeds a layer; in the
    spiking residual network only the spiking output layer is an output."""
    torch.manual_seed(9)
    for cls, outputs in ((models.BinaryResNet, []), (models.SpikingResNet, ["out"])):
        net = cls((1, 12, 12), 10, depth=2, width=8, variational=True)
        stats = sb.initialize(net, torch.rand(32, 1, 12, 12))
        assert [s.neuron for s in stats if s.output] == outputs


class _Concat(nn.Module):
    """Two neurons whose spikes are concatenated into one layer, and a third
    one that is only summed into the output."""

    def __init__(self):
        super().__init__()
        self.a, self.b = sb.BayesLinear(20, 8), sb.BayesLinear(20, 8)
        self.na = sb.VariationalLeaky(0.0, init_hidden=True)
        self.nb = sb.VariationalLeaky(0.0, init_hidden=True)
        self.c, self.nc = sb.BayesLinear(16, 4), sb.VariationalLeaky(0.0, init_hidden=True)

    def forward(self, x):
        for n in (self.na, self.nb, self.nc):
            n.reset_mem()
        h = torch.cat([self.na(self.a(x)), self.nb(self.b(x))], -1)
        return self.nc(self.c(h)).sum(-1)


def test_outputs_are_traced_through_concatenation():
    stats = sb.initialize(_Concat(), torch.rand(64, 20))
    assert {s.neuron: s.output for s in stats} == {"na": False, "nb": False, "nc": True}


@pytest.mark.parametrize("how", ["no_grad", "in_place"])
def test_untraceable_passes_warn_and_use_noise_ratio(how):
    torch.manual_seed(10)
    net = _stack(True, depth=2)
    x = torch.rand(256, 20)

    def forward(module, inputs):
        if how == "no_grad":
            with torch.no_grad():
                return module(inputs)
        h = module[1](module[0](inputs))
        h.mul_(1.0)  # an in-place op on the spikes
        return module[3](module[2](h))

    with pytest.warns(UserWarning, match="could not trace"):
        stats = sb.initialize(net, x, forward=forward)
    assert not any(s.output for s in stats)
    assert all(abs(s.rate_after - 0.5) < 0.1 for s in stats)
    with torch.no_grad(), sb.sampling(net):
        hidden = net[:2](x)
    assert _current_noise_ratio(net[2], hidden) == pytest.approx(0.5, rel=0.1)


@pytest.mark.parametrize(
    "build",
    [
        lambda: sb.deep.BinaryMLP("sbnn", depth=3, width=16),
        lambda: sb.deep.BinaryMLP("fast_sigmoid", depth=3, width=16),
        lambda: models.BinaryResNet((1, 28, 28), 10, depth=2, width=8, block="linear"),
        lambda: models.SpikingResNet(
            (1, 28, 28), 10, depth=2, width=8, block="linear", num_steps=2
        ),
    ],
    ids=["sbnn-mlp", "twin-mlp", "binary-resnet", "spiking-resnet"],
)
def test_passes_ended_at_the_probed_neuron_change_nothing(build, monkeypatch):
    """Measuring passes stop at the probed neuron's last call; the start is
    bit for bit the one of whole passes."""
    x = torch.rand(64, 1, 28, 28)
    results, last_layer_calls = [], []
    for stop in (False, True):
        monkeypatch.setattr(init, "_STOP_AT_PROBE", stop)
        torch.manual_seed(0)
        net = build()
        forward = (lambda n, xb: n(xb.flatten(1))) if isinstance(net, sb.deep.BinaryMLP) else None
        last = [m for m in net.modules() if isinstance(m, (nn.Linear, sb.BayesLinear))][-1]
        calls = []
        handle = last.register_forward_hook(lambda *_, calls=calls: calls.append(1))
        stats = sb.initialize(net, x, forward=forward)
        handle.remove()
        results.append((net.state_dict(), [vars(s) for s in stats]))
        last_layer_calls.append(len(calls))
    assert last_layer_calls[1] < last_layer_calls[0]  # the passes did end early
    (full, full_stats), (short, short_stats) = results
    assert full.keys() == short.keys()
    assert all(torch.equal(full[k], short[k]) for k in full)
    assert full_stats == short_stats
