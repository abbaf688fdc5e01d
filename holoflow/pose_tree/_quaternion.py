"""Quaternion arithmetic on plain floats, in the order of operations Holoscan's Eigen code uses.

A quaternion is a tuple ``(x, y, z, w)`` (Eigen's coefficient order, which is also the order
Holoscan's Python API uses); a vector is a tuple ``(x, y, z)``. Three- and four-element numpy
arrays cost more per operation than the arithmetic itself, so the pose types keep their rotation
as such a tuple and only build arrays at the API boundary. Each formula groups its terms as
Eigen's vectorized (SSE2, two doubles per register) code does on x86-64, so results almost always
equal Holoscan's to the last bit, signed zeros included, and printed poses are identical (the
screw-motion blend of the ``*_SLERP`` access methods may differ in the last digit).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = [
    "IDENTITY",
    "Mat3",
    "Quat",
    "Vec3",
    "conjugate",
    "from_angle_axis",
    "from_matrix",
    "multiply",
    "normalized",
    "rotate",
    "slerp",
    "to_matrix",
]

Quat = tuple[float, float, float, float]
Vec3 = tuple[float, float, float]
Mat3 = tuple[Vec3, Vec3, Vec3]

IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)
_EPSILON = 2.220446049250313e-16


def multiply(a: Quat, b: Quat) -> Quat:
    """The Hamilton product ``a * b`` (apply ``b``, then ``a``), with the x-y and z-w pairs
    computed as Eigen's SIMD product does."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (
        (aw * bx + ay * bz) - (az * by - ax * bw),
        (aw * by + ay * bw) + (az * bx - ax * bz),
        (aw * bz - ay * bx) + (az * bw + ax * by),
        (aw * bw - ay * by) - (az * bz + ax * bx),
    )


def normalized(q: Quat) -> Quat:
    """``q`` divided by its norm; a zero quaternion stays zero (as Eigen leaves it). The squared
    norm adds the two SIMD lanes' partial sums, as Eigen does."""
    x, y, z, w = q
    norm_sq = (x * x + z * z) + (y * y + w * w)
    if norm_sq > 0.0:
        norm = math.sqrt(norm_sq)
        return (x / norm, y / norm, z / norm, w / norm)
    return q


def conjugate(q: Quat) -> Quat:
    """The conjugate: the inverse rotation of a unit quaternion."""
    x, y, z, w = q
    return (-x, -y, -z, w)


def rotate(q: Quat, v: Vec3) -> Vec3:
    """``v`` rotated by ``q``, computed as ``q * (v, 0) * conj(q)`` like Holoscan's ``SO3 * v``."""
    x, y, z, _ = multiply(multiply(q, (v[0], v[1], v[2], 0.0)), conjugate(q))
    return (x, y, z)


def from_angle_axis(angle: float, axis: Vec3) -> Quat:
    """The rotation by ``angle`` radians about ``axis`` (normalized first unless it is zero)."""
    ax, ay, az = axis
    norm_sq = ax * ax + ay * ay + az * az
    if norm_sq > 0.0:
        norm = math.sqrt(norm_sq)
        ax, ay, az = ax / norm, ay / norm, az / norm
    half = 0.5 * angle
    s = math.sin(half)
    return (s * ax, s * ay, s * az, math.cos(half))


def to_matrix(q: Quat) -> Mat3:
    """The 3x3 rotation matrix of ``q`` (rows), by Eigen's ``toRotationMatrix`` formula."""
    x, y, z, w = q
    tx, ty, tz = 2.0 * x, 2.0 * y, 2.0 * z
    twx, twy, twz = tx * w, ty * w, tz * w
    txx, txy, txz = tx * x, ty * x, tz * x
    tyy, tyz, tzz = ty * y, tz * y, tz * z
    return (
        (1.0 - (tyy + tzz), txy - twz, txz + twy),
        (txy + twz, 1.0 - (txx + tzz), tyz - twx),
        (txz - twy, tyz + twx, 1.0 - (txx + tyy)),
    )


def from_matrix(m: Sequence[Sequence[float]]) -> Quat:
    """The quaternion of a rotation matrix (not normalized), by Eigen's conversion."""
    trace = m[0][0] + m[1][1] + m[2][2]
    if trace > 0.0:
        t = math.sqrt(trace + 1.0)
        w = 0.5 * t
        t = 0.5 / t
        return ((m[2][1] - m[1][2]) * t, (m[0][2] - m[2][0]) * t, (m[1][0] - m[0][1]) * t, w)
    i = 0
    if m[1][1] > m[0][0]:
        i = 1
    if m[2][2] > m[i][i]:
        i = 2
    j = (i + 1) % 3
    k = (j + 1) % 3
    t = math.sqrt(m[i][i] - m[j][j] - m[k][k] + 1.0)
    coeffs = [0.0, 0.0, 0.0, 0.0]
    coeffs[i] = 0.5 * t
    t = 0.5 / t
    coeffs[3] = (m[k][j] - m[j][k]) * t
    coeffs[j] = (m[j][i] + m[i][j]) * t
    coeffs[k] = (m[k][i] + m[i][k]) * t
    return (coeffs[0], coeffs[1], coeffs[2], coeffs[3])


def slerp(t: float, a: Quat, b: Quat) -> Quat:
    """Spherical interpolation from ``a`` (t=0) to ``b`` (t=1) along the shorter arc, as Eigen
    does it (linear blend when the two are almost equal); ``t`` outside [0, 1] extrapolates."""
    d = (a[0] * b[0] + a[2] * b[2]) + (a[1] * b[1] + a[3] * b[3])  # Eigen's SIMD dot product
    abs_d = abs(d)
    if abs_d >= 1.0 - _EPSILON:
        scale0 = 1.0 - t
        scale1 = t
    else:
        theta = math.acos(abs_d)
        sin_theta = math.sin(theta)
        scale0 = math.sin((1.0 - t) * theta) / sin_theta
        scale1 = math.sin(t * theta) / sin_theta
    if d < 0.0:
        scale1 = -scale1
    return (
        scale0 * a[0] + scale1 * b[0],
        scale0 * a[1] + scale1 * b[1],
        scale0 * a[2] + scale1 * b[2],
        scale0 * a[3] + scale1 * b[3],
    )
