"""torch.compile of a network using each estimator: forward and backward
compile, and match eager.  Slow (tens of seconds each): excluded from the
default run; run with ``bash scripts/test.sh -m slow``."""

from __future__ import annotations

import pytest
import torch

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
