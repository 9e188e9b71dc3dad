"""The main job: snnTorch tutorial 5 on real MNIST, trained with
``fast_sigmoid`` and with an IW-ST estimator, side by side.

Run ``python -m snntorch_bayes --help`` for the options.  With no arguments
it reproduces upstream's setup (FC 784-1000-10, ``Leaky(beta=0.95)``, 25
steps, batch 128, Adam 5e-4, one epoch) for both methods and three seeds
(same initialisation and batches for both methods at each seed; about 3
minutes on 2 cores), prints a table of test accuracy and time per training
step, and saves the numbers as JSON under ``runs/``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import snntorch
import torch
from snntorch import surrogate as snn_surrogate

from snntorch_bayes import __version__, datasets, surrogate
from snntorch_bayes.models import FCSpikingNet
from snntorch_bayes.training import evaluate, train_epoch

#: upstream's reported test accuracy for tutorial 5 after one epoch
UPSTREAM_TUTORIAL5_ACCURACY = 0.9387

_ESTIMATORS = {
    "iw_st": lambda a: surrogate.iw_st(p=a.p, noise=a.noise, scale=a.scale),
    "straight_through": lambda a: surrogate.straight_through(noise=a.noise, scale=a.scale),
    "gumbel_rao": lambda a: surrogate.gumbel_rao(tau=a.tau, scale=a.scale),
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="snntorch-bayes",
        description="Tutorial-5 MNIST: fast_sigmoid(25) versus an IW-ST estimator.",
    )
    p.add_argument("--estimator", choices=sorted(_ESTIMATORS), default="iw_st")
    p.add_argument("--p", type=float, default=1.0, help="IW-ST exponent (iw_st)")
    p.add_argument("--tau", type=float, default=1.0, help="temperature (gumbel_rao)")
    p.add_argument("--noise", choices=["logistic", "gaussian"], default="logistic")
    p.add_argument("--scale", type=float, default=0.25, help="noise scale s")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--num-steps", type=int, default=25)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one run per seed")
    p.add_argument("--max-batches", type=int, default=None, help="cap per epoch (quick runs)")
    p.add_argument("--max-test-batches", type=int, default=None)
    p.add_argument("--data-root", default=None, help="default: $SNNTORCH_BAYES_DATA or ./data")
    p.add_argument(
        "--mnist-dir",
        default=None,
        help="local MNIST copy (idx files); default: $SNNTORCH_BAYES_MNIST",
    )
    p.add_argument("--out", default="runs", help="folder for the JSON results")
    p.add_argument("--no-progress", action="store_true")
    return p


def _loaders(args):
    train = datasets.mnist(args.data_root, train=True, local_copy=args.mnist_dir)
    test = datasets.mnist(args.data_root, train=False, local_copy=args.mnist_dir)
    g = torch.Generator()
    return (
        torch.utils.data.DataLoader(
            train, batch_size=args.batch_size, shuffle=True, drop_last=True, generator=g
        ),
        torch.utils.data.DataLoader(test, batch_size=1000),
    )


def _run(name, spike_grad, seed, args, train_loader, test_loader) -> dict:
    torch.manual_seed(seed)  # same initialisation for every method
    net = FCSpikingNet(spike_grad=spike_grad, num_steps=args.num_steps)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999))
    train_loader.generator.manual_seed(seed)  # same batches for every method
    losses, times = [], []
    for epoch in range(args.epochs):
        r = train_epoch(
            net,
            train_loader,
            optimizer,
            args.max_batches,
            not args.no_progress,
            desc=f"{name} seed {seed} epoch {epoch + 1}/{args.epochs}",
        )
        losses += r.losses
        times += r.step_seconds
    accuracy = evaluate(
        net, test_loader, args.max_test_batches, not args.no_progress, desc=f"{name} test"
    )
    steady = times[5:] if len(times) > 10 else times
    return {
        "method": name,
        "seed": seed,
        "test_accuracy": accuracy,
        "final_train_loss": statistics.fmean(losses[-20:]),
        "train_losses": losses,
        "step_seconds_median": statistics.median(steady),
        "step_seconds_mean": statistics.fmean(steady),
        "steps": len(times),
    }


def _summarise(rows: list[dict], methods: list[str]) -> list[dict]:
    """Mean and spread of accuracy over seeds, and the step-time ratio."""
    out = []
    for name in methods:
        mine = [r for r in rows if r["method"] == name]
        accuracies = [r["test_accuracy"] for r in mine]
        out.append(
            {
                "method": name,
                "accuracies": accuracies,
                "accuracy_mean": statistics.fmean(accuracies),
                "accuracy_std": statistics.stdev(accuracies) if len(mine) > 1 else 0.0,
                "step_seconds": statistics.fmean(r["step_seconds_median"] for r in mine),
            }
        )
    for r in out:
        r["step_ratio"] = r["step_seconds"] / out[0]["step_seconds"]
    return out


def _plot_losses(rows: list[dict], path: Path) -> Path | None:
    """Training loss against step, one line per method and seed (running
    mean over 20 steps); ``None`` if matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    colours = {}
    for r in rows:
        colour = colours.setdefault(r["method"], f"C{len(colours)}")
        losses = torch.tensor(r["train_losses"])
        window = min(20, len(losses))
        smooth = losses.unfold(0, window, 1).mean(1)
        label = r["method"] if r["seed"] == rows[0]["seed"] else None
        ax.plot(range(window, len(losses) + 1), smooth, color=colour, alpha=0.8, label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (running mean of 20 steps)")
    ax.set_yscale("log")
    ax.set_title("Tutorial 5 on MNIST, one line per seed")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = _parser()
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "num_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if not args.lr > 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    try:
        _ESTIMATORS[args.estimator](args)  # validates the hyper-parameters
    except ValueError as err:
        parser.error(str(err))
    return args


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    try:
        train_loader, test_loader = _loaders(args)
    except datasets.DatasetNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    methods = {
        "fast_sigmoid(25)": lambda: snn_surrogate.fast_sigmoid(slope=25),
        args.estimator: lambda: _ESTIMATORS[args.estimator](args),
    }
    print(
        f"snntorch_bayes {__version__}, snntorch {snntorch.__version__}, "
        f"torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; MNIST {len(train_loader.dataset)} train / "
        f"{len(test_loader.dataset)} test"
    )
    rows = []
    for seed in args.seeds:
        for name, make in methods.items():
            spike_grad = make()
            started = time.perf_counter()
            row = _run(name, spike_grad, seed, args, train_loader, test_loader)
            row["spike_grad"] = (
                repr(spike_grad)
                if isinstance(spike_grad, torch.nn.Module)
                else f"snntorch.surrogate.{name}"
            )
            row["wall_seconds"] = time.perf_counter() - started
            rows.append(row)
    summary = _summarise(rows, list(methods))
    print()
    print(
        f"Tutorial 5 on MNIST: {args.epochs} epoch(s), batch {args.batch_size}, "
        f"T={args.num_steps}, Adam {args.lr:g}, seeds {' '.join(map(str, args.seeds))}"
        + (f", {args.max_batches} batches/epoch" if args.max_batches else "")
    )
    header = (
        f"{'method':<18} {'test acc (mean ± std)':>22} {'per seed':>24} "
        f"{'s/step':>8} {'vs fast_sigmoid':>16}"
    )
    print(header)
    print("-" * len(header))
    for r in summary:
        per_seed = " ".join(f"{100 * a:.2f}" for a in r["accuracies"])
        print(
            f"{r['method']:<18} "
            f"{100 * r['accuracy_mean']:>13.2f} ± {100 * r['accuracy_std']:.2f} % "
            f"{per_seed:>24} {r['step_seconds']:>8.4f} {r['step_ratio']:>15.2f}x"
        )
    print(
        f"(upstream reports {100 * UPSTREAM_TUTORIAL5_ACCURACY:.2f}% for fast_sigmoid "
        "after one epoch, one run; s/step: median over steps, mean over seeds)"
    )
    for i, name in enumerate(methods):
        print(f"  {name}: {rows[i]['spike_grad']}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = out / f"tutorial5-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "command": " ".join(sys.argv),
                "args": vars(args),
                "date": stamp,
                "machine": platform.platform(),
                "processor": platform.processor(),
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
                "snntorch": snntorch.__version__,
                "summary": summary,
                "results": rows,
            },
            indent=2,
        )
    )
    print(f"results saved to {path}")
    figure = _plot_losses(rows, path.with_suffix(".png"))
    if figure is not None:
        print(f"training curves saved to {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
