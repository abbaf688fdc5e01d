"""One edge's history: time-stamped poses in a ring of fixed capacity, and reads between them.

Each sample has a time and a tree version, both strictly increasing along the ring, and is
either a pose or a disconnection (the edge is absent from that time on, until the next pose).
When the ring is full a new sample replaces the oldest. A read at ``(time, version)`` ignores the
samples of later versions, finds the last sample at or before ``time`` and applies the access
method with the sample after it, as Holoscan's ``PoseTreeEdgeHistory`` does.
"""

from __future__ import annotations

from holoflow.pose_tree import _rigid as rigid
from holoflow.pose_tree._access import PoseTreeAccessMethod
from holoflow.pose_tree._rigid import RawPose

__all__ = ["EdgeHistory"]

_M = PoseTreeAccessMethod
_HOLD = (_M.NEAREST, _M.PREVIOUS, _M.INTERPOLATE_LINEARLY, _M.INTERPOLATE_SLERP)
"""Methods that keep the last sample after the end of the history."""


class EdgeHistory:
    """The samples of the edge ``lhs``-``rhs`` (``lhs < rhs``); poses are ``lhs_T_rhs``.

    Parameters
    ----------
    lhs, rhs : int
        The frames, ``lhs < rhs``.
    capacity : int
        Samples kept (> 0).
    method : PoseTreeAccessMethod
        What ``DEFAULT`` reads with (``DEFAULT`` itself means ``INTERPOLATE_LINEARLY``).
    block : int
        The allocator handle of the edge's share of the tree's pose storage.
    """

    __slots__ = (
        "_poses",
        "_size",
        "_start",
        "_times",
        "_valid",
        "_versions",
        "block",
        "capacity",
        "lhs",
        "method",
        "rhs",
    )

    def __init__(self, lhs: int, rhs: int, capacity: int, method: PoseTreeAccessMethod, block: int) -> None:
        self.lhs = lhs
        self.rhs = rhs
        self.capacity = capacity
        self.method = _M.INTERPOLATE_LINEARLY if method is _M.DEFAULT else method
        self.block = block
        self._times: list[float] = []
        self._versions: list[int] = []
        self._valid: list[bool] = []
        self._poses: list[RawPose] = []
        self._start = 0
        self._size = 0

    def _slot(self, index: int) -> int:
        return (self._start + index) % self.capacity

    def last_time(self) -> float | None:
        """The time of the latest sample, or ``None`` if there is none."""
        return self._times[self._slot(self._size - 1)] if self._size else None

    def add(self, time: float, version: int, pose: RawPose | None) -> bool:
        """Append a pose (or, with ``pose=None``, a disconnection) at ``time`` and ``version``.

        Returns ``False``, changing nothing, if the latest sample is not older in both time
        and version. A disconnection keeps whatever pose its slot held (Holoscan reports that
        pose from ``get_latest``).
        """
        if self._size:
            last = self._slot(self._size - 1)
            if self._times[last] >= time or self._versions[last] >= version:
                return False
        if self._size < self.capacity:
            self._size += 1
            self._times.append(time)
            self._versions.append(version)
            self._valid.append(pose is not None)
            self._poses.append(rigid.IDENTITY_POSE if pose is None else pose)
            return True
        slot = self._start
        self._start = (self._start + 1) % self.capacity
        self._times[slot] = time
        self._versions[slot] = version
        self._valid[slot] = pose is not None
        if pose is not None:
            self._poses[slot] = pose
        return True

    def connected(self) -> bool:
        """Whether the latest sample is a pose (not a disconnection)."""
        return self._size > 0 and self._valid[self._slot(self._size - 1)]

    def latest(self) -> tuple[RawPose, float] | None:
        """The latest sample's pose and time, or ``None`` if there is none."""
        if not self._size:
            return None
        slot = self._slot(self._size - 1)
        return self._poses[slot], self._times[slot]

    def get(self, time: float, method: PoseTreeAccessMethod, version: int) -> RawPose | None:
        """The pose at ``time`` seen at tree ``version``, or ``None`` where the edge is absent
        (before its first sample, after a disconnection, or extrapolating from one pose)."""
        size, start, capacity = self._size, self._start, self.capacity
        times, versions, valid, poses = self._times, self._versions, self._valid, self._poses
        if not size or versions[start] > version or times[start] > time:
            return None
        lo, hi = 0, size  # samples [0, lo] are at or before (time, version)
        while lo + 1 < hi:
            mid = (lo + hi) // 2
            slot = (start + mid) % capacity
            if times[slot] > time or versions[slot] > version:
                hi = mid
            else:
                lo = mid
        here = (start + lo) % capacity
        if not valid[here]:
            return None
        if method is _M.DEFAULT:
            method = self.method
        after = (here + 1) % capacity
        if lo + 1 == size or versions[after] > version or not valid[after]:
            if method in _HOLD:
                return poses[here]
            if lo == 0:
                return None
            before = (here - 1) % capacity
            if not valid[before]:
                return None
            ratio = (time - times[before]) / (times[here] - times[before])
            return self._blend(method, ratio, poses[before], poses[here])
        if method is _M.PREVIOUS:
            return poses[here]
        if method is _M.NEAREST:
            return poses[after] if times[after] - time < time - times[here] else poses[here]
        ratio = (time - times[here]) / (times[after] - times[here])
        return self._blend(method, ratio, poses[here], poses[after])

    @staticmethod
    def _blend(method: PoseTreeAccessMethod, ratio: float, a: RawPose, b: RawPose) -> RawPose:
        if method in (_M.INTERPOLATE_SLERP, _M.EXTRAPOLATE_SLERP):
            return rigid.slerp_interpolate(ratio, a, b)
        return rigid.interpolate(ratio, a, b)
