"""``LinuxReceiverOp``: frames from a sensor-bridge device through an ordinary UDP socket."""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow import _env
from holoflow.conditions import AsynchronousCondition, AsynchronousEventState
from holoflow.errors import ConfigError
from holoflow.logger import get_logger
from holoflow.operators._receiver_base import ReceiverOp
from holoflow.sensor_bridge import (
    DataChannel,
    FrameAssembler,
    LinuxReceiver,
    ReceivedFrame,
    local_ip_for,
    registers,
)
from holoflow.tensor import cuda_available, cupy_module, host_buffer, require_cuda

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, Fragment, InputContext, OperatorSpec, OutputContext, Subgraph

__all__ = ["LinuxReceiverOp"]

logger = get_logger(__name__)
_queue_pairs = itertools.count(0xCAF0)
RKEY = 0xBEEF


class LinuxReceiverOp(ReceiverOp):
    """Receive frames from ``hololink_channel`` and emit them on ``output``.

    On start the operator allocates its pages (pinned host memory when CUDA is present), binds
    a UDP socket on the address that routes to the device, starts the receiver thread,
    programs the device's data plane to write to that socket (``configure_roce``) and calls
    ``device.start()``. Each compute takes the next frame (waiting up to ``timeout`` seconds,
    logging "Ingress frame timeout; ignoring." once if none comes) and emits
    ``{out_tensor_name: frame, "metadata": {...}}``: ``frame`` is a 1-D uint8 tensor of the
    frame's bytes (``bytes_written`` of them with ``trim``) in memory of its own — host, or
    CUDA device memory with ``storage="device"`` (``"auto"``: device when CUDA is present).
    The metadata holds the device's frame metadata, timestamps, byte and packet counts,
    ``packets_dropped`` and ``complete`` (see ``ReceivedFrame.as_dict``).

    Parameters
    ----------
    hololink_channel : DataChannel
        The sensor's data channel.
    device : object
        Has ``start()`` and ``stop()``, called after the receiver is ready and at stop (a camera).
    frame_size : int
        Bytes per frame.
    trim : bool
        Emit only ``bytes_written`` bytes of each frame.
    use_frame_ready_condition : bool
        Run compute only when a frame is ready (an AsynchronousCondition named ``frame_ready``).
    pages, queue_size : int
        Device buffers, and finished frames kept for a slow consumer (the newest win).
    rename_metadata : callable, optional
        Maps each metadata key to the key emitted (stereo pipelines prefix them).
    receiver_affinity : set of int, optional
        CPU cores for the receiver thread (default: ``HOLOLINK_AFFINITY``, comma-separated, if
        set; else no pinning).
    storage : {"auto", "host", "device"}
        Where emitted frames live.
    timeout : float
        Seconds a compute waits for a frame.
    receive_buffer : int
        ``SO_RCVBUF`` bytes to ask for.
    out_tensor_name : str
        Name of the frame tensor ("" as in Holoscan).
    check_icrc : bool
        Check every datagram's RoCE ICRC and drop (and count, ``rejected_icrc`` in
        :meth:`statistics`) those that fail. Off by default, as on the sensor bridge's own
        receiver: it costs a CRC over every byte received.
    frame_context
        Accepted for Holoscan compatibility (CUDA contexts are CuPy's).
    """

    receiver_affinity: Any
    storage: str
    timeout: float
    receive_buffer: int
    out_tensor_name: str
    check_icrc: bool

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        self._frame_ready = AsynchronousCondition(fragment, name="frame_ready")
        self._receiver: LinuxReceiver | None = None
        self._assembler: FrameAssembler | None = None
        self._memory_owner: Any = None
        self._warned = False
        super().__init__(fragment, *args, **kwargs)
        if self.use_frame_ready_condition:
            self.add_arg(self._frame_ready)

    def setup(self, spec: OperatorSpec) -> None:
        super().setup(spec)
        spec.param("receiver_affinity", None)
        spec.param("storage", "auto")
        spec.param("timeout", 1.0)
        spec.param("receive_buffer", 32 << 20)
        spec.param("out_tensor_name", "")
        spec.param("check_icrc", False)

    def initialize(self) -> None:
        label = self._label()
        if not isinstance(self.hololink_channel, DataChannel):
            raise ConfigError(
                f"{label}: hololink_channel must be a DataChannel, got {self.hololink_channel!r}"
            )
        super().initialize()
        if not 1 <= int(self.queue_size) <= max(int(self.pages), 1) or not 1 <= int(self.pages) <= 4096:
            raise ConfigError(
                f"{label}: need 1 <= queue_size <= pages <= 4096, got {self.queue_size}, {self.pages}"
            )
        if self.storage not in ("auto", "host", "device"):
            raise ConfigError(f"{label}: storage must be 'auto', 'host' or 'device', got {self.storage!r}")
        device = self.device
        if device is not None and not all(callable(getattr(device, m, None)) for m in ("start", "stop")):
            raise ConfigError(f"{label}: device must have start() and stop() methods")

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        frame_size = int(self.frame_size)
        page_size = DataChannel.page_size_for(frame_size)
        buffers = int(self.queue_size) + 2
        memory, self._memory_owner = host_buffer(buffers * page_size)
        qp = next(_queue_pairs) & 0xFFFFFF
        self._assembler = FrameAssembler(
            frame_size, page_size, int(self.pages), qp, RKEY, int(self.queue_size), 0, memory
        )
        self._device_storage = self.storage == "device" or (self.storage == "auto" and cuda_available())
        if self._device_storage:
            require_cuda(f"{self._label()}: storage='device'")
        channel = self.hololink_channel
        # the device sends from its data-plane address, UDP port 12288
        icrc_source = (channel.peer_ip, registers.UDP_SOURCE_PORT) if self.check_icrc else None
        self._receiver = LinuxReceiver(
            self._assembler,
            local_ip_for(channel.peer_ip),
            int(self.receive_buffer),
            self._on_frame,
            icrc_source=icrc_source,
        )
        self._receiver.start()
        affinity = self.receiver_affinity
        cores = _env.hololink_affinity()
        if affinity is None and cores:
            affinity = {int(core) for core in cores.split(",")}
        if affinity:
            self._pin(set(affinity))
        self._frame_ready.event_state = AsynchronousEventState.EVENT_WAITING
        try:
            channel.authenticate(qp, RKEY)
            channel.configure_roce(0, frame_size, page_size, int(self.pages), self._receiver.address[1])
            if self.device is not None:
                self.device.start()
        except BaseException:
            self._receiver.stop()
            self._receiver = None
            raise

    def stop(self) -> None:
        try:
            if self.device is not None:
                self.device.stop()
            self.hololink_channel.unconfigure()
        finally:
            if self._receiver is not None:
                self._receiver.stop()
                self._receiver = None

    def _pin(self, cores: set[int]) -> None:
        thread = self._receiver._thread if self._receiver else None
        native = getattr(thread, "native_id", None)
        if native is not None and hasattr(os, "sched_setaffinity"):
            try:
                os.sched_setaffinity(native, cores)
            except OSError as exc:
                logger.warning(
                    "%s: cannot pin the receiver to cores %s: %s", self._label(), sorted(cores), exc
                )

    def _on_frame(self, _frame: ReceivedFrame) -> None:
        self._frame_ready.event_state = AsynchronousEventState.EVENT_DONE

    # -- work ----------------------------------------------------------------------------------------
    def statistics(self) -> Any:
        """The receiver's :class:`~holoflow.sensor_bridge.ReceiverStatistics` (None before start)."""
        return None if self._assembler is None else self._assembler.statistics()

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        assembler = self._assembler
        assert assembler is not None
        frame = assembler.take(float(self.timeout))
        if frame is None:
            if not self._warned:
                logger.warning("%s: Ingress frame timeout; ignoring.", self._label())
                self._warned = True
            return
        try:
            data = assembler.frame_array(frame, bool(self.trim))
            if self._device_storage:
                out: Any = cupy_module().asarray(data)
            else:
                out = np.empty(data.size, np.uint8)
                np.copyto(out, data)
        finally:
            assembler.release(frame)
        if assembler.ready:
            self._frame_ready.event_state = AsynchronousEventState.EVENT_DONE
        metadata = frame.as_dict()
        rename = self.rename_metadata
        if rename is not None:
            metadata = {rename(key): value for key, value in metadata.items()}
        op_output.emit({self.out_tensor_name: out, "metadata": metadata}, "output")
