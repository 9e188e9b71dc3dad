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
from pathlib import Path

import torch
from _results import RESULTS, provenance, write_csv

from snntorch_bayes import diagnostics, surrogate
from snntorch_bayes.surrogate import SpikeEstimator

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
MOMENTS = ("bias2", "variance", "mse")


def random_problem(
    sizes: list[int], seed: int, gain: float
) -> tuple[diagnostics.BinaryMLP, torch.Tensor, torch.Tensor]:
    """Random network number ``seed``: a ``BinaryMLP(sizes)`` (logistic noise,
    scale 1) with its initial weights and biases multiplied by ``gain`` (larger
    gains saturate more units), a standard normal input and target."""
    torch.manual_seed(seed)
    net = diagnostics.BinaryMLP(sizes, noise="logistic", scale=1.0)
    with torch.no_grad():
        for param in net.parameters():
            param.mul_(gain)
    x = torch.randn(sizes[0], dtype=torch.float64)
    y = torch.randn(sizes[-1], dtype=torch.float64)
    return net, x, y


def mean_moments(
    sizes: list[int], estimators: dict[str, SpikeEstimator], seeds: int, gain: float
) -> dict[str, dict[str, float]]:
    """Squared bias norm, total variance and MSE of every estimator (scale 1)
    over the stochastic layers (:func:`diagnostics.compare_estimators`), each
    averaged over the random problems ``0 .. seeds - 1`` of
    :func:`random_problem`; keyed by the estimators' labels."""
    rows: dict[str, list[dict]] = {label: [] for label in estimators}
    for seed in range(seeds):
        net, x, y = random_problem(sizes, seed, gain)
        for row in diagnostics.compare_estimators(net, estimators, x, y):
            rows[row["estimator"]].append(row)
    return {
        label: {k: statistics.fmean(r[k] for r in mine) for k in MOMENTS}
        for label, mine in rows.items()
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--gain", type=float, default=2.0, help="weight scale (saturation)")
    p.add_argument("--out-dir", type=Path, default=RESULTS, help="where estimator_table.csv goes")
    p.add_argument("--quick", action="store_true", help="smoke test: one seed")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds = 1
    meta = provenance()
    stamp = meta["date"]
    rows = []
    for net_name, sizes in NETWORKS.items():
        print(
            f"\n{net_name}: {sum(sizes[1:-1])} stochastic units, logistic noise, "
            f"weights x{args.gain}, mean over {args.seeds} seeds ({stamp})"
        )
        header = f"{'estimator':<16} {'bias^2':>11} {'variance':>11} {'MSE':>11}"
        print(header)
        print("-" * len(header))
        estimators = {name: make() for name, make in ESTIMATORS.items()}
        for est_name, mean in mean_moments(sizes, estimators, args.seeds, args.gain).items():
            print(
                f"{est_name:<16} {mean['bias2']:>11.3e} {mean['variance']:>11.3e} "
                f"{mean['mse']:>11.3e}"
            )
            rows.append(
                {
                    **meta,
                    "network": net_name,
                    "estimator": est_name,
                    "seeds": args.seeds,
                    "gain": args.gain,
                    **{k: f"{v:.6e}" for k, v in mean.items()},
                }
            )
    print(f"\nwritten to {write_csv(args.out_dir / 'estimator_table.csv', rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
