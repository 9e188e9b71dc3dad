"""Figure for the docs: the surrogate derivative each estimator uses at the
emitted (Heaviside) outcome, next to ``fast_sigmoid(25)``, and the bias
penalty of eq. (6) against the firing probability.

    python benchmarks/plot_estimators.py      # writes docs/img/estimators.png

``--out-dir DIR`` writes ``DIR/estimators.png`` instead; ``--quick`` is
accepted for the benchmark runner (the figure is cheap either way).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from snntorch import surrogate as snn_surrogate

from snntorch_bayes import bias_penalty, surrogate

IMG = Path(__file__).resolve().parents[1] / "docs" / "img"


def _derivative(spike_grad, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_()
    spike_grad(x).sum().backward()
    return x.grad


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", type=Path, default=IMG, help="where estimators.png goes")
    p.add_argument("--quick", action="store_true", help="same figure (for the runner)")
    out = p.parse_args(argv).out_dir / "estimators.png"
    x = torch.linspace(-1.5, 1.5, 1201, dtype=torch.float64)
    curves = {
        "fast_sigmoid(25)": snn_surrogate.fast_sigmoid(slope=25),
        "straight_through()": surrogate.straight_through(),
        "iw_st(p=0.5)": surrogate.iw_st(p=0.5),
        "iw_st(p=1)": surrogate.iw_st(p=1.0),
        "gumbel_rao(tau=1)": surrogate.gumbel_rao(tau=1.0),
        "gumbel_rao(tau=0.3)": surrogate.gumbel_rao(tau=0.3),
    }
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, spike_grad in curves.items():
        style = "k--" if name.startswith("fast") else "-"
        left.plot(x, _derivative(spike_grad, x), style, label=name)
    left.set_xlabel("x = mem - threshold")
    left.set_ylabel("surrogate dz/dx at z = H(x)")
    left.set_title("Backward pass (scale s = 0.25)")
    left.legend(fontsize=8)
    prob = torch.linspace(0.001, 0.999, 999, dtype=torch.float64)
    for p in (0.0, 0.25, 0.5, 0.75, 1.0):
        penalty = torch.stack([bias_penalty(q.view(1), p) for q in prob])
        right.plot(prob, penalty, label=f"p = {p}")
    right.set_xlabel("firing probability")
    right.set_ylabel("c_A^2 + c_D^2  (eq. 6)")
    right.set_title("Bias penalty of IW-ST(p)")
    right.legend(fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
