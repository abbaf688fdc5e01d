"""Invariants of the pose types and the pose tree, over generated rotations, poses and trees."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.errors import PoseTreeError
from holoflow.pose_tree import (
    SO2,
    SO3,
    Pose2,
    Pose3,
    PoseTree,
    PoseTreeAccessMethod,
    interpolate,
    slerp_interpolate,
)

finite = st.floats(-10.0, 10.0, allow_nan=False)
angles = st.floats(-3.0, 3.0, allow_nan=False)
fractions = st.floats(0.0, 1.0)


@st.composite
def rotations(draw) -> SO3:
    """Uniform-ish rotations: a normalized 4-vector kept away from zero."""
    q = np.array([draw(st.floats(-1.0, 1.0)) for _ in range(4)])
    if np.linalg.norm(q) < 0.1:
        q = np.array([0.0, 0.0, 0.0, 1.0])
    return SO3.from_quaternion(q)


@st.composite
def poses(draw) -> Pose3:
    return Pose3(draw(rotations()), [draw(finite) for _ in range(3)])


@st.composite
def poses2(draw) -> Pose2:
    return Pose2.from_xy_a(draw(finite), draw(finite), draw(angles))


def same_rotation(a: SO3, b: SO3, tol: float = 1e-9) -> bool:
    """q and -q are the same rotation."""
    return abs(abs(float(np.dot(a.quaternion, b.quaternion))) - 1.0) < tol


def assert_same_pose(a: Pose3, b: Pose3, tol: float = 1e-9) -> None:
    np.testing.assert_allclose(a.matrix(), b.matrix(), atol=tol)


@given(rotations(), rotations(), rotations())
def test_so3_is_a_group(a, b, c):
    assert same_rotation(a @ a.inverse(), SO3.identity())
    assert same_rotation((a @ b) @ c, a @ (b @ c))
    assert same_rotation((a @ b).inverse(), b.inverse() @ a.inverse())
    m = a.matrix()
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
    assert abs(np.linalg.det(m) - 1.0) < 1e-12
    np.testing.assert_allclose((a @ b).matrix(), a.matrix() @ b.matrix(), atol=1e-12)


@given(rotations())
def test_so3_representations_round_trip(r):
    assert same_rotation(SO3.from_matrix(r.matrix()), r)
    if r.angle() > 1e-6:
        assert same_rotation(SO3.from_axis_angle(r.axis(), r.angle()), r)
        assert same_rotation(SO3.from_scaled_axis(r.axis() * r.angle()), r)
    roll, pitch, yaw = r.euler_angles_rpy()
    assert abs(roll) <= math.pi / 2 + 1e-12
    rebuilt = SO3.from_axis_angle([1.0, 0, 0], roll) @ SO3.from_axis_angle([0, 1.0, 0], pitch)
    rebuilt = rebuilt @ SO3.from_axis_angle([0, 0, 1.0], yaw)
    np.testing.assert_allclose(rebuilt.matrix(), r.matrix(), atol=1e-9)


@given(angles, angles)
def test_so2_angles_add(a, b):
    composed = SO2.from_angle(a) @ SO2.from_angle(b)
    assert math.isclose(math.remainder(composed.angle() - (a + b), 2 * math.pi), 0.0, abs_tol=1e-12)
    assert math.isclose((SO2.from_angle(a) @ SO2.from_angle(a).inverse()).angle(), 0.0, abs_tol=1e-15)


@given(poses(), poses(), poses(), st.lists(finite, min_size=3, max_size=3))
def test_pose3_composes_like_its_matrices(p, q, r, point):
    assert_same_pose(p @ p.inverse(), Pose3.identity())
    assert_same_pose((p @ q) @ r, p @ (q @ r))
    assert_same_pose((p @ q).inverse(), q.inverse() @ p.inverse())
    np.testing.assert_allclose((p @ q) * point, p * (q * point), atol=1e-9)
    np.testing.assert_allclose(p * point, (p.matrix() @ [*point, 1.0])[:3], atol=1e-9)
    assert_same_pose(Pose3.from_matrix(p.matrix()), p)


@given(poses2(), poses2(), st.lists(finite, min_size=2, max_size=2))
def test_pose2_composes_like_its_matrices_and_lifts_to_3d(p, q, point):
    np.testing.assert_allclose((p @ q).matrix(), p.matrix() @ q.matrix(), atol=1e-9)
    np.testing.assert_allclose((p @ p.inverse()).matrix(), np.eye(3), atol=1e-9)
    np.testing.assert_allclose(p * point, (p.matrix() @ [*point, 1.0])[:2], atol=1e-9)
    back = Pose3.from_pose2_xy(p).to_pose2_xy()
    np.testing.assert_allclose(back.matrix(), p.matrix(), atol=1e-9)
    assert_same_pose(Pose3.from_pose2_xy(p @ q), Pose3.from_pose2_xy(p) @ Pose3.from_pose2_xy(q))


@given(poses(), poses(), fractions)
def test_interpolation_meets_its_ends_and_is_symmetric(a, b, p):
    assert_same_pose(interpolate(0.0, a, b), a)
    assert_same_pose(interpolate(1.0, a, b), b)
    assert_same_pose(interpolate(p, a, b), interpolate(1.0 - p, b, a), tol=1e-7)
    assert_same_pose(slerp_interpolate(0.0, a, b), a, tol=1e-7)
    assert_same_pose(slerp_interpolate(1.0, a, b), b, tol=1e-7)


@given(poses2(), poses2(), fractions)
def test_planar_interpolation_meets_its_ends(a, b, p):
    np.testing.assert_allclose(interpolate(0.0, a, b).matrix(), a.matrix(), atol=1e-9)
    np.testing.assert_allclose(interpolate(1.0, a, b).matrix(), b.matrix(), atol=1e-9)
    np.testing.assert_allclose(slerp_interpolate(1.0, a, b).matrix(), b.matrix(), atol=1e-7)
    turn = interpolate(p, a.rotation, b.rotation).angle()
    # along the shorter arc: never further from a than the whole way
    gap = abs(math.remainder(b.angle - a.angle, 2 * math.pi))
    assert abs(math.remainder(turn - a.angle, 2 * math.pi)) <= gap + 1e-9


@st.composite
def random_trees(draw):
    """A tree of 2 to 8 frames (each under a random earlier one) with poses at times 0 and 1."""
    size = draw(st.integers(2, 8))
    parents = [draw(st.integers(0, k - 1)) for k in range(1, size)]
    edges = [(parent, child + 1, draw(poses()), draw(poses())) for child, parent in enumerate(parents)]
    return size, edges


def build(size: int, edges) -> tuple[PoseTree, list[int]]:
    tree = PoseTree()
    tree.init()
    frames = [tree.create_frame(f"f{k}") for k in range(size)]
    for parent, child, first, second in edges:
        tree.set(frames[parent], frames[child], 0.0, first)
        tree.set(frames[child], frames[parent], 1.0, second.inverse())
    return tree, frames


@settings(max_examples=60, deadline=None)
@given(random_trees(), st.data())
def test_paths_through_a_tree_are_consistent(tree_spec, data):
    tree, frames = build(*tree_spec)
    x, y, z = (frames[data.draw(st.integers(0, len(frames) - 1))] for _ in range(3))
    for time in (0.0, 0.25, 1.0, 7.0):
        xy, yz, xz = tree.get(x, y, time), tree.get(y, z, time), tree.get(x, z, time)
        assert_same_pose(xz, xy @ yz, tol=1e-8)
        assert_same_pose(tree.get(y, x, time), xy.inverse(), tol=1e-8)
    # at a sample's time every method reads that sample
    parent, child, first, second = tree_spec[1][0]
    for method in PoseTreeAccessMethod:
        assert_same_pose(tree.get(frames[parent], frames[child], 0.0, method), first)
        assert_same_pose(tree.get(frames[parent], frames[child], 1.0, method), second, tol=1e-9)


@settings(max_examples=40, deadline=None)
@given(random_trees(), st.lists(st.tuples(st.integers(0, 6), poses()), min_size=1, max_size=12), st.data())
def test_old_versions_answer_as_the_tree_did_then(tree_spec, updates, data):
    tree, frames = build(*tree_spec)
    edges = tree_spec[1]
    x, y = (frames[data.draw(st.integers(0, len(frames) - 1))] for _ in range(2))
    seen = []
    for step, (index, pose) in enumerate(updates):
        parent, child = edges[index % len(edges)][:2]
        tree.set(frames[parent], frames[child], 2.0 + step, pose)
        version = tree.get_pose_tree_version()
        seen.extend((version, t, tree.get(x, y, t).matrix()) for t in (0.5, 1.5 + step, 9.0))
    for version, t, expected in seen:
        np.testing.assert_array_equal(tree.get(x, y, t, version=version).matrix(), expected)


@settings(max_examples=40, deadline=None)
@given(random_trees(), st.data())
def test_no_edge_may_close_a_loop(tree_spec, data):
    tree, frames = build(*tree_spec)
    a, b = (frames[data.draw(st.integers(0, len(frames) - 1))] for _ in range(2))
    existing = {(min(p, c), max(p, c)) for p, c, _, _ in tree_spec[1]}
    if a == b or (min(a, b) - 1, max(a, b) - 1) in existing:
        return
    version = tree.get_pose_tree_version()
    with pytest.raises(PoseTreeError) as info:  # every two frames of a tree are joined
        tree.set(a, b, 0.5, Pose3.identity())
    assert info.value.reason == "Cycling dependency"
    assert tree.get_pose_tree_version() == version + 1  # the edge was created before the check
