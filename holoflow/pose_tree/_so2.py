"""``SO2``: a rotation of the plane, stored as the cosine and sine of its angle."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from holoflow.pose_tree._args import as_real, as_vector
from holoflow.pose_tree._format import cpp_number

__all__ = ["SO2"]


def _unit(x: float, y: float) -> tuple[float, float]:
    """``(x, y)`` divided by its length; NaN for the zero vector (as Holoscan's division gives)."""
    norm = math.sqrt(x * x + y * y)
    if norm == 0.0:
        return math.nan, math.nan
    return x / norm, y / norm


class SO2:
    """A 2D rotation (Holoscan's ``holoscan.pose_tree.SO2``).

    Build one with :meth:`identity`, :meth:`from_angle`, :meth:`from_direction` or
    :meth:`from_normalized`; ``SO2()`` is the identity (Holoscan leaves it undefined). ``a @ b``
    composes (``b`` first, then ``a``).
    """

    __slots__ = ("_cos", "_sin")

    def __init__(self) -> None:
        self._cos = 1.0
        self._sin = 0.0

    @staticmethod
    def _make(cos: float, sin: float) -> SO2:
        rotation = SO2.__new__(SO2)
        rotation._cos = cos
        rotation._sin = sin
        return rotation

    @staticmethod
    def identity() -> SO2:
        """The rotation by zero."""
        return SO2._make(1.0, 0.0)

    @staticmethod
    def from_angle(angle: float) -> SO2:
        """The rotation by ``angle`` radians (counter-clockwise).

        Raises
        ------
        TypeError
            If ``angle`` is not a number.
        """
        a = as_real(angle, "SO2.from_angle: angle")
        return SO2._make(math.cos(a), math.sin(a))

    @staticmethod
    def from_direction(direction: Any) -> SO2:
        """The rotation that turns the x axis onto ``direction`` (any non-zero length).

        Raises
        ------
        TypeError
            If ``direction`` is not 2 numbers.
        """
        x, y = as_vector(direction, 2, "SO2.from_direction: direction")
        return SO2._make(*_unit(x, y))

    @staticmethod
    def from_normalized(cos_sin: Any) -> SO2:
        """The rotation whose (cosine, sine) is ``cos_sin``, taken as given (not normalized).

        Raises
        ------
        TypeError
            If ``cos_sin`` is not 2 numbers.
        """
        c, s = as_vector(cos_sin, 2, "SO2.from_normalized: cos_sin")
        return SO2._make(c, s)

    def angle(self) -> float:
        """The angle in radians, in [-pi, pi]."""
        return math.atan2(self._sin, self._cos)

    def cos(self) -> float:
        """The cosine of the angle."""
        return self._cos

    def sin(self) -> float:
        """The sine of the angle."""
        return self._sin

    def inverse(self) -> SO2:
        """The opposite rotation."""
        return SO2._make(self._cos, -self._sin)

    def matrix(self) -> np.ndarray:
        """The 2x2 rotation matrix."""
        return np.array([[self._cos, -self._sin], [self._sin, self._cos]])

    def _rotate(self, x: float, y: float) -> tuple[float, float]:
        return self._cos * x - self._sin * y, self._sin * x + self._cos * y

    def __matmul__(self, other: SO2) -> SO2:
        """``self @ other``: ``other`` first, then ``self``.

        Raises
        ------
        TypeError
            If ``other`` is not a ``SO2``.
        """
        if not isinstance(other, SO2):
            raise TypeError(f"SO2 @ other: other must be a SO2, not {type(other).__name__}")
        c, s = self._cos, self._sin
        return SO2._make(*_unit(c * other._cos - s * other._sin, s * other._cos + c * other._sin))

    def __repr__(self) -> str:
        return f"SO2(angle={cpp_number(self.angle())})"
