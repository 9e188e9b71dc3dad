"""The tutorial-5 network and the training loop."""

from __future__ import annotations

import io
import pickle

import pytest
import torch
import torch.nn.functional as F
from snntorch import surrogate as snn_surrogate

import snntorch_bayes as sb
from snntorch_bayes import diagnostics, surrogate
from snntorch_bayes.models import FCSpikingNet
from snntorch_bayes.training import (
    evaluate,
    fit,
    membrane_ce_loss,
    stacked_logits,
    train_epoch,
    train_step,
)


def test_membrane_ce_loss_is_the_sum_over_steps_of_batch_mean_ce():
    mem = torch.randn(4, 3, 5)
    y = torch.tensor([0, 4, 2])
    expected = sum(F.cross_entropy(mem[t], y) for t in range(4))
    torch.testing.assert_close(membrane_ce_loss(mem, y), expected)
    with pytest.raises(ValueError, match=r"mem_rec must be \[T, B, C\] with B = 3"):
        membrane_ce_loss(mem[:, :2], y)


def test_fc_network_shapes_and_round_trips():
    net = FCSpikingNet(spike_grad=surrogate.iw_st(), num_hidden=16, num_steps=4)
    x = torch.rand(2, 1, 28, 28)
    spk, mem = net(x)
    assert spk.shape == mem.shape == (4, 2, 10)
    buffer = io.BytesIO()
    torch.save(net, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    assert torch.equal(loaded(x)[1], mem)
    double = pickle.loads(pickle.dumps(net)).double()
    assert double(x.double())[1].dtype == torch.float64
    with pytest.raises(ValueError, match=r"num_steps must be an integer in \[1, inf\), got 0"):
        FCSpikingNet(num_steps=0)


def test_training_reduces_the_loss_and_same_seed_gives_same_result():
    torch.manual_seed(0)
    x = torch.rand(64, 1, 28, 28)
    y = (x.flatten(1)[:, :392].sum(1) > x.flatten(1)[:, 392:].sum(1)).long()
    loader = [(x[i : i + 16], y[i : i + 16]) for i in range(0, 64, 16)] * 5

    def run():
        torch.manual_seed(1)
        net = FCSpikingNet(spike_grad=surrogate.iw_st(), num_hidden=32, num_steps=5)
        opt = torch.optim.Adam(net.parameters(), lr=5e-3)
        result = train_epoch(net, loader, opt, progress=False)
        return result, evaluate(net, loader[:4], progress=False)

    first, acc = run()
    assert sum(first.losses[-4:]) < sum(first.losses[:4])
    assert len(first.step_seconds) == len(loader) and 0.0 <= acc <= 1.0
    second, acc2 = run()
    assert first.losses == second.losses and acc == acc2


def test_estimator_and_fast_sigmoid_share_the_forward_pass():
    torch.manual_seed(0)
    a = FCSpikingNet(spike_grad=surrogate.gumbel_rao(), num_hidden=32, num_steps=6)
    b = FCSpikingNet(spike_grad=snn_surrogate.fast_sigmoid(), num_hidden=32, num_steps=6)
    b.load_state_dict(a.state_dict())
    x = torch.rand(3, 1, 28, 28) * 3
    for ta, tb in zip(a(x), b(x), strict=True):
        assert torch.equal(ta, tb)


def test_evaluate_rejects_an_empty_loader():
    net = FCSpikingNet(num_hidden=8, num_steps=2)
    with pytest.raises(ValueError, match="evaluate saw no examples"):
        evaluate(net, [], progress=False)


def test_binary_mlp_pickles_and_converts_dtype():
    torch.manual_seed(0)
    net = diagnostics.BinaryMLP([3, 4, 2])
    x, y = torch.randn(3, dtype=torch.float64), torch.randn(2, dtype=torch.float64)
    clone = pickle.loads(pickle.dumps(net))
    value, grads = diagnostics.exact_gradient(net, x, y)
    value2, grads2 = diagnostics.exact_gradient(clone, x, y)
    assert value == value2 and all(torch.equal(grads[k], grads2[k]) for k in grads)
    single = clone.float()
    value32, _ = diagnostics.exact_gradient(single, x.float(), y.float())
    assert value32.dtype == torch.float32
    assert value32.item() == pytest.approx(value.item(), rel=1e-5)


def test_a_non_finite_loss_stops_training_before_any_update():
    net = FCSpikingNet(num_hidden=8, num_steps=2)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    batch = (torch.rand(2, 1, 28, 28), torch.tensor([0, 1]))

    class PoisonAfterFirst:
        """Two batches; before the second, the readout bias turns NaN."""

        def __len__(self):
            return 2

        def __iter__(self):
            yield batch
            with torch.no_grad():
                net.fc2.bias[0] = float("nan")
            yield batch

    before = [p.detach().clone() for p in net.parameters()]
    with pytest.raises(FloatingPointError, match="non-finite loss nan at step 1"):
        train_epoch(net, PoisonAfterFirst(), opt, progress=False)
    assert not torch.equal(before[0], net.fc1.weight)  # the first step did happen
    weight = net.fc1.weight.detach().clone()
    with pytest.raises(FloatingPointError, match="non-finite loss nan"):
        train_step(net, *batch, opt)
    assert torch.equal(weight, net.fc1.weight)  # no update from the failed step


def test_bayes_fc_net_posterior_std_means_what_it_means_in_bayes_linear():
    from snntorch_bayes.models import BayesFCSpikingNet

    net = BayesFCSpikingNet(num_hidden=16, num_steps=2, posterior_std=0.1)
    for layer in (net.fc1, net.fc2):
        torch.testing.assert_close(layer.weight_std, torch.full_like(layer.weight_std, 0.1))
    default = BayesFCSpikingNet(num_hidden=16, num_steps=2)
    for layer, fan_in in ((default.fc1, 784), (default.fc2, 16)):
        want = sb.BayesLinear(fan_in, 2).posterior_std
        assert layer.posterior_std == want == pytest.approx(0.5 / fan_in**0.5)


def _regression(n: int = 32):
    torch.manual_seed(0)
    net = torch.nn.Linear(3, 1)
    x, y = torch.randn(n, 3), torch.randn(n, 1)
    return net, x, y, torch.optim.SGD(net.parameters(), lr=0.1)


def test_fit_is_the_loop_it_documents():
    """One guarded step per batch on loss_fn(batch) (+ the ELBO's KL term at
    that step), the hooks in their places, max_steps honoured."""
    net, x, y, opt = _regression()
    twin = torch.nn.Linear(3, 1)
    twin.load_state_dict(net.state_dict())
    twin_opt = torch.optim.SGD(twin.parameters(), lr=0.1)
    batches = list(torch.arange(32).split(8))
    events = []
    result = fit(
        net,
        opt,
        batches,
        lambda idx: F.mse_loss(net(x[idx]), y[idx]),
        max_steps=3,
        before_step=lambda: events.append(("grad", net.weight.grad is not None)),
        after_step=lambda step, loss: events.append(("after", step, loss)),
    )
    expected = []
    for idx in batches[:3]:
        loss = F.mse_loss(twin(x[idx]), y[idx])
        twin_opt.zero_grad()
        loss.backward()
        twin_opt.step()
        expected.append(loss.item())
    assert result.losses == expected and len(result.step_seconds) == 3
    assert result.diverged_at is None and result.error is None
    assert events == [e for s, v in enumerate(expected) for e in (("grad", True), ("after", s, v))]
    torch.testing.assert_close(net.weight, twin.weight, rtol=0, atol=0)

    bayes = sb.BayesLinear(3, 2)
    elbo = sb.ELBO(num_train=32, warmup_steps=4, kl_scale=1.0)
    seen = []
    data = torch.tensor(1.0)
    fit(
        bayes,
        torch.optim.SGD(bayes.parameters(), lr=0.0),
        range(2),
        lambda _: data,
        elbo=elbo,
        after_step=lambda step, loss: seen.append(loss),
    )
    kl = float(sb.model_kl(bayes).detach()) / 32
    assert seen == pytest.approx([1 + 0.25 * kl, 1 + 0.5 * kl])


def test_fit_stops_at_a_non_finite_number_or_raises_naming_the_step():
    net, x, y, opt = _regression()
    before = net.weight.detach().clone()

    def loss_fn(step):
        return torch.tensor(float("nan")) if step == 2 else F.mse_loss(net(x), y)

    result = fit(net, opt, range(5), loss_fn)
    assert len(result.losses) == 2 and result.diverged_at == 2
    assert result.error == "non-finite loss nan"
    assert not torch.equal(net.weight, before)  # the two finite steps were taken
    with pytest.raises(FloatingPointError, match="non-finite loss nan at step 2"):
        fit(net, opt, range(5), loss_fn, stop_on_divergence=False)


def test_stacked_logits_deployed_and_sampled():
    torch.manual_seed(0)
    net = torch.nn.Sequential(sb.BayesLinear(4, 6), sb.VariationalLeaky(0.0, init_hidden=True))
    x = torch.randn(10, 4)
    net.train()
    deployed = stacked_logits(net, net, x, batch_size=3)
    assert not net.training and deployed.shape == (1, 10, 6)
    torch.testing.assert_close(deployed[0], net(x))
    torch.manual_seed(1)
    sampled = stacked_logits(net, net, x, num_samples=4, batch_size=3)
    torch.manual_seed(1)
    chunks = [sb.mc_logits(lambda c=c: net(c), net, 4) for c in x.split(3)]
    torch.testing.assert_close(sampled, torch.cat(chunks, 1))
    assert not net.training
