"""Is it worth fusing the two products of local reparameterisation?

``m = μ x + μ_b`` and ``v = σ² x² + σ²_b`` are two matrix products (or two
convolutions) per layer.  This times forward + backward of each way of
computing them, on the layer shapes of snnTorch's tutorials 5 and 6 (batch
128, binary spike inputs), in interleaved rounds:

* ``two products`` -- what :mod:`snntorch_bayes.gaussian` does;
* ``bmm`` -- both products in one batched multiply (``torch.baddbmm``);
* ``concatenated weights`` -- one product of ``x`` against ``[μ; σ²]``
  (valid only for binary inputs, where ``x² = x``);
* ``grouped conv`` -- one convolution of ``[x, x²]`` against ``[μ, σ²]`` with
  twice the groups.

    python benchmarks/lrt_fusion.py     # about a minute on 2 cores

Results go to ``benchmarks/results/lrt_fusion.csv`` (or ``--out-dir``);
``--quick`` is a smoke test.
"""

from __future__ import annotations

import argparse
import functools
import statistics
from pathlib import Path

import torch
import torch.nn.functional as F
from _results import RESULTS, interleaved_medians, provenance, write_csv


def two_linear(x, mu, var, bm, bv):
    return F.linear(x, mu, bm), F.linear(x * x, var, bv)


def bmm_linear(x, mu, var, bm, bv):
    out = torch.baddbmm(
        torch.stack((bm, bv)).unsqueeze(1), torch.stack((x, x * x)), torch.stack((mu, var)).mT
    )
    return out[0], out[1]


def concatenated_linear(x, mu, var, bm, bv):
    return F.linear(x, torch.cat((mu, var)), torch.cat((bm, bv))).chunk(2, -1)


def two_conv(x, mu, var, bm, bv):
    return F.conv2d(x, mu, bm), F.conv2d(x * x, var, bv)


def grouped_conv(x, mu, var, bm, bv):
    out = F.conv2d(torch.cat((x, x * x), 1), torch.cat((mu, var)), torch.cat((bm, bv)), groups=2)
    return out.chunk(2, 1)


LINEAR = [two_linear, bmm_linear, concatenated_linear]
CONV = [two_conv, grouped_conv]
CASES = {
    "tutorial 5 fc1 (784 -> 1000)": ((128, 784), (1000, 784), LINEAR),
    "tutorial 5 fc2 (1000 -> 10)": ((128, 1000), (10, 1000), LINEAR),
    "tutorial 6 conv1 (1 -> 12, 5x5)": ((128, 1, 28, 28), (12, 1, 5, 5), CONV),
    "tutorial 6 conv2 (12 -> 64, 5x5)": ((128, 12, 12, 12), (64, 12, 5, 5), CONV),
}


def _step(f, x, mu, rho, bm, br):
    var, bv = F.softplus(rho).square(), F.softplus(br).square()
    m, v = f(x, mu, var, bm, bv)
    (m.sum() + v.sum()).backward()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--out-dir", type=Path, default=RESULTS, help="where lrt_fusion.csv goes")
    p.add_argument("--quick", action="store_true", help="smoke test: 1 round of 1 step")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps = 1, 1
    g = torch.Generator().manual_seed(0)
    rows = []
    print(f"forward + backward, ms (median of {args.rounds} interleaved rounds)")
    for case, (x_shape, w_shape, methods) in CASES.items():
        x = (torch.rand(x_shape, generator=g) > 0.7).float()  # spikes
        params = [
            torch.randn(w_shape, generator=g, requires_grad=True),
            torch.randn(w_shape, generator=g, requires_grad=True),
            torch.randn(w_shape[0], generator=g, requires_grad=True),
            torch.randn(w_shape[0], generator=g, requires_grad=True),
        ]
        mu, rho, bm, br = params
        for f in methods:  # warm-up, and all ways agree
            _step(f, x, *params)
            ref = two_linear if "linear" in f.__name__ else two_conv
            var, bv = F.softplus(rho).square(), F.softplus(br).square()
            for got, want in zip(f(x, mu, var, bm, bv), ref(x, mu, var, bm, bv), strict=True):
                torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-3)
        steppers = {f.__name__: functools.partial(_step, f, x, *params) for f in methods}
        times = interleaved_medians(steppers, args.rounds, args.steps, log=False)
        base = statistics.median(times[methods[0].__name__])
        for f in methods:
            ms = statistics.median(times[f.__name__]) * 1e3
            ratio = ms / (base * 1e3)
            print(f"{case:<34} {f.__name__:<22} {ms:8.3f} ms  {ratio:5.2f}x")
            rows.append(
                {"case": case, "method": f.__name__, "ms": round(ms, 4), "ratio": round(ratio, 3)}
            )
    meta = provenance()
    print(f"written to {write_csv(args.out_dir / 'lrt_fusion.csv', [{**meta, **r} for r in rows])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
