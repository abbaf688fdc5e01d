"""FunctionBackend: a Python callable as a model, and InferenceOp running one where no inference
framework can be imported."""

from __future__ import annotations

import re

import numpy as np
import pytest

from holoflow.errors import ConfigError, TensorError
from holoflow.inference import Backend, FunctionBackend, TensorSpec

from .._isolation import run_without


def test_runs_the_function_on_host_arrays_in_model_order():
    backend = FunctionBackend(lambda a, b: (a - b, a + b), name="plus_minus")
    assert isinstance(backend, Backend) and backend.device == "cpu"
    a, b = np.arange(4, dtype=np.float32), np.ones(4, np.float32)
    minus, plus = backend.infer([a, b])
    np.testing.assert_array_equal(minus, a - 1)
    np.testing.assert_array_equal(plus, a + 1)
    assert backend.model_path == "<function plus_minus>"


def test_one_returned_array_is_one_output():
    outputs = FunctionBackend(np.negative).infer([np.ones(3, np.float32)])
    assert len(outputs) == 1
    np.testing.assert_array_equal(outputs[0], -np.ones(3, np.float32))


def test_specs_are_normalized():
    backend = FunctionBackend(
        np.negative, inputs=[TensorSpec("x", [1, 4], "float32")], outputs=[TensorSpec("y", (1, 4), "float16")]
    )
    assert backend.inputs == [TensorSpec("x", (1, 4), np.dtype(np.float32))]
    assert backend.outputs[0].dtype == np.dtype(np.float16)


def test_a_different_number_of_outputs_than_described_is_refused():
    backend = FunctionBackend(
        lambda x: x, outputs=[TensorSpec("y", (4,), "float32"), TensorSpec("z", (), "float32")]
    )
    with pytest.raises(TensorError, match=re.escape("returned 1 outputs; its outputs are ['y', 'z']")):
        backend.infer([np.ones(4, np.float32)])


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        (("not callable",), {}, "FunctionBackend needs a callable, got str"),
        ((np.negative,), {"device": "auto"}, "FunctionBackend device must be 'cpu' or 'cuda', got 'auto'"),
    ],
)
def test_bad_arguments(args, kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        FunctionBackend(*args, **kwargs)


def test_inference_op_runs_one_with_no_inference_framework_importable():
    """InferenceOp decides nothing about backends itself: with a FunctionBackend it imports none."""
    script = """
        import numpy as np
        from holoflow.core import Application
        from holoflow.inference import FunctionBackend
        from holoflow.operators import InferenceOp
        from holoflow.tensor import to_host
        from holoflow.testing import Recorder, Source

        app = Application([])
        inference = InferenceOp(
            app,
            name="inference",
            backend=FunctionBackend(lambda x: x * 3),
            model_path_map={"m": ""},
            pre_processor_map={"m": ["v"]},
            inference_map={"m": ["y"]},
        )
        source = Source(app, [{"v": np.ones(2, np.float32)}], name="src")
        app.add_flow(source, inference, {("out", "receivers")})
        app.add_flow(inference, rx := Recorder(app, name="rx"))
        app.run()
        y = rx.received[0]["y"]  # on a GPU machine the output is transmitted on CUDA
        values = to_host(y) if y.is_cuda else np.asarray(y)
        print(values.tolist(), sorted(set(BLOCKED) & set(sys.modules)))
        """
    result = run_without(["onnx", "onnxruntime", "torch", "tensorrt"], script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "[3.0, 3.0] []\n"
