"""The public networks and estimators on an accelerator: the same numbers as on
the CPU where the computation is deterministic (mean mode, float64), and a
sampled training step whose every tensor stays on the device.  Skipped where
no CUDA device is present; on a GPU machine ``python -m pytest
tests/test_devices.py`` runs them."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import snntorch_bayes as sb
from snntorch_bayes.deep import BinaryMLP
from snntorch_bayes.models import BayesFCSpikingNet, BinaryResNet, SpikingResNet
from snntorch_bayes.training import membrane_ce_loss

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
F64 = torch.float64

#: name -> (builder, input shape, whether the output is (spikes, membrane))
NETWORKS = {
    "BayesFCSpikingNet": (
        lambda: BayesFCSpikingNet(num_inputs=12, num_hidden=16, num_outputs=3, num_steps=4),
        (5, 12),
        True,
    ),
    "SpikingResNet conv leaky": (
        lambda: SpikingResNet((1, 6, 6), 3, depth=2, width=4, num_steps=3),
        (5, 1, 6, 6),
        True,
    ),
    "SpikingResNet linear synaptic": (
        lambda: SpikingResNet(
            (1, 6, 6), 3, depth=2, width=8, block="linear", neuron="synaptic", num_steps=3
        ),
        (5, 1, 6, 6),
        True,
    ),
    "BinaryResNet conv": (
        lambda: BinaryResNet((3, 8, 8), 3, depth=2, width=4),
        (5, 3, 8, 8),
        False,
    ),
    "BinaryMLP": (lambda: BinaryMLP("sbnn", depth=2, width=16), (5, 784), False),
}


def _logits(net: torch.nn.Module, x: torch.Tensor, spiking: bool) -> torch.Tensor:
    out = net(x)
    return out[1].mean(0) if spiking else out


@pytest.mark.parametrize("name", list(NETWORKS))
def test_mean_mode_agrees_with_the_cpu(name):
    build, shape, spiking = NETWORKS[name]
    torch.manual_seed(0)
    net = sb.set_mode(build().to(F64), "mean")
    x = torch.rand(shape, dtype=F64)
    expected = _logits(net, x, spiking)
    got = _logits(net.to("cuda"), x.to("cuda"), spiking)
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", list(NETWORKS))
def test_initialize_and_a_sampled_training_step_stay_on_the_device(name):
    build, shape, spiking = NETWORKS[name]
    torch.manual_seed(0)
    net = build().to("cuda")
    x = torch.rand(shape, device="cuda")
    y = torch.randint(0, 3, (shape[0],), device="cuda")
    sb.initialize(net, x)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    out = net(x)
    data = membrane_ce_loss(out[1], y) if spiking else F.cross_entropy(out, y)
    loss = sb.ELBO(num_train=100)(data, net)
    loss.backward()
    opt.step()
    for pname, param in net.named_parameters():
        assert param.device.type == "cuda", pname
        assert param.grad is None or torch.isfinite(param.grad).all(), pname
    assert sb.model_kl(net).device.type == "cuda"
    logits = sb.mc_logits(lambda: _logits(net, x, spiking), net, 3)
    assert logits.shape[0] == 3 and logits.device.type == "cuda"


@pytest.mark.parametrize("name", list(NETWORKS))
def test_to_snntorch_on_the_device_equals_the_deployed_network(name):
    build, shape, spiking = NETWORKS[name]
    torch.manual_seed(0)
    net = build().to("cuda").eval()
    x = torch.rand(shape, device="cuda")
    twin = sb.to_snntorch(net, x)
    torch.testing.assert_close(_logits(twin, x, spiking), _logits(net, x, spiking))


ESTIMATORS = {
    "iw_st": sb.surrogate.iw_st,
    "iw_st p=0.5 clipped": lambda: sb.surrogate.iw_st(p=0.5, max_weight=4.0),
    "iw_st gaussian": lambda: sb.surrogate.iw_st(noise="gaussian"),
    "straight_through": sb.surrogate.straight_through,
    "gumbel_rao": sb.surrogate.gumbel_rao,
    "gumbel_rao tau=0.5": lambda: sb.surrogate.gumbel_rao(tau=0.5),
}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_estimators_give_the_cpu_gradient(name):
    x = torch.linspace(-2, 2, 41, dtype=F64)
    grads = []
    for device in ("cpu", "cuda"):
        xd = x.detach().to(device).requires_grad_()
        spikes = ESTIMATORS[name]()(xd)
        (spikes * torch.arange(41, dtype=F64, device=device)).sum().backward()
        assert spikes.device.type == device
        grads.append((spikes.detach().cpu(), xd.grad.cpu()))
    torch.testing.assert_close(grads[1][0], grads[0][0])
    torch.testing.assert_close(grads[1][1], grads[0][1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("estimator", [sb.surrogate.gumbel_rao_mc, sb.surrogate.iw_st])
def test_sampled_estimators_draw_on_the_device(estimator):
    """A sampling estimator keeps its state in buffers, so, like any module,
    it is moved to the device (a neuron holding it moves it with itself)."""
    xd = torch.randn(64, device="cuda", requires_grad=True)
    spikes = estimator(sample=True).to("cuda")(xd)
    spikes.sum().backward()
    assert spikes.device.type == "cuda" and torch.isfinite(xd.grad).all()
    with pytest.raises(RuntimeError, match=r"move the estimator .*\.to\('cuda:0'\)"):
        estimator(sample=True)(xd)


def test_mixture_cross_entropy_on_the_device():
    logits = torch.randn(4, 6, 3, dtype=F64)
    y = torch.randint(0, 3, (6,))
    expected = sb.mixture_cross_entropy(logits, y)
    got = sb.mixture_cross_entropy(logits.cuda(), y.cuda())
    torch.testing.assert_close(got.cpu(), expected)
