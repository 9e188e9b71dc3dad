"""Time per training step of the SBNN (``BayesFCSpikingNet`` on the ELBO)
against the deterministic snnTorch tutorial-5 step, measured in the same run.

Three methods, each one full training step (forward over ``T`` steps, loss,
backward, Adam step, lr 5e-4) on the same batch:

1. ``snntorch tutorial 5 (as written)``: upstream's tutorial-5 network as the
   tutorial writes it, ``cur1 = fc1(x)`` recomputed inside the time loop,
   ``fast_sigmoid(slope=25)``, membrane cross-entropy summed over time;
2. ``deterministic, hoisted``: ``FCSpikingNet`` (the same network with the
   input projection computed once, out of the time loop);
3. ``SBNN``: ``BayesFCSpikingNet()`` on ``ELBO(num_train=60000)`` of the same
   membrane cross-entropy.

Methods are timed in interleaved rounds (a fresh random order each round), so
drifts of the machine hit every method alike; the table reports, per method,
the median over rounds of the per-round median step time, its ratio to (1)
and to (2) and the spread of those ratios over rounds (machine noise).  The
target is the SBNN step at most 2.0x the snnTorch tutorial-5 step; the ratio
to the hoisted twin is reported beside it.  With ``--memory`` each method is
also run alone in a subprocess to measure its peak resident memory.

``--device cuda`` (or ``auto``: CUDA when present) times the same steps on a
GPU, each step ending in a synchronisation so that its time is the kernels'
and not their launch; the memory column is then the rise of PyTorch's peak
CUDA allocation per method, measured in this process.  Every row records the
device it ran on.

    python benchmarks/sbnn_step_time.py              # eager, well under a minute on 2 cores
    python benchmarks/sbnn_step_time.py --memory     # + peak RSS per method (~30 s more)
    python benchmarks/sbnn_step_time.py --compile    # also torch.compile (~3 min to compile)
    python benchmarks/sbnn_step_time.py --compile --fallback-random
    python benchmarks/sbnn_step_time.py --device cuda --memory --out-dir /tmp/gpu

The eager run takes ~15 s on 2 idle cores (seconds per step are only
meaningful on an otherwise idle machine; the load average is printed).
``--compile`` compiles each network's forward (``nn.Module.compile``, in
place), not the loss.  Inductor's own CPU random-number kernels make the
compiled SBNN slower than the eager one; ``--fallback-random`` has the
compiled graphs draw their noise with ATen's generator, as eager does.

Results are written to ``benchmarks/results/sbnn_step_time.csv`` (or
``--out-dir``) with the date, command and machine; ``--quick`` is a smoke test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import snntorch as snn
import torch
from _results import (
    RESULTS,
    device_name,
    interleaved_medians,
    minor_faults_per_step,
    peak_cuda_rise_mib,
    peak_rss_in_child,
    peak_rss_rise_mib,
    provenance,
    resolve_device,
    write_csv,
)
from snntorch import surrogate as snn_surrogate
from step_time import _batch
from torch import nn

from snntorch_bayes.inference import ELBO
from snntorch_bayes.models import BayesFCSpikingNet, FCSpikingNet
from snntorch_bayes.training import membrane_ce_loss

TUTORIAL = "snntorch tutorial 5 (as written)"
HOISTED = "deterministic, hoisted"
SBNN = "SBNN"
TARGET = 2.0  # SBNN step <= TARGET x the tutorial-5 step


class Tutorial5Net(nn.Module):
    """snnTorch tutorial 5's ``Net``, as the tutorial writes it: the input
    current ``fc1(x)`` is recomputed at every one of the ``num_steps`` steps.
    The input is flattened once, as the tutorial's ``data.view(batch_size, -1)``
    does before calling the network."""

    def __init__(self, num_steps: int = 25, beta: float = 0.95) -> None:
        super().__init__()
        self.num_steps = num_steps
        spike_grad = snn_surrogate.fast_sigmoid(slope=25)
        self.fc1 = nn.Linear(784, 1000)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad)
        self.fc2 = nn.Linear(1000, 10)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=spike_grad)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = x.flatten(1)
        # upstream calls init_leaky(), a deprecated alias of reset_mem()
        mem1 = self.lif1.reset_mem()
        mem2 = self.lif2.reset_mem()
        spk2_rec, mem2_rec = [], []
        for _ in range(self.num_steps):
            cur1 = self.fc1(x)
            spk1, mem1 = self.lif1(cur1, mem1)
            cur2 = self.fc2(spk1)
            spk2, mem2 = self.lif2(cur2, mem2)
            spk2_rec.append(spk2)
            mem2_rec.append(mem2)
        return torch.stack(spk2_rec, dim=0), torch.stack(mem2_rec, dim=0)


def _build(name: str, num_steps: int) -> tuple[nn.Module, Callable]:
    """The network of method ``name`` and its loss ``(mem_rec, net, y) -> loss``."""
    if name == TUTORIAL:
        return Tutorial5Net(num_steps), lambda mem, net, y: membrane_ce_loss(mem, y)
    if name == HOISTED:
        net = FCSpikingNet(spike_grad=snn_surrogate.fast_sigmoid(slope=25), num_steps=num_steps)
        return net, lambda mem, net, y: membrane_ce_loss(mem, y)
    if name == SBNN:
        elbo = ELBO(num_train=60_000)
        return BayesFCSpikingNet(num_steps=num_steps), lambda mem, net, y: elbo(
            membrane_ce_loss(mem, y), net
        )
    raise ValueError(f"unknown method {name!r}")


def _stepper(name: str, num_steps: int, data, targets, compiled: bool) -> Callable[[], None]:
    """One training step of method ``name`` (same structure for every method:
    forward, loss, zero_grad, backward, Adam step) on ``data``'s device; on
    CUDA the step waits for its kernels."""
    torch.manual_seed(0)
    net, loss_fn = _build(name, num_steps)
    net.to(data.device)
    if compiled:
        net.compile()  # in place: the forward only, the module (and its KL) unchanged
    opt = torch.optim.Adam(net.parameters(), lr=5e-4)

    def step() -> None:
        _, mem_rec = net(data)
        loss = loss_fn(mem_rec, net, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if data.is_cuda:
            torch.cuda.synchronize(data.device)

    return step


METHODS = [TUTORIAL, HOISTED, SBNN]


def _peak_rss_child(name: str, args) -> None:
    """Run in a subprocess: print the peak-memory rise of ``warmup + steps``
    eager training steps of one method, once the network is built."""
    data, targets, _ = _batch(args.batch_size)
    step = _stepper(name, args.num_steps, data, targets, compiled=False)
    print(f"{peak_rss_rise_mib(step, args.warmup + args.steps):.1f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=6, help="timed steps per method per round")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--num-steps", type=int, default=25)
    p.add_argument("--compile", action="store_true", help="also time torch.compile'd models")
    p.add_argument(
        "--fallback-random",
        action="store_true",
        help="compiled models draw their noise with ATen's generator, as in eager "
        "(torch._inductor.config.fallback_random), not inductor's own",
    )
    p.add_argument(
        "--memory",
        action="store_true",
        help="peak memory of each method: RSS, one subprocess each (CPU); "
        "PyTorch's peak CUDA allocation (GPU)",
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (CUDA when present)")
    p.add_argument("--out-dir", type=Path, default=RESULTS, help="where sbnn_step_time.csv goes")
    p.add_argument("--quick", action="store_true", help="smoke test: 1 round of 1 step, T=2")
    p.add_argument("--peak-rss-of", choices=METHODS, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.steps, args.warmup, args.num_steps = 1, 1, 1, 2
    if args.peak_rss_of:
        _peak_rss_child(args.peak_rss_of, args)
        return 0

    device = resolve_device(args.device)
    data, targets, source = _batch(args.batch_size)
    data, targets = data.to(device), targets.to(device)
    load_start = os.getloadavg()[0]
    # each compiled model is its own specialisation; leave dynamo room for all
    config = torch._dynamo.config
    limit = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"
    setattr(config, limit, max(getattr(config, limit), 4 * len(METHODS)))
    if args.fallback_random:
        torch._inductor.config.fallback_random = True
    compiled_mode = "compiled" + ("+fallback_random" if args.fallback_random else "")
    modes = ["eager"] + ([compiled_mode] if args.compile else [])
    steppers = {}
    for mode in modes:
        for name in METHODS:
            step = _stepper(name, args.num_steps, data, targets, compiled=mode != "eager")
            started = time.perf_counter()
            for _ in range(args.warmup):
                step()
            print(
                f"[{mode}] {name}: warm-up {time.perf_counter() - started:.1f} s", file=sys.stderr
            )
            steppers[(mode, name)] = step

    per_round = interleaved_medians(steppers, args.rounds, args.steps)
    faults = {key: minor_faults_per_step(step, 2 * args.steps) for key, step in steppers.items()}

    rss = {}
    if args.memory and device.type == "cuda":
        calls = args.warmup + args.steps
        rss = {
            name: peak_cuda_rise_mib(steppers[("eager", name)], calls, device) for name in METHODS
        }
    elif args.memory:
        rss = {name: peak_rss_in_child(__file__, name, args) for name in METHODS}
    memory = "peak CUDA" if device.type == "cuda" else "peak RSS"

    load = f"{load_start:.1f} -> {os.getloadavg()[0]:.1f}"
    meta = provenance()
    where = device_name(device)
    print(f"device: {where}")
    print(
        f"\nTraining step, forward + loss + backward + Adam (batch {args.batch_size}, "
        f"T={args.num_steps}, {source} batch), torch {meta['torch']}, {meta['machine']}, "
        f"{meta['date']}"
    )
    print(
        f"{args.rounds} rounds x {args.steps} steps; s/step = median over rounds of the "
        "per-round median;\nx tut5 / x hoisted = ratio to (1) / (2) in the same mode, "
        "[min-max] of the per-round ratio"
    )
    busy = max(load_start, os.getloadavg()[0]) > (os.cpu_count() or 1)
    note = " (other processes share the machine: trust the ratios over the seconds)"
    print(f"1-min load average {load} on {os.cpu_count()} CPUs{note if busy else ''}")
    mem_col = f" {memory:>9}" if rss else ""
    w = max(len(m) for m in modes)
    header = (
        f"{'mode':<{w}} {'method':<34} {'s/step':>8} {'x tut5':>7} {'spread':>13} "
        f"{'x hoisted':>9} {'spread':>13} {'faults':>7}{mem_col}"
    )
    print(header)
    print("-" * len(header))
    rows, verdicts = [], []
    for mode in modes:
        bases = {ref: per_round[(mode, ref)] for ref in (TUTORIAL, HOISTED)}
        stats = {}
        for name in METHODS:
            rounds = per_round[(mode, name)]
            med = statistics.median(rounds)
            entry = {"med": med}
            for ref, base_rounds in bases.items():
                ratios = [t / b for t, b in zip(rounds, base_rounds, strict=True)]
                entry[ref] = (med / statistics.median(base_rounds), min(ratios), max(ratios))
            stats[name] = entry
            tut, hoist = entry[TUTORIAL], entry[HOISTED]
            mem = rss.get(name) if mode == "eager" else None  # measured eager only
            mem_txt = (f" {mem:>5.0f} MiB" if mem is not None else f" {'-':>9}") if rss else ""
            print(
                f"{mode:<{w}} {name:<34} {med:>8.4f} {tut[0]:>6.2f}x "
                f"[{tut[1]:>4.2f}-{tut[2]:<4.2f}x] {hoist[0]:>8.2f}x "
                f"[{hoist[1]:>4.2f}-{hoist[2]:<4.2f}x] {faults[(mode, name)]:>7.0f}{mem_txt}"
            )
            rows.append(
                {
                    **meta,
                    "mode": mode,
                    "method": name,
                    "seconds_per_step": f"{med:.5f}",
                    "ratio_tutorial5": f"{tut[0]:.3f}",
                    "ratio_tutorial5_min": f"{tut[1]:.3f}",
                    "ratio_tutorial5_max": f"{tut[2]:.3f}",
                    "ratio_hoisted": f"{hoist[0]:.3f}",
                    "ratio_hoisted_min": f"{hoist[1]:.3f}",
                    "ratio_hoisted_max": f"{hoist[2]:.3f}",
                    "device": where,
                    "minor_page_faults_per_step": f"{faults[(mode, name)]:.0f}",
                    "peak_rss_rise_mib": ""
                    if mem is None or device.type == "cuda"
                    else f"{mem:.1f}",
                    "peak_cuda_rise_mib": ""
                    if mem is None or device.type != "cuda"
                    else f"{mem:.1f}",
                    "batch_size": args.batch_size,
                    "num_steps": args.num_steps,
                    "rounds": args.rounds,
                    "steps_per_round": args.steps,
                    "data": source,
                    "load_average": load,
                }
            )
        tut, hoist = stats[SBNN][TUTORIAL], stats[SBNN][HOISTED]
        met = "MET" if tut[0] <= TARGET else "NOT MET"
        margin = "" if (tut[2] <= TARGET) == (tut[1] <= TARGET) else " (the spread straddles it)"
        verdicts.append(
            f"[{mode}] target SBNN <= {TARGET:.1f}x the snnTorch tutorial-5 step: {met} "
            f"({tut[0]:.2f}x, rounds {tut[1]:.2f}-{tut[2]:.2f}x){margin}; "
            f"against the hoisted deterministic twin: {hoist[0]:.2f}x "
            f"(rounds {hoist[1]:.2f}-{hoist[2]:.2f}x)"
        )
    print(
        "faults = minor page faults per step (mean): fresh pages the allocator took from "
        "the kernel;\nglibc returns large freed buffers to the kernel, so a step re-faults them "
        "(GLIBC_TUNABLES, docs/sbnn.md)"
    )
    if rss and device.type == "cuda":
        print(
            "peak CUDA = rise of PyTorch's peak CUDA allocation above the built network "
            "over warm-up + timed steps (eager)"
        )
    elif rss:
        print(
            "peak RSS = rise of the peak resident memory above the built network over "
            "warm-up + timed steps, each method alone in a subprocess (eager)"
        )
    print()
    for line in verdicts:
        print(line)
    print(f"\nwritten to {write_csv(args.out_dir / 'sbnn_step_time.csv', rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
