"""Depth sweep of normalisation-free residual networks (theory.md §6).

The claim under test: with posterior noise, the KL term and IW-ST, a deep
residual binary or spiking network trains *without* normalisation, whereas a
deterministic surrogate-gradient network of the same depth without
normalisation degrades.  Three variants of the same architecture
(:class:`snntorch_bayes.models.BinaryResNet` and
:class:`~snntorch_bayes.models.SpikingResNet`), at several depths (residual
blocks), several seeds:

* ``SBNN``: ``variational=True, batch_norm=False``, trained on the ELBO
  (data term + KL/N), scored deployed (posterior means, deterministic
  thresholds) and as a model average of ``mc_samples`` sampled passes;
* ``surrogate``: ``variational=False, batch_norm=False`` (the models'
  default surrogate gradient), cross-entropy;
* ``surrogate + BatchNorm``: the same with BatchNorm, the reference.

At a given seed the three variants (and every depth) see the same batches in
the same order and are built after the same ``torch.manual_seed``.  Adam at a
fixed learning rate, a fixed number of steps per run ("same budget").  The
binary ResNet is trained on the cross-entropy of its logits; the spiking
ResNet on the membrane cross-entropy summed over time
(:func:`snntorch_bayes.training.membrane_ce_loss`), scored on the
time-averaged output membrane.

Recorded per run: test accuracy, NLL and ECE (deployed; for the SBNN also the
model average), the norm of the weight gradient reaching the first layer
(``net.first_layer``) at the first step and averaged over training, the mean
firing rate of the hidden neurons (fraction of spikes, during training and
deployed on the test set), for the SBNN the mean firing probability
:math:`\\pi` (:func:`snntorch_bayes.record_firing`), the training-loss curve,
the step at which the loss became non-finite (if it did) and the wall time.

CPU budget (the default, full mode): about 50 minutes of wall clock on the
project's 2-core machine shared with three other jobs (load average ~5), one
torch thread.  Per-step times measured there first (batch 128, one thread,
SBNN / surrogate / surrogate + BatchNorm, depth 4 → 32):

=============================== ================= ============= ===============
network                         SBNN (ms)         surrogate     + BatchNorm
=============================== ================= ============= ===============
binary, linear blocks, w 128    41 → 301          21 → 77       11 → 81
binary, conv blocks, w 32       129 → 1553        70 → 485      98 → 650
spiking T=4, linear, w 128      113 → 878         33 → 317      35 → 282
spiking T=4, conv, w 16         467 → 3211        165 → 813     192 → 1365
=============================== ================= ============= ===============

so the CPU sweep uses *linear* residual blocks (width 128) on flattened
images; convolutional blocks are the GPU preset's (``full_scale.py``).  The
grid (``GRID``): depths 4 / 8 / 16 / 32 blocks, seeds 0 / 1 / 2, the three
variants; a 20,000-example training subset and a 5,000-example test subset
(fixed, seed 0) of each dataset; batch 128, Adam 1e-3; Fashion-MNIST binary
300 steps (~1.9 epochs of the subset), CIFAR-10 binary 200 steps, Fashion-MNIST
spiking (``T = 4``, ``Leaky``) 150 steps; SBNN model average of 4 passes.
Runs go depth by depth (all seeds and variants of a depth before the next), so
a sweep cut short by ``--time-limit`` leaves whole depths; ``--resume``
finishes it.  The committed sweep (108 runs) took 23 minutes of wall clock
(03:46-04:09 UTC on 2026-11-30, the machine less loaded than when timed; a
first pass under load ~5 took 37 minutes).  These are *short-budget* numbers:
they compare the variants at equal (small) budget, not the models' attainable
accuracy.  ``train_loss_end`` and ``loss_curve`` are the minimised objective:
for the SBNN the data term plus KL/N, so they are not comparable across
variants; ``nll`` (test) is.

    python benchmarks/depth_sweep.py                 # full CPU-budget sweep
    python benchmarks/depth_sweep.py --resume        # skip runs already in the CSV
    python benchmarks/depth_sweep.py --quick --out-dir /tmp/ds   # smoke test (seconds)
    python benchmarks/depth_sweep.py --only fashion-mnist/binary --device cuda

Outputs (in ``--out-dir``, default ``benchmarks/results``):
``depth_sweep_runs.csv`` (one row per run, written after every run),
``depth_sweep_summary.csv`` (mean ± std over seeds per dataset / model /
variant / depth) and ``depth_sweep.png`` (accuracy, first-layer gradient norm
and firing rate against depth), every row starting with
``_results.provenance()`` (date, machine, torch, command).  ``--quick`` runs a
tiny grid on a few hundred examples and writes to a temporary folder unless
``--out-dir`` is given.

Data: Fashion-MNIST and "CIFAR-10 (JPEG copy)" through
:mod:`snntorch_bayes.datasets` (local copies from ``$SNNTORCH_BAYES_*``, which
``scripts/local_data.sh`` points at the project's staged data; torchvision's
download otherwise).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import math
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from _results import RESULTS, device_name, provenance, resolve_device, save_figure, write_csv
from torch import nn

import snntorch_bayes as sb
from snntorch_bayes import calibration, datasets, deep
from snntorch_bayes.layers import Variational
from snntorch_bayes.training import fit, membrane_ce_loss, stacked_logits

ROOT = Path(__file__).resolve().parents[1]

#: First 12 hex digits of the SHA-256 of snntorch_bayes/models.py as imported
#: (recorded with every run: the models were under development).
MODELS_SHA = hashlib.sha256((ROOT / "snntorch_bayes" / "models.py").read_bytes()).hexdigest()[:12]

#: The three variants: keyword arguments of the model constructors.
VARIANTS: dict[str, dict[str, bool]] = {
    "SBNN": {"variational": True, "batch_norm": False},
    "surrogate": {"variational": False, "batch_norm": False},
    "surrogate + BatchNorm": {"variational": False, "batch_norm": True},
}
#: the learning rates of ``--recipe`` runs: the SBNN's and the unnormalised
#: twin's are those chosen on validation for the plain 6-layer MLPs of the
#: recipe study (``docs/recipe.md`` §4), reused without re-tuning; the
#: BatchNorm twin's was chosen on validation (10,000 training images outside
#: the sweep's subset, 32 blocks, seed 0) from {1e-3, 3e-3}, together with its
#: initialisation: PyTorch's (shift 0, gain 1; 83.6 %) was best, centring the
#: shift at the threshold with gain 1 / 0.25 / 0.04 gave 83.2 / 83.4 / 83.1 %
RECIPE_LR: dict[str, float] = {
    "SBNN": deep.LEARNING_RATES["sbnn"],
    "surrogate": deep.LEARNING_RATES["fast_sigmoid"],
    "surrogate + BatchNorm": 3e-3,
}
DATASETS = ("fashion-mnist", "cifar10", "fsdd")
#: How results name the datasets (the CIFAR-10 copy is JPEG-compressed).
DISPLAY = {
    "fashion-mnist": "Fashion-MNIST",
    "cifar10": "CIFAR-10 (JPEG copy)",
    "fsdd": "spike-encoded FSDD",
}
MODELS = ("binary", "spiking")


@dataclasses.dataclass(frozen=True)
class Setting:
    """The budget of one (dataset, model) part of the grid.

    ``num_steps`` is the spiking network's ``T`` (1 for the binary one);
    ``steps`` the Adam steps of every run; ``train_size`` / ``test_size`` the
    (fixed, seeded) subsets of the splits used."""

    dataset: str
    model: str
    depths: tuple[int, ...]
    seeds: tuple[int, ...]
    steps: int
    width: int
    block: str
    train_size: int
    test_size: int
    batch_size: int = 128
    num_steps: int = 1
    neuron: str = "leaky"
    lr: float = 1e-3
    mc_samples: int = 8
    intrinsic_noise: float = 0.0
    residual_gain: float | None = None
    #: the recipe (``docs/recipe.md``): :func:`snntorch_bayes.initialize` on
    #: a batch of ``init_batch`` training examples before the first step (the
    #: SBNN with its defaults, the unnormalised twin at
    #: :data:`~snntorch_bayes.deep.TWIN_SPREAD`; the BatchNorm twin as built)
    #: and each variant's learning rate from :data:`RECIPE_LR` instead of ``lr``
    recipe: bool = False
    init_batch: int = 512
    #: ``(variant, lr)`` pairs that override the learning rate of those
    #: variants (a learning-rate screen, or rates chosen for this setting)
    lrs: tuple[tuple[str, float], ...] = ()
    #: score on ``test_size`` training examples outside the training subset
    #: (a validation split, for choosing) instead of the test split
    validation: bool = False
    #: the ``initialize`` spread of the unnormalised twin in ``recipe`` runs
    twin_spread: float = deep.TWIN_SPREAD

    def learning_rate(self, variant: str) -> float:
        """Adam's step for ``variant``."""
        chosen = dict(self.lrs)
        if variant in chosen:
            return chosen[variant]
        return RECIPE_LR[variant] if self.recipe else self.lr

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.model}"

    @property
    def config(self) -> str:
        """Everything but depth, seed and variant that defines a run: a resume
        skips a run only if its row has the same config."""
        spiking = f"-T{self.num_steps}-{self.neuron}" if self.model == "spiking" else ""
        if self.intrinsic_noise:
            spiking += f"-noise{self.intrinsic_noise:g}"
        if self.residual_gain is not None:
            spiking += f"-gain{self.residual_gain:g}"
        lr = f"recipe-init{self.init_batch}" if self.recipe else f"lr{self.lr:g}"
        if self.recipe and self.twin_spread != deep.TWIN_SPREAD:
            lr += f"-spread{self.twin_spread:g}"
        if self.lrs:
            lr += "-lrs(" + ",".join(f"{v}={rate:g}" for v, rate in self.lrs) + ")"
        scored = f"val{self.test_size}" if self.validation else f"test{self.test_size}"
        return (
            f"{self.block}-w{self.width}{spiking}-steps{self.steps}-bs{self.batch_size}"
            f"-n{self.train_size}-{scored}-{lr}-mc{self.mc_samples}"
        )


# The CPU-budget grid (full mode), sized from per-step times measured on the
# 2-core machine.  Edit here, not in the code below.
GRID: tuple[Setting, ...] = (
    Setting(
        "fashion-mnist", "binary", (4, 8, 16, 32), (0, 1, 2), steps=300, width=128,
        block="linear", train_size=20000, test_size=5000, mc_samples=4,
    ),
    Setting(
        "cifar10", "binary", (4, 8, 16, 32), (0, 1, 2), steps=200, width=128,
        block="linear", train_size=20000, test_size=5000, mc_samples=4,
    ),
    Setting(
        "fashion-mnist", "spiking", (4, 8, 16, 32), (0, 1, 2), steps=150, width=128,
        block="linear", train_size=20000, test_size=5000, num_steps=4, mc_samples=4,
    ),
)  # fmt: skip

QUICK_GRID: tuple[Setting, ...] = (
    Setting(
        "fashion-mnist", "binary", (2, 4), (0,), steps=3, width=16, block="linear",
        train_size=256, test_size=128, batch_size=32, mc_samples=2,
    ),
    Setting(
        "fashion-mnist", "spiking", (2,), (0,), steps=2, width=16, block="linear",
        train_size=256, test_size=128, batch_size=32, num_steps=2, mc_samples=2,
    ),
)  # fmt: skip


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


def load_split(
    dataset: str, train: bool, size: int, data_root: str | None, num_steps: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random subset (seed 0) of ``size`` examples of a split, as
    float tensors: images in [0, 1] ``[N, C, H, W]``, or for ``"fsdd"``
    spike-encoded recordings binned into ``num_steps`` frames of event counts
    ``[N, T, 1, 1, 2 * 64]``; labels ``[N]``."""
    if dataset == "fashion-mnist":
        split = datasets.fashion_mnist(data_root, train=train)
        images = torch.as_tensor(split.data).unsqueeze(1)
    elif dataset == "cifar10":
        split = datasets.cifar10(data_root, train=train)
        images = torch.as_tensor(split.data).permute(0, 3, 1, 2)
    elif dataset == "fsdd":
        return fsdd_frames(train, num_steps, data_root, size)
    else:
        raise ValueError(f"unknown dataset {dataset!r}; choose from {DATASETS}")
    labels = torch.as_tensor(split.targets)
    pick = _subset(len(labels), size, dataset)
    return images[pick].float().div_(255), labels[pick].long()


def _subset(n: int, size: int, dataset: str) -> torch.Tensor:
    """``size`` of ``n`` indices, in a fixed random order (seed 0)."""
    if size > n:
        raise ValueError(f"{dataset} has {n} examples, {size} requested")
    return torch.randperm(n, generator=torch.Generator().manual_seed(0))[:size]


def fsdd_frames(
    train: bool, num_steps: int, data_root: str | None, size: int, channels: int = 64
) -> tuple[torch.Tensor, torch.Tensor]:
    """A fixed random subset (seed 0) of ``size`` recordings of a split of
    :class:`~snntorch_bayes.datasets.SpikingFSDD` (spike-encoded Free Spoken
    Digits), binned by tonic's ``ToFrame`` into ``num_steps`` frames of event
    counts ``[N, T, 1, 1, 2 * channels]``; encoded once and cached in
    ``<data root>/FSDD/``."""
    root = datasets.data_root(data_root)
    split = "train" if train else "test"
    cache = root / "FSDD" / f"frames-{split}-c{channels}-T{num_steps}-n{size}.pt"
    if cache.is_file():
        saved = torch.load(cache, weights_only=True)
        return saved["x"], saved["y"]
    import tonic

    to_frames = tonic.transforms.ToFrame(
        sensor_size=datasets.SpikingFSDD.sensor_size(channels), n_time_bins=num_steps
    )
    data = datasets.SpikingFSDD(
        data_root,
        train=train,
        transform=to_frames,
        num_channels=channels,
    )
    pick = _subset(len(data), size, "fsdd").tolist()
    frames = [torch.as_tensor(data[i][0], dtype=torch.float32) for i in pick]
    x = torch.stack([f.reshape(num_steps, 1, 1, -1) for f in frames])
    y = torch.tensor([data.targets[i] for i in pick])
    cache.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"x": x, "y": y}, cache)
    return x, y


def batch_order(seed: int, n: int, steps: int, batch_size: int) -> torch.Tensor:
    """``[steps, batch_size]`` example indices: reshuffled epochs of ``n``
    examples from a generator seeded by ``seed``; identical for every variant
    and depth at a seed."""
    g = torch.Generator().manual_seed(seed)
    epochs = math.ceil(steps * batch_size / n)
    order = torch.cat([torch.randperm(n, generator=g) for _ in range(epochs)])
    return order[: steps * batch_size].view(steps, batch_size)


# --------------------------------------------------------------------------
# models and measurements
# --------------------------------------------------------------------------


def build(setting: Setting, variant: str, depth: int, seed: int, in_shape) -> nn.Module:
    """The model of a run, built right after ``torch.manual_seed(seed)``."""
    from snntorch_bayes.models import BinaryResNet, SpikingResNet

    kwargs = dict(
        in_shape=tuple(in_shape),
        num_classes=10,
        depth=depth,
        width=setting.width,
        block=setting.block,
        **VARIANTS[variant],
    )
    if VARIANTS[variant]["variational"] and setting.intrinsic_noise:
        kwargs["intrinsic_noise"] = setting.intrinsic_noise
    torch.manual_seed(seed)
    if setting.model == "binary":
        net = BinaryResNet(**kwargs)
    else:
        net = SpikingResNet(**kwargs, num_steps=setting.num_steps, neuron=setting.neuron)
    if setting.residual_gain is not None:  # ablation of the models' 1/sqrt(depth) scaling
        with torch.no_grad():
            for block in net.blocks:
                block.gain.fill_(setting.residual_gain)
    return net


def _tensor(out) -> torch.Tensor:
    """A plain tensor from a model output (a Gaussian current is sampled)."""
    return out.sample() if isinstance(out, sb.GaussianCurrent) else out


def logits_and_loss(
    net: nn.Module, model: str, x: torch.Tensor, y: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Logits ``[B, classes]`` (the spiking net's time-averaged output
    membrane) and the data loss (``None`` without targets).  A batch of
    sequences ``[B, T, ...]`` is fed to the spiking net time-major."""
    if model == "binary":
        logits = _tensor(net(x))
        return logits, None if y is None else F.cross_entropy(logits, y)
    _, mem = net(x.transpose(0, 1) if x.dim() == 5 else x)
    mem = _tensor(mem)
    return mem.mean(0), None if y is None else membrane_ce_loss(mem, y)


def hidden_neurons(net: nn.Module) -> list[nn.Module]:
    """The hidden binary/spiking neuron layers of ``net``: every snnTorch
    neuron module (variational ones included) but a spiking network's output
    layer ``out``, whose spikes are the prediction."""
    import snntorch as snn

    return [
        m for name, m in net.named_modules() if isinstance(m, snn.SpikingNeuron) and name != "out"
    ]


@torch.no_grad()
def evaluate(
    net: nn.Module,
    model: str,
    x: torch.Tensor,
    y: torch.Tensor,
    mc_samples: int = 0,
    batch_size: int = 1000,
) -> dict[str, float]:
    """Deployed metrics (``eval()``: posterior means, deterministic
    thresholds, BatchNorm running statistics) and, with ``mc_samples``, those
    of the model average of that many sampled passes."""

    def logits(xb: torch.Tensor) -> torch.Tensor:
        return logits_and_loss(net, model, xb, None)[0]

    deployed = stacked_logits(logits, net, x, 0, batch_size).float().cpu()
    result = _metrics(deployed, y.cpu(), "")
    if mc_samples:
        averaged = stacked_logits(logits, net, x, mc_samples, batch_size).float().cpu()
        result.update(_metrics(averaged, y.cpu(), "_mc"))
    net.train()
    return result


def _metrics(logits: torch.Tensor, y: torch.Tensor, suffix: str) -> dict[str, float]:
    """Accuracy, NLL and ECE of the model average of ``logits`` ``[K, N, C]``;
    non-finite logits (a diverged run) give NaN NLL/ECE and the accuracy of
    their arg-max with NaN read as -inf."""
    if not torch.isfinite(logits).all():
        guess = torch.nan_to_num(logits.mean(0), nan=-math.inf).argmax(1)
        acc = (guess == y).float().mean().item()
        return {f"accuracy{suffix}": acc, f"nll{suffix}": math.nan, f"ece{suffix}": math.nan}
    probs = calibration.bayesian_model_average(logits)
    m = calibration.predictive_metrics(probs, y)
    return {f"accuracy{suffix}": m["accuracy"], f"nll{suffix}": m["nll"], f"ece{suffix}": m["ece"]}


def train_run(
    setting: Setting,
    variant: str,
    depth: int,
    seed: int,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    device: torch.device,
    log: Callable[[str], None] = print,
) -> dict:
    """Train one (variant, depth, seed) of ``setting`` and measure it."""
    x_train, y_train, x_test, y_test = data
    started = time.perf_counter()
    net = build(setting, variant, depth, seed, x_train.shape[-3:]).to(device)
    variational = VARIANTS[variant]["variational"]
    if setting.recipe and not VARIANTS[variant]["batch_norm"]:
        sb.initialize(
            net,
            x_train[: setting.init_batch].to(device),
            forward=lambda n, xb: logits_and_loss(n, setting.model, xb, None)[0],
            **({} if variational else {"spread": setting.twin_spread}),
        )
    elbo = sb.ELBO(num_train=setting.train_size) if variational else None
    optimizer = torch.optim.Adam(net.parameters(), lr=setting.learning_rate(variant))
    order = batch_order(seed, len(y_train), setting.steps, setting.batch_size)
    first = net.first_layer
    losses, grads, probs = [], [], []
    firing_start = math.nan
    with sb.record_firing(net, hidden_neurons(net), probabilities=False) as record_spikes:

        def loss_fn(idx: torch.Tensor) -> torch.Tensor:
            nonlocal firing_start
            idx = idx.to(x_train.device)
            xb, yb = x_train[idx].to(device), y_train[idx].to(device)
            if variational:
                with sb.record_firing(net) as record:
                    _, loss = logits_and_loss(net, setting.model, xb, yb)
                if record.probabilities:
                    probs.append(record.mean_firing_probability().item())
            else:
                _, loss = logits_and_loss(net, setting.model, xb, yb)
            if not losses:  # the first step (report fills losses after each)
                firing_start = record_spikes.mean_firing_rate().item()
            return loss

        def report(step: int, loss: float) -> None:
            losses.append(loss)
            if (step + 1) % max(1, setting.steps // 4) == 0:
                recent = statistics.fmean(losses[-20:])
                log(
                    f"    step {step + 1}/{setting.steps}: loss {recent:.4f}, "
                    f"first-layer grad {grads[-1]:.3g} ({time.perf_counter() - started:.0f} s)"
                )

        result = fit(
            net,
            optimizer,
            order,
            loss_fn,
            elbo=elbo,
            before_step=lambda: grads.append(_data_grad_norm(first, elbo, setting.train_size)),
            after_step=report,
        )
        diverged_at = -1 if result.diverged_at is None else result.diverged_at
        if result.error is not None:
            log(f"    {result.error} at step {diverged_at}: stopped")
        firing_train = record_spikes.mean_firing_rate().item()
        train_seconds = time.perf_counter() - started
        record_spikes.clear()
        mc_samples = setting.mc_samples if variational else 0
        metrics = evaluate(net, setting.model, x_test, y_test, mc_samples)
        firing_test = record_spikes.mean_firing_rate().item()
    tail = max(1, len(losses) // 10)
    return {
        "dataset": setting.dataset,
        "model": setting.model,
        "variant": variant,
        "depth": depth,
        "seed": seed,
        "config": setting.config,
        "device": device_name(device),
        **metrics,
        **(
            {} if variational else {"accuracy_mc": math.nan, "nll_mc": math.nan, "ece_mc": math.nan}
        ),
        "grad_norm_start": grads[0] if grads else math.nan,
        "grad_norm_mean": statistics.fmean(grads) if grads else math.nan,
        "grad_norm_end": statistics.fmean(grads[-tail:]) if grads else math.nan,
        "firing_rate_start": firing_start,
        "firing_rate": firing_train,
        "firing_rate_test": firing_test,
        "firing_prob": statistics.fmean(probs) if probs else math.nan,
        "train_loss_end": statistics.fmean(losses[-tail:]) if losses else math.nan,
        "diverged_at": diverged_at,
        "steps_done": len(losses),
        "train_seconds": round(train_seconds, 2),
        "seconds": round(time.perf_counter() - started, 2),
        "loss_curve": _curve(losses),
    }


def _data_grad_norm(first: nn.Module, elbo: sb.ELBO | None, num_train: int) -> float:
    """Norm of the gradient of the *data term* reaching ``first.weight``
    (after ``backward``): for an SBNN the KL term's own gradient on that
    layer, ``d(KL_first / N) / d weight``, is subtracted, so the number
    measures what flows back through the network, as for the twins."""
    grad = first.weight.grad
    if grad is None:
        return math.nan
    if elbo is not None and isinstance(first, Variational):
        with torch.enable_grad():
            kl = elbo.kl_weight() * first.kl_divergence() / num_train
            (kl_grad,) = torch.autograd.grad(kl, first.weight)
        grad = grad - kl_grad
    return grad.norm().item()


def _curve(losses: list[float], points: int = 20) -> str:
    """The training-loss curve as ``points`` window means, ``;``-separated."""
    if not losses:
        return ""
    size = max(1, len(losses) // points)
    means = [statistics.fmean(losses[i : i + size]) for i in range(0, len(losses), size)]
    return ";".join(f"{m:.4g}" for m in means)


# --------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------

#: Columns summarised as mean ± std over seeds.
SUMMARISED = (
    "accuracy",
    "nll",
    "accuracy_mc",
    "grad_norm_start",
    "grad_norm_mean",
    "firing_rate",
    "firing_rate_test",
    "firing_prob",
    "train_loss_end",
    "seconds",
)


def read_runs(path: Path) -> list[dict]:
    """Rows of an existing runs CSV (empty if there is none)."""
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def run_key(row: dict) -> tuple:
    return (
        row["dataset"],
        row["model"],
        row["variant"],
        int(row["depth"]),
        int(row["seed"]),
        row["config"],
    )


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def summarise(runs: list[dict]) -> list[dict]:
    """Mean and sample std over seeds (NaN-free values only; ``n`` counts
    runs, ``n_diverged`` those whose loss became non-finite) per dataset,
    model, variant, depth and config."""
    groups: dict[tuple, list[dict]] = {}
    for row in runs:
        key = (row["dataset"], row["model"], row["variant"], int(row["depth"]), row["config"])
        groups.setdefault(key, []).append(row)
    order = list(VARIANTS)
    summary = []
    for key in sorted(groups, key=lambda k: (_rank(k[0]), k[1], k[4], order.index(k[2]), k[3])):
        rows = groups[key]
        out = {
            "dataset": key[0],
            "model": key[1],
            "variant": key[2],
            "depth": key[3],
            "config": key[4],
            "n": len(rows),
            "n_diverged": sum(int(r["diverged_at"]) >= 0 for r in rows),
            "device": rows[0]["device"],
        }
        for col in SUMMARISED:
            values = [v for v in (_float(r.get(col)) for r in rows) if math.isfinite(v)]
            out[f"{col}_mean"] = statistics.fmean(values) if values else math.nan
            out[f"{col}_std"] = statistics.stdev(values) if len(values) > 1 else math.nan
        summary.append(out)
    return summary


def _gain(config: str) -> str:
    """The residual-gain ablation's value in a config ('' if none)."""
    return config.split("-gain")[1].split("-")[0] if "-gain" in config else ""


def _model_label(row: dict) -> str:
    gain = _gain(row["config"])
    return f"{row['model']} (residual gain {gain})" if gain else row["model"]


def _rank(dataset: str) -> tuple[int, str]:
    """Sort key: datasets in ``DATASETS`` order."""
    return (DATASETS.index(dataset) if dataset in DATASETS else len(DATASETS), dataset)


def _pm(row: dict, col: str, fmt: str) -> str:
    mean, std = row[f"{col}_mean"], row[f"{col}_std"]
    if not math.isfinite(mean):
        return "-"
    return f"{mean:{fmt}} ± {std:{fmt}}" if math.isfinite(std) else f"{mean:{fmt}}"


def format_table(summary: list[dict]) -> str:
    """The summary as a Markdown table (accuracy in %)."""
    head = (
        "| dataset | model | variant | depth | n | accuracy % | MC accuracy % | NLL "
        "| first-layer grad (mean) | first-layer grad (start) | firing rate | SBNN π |"
    )
    lines = [head, "|" + " --- |" * 12]
    for r in summary:
        pct = {
            f"{c}_{s}": 100 * r[f"{c}_{s}"]
            for c in ("accuracy", "accuracy_mc")
            for s in ("mean", "std")
        }
        n = f"{r['n']}" + (f" ({r['n_diverged']} div.)" if r["n_diverged"] else "")
        lines.append(
            f"| {DISPLAY.get(r['dataset'], r['dataset'])} | {_model_label(r)} | {r['variant']} "
            f"| {r['depth']} | {n} "
            f"| {_pm(pct, 'accuracy', '.1f')} | {_pm(pct, 'accuracy_mc', '.1f')} "
            f"| {_pm(r, 'nll', '.3f')} | {_pm(r, 'grad_norm_mean', '.3g')} "
            f"| {_pm(r, 'grad_norm_start', '.3g')} | {_pm(r, 'firing_rate', '.3f')} "
            f"| {_pm(r, 'firing_prob', '.3f')} |"
        )
    return "\n".join(lines)


#: one colour per variant in every panel (matplotlib's first three)
COLORS = ("C0", "C1", "C2")


def plot(summary: list[dict], path: Path, title: str = "") -> Path:
    """Accuracy, first-layer gradient norm and hidden firing rate against
    depth (mean ± std over seeds), one row per (dataset, model)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = sorted(
        {(r["dataset"], r["model"], r["config"]) for r in summary},
        key=lambda part: (_rank(part[0]), part[1], part[2]),
    )
    fig, axes = plt.subplots(len(parts), 3, figsize=(13, 3.3 * len(parts)), squeeze=False)
    panels = (
        ("accuracy", "test accuracy (deployed)", 100.0, False),
        ("grad_norm_mean", "first-layer grad norm (mean)", 1.0, True),
        ("firing_rate", "hidden firing rate (train)", 1.0, False),
    )
    for row_axes, (dataset, model, config) in zip(axes, parts, strict=True):
        for ax, (col, label, scale, log) in zip(row_axes, panels, strict=True):
            for variant, marker, color in zip(VARIANTS, "osD", COLORS, strict=True):
                rows = [
                    r
                    for r in summary
                    if (r["dataset"], r["model"], r["config"], r["variant"])
                    == (dataset, model, config, variant)
                ]
                if not rows:
                    continue
                depth = [r["depth"] for r in rows]
                mean = [scale * r[f"{col}_mean"] for r in rows]
                std = [
                    scale * (r[f"{col}_std"] if math.isfinite(r[f"{col}_std"]) else 0.0)
                    for r in rows
                ]
                ax.errorbar(
                    depth, mean, yerr=std, marker=marker, color=color, capsize=3, label=variant
                )
            ax.set_xscale("log", base=2)
            if log:
                ax.set_yscale("log")
            ax.set_xlabel("residual blocks")
            ax.set_ylabel(label)
            gain = _gain(config)
            extra = f", residual gain {gain}" if gain else ""
            if "-spread" in config or "-lrs(" in config:
                extra += ", rates tuned for this row"
            name = DISPLAY.get(dataset, dataset)
            ax.set_title(f"{name}, {model} ResNet{extra}", fontsize=9)
        row_axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return save_figure(fig, path)


#: a number as ``f"{x:g}"`` writes it
_NUMBER = r"[0-9.]+(?:e[+-]?[0-9]+)?"


def run_rate(row: dict) -> float:
    """The Adam step a run trained with, read back from its config: its
    variant's ``lrs(...)`` entry, else the recipe's rate or the grid's ``lr``."""
    config = row["config"]
    chosen = re.search(r"-lrs\((.*)\)", config)
    for item in chosen.group(1).split(",") if chosen else ():
        variant, _, rate = item.rpartition("=")
        if variant == row["variant"]:
            return float(rate)
    if "-recipe-" in config:
        return RECIPE_LR[row["variant"]]
    return float(re.search(rf"-lr({_NUMBER})", config).group(1))


def plot_screen(runs: list[dict], path: Path) -> Path:
    """A learning-rate screen: validation accuracy against the Adam step, one
    line per variant (and ``initialize`` spread, and start), one panel per
    (dataset, model, depth); seeds averaged."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    parts = sorted(
        {(r["dataset"], r["model"], int(r["depth"])) for r in runs},
        key=lambda part: (_rank(part[0]), part[1], part[2]),
    )

    def line(r: dict) -> str:
        label = r["variant"]
        kind = VARIANTS[r["variant"]]
        if not (kind["variational"] or kind["batch_norm"]):  # the unnormalised twin
            spread = re.search(rf"-spread({_NUMBER})", r["config"])
            if "-recipe-" not in r["config"]:
                label += ", PyTorch's start"
            else:
                label += f", spread {spread.group(1) if spread else f'{deep.TWIN_SPREAD:g}'}"
        return label

    colours = {label: f"C{i}" for i, label in enumerate(sorted({line(r) for r in runs}))}
    fig, axes = plt.subplots(1, len(parts), figsize=(6 * len(parts), 4), squeeze=False)
    for ax, (dataset, model, depth) in zip(axes[0], parts, strict=True):
        lines: dict[str, dict[float, list[float]]] = {}
        for r in runs:
            if (r["dataset"], r["model"], int(r["depth"])) == (dataset, model, depth):
                points = lines.setdefault(line(r), {})
                points.setdefault(run_rate(r), []).append(100 * _float(r["accuracy"]))
        for label, points in sorted(lines.items()):
            rates = sorted(points)
            means = [statistics.fmean(points[x]) for x in rates]
            ax.plot(rates, means, marker="o", color=colours[label], label=label)
        ax.set_xscale("log")
        ax.set_xlabel("Adam step")
        ax.set_ylabel("validation accuracy (%)")
        ax.set_title(f"{DISPLAY.get(dataset, dataset)}, {model} ResNet, {depth} blocks", fontsize=9)
        ax.legend(fontsize=7)
    return save_figure(fig, path)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="smoke test: tiny grid, seconds")
    p.add_argument("--out-dir", type=Path, help="default benchmarks/results (quick: a temp dir)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto. Defaults to auto")
    p.add_argument("--resume", action="store_true", help="skip runs already in the runs CSV")
    p.add_argument("--only", nargs="+", metavar="DATASET/MODEL", help="e.g. fashion-mnist/binary")
    p.add_argument("--seeds", type=int, nargs="+", help="override every setting's seeds")
    p.add_argument("--depths", type=int, nargs="+", help="override every setting's depths")
    p.add_argument("--steps", type=int, help="override every setting's Adam steps")
    p.add_argument("--threads", type=int, help="torch.set_num_threads")
    p.add_argument("--data-root", help="data root (default $SNNTORCH_BAYES_DATA or ./data)")
    p.add_argument("--time-limit", type=float, help="minutes: start no run after this")
    p.add_argument(
        "--residual-gain",
        type=float,
        help="ablation: initial gain of every residual branch (the models use 1/sqrt(depth))",
    )
    p.add_argument(
        "--recipe",
        action="store_true",
        help="initialize the unnormalised variants and use RECIPE_LR (docs/recipe.md); "
        "results go to depth_sweep_recipe_*",
    )
    p.add_argument("--variants", nargs="+", choices=list(VARIANTS), help="run only these")
    p.add_argument(
        "--lr",
        action="append",
        default=[],
        metavar="VARIANT=RATE",
        help="Adam's step of a variant (repeatable), e.g. 'surrogate=1e-3'",
    )
    p.add_argument("--twin-spread", type=float, help="the unnormalised twin's initialize spread")
    p.add_argument(
        "--validation",
        action="store_true",
        help="score on a validation split carved from the training set (for choosing); "
        "results go to <name>_screen_*",
    )
    return p.parse_args(argv)


def _lrs(pairs: list[str]) -> tuple[tuple[str, float], ...]:
    """``--lr VARIANT=RATE`` pairs, checked."""
    out = []
    for pair in pairs:
        variant, _, rate = pair.rpartition("=")
        if variant not in VARIANTS:
            raise SystemExit(f"--lr {pair!r}: the variant must be one of {list(VARIANTS)}")
        try:
            value = float(rate)
        except ValueError:
            raise SystemExit(f"--lr {pair!r}: {rate!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise SystemExit(f"--lr {pair!r}: the rate must be a finite number > 0")
        out.append((variant, value))
    return tuple(out)


def select_grid(args: argparse.Namespace, grid: Iterable[Setting]) -> list[Setting]:
    """The settings of ``grid`` filtered by ``--only`` and overridden by
    ``--seeds`` / ``--depths`` / ``--steps``."""
    chosen = []
    for s in grid:
        if args.only and s.key not in args.only:
            continue
        changes = {}
        if args.seeds:
            changes["seeds"] = tuple(args.seeds)
        if args.depths:
            changes["depths"] = tuple(args.depths)
        if args.steps:
            changes["steps"] = args.steps
        if args.residual_gain is not None:
            changes["residual_gain"] = args.residual_gain
        if args.recipe:
            changes["recipe"] = True
        if args.lr:
            changes["lrs"] = _lrs(args.lr)
        if args.twin_spread is not None:
            changes["twin_spread"] = args.twin_spread
        if args.validation:
            changes["validation"] = True
        chosen.append(dataclasses.replace(s, **changes))
    if not chosen:
        raise SystemExit(f"--only {args.only} matches none of {[s.key for s in grid]}")
    return chosen


def run_grid(
    settings: list[Setting],
    out_dir: Path,
    device: torch.device,
    data_root: str | None = None,
    resume: bool = False,
    time_limit: float | None = None,
    title: str = "",
    name: str = "depth_sweep",
    variants: Iterable[str] | None = None,
) -> list[dict]:
    """Run every (setting, seed, depth, variant) not yet done (``variants``:
    only those), writing the runs CSV after each run and the summary and plot
    at the end; returns the summary rows."""
    variants = list(VARIANTS if variants is None else variants)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs_path = out_dir / f"{name}_runs.csv"
    runs = read_runs(runs_path) if resume else []
    done = {run_key(r) for r in runs}
    other = sorted({r.get("models_sha", "?") for r in runs} - {MODELS_SHA})
    if other:
        print(
            f"warning: {runs_path} holds runs made with another models.py (sha {other}, now "
            f"{MODELS_SHA}); they are kept and not rerun: drop --resume if the change matters",
            flush=True,
        )
    started = time.perf_counter()
    total = sum(len(s.seeds) * len(s.depths) * len(variants) for s in settings)
    index = 0
    stopped = False
    for setting in settings:
        data = None
        # depth-major: an interrupted sweep has every seed of the depths it did
        for depth in setting.depths:
            for seed in setting.seeds:
                for variant in variants:
                    index += 1
                    key = (setting.dataset, setting.model, variant, depth, seed, setting.config)
                    if key in done:
                        continue
                    elapsed = (time.perf_counter() - started) / 60
                    if time_limit is not None and elapsed > time_limit:
                        stopped = True
                        break
                    if data is None:
                        data = tuple(t.to(device) for t in _load(setting, data_root))
                    print(
                        f"[{index}/{total}] {setting.key} {variant}, depth {depth}, seed {seed} "
                        f"({elapsed:.1f} min elapsed)",
                        flush=True,
                    )
                    row = train_run(setting, variant, depth, seed, data, device, _log)
                    mc = 100 * _float(row["accuracy_mc"])
                    print(
                        f"    accuracy {100 * row['accuracy']:.2f} % (MC {mc:.2f} %), "
                        f"NLL {row['nll']:.3f}, grad {row['grad_norm_mean']:.3g}, "
                        f"firing {row['firing_rate']:.3f}, {row['seconds']:.0f} s",
                        flush=True,
                    )
                    runs.append({**provenance(), **row, "models_sha": MODELS_SHA})
                    write_csv(runs_path, runs)
                if stopped:
                    break
            if stopped:
                break
        if stopped:
            print(f"time limit of {time_limit} min reached: rerun with --resume", flush=True)
            break
    if not runs:
        raise SystemExit("no runs to summarise")
    summary = summarise(runs)
    prov = provenance()
    summary_path, plot_path = out_dir / f"{name}_summary.csv", out_dir / f"{name}.png"
    write_csv(summary_path, [{**prov, **r} for r in summary])
    if any(s.validation for s in settings):
        plot_screen(runs, plot_path)
    else:
        plot(summary, plot_path, title)
    print(format_table(summary))
    print(f"wrote {runs_path}, {summary_path}, {plot_path}")
    return summary


def _log(message: str) -> None:
    print(message, flush=True)


def _load(setting: Setting, data_root: str | None):
    t0 = time.perf_counter()
    T = setting.num_steps
    if setting.validation:  # the next test_size examples of the same fixed order
        n = setting.train_size
        x, y = load_split(setting.dataset, True, n + setting.test_size, data_root, T)
        x_train, y_train, x_test, y_test = x[:n], y[:n], x[n:], y[n:]
    else:
        x_train, y_train = load_split(setting.dataset, True, setting.train_size, data_root, T)
        x_test, y_test = load_split(setting.dataset, False, setting.test_size, data_root, T)
    scored = "validation" if setting.validation else "test"
    print(
        f"{setting.dataset}: {len(y_train)} training / {len(y_test)} {scored} examples "
        f"{tuple(x_train.shape[1:])} ({time.perf_counter() - t0:.1f} s)",
        flush=True,
    )
    return x_train, y_train, x_test, y_test


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    settings = select_grid(args, QUICK_GRID if args.quick else GRID)
    out_dir = args.out_dir
    if out_dir is None:
        out_dir = Path(tempfile.mkdtemp(prefix="depth_sweep_")) if args.quick else RESULTS
    print(f"device: {device_name(device)}; output: {out_dir}", flush=True)
    for s in settings:
        print(f"  {s.key}: depths {s.depths}, seeds {s.seeds}, {s.config}", flush=True)
    try:
        name = "depth_sweep_recipe" if args.recipe else "depth_sweep"
        if args.validation:
            name += "_screen"
        run_grid(
            settings,
            out_dir,
            device,
            args.data_root,
            args.resume,
            args.time_limit,
            name=name,
            variants=args.variants,
        )
    except datasets.DatasetNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
