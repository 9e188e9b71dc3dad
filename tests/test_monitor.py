"""snntorch_bayes.monitor: one recorder of spikes and firing probabilities,
for the variational neurons and for any snnTorch neuron."""

from __future__ import annotations

import pickle

import pytest
import snntorch as snn
import torch

import snntorch_bayes as sb
from snntorch_bayes.functional import bias_penalty, firing_probability, normal_cdf
from snntorch_bayes.surrogate import iw_st, straight_through


def _sbnn():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        sb.BayesLinear(6, 5),
        sb.VariationalLeaky(0.9, spike_grad=iw_st(p=0.5, noise="gaussian")),
    )


def test_nested_contexts_both_record():
    net, x = _sbnn(), torch.rand(3, 6)
    with sb.record_firing(net) as outer:
        net(x)
        with sb.record_firing(net) as inner:
            net(x)
        net(x)
    assert len(outer.calls) == 3 and len(inner.calls) == 1
    torch.testing.assert_close(inner.probabilities[0], outer.probabilities[1])
    neuron = net[1]
    assert not neuron._probability_hooks and not neuron._forward_hooks
    pickle.loads(pickle.dumps(net))  # no hook left behind


def test_variational_sample_mode_reports_phi_of_the_mean_membrane():
    net, x = _sbnn(), torch.rand(3, 6)
    neuron = net[1]
    seen = []
    handle = neuron.register_probability_hook(lambda m, prob: seen.append(prob))
    with sb.record_firing(net) as record:
        cur = net[0](x)
        neuron(cur)
    handle.remove()
    assert len(seen) == 1 and not neuron._probability_hooks
    (call,) = record.calls
    assert call.name == "1" and call.p == 0.5 and call.size == 15
    torch.testing.assert_close(call.probability, seen[0])
    # step 0 from rest: the membrane mean is the current's mean
    std = (cur.var + 0.0).sqrt()
    torch.testing.assert_close(call.probability, normal_cdf((cur.mean - 1.0) / std))
    call.probability.sum().backward()  # keeps its graph by default
    assert net[0].weight_mean.grad.abs().sum() > 0


def test_mean_mode_and_snntorch_neurons_use_the_estimator_noise_model():
    torch.manual_seed(1)
    u = torch.randn(4, 7) + 1.0
    grad = straight_through(noise="logistic", scale=0.5)
    for neuron in (snn.Leaky(beta=0.5, spike_grad=grad), snn.Synaptic(0.5, 0.5, spike_grad=grad)):
        with sb.record_firing(neuron) as record:
            out = neuron(u)
        mem = out[-1]
        (call,) = record.calls
        torch.testing.assert_close(call.probability, firing_probability(mem - 1.0, "logistic", 0.5))
        torch.testing.assert_close(call.spike_rate, out[0].float().mean())
        assert call.p == 0.0
    net = _sbnn()
    sb.set_mode(net, "mean")
    with sb.record_firing(net) as record:
        _, mem = net(torch.rand(3, 6))
    want = firing_probability(mem - 1.0, "gaussian", net[1].spike_grad.scale)
    torch.testing.assert_close(record.probabilities[0], want)


def test_foreign_surrogates_need_a_noise_model_for_probabilities():
    lif = snn.Leaky(beta=0.9)  # snnTorch's closure: no noise model
    with sb.record_firing(lif) as record:
        lif(torch.tensor([0.5, 1.5]))
    assert record.calls[0].probability is None and record.probabilities == []
    torch.testing.assert_close(record.mean_firing_rate(), torch.tensor(0.5))
    with pytest.raises(ValueError, match="nothing recorded with a firing probability"):
        record.mean_firing_probability()
    with sb.record_firing(lif, noise="gaussian", scale=1.0) as record:
        lif(torch.tensor([0.5, 1.5]))
    with pytest.raises(ValueError, match="has no IW-ST exponent p"):
        record.bias_penalty()
    prob = record.probabilities[0]
    torch.testing.assert_close(record.bias_penalty(p=0.0), bias_penalty(prob, 0.0))


def test_options_and_summaries():
    net, x = _sbnn(), torch.rand(3, 6)
    with sb.record_firing(net, probabilities=False) as spikes:
        spk, _ = net(x)
    assert spikes.calls[0].probability is None
    torch.testing.assert_close(spikes.by_layer()["1"], spk.mean())
    with sb.record_firing(net, keep_graph=False) as record:
        net(x)
        net(x)
    assert all(not q.requires_grad for q in record.probabilities)
    stacked = torch.stack(record.probabilities)
    torch.testing.assert_close(record.mean_firing_probability(), stacked.mean())
    torch.testing.assert_close(record.bias_penalty(), bias_penalty(stacked, 0.5))
    record.clear()
    with pytest.raises(ValueError, match="nothing recorded"):
        record.mean_firing_rate()
    with sb.record_firing(net, [net[1]]) as chosen, sb.record_firing(net[0]) as none:
        net(x)
    assert len(chosen.calls) == 1 and none.calls == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"noise": "cauchy", "scale": 1.0}, ValueError, "noise"),
        ({"noise": "logistic", "scale": 0.0}, ValueError, "scale must be"),
        ({"noise": "logistic", "scale": float("inf")}, ValueError, "scale must be"),
        ({"noise": "logistic"}, ValueError, "together"),
        ({"scale": 0.25}, ValueError, "together"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match), sb.record_firing(_sbnn(), **kwargs):
        pass


def test_bad_module_and_hook():
    with pytest.raises(TypeError, match=r"torch\.nn\.Module"), sb.record_firing("net"):
        pass
    with pytest.raises(TypeError, match="hook must be callable"):
        sb.VariationalLeaky(0.9).register_probability_hook(3)
