"""The torch backend with TorchScript and torch.export models (runs where PyTorch is installed)."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from holoflow.operators import InferenceOp
from holoflow.testing import Recorder, Source

torch = pytest.importorskip("torch")

# TorchScript is the format Holoscan's torch models come in; PyTorch 2.11 deprecates creating it.
TORCHSCRIPT_IS_DEPRECATED = pytest.mark.filterwarnings(
    "ignore:`torch\\.jit\\.\\w+` is deprecated:DeprecationWarning"
)
pytestmark = TORCHSCRIPT_IS_DEPRECATED


class TwoHeads(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        return y, y.mean(dim=(2, 3))


def save_both(tmp_path):
    module = TwoHeads().eval()
    example = torch.randn(1, 3, 16, 16)
    scripted = tmp_path / "net.pt"
    torch.jit.save(torch.jit.trace(module, example), str(scripted))
    exported = tmp_path / "net_export.pt2"
    torch.export.save(torch.export.export(module, (example,)), str(exported))
    spec = {
        "inputs": [{"name": "x", "shape": [1, 3, 16, 16], "dtype": "float32"}],
        "outputs": [
            {"name": "y", "shape": [1, 4, 16, 16], "dtype": "float32"},
            {"name": "pooled", "shape": [1, 4], "dtype": "float32"},
        ],
    }
    for path in (scripted, exported):
        path.with_suffix(".yaml").write_text(yaml.safe_dump(spec))
    return module, str(scripted), str(exported)


@pytest.mark.parametrize("which", ["torchscript", "export"])
def test_torch_models_match_the_module(app, tmp_path, which):
    module, scripted, exported = save_both(tmp_path)
    path = scripted if which == "torchscript" else exported
    frames = [
        {"image": np.random.default_rng(i).standard_normal((3, 16, 16)).astype(np.float32)} for i in range(2)
    ]
    inference = InferenceOp(
        app,
        name="inference",
        backend="torch",
        infer_on_cpu=True,
        transmit_on_cuda=False,
        model_path_map={"net": path},
        pre_processor_map={"net": ["image"]},
        inference_map={"net": ["seg", "pooled"]},
    )
    app.add_flow(Source(app, frames, name="src"), inference, {("out", "receivers")})
    app.add_flow(inference, rx := Recorder(app, name="rx"))
    app.run()
    for message, frame in zip(rx.received, frames, strict=True):
        with torch.no_grad():
            y, pooled = module(torch.from_numpy(frame["image"])[None])
        np.testing.assert_allclose(np.asarray(message["seg"]), y.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(message["pooled"]), pooled.numpy(), rtol=1e-5, atol=1e-6)


def test_auto_takes_cuda_only_with_a_device_and_a_cuda_build(tmp_path):
    from holoflow.inference import load_backend
    from holoflow.tensor import cuda_available

    _, scripted, _ = save_both(tmp_path)
    with_cuda = cuda_available() and torch.cuda.is_available()
    assert load_backend("torch", scripted).device == ("cuda" if with_cuda else "cpu")
    on_cpu = load_backend("torch", scripted, device="cpu", cuda_graphs=True, is_engine_path=True)
    assert on_cpu.device == "cpu" and not on_cpu.cuda_graphs  # graphs need CUDA; trt's option ignored
    (y, pooled) = on_cpu.infer([np.zeros((1, 3, 16, 16), np.float32)])
    assert tuple(y.shape) == (1, 4, 16, 16) and tuple(pooled.shape) == (1, 4)
