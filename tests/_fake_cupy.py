"""A fake ``cupy`` for testing holoflow's CUDA stream and event protocol on a machine without a GPU.

:class:`FakeGPU` is one pretend device. Its ``module`` is a ``cupy`` namespace just rich enough
for holoflow's device layer: streams (with CuPy's thread-local current stream), events, the
runtime calls holoflow makes, ``UnownedMemory``/``MemoryPointer`` and an ``ndarray`` that speaks
``__cuda_array_interface__``. Device memory is numpy memory: a fake pointer is an address in a
registry of numpy buffers, so the values computed are real, and a view that reaches outside the
memory it was built on raises instead of reading a neighbour (a bounds check real CUDA lacks).

Every call that matters to the protocol is appended to :attr:`FakeGPU.log` in order: stream and
event creation, ``eventRecord``, ``streamWaitEvent``, each host wait (``eventSynchronize``,
``streamSynchronize``, ``deviceSynchronize``, a blocking ``memcpyDtoH``), each kernel launch and
copy with the stream it was queued on. Work is queued, not run: an event recorded while
:attr:`FakeGPU.busy` is set stays not ``done`` until :meth:`FakeGPU.complete` (or a host wait
on it).

:func:`fake_cupy_session` installs fakes for one test and restores everything afterwards.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import math
import sys
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

__all__ = ["HOST_WAITS", "CUDARuntimeError", "FakeGPU", "ForeignDeviceArray", "extent", "fake_cupy_session"]

# Calls that block the host until the device catches up (a copy to the host is a blocking one).
HOST_WAITS = frozenset({"eventSynchronize", "streamSynchronize", "deviceSynchronize", "memcpyDtoH"})
LEGACY_DEFAULT_STREAM = 1
PER_THREAD_DEFAULT_STREAM = 2
_ALIGNMENT = 512


class CUDARuntimeError(RuntimeError):
    """What the fake runtime raises for a call real CUDA would reject."""


def extent(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> tuple[int, int]:
    """Byte offsets ``(low, high)`` from the first element spanning every element of a view."""
    if 0 in shape:
        return 0, 0
    low = sum(min(0, (n - 1) * s) for n, s in zip(shape, strides))
    high = sum(max(0, (n - 1) * s) for n, s in zip(shape, strides)) + itemsize
    return low, high


def _contiguous(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


class FakeGPU:
    """One fake CUDA device: memory, streams, events, the ordered call log and ``module``.

    Parameters
    ----------
    device_count : int or BaseException
        What ``cuda.runtime.getDeviceCount()`` returns, or raises when an exception.
    from_external : bool
        Whether ``cuda.Stream.from_external`` exists (CuPy >= 14) or only ``ExternalStream``.
    export_stream : bool
        Whether ``ndarray.__cuda_array_interface__`` names the current stream (CuPy's default,
        interface version 3) or leaves it out.
    """

    def __init__(
        self,
        *,
        device_count: int | BaseException = 1,
        from_external: bool = True,
        export_stream: bool = True,
    ) -> None:
        self.log: list[tuple[Any, ...]] = []
        self.busy = False
        self.device_count = device_count
        self.export_stream = export_stream
        self.events: dict[int, Any] = {}
        self.streams: set[int] = {0, LEGACY_DEFAULT_STREAM, PER_THREAD_DEFAULT_STREAM}
        self._handles = itertools.count(0x5000, 0x10)
        self._lock = threading.RLock()  # a finalizer may free memory during malloc
        self._local = threading.local()
        self._next_address = 0x7F00_0000_0000
        self._bases: list[int] = []  # sorted base addresses of live allocations
        self._buffers: dict[int, np.ndarray] = {}  # base address -> its uint8 numpy buffer
        self.module = _build_module(self, from_external)

    # -- what tests look at ---------------------------------------------------------------------
    def calls(self, *names: str) -> list[tuple[Any, ...]]:
        """The log entries whose call is one of ``names``, in order."""
        return [entry for entry in self.log if entry[0] in names]

    def host_waits(self) -> list[tuple[Any, ...]]:
        """The log entries that block the host until the device catches up."""
        return [entry for entry in self.log if entry[0] in HOST_WAITS]

    def complete(self) -> None:
        """The device catches up: every event recorded so far is done."""
        for event in list(self.events.values()):
            event._done = True

    def is_live(self, pointer: int) -> bool:
        """Whether ``pointer`` lies in an allocation that has not been freed."""
        index = bisect.bisect_right(self._bases, pointer) - 1
        if index < 0:
            return False
        base = self._bases[index]
        return pointer < base + max(self._buffers[base].size, 1)

    @property
    def allocations(self) -> int:
        """How many allocations are live."""
        return len(self._bases)

    def host_view(self, array: Any) -> np.ndarray:
        """The numpy view of a fake ``ndarray``'s device memory (no copy, nothing logged)."""
        return array._view  # type: ignore[no-any-return]

    # -- internals used by the fake module ------------------------------------------------------
    def record(self, *entry: Any) -> None:
        self.log.append(entry)

    def handle(self) -> int:
        with self._lock:
            return next(self._handles)

    def current(self) -> Any:
        return getattr(self._local, "stream", None) or self.module.cuda.Stream.null

    def push_stream(self, stream: Any) -> None:
        stack = self._local.__dict__.setdefault("stack", [])
        stack.append(self.current())
        self._local.stream = stream

    def pop_stream(self) -> None:
        self._local.stream = self._local.stack.pop()

    def check_stream(self, handle: int) -> None:
        if handle not in self.streams:
            raise CUDARuntimeError(f"cudaErrorInvalidResourceHandle: no stream {handle:#x}")

    def malloc(self, size: int) -> int:
        with self._lock:
            base = self._next_address
            self._next_address += (size // _ALIGNMENT + 2) * _ALIGNMENT  # a gap after each
            bisect.insort(self._bases, base)
            self._buffers[base] = np.zeros(size, np.uint8)
        return base

    def free(self, base: int) -> None:
        with self._lock:
            self._bases.remove(base)
            del self._buffers[base]

    def locate(self, pointer: int, size: int) -> tuple[int, np.ndarray]:
        """The allocation holding bytes ``[pointer, pointer + size)``: its base and buffer."""
        index = bisect.bisect_right(self._bases, pointer) - 1
        if index >= 0:
            base = self._bases[index]
            buffer = self._buffers[base]
            if pointer + size <= base + buffer.size:
                return base, buffer
        raise CUDARuntimeError(
            f"cudaErrorInvalidValue: {size} bytes at {pointer:#x} are not inside one live allocation"
        )

    def view(
        self, memptr: Any, shape: tuple[int, ...], dtype: np.dtype, strides: tuple[int, ...]
    ) -> np.ndarray:
        """A numpy view of device memory, refusing one that reaches outside ``memptr.mem``."""
        if 0 in shape:
            return np.empty(shape, dtype)
        low, high = extent(shape, strides, dtype.itemsize)
        mem = memptr.mem
        if memptr.ptr + low < mem.ptr or memptr.ptr + high > mem.ptr + mem.size:
            raise CUDARuntimeError(
                f"view of {shape} with strides {strides} at {memptr.ptr:#x} reaches outside its "
                f"memory [{mem.ptr:#x}, {mem.ptr + mem.size:#x})"
            )
        base, buffer = self.locate(mem.ptr, mem.size)
        return np.ndarray(shape, dtype, buffer=buffer, offset=memptr.ptr - base, strides=strides)


def _build_module(gpu: FakeGPU, from_external: bool) -> types.ModuleType:
    """The ``cupy`` namespace of ``gpu``."""

    class Stream:
        """``cupy.cuda.Stream``: ``ptr`` is the handle; ``with stream:`` makes it current."""

        null: Stream

        def __init__(
            self, null: bool = False, non_blocking: bool = False, ptr: int = 0, priority: int | None = None
        ) -> None:
            if null:
                self.ptr = 0
            elif ptr:
                self.ptr = ptr
                gpu.streams.add(ptr)
            else:
                self.ptr = gpu.handle()
                gpu.streams.add(self.ptr)
                gpu.record("Stream", self.ptr, non_blocking, priority)

        def __enter__(self) -> Stream:
            gpu.push_stream(self)
            return self

        def __exit__(self, *exc_info: object) -> None:
            gpu.pop_stream()

        def synchronize(self) -> None:
            gpu.record("streamSynchronize", self.ptr)

        def __repr__(self) -> str:
            return f"<fake Stream {self.ptr:#x}>"

    def _from_external(cls: type[Stream], obj: Any) -> Stream:
        version, handle = obj.__cuda_stream__()
        if not isinstance(version, int) or not isinstance(handle, int):
            raise TypeError(f"__cuda_stream__ must return (int, int), got {(version, handle)!r}")
        gpu.record("Stream.from_external", handle)
        return cls(ptr=handle)

    if from_external:
        Stream.from_external = classmethod(_from_external)  # type: ignore[attr-defined]
    Stream.null = Stream(null=True)

    class ExternalStream(Stream):
        """``cupy.cuda.ExternalStream`` (deprecated in CuPy 14)."""

        def __init__(self, ptr: int, device_id: int = -1) -> None:
            gpu.record("ExternalStream", ptr)
            super().__init__(ptr=ptr)

    class Event:
        """``cupy.cuda.Event``: ``done`` once the work before its last record has run."""

        def __init__(self, block: bool = False, disable_timing: bool = False, interprocess: bool = False):
            self.ptr = gpu.handle()
            self._done = True
            self.recorded_on: int | None = None
            gpu.events[self.ptr] = self
            gpu.record("Event", self.ptr)

        @property
        def done(self) -> bool:
            return self._done

        def synchronize(self) -> None:
            gpu.record("eventSynchronize", self.ptr)
            self._done = True

    class Device:
        """``cupy.cuda.Device``: a context manager selecting the device (only device 0 exists)."""

        def __init__(self, device: int = 0) -> None:
            if not 0 <= device < runtime.getDeviceCount():
                raise CUDARuntimeError(f"cudaErrorInvalidDevice: {device}")
            self.id = device

        def __enter__(self) -> Device:
            return self

        def __exit__(self, *exc_info: object) -> None:
            pass

        def synchronize(self) -> None:
            gpu.record("deviceSynchronize")

    class Memory:
        """Memory CuPy allocated; freed when the last reference goes."""

        def __init__(self, size: int) -> None:
            self.ptr = gpu.malloc(size)
            self.size = size
            self.device_id = 0
            weakref.finalize(self, gpu.free, self.ptr)

    class UnownedMemory:
        """``cupy.cuda.UnownedMemory``: memory someone else owns, kept alive through ``owner``."""

        def __init__(self, ptr: int, size: int, owner: Any, device_id: int | None = None) -> None:
            gpu.locate(ptr, size)
            self.ptr, self.size, self.owner = ptr, size, owner
            self.device_id = 0 if device_id is None else device_id
            gpu.record("UnownedMemory", ptr, size)

    class _Borrowed:
        """Memory ``asarray`` found behind a ``__cuda_array_interface__`` (holds the object)."""

        def __init__(self, ptr: int, size: int, owner: Any) -> None:
            gpu.locate(ptr, size)
            self.ptr, self.size, self.owner, self.device_id = ptr, size, owner, 0

    class MemoryPointer:
        """``cupy.cuda.MemoryPointer``: ``offset`` bytes into ``mem``."""

        def __init__(self, mem: Any, offset: int) -> None:
            self.mem = mem
            self.ptr = mem.ptr + offset
            self.device_id = mem.device_id

    class ndarray:
        """``cupy.ndarray`` over fake device memory."""

        def __init__(
            self,
            shape: Any,
            dtype: Any = float,
            memptr: MemoryPointer | None = None,
            strides: Any = None,
            order: str = "C",
        ) -> None:
            shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(n) for n in shape)
            dtype = np.dtype(dtype)
            strides = (
                _contiguous(shape, dtype.itemsize) if strides is None else tuple(int(s) for s in strides)
            )
            if memptr is None:
                memptr = MemoryPointer(Memory(math.prod(shape) * dtype.itemsize), 0)
            self.data = memptr
            self._view = gpu.view(memptr, shape, dtype, strides)

        shape = property(lambda self: self._view.shape)
        strides = property(lambda self: self._view.strides)
        dtype = property(lambda self: self._view.dtype)
        ndim = property(lambda self: self._view.ndim)
        size = property(lambda self: self._view.size)
        nbytes = property(lambda self: self._view.nbytes)

        @property
        def __cuda_array_interface__(self) -> dict[str, Any]:
            contiguous = self.strides == _contiguous(self.shape, self.dtype.itemsize)
            interface = {
                "shape": self.shape,
                "typestr": self.dtype.str,
                "descr": self.dtype.descr,
                "data": (self.data.ptr, False),
                "strides": None if contiguous else self.strides,
                "version": 3,
            }
            if gpu.export_stream:
                interface["stream"] = gpu.current().ptr or LEGACY_DEFAULT_STREAM
            return interface

        def __array__(self, *args: Any, **kwargs: Any) -> np.ndarray:
            raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()`")

        def get(self, stream: Stream | None = None) -> np.ndarray:
            gpu.record("memcpyDtoH", (stream or gpu.current()).ptr)
            return self._view.copy()

        def copy(self) -> ndarray:
            return _launch("copy", lambda: self._view.copy())

        def astype(self, dtype: Any) -> ndarray:
            return _launch("astype", lambda: self._view.astype(dtype))

        def sum(self) -> ndarray:
            return _launch("sum", lambda: np.asarray(self._view.sum()))

        def _binary(self, name: str, other: Any, op: Callable[[Any, Any], Any]) -> ndarray:
            value = other._view if isinstance(other, ndarray) else other
            return _launch(name, lambda: op(self._view, value))

        def __add__(self, other: Any) -> ndarray:
            return self._binary("add", other, lambda a, b: a + b)

        __radd__ = __add__

        def __sub__(self, other: Any) -> ndarray:
            return self._binary("subtract", other, lambda a, b: a - b)

        def __mul__(self, other: Any) -> ndarray:
            return self._binary("multiply", other, lambda a, b: a * b)

        __rmul__ = __mul__

        def __getitem__(self, key: Any) -> ndarray:
            part = self._view[key]
            if isinstance(part, np.ndarray) and part.size and np.shares_memory(part, self._view):
                base, buffer = gpu.locate(self.data.mem.ptr, self.data.mem.size)
                pointer = base + part.__array_interface__["data"][0] - buffer.__array_interface__["data"][0]
                memptr = MemoryPointer(self.data.mem, pointer - self.data.mem.ptr)
                return ndarray(part.shape, part.dtype, memptr, part.strides)
            return _launch("getitem", lambda: np.array(part))

        def __setitem__(self, key: Any, value: Any) -> None:
            gpu.record("launch", "setitem", gpu.current().ptr)
            self._view[key] = value._view if isinstance(value, ndarray) else value

        def __len__(self) -> int:
            return len(self._view)

        @property
        def flags(self) -> Any:
            return types.SimpleNamespace(
                c_contiguous=self._view.flags.c_contiguous, f_contiguous=self._view.flags.f_contiguous
            )

        @property
        def T(self) -> ndarray:
            part = self._view.T
            return ndarray(part.shape, part.dtype, self.data, part.strides)

        def __repr__(self) -> str:
            return f"fake_cupy.ndarray({self._view!r})"

    ndarray.__module__ = "cupy"  # holoflow recognises CuPy arrays by module and name, as here

    def _new(values: np.ndarray) -> ndarray:
        array = ndarray(values.shape, values.dtype)
        array._view[...] = values
        return array

    def _launch(name: str, compute: Callable[[], Any]) -> ndarray:
        gpu.record("launch", name, gpu.current().ptr)
        return _new(np.asarray(compute()))

    def get_current_stream() -> Stream:
        return gpu.current()

    def getDeviceCount() -> int:
        if isinstance(gpu.device_count, BaseException):
            raise gpu.device_count
        return gpu.device_count

    def getDevice() -> int:
        return 0

    def eventRecord(event: int, stream: int) -> None:
        if event not in gpu.events:
            raise CUDARuntimeError(f"cudaErrorInvalidResourceHandle: no event {event:#x}")
        gpu.check_stream(stream)
        recorded = gpu.events[event]
        recorded.recorded_on = stream
        recorded._done = not gpu.busy
        gpu.record("eventRecord", event, stream)

    def streamWaitEvent(stream: int, event: int, flags: int = 0) -> None:
        gpu.check_stream(stream)
        waited = gpu.events.get(event)
        if waited is None or waited.recorded_on is None:
            raise CUDARuntimeError(f"streamWaitEvent on event {event:#x}, which was never recorded")
        gpu.record("streamWaitEvent", stream, event, flags)

    def streamSynchronize(stream: int) -> None:
        gpu.check_stream(stream)
        gpu.record("streamSynchronize", stream)

    def deviceSynchronize() -> None:
        gpu.record("deviceSynchronize")

    def memcpyAsync(dst: int, src: int, size: int, kind: int, stream: int) -> None:
        """Copies at once (the fake device is never behind for copies); logged with its stream."""
        gpu.check_stream(stream)
        if size:
            dst_base, dst_buffer = gpu.locate(dst, size)
            src_base, src_buffer = gpu.locate(src, size)
            dst_buffer[dst - dst_base : dst - dst_base + size] = src_buffer[
                src - src_base : src - src_base + size
            ]
        gpu.record("memcpyAsync", dst, src, size, kind, stream)

    # CUDA IPC within one process: a handle names an allocation's base; opening it returns that
    # base again (real CUDA maps it at another address, and only in another process).
    def ipcGetMemHandle(pointer: int) -> bytes:
        base, _ = gpu.locate(pointer, 1)
        if base != pointer:
            raise CUDARuntimeError("cudaErrorInvalidValue: an IPC handle is for an allocation's base")
        gpu.record("ipcGetMemHandle", pointer)
        return b"fakeipc\0" + pointer.to_bytes(8, "little") + bytes(48)

    def ipcOpenMemHandle(handle: bytes, flags: int = 1) -> int:
        if not isinstance(handle, bytes) or len(handle) != 64 or handle[:8] != b"fakeipc\0":
            raise CUDARuntimeError("cudaErrorInvalidValue: not an IPC handle")
        pointer = int.from_bytes(handle[8:16], "little")
        if not gpu.is_live(pointer):
            raise CUDARuntimeError("cudaErrorInvalidResourceHandle: the IPC handle's memory is gone")
        gpu.record("ipcOpenMemHandle", pointer, flags)
        return pointer

    def ipcCloseMemHandle(pointer: int) -> None:
        gpu.record("ipcCloseMemHandle", pointer)

    def ascontiguousarray(array: ndarray) -> ndarray:
        return _launch("ascontiguousarray", lambda: np.ascontiguousarray(array._view))

    def alloc(nbytes: int) -> MemoryPointer:
        """``cupy.cuda.alloc``: fresh device memory from the (fake) memory pool."""
        gpu.record("alloc", nbytes)
        return MemoryPointer(Memory(nbytes), 0)

    def alloc_pinned_memory(nbytes: int) -> bytearray:
        gpu.record("alloc_pinned_memory", nbytes)
        return bytearray(nbytes)  # host memory; the real one is page-locked

    def pointerGetAttributes(pointer: int) -> Any:
        gpu.locate(pointer, 1)
        return types.SimpleNamespace(device=0, devicePointer=pointer)

    def asarray(obj: Any, dtype: Any = None) -> ndarray:
        if isinstance(obj, ndarray):
            return obj if dtype is None else obj.astype(dtype)
        interface = getattr(obj, "__cuda_array_interface__", None)
        if interface is None:
            host = np.asarray(obj, dtype)
            gpu.record("memcpyHtoD", gpu.current().ptr)
            return _new(host)
        stream = interface.get("stream")
        if stream is not None:  # CuPy makes the host wait for the producer's stream
            streamSynchronize(int(stream))
        kind = np.dtype(interface["typestr"])
        shape = tuple(interface["shape"])
        strides = interface.get("strides")
        strides = _contiguous(shape, kind.itemsize) if strides is None else tuple(strides)
        if 0 in shape:
            return ndarray(shape, kind)
        pointer = int(interface["data"][0])
        low, high = extent(shape, strides, kind.itemsize)
        memory = _Borrowed(pointer + low, high - low, obj)
        array = ndarray(shape, kind, MemoryPointer(memory, -low), strides)
        return array if dtype is None else array.astype(dtype)

    def asnumpy(array: Any, stream: Stream | None = None) -> np.ndarray:
        if isinstance(array, ndarray):
            return array.get(stream)
        return np.asarray(array)

    def empty(shape: Any, dtype: Any = float) -> ndarray:
        return ndarray(shape, dtype)

    def zeros(shape: Any, dtype: Any = float) -> ndarray:
        return ndarray(shape, dtype)  # fresh fake memory is zeroed

    def arange(*args: Any, dtype: Any = None) -> ndarray:
        return _launch("arange", lambda: np.arange(*args, dtype=dtype))

    runtime = types.SimpleNamespace(
        CUDARuntimeError=CUDARuntimeError,
        getDeviceCount=getDeviceCount,
        getDevice=getDevice,
        eventRecord=eventRecord,
        streamWaitEvent=streamWaitEvent,
        streamSynchronize=streamSynchronize,
        deviceSynchronize=deviceSynchronize,
        pointerGetAttributes=pointerGetAttributes,
        memcpyAsync=memcpyAsync,
        ipcGetMemHandle=ipcGetMemHandle,
        ipcOpenMemHandle=ipcOpenMemHandle,
        ipcCloseMemHandle=ipcCloseMemHandle,
    )
    cuda = types.SimpleNamespace(
        Device=Device,
        Event=Event,
        ExternalStream=ExternalStream,
        Memory=Memory,
        MemoryPointer=MemoryPointer,
        Stream=Stream,
        UnownedMemory=UnownedMemory,
        alloc=alloc,
        alloc_pinned_memory=alloc_pinned_memory,
        get_current_stream=get_current_stream,
        runtime=runtime,
    )
    module = types.ModuleType("cupy", "A fake CuPy over numpy memory (tests/_fake_cupy.py).")
    module.__dict__.update(
        cuda=cuda,
        ndarray=ndarray,
        asarray=asarray,
        ascontiguousarray=ascontiguousarray,
        asnumpy=asnumpy,
        empty=empty,
        zeros=zeros,
        arange=arange,
        uint8=np.uint8,
        int32=np.int32,
        float32=np.float32,
        float64=np.float64,
    )
    return module


class ForeignDeviceArray:
    """A CUDA array of another library (as Numba's or PyCUDA's): only ``__cuda_array_interface__``.

    Views ``array``'s memory and keeps it alive; ``stream`` is the stream it names (None: none).
    """

    def __init__(self, array: Any, stream: int | None = None) -> None:
        self.array = array
        interface = dict(array.__cuda_array_interface__)
        interface.pop("stream", None)
        if stream is not None:
            interface["stream"] = stream
        self.__cuda_array_interface__ = interface


def _clear_caches() -> None:
    from holoflow.tensor import _cuda, _tensor

    _cuda._import_cupy.cache_clear()
    _cuda.cuda_available.cache_clear()
    _tensor._cupy_stream_export.cache_clear()


@contextlib.contextmanager
def fake_cupy_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeGPU]]:
    """Within the block, ``make(**options)`` installs a new :class:`FakeGPU` as ``cupy``.

    holoflow's cached look-ups (``_import_cupy``, ``cuda_available``, the stream export probe)
    and its per-process stream and event caches start empty, and are emptied again on leaving,
    before ``monkeypatch`` puts ``sys.modules['cupy']`` and the caches back.
    """
    from holoflow.tensor import _cuda, _tensor

    def make(**options: Any) -> FakeGPU:
        gpu = FakeGPU(**options)
        _clear_caches()
        monkeypatch.setitem(sys.modules, "cupy", gpu.module)
        monkeypatch.setattr(_cuda, "_SPARE_EVENTS", {})
        monkeypatch.setattr(_cuda, "_EXTERNAL_STREAMS", {})
        monkeypatch.setattr(_tensor, "_WRAPPERS", {})
        return gpu

    _clear_caches()
    try:
        yield make
    finally:
        _clear_caches()
