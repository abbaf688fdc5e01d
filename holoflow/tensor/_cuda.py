"""The CUDA pieces holoflow needs — streams and events — through CuPy, imported on first use.

Works with ``cupy-cuda12x`` and ``cupy-cuda13x``. Without CuPy, :func:`cupy_module` raises an
ImportError that names the extra to install; nothing else in holoflow needs CUDA.
"""

from __future__ import annotations

import functools
from typing import Any

from holoflow.errors import ResourceError

__all__ = [
    "StreamEvent",
    "array_namespace",
    "cuda_available",
    "cupy_module",
    "current_stream",
    "device_view",
    "external_stream",
    "host_buffer",
    "new_stream",
    "require_cuda",
    "to_host",
    "wait_event",
]


@functools.cache
def _import_cupy() -> Any:
    import cupy  # type: ignore[import-not-found]

    return cupy


def cupy_module() -> Any:
    """The ``cupy`` module.

    Raises
    ------
    ImportError
        If CuPy is not installed, naming the extras that install it.
    """
    try:
        return _import_cupy()
    except ImportError as exc:
        raise ImportError(
            "this needs CuPy: pip install 'holoflow[cuda12]' (CUDA 12) or 'holoflow[cuda13]' (CUDA 13)"
        ) from exc


@functools.cache
def cuda_available() -> bool:
    """Whether CuPy is installed and sees at least one CUDA device."""
    try:
        return bool(_import_cupy().cuda.runtime.getDeviceCount() > 0)
    except Exception:
        return False


def require_cuda(what: str) -> Any:
    """CuPy, after checking a device exists; ``what`` names the feature for the error."""
    cupy = cupy_module()
    if not cuda_available():
        raise ResourceError(f"{what} needs a CUDA device, and none is available")
    return cupy


def array_namespace(array: Any) -> Any:
    """The module that computes on ``array``: ``numpy`` for host memory, ``cupy`` for CUDA memory.

    Takes anything ``as_tensor`` takes (numpy, CuPy, torch, a holoflow ``Tensor``...).

    Raises
    ------
    ImportError
        If ``array`` lives in CUDA memory and CuPy is not installed.
    holoflow.errors.TensorError
        If ``array`` is not an array of a supported kind.
    """
    from holoflow.tensor._tensor import as_tensor

    if as_tensor(array).is_cuda:
        return cupy_module()
    import numpy

    return numpy


def host_buffer(nbytes: int) -> tuple[Any, Any]:
    """A uint8 numpy buffer of ``nbytes`` host memory: page-locked (pinned) when a CUDA device is
    present, so that copies between it and the device run at full speed.

    Returns the array and the object that owns its memory (keep it alive with the array).
    """
    import numpy

    if cuda_available():
        pinned = cupy_module().cuda.alloc_pinned_memory(max(nbytes, 1))
        return numpy.frombuffer(pinned, dtype=numpy.uint8, count=nbytes), pinned
    array = numpy.empty(nbytes, dtype=numpy.uint8)
    return array, array


def current_stream() -> int:
    """The handle of CuPy's current stream on this thread."""
    return int(cupy_module().cuda.get_current_stream().ptr)


def new_stream(non_blocking: bool = True, priority: int = 0) -> Any:
    """A new CuPy stream (its ``.ptr`` is the ``cudaStream_t``)."""
    return require_cuda("a CUDA stream").cuda.Stream(non_blocking=non_blocking, priority=priority)


class _StreamHandle:
    """A raw ``cudaStream_t`` presented through the CUDA stream protocol (``__cuda_stream__``)."""

    __slots__ = ("handle",)

    def __init__(self, handle: int) -> None:
        self.handle = handle

    def __cuda_stream__(self) -> tuple[int, int]:
        return 0, self.handle


_EXTERNAL_STREAMS: dict[int, Any] = {}  # handle -> CuPy wrapper; a wrapper owns nothing
_EXTERNAL_STREAMS_MAX = 256


def external_stream(handle: int) -> Any:
    """A CuPy stream over a ``cudaStream_t`` that CuPy does not own (0: the legacy default stream).

    Usable as a context manager to make CuPy launch on ``handle``. The caller keeps the stream
    alive while the object is used. Wrappers are reused per handle.
    """
    stream = _EXTERNAL_STREAMS.get(handle)
    if stream is not None:
        return stream
    cupy = cupy_module()
    if not handle:
        return cupy.cuda.Stream.null
    from_external = getattr(cupy.cuda.Stream, "from_external", None)
    if from_external is not None:  # CuPy >= 14; ExternalStream is deprecated there
        stream = from_external(_StreamHandle(handle))
    else:
        stream = cupy.cuda.ExternalStream(handle)
    if len(_EXTERNAL_STREAMS) >= _EXTERNAL_STREAMS_MAX:
        _EXTERNAL_STREAMS.clear()
    _EXTERNAL_STREAMS[handle] = stream
    return stream


class _Unsynchronized:
    """A CUDA array interface without the producer's stream, holding the array it describes."""

    __slots__ = ("__cuda_array_interface__", "owner")

    def __init__(self, interface: dict[str, Any], owner: Any) -> None:
        interface.pop("stream", None)
        self.__cuda_array_interface__ = interface
        self.owner = owner


def device_view(array: Any) -> Any:
    """A CuPy view of CUDA ``array`` that does not wait on the host for its producer's stream.

    ``cupy.asarray`` honours the stream in a ``__cuda_array_interface__`` by synchronizing the
    host with it; an operator that already made its own stream wait on the device
    (``receive_cuda_stream``) and queues its work there does not need that, and the wait would
    stop the host from running ahead of the GPU. The view keeps ``array`` alive.
    """
    cupy = cupy_module()
    if isinstance(array, cupy.ndarray):
        return array
    view = _tensor_view(cupy, array)
    if view is not None:
        return view
    interface = getattr(array, "__cuda_array_interface__", None)
    if interface is None:
        return cupy.asarray(array)
    return cupy.asarray(_Unsynchronized(dict(interface), array))


def _tensor_view(cupy: Any, array: Any) -> Any:
    """A CuPy array over a holoflow CUDA Tensor's memory, built from what the tensor records
    (its owner itself when that is a CuPy array with the same layout); None for anything else."""
    from holoflow.tensor._tensor import Tensor

    if type(array) is not Tensor or not array.is_cuda or 0 in array.shape:
        return None
    owner = array.owner
    if (
        type(owner) is cupy.ndarray
        and owner.data.ptr == array.data
        and owner.shape == array.shape
        and owner.strides == array.strides
        and owner.dtype == array.dtype
    ):
        return owner
    itemsize = array.dtype.itemsize
    low = sum(min(0, (n - 1) * s) for n, s in zip(array.shape, array.strides, strict=True))
    high = sum(max(0, (n - 1) * s) for n, s in zip(array.shape, array.strides, strict=True)) + itemsize
    memory = cupy.cuda.UnownedMemory(array.data + low, high - low, array, array.device.device_id)
    pointer = cupy.cuda.MemoryPointer(memory, -low)
    return cupy.ndarray(array.shape, array.dtype, pointer, array.strides)


def to_host(array: Any, stream: int = 0) -> Any:
    """A host (numpy) copy of CUDA ``array``, queued on ``stream`` (0: the legacy default stream),
    returned once the copy is done."""
    cupy = cupy_module()
    with external_stream(stream):
        return cupy.asnumpy(cupy.asarray(array))


_SPARE_EVENTS: dict[int, list[Any]] = {}  # device -> events given back by StreamEvent.recycle
_SPARE_EVENTS_MAX = 64


class StreamEvent:
    """A CUDA event recorded on a stream: the point a consumer must wait for."""

    __slots__ = ("device", "event", "stream")

    def __init__(self, stream: int) -> None:
        cupy = cupy_module()
        self.stream = stream
        self.device = cupy.cuda.runtime.getDevice()
        spare = _SPARE_EVENTS.get(self.device)
        self.event = spare.pop() if spare else cupy.cuda.Event(block=False, disable_timing=True)
        cupy.cuda.runtime.eventRecord(self.event.ptr, stream)

    def done(self) -> bool:
        """Whether the work before the event has finished."""
        return bool(self.event.done)

    def recycle(self) -> None:
        """Give the CUDA event back for a later StreamEvent to record again; only for an event
        that has completed and that nothing else will wait on."""
        spare = _SPARE_EVENTS.setdefault(self.device, [])
        if len(spare) < _SPARE_EVENTS_MAX:
            spare.append(self.event)


def wait_event(stream: int, event: StreamEvent) -> None:
    """Make ``stream`` wait for ``event`` on the device, without blocking the host."""
    if event.stream != stream:
        cupy_module().cuda.runtime.streamWaitEvent(stream, event.event.ptr, 0)
