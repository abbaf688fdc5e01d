"""Allocators and pools on the host: up-front blocks, reuse, exhaustion policies, statistics."""

from __future__ import annotations

import gc
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import holoflow
from holoflow.conditions import CountCondition
from holoflow.core import Operator
from holoflow.errors import ResourceError
from holoflow.resources import (
    BlockMemoryPool,
    CudaStreamPool,
    MemoryStorageType,
    RMMAllocator,
    UnboundedAllocator,
)
from holoflow.tensor import cuda_available


def test_blocks_are_reused_when_the_last_view_dies(app):
    pool = BlockMemoryPool(app, MemoryStorageType.SYSTEM, block_size=4096, num_blocks=2)
    a = pool.empty((32, 32), np.float32)
    address = a.ctypes.data
    tensor = holoflow.as_tensor(a)
    del a
    gc.collect()
    assert pool.statistics().free == 1  # the tensor still views the block
    del tensor
    gc.collect()
    assert pool.statistics().free == 2
    again = [pool.empty(1024, np.uint8) for _ in range(2)]
    assert address in {arr.ctypes.data for arr in again}  # the same memory, handed out again
    stats = pool.statistics()
    assert (stats.num_blocks, stats.free, stats.peak_used, stats.allocations) == (2, 0, 2, 3)


def test_the_most_recently_released_block_is_handed_out_first(app):
    pool = BlockMemoryPool(app, MemoryStorageType.SYSTEM, block_size=4096, num_blocks=4)
    held = [pool.empty(16) for _ in range(3)]
    address = held[1].ctypes.data
    del held[1]
    gc.collect()
    assert pool.empty(16).ctypes.data == address  # still warm in the cache, not the coldest block


def test_exhaustion_raises_by_default(app):
    pool = BlockMemoryPool(app, MemoryStorageType.SYSTEM, 64, 1)
    held = pool.empty(64)
    with pytest.raises(ResourceError, match="all 1 blocks are in use"):
        pool.empty(8)
    assert held.nbytes == 64


def test_exhaustion_can_wait_for_a_release(app):
    pool = BlockMemoryPool(app, MemoryStorageType.SYSTEM, 64, 1, on_exhausted="wait", wait_timeout_ms=2000)
    held = [pool.empty(64)]
    threading.Timer(0.05, held.clear).start()
    t0 = time.monotonic()
    block = pool.empty(64)
    assert 0.04 < time.monotonic() - t0 < 1.5
    assert block.nbytes == 64 and pool.statistics().waits == 1


def test_wait_times_out(app):
    pool = BlockMemoryPool(app, MemoryStorageType.SYSTEM, 64, 1, on_exhausted="wait", wait_timeout_ms=30)
    held = pool.empty(64)
    with pytest.raises(ResourceError, match="no block was freed within 30 ms"):
        pool.empty(64)
    del held


def test_request_larger_than_a_block(app):
    pool = BlockMemoryPool(app, MemoryStorageType.SYSTEM, 100, 1)
    with pytest.raises(ResourceError, match=r"\(10, 10\) float32 needs 400 bytes; blocks hold 100"):
        pool.empty((10, 10), np.float32)
    assert pool.is_available(100) and not pool.is_available(101)


def test_pool_validation(app):
    with pytest.raises(ValueError, match="block_size and num_blocks must be > 0"):
        BlockMemoryPool(app, 2, 0, 1)
    with pytest.raises(ValueError, match="on_exhausted must be 'raise' or 'wait'"):
        BlockMemoryPool(app, 2, 8, 1, on_exhausted="grow")


def test_pool_feeds_a_pipeline_without_leaking(app):
    class Producer(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            frame = self.resource("pool").empty((16, 16), np.uint16)
            frame[...] = 7
            op_output.emit({"frame": frame}, "out")

    class Checksum(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            self.total = getattr(self, "total", 0) + int(np.asarray(op_input.receive("in")["frame"]).sum())

    pool = BlockMemoryPool(app, MemoryStorageType.HOST, 512, 3, name="pool")
    app.add_flow(Producer(app, pool, CountCondition(app, 50), name="tx"), rx := Checksum(app, name="rx"))
    app.run()  # 50 frames through 3 blocks: each is freed when the consumer drops it
    assert rx.total == 50 * 7 * 256
    gc.collect()
    stats = pool.statistics()
    assert stats.free == 3 and stats.allocations == 50 and stats.peak_used <= 3


def test_unbounded_allocator(app):
    allocator = UnboundedAllocator(app)
    array = allocator.empty((3, 4), np.float64)
    assert array.shape == (3, 4) and isinstance(array, np.ndarray)
    assert allocator.empty(5, np.uint8, MemoryStorageType.HOST).shape == (5,)
    assert allocator.is_available(1 << 40)


def test_stream_pool_validation_and_missing_cuda(app):
    with pytest.raises(ValueError, match="reserved_size 3 exceeds max_size 2"):
        CudaStreamPool(app, reserved_size=3, max_size=2)
    pool = CudaStreamPool(app, max_size=2)
    if not cuda_available():
        with pytest.raises((ImportError, ResourceError)):
            pool.allocate_stream()


def test_with_cuda_the_cuda_allocators_hand_out_device_memory(app, gpu):
    """On a (fake) GPU: CuPy arrays from the device budget, pinned host memory for HOST, and no
    CPU fallback or its warning."""
    cupy = sys.modules["cupy"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rmm = RMMAllocator(app, "0B", "1KB", "0B", "1KB", name="rmm")
        pool = BlockMemoryPool(app, MemoryStorageType.DEVICE, 64, 2, name="pool")
    assert not rmm.device_on_host and pool.storage_type is MemoryStorageType.DEVICE
    device = rmm.empty((4, 8), np.float32)
    host = rmm.empty(16, np.uint8, MemoryStorageType.HOST)
    assert isinstance(device, cupy.ndarray) and device.shape == (4, 8)
    assert isinstance(host, np.ndarray) and host.shape == (16,)
    assert [entry[0] for entry in gpu.log].count("alloc") == 2  # the pool's blocks, then the array
    assert [entry[0] for entry in gpu.log].count("alloc_pinned_memory") >= 1
    assert (rmm.used(MemoryStorageType.DEVICE), rmm.used(MemoryStorageType.HOST)) == (128, 16)
    del device, host
    gc.collect()
    assert (rmm.used(MemoryStorageType.DEVICE), rmm.used(MemoryStorageType.HOST)) == (0, 0)
