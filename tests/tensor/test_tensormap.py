"""Dicts emitted on ports arrive as TensorMaps of zero-copy tensors."""

from __future__ import annotations

import numpy as np

from holoflow.core import Operator
from holoflow.tensor import Tensor, TensorMap
from holoflow.testing import Recorder, Source


def test_dict_arrives_as_tensormap_sharing_memory(app):
    frame = np.arange(12, dtype=np.uint8).reshape(3, 4)
    app.add_flow(
        Source(app, [{"image": frame, "label": "left", "gain": np.float32(2), "n": 3}], name="src"),
        rx := Recorder(app, name="rx"),
    )
    app.run()
    (message,) = rx.received
    assert type(message) is TensorMap
    assert isinstance(message["image"], Tensor)
    assert np.shares_memory(np.asarray(message["image"]), frame)
    assert message["label"] == "left" and message["n"] == 3
    assert type(message["gain"]) is np.float32  # numpy scalars are values, not tensors
    assert message.tensors().keys() == {"image"}


def test_fan_out_delivers_one_tensormap_object(app):
    src = Source(app, [{"x": np.zeros(4)}], name="src")
    a, b = Recorder(app, name="a"), Recorder(app, name="b")
    app.add_flow(src, a)
    app.add_flow(src, b)
    app.run()
    assert a.received[0] is b.received[0]


def test_a_chain_never_copies(app):
    frame = np.zeros((8, 8, 3), np.uint8)

    class Touch(Operator):
        def setup(self, spec):
            spec.input("in")
            spec.output("out")

        def compute(self, op_input, op_output, context):
            message = op_input.receive("in")
            np.asarray(message["frame"])[0, 0, 0] += 1
            op_output.emit({"frame": message["frame"]}, "out")

    src = Source(app, [{"frame": frame}], name="src")
    previous = src
    for i in range(5):
        hop = Touch(app, name=f"hop{i}")
        app.add_flow(previous, hop)
        previous = hop
    app.add_flow(previous, rx := Recorder(app, name="rx"))
    app.run()
    assert frame[0, 0, 0] == 5
    assert np.asarray(rx.received[0]["frame"]).ctypes.data == frame.ctypes.data


def test_receive_cuda_stream_needs_cupy_or_a_device(app):
    import pytest

    from holoflow.tensor import cuda_available

    class WantsStream(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            op_input.receive("in")
            op_input.receive_cuda_stream("in")

    app.add_flow(Source(app, [{"x": np.zeros(2)}], name="src"), WantsStream(app, name="rx"))
    if cuda_available():
        pytest.skip("a CUDA device is present; tests/gpu covers this")
    with pytest.raises((ImportError, RuntimeError), match="CuPy|CUDA device"):
        app.run()
