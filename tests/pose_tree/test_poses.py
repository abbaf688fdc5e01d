"""Pose2 and Pose3: rigid transforms, their attributes' aliasing and Holoscan 4.6's printed forms.

Expected strings were read from Holoscan 4.6 running the same calls.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from holoflow.pose_tree import SO2, SO3, Pose2, Pose3


class TestPose2:
    def test_constructors(self):
        assert repr(Pose2()) == "Pose2d(translation=0 0, rotation=0)"
        assert repr(Pose2(SO2.from_angle(0.5), [1.0, 2.0])) == "Pose2d(translation=1 2, rotation=0.5)"
        assert repr(Pose2(rotation=SO2.from_angle(0.5), translation=np.array([1, 2]))) == (
            "Pose2d(translation=1 2, rotation=0.5)"
        )
        assert repr(Pose2.from_translation([1.0, 2.0])) == "Pose2d(translation=1 2, rotation=0)"
        assert repr(Pose2.from_rotation(0.4)) == "Pose2d(translation=0 0, rotation=0.4)"
        p = Pose2.from_xy_a(1.0, 2.0, 0.4)
        assert p.angle == pytest.approx(0.4) and p.rotation.angle() == pytest.approx(0.4)
        np.testing.assert_array_equal(p.translation, [1.0, 2.0])
        assert repr(Pose2.from_matrix(p.matrix())) == "Pose2d(translation=1 2, rotation=0.4)"

    def test_inverse_composition_and_points(self):
        p = Pose2.from_xy_a(1.0, 2.0, 0.4)
        q = Pose2.from_xy_a(-1.0, 0.5, 1.4)
        assert repr(p.inverse()) == "Pose2d(translation=-1.6999 -1.4527, rotation=-0.4)"
        assert repr(p @ q) == "Pose2d(translation=-0.11577  2.07111, rotation=1.8)"
        np.testing.assert_allclose(p * np.array([1.0, 1.0]), [1.531643, 3.310479], atol=1e-6)
        np.testing.assert_allclose((p @ q).matrix(), p.matrix() @ q.matrix(), atol=1e-15)
        np.testing.assert_allclose(p * [0.3, -0.2], (p.matrix() @ [0.3, -0.2, 1.0])[:2])

    def test_translation_is_a_read_only_view_that_follows_assignment(self):
        p = Pose2.identity()
        view = p.translation
        with pytest.raises(ValueError, match="read-only"):
            view[0] = 9.0
        p.translation = [5.0, 6.0]
        np.testing.assert_array_equal(view, [5.0, 6.0])  # as in Holoscan: a view of the pose

    def test_rotation_and_angle_assignment(self):
        p = Pose2.identity()
        rotation = p.rotation
        p.rotation = SO2.from_angle(1.0)
        assert rotation.angle() == pytest.approx(1.0)  # the pose's own SO2, as in Holoscan
        p.angle = 0.25
        assert p.rotation.angle() == pytest.approx(0.25)

    def test_bad_arguments(self):
        with pytest.raises(TypeError, match="both rotation and translation"):
            Pose2(SO2.identity())
        with pytest.raises(TypeError, match=r"point must be 2 numbers .* got shape \(3, 2\)"):
            Pose2.identity() * np.ones((3, 2))
        with pytest.raises(TypeError, match="rotation must be an SO2"):
            Pose2.identity().rotation = SO3.identity()
        with pytest.raises(TypeError, match="other must be a Pose2"):
            Pose2.identity() @ Pose3.identity()


class TestPose3:
    P = Pose3(SO3.from_axis_angle(np.array([1.0, 2.0, 3.0]), 0.9), np.array([1.0, -2.0, 0.5]))

    def test_repr_is_holoscans(self):
        assert repr(Pose3()) == "Pose3d(translation=0 0 0, rotation=[1, 0, 0;\n 0, 1, 0;\n 0, 0, 1])"
        assert repr(Pose3(SO3.from_axis_angle([0.0, 0.0, 1.0], 0.5), [1.0, 2.0, 3.0])) == (
            "Pose3d(translation=1 2 3, rotation=[ 0.8776, -0.4794,       0;\n"
            "  0.4794,  0.8776,       0;\n"
            "       0,       0,       1])"
        )
        assert str(self.P) == (
            "Pose3d(translation=  1  -2 0.5, rotation=[  0.6486,   -0.574,   0.4998;\n"
            "   0.6821,   0.7297, -0.04719;\n"
            "  -0.3376,   0.3715,   0.8649])"
        )
        assert repr(Pose3.from_translation([123456.789, -0.000012345, 1e10])).startswith(
            "Pose3d(translation=     123457 -1.2345e-05       1e+10, "
        )
        assert repr(Pose3.from_translation([-0.0, 0.0, 1.0])).startswith("Pose3d(translation=-0  0  1, ")

    def test_inverse_composition_and_points(self):
        p = self.P
        assert repr(p.inverse()).startswith("Pose3d(translation=0.884402  1.84769 -1.02659, ")
        assert repr(p @ p).startswith("Pose3d(translation=  3.04654  -2.80092 -0.148232, ")
        np.testing.assert_allclose(p * np.array([1.0, 1.0, 1.0]), [1.574424, -0.63535, 1.398759], atol=1e-6)
        np.testing.assert_allclose((p @ p.inverse()).matrix(), np.eye(4), atol=1e-15)
        np.testing.assert_allclose(p * [0.3, -0.2, 2.0], (p.matrix() @ [0.3, -0.2, 2.0, 1.0])[:3], atol=1e-15)

    def test_constructors_and_planar_projection(self):
        np.testing.assert_array_equal(
            Pose3.from_translation(np.array([1.0, 2.0, 3.0]).reshape(3, 1)).translation, [1, 2, 3]
        )
        r = Pose3.from_rotation([0.0, 1.0, 0.0], 0.3)
        np.testing.assert_allclose(r.rotation.quaternion, [0, math.sin(0.15), 0, math.cos(0.15)])
        assert repr(self.P.to_pose2_xy()) == "Pose2d(translation= 1 -2, rotation=0.739031)"
        lifted = Pose3.from_pose2_xy(Pose2.from_xy_a(1.0, 2.0, 0.4))
        np.testing.assert_array_equal(lifted.translation, [1, 2, 0])
        np.testing.assert_allclose(lifted.rotation.quaternion, [0, 0, math.sin(0.2), math.cos(0.2)])

    def test_from_matrix_takes_the_rotation_as_given_and_matrix_is_an_addition(self):
        m = self.P.matrix()
        np.testing.assert_allclose(Pose3.from_matrix(m).matrix(), m, atol=1e-15)
        skewed = np.eye(4)
        skewed[:3, :3] *= 4.0
        # Eigen's conversion of 4 * I gives w = sqrt(13) / 2, which Holoscan keeps (not normalized)
        np.testing.assert_allclose(
            Pose3.from_matrix(skewed).rotation.quaternion, [0, 0, 0, math.sqrt(13) / 2]
        )

    def test_attributes_alias_like_holoscans_and_the_constructor_copies(self):
        rotation = SO3.from_axis_angle([1.0, 0.0, 0.0], 1.0)
        p = Pose3(rotation, [1.0, 2.0, 3.0])
        rotation.quaternion = [0.0, 0.0, 0.0, 1.0]
        assert p.rotation.angle() == pytest.approx(1.0)  # the pose kept its own copy
        held, view = p.rotation, p.translation
        p.rotation = SO3.identity()
        p.translation = [7.0, 8.0, 9.0]
        assert held.angle() == 0.0
        np.testing.assert_array_equal(view, [7, 8, 9])
        assert not view.flags.writeable

    def test_copies_are_independent(self):
        p = Pose3.from_translation([1.0, 2.0, 3.0])
        for other in (copy.copy(p), copy.deepcopy(p)):
            other.translation = [0.0, 0.0, 0.0]
            other.rotation = SO3.from_axis_angle([0.0, 0.0, 1.0], 1.0)
            np.testing.assert_array_equal(p.translation, [1, 2, 3])
            assert p.rotation.angle() == 0.0

    def test_bad_arguments(self):
        with pytest.raises(TypeError, match=r"translation must be 3 numbers .* got shape \(2,\)"):
            Pose3(SO3.identity(), [1.0, 2.0])
        with pytest.raises(TypeError, match=r"got shape \(1, 3\)"):
            Pose3.from_translation(np.ones((1, 3)))
        with pytest.raises(TypeError, match="point must be 3 numbers"):
            self.P * self.P
        with pytest.raises(TypeError, match="other must be a Pose3"):
            self.P @ np.ones(3)
        with pytest.raises(TypeError, match="matrix must be a 4x4 matrix"):
            Pose3.from_matrix(np.eye(3))
        with pytest.raises(TypeError, match="pose must be a Pose2"):
            Pose3.from_pose2_xy(self.P)
