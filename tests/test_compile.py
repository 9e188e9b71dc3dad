"""torch.compile of a network using each estimator: forward and backward
compile, and match eager.  Slow (tens of seconds each): excluded from the
default run; run with ``bash scripts/test.sh -m slow``."""

from __future__ import annotations

import pytest
import torch

import snntorch_bayes as sb
from snntorch_bayes import surrogate
from snntorch_bayes.models import FCSpikingNet
from snntorch_bayes.training import membrane_ce_loss

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "make",
    [
        lambda: surrogate.straight_through(),
        lambda: surrogate.iw_st(p=0.5, noise="gaussian", max_weight=3.0),
        lambda: surrogate.gumbel_rao(),
        lambda: surrogate.gumbel_rao(tau=0.5),
        lambda: surrogate.iw_st(sample=True),
    ],
)
def test_compiled_gradients_equal_eager(make):
    torch._dynamo.reset()
    torch.manual_seed(0)
    eager = FCSpikingNet(spike_grad=make(), num_hidden=32, num_steps=3)
    twin = FCSpikingNet(spike_grad=make(), num_hidden=32, num_steps=3)
    twin.load_state_dict(eager.state_dict())
    compiled = torch.compile(twin, fullgraph=True)
    x, y = torch.rand(4, 1, 28, 28) * 2, torch.tensor([0, 1, 2, 3])
    membrane_ce_loss(eager(x)[1], y).backward()
    membrane_ce_loss(compiled(x)[1], y).backward()
    for a, b in zip(eager.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_compiled_hash_is_bit_identical_to_eager(dtype):
    # torch 2.14's CPU inductor miscompiled an earlier form of the hash (a
    # multiple of the position fused with the bit-cast of x): wrong numbers
    # from the second vector on, and heap corruption inside a network
    from snntorch_bayes.functional import counter_uniform, fingerprint

    seed, counter = torch.tensor(7), torch.tensor(3)
    uniform = torch.compile(counter_uniform, fullgraph=True)
    fingerprint_ = torch.compile(fingerprint, fullgraph=True)
    for shape in [(40,), (4, 10), (3, 7), (4, 32), (128, 1000)]:
        x = torch.randn(*shape, dtype=dtype)
        assert torch.equal(uniform(x, seed, counter), counter_uniform(x, seed, counter)), shape
        assert torch.equal(fingerprint_(x), fingerprint(x)), shape


def test_compiled_sampled_network_spikes_like_eager():
    torch._dynamo.reset()
    torch.manual_seed(0)
    net = FCSpikingNet(spike_grad=surrogate.iw_st(sample=True), num_hidden=32, num_steps=3)
    x = torch.rand(4, 1, 28, 28) * 2
    start = {k: v.clone() for k, v in net.state_dict().items()}
    spikes, _ = net(x)
    # the eager pass advanced the stream of draws; rewind it so that the
    # compiled pass draws the same random numbers
    net.load_state_dict(start)
    compiled_spikes, _ = torch.compile(net, fullgraph=True)(x)
    # the same draws give the same spikes (a few may flip where compiled
    # arithmetic rounds a membrane differently)
    assert (compiled_spikes == spikes).float().mean().item() > 0.99


def test_compiled_sbnn_has_no_graph_break_and_matches_eager():
    # the variational layers and neurons (their checks, the guarded option
    # setter, the sampled step) compile as one graph; with inductor's
    # fallback_random the compiled SBNN draws eager's random numbers
    from snntorch_bayes.models import BayesFCSpikingNet

    # (config.patch, not monkeypatch: undoing a monkeypatch deletes the
    # option from inductor's config module and breaks later compiles)
    torch._dynamo.reset()
    torch.manual_seed(0)
    net = BayesFCSpikingNet(num_hidden=32, num_steps=3)
    x = torch.rand(4, 1, 28, 28)

    def step(model):
        torch.manual_seed(1)
        _, mem = model(x)
        loss = mem.square().mean()
        loss.backward()
        return loss.detach()

    with torch._inductor.config.patch(fallback_random=True):
        eager = step(net)
        grads = [p.grad.clone() for p in net.parameters()]
        net.zero_grad()
        compiled = step(torch.compile(net, fullgraph=True))
        assert torch.allclose(compiled, eager, rtol=1e-5)
        for p, g in zip(net.parameters(), grads, strict=True):
            assert torch.allclose(p.grad, g, rtol=1e-3, atol=1e-6)


def test_compiled_model_kl_has_no_graph_break():
    # the KL goes through torch.distributions (posteriors, the registered
    # pair, a Laplace prior through torch's own pair) in one graph
    torch._dynamo.reset()
    net = torch.nn.Sequential(
        sb.BayesLinear(8, 4),
        sb.VariationalLeaky(0.9),
        sb.BayesLinear(4, 3, prior=torch.distributions.Laplace(0.0, 0.5)),
    )
    compiled = torch.compile(lambda: sb.model_kl(net), fullgraph=True)
    torch.testing.assert_close(compiled(), sb.model_kl(net))


def test_sb_compile_draws_eagers_noise_without_a_graph_break():
    # sb.compile turns on inductor's fallback_random for its graphs only: the
    # compiled SBNN (fullgraph) draws the eager model's noise under a seed,
    # and the global inductor config is left alone
    from snntorch_bayes.models import BayesFCSpikingNet

    torch._dynamo.reset()
    torch.manual_seed(0)
    net = BayesFCSpikingNet(num_hidden=16, num_steps=3)
    x = torch.rand(4, 1, 28, 28)
    torch.manual_seed(1)
    eager = net(x)[1]
    compiled = sb.compile(net, fullgraph=True)
    torch.manual_seed(1)
    out = compiled(x)[1]
    torch.testing.assert_close(out, eager, rtol=1e-5, atol=1e-6)
    assert torch._inductor.config.fallback_random is False


def test_mean_mode_delegates_to_snntorch_and_compiles_without_a_graph_break():
    # "mean" mode runs snn.Leaky's / snn.Synaptic's own step (firing through
    # the variational neuron's fire()); it compiles as one graph and equals eager
    torch._dynamo.reset()

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = sb.BayesLinear(8, 4)
            self.lif = sb.VariationalLeaky(0.9)
            self.syn = sb.VariationalSynaptic(0.8, 0.9)

        def forward(self, x):
            mem, (syn, mem2), out = self.lif.reset_mem(), self.syn.reset_mem(), []
            for _ in range(3):
                spk, mem = self.lif(self.fc(x), mem)
                _, syn, mem2 = self.syn(2 * spk, syn, mem2)
                out.append(mem2)
            return torch.stack(out)

    torch.manual_seed(0)
    net, x = Net().eval(), torch.rand(5, 8)
    torch.testing.assert_close(torch.compile(net, fullgraph=True)(x), net(x), rtol=0, atol=0)
