"""Normalisation-free residual networks: BinaryResNet and SpikingResNet."""

from __future__ import annotations

import io
import pickle

import pytest
import snntorch as snn
import torch
import torch.nn.functional as F
from torch import nn

import snntorch_bayes as sb
from snntorch_bayes.layers import Variational
from snntorch_bayes.models import BinaryResNet, SpikingResNet
from snntorch_bayes.training import membrane_ce_loss

SHAPE = (2, 12, 12)  # a conv stem of stride 2 -> a 6x6 stream


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These tensors are tiny: one thread is faster, above all on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make(kind: str, **kwargs) -> nn.Module:
    options = {"depth": 2, "width": 4, **kwargs}
    if kind == "binary":
        return BinaryResNet(SHAPE, 3, **options)
    return SpikingResNet(SHAPE, 3, num_steps=options.pop("num_steps", 3), **options)


def logits(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    out = net(x)
    return out[1].mean(0) if isinstance(out, tuple) else out


VARIANTS = [
    {"variational": True},
    {"variational": False},
    {"variational": False, "batch_norm": True},
]
KINDS = [
    ("binary", {}),
    ("spiking", {"neuron": "leaky"}),
    ("spiking", {"neuron": "synaptic"}),
]


@pytest.mark.parametrize("block", ["conv", "linear"])
@pytest.mark.parametrize(("kind", "extra"), KINDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_shapes_and_dtypes_in_train_and_eval(block, kind, extra, variant):
    net = make(kind, block=block, **extra, **variant)
    x = torch.rand(5, *SHAPE)
    for mode in ("train", "eval"):
        getattr(net, mode)()
        out = net(x)
        if kind == "binary":
            assert out.shape == (5, 3) and out.dtype == torch.float32
        else:
            spk, mem = out
            assert spk.shape == mem.shape == (3, 5, 3)
            assert spk.dtype == mem.dtype == torch.float32
            assert set(spk.unique().tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("block", ["conv", "linear"])
@pytest.mark.parametrize("neuron", ["leaky", "synaptic"])
def test_spiking_takes_a_spike_train_of_its_own_length(block, neuron):
    net = make("spiking", block=block, neuron=neuron, num_steps=3)
    train = (torch.rand(6, 2, *SHAPE) < 0.3).float()
    spk, mem = net(train)
    assert spk.shape == mem.shape == (6, 2, 3)
    with pytest.raises(ValueError, match=r"x must be \[T, B, C, H, W\] with \(C, H, W\)"):
        net(torch.rand(6, 2, 1, 12, 12))
    with pytest.raises(ValueError, match=r"x must be \[B, C, H, W\]"):
        BinaryResNet(SHAPE, 3, 1, 4)(train)


@pytest.mark.parametrize(("kind", "extra"), KINDS)
@pytest.mark.parametrize("variational", [True, False])
def test_float64_round_trip(kind, extra, variational):
    net = make(kind, variational=variational, **extra).double()
    x = torch.rand(3, *SHAPE, dtype=torch.float64)
    for mode in ("train", "eval"):
        getattr(net, mode)()
        out = logits(net, x)
        assert out.dtype == torch.float64
        loss = out.square().mean()
        if mode == "train":
            loss.backward()
            assert net.first_layer.weight.grad.dtype == torch.float64


@pytest.mark.parametrize(("kind", "extra"), KINDS)
@pytest.mark.parametrize("variational", [True, False])
def test_pickle_and_torch_save_reproduce_outputs_under_a_seed(kind, extra, variational):
    net = make(kind, variational=variational, **extra)
    x = torch.rand(3, *SHAPE)
    torch.manual_seed(7)
    expected = logits(net, x)  # a sampled pass for the SBNN
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    for copy in (torch.load(buffer, weights_only=False), pickle.loads(pickle.dumps(net))):
        torch.manual_seed(7)
        torch.testing.assert_close(logits(copy, x), expected, rtol=0, atol=0)


@pytest.mark.parametrize("block", ["conv", "linear"])
@pytest.mark.parametrize(("kind", "extra"), KINDS)
def test_to_snntorch_equals_eval_mode(block, kind, extra):
    net = make(kind, block=block, **extra)
    # train a little so that the means are not their initial values
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    x, y = torch.rand(4, *SHAPE), torch.tensor([0, 1, 2, 0])
    F.cross_entropy(logits(net, x), y).backward()
    opt.step()
    net.eval()
    plain = sb.to_snntorch(net)
    assert not any(isinstance(m, Variational) for m in plain.modules())
    neurons = [m for m in plain.modules() if isinstance(m, snn.SpikingNeuron)]
    assert neurons and all(type(m) in (snn.Leaky, snn.Synaptic) for m in neurons)
    assert {type(m) for m in plain.modules()} & {nn.Conv2d, nn.Linear}
    with torch.no_grad():
        expected, got = net(x), plain(x)
    for a, b in zip(
        expected if isinstance(expected, tuple) else (expected,),
        got if isinstance(got, tuple) else (got,),
        strict=True,
    ):
        assert torch.equal(a, b)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"depth": 0}, r"depth must be an integer in \[1, inf\), got 0"),
        ({"depth": 2.0}, r"depth must be an integer in \[1, inf\), got 2.0"),
        ({"width": 0}, r"width must be an integer in \[1, inf\), got 0"),
        ({"block": "res"}, r"block must be one of \('conv', 'linear'\), got 'res'"),
        (
            {"variational": True, "batch_norm": True},
            r"batch_norm must be False when variational=True .* got batch_norm=True",
        ),
        ({"variational": 1}, r"variational must be True or False, got 1"),
        ({"num_classes": 0}, r"num_classes must be an integer in \[1, inf\), got 0"),
        ({"in_shape": (28, 28)}, r"in_shape must be \(C, H, W\) .* got \(28, 28\)"),
    ],
)
def test_bad_arguments_name_parameter_value_and_range(kwargs, message):
    options = {"in_shape": SHAPE, "num_classes": 3, "depth": 2, "width": 4, **kwargs}
    for cls in (BinaryResNet, SpikingResNet):
        with pytest.raises(ValueError, match=message):
            cls(**options)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"neuron": "lif"}, r"neuron must be one of \('leaky', 'synaptic'\), got 'lif'"),
        ({"num_steps": 0}, r"num_steps must be an integer in \[1, inf\), got 0"),
        ({"beta": 1.5}, r"beta must be in \[0, 1\], got 1.5"),
        ({"alpha": -0.1}, r"alpha must be in \[0, 1\], got -0.1"),
    ],
)
def test_bad_spiking_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SpikingResNet(SHAPE, 3, 2, 4, **kwargs)


@pytest.mark.parametrize(("kind", "extra"), KINDS)
def test_kl_only_for_the_sbnn_and_the_elbo_backpropagates(kind, extra):
    sbnn = make(kind, **extra)
    kl = sb.model_kl(sbnn)
    assert kl.item() > 0
    x, y = torch.rand(4, *SHAPE), torch.tensor([0, 1, 2, 0])
    sb.ELBO(num_train=100)(F.cross_entropy(logits(sbnn, x), y), sbnn).backward()
    assert sbnn.first_layer.weight_rho.grad is not None
    for variant in VARIANTS[1:]:
        twin = make(kind, **extra, **variant)
        assert sb.model_kl(twin).item() == 0.0
        assert not any(isinstance(m, Variational) for m in twin.modules())


@pytest.mark.parametrize("block", ["conv", "linear"])
@pytest.mark.parametrize(("kind", "extra"), KINDS)
@pytest.mark.parametrize("variant", VARIANTS)
def test_first_layer_receives_gradients(block, kind, extra, variant):
    net = make(kind, block=block, depth=4, **extra, **variant)
    assert net.first_layer is net.stem
    x, y = torch.rand(8, *SHAPE), torch.randint(0, 3, (8,))
    if kind == "binary":
        loss = F.cross_entropy(net(x), y)
    else:
        loss = membrane_ce_loss(net(x)[1], y)
    loss.backward()
    grad = net.first_layer.weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.norm() > 0
    assert all(b.gain.grad is not None for b in net.blocks)


def test_batch_norm_sits_before_every_hidden_neuron():
    net = make("spiking", variational=False, batch_norm=True, depth=3)
    layers = [*(b.act for b in net.blocks), net.head]
    assert all(isinstance(layer.norm, nn.BatchNorm2d) for layer in layers)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == 4
    assert all(b.act.norm is None for b in make("spiking", variational=False).blocks)


def _stream(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The residual stream entering the head (its mean for a Gaussian current)."""
    captured = []
    handle = net.head.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
    with torch.no_grad():
        net(x)
    handle.remove()
    s = captured[-1]
    return s.mean if isinstance(s, sb.GaussianCurrent) else s


@pytest.mark.parametrize("block", ["conv", "linear"])
@pytest.mark.parametrize("variational", [True, False])
def test_residual_scaling_keeps_the_stream_variance_bounded_across_depth(block, variational):
    """At initialisation, the stream's standard deviation at depth 32 stays
    within a factor 1.25 of that at depth 4 (gains 1/sqrt(depth)); with
    unscaled branches (gains 1) it grows by more than 1.5x: the property is
    the scaling's."""
    x = torch.rand(32, *SHAPE)

    def std(depth: int, unscaled: bool = False) -> float:
        torch.manual_seed(0)
        net = BinaryResNet(SHAPE, 3, depth, 8, block=block, variational=variational)
        if unscaled:
            for b in net.blocks:
                nn.init.ones_(b.gain)
        return _stream(net, x).std().item()

    shallow, deep = std(4), std(32)
    assert 1 / 1.25 < deep / shallow < 1.25
    assert std(32, unscaled=True) / std(4, unscaled=True) > 1.5


def test_neurons_start_near_half_firing():
    """The stem's bias centres the stream where the neurons fire about half
    the time (binary: at the threshold)."""
    x = torch.rand(64, *SHAPE)
    for variational in (True, False):
        net = BinaryResNet(SHAPE, 3, 4, 16, variational=variational)
        with sb.record_firing(net) as record, torch.no_grad():
            net(x)
        assert 0.3 < record.mean_firing_rate().item() < 0.7


@pytest.mark.parametrize(("kind", "extra"), KINDS)
def test_firing_rates_and_record_firing(kind, extra):
    twin = make(kind, variational=False, **extra)
    with sb.record_firing(twin) as record:
        out = twin(torch.rand(4, *SHAPE))
    steps = 1 if kind == "binary" else 3
    neuron_layers = 2 + 1 + (kind == "spiking")  # blocks, head, output layer
    assert len(record.calls) == steps * neuron_layers
    rates = record.by_layer()
    assert set(rates) >= {"blocks.0.act.neuron", "head.neuron"}
    assert 0.0 <= record.mean_firing_rate().item() <= 1.0
    if kind == "spiking":
        torch.testing.assert_close(rates["out"], out[0].mean())
    sbnn = make(kind, **extra)
    with sb.record_firing(sbnn) as probabilities:
        sbnn(torch.rand(4, *SHAPE))
    assert len(probabilities.probabilities) == steps * neuron_layers
    assert 0.0 < probabilities.mean_firing_probability().item() < 1.0
    with pytest.raises(ValueError, match="nothing recorded"):
        sb.record_firing(twin).__enter__().mean_firing_rate()


def test_firing_rates_of_chosen_neurons_and_clear():
    net = make("spiking", variational=False)
    x = torch.rand(4, *SHAPE)
    with sb.record_firing(net, [net.out]) as record:
        spk, _ = net(x)
        assert {c.name for c in record.calls} == {"out"}
        torch.testing.assert_close(record.mean_firing_rate(), spk.mean())
        record.clear()
        with pytest.raises(ValueError, match="nothing recorded"):
            record.mean_firing_rate()
        spk, _ = net(x)  # the hooks stay after clear()
        torch.testing.assert_close(record.mean_firing_rate(), spk.mean())
    net(x)  # and are gone after the context
    assert len(record.calls) == 3  # one per step of the second pass


@pytest.mark.parametrize(("kind", "extra"), KINDS)
def test_modes_sampling_and_mc_logits(kind, extra):
    net = make(kind, **extra)
    x = torch.rand(4, *SHAPE)
    with torch.no_grad():
        deployed = logits(net.eval(), x)
        assert torch.equal(logits(net, x), deployed)  # eval() is deterministic
        net.train()
        sb.set_mode(net, "mean")
        assert torch.equal(logits(net, x), deployed)
        sb.set_mode(net, "auto")
        net.eval()
        with sb.sampling(net):
            draws = [logits(net, x) for _ in range(3)]
    assert not torch.equal(draws[0], draws[1])
    stacked = sb.mc_logits(lambda: logits(net, x), net, 5)
    assert stacked.shape == (5, 4, 3)
    assert not net.blocks[0].act.neuron.sampling  # modes restored


def test_gaussian_stream_adds_means_and_variances():
    net = make("binary", block="linear", depth=1)
    block = net.blocks[0]
    captured = []
    net.head.register_forward_pre_hook(lambda _m, args: captured.append(args[0]))
    stem = []
    net.blocks[0].register_forward_pre_hook(lambda _m, args: stem.append(args[0]))
    branch = []
    block.layer.register_forward_hook(lambda _m, _a, out: branch.append(out))
    net(torch.rand(3, *SHAPE))
    (x0,), (f,), (x1,) = stem, branch, captured
    g = block.gain
    torch.testing.assert_close(x1.mean, x0.mean + g * f.mean)
    torch.testing.assert_close(x1.var, x0.var + g**2 * f.var)


def test_no_graph_breaks():
    """A small SBNN (its variational neurons, Gaussian stream and time loop)
    traces into one graph."""
    torch._dynamo.reset()
    net = make("spiking", block="linear", depth=1, num_steps=2)
    explanation = torch._dynamo.explain(net)(torch.rand(2, *SHAPE))
    assert explanation.graph_break_count == 0
