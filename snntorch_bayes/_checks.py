"""Argument checks shared by the public classes: each returns the checked
value (converted to the Python type it stands for) or raises a ``ValueError``
naming the argument, the value and the valid range.  ``bool`` is never taken
for a number."""

from __future__ import annotations

import math

#: the range of a standard deviation the variational layers and priors take:
#: below it, float32 rounds its square (and the KL's gradient) to 0 or
#: infinity; above it, the square overflows
MIN_STD, MAX_STD = 1e-30, 1e15


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_real(name: str, value: object) -> float:
    """A real number (an ``int`` or ``float``, not NaN; infinity allowed)."""
    if not _is_number(value) or math.isnan(value):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def check_range(
    name: str, value: object, low: float, high: float = math.inf, low_open: bool = False
) -> float:
    """A real number in ``[low, high]`` (``(low, high]`` if ``low_open``;
    an infinite ``high`` is always excluded)."""
    value = check_real(name, value)
    above = value > low if low_open else value >= low
    below = value < high if math.isinf(high) else value <= high
    if not (above and below):
        left = "(" if low_open else "["
        right = ")" if math.isinf(high) else "]"
        raise ValueError(f"{name} must be in {left}{low:g}, {high:g}{right}, got {value!r}")
    return value


def check_positive(name: str, value: object) -> float:
    """A real number in ``(0, inf)``."""
    return check_range(name, value, 0.0, low_open=True)


def check_unit(name: str, value: object) -> float:
    """A real number in ``[0, 1]``."""
    return check_range(name, value, 0.0, 1.0)


def check_std(name: str, value: object) -> float:
    """A standard deviation in ``[MIN_STD, MAX_STD]``."""
    return check_range(name, value, MIN_STD, MAX_STD)


def check_bool(name: str, value: object) -> bool:
    """``True`` or ``False`` (not a truthy object)."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return value


def check_int(name: str, value: object, low: int) -> int:
    """An integer ``>= low`` (not a ``float`` or a ``bool``)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name} must be an integer in [{low}, inf), got {value!r}")
    return value
