"""The CUDA conditions (on a fake GPU and without one), ``MemoryAvailableCondition`` and the
pub/sub conditions of Holoscan 4.6."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from holoflow.conditions import (
    CountCondition,
    CudaBufferAvailableCondition,
    CudaEventCondition,
    CudaStreamCondition,
    MemoryAvailableCondition,
    PublisherAvailableCondition,
    SubscriberAvailableCondition,
)
from holoflow.core import Operator, SchedulingStatusType
from holoflow.errors import ConfigError, GraphError
from holoflow.resources import BlockMemoryPool, MemoryStorageType, UnboundedAllocator
from holoflow.tensor import cupy_module, external_stream
from holoflow.testing import Recorder, Source

READY = SchedulingStatusType.READY
WAIT = SchedulingStatusType.WAIT


class GpuSource(Operator):
    """Emits ``{"x": k * ones(4)}`` computed on its own stream while the fake GPU is busy, so
    the event recorded after it stays pending until someone waits for it."""

    def __init__(self, fragment, gpu, *args, event_name=None, **kwargs):
        self.gpu = gpu
        self.event_name = event_name
        self.k = 0
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        cp = cupy_module()
        self.k += 1
        self.gpu.busy = True
        stream = context.allocate_cuda_stream()
        with external_stream(stream):
            message = {"x": cp.arange(4) * self.k}
            if self.event_name:
                event = cp.cuda.Event()
                cp.cuda.runtime.eventRecord(event.ptr, stream)
                message[self.event_name] = event
        op_output.emit(message, "out")


class Sink(Recorder):
    def __init__(self, fragment, *args, gpu=None, **kwargs):
        self.gpu = gpu
        self.pending_at_compute = []
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        if "done" in message:  # the event the producer recorded after its work
            pending = [not message["done"].done]
        else:
            pending = [not t.event.done() for t in message.values() if t.event is not None]
        self.pending_at_compute.append(sum(pending))
        self.received.append(message)


def waits_by_helper(gpu):
    return [entry for entry in gpu.log if entry[0] == "eventSynchronize"]


@pytest.mark.parametrize("kind", ["stream", "buffer", "event"])
def test_the_consumer_runs_only_after_the_gpu_work_is_done(gpu, app, use_scheduler, kind):
    source = GpuSource(
        app, gpu, CountCondition(app, 3), name="src", event_name="done" if kind == "event" else None
    )
    condition = {
        "stream": lambda: CudaStreamCondition(app, receivers="in", name="cond"),
        "buffer": lambda: CudaBufferAvailableCondition(app, receiver="in", name="cond"),
        "event": lambda: CudaEventCondition(app, event_name="done", receiver="in", name="cond"),
    }[kind]()
    sink = Sink(app, condition, name="sink", gpu=gpu)
    app.add_flow(source, sink)
    use_scheduler(app)
    app.run()
    assert len(sink.received) == 3
    assert sink.pending_at_compute == [0, 0, 0]
    assert waits_by_helper(gpu)  # the helper thread waited for the events, not compute


def test_without_the_condition_the_consumer_sees_the_work_pending(gpu, app):
    """The control for the test above: the fake GPU leaves the work pending until a wait."""
    source = GpuSource(app, gpu, CountCondition(app, 3), name="src")
    sink = Sink(app, name="sink", gpu=gpu)
    app.add_flow(source, sink)
    app.run()
    assert sink.pending_at_compute == [1, 1, 1]
    assert not waits_by_helper(gpu)


def test_host_messages_hold_nothing_back(app, use_scheduler):
    source = Source(app, [{"x": np.ones(2)}, {"x": np.zeros(2)}], name="src")
    sink = Recorder(app, CudaStreamCondition(app, receiver="in"), name="sink")
    app.add_flow(source, sink)
    use_scheduler(app)
    app.run()
    assert len(sink.received) == 2


def test_only_the_buffer_and_event_conditions_replace_the_port_default(app):
    stream = CudaStreamCondition(app, receivers=["in"])
    buffer = CudaBufferAvailableCondition(app, receiver="in")
    assert stream.receiver_name is None and buffer.receiver_name == "in"
    assert stream.receivers == ["in"] and stream.check_all_messages


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"receiver": "a", "receivers": ["b"]}, "not both"),
        ({}, "name the input port"),
        ({"receivers": []}, "name the input port"),
    ],
)
def test_cuda_stream_condition_arguments(app, kwargs, message):
    with pytest.raises(ValueError, match=message):
        CudaStreamCondition(app, **kwargs)


def test_a_watched_port_must_exist(app):
    source = Source(app, [1], name="src")
    sink = Recorder(app, CudaStreamCondition(app, receivers=["nope"], name="cond"), name="sink")
    app.add_flow(source, sink)
    with pytest.raises(GraphError, match="watches input port 'nope'"):
        app.run()


# -- memory --------------------------------------------------------------------------------------------


def pool(app, blocks=2):
    return BlockMemoryPool(
        app, storage_type=MemoryStorageType.HOST, block_size=64, num_blocks=blocks, name="pool"
    )


def test_memory_available_by_blocks_and_bytes(app):
    memory = pool(app)
    by_blocks = MemoryAvailableCondition(app, allocator=memory, min_blocks=2)
    by_bytes = MemoryAvailableCondition(app, allocator=memory, min_bytes=64)
    assert by_blocks.check(0)[0] is READY and by_bytes.check(0)[0] is READY
    held = [memory.empty(8), memory.empty(8)]
    assert by_blocks.check(0)[0] is WAIT and by_bytes.check(0)[0] is WAIT
    del held
    gc.collect()
    assert by_blocks.check(0)[0] is READY
    assert MemoryAvailableCondition(app, UnboundedAllocator(app), min_bytes=1 << 40).check(0)[0] is READY


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_bytes": 1, "min_blocks": 1}, "exactly one of min_bytes or min_blocks"),
        ({}, "exactly one of min_bytes or min_blocks"),
        ({"min_bytes": -1}, "min_bytes must be >= 0"),
    ],
)
def test_memory_available_arguments(app, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        MemoryAvailableCondition(app, allocator=pool(app), **kwargs)


def test_memory_available_needs_an_allocator_and_blocks_need_a_pool(app):
    with pytest.raises(ConfigError, match="allocator must be an Allocator"):
        MemoryAvailableCondition(app, allocator="pool", min_bytes=1)
    with pytest.raises(ConfigError, match="min_blocks needs an allocator of blocks"):
        MemoryAvailableCondition(app, allocator=UnboundedAllocator(app), min_blocks=1)


def test_an_operator_waits_for_a_free_block(app, use_scheduler):
    """The producer keeps each block it allocates until the consumer drops the message: with
    one block it can only run again after the consumer has taken the previous one."""
    memory = pool(app, blocks=1)
    order = []

    class Producer(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            order.append("produce")
            op_output.emit(memory.empty(8), "out")

    class Consumer(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            op_input.receive("in")
            order.append("consume")

    producer = Producer(
        app, CountCondition(app, 3), MemoryAvailableCondition(app, memory, min_blocks=1), name="p"
    )
    app.add_flow(producer, Consumer(app, name="c"))
    use_scheduler(app)
    app.run()
    assert order == ["produce", "consume"] * 3


# -- publish / subscribe ------------------------------------------------------------------------------


def test_pubsub_conditions_need_a_pubsub_port_by_default(app):
    source = Source(app, [1], name="src")
    sink = Recorder(app, PublisherAvailableCondition(app, receiver="in", name="pubs"), name="sink")
    app.add_flow(source, sink)
    with pytest.raises(
        GraphError, match="'pubs': requires a pub/sub input port, and holoflow has no pub/sub"
    ):
        app.run()


def test_without_the_requirement_the_port_is_ready_as_in_holoscan(app):
    """Holoscan 4.6 with require_pubsub_connector=False on an ordinary port: always ready, and
    the condition replaces the port's default, so the sink also runs with nothing to read."""

    class Reader(Operator):
        def __init__(self, fragment, *args, **kwargs):
            self.values = []
            super().__init__(fragment, *args, **kwargs)

        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            self.values.append(op_input.receive("in"))

    pubs = PublisherAvailableCondition(
        app, min_publisher_count=2, receiver="in", require_pubsub_connector=False
    )
    reader = Reader(app, pubs, CountCondition(app, 4), name="reader")
    app.add_flow(Source(app, [1, 2], name="src"), reader)
    app.run()
    assert reader.values == [1, 2, None, None]


def test_subscriber_condition_watches_an_output(app):
    subs = SubscriberAvailableCondition(
        app, min_subscriber_count=1, transmitter="out", require_pubsub_connector=False, stabilization_ms=5
    )
    assert subs.transmitter_name == "out" and subs.receiver_name is None
    assert (subs.min_subscriber_count, subs.stabilization_ms, subs.ready_on_shutdown) == (1, 5, False)
    source = Source(app, [1, 2], subs, name="src")
    sink = Recorder(app, name="sink")
    app.add_flow(source, sink)
    app.run()
    assert sink.received == [1, 2]
