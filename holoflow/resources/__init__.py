"""Resources that operators and schedulers hold (Holoscan's ``holoscan.resources``)."""

from holoflow.core._resource import Resource
from holoflow.core._thread_pool import ThreadPool
from holoflow.resources._allocator import Allocator, MemoryStorageType, UnboundedAllocator
from holoflow.resources._block_memory_pool import BlockMemoryPool, PoolStatistics
from holoflow.resources._clock import Clock, ManualClock, RealtimeClock
from holoflow.resources._cuda_stream_pool import CudaStreamPool

__all__ = [
    "Allocator",
    "BlockMemoryPool",
    "Clock",
    "CudaStreamPool",
    "ManualClock",
    "MemoryStorageType",
    "PoolStatistics",
    "RealtimeClock",
    "Resource",
    "ThreadPool",
    "UnboundedAllocator",
]
