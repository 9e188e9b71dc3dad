"""Stochastic firing with ``sample=True`` is really random (issue 12 §1).

A sampled estimator inside snnTorch's ``Leaky``, ``Synaptic`` and ``RLeaky``
must fire independently with probability F(x/s) at every step, whatever the
membrane does (constant, zero, repeating), while each reset still equals the
spike emitted the step before; Monte-Carlo passes must differ; a reloaded
checkpoint must continue the saved stream; the uniforms must lie in (0, 1).
"""

from __future__ import annotations

import copy
import io
import math

import pytest
import snntorch as snn
import torch

import snntorch_bayes as sb
from snntorch_bayes import functional as Fn
from snntorch_bayes import surrogate

#: neurons whose membrane equals their input every step (no decay, no
#: reset, no recurrence), so a constant input is a constant membrane
STATIC = {
    "Leaky": lambda sg: snn.Leaky(beta=0.0, reset_mechanism="none", spike_grad=sg),
    "Synaptic": lambda sg: snn.Synaptic(0.0, 0.0, reset_mechanism="none", spike_grad=sg),
    "RLeaky": lambda sg: snn.RLeaky(
        0.0, V=0.0, all_to_all=False, learn_recurrent=False, reset_mechanism="none",
        spike_grad=sg,
    ),
}  # fmt: skip


def _run(neuron: snn.SpikingNeuron, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Spikes and resets ``[T, N]`` of ``neuron`` driven by ``inputs``."""
    if isinstance(neuron, snn.Synaptic):
        state = neuron.init_synaptic()
    elif isinstance(neuron, snn.RLeaky):
        state = neuron.init_rleaky()
    else:
        state = (neuron.init_leaky(),)
    spikes, resets = [], []
    with torch.no_grad():
        for x in inputs:
            out = neuron(x, *state)
            spikes.append(out[0].clone())
            resets.append(neuron.reset.clone())
            state = out[1:]
    return torch.stack(spikes), torch.stack(resets)


def _within(observed: float, p: float, n: int, sigmas: float = 5.0) -> bool:
    return abs(observed - p) <= sigmas * math.sqrt(p * (1 - p) / n) + 1e-12


@pytest.mark.parametrize("name", list(STATIC))
@pytest.mark.parametrize("membrane", ["constant", "zero", "repeating"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_static_membrane_fires_independently_every_step(name, membrane, dtype):
    n, steps = 20_000, 30
    est = surrogate.iw_st(scale=0.25, sample=True)
    level = {"constant": 0.5, "zero": 0.0, "repeating": 0.5}[membrane]
    inputs = torch.full((steps, n), level, dtype=dtype)
    if membrane == "repeating":  # period 2: 0.5, 0.8, 0.5, 0.8, ...
        inputs[1::2] = 0.8
    spikes, _ = _run(STATIC[name](est).to(dtype), inputs)
    prob = est.firing_probability(inputs[:, 0] - 1.0)  # threshold 1
    for t in range(steps):  # every step fires with probability F ...
        assert _within(spikes[t].mean().item(), prob[t].item(), n), (t, spikes[t].mean())
    # ... independently of the steps before: P(fired at t and t-1) = F_t F_{t-1}
    both = (spikes[1:] * spikes[:-1]).mean(1)
    for t in range(steps - 1):
        assert _within(both[t].item(), (prob[t + 1] * prob[t]).item(), n), t
    # and the fraction that ever fired is 1 - prod(1 - F)
    ever = spikes.amax(0).mean().item()
    assert _within(ever, 1 - torch.prod(1 - prob).item(), n)


@pytest.mark.parametrize("name", list(STATIC))
def test_resets_equal_the_emitted_spikes_under_constant_input(name):
    # with reset by subtraction the membrane alternates between few values,
    # the case a value-keyed draw gets wrong; resets must still be the spikes
    n, steps = 5_000, 40
    est = surrogate.iw_st(scale=0.25, sample=True)
    make = STATIC[name]
    neuron = make(est)
    neuron.reset_mechanism = "subtract"
    neuron._reset_cases("subtract")
    spikes, resets = _run(neuron, torch.full((steps, n), 0.9))
    assert torch.equal(resets[1:], spikes[:-1])
    assert 0.1 < spikes.mean().item() < 0.9


def test_estimator_shared_by_several_layers_keeps_every_reset():
    torch.manual_seed(0)
    est = surrogate.iw_st(sample=True)
    layers = [snn.Leaky(beta=0.9, spike_grad=est, init_hidden=True) for _ in range(5)]
    fcs = [torch.nn.Linear(8, 8) for _ in layers]
    x = torch.rand(30, 16, 8) * 2
    mismatches, fired = 0, []
    with torch.no_grad():
        previous = [None] * len(layers)
        for xt in x:
            h = xt
            for i, (fc, lif) in enumerate(zip(fcs, layers, strict=True)):
                h = lif(fc(h))
                if previous[i] is not None:
                    mismatches += int((lif.reset != previous[i]).sum())
                previous[i] = h.clone()
                fired.append(h.mean().item())
    assert mismatches == 0
    assert 0.05 < sum(fired) / len(fired) < 0.95


def _stochastic_nets() -> dict[str, torch.nn.Module]:
    torch.manual_seed(1)
    return {
        "sampled estimator": torch.nn.Sequential(
            torch.nn.Linear(6, 50),
            snn.Leaky(beta=0.9, spike_grad=surrogate.iw_st(sample=True), init_hidden=True),
            torch.nn.Linear(50, 4),
        ),
        "variational weights": torch.nn.Sequential(sb.BayesLinear(6, 4)),
        "variational neuron": torch.nn.Sequential(
            torch.nn.Linear(6, 50),
            sb.VariationalLeaky(0.9, init_hidden=True),
            torch.nn.Linear(50, 4),
        ),
    }


@pytest.mark.parametrize("kind", list(_stochastic_nets()))
def test_monte_carlo_passes_differ(kind):
    net = _stochastic_nets()[kind].eval()
    x = torch.rand(32, 6) * 3

    def forward():
        for m in net.modules():
            if hasattr(m, "reset_mem"):
                m.reset_mem()
        out = net(x)
        return out.sample() if isinstance(out, sb.GaussianCurrent) else out

    logits = sb.mc_logits(forward, net, 6)
    for i in range(6):
        for j in range(i):
            assert not torch.equal(logits[i], logits[j]), (i, j)
    with sb.sampling(net):
        assert not torch.equal(forward(), forward())


def test_a_reloaded_checkpoint_reproduces_the_saved_spikes():
    torch.manual_seed(2)
    net = torch.nn.Sequential(
        torch.nn.Linear(6, 40),
        snn.Leaky(beta=0.8, spike_grad=surrogate.iw_st(sample=True), init_hidden=True),
    )
    surrogate.reseed(net, torch.Generator().manual_seed(5))
    x = torch.rand(10, 8, 6) * 2
    net(x[0])  # a stream under way, not a fresh one

    def run(model):
        model[1].reset_mem()
        with torch.no_grad():
            return torch.stack([model(xt) for xt in x])

    saved = copy.deepcopy(net.state_dict())  # state_dict() holds live buffers
    buffer = io.BytesIO()
    torch.save(net, buffer)
    reference = run(net)
    other = torch.nn.Sequential(
        torch.nn.Linear(6, 40),
        snn.Leaky(beta=0.8, spike_grad=surrogate.iw_st(sample=True), init_hidden=True),
    )
    other.load_state_dict(saved)
    assert torch.equal(run(other), reference)
    buffer.seek(0)
    assert torch.equal(run(torch.load(buffer, weights_only=False)), reference)
    assert not torch.equal(run(net), reference)  # the stream moved on


def test_reseed_with_a_seeded_generator_is_reproducible():
    lif = snn.Leaky(beta=0.9, spike_grad=surrogate.iw_st(sample=True), init_hidden=True)
    x = torch.rand(5, 64)

    def run():
        surrogate.reseed(lif, torch.Generator().manual_seed(11))
        lif.reset_mem()
        return torch.stack([lif(xt) for xt in x])

    assert torch.equal(run(), run())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_uniforms_lie_in_the_open_unit_interval(dtype):
    x = torch.zeros(1 << 22, dtype=dtype)
    seed = torch.tensor(3)
    lo, hi = 1.0, 0.0
    for counter in range(8):
        u = Fn.counter_uniform(x, seed, torch.tensor(counter))
        assert u.dtype == (torch.float64 if dtype == torch.float64 else torch.float32)
        lo, hi = min(lo, u.min().item()), max(hi, u.max().item())
    assert 0.0 < lo and hi < 1.0
    # the extreme hashes map strictly inside (0, 1): the largest float32
    # number is 1 - 2**-24, the smallest 2**-24
    assert 1 - 2**-23 < hi and lo < 2**-21
