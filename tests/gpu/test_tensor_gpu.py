"""CUDA tensors: zero copy across CuPy, PyTorch and JAX; stream hand-off by events; pools."""

from __future__ import annotations

import gc
import time

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Operator
from holoflow.resources import BlockMemoryPool, CudaStreamPool, MemoryStorageType, UnboundedAllocator
from holoflow.tensor import DLDeviceType, Tensor, TensorMap, as_tensor, device_view, external_stream
from holoflow.testing import Recorder, Source

pytestmark = pytest.mark.gpu


def test_cupy_arrays_cross_without_copy(cp):
    a = cp.arange(12, dtype=cp.float32).reshape(3, 4)
    t = as_tensor(a)
    assert t.is_cuda and t.device.device_type == DLDeviceType.DLCUDA
    assert t.data == a.data.ptr and t.strides == a.strides
    assert not hasattr(t, "__array_interface__")
    for view in (cp.asarray(t), cp.from_dlpack(t)):
        assert view.data.ptr == a.data.ptr
    b = cp.from_dlpack(t)
    b[0, 0] = 42
    assert float(a[0, 0]) == 42
    with pytest.raises(TypeError, match="cupy.asarray"):
        np.asarray(t)


def test_torch_interop_both_ways(cp):
    torch = pytest.importorskip("torch")
    x = torch.arange(10, device="cuda", dtype=torch.float32)
    t = as_tensor(x)
    assert t.data == x.data_ptr() and t.is_cuda
    y = torch.from_dlpack(t)
    assert y.data_ptr() == x.data_ptr()
    z = torch.as_tensor(t, device="cuda")
    assert z.data_ptr() == x.data_ptr()
    t2 = Tensor.from_dlpack(x)
    assert t2.data == x.data_ptr()
    assert cp.asarray(t2).data.ptr == x.data_ptr()


def _interface_fields(obj):
    """What the generic protocol path makes of ``obj`` (its array interface, read directly)."""
    from holoflow.tensor._tensor import _from_interface

    return _from_interface(obj, obj.__cuda_array_interface__, cuda=True)


def _fields(t):
    return (t.data, t.shape, t.strides, t.dtype, t.device, t.stream, t._read_only, t.owner)


@pytest.mark.parametrize("on_stream", [False, True])
def test_direct_cupy_wrapper_equals_the_interface(cp, on_stream):
    a = cp.arange(24, dtype=cp.int16).reshape(2, 3, 4)[:, ::-1, 1:]
    stream = cp.cuda.Stream(non_blocking=True)
    with stream if on_stream else cp.cuda.Stream.null:
        assert _fields(as_tensor(a)) == _fields(_interface_fields(a))
        assert as_tensor(a).stream == int(a.__cuda_array_interface__["stream"])


def test_direct_torch_wrapper_equals_the_interface(cp):
    torch = pytest.importorskip("torch")
    x = torch.arange(60, device="cuda", dtype=torch.float32).reshape(3, 4, 5).permute(2, 0, 1)
    for value in (x, x[1:, ::2], torch.zeros(0, 3, device="cuda", dtype=torch.uint8)):
        assert _fields(as_tensor(value)) == _fields(_interface_fields(value))
    grad = torch.zeros(3, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError):  # left to torch's own interface, which refuses it
        as_tensor(grad)


def test_device_view_of_a_tensor_is_the_same_memory(cp):
    torch = pytest.importorskip("torch")
    x = torch.arange(60, device="cuda", dtype=torch.float32).reshape(3, 4, 5)
    for value in (x, x.permute(2, 0, 1), x[:, 1:3, ::2]):
        np.testing.assert_array_equal(device_view(as_tensor(value)).get(), value.cpu().numpy())
    a = cp.arange(24, dtype=cp.float32).reshape(4, 6)
    reversed_rows = a[::-1, 1:]  # negative strides, over memory another object owns
    t = Tensor(
        data=reversed_rows.data.ptr,
        shape=reversed_rows.shape,
        strides=reversed_rows.strides,
        dtype=np.dtype(np.float32),
        device=as_tensor(a).device,
        owner=a,
    )
    np.testing.assert_array_equal(device_view(t).get(), reversed_rows.get())
    assert device_view(as_tensor(a)) is a


def test_jax_reads_a_tensor(cp):
    jnp = pytest.importorskip("jax.numpy")
    a = cp.arange(6, dtype=cp.float32)
    j = jnp.from_dlpack(as_tensor(a))
    np.testing.assert_array_equal(np.asarray(j), np.arange(6, dtype=np.float32))


def test_tensor_keeps_device_memory_alive(cp):
    a = cp.full((1024,), 7, dtype=cp.int32)
    t = as_tensor(a)
    del a
    gc.collect()
    cp.get_default_memory_pool().free_all_blocks()
    assert int(cp.asarray(t).sum()) == 7 * 1024


def test_device_copy_to_host_through_dlpack(cp):
    t = as_tensor(cp.arange(5, dtype=cp.int64))
    host = np.from_dlpack(t, device="cpu", copy=True)
    np.testing.assert_array_equal(host, np.arange(5))


_SLOW_WRITE = r"""
extern "C" __global__ void slow_write(float* out, int n, float value, long long spin) {
    long long start = clock64();
    while (clock64() - start < spin) { }
    int i = blockDim.x * blockIdx.x + threadIdx.x;
    if (i < n) out[i] = value;
}
"""


class SlowProducer(Operator):
    """Writes `value` into a fresh device array with a kernel that first spins for ~20 ms."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        import cupy as cp

        self.kernel = cp.RawKernel(_SLOW_WRITE, "slow_write")
        self.value = 0.0

    def compute(self, op_input, op_output, context):
        import cupy as cp

        self.value += 1
        n = 1 << 22
        stream_ptr = context.allocate_cuda_stream("produce")
        with external_stream(stream_ptr):
            out = cp.zeros(n, dtype=cp.float32)
            self.kernel(
                ((n + 255) // 256,), (256,), (out, np.int32(n), np.float32(self.value), np.int64(40_000_000))
            )
        op_output.set_cuda_stream(stream_ptr, "out")
        op_output.emit({"x": out}, "out")


def raw_view(cp, tensor):
    """A CuPy view of a tensor's memory that bypasses every protocol (so nothing synchronizes)."""
    memory = cp.cuda.UnownedMemory(tensor.data, tensor.nbytes, tensor)
    return cp.ndarray(tensor.shape, dtype=tensor.dtype, memptr=cp.cuda.MemoryPointer(memory, 0))


class Consumer(Operator):
    """Copies what it receives on its own stream; with `wait`, after receive_cuda_stream.

    The copy reads a raw view, so only receive_cuda_stream's event wait can order it after the
    producer's kernel.
    """

    def __init__(self, fragment, *args, wait=True, **kwargs):
        self.wait = wait
        self.results = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        import cupy as cp

        message = op_input.receive("in")
        if self.wait:
            stream = external_stream(op_input.receive_cuda_stream("in"))
        else:
            stream = cp.cuda.Stream(non_blocking=True)
            self.keep = stream
        with stream:
            copied = raw_view(cp, message["x"]).copy()
        stream.synchronize()
        self.results.append((float(copied.min()), float(copied.max())))


def _run(app, wait):
    producer = SlowProducer(app, CountCondition(app, 3), name="producer")
    consumer = Consumer(app, wait=wait, name="consumer")
    app.add_flow(producer, consumer)
    app.run()
    return consumer.results


def test_consumer_stream_waits_on_the_producer_event(app):
    assert _run(app, wait=True) == [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]


def test_without_the_event_wait_the_consumer_races(app):
    """The control for the test above: the same graph without the wait reads unfinished data."""
    results = _run(app, wait=False)
    assert any(low != high or low != float(i + 1) for i, (low, high) in enumerate(results)), results


def test_dlpack_stream_argument_orders_torch_after_the_producer(app):
    torch = pytest.importorskip("torch")

    class TorchConsumer(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            stream = torch.cuda.Stream()
            with torch.cuda.stream(stream):
                x = torch.from_dlpack(op_input.receive("in")["x"])  # passes its stream to __dlpack__
                self.total = x.sum()
            stream.synchronize()
            self.value = float(self.total) / x.numel()

    producer = SlowProducer(app, CountCondition(app, 1), name="producer")
    consumer = TorchConsumer(app, name="consumer")
    app.add_flow(producer, consumer)
    app.run()
    assert consumer.value == 1.0


def test_device_block_pool_reuses_blocks(app, cp):
    pool = BlockMemoryPool(app, MemoryStorageType.DEVICE, 1 << 20, 2)
    a = pool.empty((256, 256), cp.float32)
    pointer = a.data.ptr
    a[...] = 3
    t = as_tensor(a)
    del a
    gc.collect()
    assert pool.statistics().free == 1
    del t
    gc.collect()
    assert pool.statistics().free == 2
    assert {pool.empty(16).data.ptr, pool.empty(16).data.ptr} >= {pointer}


def test_host_pool_is_pinned_when_cuda_is_present(app, cp):
    pool = BlockMemoryPool(app, MemoryStorageType.HOST, 4096, 1)
    block = pool.empty(1024)
    attributes = cp.cuda.runtime.pointerGetAttributes(block.ctypes.data)
    assert attributes.type == cp.cuda.runtime.memoryTypeHost


def test_unbounded_allocator_on_device(app, cp):
    allocator = UnboundedAllocator(app)
    assert isinstance(allocator.empty((4, 4), np.float32, MemoryStorageType.DEVICE), cp.ndarray)
    managed = allocator.empty(8, np.float32, MemoryStorageType.CUDA_MANAGED)
    managed[...] = 1
    assert float(managed.sum()) == 8


def test_stream_pool_serves_operator_streams(app, cp):
    pool = CudaStreamPool(app, reserved_size=1, max_size=1, name="streams")
    seen = []

    class UsesPool(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            op_input.receive("in")
            seen.append(op_input.receive_cuda_stream("in"))

    app.add_flow(Source(app, [{"x": cp.zeros(4)}] * 3, name="src"), UsesPool(app, pool, name="rx"))
    app.run()
    assert len(set(seen)) == 1 and seen[0] != 0
    assert pool.allocate_stream() is not None  # released at the end of the run


def test_gpu_tensormap_chain_is_zero_copy(app, cp):
    frame = cp.zeros((2160, 3840, 3), cp.uint8)
    app.add_flow(Source(app, [{"frame": frame}], name="src"), rx := Recorder(app, name="rx"))
    app.run()
    (message,) = rx.received
    assert type(message) is TensorMap
    assert message["frame"].data == frame.data.ptr
    assert message["frame"].stream is not None


def test_the_recorder_copies_device_frames_after_their_producer(app, tmp_path):
    from holoflow.gxf import GXFReader
    from holoflow.operators import VideoStreamRecorderOp

    producer = SlowProducer(app, CountCondition(app, 3), name="producer")
    recorder = VideoStreamRecorderOp(app, name="recorder", directory=str(tmp_path), basename="slow")
    app.add_flow(producer, recorder, {("out", "input")})
    app.run()
    reader = GXFReader(str(tmp_path), "slow")
    values = [np.asarray(reader[i].components[0].value) for i in range(len(reader))]
    assert [(float(v.min()), float(v.max())) for v in values] == [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]


def test_device_view_does_not_wait_for_the_producer_on_the_host(cp):
    stream = cp.cuda.Stream(non_blocking=True)
    out = cp.zeros(1 << 20, cp.float32)
    kernel = cp.RawKernel(_SLOW_WRITE, "slow_write")
    with stream:
        kernel((4096,), (256,), (out, np.int32(1 << 20), np.float32(7.0), np.int64(100_000_000)))
    tensor = as_tensor(out)
    tensor.record_stream(stream.ptr, stream)
    t0 = time.perf_counter()
    view = device_view(tensor)
    returned = time.perf_counter() - t0
    assert view.data.ptr == out.data.ptr and view.shape == out.shape
    t0 = time.perf_counter()
    cp.asarray(tensor)  # CuPy honours the interface's stream: the host waits for the kernel
    waited = time.perf_counter() - t0
    assert returned < 0.005 < waited, (returned, waited)
    assert float(view.min()) == 7.0


_SLOW_FILL_U8 = r"""
extern "C" __global__ void slow_fill(unsigned char* out, int n, unsigned char value, long long spin) {
    long long start = clock64();
    while (clock64() - start < spin) { }
    int i = blockDim.x * blockIdx.x + threadIdx.x;
    if (i < n) out[i] = value;
}
"""


class SlowImages(Operator):
    """Fills a fresh 64x96 RGB uint8 image with 10 * frame on its own stream, after a ~20 ms spin."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        import cupy as cp

        self.kernel = cp.RawKernel(_SLOW_FILL_U8, "slow_fill")
        self.frame = 0

    def compute(self, op_input, op_output, context):
        import cupy as cp

        self.frame += 1
        stream = context.allocate_cuda_stream("produce")
        with external_stream(stream):
            image = cp.zeros((64, 96, 3), cp.uint8)
            n = image.size
            self.kernel(
                ((n + 255) // 256,),
                (256,),
                (image, np.int32(n), np.uint8(10 * self.frame), np.int64(40_000_000)),
            )
        op_output.set_cuda_stream(stream, "out")
        op_output.emit({"": image}, "out")


def test_operators_wait_for_slow_producers_on_the_device(app, cp):
    from holoflow.operators import FormatConverterOp

    producer = SlowImages(app, CountCondition(app, 3), name="producer")
    converter = FormatConverterOp(app, name="converter", out_dtype="float32", out_tensor_name="x")
    app.add_flow(producer, converter, {("out", "source_video")})
    app.add_flow(converter, rx := Recorder(app, name="rx"), {("tensor", "in")})
    app.run()
    cp.cuda.Device().synchronize()
    values = [cp.asnumpy(device_view(message["x"])) for message in rx.received]
    assert len(values) == 3
    for k, value in enumerate(values, start=1):  # all written, none of the zeros before the kernel
        assert float(value.min()) == float(value.max()) == pytest.approx(10 * k / 255, rel=1e-6)
