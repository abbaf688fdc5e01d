"""``Pose3``: a rigid transform of space, a rotation followed by a translation."""

from __future__ import annotations

from typing import Any

import numpy as np

from holoflow.pose_tree import _quaternion as quat
from holoflow.pose_tree import _rigid as rigid
from holoflow.pose_tree._args import as_matrix, as_real, as_vector
from holoflow.pose_tree._format import eigen_matrix, eigen_row
from holoflow.pose_tree._pose2 import Pose2
from holoflow.pose_tree._rigid import RawPose
from holoflow.pose_tree._so3 import SO3

__all__ = ["Pose3"]


class Pose3:
    """A 3D rigid transform ``p -> rotation * p + translation`` (Holoscan's
    ``holoscan.pose_tree.Pose3``).

    ``Pose3()`` is the identity; ``Pose3(rotation, translation)`` takes an ``SO3`` and three
    numbers. ``a @ b`` composes (``b`` first, then ``a``); ``pose * point`` transforms a point.
    In a pose tree, ``tree.get("a", "b")`` is the pose ``a_T_b``: it maps coordinates in frame
    ``b`` to coordinates in frame ``a``.

    As in Holoscan, :attr:`translation` is a read-only view of the pose's own storage and
    :attr:`rotation` is the pose's own ``SO3``: assigning either attribute writes into that
    storage, so a view or rotation taken earlier shows the new value.

    Raises
    ------
    TypeError
        If only one of ``rotation`` and ``translation`` is given, or either has the wrong type.
    """

    __slots__ = ("_rotation", "_t")

    def __init__(self, rotation: SO3 | None = None, translation: Any = None) -> None:
        if (rotation is None) != (translation is None):
            raise TypeError("Pose3() takes both rotation and translation, or neither (the identity)")
        self._rotation = SO3()
        self._t = np.zeros(3)
        if rotation is not None:
            self.rotation = rotation
            self.translation = translation

    @staticmethod
    def _from_raw(raw: RawPose) -> Pose3:
        pose = Pose3.__new__(Pose3)
        pose._rotation = SO3._make(raw[0])
        pose._t = np.array(raw[1])
        return pose

    def _raw(self) -> RawPose:
        x, y, z = self._t.tolist()
        return self._rotation._q, (x, y, z)

    @staticmethod
    def identity() -> Pose3:
        """The transform that changes nothing."""
        return Pose3._from_raw(rigid.IDENTITY_POSE)

    @staticmethod
    def from_translation(translation: Any) -> Pose3:
        """A pure translation by 3 numbers.

        Raises
        ------
        TypeError
            If ``translation`` is not 3 numbers.
        """
        x, y, z = as_vector(translation, 3, "Pose3.from_translation: translation")
        return Pose3._from_raw((quat.IDENTITY, (x, y, z)))

    @staticmethod
    def from_rotation(axis: Any, angle: float) -> Pose3:
        """A pure rotation by ``angle`` radians about ``axis``.

        Raises
        ------
        TypeError
            If ``axis`` is not 3 numbers or ``angle`` not a number.
        """
        x, y, z = as_vector(axis, 3, "Pose3.from_rotation: axis")
        q = quat.from_angle_axis(as_real(angle, "Pose3.from_rotation: angle"), (x, y, z))
        return Pose3._from_raw((q, (0.0, 0.0, 0.0)))

    @staticmethod
    def from_pose2_xy(pose: Pose2) -> Pose3:
        """A 2D pose lifted to the x-y plane: rotation about z, translation with z = 0.

        Raises
        ------
        TypeError
            If ``pose`` is not a ``Pose2``.
        """
        if not isinstance(pose, Pose2):
            raise TypeError(f"Pose3.from_pose2_xy: pose must be a Pose2, not {type(pose).__name__}")
        x, y = pose._t.tolist()
        return Pose3._from_raw((SO3.from_so2_xy(pose.rotation)._q, (x, y, 0.0)))

    @staticmethod
    def from_matrix(matrix: Any) -> Pose3:
        """The transform of a 4x4 homogeneous matrix (its rotation part taken as given).

        Raises
        ------
        TypeError
            If ``matrix`` is not 4x4.
        """
        m = as_matrix(matrix, 4, "Pose3.from_matrix: matrix")
        return Pose3._from_raw((quat.from_matrix(m), (m[0][3], m[1][3], m[2][3])))

    @property
    def translation(self) -> np.ndarray:
        """The translation, a read-only view (assign the attribute to change it)."""
        view: np.ndarray = self._t.view()
        view.flags.writeable = False
        return view

    @translation.setter
    def translation(self, value: Any) -> None:
        self._t[:] = as_vector(value, 3, "Pose3.translation")

    @property
    def rotation(self) -> SO3:
        """The rotation (the pose's own ``SO3``; assigning copies into it)."""
        return self._rotation

    @rotation.setter
    def rotation(self, value: SO3) -> None:
        if not isinstance(value, SO3):
            raise TypeError(f"Pose3.rotation must be an SO3, not {type(value).__name__}")
        self._rotation._q = value._q

    def inverse(self) -> Pose3:
        """The inverse transform."""
        return Pose3._from_raw(rigid.inverse(self._raw()))

    def matrix(self) -> np.ndarray:
        """The 4x4 homogeneous matrix (a holoflow addition: Holoscan's Python ``Pose3`` has
        ``from_matrix`` but no ``matrix``)."""
        result = np.eye(4)
        result[:3, :3] = quat.to_matrix(self._rotation._q)
        result[:3, 3] = self._t
        return result

    def to_pose2_xy(self) -> Pose2:
        """The pose projected on the x-y plane: the turn about z and the x-y translation."""
        rotation = self._rotation._to_so2_xy()
        x, y, _ = self._t.tolist()
        return Pose2._make(rotation._cos, rotation._sin, x, y)

    def __matmul__(self, other: Pose3) -> Pose3:
        """``self @ other``: ``other`` first, then ``self``.

        Raises
        ------
        TypeError
            If ``other`` is not a ``Pose3``.
        """
        if not isinstance(other, Pose3):
            raise TypeError(
                f"Pose3 @ other: other must be a Pose3, not {type(other).__name__} "
                "(pose * point transforms a point)"
            )
        return Pose3._from_raw(rigid.compose(self._raw(), other._raw()))

    def __mul__(self, point: Any) -> np.ndarray:
        """The point (3 numbers) transformed: ``rotation * point + translation``.

        Raises
        ------
        TypeError
            If ``point`` is not 3 numbers.
        """
        px, py, pz = as_vector(point, 3, "Pose3 * point: point")
        x, y, z = quat.rotate(self._rotation._q, (px, py, pz))
        tx, ty, tz = self._t.tolist()
        return np.array([x + tx, y + ty, z + tz])

    def __copy__(self) -> Pose3:
        return Pose3._from_raw(self._raw())

    def __deepcopy__(self, memo: dict[int, Any]) -> Pose3:
        return self.__copy__()

    def __repr__(self) -> str:
        rotation = eigen_matrix(quat.to_matrix(self._rotation._q), 4)
        return f"Pose3d(translation={eigen_row(self._t.tolist())}, rotation={rotation})"
