"""Inference on CUDA: the torch backend with CUDA inputs and outputs, and CUDA graphs."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from holoflow.inference import FunctionBackend, TensorSpec
from holoflow.kernels import label_map
from holoflow.operators import InferenceOp, SegmentationPostprocessorOp
from holoflow.testing import Recorder, Source

# TorchScript is the format Holoscan's torch models come in; PyTorch 2.11 deprecates creating it.
TORCHSCRIPT_IS_DEPRECATED = pytest.mark.filterwarnings(
    "ignore:`torch\\.jit\\.\\w+` is deprecated:DeprecationWarning"
)
pytestmark = [pytest.mark.gpu, TORCHSCRIPT_IS_DEPRECATED]
torch = pytest.importorskip("torch")


def scripted_model(tmp_path):
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3, padding=1), torch.nn.Sigmoid()).eval()
    path = tmp_path / "seg.pt"
    torch.jit.save(torch.jit.trace(module, torch.randn(1, 3, 32, 32)), str(path))
    spec = {
        "inputs": [{"name": "x", "shape": [1, 3, 32, 32], "dtype": "float32"}],
        "outputs": [{"name": "y", "shape": [1, 2, 32, 32], "dtype": "float32"}],
    }
    path.with_suffix(".yaml").write_text(yaml.safe_dump(spec))
    return module, str(path)


@pytest.mark.parametrize("graphs", [False, True])
def test_torch_on_cuda_with_cuda_tensors(app, cp, tmp_path, graphs):
    module, path = scripted_model(tmp_path)
    frames = [
        {"image": cp.asarray(np.random.default_rng(i).standard_normal((3, 32, 32)).astype(np.float32))}
        for i in range(3)
    ]
    inference = InferenceOp(
        app,
        name="inference",
        backend="torch",
        model_path_map={"seg": path},
        pre_processor_map={"seg": ["image"]},
        inference_map={"seg": ["scores"]},
        enable_cuda_graphs=graphs,
    )
    post = SegmentationPostprocessorOp(app, name="post", in_tensor_name="scores", data_format="nchw")
    app.add_flow(Source(app, frames, name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    app.add_flow(inference, post)
    app.add_flow(post, labels := Recorder(app, name="labels"))
    app.run()
    module = module.cuda()
    for message, label_message, frame in zip(rx.received, labels.received, frames, strict=True):
        scores = message["scores"]
        assert scores.is_cuda
        with torch.no_grad():
            expected = module(torch.from_dlpack(frame["image"])[None])
        torch.testing.assert_close(torch.from_dlpack(scores), expected, rtol=1e-4, atol=1e-5)
        got = label_message["out_tensor"]
        assert got.is_cuda
        np.testing.assert_array_equal(
            cp.asarray(got).get(), label_map(expected.cpu().numpy(), "softmax", "nchw")
        )


def test_onnxrt_without_its_cuda_provider_runs_on_the_cpu_with_cuda_io(app, cp, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "relu.onnx"
    onnx.save(model, str(path))
    inference = InferenceOp(
        app,
        name="inference",
        backend="onnxrt",
        model_path_map={"m": str(path)},
        pre_processor_map={"m": ["x"]},
        inference_map={"m": ["y"]},
    )
    app.add_flow(
        Source(app, [{"x": cp.asarray([[-1.0, 2.0, -3.0, 4.0]], dtype=cp.float32)}], name="src"),
        inference,
        {("out", "receivers")},
    )
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    app.run()
    out = rx.received[0]["y"]
    assert out.is_cuda
    assert cp.asarray(out).get().tolist() == [[0.0, 2.0, 0.0, 4.0]]


@pytest.mark.parametrize("data_format", ["hwc", "nchw", "nhwc"])
def test_softmax_labels_on_the_gpu_equal_the_cpu(cp, data_format):
    rng = np.random.default_rng(7)
    hwc = rng.standard_normal((37, 53, 5)).astype(np.float32)
    hwc[rng.random(hwc.shape) < 0.05] = np.nan
    hwc[:, :3] = 0.25  # ties: the lower index wins
    hwc[:2] = -1.0  # nothing above 0: label 0
    scores = {"hwc": hwc, "nchw": np.moveaxis(hwc, -1, 0)[None].copy(), "nhwc": hwc[None].copy()}[data_format]
    expected = label_map(scores, "softmax", data_format)
    got = label_map(cp.asarray(scores), "softmax", data_format, cp)
    assert got.shape == expected.shape and got.dtype == cp.uint8
    np.testing.assert_array_equal(cp.asnumpy(got), expected)


def test_function_backend_on_cuda_runs_on_the_operator_stream(app, cp):
    seen = []

    def double(x):
        seen.append((type(x), cp.cuda.get_current_stream().ptr))
        return x * 2

    backend = FunctionBackend(double, device="cuda", inputs=[TensorSpec("x", (1, 4), "float32")])
    frames = [{"v": cp.arange(4, dtype=cp.float32) + i} for i in range(3)]
    inference = InferenceOp(
        app,
        name="inference",
        backend=backend,
        model_path_map={"m": ""},
        pre_processor_map={"m": ["v"]},
        inference_map={"m": ["y"]},
    )
    app.add_flow(Source(app, frames, name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    app.run()
    assert [kind for kind, _ in seen] == [cp.ndarray] * 3
    assert all(stream != 0 for _, stream in seen)  # the operator's stream, not the legacy default
    for i, message in enumerate(rx.received):
        assert message["y"].is_cuda
        assert cp.asarray(message["y"]).get().tolist() == [[2.0 * (k + i) for k in range(4)]]


def test_function_backend_on_the_cpu_gets_host_copies_and_emits_on_cuda(app, cp):
    seen = []

    def negate(x):
        seen.append(type(x))
        return -x

    inference = InferenceOp(
        app,
        name="inference",
        backend=FunctionBackend(negate),
        model_path_map={"m": ""},
        pre_processor_map={"m": ["v"]},
        inference_map={"m": ["y"]},
    )
    source = Source(app, [{"v": cp.ones((2, 3), dtype=cp.float32)}], name="src")
    app.add_flow(source, inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    app.run()
    assert seen == [np.ndarray]
    assert rx.received[0]["y"].is_cuda
    assert cp.asarray(rx.received[0]["y"]).get().tolist() == [[-1.0] * 3] * 2
