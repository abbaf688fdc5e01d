"""``InferenceOp(backend="trt")`` where TensorRT cannot run: the ONNX model runs with ONNX Runtime,
warned once per process; a TensorRT engine file there stays an error."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from holoflow.core import Application
from holoflow.errors import ConfigError, CPUFallbackWarning
from holoflow.inference import load_backend, trt_unavailable_reason
from holoflow.operators import InferenceOp
from holoflow.testing import Recorder, Source

pytestmark = pytest.mark.skipif(trt_unavailable_reason() is None, reason="TensorRT can run on this machine")


def build(app, frames, **kwargs):
    inference = InferenceOp(
        app,
        name="inference",
        transmit_on_cuda=False,
        pre_processor_map={"net": ["image"]},
        inference_map={"net": ["seg", "mean"]},
        **kwargs,
    )
    app.add_flow(Source(app, frames, name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    return rx


def test_the_reason_names_what_is_missing():
    assert trt_unavailable_reason() in ("TensorRT is not installed", "no CUDA device is available")


def test_trt_runs_the_onnx_model_with_onnx_runtime(conv_model, scheduler_kind, use_scheduler):
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(3)
    frames = [{"image": rng.standard_normal((1, 3, 8, 8)).astype(np.float32)} for _ in range(3)]
    app = Application([])
    use_scheduler(app)
    rx = build(app, frames, backend="trt", model_path_map={"net": conv_model})
    message = (
        f"operator 'inference': model 'net': backend 'trt' but {trt_unavailable_reason()}, so the ONNX "
        "model runs with ONNX Runtime instead"
    )
    with pytest.warns(CPUFallbackWarning, match=re.escape(message)) as record:
        app.run()
    assert len([w for w in record if w.category is CPUFallbackWarning]) == 1
    reference = load_backend("onnxrt", conv_model, device="cpu")
    assert len(rx.received) == 3
    for received, frame in zip(rx.received, frames, strict=True):
        seg, mean = reference.infer([frame["image"]])
        np.testing.assert_allclose(np.asarray(received["seg"]), seg, rtol=1e-6)
        np.testing.assert_allclose(np.asarray(received["mean"]), mean, rtol=1e-6)


def test_one_warning_for_every_trt_model_of_the_process(conv_model, tmp_path):
    pytest.importorskip("onnxruntime")
    app = Application([])
    frame = {"image": np.ones((1, 3, 8, 8), np.float32), "x": np.ones((1, 3, 8, 8), np.float32)}
    inference = InferenceOp(
        app,
        name="inference",
        transmit_on_cuda=False,
        backend="trt",
        model_path_map={"a": conv_model, "b": conv_model},
        pre_processor_map={"a": ["image"], "b": ["x"]},
        inference_map={"a": ["seg_a", "mean_a"], "b": ["seg_b", "mean_b"]},
    )
    app.add_flow(Source(app, [frame], name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    with pytest.warns(CPUFallbackWarning) as record:
        app.run()
    assert [str(w.message).split(":")[1].strip() for w in record] == ["model 'a'"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app.run()  # a second run loads the models again: no second warning
    assert sorted(rx.received[0]) == ["mean_a", "mean_b", "seg_a", "seg_b"]


@pytest.mark.parametrize(
    ("file_name", "kwargs"),
    [("net.engine", {}), ("net.plan", {}), ("net.onnx", {"is_engine_path": True})],
)
def test_an_engine_file_without_tensorrt_is_a_clear_error(app, tmp_path, file_name, kwargs):
    path = tmp_path / file_name
    path.write_bytes(b"serialized engine")
    build(app, [], backend="trt", model_path_map={"net": str(path)}, **kwargs)
    message = (
        f"operator 'inference': model 'net': {path} is a TensorRT engine and {trt_unavailable_reason()}; "
        "only TensorRT runs an engine"
    )
    with pytest.raises(ConfigError, match=re.escape(message)):
        app.run()


def test_backend_map_entries_fall_back_too(app, conv_model):
    pytest.importorskip("onnxruntime")
    rx = build(
        app,
        [{"image": np.zeros((1, 3, 8, 8), np.float32)}],
        backend="onnxrt",
        backend_map={"net": "trt"},
        model_path_map={"net": conv_model},
    )
    with pytest.warns(CPUFallbackWarning, match="model 'net': backend 'trt'"):
        app.run()
    assert sorted(rx.received[0]) == ["mean", "seg"]
