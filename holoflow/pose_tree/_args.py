"""Argument checks shared by the pose types: numbers, small vectors and matrices.

Holoscan's bindings accept anything numpy can read as a float array of the right shape (a list,
a tuple, an int array, an ``(n, 1)`` column) and raise ``TypeError`` for the rest; these helpers
do the same, with a message that names the argument.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_matrix", "as_real", "as_vector"]


def as_real(value: Any, what: str) -> float:
    """``value`` as a float.

    Raises
    ------
    TypeError
        If ``value`` is not a real number (a ``str`` or ``None`` is not).
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a real number, not {type(value).__name__}")
    return float(value)


def _as_array(value: Any, what: str, description: str) -> np.ndarray:
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be {description}, not {type(value).__name__}")
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be {description}, not {type(value).__name__}") from None


def as_vector(value: Any, size: int, what: str) -> tuple[float, ...]:
    """``value`` as ``size`` floats; shapes ``(size,)`` and ``(size, 1)`` are accepted.

    Raises
    ------
    TypeError
        If ``value`` is not numeric or has another shape.
    """
    description = f"{size} numbers (an array of shape ({size},))"
    array = _as_array(value, what, description)
    if array.shape not in ((size,), (size, 1)):
        raise TypeError(f"{what} must be {description}, got shape {array.shape}")
    return tuple(array.reshape(size).tolist())


def as_matrix(value: Any, size: int, what: str) -> tuple[tuple[float, ...], ...]:
    """``value`` as a ``size`` x ``size`` matrix, one tuple per row.

    Raises
    ------
    TypeError
        If ``value`` is not numeric or has another shape.
    """
    description = f"a {size}x{size} matrix"
    array = _as_array(value, what, description)
    if array.shape != (size, size):
        raise TypeError(f"{what} must be {description}, got shape {array.shape}")
    return tuple(tuple(row) for row in array.tolist())
