"""snntorch_bayes: Bayesian, normalisation-free training of binary and spiking
networks on top of snnTorch."""

from snntorch_bayes import diagnostics, functional, surrogate
from snntorch_bayes.functional import bias_penalty

__version__ = "0.1.0"

__all__ = ["__version__", "bias_penalty", "diagnostics", "functional", "surrogate"]
