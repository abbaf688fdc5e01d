"""``Pose2``: a rigid transform of the plane, a rotation followed by a translation."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from holoflow.pose_tree._args import as_matrix, as_real, as_vector
from holoflow.pose_tree._format import cpp_number, eigen_row
from holoflow.pose_tree._rigid import is_almost_zero
from holoflow.pose_tree._so2 import SO2

__all__ = ["Pose2"]


class Pose2:
    """A 2D rigid transform ``p -> rotation * p + translation`` (Holoscan's
    ``holoscan.pose_tree.Pose2``).

    ``Pose2()`` is the identity; ``Pose2(rotation, translation)`` takes an ``SO2`` and two
    numbers. ``a @ b`` composes (``b`` first, then ``a``); ``pose * point`` transforms a point.

    As in Holoscan, :attr:`translation` is a read-only view of the pose's own storage and
    :attr:`rotation` is the pose's own ``SO2``: assigning either attribute writes into that
    storage, so a view or rotation taken earlier shows the new value.

    Raises
    ------
    TypeError
        If only one of ``rotation`` and ``translation`` is given, or either has the wrong type.
    """

    __slots__ = ("_rotation", "_t")

    def __init__(self, rotation: SO2 | None = None, translation: Any = None) -> None:
        if (rotation is None) != (translation is None):
            raise TypeError("Pose2() takes both rotation and translation, or neither (the identity)")
        self._rotation = SO2()
        self._t = np.zeros(2)
        if rotation is not None:
            self.rotation = rotation
            self.translation = translation

    @staticmethod
    def _make(cos: float, sin: float, x: float, y: float) -> Pose2:
        pose = Pose2.__new__(Pose2)
        pose._rotation = SO2._make(cos, sin)
        pose._t = np.array([x, y])
        return pose

    @staticmethod
    def identity() -> Pose2:
        """The transform that changes nothing."""
        return Pose2._make(1.0, 0.0, 0.0, 0.0)

    @staticmethod
    def from_translation(translation: Any) -> Pose2:
        """A pure translation by 2 numbers.

        Raises
        ------
        TypeError
            If ``translation`` is not 2 numbers.
        """
        x, y = as_vector(translation, 2, "Pose2.from_translation: translation")
        return Pose2._make(1.0, 0.0, x, y)

    @staticmethod
    def from_rotation(angle: float) -> Pose2:
        """A pure rotation by ``angle`` radians.

        Raises
        ------
        TypeError
            If ``angle`` is not a number.
        """
        a = as_real(angle, "Pose2.from_rotation: angle")
        return Pose2._make(math.cos(a), math.sin(a), 0.0, 0.0)

    @staticmethod
    def from_xy_a(px: float, py: float, angle: float) -> Pose2:
        """The rotation by ``angle`` radians followed by the translation ``(px, py)``.

        Raises
        ------
        TypeError
            If an argument is not a number.
        """
        a = as_real(angle, "Pose2.from_xy_a: angle")
        x, y = as_real(px, "Pose2.from_xy_a: px"), as_real(py, "Pose2.from_xy_a: py")
        return Pose2._make(math.cos(a), math.sin(a), x, y)

    @staticmethod
    def from_matrix(matrix: Any) -> Pose2:
        """The transform of a 3x3 homogeneous matrix (its rotation part taken as given).

        Raises
        ------
        TypeError
            If ``matrix`` is not 3x3.
        """
        m = as_matrix(matrix, 3, "Pose2.from_matrix: matrix")
        return Pose2._make(m[0][0], m[1][0], m[0][2], m[1][2])

    @property
    def translation(self) -> np.ndarray:
        """The translation, a read-only view (assign the attribute to change it)."""
        view: np.ndarray = self._t.view()
        view.flags.writeable = False
        return view

    @translation.setter
    def translation(self, value: Any) -> None:
        self._t[:] = as_vector(value, 2, "Pose2.translation")

    @property
    def rotation(self) -> SO2:
        """The rotation (the pose's own ``SO2``; assigning copies into it)."""
        return self._rotation

    @rotation.setter
    def rotation(self, value: SO2) -> None:
        if not isinstance(value, SO2):
            raise TypeError(f"Pose2.rotation must be an SO2, not {type(value).__name__}")
        self._rotation._cos, self._rotation._sin = value._cos, value._sin

    @property
    def angle(self) -> float:
        """The rotation angle in radians; assigning sets the rotation."""
        return self._rotation.angle()

    @angle.setter
    def angle(self, value: float) -> None:
        self.rotation = SO2.from_angle(as_real(value, "Pose2.angle"))

    def inverse(self) -> Pose2:
        """The inverse transform."""
        c, s = self._rotation._cos, -self._rotation._sin
        x, y = self._t.tolist()
        return Pose2._make(c, s, -(c * x - s * y), -(s * x + c * y))

    def matrix(self) -> np.ndarray:
        """The 3x3 homogeneous matrix."""
        c, s = self._rotation._cos, self._rotation._sin
        x, y = self._t.tolist()
        return np.array([[c, -s, x], [s, c, y], [0.0, 0.0, 1.0]])

    def _power(self, exponent: float) -> Pose2:
        """The same rigid motion scaled by a real ``exponent`` (Holoscan's ``Pose2::pow``)."""
        angle = self._rotation.angle()
        half = angle / 2.0
        if is_almost_zero(angle):
            scale = exponent * (1.0 + (1.0 - exponent * exponent) * half * half / 6.0)
        else:
            scale = math.sin(half * exponent) / math.sin(half)
        turn = SO2.from_angle(half * (exponent - 1.0))
        x, y = turn._rotate(*self._t.tolist())
        return Pose2._make(math.cos(angle * exponent), math.sin(angle * exponent), scale * x, scale * y)

    def __matmul__(self, other: Pose2) -> Pose2:
        """``self @ other``: ``other`` first, then ``self``.

        Raises
        ------
        TypeError
            If ``other`` is not a ``Pose2``.
        """
        if not isinstance(other, Pose2):
            raise TypeError(
                f"Pose2 @ other: other must be a Pose2, not {type(other).__name__} "
                "(pose * point transforms a point)"
            )
        rotation = self._rotation @ other._rotation
        x, y = self._rotation._rotate(*other._t.tolist())
        tx, ty = self._t.tolist()
        return Pose2._make(rotation._cos, rotation._sin, x + tx, y + ty)

    def __mul__(self, point: Any) -> np.ndarray:
        """The point (2 numbers) transformed: ``rotation * point + translation``.

        Raises
        ------
        TypeError
            If ``point`` is not 2 numbers.
        """
        px, py = as_vector(point, 2, "Pose2 * point: point")
        x, y = self._rotation._rotate(px, py)
        tx, ty = self._t.tolist()
        return np.array([x + tx, y + ty])

    def __copy__(self) -> Pose2:
        return Pose2._make(self._rotation._cos, self._rotation._sin, *self._t.tolist())

    def __deepcopy__(self, memo: dict[int, Any]) -> Pose2:
        return self.__copy__()

    def __repr__(self) -> str:
        return f"Pose2d(translation={eigen_row(self._t.tolist())}, rotation={cpp_number(self.angle)})"
