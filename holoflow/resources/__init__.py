"""Resources that operators and schedulers hold (Holoscan's ``holoscan.resources``).

Clocks, thread pools and the OR condition combiner live in the core (runs build or use them);
they are re-exported here under Holoscan's path.
"""

from holoflow.core import Clock, ManualClock, OrConditionCombiner, RealtimeClock, Resource, ThreadPool
from holoflow.resources._allocator import Allocator, MemoryStorageType, UnboundedAllocator
from holoflow.resources._block_memory_pool import BlockMemoryPool, PoolStatistics
from holoflow.resources._cuda_allocator import CudaAllocator, RMMAllocator, StreamOrderedAllocator
from holoflow.resources._cuda_stream_pool import CudaStreamPool

__all__ = [
    "Allocator",
    "BlockMemoryPool",
    "Clock",
    "CudaAllocator",
    "CudaStreamPool",
    "ManualClock",
    "MemoryStorageType",
    "OrConditionCombiner",
    "PoolStatistics",
    "RMMAllocator",
    "RealtimeClock",
    "Resource",
    "StreamOrderedAllocator",
    "ThreadPool",
    "UnboundedAllocator",
]
