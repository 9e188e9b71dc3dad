"""snntorch_bayes.deep: the deep plain binary networks and the fair-twin
training run behind the main job's third table and the recipe benchmark."""

from __future__ import annotations

import pickle

import pytest
import snntorch as snn
import torch
from torch import nn

import snntorch_bayes as sb
from snntorch_bayes import deep


def _data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    split = lambda m: (torch.rand(m, 784, generator=g), torch.randint(0, 10, (m,), generator=g))  # noqa: E731
    return {"train": split(n), "val": split(40), "test": split(40)}


@pytest.mark.parametrize("kind", deep.METHODS)
def test_binary_mlp_layers(kind):
    net = deep.BinaryMLP(kind, depth=3, width=8)
    assert net(torch.rand(5, 784)).shape == (5, 10)
    neurons = [m for m in net.hidden if isinstance(m, snn.Leaky)]
    assert len(neurons) == 3 and all(float(m.beta) == 0.0 for m in neurons)
    norms = [m for m in net.hidden if isinstance(m, nn.BatchNorm1d)]
    assert len(norms) == (3 if kind == "fast_sigmoid + BatchNorm" else 0)
    assert isinstance(net.out, sb.BayesLinear) == (kind == "sbnn")
    copy = pickle.loads(pickle.dumps(net))
    torch.manual_seed(1)
    x = torch.rand(4, 784)
    net.eval(), copy.eval()
    torch.testing.assert_close(net(x), copy(x))


def test_batchnorm_twin_starts_its_units_at_the_threshold():
    # shift at the threshold, gain BN_GAMMA: in training mode each unit's
    # normalised current is theta + gamma * (unit variance), so pi = 1/2
    torch.manual_seed(0)
    net = deep.BinaryMLP("fast_sigmoid + BatchNorm", depth=3, width=64)
    x = torch.rand(512, 784)
    currents = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, out: currents.append(out.detach()))
        for m in net.hidden
        if isinstance(m, nn.BatchNorm1d)
    ]
    net.train()
    net(x)
    for h in hooks:
        h.remove()
    assert len(currents) == 3
    for current in currents:
        torch.testing.assert_close(current.mean(0), torch.ones(64), atol=1e-4, rtol=0)
        torch.testing.assert_close(
            current.std(0, unbiased=False), torch.full((64,), deep.BN_GAMMA), atol=1e-3, rtol=0
        )
        assert 0.4 < (current > 1.0).float().mean() < 0.6


def test_binary_mlp_rejects_an_unknown_kind():
    with pytest.raises(ValueError, match="kind must be one of"):
        deep.BinaryMLP("sbnn + BatchNorm", depth=2, width=8)


def test_batches_are_the_same_for_every_method_at_a_seed():
    a = torch.cat(list(deep.batches(50, 8, 2, seed=3)))
    b = torch.cat(list(deep.batches(50, 8, 2, seed=3)))
    assert torch.equal(a, b) and len(a) == 2 * (50 // 8) * 8
    assert not torch.equal(a, torch.cat(list(deep.batches(50, 8, 2, seed=4))))


@pytest.mark.parametrize("kind", deep.METHODS)
def test_train_run_rows(kind):
    row = deep.train_run(kind, 2, 16, _data(), epochs=1, batch=32, init_batch=64, mc=2)
    assert row["steps"] == 3 and row["lr"] == deep.LEARNING_RATES[kind]
    for split in ("val", "test"):
        assert 0 <= row[f"{split}_accuracy"] <= 1 and row[f"{split}_nll"] > 0
    assert ("test_avg_accuracy" in row) == (kind == "sbnn")
    assert ("test_ts_accuracy" in row) == (kind != "sbnn")
    assert (row["kl_per_example"] > 0) == (kind == "sbnn")
    # sb.initialize runs except behind BatchNorm, where it would skip every layer anyway
    assert len(row["layers"]) == (0 if kind == "fast_sigmoid + BatchNorm" else 2)
    assert len(row["after"]) == 2


def test_train_run_starts_the_twin_at_the_twin_spread():
    data = _data()
    rows = {}
    for spread in (None, 1.0):
        init = None if spread is None else {"spread": spread}
        rows[spread] = deep.train_run(
            "fast_sigmoid", 2, 16, data, max_steps=0, init_batch=64, init=init
        )
    # the first layer's gain with the default twin spread is 25x smaller (0.04 vs 1)
    ratio = rows[1.0]["layers"][0]["gain"] / rows[None]["layers"][0]["gain"]
    assert ratio == pytest.approx(1 / deep.TWIN_SPREAD, rel=1e-4)


def test_train_run_is_reproducible_and_uses_the_library_defaults():
    data = _data()
    a = deep.train_run("sbnn", 2, 16, data, epochs=1, batch=32, init_batch=64, mc=0)
    b = deep.train_run("sbnn", 2, 16, data, epochs=1, batch=32, init_batch=64, mc=0)
    assert a["final_loss"] == b["final_loss"] and a["test_nll"] == b["test_nll"]
    seen = []
    deep.train_run(
        "sbnn", 2, 16, data, max_steps=2, batch=32, init_batch=64, mc=0, use_initialize=False,
        after_init=lambda net: seen.append(net), progress=lambda s, loss: seen.append(s),
    )  # fmt: skip
    assert seen == [0, 1]  # no initialize, so no after_init call


def _nan_in_second_batch():
    """Data whose second training batch holds one NaN pixel (the first
    batch, which ``initialize`` also sees, is clean)."""
    data = _data()
    second = list(deep.batches(96, 32, 1, seed=0))[1]
    x = data["train"][0].clone()
    x[second[0], 3] = float("nan")
    data["train"] = (x, data["train"][1])
    return data


def test_train_run_stops_at_a_nan_gradient_before_any_update():
    # the twin's loss stays finite (the spikes hide the NaN) but the first
    # layer's gradient does not: the run stops there and steps no further
    seen = {}
    row = deep.train_run(
        "fast_sigmoid",
        2,
        16,
        _nan_in_second_batch(),
        epochs=1,
        batch=32,
        init_batch=32,
        mc=0,
        after_init=lambda net: seen.setdefault("net", net),
        progress=lambda step, loss: seen.setdefault(
            "after_first", [p.detach().clone() for p in seen["net"].parameters()]
        ),
    )
    assert row["diverged_at"] == 1 and row["steps"] == 1
    params = list(seen["net"].parameters())
    assert all(torch.isfinite(p).all() for p in params)
    assert all(torch.equal(a, p) for a, p in zip(seen["after_first"], params, strict=True))


def test_train_run_sbnn_names_a_nan_input_in_the_forward_pass():
    # the SBNN sees the NaN already in its Gaussian current
    with pytest.raises(ValueError, match="var must be finite"):
        deep.train_run(
            "sbnn", 2, 16, _nan_in_second_batch(), epochs=1, batch=32, init_batch=32, mc=0
        )


class _Offsets(torch.nn.Module):
    """Logits ``x + c * row``: every row of the repeated batch differs."""

    def forward(self, x):
        return x + 0.7 * torch.arange(len(x), dtype=x.dtype).unsqueeze(1) * x.flip(1)


def test_data_loss_is_the_negative_log_of_the_mixture_likelihood():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 3, 1])
    net, k = _Offsets(), 3
    out = net(x.repeat(k, 1)).view(k, 3, 4).softmax(-1)
    expected = -torch.stack([out[:, b, y[b]].mean().log() for b in range(3)]).mean()
    torch.testing.assert_close(deep._data_loss(net, x, y, k), expected)
    torch.testing.assert_close(
        deep._data_loss(net, x, y, 1), torch.nn.functional.cross_entropy(net(x), y)
    )


def test_train_samples_is_validated_and_only_for_sampled_networks():
    data = _data()
    with pytest.raises(ValueError, match="train_samples"):
        deep.train_run("sbnn", 2, 16, data, max_steps=1, batch=32, mc=0, train_samples=0)
    with pytest.raises(ValueError, match="sampled network"):
        deep.train_run("fast_sigmoid", 2, 16, data, max_steps=1, batch=32, mc=0, train_samples=2)
    row = deep.train_run(
        "sbnn", 2, 16, data, max_steps=2, batch=32, init_batch=64, mc=0, train_samples=2
    )
    assert row["train_samples"] == 2 and row["steps"] == 2
