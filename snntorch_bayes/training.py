"""Plain training and evaluation loops (snnTorch's ``backprop`` module is
deprecated), with progress bars and per-step timing."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from snntorch_bayes.inference import ELBO, sampling

__all__ = [
    "EpochResult",
    "Predictions",
    "evaluate",
    "guarded_step",
    "membrane_ce_loss",
    "predict",
    "train_epoch",
    "train_step",
]


def membrane_ce_loss(mem_rec: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    r"""Cross-entropy of the output membrane, summed over time steps
    (snnTorch tutorial 5): :math:`\sum_t \mathrm{CE}(U_t, y)`.

    :param mem_rec: ``[T, B, C]``
    :param targets: ``[B]`` class indices
    """
    if mem_rec.dim() != 3 or mem_rec.shape[1] != targets.shape[0]:
        raise ValueError(
            f"mem_rec must be [T, B, C] with B = {targets.shape[0]}, got {tuple(mem_rec.shape)}"
        )
    steps, batch, classes = mem_rec.shape
    per_step = F.cross_entropy(
        mem_rec.reshape(steps * batch, classes), targets.repeat(steps), reduction="none"
    )
    return per_step.view(steps, batch).mean(1).sum()


@dataclass
class EpochResult:
    """Losses and wall-clock seconds of every training step of an epoch."""

    losses: list[float] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)


def train_step(
    net: nn.Module,
    data: torch.Tensor,
    targets: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    elbo: ELBO | None = None,
    step: int | None = None,
) -> torch.Tensor:
    """One optimiser step on :func:`membrane_ce_loss` of ``net(data)`` (plus
    the KL term of ``elbo`` at ``step``, for a variational ``net``); returns
    the (detached) loss.

    Non-finite numbers stop training with a ``FloatingPointError`` (see
    :func:`guarded_step`)."""
    _, mem_rec = net(data)
    loss = membrane_ce_loss(mem_rec, targets)
    if elbo is not None:
        loss = elbo(loss, net, step)
    guarded_step(loss, optimizer, net)
    return loss.detach()


def guarded_step(
    loss: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    net: nn.Module | None = None,
    before_step: Callable[[], None] | None = None,
) -> None:
    """``loss.backward()`` and ``optimizer.step()``, stopping with a
    ``FloatingPointError`` on the first non-finite number.

    * A non-finite ``loss`` is reported before any gradient is computed.
    * A non-finite gradient (say, from one NaN pixel, which the spikes hide
      from the loss) is reported before the optimiser steps, and the
      gradients are cleared.
    * A parameter that the step itself makes non-finite is reported after
      the step.

    In the first two cases no parameter changes.  Each check is one fused
    reduction (a norm per tensor), read back once: about 0.1 ms a step for
    snnTorch tutorial 5's network on CPU.

    :param net: names the offending parameter in the message (optional)
    :param before_step: called between the backward pass and the step, once
        the gradients are known to be finite (to log gradient norms, say)

    Example::

        >>> import torch
        >>> from snntorch_bayes.training import guarded_step
        >>> w = torch.nn.Parameter(torch.ones(2))
        >>> opt = torch.optim.SGD([w], lr=0.1)
        >>> guarded_step((w**2).sum(), opt)
        >>> w.detach()
        tensor([0.8000, 0.8000])
        >>> guarded_step(w.sum() * float("nan"), opt)
        Traceback (most recent call last):
        ...
        FloatingPointError: non-finite loss nan
    """
    if not torch.isfinite(loss):
        raise FloatingPointError(f"non-finite loss {loss.item()}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    params = [p for group in optimizer.param_groups for p in group["params"]]
    with_grad = [p for p in params if p.grad is not None]
    bad = _first_non_finite([p.grad for p in with_grad])
    if bad is not None:
        value = with_grad[bad].grad
        optimizer.zero_grad(set_to_none=True)
        raise FloatingPointError(
            f"non-finite gradient of {_param_name(net, with_grad[bad])} "
            f"({_non_finite_count(value)} of {value.numel()} entries)"
        )
    if before_step is not None:
        before_step()
    optimizer.step()
    bad = _first_non_finite([p.detach() for p in params])
    if bad is not None:
        raise FloatingPointError(
            f"non-finite parameter {_param_name(net, params[bad])} after the optimiser step "
            f"({_non_finite_count(params[bad])} of {params[bad].numel()} entries)"
        )


def _first_non_finite(tensors: list[torch.Tensor]) -> int | None:
    """Index of the first tensor of ``tensors`` holding a NaN or an infinity,
    or ``None``.  One fused 2-norm per tensor (``torch._foreach_norm``; NaN
    and infinity propagate) and a single read-back; only a non-finite norm
    is confirmed entry by entry, since the norm of huge finite entries can
    overflow.  (The fused infinity norm would never overflow, but is 20 times
    slower on CPU.)"""
    index = [i for i, t in enumerate(tensors) if t.numel()]
    if not index:
        return None
    norms = torch._foreach_norm([tensors[i] for i in index], 2)
    device = norms[0].device
    finite = torch.isfinite(torch.stack([norm.float().to(device) for norm in norms]))
    if bool(finite.all()):
        return None
    for k in (~finite).nonzero()[:, 0].tolist():
        if not bool(torch.isfinite(tensors[index[k]]).all()):
            return index[k]
    return None


def _non_finite_count(tensor: torch.Tensor) -> int:
    return int((~torch.isfinite(tensor.detach())).sum())


def _param_name(net: nn.Module | None, param: torch.Tensor) -> str:
    """The name of ``param`` in ``net`` (only computed to report an error)."""
    for name, candidate in net.named_parameters() if net is not None else ():
        if candidate is param:
            return name
    return f"an optimiser parameter of shape {tuple(param.shape)}"


def _progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, mininterval=2.0, dynamic_ncols=True)


def train_epoch(
    net: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    max_batches: int | None = None,
    progress: bool = True,
    desc: str = "train",
    elbo: ELBO | None = None,
) -> EpochResult:
    """One epoch of tutorial-5 training: forward, :func:`membrane_ce_loss`
    (plus the KL term of ``elbo``), backward, optimiser step; each step
    timed (wall clock, including the data transfer, excluding loading)."""
    net.train()
    device = next(net.parameters()).device
    result = EpochResult()
    total = len(loader) if max_batches is None else min(max_batches, len(loader))
    bar = _progress(loader, total, desc, progress)
    for i, (data, targets) in enumerate(bar):
        if i == total:
            break
        start = time.perf_counter()
        try:
            loss = train_step(net, data.to(device), targets.to(device), optimizer, elbo, i)
        except FloatingPointError as err:
            raise FloatingPointError(f"{err} at step {i}") from None
        result.step_seconds.append(time.perf_counter() - start)
        result.losses.append(loss.item())
        if progress and i % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    return result


@torch.no_grad()
def evaluate(
    net: nn.Module,
    loader: Iterable,
    max_batches: int | None = None,
    progress: bool = True,
    desc: str = "test",
) -> float:
    """Accuracy of the spike-count prediction (argmax of summed output
    spikes, as in snnTorch tutorial 5)."""
    net.eval()
    device = next(net.parameters()).device
    correct = seen = 0
    total = len(loader) if max_batches is None else min(max_batches, len(loader))
    for i, (data, targets) in enumerate(_progress(loader, total, desc, progress)):
        if i == total:
            break
        spk_rec, _ = net(data.to(device))
        correct += (spk_rec.sum(0).argmax(1).cpu() == targets).sum().item()
        seen += targets.numel()
    if seen == 0:
        raise ValueError("evaluate saw no examples")
    return correct / seen


@dataclass
class Predictions:
    """Outputs of :func:`predict` on a whole dataset.

    ``logits`` is ``[K, N, C]``: the output membrane averaged over time
    steps, for each of ``K`` passes (``K = 1`` for a deterministic pass);
    ``spike_counts`` ``[N, C]`` (summed over passes and steps); ``targets``
    ``[N]``."""

    logits: torch.Tensor
    spike_counts: torch.Tensor
    targets: torch.Tensor


@torch.no_grad()
def predict(
    net: nn.Module,
    loader: Iterable,
    num_samples: int | None = None,
    max_batches: int | None = None,
    progress: bool = True,
    desc: str = "predict",
) -> Predictions:
    """Run ``net`` (returning ``(spk_rec, mem_rec)``, each ``[T, B, C]``)
    over ``loader`` in ``eval()`` mode.  With ``num_samples = K``, every
    variational module samples and each batch is passed ``K`` times
    (Monte-Carlo prediction); with ``None``, one deterministic pass
    (deployment mode for a variational network).  The logit readout is the
    time-averaged output membrane, whose softmax the summed-over-time
    cross-entropy of :func:`membrane_ce_loss` trains."""
    if num_samples is not None and (
        isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1
    ):
        raise ValueError(f"num_samples must be None or an integer >= 1, got {num_samples!r}")
    net.eval()
    device = next(net.parameters()).device
    logits, counts, labels = [], [], []
    total = len(loader) if max_batches is None else min(max_batches, len(loader))
    for i, (data, targets) in enumerate(_progress(loader, total, desc, progress)):
        if i == total:
            break
        data = data.to(device)
        passes, spikes = [], 0
        with sampling(net) if num_samples else contextlib.nullcontext():
            for _ in range(num_samples or 1):
                spk_rec, mem_rec = net(data)
                passes.append(mem_rec.mean(0).cpu())
                spikes = spikes + spk_rec.sum(0).cpu()
        logits.append(torch.stack(passes))
        counts.append(spikes)
        labels.append(targets)
    if not labels:
        raise ValueError("predict saw no examples")
    return Predictions(torch.cat(logits, 1), torch.cat(counts), torch.cat(labels))
