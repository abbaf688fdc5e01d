"""``PoseTree``: coordinate frames joined by edges that carry time-stamped poses.

The public face of the tree, with Holoscan's method names, defaults and error texts. It checks
and converts arguments (frames by name or by id, times, access methods, poses), takes the tree's
lock, and leaves the bookkeeping to ``TreeStore``.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import numpy as np

from holoflow.errors import PoseTreeError
from holoflow.pose_tree import _rigid as rigid
from holoflow.pose_tree._access import PoseTreeAccessMethod
from holoflow.pose_tree._args import as_real
from holoflow.pose_tree._pose2 import Pose2
from holoflow.pose_tree._pose3 import Pose3
from holoflow.pose_tree._rigid import RawPose
from holoflow.pose_tree._store import INVALID_ARGUMENT, OUT_OF_MEMORY, Capacity, TreeStore

__all__ = ["PoseTree"]

Frame = int | str
"""A frame, by id or by name."""

_LATEST = sys.float_info.max
_DEFAULT = PoseTreeAccessMethod.DEFAULT


def _count(value: Any, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"PoseTree: {what} must be an int, not {type(value).__name__}")
    return int(value)


def _method(value: Any, where: str) -> PoseTreeAccessMethod:
    if not isinstance(value, PoseTreeAccessMethod):
        raise TypeError(
            f"PoseTree.{where}: method must be a PoseTreeAccessMethod, not {type(value).__name__}"
        )
    return value


def _raw_pose(pose: Any, where: str) -> RawPose:
    if isinstance(pose, Pose3):
        return pose._raw()
    if isinstance(pose, Pose2):
        return Pose3.from_pose2_xy(pose)._raw()
    raise TypeError(f"PoseTree.{where}: pose must be a Pose3 or a Pose2, not {type(pose).__name__}")


def _check_limit(count: int, limit: int, what: str) -> None:
    """Holoscan fills a container reserved for ``limit`` items and fails if more are needed."""
    if count > limit:
        raise PoseTreeError(OUT_OF_MEMORY, f"the tree has {count} {what}, more than the {limit} asked for")


def _is_uid(value: Any) -> bool:
    return (
        isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and bool(value >= 0)
    )


class PoseTree:
    """A temporal pose tree (Holoscan's ``holoscan.pose_tree.PoseTree``).

    Frames have an id and a name; an edge between two frames holds their relative pose over
    time. ``set(a, b, t, pose)`` records ``a_T_b`` at time ``t`` (creating the edge if needed);
    ``get(a, c, t)`` composes the poses along the chain of edges joining ``a`` and ``c`` at that
    time, reading each edge with an access method (:class:`PoseTreeAccessMethod`). Frames may be
    given by id (``int``) or name (``str``), the same kind for both ends. At any time the edges
    form a forest (one path between two frames); ``disconnect_edge`` and ``delete_edge`` let a
    frame move to another parent.

    Every change to an edge returns a new version number (``get_pose_tree_version``); passing
    ``version=`` to :meth:`get` answers as the tree was at that version. ``init`` fixes the
    capacity; an uninitialized tree holds nothing. All methods are thread-safe.

    Every failure raises :class:`holoflow.errors.PoseTreeError` (a ``RuntimeError``, as Holoscan
    raises), whose message starts with Holoscan's text ("Frame not found", "Frames are not
    linked", ...); wrongly typed arguments raise ``TypeError``.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._store = TreeStore()

    def __repr__(self) -> str:
        with self._lock:
            store = self._store
            if store.capacity is None:
                return "<PoseTree (not initialized)>"
            return (
                f"<PoseTree {len(store.frame_uids())} frames, {store.edge_count()} edges, "
                f"version {store.version}>"
            )

    # -- set-up ---------------------------------------------------------------------------------
    def init(
        self,
        number_frames: int = 1024,
        number_edges: int = 16384,
        history_length: int = 1048576,
        default_number_edges: int = 16,
        default_history_length: int = 1024,
        edges_chunk_size: int = 4,
        history_chunk_size: int = 64,
    ) -> None:
        """Fix the capacity: at most ``number_frames`` frames and ``number_edges`` edges, and
        ``history_length`` poses over all edges. Edge slots (of frames) and pose slots (of edges)
        are handed out in chunks of ``edges_chunk_size`` and ``history_chunk_size``.
        ``default_history_length`` sizes the edges that ``set`` creates and
        ``default_number_edges`` the frames of ``create_frame_with_id``.

        Raises
        ------
        PoseTreeError
            "Invalid Argument" if a size is not positive; "Out of Memory" if the tree is
            initialized already.
        """
        sizes = {
            "number_frames": number_frames,
            "number_edges": number_edges,
            "history_length": history_length,
            "default_number_edges": default_number_edges,
            "default_history_length": default_history_length,
            "edges_chunk_size": edges_chunk_size,
            "history_chunk_size": history_chunk_size,
        }
        for name, value in sizes.items():
            if _count(value, name) <= 0:
                raise PoseTreeError(INVALID_ARGUMENT, f"init: {name} must be > 0, got {value}")
        with self._lock:
            self._store.init(Capacity(**{name: int(value) for name, value in sizes.items()}))

    def deinit(self) -> None:
        """Drop every frame and edge; the tree is uninitialized until ``init`` is called again."""
        with self._lock:
            self._store.deinit()

    def set_multithreading_info(self, start_id: int = 1, increment: int = 1) -> None:
        """Number new frames ``start_id``, ``start_id + increment``, ... so that trees filled in
        parallel give out distinct ids.

        Raises
        ------
        PoseTreeError
            "Invalid Argument" if ``start_id`` is 0 or ``increment`` is 0 or too large.
        """
        start, step = _count(start_id, "start_id"), _count(increment, "increment")
        if start < 0 or step < 0:
            raise TypeError("PoseTree.set_multithreading_info: start_id and increment must be >= 0")
        with self._lock:
            self._store.set_uid_sequence(start, step)

    def get_pose_tree_version(self) -> int:
        """The current version: 0 before ``init``, 1 after, one more for each change to an edge."""
        with self._lock:
            return self._store.version

    # -- frames ---------------------------------------------------------------------------------
    def create_frame(self, name: str = "", number_edges: int = 16) -> int:
        """Add a frame with room for ``number_edges`` edges; its id. Without a name the frame is
        called ``_frame_<id>``; user names cannot start with ``_``.

        Raises
        ------
        PoseTreeError
            "Edge already exists" if the name is taken (Holoscan's text), "Invalid Argument" for
            a name starting with ``_`` or longer than 127 bytes, "Out of Memory" when the tree is
            full or not initialized.
        """
        name = self._name(name, "create_frame")
        edges = _count(number_edges, "number_edges")
        with self._lock:
            return self._store.create_frame(name, edges)

    def create_frame_with_id(self, id: int, name: str = "") -> int:
        """Add a frame with the given id (and ``init``'s ``default_number_edges`` edge slots).

        Raises
        ------
        PoseTreeError
            As :meth:`create_frame`; "Edge already exists" if the id is taken.
        """
        if not _is_uid(id):
            raise TypeError(f"PoseTree.create_frame_with_id: id must be an int >= 0, not {id!r}")
        name = self._name(name, "create_frame_with_id")
        with self._lock:
            capacity = self._store.capacity
            edges = capacity.default_number_edges if capacity else 1
            return self._store.create_frame(name, edges, int(id))

    def find_frame(self, name: str) -> int:
        """The id of the frame called ``name``.

        Raises
        ------
        PoseTreeError
            "Frame not found".
        """
        name = self._name(name, "find_frame")
        with self._lock:
            return self._store.uid_of(name)

    def find_or_create_frame(self, name: str, number_edges: int = 16) -> int:
        """The id of the frame called ``name``, created (as :meth:`create_frame`) if missing."""
        name = self._name(name, "find_or_create_frame")
        edges = _count(number_edges, "number_edges")
        with self._lock:
            if self._store.has_name(name):
                return self._store.uid_of(name)
            return self._store.create_frame(name, edges)

    def get_frame_name(self, uid: int) -> str:
        """The name of frame ``uid``.

        Raises
        ------
        PoseTreeError
            "Frame not found".
        """
        with self._lock:
            return self._store.name_of(self._uid(uid, "get_frame_name"))

    def delete_frame(self, frame: Frame) -> int:
        """Remove a frame with all its edges and their histories (queries of earlier versions
        no longer see them either); the new version.

        Raises
        ------
        PoseTreeError
            "Frame not found".
        """
        with self._lock:
            return self._store.delete_frame(self._one(frame, "delete_frame"))

    def disconnect_frame(self, frame: Frame, time: float) -> int:
        """Disconnect every edge of a frame from ``time`` on (earlier poses stay readable); the
        new version.

        Raises
        ------
        PoseTreeError
            "Frame not found"; "Pose updated out of order" if an edge has a sample at or after
            ``time`` (the other edges are disconnected all the same).
        """
        t = as_real(time, "PoseTree.disconnect_frame: time")
        with self._lock:
            return self._store.disconnect_frame(self._one(frame, "disconnect_frame"), t)

    def get_frame_uids(self, maximum_number_frames: int = 1024) -> list[int]:
        """The ids of all frames, in creation order.

        Raises
        ------
        PoseTreeError
            "Out of Memory" if there are more than ``maximum_number_frames``.
        """
        limit = _count(maximum_number_frames, "maximum_number_frames")
        with self._lock:
            uids = self._store.frame_uids()
            _check_limit(len(uids), limit, "frames")
            return uids

    def get_frame_names(self, maximum_number_frames: int = 1024) -> list[str]:
        """The names of all frames, in creation order.

        Raises
        ------
        PoseTreeError
            "Out of Memory" if there are more than ``maximum_number_frames``.
        """
        limit = _count(maximum_number_frames, "maximum_number_frames")
        with self._lock:
            names = self._store.frame_names()
            _check_limit(len(names), limit, "frames")
            return names

    # -- edges ----------------------------------------------------------------------------------
    def create_edges(
        self, lhs: Frame, rhs: Frame, number_edges: int = 16, method: PoseTreeAccessMethod = _DEFAULT
    ) -> int:
        """Add the edge between two frames, keeping its last ``number_edges`` poses (rounded up
        to ``init``'s ``history_chunk_size``) and read with ``method`` by default; the new version.
        (``set`` creates missing edges itself, with ``init``'s ``default_history_length``.)

        Raises
        ------
        PoseTreeError
            "Frame not found"; "Edge already exists"; "Out of Memory" when a frame has no free
            edge slot or the tree no room; "Invalid Argument" for a length <= 0 or an edge from
            a frame to itself.
        """
        length = _count(number_edges, "number_edges")
        how = _method(method, "create_edges")
        with self._lock:
            a, b = self._pair(lhs, rhs, "create_edges")
            a, b = min(a, b), max(a, b)
            return self._store.create_edge(a, b, length, how)

    def delete_edge(self, lhs: Frame, rhs: Frame) -> int:
        """Remove an edge and its history (queries of earlier versions no longer see it); the new
        version.

        Raises
        ------
        PoseTreeError
            "Frame not found"; "Frames are not linked" if there is no such edge.
        """
        with self._lock:
            a, b = self._pair(lhs, rhs, "delete_edge")
            return self._store.delete_edge(min(a, b), max(a, b))

    def disconnect_edge(self, lhs: Frame, rhs: Frame, time: float) -> int:
        """Mark an edge absent from ``time`` on (earlier poses stay readable; a later ``set``
        connects it again); the new version.

        Raises
        ------
        PoseTreeError
            "Frame not found"; "Frames are not linked" if there is no such edge; "Pose updated
            out of order" if it has a sample at or after ``time``.
        """
        t = as_real(time, "PoseTree.disconnect_edge: time")
        with self._lock:
            a, b = self._pair(lhs, rhs, "disconnect_edge")
            return self._store.disconnect_edge(min(a, b), max(a, b), t)

    def get_edge_uids(self, maximum_number_edges: int = 1024) -> list[tuple[int, int]]:
        """The connected edges (latest sample a pose) as ``(lower id, higher id)``, in creation
        order.

        Raises
        ------
        PoseTreeError
            "Out of Memory" if the tree has more than ``maximum_number_edges`` edges.
        """
        limit = _count(maximum_number_edges, "maximum_number_edges")
        with self._lock:
            _check_limit(self._store.edge_count(), limit, "edges")
            return self._store.connected_edges()

    def get_edge_names(self, maximum_number_edges: int = 1024) -> list[tuple[str, str]]:
        """The connected edges as pairs of frame names (see :meth:`get_edge_uids`).

        Raises
        ------
        PoseTreeError
            "Out of Memory" if the tree has more than ``maximum_number_edges`` edges.
        """
        limit = _count(maximum_number_edges, "maximum_number_edges")
        with self._lock:
            _check_limit(self._store.edge_count(), limit, "edges")
            name = self._store.name_of
            return [(name(a), name(b)) for a, b in self._store.connected_edges()]

    # -- poses ----------------------------------------------------------------------------------
    def set(self, lhs: Frame, rhs: Frame, time: float, pose: Pose3 | Pose2) -> int:
        """Record ``lhs_T_rhs`` (a ``Pose3``, or a ``Pose2`` in the x-y plane) at ``time``; the new
        version. Poses of an edge must come in increasing time; the edge is created if missing.

        Raises
        ------
        PoseTreeError
            "Frame not found"; "Invalid Argument" for a non-finite translation or a rotation
            that is not a unit quaternion; "Cycling dependency" if the edge is not connected and
            the frames are joined through other edges; "Pose updated out of order" if the edge
            has a sample at or after ``time``; "Out of Memory" if a new edge does not fit.
        """
        raw = _raw_pose(pose, "set")
        t = as_real(time, "PoseTree.set: time")
        with self._lock:
            a, b = self._pair(lhs, rhs, "set")
            if a > b:
                a, b, raw = b, a, rigid.inverse(raw)
            return self._store.set(a, b, t, raw)

    def get(
        self,
        lhs: Frame,
        rhs: Frame,
        time: float = _LATEST,
        method: PoseTreeAccessMethod = _DEFAULT,
        version: int = 0,
    ) -> Pose3:
        """``lhs_T_rhs`` at ``time`` (default: the latest), composed along the chain of edges that
        joins the two frames then; each edge is read with ``method`` (``DEFAULT``: the edge's
        own). ``version`` (0: the current one) answers as the tree was at that version.

        Raises
        ------
        PoseTreeError
            "Frame not found"; "Frames are not linked" if no chain of edges joins them at that
            time and version.
        """
        return Pose3._from_raw(self._get(lhs, rhs, time, method, version, "get"))

    def get_pose2_xy(
        self,
        lhs: Frame,
        rhs: Frame,
        time: float = _LATEST,
        method: PoseTreeAccessMethod = _DEFAULT,
        version: int = 0,
    ) -> Pose2:
        """:meth:`get`, projected on the x-y plane (``Pose3.to_pose2_xy``)."""
        return Pose3._from_raw(self._get(lhs, rhs, time, method, version, "get_pose2_xy")).to_pose2_xy()

    def get_latest(self, lhs: Frame, rhs: Frame) -> tuple[Pose3, float]:
        """The latest sample of the edge between two frames, and its time. After a
        disconnection this is the disconnection's time, with the pose its slot last held.

        Raises
        ------
        PoseTreeError
            "Frame not found"; "Frames are not linked" if there is no such edge; "Invalid
            Argument" if no pose was ever set on it.
        """
        with self._lock:
            a, b = self._pair(lhs, rhs, "get_latest")
            if a > b:
                pose, time = self._store.latest(b, a)
                return Pose3._from_raw(rigid.inverse(pose)), time
            pose, time = self._store.latest(a, b)
            return Pose3._from_raw(pose), time

    # -- helpers --------------------------------------------------------------------------------
    def _get(self, lhs: Frame, rhs: Frame, time: Any, method: Any, version: Any, where: str) -> RawPose:
        t = as_real(time, f"PoseTree.{where}: time")
        how = _method(method, where)
        v = _count(version, "version")
        if v < 0:
            raise TypeError(f"PoseTree.{where}: version must be >= 0, got {v}")
        with self._lock:
            a, b = self._pair(lhs, rhs, where)
            return self._store.get(a, b, t, how, v or self._store.version)

    @staticmethod
    def _name(name: Any, where: str) -> str:
        if not isinstance(name, str):
            raise TypeError(f"PoseTree.{where}: name must be a str, not {type(name).__name__}")
        return name

    @staticmethod
    def _uid(uid: Any, where: str) -> int:
        if not _is_uid(uid):
            raise TypeError(f"PoseTree.{where}: a frame id must be an int >= 0, not {uid!r}")
        return int(uid)

    def _one(self, frame: Any, where: str) -> int:
        """A frame given by name or id, as an id (an unknown name raises "Frame not found")."""
        if isinstance(frame, str):
            return self._store.uid_of(frame)
        return self._uid(frame, where)

    def _pair(self, lhs: Any, rhs: Any, where: str) -> tuple[int, int]:
        """Two frames given both by name or both by id, as ids (unknown names raise)."""
        if isinstance(lhs, str) and isinstance(rhs, str):
            return self._store.uid_of(lhs), self._store.uid_of(rhs)
        if _is_uid(lhs) and _is_uid(rhs):
            return int(lhs), int(rhs)
        raise TypeError(
            f"PoseTree.{where}: lhs and rhs must both be frame names (str) or both frame ids "
            f"(int >= 0), not {lhs!r} and {rhs!r}"
        )
