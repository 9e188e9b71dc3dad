"""Time per training step of snnTorch's tutorial-5 network with
``fast_sigmoid(25)`` and with each estimator, measured in the same run.

Methods are timed in interleaved rounds (a fresh random order each round), so
drifts of the machine hit every method alike; the table reports, per method,
the median over rounds of the per-round median step time, its ratio to
``fast_sigmoid`` and the spread of that ratio over rounds (machine noise).

    python benchmarks/step_time.py                 # eager, ~1-2 min on 2 cores
    python benchmarks/step_time.py --compile       # also torch.compile (slow to compile)

Results are written to ``benchmarks/results/step_time.csv`` with the date,
command and machine.
"""

from __future__ import annotations

import argparse
import functools
import platform
import statistics
import sys
import time
from datetime import datetime, timezone

import torch
from _results import RESULTS, interleaved_medians, write_csv
from snntorch import surrogate as snn_surrogate

from snntorch_bayes import datasets, surrogate
from snntorch_bayes.models import FCSpikingNet
from snntorch_bayes.training import train_step

METHODS = {
    "fast_sigmoid(25)": lambda: snn_surrogate.fast_sigmoid(slope=25),
    "straight_through": lambda: surrogate.straight_through(),
    "iw_st(p=1)": lambda: surrogate.iw_st(p=1.0),
    "iw_st(p=0.5)": lambda: surrogate.iw_st(p=0.5),
    "iw_st(p=1,gaussian)": lambda: surrogate.iw_st(p=1.0, noise="gaussian"),
    "gumbel_rao(tau=1)": lambda: surrogate.gumbel_rao(tau=1.0),
    "gumbel_rao(tau=0.5)": lambda: surrogate.gumbel_rao(tau=0.5),
    "gumbel_rao_mc(k=8)": lambda: surrogate.gumbel_rao_mc(tau=1.0, k=8),
    "iw_st(p=1,sample)": lambda: surrogate.iw_st(p=1.0, sample=True),
}


def _batch(batch_size: int):
    """A real MNIST batch when a copy is available, else uniform noise (the
    step time of this dense network does not depend on pixel values)."""
    try:
        train = datasets.mnist(train=True, download=False)
        loader = torch.utils.data.DataLoader(train, batch_size=batch_size, shuffle=False)
        data, targets = next(iter(loader))
        return data, targets, "MNIST"
    except datasets.DatasetNotFoundError:
        g = torch.Generator().manual_seed(0)
        data = torch.rand(batch_size, 1, 28, 28, generator=g)
        return data, torch.randint(0, 10, (batch_size,), generator=g), "uniform noise"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=8, help="timed steps per method per round")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--num-steps", type=int, default=25)
    p.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd models")
    p.add_argument("--out", default=str(RESULTS / "step_time.csv"))
    args = p.parse_args(argv)
    if "fast_sigmoid(25)" not in args.methods:
        args.methods.insert(0, "fast_sigmoid(25)")

    data, targets, source = _batch(args.batch_size)
    # every compiled model is a new specialisation of the same forward code;
    # without room for them all, dynamo silently falls back to eager
    config = torch._dynamo.config
    limit = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"
    setattr(config, limit, 4 * len(METHODS))
    modes = ["eager"] + (["compiled"] if args.compile else [])
    steppers = {}
    for mode in modes:
        for name in args.methods:
            torch.manual_seed(0)
            net = FCSpikingNet(spike_grad=METHODS[name](), num_steps=args.num_steps)
            if mode == "compiled":
                net = torch.compile(net)
            opt = torch.optim.Adam(net.parameters(), lr=5e-4)
            step = functools.partial(train_step, net, data, targets, opt)
            started = time.perf_counter()
            for _ in range(args.warmup):
                step()
            print(
                f"[{mode}] {name}: warm-up {time.perf_counter() - started:.1f} s", file=sys.stderr
            )
            steppers[(mode, name)] = step

    per_round = interleaved_medians(steppers, args.rounds, args.steps)

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    cpu = platform.processor() or platform.machine()
    machine = f"{cpu}, {torch.get_num_threads()} threads"
    print(
        f"\nTutorial-5 training step (batch {args.batch_size}, T={args.num_steps}, "
        f"{source} batch), "
        f"torch {torch.__version__}, {machine}, {stamp}"
    )
    print(
        f"{args.rounds} rounds x {args.steps} steps; ratio = median / median of "
        "fast_sigmoid in the same mode;"
        " spread = min-max of the per-round ratio"
    )
    header = f"{'mode':<9} {'method':<22} {'s/step':>8} {'ratio':>7} {'spread':>15} {'<=1.10x':>8}"
    print(header)
    print("-" * len(header))
    rows = []
    for mode in modes:
        base_rounds = per_round[(mode, "fast_sigmoid(25)")]
        base = statistics.median(base_rounds)
        for name in args.methods:
            rounds = per_round[(mode, name)]
            med = statistics.median(rounds)
            ratios = [t / b for t, b in zip(rounds, base_rounds, strict=True)]
            ratio = med / base
            ok = "base" if name == "fast_sigmoid(25)" else ("yes" if ratio <= 1.10 else "NO")
            print(
                f"{mode:<9} {name:<22} {med:>8.4f} {ratio:>6.2f}x "
                f"{min(ratios):>6.2f}-{max(ratios):<6.2f}x {ok:>8}"
            )
            rows.append(
                {
                    "date": stamp,
                    "machine": machine,
                    "torch": torch.__version__,
                    "mode": mode,
                    "method": name,
                    "seconds_per_step": f"{med:.5f}",
                    "ratio": f"{ratio:.3f}",
                    "ratio_min": f"{min(ratios):.3f}",
                    "ratio_max": f"{max(ratios):.3f}",
                    "batch_size": args.batch_size,
                    "num_steps": args.num_steps,
                    "data": source,
                    "command": " ".join(["python", *sys.argv]),
                }
            )
    print(f"\nwritten to {write_csv(args.out, rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
