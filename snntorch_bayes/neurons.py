r"""Variational spiking neurons: :class:`VariationalLeaky` and
:class:`VariationalSynaptic`, subclasses of ``snn.Leaky`` / ``snn.Synaptic``
driven by Gaussian currents (§4 of the :doc:`theory page </theory>`).

Fed by a variational layer, the input current of step :math:`t` is
:math:`I_t \sim \mathcal N(m_t, v_t)` given the past.  In ``"sample"`` mode a
neuron draws :math:`\varepsilon_t \sim \mathcal N(0, 1)` once and uses it
for both the membrane and the spike:

.. math::

    U_t &= \underbrace{\beta U_{t-1} + m_t - \theta z_{t-1}}_{\mu_t}
          + \sqrt{v_t}\,\varepsilon_t,\\
    z_t &= H(U_t - \theta),\qquad
    P(z_t = 1 \mid \text{past}) = \Phi(a_t),\quad
    a_t = \frac{\mu_t - \theta}{\sqrt{v_t}} .

* The membrane sample is reparameterised: gradients reach :math:`m_t`,
  :math:`v_t` and :math:`U_{t-1}` through it.
* The spike's backward pass is the IW-ST estimator of ``spike_grad`` with
  Gaussian noise of scale :math:`\sqrt{v_t}`, evaluated at :math:`a_t`:
  :math:`\partial z_t/\partial a_t = \varphi(a_t)\,w_p(z_t)`.
* **The reset uses the emitted spike**: :math:`z_{t-1} = H(U_{t-1} - \theta)`
  is recomputed from the *sampled* membrane the neuron returned, which is
  bit-for-bit the spike it emitted (no second draw, unlike snnTorch #366).
* A plain tensor input is a current with the neuron's own noise,
  :math:`v_t = s^2` with :math:`s` = ``spike_grad.scale`` (our formulation:
  the noise enters the membrane, so the reset still equals the emitted
  spike; for one step, :math:`\beta = 0`, it is the noisy binary neuron of
  §1 of the :doc:`theory page </theory>`).

In ``"mean"`` mode (deployment; the default in ``eval()``) a neuron computes
exactly what ``snn.Leaky`` / ``snn.Synaptic`` computes on the mean current:
:math:`U_t = \beta U_{t-1} + m_t - \theta z_{t-1}` and
:math:`z_t = H(U_t - \theta)`.  :func:`~snntorch_bayes.inference.to_snntorch` turns the
neurons into those classes.

**Intrinsic noise** (our formulation).  With ``intrinsic_noise`` :math:`s_0 > 0`
the current's variance is :math:`v_t + s_0^2`: the posterior noise plus an
independent noise current of the neuron's own.  Posterior noise alone can be
too small: a layer fed by sparse spikes has :math:`v_t \approx \sigma_b^2`,
so :math:`a_t \ll 0`, :math:`\varphi(a_t) \approx 0`, the estimator's
gradient vanishes and the network stays silent (measured on snnTorch's
tutorial-6 convolutional network: with :math:`s_0 = 0` its second layer
never fired and nothing was learnt; with :math:`s_0 = 0.5\,\theta` it trained).

Conventions kept from snnTorch 1.0.0: reset by subtracting ``threshold``
(not :math:`\beta\theta`), applied one step later (``reset_delay=True``);
``beta``/``alpha`` clamped to [0, 1]; the zero reset of ``Synaptic`` zeroes
the whole new membrane, that of ``Leaky`` the carried one.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections import OrderedDict
from collections.abc import Callable, Iterator

import torch
from snntorch import Leaky, Synaptic
from torch import nn
from torch.utils.hooks import RemovableHandle

from snntorch_bayes._checks import check_bool
from snntorch_bayes.functional import gaussian_weighted_density, normal_cdf
from snntorch_bayes.gaussian import GaussianCurrent, check_current
from snntorch_bayes.layers import Variational
from snntorch_bayes.surrogate import IWST, iw_st

__all__ = ["VariationalLeaky", "VariationalSynaptic"]


def _default_estimator() -> IWST:
    return iw_st(p=0.0, noise="gaussian", scale=0.25)


def _check_options(name: str, spike_grad: object, **unsupported: object) -> IWST:
    """Validate the constructor options a variational neuron rejects."""
    if "surrogate_disable" in unsupported:
        check_bool("surrogate_disable", unsupported.pop("surrogate_disable"))
    if "state_quant" in unsupported:
        quant = unsupported.pop("state_quant")
        if quant is not False and not callable(quant):
            raise ValueError(
                f"{name}: state_quant must be False or a quantiser (a callable, e.g. "
                f"snntorch.functional.quant.state_quant(num_bits=8)), got {quant!r}"
            )
    defaults = {"inhibition": False, "reset_delay": True}
    for option, value in unsupported.items():
        if value is not defaults[option] and value != defaults[option]:
            raise ValueError(
                f"{name} does not support {option}={value!r} (only {option}={defaults[option]!r})"
            )
    if spike_grad is None:
        return _default_estimator()
    if not isinstance(spike_grad, IWST) or spike_grad.noise != "gaussian":
        raise ValueError(
            f"{name} needs spike_grad = an IW-ST estimator with Gaussian noise, e.g. "
            f"snntorch_bayes.surrogate.iw_st(p=1.0, noise='gaussian') (its current is "
            f"Gaussian), got {spike_grad!r}"
        )
    if spike_grad.sample:
        raise ValueError(
            f"{name} needs spike_grad with sample=False: the neuron samples its own "
            "membrane; got sample=True"
        )
    return spike_grad


def _real_values(name: str, value: object) -> list[float]:
    """The elements of a real number or real tensor; ``TypeError`` otherwise."""
    if isinstance(value, torch.Tensor) and not value.is_complex() and value.dtype != torch.bool:
        return value.detach().double().flatten().tolist()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [float(value)]
    raise TypeError(f"{name} must be a real number or a real tensor, got {value!r}")


#: the valid range of each neuron constant: its text and its test
_RANGES = {
    "alpha": ("[0, 1]", lambda v: 0.0 <= v <= 1.0),
    "beta": ("[0, 1]", lambda v: 0.0 <= v <= 1.0),
    "threshold": ("(0, inf)", lambda v: 0.0 < v < math.inf),
    "graded_spikes_factor": ("(-inf, inf)", math.isfinite),
}


def _check_constants(name: str, **constants: object) -> None:
    """Raise a clear error unless each neuron constant (``alpha``, ``beta``,
    ``threshold``, ``graded_spikes_factor``) is real and in its range (NaN
    never is)."""
    for key, value in constants.items():
        text, valid = _RANGES[key]
        if not all(valid(v) for v in _real_values(f"{name}: {key}", value)):
            raise ValueError(f"{name}: {key} must be in {text}, got {value!r}")


def _check_flags(name: str, **flags: object) -> None:
    """Raise a clear error unless each flag is ``True`` or ``False``."""
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise ValueError(f"{name}: {key} must be True or False, got {value!r}")


def _check_intrinsic(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
        raise ValueError(f"intrinsic_noise must be in [0, inf), got {value!r}")
    return float(value)


def _split_input(
    name: str, input_: object, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(mean, var)`` of a Gaussian current; ``var`` is ``None`` for a
    tensor (bool or integer spikes are converted to ``dtype``)."""
    if isinstance(input_, GaussianCurrent):
        check_current(input_)
        return input_.mean, input_.var
    if isinstance(input_, torch.Tensor):
        if input_.is_complex():
            raise TypeError(f"{name} input_ must be a real tensor, got dtype {input_.dtype}")
        return (input_ if input_.is_floating_point() else input_.to(dtype)), None
    raise TypeError(f"{name} input_ must be a tensor or a GaussianCurrent, got {type(input_)}")


def _check_state(name: str, state: str, value: object, shape: torch.Size) -> None:
    if value is None:
        return
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}: {state} must be a tensor or None, got {type(value).__name__}")
    if value.numel() and value.shape != shape:
        raise ValueError(
            f"{name}: {state} has shape {tuple(value.shape)} but the input has shape "
            f"{tuple(shape)} (pass an empty tensor, e.g. reset_mem(), to start from zeros)"
        )


#: the hidden-state attributes of snnTorch-style neurons
_HIDDEN_STATE = ("syn", "mem", "spk")


@contextlib.contextmanager
def detached_state(module: torch.nn.Module) -> Iterator[None]:
    """Within the context, every buffer and hidden state (``syn``, ``mem``,
    ``spk``) of ``module`` and its children that is part of an autograd
    graph is replaced by its detached value; on exit the originals are
    restored.  Torch cannot deep-copy a tensor that is not a graph leaf, so
    this is what lets a network fresh from a forward pass under autograd be
    copied (e.g. to keep the best model for early stopping)."""
    attached = []
    for m in module.modules():
        for name in (*m._buffers, *(n for n in _HIDDEN_STATE if n not in m._buffers)):
            value = getattr(m, name, None)
            if isinstance(value, torch.Tensor) and value.grad_fn is not None:
                attached.append((m, name, value))
    try:
        for m, name, value in attached:
            setattr(m, name, value.detach())
        yield
    finally:
        for m, name, value in attached:
            setattr(m, name, value)


def deepcopy_detached(module: torch.nn.Module, memo: dict) -> torch.nn.Module:
    """Deep-copy ``module`` (for a ``__deepcopy__``) with its hidden state
    detached from the autograd graph (see :func:`detached_state`); the
    original keeps its state untouched."""
    new = type(module).__new__(type(module))
    memo[id(module)] = new
    with detached_state(module):
        for key, value in module.__dict__.items():
            object.__setattr__(new, key, copy.deepcopy(value, memo))
    return new


class DetachedDeepCopy:
    """Mixin for networks of neurons: ``copy.deepcopy`` works after a forward
    pass under autograd (see :func:`deepcopy_detached`)."""

    def __deepcopy__(self, memo: dict):
        return deepcopy_detached(self, memo)


#: the options a variational neuron's constructor checks; setting one later
#: is checked the same way
_GUARDED = frozenset(
    {"spike_grad", "surrogate_disable", "inhibition", "state_quant", "reset_delay"}
)


class _VariationalNeuron(Variational):
    """What both variational neurons share."""

    spike_grad: IWST

    def __setattr__(self, name: str, value: object) -> None:
        # after construction, an option the constructor would reject raises
        # here rather than being silently ignored
        built = name in _GUARDED and self.__dict__.get("_built", False)
        if built and name == "spike_grad":
            value = _check_options(type(self).__name__, value)
        elif built:
            _check_options(type(self).__name__, self.spike_grad, **{name: value})
        super().__setattr__(name, value)
        if built and name == "spike_grad":
            self._prepare()

    def _prepare(self) -> None:
        """Create the autograd function of the sampled step (and the hook
        registry) now, outside any compiled region."""
        self.__dict__["_sampled_step"] = _sampled_spike(
            self.spike_grad.p, self.spike_grad.max_weight
        )
        if "_probability_hooks" not in self.__dict__:
            self.__dict__["_probability_hooks"] = OrderedDict()

    def register_probability_hook(
        self, hook: Callable[[nn.Module, torch.Tensor], None]
    ) -> RemovableHandle:
        r"""Call ``hook(neuron, prob)`` at every ``"sample"``-mode step with
        the firing probability :math:`\pi = \Phi\bigl((\mu - \theta)/\sqrt{v}\bigr)`
        of the membrane mean :math:`\mu` and variance :math:`v` (with its
        autograd graph), as ``register_forward_hook`` does for outputs;
        :func:`~snntorch_bayes.record_firing` uses it.

        :return: a handle whose ``remove()`` removes the hook
        """
        if not callable(hook):
            raise TypeError(f"hook must be callable, got {type(hook).__name__}")
        handle = RemovableHandle(self._probability_hooks)
        self._probability_hooks[handle.id] = hook
        return handle

    def __getstate__(self) -> dict:
        # the autograd function is a local class: rebuilt on unpickling
        return {k: v for k, v in super().__getstate__().items() if k != "_sampled_step"}

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._prepare()

    def __deepcopy__(self, memo: dict) -> _VariationalNeuron:
        """A deep copy whose hidden state is detached from the autograd
        graph (see :func:`deepcopy_detached`)."""
        new = deepcopy_detached(self, memo)
        new._prepare()
        return new

    def _noise(
        self, mean: torch.Tensor, var: torch.Tensor | None
    ) -> tuple[torch.Tensor | float, torch.Tensor]:
        """The current's standard deviation and a draw of its noise."""
        if var is None:
            std = self.spike_grad.scale
        else:
            if self.intrinsic_noise:
                var = var + self.intrinsic_noise**2
            std = var.clamp_min(torch.finfo(var.dtype).tiny).sqrt()
        return std, torch.randn_like(mean)

    def _sample(
        self, mu: torch.Tensor, std: torch.Tensor | float, eps: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Spikes and membrane :math:`U = \mu + \sqrt v\,\varepsilon` of
        ``"sample"`` mode (see :func:`_sampled_spike`)."""
        if not isinstance(std, torch.Tensor):
            std = mu.new_tensor(std)
        spk, mem = self._sampled_step.apply(mu, std, eps, self.threshold)
        if self._probability_hooks:
            a = (mu - self.threshold) / std.clamp_min(torch.finfo(std.dtype).tiny)
            prob = normal_cdf(a)
            for hook in self._probability_hooks.values():
                hook(self, prob)
        return spk * self.graded_spikes_factor, mem

    def fire(self, mem: torch.Tensor) -> torch.Tensor:
        r"""Deterministic spikes :math:`H(U - \theta)` with the estimator's
        gradient at scale ``spike_grad.scale``: snnTorch's ``fire``, called by
        snnTorch's own step in ``"mean"`` mode (``state_quant`` and
        ``surrogate_disable`` as there)."""
        if self.state_quant:
            mem = self.state_quant(mem)
        shifted = mem - self.threshold
        if self.surrogate_disable:  # snnTorch's bypass: spikes without a gradient
            return (shifted > 0).float() * self.graded_spikes_factor
        return self.spike_grad.estimate(shifted, shifted > 0) * self.graded_spikes_factor

    def _check_sampling_options(self) -> None:
        """``state_quant`` and ``surrogate_disable`` act on a deterministic
        membrane: in ``"sample"`` mode they raise."""
        for option in ("state_quant", "surrogate_disable"):
            if getattr(self, option):
                raise ValueError(
                    f"{type(self).__name__}: {option} applies to 'mean' mode (a deterministic "
                    "membrane), but the neuron is sampling: call eval() or "
                    "set_mode('mean'), or build it without " + option
                )

    def _emitted(self, mem: torch.Tensor) -> torch.Tensor:
        """The spike emitted with membrane ``mem`` (the reset signal)."""
        return (mem - self.threshold > 0).to(mem.dtype).detach()


class VariationalLeaky(_VariationalNeuron, Leaky):
    r"""First-order leaky integrate-and-fire neuron with a Gaussian input
    current: the variational counterpart of ``snn.Leaky``.

    .. math::

        U_t = \beta U_{t-1} + I_t - \theta z_{t-1},\qquad
        I_t \sim \mathcal N(m_t, v_t),\qquad z_t = H(U_t - \theta),

    sampled by reparameterisation in ``"sample"`` mode, with the spike's
    gradient from the IW-ST estimator at
    :math:`a_t = (\beta U_{t-1} + m_t - \theta z_{t-1} - \theta)/\sqrt{v_t}`
    (see :mod:`snntorch_bayes.neurons`).

    * :math:`I_t` -- ``input_``: a :class:`~snntorch_bayes.gaussian.GaussianCurrent`
      from :class:`~snntorch_bayes.layers.BayesLinear` /
      :class:`~snntorch_bayes.layers.BayesConv2d`, or a tensor (variance
      :math:`s^2`, :math:`s` = ``spike_grad.scale``)
    * :math:`z_{t-1}` -- the spike emitted at the previous step, recomputed
      exactly from ``mem``

    Example::

        >>> import torch
        >>> from snntorch_bayes import BayesLinear, VariationalLeaky
        >>> fc, lif = BayesLinear(784, 10), VariationalLeaky(beta=0.95)
        >>> cur = fc(torch.rand(4, 784))      # hoisted: the input is constant
        >>> mem = lif.reset_mem()
        >>> for step in range(25):
        ...     spk, mem = lif(cur, mem)      # fresh current noise every step
        >>> spk.shape, mem.shape
        (torch.Size([4, 10]), torch.Size([4, 10]))

    Arguments are those of ``snn.Leaky``, in its order; unsupported values
    raise ``ValueError``:

    :param beta: membrane decay, clamped to [0, 1]
    :param threshold: :math:`\theta`. Defaults to 1
    :param spike_grad: an IW-ST estimator with ``noise="gaussian"`` and
        ``sample=False`` (its ``p`` and ``max_weight`` set the weight; its
        ``scale`` is the noise of a plain tensor input). Defaults to
        ``iw_st(p=0.0, noise="gaussian", scale=0.25)``
        (straight-through for the Gaussian noise; the recipe, ``docs/recipe.md``)
    :param surrogate_disable: in ``"mean"`` mode, spikes without a gradient
        (snnTorch's bypass, for fast inference); ``"sample"`` mode then
        raises. Defaults to False
    :param init_hidden: keep the state inside the module. Defaults to False
    :param inhibition: must be False
    :param learn_beta: learnable ``beta``. Defaults to False
    :param learn_threshold: learnable ``threshold``. Defaults to False
    :param reset_mechanism: ``"subtract"``, ``"zero"`` or ``"none"``.
        Defaults to ``"subtract"``
    :param state_quant: a quantiser of the state in ``"mean"`` mode, as in
        snnTorch (``snntorch.functional.quant.state_quant``); ``"sample"``
        mode then raises. Defaults to False
    :param output: with ``init_hidden``, also return ``mem``. Defaults to False
    :param graded_spikes_factor: spikes are scaled by it. Defaults to 1
    :param learn_graded_spikes_factor: learnable factor. Defaults to False
    :param reset_delay: must be True
    :param intrinsic_noise: standard deviation :math:`s_0` of the neuron's own
        noise current, independent of the posterior noise: a Gaussian input
        has variance :math:`v_t + s_0^2`. Defaults to 0 (posterior noise only);
        see :mod:`snntorch_bayes.neurons` for when it is needed

    Inputs: input\_, mem
        - **input_** of shape ``(batch, ...)``: a ``GaussianCurrent`` or a tensor
        - **mem** of the same shape, or empty (``reset_mem()``) for zeros

    Outputs: spk, mem
        - **spk**: spikes, the input's shape
        - **mem**: the (sampled) membrane potential
    """

    def __init__(
        self,
        beta: float | torch.Tensor,
        threshold: float | torch.Tensor = 1.0,
        spike_grad: IWST | None = None,
        surrogate_disable: bool = False,
        init_hidden: bool = False,
        inhibition: bool = False,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        reset_mechanism: str = "subtract",
        state_quant: bool | Callable[[torch.Tensor], torch.Tensor] = False,
        output: bool = False,
        graded_spikes_factor: float | torch.Tensor = 1.0,
        learn_graded_spikes_factor: bool = False,
        reset_delay: bool = True,
        intrinsic_noise: float = 0.0,
    ) -> None:
        _check_constants(
            "VariationalLeaky",
            beta=beta,
            threshold=threshold,
            graded_spikes_factor=graded_spikes_factor,
        )
        _check_flags(
            "VariationalLeaky",
            init_hidden=init_hidden,
            learn_beta=learn_beta,
            learn_threshold=learn_threshold,
            output=output,
            learn_graded_spikes_factor=learn_graded_spikes_factor,
        )
        spike_grad = _check_options(
            "VariationalLeaky",
            spike_grad,
            surrogate_disable=surrogate_disable,
            inhibition=inhibition,
            state_quant=state_quant,
            reset_delay=reset_delay,
        )
        # snnTorch would replace spike_grad by its bypass: the flag is ours
        super().__init__(
            beta, threshold, spike_grad, False, init_hidden, inhibition,
            learn_beta, learn_threshold, reset_mechanism, state_quant, output,
            graded_spikes_factor, learn_graded_spikes_factor, reset_delay,
        )  # fmt: skip
        self.surrogate_disable = surrogate_disable
        self.intrinsic_noise = _check_intrinsic(intrinsic_noise)
        self._built = True
        self._prepare()

    def reset_mem(self) -> torch.Tensor:
        """Clear the state: the membrane becomes an empty tensor, filled with
        zeros of the input's shape at the next step.  Returns it."""
        self.mem = self.mem.new_zeros(0)
        return self.mem

    def forward(
        self, input_: torch.Tensor | GaussianCurrent, mem: torch.Tensor | None = None
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        name = type(self).__name__
        mean, var = _split_input(name, input_, self.threshold.dtype)
        if self.init_hidden and mem is not None:
            raise TypeError("`mem` should not be passed as an argument while `init_hidden=True`")
        _check_state(name, "mem", mem, mean.shape)
        if mem is not None:
            self.mem = mem
        if self.mem.shape != mean.shape:
            self.mem = torch.zeros_like(mean)
        if not self.sampling:  # snnTorch's own step, firing through fire() below
            return Leaky.forward(self, mean)
        self._check_sampling_options()
        reset = self._emitted(self.mem)
        std, eps = self._noise(mean, var)
        carried = (1 - reset) * self.mem if self.reset_mechanism == "zero" else self.mem
        mu = self.beta.clamp(0, 1) * carried + mean
        if self.reset_mechanism == "subtract":
            mu = mu - reset * self.threshold
        spk, self.mem = self._sample(mu, std, eps)
        if self.init_hidden and not self.output:
            return spk
        return spk, self.mem

    def to_snntorch(self) -> Leaky:
        """An ``snn.Leaky`` with the same parameters and a deterministic copy
        of ``spike_grad``; it computes what ``"mean"`` mode computes."""
        return _copy_neuron(self, Leaky)


class VariationalSynaptic(_VariationalNeuron, Synaptic):
    r"""Second-order (current-based) integrate-and-fire neuron with a Gaussian
    input current: the variational counterpart of ``snn.Synaptic``.

    .. math::

        S_t = \alpha S_{t-1} + I_t,\qquad
        U_t = \beta U_{t-1} + S_t - \theta z_{t-1},\qquad
        I_t \sim \mathcal N(m_t, v_t).

    The estimator conditions on the sampled past: :math:`\alpha S_{t-1}` is
    part of :math:`\mu_t`, and only the fresh noise
    :math:`\sqrt{v_t}\varepsilon_t` is the spike's noise, so
    :math:`a_t = (\beta U_{t-1} + \alpha S_{t-1} + m_t - \theta z_{t-1} -
    \theta)/\sqrt{v_t}`.  Modes, inputs and the reset are as in
    :class:`VariationalLeaky`.

    Example::

        >>> import torch
        >>> from snntorch_bayes import BayesLinear, VariationalSynaptic
        >>> fc, lif = BayesLinear(8, 3), VariationalSynaptic(alpha=0.9, beta=0.8)
        >>> syn, mem = lif.reset_mem()
        >>> spk, syn, mem = lif(fc(torch.rand(2, 8)), syn, mem)
        >>> spk.shape, syn.shape
        (torch.Size([2, 3]), torch.Size([2, 3]))

    Arguments are those of ``snn.Synaptic``, in its order (``alpha`` is the
    synaptic decay, ``learn_alpha`` makes it learnable), then
    ``intrinsic_noise``; the rest as in :class:`VariationalLeaky`.

    Inputs: input\_, syn, mem (either state, both or neither, as in ``snn.Synaptic``)

    Outputs: spk, syn, mem
    """

    def __init__(
        self,
        alpha: float | torch.Tensor,
        beta: float | torch.Tensor,
        threshold: float | torch.Tensor = 1.0,
        spike_grad: IWST | None = None,
        surrogate_disable: bool = False,
        init_hidden: bool = False,
        inhibition: bool = False,
        learn_alpha: bool = False,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        reset_mechanism: str = "subtract",
        state_quant: bool | Callable[[torch.Tensor], torch.Tensor] = False,
        output: bool = False,
        reset_delay: bool = True,
        intrinsic_noise: float = 0.0,
    ) -> None:
        _check_constants("VariationalSynaptic", alpha=alpha, beta=beta, threshold=threshold)
        _check_flags(
            "VariationalSynaptic",
            init_hidden=init_hidden,
            learn_alpha=learn_alpha,
            learn_beta=learn_beta,
            learn_threshold=learn_threshold,
            output=output,
        )
        spike_grad = _check_options(
            "VariationalSynaptic",
            spike_grad,
            surrogate_disable=surrogate_disable,
            inhibition=inhibition,
            state_quant=state_quant,
            reset_delay=reset_delay,
        )
        # snnTorch would replace spike_grad by its bypass: the flag is ours
        super().__init__(
            alpha, beta, threshold, spike_grad, False, init_hidden, inhibition,
            learn_alpha, learn_beta, learn_threshold, reset_mechanism, state_quant, output,
            reset_delay,
        )  # fmt: skip
        self.surrogate_disable = surrogate_disable
        self.intrinsic_noise = _check_intrinsic(intrinsic_noise)
        self._built = True
        self._prepare()

    def reset_mem(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Clear both states (empty tensors, zeros of the input's shape at
        the next step).  Returns ``(syn, mem)``."""
        self.syn = self.syn.new_zeros(0)
        self.mem = self.mem.new_zeros(0)
        return self.syn, self.mem

    def forward(
        self,
        input_: torch.Tensor | GaussianCurrent,
        syn: torch.Tensor | None = None,
        mem: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        name = type(self).__name__
        mean, var = _split_input(name, input_, self.threshold.dtype)
        if self.init_hidden and (syn is not None or mem is not None):
            raise TypeError(
                "`mem` or `syn` should not be passed as an argument while `init_hidden=True`"
            )
        _check_state(name, "syn", syn, mean.shape)
        _check_state(name, "mem", mem, mean.shape)
        if syn is not None:  # either state alone, as snn.Synaptic takes them
            self.syn = syn
        if mem is not None:
            self.mem = mem
        if self.syn.shape != mean.shape:
            self.syn = torch.zeros_like(mean)
        if self.mem.shape != mean.shape:
            self.mem = torch.zeros_like(mean)
        if not self.sampling:  # snnTorch's own step, firing through fire() below
            return Synaptic.forward(self, mean)
        self._check_sampling_options()
        reset = self._emitted(self.mem)
        std, eps = self._noise(mean, var)
        syn = self.alpha.clamp(0, 1) * self.syn + mean
        mu = self.beta.clamp(0, 1) * self.mem + syn
        self.syn = syn + std * eps
        if self.reset_mechanism == "subtract":
            mu = mu - reset * self.threshold
        elif self.reset_mechanism == "zero":  # the whole new membrane, noise included
            mu = mu * (1 - reset)
            std = std * (1 - reset)
        spk, self.mem = self._sample(mu, std, eps)
        if self.init_hidden and not self.output:
            return spk
        return spk, self.syn, self.mem

    def to_snntorch(self) -> Synaptic:
        """An ``snn.Synaptic`` with the same parameters and a deterministic
        copy of ``spike_grad``; it computes what ``"mean"`` mode computes."""
        return _copy_neuron(self, Synaptic)


def _sampled_spike(p: float, max_weight: float | None) -> type[torch.autograd.Function]:
    r"""The autograd function of one sampled step (each neuron holds its own;
    the hyper-parameters are closed over, as in
    :mod:`snntorch_bayes.surrogate`, so ``torch.compile`` specialises on them).

    ``apply(mu, std, eps, threshold)`` returns :math:`z = H(U - \theta)` and
    :math:`U = \mu + \sigma\varepsilon`.  Backward, with
    :math:`a = (\mu - \theta)/\sigma` and the IW-ST coefficient
    :math:`c = \varphi(a)\min((2P(z))^{-p}, w_{\max})`:

    .. math::

        \bar a = \bar z\, c,\quad
        \bar\mu = \bar U + \bar a/\sigma,\quad
        \bar\sigma = \bar U\varepsilon - \bar a\, a/\sigma,\quad
        \bar\theta = -\textstyle\sum \bar a/\sigma,

    the same gradients autograd gives for the reparameterised membrane plus
    the estimator at :math:`a` (tested), in fewer passes over memory.
    """

    class _SampledSpike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, mu, std, eps, threshold):
            mem = mu + std * eps
            fired = mem - threshold > 0
            safe = std.clamp_min(torch.finfo(std.dtype).tiny)
            a = (mu - threshold) / safe
            ctx.save_for_backward(a, fired, safe, eps)
            ctx.shapes = (std.shape, threshold.shape, threshold.requires_grad)
            return fired.to(mu.dtype), mem

        @staticmethod
        def backward(ctx, grad_spk, grad_mem):
            a, fired, safe, eps = ctx.saved_tensors
            std_shape, threshold_shape, threshold_grad = ctx.shapes
            signed = torch.where(fired, a, -a)
            grad_a = grad_spk * gaussian_weighted_density(signed, p, max_weight) / safe
            grad_mu = grad_mem + grad_a
            grad_std = (grad_mem * eps - grad_a * a).sum_to_size(std_shape)
            grad_threshold = -grad_a.sum_to_size(threshold_shape) if threshold_grad else None
            return grad_mu, grad_std, None, grad_threshold

    return _SampledSpike


def _copy_neuron(neuron: _VariationalNeuron, cls: type) -> torch.nn.Module:
    """Build ``cls`` (``snn.Leaky`` or ``snn.Synaptic``) with ``neuron``'s
    options and copies of its parameters and buffers."""
    g = neuron.spike_grad
    options = {
        "threshold": neuron.threshold.detach().clone(),
        "spike_grad": iw_st(p=g.p, noise=g.noise, scale=g.scale, max_weight=g.max_weight),
        "init_hidden": neuron.init_hidden,
        "learn_beta": isinstance(neuron.beta, torch.nn.Parameter),
        "learn_threshold": isinstance(neuron.threshold, torch.nn.Parameter),
        "reset_mechanism": neuron.reset_mechanism,
        "output": neuron.output,
        "state_quant": neuron.state_quant,
        "surrogate_disable": neuron.surrogate_disable,
    }
    beta = neuron.beta.detach().clone()
    if cls is Synaptic:
        alpha = neuron.alpha.detach().clone()
        learn_alpha = isinstance(neuron.alpha, torch.nn.Parameter)
        twin = cls(alpha, beta, learn_alpha=learn_alpha, **options)
        # snn.Synaptic takes no graded_spikes_factor but fires with its own
        # (1 by default); carry over a factor set on the variational neuron
        factor = neuron.graded_spikes_factor
        twin.graded_spikes_factor = factor.detach().clone() if torch.is_tensor(factor) else factor
    else:
        twin = cls(
            beta,
            graded_spikes_factor=neuron.graded_spikes_factor.detach().clone(),
            learn_graded_spikes_factor=isinstance(neuron.graded_spikes_factor, torch.nn.Parameter),
            **options,
        )
    return twin.to(neuron.threshold.device)
