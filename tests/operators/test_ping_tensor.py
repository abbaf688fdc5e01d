"""``PingTensorTxOp`` / ``PingTensorRxOp`` with Holoscan's parameters, ``RawImageProcessorOp``,
``GXFCodeletOp`` and the per-operator submodules."""

from __future__ import annotations

import importlib
import logging

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Operator
from holoflow.errors import ConfigError, NotSupportedError
from holoflow.operators import (
    GXFCodeletOp,
    ImageProcessorOp,
    PingTensorRxOp,
    PingTensorTxOp,
    RawImageProcessorOp,
)
from holoflow.resources import BlockMemoryPool, MemoryStorageType
from holoflow.tensor import Tensor, TensorMap
from holoflow.testing import Recorder


def run_tx(app, use_scheduler=None, count=2, **kwargs):
    tx = PingTensorTxOp(app, CountCondition(app, count), **kwargs)
    sink = Recorder(app, name="sink")
    app.add_flow(tx, sink)
    if use_scheduler is not None:
        use_scheduler(app)
    app.run()
    return tx, sink.received


@pytest.mark.parametrize(
    ("dims", "shape"),
    [
        ({}, (32, 64)),
        ({"rows": 4, "columns": 3, "channels": 2}, (4, 3, 2)),
        ({"batch_size": 5, "rows": 4, "columns": 0}, (5, 4)),
        ({"batch_size": None, "rows": 7, "columns": None, "channels": None}, (7,)),
        ({"batch_size": 2, "rows": 3, "columns": 4, "channels": 3}, (2, 3, 4, 3)),
    ],
)
def test_the_shape_has_the_dimensions_that_are_set(app, dims, shape):
    tx, received = run_tx(app, **dims)
    assert tx.name == "ping_tensor_tx"
    assert len(received) == 2
    for message in received:
        assert isinstance(message, TensorMap) and list(message) == ["tensor"]
        assert message["tensor"].shape == shape
        assert np.dtype(message["tensor"].dtype) == np.uint8


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        ("int8_t", np.int8),
        ("uint16_t", np.uint16),
        ("int64_t", np.int64),
        ("float", np.float32),
        ("double", np.float64),
        ("complex<float>", np.complex64),
        ("complex<double>", np.complex128),
        (np.dtype("float32"), np.float32),
        (np.int32, np.int32),
    ],
)
def test_dtype_as_a_cpp_name_or_a_numpy_dtype(app, dtype, expected):
    _, received = run_tx(app, count=1, rows=2, columns=2, dtype=dtype, tensor_name="t")
    array = np.asarray(received[0]["t"])
    assert array.dtype == expected and array.shape == (2, 2)
    assert not array.any()  # zeros (Holoscan leaves the memory uninitialized)


def test_data_type_is_the_configuration_spelling(app):
    _, received = run_tx(app, count=1, rows=2, columns=0, data_type="double")
    assert np.asarray(received[0]["tensor"]).dtype == np.float64


def test_data_fills_the_start_of_the_tensor(app):
    _, received = run_tx(app, count=1, rows=2, columns=3, data=[1, 2, 3, 4])
    assert np.asarray(received[0]["tensor"]).tolist() == [[1, 2, 3], [4, 0, 0]]


def test_memory_comes_from_the_allocator_given(app):
    pool = BlockMemoryPool(
        app, storage_type=MemoryStorageType.HOST, block_size=256, num_blocks=2, name="pool"
    )
    tx, received = run_tx(app, count=1, rows=4, columns=4, allocator=pool)
    assert pool.statistics().allocations == 1
    assert received[0]["tensor"].shape == (4, 4)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"storage_type": "gpu"}, "storage_type 'gpu' is not one of"),
        ({"dtype": "half"}, "dtype 'half' is not one of"),
        ({"dtype": np.float16}, "is not one of"),
        ({"rows": 0}, "rows must be >= 1"),
        ({"columns": -1}, "no dimension negative"),
        ({"rows": 1, "columns": 2, "data": [0] * 3}, "data holds 3 bytes, the tensor only 2"),
    ],
)
def test_bad_parameters_fail_before_the_run(app, kwargs, message):
    with pytest.raises(ConfigError, match=message):
        run_tx(app, count=1, **kwargs)


def test_runs_under_every_scheduler(app, use_scheduler):
    tx, received = run_tx(app, use_scheduler, count=5, rows=3, columns=2, dtype="float")
    assert tx.count == 5 and len(received) == 5
    assert all(m["tensor"].shape == (3, 2) for m in received)


def test_device_storage_without_cuda_falls_back_to_host_with_one_warning(app, caplog, monkeypatch):
    import holoflow.operators._ping_tensor as ping_tensor

    monkeypatch.setattr(ping_tensor, "cuda_available", lambda: False)
    with caplog.at_level(logging.WARNING, logger="holoflow"):
        _, received = run_tx(app, count=3, rows=2, columns=2, storage_type="device")
    warnings = [r for r in caplog.records if "needs CUDA, which is not available" in r.getMessage()]
    assert len(warnings) == 1
    assert all(isinstance(np.asarray(m["tensor"]), np.ndarray) for m in received)


def test_device_storage_makes_cuda_tensors(gpu, app):
    _, received = run_tx(app, count=1, rows=2, columns=3, storage_type="device", data=[7])
    tensor = received[0]["tensor"]
    assert isinstance(tensor, Tensor) and tensor.is_cuda
    assert gpu.host_view(tensor.owner).tolist()[0][0] == 7


def test_async_device_allocation_uses_the_operator_stream(gpu, app):
    tx, received = run_tx(
        app, count=1, rows=2, columns=2, storage_type="device", async_device_allocation=True
    )
    tensor = received[0]["tensor"]
    assert tensor.is_cuda and tensor.stream not in (None, 0)


def test_rx_logs_each_tensor(app, caplog):
    class TwoTensors(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_output.emit({"a": np.zeros((2, 3)), "b": np.zeros(4)}, "out")

    rx = PingTensorRxOp(app, name="prx")
    app.add_flow(TwoTensors(app, CountCondition(app, 2), name="tx"), rx)
    with caplog.at_level(logging.INFO, logger="holoflow"):
        app.run()
    lines = [r.getMessage() for r in caplog.records if "received message" in r.getMessage()]
    assert lines == [
        "prx received message 1: Tensor key: 'a', shape: (2, 3)",
        "prx received message 2: Tensor key: 'b', shape: (4)",
        "prx received message 3: Tensor key: 'a', shape: (2, 3)",
        "prx received message 4: Tensor key: 'b', shape: (4)",
    ]
    assert PingTensorRxOp(app).name == "ping_tensor_rx"


def test_tx_to_rx_as_in_holoscan(app, caplog):
    tx = PingTensorTxOp(app, CountCondition(app, 2), rows=4, columns=3, channels=2, tensor_name="t")
    app.add_flow(tx, PingTensorRxOp(app, name="prx"))
    with caplog.at_level(logging.INFO, logger="holoflow"):
        app.run()
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("Sent message 1") == 1 and messages.count("Sent message 2") == 1
    assert "prx received message 2: Tensor key: 't', shape: (4, 3, 2)" in messages


def test_rx_single_tensor_mode(app, caplog):
    class Bare(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_output.emit(np.zeros((5, 2)), "out")

    app.add_flow(
        Bare(app, CountCondition(app, 1), name="tx"), PingTensorRxOp(app, receive_as_tensormap=False)
    )
    with caplog.at_level(logging.INFO, logger="holoflow"):
        app.run()
    assert "ping_tensor_rx received message 1: Tensor shape: (5, 2)" in [
        r.getMessage() for r in caplog.records
    ]


def test_rx_logs_an_error_for_a_message_without_tensors(app, caplog):
    class Ints(Operator):
        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            op_output.emit(3, "out")

    app.add_flow(Ints(app, CountCondition(app, 1), name="tx"), PingTensorRxOp(app))
    with caplog.at_level(logging.ERROR, logger="holoflow"):
        app.run()
    assert any("no TensorMap received on port 'in' (got 3)" in r.getMessage() for r in caplog.records)


def test_raw_image_processor_is_the_image_processor(app):
    op = RawImageProcessorOp(app, bayer_format=0, pixel_format=2, optical_black=10, name="raw")
    assert isinstance(op, ImageProcessorOp)
    assert (op.bayer_format, op.pixel_format, op.optical_black) == (0, 2, 10)
    assert sorted(op.spec.inputs) == ["input"] and sorted(op.spec.outputs) == ["output"]


def test_gxf_codelet_op_explains_itself_also_from_a_subclass(app):
    class MyCodelet(GXFCodeletOp):
        def __init__(self, fragment, *args, **kwargs):
            super().__init__(fragment, "nvidia::gxf::test::SendTensor", *args, **kwargs)

    with pytest.raises(NotSupportedError, match=r"GXFCodeletOp\('nvidia::gxf::test::SendTensor'\)"):
        MyCodelet(app, name="codelet")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("bayer_demosaic", "BayerDemosaicOp"),
        ("format_converter", "FormatConverterOp"),
        ("gxf_codelet", "GXFCodeletOp"),
        ("holoviz", "HolovizOp"),
        ("inference", "InferenceOp"),
        ("inference_processor", "InferenceProcessorOp"),
        ("ping_rx", "PingRxOp"),
        ("ping_tensor_rx", "PingTensorRxOp"),
        ("ping_tensor_tx", "PingTensorTxOp"),
        ("ping_tx", "PingTxOp"),
        ("raw_image_processor", "RawImageProcessorOp"),
        ("segmentation_postprocessor", "SegmentationPostprocessorOp"),
        ("video_stream_recorder", "VideoStreamRecorderOp"),
        ("video_stream_replayer", "VideoStreamReplayerOp"),
    ],
)
def test_each_operator_imports_from_its_submodule(module, name):
    submodule = importlib.import_module(f"holoflow.operators.{module}")
    operators = importlib.import_module("holoflow.operators")
    assert submodule.__all__ == [name]
    assert getattr(submodule, name) is getattr(operators, name)
