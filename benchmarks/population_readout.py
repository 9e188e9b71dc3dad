"""The spiking readout of ``tutorials/population_coding``, with fair twins (issue 11).

snnTorch's population-coding setup: Fashion-MNIST, a 784-128-``outputs``
network of ``Leaky(beta=0.9)`` neurons run for one time step, the image as a
constant current, the spike-count loss ``SF.mse_count_loss(correct_rate=1,
incorrect_rate=0)`` (or ``SF.ce_count_loss``), accuracy on spike counts,
one pass over the first 30,000 training images in batches of 128.  With 10
outputs (one neuron per class) the readout is a yes/no vote per class; with
500 it is a population of 50 neurons per class.

Methods (:data:`METHODS`): ``fast_sigmoid`` from PyTorch's initialisation
(upstream's network) and from ``sb.initialize`` at the twin's spread
(:data:`snntorch_bayes.deep.TWIN_SPREAD`); the SBNN with the library's
defaults after ``sb.initialize``; and, as the ablation of the output layer's
noise, the SBNN with ``initialize(output_noise_ratio=0.5)`` (the hidden
layers' ratio, the default until 2026-12-03).  Every method gets the same
batches and seeds and its own Adam step, chosen on a validation split
(training images 50,000-59,999) from the same grid :data:`LEARNING_RATES`
by the mean over the seeds; the test set is scored once, for the chosen
step of each method (the SBNN deployed and as the model average of ``--mc``
sampled passes).

Writes ``population_readout_runs.csv`` (every run's validation accuracy and
the output neurons' firing), ``population_readout_summary.csv`` (each
method's chosen step and its test accuracy, mean and std over the seeds) and
``population_readout.png`` (validation accuracy against the step).

Run (full mode, about 10 minutes on 2 cores)::

    python benchmarks/population_readout.py
    python benchmarks/population_readout.py --epochs 3 --methods "SBNN, population"
    python benchmarks/population_readout.py --quick   # smoke test
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import snntorch as snn
import snntorch.functional as SF
import torch
from snntorch import surrogate as snn_surrogate
from torch import nn

import snntorch_bayes as sb
from snntorch_bayes import datasets
from snntorch_bayes.deep import TWIN_SPREAD

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, provenance, save_figure, write_csv

NUM_CLASSES = 10
#: the common grid of Adam steps every method is tuned on
LEARNING_RATES = (5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3)
#: name: (variational, outputs, loss, initialize's keyword arguments or None
#: for PyTorch's initialisation)
METHODS = {
    "fast_sigmoid": (False, 10, "mse_count", None),
    "fast_sigmoid, initialize": (False, 10, "mse_count", {"spread": TWIN_SPREAD}),
    "SBNN": (True, 10, "mse_count", {}),
    "SBNN, output noise 0.5": (True, 10, "mse_count", {"output_noise_ratio": 0.5}),
    "fast_sigmoid, population": (False, 500, "mse_count", None),
    "fast_sigmoid, population, initialize": (False, 500, "mse_count", {"spread": TWIN_SPREAD}),
    "SBNN, population": (True, 500, "mse_count", {}),
    "SBNN, population, output noise 0.5": (True, 500, "mse_count", {"output_noise_ratio": 0.5}),
    "fast_sigmoid, ce_count": (False, 10, "ce_count", None),
    "fast_sigmoid, ce_count, initialize": (False, 10, "ce_count", {"spread": TWIN_SPREAD}),
    "SBNN, ce_count": (True, 10, "ce_count", {}),
}


class PopulationSNN(nn.Module):
    """784-128-``outputs`` ``Leaky(beta=0.9)`` network run for one step:
    ``fast_sigmoid`` (``variational=False``) or ``BayesLinear`` +
    ``VariationalLeaky`` with the library's defaults."""

    def __init__(self, variational: bool, outputs: int) -> None:
        super().__init__()
        if variational:
            linear, neuron, kwargs = sb.BayesLinear, sb.VariationalLeaky, {}
        else:
            linear, neuron = nn.Linear, snn.Leaky
            kwargs = {"spike_grad": snn_surrogate.fast_sigmoid()}
        self.fc1, self.lif1 = linear(784, 128), neuron(beta=0.9, **kwargs)
        self.fc2, self.lif2 = linear(128, outputs), neuron(beta=0.9, **kwargs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Output spikes ``[1, B, outputs]`` (one time step)."""
        mem1, mem2 = self.lif1.reset_mem(), self.lif2.reset_mem()
        spk1, _ = self.lif1(self.fc1(x), mem1)
        spk2, _ = self.lif2(self.fc2(spk1), mem2)
        return spk2.unsqueeze(0)


def class_counts(spikes: torch.Tensor) -> torch.Tensor:
    """Spike count per class ``[B, 10]``, summed over time and each population."""
    total = spikes.sum(0)
    return total.unflatten(-1, (NUM_CLASSES, -1)).sum(-1)


def train(
    method: str, lr: float, seed: int, data: dict, init_batch: int, epochs: int = 1
) -> nn.Module:
    variational, outputs, loss_name, init = METHODS[method]
    torch.manual_seed(seed)
    net = PopulationSNN(variational, outputs)
    x, y = data["train"]
    if init is not None:
        sb.initialize(net, x[:init_batch], **init)
    population = outputs > NUM_CLASSES
    options = {"population_code": population, "num_classes": NUM_CLASSES}
    if loss_name == "mse_count":
        loss_fn = SF.mse_count_loss(correct_rate=1.0, incorrect_rate=0.0, **options)
    else:
        loss_fn = SF.ce_count_loss(**options)
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    elbo = sb.ELBO(num_train=len(x)) if variational else None
    # one seeded shuffle per epoch (the first is the same for every ``epochs``)
    shuffle = torch.Generator().manual_seed(seed)
    full = len(x) // 128 * 128
    order = torch.cat([torch.randperm(len(x), generator=shuffle)[:full] for _ in range(epochs)])
    sb.training.fit(
        net,
        optimizer,
        order.split(128),
        lambda batch: loss_fn(net(x[batch]), y[batch]),
        elbo=elbo,
        stop_on_divergence=False,
    )
    return net.eval()


@torch.no_grad()
def evaluate(net: nn.Module, x: torch.Tensor, y: torch.Tensor, mc: int) -> dict[str, float]:
    """Accuracy on spike counts (ties to the lowest class, as ``SF.accuracy_rate``),
    the output neurons' firing rate, and for an SBNN the model average's accuracy."""
    spikes = net(x)
    out = {
        "accuracy": SF.accuracy_rate(class_counts(spikes).unsqueeze(0), y),
        "output_firing": spikes.mean().item(),
    }
    if mc and isinstance(net.fc1, sb.BayesLinear):
        average = sb.mc_logits(lambda: class_counts(net(x)), net, mc).mean(0)
        out["avg_accuracy"] = SF.accuracy_rate(average.unsqueeze(0), y)
    return out


def load(limit: int | None) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    def tensors(dataset, idx):
        return dataset.data[idx].float().div(255).flatten(1), dataset.targets[idx]

    train, test = datasets.fashion_mnist(train=True), datasets.fashion_mnist(train=False)
    n_train, n_val, n_test = (30_000, 10_000, 10_000) if limit is None else (limit,) * 3
    return {
        "train": tensors(train, torch.arange(n_train)),
        "val": tensors(train, torch.arange(50_000, 50_000 + n_val)),
        "test": tensors(test, torch.arange(n_test)),
    }


def plot(rows: list[dict], path: Path) -> None:
    ran = {r["method"] for r in rows}
    panels = [
        panel
        for panel in (("mse_count", 10), ("mse_count", 500), ("ce_count", 10))
        if any((m[2], m[1]) == panel for name, m in METHODS.items() if name in ran)
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(14 * len(panels) / 3, 3.8), sharey=True)
    axes = [axes] if len(panels) == 1 else list(axes)
    for ax, (loss, outputs) in zip(axes, panels, strict=True):
        for method, (_, out, loss_name, _) in METHODS.items():
            if (loss_name, out) != (loss, outputs) or method not in ran:
                continue
            lrs = sorted({r["lr"] for r in rows if r["method"] == method})
            means = [
                statistics.mean(
                    r["val_accuracy"] for r in rows if r["method"] == method and r["lr"] == lr
                )
                for lr in lrs
            ]
            ax.plot(lrs, [100 * m for m in means], marker="o", label=method)
        ax.set_xscale("log")
        ax.set_xlabel("Adam step")
        ax.set_title(f"{outputs} output neurons, {loss}", fontsize=9)
        ax.legend(fontsize=7)
    axes[0].set_ylabel("validation accuracy, mean over seeds (%)")
    save_figure(fig, path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", type=Path, default=None, help=f"default {RESULTS}")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--lrs", type=float, nargs="+", default=list(LEARNING_RATES))
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--mc", type=int, default=10, help="sampled passes of the model average")
    p.add_argument(
        "--epochs",
        type=int,
        default=1,
        help="passes over the training images (upstream's tutorial makes one); other than 1, "
        "the outputs are named population_readout_e<N>_*",
    )
    p.add_argument("--quick", action="store_true", help="smoke test: 256 images, 2 steps")
    args = p.parse_args(argv)
    if args.epochs < 1:
        p.error(f"--epochs must be >= 1, got {args.epochs}")
    name = "population_readout" + ("" if args.epochs == 1 else f"_e{args.epochs}")
    limit = 256 if args.quick else None
    if args.quick:
        args.seeds, args.lrs, args.mc = args.seeds[:1], args.lrs[-2:], 2
    out_dir = args.out_dir or (Path(tempfile.mkdtemp()) if args.quick else RESULTS)
    data = load(limit)
    init_batch = min(512, len(data["train"][0]))
    rows, summary = [], []
    for method in args.methods:
        best = None  # (mean validation accuracy, lr, nets)
        for lr in args.lrs:
            nets = [train(method, lr, seed, data, init_batch, args.epochs) for seed in args.seeds]
            val = [evaluate(net, *data["val"], mc=0) for net in nets]
            for seed, v in zip(args.seeds, val, strict=True):
                rows.append(
                    {
                        **provenance(),
                        "method": method,
                        "lr": lr,
                        "seed": seed,
                        "epochs": args.epochs,
                        "val_accuracy": v["accuracy"],
                        "val_output_firing": v["output_firing"],
                    }
                )
            mean = statistics.mean(v["accuracy"] for v in val)
            print(f"{method:<38} lr {lr:<7g} val {100 * mean:5.1f} %", flush=True)
            if best is None or mean > best[0]:
                best = (mean, lr, nets)
        mean, lr, nets = best
        test = [evaluate(net, *data["test"], mc=args.mc) for net in nets]
        entry = {
            **provenance(),
            "method": method,
            "lr": lr,
            "epochs": args.epochs,
            "val_accuracy": mean,
        }
        for key in ("accuracy", "avg_accuracy", "output_firing"):
            values = [t[key] for t in test if key in t]
            if values:
                entry[f"test_{key}"] = statistics.mean(values)
                entry[f"test_{key}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
            else:
                entry[f"test_{key}"] = entry[f"test_{key}_std"] = float("nan")
        summary.append(entry)
        print(
            f"{method:<38} chosen lr {lr:g}: test {100 * entry['test_accuracy']:.2f} ± "
            f"{100 * entry['test_accuracy_std']:.2f} %"
            + (
                f", model average {100 * entry['test_avg_accuracy']:.2f} %"
                if not math.isnan(entry["test_avg_accuracy"])
                else ""
            ),
            flush=True,
        )
    write_csv(out_dir / f"{name}_runs.csv", rows)
    path = write_csv(out_dir / f"{name}_summary.csv", summary)
    plot(rows, out_dir / f"{name}.png")
    print(f"output: {path.parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
