"""Bad input gives a clear error, and nothing common silently fails (issue 12
§2-§3): each case names the argument, the value and the valid range."""

from __future__ import annotations

import copy
import math

import pytest
import torch

import snntorch_bayes as sb
from snntorch_bayes import functional as Fn
from snntorch_bayes import surrogate
from snntorch_bayes.deep import BinaryMLP
from snntorch_bayes.models import BinaryResNet, FCSpikingNet

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: sb.VariationalLeaky(NAN), ValueError, r"beta must be in \[0, 1\], got nan"),
        (lambda: sb.VariationalLeaky(1.5), ValueError, r"beta must be in \[0, 1\], got 1.5"),
        (
            lambda: sb.VariationalLeaky(torch.tensor([0.5, -0.1])),
            ValueError,
            r"beta must be in \[0, 1\]",
        ),
        (lambda: sb.VariationalLeaky("0.9"), TypeError, r"beta must be a real number"),
        (lambda: sb.VariationalLeaky(True), TypeError, r"beta must be a real number"),
        (
            lambda: sb.VariationalLeaky(0.9, threshold=INF),
            ValueError,
            r"threshold must be in \(0, inf\), got inf",
        ),
        (
            lambda: sb.VariationalLeaky(0.9, threshold=NAN),
            ValueError,
            r"threshold must be in \(0, inf\), got nan",
        ),
        (
            lambda: sb.VariationalLeaky(0.9, threshold=0.0),
            ValueError,
            r"threshold must be in \(0, inf\), got 0.0",
        ),
        (
            lambda: sb.VariationalLeaky(0.9, graded_spikes_factor=NAN),
            ValueError,
            r"graded_spikes_factor must be in \(-inf, inf\), got nan",
        ),
        (
            lambda: sb.VariationalSynaptic(NAN, 0.9),
            ValueError,
            r"VariationalSynaptic: alpha must be in \[0, 1\], got nan",
        ),
        (
            lambda: sb.VariationalSynaptic(0.8, 0.9, threshold=-1.0),
            ValueError,
            r"threshold must be in \(0, inf\), got -1.0",
        ),
    ],
)
def test_neuron_constants_are_checked(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_valid_neuron_constants_are_accepted():
    sb.VariationalLeaky(torch.tensor([0.0, 1.0]), threshold=torch.tensor(0.5))
    sb.VariationalSynaptic(0, 1, threshold=2)


def test_elbo_rejects_a_negative_step_and_an_unreduced_loss():
    net = sb.BayesLinear(3, 2)
    elbo = sb.ELBO(num_train=100, warmup_steps=10)
    assert elbo.kl_weight(0) == pytest.approx(0.1 * 0.1)
    for step in (-5, 2.5, True, "3"):
        with pytest.raises(ValueError, match=r"step must be None or an integer >= 0"):
            elbo.kl_weight(step)
    with pytest.raises(ValueError, match=r"data_loss must be a scalar tensor.*shape \(5,\)"):
        elbo(torch.ones(5), net)
    with pytest.raises(ValueError, match=r"data_loss must be a scalar tensor.*float"):
        elbo(1.0, net)


@pytest.mark.parametrize("bad", [None, "net", 3])
def test_kl_divergence_and_elbo_reject_what_is_not_a_module(bad):
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Module, got"):
        sb.kl_divergence(bad)
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Module, got"):
        sb.ELBO(num_train=10)(torch.tensor(1.0), bad)


@pytest.mark.parametrize("prob", [1.5, -0.1, NAN])
def test_bias_penalty_rejects_what_is_not_a_probability(prob):
    with pytest.raises(ValueError, match=r"prob must hold firing probabilities in \[0, 1\]"):
        Fn.bias_penalty(torch.tensor([0.5, prob]))


@pytest.mark.parametrize("scale", [0.0, -1.0, NAN, INF])
def test_firing_probability_rejects_a_bad_scale(scale):
    with pytest.raises(ValueError, match=r"scale must be in \(0, inf\)"):
        Fn.firing_probability(torch.zeros(2), "logistic", scale)


@pytest.mark.parametrize(
    "factory", [surrogate.straight_through, surrogate.iw_st, surrogate.gumbel_rao]
)
def test_estimators_reject_a_scale_float32_cannot_hold(factory):
    with pytest.raises(ValueError, match=r"scale must be in \[1e-30, inf\).*got 1e-300"):
        factory(scale=1e-300)
    # the smallest accepted scale still gives finite gradients in float32
    x = torch.tensor([-1.0, -1e-3, 0.0, 1e-3, 1.0], requires_grad=True)
    factory(scale=surrogate.MIN_SCALE)(x).sum().backward()
    assert torch.isfinite(x.grad).all()


def _models() -> dict[str, tuple[torch.nn.Module, torch.Tensor]]:
    torch.manual_seed(0)
    image = torch.rand(4, 1, 28, 28)
    return {
        "VariationalLeaky": (
            torch.nn.Sequential(sb.BayesLinear(6, 5), sb.VariationalLeaky(0.9, init_hidden=True)),
            torch.rand(4, 6),
        ),
        "VariationalSynaptic": (
            torch.nn.Sequential(
                sb.BayesLinear(6, 5), sb.VariationalSynaptic(0.8, 0.9, init_hidden=True)
            ),
            torch.rand(4, 6),
        ),
        "FCSpikingNet": (FCSpikingNet(num_hidden=16, num_steps=3), image),
        "BinaryResNet": (BinaryResNet((1, 28, 28), 10, depth=2, width=8), image),
        "BinaryMLP twin": (BinaryMLP("fast_sigmoid", 2, 16), image.flatten(1)),
        "BinaryMLP SBNN": (BinaryMLP("sbnn", 2, 16), image.flatten(1)),
    }


@pytest.mark.parametrize("name", list(_models()))
def test_deepcopy_after_a_forward_pass_under_autograd(name):
    # keeping the best model for early stopping: copy right after a step
    net, x = _models()[name]
    out = net(x)
    out = out[1] if isinstance(out, tuple) else out
    out = out.sample() if isinstance(out, sb.GaussianCurrent) else out
    out.sum().backward()
    twin = copy.deepcopy(net)
    for a, b in zip(net.state_dict().values(), twin.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # the copy runs on its own and computes what the original computes
    twin.eval()
    net.eval()
    with torch.no_grad():
        first, second = twin(x), net(x)
    first = first[1] if isinstance(first, tuple) else first
    second = second[1] if isinstance(second, tuple) else second
    assert torch.equal(first, second)
