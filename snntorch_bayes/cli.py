"""The main job: snnTorch tutorial 5 on real MNIST, trained three ways and
compared side by side:

* ``fast_sigmoid(25)`` -- the deterministic snnTorch baseline (and the same
  model after temperature scaling on a held-out validation split);
* an IW-ST estimator dropped in for ``fast_sigmoid`` (nothing else changes);
* the spiking Bayesian neural network (SBNN) of the same shape:
  ``BayesLinear`` + ``VariationalLeaky``, trained on the ELBO, predicting
  by a Bayesian model average of ``--mc-samples`` sampled passes.

Run ``python -m snntorch_bayes --help`` for the options.  With no arguments
it reproduces upstream's setup (FC 784-1000-10, ``Leaky(beta=0.95)``, 25
steps, batch 128, Adam 5e-4, one epoch) for three seeds (same
initialisation of the deterministic models and the same batches for every
method at each seed), on the first 55,000 training images; the last 5,000
are the validation split that temperature scaling is fitted on.  It prints a
table of spike-count test accuracy and time per step, and a table of
predictive accuracy, NLL, ECE (15 equal-width bins) and Brier score, and
saves the numbers (JSON) and plots (training curves, reliability diagram)
under ``runs/``.

Then (skip with ``--no-deep``) a third table: the deep plain binary network of
:mod:`snntorch_bayes.deep` on Fashion-MNIST (6 hidden layers of 256 units, 3
epochs, seed 0), as an SBNN with the library's defaults after
:func:`~snntorch_bayes.init.initialize`, as the equally initialised
``fast_sigmoid`` twin and as ``fast_sigmoid`` + BatchNorm: accuracy, NLL, ECE,
Brier and time per step.  The benchmark ``benchmarks/sbnn_recipe.py`` runs 3
seeds; the main job runs one to stay short.  About 9 minutes in all on 2 CPU
cores.

Every argument is checked before anything trains (an error names the
argument, the value and the valid range; exit status 2), and so is the
output folder, by writing a file there.  The results file is written
atomically after every finished seed: a run that stops early (Ctrl-C: exit
status 130; a diverged run: exit status 1) keeps every finished seed in
``<out>/<name>.json``, marked ``"complete": false`` with the list of finished
seeds; a complete run's file is marked ``"complete": true``.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import platform
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

import snntorch
import torch
from snntorch import surrogate as snn_surrogate

from snntorch_bayes import __version__, calibration, datasets, deep, surrogate
from snntorch_bayes._checks import MAX_STD, MIN_STD
from snntorch_bayes.inference import ELBO
from snntorch_bayes.models import BayesFCSpikingNet, FCSpikingNet
from snntorch_bayes.training import _progress, predict, train_epoch

#: upstream's reported test accuracy for tutorial 5 after one epoch
UPSTREAM_TUTORIAL5_ACCURACY = 0.9387
#: training images held out for temperature scaling
VALIDATION_SIZE = 5000
BASELINE = "fast_sigmoid(25)"
SBNN = "SBNN"

_ESTIMATORS = {
    "iw_st": lambda a: surrogate.iw_st(p=a.p, noise=a.noise, scale=a.scale),
    "straight_through": lambda a: surrogate.straight_through(noise=a.noise, scale=a.scale),
    "gumbel_rao": lambda a: surrogate.gumbel_rao(tau=a.tau, scale=a.scale),
}
#: the defaults of ``--p`` and ``--tau`` (left ``None`` by the parser, so that
#: giving either to an estimator that does not take it is an error)
DEFAULT_P = DEFAULT_TAU = 1.0
#: the batch size of the deep networks (``deep.train_run``'s default)
DEEP_BATCH = 128
#: seeds ``torch.manual_seed`` takes
MAX_SEED = 2**64 - 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="snntorch-bayes",
        description="Tutorial-5 MNIST: fast_sigmoid(25), an IW-ST drop-in and an SBNN.",
    )
    p.add_argument("--estimator", choices=sorted(_ESTIMATORS), default="iw_st")
    p.add_argument(
        "--p", type=float, default=None, help="IW-ST exponent in [0, 1] (iw_st only; default 1)"
    )
    p.add_argument(
        "--tau", type=float, default=None, help="temperature in (0, 1] (gumbel_rao only; default 1)"
    )
    p.add_argument(
        "--noise",
        choices=["logistic", "gaussian"],
        default="logistic",
        help="noise of iw_st and straight_through (gumbel_rao: logistic only)",
    )
    p.add_argument("--scale", type=float, default=0.25, help="noise scale s > 0")
    p.add_argument(
        "--posterior-std",
        type=float,
        default=None,
        help="SBNN initial posterior std of both layers (default: each layer's 0.5/sqrt(fan_in))",
    )
    p.add_argument("--mc-samples", type=int, default=10, help="SBNN passes per prediction")
    p.add_argument("--no-sbnn", action="store_true", help="skip the SBNN")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--num-steps", type=int, default=25)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="one run per seed")
    p.add_argument("--max-batches", type=int, default=None, help="cap per epoch (quick runs)")
    p.add_argument(
        "--max-test-batches", type=int, default=None, help="cap on test and validation batches"
    )
    p.add_argument("--data-root", default=None, help="default: $SNNTORCH_BAYES_DATA or ./data")
    p.add_argument(
        "--mnist-dir",
        default=None,
        help="local MNIST copy (idx files); default: $SNNTORCH_BAYES_MNIST",
    )
    p.add_argument("--out", default="runs", help="folder for the JSON results and plots")
    p.add_argument(
        "--name", default=None, help="file name stem of the results (default: tutorial5-DATE)"
    )
    p.add_argument("--no-progress", action="store_true")
    group = p.add_argument_group(
        "deep plain binary networks (Fashion-MNIST; SBNN against fair twins, snntorch_bayes.deep)"
    )
    group.add_argument("--no-deep", action="store_true", help="skip the deep-network table")
    group.add_argument("--deep-depth", type=int, default=6, help="hidden layers")
    group.add_argument("--deep-width", type=int, default=256, help="units per hidden layer")
    group.add_argument("--deep-epochs", type=int, default=3)
    group.add_argument(
        "--deep-seeds", type=int, nargs="+", default=[0],
        help="one run per seed (the benchmark uses 0 1 2)",
    )  # fmt: skip
    group.add_argument(
        "--fashion-mnist-dir", default=None,
        help="local Fashion-MNIST copy (idx files); default: $SNNTORCH_BAYES_FASHION_MNIST",
    )  # fmt: skip
    group.add_argument("--deep-max-steps", type=int, default=None, help="cap (quick runs)")
    group.add_argument("--deep-limit", type=int, default=None, help="cap per split (quick runs)")
    return p


def _loaders(args):
    full = datasets.mnist(args.data_root, train=True, local_copy=args.mnist_dir)
    test = datasets.mnist(args.data_root, train=False, local_copy=args.mnist_dir)
    cut = len(full) - VALIDATION_SIZE
    train = torch.utils.data.Subset(full, range(cut))
    validation = torch.utils.data.Subset(full, range(cut, len(full)))
    g = torch.Generator()
    return (
        torch.utils.data.DataLoader(
            train, batch_size=args.batch_size, shuffle=True, drop_last=True, generator=g
        ),
        torch.utils.data.DataLoader(validation, batch_size=1000),
        torch.utils.data.DataLoader(test, batch_size=1000),
    )


def _metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict:
    """Accuracy, NLL, ECE and Brier of the model average of ``[K, N, C]``
    logits, and the reliability curve behind the ECE."""
    probs = calibration.bayesian_model_average(logits.double())
    curve = calibration.reliability_curve(probs, targets)
    reliability = {
        "counts": curve.counts.tolist(),
        "confidence": curve.confidence.tolist(),
        "accuracy": curve.accuracy.tolist(),
    }
    return {**calibration.predictive_metrics(probs, targets), "reliability": reliability}


def _run(name, make, seed, args, loaders) -> list[dict]:
    """Train one model; return its rows (a model may give several
    predictors: temperature-scaled, Monte-Carlo, posterior mean)."""
    train_loader, val_loader, test_loader = loaders
    torch.manual_seed(seed)  # same initialisation for every deterministic method
    net = make()
    elbo = ELBO(len(train_loader.dataset)) if name == SBNN else None
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr, betas=(0.9, 0.999))
    train_loader.generator.manual_seed(seed)  # same batches for every method
    losses, times = [], []
    started = time.perf_counter()
    for epoch in range(args.epochs):
        r = train_epoch(
            net,
            train_loader,
            optimizer,
            args.max_batches,
            not args.no_progress,
            desc=f"{name} seed {seed} epoch {epoch + 1}/{args.epochs}",
            elbo=elbo,
        )
        losses += r.losses
        times += r.step_seconds
    steady = times[5:] if len(times) > 10 else times
    common = {
        "seed": seed,
        "final_train_loss": statistics.fmean(losses[-20:]),
        "train_losses": losses,
        "step_seconds_median": statistics.median(steady),
        "steps": len(times),
        "train_seconds": time.perf_counter() - started,
    }
    show = not args.no_progress
    cap = args.max_test_batches
    test = predict(net, test_loader, None, cap, show, desc=f"{name} test")
    deterministic = {
        **common,
        "method": name if name != SBNN else f"{SBNN} (posterior mean)",
        "test_accuracy": _count_accuracy(test),
        **_metrics(test.logits, test.targets),
    }
    rows = [deterministic]
    if name == BASELINE:
        val = predict(net, val_loader, None, cap, show, desc=f"{name} validation")
        temperature = calibration.fit_temperature(val.logits[0].double(), val.targets)
        scaled = test.logits / temperature
        rows.append(
            {
                **common,
                "method": f"{name} + temperature",
                "temperature": temperature,
                "test_accuracy": deterministic["test_accuracy"],
                **_metrics(scaled, test.targets),
            }
        )
    if name == SBNN:
        mc = predict(net, test_loader, args.mc_samples, cap, show, desc=f"{name} MC test")
        rows.append(
            {
                **common,
                "method": f"{SBNN} (MC, K={args.mc_samples})",
                "test_accuracy": _count_accuracy(mc),
                **_metrics(mc.logits, mc.targets),
            }
        )
    spike_grad = getattr(net, "lif1", None)
    for row in rows:
        row["spike_grad"] = repr(spike_grad.spike_grad) if spike_grad is not None else None
    return rows


def _run_seed(seed: int, methods: dict, args: argparse.Namespace, loaders) -> list[dict]:
    """Train every method of ``methods`` (name: constructor) at ``seed``;
    their rows in order.  A diverged run raises ``FloatingPointError``
    naming the method and seed."""
    rows = []
    for name, make in methods.items():
        try:
            rows += _run(name, make, seed, args, loaders)
        except FloatingPointError as err:
            raise FloatingPointError(f"{name} seed {seed}: {err}") from None
    return rows


def _count_accuracy(predictions) -> float:
    """Accuracy of the spike-count prediction (argmax of summed output spikes,
    as in snnTorch tutorial 5)."""
    hits = predictions.spike_counts.argmax(1) == predictions.targets
    return hits.double().mean().item()


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def _summarise(rows: list[dict]) -> list[dict]:
    """Mean and spread over seeds of every metric, per method, and the
    step-time ratio to the baseline."""
    out = []
    for name in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == name]
        summary = {"method": name, "seeds": [r["seed"] for r in mine]}
        for key in ("test_accuracy", "accuracy", "nll", "ece", "brier"):
            values = [r[key] for r in mine]
            summary[key] = values
            summary[f"{key}_mean"], summary[f"{key}_std"] = _mean_std(values)
        summary["step_seconds"] = statistics.fmean(r["step_seconds_median"] for r in mine)
        out.append(summary)
    for r in out:
        r["step_ratio"] = r["step_seconds"] / out[0]["step_seconds"]
    return out


def _plot_losses(rows: list[dict], path: Path) -> Path | None:
    """Training loss against step, one line per method and seed (running
    mean over 20 steps); ``None`` if matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    colours = {}
    for r in rows:
        colour = colours.setdefault(r["method"], f"C{len(colours)}")
        losses = torch.tensor(r["train_losses"])
        window = min(20, len(losses))
        smooth = losses.unfold(0, window, 1).mean(1)
        label = r["method"] if r["seed"] == rows[0]["seed"] else None
        ax.plot(range(window, len(losses) + 1), smooth, color=colour, alpha=0.8, label=label)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (running mean of 20 steps)")
    ax.set_yscale("log")
    ax.set_title("Tutorial 5 on MNIST, one line per seed (SBNN: data term + KL/N)")
    ax.legend()
    fig.tight_layout()
    _atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=120))
    plt.close(fig)
    return path


def _plot_reliability(rows: list[dict], path: Path) -> Path | None:
    """Reliability diagrams of the first seed's predictors; ``None`` without
    matplotlib."""
    curves = {}
    for r in rows:
        if r["seed"] == rows[0]["seed"] and "(posterior mean)" not in r["method"]:
            bins = r["reliability"]
            curves[r["method"]] = calibration.ReliabilityCurve(
                torch.linspace(0, 1, len(bins["counts"]) + 1, dtype=torch.float64),
                torch.tensor(bins["counts"]),
                torch.tensor(bins["confidence"], dtype=torch.float64),
                torch.tensor(bins["accuracy"], dtype=torch.float64),
            )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    fig, axes = plt.subplots(1, len(curves), figsize=(3.2 * len(curves), 3.4), squeeze=False)
    for ax, (name, curve) in zip(axes[0], curves.items(), strict=True):
        calibration.plot_reliability({name: curve}, ax=ax)
        ax.set_title(f"{name}\nECE {100 * curve.ece:.2f}%", fontsize=9)
        ax.get_legend().remove()
    fig.suptitle("Reliability on the MNIST test set (first seed)", fontsize=10)
    fig.tight_layout()
    _atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=120))
    plt.close(fig)
    return path


def _parse(argv: list[str] | None) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed, checked arguments (``--p`` and ``--tau``
    filled in with their defaults): a bad argument exits with the parser's
    error (status 2) before anything is loaded or trained."""
    parser = _parser()
    args = parser.parse_args(argv)
    _check_arguments(parser, args)
    return parser, args


def _check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Every argument that does not depend on the data: ``parser.error``
    naming the argument, the value and the valid range."""

    def flag(name: str) -> str:
        return "--" + name.replace("_", "-")

    for name in ("epochs", "batch_size", "num_steps", "mc_samples", "deep_depth", "deep_width",
                 "deep_epochs"):  # fmt: skip
        if getattr(args, name) < 1:
            parser.error(f"{flag(name)} must be >= 1, got {getattr(args, name)}")
    for name in ("max_batches", "max_test_batches", "deep_max_steps"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"{flag(name)} must be >= 1 (leave it out for no cap), got {value}")
    if args.deep_limit is not None and args.deep_limit < DEEP_BATCH:
        parser.error(
            f"--deep-limit must be >= {DEEP_BATCH} (one training batch of the deep networks; "
            f"leave it out for no cap), got {args.deep_limit}"
        )
    for name in ("seeds", "deep_seeds"):
        seeds = getattr(args, name)
        for seed in seeds:
            if not 0 <= seed <= MAX_SEED:
                parser.error(f"{flag(name)} must be integers in [0, 2**64 - 1], got {seed}")
        if len(set(seeds)) < len(seeds):
            parser.error(
                f"{flag(name)} must be distinct (a repeated seed repeats a run), "
                f"got {' '.join(map(str, seeds))}"
            )
    if not args.lr > 0:
        parser.error(f"--lr must be > 0, got {args.lr}")
    if not math.isfinite(args.lr):
        parser.error(f"--lr must be a finite number > 0, got {args.lr}")
    if args.posterior_std is not None and not MIN_STD <= args.posterior_std <= MAX_STD:
        parser.error(
            f"--posterior-std must be in [{MIN_STD:g}, {MAX_STD:g}], got {args.posterior_std}"
        )
    if not 0 < args.scale < math.inf:
        parser.error(f"--scale must be in (0, inf), got {args.scale}")
    _check_estimator_options(parser, args)


def _check_estimator_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``--p``, ``--tau`` and ``--noise`` against ``--estimator``: an option
    the estimator does not take is an error, not silently ignored."""
    takes = {"iw_st": ("p",), "straight_through": (), "gumbel_rao": ("tau",)}[args.estimator]
    meaning = {"p": "the exponent of iw_st", "tau": "the temperature of gumbel_rao"}
    for name, default in (("p", DEFAULT_P), ("tau", DEFAULT_TAU)):
        if getattr(args, name) is None:
            setattr(args, name, default)
        elif name not in takes:
            parser.error(
                f"--{name} is {meaning[name]}; --estimator {args.estimator} does not take it "
                f"(leave --{name} out), got --{name} {getattr(args, name)}"
            )
    if args.estimator == "gumbel_rao" and args.noise != "logistic":
        parser.error(
            f"--noise must be logistic for --estimator gumbel_rao (the Gumbel-Rao/AGR "
            f"estimator is defined for logistic noise only), got --noise {args.noise}"
        )
    if not 0 <= args.p <= 1:
        parser.error(f"--p must be in [0, 1], got {args.p}")
    if not 0 < args.tau <= 1:
        parser.error(f"--tau must be in (0, 1], got {args.tau}")
    try:
        _ESTIMATORS[args.estimator](args)  # what is left: the estimator's own checks
    except ValueError as err:
        parser.error(f"--{err}")


def _stem_problem(stem: str) -> str | None:
    """Why ``stem`` is not a plain file stem, or ``None``."""
    if stem in ("", ".", ".."):
        return "not empty, '.' or '..'"
    if any(sep in stem for sep in ("/", "\\", os.sep, os.altsep or "/")):
        return "no folder part ('/' or '\\')"
    if any(ord(c) < 32 or ord(c) == 127 for c in stem):
        return "no control characters"
    if stem.lower().endswith(".json"):
        return "without the .json suffix (it is added)"
    return None


def _temporary(path: Path) -> Path:
    """A fresh name for a temporary file next to ``path``."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def _output_path(
    parser: argparse.ArgumentParser, args: argparse.Namespace, stamp: str
) -> tuple[Path, list[Path]]:
    """The results file ``<out>/<name>.json`` and the folders created for it
    (deepest first).  Checked at once: ``--name`` must be a plain file stem,
    and ``--out`` a folder where this process can create (and remove) a file
    with the longest name the run writes; otherwise ``parser.error``."""
    stem = args.name if args.name is not None else f"tutorial5-{stamp}"
    problem = _stem_problem(stem)
    if problem is not None:
        parser.error(f"--name must be a plain file stem ({problem}), got {stem!r}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        parser.error(f"--out must be a folder, got {args.out!r}, an existing file")
    created = []
    for folder in (out, *out.parents):
        if folder.exists():
            break
        created.append(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        _remove_empty(created)
        parser.error(f"--out must be a folder this process can create, got {args.out!r} ({err})")
    probe = _temporary(out / f"{stem}-reliability.png")  # the longest name written
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            os.write(fd, b"\0")
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as err:
        _remove_empty(created)
        if err.errno == errno.ENAMETOOLONG:
            parser.error(f"--name is too long for a file name in {args.out!r}, got {stem!r}")
        parser.error(f"--out must be a writable folder, got {args.out!r} ({err.strerror})")
    return out / f"{stem}.json", created


def _remove_empty(folders: list[Path]) -> None:
    """Remove ``folders`` (deepest first) where they are still empty."""
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()


def _atomic_write(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` through ``write(file)`` into a temporary file in the
    same folder, then rename it over ``path``: readers see the old file or
    the new one, never a torn one (an interrupted write leaves the old one)."""
    temporary = _temporary(path)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


class _Results:
    """The results file of a run, rewritten (atomically) after every
    finished seed; it knows which seeds it holds."""

    def __init__(self, path: Path, args: argparse.Namespace) -> None:
        self.path, self.args = path, args
        self.rows: list[dict] = []
        self.deep_rows: list[dict] = []
        self.seeds: list[int] = []
        self.deep_seeds: list[int] = []
        self.written = self.complete = False

    def add(self, seed: int, rows: list[dict], deep_run: bool = False) -> None:
        """Record the ``rows`` of a finished ``seed`` (of the deep table with
        ``deep_run``) and write the file; only a written seed counts as
        finished (an interrupted write keeps the previous file)."""
        if deep_run:
            self.save(deep_rows=self.deep_rows + rows, deep_seeds=[*self.deep_seeds, seed])
        else:
            self.save(rows=self.rows + rows, seeds=[*self.seeds, seed])

    def save(
        self,
        complete: bool = False,
        rows: list[dict] | None = None,
        seeds: list[int] | None = None,
        deep_rows: list[dict] | None = None,
        deep_seeds: list[int] | None = None,
    ) -> None:
        """Write the finished seeds (with the new ``rows``, ``seeds``,
        ``deep_rows``, ``deep_seeds`` where given, which count once
        written); ``complete`` marks the whole run done."""
        rows = self.rows if rows is None else rows
        seeds = self.seeds if seeds is None else seeds
        deep_rows = self.deep_rows if deep_rows is None else deep_rows
        deep_seeds = self.deep_seeds if deep_seeds is None else deep_seeds
        summary = _summarise(rows) if rows else []
        payload = {
            "command": " ".join(sys.argv),
            "args": vars(self.args),
            "date": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
            "machine": platform.platform(),
            "processor": platform.processor(),
            "threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "snntorch": snntorch.__version__,
            "summary": summary,
            "results": rows,
            "deep": deep_rows,
            "complete": complete,
        }
        if not complete:
            payload["finished_seeds"] = seeds
            payload["finished_deep_seeds"] = deep_seeds
        text = json.dumps(payload, indent=2).encode()
        _atomic_write(self.path, lambda f: f.write(text))
        self.rows, self.seeds, self.deep_rows, self.deep_seeds = rows, seeds, deep_rows, deep_seeds
        self.written, self.complete = True, complete

    def status(self) -> str:
        """Which seeds finished and where they are, in one sentence."""
        if self.complete:
            return f"the complete results are in {self.path}"
        if not self.written:
            return "no seed had finished, nothing was written"
        done = " ".join(map(str, self.seeds)) or "none"
        text = f"seed(s) {done} of {' '.join(map(str, self.args.seeds))} finished"
        if not self.args.no_deep:
            deep_done = " ".join(map(str, self.deep_seeds)) or "none"
            text += f" (deep: {deep_done} of {' '.join(map(str, self.args.deep_seeds))})"
        return f'{text} and are saved in {self.path} (marked "complete": false)'


def _print_tables(summary: list[dict], args) -> None:
    setup = (
        f"{args.epochs} epoch(s), batch {args.batch_size}, T={args.num_steps}, "
        f"Adam {args.lr:g}, seeds {' '.join(map(str, args.seeds))}"
        + (f", {args.max_batches} batches/epoch" if args.max_batches else "")
    )
    print(f"\nTutorial 5 on MNIST ({setup})")
    print("1. Test accuracy of the spike count (upstream's readout)")
    header = f"{'method':<31} {'mean ± std':>16} {'per seed':>24} {'s/step':>8} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for r in summary:
        if "temperature" in r["method"] or "MC" in r["method"]:
            continue
        per_seed = " ".join(f"{100 * a:.2f}" for a in r["test_accuracy"])
        print(
            f"{r['method']:<31} {100 * r['test_accuracy_mean']:>8.2f} ± "
            f"{100 * r['test_accuracy_std']:.2f} % {per_seed:>24} "
            f"{r['step_seconds']:>8.4f} {r['step_ratio']:>6.2f}x"
        )
    print(
        f"(upstream reports {100 * UPSTREAM_TUTORIAL5_ACCURACY:.2f}% for fast_sigmoid after "
        "one epoch, one run; s/step: median over steps, mean over seeds; ratio to "
        f"{BASELINE})"
    )
    print(
        "\n2. Predictive quality (softmax of the time-averaged output membrane; "
        "ECE with 15 equal-width bins; mean ± std over seeds)"
    )
    header = f"{'method':<31} {'accuracy %':>14} {'NLL':>15} {'ECE %':>13} {'Brier':>15}"
    print(header)
    print("-" * len(header))
    for r in summary:
        print(
            f"{r['method']:<31} "
            f"{100 * r['accuracy_mean']:>7.2f} ± {100 * r['accuracy_std']:<4.2f} "
            f"{r['nll_mean']:>7.4f} ± {r['nll_std']:<6.4f}"
            f"{100 * r['ece_mean']:>6.2f} ± {100 * r['ece_std']:<4.2f} "
            f"{r['brier_mean']:>7.4f} ± {r['brier_std']:.4f}"
        )


DEEP_NAMES = {
    "sbnn": "SBNN (deployed)",
    "fast_sigmoid": "fast_sigmoid(25), same init",
    "fast_sigmoid + BatchNorm": "fast_sigmoid(25) + BatchNorm",
}


def _deep_rows(args, data: dict, seed: int) -> list[dict]:
    """Train the deep plain binary networks of :mod:`snntorch_bayes.deep`
    (SBNN with the library's defaults and its twins) on Fashion-MNIST
    (``data`` from :func:`snntorch_bayes.deep.load_fashion_mnist`) at
    ``seed``; one row per predictor."""
    rows = []
    for kind in deep.METHODS:
        total = args.deep_max_steps or (args.deep_epochs * (len(data["train"][0]) // DEEP_BATCH))
        bar = _progress(range(total), total, f"deep {kind} seed {seed}", not args.no_progress)
        ticks = iter(bar)
        run = deep.train_run(
            kind, args.deep_depth, args.deep_width, data, seed=seed, batch=DEEP_BATCH,
            epochs=args.deep_epochs, max_steps=args.deep_max_steps,
            mc=args.mc_samples, progress=lambda step, loss, t=ticks: next(t, None),
        )  # fmt: skip
        getattr(bar, "close", lambda: None)()
        base = {k: run[k] for k in ("seed", "ms_per_step", "steps", "lr", "diverged_at")}
        variants = [(DEEP_NAMES[kind], "test_")]
        if kind == "sbnn":
            variants.append((f"SBNN (model average, K={args.mc_samples})", "test_avg_"))
        else:
            variants.append((f"{DEEP_NAMES[kind]} + temperature", "test_ts_"))
        for name, prefix in variants:
            metrics = {k: run[prefix + k] for k in ("accuracy", "nll", "ece", "brier")}
            rows.append(base | {"method": name} | metrics)
    return rows


def _print_deep_table(rows: list[dict], args) -> None:
    seeds = " ".join(map(str, args.deep_seeds))
    print(
        f"\n3. Deep plain binary network on Fashion-MNIST: {args.deep_depth} hidden layers of "
        f"{args.deep_width} units, no normalisation except the BatchNorm twin; "
        f"{args.deep_epochs} epoch(s)"
        + (f" capped at {args.deep_max_steps} steps" if args.deep_max_steps else "")
        + f", batch 128, seed(s) {seeds}\n"
        "   (the benchmark benchmarks/sbnn_recipe.py runs 3 seeds; here fewer, to keep "
        "the main job short)"
    )
    header = (
        f"{'method':<42} {'lr':>7} {'test acc. %':>12} {'NLL':>8} {'ECE %':>7} "
        f"{'Brier':>7} {'ms/step':>8}"
    )
    print(header)
    print("-" * len(header))
    for name in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == name]
        acc = _mean_std([100 * r["accuracy"] for r in mine])
        cells = [statistics.fmean(r[k] for r in mine) for k in ("nll", "ece", "brier")]
        spread = f" ± {acc[1]:.2f}" if len(mine) > 1 else ""
        print(
            f"{name:<42} {mine[0]['lr']:>7g} {acc[0]:>6.2f}{spread:<6} {cells[0]:>8.4f} "
            f"{100 * cells[1]:>7.2f} {cells[2]:>7.4f} "
            f"{statistics.fmean(r['ms_per_step'] for r in mine):>8.1f}"
        )
    print(
        "(SBNN: sb.initialize + the library's defaults: IW-ST p=0, tempered KL weight 0.1; "
        "fast_sigmoid twin: the same sb.initialize at spread 0.04; learning rates chosen "
        "on validation in docs/recipe.md)"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the main job (``python -m snntorch_bayes``); the exit status: 0
    done, 1 training diverged, 2 bad arguments or data, 130 interrupted
    (Ctrl-C).  Finished seeds are on disk in every case."""
    parser, args = _parse(argv)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path, created = _output_path(parser, args, stamp)
    results = _Results(path, args)
    try:
        return _main(parser, args, results)
    except KeyboardInterrupt:
        newline = "" if args.no_progress else "\n"  # after a progress bar's line
        print(f"{newline}interrupted: {results.status()}", file=sys.stderr)
        return 130
    except FloatingPointError as err:
        print(f"error: training diverged ({err}); {results.status()}", file=sys.stderr)
        return 1
    finally:
        if not results.written:
            _remove_empty(created)


def _main(parser: argparse.ArgumentParser, args: argparse.Namespace, results: _Results) -> int:
    try:
        loaders = _loaders(args)
        deep_data = None
        if not args.no_deep:  # load now: a missing copy fails before any training
            deep_data = deep.load_fashion_mnist(
                limit=args.deep_limit, root=args.data_root, local_copy=args.fashion_mnist_dir
            )
    except datasets.DatasetNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    train_loader, val_loader, test_loader = loaders
    train_size = len(train_loader.dataset)
    if args.batch_size > train_size:
        parser.error(
            f"--batch-size must be in [1, {train_size}] (the size of the training split), "
            f"got {args.batch_size}"
        )
    steps = args.num_steps
    methods = {
        BASELINE: lambda: FCSpikingNet(snn_surrogate.fast_sigmoid(slope=25), num_steps=steps),
        args.estimator: lambda: FCSpikingNet(_ESTIMATORS[args.estimator](args), num_steps=steps),
    }
    if not args.no_sbnn:
        methods[SBNN] = lambda: BayesFCSpikingNet(
            num_steps=args.num_steps, posterior_std=args.posterior_std
        )
    print(
        f"snntorch_bayes {__version__}, snntorch {snntorch.__version__}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; MNIST "
        f"{train_size} train / {len(val_loader.dataset)} validation / "
        f"{len(test_loader.dataset)} test"
    )
    for seed in args.seeds:
        results.add(seed, _run_seed(seed, methods, args, loaders))
    _print_tables(_summarise(results.rows), args)
    if deep_data is not None:
        for seed in args.deep_seeds:
            results.add(seed, _deep_rows(args, deep_data, seed), deep_run=True)
        _print_deep_table(results.deep_rows, args)
    rows = results.rows
    results.save(complete=True)
    print(f"\nresults saved to {results.path}")
    trained = [r for r in rows if r["method"] in methods or r["method"].startswith(SBNN + " (p")]
    figure = _plot_losses(trained, results.path.with_suffix(".png"))
    if figure is not None:
        print(f"training curves saved to {figure}")
    figure = _plot_reliability(rows, results.path.with_name(results.path.stem + "-reliability.png"))
    if figure is not None:
        print(f"reliability diagrams saved to {figure}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
