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
from snntorch_bayes.training import evaluate, membrane_ce_loss, train_epoch, train_step


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
