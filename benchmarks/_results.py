"""Shared by the benchmark scripts: where and how results are written."""

from __future__ import annotations

import csv
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Hashable
from datetime import datetime, timezone
from pathlib import Path

import torch

RESULTS = Path(__file__).parent / "results"


def provenance() -> dict[str, str]:
    """The columns every results row starts with: when (UTC), on what
    machine, with which torch, by which command."""
    cpu = platform.processor() or platform.machine()
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": f"{cpu}, {torch.get_num_threads()} threads",
        "torch": torch.__version__,
        "command": " ".join(["python", *sys.argv]),
    }


def resolve_device(name: str) -> torch.device:
    """The device of a ``--device`` option: ``auto`` is CUDA when present,
    else the CPU; asking for CUDA where there is none exits with a message."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device is available")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """The accelerator's name, or the CPU's with the thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Lay out, write and close a matplotlib figure; returns ``path``."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return Path(path)


def write_csv(path: str | Path, rows: list[dict]) -> Path:
    """Write ``rows`` (dicts with the same keys) to ``path``, replacing it;
    git keeps the history of committed results."""
    if not rows:
        raise ValueError("no rows to write")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def interleaved_medians(
    steppers: dict[Hashable, Callable[[], object]], rounds: int, steps: int, log: bool = True
) -> dict[Hashable, list[float]]:
    """Time every stepper in ``rounds`` rounds, in a fresh (seeded) random
    order each round, so drifts of the machine hit every method alike;
    returns, per key, the median seconds of its ``steps`` calls in each round."""
    per_round: dict[Hashable, list[float]] = {key: [] for key in steppers}
    rng = random.Random(0)
    for r in range(rounds):
        order = list(steppers)
        rng.shuffle(order)
        for key in order:
            times = []
            for _ in range(steps):
                t0 = time.perf_counter()
                steppers[key]()
                times.append(time.perf_counter() - t0)
            per_round[key].append(statistics.median(times))
        if log:
            print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    return per_round


def minor_faults_per_step(step: Callable[[], object], calls: int) -> float:
    """The mean count of minor page faults per call of ``step`` over
    ``calls`` calls (pages the allocator took fresh from the kernel and
    touched): a step that frees and re-allocates large buffers pays for each
    page every time the allocator has handed them back.  Unix only."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


def _proc_status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def peak_rss_rise_mib(step: Callable[[], object], calls: int) -> float:
    """The rise of this process's peak resident memory (MiB) over ``calls``
    calls of ``step``, above the resident memory before the first call
    (activations, gradients, optimiser state: not imports or data loading).
    Linux only: the peak is reset through ``/proc/self/clear_refs``."""
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _proc_status_kib("VmRSS")
    for _ in range(calls):
        step()
    return (_proc_status_kib("VmHWM") - before) / 1024


def peak_cuda_rise_mib(step: Callable[[], object], calls: int, device: torch.device) -> float:
    """The rise of the peak CUDA memory allocated by PyTorch (MiB) over
    ``calls`` calls of ``step``, above what was allocated before the first
    call (the counterpart of :func:`peak_rss_rise_mib` on a GPU, where one
    process can measure each method in turn)."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    for _ in range(calls):
        step()
    torch.cuda.synchronize(device)
    return (torch.cuda.max_memory_allocated(device) - before) / 2**20


def peak_rss_in_child(script: str, method: str, args) -> float | None:
    """Run ``script --peak-rss-of method`` (which prints that method's
    :func:`peak_rss_rise_mib` as its last line) alone in a subprocess, so
    methods do not share a peak, with the step settings of ``args``
    (``batch_size``, ``num_steps``, ``warmup``, ``steps``); ``None`` (and the
    child's stderr) if it fails."""
    argv = [script, "--peak-rss-of", method]
    for name in ("batch_size", "num_steps", "warmup", "steps"):
        argv += ["--" + name.replace("_", "-"), str(getattr(args, name))]
    out = subprocess.run([sys.executable, *argv], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"peak RSS of {' '.join(argv)} failed:\n{out.stderr}", file=sys.stderr)
        return None
    return float(out.stdout.strip().splitlines()[-1])
