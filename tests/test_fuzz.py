"""Fuzz-style checks of the public constructors and functions: every numeric
or flag argument, given each of a set of bad values, either works or raises
a ``ValueError`` / ``TypeError`` whose message names the argument -- never
another exception from deep inside torch, and never a silently accepted NaN
or string."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
import torch

import snntorch_bayes as sb
from snntorch_bayes import calibration, diagnostics, surrogate
from snntorch_bayes import functional as Fn
from snntorch_bayes.deep import BinaryMLP
from snntorch_bayes.models import (
    BayesFCSpikingNet,
    BinaryResNet,
    FastSigmoid,
    FCSpikingNet,
    SpikingResNet,
)

BAD = {
    "nan": math.nan,
    "inf": math.inf,
    "-inf": -math.inf,
    "-1": -1,
    "0": 0,
    "2.5": 2.5,
    "1e300": 1e300,
    "str": "3",
    "None": None,
    "True": True,
    "list": [1],
}
#: values that must never be taken for a number or a flag
ALWAYS_BAD = ("nan", "str", "list")


def _probs() -> torch.Tensor:
    return torch.full((4, 3), 1 / 3)


def _targets() -> torch.Tensor:
    return torch.tensor([0, 1, 2, 0])


#: name -> (callable, valid keyword arguments); each argument is fuzzed in turn
CASES: dict[str, tuple[Callable, dict]] = {
    "BayesLinear": (sb.BayesLinear, {"in_features": 3, "out_features": 2, "posterior_std": 0.1}),
    "BayesConv2d": (
        sb.BayesConv2d,
        {"in_channels": 2, "out_channels": 2, "kernel_size": 3, "groups": 1},
    ),
    "VariationalLeaky": (
        sb.VariationalLeaky,
        {
            "beta": 0.9,
            "threshold": 1.0,
            "graded_spikes_factor": 1.0,
            "intrinsic_noise": 0.0,
            "init_hidden": False,
            "output": False,
            "learn_beta": False,
        },
    ),
    "VariationalSynaptic": (
        sb.VariationalSynaptic,
        {"alpha": 0.8, "beta": 0.9, "threshold": 1.0, "intrinsic_noise": 0.0},
    ),
    "GaussianPrior": (sb.GaussianPrior, {"std": 0.5, "mean": 0.0}),
    "ELBO": (sb.ELBO, {"num_train": 100, "warmup_steps": 0, "kl_scale": 0.1}),
    "iw_st": (
        surrogate.iw_st,
        {"p": 1.0, "scale": 0.25, "max_weight": 5.0, "sample": False},
    ),
    "straight_through": (surrogate.straight_through, {"scale": 0.25, "sample": False}),
    "gumbel_rao": (surrogate.gumbel_rao, {"tau": 0.5, "scale": 0.25}),
    "gumbel_rao_mc": (surrogate.gumbel_rao_mc, {"tau": 0.5, "k": 4, "scale": 0.25}),
    "FastSigmoid": (FastSigmoid, {"slope": 25.0}),
    "bias_penalty": (lambda **kw: sb.bias_penalty(torch.full((3,), 0.3), **kw), {"p": 0.5}),
    "firing_probability": (
        lambda **kw: Fn.firing_probability(torch.zeros(3), "gaussian", **kw),
        {"scale": 1.0},
    ),
    "diagnostics.BinaryMLP": (diagnostics.BinaryMLP, {"sizes": [3, 2, 2], "scale": 1.0}),
    "FCSpikingNet": (FCSpikingNet, {"num_hidden": 4, "num_steps": 2, "beta": 0.9}),
    "BayesFCSpikingNet": (
        BayesFCSpikingNet,
        {"num_hidden": 4, "num_steps": 2, "beta": 0.9, "posterior_std": 0.5},
    ),
    "BinaryResNet": (
        lambda **kw: BinaryResNet((1, 8, 8), **kw),
        {"num_classes": 3, "depth": 1, "width": 4, "variational": True},
    ),
    "SpikingResNet": (
        lambda **kw: SpikingResNet((1, 8, 8), **kw),
        {"num_classes": 3, "depth": 1, "width": 4, "num_steps": 2, "beta": 0.9, "alpha": 0.8},
    ),
    "deep.BinaryMLP": (
        lambda **kw: BinaryMLP("sbnn", **kw),
        {"depth": 1, "width": 4},
    ),
    "initialize": (
        lambda **kw: sb.initialize(
            torch.nn.Sequential(sb.BayesLinear(3, 4), sb.VariationalLeaky(0.0, init_hidden=True)),
            torch.rand(8, 3),
            **kw,
        ),
        {"spread": 1.0, "noise_ratio": 0.5, "iterations": 2, "seed": 0},
    ),
    "mc_logits": (
        lambda **kw: sb.mc_logits(lambda: torch.zeros(2, 3), sb.BayesLinear(3, 3), **kw),
        {"num_samples": 2},
    ),
    "expected_calibration_error": (
        lambda **kw: calibration.expected_calibration_error(_probs(), _targets(), **kw),
        {"num_bins": 15},
    ),
}


def _params() -> list:
    return [
        pytest.param(name, arg, bad, id=f"{name}-{arg}-{bad}")
        for name, (_, valid) in CASES.items()
        for arg in valid
        for bad in BAD
    ]


@pytest.mark.parametrize("name, arg, bad", _params())
def test_bad_arguments_raise_a_clear_error_or_work(name, arg, bad):
    make, valid = CASES[name]
    kwargs = {**valid, arg: BAD[bad]}
    try:
        make(**kwargs)
    except (ValueError, TypeError) as err:
        assert arg in str(err), f"{name}({arg}={BAD[bad]!r}): message {str(err)!r} names no {arg}"
        return
    assert bad not in ALWAYS_BAD, f"{name} silently accepted {arg}={BAD[bad]!r}"


@pytest.mark.parametrize("name", list(CASES))
def test_the_valid_arguments_work(name):
    make, valid = CASES[name]
    make(**valid)
