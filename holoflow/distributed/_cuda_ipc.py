"""CUDA IPC for one edge between two processes on one host: CuPy arrays without host staging.

On by default; ``HOLOFLOW_CUDA_IPC=0`` turns it off (read once per process; see
:func:`cuda_ipc_enabled`).

*Sender.* :class:`IpcExporter` keeps a ring of ``window`` slots. Slot ``i`` serves the edge's
messages ``k`` with ``k % window == i``: the edge lets message ``k`` go only once message
``k - window`` was consumed, and a receiver consumes a message only after its copy out of the
slot finished, so the slot is free. A slot holds one *part* per CUDA array of the message, each
a plain ``cudaMalloc`` allocation (``cupy.cuda.Memory``, not the pool, so the IPC handle's base
is the part itself). :meth:`IpcExporter.export` copies an array into its part device-to-device
on the current stream, waits for the copy, and returns an :class:`IpcDescriptor`. A part too
small is reallocated (a new handle, its ``generation`` bumped); the old allocation is freed at
the part's next use, once the receiver has closed its mapping (CUDA leaves freeing memory
another process maps undefined). Parts never shrink, so the ring holds up to ``window`` times
the largest message on the device.

*Receiver.* :class:`IpcImporter` opens each (sender pid, exporter, slot, part) handle once,
reopening it when its generation changes, copies the data out into a fresh CuPy array on its
own stream on the current device, and waits for the copy before returning: the sender may
reuse the slot as soon as the message is consumed. Everything a descriptor says is checked
before use (:func:`descriptor_problem`); a failure is a :class:`~holoflow.errors.CodecError`.

This module imports CuPy only when an exporter or importer touches the device.
"""

from __future__ import annotations

import ctypes
import functools
import os
import secrets
import threading
from dataclasses import dataclass
from typing import Any

from holoflow import _env
from holoflow.errors import CodecError
from holoflow.tensor import cuda_available, cupy_module

__all__ = [
    "HANDLE_BYTES",
    "MAX_CAPACITY",
    "MAX_DEVICES",
    "MAX_PARTS",
    "MAX_RING",
    "IpcDescriptor",
    "IpcExporter",
    "IpcImporter",
    "cuda_ipc_enabled",
    "cuda_ipc_requested",
    "descriptor_problem",
    "host_id",
    "stats",
]

HANDLE_BYTES = 64
"""Size of a ``cudaIpcMemHandle_t``."""
MAX_RING = 1 << 16
"""The most slots a ring may have (an edge's window)."""
MAX_PARTS = 64
"""The most CUDA arrays of one message that travel by IPC; later ones are staged through the host."""
MAX_DEVICES = 1024
MAX_CAPACITY = 1 << 40
MAX_PID = (1 << 31) - 1
_GRAIN = 1 << 16  # parts grow in steps of 64 KiB
_MEMCPY_DEFAULT = 4  # cudaMemcpyDefault: the direction follows from the (unified) addresses

_stats_lock = threading.Lock()
_STATS = {"exported": 0, "imported": 0, "allocated": 0, "opened": 0, "closed": 0}


def stats() -> dict[str, int]:
    """This process's counts: arrays ``exported`` and ``imported`` by IPC, parts ``allocated``,
    handles ``opened`` and ``closed``."""
    with _stats_lock:
        return dict(_STATS)


def _count(name: str, n: int = 1) -> None:
    with _stats_lock:
        _STATS[name] += n


def cuda_ipc_requested() -> bool:
    """Whether this process's environment allows CUDA IPC: ``HOLOFLOW_CUDA_IPC`` unset or ``1``
    (the default since a GPU run proved it), not ``0``."""
    return (_env.holoflow_setting("CUDA_IPC") or "1") != "0"


@functools.cache
def cuda_ipc_enabled() -> bool:
    """Whether this process moves CuPy arrays by CUDA IPC: ``HOLOFLOW_CUDA_IPC`` not ``0`` and
    CuPy sees a CUDA device (read once per process)."""
    return cuda_ipc_requested() and cuda_available()


@functools.cache
def host_id() -> str:
    """This machine's boot id: processes with the same one share a kernel (and GPU driver)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as file:
            return file.read(64).strip()
    except OSError:
        return ""


@dataclass(frozen=True, slots=True)
class IpcDescriptor:
    """Where one CUDA array of a message waits in the sender's ring.

    ``pid``: the sender's process; ``exporter``: its exporter (one per edge); ``ring``: the
    ring's slot count; ``slot`` and ``part``: the allocation; ``generation``: bumped each time
    that allocation is replaced; ``capacity``: its size in bytes; ``nbytes``: the array's bytes
    at its start; ``device``: the sender's device id; ``handle``: the ``cudaIpcMemHandle_t``.
    """

    pid: int
    exporter: int
    ring: int
    slot: int
    part: int
    generation: int
    capacity: int
    nbytes: int
    device: int
    handle: bytes


def descriptor_problem(descriptor: IpcDescriptor, nbytes: int, max_bytes: int) -> str | None:
    """What is wrong with ``descriptor`` for an array of ``nbytes`` bytes (None: nothing).

    ``max_bytes`` bounds the array (the decoder's ``max_message_bytes``)."""
    d = descriptor
    if type(d.handle) is not bytes or len(d.handle) != HANDLE_BYTES:
        return f"a CUDA IPC handle must be {HANDLE_BYTES} bytes"
    if not 0 < d.pid <= MAX_PID:
        return f"CUDA IPC sender pid {d.pid} is out of range"
    if not 0 < d.ring <= MAX_RING:
        return f"a CUDA IPC ring of {d.ring} slots (1 to {MAX_RING})"
    if not 0 <= d.slot < d.ring:
        return f"CUDA IPC slot {d.slot} outside a ring of {d.ring}"
    if not 0 <= d.part < MAX_PARTS:
        return f"CUDA IPC part {d.part} (at most {MAX_PARTS} per message)"
    if d.generation < 1:
        return f"CUDA IPC generation {d.generation}"
    if not 0 <= d.device < MAX_DEVICES:
        return f"CUDA device id {d.device} is out of range"
    if d.nbytes != nbytes:
        return f"a CUDA IPC buffer of {d.nbytes} bytes for an array of {nbytes} bytes"
    if not 0 < nbytes <= max_bytes:
        return f"a CUDA IPC array of {nbytes} bytes (1 to {max_bytes})"
    if not nbytes <= d.capacity <= MAX_CAPACITY:
        return f"a CUDA IPC allocation of {d.capacity} bytes for {nbytes} bytes"
    return None


# =================================================================================================
# sender
# =================================================================================================
class _Part:
    __slots__ = ("device", "generation", "handle", "memory", "retired")

    def __init__(self, memory: Any, handle: bytes, device: int, generation: int) -> None:
        self.memory = memory
        self.handle = handle
        self.device = device
        self.generation = generation
        self.retired: list[Any] = []  # replaced allocations, freed at the part's next use


class IpcExporter:
    """The sending side of CUDA IPC for one edge.

    Parameters
    ----------
    window : int
        The edge's window: the ring's slot count (1 to :data:`MAX_RING`).

    Call :meth:`begin` with a message's sequence number on the edge before encoding it; the
    codec then calls :meth:`export` for each CUDA array in it. Not thread-safe: one edge is
    sent from one thread at a time.
    """

    def __init__(self, window: int) -> None:
        if not 0 < window <= MAX_RING:
            raise ValueError(f"a CUDA IPC ring needs 1 to {MAX_RING} slots, not {window}")
        self.window = window
        self.exporter = secrets.randbits(63) + 1
        self.pid = os.getpid()
        self._slots: list[list[_Part]] = [[] for _ in range(window)]
        self._slot = 0
        self._part = 0

    def begin(self, seq: int) -> None:
        """The next exports belong to message ``seq`` of the edge (slot ``seq % window``)."""
        self._slot = seq % self.window
        self._part = 0

    def export(self, array: Any, device: int) -> IpcDescriptor | None:
        """Copy C-contiguous CuPy ``array`` (on CUDA device ``device``) into its part of the
        current slot and return its descriptor, once the copy is done.

        Returns None for an empty array or past :data:`MAX_PARTS` arrays in one message: the
        codec stages those through the host. CUDA errors propagate.
        """
        nbytes = int(array.nbytes)
        if nbytes == 0 or self._part >= MAX_PARTS:
            return None
        cupy = cupy_module()
        parts = self._slots[self._slot]
        index = self._part
        with cupy.cuda.Device(device):
            part = parts[index] if index < len(parts) else None
            if part is not None:
                # The message that replaced these was consumed: the receiver, which closes a
                # mapping when it sees the next generation, no longer maps them.
                part.retired.clear()
            if part is None or part.device != device or part.memory.size < nbytes:
                part = self._allocate(cupy, nbytes, device, part)
                if index < len(parts):
                    parts[index] = part
                else:
                    parts.append(part)
            stream = cupy.cuda.get_current_stream()
            cupy.cuda.runtime.memcpyAsync(
                part.memory.ptr, array.data.ptr, nbytes, _MEMCPY_DEFAULT, stream.ptr
            )
            stream.synchronize()
        self._part = index + 1
        _count("exported")
        return IpcDescriptor(
            self.pid,
            self.exporter,
            self.window,
            self._slot,
            index,
            part.generation,
            int(part.memory.size),
            nbytes,
            device,
            part.handle,
        )

    @staticmethod
    def _allocate(cupy: Any, nbytes: int, device: int, old: _Part | None) -> _Part:
        capacity = -(-nbytes // _GRAIN) * _GRAIN
        memory = cupy.cuda.Memory(capacity)
        handle = bytes(cupy.cuda.runtime.ipcGetMemHandle(memory.ptr))
        _count("allocated")
        part = _Part(memory, handle, device, 1 if old is None else old.generation + 1)
        if old is not None:
            # CUDA leaves freeing memory that another process still maps undefined: the old
            # allocation lives until this part's next use, when the receiver has closed it.
            part.retired.append(old.memory)
        return part

    def close(self) -> None:
        """Free every slot (when the edge's messages are all consumed)."""
        self._slots = [[] for _ in range(self.window)]


# =================================================================================================
# receiver
# =================================================================================================
class _Mapping:
    __slots__ = ("generation", "pointer", "size")

    def __init__(self, generation: int, pointer: int, size: int) -> None:
        self.generation = generation
        self.pointer = pointer
        self.size = size


class IpcImporter:
    """The receiving side of CUDA IPC: one per process, shared by its inbound edges.

    Parameters
    ----------
    max_mappings : int
        The most handles open at once (each a mapping of a sender's slot part).

    :meth:`import_array` is called by the decoder (the data listener's thread); :meth:`close`
    once no decoding is under way.
    """

    def __init__(self, max_mappings: int = 1 << 16) -> None:
        self.max_mappings = max_mappings
        self._lock = threading.Lock()
        self._mappings: dict[tuple[int, int, int, int], _Mapping] = {}
        self._streams: dict[int, Any] = {}
        self._closed = False

    @property
    def open_mappings(self) -> int:
        """How many handles are open now."""
        return len(self._mappings)

    def import_array(
        self, descriptor: IpcDescriptor, dtype: Any, shape: tuple[int, ...], max_bytes: int
    ) -> Any:
        """A new CuPy array of ``dtype`` and ``shape`` (C order) on the current device holding
        the bytes ``descriptor`` points at, copied before this returns.

        Raises
        ------
        holoflow.errors.CodecError
            If the descriptor is malformed or over ``max_bytes``, the handle does not open, the
            mapping is smaller than the descriptor says, or the copy fails.
        """
        nbytes = dtype.itemsize
        for extent in shape:
            nbytes *= extent
        problem = descriptor_problem(descriptor, nbytes, max_bytes)
        if problem is not None:
            raise CodecError(problem)
        try:
            cupy = cupy_module()
        except ImportError as exc:
            raise CodecError(f"a CUDA IPC array arrived, but {exc}") from None
        with self._lock:
            if self._closed:
                raise CodecError("a CUDA IPC array arrived after the importer closed")
            try:
                mapping = self._mapping(cupy, descriptor)
                out = cupy.empty(shape, dtype)
                stream = self._stream(cupy)
                cupy.cuda.runtime.memcpyAsync(
                    out.data.ptr, mapping.pointer, nbytes, _MEMCPY_DEFAULT, stream.ptr
                )
                stream.synchronize()
            except CodecError:
                raise
            except Exception as exc:
                raise CodecError(
                    f"CUDA IPC import from pid {descriptor.pid} (slot {descriptor.slot}, part "
                    f"{descriptor.part}) failed: {type(exc).__name__}: {exc}"
                ) from exc
        _count("imported")
        return out

    def _stream(self, cupy: Any) -> Any:
        device = int(cupy.cuda.runtime.getDevice())
        stream = self._streams.get(device)
        if stream is None:
            stream = self._streams[device] = cupy.cuda.Stream(non_blocking=True)
        return stream

    def _mapping(self, cupy: Any, d: IpcDescriptor) -> _Mapping:
        key = (d.pid, d.exporter, d.slot, d.part)
        mapping = self._mappings.get(key)
        if mapping is not None and mapping.generation == d.generation:
            if d.nbytes > mapping.size:
                raise CodecError(
                    f"CUDA IPC slot {d.slot} part {d.part} of pid {d.pid}: {d.nbytes} bytes in a "
                    f"mapping of {mapping.size}"
                )
            return mapping
        if mapping is not None:
            if d.generation < mapping.generation:
                raise CodecError(
                    f"CUDA IPC slot {d.slot} part {d.part} of pid {d.pid}: generation "
                    f"{d.generation} after {mapping.generation}"
                )
            del self._mappings[key]
            self._close_one(cupy, mapping)
        if len(self._mappings) >= self.max_mappings:
            raise CodecError(f"more than {self.max_mappings} CUDA IPC mappings open")
        pointer = int(cupy.cuda.runtime.ipcOpenMemHandle(d.handle))
        _count("opened")
        size = _mapped_size(pointer)
        if size is not None and size < d.capacity:
            self._close_one(cupy, _Mapping(d.generation, pointer, size))
            raise CodecError(
                f"CUDA IPC slot {d.slot} part {d.part} of pid {d.pid}: the sender says "
                f"{d.capacity} bytes, the mapping has {size}"
            )
        mapping = _Mapping(d.generation, pointer, d.capacity if size is None else min(size, d.capacity))
        self._mappings[key] = mapping
        return mapping

    @staticmethod
    def _close_one(cupy: Any, mapping: _Mapping) -> None:
        try:
            cupy.cuda.runtime.ipcCloseMemHandle(mapping.pointer)
        except Exception:  # the sender may be gone; the mapping goes with this process anyway
            pass
        _count("closed")

    def close(self) -> None:
        """Close every open handle; later imports are refused."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            mappings, self._mappings = list(self._mappings.values()), {}
            self._streams = {}  # every copy on them was waited for
        if not mappings:
            return
        cupy = cupy_module()
        for mapping in mappings:
            self._close_one(cupy, mapping)


# =================================================================================================
# the driver API's view of a mapping's size
# =================================================================================================
@functools.cache
def _driver_range() -> Any:
    """``cuMemGetAddressRange_v2`` from the CUDA driver, or None where it cannot be loaded."""
    try:
        driver = ctypes.CDLL("libcuda.so.1")
        function = driver.cuMemGetAddressRange_v2
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_int
    function.argtypes = [ctypes.POINTER(ctypes.c_uint64), ctypes.POINTER(ctypes.c_size_t), ctypes.c_uint64]
    return function


def _mapped_size(pointer: int) -> int | None:
    """The bytes of the allocation mapped at ``pointer`` from ``pointer`` on, as the CUDA driver
    reports them; None where the driver cannot say (then the sender's word is taken)."""
    function = _driver_range()
    if function is None:
        return None
    base = ctypes.c_uint64()
    size = ctypes.c_size_t()
    if function(ctypes.byref(base), ctypes.byref(size), ctypes.c_uint64(pointer)) != 0:
        return None
    return int(base.value) + int(size.value) - pointer
