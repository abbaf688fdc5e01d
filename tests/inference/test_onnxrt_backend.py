"""InferenceOp and load_backend with real ONNX Runtime models: outputs equal a direct session run."""

from __future__ import annotations

import re

import numpy as np
import pytest

from holoflow.errors import ConfigError, TensorError
from holoflow.inference import load_backend
from holoflow.operators import InferenceOp
from holoflow.tensor import cuda_available
from holoflow.testing import Recorder, Source

from .._isolation import run_without

ort = pytest.importorskip("onnxruntime")


def run(app, frames, **kwargs):
    inference = InferenceOp(
        app, name="inference", backend="onnxrt", infer_on_cpu=True, transmit_on_cuda=False, **kwargs
    )
    app.add_flow(Source(app, frames, name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    app.run()
    return rx.received


def test_outputs_match_onnxruntime(app, use_scheduler, conv_model):
    rng = np.random.default_rng(1)
    frames = [{"image": rng.standard_normal((3, 8, 8)).astype(np.float32), "other": 1} for _ in range(3)]
    use_scheduler(app)
    received = run(
        app,
        frames,
        model_path_map={"net": conv_model},
        pre_processor_map={"net": ["image"]},
        inference_map={"net": ["seg", "mean"]},
    )
    session = ort.InferenceSession(conv_model, providers=["CPUExecutionProvider"])
    for message, frame in zip(received, frames, strict=True):
        y, z = session.run(None, {"x": frame["image"][None]})
        np.testing.assert_array_equal(np.asarray(message["seg"]), y)
        np.testing.assert_array_equal(np.asarray(message["mean"]), z)
        assert np.asarray(message["seg"]).shape == (1, 2, 8, 8)  # the batch dimension is kept


def test_several_models_in_parallel_with_a_bare_string_map(app, conv_model, scale_model):
    frame = {"image": np.ones((3, 8, 8), np.float32), "vector": np.arange(4, dtype=np.float32).reshape(1, 4)}
    received = run(
        app,
        [frame],
        model_path_map={"net": conv_model, "scale": scale_model},
        pre_processor_map={"net": ["image"], "scale": "vector"},
        inference_map={"net": ["seg", "mean"], "scale": "doubled"},
        parallel_inference=True,
    )
    np.testing.assert_array_equal(np.asarray(received[0]["doubled"]), [[0, 2, 4, 6]])
    assert set(received[0]) == {"seg", "mean", "doubled"}


def test_stateful_model_feeds_its_state_back(app, accumulator_model):
    frames = [{"x": np.full((1, 4), i, np.float32)} for i in range(1, 5)]
    received = run(
        app,
        frames,
        model_path_map={"acc": accumulator_model},
        pre_processor_map={"acc": ["x", "h"]},
        inference_map={"acc": ["y", "h_next"]},
        state_map={"acc": {"h_next": "h"}},
    )
    assert [float(np.asarray(m["y"])[0, 0]) for m in received] == [1, 3, 6, 10]  # running sums


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((3, 7, 8), np.float32), "shape (3, 7, 8) does not fit the model input [1, 3, 8, 8]"),
        (np.zeros((3, 8, 8), np.int32), "the model expects float32, got int32"),
    ],
)
def test_the_model_file_s_inputs_are_checked(app, conv_model, array, message):
    with pytest.raises(
        TensorError, match=re.escape(f"operator 'inference': model 'net', tensor 'image': {message}")
    ):
        run(
            app,
            [{"image": array}],
            model_path_map={"net": conv_model},
            pre_processor_map={"net": ["image"]},
            inference_map={"net": ["a", "b"]},
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"inference_map": {"net": ["only_one"]}},
            "model 'net' has 2 outputs ['y', 'z']; inference_map names",
        ),
        (
            {"pre_processor_map": {"net": ["a", "b"]}},
            "model 'net' has 1 inputs ['x']; pre_processor_map names",
        ),
        ({"model_path_map": {"net": "/nonexistent/model.onnx"}}, "model 'net': model file not found"),
        ({"backend": "tflite"}, "operator 'inference': model 'net': unknown inference backend 'tflite'"),
    ],
)
def test_configuration_errors(app, conv_model, kwargs, message):
    options = {
        "model_path_map": {"net": conv_model},
        "pre_processor_map": {"net": ["image"]},
        "inference_map": {"net": ["a", "b"]},
    } | kwargs
    backend = options.pop("backend", "onnxrt")
    inference = InferenceOp(app, name="inference", backend=backend, infer_on_cpu=True, **options)
    app.add_flow(Source(app, [], name="src"), inference, {("out", "receivers")})
    with pytest.raises(ConfigError, match=re.escape(message)):
        app.run()


def test_unreadable_model_file(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="cannot load ONNX model"):
        load_backend("onnxrt", str(bad))


def test_auto_takes_cuda_only_with_a_device_and_the_cuda_provider(conv_model):
    with_cuda = cuda_available() and "CUDAExecutionProvider" in ort.get_available_providers()
    assert load_backend("onnxrt", conv_model).device == ("cuda" if with_cuda else "cpu")
    assert load_backend("onnxrt", conv_model, device="cpu").device == "cpu"


def test_options_of_other_backends_are_ignored(conv_model):
    backend = load_backend("onnxrt", conv_model, device="cpu", is_engine_path=True, cuda_graphs=True)
    x = np.ones((1, 3, 8, 8), np.float32)
    y, z = backend.infer([x])
    assert y.shape == (1, 2, 8, 8) and float(z) == 1.0


def test_without_onnxruntime_the_error_names_the_extra(conv_model):
    script = f"""
        from holoflow.inference import load_backend
        try:
            load_backend("onnxrt", {conv_model!r})
        except ImportError as exc:
            print(exc)
        """
    result = run_without(["onnxruntime"], script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "the onnxrt backend needs ONNX Runtime: pip install 'holoflow[onnx]'\n"


def test_a_transposed_input_is_refused_with_the_models_dims(app, tmp_path, onnx_helpers):
    """A (1, 6, 3) tensor for a [1, 3, 6] model: a holoflow error naming the model's dims, not
    ONNX Runtime's error about its internal input name."""
    TensorProto, helper, _ = onnx_helpers
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "identity",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 6])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "identity.onnx"
    path.write_bytes(model.SerializeToString())
    maps = {
        "model_path_map": {"net": str(path)},
        "pre_processor_map": {"net": ["image"]},
        "inference_map": {"net": ["out"]},
    }
    message = re.escape("operator 'inference': model 'net', tensor 'image': shape (1, 6, 3) does not fit")
    message += re.escape(" the model input [1, 3, 6]")
    with pytest.raises(TensorError, match=message):
        run(app, [{"image": np.zeros((1, 6, 3), np.float32)}], **maps)
