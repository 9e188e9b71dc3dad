"""Regenerate every results table and plot of the project in one command.

    bash scripts/benchmarks.sh              # full mode: writes benchmarks/results/ (about 2.8 h)
    bash scripts/benchmarks.sh --quick      # smoke test of every benchmark (a few minutes)
    bash scripts/benchmarks.sh --only step_time sbnn_step_time

``scripts/benchmarks.sh`` sets up the environment and points the dataset
variables at ``../shared/data`` when that folder exists, then runs this
script.  Each benchmark runs alone in its own process (so timings and peak
memory are not shared), in the order of :data:`BENCHMARKS`; the full mode
writes into ``benchmarks/results/`` (and ``docs/img/`` for the estimator
figure), the quick mode into a temporary folder (``--out-dir`` to keep it),
never over committed results.  Every CSV row starts with the date, machine,
torch version and command that produced it.  The exit status is non-zero if
any benchmark failed; the others still run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class Benchmark:
    """One entry of the runner: ``python *argv`` with the output folder
    appended as ``--out-dir DIR`` (or ``out_flag``), plus ``quick`` in quick
    mode; ``outputs`` are the files it must leave in that folder."""

    name: str
    argv: tuple[str, ...]
    outputs: tuple[str, ...]
    quick: tuple[str, ...] = ("--quick",)
    full: tuple[str, ...] = ()
    out_flag: str = "--out-dir"
    full_out: Path = HERE / "results"

    def command(self, out_dir: Path, quick: bool) -> list[str]:
        extra = self.quick if quick else self.full
        return [sys.executable, *self.argv, self.out_flag, str(out_dir), *extra]


def _script(script: str, outputs: tuple[str, ...], label: str | None = None, **kwargs) -> Benchmark:
    return Benchmark(label or script, (str(HERE / f"{script}.py"),), outputs, **kwargs)


_SWEEP = ("depth_sweep_runs.csv", "depth_sweep_summary.csv", "depth_sweep.png")
#: the spiking row of the sweep with the recipe: T = 4, 150 steps, 4 and 32 blocks
_SPIKING_ROW = (
    "--recipe",
    "--resume",
    "--only",
    "fashion-mnist/spiking",
    "--depths",
    "4",
    "32",
    "--threads",
    "2",
)
#: the count-MSE methods of the 3-epoch population_readout run
_POPULATION_E3 = (
    "fast_sigmoid",
    "fast_sigmoid, initialize",
    "SBNN",
    "fast_sigmoid, population",
    "fast_sigmoid, population, initialize",
    "SBNN, population",
)
#: the CIFAR-10 binary row of the depth sweep with the recipe's budget (3 epochs)
_CIFAR_ROW = ("--only", "cifar10/binary", "--steps", "470", "--threads", "2")
#: the CIFAR-10 binary row's rates, chosen on validation at 32 blocks
_CIFAR_RATES = ("--lr", "SBNN=3e-4", "--lr", "surrogate=1e-4", "--lr", "surrogate + BatchNorm=3e-3")
#: the spiking row's twins, tuned on validation at 32 blocks (docs/deep-networks.md)
_SPIKING_TUNED = (
    "--variants",
    "surrogate",
    "surrogate + BatchNorm",
    "--twin-spread",
    "1",
    "--lr",
    "surrogate=1e-3",
    "--lr",
    "surrogate + BatchNorm=1e-2",
)


BENCHMARKS: tuple[Benchmark, ...] = (
    # accuracy, NLL, ECE, Brier of tutorial 5: fast_sigmoid, IW-ST, SBNN (the main job)
    Benchmark(
        "main_tutorial5",
        ("-m", "snntorch_bayes", "--name", "main_tutorial5", "--no-progress"),
        ("main_tutorial5.json", "main_tutorial5.png", "main_tutorial5-reliability.png"),
        quick=tuple(
            "--seeds 0 --max-batches 3 --max-test-batches 1 --num-steps 3 --mc-samples 2 "
            "--deep-depth 2 --deep-width 32 --deep-max-steps 5 --deep-limit 1000".split()
        ),
        out_flag="--out",
    ),
    _script("estimator_table", ("estimator_table.csv",)),
    _script(
        "plot_estimators",
        ("estimators.png",),
        full_out=ROOT / "docs" / "img",
    ),
    _script(
        "estimator_study",
        (
            "estimator_study_exact.csv",
            "estimator_study_eq5.csv",
            "estimator_study_exact.png",
            "estimator_study_training.csv",
            "estimator_study_curves.csv",
            "estimator_study_training.png",
        ),
    ),
    _script("depth_sweep", _SWEEP, full=("--threads", "1")),
    # the ablation of the models' 1/sqrt(depth) residual gain, added to the same runs
    _script(
        "depth_sweep",
        _SWEEP,
        label="depth_sweep_gain1",
        quick=("--quick", "--resume", "--residual-gain", "1"),
        full=(
            "--threads",
            "1",
            "--resume",
            "--only",
            "fashion-mnist/binary",
            "--residual-gain",
            "1",
        ),
    ),
    # the Fashion-MNIST binary row again with the recipe (sb.initialize, each
    # variant's own learning rate, 3 epochs of the subset)
    _script(
        "depth_sweep",
        tuple(name.replace("depth_sweep", "depth_sweep_recipe") for name in _SWEEP),
        label="depth_sweep_recipe",
        quick=("--quick", "--recipe"),
        full=("--recipe", "--only", "fashion-mnist/binary", "--steps", "470", "--threads", "2"),
    ),
    # its spiking row (T = 4, 150 steps) at 4 and 32 blocks, added to the same runs
    _script(
        "depth_sweep",
        tuple(name.replace("depth_sweep", "depth_sweep_recipe") for name in _SWEEP),
        label="depth_sweep_recipe_spiking",
        quick=("--quick", "--recipe", "--resume"),
        full=_SPIKING_ROW,
    ),
    # the same row with the twins' spread and rates chosen on validation for it
    # (depth_sweep_recipe_screen_*.csv; the SBNN's chosen rate is its recipe rate)
    _script(
        "depth_sweep",
        tuple(name.replace("depth_sweep", "depth_sweep_recipe") for name in _SWEEP),
        label="depth_sweep_recipe_spiking_tuned",
        quick=("--quick", "--recipe", "--resume", *_SPIKING_TUNED),
        full=(*_SPIKING_ROW, *_SPIKING_TUNED),
    ),
    # the CIFAR-10 binary row with the recipe, every variant at the rate chosen
    # for it on validation at 32 blocks (depth_sweep_recipe_screen_*.csv)
    _script(
        "depth_sweep",
        tuple(name.replace("depth_sweep", "depth_sweep_recipe") for name in _SWEEP),
        label="depth_sweep_recipe_cifar",
        quick=("--quick", "--recipe", "--resume", *_CIFAR_RATES),
        full=("--recipe", "--resume", *_CIFAR_ROW, *_CIFAR_RATES),
    ),
    # its unnormalised twin from PyTorch's start at the rate chosen for it
    # (depth_sweep_screen_*.csv), added to the sweep without the recipe
    _script(
        "depth_sweep",
        _SWEEP,
        label="depth_sweep_cifar_pytorch_twin",
        quick=("--quick", "--resume", "--variants", "surrogate", "--lr", "surrogate=1e-4"),
        full=(
            "--resume",
            *_CIFAR_ROW,
            "--depths",
            "4",
            "32",
            "--variants",
            "surrogate",
            "--lr",
            "surrogate=1e-4",
        ),
    ),
    _script("step_time", ("step_time.csv",), full=("--memory",)),
    _script("surrogate_cost", ("surrogate_cost.csv",)),
    _script("sbnn_step_time", ("sbnn_step_time.csv",), full=("--memory",)),
    _script("lrt_fusion", ("lrt_fusion.csv",)),
    _script("sbnn_recipe", ("sbnn_recipe_runs.csv", "sbnn_recipe_layers.csv")),
    # why the SBNN's model average misses the ECE target: confidence against accuracy
    _script("calibration_probe", ("calibration_probe.csv",)),
    # what might mend it, one change at a time, scored on validation only
    _script(
        "calibration_probe",
        ("calibration_probe_variants.csv",),
        label="calibration_probe_variants",
        quick=("--quick", "--variants"),
        full=("--variants",),
    ),
    # the one-step spiking readout of tutorials/population_coding, with tuned twins
    _script(
        "population_readout",
        (
            "population_readout_runs.csv",
            "population_readout_summary.csv",
            "population_readout.png",
        ),
    ),
    # its count-MSE rows again at 3 epochs (noisy networks converge later)
    _script(
        "population_readout",
        (
            "population_readout_e3_runs.csv",
            "population_readout_e3_summary.csv",
            "population_readout_e3.png",
        ),
        label="population_readout_e3",
        quick=("--quick", "--epochs", "3", "--methods", "fast_sigmoid", "SBNN, population"),
        full=("--epochs", "3", "--methods", *_POPULATION_E3),
    ),
)


def run(benchmark: Benchmark, out_dir: Path | None, quick: bool) -> tuple[bool, float, str]:
    """Run one benchmark; returns (succeeded, seconds, what went wrong)."""
    out = out_dir if out_dir is not None else benchmark.full_out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    code = subprocess.call(benchmark.command(out, quick), cwd=ROOT)
    seconds = time.perf_counter() - started
    if code != 0:
        return False, seconds, f"exit status {code}"
    missing = [name for name in benchmark.outputs if not (out / name).is_file()]
    if missing:
        return False, seconds, f"did not write {', '.join(missing)} in {out}"
    return True, seconds, ""


def main(argv: list[str] | None = None) -> int:
    names = [b.name for b in BENCHMARKS]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke test of every benchmark")
    p.add_argument("--only", nargs="+", choices=names, metavar="NAME", help=", ".join(names))
    p.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help="one folder for every output "
        "(default: benchmarks/results and docs/img in full mode, a temporary folder in quick)",
    )
    args = p.parse_args(argv)
    chosen = [b for b in BENCHMARKS if args.only is None or b.name in args.only]
    out_dir = args.out_dir
    if out_dir is None and args.quick:
        out_dir = Path(tempfile.mkdtemp(prefix="snntorch_bayes-benchmarks-"))
    summary = []
    for benchmark in chosen:
        print(f"\n=== {benchmark.name} ({'quick' if args.quick else 'full'}) ===", flush=True)
        summary.append((benchmark.name, *run(benchmark, out_dir, args.quick)))
    print(f"\n{'benchmark':<18} {'status':<7} {'time':>8}")
    for name, ok, seconds, why in summary:
        print(f"{name:<18} {'ok' if ok else 'FAILED':<7} {seconds:>7.0f}s {why}")
    if out_dir is not None:
        print(f"outputs in {out_dir}")
    return 0 if all(ok for _, ok, _, _ in summary) else 1


if __name__ == "__main__":
    raise SystemExit(main())
