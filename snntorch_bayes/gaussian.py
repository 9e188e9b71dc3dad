r"""Gaussian currents: the mean and variance a variational layer hands to the
neuron that follows it, and the pure functions that produce and reshape them.

Under a mean-field Gaussian posterior :math:`q(w) = \mathcal N(\mu, \sigma^2)`
the pre-activation :math:`h = \sum_j w_j x_j` of an input :math:`x` is
Gaussian (eq. 7 of the :doc:`theory page </theory>`):

.. math::

    m = \sum_j \mu_j x_j + \mu_b,\qquad
    v = \sum_j \sigma_j^2 x_j^2 + \sigma_b^2 .

The *local reparameterisation trick* (Kingma et al., 2015) samples
:math:`h = m + \sqrt v\,\varepsilon` per example instead of sampling weights.
Here the sample is drawn by the variational neuron, which needs :math:`m`
and :math:`v` themselves (its spike estimator is evaluated at
:math:`(m - \theta)/\sqrt v`), so layers return a :class:`GaussianCurrent`.

**Pooling and flattening** (our formulation).  Flattening and reshaping act
on :math:`m` and :math:`v` alike.  Average pooling is linear: the mean is
pooled, and the variance is pooled with squared weights,
:math:`v' = \sum_{i \in \text{window}} v_i / k^2`, treating the units of a
window as independent, as the local reparameterisation trick itself does.
Max pooling of Gaussians is not Gaussian; :func:`max_pool2d` keeps the unit
with the largest *mean* in each window and passes on that unit's mean and
variance.  This is exact when the posterior variance vanishes (so the
deterministic network is exactly snnTorch's tutorial-6 network) and when one
unit's mean dominates its window by several standard deviations; when means
tie it under-estimates :math:`\mathbb E[\max]` (measured in the tests).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch.nn.modules.utils import _pair

__all__ = [
    "GaussianCurrent",
    "avg_pool2d",
    "flatten",
    "lrt_conv2d",
    "lrt_linear",
    "max_pool2d",
]


class GaussianCurrent(NamedTuple):
    r"""An input current :math:`I \sim \mathcal N(\text{mean}, \text{var})`,
    elementwise independent.

    Example::

        >>> import torch
        >>> from snntorch_bayes import GaussianCurrent
        >>> cur = GaussianCurrent(torch.zeros(2, 3), torch.ones(2, 3))
        >>> cur.shape, cur.flatten(0).shape
        (torch.Size([2, 3]), torch.Size([6]))

    :param mean: :math:`m`, any shape
    :param var: :math:`v \ge 0`, the same shape as ``mean``
    """

    mean: torch.Tensor
    var: torch.Tensor

    @property
    def shape(self) -> torch.Size:
        return self.mean.shape

    @property
    def dtype(self) -> torch.dtype:
        return self.mean.dtype

    @property
    def device(self) -> torch.device:
        return self.mean.device

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        r"""One draw :math:`m + \sqrt v\,\varepsilon`, reparameterised."""
        eps = torch.randn(
            self.mean.shape, dtype=self.mean.dtype, device=self.mean.device, generator=generator
        )
        return self.mean + self.var.sqrt() * eps

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> GaussianCurrent:
        """:meth:`torch.Tensor.flatten` of mean and variance."""
        return GaussianCurrent(
            self.mean.flatten(start_dim, end_dim), self.var.flatten(start_dim, end_dim)
        )

    def reshape(self, *shape: int) -> GaussianCurrent:
        """:meth:`torch.Tensor.reshape` of mean and variance."""
        return GaussianCurrent(self.mean.reshape(*shape), self.var.reshape(*shape))


def check_current(current: GaussianCurrent, name: str = "input_") -> None:
    """Raise ``ValueError`` unless ``current`` has matching shapes, a finite
    mean and a finite, non-negative variance.  The value check is one reduction; off
    the CPU it is an asynchronous device-side assert (no host sync), and it
    is skipped while compiling."""
    _check_shapes(current, name)
    if torch.compiler.is_compiling():
        return
    valid_var = (current.var >= 0) & (current.var < torch.inf)  # NaN fails both
    valid = valid_var & current.mean.isfinite()
    if current.var.device.type != "cpu":  # no host sync: a device-side assert
        torch._assert_async(
            valid.all(), f"{name}: GaussianCurrent mean must be finite, var finite and >= 0"
        )
        return
    if not valid.all():
        if not valid_var.all():
            part, values, bad, rule = "var", current.var, ~valid_var, "finite and >= 0"
        else:
            part, values, bad, rule = "mean", current.mean, ~valid, "finite"
        raise ValueError(
            f"{name}: GaussianCurrent {part} must be {rule}; "
            f"{int(bad.sum())} entries are not (e.g. {values[bad][0].item()})"
        )


def lrt_linear(
    x: torch.Tensor,
    weight_mean: torch.Tensor,
    weight_var: torch.Tensor,
    bias_mean: torch.Tensor | None = None,
    bias_var: torch.Tensor | None = None,
) -> GaussianCurrent:
    r"""Mean and variance of :math:`h = W x + b` under independent Gaussian
    weights (eq. 7): :math:`m = \mu_W x + \mu_b`,
    :math:`v = \sigma^2_W x^2 + \sigma^2_b`.

    Two matrix products: fusing them into one batched multiply was measured
    1.3-1.45x slower on CPU on the tutorial-5 layers
    (``benchmarks/lrt_fusion.py``).

    Example::

        >>> import torch
        >>> from snntorch_bayes.gaussian import lrt_linear
        >>> cur = lrt_linear(torch.tensor([[1.0, 2.0]]), torch.ones(1, 2), torch.ones(1, 2))
        >>> cur.mean.item(), cur.var.item()
        (3.0, 5.0)

    :param x: ``[..., in]``
    :param weight_mean: :math:`\mu_W`, ``[out, in]``
    :param weight_var: :math:`\sigma_W^2`, ``[out, in]``
    :param bias_mean: :math:`\mu_b`, ``[out]`` or ``None``
    :param bias_var: :math:`\sigma_b^2`, ``[out]`` or ``None``
    """
    if x.shape[-1] != weight_mean.shape[1]:
        raise ValueError(
            f"input has {x.shape[-1]} features (shape {tuple(x.shape)}), "
            f"the layer expects {weight_mean.shape[1]}"
        )
    return GaussianCurrent(
        F.linear(x, weight_mean, bias_mean), F.linear(x * x, weight_var, bias_var)
    )


def lrt_conv2d(
    x: torch.Tensor,
    weight_mean: torch.Tensor,
    weight_var: torch.Tensor,
    bias_mean: torch.Tensor | None,
    bias_var: torch.Tensor | None,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] | str = (0, 0),
    dilation: tuple[int, int] = (1, 1),
    groups: int = 1,
) -> GaussianCurrent:
    r"""Mean and variance of a 2-D convolution with independent Gaussian
    weights: :math:`m = \mu_W \star x + \mu_b`,
    :math:`v = \sigma^2_W \star x^2 + \sigma^2_b`.

    Both convolutions run as one grouped convolution: ``[x, x²]`` stacked on
    channels against ``[μ_W, σ²_W]`` stacked on output channels, with twice
    the groups (0.6-0.9x the time of two convolutions on the tutorial-6
    layers, CPU; ``benchmarks/lrt_fusion.py``).

    Example::

        >>> import torch
        >>> from snntorch_bayes.gaussian import lrt_conv2d
        >>> x = torch.ones(1, 1, 3, 3)
        >>> w = torch.ones(1, 1, 3, 3)
        >>> cur = lrt_conv2d(x, w, 0.5 * w, None, None)
        >>> cur.mean.item(), cur.var.item()
        (9.0, 4.5)

    :param x: ``[B, C, H, W]`` or ``[C, H, W]``
    :param weight_mean: :math:`\mu_W`, ``[O, C / groups, kh, kw]``
    :param weight_var: :math:`\sigma_W^2`, same shape
    :param bias_mean: :math:`\mu_b`, ``[O]`` or ``None``
    :param bias_var: :math:`\sigma_b^2`, ``[O]`` or ``None``
    """
    channels = weight_mean.shape[1] * groups
    if x.dim() not in (3, 4) or x.shape[-3] != channels:
        raise ValueError(
            f"input must be [B, {channels}, H, W] or [{channels}, H, W], got shape {tuple(x.shape)}"
        )
    out_channels = weight_mean.shape[0]
    bias = None if bias_mean is None else torch.cat((bias_mean, bias_var))
    out = F.conv2d(
        torch.cat((x, x * x), dim=-3),
        torch.cat((weight_mean, weight_var)),
        bias,
        stride,
        padding,
        dilation,
        2 * groups,
    )
    return GaussianCurrent(out[..., :out_channels, :, :], out[..., out_channels:, :, :])


def _check_shapes(current: GaussianCurrent, name: str) -> None:
    if current.mean.shape != current.var.shape:
        raise ValueError(
            f"{name}: GaussianCurrent mean and var must have the same shape, got "
            f"{tuple(current.mean.shape)} and {tuple(current.var.shape)}"
        )


def max_pool2d(
    input_: torch.Tensor | GaussianCurrent,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
) -> torch.Tensor | GaussianCurrent:
    r""":func:`torch.nn.functional.max_pool2d` for tensors and Gaussian
    currents.  For a current, each window passes on the mean and variance of
    its unit with the largest mean (see the module docstring).

    Example::

        >>> import torch
        >>> from snntorch_bayes import GaussianCurrent, max_pool2d
        >>> mean = torch.tensor([[[[0.0, 3.0], [1.0, 2.0]]]])
        >>> var = torch.tensor([[[[9.0, 0.5], [9.0, 9.0]]]])
        >>> out = max_pool2d(GaussianCurrent(mean, var), 2)
        >>> out.mean.item(), out.var.item()
        (3.0, 0.5)
    """
    if not isinstance(input_, GaussianCurrent):
        return F.max_pool2d(input_, kernel_size, stride, padding, dilation, ceil_mode)
    _check_shapes(input_, "max_pool2d")
    mean, index = F.max_pool2d(
        input_.mean, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True
    )
    var = input_.var.flatten(-2).gather(-1, index.flatten(-2)).view_as(mean)
    return GaussianCurrent(mean, var)


def avg_pool2d(
    input_: torch.Tensor | GaussianCurrent,
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> torch.Tensor | GaussianCurrent:
    r""":func:`torch.nn.functional.avg_pool2d` for tensors and Gaussian
    currents: over each window with divisor :math:`d` (the number of units
    it covers, zero padding included unless ``count_include_pad=False``, or
    ``divisor_override``), :math:`m' = \tfrac1d\sum m_i` and
    :math:`v' = \tfrac1{d^2}\sum v_i`.

    Example::

        >>> import torch
        >>> from snntorch_bayes import GaussianCurrent, avg_pool2d
        >>> out = avg_pool2d(GaussianCurrent(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2)), 2)
        >>> out.mean.item(), out.var.item()
        (1.0, 0.25)
    """
    options = (kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
    if not isinstance(input_, GaussianCurrent):
        return F.avg_pool2d(input_, *options)
    _check_shapes(input_, "avg_pool2d")
    mean = F.avg_pool2d(input_.mean, *options)
    var = F.avg_pool2d(input_.var, *options)  # sum(v) / d per window
    if divisor_override is not None:
        divisor = float(divisor_override)
    elif not ceil_mode and count_include_pad:
        kh, kw = _pair(kernel_size)
        divisor = float(kh * kw)
    else:  # d per window: the sum over a window of ones, over its average
        ones = input_.var.new_ones((1, 1, *input_.var.shape[-2:]))
        sums = F.avg_pool2d(ones, *options[:5], divisor_override=1)
        divisor = sums / F.avg_pool2d(ones, *options)
    return GaussianCurrent(mean, var / divisor)


def flatten(
    input_: torch.Tensor | GaussianCurrent, start_dim: int = 1, end_dim: int = -1
) -> torch.Tensor | GaussianCurrent:
    """:func:`torch.flatten` for tensors and Gaussian currents."""
    return input_.flatten(start_dim, end_dim)
