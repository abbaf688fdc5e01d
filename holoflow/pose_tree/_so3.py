"""``SO3``: a rotation of space, stored as a unit quaternion ``(x, y, z, w)``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from holoflow.pose_tree import _quaternion as quat
from holoflow.pose_tree._args import as_matrix, as_real, as_vector
from holoflow.pose_tree._format import eigen_row
from holoflow.pose_tree._quaternion import Quat
from holoflow.pose_tree._rigid import is_almost_zero
from holoflow.pose_tree._so2 import SO2

__all__ = ["SO3"]


class SO3:
    """A 3D rotation (Holoscan's ``holoscan.pose_tree.SO3``).

    Build one with :meth:`identity`, :meth:`from_axis_angle`, :meth:`from_scaled_axis`,
    :meth:`from_quaternion`, :meth:`from_matrix` or :meth:`from_so2_xy`; ``SO3()`` is the
    identity (Holoscan leaves it undefined). ``a @ b`` composes (``b`` first, then ``a``).
    Quaternions are ``(x, y, z, w)``, the order Holoscan uses in Python.

    Degenerate input gives what Holoscan gives: a zero axis or zero quaternion is kept as is
    (not a unit quaternion), and a pose tree refuses to store such a rotation.
    """

    __slots__ = ("_q",)

    def __init__(self) -> None:
        self._q: Quat = quat.IDENTITY

    @staticmethod
    def _make(q: Quat) -> SO3:
        rotation = SO3.__new__(SO3)
        rotation._q = q
        return rotation

    @staticmethod
    def identity() -> SO3:
        """The rotation by zero."""
        return SO3._make(quat.IDENTITY)

    @staticmethod
    def from_axis_angle(axis: Any, angle: float) -> SO3:
        """The rotation by ``angle`` radians about ``axis`` (any non-zero length).

        Raises
        ------
        TypeError
            If ``axis`` is not 3 numbers or ``angle`` not a number.
        """
        ax, ay, az = as_vector(axis, 3, "SO3.from_axis_angle: axis")
        return SO3._make(quat.from_angle_axis(as_real(angle, "SO3.from_axis_angle: angle"), (ax, ay, az)))

    @staticmethod
    def from_scaled_axis(axis_angle: Any) -> SO3:
        """The rotation about ``axis_angle`` by its length in radians (a rotation vector).

        Raises
        ------
        TypeError
            If ``axis_angle`` is not 3 numbers.
        """
        x, y, z = as_vector(axis_angle, 3, "SO3.from_scaled_axis: axis_angle")
        norm = math.sqrt(x * x + y * y + z * z)
        if is_almost_zero(norm):
            return SO3.identity()
        return SO3._make(quat.from_angle_axis(norm, (x / norm, y / norm, z / norm)))

    @staticmethod
    def from_quaternion(quaternion: Any) -> SO3:
        """The rotation of the quaternion ``(x, y, z, w)``, normalized first.

        Raises
        ------
        TypeError
            If ``quaternion`` is not 4 numbers.
        """
        x, y, z, w = as_vector(quaternion, 4, "SO3.from_quaternion: quaternion")
        return SO3._make(quat.normalized((x, y, z, w)))

    @staticmethod
    def from_normalized_quaternion(quaternion: Any) -> SO3:
        """The rotation of the unit quaternion ``(x, y, z, w)``, taken as given.

        Raises
        ------
        TypeError
            If ``quaternion`` is not 4 numbers.
        """
        x, y, z, w = as_vector(quaternion, 4, "SO3.from_normalized_quaternion: quaternion")
        return SO3._make((x, y, z, w))

    @staticmethod
    def from_so2_xy(rotation: SO2) -> SO3:
        """The rotation about z by the angle of a 2D rotation.

        Raises
        ------
        TypeError
            If ``rotation`` is not an ``SO2``.
        """
        if not isinstance(rotation, SO2):
            raise TypeError(f"SO3.from_so2_xy: rotation must be an SO2, not {type(rotation).__name__}")
        return SO3._make(quat.from_angle_axis(rotation.angle(), (0.0, 0.0, 1.0)))

    @staticmethod
    def from_matrix(matrix: Any) -> SO3:
        """The rotation of a 3x3 rotation matrix (its quaternion, normalized).

        Raises
        ------
        TypeError
            If ``matrix`` is not 3x3.
        """
        rows = as_matrix(matrix, 3, "SO3.from_matrix: matrix")
        return SO3._make(quat.normalized(quat.from_matrix(rows)))

    @property
    def quaternion(self) -> np.ndarray:
        """The quaternion ``(x, y, z, w)`` as a new array; assigning one sets the rotation
        (normalized)."""
        return np.array(self._q)

    @quaternion.setter
    def quaternion(self, value: Any) -> None:
        x, y, z, w = as_vector(value, 4, "SO3.quaternion")
        self._q = quat.normalized((x, y, z, w))

    def axis(self) -> np.ndarray:
        """The unit rotation axis (zero for the identity)."""
        x, y, z, _ = self._q
        norm = math.sqrt(x * x + y * y + z * z)
        if norm == 0.0:
            return np.zeros(3)
        return np.array([x / norm, y / norm, z / norm])

    def angle(self) -> float:
        """The rotation angle about :meth:`axis`, in [0, 2 pi]."""
        x, y, z, w = self._q
        return 2.0 * math.atan2(math.sqrt(x * x + y * y + z * z), w)

    def matrix(self) -> np.ndarray:
        """The 3x3 rotation matrix."""
        return np.array(quat.to_matrix(self._q))

    def euler_angles_rpy(self) -> np.ndarray:
        """``(roll, pitch, yaw)`` in radians such that the rotation is ``roll * pitch * yaw``
        (about x, then y, then z, as intrinsic rotations), with roll in [-pi/2, pi/2]."""
        m = quat.to_matrix(self._q)
        # Eigen's eulerAngles(0, 1, 2), which Holoscan calls, then Holoscan's roll folding.
        a0 = math.atan2(m[1][2], m[2][2])
        c2 = math.sqrt(m[0][0] * m[0][0] + m[0][1] * m[0][1])
        if a0 > 0.0:
            a0 -= math.pi
            a1 = math.atan2(-m[0][2], -c2)
        else:
            a1 = math.atan2(-m[0][2], c2)
        s1, c1 = math.sin(a0), math.cos(a0)
        a2 = math.atan2(s1 * m[2][0] - c1 * m[1][0], c1 * m[1][1] - s1 * m[2][1])
        roll, pitch, yaw = -a0, -a1, -a2
        if abs(roll) > math.pi * 0.5:
            roll -= math.pi
            pitch = math.pi - pitch
            yaw += math.pi
        return np.array([roll, pitch, yaw])

    def inverse(self) -> SO3:
        """The opposite rotation."""
        return SO3._make(quat.conjugate(self._q))

    def _to_so2_xy(self) -> SO2:
        """The rotation's turn about z, as a 2D rotation (Holoscan's ``to_so2_xy``)."""
        qx, qy, qz, qw = self._q
        return SO2.from_direction((1.0 - (qx * qx + qy * qy + 2.0 * qz * qz), 2.0 * qz * qw))

    def __matmul__(self, other: SO3) -> SO3:
        """``self @ other``: ``other`` first, then ``self``.

        Raises
        ------
        TypeError
            If ``other`` is not a ``SO3``.
        """
        if not isinstance(other, SO3):
            raise TypeError(f"SO3 @ other: other must be a SO3, not {type(other).__name__}")
        return SO3._make(quat.normalized(quat.multiply(self._q, other._q)))

    def __repr__(self) -> str:
        return f"SO3(quaternion={eigen_row(self._q)})"
