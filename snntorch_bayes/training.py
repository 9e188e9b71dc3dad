"""Plain training and evaluation loops (snnTorch's ``backprop`` module is
deprecated), with progress bars and per-step timing.

One loop, :func:`fit`, trains any network on any sequence of batches given a
data loss (plus the KL term of an :class:`~snntorch_bayes.inference.ELBO`), and
stops cleanly at the first non-finite number (:func:`guarded_step`);
:func:`stacked_logits` scores a network deployed or as a model average.
:func:`train_epoch`, :func:`evaluate` and :func:`predict` are the snnTorch
tutorial-5 shape of them: a ``DataLoader`` and a network returning
``(spk_rec, mem_rec)``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from snntorch_bayes.inference import ELBO, mc_logits, sampling

__all__ = [
    "EpochResult",
    "Predictions",
    "evaluate",
    "fit",
    "guarded_step",
    "membrane_ce_loss",
    "predict",
    "stacked_logits",
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
    """What :func:`fit` (or :func:`train_epoch`) did: the objective and the
    wall-clock seconds of every completed step, and, if training stopped at
    a non-finite number, the step (``diverged_at``) and why (``error``)."""

    losses: list[float] = field(default_factory=list)
    step_seconds: list[float] = field(default_factory=list)
    diverged_at: int | None = None
    error: str | None = None


def fit(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Any],
    loss_fn: Callable[[Any], torch.Tensor],
    *,
    elbo: ELBO | None = None,
    max_steps: int | None = None,
    before_step: Callable[[], None] | None = None,
    after_step: Callable[[int, float], None] | None = None,
    stop_on_divergence: bool = True,
) -> EpochResult:
    r"""Train ``net`` in ``train()`` mode, one optimiser step per batch: the
    objective of step :math:`t` is ``loss_fn(batch)`` (the data term,
    a scalar), plus the KL term of ``elbo`` at step :math:`t` for a
    variational ``net``, and the step is a :func:`guarded_step`.

    Example::

        >>> import torch
        >>> import torch.nn.functional as F
        >>> import snntorch_bayes as sb
        >>> from snntorch_bayes.training import fit
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> net = sb.BayesLinear(4, 3)
        >>> x, y = torch.randn(64, 4), torch.randint(0, 3, (64,))
        >>> batches = torch.arange(64).split(16)
        >>> result = fit(
        ...     net, torch.optim.Adam(net.parameters(), lr=1e-2), batches,
        ...     lambda idx: F.cross_entropy(net(x[idx]).sample(), y[idx]),
        ...     elbo=sb.ELBO(num_train=64),
        ... )
        >>> len(result.losses), result.diverged_at
        (4, None)

    :param batches: any iterable; each item is handed to ``loss_fn`` as is
        (index tensors, ``(data, targets)`` pairs, ...)
    :param loss_fn: the data loss of one batch (moving it to the device is
        its business)
    :param elbo: adds :math:`\lambda_t\,\mathrm{KL}/N` (see
        :class:`~snntorch_bayes.inference.ELBO`); None trains on the data loss
    :param max_steps: stop after this many steps (None: every batch)
    :param before_step: called between the backward pass and the optimiser
        step, once the gradients are known to be finite (to log gradient
        norms, say)
    :param after_step: called with ``(step, objective)`` after every step
    :param stop_on_divergence: at a non-finite number, stop and record it in
        the result (True, the default), or raise the ``FloatingPointError``
        with the step appended
    :returns: an :class:`EpochResult`; each step's seconds count the loss,
        the backward pass and the optimiser step, not fetching the batch
    """
    net.train()
    result = EpochResult()
    for step, batch in enumerate(batches):
        if max_steps is not None and step == max_steps:
            break
        started = time.perf_counter()
        loss = loss_fn(batch)
        if elbo is not None:
            loss = elbo(loss, net, step)
        try:
            guarded_step(loss, optimizer, net, before_step)
        except FloatingPointError as err:
            if not stop_on_divergence:
                raise FloatingPointError(f"{err} at step {step}") from None
            result.diverged_at, result.error = step, str(err)
            break
        result.step_seconds.append(time.perf_counter() - started)
        result.losses.append(loss.item())
        if after_step is not None:
            after_step(step, result.losses[-1])
    return result


@torch.no_grad()
def stacked_logits(
    forward: Callable[[torch.Tensor], torch.Tensor],
    net: nn.Module,
    x: torch.Tensor,
    num_samples: int = 0,
    batch_size: int = 1000,
) -> torch.Tensor:
    """The logits ``[K, N, C]`` of ``forward(chunk)`` over ``x`` in chunks of
    ``batch_size``, in ``eval()`` mode: one deployed pass (``K = 1``,
    ``num_samples=0``: posterior means, deterministic thresholds, BatchNorm's
    running statistics) or ``K = num_samples`` sampled passes
    (:func:`~snntorch_bayes.inference.mc_logits`), ready for
    :func:`~snntorch_bayes.calibration.bayesian_model_average`.  Leaves
    ``net`` in ``eval()`` mode.

    Example::

        >>> import torch
        >>> import snntorch_bayes as sb
        >>> from snntorch_bayes.training import stacked_logits
        >>> net = torch.nn.Sequential(
        ...     sb.BayesLinear(4, 8), sb.VariationalLeaky(0.0, init_hidden=True),
        ...     torch.nn.Linear(8, 3),
        ... )
        >>> x = torch.randn(10, 4)
        >>> stacked_logits(net, net, x).shape
        torch.Size([1, 10, 3])
        >>> stacked_logits(net, net, x, num_samples=5, batch_size=4).shape
        torch.Size([5, 10, 3])
    """
    net.eval()
    out = []
    for chunk in x.split(batch_size):
        if num_samples:
            out.append(mc_logits(lambda c=chunk: forward(c), net, num_samples))
        else:
            out.append(forward(chunk).unsqueeze(0))
    return torch.cat(out, 1)


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
    (plus the KL term of ``elbo``), backward, optimiser step (:func:`fit` on
    the loader's ``(data, targets)`` batches); each step timed (wall clock,
    including the data transfer, excluding loading).  A non-finite number
    raises ``FloatingPointError`` naming the step."""
    device = next(net.parameters()).device
    total = len(loader) if max_batches is None else min(max_batches, len(loader))
    bar = _progress(loader, total, desc, progress)

    def loss_fn(batch) -> torch.Tensor:
        data, targets = batch
        _, mem_rec = net(data.to(device))
        return membrane_ce_loss(mem_rec, targets.to(device))

    def show(step: int, loss: float) -> None:
        if progress and step % 20 == 0:
            bar.set_postfix(loss=f"{loss:.3f}")

    return fit(
        net,
        optimizer,
        bar,
        loss_fn,
        elbo=elbo,
        max_steps=total,
        after_step=show,
        stop_on_divergence=False,
    )


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
