"""The paper's settings at full scale on one accelerator (or shortened on a
CPU): presets of the depth sweep's training code (``depth_sweep.py``), not a
copy of it.

Presets (each trains the three variants of ``depth_sweep.VARIANTS``: the SBNN
without normalisation, the deterministic surrogate twin without
normalisation, and the twin with BatchNorm, on the same batches per seed):

``cifar10-binary-resnet``
    :class:`~snntorch_bayes.models.BinaryResNet` with convolutional residual
    blocks on the whole of "CIFAR-10 (JPEG copy)" (50,000 / 10,000), 8
    blocks of 128 channels, batch 128, Adam 1e-3, ``--epochs`` (default 50)
    epochs, 3 seeds; the SBNN scored deployed and as a model average of 16
    sampled passes.
``fsdd-spiking``
    :class:`~snntorch_bayes.models.SpikingResNet` with ``block="linear"``
    and ``Synaptic`` neurons (variational ones with an intrinsic noise of
    0.5 in the SBNN) on spike-encoded Free Spoken Digits
    (:class:`~snntorch_bayes.datasets.SpikingFSDD`, 64 filterbank channels,
    ON/OFF events binned into 50 frames by tonic's ``ToFrame``; the official
    2,700 / 300 split), 4 blocks of 256 units, batch 64, ``--epochs``
    (default 30) epochs, 3 seeds.  A stand-in for spoken-digit spiking
    benchmarks such as SHD, not SHD.

Budgets: ``--budget full`` (default) is the setting above, meant for one GPU
(``--device auto`` picks CUDA when present); ``--budget cpu`` a shortened
version that fits a few minutes of a 2-core CPU (smaller subsets, narrower
and shallower networks, a few hundred steps: see ``PRESETS``); ``--budget
tiny`` a smoke test of seconds.  Every results row records the device that
produced it (``torch.cuda.get_device_name`` or the CPU and its threads), so
each number can be traced to the card (or CPU) that gave it.

    python benchmarks/full_scale.py --preset cifar10-binary-resnet --device cuda
    python benchmarks/full_scale.py --preset fsdd-spiking --device cuda --epochs 60
    python benchmarks/full_scale.py --budget cpu              # both presets, shortened
    python benchmarks/full_scale.py --budget tiny --out-dir /tmp/fs   # smoke test

Measured so far (``docs/results.md``): the ``cpu`` budget of both presets
without the recipe (``benchmarks/results/full_scale_*_cpu_*``) and of
CIFAR-10 with it (``..._cpu_recipe_*``); the ``full`` budget of CIFAR-10 with
the recipe on one GPU at 3 epochs (3 seeds; ``scripts/gpu_check.sh`` is
seed 0) and 10 epochs (seed 0) (``..._full_recipe_*``).  The 50-epoch
default and the ``fsdd-spiking`` preset at the full budget are unmeasured.

Outputs (``--out-dir``, default ``benchmarks/results``; ``tiny``: a temporary
folder unless given): ``full_scale_<preset>_<budget>_runs.csv``,
``..._summary.csv`` and ``....png``, as in ``depth_sweep.py``, with
``--resume`` to skip the runs already in the CSV.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import tempfile
from pathlib import Path

import torch
from _results import RESULTS, device_name, resolve_device
from depth_sweep import VARIANTS, Setting, run_grid

from snntorch_bayes import datasets

CIFAR_TRAIN, FSDD_TRAIN = 50_000, 2_700

#: preset -> budget -> setting.  ``steps`` of the full budget are per epoch
#: here; ``--epochs`` multiplies them.
PRESETS: dict[str, dict[str, Setting]] = {
    "cifar10-binary-resnet": {
        "full": Setting(
            "cifar10", "binary", (8,), (0, 1, 2), steps=CIFAR_TRAIN // 128, width=128,
            block="conv", train_size=CIFAR_TRAIN, test_size=10_000, batch_size=128,
            mc_samples=16,
        ),
        "cpu": Setting(
            "cifar10", "binary", (4,), (0, 1, 2), steps=300, width=32, block="conv",
            train_size=10_000, test_size=2_000, batch_size=128, mc_samples=4,
        ),
        "tiny": Setting(
            "cifar10", "binary", (2,), (0,), steps=2, width=8, block="conv",
            train_size=64, test_size=64, batch_size=32, mc_samples=2,
        ),
    },
    "fsdd-spiking": {
        "full": Setting(
            "fsdd", "spiking", (4,), (0, 1, 2), steps=FSDD_TRAIN // 64, width=256,
            block="linear", train_size=FSDD_TRAIN, test_size=300, batch_size=64,
            num_steps=50, neuron="synaptic", intrinsic_noise=0.5, mc_samples=16,
        ),
        "cpu": Setting(
            "fsdd", "spiking", (2,), (0, 1, 2), steps=120, width=128, block="linear",
            train_size=FSDD_TRAIN, test_size=300, batch_size=64, num_steps=25,
            neuron="synaptic", intrinsic_noise=0.5, mc_samples=4,
        ),
        "tiny": Setting(
            "fsdd", "spiking", (1,), (0,), steps=2, width=8, block="linear",
            train_size=32, test_size=16, batch_size=16, num_steps=5, neuron="synaptic",
            intrinsic_noise=0.5, mc_samples=2,
        ),
    },
}  # fmt: skip
DEFAULT_EPOCHS = {"cifar10-binary-resnet": 50, "fsdd-spiking": 30}
#: the learning rates of ``--recipe`` runs where they were chosen for the
#: preset: CIFAR-10 on validation (2,000 training images outside the subset,
#: cpu budget, seed 0) from {3e-4, 1e-3, 3e-3, 1e-2} for each variant; other
#: presets use ``depth_sweep.RECIPE_LR`` (chosen on Fashion-MNIST)
RECIPE_LRS: dict[str, tuple[tuple[str, float], ...]] = {
    "cifar10-binary-resnet": (("SBNN", 3e-3), ("surrogate", 3e-3), ("surrogate + BatchNorm", 3e-3)),
}


def preset_setting(
    preset: str,
    budget: str,
    epochs: int | None = None,
    seeds: list[int] | None = None,
    depths: list[int] | None = None,
) -> Setting:
    """The setting of ``preset`` at ``budget``: for ``"full"``, ``epochs``
    (default ``DEFAULT_EPOCHS``) epochs of steps; ``seeds`` / ``depths``
    override the preset's."""
    setting = PRESETS[preset][budget]
    changes: dict = {}
    if budget == "full":
        changes["steps"] = setting.steps * (epochs or DEFAULT_EPOCHS[preset])
    elif epochs is not None:
        raise SystemExit("--epochs applies to --budget full only")
    if seeds:
        changes["seeds"] = tuple(seeds)
    if depths:
        changes["depths"] = tuple(depths)
    return dataclasses.replace(setting, **changes)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--preset", nargs="+", choices=list(PRESETS), default=list(PRESETS))
    p.add_argument("--budget", choices=("full", "cpu", "tiny"), default="full")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto. Defaults to auto")
    p.add_argument("--epochs", type=int, help="epochs of the full budget")
    p.add_argument("--steps", type=int, help="Adam steps of the cpu budget (a longer run)")
    p.add_argument("--seeds", type=int, nargs="+", help="override the preset's seeds")
    p.add_argument("--depths", type=int, nargs="+", help="override the preset's depths")
    p.add_argument("--out-dir", type=Path, help="default benchmarks/results (tiny: a temp dir)")
    p.add_argument("--resume", action="store_true", help="skip runs already in the runs CSV")
    p.add_argument("--threads", type=int, help="torch.set_num_threads")
    p.add_argument("--data-root", help="data root (default $SNNTORCH_BAYES_DATA or ./data)")
    p.add_argument("--time-limit", type=float, help="minutes per preset: start no run after")
    p.add_argument(
        "--recipe",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="sb.initialize the unnormalised variants first and use RECIPE_LRS "
        "(docs/recipe.md; the default); --no-recipe: PyTorch's initialisation and one "
        "learning rate, as before 2026-12-03. Recipe results go to "
        "full_scale_<preset>_<budget>_recipe_*",
    )
    p.add_argument(
        "--lr",
        nargs="+",
        default=[],
        metavar="VARIANT=LR",
        help=f"learning rate of a variant ({', '.join(VARIANTS)}), e.g. SBNN=3e-4",
    )
    p.add_argument(
        "--validation",
        action="store_true",
        help="score on held-out training images instead of the test split (for choosing "
        "learning rates); results go to ..._val_*",
    )
    args = p.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        p.error(f"--epochs must be >= 1, got {args.epochs}")
    if args.steps is not None and (args.steps < 1 or args.budget == "full"):
        p.error(f"--steps must be >= 1 and is for the cpu and tiny budgets, got {args.steps}")
    lrs = []
    for item in args.lr:
        variant, _, value = item.rpartition("=")
        try:
            rate = float(value)
        except ValueError:
            rate = math.nan
        if variant not in VARIANTS or not 0 < rate < math.inf:
            p.error(f"--lr takes VARIANT=LR with VARIANT in {list(VARIANTS)}, LR > 0, got {item!r}")
        lrs.append((variant, rate))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    out_dir = args.out_dir
    if out_dir is None:
        out_dir = Path(tempfile.mkdtemp(prefix="full_scale_")) if args.budget == "tiny" else RESULTS
    where = device_name(device)
    if args.budget == "full" and device.type == "cpu":
        print("warning: the full budget on a CPU takes many hours; see --budget cpu", flush=True)
    for preset in args.preset:
        setting = preset_setting(preset, args.budget, args.epochs, args.seeds, args.depths)
        setting = dataclasses.replace(
            setting,
            recipe=args.recipe,
            lrs=tuple(lrs) or (RECIPE_LRS.get(preset, ()) if args.recipe else ()),
            validation=args.validation,
            steps=args.steps or setting.steps,
        )
        suffix = ("_recipe" if args.recipe else "") + ("_val" if args.validation else "")
        suffix += f"_steps{args.steps}" if args.steps else ""
        epochs = setting.steps * setting.batch_size / setting.train_size
        print(
            f"{preset} ({args.budget} budget) on {where}: depths {setting.depths}, seeds "
            f"{setting.seeds}, {setting.config} (~{epochs:.1f} epochs)",
            flush=True,
        )
        try:
            run_grid(
                [setting],
                out_dir,
                device,
                args.data_root,
                args.resume,
                args.time_limit,
                title=f"{preset}, {args.budget} budget, measured on {where}",
                name=f"full_scale_{preset}_{args.budget}{suffix}",
            )
        except datasets.DatasetNotFoundError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(f"{preset}: numbers measured on {where}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
