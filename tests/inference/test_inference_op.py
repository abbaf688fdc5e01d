"""InferenceOp with real ONNX Runtime models: outputs equal a direct backend call."""

from __future__ import annotations

import re

import numpy as np
import pytest

from holoflow.errors import ConfigError, TensorError
from holoflow.inference import EngineKey, engine_cache_path, load_backend
from holoflow.operators import InferenceOp
from holoflow.testing import Recorder, Source

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


def test_temporal_and_activation_maps_re_emit_the_last_result(app, scale_model):
    frames = [{"vector": np.full((1, 4), i, np.float32)} for i in range(5)]
    received = run(
        app,
        frames,
        model_path_map={"a": scale_model, "b": scale_model},
        pre_processor_map={"a": ["vector"], "b": ["vector"]},
        inference_map={"a": ["ya"], "b": ["yb"]},
        temporal_map={"a": "2"},
        activation_map={"b": "0"},
    )
    assert [float(np.asarray(m["ya"])[0, 0]) for m in received] == [0, 0, 4, 4, 8]  # frames 1, 3, 5
    assert [float(np.asarray(m["yb"])[0, 0]) for m in received] == [0] * 5  # inactive after the first


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


def test_missing_tensor_names_model_and_what_arrived(app, conv_model):
    with pytest.raises(
        TensorError,
        match=re.escape(
            "operator 'inference': model 'net' needs tensor 'image', which no message on 'receivers' has; "
            "tensors received: ['frame']"
        ),
    ):
        run(
            app,
            [{"frame": np.zeros((3, 8, 8), np.float32)}],
            model_path_map={"net": conv_model},
            pre_processor_map={"net": ["image"]},
            inference_map={"net": ["a", "b"]},
        )


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros((3, 7, 8), np.float32), "shape (3, 7, 8) does not fit the model input [1, 3, 8, 8]"),
        (np.zeros((3, 8, 8), np.float64), "dtype float64 is not accepted"),
        (np.zeros((3, 8, 8), np.int32), "the model expects float32, got int32"),
    ],
)
def test_bad_input_names_operator_model_tensor_and_expectation(app, conv_model, array, message):
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
        ({"model_path_map": {}}, "model_path_map is empty"),
        ({"pre_processor_map": {"other": ["x"]}}, "pre_processor_map has models ['other']"),
        (
            {"inference_map": {"net": ["only_one"]}},
            "model 'net' has 2 outputs ['y', 'z']; inference_map names",
        ),
        ({"model_path_map": {"net": "/nonexistent/model.onnx"}}, "model 'net': model file not found"),
        ({"backend": "tflite"}, "unknown inference backend 'tflite'"),
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


def test_trt_on_cpu_is_refused(app, conv_model):
    inference = InferenceOp(
        app,
        name="inference",
        backend="trt",
        infer_on_cpu=True,
        model_path_map={"net": conv_model},
        pre_processor_map={"net": ["image"]},
        inference_map={"net": ["a", "b"]},
    )
    app.add_flow(Source(app, [], name="src"), inference, {("out", "receivers")})
    with pytest.raises(ConfigError, match="the trt backend cannot run on the CPU"):
        app.run()


def test_engine_cache_key_naming():
    key = EngineKey("NVIDIA H100 80GB HBM3", (9, 0), 132, "10.9.0.34", fp16=True)
    assert engine_cache_path("/models/us_unet.onnx", key) == (
        "/models/us_unet.NVIDIAH10080GBHBM3.9.0.132.trt.10.9.0.34.engine.fp16"
    )
    other = EngineKey("NVIDIA H100 80GB HBM3", (9, 0), 132, "10.9.0.34", fp16=False, dla_core=1)
    assert engine_cache_path("m.onnx", other) == "m.NVIDIAH10080GBHBM3.9.0.132.trt.10.9.0.34.engine.fp32.dla1"
    assert len({engine_cache_path("m.onnx", k) for k in (key, other)}) == 2
