"""The device layer (``holoflow.tensor``'s CUDA streams, events and views) against a fake CuPy
that records every runtime call: which stream each call was queued on and whether the host
waited. See ``tests/_fake_cupy.py``."""

from __future__ import annotations

import gc
import sys
import weakref

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.errors import ResourceError, TensorError
from holoflow.tensor import (
    DLDevice,
    DLDeviceType,
    StreamEvent,
    Tensor,
    _cuda,
    array_namespace,
    as_tensor,
    cuda_available,
    cupy_module,
    current_stream,
    device_view,
    external_stream,
    host_buffer,
    new_stream,
    require_cuda,
    to_host,
    wait_event,
)

from .._fake_cupy import CUDARuntimeError, ForeignDeviceArray, extent, fake_cupy_session

CUDA0 = DLDevice(DLDeviceType.DLCUDA, 0)


@pytest.fixture
def cp(gpu):
    return gpu.module


# -- finding CuPy and a device -----------------------------------------------------------------------
def test_cupy_module_is_the_installed_cupy_and_a_device_is_seen(gpu):
    assert cupy_module() is gpu.module
    assert cuda_available()
    assert require_cuda("the frame copier") is gpu.module


def test_cupy_module_names_the_extras_when_cupy_is_missing(make_gpu, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(ImportError, match=r"pip install 'holoflow\[cuda12\]' .* 'holoflow\[cuda13\]'"):
        cupy_module()
    assert not cuda_available()
    with pytest.raises(ImportError, match="this needs CuPy"):
        require_cuda("the frame copier")


@pytest.mark.parametrize("count", [0, CUDARuntimeError("cudaErrorNoDevice: no CUDA-capable device")])
def test_no_device_when_the_device_count_is_zero_or_raises(make_gpu, count):
    make_gpu(device_count=count)
    assert not cuda_available()
    with pytest.raises(ResourceError, match="^the frame copier needs a CUDA device, and none is available$"):
        require_cuda("the frame copier")
    with pytest.raises(ResourceError, match="a CUDA stream needs a CUDA device"):
        new_stream()


def test_the_fake_is_gone_after_a_session(monkeypatch):
    before = sys.modules.get("cupy")
    with monkeypatch.context() as patch, fake_cupy_session(patch) as make:
        fake = make()
        assert cupy_module() is fake.module
    assert sys.modules.get("cupy") is before
    if before is None:
        with pytest.raises(ImportError):
            cupy_module()
    else:
        assert cupy_module() is before


def test_array_namespace_follows_the_memory(cp):
    host = np.zeros(3)
    device = cp.zeros(3)
    assert array_namespace(host) is np
    assert array_namespace(as_tensor(host)) is np
    assert array_namespace(device) is cp
    assert array_namespace(as_tensor(device)) is cp
    with pytest.raises(TypeError, match="dict is not an array"):
        array_namespace({})


# -- streams ------------------------------------------------------------------------------------------
def test_new_stream_is_non_blocking_and_current_stream_follows_the_with_block(gpu, cp):
    stream = new_stream()
    assert gpu.calls("Stream") == [("Stream", stream.ptr, True, 0)]
    assert current_stream() == 0
    with stream:
        assert current_stream() == stream.ptr
    assert current_stream() == 0


def test_external_stream_wraps_a_handle_once_through_from_external(gpu, cp):
    handle = cp.cuda.Stream().ptr
    wrapper = external_stream(handle)
    assert wrapper.ptr == handle
    assert external_stream(handle) is wrapper
    assert gpu.calls("Stream.from_external", "ExternalStream") == [("Stream.from_external", handle)]
    assert external_stream(0) is cp.cuda.Stream.null
    with wrapper:
        cp.arange(4)
    assert gpu.calls("launch") == [("launch", "arange", handle)]


def test_external_stream_uses_external_stream_before_cupy_14(make_gpu):
    gpu = make_gpu(from_external=False)
    handle = gpu.module.cuda.Stream().ptr
    wrapper = external_stream(handle)
    assert type(wrapper) is gpu.module.cuda.ExternalStream
    assert wrapper.ptr == handle
    assert external_stream(handle) is wrapper
    assert gpu.calls("Stream.from_external", "ExternalStream") == [("ExternalStream", handle)]


def test_external_stream_cache_is_bounded(gpu):
    limit = _cuda._EXTERNAL_STREAMS_MAX
    handles = [0x100000 + i for i in range(limit + 1)]
    first = [external_stream(h) for h in handles[:limit]]
    assert external_stream(handles[0]) is first[0]  # still cached at the limit
    external_stream(handles[limit])  # one past the limit: the cache starts over
    assert len(_cuda._EXTERNAL_STREAMS) <= limit
    again = external_stream(handles[0])
    assert again is not first[0] and again.ptr == handles[0]
    assert len(gpu.calls("Stream.from_external")) == limit + 2


# -- events ------------------------------------------------------------------------------------------
def test_stream_event_records_on_its_stream_and_is_done_when_the_device_catches_up(gpu, cp):
    stream = cp.cuda.Stream().ptr
    gpu.busy = True
    event = StreamEvent(stream)
    assert event.stream == stream and event.device == 0
    assert gpu.calls("eventRecord") == [("eventRecord", event.event.ptr, stream)]
    assert not event.done()
    gpu.complete()
    assert event.done()
    assert gpu.host_waits() == []


def test_recycled_events_are_recorded_again_and_at_most_64_are_kept(gpu, cp):
    stream = cp.cuda.Stream().ptr
    events = [StreamEvent(stream) for _ in range(70)]
    assert len(gpu.calls("Event")) == 70
    for event in events:
        event.recycle()
    reused = [StreamEvent(stream) for _ in range(70)]
    assert len(gpu.calls("Event")) == 70 + 6  # 64 spares reused, 6 new events
    assert {e.event.ptr for e in reused} >= {e.event.ptr for e in events[:64]}
    assert gpu.calls("eventRecord")[-70:] == [("eventRecord", e.event.ptr, stream) for e in reused]


def test_wait_event_waits_on_the_device_and_not_for_its_own_stream(gpu, cp):
    producer, consumer = cp.cuda.Stream().ptr, cp.cuda.Stream().ptr
    event = StreamEvent(producer)
    wait_event(producer, event)
    assert gpu.calls("streamWaitEvent") == []
    wait_event(consumer, event)
    assert gpu.calls("streamWaitEvent") == [("streamWaitEvent", consumer, event.event.ptr, 0)]
    assert gpu.host_waits() == []


def test_tensor_wait_on_records_the_producer_event_when_none_was_recorded(gpu, cp):
    producer, consumer = cp.cuda.Stream(), cp.cuda.Stream()
    with producer:
        tensor = as_tensor(cp.arange(3))
    assert tensor.stream == producer.ptr
    tensor.wait_on(producer.ptr)
    assert gpu.calls("eventRecord", "streamWaitEvent") == []
    tensor.wait_on(consumer.ptr)
    ((_, event, stream),) = gpu.calls("eventRecord")
    assert stream == producer.ptr
    assert gpu.calls("streamWaitEvent") == [("streamWaitEvent", consumer.ptr, event, 0)]


# -- views and copies --------------------------------------------------------------------------------
def test_device_view_of_a_cupy_array_is_the_array(gpu, cp):
    array = cp.arange(5)
    gpu.log.clear()
    assert device_view(array) is array
    assert gpu.log == []


def test_device_view_reuses_the_owner_when_the_layout_matches(gpu, cp):
    producer = cp.cuda.Stream()
    with producer:
        array = cp.arange(12).astype(np.float32)[::-1]
        tensor = as_tensor(array)  # CuPy's interface names the stream current when it is read
    assert tensor.stream == producer.ptr and tensor.strides == (-4,)
    gpu.log.clear()
    assert device_view(tensor) is array
    assert gpu.log == []
    # What device_view avoids: CuPy reading the interface waits on the host for its stream.
    cp.asarray(tensor)
    assert gpu.host_waits() == [("streamSynchronize", producer.ptr)]


def test_device_view_of_a_part_of_the_owner_does_not_wait_on_the_host(gpu, cp):
    producer = cp.cuda.Stream()
    with producer:
        owner = cp.arange(24).astype(np.int32)
    whole = as_tensor(owner)
    part = Tensor(
        data=whole.data + 8,
        shape=(3, 2),
        strides=(24, -4),
        dtype=np.dtype(np.int32),
        device=CUDA0,
        owner=owner,
        stream=producer.ptr,
    )
    gpu.log.clear()
    view = device_view(part)
    assert type(view) is cp.ndarray and view is not owner
    assert (view.shape, view.strides, view.dtype, view.data.ptr) == ((3, 2), (24, -4), part.dtype, part.data)
    np.testing.assert_array_equal(gpu.host_view(view), [[2, 1], [8, 7], [14, 13]])
    assert gpu.log == [("UnownedMemory", part.data - 4, 56)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dims=st.lists(
        st.tuples(st.integers(1, 4), st.integers(-5, 5)),
        min_size=1,
        max_size=3,
    ),
    dtype=st.sampled_from([np.uint8, np.int16, np.float32, np.float64]),
    pad=st.integers(0, 16),
)
def test_device_view_over_any_strided_layout_spans_exactly_its_elements(gpu, cp, dims, dtype, pad):
    dtype = np.dtype(dtype)
    shape = tuple(n for n, _ in dims)
    strides = tuple(s * dtype.itemsize for _, s in dims)
    low, high = extent(shape, strides, dtype.itemsize)
    memory = cp.arange(high - low + 2 * pad).astype(np.uint8)
    host = gpu.host_view(memory)
    tensor = Tensor(
        data=memory.data.ptr + pad - low,
        shape=shape,
        strides=strides,
        dtype=dtype,
        device=CUDA0,
        owner=memory,
        stream=cp.cuda.Stream().ptr,
    )
    gpu.log.clear()
    view = device_view(tensor)
    assert (view.shape, view.strides, view.dtype, view.data.ptr) == (shape, strides, dtype, tensor.data)
    same_layout = (shape, strides, dtype, pad) == (memory.shape, memory.strides, memory.dtype, 0)
    assert (view is memory) == same_layout
    # Otherwise a view over exactly its elements' span (the fake refuses one reaching outside).
    assert gpu.log == ([] if same_layout else [("UnownedMemory", tensor.data + low, high - low)])
    expected = np.ndarray(shape, dtype, buffer=host, offset=pad - low, strides=strides)
    np.testing.assert_array_equal(gpu.host_view(view), expected)


def test_the_fake_refuses_a_view_outside_its_memory(gpu, cp):
    memory = cp.zeros(16, np.uint8)
    span = cp.cuda.UnownedMemory(memory.data.ptr + 4, 8, memory, 0)
    with pytest.raises(CUDARuntimeError, match="reaches outside its memory"):
        cp.ndarray((3,), np.uint8, cp.cuda.MemoryPointer(span, 0), (-1,))
    with pytest.raises(CUDARuntimeError, match="not inside one live allocation"):
        cp.cuda.UnownedMemory(memory.data.ptr + 8, 16, memory, 0)


def test_device_view_keeps_the_tensor_alive(gpu, cp):
    owner = cp.arange(8)
    tensor = Tensor(
        data=owner.data.ptr + 8, shape=(3,), strides=(16,), dtype=owner.dtype, device=CUDA0, owner=owner
    )
    alive = weakref.ref(tensor)
    pointer = owner.data.ptr
    view = device_view(tensor)
    del tensor, owner
    gc.collect()
    assert alive() is not None and gpu.is_live(pointer)
    np.testing.assert_array_equal(gpu.host_view(view), [1, 3, 5])
    del view
    gc.collect()
    assert alive() is None and not gpu.is_live(pointer)


def test_device_view_of_an_empty_tensor_and_of_another_library_array(gpu, cp):
    empty = as_tensor(cp.zeros((0, 3), np.float32))
    assert device_view(empty).shape == (0, 3)
    producer = cp.cuda.Stream().ptr
    foreign = ForeignDeviceArray(cp.arange(6)[::2], stream=producer)
    gpu.log.clear()
    view = device_view(foreign)
    np.testing.assert_array_equal(gpu.host_view(view), [0, 2, 4])
    assert gpu.host_waits() == []
    cp.asarray(foreign)
    assert gpu.host_waits() == [("streamSynchronize", producer)]


def test_device_view_copies_host_memory_to_the_device(gpu, cp):
    view = device_view(np.arange(3.0))
    assert type(view) is cp.ndarray
    np.testing.assert_array_equal(gpu.host_view(view), [0.0, 1.0, 2.0])
    assert gpu.calls("memcpyHtoD") == [("memcpyHtoD", 0)]


def test_a_foreign_array_gets_its_device_from_the_runtime(gpu, cp):
    tensor = as_tensor(ForeignDeviceArray(cp.arange(4)))
    assert tensor.is_cuda and tensor.device == CUDA0 and tensor.stream is None


def test_to_host_copies_on_the_given_stream(gpu, cp):
    stream = cp.cuda.Stream()
    with stream:
        array = cp.arange(6) * 2
    np.testing.assert_array_equal(to_host(array, stream.ptr), [0, 2, 4, 6, 8, 10])
    assert gpu.calls("memcpyDtoH") == [("memcpyDtoH", stream.ptr)]
    assert current_stream() == 0
    np.testing.assert_array_equal(to_host(as_tensor(array)), [0, 2, 4, 6, 8, 10])
    assert gpu.calls("memcpyDtoH")[-1] == ("memcpyDtoH", 0)


def test_tensor_map_arrays_hold_device_memory_until_released(gpu, cp):
    array = cp.arange(4)
    pointer = array.data.ptr
    tensor = as_tensor(array)
    del array
    gc.collect()
    assert gpu.is_live(pointer)
    del tensor
    gc.collect()
    assert not gpu.is_live(pointer)


def test_as_tensor_rejects_cuda_to_numpy_without_a_copy(gpu, cp):
    tensor = as_tensor(cp.arange(3))
    with pytest.raises(TypeError, match="use cupy.asarray"):
        np.asarray(tensor)
    with pytest.raises(TensorError, match="malformed"):
        as_tensor(type("Bad", (), {"__cuda_array_interface__": {"shape": (1,)}})())


# -- host buffers ------------------------------------------------------------------------------------
@pytest.mark.parametrize("nbytes", [0, 1, 4096])
def test_host_buffer_is_pinned_where_a_device_is_present(gpu, nbytes):
    array, owner = host_buffer(nbytes)
    assert array.dtype == np.uint8 and array.shape == (nbytes,)
    assert gpu.calls("alloc_pinned_memory") == [("alloc_pinned_memory", max(nbytes, 1))]
    array[:] = 7  # the array is a view of the pinned allocation
    assert bytes(owner[:nbytes]) == b"\x07" * nbytes


@pytest.mark.skipif(cuda_available(), reason="a CUDA device is present: host buffers are pinned there")
def test_host_buffer_is_plain_memory_without_a_device():
    array, owner = host_buffer(16)
    assert array is owner and array.dtype == np.uint8 and array.shape == (16,)
