"""Small real ONNX models built with onnx.helper for the inference tests.

Only these fixtures need the ``onnx`` package: a test that uses one is skipped where onnx is
missing, and every other inference test runs.
"""

from __future__ import annotations

import numpy as np
import pytest


def save(graph, path):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


@pytest.fixture
def onnx_helpers():
    """``(TensorProto, helper, numpy_helper)`` from onnx; skips the test without onnx."""
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    return TensorProto, helper, numpy_helper


@pytest.fixture
def conv_model(tmp_path, onnx_helpers):
    """x (1, 3, 8, 8) float32 -> conv 3x3 (2 filters) -> relu -> y (1, 2, 8, 8); also z = mean of x."""
    TensorProto, helper, numpy_helper = onnx_helpers
    rng = np.random.default_rng(0)
    weight = numpy_helper.from_array(rng.standard_normal((2, 3, 3, 3)).astype(np.float32), "w")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["y"]),
        helper.make_node("ReduceMean", ["x"], ["z"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2, 8, 8]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, []),
        ],
        initializer=[weight],
    )
    return save(graph, tmp_path / "conv.onnx")


@pytest.fixture
def accumulator_model(tmp_path, onnx_helpers):
    """A stateful model: (x, h) -> (y = x + h, h_next = x + h)."""
    TensorProto, helper, _ = onnx_helpers
    nodes = [helper.make_node("Add", ["x", "h"], ["y"]), helper.make_node("Identity", ["y"], ["h_next"])]
    info = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 4])  # noqa: E731
    graph = helper.make_graph(nodes, "acc", [info("x"), info("h")], [info("y"), info("h_next")])
    return save(graph, tmp_path / "acc.onnx")


@pytest.fixture
def scale_model(tmp_path, onnx_helpers):
    """x (1, 4) -> 2x; for multi-model and temporal tests."""
    TensorProto, helper, numpy_helper = onnx_helpers
    two = numpy_helper.from_array(np.array(2.0, np.float32), "two")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "two"], ["y"])],
        "scale",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        initializer=[two],
    )
    return save(graph, tmp_path / "scale.onnx")
