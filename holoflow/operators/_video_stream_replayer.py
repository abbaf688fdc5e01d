"""``VideoStreamReplayerOp``: play a GXF recording into the graph, paced like the original."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.core import Condition, Operator, SchedulingStatusType
from holoflow.errors import ConfigError, GXFFormatError, ResourceError
from holoflow.gxf import GXFReader, RecordedEntity, StorageType
from holoflow.logger import get_logger
from holoflow.resources import BlockMemoryPool, MemoryStorageType
from holoflow.tensor import cuda_available, require_cuda

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, Fragment, InputContext, OperatorSpec, OutputContext, Subgraph

__all__ = ["VideoStreamReplayerOp"]

logger = get_logger(__name__)
_READY = (SchedulingStatusType.READY, None)
_NEVER = (SchedulingStatusType.NEVER, None)
_BUFFERS = 4  # reused buffers (copy mode) before falling back to fresh ones


class _Pacer(Condition):
    """READY when the replayer's next frame is due, WAIT_TIME until then, NEVER at the end.

    Pacing through a condition (rather than sleeping in compute) lets the scheduler run other
    operators while a frame is not yet due, and makes playback follow the scheduler's clock.
    """

    def __init__(self, fragment: Fragment | Subgraph, replayer: VideoStreamReplayerOp) -> None:
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
    the sample recordings hold one unnamed (``""``) HxWx3 uint8 tensor. Each frame is read when
    it is emitted into a reused host buffer (the one freed last, so it is likely still in the
    CPU cache); with ``zero_copy=True`` frames are read-only views of the memory-mapped file
    instead. Tensors
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
        Skip an entity that does not decode, or whose index record does not fit in the
        entities file (logged when its turn comes), instead of raising ``GXFFormatError``.
    device : {"auto", "cpu", "cuda"}
        Where tensors recorded on the device are delivered.
    zero_copy : bool
        Deliver read-only views of the memory-mapped file (no copy, but a page fault per page
        touched, and a file truncated under the views would crash the process with SIGBUS);
        False (default): writable frames, read with ``pread`` into reused buffers.
    allocator, entity_serializer
        Accepted for Holoscan compatibility.

    Raises
    ------
    holoflow.errors.GXFFormatError
        Without ``ignore_corrupted_entities``: from ``start()`` when an index record does not
        fit in the entities file, from ``compute()`` when an entity does not decode (the file
        and frame are named; the run notes the operator).
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

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        self._pacer = _Pacer(fragment, self)
        self._reader: GXFReader | None = None
        self._buffers: BlockMemoryPool | None = None
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
        spec.param("zero_copy", False)
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
        size = self._largest_entity()
        self._buffers = None
        if not self.zero_copy and size:
            self._buffers = BlockMemoryPool(
                self.fragment, MemoryStorageType.SYSTEM, size, _BUFFERS, name=f"{self.name}_buffers"
            )

    def _largest_entity(self) -> int:
        """Bytes of the largest entity whose index record fits in the entities file.

        The pooled buffers are sized from this, never from what a record claims: a forged
        ``data_size`` cannot make the replayer reserve more than the file holds. A record that
        does not fit raises ``GXFFormatError`` (file, frame) here, or with
        ``ignore_corrupted_entities`` is left out, to be skipped like any corrupt entity when
        its turn comes.
        """
        reader = self._reader
        assert reader is not None
        largest = 0
        for frame in range(len(reader)):
            try:
                start, end = reader.extent(frame)
            except GXFFormatError:
                if not self.ignore_corrupted_entities:
                    raise
                continue
            largest = max(largest, end - start)
        return largest

    def stop(self) -> None:
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

    def _read(self, frame: int) -> RecordedEntity:
        """The entity of ``frame``: a view of the mapped file, or a copy in a pooled buffer."""
        reader, buffers = self._reader, self._buffers
        assert reader is not None
        if buffers is None:
            return reader[frame]
        try:
            buffer = buffers.empty(buffers.block_size)
        except ResourceError:  # every buffer still held downstream: use a fresh one
            buffer = None
        return reader.read(frame, buffer)

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
        try:
            entity = self._read(frame)
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
        if self.device == "cuda" or (self.device == "auto" and on_device and cuda_available()):
            return require_cuda(f"{self._label()}: device='cuda'").asarray(array)
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
