"""Estimator study: the IW-ST family's bias and variance, exactly, and what
the estimators do to training on MNIST, with and without the bias penalty.

**Exact part** (by enumeration, :mod:`snntorch_bayes.diagnostics`; no sampling
error).  On the two small stochastic binary networks of
``estimator_table.py`` (logistic noise, scale 1, weights x ``--gain``,
squared-error readout; mean over ``--exact-seeds`` random networks and
inputs): squared bias norm, total variance and MSE of the gradient of the
stochastic layers' parameters, for IW-ST(p) against p in [0, 1] and for AGR
(analytic Gumbel-Rao) against tau in (0, 1].  Then theory eq. (5) against the
exact bias for a single stochastic unit, over its firing probability, for a
squared-error readout (quadratic in the spike: eq. (5) should be exact) and a
softmax cross-entropy readout (not quadratic: eq. (5) is an approximation).

**Training part.**  The tutorial-5 network (``FCSpikingNet``: 784-1000-10,
``snn.Leaky(beta=0.95)``, 25 steps, membrane cross-entropy summed over steps,
Adam 5e-4) trained for ``--steps`` steps of batch ``--batch-size`` with each
``spike_grad`` below; at each seed every method starts from the same
initialisation and sees the same batches.  Methods: snnTorch's
``fast_sigmoid(25)`` and ``atan()``, and the drop-in estimators (deterministic
Heaviside forward) ``straight_through()``, ``iw_st(p=0.5)``, ``iw_st(p=1)``
and ``gumbel_rao(tau=1)`` (AGR), all at the default noise scale s = 0.25.

*Bias penalty.*  With ``+ penalty`` the loss is ``membrane CE + lambda * R``,
R the bias penalty of theory eq. (6) at the estimator's own p, averaged over
every unit of both layers, every time step and every example, with the firing
probability of the noisy-neuron model computed from each layer's membrane,
``pi = sigmoid((U - threshold) / s)`` (:func:`snntorch_bayes.record_firing`,
which uses the estimator's own noise model where it is one of ours).  lambda is
``--penalty-weight``, by default the number of time steps T (25): the data
term is a *sum* over time steps of per-step cross-entropies while R is a
*mean*, so lambda = T weighs the penalty of every time step like that step's
cross-entropy.  (In a 60-step probe, lambda = 1 and 10 moved the saturation
below by under 0.02.)  pi is clamped to [1e-6, 1 - 1e-6] inside the penalty:
the committed results were made that way, when ``functional.bias_penalty``
still gave NaN gradients at a saturated pi in {0, 1} for 0 < p < 1 (fixed
since: it now gives 0 there), and the clamp stays so that they reproduce.
IW-ST(1) has R = 0 identically, so its penalised run would equal the
unpenalised one and is not trained; AGR, ``fast_sigmoid`` and ``atan`` have
no eq. (6).  For every method the study also logs the
*saturation* ``mean (2 pi - 1)^2`` (eq. (6) at p = 0: 0 when every unit sits
at threshold, 1 when every unit is far from it), with ``s = 0.25`` for the
snnTorch surrogates too.

Recorded: training loss (the data term) and penalty/saturation curves, and at
the end the test accuracy of the spike count (argmax of summed output spikes,
tutorial 5) and of the membrane readout (argmax of the time-averaged output
membrane) on the first ``--test-size`` MNIST test images.

Run (from the repository root; needs MNIST, e.g.
``SNNTORCH_BAYES_MNIST=../shared/data/mnist``)::

    python benchmarks/estimator_study.py            # full: benchmarks/results/
    python benchmarks/estimator_study.py --quick    # CI smoke run, < 1 minute

Full mode writes into ``--out-dir`` (default ``benchmarks/results``):
``estimator_study_exact.csv``, ``estimator_study_eq5.csv``,
``estimator_study_exact.png``, ``estimator_study_training.csv`` (mean and std
over seeds per method), ``estimator_study_curves.csv`` (per method, seed and
block of ``--curve-every`` steps) and ``estimator_study_training.png``.
``--quick`` shrinks every budget and, unless ``--out-dir`` is given, writes
into a fresh temporary folder (printed), never over the committed results.
The study runs on one thread by default (``--threads``): on a shared CPU
machine oversubscribed threads cost far more than they gain.

The full-mode training budget (75 steps of batch 128, i.e. 9,600 images, a
sixth of an epoch; 3 seeds; 5,000 test images) is sized to finish in about 15
minutes on the project's shared 2-core machines; raise ``--steps`` and
``--test-size`` where more time is available.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from _results import RESULTS, provenance, save_figure, write_csv
from estimator_table import MOMENTS, NETWORKS, mean_moments
from snntorch import surrogate as snn_surrogate

import snntorch_bayes as sb
from snntorch_bayes import datasets, diagnostics, surrogate
from snntorch_bayes.functional import bias_coefficients, bias_penalty
from snntorch_bayes.models import FCSpikingNet
from snntorch_bayes.training import fit, membrane_ce_loss, predict

#: noise model the snnTorch surrogates' saturation is measured in
REFERENCE_NOISE, REFERENCE_SCALE = "logistic", 0.25
#: pi is clamped to [EPS, 1 - EPS] inside the penalty, as when the results were made
EPS = 1e-6


# --------------------------------------------------------------------------
# Exact part
# --------------------------------------------------------------------------


def exact_sweep(sizes, ps, taus, seeds, gain) -> list[dict]:
    """Mean bias^2 / variance / MSE of IW-ST(p) for every p and AGR for every
    tau on the random problems of ``estimator_table``."""
    estimators = {("IW-ST", "p", p): surrogate.iw_st(p=p, scale=1.0) for p in ps}
    estimators |= {("AGR", "tau", t): surrogate.gumbel_rao(tau=t, scale=1.0) for t in taus}
    labelled = {f"{fam} {name}={v:g}": est for (fam, name, v), est in estimators.items()}
    means = mean_moments(sizes, labelled, seeds, gain)
    rows = []
    for (family, name, value), label in zip(estimators, labelled, strict=True):
        rows.append({"family": family, "parameter": name, "value": value, **means[label]})
    return rows


def _single_unit(seed: int, loss_name: str):
    """A network with one stochastic unit (3 inputs, 3 readouts), its input,
    target and loss."""
    torch.manual_seed(seed)
    net = diagnostics.BinaryMLP([3, 1, 3], noise="logistic", scale=1.0)
    with torch.no_grad():
        net.layers[1].weight.mul_(2.0)  # a clearly non-zero L(1) - L(0)
    x = torch.randn(3, dtype=torch.float64)
    if loss_name == "squared error":
        return net, x, torch.randn(3, dtype=torch.float64), diagnostics.squared_error
    target = torch.tensor(0)

    def cross_entropy(out, t):
        return F.cross_entropy(out, t.expand(out.shape[0]), reduction="none")

    return net, x, target, cross_entropy


def eq5_check(ps, pre_activations, seed: int = 0) -> list[dict]:
    """Exact bias of IW-ST(p) for one stochastic unit against eq. (5), at
    every pre-activation ``a`` (firing probability sigmoid(a))."""
    rows = []
    for loss_name in ("squared error", "cross-entropy"):
        net, x, target, loss = _single_unit(seed, loss_name)
        # L'(z) at z = 0 and 1, the derivative of the loss through the readout
        z = torch.tensor([[0.0], [1.0]], dtype=torch.float64, requires_grad=True)
        (grad,) = torch.autograd.grad(loss(net.layers[1](z), target).sum(), z)
        slope_0, slope_1 = grad[:, 0].tolist()
        mean_slope, diff_slope = (slope_1 + slope_0) / 2, slope_1 - slope_0
        with torch.no_grad():
            base = float(net.layers[0].weight[0] @ x)
        for a in pre_activations:
            with torch.no_grad():
                net.layers[0].bias.fill_(a - base)  # pre-activation = a
            prob = torch.sigmoid(torch.tensor(a, dtype=torch.float64))
            density = float(prob * (1 - prob))
            for p in ps:
                m = diagnostics.estimator_moments(
                    net, surrogate.iw_st(p=p, scale=1.0), x, target, loss
                )
                exact = float(m.bias["layers.0.bias"][0])
                c_a, c_d = bias_coefficients(prob, p)
                predicted = density * float(c_a * mean_slope + c_d * diff_slope / 2)
                rows.append(
                    {
                        "loss": loss_name,
                        "p": p,
                        "pre_activation": a,
                        "firing_probability": float(prob),
                        "exact_bias": exact,
                        "eq5_bias": predicted,
                        "abs_error": abs(exact - predicted),
                    }
                )
    return rows


def _print_exact(rows: list[dict]) -> None:
    for network in dict.fromkeys(r["network"] for r in rows):
        mine = [r for r in rows if r["network"] == network]
        print(f"\n{network}: mean over {mine[0]['seeds']} random networks, gain {mine[0]['gain']}")
        header = f"{'estimator':<14} {'bias^2':>11} {'variance':>11} {'MSE':>11}"
        print(header)
        print("-" * len(header))
        for r in mine:
            name = f"{r['family']} {r['parameter']}={r['value']:g}"
            print(f"{name:<14} {r['bias2']:>11.3e} {r['variance']:>11.3e} {r['mse']:>11.3e}")
        for family in ("IW-ST", "AGR"):
            fam = [r for r in mine if r["family"] == family]
            where = ", ".join(
                f"{k} at {fam[0]['parameter']}={min(fam, key=lambda r, k=k: r[k])['value']:g}"
                for k in MOMENTS
            )
            print(f"  {family} minima: {where}")


def _print_eq5(rows: list[dict]) -> None:
    print("\nEq. (5) against the exact bias of one stochastic unit (max over the grid)")
    header = f"{'loss':<14} {'p':>5} {'max |exact bias|':>17} {'max |exact - eq5|':>18}"
    print(header)
    print("-" * len(header))
    for loss in dict.fromkeys(r["loss"] for r in rows):
        for p in dict.fromkeys(r["p"] for r in rows):
            mine = [r for r in rows if r["loss"] == loss and r["p"] == p]
            big = max(abs(r["exact_bias"]) for r in mine)
            err = max(r["abs_error"] for r in mine)
            print(f"{loss:<14} {p:>5.2f} {big:>17.3e} {err:>18.3e}")


def _plot_exact(rows: list[dict], eq5: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    networks = list(dict.fromkeys(r["network"] for r in rows))
    fig, axes = plt.subplots(len(networks), 3, figsize=(14, 3.6 * len(networks)), squeeze=False)
    styles = {"bias2": ("bias²", "C3"), "variance": ("variance", "C0"), "mse": ("MSE", "k")}
    for row_axes, network in zip(axes, networks, strict=True):
        for ax, family in zip(row_axes[:2], ("IW-ST", "AGR"), strict=True):
            mine = [r for r in rows if r["network"] == network and r["family"] == family]
            values = [r["value"] for r in mine]
            # values below 1e-8 x the largest (IW-ST(1)'s rounding-level bias on the
            # one-layer network) are drawn at that floor as triangles
            floor = 1e-8 * max(r[k] for r in mine for k in styles)
            for key, (label, colour) in styles.items():
                y = [max(r[key], floor) for r in mine]
                ax.plot(values, y, "o-", color=colour, label=label, ms=3)
                low = [(v, floor) for v, r in zip(values, mine, strict=True) if r[key] < floor]
                if low:
                    ax.plot(*zip(*low, strict=True), "v", color=colour, ms=7)
                    ax.annotate(
                        f"{label} < {floor:.0e}", low[0], (0.5, 0.1), textcoords="axes fraction"
                    )
            ax.set_yscale("log")
            name = mine[0]["parameter"]
            ax.set_xlabel("p" if name == "p" else "τ")
            ax.set_title(f"{network}: {family}({name})", fontsize=10)
            ax.legend(fontsize=8)
        row_axes[0].set_ylabel("sum over parameters")
    losses = list(dict.fromkeys(r["loss"] for r in eq5))
    for ax, loss in zip(axes[:, 2], losses, strict=False):
        for i, p in enumerate(dict.fromkeys(r["p"] for r in eq5)):
            mine = [r for r in eq5 if r["loss"] == loss and r["p"] == p]
            prob = [r["firing_probability"] for r in mine]
            ax.plot(prob, [r["eq5_bias"] for r in mine], "-", color=f"C{i}", label=f"p={p:g}")
            ax.plot(prob, [r["exact_bias"] for r in mine], "o", color=f"C{i}", ms=3)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel("firing probability π")
        ax.set_ylabel("bias of ∂E[L]/∂b")
        ax.set_title(f"one unit, {loss}: eq. (5) (lines) vs exact (dots)", fontsize=10)
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def run_exact(args, out_dir: Path) -> None:
    rows = []
    for network, sizes in NETWORKS.items():
        for r in exact_sweep(sizes, args.ps, args.taus, args.exact_seeds, args.gain):
            common = {"network": network, "seeds": args.exact_seeds, "gain": args.gain}
            rows.append({**provenance(), **common, **r})
    _print_exact(rows)
    eq5 = [{**provenance(), **r} for r in eq5_check(args.eq5_ps, args.eq5_grid)]
    _print_eq5(eq5)
    fmt = {k: "{:.6e}" for k in (*MOMENTS, "exact_bias", "eq5_bias", "abs_error")}
    for name, data in (("exact", rows), ("eq5", eq5)):
        text = [{k: fmt[k].format(v) if k in fmt else v for k, v in r.items()} for r in data]
        print(f"written to {write_csv(out_dir / f'estimator_study_{name}.csv', text)}")
    figure = _plot_exact(rows, eq5, out_dir / "estimator_study_exact.png")
    print(f"written to {figure}")


# --------------------------------------------------------------------------
# Training part
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Method:
    """One training configuration: a ``spike_grad`` and whether the bias
    penalty joins the loss."""

    name: str
    make: Callable[[], Callable[[torch.Tensor], torch.Tensor]]
    penalty: bool = False


METHODS = [
    Method("fast_sigmoid(25)", lambda: snn_surrogate.fast_sigmoid(slope=25)),
    Method("atan()", lambda: snn_surrogate.atan()),
    Method("ST", surrogate.straight_through),
    Method("ST + penalty", surrogate.straight_through, penalty=True),
    Method("IW-ST(0.5)", lambda: surrogate.iw_st(p=0.5)),
    Method("IW-ST(0.5) + penalty", lambda: surrogate.iw_st(p=0.5), penalty=True),
    Method("IW-ST(1)", lambda: surrogate.iw_st(p=1.0)),
    Method("AGR(tau=1)", lambda: surrogate.gumbel_rao(tau=1.0)),
]


def _penalty(record: sb.FiringRecord, p: float) -> torch.Tensor:
    """Eq. (6) at exponent ``p`` over every recorded unit, step and example
    (pi clamped to [EPS, 1 - EPS])."""
    prob = torch.cat([q.flatten() for q in record.probabilities]).clamp(EPS, 1 - EPS)
    return bias_penalty(prob, p)


def _load_mnist(args):
    train = datasets.mnist(args.data_root, train=True, local_copy=args.mnist_dir)
    test = datasets.mnist(args.data_root, train=False, local_copy=args.mnist_dir)

    # the tensors torchvision's ToTensor() gives, for the whole split at once
    def tensors(ds, n=None):
        return ds.data[:n].unsqueeze(1).float().div(255), ds.targets[:n]

    return tensors(train), tensors(test, args.test_size)


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, mininterval=2.0, dynamic_ncols=True, file=sys.stderr)


def train_one(method: Method, seed: int, train, test, args) -> dict:
    """Train one method at one seed; the per-step curves and final metrics."""
    images, labels = train
    batches = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    batches = batches[: args.steps * args.batch_size].view(args.steps, args.batch_size)
    torch.manual_seed(seed)  # the same initialisation for every method
    spike_grad = method.make()
    net = FCSpikingNet(spike_grad=spike_grad, num_steps=args.num_steps)
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999))
    p = getattr(spike_grad, "p", None)  # the IW-ST family's exponent, if any
    curves = {"loss": [], "penalty": [], "saturation": []}
    bar = _progress(args.steps, f"{method.name} seed {seed}", args.progress)
    started = time.perf_counter()
    with sb.record_firing(
        net, keep_graph=method.penalty, noise=REFERENCE_NOISE, scale=REFERENCE_SCALE
    ) as record:
        terms = {}

        def loss_fn(idx: torch.Tensor) -> torch.Tensor:
            record.clear()
            _, mem_rec = net(images[idx])
            terms["data"] = membrane_ce_loss(mem_rec, labels[idx])
            terms["penalty"] = _penalty(record, p) if p is not None else None
            if method.penalty:
                return terms["data"] + args.penalty_weight * terms["penalty"]
            return terms["data"]

        @torch.no_grad()
        def log(step: int, loss: float) -> None:
            curves["loss"].append(terms["data"].item())
            penalty = terms["penalty"]
            curves["penalty"].append(math.nan if penalty is None else penalty.item())
            curves["saturation"].append(_penalty(record, 0.0).item())
            if bar is not None:
                bar.update()
                if step % 20 == 0:
                    bar.set_postfix(loss=f"{curves['loss'][-1]:.3f}")

        diverged = fit(net, optimizer, batches, loss_fn, after_step=log).diverged_at
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - started
    if diverged is not None:
        print(f"{method.name} seed {seed}: non-finite loss at step {diverged}", file=sys.stderr)
        spike_acc = membrane_acc = math.nan
    else:
        x_test, y_test = test
        loader = [
            (x_test[i : i + args.eval_batch], y_test[i : i + args.eval_batch])
            for i in range(0, len(y_test), args.eval_batch)
        ]
        out = predict(net, loader, progress=False)
        spike_acc = (out.spike_counts.argmax(1) == out.targets).double().mean().item()
        membrane_acc = (out.logits[0].argmax(1) == out.targets).double().mean().item()
    tail = max(1, len(curves["loss"]) // 10)
    return {
        "method": method.name,
        "seed": seed,
        "spike_grad": (
            repr(spike_grad)
            if isinstance(spike_grad, torch.nn.Module)
            else f"snntorch.surrogate.{method.name}"  # a closure: its repr is an address
        ),
        "p": p,
        "curves": curves,
        "diverged_at": diverged,
        "spike_accuracy": spike_acc,
        "membrane_accuracy": membrane_acc,
        "final_loss": statistics.fmean(curves["loss"][-tail:]) if curves["loss"] else math.nan,
        "mean_penalty": _nanmean(curves["penalty"]),
        "mean_saturation": _nanmean(curves["saturation"]),
        "train_seconds": seconds,
    }


def _nanmean(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.fmean(values) if values else math.nan


def _mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample std of the non-NaN values (NaN: diverged or n/a)."""
    values = [v for v in values if not math.isnan(v)]
    if len(values) < 2:
        return (values[0] if values else math.nan), math.nan
    return statistics.fmean(values), statistics.stdev(values)


def _summarise(runs: list[dict], args) -> list[dict]:
    rows = []
    for method in dict.fromkeys(r["method"] for r in runs):
        mine = [r for r in runs if r["method"] == method]
        spec = next(m for m in METHODS if m.name == method)
        row = {
            **provenance(),
            "method": method,
            "spike_grad": mine[0]["spike_grad"],
            "penalty": "on" if spec.penalty else ("off" if mine[0]["p"] is not None else "n/a"),
            "penalty_weight": args.penalty_weight if spec.penalty else 0.0,
            "seeds": " ".join(str(r["seed"]) for r in mine),
            "steps": args.steps,
            "batch_size": args.batch_size,
            "num_steps": args.num_steps,
            "lr": args.lr,
            "test_size": len(args.test_labels),
            "diverged": sum(r["diverged_at"] is not None for r in mine),
        }
        for key in (
            "spike_accuracy",
            "membrane_accuracy",
            "final_loss",
            "mean_penalty",
            "mean_saturation",
        ):
            values = [r[key] for r in mine]
            mean, std = _mean_std(values)
            row[f"{key}_mean"] = f"{mean:.6g}"
            row[f"{key}_std"] = f"{std:.6g}"
            if key.endswith("accuracy"):
                row[f"{key}_per_seed"] = " ".join(f"{v:.4f}" for v in values)
        row["train_seconds_mean"] = f"{statistics.fmean(r['train_seconds'] for r in mine):.1f}"
        rows.append(row)
    return rows


def _curve_rows(runs: list[dict], every: int) -> list[dict]:
    rows = []
    for r in runs:
        n = len(r["curves"]["loss"])
        for start in range(0, n, every):
            stop = min(start + every, n)
            block = {k: _nanmean(v[start:stop]) for k, v in r["curves"].items()}
            rows.append(
                {
                    **provenance(),
                    "method": r["method"],
                    "seed": r["seed"],
                    "first_step": start,
                    "last_step": stop - 1,
                    **{k: f"{v:.6g}" for k, v in block.items()},
                }
            )
    return rows


def _print_training(rows: list[dict], args) -> None:
    print(
        f"\nTutorial 5 on MNIST: {args.steps} steps of batch {args.batch_size}, T = "
        f"{args.num_steps}, Adam {args.lr:g}, seeds {' '.join(map(str, args.seeds))}, "
        f"penalty weight {args.penalty_weight:g}; test on {len(args.test_labels)} images"
    )
    header = (
        f"{'method':<22} {'spike acc %':>15} {'membrane acc %':>15} {'final loss':>15} "
        f"{'penalty R':>10} {'saturation':>10}"
    )
    print(header)
    print("-" * len(header))

    def pm(row, key, scale=1.0, digits=2):
        mean, std = float(row[f"{key}_mean"]), float(row[f"{key}_std"])
        return f"{scale * mean:.{digits}f} ± {scale * std:.{digits}f}"

    for r in rows:
        penalty = float(r["mean_penalty_mean"])
        penalty = "-" if math.isnan(penalty) else f"{penalty:.4f}"
        print(
            f"{r['method']:<22} {pm(r, 'spike_accuracy', 100):>15} "
            f"{pm(r, 'membrane_accuracy', 100):>15} {pm(r, 'final_loss'):>15} "
            f"{penalty:>10} {float(r['mean_saturation_mean']):>10.4f}"
        )
    print(
        "(mean ± std over seeds; final loss: data term, mean of the last 10% of steps; "
        "penalty R (eq. 6 at the method's p) and saturation (eq. 6 at p = 0): means over "
        "all training steps)"
    )


def _smooth(values: torch.Tensor, window: int) -> torch.Tensor:
    window = max(1, min(window, values.shape[-1]))
    return values.unfold(-1, window, 1).mean(-1)


def _plot_training(runs: list[dict], path: Path, window: int) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
    panels = (
        ("loss", "training loss (data term)", True),
        ("saturation", "saturation mean (2π − 1)²", False),
        ("penalty", "bias penalty R, eq. (6) at own p", False),
    )
    for i, method in enumerate(dict.fromkeys(r["method"] for r in runs)):
        mine = [r for r in runs if r["method"] == method and r["diverged_at"] is None]
        if not mine:
            continue
        style = "--" if method.endswith("penalty") else "-"
        for ax, (key, _, _) in zip(axes, panels, strict=True):
            n = min(len(r["curves"][key]) for r in mine)
            curves = torch.tensor([r["curves"][key][:n] for r in mine], dtype=torch.float64)
            if n == 0 or torch.isnan(curves).all():
                continue
            smooth = _smooth(curves, window)
            mean = smooth.mean(0)
            std = smooth.std(0) if len(mine) > 1 else torch.zeros_like(mean)
            steps = torch.arange(smooth.shape[1]) + (n - smooth.shape[1]) + 1
            ax.plot(steps, mean, style, color=f"C{i}", label=method)
            ax.fill_between(steps, mean - std, mean + std, color=f"C{i}", alpha=0.15)
    for ax, (_, label, log) in zip(axes, panels, strict=True):
        ax.set_xlabel("training step")
        ax.set_ylabel(label)
        if log:
            ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"Tutorial 5 on MNIST: mean over seeds ± std (running mean of {window} steps)",
        fontsize=10,
    )
    return save_figure(fig, path)


def run_training(args, out_dir: Path) -> int:
    try:
        train, test = _load_mnist(args)
    except datasets.DatasetNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    args.test_labels = test[1]
    methods = [m for m in METHODS if args.methods is None or m.name in args.methods]
    runs = []
    for seed in args.seeds:
        for method in methods:
            run = train_one(method, seed, train, test, args)
            runs.append(run)
            print(
                f"{method.name} seed {seed}: spike acc {100 * run['spike_accuracy']:.2f} %, "
                f"membrane acc {100 * run['membrane_accuracy']:.2f} %, "
                f"{run['train_seconds']:.0f} s",
                file=sys.stderr,
            )
    summary = _summarise(runs, args)
    _print_training(summary, args)
    print(f"written to {write_csv(out_dir / 'estimator_study_training.csv', summary)}")
    curves = _curve_rows(runs, args.curve_every)
    print(f"written to {write_csv(out_dir / 'estimator_study_curves.csv', curves)}")
    figure = _plot_training(runs, out_dir / "estimator_study_training.png", args.curve_every)
    print(f"written to {figure}")
    return 0


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

FULL = {
    "ps": [round(0.1 * i, 1) for i in range(11)],
    "taus": [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0],
    "exact_seeds": 5,
    "eq5_ps": [0.0, 0.25, 0.5, 0.75, 1.0],
    "eq5_grid": [-4.0 + 0.5 * i for i in range(17)],
    "steps": 75,
    "batch_size": 128,
    "num_steps": 25,
    "seeds": [0, 1, 2],
    "test_size": 5000,
    "curve_every": 5,
}
QUICK = {
    "ps": [0.0, 0.5, 1.0],
    "taus": [0.1, 1.0],
    "exact_seeds": 2,
    "eq5_ps": [0.0, 1.0],
    "eq5_grid": [-2.0, 0.0, 2.0],
    "steps": 3,
    "batch_size": 16,
    "num_steps": 4,
    "seeds": [0, 1],
    "test_size": 64,
    "curve_every": 2,
}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="CI smoke run (tiny budgets)")
    p.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help=f"default: {RESULTS} (full), a fresh temporary folder (--quick)",
    )
    p.add_argument("--parts", nargs="+", choices=["exact", "training"], default=None)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    exact = p.add_argument_group("exact part")
    exact.add_argument("--ps", type=float, nargs="+", help="IW-ST exponents")
    exact.add_argument("--taus", type=float, nargs="+", help="AGR temperatures in (0, 1]")
    exact.add_argument("--exact-seeds", type=int, help="random networks per point")
    exact.add_argument("--gain", type=float, default=2.0, help="weight scale (saturation)")
    exact.add_argument("--eq5-ps", type=float, nargs="+", help="p of the eq. (5) check")
    exact.add_argument("--eq5-grid", type=float, nargs="+", help="pre-activations")
    train = p.add_argument_group("training part")
    train.add_argument("--steps", type=int, help="training steps per run")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--num-steps", type=int, help="time steps T")
    train.add_argument("--lr", type=float, default=5e-4)
    train.add_argument("--seeds", type=int, nargs="+")
    train.add_argument("--penalty-weight", type=float, help="lambda (default: T)")
    train.add_argument("--methods", nargs="+", choices=[m.name for m in METHODS])
    train.add_argument("--test-size", type=int, help="first N test images")
    train.add_argument("--eval-batch", type=int, default=1000)
    train.add_argument("--curve-every", type=int, help="steps per curve-CSV row")
    train.add_argument("--data-root", default=None, help="default: $SNNTORCH_BAYES_DATA or ./data")
    train.add_argument("--mnist-dir", default=None, help="default: $SNNTORCH_BAYES_MNIST")
    return p


def main(argv=None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ("steps", "batch_size", "num_steps", "exact_seeds", "curve_every", "threads"):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be >= 1")
    if args.out_dir is None:
        args.out_dir = (
            Path(tempfile.mkdtemp(prefix="estimator_study_quick_")) if args.quick else RESULTS
        )
    if args.penalty_weight is None:
        args.penalty_weight = float(args.num_steps)
    parts = args.parts or ["exact", "training"]
    threads = torch.get_num_threads()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
        print(f"estimator study ({'quick' if args.quick else 'full'}) -> {args.out_dir}")
        if "exact" in parts:
            run_exact(args, args.out_dir)
        code = run_training(args, args.out_dir) if "training" in parts else 0
    finally:
        torch.set_num_threads(threads)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
