"""The resource names of Holoscan 4.6: ``SyntheticClock``, the receiver and transmitter classes,
raw allocation on allocators, green contexts, and the GXF- and UCX-only names."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Clock, Operator, QueuePolicy
from holoflow.errors import NotSupportedError, ResourceError, SchedulingError
from holoflow.resources import (
    BlockMemoryPool,
    CudaGreenContext,
    CudaGreenContextPool,
    CudaStreamPool,
    DoubleBufferReceiver,
    DoubleBufferTransmitter,
    GXFClock,
    GXFComponentResource,
    ManualClock,
    MemoryStorageType,
    RealtimeClock,
    Receiver,
    SchedulingPolicy,
    SerializationBuffer,
    StdComponentSerializer,
    StdEntitySerializer,
    SyntheticClock,
    Transmitter,
    UcxComponentSerializer,
    UcxEntitySerializer,
    UcxHoloscanComponentSerializer,
    UcxReceiver,
    UcxSerializationBuffer,
    UcxTransmitter,
    UnboundedAllocator,
)
from holoflow.schedulers import GreedyScheduler
from holoflow.tensor import cuda_available

# -- synthetic clock ----------------------------------------------------------------------------------


def test_synthetic_time_moves_only_when_advanced(app):
    clock = SyntheticClock(app, initial_timestamp=10)
    assert clock.timestamp() == 10 and clock.time() == 10e-9
    clock.advance_by(5)
    assert clock.timestamp() == 15
    clock.advance_to(100)
    clock.advance_to(50)  # never backwards
    assert clock.timestamp() == 100
    with pytest.raises(ValueError, match="cannot move time backwards"):
        clock.advance_by(-1)
    assert isinstance(clock, GXFClock) and GXFClock is Clock


def test_sleeping_on_a_synthetic_clock_waits_for_an_advance(app):
    clock = SyntheticClock(app)
    woke = []
    sleeper = threading.Thread(target=lambda: (clock.sleep_until(1000), woke.append(clock.timestamp())))
    sleeper.start()
    clock.advance_to(500)
    sleeper.join(0.05)
    assert sleeper.is_alive() and not woke
    clock.advance_to(1000)
    sleeper.join(5)
    assert woke == [1000]


def test_a_wake_ends_a_wait_on_a_synthetic_clock(app):
    clock = SyntheticClock(app)
    wake = threading.Event()
    timer = threading.Timer(0.02, wake.set)
    timer.start()
    clock.wait_until(10**12, wake)
    timer.join()
    assert clock.timestamp() == 0
    assert clock.seconds_until(0) == 0.0 and clock.seconds_until(1) > 0


def test_a_periodic_operator_follows_synthetic_time(app, use_scheduler):
    """Each tick of a 10 ms periodic operator waits until the driver moves the clock on; the
    operator sees the synthetic timestamps (multiples of the driver's step), whatever the real
    time."""
    clock = SyntheticClock(app)
    ticks = []

    class Tick(Operator):
        def compute(self, op_input, op_output, context):
            ticks.append(clock.timestamp())

    app.add_operator(Tick(app, CountCondition(app, 3), PeriodicCondition(app, 10_000_000), name="tick"))
    use_scheduler(app, clock=clock, stop_on_deadlock_timeout=2000)
    stop = threading.Event()

    def drive():
        while not stop.is_set() and len(ticks) < 3:
            clock.advance_by(5_000_000)
            stop.wait(0.002)

    driver = threading.Thread(target=drive)
    driver.start()
    try:
        app.run()
    finally:
        stop.set()
        driver.join()
    assert len(ticks) == 3
    assert ticks == sorted(ticks) and ticks[-1] >= 20_000_000  # three ticks span two periods
    assert all(t % 5_000_000 == 0 for t in ticks)


# -- receivers and transmitters -------------------------------------------------------------------------


def test_double_buffer_queues_take_holoscan_arguments(app):
    receiver = DoubleBufferReceiver(app, capacity=2, policy=0, name="rx")
    assert isinstance(receiver, Receiver)
    assert (receiver.name, receiver.capacity, receiver.policy, receiver.size, receiver.back_size) == (
        "rx",
        2,
        QueuePolicy.POP,
        0,
        0,
    )
    for value in (1, 2, 3):
        receiver.push(value, 0)
    assert receiver.peek() == [2, 3] and receiver.statistics().dropped == 1
    strict = DoubleBufferReceiver(app)
    strict.push(1, 0)
    with pytest.raises(SchedulingError, match="queue full"):
        strict.push(2, 0)
    transmitter = DoubleBufferTransmitter(app, capacity=3, policy=1)
    assert isinstance(transmitter, Transmitter)
    assert (transmitter.name, transmitter.capacity, transmitter.policy) == (
        "double_buffer_transmitter",
        3,
        QueuePolicy.REJECT,
    )
    with pytest.raises(ValueError, match="capacity must be >= 1"):
        DoubleBufferReceiver(app, capacity=0)


# -- raw allocation -------------------------------------------------------------------------------------


def test_allocate_and_free_raw_memory(app):
    allocator = UnboundedAllocator(app)
    pointer = allocator.allocate(64, MemoryStorageType.SYSTEM)
    assert pointer != 0 and allocator.block_size == 1
    data = np.ctypeslib.as_array((np.ctypeslib.ctypes.c_uint8 * 64).from_address(pointer))
    data[:] = 7  # the memory is usable until freed
    assert data.sum() == 7 * 64
    allocator.free(pointer)
    with pytest.raises(ResourceError, match="not an address this allocator gave out"):
        allocator.free(pointer)
    assert allocator.allocate(0) == 0
    allocator.free(0)
    with pytest.raises(ValueError, match="cannot allocate -1 bytes"):
        allocator.allocate(-1)


def test_a_pool_allocates_blocks_until_freed(app):
    pool = BlockMemoryPool(app, storage_type=MemoryStorageType.HOST, block_size=32, num_blocks=1)
    assert pool.block_size == 32
    pointer = pool.allocate(16)
    assert pool.statistics().free == 0
    with pytest.raises(ResourceError, match="all 1 blocks are in use"):
        pool.allocate(16)
    pool.free(pointer)
    import gc

    gc.collect()
    assert pool.statistics().free == 1


def test_a_stream_pool_is_available_only_with_cuda(app, make_gpu):
    assert CudaStreamPool(app, max_size=1).is_available() is cuda_available()  # this machine's CUDA
    make_gpu()
    pool = CudaStreamPool(app, max_size=1, name="streams")
    assert pool.is_available() is True
    stream = pool.allocate_stream()
    assert pool.is_available() is False
    pool.release_stream(stream)
    assert pool.is_available(1) is True and pool.is_available(2) is False


# -- green contexts -------------------------------------------------------------------------------------


def test_green_contexts_keep_their_parameters_and_warn_once(app, caplog, monkeypatch):
    import holoflow.resources._green_context as green

    monkeypatch.setattr(green, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="holoflow"):
        pool = CudaGreenContextPool(app, dev_id=0, num_partitions=2, sms_per_partition=[4, 8], name="pool")
        context = CudaGreenContext(app, cuda_green_context_pool=pool, index=1)
        CudaGreenContext(app, cuda_green_context_pool=pool, index=0, name="second")
    assert (pool.num_partitions, pool.sms_per_partition, pool.is_partitioning_supported()) == (
        2,
        [4, 8],
        False,
    )
    assert context.cuda_green_context_pool is pool and context.index == 1
    warnings = [r for r in caplog.records if "green contexts cannot be made" in r.getMessage()]
    assert len(warnings) == 1


def test_green_context_arguments_are_checked(app):
    with pytest.raises(ValueError, match="2 values in sms_per_partition for 3 partitions"):
        CudaGreenContextPool(app, num_partitions=3, sms_per_partition=[4, 4])
    with pytest.raises(ValueError, match="below min_sm_size"):
        CudaGreenContextPool(app, sms_per_partition=[1])
    with pytest.raises(TypeError, match="must be a CudaGreenContextPool"):
        CudaGreenContext(app, cuda_green_context_pool=RealtimeClock(app))


def test_scheduling_policy_values():
    assert [(p.name, p.value) for p in SchedulingPolicy] == [
        ("SCHED_FIFO", 1),
        ("SCHED_RR", 2),
        ("SCHED_DEADLINE", 6),
    ]


# -- GXF- and UCX-only names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "says"),
    [
        (SerializationBuffer, "holoflow.gxf"),
        (StdComponentSerializer, "VideoStreamRecorderOp"),
        (StdEntitySerializer, "never serialized"),
        (UcxComponentSerializer, "one fragment"),
        (UcxEntitySerializer, "one fragment"),
        (UcxHoloscanComponentSerializer, "one fragment"),
        (UcxSerializationBuffer, "one fragment"),
        (UcxReceiver, "distributed application"),
        (UcxTransmitter, "distributed application"),
    ],
)
def test_gxf_and_ucx_only_resources_explain_themselves(app, cls, says):
    with pytest.raises(NotSupportedError, match=cls.__name__) as info:
        cls(app)
    assert says in str(info.value)


def test_gxf_component_resource_names_the_component(app):
    with pytest.raises(
        NotSupportedError, match=r"GXFComponentResource\('nvidia::gxf::X'\).*Resource subclass"
    ):
        GXFComponentResource(app, "nvidia::gxf::X", name="gxf")


def test_the_clock_base_is_gxf_clock(app):
    for clock in (RealtimeClock(app), ManualClock(app), SyntheticClock(app)):
        assert isinstance(clock, GXFClock)
    GreedyScheduler(app, clock=SyntheticClock(app))  # accepted as a scheduler clock
