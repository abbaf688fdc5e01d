"""``BlockMemoryPool``: fixed-size blocks allocated once, handed out and taken back.

Design
======
The pool allocates ``num_blocks * block_size`` bytes when it is built and keeps the indices of
free blocks in a deque. ``empty(shape, dtype)`` pops an index and returns an array (numpy for
host storage, CuPy for device storage) over that block; the array holds a small
:class:`_Block` owner. When the last array or Tensor viewing the block is garbage collected the
owner's ``__del__`` pushes the index back, waking a waiter if the pool was exhausted. So the
hot path allocates no memory: it pops an index and builds a view.

The release can run in any thread (wherever the last reference dies), even while that thread is
inside the pool; the lock is therefore re-entrant.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.errors import ResourceError
from holoflow.resources._allocator import Allocator, MemoryStorageType, device_falls_back_to_host
from holoflow.tensor import cupy_module, host_buffer, require_cuda

if TYPE_CHECKING:
    from holoflow.core import Fragment, Subgraph

__all__ = ["BlockMemoryPool", "PoolStatistics"]


@dataclass(frozen=True, slots=True)
class PoolStatistics:
    """A snapshot of a pool's use."""

    num_blocks: int
    """Blocks in the pool."""
    free: int
    """Blocks free now."""
    peak_used: int
    """Most blocks in use at once."""
    allocations: int
    """Blocks handed out so far."""
    waits: int
    """Allocations that had to wait for a free block."""


class _Block:
    """Owns one block while any array views it; gives it back when collected."""

    __slots__ = ("__weakref__", "index", "pointer", "pool")

    def __init__(self, pool: BlockMemoryPool, index: int, pointer: int) -> None:
        self.pool = pool
        self.index = index
        self.pointer = pointer

    def __del__(self) -> None:
        self.pool._release(self.index)


class _HostBlockView:
    __slots__ = ("__array_interface__", "block")

    def __init__(self, block: _Block, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.block = block
        self.__array_interface__ = {
            "shape": shape,
            "typestr": dtype.str,
            "data": (block.pointer, False),
            "strides": None,
            "version": 3,
        }


class BlockMemoryPool(Allocator):
    """A pool of ``num_blocks`` blocks of ``block_size`` bytes, allocated up front.

    Parameters
    ----------
    fragment : Fragment
        Owner fragment.
    storage_type : MemoryStorageType or int
        HOST (0, pinned), DEVICE (1), SYSTEM (2) — as in GXF. Where CUDA is missing a DEVICE
        pool is a HOST pool (warned once per process, ``CPUFallbackWarning``);
        :attr:`storage_type` then reads ``HOST`` and :attr:`requested_storage_type`
        ``DEVICE``.
    block_size : int
        Bytes per block; one array per block.
    num_blocks : int
        Number of blocks.
    dev_id : int
        CUDA device for DEVICE storage.
    on_exhausted : {"raise", "wait"}
        When every block is in use: raise ``ResourceError`` at once, or wait up to
        ``wait_timeout_ms`` for one to be freed, then raise.
    wait_timeout_ms : float
        Longest wait with ``on_exhausted="wait"``.

    Raises
    ------
    ValueError
        For a non-positive size or count, or an unknown policy.
    """

    _default_name = "block_memory_pool"

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        storage_type: MemoryStorageType | int,
        block_size: int,
        num_blocks: int,
        dev_id: int = 0,
        on_exhausted: str = "raise",
        wait_timeout_ms: float = 1000.0,
        name: str = "block_memory_pool",
    ) -> None:
        super().__init__(fragment, name=name)
        if int(block_size) <= 0 or int(num_blocks) <= 0:
            raise ValueError(f"{self._label()}: block_size and num_blocks must be > 0")
        if on_exhausted not in ("raise", "wait"):
            raise ValueError(f"{self._label()}: on_exhausted must be 'raise' or 'wait', got {on_exhausted!r}")
        self.requested_storage_type = MemoryStorageType(storage_type)
        """The storage asked for; :attr:`storage_type` is the storage the blocks are in."""
        if self.requested_storage_type is MemoryStorageType.CUDA_MANAGED:
            raise ValueError(f"{self._label()}: CUDA_MANAGED storage is not pooled; use UnboundedAllocator")
        self.storage_type = self.requested_storage_type
        if self.storage_type is MemoryStorageType.DEVICE and device_falls_back_to_host(self._label()):
            self.storage_type = MemoryStorageType.HOST
        self.block_size = int(block_size)
        self.num_blocks = int(num_blocks)
        self.dev_id = int(dev_id)
        self.on_exhausted = on_exhausted
        self.wait_timeout_ms = float(wait_timeout_ms)
        total = self.block_size * self.num_blocks
        if self.storage_type is MemoryStorageType.DEVICE:
            cupy = require_cuda(f"{self._label()}: device storage")
            with cupy.cuda.Device(self.dev_id):
                self._backing: Any = cupy.cuda.alloc(total)
            base = int(self._backing.ptr)
        else:
            array, self._backing = host_buffer(total)
            self._host_array = array
            base = int(array.__array_interface__["data"][0]) if total else 0
        self._pointers = [base + i * self.block_size for i in range(self.num_blocks)]
        self._free: deque[int] = deque(reversed(range(self.num_blocks)))
        self._lock = threading.Condition(threading.RLock())
        self._peak = 0
        self._allocations = 0
        self._waits = 0

    # -- allocation ---------------------------------------------------------------------------------
    def empty(
        self,
        shape: int | tuple[int, ...],
        dtype: Any = np.uint8,
        storage_type: Any = None,  # noqa: ARG002 - a pool has one storage type
    ) -> Any:
        """An array over one free block (numpy for host storage, CuPy for device storage).

        Raises
        ------
        holoflow.errors.ResourceError
            If the array does not fit in a block, or no block frees up in time.
        """
        dtype = np.dtype(dtype)
        shape_tuple = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        nbytes = int(np.prod(shape_tuple, dtype=np.int64)) * dtype.itemsize
        if nbytes > self.block_size:
            raise ResourceError(
                f"{self._label()}: {shape_tuple} {dtype} needs {nbytes} bytes; blocks hold {self.block_size}"
            )
        block = self._take()
        if self.storage_type is MemoryStorageType.DEVICE:
            cupy = cupy_module()
            memory = cupy.cuda.UnownedMemory(block.pointer, max(nbytes, 1), block, self.dev_id)
            return cupy.ndarray(shape_tuple, dtype=dtype, memptr=cupy.cuda.MemoryPointer(memory, 0))
        return np.asarray(_HostBlockView(block, shape_tuple, dtype))

    def _take(self) -> _Block:
        with self._lock:
            if not self._free:
                if self.on_exhausted == "raise":
                    raise ResourceError(
                        f"{self._label()}: all {self.num_blocks} blocks are in use; release arrays "
                        "from earlier frames, add blocks, or use on_exhausted='wait'"
                    )
                self._waits += 1
                deadline = time.monotonic() + self.wait_timeout_ms / 1000
                while not self._free:
                    remaining = deadline - time.monotonic()
                    if (remaining <= 0 or not self._lock.wait(remaining)) and not self._free:
                        raise ResourceError(
                            f"{self._label()}: no block was freed within {self.wait_timeout_ms:g} ms "
                            f"({self.num_blocks} blocks in use)"
                        )
            index = self._free.pop()  # the most recently released block: likely still in cache
            self._allocations += 1
            used = self.num_blocks - len(self._free)
            if used > self._peak:
                self._peak = used
            return _Block(self, index, self._pointers[index])

    def _release(self, index: int) -> None:
        with self._lock:
            self._free.append(index)
            self._lock.notify()

    def is_available(self, size: int) -> bool:
        return size <= self.block_size and bool(self._free)

    def statistics(self) -> PoolStatistics:
        """Blocks in use, peak use, allocations and waits."""
        with self._lock:
            return PoolStatistics(
                self.num_blocks, len(self._free), self._peak, self._allocations, self._waits
            )
