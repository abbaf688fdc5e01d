"""load_backend: names, devices and options checked before any framework is imported; the trt
device rules; the TensorRT engine cache's file names."""

from __future__ import annotations

import re

import pytest

from holoflow.errors import ConfigError
from holoflow.inference import EngineKey, engine_cache_path, load_backend
from holoflow.operators import InferenceOp
from holoflow.tensor import cuda_available
from holoflow.testing import Source


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("tflite", {}, "unknown inference backend 'tflite'; use one of ['onnxrt', 'torch', 'trt']"),
        ("python", {}, "unknown inference backend 'python'"),  # code is never found by name
        ("onnxrt", {"device": "gpu"}, "unknown inference device 'gpu'; use one of ['auto', 'cpu', 'cuda']"),
        (
            "torch",
            {"cuda_graph": True},
            "unknown inference backend options ['cuda_graph']; known: ['cuda_graphs', "
            "'intra_op_num_threads', 'is_engine_path', 'session_config']",
        ),
    ],
)
def test_unknown_names_devices_and_options(tmp_path, name, kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_backend(name, str(tmp_path / "model.onnx"), **kwargs)


def test_trt_refuses_the_cpu_before_importing_tensorrt(tmp_path):
    with pytest.raises(ConfigError, match="the trt backend cannot run on the CPU"):
        load_backend("trt", str(tmp_path / "model.onnx"), device="cpu")


@pytest.mark.skipif(cuda_available(), reason="needs a machine without a CUDA device")
def test_trt_auto_without_a_cuda_device(tmp_path):
    with pytest.raises(ConfigError, match="the trt backend cannot run on the CPU"):
        load_backend("trt", str(tmp_path / "model.onnx"))


def test_trt_on_cpu_is_refused_naming_the_operator_and_model(app, tmp_path):
    inference = InferenceOp(
        app,
        name="inference",
        backend="trt",
        infer_on_cpu=True,
        model_path_map={"net": str(tmp_path / "model.onnx")},
        pre_processor_map={"net": ["image"]},
        inference_map={"net": ["a", "b"]},
    )
    app.add_flow(Source(app, [], name="src"), inference, {("out", "receivers")})
    with pytest.raises(
        ConfigError,
        match=re.escape("operator 'inference': model 'net': the trt backend cannot run on the CPU"),
    ):
        app.run()


def test_engine_cache_key_naming():
    key = EngineKey("NVIDIA H100 80GB HBM3", (9, 0), 132, "10.9.0.34", fp16=True)
    assert engine_cache_path("/models/us_unet.onnx", key) == (
        "/models/us_unet.NVIDIAH10080GBHBM3.9.0.132.trt.10.9.0.34.engine.fp16"
    )
    other = EngineKey("NVIDIA H100 80GB HBM3", (9, 0), 132, "10.9.0.34", fp16=False, dla_core=1)
    assert engine_cache_path("m.onnx", other) == "m.NVIDIAH10080GBHBM3.9.0.132.trt.10.9.0.34.engine.fp32.dla1"
    assert len({engine_cache_path("m.onnx", k) for k in (key, other)}) == 2
