"""Why the SBNN's model average misses the calibration target (issue 11).

The recipe's 6-hidden-layer plain binary SBNN on Fashion-MNIST (``deep``'s
defaults: width 256, 3 epochs, rates chosen on validation) and its centred
``fast_sigmoid`` twin, trained on the same batches from the same start.  For
the SBNN the test set is scored as the deployed network (posterior means)
and as the model average of K = 1, 10, 30 and 100 sampled passes, each with
its mean confidence (the maximum averaged probability) beside its accuracy:
``mean_conf < accuracy`` is under-confidence.  Both networks are then
temperature-scaled on the validation split (the SBNN's average of 30 passes,
the twin's logits), the same treatment for both.

Every row also gives ``ece_floor``: the mean ECE of a perfectly calibrated
predictor with the same probabilities on as many examples (labels drawn
from those probabilities, :data:`FLOOR_DRAWS` draws; ``ece_floor_std`` their
spread).  An ECE at the floor cannot be told apart from perfect calibration
on this test set.

``--variants`` screens what might mend the model average's calibration, one
change at a time against the recipe, on the validation split only (the test
set is not read): a smaller and a larger KL weight, a smaller posterior
noise at initialisation, and the mixture objective of 4 sampled passes
(``deep.train_run``'s ``train_samples``).  Its rows go to
``calibration_probe_variants.csv``.

Run (full mode, 3 seeds, about 6 minutes on 2 cores)::

    python benchmarks/calibration_probe.py
    python benchmarks/calibration_probe.py --variants  # about 12 minutes
    python benchmarks/calibration_probe.py --quick   # smoke test
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from snntorch_bayes import calibration, deep

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, provenance, write_csv

SAMPLES = (1, 10, 30, 100)
#: label draws behind ``ece_floor``
FLOOR_DRAWS = 20
#: the ``--variants`` screen: ``deep.train_run`` keyword arguments per variant
VARIANTS = {
    "recipe": {},
    "KL weight 0.03": {"elbo": {"kl_scale": 0.03}},
    "KL weight 0.3": {"elbo": {"kl_scale": 0.3}},
    "noise ratio 0.25 at init": {"init": {"noise_ratio": 0.25}},
    "mixture of 4 passes": {"train_samples": 4},
}


def ece_floor(probs: torch.Tensor, draws: int = FLOOR_DRAWS, seed: int = 0) -> tuple[float, float]:
    """Mean and standard deviation of the ECE of ``probs`` against labels
    drawn from ``probs`` itself: what perfect calibration scores on this
    many examples."""
    g = torch.Generator().manual_seed(seed)
    eces = torch.tensor(
        [
            calibration.expected_calibration_error(
                probs, torch.multinomial(probs, 1, generator=g).squeeze(1)
            )
            for _ in range(draws)
        ]
    )
    return float(eces.mean()), float(eces.std())


def _metrics(probs: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    out = calibration.predictive_metrics(probs, y)
    out["mean_conf"] = float(probs.max(-1).values.mean())
    out["ece_floor"], out["ece_floor_std"] = ece_floor(probs)
    return out


def screen(seed: int, data: dict, depth: int, width: int, max_steps: int | None, mc: int) -> list:
    """The ``--variants`` rows of one seed, on the validation split: each
    variant's deployed network and its model average of ``mc`` passes."""
    rows = []
    xv, yv = data["val"]
    for variant, options in VARIANTS.items():
        kept: dict[str, torch.nn.Module] = {}
        deep.train_run(
            "sbnn",
            depth,
            width,
            data,
            seed=seed,
            mc=0,
            max_steps=max_steps,
            after_init=lambda n, k=kept: k.setdefault("net", n),
            **options,
        )
        torch.manual_seed(1000 + seed)
        predictions = {
            "deployed": deep._logits(kept["net"], xv)[0].double().softmax(-1),
            f"average of {mc}": calibration.bayesian_model_average(
                deep._logits(kept["net"], xv, mc).double()
            ),
        }
        for what, probs in predictions.items():
            rows.append(
                {"variant": variant, "prediction": what, "seed": seed, "depth": depth}
                | _metrics(probs, yv)
            )
    return rows


def probe(seed: int, data: dict, depth: int, width: int, max_steps: int | None, samples) -> list:
    """The rows of one seed: the SBNN deployed and averaged over each K, the
    twin, and both temperature-scaled on validation."""
    rows = []
    kept: dict[str, torch.nn.Module] = {}
    for kind in ("sbnn", "fast_sigmoid"):
        deep.train_run(
            kind,
            depth,
            width,
            data,
            seed=seed,
            mc=0,
            max_steps=max_steps,
            after_init=lambda n, k=kind: kept.setdefault(k, n),
        )
    (xv, yv), (xs, ys) = data["val"], data["test"]

    def row(method: str, what: str, probs: torch.Tensor, temperature: float = 1.0) -> None:
        rows.append(
            {
                "method": method,
                "prediction": what,
                "seed": seed,
                "depth": depth,
                "temperature": temperature,
                **_metrics(probs, ys),
            }
        )

    sbnn, twin = kept["sbnn"], kept["fast_sigmoid"]
    torch.manual_seed(1000 + seed)
    sampled = deep._logits(sbnn, xs, max(samples)).double()
    row("sbnn", "deployed", deep._logits(sbnn, xs)[0].double().softmax(-1))
    for k in samples:
        row("sbnn", f"average of {k}", calibration.bayesian_model_average(sampled[:k]))
    k_ts = samples[min(2, len(samples) - 1)]
    val_avg = calibration.bayesian_model_average(deep._logits(sbnn, xv, k_ts).double())
    t = calibration.fit_temperature(val_avg.log(), yv)
    test_avg = calibration.bayesian_model_average(sampled[:k_ts])
    row(
        "sbnn",
        f"average of {k_ts}, temperature-scaled",
        calibration.temperature_scale(test_avg.log(), t).double(),
        t,
    )
    logits = deep._logits(twin, xs)[0].double()
    row("fast_sigmoid", "deployed", logits.softmax(-1))
    t = calibration.fit_temperature(deep._logits(twin, xv)[0].double(), yv)
    row("fast_sigmoid", "temperature-scaled", calibration.temperature_scale(logits, t).double(), t)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", type=Path, default=None, help=f"default {RESULTS}")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--quick", action="store_true", help="smoke test: 2 layers of 32, 5 steps")
    p.add_argument(
        "--variants", action="store_true", help="screen the VARIANTS on validation instead"
    )
    args = p.parse_args(argv)
    if args.quick:
        data = deep.load_fashion_mnist(limit=1000)
        depth, width, max_steps, samples, seeds = 2, 32, 5, (1, 2, 3), args.seeds[:1]
        out_dir = args.out_dir or Path(tempfile.mkdtemp())
    else:
        data = deep.load_fashion_mnist()
        depth, width, max_steps, samples, seeds = 6, 256, None, SAMPLES, args.seeds
        out_dir = args.out_dir or RESULTS
    rows = []
    if args.variants:
        for seed in seeds:
            for r in screen(seed, data, depth, width, max_steps, samples[1]):
                rows.append({**provenance(), **r})
                print(
                    f"seed {seed} {r['variant']:<26} {r['prediction']:<14} "
                    f"val acc {r['accuracy']:.4f} conf {r['mean_conf']:.4f} "
                    f"ECE {r['ece']:.4f} (floor {r['ece_floor']:.4f}) NLL {r['nll']:.4f}",
                    flush=True,
                )
        print(f"output: {write_csv(out_dir / 'calibration_probe_variants.csv', rows)}")
        return 0
    for seed in seeds:
        for r in probe(seed, data, depth, width, max_steps, samples):
            rows.append({**provenance(), **r})
            print(
                f"seed {seed} {r['method']:>12} {r['prediction']:<36} acc {r['accuracy']:.4f} "
                f"conf {r['mean_conf']:.4f} ECE {r['ece']:.4f} (floor {r['ece_floor']:.4f}) "
                f"NLL {r['nll']:.4f}",
                flush=True,
            )
    path = write_csv(out_dir / "calibration_probe.csv", rows)
    print(f"output: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
