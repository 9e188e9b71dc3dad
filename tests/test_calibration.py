"""Predictive metrics and temperature scaling, checked against hand-computed
values and independent loop / NumPy implementations of the formulas."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

from snntorch_bayes import calibration as cal

F64 = torch.float64

DTYPES = [torch.float32, torch.float64]


# --------------------------------------------------------------------------- #
# independent references (plain Python loops over nested lists)
# --------------------------------------------------------------------------- #
def _ref_ece(probs: list[list[float]], targets: list[int], m: int) -> float:
    n = len(probs)
    total = 0.0
    for b in range(m):
        lo, hi = b / m, (b + 1) / m
        members = []
        for row, y in zip(probs, targets, strict=True):
            conf = max(row)
            if lo < conf <= hi or (b == 0 and conf == 0.0) or (b == m - 1 and conf > 1.0):
                members.append((conf, row.index(conf) == y))
        if members:
            mean_conf = sum(c for c, _ in members) / len(members)
            acc = sum(1.0 for _, ok in members if ok) / len(members)
            total += len(members) / n * abs(acc - mean_conf)
    return total


def _ref_brier(probs: list[list[float]], targets: list[int]) -> float:
    total = 0.0
    for row, y in zip(probs, targets, strict=True):
        total += sum((p - (1.0 if c == y else 0.0)) ** 2 for c, p in enumerate(row))
    return total / len(probs)


def _random_probs(b: int, c: int, scale: float = 2.0, dtype=torch.float64) -> torch.Tensor:
    return torch.softmax(scale * torch.randn(b, c, dtype=torch.float64), dim=1).to(dtype)


# A small example, worked by hand (C = 3, M = 5 bins of width 0.2):
#   row 0: conf 0.90 -> bin 4, predicts 0, target 0 (right)
#   row 1: conf 0.85 -> bin 4, predicts 1, target 0 (wrong)
#   row 2: conf 0.50 -> bin 2, predicts 0, target 0 (right)
#   row 3: conf 0.35 -> bin 1, predicts 0, target 2 (wrong)
SMALL_PROBS = [
    [0.90, 0.05, 0.05],
    [0.10, 0.85, 0.05],
    [0.50, 0.30, 0.20],
    [0.35, 0.33, 0.32],
]
SMALL_TARGETS = [0, 0, 0, 2]
# ECE = 2/4 |1/2 - 0.875| + 1/4 |1 - 0.5| + 1/4 |0 - 0.35|
SMALL_ECE5 = 0.5 * 0.375 + 0.25 * 0.5 + 0.25 * 0.35
# NLL = -(log 0.9 + log 0.1 + log 0.5 + log 0.32) / 4
SMALL_NLL = -(math.log(0.9) + math.log(0.1) + math.log(0.5) + math.log(0.32)) / 4
# Brier, row by row
SMALL_BRIER = (
    (0.1**2 + 0.05**2 + 0.05**2)
    + (0.9**2 + 0.85**2 + 0.05**2)
    + (0.5**2 + 0.3**2 + 0.2**2)
    + (0.35**2 + 0.33**2 + 0.68**2)
) / 4


def _small(dtype=torch.float64):
    return torch.tensor(SMALL_PROBS, dtype=dtype), torch.tensor(SMALL_TARGETS)


# --------------------------------------------------------------------------- #
# metrics on hand-computed examples
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("dtype", DTYPES)
def test_small_example(dtype):
    probs, targets = _small(dtype)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    assert cal.accuracy(probs, targets) == 0.5
    assert cal.negative_log_likelihood(probs, targets) == pytest.approx(SMALL_NLL, abs=tol)
    assert cal.brier_score(probs, targets) == pytest.approx(SMALL_BRIER, abs=tol)
    assert cal.expected_calibration_error(probs, targets, 5) == pytest.approx(SMALL_ECE5, abs=tol)
    assert SMALL_ECE5 == pytest.approx(_ref_ece(SMALL_PROBS, SMALL_TARGETS, 5), abs=1e-15)
    assert cal.predictive_metrics(probs, targets, num_bins=5) == pytest.approx(
        {"accuracy": 0.5, "nll": SMALL_NLL, "ece": SMALL_ECE5, "brier": SMALL_BRIER}, abs=tol
    )
    for value in cal.predictive_metrics(probs, targets).values():
        assert isinstance(value, float)


def test_small_reliability_curve():
    probs, targets = _small()
    curve = cal.reliability_curve(probs, targets, num_bins=5)
    assert curve.num_bins == 5 and curve.num_examples == 4
    assert curve.bin_edges.tolist() == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], abs=1e-15)
    assert curve.counts.tolist() == [0, 1, 1, 0, 2]
    assert curve.counts.dtype == torch.int64
    conf, acc = curve.confidence.tolist(), curve.accuracy.tolist()
    for b in (0, 3):
        assert math.isnan(conf[b]) and math.isnan(acc[b])
    assert [conf[1], conf[2], conf[4]] == pytest.approx([0.35, 0.5, 0.875], abs=1e-12)
    assert [acc[1], acc[2], acc[4]] == [0.0, 1.0, 0.5]
    assert curve.ece == cal.expected_calibration_error(probs, targets, 5)


def test_bins_are_right_closed():
    # confidence 0.5 exactly: bin (0, 1/2] of 2, bin (1/4, 1/2] of 4; 1.0 in the last bin
    probs = torch.tensor([[0.5, 0.5], [1.0, 0.0]], dtype=torch.float64)
    targets = torch.tensor([0, 0])
    assert cal.reliability_curve(probs, targets, 2).counts.tolist() == [1, 1]
    assert cal.reliability_curve(probs, targets, 4).counts.tolist() == [0, 1, 0, 1]
    assert cal.reliability_curve(probs, targets, 1).counts.tolist() == [2]


@pytest.mark.parametrize("num_bins", [1, 2, 7, 15, 40])
def test_ece_matches_loop_reference_and_curve(num_bins):
    probs = _random_probs(300, 4)
    targets = torch.randint(0, 4, (300,))
    ece = cal.expected_calibration_error(probs, targets, num_bins)
    ref = _ref_ece(probs.tolist(), targets.tolist(), num_bins)
    assert ece == pytest.approx(ref, abs=1e-12)
    curve = cal.reliability_curve(probs, targets, num_bins)
    full = curve.counts > 0
    from_curve = sum(
        n / 300 * abs(a - c)
        for n, a, c, f in zip(
            curve.counts.tolist(),
            curve.accuracy.tolist(),
            curve.confidence.tolist(),
            full,
            strict=True,
        )
        if f
    )
    assert ece == pytest.approx(from_curve, abs=1e-12)
    assert curve.ece == ece
    assert cal.predictive_metrics(probs, targets, num_bins)["ece"] == ece


def test_metrics_match_numpy_reference():
    probs = _random_probs(200, 6)
    targets = torch.randint(0, 6, (200,))
    p, y = probs.numpy(), targets.numpy()
    onehot = np.eye(6)[y]
    assert cal.accuracy(probs, targets) == pytest.approx(np.mean(p.argmax(1) == y), abs=1e-15)
    assert cal.negative_log_likelihood(probs, targets) == pytest.approx(
        -np.mean(np.log(p[np.arange(200), y])), abs=1e-12
    )
    assert cal.brier_score(probs, targets) == pytest.approx(
        np.mean(np.sum((p - onehot) ** 2, axis=1)), abs=1e-12
    )
    assert cal.brier_score(probs, targets) == pytest.approx(
        _ref_brier(probs.tolist(), targets.tolist()), abs=1e-12
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_correct_is_perfect(dtype):
    targets = torch.tensor([2, 0, 1, 2])
    probs = torch.nn.functional.one_hot(targets, 3).to(dtype)
    m = cal.predictive_metrics(probs, targets)
    assert m == {"accuracy": 1.0, "nll": 0.0, "ece": 0.0, "brier": 0.0}


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_hot_wrong_extremes(dtype):
    probs = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    targets = torch.tensor([1, 0])
    # zero probability: clamped at the dtype's tiny, large but finite
    assert cal.negative_log_likelihood(probs, targets) == pytest.approx(
        -math.log(torch.finfo(dtype).tiny), rel=1e-12
    )
    assert cal.brier_score(probs, targets) == 2.0
    assert cal.expected_calibration_error(probs, targets) == 1.0
    assert cal.accuracy(probs, targets) == 0.0


def test_perfectly_calibrated_ece_is_small():
    gen = torch.Generator().manual_seed(0)
    b = 50_000
    probs = torch.softmax(1.5 * torch.randn(b, 5, generator=gen, dtype=torch.float64), dim=1)
    targets = torch.multinomial(probs, 1, generator=gen).squeeze(1)
    curve = cal.reliability_curve(probs, targets)
    full = curve.counts > 0
    n = curve.counts[full].double()
    acc = curve.accuracy[full]
    # binomial standard error of the accuracy in each bin, weighted like the ECE
    se = float((n / b * torch.sqrt(acc * (1 - acc) / n + 1 / n**2)).sum())
    assert curve.ece < 3 * se
    assert curve.ece < 0.01
    # the same labels against over-confident probabilities are clearly miscalibrated
    sharp = torch.softmax(2.0 * probs.log(), dim=1)
    assert cal.expected_calibration_error(sharp, targets) > 10 * se


@pytest.mark.parametrize("dtype", [*DTYPES, torch.float16])
def test_dtypes_accepted(dtype):
    probs = _random_probs(64, 5, scale=1.0)  # no probabilities below float16's tiny
    targets = torch.randint(0, 5, (64,))
    ref = cal.predictive_metrics(probs, targets)
    got = cal.predictive_metrics(probs.to(dtype), targets.to(torch.int32))
    tol = {torch.float64: 1e-12, torch.float32: 1e-5, torch.float16: 1e-2}[dtype]
    assert got == pytest.approx(ref, abs=tol)


def test_row_sum_tolerance():
    targets = torch.tensor([0])
    ok = torch.tensor([[0.5 + 5e-5, 0.5]], dtype=torch.float64)
    assert cal.accuracy(ok, targets) == 1.0
    bad = torch.tensor([[0.5, 0.5 + 1e-3]], dtype=torch.float64)
    with pytest.raises(ValueError, match="sum to 1"):
        cal.accuracy(bad, targets)


# --------------------------------------------------------------------------- #
# input validation
# --------------------------------------------------------------------------- #
_P = torch.tensor([[0.25, 0.75], [0.5, 0.5]])
_Y = torch.tensor([1, 0])
_METRICS = [
    cal.accuracy,
    cal.negative_log_likelihood,
    cal.brier_score,
    cal.expected_calibration_error,
    cal.reliability_curve,
    cal.predictive_metrics,
]


@pytest.mark.parametrize("fn", _METRICS)
@pytest.mark.parametrize(
    ("probs", "targets", "match"),
    [
        (torch.tensor([0.25, 0.75]), _Y, "probs must be 2-D"),
        (torch.ones(2, 1, 2) / 2, _Y, "probs must be 2-D"),
        (_P, torch.tensor([[1], [0]]), "targets must be 1-D"),
        (_P, torch.tensor([1, 0, 1]), "targets has length 3"),
        (torch.empty(0, 2), torch.empty(0, dtype=torch.int64), r"B == 0"),
        (torch.empty(2, 0), _Y, r"C == 0"),
        (_P, torch.tensor([1, 2]), r"targets must lie in \[0, C\)"),
        (_P, torch.tensor([-1, 0]), r"targets must lie in \[0, C\)"),
        (torch.tensor([[float("nan"), 1.0], [0.5, 0.5]]), _Y, "probs must be finite"),
        (torch.tensor([[float("inf"), 1.0], [0.5, 0.5]]), _Y, "probs must be finite"),
        (torch.tensor([[-0.5, 1.5], [0.5, 0.5]]), _Y, "probs must be non-negative"),
        (torch.tensor([[0.2, 0.2], [0.5, 0.5]]), _Y, "rows of probs must sum to 1"),
    ],
)
def test_bad_probs_or_targets(fn, probs, targets, match):
    with pytest.raises(ValueError, match=match):
        fn(probs, targets)


@pytest.mark.parametrize("fn", _METRICS)
def test_bad_types(fn):
    with pytest.raises(TypeError, match=r"probs must be a torch\.Tensor"):
        fn([[0.5, 0.5]], torch.tensor([0]))
    with pytest.raises(TypeError, match="floating-point"):
        fn(torch.tensor([[1, 0]]), torch.tensor([0]))
    with pytest.raises(TypeError, match="targets must have an integer dtype"):
        fn(_P, torch.tensor([1.0, 0.0]))


@pytest.mark.parametrize(
    "fn", [cal.expected_calibration_error, cal.reliability_curve, cal.predictive_metrics]
)
@pytest.mark.parametrize("num_bins", [0, -3, 2.0, 1.5, "15", True, None])
def test_bad_num_bins(fn, num_bins):
    with pytest.raises(ValueError, match="num_bins must be an int >= 1"):
        fn(_P, _Y, num_bins)


def test_num_bins_numpy_int_accepted():
    assert cal.expected_calibration_error(_P, _Y, np.int64(3)) == cal.expected_calibration_error(
        _P, _Y, 3
    )


# --------------------------------------------------------------------------- #
# reliability diagram
# --------------------------------------------------------------------------- #
def test_plot_reliability():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    probs, targets = _small()
    curves = {
        "small": cal.reliability_curve(probs, targets, 5),
        "random": cal.reliability_curve(_random_probs(100, 3), torch.randint(0, 3, (100,)), 10),
    }
    ax = Figure().add_subplot()
    assert cal.plot_reliability(curves, ax=ax) is ax
    labels = ax.get_legend_handles_labels()[1]
    assert labels[0] == "perfect calibration"
    assert labels[1] == f"small (ECE {100 * SMALL_ECE5:.2f}%)"
    assert labels[2].startswith("random (ECE ")
    expected_bars = sum(int((c.counts > 0).sum()) for c in curves.values())
    assert len(ax.patches) == expected_bars
    heights = sorted(p.get_height() for p in ax.patches[:3])
    assert heights == pytest.approx([0.0, 0.5, 1.0])
    diagonal = ax.lines[0]
    assert list(diagonal.get_xdata()) == [0.0, 1.0] == list(diagonal.get_ydata())


def test_plot_reliability_new_axes_and_errors():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curve = cal.reliability_curve(*_small(), 5)
    ax = cal.plot_reliability({"m": curve})
    assert ax.get_xlabel() == "confidence"
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="non-empty dict"):
        cal.plot_reliability({})
    with pytest.raises(ValueError, match="must be a ReliabilityCurve"):
        cal.plot_reliability({"m": 0.3})


def test_plot_reliability_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    curve = cal.reliability_curve(*_small(), 5)
    with pytest.raises(ImportError, match=r"snntorch-bayes\[data\]"):
        cal.plot_reliability({"m": curve})


# --------------------------------------------------------------------------- #
# Bayesian model average
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("dtype", DTYPES)
def test_bma_of_identical_passes_is_softmax(dtype):
    logits = 3 * torch.randn(5, 7, dtype=dtype)
    stacked = logits.expand(4, 5, 7)
    tol = 1e-12 if dtype == torch.float64 else 1e-6
    torch.testing.assert_close(
        cal.bayesian_model_average(stacked), torch.softmax(logits, 1), atol=tol, rtol=0
    )
    torch.testing.assert_close(
        cal.bayesian_model_average(logits[None]), torch.softmax(logits, 1), atol=tol, rtol=0
    )


def test_bma_equals_naive_mean():
    logits = 4 * torch.randn(8, 16, 10, dtype=torch.float64)
    naive = torch.softmax(logits, dim=-1).mean(dim=0)
    out = cal.bayesian_model_average(logits)
    assert out.shape == (16, 10) and out.dtype == torch.float64
    torch.testing.assert_close(out, naive, atol=1e-12, rtol=0)
    # and against a NumPy loop over passes
    ref = np.zeros((16, 10))
    for k in range(8):
        z = logits[k].numpy()
        e = np.exp(z - z.max(axis=1, keepdims=True))
        ref += e / e.sum(axis=1, keepdims=True) / 8
    np.testing.assert_allclose(out.numpy(), ref, atol=1e-12, rtol=0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bma_stable_for_huge_logits(dtype):
    logits = 1e4 * torch.randn(6, 32, 5, dtype=dtype)
    out = cal.bayesian_model_average(logits)
    assert out.dtype == dtype
    assert bool(torch.isfinite(out).all())
    assert bool((out >= 0).all())
    torch.testing.assert_close(
        out.double().sum(1), torch.ones(32, dtype=torch.float64), atol=1e-5, rtol=0
    )
    # the output is a valid input to the metrics
    cal.predictive_metrics(out, torch.randint(0, 5, (32,)))


def test_bma_is_differentiable():
    logits = torch.randn(3, 4, 5, dtype=torch.float64, requires_grad=True)
    out = cal.bayesian_model_average(logits)
    out[:, 0].sum().backward()
    assert logits.grad is not None and bool(torch.isfinite(logits.grad).all())


@pytest.mark.parametrize(
    ("logits", "match"),
    [
        (torch.randn(4, 5), "logits must be 3-D"),
        (torch.randn(2, 4, 5, 1), "logits must be 3-D"),
        (torch.randn(0, 4, 5), "num_samples must be >= 1"),
        (torch.randn(2, 4, 0), r"C == 0"),
        (torch.tensor([[[0.0, float("nan")]]]), "logits must be finite"),
    ],
)
def test_bma_bad_input(logits, match):
    with pytest.raises(ValueError, match=match):
        cal.bayesian_model_average(logits)


# --------------------------------------------------------------------------- #
# temperature scaling
# --------------------------------------------------------------------------- #
def _nll_np(logits: np.ndarray, y: np.ndarray, t: float) -> float:
    z = logits / t
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(y)), y]))


def _sampled(t_true: float, b: int = 20_000, c: int = 10, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    logits = 3.0 * torch.randn(b, c, generator=gen, dtype=torch.float64)
    targets = torch.multinomial(torch.softmax(logits / t_true, 1), 1, generator=gen).squeeze(1)
    return logits, targets


def test_temperature_scale():
    logits = torch.randn(4, 6, dtype=torch.float64)
    torch.testing.assert_close(cal.temperature_scale(logits, 1.0), torch.softmax(logits, 1))
    torch.testing.assert_close(
        cal.temperature_scale(logits, 2.5), torch.softmax(logits / 2.5, 1), atol=1e-15, rtol=0
    )
    z = np.array([1.0, 3.0])
    e = np.exp(z / 4.0)
    out = cal.temperature_scale(torch.tensor(z), torch.tensor(4.0))
    np.testing.assert_allclose(out.numpy(), e / e.sum(), atol=1e-15)
    assert cal.temperature_scale(torch.randn(2, 3, 4), 0.5).shape == (2, 3, 4)


@pytest.mark.parametrize("t", [0, 0.0, -1.0, float("nan"), float("inf"), "2", None, True])
def test_temperature_scale_bad_temperature(t):
    with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
        cal.temperature_scale(torch.randn(2, 3), t)


def test_temperature_scale_bad_logits():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        cal.temperature_scale(torch.tensor(1.0), 1.0)
    with pytest.raises(ValueError, match="logits must be finite"):
        cal.temperature_scale(torch.tensor([0.0, float("inf")]), 1.0)


@pytest.mark.parametrize("t_true", [0.5, 2.0])
def test_fit_temperature_recovers_known_temperature(t_true):
    logits, targets = _sampled(t_true)
    t = cal.fit_temperature(logits, targets)
    assert isinstance(t, float) and math.isfinite(t) and t > 0
    assert t == pytest.approx(t_true, rel=0.04)
    # a stationary point of the NLL, independently evaluated with NumPy
    z, y = logits.numpy(), targets.numpy()
    best = _nll_np(z, y, t)
    assert best <= _nll_np(z, y, t * 1.001) and best <= _nll_np(z, y, t / 1.001)
    assert best <= _nll_np(z, y, 1.0)


@pytest.mark.parametrize(
    "case", ["overconfident", "underconfident", "random_labels", "small", "float32"]
)
def test_fit_temperature_never_increases_nll(case):
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(500, 4, generator=gen, dtype=torch.float64)
    if case == "overconfident":
        logits, targets = _sampled(0.3, b=500, c=4, seed=2)
        logits = logits * 5
    elif case == "underconfident":
        logits, targets = _sampled(3.0, b=500, c=4, seed=3)
        logits = logits / 5
    elif case == "small":
        logits, targets = logits[:3], torch.tensor([0, 1, 2])
    else:
        targets = torch.randint(0, 4, (500,), generator=gen)
    if case == "float32":
        logits = logits.float()
    t = cal.fit_temperature(logits, targets)
    assert isinstance(t, float) and math.isfinite(t) and t > 0
    nll_t = cal.negative_log_likelihood(cal.temperature_scale(logits.double(), t), targets)
    nll_1 = cal.negative_log_likelihood(torch.softmax(logits.double(), 1), targets)
    assert nll_t <= nll_1 + 1e-12


def test_fit_temperature_deterministic_and_edge_cases():
    logits, targets = _sampled(1.5, b=2000)
    assert cal.fit_temperature(logits, targets) == cal.fit_temperature(logits, targets)
    # separable data: the NLL falls as T -> 0, the lower bound is returned
    separable = 5.0 * torch.nn.functional.one_hot(targets, 10).double()
    t_sep = cal.fit_temperature(separable, targets)
    assert t_sep == pytest.approx(cal.TEMPERATURE_BOUNDS[0])
    # labels always at the lowest logit: the NLL falls as T grows
    worst = -separable
    assert cal.fit_temperature(worst, targets) == pytest.approx(cal.TEMPERATURE_BOUNDS[1])
    # constant logits: every T is optimal, T = 1 is kept
    assert cal.fit_temperature(torch.zeros(10, 3), torch.tensor([0, 1, 2] * 3 + [0])) == 1.0
    # max_iter = 1 still gives a valid temperature, no worse than T = 1
    t1 = cal.fit_temperature(logits, targets, max_iter=1)
    assert math.isfinite(t1) and t1 > 0


def test_fit_temperature_hand_example():
    # 3 right and 1 wrong at margin 2: d/dβ [3 log(1 + e^{-2β}) + log(1 + e^{2β})] = 0
    # gives e^{2β} = 3, so T = 1/β = 2 / log 3
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    t = cal.fit_temperature(logits, torch.tensor([0, 1, 1, 0]))
    assert t == pytest.approx(2.0 / math.log(3.0), rel=1e-9)


@pytest.mark.parametrize(
    ("logits", "targets", "kwargs", "match"),
    [
        (torch.randn(3), torch.tensor([0, 1, 2]), {}, "logits must be 2-D"),
        (torch.randn(2, 3, 4), torch.tensor([0, 1]), {}, "logits must be 2-D"),
        (torch.randn(0, 3), torch.empty(0, dtype=torch.int64), {}, r"B == 0"),
        (torch.randn(2, 3), torch.tensor([0, 3]), {}, r"targets must lie in \[0, C\)"),
        (torch.randn(2, 3), torch.tensor([0]), {}, "targets has length 1"),
        (torch.randn(2, 3), torch.tensor([[0, 1]]), {}, "targets must be 1-D"),
        (torch.tensor([[0.0, float("nan")]]), torch.tensor([0]), {}, "logits must be finite"),
        (torch.randn(2, 3), torch.tensor([0, 1]), {"max_iter": 0}, "max_iter must be an int"),
        (torch.randn(2, 3), torch.tensor([0, 1]), {"max_iter": 2.5}, "max_iter must be an int"),
    ],
)
def test_fit_temperature_bad_input(logits, targets, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cal.fit_temperature(logits, targets, **kwargs)


def test_fit_temperature_accepts_unnormalised_logits():
    # logits need not be probabilities: rows summing to anything are fine
    logits = torch.tensor([[10.0, -3.0], [-1.0, 4.0], [2.0, 2.5]])
    t = cal.fit_temperature(logits, torch.tensor([0, 1, 0]))
    assert math.isfinite(t) and t > 0


# --------------------------------------------------------------------------- #
# uncertainty scores and out-of-distribution detection
# --------------------------------------------------------------------------- #
def test_predictive_entropy_limits_and_formula():
    from snntorch_bayes.calibration import predictive_entropy

    probs = torch.tensor([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.2, 0.3, 0.5]], dtype=F64)
    want = [0.0, math.log(3), -(0.2 * math.log(0.2) + 0.3 * math.log(0.3) + 0.5 * math.log(0.5))]
    assert predictive_entropy(probs).tolist() == pytest.approx(want, abs=1e-15)


def test_mutual_information_is_entropy_of_mean_minus_mean_entropy():
    from snntorch_bayes.calibration import mutual_information

    g = torch.Generator().manual_seed(0)
    logits = torch.randn(7, 5, 4, dtype=F64, generator=g) * 3
    p = logits.softmax(-1).numpy()
    mean = p.mean(0)
    want = -(mean * np.log(mean)).sum(-1) + (p * np.log(p)).sum(-1).mean(0)
    np.testing.assert_allclose(mutual_information(logits).numpy(), want, rtol=1e-12)
    same = logits[:1].expand(3, -1, -1)
    assert mutual_information(same).abs().max() < 1e-12
    with pytest.raises(ValueError, match="num_samples must be >= 1"):
        mutual_information(logits[:0])


def test_auroc_equals_pair_counting_with_ties():
    from snntorch_bayes.calibration import auroc

    g = torch.Generator().manual_seed(1)
    a = torch.randint(0, 6, (40,), generator=g).double()
    b = torch.randint(2, 8, (30,), generator=g).double()
    pairs = [(1.0 if y > x else 0.5 if y == x else 0.0) for x in a.tolist() for y in b.tolist()]
    assert auroc(a, b) == pytest.approx(sum(pairs) / len(pairs), abs=1e-12)
    assert auroc(torch.zeros(3), torch.ones(2)) == 1.0
    assert auroc(torch.ones(3), torch.zeros(2)) == 0.0
    assert auroc(torch.ones(3), torch.ones(2)) == 0.5
    with pytest.raises(ValueError, match="scores_out"):
        auroc(torch.ones(3), torch.tensor([math.nan]))


# --------------------------------------------------------------------------- #
# regression: Gaussian NLL and interval coverage
# --------------------------------------------------------------------------- #
def test_gaussian_nll_equals_scipy_logpdf():
    scipy_stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(0)
    mean = torch.randn(50, generator=g, dtype=F64)
    std = torch.rand(50, generator=g, dtype=F64) + 0.05
    y = torch.randn(50, generator=g, dtype=F64) * 2
    expected = -scipy_stats.norm.logpdf(y.numpy(), mean.numpy(), std.numpy()).mean()
    assert cal.gaussian_nll(mean, std, y) == pytest.approx(expected, rel=1e-12)
    # float32 inputs are scored in float64 too
    assert cal.gaussian_nll(mean.float(), std.float(), y.float()) == pytest.approx(
        expected, rel=1e-5
    )


def test_gaussian_nll_is_minimised_at_the_empirical_spread():
    y = torch.tensor([-1.0, 1.0, -1.0, 1.0], dtype=F64)  # residual variance 1
    nll = [cal.gaussian_nll(torch.zeros(4, dtype=F64), torch.full((4,), s, dtype=F64), y)
           for s in (0.5, 1.0, 2.0)]  # fmt: skip
    assert nll[1] < nll[0] and nll[1] < nll[2]
    assert nll[1] == pytest.approx(0.5 * math.log(2 * math.pi) + 0.5)


def test_interval_coverage_counts_targets_inside_the_scipy_interval():
    scipy_stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(1)
    mean = torch.randn(200, generator=g, dtype=F64)
    std = torch.rand(200, generator=g, dtype=F64) + 0.1
    y = mean + std * torch.randn(200, generator=g, dtype=F64) * 1.3
    for level in (0.5, 0.9, 0.99):
        lo, hi = scipy_stats.norm.interval(level, mean.numpy(), std.numpy())
        expected = np.mean((y.numpy() >= lo) & (y.numpy() <= hi))
        assert cal.interval_coverage(mean, std, y, level) == pytest.approx(expected, abs=1e-12)


def test_interval_coverage_of_a_calibrated_gaussian_is_its_level():
    g = torch.Generator().manual_seed(2)
    y = torch.randn(200_000, generator=g, dtype=F64)
    ones, zeros = torch.ones_like(y), torch.zeros_like(y)
    for level in (0.5, 0.9):
        assert cal.interval_coverage(zeros, ones, y, level) == pytest.approx(level, abs=0.005)
    # a too-narrow predictive covers less than it claims
    assert cal.interval_coverage(zeros, 0.5 * ones, y, 0.9) < 0.65


@pytest.mark.parametrize(
    "mean, std, y, level, match",
    [
        (torch.zeros(3), torch.zeros(3), torch.zeros(3), 0.9, "std must be > 0"),
        (torch.zeros(3), torch.ones(2), torch.zeros(3), 0.9, "same shape"),
        (torch.zeros(3, 1), torch.ones(3, 1), torch.zeros(3, 1), 0.9, "1-D"),
        (torch.zeros(3), torch.ones(3), torch.tensor([0.0, float("nan"), 0.0]), 0.9, "finite"),
        (torch.zeros(3), torch.ones(3), torch.zeros(3), 1.0, "level must be"),
        (torch.zeros(3), torch.ones(3), torch.zeros(3), 0.0, "level must be"),
    ],
)
def test_gaussian_metrics_bad_input(mean, std, y, level, match):
    with pytest.raises(ValueError, match=match):
        cal.interval_coverage(mean, std, y, level)
    if "level" not in match:
        with pytest.raises(ValueError, match=match):
            cal.gaussian_nll(mean, std, y)
