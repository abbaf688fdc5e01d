"""Per-operator CUDA stream bookkeeping behind ``receive_cuda_stream`` and ``set_cuda_stream``.

Each operator has one :class:`OperatorStreams` per run, shared by its three contexts. It
remembers the TensorMaps received on each port during the current compute, the operator's own
stream once one is asked for, and the stream chosen for each output.

When compute returns, what was received is let go: host frames at once (a pooled buffer goes
back to its pool), CUDA tensors once the operator's streams have finished the work queued on
them. A CUDA tensor's memory belongs to its producer's stream-ordered pool, which may hand it
out again for the producer's next frame as soon as the last reference goes; work still queued on
the consumer's stream would then read the next frame (or zeros) instead of this one. Nothing
here touches CUDA until a CUDA tensor or a stream request appears, so CPU graphs never import
CuPy.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from holoflow.core._resource import StreamPool
from holoflow.tensor import StreamEvent, Tensor, TensorMap, cuda_available, current_stream, new_stream

if TYPE_CHECKING:
    from holoflow.core._operator import Operator

__all__ = ["OperatorStreams"]


class OperatorStreams:
    """The CUDA streams of one operator during one run."""

    __slots__ = (
        "_named",
        "_objects",
        "_op",
        "_pool_streams",
        "in_use",
        "output_streams",
        "received",
        "stream",
    )

    def __init__(self, op: Operator) -> None:
        self._op = op
        self.received: dict[str, list[TensorMap]] = {}
        self.stream: int | None = None
        self.output_streams: dict[str, int] = {}
        self._named: dict[str, int] = {}
        self._objects: dict[int, Any] = {}  # stream handle -> CuPy stream object
        self._pool_streams: list[tuple[StreamPool, Any]] = []
        self.in_use: deque[tuple[list[Any], list[TensorMap]]] = deque()  # (events, maps) still on the GPU

    @property
    def op(self) -> Operator:
        """The operator these streams belong to."""
        return self._op

    def note(self, port: str, value: Any) -> None:
        """Remember the TensorMaps just received on ``port``, with those received on it earlier
        in the same compute (all of them stay alive until the operator's stream is done)."""
        if type(value) is TensorMap:
            maps = [value]
        elif type(value) is tuple:
            maps = [v for v in value if type(v) is TensorMap]
            if not maps:
                return
        else:
            return
        earlier = self.received.get(port)
        if earlier is None:
            self.received[port] = maps
        else:
            earlier.extend(maps)

    def _new_stream(self) -> int:
        pool = next((r for r in self._op.resources.values() if isinstance(r, StreamPool)), None)
        if pool is not None:
            stream = pool.allocate_stream()
            self._pool_streams.append((pool, stream))
        else:
            stream = new_stream()
        self._objects[int(stream.ptr)] = stream
        return int(stream.ptr)

    def operator_stream(self) -> int:
        """The operator's stream, created (or taken from its CudaStreamPool) on first use."""
        if self.stream is None:
            self.stream = self._new_stream()
        return self.stream

    def named_stream(self, name: str) -> int:
        """A stream of the operator reserved under ``name`` for this run."""
        if not name:
            return self.operator_stream()
        if name not in self._named:
            self._named[name] = self._new_stream()
        return self._named[name]

    def received_tensors(self, port: str | None) -> list[Tensor]:
        """CUDA tensors received on ``port`` (every port when ``None``) by the latest receives."""
        ports = self.received if port is None else {port: self.received.get(port, [])}
        return [
            t
            for maps in ports.values()
            for m in maps
            for t in m.values()
            if isinstance(t, Tensor) and t.is_cuda
        ]

    def synchronize(self, port: str | None, allocate: bool) -> int:
        """Make the operator's stream wait for what arrived on ``port``; return the stream."""
        tensors = self.received_tensors(port)
        if not allocate and self.stream is None:
            return next((t.stream for t in tensors if t.stream is not None), 0)
        stream = self.operator_stream()
        for tensor in tensors:
            tensor.wait_on(stream)
        return stream

    def stamp(self, port: str, value: TensorMap) -> None:
        """Record, on each CUDA tensor emitted, the stream it was produced on (a tensor received
        and sent on stays ordered after its first producer: see ``Tensor.record_stream``)."""
        for tensor in value.values():
            if isinstance(tensor, Tensor) and tensor.is_cuda:
                stream = self.output_streams.get(port, self.stream)
                if stream is None:
                    stream = tensor.stream
                if stream is None and cuda_available():
                    stream = current_stream()
                if stream is not None and cuda_available():
                    tensor.record_stream(stream, self._objects.get(stream))

    def retire(self) -> None:
        """End of a compute: let go of what it received (see the module notes)."""
        in_use = self.in_use
        if self.received:
            streams = [self.stream, *self._named.values()]
            if self.received_tensors(None) and any(s is not None for s in streams):
                events = [StreamEvent(s) for s in streams if s is not None]
                in_use.append((events, [m for maps in self.received.values() for m in maps]))
            self.received.clear()
        while in_use and all(event.done() for event in in_use[0][0]):
            for event in in_use.popleft()[0]:
                event.recycle()  # these events were only ever this object's

    def release(self) -> None:
        """Give pool streams back and drop owned streams (end of run)."""
        for events, _ in self.in_use:
            for event in events:
                event.event.synchronize()
        self.in_use.clear()
        for pool, stream in self._pool_streams:
            pool.release_stream(stream)
        self._pool_streams.clear()
        self._objects.clear()  # tensors still in use keep their stream objects alive
        self._named.clear()
        self.stream = None
        self.output_streams.clear()
        self.received.clear()
