"""``interpolate`` and ``slerp_interpolate``: blends of two rotations or poses (holoflow additions).

These are the blends a pose tree applies between two samples of an edge, for use on their own
(Holoscan has them in C++ only). ``p = 0`` gives ``a`` and ``p = 1`` gives ``b``; values outside
[0, 1] extrapolate.
"""

from __future__ import annotations

import math
from typing import TypeVar

from holoflow.pose_tree import _quaternion as quat
from holoflow.pose_tree import _rigid as rigid
from holoflow.pose_tree._args import as_real
from holoflow.pose_tree._pose2 import Pose2
from holoflow.pose_tree._pose3 import Pose3
from holoflow.pose_tree._so2 import SO2
from holoflow.pose_tree._so3 import SO3

__all__ = ["interpolate", "slerp_interpolate"]

_T = TypeVar("_T", SO2, SO3, Pose2, Pose3)


def _wrap_pi(angle: float) -> float:
    """``angle`` in [-pi, pi)."""
    return (angle + math.pi) % (2.0 * math.pi) - math.pi


def _so2(p: float, a: SO2, b: SO2) -> SO2:
    a0 = a.angle()
    return SO2.from_angle(a0 + p * _wrap_pi(b.angle() - a0))


def interpolate(p: float, a: _T, b: _T) -> _T:
    """Blend two values of one type: rotations along the shorter arc (SO3: quaternion slerp),
    translations linearly. This is what ``INTERPOLATE_LINEARLY`` and ``EXTRAPOLATE_LINEARLY`` do
    between two samples.

    Raises
    ------
    TypeError
        If ``a`` and ``b`` are not both ``SO2``, ``SO3``, ``Pose2`` or ``Pose3``, or ``p`` is not
        a number.
    """
    t = as_real(p, "interpolate: p")
    if type(a) is not type(b):
        raise TypeError(
            f"interpolate: a and b must have the same type, not {type(a).__name__} and {type(b).__name__}"
        )
    if isinstance(a, SO2) and isinstance(b, SO2):
        return _so2(t, a, b)
    if isinstance(a, SO3) and isinstance(b, SO3):
        return SO3._make(quat.normalized(quat.slerp(t, a._q, b._q)))
    if isinstance(a, Pose2) and isinstance(b, Pose2):
        rotation = _so2(t, a.rotation, b.rotation)
        (ax, ay), (bx, by) = a._t.tolist(), b._t.tolist()
        return Pose2._make(rotation._cos, rotation._sin, ax + t * (bx - ax), ay + t * (by - ay))
    if isinstance(a, Pose3) and isinstance(b, Pose3):
        return Pose3._from_raw(rigid.interpolate(t, a._raw(), b._raw()))
    raise TypeError(f"interpolate: takes SO2, SO3, Pose2 or Pose3 values, not {type(a).__name__}")


def slerp_interpolate(p: float, a: _T, b: _T) -> _T:
    """Blend two poses along the screw motion from ``a`` to ``b`` (``a @ (a^-1 @ b)^p``):
    rotation and translation move together, as a rigid body turning about a fixed axis. This is
    what ``INTERPOLATE_SLERP`` and ``EXTRAPOLATE_SLERP`` do between two samples.

    Raises
    ------
    TypeError
        If ``a`` and ``b`` are not both ``Pose2`` or both ``Pose3``, or ``p`` is not a number.
    """
    t = as_real(p, "slerp_interpolate: p")
    if isinstance(a, Pose2) and isinstance(b, Pose2):
        return a @ (a.inverse() @ b)._power(t)
    if isinstance(a, Pose3) and isinstance(b, Pose3):
        return Pose3._from_raw(rigid.slerp_interpolate(t, a._raw(), b._raw()))
    raise TypeError(
        "slerp_interpolate: a and b must both be Pose2 or both Pose3, "
        f"not {type(a).__name__} and {type(b).__name__}"
    )
