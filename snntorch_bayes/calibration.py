r"""Predictive metrics, reliability diagrams and temperature scaling for
classifiers, and the NLL and interval coverage of Gaussian predictions for
regression.

Everything here is pure and stateless.  The metrics take predictive
probabilities ``probs`` of shape ``[B, C]`` (each row a distribution over
``C`` classes) and integer class labels ``targets`` of shape ``[B]``, and
return Python floats.  They are computed in float64 on the CPU (inputs may be
float32 or float64 on any device; half precision is accepted too), so the
results do not depend on the device and are deterministic.

* :func:`accuracy`, :func:`negative_log_likelihood`,
  :func:`expected_calibration_error`, :func:`brier_score` and
  :func:`predictive_metrics` (all four at once);
* :func:`reliability_curve` and :func:`plot_reliability` -- per-bin
  statistics behind the ECE, and the reliability diagram;
* :func:`bayesian_model_average` -- the Monte-Carlo predictive distribution of
  a stochastic (e.g. variational or noisy-neuron) network;
* :func:`fit_temperature` and :func:`temperature_scale` -- temperature scaling
  (Guo et al., 2017, *On Calibration of Modern Neural Networks*);
* :func:`gaussian_nll` and :func:`interval_coverage` -- for regression: the
  NLL and interval coverage of Gaussian predictive distributions.

Input checks live in one helper and raise ``ValueError`` naming the offending
argument (``TypeError`` for arguments that are not tensors or have an
integer/floating dtype where the other is required).  ``probs`` must be
finite and non-negative, and each row must sum to 1 within an absolute
tolerance of :data:`ROW_SUM_TOL` ``= 1e-4`` (summed in float64), widened to the
dtype's machine epsilon where that is larger (half precision only), so float32
softmax outputs always pass.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import torch

__all__ = [
    "ROW_SUM_TOL",
    "TEMPERATURE_BOUNDS",
    "ReliabilityCurve",
    "accuracy",
    "auroc",
    "bayesian_model_average",
    "brier_score",
    "expected_calibration_error",
    "fit_temperature",
    "gaussian_nll",
    "interval_coverage",
    "mutual_information",
    "negative_log_likelihood",
    "plot_reliability",
    "predictive_entropy",
    "predictive_metrics",
    "reliability_curve",
    "temperature_scale",
]

#: Rows of ``probs`` must sum to 1 within this absolute tolerance (widened to
#: the dtype's machine epsilon where that is larger, i.e. for half precision).
ROW_SUM_TOL = 1e-4

#: :func:`fit_temperature` searches :math:`T` in this closed interval.
TEMPERATURE_BOUNDS = (1e-4, 1e4)


# --------------------------------------------------------------------------- #
# validation
# --------------------------------------------------------------------------- #
_UNSET: Any = object()  # "not given" for the optional checks of _validate


def _validate(
    x: torch.Tensor,
    targets: torch.Tensor | None = None,
    *,
    name: str = "probs",
    ndim: int | None = 2,
    is_probs: bool = True,
    num_bins: Any = _UNSET,
    max_iter: Any = _UNSET,
    temperature: Any = _UNSET,
) -> float | None:
    """Check the inputs of every public function in this module.

    :param x: ``probs`` (``is_probs=True``) or logits
    :param targets: class labels for the rows of ``x`` (2-D ``x`` only)
    :param name: how ``x`` is called in error messages
    :param ndim: the rank ``x`` must have; ``None`` for any rank >= 1.  Rank 3
        means Monte-Carlo logits ``[K, B, C]``, which need ``K >= 1``
    :param is_probs: check that ``x`` holds probabilities (finite,
        non-negative, rows summing to 1) rather than finite logits
    :param num_bins: checked when given (``None`` included): an int >= 1
    :param max_iter: checked when given (``None`` included): an int >= 1
    :param temperature: checked when given (``None`` included): a finite
        number > 0
    :return: ``temperature`` as a float when given, else ``None``
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must have a floating-point dtype, got {x.dtype}")
    if ndim is None:
        if x.ndim < 1:
            raise ValueError(f"{name} must have at least 1 dimension [..., C], got a scalar")
    elif x.ndim != ndim:
        layout = {2: "[B, C]", 3: "[K, B, C]"}.get(ndim, "")
        raise ValueError(f"{name} must be {ndim}-D {layout}, got shape {tuple(x.shape)}")
    if ndim == 3 and x.shape[0] == 0:
        raise ValueError(
            f"num_samples must be >= 1: {name} has shape {tuple(x.shape)} with K = 0 "
            "Monte-Carlo passes along dim 0"
        )
    if x.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one class (C == 0), got {tuple(x.shape)}")
    if ndim == 2 and x.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example (B == 0)")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    if is_probs:
        if bool((x < 0).any()):
            raise ValueError(f"{name} must be non-negative (found min {x.min().item():g})")
        err = (x.double().sum(dim=-1) - 1.0).abs().max().item()
        tol = max(ROW_SUM_TOL, torch.finfo(x.dtype).eps)
        if err > tol:
            raise ValueError(
                f"rows of {name} must sum to 1 (tolerance {tol:g}); largest deviation is {err:g}"
            )
    if targets is not None:
        if not isinstance(targets, torch.Tensor):
            raise TypeError(f"targets must be a torch.Tensor, got {type(targets).__name__}")
        if targets.dtype == torch.bool or targets.is_floating_point() or targets.is_complex():
            raise TypeError(f"targets must have an integer dtype, got {targets.dtype}")
        if targets.ndim != 1:
            raise ValueError(f"targets must be 1-D [B], got shape {tuple(targets.shape)}")
        if targets.shape[0] != x.shape[0]:
            raise ValueError(
                f"targets has length {targets.shape[0]} but {name} has B = {x.shape[0]} rows"
            )
        num_classes = x.shape[-1]
        if bool(((targets < 0) | (targets >= num_classes)).any()):
            raise ValueError(
                f"targets must lie in [0, C) = [0, {num_classes}), found values in "
                f"[{targets.min().item()}, {targets.max().item()}]"
            )
    for count_name, count in (("num_bins", num_bins), ("max_iter", max_iter)):
        if count is _UNSET:
            continue
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
            raise ValueError(f"{count_name} must be an int >= 1, got {count!r}")
    if temperature is _UNSET:
        return None
    if isinstance(temperature, torch.Tensor) and temperature.numel() == 1:
        temperature = temperature.item()
    if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    temperature = float(temperature)
    if not (math.isfinite(temperature) and temperature > 0.0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return temperature


def _as_cpu64(probs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return probs.detach().to("cpu", torch.float64), targets.detach().to("cpu", torch.int64)


# --------------------------------------------------------------------------- #
# metrics on validated float64 CPU tensors
# --------------------------------------------------------------------------- #
def _accuracy(p: torch.Tensor, y: torch.Tensor) -> float:
    return (p.argmax(dim=1) == y).double().mean().item()


def _nll(p: torch.Tensor, y: torch.Tensor, tiny: float) -> float:
    py = p.gather(1, y[:, None]).squeeze(1).clamp_min(tiny)
    return (-py.log()).mean().item()


def _brier(p: torch.Tensor, y: torch.Tensor) -> float:
    onehot = torch.zeros_like(p).scatter_(1, y[:, None], 1.0)
    return (p - onehot).square().sum(dim=1).mean().item()


def _curve(p: torch.Tensor, y: torch.Tensor, num_bins: int) -> ReliabilityCurve:
    conf, pred = p.max(dim=1)
    correct = (pred == y).double()
    edges = torch.arange(num_bins + 1, dtype=torch.float64) / num_bins
    # bucketize(right=False) gives i with edges[i-1] < c <= edges[i], so bin
    # b = i - 1 holds (b/M, (b+1)/M]; c = 0 goes to bin 0 and c slightly above
    # 1 (row-sum tolerance) to the last bin.
    idx = (torch.bucketize(conf, edges, right=False) - 1).clamp_(0, num_bins - 1)
    counts = torch.bincount(idx, minlength=num_bins)
    sum_conf = torch.zeros(num_bins, dtype=torch.float64).index_add_(0, idx, conf)
    sum_acc = torch.zeros(num_bins, dtype=torch.float64).index_add_(0, idx, correct)
    n = counts.double()
    empty = counts == 0
    nan = torch.tensor(float("nan"), dtype=torch.float64)
    confidence = torch.where(empty, nan, sum_conf / n.clamp_min(1.0))
    acc = torch.where(empty, nan, sum_acc / n.clamp_min(1.0))
    return ReliabilityCurve(bin_edges=edges, counts=counts, confidence=confidence, accuracy=acc)


# --------------------------------------------------------------------------- #
# public metrics
# --------------------------------------------------------------------------- #
def accuracy(probs: torch.Tensor, targets: torch.Tensor) -> float:
    r"""Top-1 accuracy, the fraction of examples whose most probable class
    (``argmax``; ties go to the lowest index) is the target.

    .. math::

        \mathrm{acc} = \frac1B \sum_{i=1}^B
            \mathbb{1}\left[\arg\max_c p_{ic} = y_i\right]

    :param probs: predictive probabilities ``[B, C]``, rows summing to 1
    :param targets: class labels ``[B]`` in ``[0, C)``, integer dtype
    :return: accuracy in ``[0, 1]``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import accuracy
        >>> probs = torch.tensor([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]])
        >>> round(accuracy(probs, torch.tensor([0, 1, 1])), 4)
        0.6667
    """
    _validate(probs, targets)
    return _accuracy(*_as_cpu64(probs, targets))


def negative_log_likelihood(probs: torch.Tensor, targets: torch.Tensor) -> float:
    r"""Mean negative log-likelihood (cross-entropy) of the targets,

    .. math::

        \mathrm{NLL} = -\frac1B \sum_{i=1}^B \log \max\left(p_{i y_i},
            \epsilon_{\mathrm{tiny}}\right),

    where :math:`\epsilon_{\mathrm{tiny}}` is ``torch.finfo(probs.dtype).tiny``
    (the smallest positive normal number of the input dtype).  A zero
    probability for the target therefore contributes a large but finite value,
    :math:`-\log \epsilon_{\mathrm{tiny}}` (about 87.3 for float32 and 708.4
    for float64), instead of ``inf``.

    :param probs: predictive probabilities ``[B, C]``, rows summing to 1
    :param targets: class labels ``[B]`` in ``[0, C)``, integer dtype
    :return: mean NLL in nats, ``>= 0``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import negative_log_likelihood
        >>> probs = torch.tensor([[0.9, 0.1], [0.4, 0.6]], dtype=torch.float64)
        >>> round(negative_log_likelihood(probs, torch.tensor([0, 1])), 4)
        0.3081
    """
    _validate(probs, targets)
    return _nll(*_as_cpu64(probs, targets), tiny=torch.finfo(probs.dtype).tiny)


def brier_score(probs: torch.Tensor, targets: torch.Tensor) -> float:
    r"""Multi-class Brier score: the mean squared distance between the
    predictive distribution and the one-hot target,

    .. math::

        \mathrm{BS} = \frac1B \sum_{i=1}^B \sum_{c=1}^C
            \left(p_{ic} - \mathbb{1}[c = y_i]\right)^2 \in [0, 2].

    It is 0 for a confident correct prediction and 2 for a confident wrong
    one (this is the original multi-class definition of Brier, 1950, not the
    binary one-vs-rest score divided by ``C``).

    :param probs: predictive probabilities ``[B, C]``, rows summing to 1
    :param targets: class labels ``[B]`` in ``[0, C)``, integer dtype
    :return: Brier score in ``[0, 2]``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import brier_score
        >>> probs = torch.tensor([[0.9, 0.1], [0.4, 0.6]], dtype=torch.float64)
        >>> round(brier_score(probs, torch.tensor([0, 1])), 4)
        0.17
    """
    _validate(probs, targets)
    return _brier(*_as_cpu64(probs, targets))


@dataclass(frozen=True, eq=False)
class ReliabilityCurve:
    r"""Per-bin statistics of a reliability diagram (top-label).

    Bin :math:`b` of :math:`M` holds the examples whose confidence
    :math:`\max_c p_{ic}` lies in :math:`(b/M, (b+1)/M]` (a confidence of
    exactly 0 goes to the first bin).

    :param bin_edges: ``[M + 1]`` float64 edges :math:`0, 1/M, \dots, 1`
    :param counts: ``[M]`` int64 number of examples per bin
    :param confidence: ``[M]`` float64 mean confidence per bin, NaN where empty
    :param accuracy: ``[M]`` float64 accuracy per bin, NaN where empty
    """

    bin_edges: torch.Tensor
    counts: torch.Tensor
    confidence: torch.Tensor
    accuracy: torch.Tensor

    @property
    def num_bins(self) -> int:
        """Number of bins :math:`M`."""
        return int(self.counts.numel())

    @property
    def num_examples(self) -> int:
        """Number of examples :math:`N` over all bins."""
        return int(self.counts.sum().item())

    @property
    def ece(self) -> float:
        r"""Expected calibration error
        :math:`\sum_b \frac{|B_b|}{N} |\mathrm{acc}(B_b) - \mathrm{conf}(B_b)|`
        over the non-empty bins."""
        full = self.counts > 0
        weight = self.counts[full].double() / self.num_examples
        gap = (self.accuracy[full] - self.confidence[full]).abs()
        return (weight * gap).sum().item()


def reliability_curve(
    probs: torch.Tensor, targets: torch.Tensor, num_bins: int = 15
) -> ReliabilityCurve:
    r"""Bin the examples by confidence and return, per bin, the count, the
    mean confidence and the accuracy (see :class:`ReliabilityCurve`).

    The bins are the same as in :func:`expected_calibration_error`, and
    ``reliability_curve(probs, targets, M).ece`` equals
    ``expected_calibration_error(probs, targets, M)``.

    :param probs: predictive probabilities ``[B, C]``, rows summing to 1
    :param targets: class labels ``[B]`` in ``[0, C)``, integer dtype
    :param num_bins: number :math:`M \ge 1` of equal-width bins over
        :math:`[0, 1]`
    :return: the :class:`ReliabilityCurve`

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import reliability_curve
        >>> probs = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.75, 0.25]])
        >>> curve = reliability_curve(probs, torch.tensor([0, 0, 0]), num_bins=2)
        >>> curve.counts.tolist()
        [0, 3]
        >>> round(curve.accuracy[1].item(), 4), round(curve.ece, 4)
        (0.6667, 0.1167)
    """
    _validate(probs, targets, num_bins=num_bins)
    return _curve(*_as_cpu64(probs, targets), num_bins=int(num_bins))


def expected_calibration_error(
    probs: torch.Tensor, targets: torch.Tensor, num_bins: int = 15
) -> float:
    r"""Top-label expected calibration error with equal-width bins.

    The confidence of example :math:`i` is :math:`\hat p_i = \max_c p_{ic}`
    and its prediction :math:`\hat y_i = \arg\max_c p_{ic}`.  The interval
    :math:`[0, 1]` is split into :math:`M` equal-width bins, bin :math:`b`
    holding the examples with :math:`\hat p_i \in (b/M, (b+1)/M]` (a
    confidence of exactly 0 goes to the first bin), and

    .. math::

        \mathrm{ECE} = \sum_{b=0}^{M-1} \frac{|B_b|}{N}
            \left| \mathrm{acc}(B_b) - \mathrm{conf}(B_b) \right|,

    with :math:`\mathrm{acc}(B_b)` the fraction of :math:`\hat y_i = y_i` and
    :math:`\mathrm{conf}(B_b)` the mean :math:`\hat p_i` in the bin (empty
    bins contribute 0).  The default of 15 equal-width bins follows Guo et
    al. (2017).  The ECE depends on the binning and is biased upwards for
    small :math:`N`.

    :param probs: predictive probabilities ``[B, C]``, rows summing to 1
    :param targets: class labels ``[B]`` in ``[0, C)``, integer dtype
    :param num_bins: number :math:`M \ge 1` of bins, defaults to 15
    :return: ECE in ``[0, 1]``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import expected_calibration_error
        >>> probs = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.75, 0.25]])
        >>> round(expected_calibration_error(probs, torch.tensor([0, 0, 0])), 4)
        0.35
    """
    return reliability_curve(probs, targets, num_bins).ece


def predictive_metrics(
    probs: torch.Tensor, targets: torch.Tensor, num_bins: int = 15
) -> dict[str, float]:
    r"""All four metrics at once (the inputs are checked once):
    :func:`accuracy`, :func:`negative_log_likelihood`,
    :func:`expected_calibration_error` and :func:`brier_score`.

    :param probs: predictive probabilities ``[B, C]``, rows summing to 1
    :param targets: class labels ``[B]`` in ``[0, C)``, integer dtype
    :param num_bins: number of ECE bins, defaults to 15
    :return: ``{"accuracy": ..., "nll": ..., "ece": ..., "brier": ...}``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import predictive_metrics
        >>> probs = torch.tensor([[0.9, 0.1], [0.4, 0.6]], dtype=torch.float64)
        >>> m = predictive_metrics(probs, torch.tensor([0, 1]))
        >>> {k: round(v, 4) for k, v in m.items()}
        {'accuracy': 1.0, 'nll': 0.3081, 'ece': 0.25, 'brier': 0.17}
    """
    _validate(probs, targets, num_bins=num_bins)
    p, y = _as_cpu64(probs, targets)
    return {
        "accuracy": _accuracy(p, y),
        "nll": _nll(p, y, tiny=torch.finfo(probs.dtype).tiny),
        "ece": _curve(p, y, int(num_bins)).ece,
        "brier": _brier(p, y),
    }


def plot_reliability(curves: dict[str, ReliabilityCurve], ax: Any = None) -> Any:
    r"""Draw a reliability diagram: for each curve, bars of the accuracy of
    every non-empty confidence bin, against the diagonal of perfect
    calibration, with the ECE in the legend.

    Needs matplotlib, an optional dependency (``pip install
    "snntorch-bayes[data]"``).

    :param curves: ``{label: curve}``, e.g. one curve before and one after
        temperature scaling; the bars of several curves share each bin side
        by side
    :param ax: matplotlib ``Axes`` to draw on; a new figure is made with
        ``matplotlib.pyplot`` when ``None``
    :return: the ``Axes``

    Example::

        >>> import torch
        >>> from matplotlib.figure import Figure
        >>> from snntorch_bayes.calibration import plot_reliability, reliability_curve
        >>> probs = torch.tensor([[0.9, 0.1], [0.3, 0.7], [0.75, 0.25]])
        >>> curve = reliability_curve(probs, torch.tensor([0, 0, 0]), num_bins=5)
        >>> ax = plot_reliability({"model": curve}, ax=Figure().add_subplot())
        >>> ax.get_legend_handles_labels()[1]
        ['perfect calibration', 'model (ECE 18.33%)']
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise ImportError(
            "plot_reliability needs matplotlib; install it with "
            "`pip install 'snntorch-bayes[data]'`"
        ) from err
    if not isinstance(curves, dict) or not curves:
        raise ValueError("curves must be a non-empty dict {label: ReliabilityCurve}")
    for label, curve in curves.items():
        if not isinstance(curve, ReliabilityCurve):
            raise ValueError(
                f"curves[{label!r}] must be a ReliabilityCurve, got {type(curve).__name__}"
            )
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0.0, 1.0], [0.0, 1.0], "--", color="0.5", lw=1, label="perfect calibration")
    n = len(curves)
    for k, (label, curve) in enumerate(curves.items()):
        edges = curve.bin_edges.tolist()
        full = (curve.counts > 0).tolist()
        acc = curve.accuracy.tolist()
        left = [edges[b] + k * (edges[b + 1] - edges[b]) / n for b in range(curve.num_bins)]
        width = [(edges[b + 1] - edges[b]) / n for b in range(curve.num_bins)]
        keep = [b for b in range(curve.num_bins) if full[b]]
        ax.bar(
            [left[b] for b in keep],
            [acc[b] for b in keep],
            width=[width[b] for b in keep],
            align="edge",
            alpha=0.6,
            edgecolor="black",
            linewidth=0.5,
            label=f"{label} (ECE {100.0 * curve.ece:.2f}%)",
        )
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("reliability diagram")
    ax.legend(loc="upper left")
    return ax


# --------------------------------------------------------------------------- #
# Monte-Carlo averaging and temperature scaling
# --------------------------------------------------------------------------- #
def bayesian_model_average(logits: torch.Tensor) -> torch.Tensor:
    r"""Monte-Carlo Bayesian model average of :math:`K` stochastic forward
    passes: the predictive distribution

    .. math::

        \bar p_{bc} = \frac1K \sum_{k=1}^K \operatorname{softmax}(z_k)_{bc}
            = \exp\left( \operatorname{logsumexp}_k
                \log\operatorname{softmax}(z_k)_{bc} - \log K \right),

    computed in the log domain as on the right, which stays finite and
    normalised for logits of any magnitude.  Differentiable; keeps the dtype
    and device of ``logits``.

    :param logits: ``[K, B, C]`` finite logits of :math:`K \ge 1` passes
    :return: predictive probabilities ``[B, C]``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import bayesian_model_average
        >>> logits = torch.tensor([[[0.0, 0.0]], [[0.0, 1e4]]], dtype=torch.float64)
        >>> bayesian_model_average(logits)
        tensor([[0.2500, 0.7500]], dtype=torch.float64)
    """
    _validate(logits, name="logits", ndim=3, is_probs=False)
    log_p = torch.log_softmax(logits, dim=-1)
    return (torch.logsumexp(log_p, dim=0) - math.log(logits.shape[0])).exp()


def temperature_scale(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    r"""Temperature-scaled probabilities
    :math:`\operatorname{softmax}(z / T)` over the last dimension.

    :math:`T > 1` softens (less confident), :math:`T < 1` sharpens;
    :math:`T = 1` is the plain softmax.  Differentiable in ``logits``.

    :param logits: ``[..., C]`` finite logits
    :param temperature: :math:`T`, a finite number > 0 (e.g. from
        :func:`fit_temperature`)
    :return: probabilities of the shape, dtype and device of ``logits``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import temperature_scale
        >>> temperature_scale(torch.tensor([[0.0, 2.0]]), 2.0)
        tensor([[0.2689, 0.7311]])
    """
    t = _validate(logits, name="logits", ndim=None, is_probs=False, temperature=temperature)
    return torch.softmax(logits / t, dim=-1)


def _nll_at(z: torch.Tensor, zy: torch.Tensor, beta: float) -> float:
    """Mean NLL of softmax(beta * z) at the targets (float64)."""
    return (torch.logsumexp(beta * z, dim=1) - beta * zy).mean().item()


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor, max_iter: int = 100) -> float:
    r"""Fit the temperature of temperature scaling (Guo et al., 2017) on
    held-out data: the :math:`T > 0` that minimises

    .. math::

        \mathrm{NLL}(T) = \frac1B \sum_{i=1}^B \left[
            \operatorname{logsumexp}_c \left(z_{ic}/T\right) - z_{i y_i}/T \right].

    With :math:`\beta = 1/T` the objective is convex in :math:`\beta` (its
    second derivative is the mean variance of :math:`z` under
    :math:`\operatorname{softmax}(\beta z)`), so it has a single minimum, found
    as the root of :math:`d\mathrm{NLL}/d\beta` by safeguarded Newton steps
    in :math:`u = \log T` (each step falls back to bisection of a bracket
    when it would leave it).  The search runs in float64 on the CPU, starts at
    :math:`T = 1` and is deterministic.  :math:`T` is confined to
    :data:`TEMPERATURE_BOUNDS` ``= (1e-4, 1e4)``: for separable data (every
    prediction right) the NLL keeps falling as :math:`T \to 0` and the lower
    bound is returned.  The result never has a higher NLL than :math:`T = 1`.

    :param logits: ``[B, C]`` finite held-out logits (not probabilities)
    :param targets: class labels ``[B]`` in ``[0, C)``, integer dtype
    :param max_iter: maximum number of Newton / bisection steps (>= 1)
    :return: the temperature :math:`T`, a positive finite float

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import fit_temperature
        >>> logits = torch.tensor([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
        >>> round(fit_temperature(logits, torch.tensor([0, 1, 1, 0])), 4)
        1.8205
    """
    _validate(logits, targets, name="logits", is_probs=False, max_iter=max_iter)
    z, y = _as_cpu64(logits, targets)
    zy = z.gather(1, y[:, None]).squeeze(1)

    def grad_beta(u: float) -> tuple[float, float]:
        """h(u) = dNLL/dbeta at beta = exp(-u), and dh/du (<= 0)."""
        beta = math.exp(-u)
        p = torch.softmax(beta * z, dim=1)
        mean = (p * z).sum(dim=1)
        var = (p * (z - mean[:, None]).square()).sum(dim=1)
        return (mean - zy).mean().item(), -beta * var.mean().item()

    # h(u) decreases in u: h > 0 means the minimum lies at a larger u.
    # Start at u = 0 (T = 1).  If h keeps its sign (or underflows to 0) all the
    # way to the bound it points to, that bound is the minimiser; h(0) == 0
    # (e.g. constant logits) keeps T = 1.  Otherwise the root lies between
    # u = 0 and that bound, and the loop narrows the bracket [lo, hi].
    u = 0.0
    h0, _ = grad_beta(u)
    lo, hi = (math.log(t) for t in TEMPERATURE_BOUNDS)
    if h0 < 0.0 and grad_beta(lo)[0] <= 0.0:
        u = lo
    elif h0 > 0.0 and grad_beta(hi)[0] >= 0.0:
        u = hi
    elif h0 != 0.0:
        for _ in range(int(max_iter)):
            h, dh = grad_beta(u)
            if h == 0.0:
                break
            if h > 0.0:
                lo = u
            else:
                hi = u
            step = -h / dh if dh < 0.0 else math.nan
            u_new = u + step
            if not lo < u_new < hi:  # also catches NaN
                u_new = 0.5 * (lo + hi)
            done = abs(u_new - u) <= 1e-12 * (1.0 + abs(u)) or hi - lo <= 1e-12
            u = u_new
            if done:
                break
    if _nll_at(z, zy, math.exp(-u)) > _nll_at(z, zy, 1.0):
        return 1.0
    return math.exp(u)


# --------------------------------------------------------------------------- #
# uncertainty scores and out-of-distribution detection
# --------------------------------------------------------------------------- #
def predictive_entropy(probs: torch.Tensor) -> torch.Tensor:
    r"""Entropy of each predictive distribution,
    :math:`H[p_b] = -\sum_c p_{bc}\log p_{bc}` (with :math:`0\log 0 = 0`), in
    nats: 0 for a one-hot prediction, :math:`\log C` for a uniform one.

    :param probs: ``[B, C]`` probabilities
    :return: ``[B]``, the dtype and device of ``probs``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import predictive_entropy
        >>> predictive_entropy(torch.tensor([[1.0, 0.0], [0.5, 0.5]]))
        tensor([0.0000, 0.6931])
    """
    _validate(probs)
    return 0.0 - torch.special.xlogy(probs, probs).sum(-1)  # 0.0 -: no "-0.0"


def mutual_information(logits: torch.Tensor) -> torch.Tensor:
    r"""Mutual information between the prediction and the sampled model
    (the *epistemic* part of the uncertainty; BALD, Houlsby et al., 2011),
    from :math:`K` Monte-Carlo passes:

    .. math::

        I_b = H\Bigl[\tfrac1K\textstyle\sum_k p_{kb}\Bigr]
            - \tfrac1K\textstyle\sum_k H[p_{kb}],
        \qquad p_{kb} = \operatorname{softmax}(z_{kb}),

    which is :math:`\ge 0`, and 0 when every pass agrees.

    :param logits: ``[K, B, C]`` logits of :math:`K \ge 1` passes
    :return: ``[B]``

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import mutual_information
        >>> two_opinions = torch.tensor([[[50.0, 0.0]], [[0.0, 50.0]]])
        >>> round(mutual_information(two_opinions).item(), 4)  # log 2
        0.6931
    """
    _validate(logits, name="logits", ndim=3, is_probs=False)
    p = torch.softmax(logits, dim=-1)
    mean_entropy = -torch.special.xlogy(p, p).sum(-1).mean(0)
    total = predictive_entropy(bayesian_model_average(logits))
    return (total - mean_entropy).clamp_min(0.0)


def auroc(scores_in: torch.Tensor, scores_out: torch.Tensor) -> float:
    r"""Area under the ROC curve of a score that should be higher for
    out-of-distribution examples: the probability that a random
    out-of-distribution example scores higher than a random in-distribution
    one, ties counting one half (the Mann-Whitney statistic).  1 separates
    perfectly, 0.5 is chance.

    :param scores_in: ``[N]`` scores of in-distribution examples
    :param scores_out: ``[M]`` scores of out-of-distribution examples

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import auroc
        >>> auroc(torch.tensor([0.1, 0.4]), torch.tensor([0.4, 0.9]))
        0.875
    """
    for name, s in (("scores_in", scores_in), ("scores_out", scores_out)):
        _validate(s, name=name, ndim=1, is_probs=False)
    scores = torch.cat([scores_in, scores_out]).detach().to("cpu", torch.float64)
    n_in, n_out = scores_in.numel(), scores_out.numel()
    # ranks 1..n, ties sharing their average rank
    _, inverse, counts = torch.unique(scores, return_inverse=True, return_counts=True)
    last = counts.cumsum(0).double()
    mean_rank = last - (counts.double() - 1) / 2
    ranks = mean_rank[inverse]
    u = ranks[n_in:].sum().item() - n_out * (n_out + 1) / 2
    return u / (n_in * n_out)


# --------------------------------------------------------------------------- #
# regression: Gaussian predictive distributions
# --------------------------------------------------------------------------- #
def _validate_gaussian(
    mean: torch.Tensor, std: torch.Tensor, targets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Check a Gaussian predictive (1-D ``mean``, ``std``, ``targets`` of one
    length; ``std > 0``) and return the three in float64 on the CPU."""
    for name, x in (("mean", mean), ("std", std), ("targets", targets)):
        _validate(x, name=name, ndim=1, is_probs=False)
    if not mean.shape == std.shape == targets.shape:
        raise ValueError(
            "mean, std and targets must have the same shape [B], got "
            f"{tuple(mean.shape)}, {tuple(std.shape)} and {tuple(targets.shape)}"
        )
    if bool((std <= 0).any()):
        raise ValueError(f"std must be > 0 (found min {std.min().item():g})")
    return tuple(x.detach().to("cpu", torch.float64) for x in (mean, std, targets))


def gaussian_nll(mean: torch.Tensor, std: torch.Tensor, targets: torch.Tensor) -> float:
    r"""Mean negative log-likelihood of real targets under Gaussian
    predictive distributions :math:`\mathcal N(\mu_b, \sigma_b^2)`, in nats:

    .. math::

        \mathrm{NLL} = \frac1B\sum_{b=1}^B \Bigl[\tfrac12\log(2\pi\sigma_b^2)
            + \frac{(y_b - \mu_b)^2}{2\sigma_b^2}\Bigr].

    :param mean: ``[B]`` predictive means :math:`\mu_b`
    :param std: ``[B]`` predictive standard deviations :math:`\sigma_b > 0`
    :param targets: ``[B]`` real targets :math:`y_b`

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import gaussian_nll
        >>> round(gaussian_nll(torch.zeros(2), torch.ones(2), torch.tensor([0.0, 2.0])), 4)
        1.9189
    """
    mu, sigma, y = _validate_gaussian(mean, std, targets)
    nll = 0.5 * torch.log(2 * math.pi * sigma**2) + (y - mu) ** 2 / (2 * sigma**2)
    return nll.mean().item()


def interval_coverage(
    mean: torch.Tensor, std: torch.Tensor, targets: torch.Tensor, level: float
) -> float:
    r"""Fraction of targets inside the central ``level`` interval of their
    Gaussian predictive distribution, :math:`\mu_b \pm z\,\sigma_b` with
    :math:`z = \Phi^{-1}\bigl(\tfrac{1 + \text{level}}{2}\bigr)`:

    .. math::

        \mathrm{coverage} = \frac1B\sum_{b=1}^B
            \mathbb 1\bigl[\,|y_b - \mu_b| \le z\,\sigma_b\bigr].

    A calibrated predictive covers a fraction ``level`` of the targets.

    :param mean: ``[B]`` predictive means :math:`\mu_b`
    :param std: ``[B]`` predictive standard deviations :math:`\sigma_b > 0`
    :param targets: ``[B]`` real targets :math:`y_b`
    :param level: the nominal coverage, in (0, 1), e.g. 0.9

    Example::

        >>> import torch
        >>> from snntorch_bayes.calibration import interval_coverage
        >>> y = torch.tensor([0.5, 1.5, -1.0, 3.0])  # z = 1.645 at level 0.9
        >>> interval_coverage(torch.zeros(4), torch.ones(4), y, 0.9)
        0.75
    """
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level must be a number in (0, 1), got {level!r}")
    mu, sigma, y = _validate_gaussian(mean, std, targets)
    z = torch.special.ndtri(torch.tensor((1 + float(level)) / 2, dtype=torch.float64))
    return ((y - mu).abs() <= z * sigma).double().mean().item()
