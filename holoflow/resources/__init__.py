"""Resources that operators and schedulers hold (Holoscan's ``holoscan.resources``).

Clocks, thread pools, the OR condition combiner and the port queues (receivers, transmitters,
async buffers) live in the core (runs build or use them); they are re-exported here under
Holoscan's path. ``GXFClock``, Holoscan's base of its clocks, is holoflow's ``Clock``. The GXF
serializers, UCX queues and ``GXFComponentResource`` exist only in GXF's runtime: they import,
and raise ``NotSupportedError`` when constructed.
"""

from holoflow.core import (
    AsyncBufferReceiver,
    AsyncBufferTransmitter,
    Clock,
    ManualClock,
    OrConditionCombiner,
    RealtimeClock,
    Receiver,
    Resource,
    SchedulingPolicy,
    ThreadPool,
    Transmitter,
)
from holoflow.resources._allocator import Allocator, MemoryStorageType, UnboundedAllocator
from holoflow.resources._block_memory_pool import BlockMemoryPool, PoolStatistics
from holoflow.resources._connectors import (
    DoubleBufferReceiver,
    DoubleBufferTransmitter,
    UcxReceiver,
    UcxTransmitter,
)
from holoflow.resources._cuda_allocator import CudaAllocator, RMMAllocator, StreamOrderedAllocator
from holoflow.resources._cuda_stream_pool import CudaStreamPool
from holoflow.resources._green_context import CudaGreenContext, CudaGreenContextPool
from holoflow.resources._gxf_only import (
    GXFComponentResource,
    SerializationBuffer,
    StdComponentSerializer,
    StdEntitySerializer,
    UcxComponentSerializer,
    UcxEntitySerializer,
    UcxHoloscanComponentSerializer,
    UcxSerializationBuffer,
)
from holoflow.resources._synthetic_clock import SyntheticClock

GXFClock = Clock
"""Holoscan's base class of its clocks: holoflow's :class:`Clock`."""

__all__ = [
    "Allocator",
    "AsyncBufferReceiver",
    "AsyncBufferTransmitter",
    "BlockMemoryPool",
    "Clock",
    "CudaAllocator",
    "CudaGreenContext",
    "CudaGreenContextPool",
    "CudaStreamPool",
    "DoubleBufferReceiver",
    "DoubleBufferTransmitter",
    "GXFClock",
    "GXFComponentResource",
    "ManualClock",
    "MemoryStorageType",
    "OrConditionCombiner",
    "PoolStatistics",
    "RMMAllocator",
    "RealtimeClock",
    "Receiver",
    "Resource",
    "SchedulingPolicy",
    "SerializationBuffer",
    "StdComponentSerializer",
    "StdEntitySerializer",
    "StreamOrderedAllocator",
    "SyntheticClock",
    "ThreadPool",
    "Transmitter",
    "UcxComponentSerializer",
    "UcxEntitySerializer",
    "UcxHoloscanComponentSerializer",
    "UcxReceiver",
    "UcxSerializationBuffer",
    "UcxTransmitter",
    "UnboundedAllocator",
]
