"""``VideoStreamReplayerOp``: play a GXF recording into the graph, paced like the original."""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from holoflow.core._condition import Condition, SchedulingStatusType
from holoflow.core._operator import Operator
from holoflow.errors import ConfigError, GXFFormatError, ResourceError
from holoflow.gxf import Entity, GXFReader, StorageType
from holoflow.resources import BlockMemoryPool, MemoryStorageType
from holoflow.tensor import _cuda

if TYPE_CHECKING:
    from holoflow.core._context import ExecutionContext, InputContext, OutputContext
    from holoflow.core._fragment import Fragment
    from holoflow.core._spec import OperatorSpec

__all__ = ["VideoStreamReplayerOp"]

logger = logging.getLogger("holoflow")
_READY = (SchedulingStatusType.READY, None)
_NEVER = (SchedulingStatusType.NEVER, None)
_READ_AHEAD = 2  # frames being read while the graph works on the current one
_BUFFERS = _READ_AHEAD + 3  # reused buffers (copy mode) before falling back to fresh ones


class _Pacer(Condition):
    """READY when the replayer's next frame is due, WAIT_TIME until then, NEVER at the end.

    Pacing through a condition (rather than sleeping in compute) lets the scheduler run other
    operators while a frame is not yet due, and makes playback follow the scheduler's clock.
    """

    def __init__(self, fragment: Fragment, replayer: VideoStreamReplayerOp) -> None:
        super().__init__(fragment, name="replayer_pacing")
        self.replayer = replayer
        self.now = 0

    def check(self, timestamp: int) -> tuple[SchedulingStatusType, int | None]:
        self.now = timestamp
        replayer = self.replayer
        if replayer._finished:
            return _NEVER
        due = replayer._due
        if due is None or timestamp >= due:
            return _READY
        return SchedulingStatusType.WAIT_TIME, due


class VideoStreamReplayerOp(Operator):
    """Emit the entities of ``<directory>/<basename>.gxf_{index,entities}`` on ``output``.

    Each entity goes out as a dict (a TensorMap downstream) of its tensors by component name —
    the sample recordings hold one unnamed (``""``) HxWx3 uint8 tensor. Frames are read ahead
    on a helper thread into reused host buffers (pinned when CUDA is present); with
    ``zero_copy=True`` they are read-only views of the memory-mapped file instead. Tensors
    recorded on the GPU go to the GPU when CUDA is available (``device="auto"``), or stay on the
    host (``"cpu"``).

    Parameters
    ----------
    directory, basename : str
        Where the recording is.
    frame_rate : float
        Frames per second; 0 follows the recorded timestamps.
    realtime : bool
        Pace playback (False: as fast as the graph runs).
    repeat : bool
        Start over at the end.
    count : int
        Stop after this many frames (0: no limit).
    batch_size : int
        Entities emitted per compute (the output needs that capacity).
    ignore_corrupted_entities : bool
        Skip an entity that does not decode (logged) instead of raising ``GXFFormatError``.
    device : {"auto", "cpu", "cuda"}
        Where tensors recorded on the device are delivered.
    zero_copy : bool
        Deliver read-only views of the memory-mapped file (no copy at all); or, when False,
        writable frames that a helper thread reads ahead into reused buffers while the graph
        works on the current one.
    allocator, entity_serializer
        Accepted for Holoscan compatibility.
    """

    directory: str
    basename: str
    batch_size: int
    ignore_corrupted_entities: bool
    frame_rate: float
    realtime: bool
    repeat: bool
    count: int
    device: str
    zero_copy: bool

    def __init__(self, fragment: Fragment, *args: Any, **kwargs: Any) -> None:
        self._pacer = _Pacer(fragment, self)
        self._reader: GXFReader | None = None
        self._ahead: ThreadPoolExecutor | None = None
        self._ahead_frames: deque[Future[Entity]] = deque()
        self._finished = False
        self._due: int | None = None
        super().__init__(fragment, self._pacer, *args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.output("output")
        spec.param("directory", "")
        spec.param("basename", "")
        spec.param("batch_size", 1)
        spec.param("ignore_corrupted_entities", True)
        spec.param("frame_rate", 0.0)
        spec.param("realtime", True)
        spec.param("repeat", False)
        spec.param("count", 0)
        spec.param("device", "auto")
        spec.param("zero_copy", True)
        spec.param("allocator", None)
        spec.param("entity_serializer", None)

    def initialize(self) -> None:
        if not self.basename:
            raise ConfigError(f"{self._label()}: parameter 'basename' is required")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(f"{self._label()}: device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if int(self.batch_size) < 1:
            raise ConfigError(f"{self._label()}: batch_size must be >= 1, got {self.batch_size}")

    def start(self) -> None:
        self._reader = GXFReader(self.directory or ".", self.basename, sequential=True)
        self._position = 0
        self._played = 0
        self.skipped = 0
        self._finished = len(self._reader) == 0
        self._due = None
        self._start = 0
        self._index_start = 0
        self._index_last = 0
        self._index_frame_count = 1
        self._duration = 0
        size = self._reader.max_entity_size()
        if self.zero_copy or not size:
            self._buffers = None
        else:
            self._ahead = ThreadPoolExecutor(1, thread_name_prefix=f"{self.name}-read-ahead")
            self._buffers = BlockMemoryPool(
                self.fragment, MemoryStorageType.SYSTEM, size, _BUFFERS, name=f"{self.name}_buffers"
            )
        self._ahead_frames.clear()
        self._read_ahead()

    def stop(self) -> None:
        if self._ahead is not None:
            self._ahead.shutdown(wait=True, cancel_futures=True)
            self._ahead = None
        self._ahead_frames.clear()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        for _ in range(int(self.batch_size)):
            if self._finished:
                return
            message = self._next_message()
            if message is not None:
                op_output.emit(message, "output")
        self._schedule_next()

    def _read_ahead(self) -> None:
        """Keep the next ``_READ_AHEAD`` frames in flight on the read-ahead thread."""
        assert self._reader is not None
        frames = len(self._reader)
        count = int(self.count)
        position = self._position + len(self._ahead_frames)
        played = self._played + len(self._ahead_frames)
        while len(self._ahead_frames) < _READ_AHEAD and not self._finished:
            if (count > 0 and played >= count) or (position >= frames and not self.repeat):
                return
            self._ahead_frames.append(self._fetch(position % frames))
            position, played = position + 1, played + 1

    def _fetch(self, frame: int) -> Future[Entity]:
        """Start reading ``frame`` on the read-ahead thread."""
        reader, buffers = self._reader, self._buffers
        assert reader is not None
        if buffers is None:  # decoding a mapped entity is cheap: do it inline
            done: Future[Entity] = Future()
            try:
                done.set_result(reader[frame])
            except GXFFormatError as exc:
                done.set_exception(exc)
            return done
        try:
            buffer = buffers.empty(buffers.block_size)
        except ResourceError:  # every buffer still held downstream: use a fresh one
            buffer = None
        assert self._ahead is not None
        return self._ahead.submit(reader.read, frame, buffer)

    def _next_message(self) -> dict[str, Any] | None:
        reader = self._reader
        assert reader is not None
        frame = self._position
        log_time = reader.log_time(frame)
        if self._played == 0:
            self._start = self._pacer.now
            self._index_start = self._index_last = log_time
        if log_time > self._index_last:
            self._index_last = log_time
            self._index_frame_count = self._played + 1
            self._duration = self._index_last - self._index_start
        self._played += 1
        self._advance()
        pending = self._ahead_frames.popleft()
        self._read_ahead()
        try:
            entity = pending.result()
        except GXFFormatError as exc:
            if not self.ignore_corrupted_entities:
                raise
            self.skipped += 1
            logger.warning("%s: skipping corrupted entity: %s", self._label(), exc)
            return None
        return {c.name: self._deliver(c.value, c.storage) for c in entity.components if c.storage is not None}

    def _advance(self) -> None:
        assert self._reader is not None
        self._position += 1
        count = int(self.count)
        if count > 0 and self._played >= count:
            self._finished = True
        elif self._position >= len(self._reader):
            if self.repeat:
                self._position = 0
            else:
                self._finished = True

    def _deliver(self, array: Any, storage: StorageType) -> Any:
        on_device = storage in (StorageType.DEVICE, StorageType.CUDA_MANAGED)
        if self.device == "cuda" or (self.device == "auto" and on_device and _cuda.cuda_available()):
            return _cuda.require_cuda(f"{self._label()}: device='cuda'").asarray(array)
        return array

    def _schedule_next(self) -> None:
        """Set when the next frame is due (Holoscan's pacing rule, in scheduler-clock ns)."""
        if not self.realtime or self._finished or self._reader is None:
            self._due = None
            return
        k = self._played
        if float(self.frame_rate) > 0:
            self._due = self._start + int(1e9 / float(self.frame_rate)) * k
            return
        log_time = self._reader.log_time(self._position)
        frame_count, duration = self._index_frame_count, self._duration
        if log_time > self._index_last:  # what reading this frame will record
            frame_count, duration = k + 1, log_time - self._index_start
        self._due = self._start + (log_time - self._index_start) + duration * (k // frame_count)
