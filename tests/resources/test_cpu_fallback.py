"""Device memory where CUDA is missing: device pools and the CUDA allocators (Holoscan's
``RMMAllocator`` / ``StreamOrderedAllocator`` signatures) hand out host memory, with one
``CPUFallbackWarning`` per process."""

from __future__ import annotations

import gc
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Operator
from holoflow.errors import ConfigError, CPUFallbackWarning, ResourceError
from holoflow.gxf import GXFReader
from holoflow.operators import FormatConverterOp, VideoStreamReplayerOp
from holoflow.resources import (
    Allocator,
    BlockMemoryPool,
    CudaAllocator,
    MemoryStorageType,
    RMMAllocator,
    StreamOrderedAllocator,
    UnboundedAllocator,
)
from holoflow.tensor import cuda_available
from holoflow.testing import Recorder

pytestmark = pytest.mark.skipif(cuda_available(), reason="the fallback is for machines without CUDA")

CONFORMANCE = Path(__file__).resolve().parents[1] / "data" / "gxf-holoscan-4.6"
FALLBACK = "no CUDA device is available, so device memory comes from host memory instead"
MB = 1 << 20


def test_a_device_pool_is_a_host_pool_with_one_warning(app):
    with pytest.warns(CPUFallbackWarning, match=re.escape(f"resource 'pool': {FALLBACK}")) as record:
        pool = BlockMemoryPool(app, MemoryStorageType.DEVICE, 64, 2, name="pool")
    assert len(record) == 1 and record[0].filename == __file__  # points at the line that built it
    assert pool.requested_storage_type is MemoryStorageType.DEVICE
    assert pool.storage_type is MemoryStorageType.HOST
    block = pool.empty((4, 4), np.float32)
    assert isinstance(block, np.ndarray) and block.shape == (4, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the later fallbacks of the process are silent
        BlockMemoryPool(app, MemoryStorageType.DEVICE, 64, 2, name="second")
        RMMAllocator(app)
        assert isinstance(UnboundedAllocator(app).empty(3, np.uint8, MemoryStorageType.DEVICE), np.ndarray)


def test_unbounded_allocator_device_and_managed_storage_are_host_memory(app):
    allocator = UnboundedAllocator(app, name="unbounded")
    with pytest.warns(CPUFallbackWarning, match="resource 'unbounded': no CUDA device"):
        device = allocator.empty((2, 3), np.float32, MemoryStorageType.DEVICE)
    managed = allocator.empty(5, np.int16, MemoryStorageType.CUDA_MANAGED)
    assert isinstance(device, np.ndarray) and device.shape == (2, 3) and device.dtype == np.float32
    assert isinstance(managed, np.ndarray) and managed.shape == (5,)


def test_rmm_allocator_has_holoscans_signature_and_defaults(app):
    with pytest.warns(CPUFallbackWarning):
        pool = RMMAllocator(app)
    assert pool.name == "rmm_pool" and isinstance(pool, CudaAllocator) and isinstance(pool, Allocator)
    assert (pool.device_memory_initial_size, pool.device_memory_max_size) == ("16MB", "32MB")
    assert (pool.host_memory_initial_size, pool.host_memory_max_size) == ("16MB", "32MB")
    assert pool.dev_id == 0 and pool.device_on_host
    assert pool.pool_size(MemoryStorageType.DEVICE) == 32 * MB
    assert pool.pool_size(MemoryStorageType.HOST) == 32 * MB
    named = RMMAllocator(app, "16 MB", "32MB", "16.0 MB", "32768 KB", 0, "rmm")  # Holoscan's own test values
    assert named.name == "rmm" and named.pool_size(MemoryStorageType.HOST) == 32 * MB
    assert RMMAllocator(app, "0B", "1.5 GB").pool_size() == 3 * (1 << 29)


def test_stream_ordered_allocator_has_holoscans_signature_and_defaults(app):
    with pytest.warns(CPUFallbackWarning):
        pool = StreamOrderedAllocator(app)
    assert pool.name == "stream_ordered_allocator" and isinstance(pool, CudaAllocator)
    assert (pool.device_memory_initial_size, pool.device_memory_max_size) == ("16MB", "32MB")
    assert pool.release_threshold == "4MB" and pool.release_threshold_bytes == 4 * MB
    assert pool.pool_size(MemoryStorageType.DEVICE) == 32 * MB
    assert pool.pool_size(MemoryStorageType.HOST) == 0
    with pytest.raises(ResourceError, match="no HOST memory here; it serves DEVICE"):
        pool.empty(4, np.uint8, MemoryStorageType.HOST)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"device_memory_initial_size": "lots"},
            "resource 'rmm_pool': device_memory_initial_size: cannot parse memory size 'lots'",
        ),
        ({"host_memory_max_size": "12 PB"}, "host_memory_max_size: cannot parse memory size '12 PB'"),
        ({"device_memory_max_size": "-1MB"}, "device_memory_max_size: cannot parse memory size '-1MB'"),
        (
            {"device_memory_initial_size": "64MB"},
            "resource 'rmm_pool': device_memory_initial_size '64MB' exceeds device_memory_max_size '32MB'",
        ),
        ({"host_memory_initial_size": 1.5}, "host_memory_initial_size: a memory size is an int of bytes"),
    ],
)
def test_bad_sizes_are_config_errors_naming_the_parameter(app, kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        RMMAllocator(app, **kwargs)


def test_the_budget_bounds_what_is_alive_at_once(app):
    with pytest.warns(CPUFallbackWarning):
        pool = StreamOrderedAllocator(app, "1KB", "4KB", name="so")
    first = pool.empty((2, 256), np.float32)  # 2 KB
    second = pool.empty(1024, np.uint8)  # 1 KB
    assert isinstance(first, np.ndarray) and pool.used() == 3 * 1024
    first[...] = 1.5
    second[...] = 7
    assert float(first.sum()) == 768.0 and int(second.sum()) == 7 * 1024
    assert pool.is_available(1024) and not pool.is_available(1025)
    with pytest.raises(
        ResourceError,
        match=re.escape("resource 'so': 2048 bytes of DEVICE memory do not fit: 1024 of 4096 left"),
    ):
        pool.empty(512, np.float32)
    del first
    gc.collect()
    assert pool.used() == 1024
    assert pool.empty(512, np.float32).shape == (512,)


def test_rmm_host_memory_has_its_own_budget(app):
    with pytest.warns(CPUFallbackWarning):
        pool = RMMAllocator(app, "0B", "1KB", "0B", "2KB")
    host = pool.empty(2048, np.uint8, MemoryStorageType.HOST)
    system = None
    with pytest.raises(ResourceError, match="bytes of HOST memory do not fit"):
        system = pool.empty(1, np.uint8, MemoryStorageType.SYSTEM)  # SYSTEM is the host pool too
    device = pool.empty(1024, np.uint8)
    assert host.nbytes == 2048 and device.nbytes == 1024 and system is None
    assert (pool.used(MemoryStorageType.HOST), pool.used(MemoryStorageType.DEVICE)) == (2048, 1024)


def test_holohub_style_graph_with_device_pools_runs_on_the_cpu(app, use_scheduler):
    """The pattern of many HoloHub apps: a replayer with an RMMAllocator, a converter with a
    device BlockMemoryPool; on a CPU it runs with host memory."""
    with pytest.warns(CPUFallbackWarning):
        rmm = RMMAllocator(app, name="video_replayer_allocator", device_memory_initial_size="16MB")
    replayer = VideoStreamReplayerOp(
        app, name="replayer", directory=str(CONFORMANCE), basename="rgb_u8", realtime=False, allocator=rmm
    )
    pool = BlockMemoryPool(app, MemoryStorageType.DEVICE, 26 * 18 * 3 * 4, 4, name="pool")
    converter = FormatConverterOp(
        app,
        pool,
        name="converter",
        out_dtype="float32",
        resize_width=26,
        resize_height=18,
        out_tensor_name="t",
    )
    app.add_flow(replayer, converter)
    app.add_flow(converter, rx := Recorder(app, name="rx"))
    use_scheduler(app)
    app.run()
    with GXFReader(CONFORMANCE, "rgb_u8") as reader:
        assert len(rx.received) == len(reader) > 0
    assert all(np.asarray(message["t"]).shape == (18, 26, 3) for message in rx.received)


def test_a_run_allocating_device_memory_from_the_cpu_fallback(app, use_scheduler):
    class Producer(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            frame = self.resource("pool").empty((8, 8), np.uint16)
            frame[...] = 3
            op_output.emit({"frame": frame}, "out")

    with pytest.warns(CPUFallbackWarning):
        rmm = RMMAllocator(app, "0B", "4KB", name="pool")
    tx = Producer(app, rmm, CountCondition(app, 20), name="tx")
    app.add_flow(tx, rx := Recorder(app, name="rx"))
    use_scheduler(app)
    app.run()
    assert [int(np.asarray(m["frame"]).sum()) for m in rx.received] == [3 * 64] * 20
    rx.received.clear()
    gc.collect()
    assert rmm.used() == 0
