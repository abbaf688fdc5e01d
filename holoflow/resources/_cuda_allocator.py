"""CUDA allocators with Holoscan's signatures: ``RMMAllocator`` and ``StreamOrderedAllocator``.

Design
======
Each allocator keeps a budget per kind of memory (device, and for RMM pinned host memory): the
``*_max_size`` parameter. ``empty`` takes the array's size from the budget and hands out an
array whose memory is owned by a small :class:`_Lease`; when the last array or Tensor viewing
it is garbage collected, the lease's ``__del__`` gives the bytes back. Device memory comes from
CuPy's memory pool (which keeps freed blocks for reuse, as RMM's pool does); host memory from
pinned buffers, or ordinary ones without CUDA.

Where CUDA is missing, device requests are served from host memory against the same budget,
with one :class:`~holoflow.errors.CPUFallbackWarning` per process, so a graph built for a GPU
runs (and runs out of memory) the same way on a CPU.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow._helpers import parse_size_bytes
from holoflow.errors import ConfigError, ResourceError
from holoflow.resources._allocator import Allocator, MemoryStorageType, device_falls_back_to_host
from holoflow.tensor import cupy_module, host_buffer

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["CudaAllocator", "RMMAllocator", "StreamOrderedAllocator"]

_DEVICE = MemoryStorageType.DEVICE
_HOST = MemoryStorageType.HOST


class _Lease:
    """Owns one allocation while any array views it; returns its bytes to the budget when collected."""

    __slots__ = ("__weakref__", "allocator", "memory", "nbytes", "storage")

    def __init__(
        self, allocator: CudaAllocator, storage: MemoryStorageType, nbytes: int, memory: Any
    ) -> None:
        self.allocator = allocator
        self.storage = storage
        self.nbytes = nbytes
        self.memory = memory

    def __del__(self) -> None:
        self.allocator._give_back(self.storage, self.nbytes)


class _HostLeaseView:
    __slots__ = ("__array_interface__", "lease")

    def __init__(self, lease: _Lease, pointer: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.lease = lease
        self.__array_interface__ = {
            "shape": shape,
            "typestr": dtype.str,
            "data": (pointer, False),
            "strides": None,
            "version": 3,
        }


class CudaAllocator(Allocator):
    """Base of the CUDA allocators: device memory (and pinned host memory) from budgets of
    bytes, as Holoscan's ``CudaAllocator`` is the base of ``RMMAllocator`` and
    ``StreamOrderedAllocator``.

    Subclasses set the budgets with :meth:`_set_budgets`. Where CUDA is missing, device memory
    is host memory (see the module notes).
    """

    _default_name = "cuda_allocator"

    def __init__(self, fragment: Fragment | Subgraph, name: str = "cuda_allocator") -> None:
        super().__init__(fragment, name=name)
        self.dev_id = 0
        self._budgets: dict[MemoryStorageType, int] = {}
        self._used: dict[MemoryStorageType, int] = {}
        self._lock = threading.Lock()
        self._on_host = False

    @property
    def device_on_host(self) -> bool:
        """Whether device memory is served from host memory because CUDA is missing."""
        return self._on_host

    def _set_budgets(self, budgets: dict[MemoryStorageType, tuple[str, int | str, str, int | str]]) -> None:
        """Parse ``{storage: (initial name, initial size, max name, max size)}`` into budgets.

        Raises
        ------
        ConfigError
            If a size does not parse, or an initial size exceeds its maximum.
        """
        for storage, (initial_name, initial, max_name, maximum) in budgets.items():
            initial_bytes = self._parse(initial_name, initial)
            max_bytes = self._parse(max_name, maximum)
            if initial_bytes > max_bytes:
                raise ConfigError(
                    f"{self._label()}: {initial_name} {initial!r} exceeds {max_name} {maximum!r}"
                )
            self._budgets[storage] = max_bytes
            self._used[storage] = 0
        if _DEVICE in self._budgets:
            self._on_host = device_falls_back_to_host(self._label())

    def _parse(self, param: str, value: int | str) -> int:
        try:
            return parse_size_bytes(value)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{self._label()}: {param}: {exc}") from exc

    def pool_size(self, storage_type: MemoryStorageType | int = _DEVICE) -> int:
        """The most bytes of ``storage_type`` this allocator hands out at once (0: none)."""
        return self._budgets.get(MemoryStorageType(storage_type), 0)

    def used(self, storage_type: MemoryStorageType | int = _DEVICE) -> int:
        """Bytes of ``storage_type`` held by live arrays now."""
        with self._lock:
            return self._used.get(MemoryStorageType(storage_type), 0)

    def is_available(self, size: int, storage_type: MemoryStorageType | int = _DEVICE) -> bool:
        """Whether ``size`` more bytes of ``storage_type`` fit in the budget now."""
        if size < 0:
            raise ResourceError(f"{self._label()}: negative size {size}")
        storage = MemoryStorageType(storage_type)
        with self._lock:
            return storage in self._budgets and self._used[storage] + size <= self._budgets[storage]

    def empty(
        self,
        shape: int | tuple[int, ...],
        dtype: Any = np.uint8,
        storage_type: MemoryStorageType | int = _DEVICE,
    ) -> Any:
        """An uninitialized array: CuPy for device storage (numpy where CUDA is missing), numpy
        for host storage (pinned when CUDA is present).

        Raises
        ------
        holoflow.errors.ResourceError
            If the allocator has no memory of that kind, or the array does not fit in what is
            left of the budget.
        """
        storage = MemoryStorageType(storage_type)
        if storage is MemoryStorageType.SYSTEM:
            storage = _HOST
        if storage not in self._budgets:
            raise ResourceError(
                f"{self._label()}: no {storage.name} memory here; it serves "
                f"{', '.join(s.name for s in self._budgets)}"
            )
        dtype = np.dtype(dtype)
        shape_tuple = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        nbytes = int(np.prod(shape_tuple, dtype=np.int64)) * dtype.itemsize
        self._take(storage, nbytes)
        try:
            if storage is _DEVICE and not self._on_host:
                cupy = cupy_module()
                with cupy.cuda.Device(self.dev_id):
                    pointer = cupy.cuda.alloc(max(nbytes, 1))
                lease = _Lease(self, storage, nbytes, pointer)
                memory = cupy.cuda.UnownedMemory(pointer.ptr, max(nbytes, 1), lease, self.dev_id)
                return cupy.ndarray(shape_tuple, dtype=dtype, memptr=cupy.cuda.MemoryPointer(memory, 0))
            buffer, owner = host_buffer(max(nbytes, 1))
        except BaseException:
            self._give_back(storage, nbytes)
            raise
        lease = _Lease(self, storage, nbytes, owner)
        pointer_value = int(buffer.__array_interface__["data"][0])
        return np.asarray(_HostLeaseView(lease, pointer_value, shape_tuple, dtype))

    def _take(self, storage: MemoryStorageType, nbytes: int) -> None:
        with self._lock:
            left = self._budgets[storage] - self._used[storage]
            if nbytes > left:
                raise ResourceError(
                    f"{self._label()}: {nbytes} bytes of {storage.name} memory do not fit: "
                    f"{left} of {self._budgets[storage]} left; release arrays or raise the max size"
                )
            self._used[storage] += nbytes

    def _give_back(self, storage: MemoryStorageType, nbytes: int) -> None:
        with self._lock:
            self._used[storage] -= nbytes


class RMMAllocator(CudaAllocator):
    """Device and pinned host memory pools, as Holoscan's RAPIDS-memory-manager allocator.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    device_memory_initial_size, device_memory_max_size : str
        The device pool's initial and largest size: a number and a unit, B, KB, MB, GB or TB
        (powers of 1024), e.g. ``"256MB"`` or ``"1 GB"``.
    host_memory_initial_size, host_memory_max_size : str
        The same for the pinned host pool.
    dev_id : int
        CUDA device of the device pool.
    name : str
        Resource name.

    Raises
    ------
    ConfigError
        If a size does not parse, or an initial size exceeds its maximum.
    """

    _default_name = "rmm_pool"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        device_memory_initial_size: str = "16MB",
        device_memory_max_size: str = "32MB",
        host_memory_initial_size: str = "16MB",
        host_memory_max_size: str = "32MB",
        dev_id: int = 0,
        name: str = "rmm_pool",
    ) -> None:
        super().__init__(fragment, name=name)
        self.device_memory_initial_size = device_memory_initial_size
        self.device_memory_max_size = device_memory_max_size
        self.host_memory_initial_size = host_memory_initial_size
        self.host_memory_max_size = host_memory_max_size
        self.dev_id = int(dev_id)
        self._set_budgets(
            {
                _DEVICE: (
                    "device_memory_initial_size",
                    device_memory_initial_size,
                    "device_memory_max_size",
                    device_memory_max_size,
                ),
                _HOST: (
                    "host_memory_initial_size",
                    host_memory_initial_size,
                    "host_memory_max_size",
                    host_memory_max_size,
                ),
            }
        )


class StreamOrderedAllocator(CudaAllocator):
    """A device memory pool, as Holoscan's stream-ordered (``cudaMallocAsync``) allocator.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    device_memory_initial_size, device_memory_max_size : str
        The pool's initial and largest size: a number and a unit, B, KB, MB, GB or TB (powers
        of 1024), e.g. ``"256MB"``.
    release_threshold : str
        Memory the pool keeps reserved before releasing to the system (a size, as above).
    dev_id : int
        CUDA device of the pool.
    name : str
        Resource name.

    Raises
    ------
    ConfigError
        If a size does not parse, or the initial size exceeds the maximum.
    """

    _default_name = "stream_ordered_allocator"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        device_memory_initial_size: str = "16MB",
        device_memory_max_size: str = "32MB",
        release_threshold: str = "4MB",
        dev_id: int = 0,
        name: str = "stream_ordered_allocator",
    ) -> None:
        super().__init__(fragment, name=name)
        self.device_memory_initial_size = device_memory_initial_size
        self.device_memory_max_size = device_memory_max_size
        self.release_threshold = release_threshold
        self.release_threshold_bytes = self._parse("release_threshold", release_threshold)
        self.dev_id = int(dev_id)
        self._set_budgets(
            {
                _DEVICE: (
                    "device_memory_initial_size",
                    device_memory_initial_size,
                    "device_memory_max_size",
                    device_memory_max_size,
                ),
            }
        )
