"""Exact bias and variance of every estimator on small stochastic binary
networks, by enumeration (snntorch_bayes.diagnostics).

Two networks, both with logistic noise (scale 1) and a squared-error readout:
one stochastic layer (the loss is quadratic in the spikes, where IW-ST(1) is
unbiased) and two stochastic layers (where it need not be).  Each row is the
mean over ``--seeds`` random networks/inputs of the squared bias norm, the
total variance and their sum (MSE) over the parameters of the stochastic
layers.

    python benchmarks/estimator_table.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
from datetime import datetime, timezone

import torch
from _results import RESULTS, write_csv

from snntorch_bayes import diagnostics, surrogate

ESTIMATORS = {
    "ST (IW-ST(0))": lambda: surrogate.straight_through(scale=1.0),
    "IW-ST(0.25)": lambda: surrogate.iw_st(p=0.25, scale=1.0),
    "IW-ST(0.5)": lambda: surrogate.iw_st(p=0.5, scale=1.0),
    "IW-ST(0.75)": lambda: surrogate.iw_st(p=0.75, scale=1.0),
    "IW-ST(1)": lambda: surrogate.iw_st(p=1.0, scale=1.0),
    "IW-ST(1), w<=4": lambda: surrogate.iw_st(p=1.0, scale=1.0, max_weight=4.0),
    "AGR tau=1": lambda: surrogate.gumbel_rao(tau=1.0, scale=1.0),
    "AGR tau=0.5": lambda: surrogate.gumbel_rao(tau=0.5, scale=1.0),
    "AGR tau=0.1": lambda: surrogate.gumbel_rao(tau=0.1, scale=1.0),
}

NETWORKS = {"1 layer [6-10-3]": [6, 10, 3], "2 layers [6-6-6-3]": [6, 6, 6, 3]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--gain", type=float, default=2.0, help="weight scale (saturation)")
    p.add_argument("--out", default=str(RESULTS / "estimator_table.csv"))
    args = p.parse_args(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = []
    for net_name, sizes in NETWORKS.items():
        print(
            f"\n{net_name}: {sum(sizes[1:-1])} stochastic units, logistic noise, "
            f"weights x{args.gain}, mean over {args.seeds} seeds ({stamp})"
        )
        header = f"{'estimator':<16} {'bias^2':>11} {'variance':>11} {'MSE':>11}"
        print(header)
        print("-" * len(header))
        for est_name, make in ESTIMATORS.items():
            stats = []
            for seed in range(args.seeds):
                torch.manual_seed(seed)
                net = diagnostics.BinaryMLP(sizes, noise="logistic", scale=1.0)
                with torch.no_grad():
                    for param in net.parameters():
                        param.mul_(args.gain)
                x = torch.randn(sizes[0], dtype=torch.float64)
                y = torch.randn(sizes[-1], dtype=torch.float64)
                (row,) = diagnostics.compare_estimators(net, {est_name: make()}, x, y)
                stats.append(row)
            mean = {k: statistics.fmean(r[k] for r in stats) for k in ("bias2", "variance", "mse")}
            print(
                f"{est_name:<16} {mean['bias2']:>11.3e} {mean['variance']:>11.3e} "
                f"{mean['mse']:>11.3e}"
            )
            rows.append(
                {
                    "date": stamp,
                    "network": net_name,
                    "estimator": est_name,
                    "seeds": args.seeds,
                    "gain": args.gain,
                    **{k: f"{v:.6e}" for k, v in mean.items()},
                    "command": " ".join(["python", *sys.argv]),
                }
            )
    print(f"\nwritten to {write_csv(args.out, rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
