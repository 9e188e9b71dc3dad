"""snntorch_bayes: Bayesian, normalisation-free training of binary and spiking
networks on top of snnTorch.

* :mod:`snntorch_bayes.surrogate` -- IW-ST estimators, drop-in ``spike_grad``
* :mod:`snntorch_bayes.functional` -- the pure maths behind them
* :mod:`snntorch_bayes.diagnostics` -- exact enumeration for small networks
* :mod:`snntorch_bayes.datasets` -- real data from torchvision or a local copy
* :mod:`snntorch_bayes.models`, :mod:`snntorch_bayes.training` -- reference
  networks and loops
"""

from snntorch_bayes import datasets, diagnostics, functional, models, surrogate, training
from snntorch_bayes.functional import bias_penalty

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "bias_penalty",
    "datasets",
    "diagnostics",
    "functional",
    "models",
    "surrogate",
    "training",
]
