"""``PoseTreeAccessMethod``: how a pose tree reads an edge between two of its samples."""

from __future__ import annotations

import enum

__all__ = ["PoseTreeAccessMethod"]


class PoseTreeAccessMethod(enum.Enum):
    """How ``PoseTree.get`` turns an edge's time-stamped poses into the pose at a query time
    (Holoscan's ``holoscan.pose_tree.PoseTreeAccessMethod``, with the same values).

    Between two samples:

    - ``NEAREST``: the closer sample (the earlier one on a tie);
    - ``INTERPOLATE_LINEARLY`` / ``EXTRAPOLATE_LINEARLY``: translation linearly, rotation by
      quaternion slerp;
    - ``INTERPOLATE_SLERP`` / ``EXTRAPOLATE_SLERP``: along the screw motion between the two
      poses (rotation and translation together);
    - ``PREVIOUS``: the earlier sample;
    - ``DEFAULT``: the edge's own method, set by ``create_edges`` (``INTERPOLATE_LINEARLY``
      unless given).

    After the latest sample (or the latest before a disconnection) the ``INTERPOLATE_*``,
    ``NEAREST`` and ``PREVIOUS`` methods keep that sample, while the ``EXTRAPOLATE_*`` methods
    continue the motion of the last two samples (and fail with a single one). Before the first
    sample no method gives a pose.
    """

    NEAREST = 0
    INTERPOLATE_LINEARLY = 1
    EXTRAPOLATE_LINEARLY = 2
    INTERPOLATE_SLERP = 3
    EXTRAPOLATE_SLERP = 4
    PREVIOUS = 5
    DEFAULT = 6

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value
