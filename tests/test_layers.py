"""Variational layers, Gaussian currents, pooling, KL and modes, checked against
Monte-Carlo weight sampling, naive implementations and ``torch.distributions``."""

from __future__ import annotations

import io
import itertools
import math
import pickle

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Normal

import snntorch_bayes as sb
from snntorch_bayes import gaussian
from snntorch_bayes.layers import MODES, Variational

F64 = torch.float64
#: Monte-Carlo weight samples per moment check.
N_MC = 20_000
#: E[max of 4 iid N(0, 1)] (order statistics; tabulated to 1e-9).
E_MAX_OF_4 = 1.029375373


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _set_random_posterior(layer: sb.layers._BayesLayer, low: float = 0.05, high: float = 0.5):
    """Random means, and sigmas spread over [low, high] (set through rho)."""
    with torch.no_grad():
        for mean, rho in ((layer.weight_mean, layer.weight_rho), (layer.bias_mean, layer.bias_rho)):
            if mean is None:
                continue
            mean.copy_(torch.randn_like(mean) * 0.5)
            sigma = low + (high - low) * torch.rand_like(rho)
            rho.copy_(torch.log(torch.expm1(sigma)))  # inverse softplus
    return layer


def _inputs(kind: str, shape: tuple[int, ...]) -> torch.Tensor:
    if kind == "binary":
        return torch.bernoulli(torch.full(shape, 0.5, dtype=F64))
    return torch.randn(shape, dtype=F64)


def _weight_samples(layer, n: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` draws of W ~ N(mu, sigma^2) (and of the bias), stacked on dim 0."""
    w = layer.weight_mean + layer.weight_std * torch.randn(n, *layer.weight_mean.shape, dtype=F64)
    b = None
    if layer.bias_mean is not None:
        b = layer.bias_mean + layer.bias_std * torch.randn(n, *layer.bias_mean.shape, dtype=F64)
    return w, b


def _conv_per_sample(x, w, b, stride, padding, dilation, groups):
    """``F.conv2d(x, w[s], b[s])`` for every sample s at once, as one einsum
    over the unfolded input patches.  Returns ``[n, B, O, H', W']``."""
    n, out_channels, cg, kh, kw = w.shape
    if padding == "same":  # stride 1; symmetric for the odd kernels used here
        padding = tuple(d * (k - 1) // 2 for d, k in zip(dilation, (kh, kw), strict=True))
    elif padding == "valid":
        padding = (0, 0)
    patches = F.unfold(x, (kh, kw), dilation, padding, stride)  # [B, C*kh*kw, L]
    patches = patches.unflatten(1, (groups, cg * kh * kw))  # [B, G, Cg*kh*kw, L]
    wg = w.reshape(n, groups, out_channels // groups, cg * kh * kw)  # [n, G, O/G, Cg*kh*kw]
    out = torch.einsum("ngoc,bgcl->nbgol", wg, patches).flatten(2, 3)  # [n, B, O, L]
    if b is not None:
        out = out + b[:, None, :, None]
    h_out = (x.shape[2] + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    return out.unflatten(-1, (h_out, -1))


def _assert_moments_match(samples: torch.Tensor, cur: sb.GaussianCurrent, n_se: float = 5.0):
    """Sample mean and variance of ``samples`` (dim 0) within ``n_se``
    standard errors of the current's mean and variance (Gaussian SEs)."""
    n = samples.shape[0]
    mean, var = samples.mean(0), samples.var(0)
    tiny = 1e-12  # units with zero input and no bias have var = 0 exactly
    mean_err = (mean - cur.mean).abs() / (cur.var / n).sqrt().clamp_min(tiny)
    var_err = (var - cur.var).abs() / (cur.var * math.sqrt(2 / (n - 1))).clamp_min(tiny)
    assert mean_err.max().item() < n_se, mean_err.max().item()
    assert var_err.max().item() < n_se, var_err.max().item()


# --------------------------------------------------------------------------
# 1. local reparameterisation against Monte-Carlo weight sampling
# --------------------------------------------------------------------------


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", ["binary", "real"])
def test_bayes_linear_lrt_moments_match_weight_sampling(bias, kind):
    layer = _set_random_posterior(sb.BayesLinear(7, 4, bias=bias, dtype=F64)).train()
    x = _inputs(kind, (5, 7))
    with torch.no_grad():
        cur = layer(x)
        assert isinstance(cur, sb.GaussianCurrent)
        w, b = _weight_samples(layer, N_MC)
        h = torch.einsum("bi,noi->nbo", x, w)
        if b is not None:
            h = h + b[:, None, :]
    _assert_moments_match(h, cur)


CONV_CASES = {
    "plain": {},
    "stride2-pad1": {"stride": 2, "padding": 1},
    "groups2": {"groups": 2, "padding": 1},
    "groups2-same-dilated": {"groups": 2, "padding": "same", "dilation": 2},
}


@pytest.mark.parametrize("case", list(CONV_CASES))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", ["binary", "real"])
def test_bayes_conv2d_lrt_moments_match_weight_sampling(case, bias, kind):
    layer = sb.BayesConv2d(4, 6, 3, bias=bias, dtype=F64, **CONV_CASES[case])
    layer = _set_random_posterior(layer).train()
    x = _inputs(kind, (1, 4, 6, 6))
    with torch.no_grad():
        cur = layer(x)
        assert isinstance(cur, sb.GaussianCurrent)
        w, b = _weight_samples(layer, N_MC)
        args = (layer.stride, layer.padding, layer.dilation, layer.groups)
        h = _conv_per_sample(x, w, b, *args)
        for i in range(3):  # the batched helper is F.conv2d sample by sample
            expected = F.conv2d(x, w[i], None if b is None else b[i], *args)
            torch.testing.assert_close(h[i], expected, rtol=1e-12, atol=1e-12)
    assert h.shape[1:] == cur.shape
    _assert_moments_match(h, cur)


# --------------------------------------------------------------------------
# 2. fused implementations equal the naive ones
# --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(7,), (5, 7), (3, 5, 7)])
@pytest.mark.parametrize("bias", [True, False])
def test_lrt_linear_equals_two_separate_linear_maps(shape, bias):
    x = torch.randn(shape, dtype=F64)
    mu, var = torch.randn(4, 7, dtype=F64), torch.rand(4, 7, dtype=F64)
    mu_b, var_b = (torch.randn(4, dtype=F64), torch.rand(4, dtype=F64)) if bias else (None, None)
    cur = gaussian.lrt_linear(x, mu, var, mu_b, var_b)
    assert cur.mean.shape == cur.var.shape == (*shape[:-1], 4)
    tol = {"rtol": 1e-12, "atol": 1e-12}
    torch.testing.assert_close(cur.mean, F.linear(x, mu, mu_b), **tol)
    torch.testing.assert_close(cur.var, F.linear(x * x, var, var_b), **tol)


@pytest.mark.parametrize(
    "groups, stride, padding, dilation",
    [
        (1, 1, 0, 1),
        (2, 1, 0, 1),
        (1, 2, 1, 1),
        (2, 2, 1, 1),
        (1, 1, "same", 1),
        (2, 1, "same", 2),
        (2, 1, "valid", 1),
    ],
)
@pytest.mark.parametrize("bias", [True, False])
def test_lrt_conv2d_equals_two_separate_convolutions(groups, stride, padding, dilation, bias):
    x = torch.randn(3, 4, 9, 8, dtype=F64)
    mu = torch.randn(6, 4 // groups, 3, 3, dtype=F64)
    var = torch.rand(6, 4 // groups, 3, 3, dtype=F64)
    mu_b, var_b = (torch.randn(6, dtype=F64), torch.rand(6, dtype=F64)) if bias else (None, None)
    args = (stride, padding, dilation, groups)
    cur = gaussian.lrt_conv2d(x, mu, var, mu_b, var_b, *args)
    tol = {"rtol": 1e-12, "atol": 1e-12}
    torch.testing.assert_close(cur.mean, F.conv2d(x, mu, mu_b, *args), **tol)
    torch.testing.assert_close(cur.var, F.conv2d(x * x, var, var_b, *args), **tol)


# --------------------------------------------------------------------------
# 3. KL divergence
# --------------------------------------------------------------------------


def _reference_kl(layer) -> torch.Tensor:
    # float64 prior parameters: Normal(0.1, 0.3) of Python floats would be float32
    prior = Normal(
        torch.tensor(float(layer.prior.loc), dtype=F64),
        torch.tensor(float(layer.prior.scale), dtype=F64),
    )
    total = torch.distributions.kl_divergence(
        Normal(layer.weight_mean, layer.weight_std), prior
    ).sum()
    if layer.bias_mean is not None:
        bias = Normal(layer.bias_mean, layer.bias_std)
        total = total + torch.distributions.kl_divergence(bias, prior).sum()
    return total


PRIORS = [None, sb.GaussianPrior(std=0.3, mean=0.1)]


def _kl_layers(prior):
    return [
        sb.BayesLinear(6, 3, dtype=F64, prior=prior),
        sb.BayesLinear(6, 3, bias=False, dtype=F64, prior=prior),
        sb.BayesConv2d(4, 6, 3, groups=2, dtype=F64, prior=prior),
        sb.BayesConv2d(2, 3, (3, 2), bias=False, dtype=F64, prior=prior),
    ]


@pytest.mark.parametrize(
    "prior", [None, sb.GaussianPrior(std=0.3, mean=0.1)], ids=["default", "custom"]
)
def test_kl_divergence_equals_torch_distributions(prior):
    layers = [_set_random_posterior(layer) for layer in _kl_layers(prior)]
    for layer in layers:
        if prior is None:  # the default prior: std 1/sqrt(fan_in), mean 0
            fan_in = math.prod(layer.weight_mean.shape[1:])
            assert layer.prior == sb.GaussianPrior(std=1 / math.sqrt(fan_in))
        torch.testing.assert_close(layer.kl_divergence(), _reference_kl(layer), rtol=1e-12, atol=0)
    model = nn.Sequential(layers[0], nn.ReLU(), nn.Sequential(layers[1], sb.Flatten()), *layers[2:])
    expected = sum(_reference_kl(layer) for layer in layers)
    torch.testing.assert_close(sb.model_kl(model), expected, rtol=1e-12, atol=0)
    torch.testing.assert_close(sb.model_kl(layers[2]), _reference_kl(layers[2]))


def test_kl_divergence_is_zero_when_the_posterior_equals_the_prior():
    prior = sb.GaussianPrior(std=0.3, mean=0.1)
    for layer in _kl_layers(prior):
        with torch.no_grad():
            for mean, rho in (
                (layer.weight_mean, layer.weight_rho),
                (layer.bias_mean, layer.bias_rho),
            ):
                if mean is not None:
                    mean.fill_(0.1)
                    rho.fill_(math.log(math.expm1(0.3)))
        assert layer.kl_divergence().item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    "prior", [None, sb.GaussianPrior(std=0.3, mean=0.1)], ids=["default", "custom"]
)
def test_kl_divergence_gradient_equals_torch_distributions(prior):
    for layer in _kl_layers(prior):
        _set_random_posterior(layer)
        params = [p for p in (layer.weight_mean, layer.weight_rho, layer.bias_mean, layer.bias_rho)]
        params = [p for p in params if p is not None]
        ours = torch.autograd.grad(layer.kl_divergence(), params)
        reference = torch.autograd.grad(_reference_kl(layer), params)
        for g, r in zip(ours, reference, strict=True):
            torch.testing.assert_close(g, r, rtol=1e-10, atol=1e-13)


def test_kl_divergence_of_a_model_without_variational_layers_is_a_zero_tensor():
    for model in (nn.Sequential(nn.Linear(3, 2), nn.ReLU()), nn.ReLU(), sb.MaxPool2d(2)):
        kl = sb.model_kl(model)
        assert isinstance(kl, torch.Tensor) and kl.shape == () and kl.item() == 0.0


# --------------------------------------------------------------------------
# 4. modes
# --------------------------------------------------------------------------


def _layer_and_input(name: str):
    if name == "linear":
        return sb.BayesLinear(5, 3), torch.rand(4, 5)
    if name == "conv":
        return sb.BayesConv2d(4, 6, 3, padding="same", groups=2), torch.rand(2, 4, 7, 7)
    return sb.BayesConv2d(2, 3, (3, 2), stride=2, padding=1, bias=False), torch.rand(2, 2, 8, 7)


LAYERS = ["linear", "conv", "conv-strided"]


@pytest.mark.parametrize("name", LAYERS)
def test_train_mode_gives_a_current_and_eval_mode_equals_to_snntorch_bit_for_bit(name):
    layer, x = _layer_and_input(name)
    _set_random_posterior(layer)
    assert isinstance(layer.train()(x), sb.GaussianCurrent)
    out = layer.eval()(x)
    assert type(out) is torch.Tensor
    twin = sb.to_snntorch(layer)
    assert type(twin) is (nn.Linear if name == "linear" else nn.Conv2d)
    assert not twin.training
    assert torch.equal(out, twin(x))
    assert torch.equal(out, layer.to_snntorch()(x))
    # the train-mode mean is the same map (up to the fused kernel's rounding)
    torch.testing.assert_close(layer.train()(x).mean, out)


@pytest.mark.parametrize("name", LAYERS)
def test_set_mode_overrides_train_and_eval(name):
    layer, x = _layer_and_input(name)
    expected = sb.to_snntorch(layer)(x)
    sb.set_mode(layer, "sample")
    assert isinstance(layer.eval()(x), sb.GaussianCurrent)
    sb.set_mode(layer, "mean")
    out = layer.train()(x)
    assert type(out) is torch.Tensor and torch.equal(out, expected)
    sb.set_mode(layer, "auto")
    assert isinstance(layer.train()(x), sb.GaussianCurrent)
    assert type(layer.eval()(x)) is torch.Tensor


def test_set_mode_reaches_every_variational_module_and_returns_the_model():
    model = nn.Sequential(sb.BayesConv2d(1, 2, 3), sb.MaxPool2d(2), sb.Flatten(), nn.Identity())
    assert sb.set_mode(model, "mean") is model
    assert [getattr(m, "mode", None) for m in model] == ["mean", "mean", "mean", None]


def test_sampling_context_restores_previous_modes_even_after_an_exception():
    a, b = sb.BayesLinear(3, 3), sb.BayesLinear(3, 3)
    model = nn.Sequential(a, nn.ReLU(), b).eval()
    b.set_mode("mean")
    with sb.sampling(model) as inside:
        assert inside is model
        assert a.mode == b.mode == "sample" and a.sampling and b.sampling
    assert (a.mode, b.mode) == ("auto", "mean")
    with pytest.raises(RuntimeError, match="boom"), sb.sampling(model):
        assert a.sampling
        raise RuntimeError("boom")
    assert (a.mode, b.mode) == ("auto", "mean")
    assert not a.sampling and not b.sampling


@pytest.mark.parametrize("bad", ["bogus", "Sample", "", None])
def test_invalid_mode_is_a_value_error_naming_it(bad):
    layer = sb.BayesLinear(2, 2)
    with pytest.raises(ValueError, match=f"got {bad!r}"):
        sb.set_mode(layer, bad)
    with pytest.raises(ValueError, match=f"got {bad!r}"):
        layer.set_mode(bad)
    assert layer.mode == "auto"
    assert MODES == ("auto", "sample", "mean")


# --------------------------------------------------------------------------
# 5. pooling and flattening
# --------------------------------------------------------------------------


def _random_current(shape, dtype=F64) -> sb.GaussianCurrent:
    return sb.GaussianCurrent(torch.randn(shape, dtype=dtype), torch.rand(shape, dtype=dtype) + 0.1)


def _windows(h: int, w: int, k: tuple[int, int], s: tuple[int, int], pad: int):
    """Yield ``(i, j, rows, cols)``: the in-range unit indices of each window."""
    for i, j in itertools.product(
        range((h + 2 * pad - k[0]) // s[0] + 1), range((w + 2 * pad - k[1]) // s[1] + 1)
    ):
        rows = [r for r in range(i * s[0] - pad, i * s[0] - pad + k[0]) if 0 <= r < h]
        cols = [c for c in range(j * s[1] - pad, j * s[1] - pad + k[1]) if 0 <= c < w]
        yield i, j, rows, cols


POOL_CASES = [
    (2, None, 0),
    (3, 2, 1),
    ((2, 3), (1, 2), 0),
    ((3, 2), 1, 1),
]


def _pair(v, default):
    v = default if v is None else v
    return (v, v) if isinstance(v, int) else tuple(v)


@pytest.mark.parametrize("kernel, stride, padding", POOL_CASES)
def test_max_pool2d_passes_on_the_variance_of_the_largest_mean_unit(kernel, stride, padding):
    cur = _random_current((2, 3, 7, 8))
    out = sb.max_pool2d(cur, kernel, stride, padding)
    assert torch.equal(out.mean, F.max_pool2d(cur.mean, kernel, stride, padding))
    k, s = _pair(kernel, None), _pair(stride, kernel)
    expected = torch.empty_like(out.var)
    for bc in itertools.product(range(2), range(3)):
        for i, j, rows, cols in _windows(7, 8, k, s, padding):
            block = cur.mean[bc][rows][:, cols]
            r, c = divmod(int(block.argmax()), len(cols))
            expected[(*bc, i, j)] = cur.var[(*bc, rows[r], cols[c])]
    assert torch.equal(out.var, expected)
    # a vanishing variance: pooling the current is pooling the tensor
    zero = sb.max_pool2d(sb.GaussianCurrent(cur.mean, torch.zeros_like(cur.var)), kernel, stride)
    assert torch.equal(zero.mean, F.max_pool2d(cur.mean, kernel, stride))
    assert torch.equal(zero.var, torch.zeros_like(zero.var))
    assert torch.equal(sb.max_pool2d(cur.mean, kernel, stride, padding), out.mean)


def test_max_pool2d_underestimates_the_max_of_tied_means_by_1_03_sigma():
    """The documented caveat, measured: with four equal means in a 2x2
    window, E[max of the sampled values] exceeds the pooled mean by
    E[max of 4 iid N(0, 1)] sigma = 1.0294 sigma."""
    n, sigma, mu = 200_000, 0.7, 0.3
    cur = sb.GaussianCurrent(
        torch.full((n, 1, 2, 2), mu, dtype=F64), torch.full((n, 1, 2, 2), sigma**2, dtype=F64)
    )
    pooled = sb.max_pool2d(cur, 2)
    assert torch.equal(pooled.mean, torch.full((n, 1, 1, 1), mu, dtype=F64))
    assert torch.equal(pooled.var, torch.full((n, 1, 1, 1), sigma**2, dtype=F64))
    sampled_max = F.max_pool2d(cur.sample(), 2).flatten()
    gap = (sampled_max - pooled.mean.flatten()) / sigma
    se = gap.std().item() / math.sqrt(n)
    assert abs(gap.mean().item() - E_MAX_OF_4) < 5 * se, (gap.mean().item(), se)
    assert gap.mean().item() == pytest.approx(1.03, abs=0.01)


@pytest.mark.parametrize("kernel, stride, padding", POOL_CASES)
def test_avg_pool2d_of_a_current_averages_means_and_divides_pooled_variance_by_k(
    kernel, stride, padding
):
    cur = _random_current((2, 3, 7, 8))
    out = sb.avg_pool2d(cur, kernel, stride, padding)
    k, s = _pair(kernel, None), _pair(stride, kernel)
    count = k[0] * k[1]  # zero padding counts
    assert torch.equal(out.mean, F.avg_pool2d(cur.mean, kernel, stride, padding))
    torch.testing.assert_close(
        out.var, F.avg_pool2d(cur.var, kernel, stride, padding) / count, rtol=1e-14, atol=0
    )
    mean, var = torch.empty_like(out.mean), torch.empty_like(out.var)
    for bc in itertools.product(range(2), range(3)):
        for i, j, rows, cols in _windows(7, 8, k, s, padding):
            mean[(*bc, i, j)] = cur.mean[bc][rows][:, cols].sum() / count
            var[(*bc, i, j)] = cur.var[bc][rows][:, cols].sum() / count**2
    torch.testing.assert_close(out.mean, mean, rtol=1e-13, atol=1e-15)
    torch.testing.assert_close(out.var, var, rtol=1e-13, atol=1e-15)
    assert torch.equal(sb.avg_pool2d(cur.mean, kernel, stride, padding), out.mean)


@pytest.mark.parametrize("kernel, stride, padding", POOL_CASES)
def test_avg_pool2d_of_a_current_matches_sampled_averages(kernel, stride, padding):
    cur = _random_current((1, 2, 6, 7))
    out = sb.avg_pool2d(cur, kernel, stride, padding)
    many = sb.GaussianCurrent(*(t.expand(N_MC, 2, 6, 7) for t in cur))  # n draws of the batch
    pooled = F.avg_pool2d(many.sample(), kernel, stride, padding)  # [n, 2, H', W']
    _assert_moments_match(pooled.unsqueeze(1), out)


def test_flatten_acts_on_mean_and_variance_alike():
    cur = _random_current((2, 3, 4, 5))
    for start, end in ((1, -1), (0, -1), (1, 2), (2, 3)):
        out = sb.gaussian.flatten(cur, start, end)
        assert torch.equal(out.mean, cur.mean.flatten(start, end))
        assert torch.equal(out.var, cur.var.flatten(start, end))
    assert torch.equal(sb.gaussian.flatten(cur.mean), cur.mean.flatten(1))
    reshaped = cur.reshape(6, 20)
    assert torch.equal(reshaped.var, cur.var.reshape(6, 20))


POOL_MODULES = [
    (sb.MaxPool2d, nn.MaxPool2d, sb.max_pool2d, (3, 2, 1)),
    (sb.MaxPool2d, nn.MaxPool2d, sb.max_pool2d, (2,)),
    (sb.AvgPool2d, nn.AvgPool2d, sb.avg_pool2d, ((2, 3), 1, 1)),
    (sb.AvgPool2d, nn.AvgPool2d, sb.avg_pool2d, (2,)),
]


@pytest.mark.parametrize("ours, parent, function, args", POOL_MODULES)
def test_pool_modules_behave_as_the_functions_and_as_their_torch_parents(
    ours, parent, function, args
):
    module = ours(*args)
    assert isinstance(module, parent) and isinstance(module, Variational)
    cur = _random_current((2, 3, 8, 9))
    out, expected = module(cur), function(cur, *args)
    assert torch.equal(out.mean, expected.mean) and torch.equal(out.var, expected.var)
    x = torch.randn(2, 3, 8, 9)
    assert torch.equal(module(x), parent(*args)(x))
    twin = module.to_snntorch()
    assert type(twin) is parent and torch.equal(twin(x), module(x))
    assert type(sb.to_snntorch(module)) is parent


def test_flatten_module_behaves_as_the_function_and_as_nn_flatten():
    cur = _random_current((2, 3, 4, 5))
    for args in ((), (2,), (0, 2)):
        module = sb.Flatten(*args)
        assert isinstance(module, nn.Flatten)
        out, expected = module(cur), sb.gaussian.flatten(cur, *args)
        assert torch.equal(out.mean, expected.mean) and torch.equal(out.var, expected.var)
        assert torch.equal(module(cur.mean), nn.Flatten(*args)(cur.mean))
        twin = module.to_snntorch()
        assert type(twin) is nn.Flatten and (twin.start_dim, twin.end_dim) == (
            module.start_dim,
            module.end_dim,
        )


# --------------------------------------------------------------------------
# 6. round trips, dtypes, devices, repr
# --------------------------------------------------------------------------


def _pickle(obj):
    return pickle.loads(pickle.dumps(obj))


def _torch_save(obj):
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)


def _network():
    return nn.Sequential(
        sb.BayesConv2d(1, 4, 3, padding=1, prior=sb.GaussianPrior(0.2, 0.05)),
        sb.MaxPool2d(2),
        sb.AvgPool2d(2, 1),
        sb.Flatten(),
        sb.VariationalLeaky(0.9, init_hidden=True),
        sb.BayesLinear(36, 3),
    )


def _same(a, b) -> bool:
    if isinstance(a, sb.GaussianCurrent):
        return isinstance(b, sb.GaussianCurrent) and all(map(torch.equal, a, b))
    return type(a) is type(b) and torch.equal(a, b)


def _seeded(module, x):
    torch.manual_seed(7)
    for m in module.modules():
        if isinstance(m, sb.VariationalLeaky):
            m.reset_mem()
    return module(x)


ROUND_TRIP_OBJECTS = {
    "linear": (lambda: sb.BayesLinear(5, 3, prior=sb.GaussianPrior(0.4)), (4, 5)),
    "linear-nobias-f64": (lambda: sb.BayesLinear(5, 3, bias=False, dtype=F64), (4, 5)),
    "conv": (lambda: sb.BayesConv2d(4, 6, 3, 2, 1, groups=2), (2, 4, 7, 7)),
    "network": (_network, (2, 1, 8, 8)),
}


@pytest.mark.parametrize("copier", [_pickle, _torch_save], ids=["pickle", "torch.save"])
@pytest.mark.parametrize("name", list(ROUND_TRIP_OBJECTS))
def test_round_trip_reproduces_outputs_in_both_modes(name, copier):
    make, shape = ROUND_TRIP_OBJECTS[name]
    module = make()
    dtype = next(module.parameters()).dtype
    x = torch.rand(shape, dtype=dtype)
    clone = copier(module)
    assert type(clone) is type(module)
    for mode in ("train", "eval"):
        getattr(module, mode)()
        getattr(clone, mode)()
        out, out_clone = _seeded(module, x), _seeded(clone, x)
        assert _same(out, out_clone)
        assert isinstance(out, sb.GaussianCurrent) == (mode == "train")
    for m, c in zip(module.modules(), clone.modules(), strict=True):
        assert getattr(m, "prior", None) == getattr(c, "prior", None)
        assert getattr(m, "mode", None) == getattr(c, "mode", None)
    torch.testing.assert_close(sb.model_kl(clone), sb.model_kl(module), rtol=0, atol=0)


@pytest.mark.parametrize("copier", [_pickle, _torch_save], ids=["pickle", "torch.save"])
def test_round_trip_of_priors_currents_and_shape_modules(copier):
    prior = sb.GaussianPrior(std=0.3, mean=-0.2)
    clone = copier(prior)
    assert clone == prior and type(clone) is sb.GaussianPrior and repr(clone) == repr(prior)
    q = sb.BayesLinear(3, 2).posteriors()["weight"]
    q_clone = copier(q)
    assert type(q_clone) is sb.MeanFieldNormal and torch.equal(q_clone.scale, q.scale)
    cur = _random_current((2, 3))
    cur_clone = copier(cur)
    assert type(cur_clone) is sb.GaussianCurrent and _same(cur_clone, cur)
    x = _random_current((1, 2, 6, 6))
    for module in (sb.MaxPool2d(3, 2, 1), sb.AvgPool2d((2, 3)), sb.Flatten(0)):
        module.set_mode("mean")
        twin = copier(module)
        assert type(twin) is type(module) and twin.mode == "mean"
        assert _same(twin(x), module(x)) and _same(twin(x.mean), module(x.mean))


@pytest.mark.parametrize("name", list(ROUND_TRIP_OBJECTS))
def test_state_dict_loaded_into_a_fresh_module_reproduces_outputs(name):
    make, shape = ROUND_TRIP_OBJECTS[name]
    module = make()
    for p in module.parameters():  # move away from the initialisation
        with torch.no_grad():
            p.add_(0.1 * torch.randn_like(p))
    fresh = make()
    fresh.load_state_dict(module.state_dict())
    x = torch.rand(shape, dtype=next(module.parameters()).dtype)
    for mode in ("train", "eval"):
        getattr(module, mode)()
        getattr(fresh, mode)()
        assert _same(_seeded(module, x), _seeded(fresh, x))


def test_the_gaussian_prior_is_not_part_of_the_state_dict():
    layer = sb.BayesLinear(3, 2)
    assert set(layer.state_dict()) == {"weight_mean", "weight_rho", "bias_mean", "bias_rho"}


@pytest.mark.parametrize("dtype", [torch.float32, F64])
@pytest.mark.parametrize("name", LAYERS)
def test_layers_keep_their_dtype(name, dtype):
    layer, x = _layer_and_input(name)
    layer = type(layer)(**_constructor_args(layer), dtype=dtype)
    x = x.to(dtype)
    assert all(p.dtype == dtype for p in layer.parameters())
    cur = layer.train()(x)
    assert cur.mean.dtype == cur.var.dtype == cur.dtype == dtype
    assert layer.eval()(x).dtype == dtype
    assert layer.kl_divergence().dtype == dtype
    assert sb.to_snntorch(layer).weight.dtype == dtype


def _constructor_args(layer) -> dict:
    if isinstance(layer, sb.BayesLinear):
        return {
            "in_features": layer.in_features,
            "out_features": layer.out_features,
            "bias": layer.bias_mean is not None,
        }
    return {
        "in_channels": layer.in_channels,
        "out_channels": layer.out_channels,
        "kernel_size": layer.kernel_size,
        "stride": layer.stride,
        "padding": layer.padding,
        "dilation": layer.dilation,
        "groups": layer.groups,
        "bias": layer.bias_mean is not None,
    }


@pytest.mark.parametrize("name", LAYERS)
def test_layers_move_to_the_meta_device(name):
    layer, x = _layer_and_input(name)
    expected = layer.eval()(x).shape
    layer = layer.to("meta")
    x = x.to("meta")
    assert all(p.is_meta for p in layer.parameters())
    cur = layer.train()(x)
    assert cur.device.type == "meta" and cur.shape == cur.var.shape == expected
    out = layer.eval()(x)
    assert out.is_meta and out.shape == expected
    assert layer.kl_divergence().is_meta


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_layers_run_on_every_device(device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    layer = sb.BayesConv2d(4, 6, 3, groups=2, dtype=F64)
    x = torch.rand(2, 4, 7, 7, dtype=F64)
    expected = layer(x)
    moved = layer.to(device)
    cur = moved(x.to(device))
    assert cur.device.type == device
    torch.testing.assert_close(cur.mean.cpu(), expected.mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(cur.var.cpu(), expected.var, rtol=1e-12, atol=1e-12)
    assert sb.model_kl(moved).device.type == device


def test_repr_shows_prior_and_mode():
    layer = sb.BayesLinear(4, 3, prior=sb.GaussianPrior(std=0.25, mean=0.1))
    assert "prior=GaussianPrior(std=0.25, mean=0.1)" in repr(layer)
    assert "mode='auto'" in repr(layer)
    layer.set_mode("mean")
    assert "mode='mean'" in repr(layer)
    conv = sb.BayesConv2d(2, 4, 3, groups=2)
    assert "prior=GaussianPrior(std=0.3333, mean=0)" in repr(conv)  # 1/sqrt(fan_in = 1*3*3)
    assert "groups=2" in repr(conv) and "mode='auto'" in repr(conv)
    sb.set_mode(conv, "sample")
    assert "mode='sample'" in repr(conv)


# --------------------------------------------------------------------------
# 8. bad input gives clear errors
# --------------------------------------------------------------------------


LINEAR_ERRORS = [
    ({"in_features": 0, "out_features": 3}, "in_features"),
    ({"in_features": 3, "out_features": 0}, "out_features"),
    ({"in_features": 3.0, "out_features": 3}, "in_features"),
    ({"in_features": True, "out_features": 3}, "in_features"),
    ({"in_features": 3, "out_features": 3, "bias": "yes"}, "bias"),
    ({"in_features": 3, "out_features": 3, "posterior_std": -1}, "posterior_std"),
    ({"in_features": 3, "out_features": 3, "posterior_std": 0.0}, "posterior_std"),
    ({"in_features": 3, "out_features": 3, "prior": "gauss"}, "prior"),
]
CONV_ERRORS = [
    ({"in_channels": 0, "out_channels": 4, "kernel_size": 3}, "in_channels"),
    ({"in_channels": 2, "out_channels": 0, "kernel_size": 3}, "out_channels"),
    ({"in_channels": 2, "out_channels": 4, "kernel_size": 3, "groups": 0}, "groups"),
    ({"in_channels": 2, "out_channels": 4, "kernel_size": 3, "bias": "yes"}, "bias"),
    ({"in_channels": 2, "out_channels": 4, "kernel_size": 3, "posterior_std": -1}, "posterior_std"),
    ({"in_channels": 2, "out_channels": 4, "kernel_size": 3, "prior": "gauss"}, "prior"),
    (
        {"in_channels": 2, "out_channels": 4, "kernel_size": 3, "padding_mode": "reflect"},
        "padding_mode",
    ),
    ({"in_channels": 3, "out_channels": 4, "kernel_size": 3, "groups": 2}, "groups"),
    ({"in_channels": 4, "out_channels": 3, "kernel_size": 3, "groups": 2}, "groups"),
]


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [(sb.BayesLinear, k, n) for k, n in LINEAR_ERRORS]
    + [(sb.BayesConv2d, k, n) for k, n in CONV_ERRORS],
)
def test_bad_constructor_arguments_are_value_errors_naming_the_parameter(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls(**kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"std": 0}, "std"),
        ({"std": -1.0}, "std"),
        ({"std": math.inf}, "std"),
        ({"std": math.nan}, "std"),
        ({"mean": math.inf}, "mean"),
        ({"std": "1"}, "std"),
    ],
)
def test_bad_gaussian_prior_is_a_value_error(kwargs, name):
    with pytest.raises(ValueError, match=name):
        sb.GaussianPrior(**kwargs)


@pytest.mark.parametrize("mode", ["sample", "mean"])
@pytest.mark.parametrize("name", LAYERS)
def test_a_gaussian_current_input_is_a_type_error(name, mode):
    layer, x = _layer_and_input(name)
    layer.set_mode(mode)
    with pytest.raises(TypeError, match="GaussianCurrent"):
        layer(sb.GaussianCurrent(x, torch.ones_like(x)))
    with pytest.raises(TypeError, match="list"):
        layer(x.tolist())


def test_wrong_number_of_input_features_names_both_numbers():
    layer = sb.BayesLinear(4, 3).train()
    with pytest.raises(ValueError, match=r"5 features.*expects 4"):
        layer(torch.rand(2, 5))
    with pytest.raises((RuntimeError, ValueError)):
        layer.eval()(torch.rand(2, 5))
    conv = sb.BayesConv2d(4, 6, 3, groups=2).train()
    with pytest.raises(ValueError, match=r"\[B, 4, H, W\] or \[4, H, W\].*\(2, 3, 8, 8\)"):
        conv(torch.rand(2, 3, 8, 8))
    with pytest.raises((RuntimeError, ValueError)):
        conv.eval()(torch.rand(2, 3, 8, 8))


@pytest.mark.parametrize("kwargs", [{"kernel_size": 0}, {"kernel_size": 3, "stride": 0}])
def test_zero_kernel_size_is_a_value_error_naming_it(kwargs):
    with pytest.raises(ValueError, match="kernel_size" if kwargs["kernel_size"] == 0 else "stride"):
        sb.BayesConv2d(2, 4, **kwargs)


@pytest.mark.parametrize("kwargs", [{"padding": "foo"}, {"padding": "same", "stride": 2}])
def test_bad_padding_string_is_a_value_error_at_construction(kwargs):
    with pytest.raises(ValueError):
        nn.Conv2d(2, 4, 3, **kwargs)  # what torch.nn does
    with pytest.raises(ValueError, match="padding"):
        sb.BayesConv2d(2, 4, 3, **kwargs)


def test_unbatched_conv_input_works_in_both_modes():
    conv = sb.BayesConv2d(2, 3, 3).train()
    x = torch.rand(2, 6, 6)
    cur = conv(x)
    batched = conv(x.unsqueeze(0))
    assert torch.equal(cur.mean, batched.mean[0]) and torch.equal(cur.var, batched.var[0])
    assert conv.eval()(x).shape == (3, 4, 4)


# --------------------------------------------------------------------------
# Priors are torch.distributions; the KL is torch.distributions.kl_divergence
# --------------------------------------------------------------------------


def test_any_distribution_with_a_registered_kl_is_a_prior():
    layer = sb.BayesLinear(5, 4, dtype=F64, prior=torch.distributions.Laplace(0.0, 0.4))
    _set_random_posterior(layer)
    kl = torch.distributions.kl_divergence
    want = kl(Normal(layer.weight_mean, layer.weight_std), layer.prior).sum()
    want = want + kl(Normal(layer.bias_mean, layer.bias_std), layer.prior).sum()
    torch.testing.assert_close(layer.kl_divergence(), want, rtol=1e-12, atol=0)
    q = layer.posteriors()
    assert set(q) == {"weight", "bias"} and isinstance(q["weight"], Normal)
    assert torch.equal(q["weight"].loc, layer.weight_mean)
    assert torch.equal(q["bias"].scale, layer.bias_std)
    assert set(sb.BayesConv2d(2, 3, 3, bias=False).posteriors()) == {"weight"}


class _NoKL(torch.distributions.Distribution):
    arg_constraints: dict = {}  # noqa: RUF012

    def __init__(self):
        super().__init__(validate_args=False)


@pytest.mark.parametrize(
    ("prior", "match"),
    [
        ("N(0, 1)", r"prior must be a torch\.distributions\.Distribution"),
        (0.5, r"prior must be a torch\.distributions\.Distribution"),
        (
            torch.distributions.MultivariateNormal(torch.zeros(2), torch.eye(2)),
            r"prior must have a scalar event .* \(2,\)",
        ),
        (_NoKL(), r"prior: torch\.distributions has no KL from a Normal to _NoKL.*register_kl"),
    ],
)
def test_bad_priors_are_rejected_at_construction_and_when_set(prior, match):
    with pytest.raises(ValueError, match=match):
        sb.BayesLinear(3, 2, prior=prior)
    with pytest.raises(ValueError, match=match.replace("prior", "bias_prior", 1)):
        sb.BayesConv2d(1, 2, 3, bias_prior=prior)
    layer = sb.BayesLinear(3, 2)
    with pytest.raises(ValueError, match=match):
        layer.prior = prior
    assert layer.prior == sb.GaussianPrior(std=1 / math.sqrt(3))  # unchanged


def test_the_posterior_kl_is_finite_where_torch_normal_kl_underflows():
    # PyTorch's Normal-Normal KL takes log((sigma/sigma_p)^2): 0 in float32
    # below a ratio of about 1e-19; the posterior's registered KL does not
    mean, std = torch.zeros(3), torch.full((3,), 1e-25)
    prior = sb.GaussianPrior(std=1.0)
    torch_kl = torch.distributions.kl_divergence(Normal(mean, std), prior)
    ours = torch.distributions.kl_divergence(sb.MeanFieldNormal(mean, std), prior)
    assert torch.isinf(torch_kl).all()
    want = math.log(1e25) - 0.5  # log(sigma_p / sigma) + sigma^2 / 2 - 1/2
    torch.testing.assert_close(ours, torch.full((3,), want), rtol=1e-6, atol=0)


def test_kl_divergence_is_a_deprecated_alias_of_model_kl():
    net = nn.Sequential(sb.BayesLinear(4, 3), sb.VariationalLeaky(0.9))
    with pytest.warns(DeprecationWarning, match="use snntorch_bayes.model_kl"):
        kl = sb.kl_divergence(net)
    assert torch.equal(kl, sb.model_kl(net))


def test_a_float32_layer_computes_its_kl_in_float32_and_float64_exactly():
    prior = sb.GaussianPrior(std=0.3, mean=0.1)
    assert prior.scale.dtype == F64  # exact for float64 layers
    assert sb.BayesLinear(3, 2, prior=prior).kl_divergence().dtype == torch.float32
    assert sb.BayesLinear(3, 2, prior=prior, dtype=F64).kl_divergence().dtype == F64
