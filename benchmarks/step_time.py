"""Time per training step of snnTorch's tutorial-5 network with
``fast_sigmoid(25)`` and with each estimator, measured in the same run.

Methods are timed in interleaved rounds (a fresh random order each round), so
drifts of the machine hit every method alike; the table reports, per method,
the median over rounds of the per-round median step time, the median over
rounds of its ratio to ``fast_sigmoid``'s step time *in the same round*, and
the spread of that ratio over rounds (machine noise), and the ratio of the
fastest rounds (other processes only ever add time, so on a shared machine
this is the least disturbed comparison).  Many short rounds make both
robust to the bursts of a shared machine.

    python benchmarks/step_time.py                 # eager, ~2 min on 2 cores
    python benchmarks/step_time.py --compile       # also torch.compile (slow to compile)
    python benchmarks/step_time.py --memory        # + peak memory per method (~1 min more)

Results are written to ``benchmarks/results/step_time.csv`` (or ``--out-dir``)
with the date, command and machine; ``--quick`` is a smoke test.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

import torch
from _results import (
    RESULTS,
    interleaved_medians,
    peak_rss_in_child,
    peak_rss_rise_mib,
    provenance,
    write_csv,
)
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


def _make_step(name: str, args, data, targets, compiled: bool = False):
    """One training step of the tutorial-5 network with method ``name``."""
    torch.manual_seed(0)
    net = FCSpikingNet(spike_grad=METHODS[name](), num_steps=args.num_steps)
    if compiled:
        net = torch.compile(net)
    opt = torch.optim.Adam(net.parameters(), lr=5e-4)
    return functools.partial(train_step, net, data, targets, opt)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--steps", type=int, default=4, help="timed steps per method per round")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--num-steps", type=int, default=25)
    p.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd models")
    p.add_argument(
        "--memory", action="store_true", help="peak RSS of each method, one subprocess each"
    )
    p.add_argument("--out-dir", type=Path, default=RESULTS, help="where step_time.csv goes")
    p.add_argument("--quick", action="store_true", help="smoke test: 1 round of 1 step, T=2")
    p.add_argument("--peak-rss-of", choices=list(METHODS), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.warmup, args.num_steps = 1, 1, 1, 2
    if "fast_sigmoid(25)" not in args.methods:
        args.methods.insert(0, "fast_sigmoid(25)")

    data, targets, source = _batch(args.batch_size)
    if args.peak_rss_of:  # the child of peak_rss_in_child
        step = _make_step(args.peak_rss_of, args, data, targets)
        print(f"{peak_rss_rise_mib(step, args.warmup + args.steps):.1f}")
        return 0
    # every compiled model is a new specialisation of the same forward code;
    # without room for them all, dynamo silently falls back to eager
    config = torch._dynamo.config
    limit = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"
    setattr(config, limit, 4 * len(METHODS))
    modes = ["eager"] + (["compiled"] if args.compile else [])
    steppers = {}
    for mode in modes:
        for name in args.methods:
            step = _make_step(name, args, data, targets, compiled=mode == "compiled")
            started = time.perf_counter()
            for _ in range(args.warmup):
                step()
            print(
                f"[{mode}] {name}: warm-up {time.perf_counter() - started:.1f} s", file=sys.stderr
            )
            steppers[(mode, name)] = step

    per_round = interleaved_medians(steppers, args.rounds, args.steps)
    rss = {}
    if args.memory:
        rss = {name: peak_rss_in_child(__file__, name, args) for name in args.methods}

    meta = provenance()
    print(
        f"\nTutorial-5 training step (batch {args.batch_size}, T={args.num_steps}, "
        f"{source} batch), torch {meta['torch']}, {meta['machine']}, {meta['date']}"
    )
    print(
        f"{args.rounds} rounds x {args.steps} steps; ratio = step time / that of "
        "fast_sigmoid in the same round and mode, median over rounds;"
        " spread = min-max of the per-round ratio; best = fastest round's step time over"
        " fast_sigmoid's fastest (interference only adds time)"
    )
    mem_col = f" {'peak RSS':>9}" if rss else ""
    header = (
        f"{'mode':<9} {'method':<22} {'s/step':>8} {'ratio':>7} {'spread':>15} {'best':>6}"
        f" {'<=1.10x':>8}"
        f"{mem_col}"
    )
    print(header)
    print("-" * len(header))
    rows = []
    for mode in modes:
        base_rounds = per_round[(mode, "fast_sigmoid(25)")]
        for name in args.methods:
            rounds = per_round[(mode, name)]
            med = statistics.median(rounds)
            ratios = [t / b for t, b in zip(rounds, base_rounds, strict=True)]
            ratio = statistics.median(ratios)
            best = min(rounds) / min(base_rounds)
            ok = "base" if name == "fast_sigmoid(25)" else ("yes" if ratio <= 1.10 else "NO")
            mem = rss.get(name) if mode == "eager" else None  # measured eager only
            mem_txt = (f" {mem:>5.0f} MiB" if mem is not None else f" {'-':>9}") if rss else ""
            print(
                f"{mode:<9} {name:<22} {med:>8.4f} {ratio:>6.2f}x "
                f"{min(ratios):>6.2f}-{max(ratios):<6.2f}x {best:>5.2f}x {ok:>8}{mem_txt}"
            )
            rows.append(
                {
                    **meta,
                    "mode": mode,
                    "method": name,
                    "seconds_per_step": f"{med:.5f}",
                    "ratio": f"{ratio:.3f}",
                    "ratio_min": f"{min(ratios):.3f}",
                    "ratio_max": f"{max(ratios):.3f}",
                    "ratio_of_fastest_rounds": f"{best:.3f}",
                    "peak_rss_rise_mib": "" if mem is None else f"{mem:.1f}",
                    "batch_size": args.batch_size,
                    "num_steps": args.num_steps,
                    "data": source,
                }
            )
    if rss:
        print(
            "peak RSS = rise of the peak resident memory above the built network over "
            "warm-up + timed steps, each method alone in a subprocess (eager)"
        )
    print(f"\nwritten to {write_csv(args.out_dir / 'step_time.csv', rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
