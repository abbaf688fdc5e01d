"""SO2 and SO3: constructors, accessors, composition and the printed forms of Holoscan 4.6.

Expected strings and numbers were read from Holoscan 4.6 running the same calls.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from holoflow.pose_tree import SO2, SO3


class TestSO2:
    def test_angle_cos_sin_and_wrapping(self):
        r = SO2.from_angle(0.3)
        assert r.cos() == pytest.approx(math.cos(0.3))
        assert r.sin() == pytest.approx(math.sin(0.3))
        assert SO2.from_angle(4.0).angle() == pytest.approx(4.0 - 2 * math.pi)
        assert SO2.from_angle(1).angle() == pytest.approx(1.0)  # ints are numbers
        assert SO2().angle() == 0.0 and SO2.identity().cos() == 1.0

    def test_direction_is_normalized_but_normalized_is_taken_as_given(self):
        assert SO2.from_direction(np.array([3.0, 4.0])).cos() == pytest.approx(0.6)
        assert SO2.from_direction([3.0, 4.0]).angle() == pytest.approx(math.atan2(4, 3))
        assert SO2.from_normalized(np.array([3.0, 4.0])).cos() == 3.0
        assert math.isnan(SO2.from_direction([0.0, 0.0]).cos())  # Holoscan divides by zero too

    def test_composition_inverse_and_matrix(self):
        a, b = SO2.from_angle(0.3), SO2.from_angle(0.5)
        assert (a @ b).angle() == pytest.approx(0.8)
        assert a.inverse().angle() == pytest.approx(-0.3)
        np.testing.assert_allclose(
            a.matrix(), [[math.cos(0.3), -math.sin(0.3)], [math.sin(0.3), math.cos(0.3)]]
        )

    def test_repr_is_holoscans(self):
        assert repr(SO2.identity()) == "SO2(angle=0)"
        assert repr(SO2.from_angle(0.3)) == "SO2(angle=0.3)"
        assert repr(SO2.from_angle(math.pi)) == "SO2(angle=3.14159)"
        assert str(SO2.from_angle(1e-7)) == "SO2(angle=1e-07)"

    def test_bad_arguments_raise_type_error(self):
        with pytest.raises(TypeError, match="angle must be a real number, not str"):
            SO2.from_angle("1")
        with pytest.raises(TypeError, match=r"direction must be 2 numbers .* got shape \(3,\)"):
            SO2.from_direction([1.0, 2.0, 3.0])
        with pytest.raises(TypeError, match="other must be a SO2"):
            SO2.identity() @ SO3.identity()
        with pytest.raises(TypeError):
            SO2.identity() * np.array([1.0, 0.0])  # Holoscan's SO2 does not rotate vectors


class TestSO3:
    def test_axis_angle_to_quaternion_xyzw(self):
        r = SO3.from_axis_angle(np.array([0.0, 0.0, 2.0]), 0.5)
        np.testing.assert_allclose(r.quaternion, [0, 0, math.sin(0.25), math.cos(0.25)])
        assert repr(r) == "SO3(quaternion=       0        0 0.247404 0.968912)"
        assert (
            repr(SO3.from_axis_angle([1, 1, 0], 1)) == "SO3(quaternion=0.339005 0.339005        0 0.877583)"
        )

    def test_repr_keeps_signed_zeros_and_widths(self):
        assert repr(SO3.identity()) == "SO3(quaternion=0 0 0 1)"
        assert repr(SO3.from_axis_angle([0.0, 0.0, -1.0], 0.0)) == "SO3(quaternion= 0  0 -0  1)"
        assert (
            repr(SO3.from_axis_angle([0.0, 0.0, 1.0], -2.0))
            == "SO3(quaternion=       -0        -0 -0.841471  0.540302)"
        )
        assert repr(SO3.from_axis_angle([0.0, 0.0, 1.0], 1e-8)) == "SO3(quaternion=    0     0 5e-09     1)"
        special = SO3.from_normalized_quaternion([math.inf, math.nan, -math.nan, 1.0])
        assert repr(special) == "SO3(quaternion= inf  nan -nan    1)"

    def test_quaternion_constructors(self):
        np.testing.assert_allclose(
            SO3.from_quaternion([1.0, 2.0, 3.0, 4.0]).quaternion, np.arange(1, 5) / math.sqrt(30)
        )
        np.testing.assert_array_equal(
            SO3.from_normalized_quaternion([0.0, 0.0, 0.0, 2.0]).quaternion, [0, 0, 0, 2]
        )
        np.testing.assert_array_equal(SO3.from_quaternion(np.zeros(4)).quaternion, np.zeros(4))
        np.testing.assert_array_equal(SO3.from_scaled_axis([0.0, 0.0, 0.0]).quaternion, [0, 0, 0, 1])
        scaled = SO3.from_scaled_axis([0.1, 0.2, 0.3])
        assert scaled.angle() == pytest.approx(math.sqrt(0.14))
        np.testing.assert_allclose(scaled.axis(), np.array([1, 2, 3]) / math.sqrt(14))

    def test_quaternion_property_is_a_fresh_array_and_assigning_normalizes(self):
        r = SO3.identity()
        q = r.quaternion
        q[0] = 5.0  # a copy: the rotation does not change
        np.testing.assert_array_equal(r.quaternion, [0, 0, 0, 1])
        r.quaternion = [0.0, 0.0, 3.0, 4.0]
        np.testing.assert_allclose(r.quaternion, [0, 0, 0.6, 0.8])

    def test_matrix_round_trip_and_degenerate_matrices(self):
        r = SO3.from_axis_angle(np.array([1.0, 2.0, 3.0]), 0.9)
        m = r.matrix()
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-15)
        np.testing.assert_allclose(SO3.from_matrix(m).quaternion, r.quaternion, atol=1e-15)
        np.testing.assert_allclose(SO3.from_matrix(np.diag([1.0, -1.0, -1.0])).quaternion, [1, 0, 0, 0])
        # a scaled matrix is not a rotation; like Holoscan, the quaternion is normalized all the same
        np.testing.assert_allclose(
            SO3.from_matrix(2 * m).quaternion, [0.132541, 0.265083, 0.397624, 0.868366], atol=1e-6
        )

    def test_axis_and_angle(self):
        axis = np.array([1.0, 2.0, 3.0]) / math.sqrt(14)
        assert SO3.from_axis_angle([1.0, 2.0, 3.0], 0.9).angle() == pytest.approx(0.9)
        assert SO3.from_axis_angle([1.0, 2.0, 3.0], -0.9).angle() == pytest.approx(0.9)
        np.testing.assert_allclose(SO3.from_axis_angle([1.0, 2.0, 3.0], -0.9).axis(), -axis)
        assert SO3.from_axis_angle([1.0, 2.0, 3.0], 5.0).angle() == pytest.approx(5.0)  # in [0, 2 pi]
        np.testing.assert_array_equal(SO3.identity().axis(), [0, 0, 0])

    def test_euler_angles_match_holoscan_and_rebuild_the_rotation(self):
        cases = {
            (1.0, 2.0, 3.0, 0.9): [0.054505, 0.523356, 0.72443],
            (1.0, 0.1, 0.0, 2.5): [-0.639209, 3.082007, 2.96198],
            (-1.0, 0.3, 0.2, 2.9): [0.350744, -2.856421, -2.507815],
            (0.0, 0.0, 1.0, 2.5): [0.0, 0.0, 2.5],
            (0.0, 1.0, 0.0, 2.0): [0.0, 2.0, 0.0],
        }
        for (x, y, z, angle), expected in cases.items():
            r = SO3.from_axis_angle([x, y, z], angle)
            rpy = r.euler_angles_rpy()
            np.testing.assert_allclose(rpy, expected, atol=1e-6)
            assert abs(rpy[0]) <= math.pi / 2
            rebuilt = (
                SO3.from_axis_angle([1.0, 0, 0], rpy[0])
                @ SO3.from_axis_angle([0, 1.0, 0], rpy[1])
                @ SO3.from_axis_angle([0, 0, 1.0], rpy[2])
            )
            np.testing.assert_allclose(rebuilt.matrix(), r.matrix(), atol=1e-12)

    def test_composition_inverse_and_so2(self):
        a = SO3.from_axis_angle([1.0, 2.0, 3.0], 0.9)
        b = SO3.from_axis_angle([0.0, 1.0, 0.0], 0.4)
        np.testing.assert_allclose((a @ b).matrix(), a.matrix() @ b.matrix(), atol=1e-15)
        assert repr(a.inverse()) == "SO3(quaternion=-0.116249 -0.232499 -0.348748  0.900447)"
        assert repr(a @ b) == "SO3(quaternion=0.0446466  0.406756  0.364892  0.836308)"
        assert (
            repr(SO3.from_so2_xy(SO2.from_angle(0.7)))
            == "SO3(quaternion=       0        0 0.342898 0.939373)"
        )

    def test_degenerate_axis_is_kept_as_holoscan_keeps_it(self):
        np.testing.assert_allclose(
            SO3.from_axis_angle([0.0, 0.0, 0.0], 1.2).quaternion, [0, 0, 0, math.cos(0.6)]
        )
        assert repr(SO3()) == "SO3(quaternion=0 0 0 1)"  # Holoscan leaves SO3() undefined

    def test_bad_arguments_raise_type_error(self):
        with pytest.raises(TypeError, match=r"axis must be 3 numbers .* got shape \(2,\)"):
            SO3.from_axis_angle(np.array([1.0, 1.0]), 1.2)
        with pytest.raises(TypeError, match="quaternion must be 4 numbers"):
            SO3.from_quaternion([1.0, 2.0, 3.0])
        with pytest.raises(TypeError, match="matrix must be a 3x3 matrix"):
            SO3.from_matrix(np.eye(4))
        with pytest.raises(TypeError, match="rotation must be an SO2"):
            SO3.from_so2_xy(SO3.identity())
        with pytest.raises(TypeError, match="must be 4 numbers"):
            SO3.identity().quaternion = "abcd"
        with pytest.raises(TypeError, match="other must be a SO3"):
            SO3.identity() @ np.eye(3)
