r"""Variational layers: :class:`BayesLinear` and :class:`BayesConv2d` with a
mean-field Gaussian posterior, local reparameterisation and a closed-form KL
(``torch.distributions.kl_divergence`` from any registered prior),
plus pooling and flattening modules that pass Gaussian currents through.

Every variational module (these layers and the neurons of
:mod:`snntorch_bayes.neurons`) has a ``mode``:

============ ================================================================
``"auto"``   (default) ``"sample"`` in ``train()`` mode, ``"mean"`` in ``eval()``
``"sample"`` layers return a :class:`~snntorch_bayes.gaussian.GaussianCurrent`;
             neurons sample their membrane and fire stochastically
``"mean"``   deployment: posterior means, deterministic thresholds; layers
             return plain tensors, exactly those of the ``nn.Linear`` /
             ``nn.Conv2d`` that :func:`~snntorch_bayes.inference.to_snntorch` builds
============ ================================================================

Monte-Carlo prediction is ``"sample"`` without gradients; see
:func:`~snntorch_bayes.inference.set_mode` and :func:`~snntorch_bayes.inference.sampling`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Distribution, Normal, kl_divergence, register_kl
from torch.nn.modules.utils import _pair

from snntorch_bayes._checks import check_bool, check_std
from snntorch_bayes.gaussian import (
    GaussianCurrent,
    avg_pool2d,
    lrt_conv2d,
    lrt_linear,
    max_pool2d,
)

__all__ = [
    "MODES",
    "AvgPool2d",
    "BayesConv2d",
    "BayesLinear",
    "Flatten",
    "GaussianPrior",
    "MaxPool2d",
    "MeanFieldNormal",
    "Variational",
]

#: The modes of a variational module.
MODES = ("auto", "sample", "mean")


class Variational:
    """Mixin of every variational module: the ``mode`` switch and the hooks
    the model-level helpers dispatch on (:meth:`kl_divergence`,
    :meth:`to_snntorch`)."""

    mode: str = "auto"

    def set_mode(self, mode: str) -> None:
        """Set this module's mode; one of :data:`MODES`."""
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        self.mode = mode

    @property
    def sampling(self) -> bool:
        """Whether the forward pass samples (mode ``"sample"``, or ``"auto"``
        while training)."""
        return self.mode == "sample" or (self.mode == "auto" and self.training)

    def kl_divergence(self) -> torch.Tensor | None:
        """KL(q || p) of this module's own parameters, summed; ``None`` if it
        has none."""
        return None

    def to_snntorch(self) -> nn.Module:
        """The deterministic snnTorch / ``torch.nn`` twin of this module."""
        raise NotImplementedError


# --------------------------------------------------------------------------
# Priors
# --------------------------------------------------------------------------


class GaussianPrior(Normal):
    r"""Isotropic Gaussian prior :math:`p(w) = \mathcal N(\mu_p, \sigma_p^2)`:
    a ``torch.distributions.Normal`` with scalar, checked parameters (kept
    in float64, so that a float64 layer's KL is exact; a float32 layer
    computes its KL in float32).

    Any ``torch.distributions.Distribution`` with a scalar event serves as
    a prior, as long as ``torch.distributions.kl_divergence`` knows its pair
    with ``Normal`` (register a new pair with
    ``torch.distributions.register_kl``).

    Example::

        >>> import torch
        >>> from torch.distributions import Normal, kl_divergence
        >>> from snntorch_bayes import GaussianPrior
        >>> prior = GaussianPrior(std=0.5)
        >>> kl_divergence(Normal(torch.zeros(2), torch.full((2,), 0.5)), prior)
        tensor([0., 0.])

    :param std: :math:`\sigma_p`, in ``[1e-30, 1e15]``. Defaults to 1
    :param mean: :math:`\mu_p`. Defaults to 0
    """

    def __init__(self, std: float = 1.0, mean: float = 0.0) -> None:
        std = check_std("std", std)
        if isinstance(mean, bool) or not (isinstance(mean, (int, float)) and math.isfinite(mean)):
            raise ValueError(f"mean must be a finite number, got {mean!r}")
        loc, scale = (torch.tensor(float(v), dtype=torch.float64) for v in (mean, std))
        super().__init__(loc, scale, validate_args=False)

    def __repr__(self) -> str:
        return f"GaussianPrior(std={float(self.scale):.4g}, mean={float(self.loc):.4g})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GaussianPrior) and (float(self.scale), float(self.loc)) == (
            float(other.scale),
            float(other.loc),
        )

    __hash__ = None  # type: ignore[assignment]


class MeanFieldNormal(Normal):
    r"""The mean-field Gaussian posterior :math:`q(w) = \mathcal N(\mu, \sigma^2)`
    of a variational layer's weights (see
    ``BayesLinear.posteriors()``): a ``torch.distributions.Normal`` whose
    KL from a ``Normal`` prior stays finite for the whole range of standard
    deviations the layers accept.  (PyTorch's ``Normal``-``Normal`` KL
    takes the logarithm of the *squared* ratio of the standard deviations,
    which underflows in float32 once the ratio is below about 1e-19; this
    pair's KL, registered with ``torch.distributions.register_kl``, takes
    the logarithm of the ratio.)"""

    def __init__(self, loc: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__(loc, scale, validate_args=False)


@register_kl(MeanFieldNormal, Normal)
def _kl_mean_field_normal(q: MeanFieldNormal, p: Normal) -> torch.Tensor:
    r"""Elementwise :math:`\mathrm{KL}\bigl(\mathcal N(\mu, \sigma^2)\,\|\,
    \mathcal N(\mu_p, \sigma_p^2)\bigr) = \log\frac{\sigma_p}{\sigma}
    + \frac{\sigma^2 + (\mu - \mu_p)^2}{2\sigma_p^2} - \frac12`."""
    ratio = q.scale / p.scale
    return 0.5 * (ratio.square() + ((q.loc - p.loc) / p.scale).square()) - ratio.log() - 0.5


def _check_prior(name: str, prior: object) -> Distribution:
    """``prior`` if it can be a layer's prior: a distribution with a scalar
    event whose KL from a ``Normal`` is registered."""
    if not isinstance(prior, Distribution):
        raise ValueError(
            f"{name} must be a torch.distributions.Distribution (e.g. "
            f"snntorch_bayes.GaussianPrior), got {prior!r}"
        )
    if prior.event_shape != torch.Size():
        raise ValueError(
            f"{name} must have a scalar event (one weight per draw), got event shape "
            f"{tuple(prior.event_shape)}"
        )
    try:
        kl_divergence(MeanFieldNormal(torch.zeros(()), torch.ones(())), prior)
    except NotImplementedError:
        raise ValueError(
            f"{name}: torch.distributions has no KL from a Normal to {type(prior).__name__}; "
            "register one with torch.distributions.register_kl"
        ) from None
    return prior


def _rho(std: float) -> float:
    """Inverse softplus: the ``rho`` with ``softplus(rho) = std``."""
    return std + math.log(-math.expm1(-std))


def _check_input(layer: str, x: object, dtype: torch.dtype) -> torch.Tensor:
    """``x`` as a floating-point tensor: bool or integer spikes and data are
    converted to the layer's ``dtype``; anything else raises ``TypeError``."""
    if isinstance(x, GaussianCurrent):
        raise TypeError(
            f"{layer} takes a tensor (data or spikes), got a GaussianCurrent: put a "
            "variational neuron between two variational layers, or pass current.sample()"
        )
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{layer} takes a tensor, got {type(x).__name__}")
    if x.is_complex():
        raise TypeError(f"{layer} takes a real tensor, got dtype {x.dtype}")
    return x if x.is_floating_point() else x.to(dtype)


class _BayesLayer(Variational, nn.Module):
    """Shared parameters and maths of the variational layers."""

    weight_mean: nn.Parameter
    weight_rho: nn.Parameter
    bias_mean: nn.Parameter | None
    bias_rho: nn.Parameter | None

    def _init_posterior(
        self,
        shape: tuple[int, ...],
        bias: bool,
        prior: Distribution | None,
        posterior_std: float | None,
        factory: dict,
        bias_prior: Distribution | None = None,
    ) -> None:
        fan_in = math.prod(shape[1:])
        check_bool("bias", bias)
        if prior is None:
            prior = GaussianPrior(std=1.0 / math.sqrt(fan_in))
        if posterior_std is None:
            posterior_std = 0.5 / math.sqrt(fan_in)
        posterior_std = check_std("posterior_std", posterior_std)
        self.prior = prior
        self.bias_prior = bias_prior
        self.posterior_std = float(posterior_std)
        self.weight_mean = nn.Parameter(torch.empty(shape, **factory))
        self.weight_rho = nn.Parameter(torch.empty(shape, **factory))
        if bias:
            self.bias_mean = nn.Parameter(torch.empty(shape[0], **factory))
            self.bias_rho = nn.Parameter(torch.empty(shape[0], **factory))
        else:
            self.register_parameter("bias_mean", None)
            self.register_parameter("bias_rho", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        r"""Means as ``torch.nn`` initialises its layers (Kaiming-uniform
        weights, :math:`U(\pm 1/\sqrt{\text{fan-in}})` biases); every
        :math:`\sigma` set to ``posterior_std``."""
        nn.init.kaiming_uniform_(self.weight_mean, a=math.sqrt(5))
        nn.init.constant_(self.weight_rho, _rho(self.posterior_std))
        if self.bias_mean is not None:
            bound = 1.0 / math.sqrt(math.prod(self.weight_mean.shape[1:]))
            nn.init.uniform_(self.bias_mean, -bound, bound)
            nn.init.constant_(self.bias_rho, _rho(self.posterior_std))

    @property
    def weight(self) -> torch.Tensor:
        """The posterior mean of the weights (what ``nn`` code reads as
        ``layer.weight``)."""
        return self.weight_mean

    @property
    def bias(self) -> torch.Tensor | None:
        """The posterior mean of the bias."""
        return self.bias_mean

    @property
    def weight_std(self) -> torch.Tensor:
        r""":math:`\sigma_W = \mathrm{softplus}(\rho_W)`."""
        return F.softplus(self.weight_rho)

    @property
    def bias_std(self) -> torch.Tensor | None:
        r""":math:`\sigma_b = \mathrm{softplus}(\rho_b)`."""
        return None if self.bias_rho is None else F.softplus(self.bias_rho)

    def _variances(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        bias_std = self.bias_std
        return self.weight_std.square(), None if bias_std is None else bias_std.square()

    def _with_means(self, twin: nn.Module) -> nn.Module:
        """``twin`` (an ``nn.Linear`` / ``nn.Conv2d`` of this layer's shape)
        holding the posterior means."""
        with torch.no_grad():
            twin.weight.copy_(self.weight_mean)
            if self.bias_mean is not None:
                twin.bias.copy_(self.bias_mean)
        return twin

    @property
    def prior(self) -> Distribution:
        """The weights' prior (and the bias's, unless :attr:`bias_prior` is
        set); setting it checks it as the constructor does."""
        return self.__dict__["_prior"]

    @prior.setter
    def prior(self, value: Distribution) -> None:
        self.__dict__["_prior"] = _check_prior("prior", value)

    @property
    def bias_prior(self) -> Distribution | None:
        """The bias's own prior, or ``None`` for :attr:`prior`."""
        return self.__dict__["_bias_prior"]

    @bias_prior.setter
    def bias_prior(self, value: Distribution | None) -> None:
        self.__dict__["_bias_prior"] = None if value is None else _check_prior("bias_prior", value)

    def posteriors(self) -> dict[str, MeanFieldNormal]:
        r"""The posterior of each parameter, ``{"weight": q(W), "bias": q(b)}``
        (no ``"bias"`` without a bias), as distributions."""
        out = {"weight": MeanFieldNormal(self.weight_mean, self.weight_std)}
        if self.bias_mean is not None:
            out["bias"] = MeanFieldNormal(self.bias_mean, self.bias_std)
        return out

    def kl_divergence(self) -> torch.Tensor:
        r""":math:`\mathrm{KL}(q\,\|\,p)` of weights and bias, summed over
        every element: ``torch.distributions.kl_divergence`` of each
        posterior (:meth:`posteriors`) from its prior."""
        bias_prior = self.prior if self.bias_prior is None else self.bias_prior
        priors = {"weight": self.prior, "bias": bias_prior}
        return sum(kl_divergence(q, priors[name]).sum() for name, q in self.posteriors().items())


def _bias_prior_repr(layer: _BayesLayer) -> str:
    return "" if layer.bias_prior is None else f", bias_prior={layer.bias_prior!r}"


class BayesLinear(_BayesLayer):
    r"""A fully connected layer with a mean-field Gaussian posterior over its
    weights and bias, sampled by local reparameterisation; the variational
    counterpart of :class:`torch.nn.Linear`.

    .. math::

        q(W_{ij}) = \mathcal N(\mu_{ij}, \sigma_{ij}^2),\quad
        \sigma = \mathrm{softplus}(\rho),\qquad
        m = \mu_W x + \mu_b,\quad v = \sigma_W^2 x^2 + \sigma_b^2 .

    In ``"sample"`` mode the output is a
    :class:`~snntorch_bayes.gaussian.GaussianCurrent` ``(m, v)``: the variational
    neuron that follows draws the current (fresh noise per example and per
    time step).  In ``"mean"`` mode it is ``F.linear(x, μ_W, μ_b)``.  An input
    that does not change across time steps needs projecting only once: call
    the layer before the time loop.

    Example::

        >>> import torch
        >>> from snntorch_bayes import BayesLinear
        >>> fc = BayesLinear(784, 10)
        >>> cur = fc(torch.rand(2, 784))          # train() mode: a GaussianCurrent
        >>> cur.mean.shape, bool((cur.var > 0).all())
        (torch.Size([2, 10]), True)
        >>> fc.eval()(torch.rand(2, 784)).shape   # eval(): the posterior mean
        torch.Size([2, 10])

    :param in_features: size of each input sample
    :param out_features: size of each output sample
    :param bias: learn a (variational) bias. Defaults to True
    :param prior: the prior :math:`p(w)`. Defaults to
        ``GaussianPrior(std=1/sqrt(in_features))``, the scale of the
        initial weights
    :param posterior_std: initial :math:`\sigma` of every weight, in
        ``[1e-30, 1e15]``. Defaults to ``0.5/sqrt(in_features)``
    :param bias_prior: the prior of the bias. Defaults to ``prior``
        (:func:`~snntorch_bayes.init.initialize` sets both to the scale of the
        initialised means)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        prior: Distribution | None = None,
        posterior_std: float | None = None,
        bias_prior: Distribution | None = None,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.in_features = in_features
        self.out_features = out_features
        factory = {"device": device, "dtype": dtype}
        self._init_posterior(
            (out_features, in_features), bias, prior, posterior_std, factory, bias_prior
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor | GaussianCurrent:
        x = _check_input("BayesLinear", x, self.weight_mean.dtype)
        if not self.sampling:
            return F.linear(x, self.weight_mean, self.bias_mean)
        weight_var, bias_var = self._variances()
        return lrt_linear(x, self.weight_mean, weight_var, self.bias_mean, bias_var)

    def to_snntorch(self) -> nn.Linear:
        """An ``nn.Linear`` holding the posterior means."""
        w = self.weight_mean
        out = nn.Linear(
            self.in_features, self.out_features, self.bias_mean is not None, w.device, w.dtype
        )
        return self._with_means(out)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias_mean is not None}, prior={self.prior!r}{_bias_prior_repr(self)}, "
            f"mode={self.mode!r}"
        )


class BayesConv2d(_BayesLayer):
    r"""A 2-D convolution with a mean-field Gaussian posterior, sampled by
    local reparameterisation; the variational counterpart of
    :class:`torch.nn.Conv2d` (``padding_mode="zeros"`` only).

    .. math::

        m = \mu_W \star x + \mu_b,\qquad v = \sigma_W^2 \star x^2 + \sigma_b^2 .

    Outputs as :class:`BayesLinear`.  Pool the current with
    :class:`MaxPool2d` / :class:`AvgPool2d` (or :func:`~snntorch_bayes.gaussian.max_pool2d`)
    and flatten it with :class:`Flatten` or ``current.flatten(1)``; see
    :mod:`snntorch_bayes.gaussian` for how mean and variance pass through.

    Example::

        >>> import torch
        >>> from snntorch_bayes import BayesConv2d, max_pool2d
        >>> conv = BayesConv2d(1, 12, 5)
        >>> cur = max_pool2d(conv(torch.rand(2, 1, 28, 28)), 2)
        >>> cur.mean.shape == cur.var.shape == (2, 12, 12, 12)
        True

    :param in_channels: input channels
    :param out_channels: output channels
    :param kernel_size: kernel size
    :param stride: stride. Defaults to 1
    :param padding: padding (int, pair, ``"same"`` or ``"valid"``). Defaults to 0
    :param dilation: dilation. Defaults to 1
    :param groups: groups. Defaults to 1
    :param bias: learn a (variational) bias. Defaults to True
    :param padding_mode: only ``"zeros"``
    :param prior: the prior. Defaults to ``GaussianPrior(std=1/sqrt(fan_in))``
    :param posterior_std: initial :math:`\sigma`, in ``[1e-30, 1e15]``.
        Defaults to ``0.5/sqrt(fan_in)``, with ``fan_in = in_channels/groups · kh · kw``
    :param bias_prior: the prior of the bias. Defaults to ``prior``
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        prior: Distribution | None = None,
        posterior_std: float | None = None,
        bias_prior: Distribution | None = None,
    ) -> None:
        super().__init__()
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode must be 'zeros', got {padding_mode!r}")
        for name, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("groups", groups),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups ({groups})"
            )
        for name, value in (
            ("kernel_size", kernel_size),
            ("stride", stride),
            ("dilation", dilation),
        ):
            pair = _pair(value)
            if len(pair) != 2 or any(
                isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in pair
            ):
                raise ValueError(f"{name} must be an integer or two integers >= 1, got {value!r}")
        # torch's own checks of padding (strings, "same" with stride > 1), on a meta twin
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                  device="meta")  # fmt: skip
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size)
        self.stride = _pair(stride)
        self.padding = padding if isinstance(padding, str) else _pair(padding)
        self.dilation = _pair(dilation)
        self.groups = groups
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        factory = {"device": device, "dtype": dtype}
        self._init_posterior(shape, bias, prior, posterior_std, factory, bias_prior)

    def forward(self, x: torch.Tensor) -> torch.Tensor | GaussianCurrent:
        x = _check_input("BayesConv2d", x, self.weight_mean.dtype)
        if not self.sampling:
            return F.conv2d(
                x, self.weight_mean, self.bias_mean, self.stride, self.padding, self.dilation,
                self.groups,
            )  # fmt: skip
        weight_var, bias_var = self._variances()
        return lrt_conv2d(
            x, self.weight_mean, weight_var, self.bias_mean, bias_var, self.stride,
            self.padding, self.dilation, self.groups,
        )  # fmt: skip

    def to_snntorch(self) -> nn.Conv2d:
        """An ``nn.Conv2d`` holding the posterior means."""
        w = self.weight_mean
        out = nn.Conv2d(
            self.in_channels, self.out_channels, self.kernel_size, self.stride, self.padding,
            self.dilation, self.groups, self.bias_mean is not None, "zeros", w.device, w.dtype,
        )  # fmt: skip
        return self._with_means(out)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
            f"groups={self.groups}, bias={self.bias_mean is not None}, prior={self.prior!r}"
            f"{_bias_prior_repr(self)}, mode={self.mode!r}"
        )


# --------------------------------------------------------------------------
# Shape modules that accept Gaussian currents
# --------------------------------------------------------------------------


class MaxPool2d(Variational, nn.MaxPool2d):
    """:class:`torch.nn.MaxPool2d` that also pools a
    :class:`~snntorch_bayes.gaussian.GaussianCurrent` (by the largest mean, see
    :func:`~snntorch_bayes.gaussian.max_pool2d`).  It takes ``torch.nn.MaxPool2d``'s
    arguments except ``return_indices``."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)

    def forward(self, input_: torch.Tensor | GaussianCurrent) -> torch.Tensor | GaussianCurrent:
        return max_pool2d(
            input_, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )

    def to_snntorch(self) -> nn.MaxPool2d:
        return nn.MaxPool2d(
            self.kernel_size, self.stride, self.padding, self.dilation, ceil_mode=self.ceil_mode
        )


class AvgPool2d(Variational, nn.AvgPool2d):
    """:class:`torch.nn.AvgPool2d` that also pools a
    :class:`~snntorch_bayes.gaussian.GaussianCurrent` (see
    :func:`~snntorch_bayes.gaussian.avg_pool2d`); it takes all of
    ``torch.nn.AvgPool2d``'s arguments."""

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(
            kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        )

    def _options(self) -> tuple:
        return (
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def forward(self, input_: torch.Tensor | GaussianCurrent) -> torch.Tensor | GaussianCurrent:
        return avg_pool2d(input_, *self._options())

    def to_snntorch(self) -> nn.AvgPool2d:
        return nn.AvgPool2d(*self._options())


class Flatten(Variational, nn.Flatten):
    """:class:`torch.nn.Flatten` that also flattens a
    :class:`~snntorch_bayes.gaussian.GaussianCurrent`."""

    def forward(self, input_: torch.Tensor | GaussianCurrent) -> torch.Tensor | GaussianCurrent:
        return input_.flatten(self.start_dim, self.end_dim)

    def to_snntorch(self) -> nn.Flatten:
        return nn.Flatten(self.start_dim, self.end_dim)
