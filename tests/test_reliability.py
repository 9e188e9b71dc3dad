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
def test_model_kl_and_elbo_reject_what_is_not_a_module(bad):
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Module, got"):
        sb.model_kl(bad)
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Module, got"):
        sb.ELBO(num_train=10)(torch.tensor(1.0), bad)


@pytest.mark.parametrize("prob", [1.5, -0.1, NAN])
def test_bias_penalty_rejects_what_is_not_a_probability(prob):
    with pytest.raises(ValueError, match=r"prob must hold firing probabilities in \[0, 1\]"):
        Fn.bias_penalty(torch.tensor([0.5, prob]))


@pytest.mark.parametrize("scale", [0.0, -1.0, NAN, INF])
def test_firing_probability_rejects_a_bad_scale(scale):
    with pytest.raises(ValueError, match=r"scale must be (in \(0, inf\)|a real number)"):
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


@pytest.mark.parametrize("std", [True, 0.0, -1.0, NAN, INF, 1e-46, 1e30, "1"])
def test_standard_deviations_are_checked(std):
    with pytest.raises(ValueError, match=r"std must be in \[1e-30, 1e\+15\], got|must be a real"):
        sb.GaussianPrior(std=std)
    with pytest.raises(ValueError, match=r"posterior_std must be in \[1e-30|must be a real"):
        sb.BayesLinear(3, 2, posterior_std=std)


@pytest.mark.parametrize("std", [1e-30, 1e15])
def test_extreme_accepted_stds_give_a_finite_kl_and_gradient(std):
    for prior in (None, sb.GaussianPrior(std=std)):
        layer = sb.BayesLinear(3, 2, posterior_std=std, prior=prior)
        if prior is not None:  # the means at the prior's, or the KL is truly huge
            torch.nn.init.zeros_(layer.weight_mean)
            torch.nn.init.zeros_(layer.bias_mean)
        kl = layer.kl_divergence()
        kl.backward()
        assert torch.isfinite(kl)
        assert torch.isfinite(layer.weight_rho.grad).all()


def test_a_nan_current_mean_is_rejected_like_a_nan_variance():
    lif = sb.VariationalLeaky(0.9)
    mean = torch.tensor([0.5, NAN])
    with pytest.raises(ValueError, match=r"GaussianCurrent mean must be finite; 1 entries"):
        lif(sb.GaussianCurrent(mean, torch.ones(2)))
    with pytest.raises(ValueError, match=r"GaussianCurrent var must be finite and >= 0"):
        lif(sb.GaussianCurrent(torch.zeros(2), torch.tensor([1.0, -1.0])))


@pytest.mark.parametrize("pool", [sb.max_pool2d, sb.avg_pool2d])
def test_pooling_a_current_with_mismatched_shapes_raises(pool):
    current = sb.GaussianCurrent(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 2))
    with pytest.raises(ValueError, match=r"mean and var must have the same shape"):
        pool(current, 2)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"padding": 1},
        {"padding": 1, "count_include_pad": False},
        {"ceil_mode": True},
        {"ceil_mode": True, "padding": 1, "count_include_pad": False},
        {"stride": 2, "divisor_override": 3},
    ],
)
def test_avg_pool2d_variance_is_that_of_the_linear_map(options):
    # the pooled mean is linear in the input, y = A x; independent inputs
    # give var(y_j) = sum_i A_ji^2 v_i, whatever the options
    torch.manual_seed(0)
    mean, var = torch.randn(1, 1, 5, 5, dtype=torch.float64), torch.rand(1, 1, 5, 5).double()
    out = sb.avg_pool2d(sb.GaussianCurrent(mean, var), 3, **options)
    linear = (
        torch.autograd.functional.jacobian(
            lambda x: torch.nn.functional.avg_pool2d(x, 3, **options), mean
        )
        .flatten(0, 3)
        .flatten(1)
    )
    assert torch.allclose(out.mean.flatten(), linear @ mean.flatten())
    assert torch.allclose(out.var.flatten(), linear.square() @ var.flatten())


def test_pooling_modules_take_torch_options():
    x = torch.randn(1, 2, 5, 5)
    for module, twin in [
        (sb.MaxPool2d(2, ceil_mode=True, dilation=1), torch.nn.MaxPool2d(2, ceil_mode=True)),
        (
            sb.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
            torch.nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
        ),
    ]:
        assert torch.equal(module(x), twin(x))
        assert torch.equal(module.to_snntorch()(x), twin(x))
        current = module(sb.GaussianCurrent(x, x.square()))
        assert current.mean.shape == twin(x).shape == current.var.shape


@pytest.mark.parametrize("sizes", [[4, 2.5, 2], [4, True, 2], [4, 0, 2], "abc", [4, 2]])
def test_diagnostics_widths_are_checked(sizes):
    from snntorch_bayes import diagnostics

    with pytest.raises(ValueError, match=r"sizes must list >= 3 widths"):
        diagnostics.BinaryMLP(sizes)


@pytest.mark.parametrize("scale", [INF, 0.0, NAN])
def test_diagnostics_scale_is_checked(scale):
    from snntorch_bayes import diagnostics

    with pytest.raises(ValueError, match=r"scale must be (in \(0, inf\)|a real number)"):
        diagnostics.BinaryMLP([3, 2, 2], scale=scale)


@pytest.mark.parametrize("slope", [-1.0, 0.0, NAN, INF, "25"])
def test_fast_sigmoid_slope_is_checked(slope):
    from snntorch_bayes.models import FastSigmoid

    with pytest.raises(ValueError, match=r"slope must be"):
        FastSigmoid(slope)


@pytest.mark.parametrize("dtype", [torch.bool, torch.uint8, torch.int64])
def test_bool_and_integer_spikes_are_converted(dtype):
    torch.manual_seed(0)
    spikes = torch.rand(4, 6) > 0.5
    fc, conv = sb.BayesLinear(6, 3), sb.BayesConv2d(1, 2, 3)
    lif = sb.VariationalLeaky(0.9)
    for mode in ("mean", "sample"):
        sb.set_mode(fc, mode)
        sb.set_mode(conv, mode)
        torch.manual_seed(1)
        got = fc(spikes.to(dtype))
        torch.manual_seed(1)
        want = fc(spikes.float())
        assert torch.equal(
            got.mean if mode == "sample" else got, want.mean if mode == "sample" else want
        )
        image = spikes.reshape(1, 1, 4, 6).to(dtype)
        out = conv(image)
        assert (out.mean if mode == "sample" else out).dtype == torch.float32
    sb.set_mode(lif, "mean")
    _, mem = lif(spikes.to(dtype))
    assert mem.dtype == torch.float32 and torch.equal(mem, spikes.float())


@pytest.mark.parametrize("x", [torch.zeros(3, dtype=torch.int64), torch.zeros(3, dtype=torch.bool)])
def test_estimators_reject_integer_inputs(x):
    with pytest.raises(TypeError, match=r"takes a floating-point tensor"):
        surrogate.iw_st(sample=True)(x)


def test_complex_inputs_are_rejected():
    with pytest.raises(TypeError, match=r"real tensor"):
        sb.BayesLinear(2, 2)(torch.zeros(1, 2, dtype=torch.complex64))
    with pytest.raises(TypeError, match=r"real tensor"):
        sb.VariationalLeaky(0.9)(torch.zeros(2, dtype=torch.complex64))


@pytest.mark.parametrize("cls", [sb.VariationalLeaky, sb.VariationalSynaptic])
def test_options_set_after_construction_are_checked(cls):
    lif = cls(0.9) if cls is sb.VariationalLeaky else cls(0.8, 0.9)
    with pytest.raises(ValueError, match=r"does not support inhibition=True"):
        lif.inhibition = True
    with pytest.raises(ValueError, match=r"state_quant must be False or a quantiser"):
        lif.state_quant = "8 bits"
    with pytest.raises(ValueError, match=r"needs spike_grad = an IW-ST estimator with Gaussian"):
        lif.spike_grad = surrogate.iw_st(p=1.0)  # logistic noise
    assert lif.inhibition is False
    assert lif.spike_grad.noise == "gaussian"
    # a valid estimator is taken (and prepared for compilation)
    lif.spike_grad = surrogate.iw_st(p=0.5, noise="gaussian")
    assert lif.spike_grad.p == 0.5
    lif(torch.rand(3))


def test_to_snntorch_keeps_a_synaptic_graded_spikes_factor():
    torch.manual_seed(0)
    net = torch.nn.Sequential(sb.BayesLinear(4, 6), sb.VariationalSynaptic(0.8, 0.9))
    net[1].graded_spikes_factor = torch.tensor(2.0)
    net.eval()
    x = torch.rand(3, 4) * 3
    spk, _, _ = net[1](net[0](x))
    plain = sb.to_snntorch(net)
    twin_spk, _, _ = plain[1](plain[0](x))
    assert spk.max() == 2.0
    assert torch.equal(spk, twin_spk)


@pytest.mark.parametrize("steps", [0, 2.5, "3", True])
def test_num_steps_is_checked(steps):
    from snntorch_bayes.models import BayesFCSpikingNet, SpikingResNet

    for make in (FCSpikingNet, BayesFCSpikingNet):
        with pytest.raises(ValueError, match=r"num_steps must be an integer in \[1, inf\)"):
            make(num_hidden=4, num_steps=steps)
    with pytest.raises(ValueError, match=r"num_steps must be an integer in \[1, inf\)"):
        SpikingResNet((1, 8, 8), 10, depth=1, width=4, num_steps=steps)


@pytest.mark.parametrize("bad", [None, "net", 3])
def test_to_snntorch_rejects_what_is_not_a_module(bad):
    with pytest.raises(TypeError, match=r"module must be a torch.nn.Module, got"):
        sb.to_snntorch(bad)


def test_the_package_version_is_the_one_pyproject_declares():
    import re
    from pathlib import Path

    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    declared = re.search(r'^version = "([^"]+)"$', pyproject, re.MULTILINE)
    assert declared is not None
    assert sb.__version__ == declared[1]


def test_sb_compile_checks_its_option():
    with pytest.raises(ValueError, match="fallback_random must be True or False"):
        sb.compile(torch.nn.Identity(), fallback_random="yes")
