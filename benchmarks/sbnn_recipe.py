"""The SBNN recipe study: what makes a plain (non-residual) binary SBNN train
without normalisation, and how it compares with fair deterministic twins.

Fashion-MNIST, a binary MLP of ``--width`` units and ``--depths`` hidden
layers (one time step, ``beta=0``: every hidden unit is a noisy binary
neuron), a linear readout.  A validation split of ``--val`` images is carved
from the 60,000 training images (fixed permutation); every selection is made
on it, and the test set is scored once, for the selected configuration of
each method.

Methods (every one built after the same ``torch.manual_seed`` and trained on
the same batches in the same order, Adam, the same budget):

* ``sbnn``: ``BayesLinear`` + ``VariationalLeaky(beta=0)``, loss
  ``sb.ELBO(num_train=N)`` with the library's defaults, then
  ``sb.initialize(net, x)`` on one training batch;
* ``fast_sigmoid``: ``nn.Linear`` + ``snn.Leaky(beta=0)`` with snnTorch's
  ``fast_sigmoid(slope=25)``, given the same ``sb.initialize`` start;
* ``fast_sigmoid + BatchNorm``: ``BatchNorm1d`` before every binary layer
  (PyTorch's default initialisation: BatchNorm does the centring);

and the recipe variants of the SBNN (``--study``): one change at a time
from the defaults, named in the ``config`` column.

Every run over ``--lrs`` x ``--seeds`` is written with its validation and
test metrics: choose each method's learning rate (and the twin's
``initialize`` spread, ``--study "method=fast_sigmoid,spread=S"``) on the
validation columns, then read the test columns of the chosen runs only.  The
SBNN is scored deployed (posterior means, deterministic thresholds) and as
the model average of ``--mc`` sampled passes; the deterministic twins also
after temperature scaling fitted on validation.

Writes ``sbnn_recipe_runs.csv`` (every run: validation and test accuracy,
NLL, ECE, Brier; the model average; the twins after temperature scaling;
KL per example, gradient norm at the first layer, time per step) and
``sbnn_recipe_layers.csv`` (per-layer median firing rate, firing
probability and sqrt(v)/|mu - theta| as :func:`snntorch_bayes.initialize`
found and left them, and after training) into ``--out-dir``.  The study's
log and the results so far are in ``docs/recipe.md``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import math
import sys
import time
from pathlib import Path

import snntorch as snn
import torch
import torch.nn.functional as F
from snntorch import surrogate as snn_surrogate
from torch import nn

import snntorch_bayes as sb
from snntorch_bayes import calibration, datasets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import provenance

RESULTS = Path(__file__).resolve().parent / "results"


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def load(val: int, limit: int | None = None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Fashion-MNIST as float tensors in [0, 1]: train / val (carved from the
    training set with a fixed permutation) / test."""
    train = datasets.fashion_mnist(train=True)
    test = datasets.fashion_mnist(train=False)
    x = train.data.float().div_(255).flatten(1)
    y = train.targets.clone()
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(1234))
    x, y = x[perm], y[perm]
    xt, yt = test.data.float().div_(255).flatten(1), test.targets.clone()
    splits = {"val": (x[:val], y[:val]), "train": (x[val:], y[val:]), "test": (xt, yt)}
    if limit is not None:
        splits = {k: (a[:limit], b[:limit]) for k, (a, b) in splits.items()}
    return splits


# --------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------


class BinaryMLP(nn.Module):
    """``depth`` hidden layers of binary units and a linear readout; one step."""

    def __init__(self, kind: str, depth: int, width: int, **options) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        sizes = [784] + [width] * depth
        self.variational = kind == "sbnn"
        for fan_in, fan_out in itertools.pairwise(sizes):
            if self.variational:
                neuron = dict(options.get("neuron", {}))
                if "_spike" in neuron:
                    spike = neuron.pop("_spike")
                    neuron["spike_grad"] = sb.surrogate.iw_st(noise="gaussian", **spike)
                layers += [
                    sb.BayesLinear(fan_in, fan_out, **options.get("layer", {})),
                    sb.VariationalLeaky(0.0, reset_mechanism="none", init_hidden=True, **neuron),
                ]
            else:
                layers.append(nn.Linear(fan_in, fan_out))
                if kind == "fast_sigmoid + BatchNorm":
                    layers.append(nn.BatchNorm1d(fan_out))
                layers.append(
                    snn.Leaky(
                        0.0,
                        reset_mechanism="none",
                        init_hidden=True,
                        spike_grad=snn_surrogate.fast_sigmoid(slope=25),
                    )
                )
        self.hidden = nn.Sequential(*layers)
        self.out = sb.BayesLinear(width, 10) if self.variational else nn.Linear(width, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for m in self.hidden:
            if hasattr(m, "reset_mem"):
                m.reset_mem()
        logits = self.out(self.hidden(x))
        return logits.sample() if isinstance(logits, sb.GaussianCurrent) else logits


# --------------------------------------------------------------------------
# Training and scoring
# --------------------------------------------------------------------------


def batches(n: int, batch: int, epochs: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n - batch + 1, batch):
            yield perm[i : i + batch]


@torch.no_grad()
def logits_of(net: BinaryMLP, x: torch.Tensor, samples: int = 0) -> torch.Tensor:
    """Deployed logits ``[1, B, C]`` (``samples=0``) or ``samples`` sampled ones."""
    net.eval()
    out = []
    for chunk in x.split(2000):
        if samples:
            out.append(sb.mc_logits(lambda c=chunk: net(c), net, samples))
        else:
            out.append(net(chunk).unsqueeze(0))
    return torch.cat(out, 1)


def metrics(logits: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    return calibration.predictive_metrics(calibration.bayesian_model_average(logits.double()), y)


def train_run(kind: str, depth: int, lr: float, seed: int, data, args, config: dict) -> dict:
    torch.manual_seed(seed)
    net = BinaryMLP(kind, depth, args.width, **config.get("options", {}))
    x, y = data["train"]
    n = len(x)
    init_stats = []
    if config.get("initialize", kind != "fast_sigmoid + BatchNorm"):
        first = next(batches(n, args.init_batch, 1, seed))
        init_stats = sb.initialize(net, x[first], **config.get("init", {}))
        if config.get("after_init"):
            config["after_init"](net)
    elbo = sb.ELBO(num_train=n, **config.get("elbo", {})) if net.variational else None
    kl_scale = config.get("kl_scale", 1.0)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    losses, first_grad = [], []
    started = time.perf_counter()
    net.train()
    diverged = None
    for step, idx in enumerate(batches(n, args.batch, args.epochs, seed)):
        if args.max_steps is not None and step == args.max_steps:
            break
        loss = F.cross_entropy(net(x[idx]), y[idx])
        if elbo is not None:
            loss = loss + kl_scale * elbo.kl_weight(step) * sb.kl_divergence(net) / n
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if not math.isfinite(loss.item()):
            diverged = step
            break
        first_grad.append(float(net.hidden[0].weight.grad.norm()))
        optimizer.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - started
    row = {
        "method": kind,
        "config": config.get("name", "default"),
        "depth": depth,
        "lr": lr,
        "seed": seed,
        "steps": len(losses),
        "epochs": args.epochs,
        "train_seconds": round(seconds, 1),
        "ms_per_step": round(1000 * seconds / max(len(losses), 1), 2),
        "final_loss": sum(losses[-50:]) / max(len(losses[-50:]), 1),
        "first_grad_start": first_grad[0] if first_grad else math.nan,
        "first_grad_mean": sum(first_grad) / max(len(first_grad), 1),
        "diverged_at": diverged,
        "kl_per_example": float(sb.kl_divergence(net).detach()) / n if net.variational else 0.0,
    }
    for split in ("val", "test"):
        xs, ys = data[split]
        logits = logits_of(net, xs)
        for k, v in metrics(logits, ys).items():
            row[f"{split}_{k}"] = v
        if net.variational and args.mc:
            for k, v in metrics(logits_of(net, xs, args.mc), ys).items():
                row[f"{split}_avg_{k}"] = v
    if not net.variational:
        temp = calibration.fit_temperature(logits_of(net, data["val"][0])[0], data["val"][1])
        scaled = calibration.temperature_scale(logits_of(net, data["test"][0])[0], temp)
        for k, v in calibration.predictive_metrics(scaled.double(), data["test"][1]).items():
            row[f"test_ts_{k}"] = v
    row["layers"] = [vars(r) for r in init_stats]
    row["after"] = _after(net, x[: args.init_batch])
    return row


def _after(net: BinaryMLP, x: torch.Tensor) -> list[dict]:
    """Per hidden layer after training, in sample mode: median firing rate /
    probability and median sqrt(v)/|mu-theta| (:func:`sb.measure`)."""
    return [vars(r) for r in sb.measure(net, x)]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--depths", type=int, nargs="+", default=[2, 6])
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--lrs", type=float, nargs="+", default=[3e-4, 1e-3, 3e-3])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--init-batch", type=int, default=512)
    p.add_argument("--val", type=int, default=10_000)
    p.add_argument("--mc", type=int, default=10)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--methods", nargs="*", default=list(METHODS))
    p.add_argument("--study", nargs="*", default=[], help="SBNN recipe variants to add")
    p.add_argument("--out-dir", type=Path, default=RESULTS)
    p.add_argument("--quick", action="store_true", help="smoke test: tiny data and budget")
    args = p.parse_args(argv)
    limit = None
    if args.quick:
        args.depths, args.width, args.epochs, args.seeds = [2], 32, 1, [0]
        args.lrs, args.mc, args.max_steps, args.init_batch, args.val = [1e-3], 2, 5, 128, 512
        limit = 512
    data = load(args.val, limit)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    configs = [(m, {"name": "default"}) for m in args.methods]
    configs += [(c["method"], c) for c in map(study_config, args.study)]
    rows = []
    for depth, (kind, config) in itertools.product(args.depths, configs):
        for seed, lr in itertools.product(args.seeds, args.lrs):
            row = train_run(kind, depth, lr, seed, data, args, config)
            rows.append(row)
            print(
                f"{kind:<26} {row['config']:<18} depth {depth:>2} lr {lr:<7g} seed {seed} "
                f"val {100 * row['val_accuracy']:5.1f} test {100 * row['test_accuracy']:5.1f}"
                f" kl/N {row['kl_per_example']:.3f} {row['ms_per_step']:.1f} ms/step",
                flush=True,
            )
    write(rows, args)
    return 0


METHODS = ("sbnn", "fast_sigmoid", "fast_sigmoid + BatchNorm")


def scale_prior(net: nn.Module, factor: float) -> None:
    """Multiply every variational layer's prior std (weights and bias) by ``factor``."""
    for m in net.modules():
        if isinstance(m, (sb.BayesLinear, sb.BayesConv2d)):
            m.prior = sb.GaussianPrior(std=m.prior.std * factor)
            if m.bias_prior is not None:
                m.bias_prior = sb.GaussianPrior(std=m.bias_prior.std * factor)


def study_config(spec: str) -> dict:
    """A recipe variant from a spec such as ``"prior=matched,noise=0.5,kl=0.1"``:
    one ``key=value`` per change from the defaults.

    * ``init=none``: no :func:`sb.initialize` (the old default);
    * ``spread=S``, ``noise=R``, ``rate=P``: ``initialize``'s ``spread``,
      ``noise_ratio``, ``target_rate``;
    * ``prior=default``: keep the layers' default priors (``initialize`` with
      ``match_prior=False``); ``prior=matched*F``: the matched priors'
      standard deviations times ``F``;
    * ``kl=B``: tempered KL weight ``B`` (not the ELBO unless 1);
    * ``warmup=T``: linear KL warm-up over ``T`` steps;
    * ``intrinsic=S``: the neurons' ``intrinsic_noise``;
    * ``p=P``, ``max_weight=W``: the neurons' IW-ST exponent and weight clip;
    * ``method=M``: the variant is of method ``M`` (``fast_sigmoid``,
      ``fast_sigmoid+BatchNorm``) instead of the SBNN.
    """
    config: dict = {"name": spec, "init": {}, "elbo": {}, "options": {}, "method": "sbnn"}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key == "method":
            config["method"] = value.replace("+BatchNorm", " + BatchNorm")
        elif key == "init" and value == "none":
            config["initialize"] = False
        elif key in ("spread", "noise", "rate"):
            name = {"spread": "spread", "noise": "noise_ratio", "rate": "target_rate"}[key]
            config["init"][name] = float(value)
        elif key == "prior" and value == "default":
            config["init"]["match_prior"] = False
        elif key == "prior" and value.startswith("matched*"):
            factor = float(value.removeprefix("matched*"))
            config["after_init"] = lambda net, f=factor: scale_prior(net, f)
        elif key == "kl":
            config["kl_scale"] = float(value)
        elif key == "warmup":
            config["elbo"]["warmup_steps"] = int(value)
        elif key in ("p", "max_weight"):
            neuron = config["options"].setdefault("neuron", {})
            spike = dict(neuron.pop("_spike", {"p": 1.0}), **{key: float(value)})
            neuron["_spike"] = spike
        elif key == "intrinsic":
            config["options"].setdefault("neuron", {})["intrinsic_noise"] = float(value)
        else:
            raise ValueError(f"unknown study item {item!r}")
    return config


def write(rows: list[dict], args) -> None:
    prov = provenance()
    flat = [prov | {k: v for k, v in r.items() if k not in ("layers", "after")} for r in rows]
    keys = sorted({k for r in flat for k in r}, key=lambda k: list(flat[0]).index(k)
                  if k in flat[0] else 999)  # fmt: skip
    with open(args.out_dir / "sbnn_recipe_runs.csv", "w", newline="") as f:
        w = csv.DictWriter(f, keys)
        w.writeheader()
        w.writerows(flat)
    layer_rows = [
        prov
        | {"method": r["method"], "config": r["config"], "depth": r["depth"], "lr": r["lr"],
           "seed": r["seed"], "when": when}
        | {k: v for k, v in layer.items() if k != "extra"}
        for r in rows
        for when in ("initialize", "after training")
        for layer in r["layers" if when == "initialize" else "after"]
    ]  # fmt: skip
    with open(args.out_dir / "sbnn_recipe_layers.csv", "w", newline="") as f:
        w = csv.DictWriter(f, list(layer_rows[0]) if layer_rows else ["method"])
        w.writeheader()
        w.writerows(layer_rows)


if __name__ == "__main__":
    raise SystemExit(main())
