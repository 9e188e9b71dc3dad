"""Where an estimator's share of the step time goes: the spike function alone
on one hidden layer's membranes (batch 128 x 1000 units, float32), forward
and backward, against ``fast_sigmoid(25)``, with the elementwise building
blocks it is made of, measured in the same run.

A tutorial-5 training step calls the spike function twice per time step
(snnTorch's reset, then the spike; only the spike is differentiated), so
per training step of T steps it costs about ``T * (2 forward + 1 backward)``
of the figures below; the ``extra ms/step`` column is that, minus the same
for ``fast_sigmoid``.  Compare it with the step time in ``step_time.csv``.

    python benchmarks/surrogate_cost.py            # ~1 min on 2 cores
    python benchmarks/surrogate_cost.py --quick    # smoke test

Written to ``benchmarks/results/surrogate_cost.csv`` (or ``--out-dir``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
from _results import RESULTS, provenance, write_csv
from step_time import METHODS

#: Elementwise operations on the same tensor, for scale (one call each).
BLOCKS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "x * 2 (one arithmetic op)": lambda x: x * 2.0,
    "x > 0 (comparison)": lambda x: x > 0,
    "sigmoid": torch.sigmoid,
    "exp": torch.exp,
    "log(|x|)": lambda x: torch.log(x.abs()),
    "erf": torch.erf,
    "torch.rand_like": torch.rand_like,
}


def _mean_us(fn: Callable[[], object], calls: int) -> float:
    """Mean microseconds per call over ``calls`` calls."""
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls * 1e6


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--calls", type=int, default=100, help="calls per method per round")
    p.add_argument("--num-steps", type=int, default=25, help="T, for the per-step column")
    p.add_argument("--out-dir", type=Path, default=RESULTS)
    p.add_argument("--quick", action="store_true", help="smoke test: 2 rounds of 3 calls")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.calls = 2, 3

    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(128, 1000, generator=g)
    grad = torch.randn(128, 1000, generator=g)
    timers: dict[tuple[str, str], Callable[[], object]] = {}
    for name, make in METHODS.items():
        est = make()
        x = x0.clone().requires_grad_()

        def forward(est=est, x=x):
            return est(x)

        def forward_backward(est=est, x=x):
            est(x).backward(grad)
            x.grad = None

        timers[(name, "forward")] = forward
        timers[(name, "forward+backward")] = forward_backward
    for name, block in BLOCKS.items():
        timers[(name, "block")] = lambda block=block: block(x0)

    for fn in timers.values():  # warm-up
        fn()
    per_round: dict[tuple[str, str], list[float]] = {key: [] for key in timers}
    for _ in range(args.rounds):  # interleaved, one round of every timer at a time
        for key, fn in timers.items():
            per_round[key].append(_mean_us(fn, args.calls))
    us = {key: statistics.median(v) for key, v in per_round.items()}

    def per_step_ms(name: str) -> float:
        fwd = us[(name, "forward")]
        bwd = us[(name, "forward+backward")] - fwd
        return args.num_steps * (2 * fwd + bwd) / 1e3

    meta = provenance()
    base = per_step_ms("fast_sigmoid(25)")
    print(
        f"\nSpike function on a [128, 1000] float32 tensor, torch {meta['torch']}, "
        f"{meta['machine']}, {meta['date']}; median of {args.rounds} interleaved rounds"
    )
    header = f"{'method':<24} {'fwd us':>8} {'fwd+bwd us':>11} {'ms/step':>8} {'extra ms/step':>14}"
    print(header)
    print("-" * len(header))
    rows = []
    for name in METHODS:
        fwd, both = us[(name, "forward")], us[(name, "forward+backward")]
        step = per_step_ms(name)
        print(f"{name:<24} {fwd:>8.1f} {both:>11.1f} {step:>8.2f} {step - base:>+14.2f}")
        rows.append(
            {
                **meta,
                "kind": "spike function",
                "name": name,
                "forward_us": f"{fwd:.1f}",
                "forward_backward_us": f"{both:.1f}",
                "ms_per_training_step": f"{step:.3f}",
                "extra_ms_per_training_step": f"{step - base:.3f}",
                "num_steps": args.num_steps,
            }
        )
    print(f"\n{'building block':<28} {'us/call':>8}")
    for name in BLOCKS:
        value = us[(name, "block")]
        print(f"{name:<28} {value:>8.1f}")
        rows.append(
            {
                **meta,
                "kind": "building block",
                "name": name,
                "forward_us": f"{value:.1f}",
                "forward_backward_us": "",
                "ms_per_training_step": "",
                "extra_ms_per_training_step": "",
                "num_steps": args.num_steps,
            }
        )
    print(f"\nwritten to {write_csv(args.out_dir / 'surrogate_cost.csv', rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
