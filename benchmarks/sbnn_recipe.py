"""The SBNN recipe study: what makes a plain (non-residual) binary SBNN train
without normalisation, and how it compares with fair deterministic twins.

Fashion-MNIST, a binary MLP of ``--width`` units and ``--depths`` hidden
layers (one time step, ``beta=0``: every hidden unit is a noisy binary
neuron), a linear readout.  A validation split of ``--val`` images is carved
from the 60,000 training images (fixed permutation); every selection is made
on it, and the test set is scored once, for the selected configuration of
each method.

Methods: :data:`snntorch_bayes.deep.METHODS`, trained by
:func:`snntorch_bayes.deep.train_run` (the same code as the main job's
deep-network table): the SBNN with the library's defaults after
``sb.initialize``, the ``fast_sigmoid`` twin with the same ``initialize``
start, and ``fast_sigmoid`` + BatchNorm; the same seed, batches and budget;
and the recipe variants of the SBNN (``--study``): one change at a time
from the defaults, named in the ``config`` column.

Every run over ``--lrs`` x ``--seeds`` is written with its validation and
test metrics: choose each method's learning rate (and the twin's
``initialize`` spread, ``--study "method=fast_sigmoid,spread=S"``; the
``default`` twin uses :data:`snntorch_bayes.deep.TWIN_SPREAD`) on the
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
import sys
from pathlib import Path

from torch import nn

import snntorch_bayes as sb
from snntorch_bayes.deep import METHODS, load_fashion_mnist, train_run

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import provenance

RESULTS = Path(__file__).resolve().parent / "results"


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
    data = load_fashion_mnist(args.val, limit)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    configs = [(m, {"name": "default"}) for m in args.methods]
    configs += [(c["method"], c) for c in map(study_config, args.study)]
    rows = []
    for depth, (kind, config) in itertools.product(args.depths, configs):
        for seed, lr in itertools.product(args.seeds, args.lrs):
            options = {k: v for k, v in config.items() if k not in ("name", "method")}
            row = train_run(
                kind, depth, args.width, data, lr=lr, seed=seed, epochs=args.epochs,
                batch=args.batch, init_batch=args.init_batch, mc=args.mc,
                max_steps=args.max_steps, **options,
            )  # fmt: skip
            row["config"] = config["name"]
            rows.append(row)
            print(
                f"{kind:<26} {row['config']:<18} depth {depth:>2} lr {lr:<7g} seed {seed} "
                f"val {100 * row['val_accuracy']:5.1f} test {100 * row['test_accuracy']:5.1f}"
                f" kl/N {row['kl_per_example']:.3f} {row['ms_per_step']:.1f} ms/step",
                flush=True,
            )
    write(rows, args)
    return 0


def scale_prior(net: nn.Module, factor: float) -> None:
    """Multiply every variational layer's prior std (weights and bias) by ``factor``."""
    for m in net.modules():
        if isinstance(m, (sb.BayesLinear, sb.BayesConv2d)):
            m.prior = sb.GaussianPrior(std=float(m.prior.stddev) * factor)
            if m.bias_prior is not None:
                m.bias_prior = sb.GaussianPrior(std=float(m.bias_prior.stddev) * factor)


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
    * ``samples=K``: the data term of ``K`` sampled passes,
      :func:`sb.mixture_cross_entropy` (``deep.train_run``'s ``train_samples``);
    * ``intrinsic=S``: the neurons' ``intrinsic_noise``;
    * ``p=P``, ``max_weight=W``: the neurons' IW-ST exponent and weight clip;
    * ``method=M``: the variant is of method ``M`` (``fast_sigmoid``,
      ``fast_sigmoid+BatchNorm``) instead of the SBNN.
    """
    config: dict = {"name": spec, "init": {}, "elbo": {}, "model": {}, "method": "sbnn"}
    spike: dict[str, float] = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition("=")
        if key == "method":
            config["method"] = value.replace("+BatchNorm", " + BatchNorm")
        elif key == "init" and value == "none":
            config["use_initialize"] = False
        elif key in ("spread", "noise", "rate"):
            name = {"spread": "spread", "noise": "noise_ratio", "rate": "target_rate"}[key]
            config["init"][name] = float(value)
        elif key == "prior" and value == "default":
            config["init"]["match_prior"] = False
        elif key == "prior" and value.startswith("matched*"):
            factor = float(value.removeprefix("matched*"))
            config["after_init"] = lambda net, f=factor: scale_prior(net, f)
        elif key == "kl":
            config["elbo"]["kl_scale"] = float(value)
        elif key == "warmup":
            config["elbo"]["warmup_steps"] = int(value)
        elif key == "samples":
            config["train_samples"] = int(value)
        elif key in ("p", "max_weight"):
            spike[key] = float(value)
        elif key == "intrinsic":
            config["model"].setdefault("neuron", {})["intrinsic_noise"] = float(value)
        else:
            raise ValueError(f"unknown study item {item!r}")
    if spike:
        default = sb.VariationalLeaky(0.0).spike_grad
        spike = {"p": default.p, "max_weight": default.max_weight} | spike
        neuron = config["model"].setdefault("neuron", {})
        neuron["spike_grad"] = sb.surrogate.iw_st(noise="gaussian", scale=default.scale, **spike)
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
