"""Poses over time: rotations, rigid transforms and the temporal pose tree (``holoscan.pose_tree``).

- :class:`SO2` and :class:`SO3` are rotations; :class:`Pose2` and :class:`Pose3` rigid
  transforms (rotation, then translation). ``a @ b`` composes, ``pose * point`` transforms a
  point, ``inverse()`` inverts.
- :class:`PoseTree` holds coordinate frames joined by edges whose poses change over time:
  ``set(a, b, t, pose)`` records ``a_T_b``, ``get(a, c, t)`` composes the chain between two
  frames at a time, reading each edge by a :class:`PoseTreeAccessMethod` (nearest, previous,
  interpolated, extrapolated). Changes are versioned; queries can look at an older version.
- :class:`PoseTreeManager` is a resource that owns a tree; registered as a fragment service it
  gives every operator of the fragment the same tree.
- ``PoseTreeUCXClient`` and ``PoseTreeUCXServer`` share trees between the processes of a
  distributed application in Holoscan; holoflow runs one process, and building them raises
  :class:`holoflow.errors.PoseTreeError`.

Names, signatures, defaults, error texts and printed forms follow Holoscan 4.6. Everything is
numpy and plain Python. :func:`interpolate` and :func:`slerp_interpolate` (the blends the tree
uses between samples) and ``Pose3.matrix()`` are holoflow additions. See ``docs/pose_tree.md``.
"""

from holoflow.pose_tree._access import PoseTreeAccessMethod
from holoflow.pose_tree._interpolation import interpolate, slerp_interpolate
from holoflow.pose_tree._manager import PoseTreeManager
from holoflow.pose_tree._pose2 import Pose2
from holoflow.pose_tree._pose3 import Pose3
from holoflow.pose_tree._so2 import SO2
from holoflow.pose_tree._so3 import SO3
from holoflow.pose_tree._tree import PoseTree
from holoflow.pose_tree._ucx import (
    PoseTreeUCXClient,
    PoseTreeUCXClientConfig,
    PoseTreeUCXServer,
    PoseTreeUCXServerConfig,
)

__all__ = [
    "SO2",
    "SO3",
    "Pose2",
    "Pose3",
    "PoseTree",
    "PoseTreeAccessMethod",
    "PoseTreeManager",
    "PoseTreeUCXClient",
    "PoseTreeUCXClientConfig",
    "PoseTreeUCXServer",
    "PoseTreeUCXServerConfig",
    "interpolate",
    "slerp_interpolate",
]
