"""Data-parallel training: a 2-process ``DistributedDataParallel`` run (gloo,
CPU) gives the gradients and KL of one process on the same global batch, and
a fixed seed makes training reproducible.

**Why the noise is pre-generated.**  A forward pass draws its only randomness
in ``VariationalLeaky._noise`` (``torch.randn_like``).  Two DDP processes
have two torch RNGs: no seeding makes rank 0 and rank 1 draw, between them,
the noise one process draws for the whole global batch (their streams are
independent, and ``randn_like`` of a ``[4, H]`` tensor is not half of that of
an ``[8, H]`` tensor).  What this test checks is DDP's gradient averaging and
the KL term of the ELBO, not the RNG, so both runs use one noise tensor per
(neuron, step) drawn up front for the global batch: the reference takes all
its rows, rank ``r`` rows ``[r * B_local, (r + 1) * B_local)``.  The patched
``_noise`` computes the standard deviation exactly as the library does.

**Why the gradients agree.**  Each rank minimises
``mean_{i in its batch} nll_i + KL / N``; DDP averages the gradients over the
ranks, and with equal local batches the average of the local means is the
global mean while ``KL / N`` (the same on every rank) is unchanged.
"""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from snntorch_bayes.inference import ELBO, model_kl
from snntorch_bayes.models import BayesFCSpikingNet
from snntorch_bayes.training import membrane_ce_loss

WORLD_SIZE = 2
GLOBAL_BATCH = 8
LOCAL_BATCH = GLOBAL_BATCH // WORLD_SIZE
NUM_INPUTS, NUM_HIDDEN, NUM_OUTPUTS, NUM_STEPS = 20, 16, 4, 5
#: small, so that KL / N is not negligible next to the data term
NUM_TRAIN = 50
NEURONS = ("lif1", "lif2")


def _build_model() -> BayesFCSpikingNet:
    return BayesFCSpikingNet(
        num_inputs=NUM_INPUTS, num_hidden=NUM_HIDDEN, num_outputs=NUM_OUTPUTS, num_steps=NUM_STEPS
    ).double()


def _install_noise(model: BayesFCSpikingNet, noise: dict[str, torch.Tensor], rows: slice) -> None:
    """Make every neuron's ``_noise`` return the next step's rows of the
    pre-generated ``noise[name]`` (``[T, B_global, H]``), with the library's
    standard deviation."""
    for name in NEURONS:
        neuron = getattr(model, name)
        steps = noise[name][:, rows]
        calls = [0]

        def _noise(self, mean, var, steps=steps, calls=calls):
            if var is None:
                std = self.spike_grad.scale
            else:
                std = var.clamp_min(torch.finfo(var.dtype).tiny).sqrt()
            step = calls[0]
            assert step < steps.shape[0], "more forward steps than pre-generated noise"
            eps = steps[step]
            assert eps.shape == mean.shape and eps.dtype == mean.dtype
            calls[0] += 1
            return std, eps

        neuron._noise = types.MethodType(_noise, neuron)


def _grads(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.grad.detach().clone() for name, p in model.named_parameters()}


def _ddp_worker(rank: int, setup_path: str, rendezvous: str, out_dir: str) -> None:
    """One rank: its half of the global batch, through DDP."""
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)
    dist.init_process_group(
        "gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=WORLD_SIZE
    )
    try:
        setup = torch.load(setup_path)
        model = _build_model()
        model.load_state_dict(setup["state"])
        rows = slice(rank * LOCAL_BATCH, (rank + 1) * LOCAL_BATCH)
        _install_noise(model, setup["noise"], rows)
        ddp = DistributedDataParallel(model)
        _, mem_rec = ddp(setup["x"][rows])
        kl = model_kl(ddp.module)
        loss = ELBO(num_train=NUM_TRAIN)(membrane_ce_loss(mem_rec, setup["y"][rows]), ddp.module)
        loss.backward()  # DDP all-reduces (averages) the gradients here
        torch.save(
            {"grads": _grads(ddp.module), "kl": kl.detach()},
            str(Path(out_dir) / f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


def _importable(func: types.FunctionType, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put the folder that makes ``func``'s module importable by its name on
    ``sys.path``: spawned processes inherit ``sys.path`` and import the
    module to unpickle ``func`` (pytest's ``--import-mode=importlib`` names
    this module ``tests.test_distributed`` without adding the root)."""
    name = func.__module__
    root = Path(__file__).resolve().parents[name.count(".")]
    monkeypatch.syspath_prepend(str(root))
    spec = importlib.util.find_spec(name)
    here = Path(__file__).resolve()
    if spec is None or spec.origin is None or Path(spec.origin).resolve() != here:
        pytest.fail(f"spawned workers cannot import {name!r} from {root} (found {spec!r})")


def _gloo_available() -> bool:
    return dist.is_available() and dist.is_gloo_available()


@pytest.mark.skipif(not _gloo_available(), reason="torch.distributed with gloo is not available")
def test_ddp_two_processes_match_one_process_on_the_global_batch(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = _build_model()
    x = 2 * torch.rand(GLOBAL_BATCH, NUM_INPUTS, dtype=torch.float64)
    y = torch.arange(GLOBAL_BATCH) % NUM_OUTPUTS
    noise = {
        name: torch.randn(NUM_STEPS, GLOBAL_BATCH, size, dtype=torch.float64)
        for name, size in zip(NEURONS, (NUM_HIDDEN, NUM_OUTPUTS), strict=True)
    }
    setup_path = tmp_path / "setup.pt"
    torch.save({"state": model.state_dict(), "x": x, "y": y, "noise": noise}, str(setup_path))

    # the reference: one process, the whole batch
    _install_noise(model, noise, slice(None))
    spk_rec, mem_rec = model(x)
    kl_ref = model_kl(model).detach()
    ELBO(num_train=NUM_TRAIN)(membrane_ce_loss(mem_rec, y), model).backward()
    grads_ref = _grads(model)
    # a meaningful case: the network spikes and every parameter gets a gradient
    assert 0 < spk_rec.mean() < 1
    for name, grad in grads_ref.items():
        assert grad.abs().max() > 0, name

    _importable(_ddp_worker, monkeypatch)
    mp.start_processes(
        _ddp_worker,
        args=(str(setup_path), str(tmp_path / "rendezvous"), str(tmp_path)),
        nprocs=WORLD_SIZE,
        join=True,
        start_method="spawn",
    )
    ranks = [torch.load(str(tmp_path / f"rank{r}.pt")) for r in range(WORLD_SIZE)]

    for rank in ranks:
        torch.testing.assert_close(rank["kl"], kl_ref, rtol=0, atol=1e-12)
    for name, grad in grads_ref.items():
        torch.testing.assert_close(ranks[0]["grads"][name], grad, rtol=0, atol=1e-10, msg=name)
        assert torch.equal(ranks[1]["grads"][name], ranks[0]["grads"][name]), name


def _train(seed: int, x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    torch.manual_seed(seed)
    model = BayesFCSpikingNet(num_inputs=12, num_hidden=10, num_outputs=3, num_steps=4)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    elbo = ELBO(num_train=100)
    torch.manual_seed(seed)
    for _ in range(3):
        _, mem_rec = model(x)
        loss = elbo(membrane_ce_loss(mem_rec, y), model)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return [p.detach().clone() for p in model.parameters()]


def test_same_seed_gives_bit_identical_training():
    generator = torch.Generator().manual_seed(123)
    x = 2 * torch.rand(6, 12, generator=generator)
    y = torch.randint(0, 3, (6,), generator=generator)
    first, second, other = _train(0, x, y), _train(0, x, y), _train(1, x, y)
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(first, other, strict=True))
