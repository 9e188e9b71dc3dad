r"""Deep plain binary networks: the SBNN against its fair deterministic twins.

This is the comparison behind the main job's second table and behind
``benchmarks/sbnn_recipe.py`` (``docs/recipe.md``): Fashion-MNIST, a binary
MLP of ``depth`` hidden layers (one time step, ``beta=0``, so every hidden
unit is a noisy binary neuron, :math:`z = \mathbb 1[u \ge \theta]`) and a
linear readout, trained three ways from the same ``torch.manual_seed``, on
the same batches in the same order, with Adam:

* ``"sbnn"``: :class:`~snntorch_bayes.layers.BayesLinear` +
  :class:`~snntorch_bayes.neurons.VariationalLeaky` with the library's
  defaults, loss :class:`~snntorch_bayes.inference.ELBO` (defaults), after
  :func:`~snntorch_bayes.init.initialize` on one training batch;
* ``"fast_sigmoid"``: ``nn.Linear`` + ``snn.Leaky`` with snnTorch's
  ``fast_sigmoid(slope=25)``, given the same ``initialize`` start (its
  ``spread`` chosen on validation: :data:`TWIN_SPREAD`);
* ``"fast_sigmoid + BatchNorm"``: ``BatchNorm1d`` before every binary
  layer, its shift :math:`\beta` started at the threshold (so every unit
  starts at :math:`\pi = \tfrac12`, the start ``initialize`` gives the
  others) and its gain :math:`\gamma` at :data:`BN_GAMMA`, chosen on
  validation.  PyTorch's default (:math:`\beta = 0, \gamma = 1`) leaves
  the units at :math:`\pi \approx 0.16` under snnTorch's threshold of 1 and
  gave 67.9 % validation accuracy at 6 layers against 82.2 % centred
  (``docs/recipe.md`` §4).

A validation split is carved from the training set with a fixed
permutation; select on it and read the test set once.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator

import snntorch as snn
import torch
import torch.nn.functional as F
from torch import nn

from snntorch_bayes import calibration, datasets
from snntorch_bayes._checks import check_int
from snntorch_bayes.gaussian import GaussianCurrent
from snntorch_bayes.inference import ELBO, mixture_cross_entropy, model_kl
from snntorch_bayes.init import initialize, measure
from snntorch_bayes.layers import BayesLinear
from snntorch_bayes.models import FastSigmoid
from snntorch_bayes.neurons import DetachedDeepCopy, VariationalLeaky
from snntorch_bayes.training import fit, stacked_logits

__all__ = [
    "BN_GAMMA",
    "LEARNING_RATES",
    "METHODS",
    "TWIN_SPREAD",
    "BinaryMLP",
    "batches",
    "load_fashion_mnist",
    "score",
    "train_run",
]

#: the three methods compared, in table order
METHODS = ("sbnn", "fast_sigmoid", "fast_sigmoid + BatchNorm")
#: the ``initialize`` spread of the ``fast_sigmoid`` twin, chosen on validation
#: from {1, 0.25, 0.1, 0.04} (``docs/recipe.md`` §4): about the width 1/25 of
#: its surrogate
TWIN_SPREAD = 0.04
#: the BatchNorm twin's initial gain, chosen on validation from {1, 0.25,
#: 0.04} with the shift at the threshold (``docs/recipe.md`` §4)
BN_GAMMA = 0.25
#: each method's learning rate, chosen on validation from {3e-4, 1e-3, 3e-3}
#: (``docs/recipe.md`` §4)
LEARNING_RATES = {"sbnn": 1e-3, "fast_sigmoid": 3e-4, "fast_sigmoid + BatchNorm": 1e-3}


def load_fashion_mnist(
    val: int = 10_000,
    limit: int | None = None,
    root: str | None = None,
    local_copy: str | None = None,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Fashion-MNIST as flat float tensors in [0, 1]: ``"train"``, ``"val"``
    (the first ``val`` images of a fixed permutation of the training set) and
    ``"test"``; ``limit`` caps every split (smoke tests).  The data come from
    :func:`snntorch_bayes.datasets.fashion_mnist` (a local copy via
    ``$SNNTORCH_BAYES_FASHION_MNIST``, or ``local_copy``; ``root`` as there)."""
    train = datasets.fashion_mnist(root, train=True, local_copy=local_copy)
    test = datasets.fashion_mnist(root, train=False, local_copy=local_copy)
    x = train.data.float().div_(255).flatten(1)
    y = train.targets.clone()
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(1234))
    x, y = x[perm], y[perm]
    xt, yt = test.data.float().div_(255).flatten(1), test.targets.clone()
    splits = {"val": (x[:val], y[:val]), "train": (x[val:], y[val:]), "test": (xt, yt)}
    if limit is not None:
        splits = {k: (a[:limit], b[:limit]) for k, (a, b) in splits.items()}
    return splits


class BinaryMLP(DetachedDeepCopy, nn.Module):
    r"""``depth`` hidden layers of ``width`` binary units and a linear readout
    (one time step: ``Leaky(beta=0, reset_mechanism="none")``).

    Example::

        >>> import torch
        >>> from snntorch_bayes.deep import BinaryMLP
        >>> net = BinaryMLP("sbnn", depth=2, width=16)
        >>> net(torch.rand(3, 784)).shape
        torch.Size([3, 10])

    :param kind: one of :data:`METHODS`
    :param depth: hidden layers
    :param width: units per hidden layer
    :param layer: keyword arguments of every hidden ``BayesLinear`` (SBNN)
    :param neuron: keyword arguments of every ``VariationalLeaky`` (SBNN)
    """

    def __init__(
        self,
        kind: str,
        depth: int,
        width: int,
        layer: dict | None = None,
        neuron: dict | None = None,
    ) -> None:
        if kind not in METHODS:
            raise ValueError(f"kind must be one of {METHODS}, got {kind!r}")
        check_int("depth", depth, 1)
        check_int("width", width, 1)
        super().__init__()
        self.variational = kind == "sbnn"
        layers: list[nn.Module] = []
        for fan_in, fan_out in itertools.pairwise([784] + [width] * depth):
            if self.variational:
                layers += [
                    BayesLinear(fan_in, fan_out, **(layer or {})),
                    VariationalLeaky(
                        0.0, reset_mechanism="none", init_hidden=True, **(neuron or {})
                    ),
                ]
                continue
            layers.append(nn.Linear(fan_in, fan_out))
            grad = FastSigmoid(25.0)  # snnTorch's fast_sigmoid(slope=25), picklable
            neuron = snn.Leaky(0.0, reset_mechanism="none", init_hidden=True, spike_grad=grad)
            if kind == "fast_sigmoid + BatchNorm":
                norm = nn.BatchNorm1d(fan_out)
                nn.init.constant_(norm.weight, BN_GAMMA)
                nn.init.constant_(norm.bias, float(neuron.threshold))
                layers.append(norm)
            layers.append(neuron)
        self.hidden = nn.Sequential(*layers)
        self.out = BayesLinear(width, 10) if self.variational else nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.hidden:
            if hasattr(m, "reset_mem"):
                m.reset_mem()
        logits = self.out(self.hidden(x))
        return logits.sample() if isinstance(logits, GaussianCurrent) else logits


def batches(n: int, batch: int, epochs: int, seed: int) -> Iterator[torch.Tensor]:
    """Index batches of ``epochs`` seeded shuffles of ``range(n)`` (the last
    incomplete batch dropped): the same for every method at a seed."""
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n - batch + 1, batch):
            yield perm[i : i + batch]


def _logits(net: BinaryMLP, x: torch.Tensor, samples: int = 0) -> torch.Tensor:
    """Deployed logits ``[1, B, C]`` (``samples=0``) or ``samples`` sampled ones."""
    return stacked_logits(net, net, x, samples, batch_size=2000)


def score(logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """Accuracy, NLL, ECE and Brier of the model average of ``[K, B, C]`` logits."""
    probs = calibration.bayesian_model_average(logits.double())
    return calibration.predictive_metrics(probs, y)


def _data_loss(net: BinaryMLP, x: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
    """Cross-entropy of one sampled pass (``k = 1``), or
    :func:`~snntorch_bayes.inference.mixture_cross_entropy` of ``k`` passes,
    run as one batch of ``k`` copies."""
    if k == 1:
        return F.cross_entropy(net(x), y)
    return mixture_cross_entropy(net(x.repeat(k, 1)).view(k, len(y), -1), y)


def train_run(
    kind: str,
    depth: int,
    width: int,
    data: dict[str, tuple[torch.Tensor, torch.Tensor]],
    *,
    lr: float | None = None,
    seed: int = 0,
    epochs: int = 3,
    batch: int = 128,
    init_batch: int = 512,
    mc: int = 10,
    max_steps: int | None = None,
    init: dict | None = None,
    elbo: dict | None = None,
    model: dict | None = None,
    use_initialize: bool | None = None,
    train_samples: int = 1,
    after_init=None,
    progress=None,
) -> dict:
    r"""Train one network and score it on ``"val"`` and ``"test"``.

    The SBNN is scored deployed (posterior means, deterministic thresholds:
    ``val_*`` / ``test_*``) and as the model average of ``mc`` sampled passes
    (``*_avg_*``); the twins also after temperature scaling fitted on
    validation (``test_ts_*``).  The row also holds the time per step, the
    first layer's gradient norm, the KL per example, and (``"layers"``,
    ``"after"``) the per-layer statistics of :func:`~snntorch_bayes.init.initialize` and of
    :func:`~snntorch_bayes.init.measure` after training.

    :param lr: Adam's step; defaults to :data:`LEARNING_RATES`
    :param init: keyword arguments of :func:`~snntorch_bayes.init.initialize` (the twin's
        ``spread`` defaults to :data:`TWIN_SPREAD`)
    :param elbo: keyword arguments of :class:`~snntorch_bayes.inference.ELBO` (SBNN)
    :param model: keyword arguments of :class:`BinaryMLP`
    :param use_initialize: defaults to True except with BatchNorm
    :param train_samples: :math:`K`, sampled passes per training example
        (SBNN only).  With :math:`K > 1` the data term is
        :func:`~snntorch_bayes.inference.mixture_cross_entropy`, which trains
        the model average rather than each sample; 1 gives the ELBO's
        expected log-likelihood
    :param after_init: called with the network after ``initialize``
    :param progress: called with ``(step, loss)`` after every step
    """
    lr = LEARNING_RATES[kind] if lr is None else lr
    check_int("train_samples", train_samples, 1)
    torch.manual_seed(seed)
    net = BinaryMLP(kind, depth, width, **(model or {}))
    if train_samples > 1 and not net.variational:
        raise ValueError(f"train_samples > 1 needs a sampled network, not {kind!r}")
    x, y = data["train"]
    n = len(x)
    init_stats = []
    if use_initialize is None:
        use_initialize = kind != "fast_sigmoid + BatchNorm"
    if use_initialize:
        options = {"spread": TWIN_SPREAD} if kind == "fast_sigmoid" else {}
        first = next(batches(n, min(init_batch, n), 1, seed))
        init_stats = initialize(net, x[first], **(options | (init or {})))
        if after_init is not None:
            after_init(net)
    objective = ELBO(num_train=n, **(elbo or {})) if net.variational else None
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    first_grad = []
    started = time.perf_counter()
    result = fit(
        net,
        optimizer,
        batches(n, batch, epochs, seed),
        lambda idx: _data_loss(net, x[idx], y[idx], train_samples),
        elbo=objective,
        max_steps=max_steps,
        before_step=lambda: first_grad.append(float(net.hidden[0].weight.grad.norm())),
        after_step=progress,
    )
    losses, diverged = result.losses, result.diverged_at
    seconds = time.perf_counter() - started
    row = {
        "method": kind,
        "depth": depth,
        "lr": lr,
        "seed": seed,
        "steps": len(losses),
        "epochs": epochs,
        "train_samples": train_samples,
        "train_seconds": round(seconds, 1),
        "ms_per_step": round(1000 * seconds / max(len(losses), 1), 2),
        "final_loss": sum(losses[-50:]) / max(len(losses[-50:]), 1),
        "first_grad_start": first_grad[0] if first_grad else math.nan,
        "first_grad_mean": sum(first_grad) / max(len(first_grad), 1),
        "diverged_at": diverged,
        "kl_per_example": float(model_kl(net).detach()) / n if net.variational else 0.0,
    }
    for split in ("val", "test"):
        xs, ys = data[split]
        for k, v in score(_logits(net, xs), ys).items():
            row[f"{split}_{k}"] = v
        if net.variational and mc:
            for k, v in score(_logits(net, xs, mc), ys).items():
                row[f"{split}_avg_{k}"] = v
    if not net.variational:
        temp = calibration.fit_temperature(_logits(net, data["val"][0])[0], data["val"][1])
        scaled = calibration.temperature_scale(_logits(net, data["test"][0])[0], temp)
        for k, v in calibration.predictive_metrics(scaled.double(), data["test"][1]).items():
            row[f"test_ts_{k}"] = v
    row["layers"] = [vars(r) for r in init_stats]
    row["after"] = [vars(r) for r in measure(net, x[:init_batch])]
    return row
