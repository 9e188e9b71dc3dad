"""snntorch_bayes: Bayesian, normalisation-free training of binary and spiking
networks on top of snnTorch.

* :mod:`snntorch_bayes.surrogate` -- IW-ST estimators, drop-in ``spike_grad``
* :mod:`snntorch_bayes.layers`, :mod:`snntorch_bayes.neurons` -- variational
  layers (local reparameterisation) and variational ``Leaky`` / ``Synaptic``
* :mod:`snntorch_bayes.inference` -- KL, ELBO, modes, Monte-Carlo prediction,
  export to plain snnTorch
* :mod:`snntorch_bayes.monitor` -- :func:`record_firing`: spikes and firing
  probabilities of every neuron, for diagnostics and the bias penalty
* :mod:`snntorch_bayes.calibration` -- accuracy, NLL, ECE, Brier, temperature
  scaling
* :mod:`snntorch_bayes.gaussian` -- Gaussian currents and their pure maths
* :mod:`snntorch_bayes.functional` -- the pure maths behind the estimators
* :mod:`snntorch_bayes.diagnostics` -- exact enumeration for small networks
* :mod:`snntorch_bayes.datasets` -- real data from torchvision or a local copy
  (MNIST, Fashion-MNIST, spike-encoded Free Spoken Digits)
* :mod:`snntorch_bayes.audio` -- filterbank and send-on-delta spike encoding
* :mod:`snntorch_bayes.models`, :mod:`snntorch_bayes.training` -- reference
  networks and loops, including the normalisation-free residual networks
  :class:`~snntorch_bayes.models.BinaryResNet` and
  :class:`~snntorch_bayes.models.SpikingResNet` (SBNN or deterministic twin)
* :mod:`snntorch_bayes.init` -- :func:`initialize`, the data-dependent start
  at the low-bias operating point, and :func:`measure`
* :mod:`snntorch_bayes.deep` -- deep plain binary networks, SBNN against fair
  twins (the main job's third table, ``benchmarks/sbnn_recipe.py``)
"""

from snntorch_bayes import (
    audio,
    calibration,
    datasets,
    deep,
    diagnostics,
    functional,
    gaussian,
    inference,
    layers,
    models,
    monitor,
    neurons,
    surrogate,
    training,
)
from snntorch_bayes.functional import bias_penalty
from snntorch_bayes.gaussian import GaussianCurrent, avg_pool2d, max_pool2d
from snntorch_bayes.inference import (
    ELBO,
    compile,
    kl_divergence,
    mc_logits,
    mixture_cross_entropy,
    model_kl,
    sampling,
    set_mode,
    to_snntorch,
)
from snntorch_bayes.init import LayerInit, initialize, measure
from snntorch_bayes.layers import (
    AvgPool2d,
    BayesConv2d,
    BayesLinear,
    Flatten,
    GaussianPrior,
    MaxPool2d,
    MeanFieldNormal,
)
from snntorch_bayes.monitor import FiringRecord, record_firing
from snntorch_bayes.neurons import VariationalLeaky, VariationalSynaptic

__version__ = "0.2.0"

__all__ = [
    "ELBO",
    "AvgPool2d",
    "BayesConv2d",
    "BayesLinear",
    "FiringRecord",
    "Flatten",
    "GaussianCurrent",
    "GaussianPrior",
    "LayerInit",
    "MaxPool2d",
    "MeanFieldNormal",
    "VariationalLeaky",
    "VariationalSynaptic",
    "__version__",
    "audio",
    "avg_pool2d",
    "bias_penalty",
    "calibration",
    "compile",
    "datasets",
    "deep",
    "diagnostics",
    "functional",
    "gaussian",
    "inference",
    "initialize",
    "kl_divergence",
    "layers",
    "max_pool2d",
    "mc_logits",
    "measure",
    "mixture_cross_entropy",
    "model_kl",
    "models",
    "monitor",
    "neurons",
    "record_firing",
    "sampling",
    "set_mode",
    "surrogate",
    "to_snntorch",
    "training",
]
