"""Rigid 3D transforms on plain floats: the arithmetic behind ``Pose3`` and the pose tree.

A raw pose is ``(quaternion, translation)``: it maps a point ``p`` of the right-hand frame to
``rotate(quaternion, p) + translation`` in the left-hand frame (Holoscan's ``lhs_T_rhs``). The pose
tree stores and composes raw poses and builds ``Pose3`` objects only for its callers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from holoflow.pose_tree._quaternion import (
    IDENTITY,
    Mat3,
    Quat,
    Vec3,
    conjugate,
    from_angle_axis,
    multiply,
    normalized,
    rotate,
    slerp,
)

__all__ = [
    "IDENTITY_POSE",
    "RawPose",
    "compose",
    "interpolate",
    "inverse",
    "is_almost_zero",
    "is_valid",
    "power",
    "slerp_interpolate",
]

RawPose = tuple[Quat, Vec3]

IDENTITY_POSE: RawPose = (IDENTITY, (0.0, 0.0, 0.0))
_TOLERANCE = 100 * 2.220446049250313e-16
"""Holoscan's "almost zero": a hundred machine epsilons."""


def is_almost_zero(value: float) -> bool:
    """``|value|`` below a hundred machine epsilons."""
    return abs(value) < _TOLERANCE


def compose(a: RawPose, b: RawPose) -> RawPose:
    """``a * b``: first ``b``, then ``a`` (``lhs_T_mid * mid_T_rhs = lhs_T_rhs``)."""
    qa, ta = a
    qb, tb = b
    r = rotate(qa, tb)
    return normalized(multiply(qa, qb)), (r[0] + ta[0], r[1] + ta[1], r[2] + ta[2])


def inverse(a: RawPose) -> RawPose:
    """The inverse transform (``rhs_T_lhs`` from ``lhs_T_rhs``)."""
    q, t = a
    inv = conjugate(q)
    r = rotate(inv, t)
    return inv, (-r[0], -r[1], -r[2])


def is_valid(a: RawPose) -> bool:
    """A finite translation and a unit rotation quaternion (what the pose tree accepts)."""
    (x, y, z, w), t = a
    return all(math.isfinite(v) for v in t) and is_almost_zero(1.0 - (x * x + y * y + z * z + w * w))


def interpolate(p: float, a: RawPose, b: RawPose) -> RawPose:
    """Rotation by slerp, translation linearly: ``a`` at ``p = 0``, ``b`` at ``p = 1``."""
    (qa, ta), (qb, tb) = a, b
    return normalized(slerp(p, qa, qb)), (
        ta[0] + p * (tb[0] - ta[0]),
        ta[1] + p * (tb[1] - ta[1]),
        ta[2] + p * (tb[2] - ta[2]),
    )


def slerp_interpolate(p: float, a: RawPose, b: RawPose) -> RawPose:
    """Interpolation along the screw motion from ``a`` to ``b``: ``a * (a^-1 * b)^p``."""
    return compose(a, power(compose(inverse(a), b), p))


def power(a: RawPose, exponent: float) -> RawPose:
    """``a`` raised to a real power: the same screw motion, scaled (Holoscan's ``Pose3::pow``).

    The rotation axis is first turned onto z; there the motion is a planar rotation of the
    translation's x-y part and a linear scaling of its z part.
    """
    q, t = a
    x, y, z, w = q
    norm = math.sqrt(x * x + y * y + z * z)
    angle = 2.0 * math.atan2(norm, w)
    if is_almost_zero(angle) or norm == 0.0:
        # norm == 0 with w < 0 is the identity written as (0, 0, 0, -1): no axis to turn about
        # (Holoscan divides by zero there and returns NaN).
        return q, (exponent * t[0], exponent * t[1], exponent * t[2])
    axis = (x / norm, y / norm, z / norm)
    cross = (axis[1], -axis[0], 0.0)  # axis x (0, 0, 1)
    cos = axis[2]
    sin = math.sqrt(cross[0] * cross[0] + cross[1] * cross[1])
    rot = [[cos, 0.0, 0.0], [0.0, cos, 0.0], [0.0, 0.0, cos]]
    if not is_almost_zero(sin):
        unit = (cross[0] / sin, cross[1] / sin, cross[2] / sin)
        for i in range(3):
            for j in range(3):
                rot[i][j] += (1.0 - cos) * unit[i] * unit[j]
        rot[0][1] += -cross[2]
        rot[0][2] += cross[1]
        rot[1][2] += -cross[0]
        rot[1][0] += cross[2]
        rot[2][0] += -cross[1]
        rot[2][1] += cross[0]
    half = angle / 2.0
    scale = math.sin(half * exponent) / math.sin(half)
    c2, s2 = math.cos(half * (exponent - 1.0)), math.sin(half * (exponent - 1.0))
    turned = _times(rot, t)
    xy = (scale * (c2 * turned[0] - s2 * turned[1]), scale * (s2 * turned[0] + c2 * turned[1]))
    rotation = from_angle_axis(angle * exponent, axis)
    return rotation, _times(_inverse3(rot), (xy[0], xy[1], turned[2] * exponent))


def _times(m: Sequence[Sequence[float]], v: Vec3) -> Vec3:
    return (
        m[0][0] * v[0] + m[0][1] * v[1] + m[0][2] * v[2],
        m[1][0] * v[0] + m[1][1] * v[1] + m[1][2] * v[2],
        m[2][0] * v[0] + m[2][1] * v[1] + m[2][2] * v[2],
    )


def _inverse3(m: list[list[float]]) -> Mat3:
    """The inverse of a 3x3 matrix by cofactors (the matrices here are rotations, or ``cos * I``)."""
    (a, b, c), (d, e, f), (g, h, i) = m
    c00, c01, c02 = e * i - f * h, f * g - d * i, d * h - e * g
    det = a * c00 + b * c01 + c * c02
    return (
        (c00 / det, (c * h - b * i) / det, (b * f - c * e) / det),
        (c01 / det, (a * i - c * g) / det, (c * d - a * f) / det),
        (c02 / det, (b * g - a * h) / det, (a * e - b * d) / det),
    )
