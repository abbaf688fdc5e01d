"""``CudaStreamPool``: CUDA streams reused across operators and frames."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from holoflow.core import StreamPool
from holoflow.errors import ResourceError
from holoflow.tensor import cuda_available, require_cuda

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["CudaStreamPool"]


class CudaStreamPool(StreamPool):
    """A pool of CUDA streams; an operator holding one takes its stream from it.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    dev_id : int
        CUDA device of the streams.
    stream_flags : int
        1 for non-blocking streams (not synchronizing with the legacy default stream).
    stream_priority : int
        Stream priority (lower is higher priority).
    reserved_size : int
        Streams created on first use and kept.
    max_size : int
        Most streams handed out at once (0: no limit).
    """

    _default_name = "cuda_stream_pool"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        dev_id: int = 0,
        stream_flags: int = 0,
        stream_priority: int = 0,
        reserved_size: int = 1,
        max_size: int = 0,
        name: str = "cuda_stream_pool",
    ) -> None:
        super().__init__(fragment, name=name)
        if reserved_size < 0 or max_size < 0:
            raise ValueError(f"{self._label()}: reserved_size and max_size must be >= 0")
        if max_size and reserved_size > max_size:
            raise ValueError(f"{self._label()}: reserved_size {reserved_size} exceeds max_size {max_size}")
        self.dev_id = int(dev_id)
        self.stream_flags = int(stream_flags)
        self.stream_priority = int(stream_priority)
        self.reserved_size = int(reserved_size)
        self.max_size = int(max_size)
        self._idle: list[Any] = []
        self._in_use = 0
        self._lock = threading.Lock()

    def _create(self) -> Any:
        cupy = require_cuda(f"{self._label()}")
        with cupy.cuda.Device(self.dev_id):
            return cupy.cuda.Stream(non_blocking=bool(self.stream_flags & 1), priority=self.stream_priority)

    def allocate_stream(self) -> Any:
        """A stream from the pool (a CuPy ``Stream``; its ``.ptr`` is the ``cudaStream_t``).

        Raises
        ------
        holoflow.errors.ResourceError
            If ``max_size`` streams are already in use, or there is no CUDA device.
        """
        with self._lock:
            if not self._idle and self._in_use == 0:
                self._idle = [self._create() for _ in range(self.reserved_size)]
            if self._idle:
                stream = self._idle.pop()
            elif self.max_size and self._in_use >= self.max_size:
                raise ResourceError(f"{self._label()}: all {self.max_size} streams are in use")
            else:
                stream = self._create()
            self._in_use += 1
            return stream

    def is_available(self, size: int = 1) -> bool:
        """Whether ``size`` more streams can be handed out now (CUDA present, ``max_size`` not
        reached)."""
        if not cuda_available():
            return False
        with self._lock:
            return not self.max_size or self._in_use + int(size) <= self.max_size

    def release_stream(self, stream: Any) -> None:
        """Give a stream back to the pool."""
        with self._lock:
            self._in_use -= 1
            self._idle.append(stream)
