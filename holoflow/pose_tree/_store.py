"""The pose tree's state: frames, edges with their histories, capacity and versions.

``TreeStore`` does the work of :class:`~holoflow.pose_tree.PoseTree` on frame ids and raw poses;
``PoseTree`` checks arguments, resolves names and holds the lock. The rules follow Holoscan's
``PoseTree``:

- every change that touches an edge (creating, setting, disconnecting, deleting) takes the next
  version number; creating a frame does not;
- the edges connected *now* (whose latest sample is a pose) form a forest: setting a pose on an
  edge that is not connected fails with "Cycling dependency" if its frames are already joined,
  now or at the pose's time;
- a query at ``(time, version)`` walks a chain of edges that have a pose there. Each tree of the
  forest has a root frame, and every frame knows its parent towards the root and its depth; a
  query first climbs from both frames to their common ancestor, and only if that fails (the
  frames are not joined now, or an edge on the way has no pose at the query's time and version)
  searches all edges. The root is the frame Holoscan re-roots at after each change (the lower id
  of a newly joined edge, the side cut off by a disconnection), which fixes the order in which
  poses are multiplied, so results agree with Holoscan's to the last bit;
- capacity is fixed by ``init``: frames, each frame's edge slots and each edge's ring of poses,
  the last two handed out first fit in chunks (see ``_allocator``).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from holoflow.errors import PoseTreeError
from holoflow.pose_tree import _rigid as rigid
from holoflow.pose_tree._access import PoseTreeAccessMethod
from holoflow.pose_tree._allocator import ChunkAllocator
from holoflow.pose_tree._history import EdgeHistory
from holoflow.pose_tree._rigid import RawPose

__all__ = [
    "ALREADY_EXISTS",
    "CYCLING_DEPENDENCY",
    "FRAMES_NOT_LINKED",
    "FRAME_NOT_FOUND",
    "INVALID_ARGUMENT",
    "LOGIC_ERROR",
    "MAX_NAME_BYTES",
    "OUT_OF_MEMORY",
    "POSE_OUT_OF_ORDER",
    "Capacity",
    "TreeStore",
]

# Holoscan's error texts (PoseTree::error_to_str), which start every PoseTreeError message.
INVALID_ARGUMENT = "Invalid Argument"
OUT_OF_MEMORY = "Out of Memory"
FRAME_NOT_FOUND = "Frame not found"
ALREADY_EXISTS = "Edge already exists"
CYCLING_DEPENDENCY = "Cycling dependency"
FRAMES_NOT_LINKED = "Frames are not linked"
POSE_OUT_OF_ORDER = "Pose updated out of order"
LOGIC_ERROR = "Logic Error"

MAX_NAME_BYTES = 127
_UINT64_MAX = 2**64 - 1
_AUTO_NAME_PREFIX = "_frame_"


@dataclass(frozen=True, slots=True)
class Capacity:
    """What ``PoseTree.init`` fixed."""

    number_frames: int
    number_edges: int
    history_length: int
    default_number_edges: int
    default_history_length: int
    edges_chunk_size: int
    history_chunk_size: int


class _Frame:
    __slots__ = ("block", "depth", "edge_slots", "edges", "name", "root", "uid", "up")

    def __init__(self, uid: int, name: str, block: int, edge_slots: int) -> None:
        self.uid = uid
        self.name = name
        self.block = block
        self.edge_slots = edge_slots
        self.edges: list[EdgeHistory] = []
        self.root = uid
        """The root of the frame's tree among the edges connected now."""
        self.up = uid
        """The next frame towards the root (itself at the root)."""
        self.depth = 0
        """Edges between the frame and the root."""


class TreeStore:
    """Frames and edges of one pose tree (not thread-safe: ``PoseTree`` locks around it)."""

    def __init__(self) -> None:
        self.version = 0
        self.capacity: Capacity | None = None
        self._clear()

    def _clear(self) -> None:
        self._frames: dict[int, _Frame] = {}
        self._names: dict[str, int] = {}  # in creation order, as Holoscan lists them
        self._edges: dict[tuple[int, int], EdgeHistory] = {}
        self._edge_slots: ChunkAllocator | None = None
        self._pose_slots: ChunkAllocator | None = None
        self._next_uid = 1
        self._uid_step = 1

    # -- life cycle -------------------------------------------------------------------------------
    def init(self, capacity: Capacity) -> None:
        """Allocate for ``capacity`` (all sizes already checked > 0) and start at version 1."""
        if self.capacity is not None:
            raise PoseTreeError(OUT_OF_MEMORY, "the pose tree is initialized already (call deinit() first)")
        self._clear()
        self.capacity = capacity
        self._edge_slots = ChunkAllocator(capacity.number_edges, capacity.edges_chunk_size)
        self._pose_slots = ChunkAllocator(capacity.history_length, capacity.history_chunk_size)
        self.version = 1

    def deinit(self) -> None:
        """Forget every frame and edge; the tree is uninitialized again (its version stays)."""
        self._clear()
        self.capacity = None

    def set_uid_sequence(self, start: int, step: int) -> None:
        """Number new frames ``start``, ``start + step``, ... (skipping ids in use)."""
        if start == 0:
            raise PoseTreeError(INVALID_ARGUMENT, "start_id must be > 0 (frame id 0 is reserved)")
        frames = self.capacity.number_frames if self.capacity else 0
        if step == 0 or _UINT64_MAX // step < frames:
            raise PoseTreeError(
                INVALID_ARGUMENT,
                f"increment must be between 1 and {_UINT64_MAX // max(frames, 1)}, got {step}",
            )
        self._next_uid = start
        self._uid_step = step

    # -- frames -----------------------------------------------------------------------------------
    def label(self, uid: int) -> str:
        """``'name' (uid)`` for messages, or ``frame uid`` if there is no such frame."""
        frame = self._frames.get(uid)
        return f"'{frame.name}' ({uid})" if frame else f"frame {uid}"

    def uid_of(self, name: str) -> int:
        """The id of the frame called ``name``."""
        uid = self._names.get(name)
        if uid is None:
            raise PoseTreeError(FRAME_NOT_FOUND, f"no frame is called {name!r}")
        return uid

    def has_name(self, name: str) -> bool:
        return name in self._names

    def name_of(self, uid: int) -> str:
        """The name of frame ``uid``."""
        return self._frame(uid).name

    def _frame(self, uid: int) -> _Frame:
        frame = self._frames.get(uid)
        if frame is None:
            raise PoseTreeError(FRAME_NOT_FOUND, f"no frame has id {uid}")
        return frame

    def create_frame(self, name: str, number_edges: int, uid: int | None = None) -> int:
        """Add a frame with room for ``number_edges`` edges; its id (the next free one unless
        ``uid`` is given) is returned. An empty name becomes ``_frame_<id>``."""
        if number_edges <= 0:
            raise PoseTreeError(INVALID_ARGUMENT, f"number_edges must be > 0, got {number_edges}")
        capacity, slots = self.capacity, self._edge_slots
        if capacity is None or slots is None:
            raise PoseTreeError(OUT_OF_MEMORY, "the pose tree is not initialized (call init())")
        if len(self._frames) >= capacity.number_frames:
            raise PoseTreeError(
                OUT_OF_MEMORY,
                f"the pose tree holds {capacity.number_frames} frames already (init(number_frames=...))",
            )
        if name:
            if name.startswith("_") or len(name.encode()) > MAX_NAME_BYTES:
                raise PoseTreeError(
                    INVALID_ARGUMENT,
                    f"frame name {name!r} must not start with '_' (reserved for generated names) "
                    f"and must be at most {MAX_NAME_BYTES} bytes long",
                )
            if name in self._names:
                raise PoseTreeError(ALREADY_EXISTS, f"a frame called {name!r} exists already")
        if uid is None:
            uid = self._next_free_uid()
        elif uid in self._frames:  # Holoscan's texts: id 0 fails later in its code, as a logic error
            reason = LOGIC_ERROR if uid == 0 else ALREADY_EXISTS
            raise PoseTreeError(reason, f"frame id {uid} is taken by {self.label(uid)}")
        block = slots.acquire(number_edges)
        if block is None:
            raise PoseTreeError(
                OUT_OF_MEMORY,
                f"no room for {number_edges} more edge slots (init(number_edges={capacity.number_edges}, "
                f"edges_chunk_size={capacity.edges_chunk_size}); frames reserve their slots when created)",
            )
        name = name or f"{_AUTO_NAME_PREFIX}{uid}"
        self._frames[uid] = _Frame(uid, name, block[0], block[1])
        self._names[name] = uid
        return uid

    def _next_free_uid(self) -> int:
        """The next id of the sequence that no frame has (ids in use are skipped)."""
        for _ in range(len(self._frames) + 1):
            uid = self._next_uid
            self._next_uid += self._uid_step
            if uid not in self._frames:
                return uid
        raise PoseTreeError(LOGIC_ERROR, "no free frame id in the id sequence")

    def delete_frame(self, uid: int) -> int:
        """Remove a frame and its edges, with their histories; the new version."""
        frame = self._frame(uid)
        assert self._edge_slots is not None
        while frame.edges:  # from the last, as Holoscan does
            edge = frame.edges[-1]
            self._delete_edge(edge.lhs, edge.rhs)
        self._edge_slots.release(frame.block)
        del self._names[frame.name]
        del self._frames[uid]
        self.version += 1
        return self.version

    def disconnect_frame(self, uid: int, time: float) -> int:
        """Disconnect every edge of a frame from ``time`` on; the new version."""
        frame = self._frame(uid)
        written = []
        for edge in frame.edges:
            written.append(edge.add(time, self.version + 1, None))
            if written[-1]:
                self._update_root(edge.lhs if edge.rhs == uid else edge.rhs)
        self._update_root(uid)
        if not all(written):
            if any(written):  # the disconnections written took this version
                self.version += 1
            late = [self._edge_label(e) for e, ok in zip(frame.edges, written, strict=True) if not ok]
            raise PoseTreeError(
                POSE_OUT_OF_ORDER, f"{', '.join(late)} already have samples at or after time {time}"
            )
        self.version += 1
        return self.version

    def frame_uids(self) -> list[int]:
        return list(self._names.values())

    def frame_names(self) -> list[str]:
        return list(self._names)

    # -- edges ------------------------------------------------------------------------------------
    def _edge_label(self, edge: EdgeHistory) -> str:
        return f"edge {self.label(edge.lhs)} - {self.label(edge.rhs)}"

    def edge(self, lhs: int, rhs: int) -> EdgeHistory:
        """The edge between two existing frames (``lhs < rhs``)."""
        self._frame(lhs)
        self._frame(rhs)
        edge = self._edges.get((lhs, rhs))
        if edge is None:
            raise PoseTreeError(
                FRAMES_NOT_LINKED, f"there is no edge between {self.label(lhs)} and {self.label(rhs)}"
            )
        return edge

    def edge_count(self) -> int:
        return len(self._edges)

    def connected_edges(self) -> list[tuple[int, int]]:
        """The edges whose latest sample is a pose, in creation order."""
        return [key for key, edge in self._edges.items() if edge.connected()]

    def create_edge(self, lhs: int, rhs: int, history_length: int, method: PoseTreeAccessMethod) -> int:
        """Add the edge ``lhs``-``rhs`` (``lhs < rhs``) with room for ``history_length`` poses; the
        new version."""
        if history_length <= 0:
            raise PoseTreeError(INVALID_ARGUMENT, f"the history length must be > 0, got {history_length}")
        if lhs == rhs:
            raise PoseTreeError(INVALID_ARGUMENT, f"{self.label(lhs)} cannot have an edge to itself")
        first, second = self._frame(lhs), self._frame(rhs)
        if (lhs, rhs) in self._edges:
            raise PoseTreeError(
                ALREADY_EXISTS, f"the edge between {self.label(lhs)} and {self.label(rhs)} exists already"
            )
        for frame in (first, second):
            if len(frame.edges) >= frame.edge_slots:
                raise PoseTreeError(
                    OUT_OF_MEMORY,
                    f"{self.label(frame.uid)} has all its {frame.edge_slots} edge slots in use "
                    "(create_frame(name, number_edges) reserves more)",
                )
        capacity, poses = self.capacity, self._pose_slots
        assert capacity is not None and poses is not None
        block = poses.acquire(history_length)
        if block is None:
            raise PoseTreeError(
                OUT_OF_MEMORY,
                f"no room for {history_length} more poses (init(history_length={capacity.history_length}, "
                f"history_chunk_size={capacity.history_chunk_size}))",
            )
        # No cap on the edge count: the frames' edge slots (number_edges in all, two per edge) are
        # the tighter bound. Holoscan also caps the edges ever created, deleted ones included.
        edge = EdgeHistory(lhs, rhs, block[1], method, block[0])
        self._edges[(lhs, rhs)] = edge
        first.edges.append(edge)
        second.edges.append(edge)
        self.version += 1
        return self.version

    def delete_edge(self, lhs: int, rhs: int) -> int:
        """Remove the edge ``lhs``-``rhs`` (``lhs < rhs``) and its history; the new version.

        The version is taken even when the edge does not exist, as Holoscan does.
        """
        self.version += 1
        self._delete_edge(lhs, rhs)
        return self.version

    def _delete_edge(self, lhs: int, rhs: int) -> None:
        edge = self.edge(lhs, rhs)
        assert self._pose_slots is not None
        self._pose_slots.release(edge.block)
        for frame in (self._frames[lhs], self._frames[rhs]):
            # The last edge takes the removed one's place (Holoscan's order, which its search follows).
            index = frame.edges.index(edge)
            last = frame.edges.pop()
            if last is not edge:
                frame.edges[index] = last
        del self._edges[(lhs, rhs)]
        self._reroot_cut(lhs, rhs)

    def disconnect_edge(self, lhs: int, rhs: int, time: float) -> int:
        """Mark the edge ``lhs``-``rhs`` (``lhs < rhs``) absent from ``time`` on; the new version."""
        edge = self.edge(lhs, rhs)
        if not edge.add(time, self.version + 1, None):
            raise PoseTreeError(
                POSE_OUT_OF_ORDER, f"{self._edge_label(edge)} has a sample at time {edge.last_time()} already"
            )
        self._reroot_cut(lhs, rhs)
        self.version += 1
        return self.version

    # -- roots ------------------------------------------------------------------------------------
    def _update_root(self, root: int) -> None:
        """Make ``root`` the root of its tree (edges connected now): set every frame's root,
        parent towards it and depth."""
        top = self._frames[root]
        top.root, top.up, top.depth = root, root, 0
        seen = {root}
        queue = deque([top])
        while queue:
            frame = queue.popleft()
            for edge in frame.edges:
                other = edge.lhs if edge.rhs == frame.uid else edge.rhs
                if other in seen or not edge.connected():
                    continue
                seen.add(other)
                below = self._frames[other]
                below.root, below.up, below.depth = root, frame.uid, frame.depth + 1
                queue.append(below)

    def _reroot_cut(self, lhs: int, rhs: int) -> None:
        """After the edge ``lhs``-``rhs`` went away, root the side below it at its end."""
        self._update_root(lhs if self._frames[lhs].up == rhs else rhs)

    # -- poses ------------------------------------------------------------------------------------
    def set(self, lhs: int, rhs: int, time: float, pose: RawPose) -> int:
        """Store ``lhs_T_rhs`` at ``time`` (``lhs < rhs``), creating the edge if needed; the new
        version."""
        if not rigid.is_valid(pose):
            raise PoseTreeError(
                INVALID_ARGUMENT,
                f"the pose between {self.label(lhs)} and {self.label(rhs)} needs a finite translation "
                "and a unit rotation quaternion",
            )
        self._frame(lhs)
        self._frame(rhs)
        assert self.capacity is not None
        edge = self._edges.get((lhs, rhs))
        if edge is None:
            self.create_edge(lhs, rhs, self.capacity.default_history_length, PoseTreeAccessMethod.DEFAULT)
            edge = self._edges[(lhs, rhs)]
        joining = not edge.connected()
        if joining and (
            self._frames[lhs].root == self._frames[rhs].root
            or self.find(lhs, rhs, time, PoseTreeAccessMethod.NEAREST, self.version) is not None
        ):
            raise PoseTreeError(
                CYCLING_DEPENDENCY,
                f"{self.label(lhs)} and {self.label(rhs)} are joined through other edges already; a pose "
                "tree has one path between two frames (disconnect_edge or delete_edge one first)",
            )
        if not edge.add(time, self.version + 1, pose):
            raise PoseTreeError(
                POSE_OUT_OF_ORDER,
                f"{self._edge_label(edge)} has a sample at time {edge.last_time()} already; set poses "
                "in increasing time",
            )
        if joining:
            self._update_root(lhs)
        self.version += 1
        return self.version

    def latest(self, lhs: int, rhs: int) -> tuple[RawPose, float]:
        """The latest sample of the edge ``lhs``-``rhs`` (``lhs < rhs``) and its time."""
        found = self.edge(lhs, rhs).latest()
        if found is None:
            raise PoseTreeError(
                INVALID_ARGUMENT, f"no pose was set between {self.label(lhs)} and {self.label(rhs)}"
            )
        return found

    def get(self, lhs: int, rhs: int, time: float, method: PoseTreeAccessMethod, version: int) -> RawPose:
        """``lhs_T_rhs`` at ``time`` as of tree ``version``, through the chain of edges joining them."""
        if lhs == rhs:
            return rigid.IDENTITY_POSE
        self._frame(lhs)
        self._frame(rhs)
        # Holoscan walks from the lower id to the higher and inverts for the other direction.
        pose = self.find(min(lhs, rhs), max(lhs, rhs), time, method, version)
        if pose is None:
            raise PoseTreeError(
                FRAMES_NOT_LINKED,
                f"no chain of edges joins {self.label(lhs)} and {self.label(rhs)} at time {time}"
                + (f" in version {version}" if version != self.version else ""),
            )
        return pose if lhs < rhs else rigid.inverse(pose)

    def find(
        self, lhs: int, rhs: int, time: float, method: PoseTreeAccessMethod, version: int
    ) -> RawPose | None:
        """``lhs_T_rhs`` through edges that have a pose at ``(time, version)``, or ``None``.

        Edges set without overlap form a forest at every time, but setting a pose checks for a
        loop only now and at that pose's time, so two chains may join the same frames at other
        times. The choice then is Holoscan's: the chain through the edges connected now if it has
        a pose at ``(time, version)``, else the first chain a depth-first search from ``rhs``
        finds (a frame's edges in their order, the last found explored first).
        """
        pose = self._climb(lhs, rhs, time, method, version)
        return pose if pose is not None else self._search(lhs, rhs, time, method, version)

    def _climb(
        self, lhs: int, rhs: int, time: float, method: PoseTreeAccessMethod, version: int
    ) -> RawPose | None:
        """``lhs_T_rhs`` by climbing both frames to their common ancestor in the tree of edges
        connected now (``lhs_T_top * rhs_T_top^-1``, Holoscan's order), or ``None`` if they are
        in different trees or an edge on the way has no pose at ``(time, version)``."""
        frames = self._frames
        if frames[lhs].root != frames[rhs].root:
            return None
        at = {lhs: frames[lhs], rhs: frames[rhs]}
        poses = {lhs: rigid.IDENTITY_POSE, rhs: rigid.IDENTITY_POSE}

        def step(side: int) -> bool:
            frame = at[side]
            edge = self._edges.get((min(frame.uid, frame.up), max(frame.uid, frame.up)))
            pose = None if edge is None else edge.get(time, method, version)
            if pose is None:
                return False
            poses[side] = rigid.compose(poses[side], pose if frame.uid < frame.up else rigid.inverse(pose))
            at[side] = frames[frame.up]
            return True

        while at[lhs].depth > at[rhs].depth:
            if not step(lhs):
                return None
        while at[rhs].depth > at[lhs].depth:
            if not step(rhs):
                return None
        while at[lhs] is not at[rhs]:
            if not step(lhs) or not step(rhs):
                return None
        return rigid.compose(poses[lhs], rigid.inverse(poses[rhs]))

    def _search(
        self, lhs: int, rhs: int, time: float, method: PoseTreeAccessMethod, version: int
    ) -> RawPose | None:
        """Holoscan's depth-first search from ``rhs`` over the edges with a pose at
        ``(time, version)``; the pose along the first chain that reaches ``lhs`` (multiplied
        from ``lhs``)."""
        link: dict[int, tuple[int, EdgeHistory]] = {}
        seen = {rhs}
        stack = [rhs]
        while stack:
            uid = stack.pop()
            if uid == lhs:
                pose = rigid.IDENTITY_POSE
                while uid != rhs:
                    towards, edge = link[uid]
                    step = edge.get(time, method, version)
                    assert step is not None  # the search only follows edges with a pose there
                    pose = rigid.compose(pose, step if edge.lhs == uid else rigid.inverse(step))
                    uid = towards
                return pose
            for edge in self._frames[uid].edges:
                other = edge.rhs if edge.lhs == uid else edge.lhs
                if other in seen or edge.get(time, method, version) is None:
                    continue
                seen.add(other)
                link[other] = (uid, edge)
                stack.append(other)
        return None
