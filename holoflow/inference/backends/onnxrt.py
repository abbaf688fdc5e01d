"""ONNX Runtime backend: CPU everywhere, the CUDA execution provider with onnxruntime-gpu.

``device="auto"`` takes CUDA only when a CUDA device is present and ONNX Runtime offers its
CUDA execution provider; otherwise the model runs on the CPU (CUDA inputs are copied to the host).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from holoflow.errors import ConfigError, ResourceError
from holoflow.inference._backend import Backend, TensorSpec
from holoflow.tensor import as_tensor, cuda_available, to_host

_ORT_TYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(int32)": np.int32,
    "tensor(int64)": np.int64,
    "tensor(bool)": np.bool_,
}


def _ort() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ImportError("the onnxrt backend needs ONNX Runtime: pip install 'holoflow[onnx]'") from exc
    return onnxruntime


def _has_cuda_provider(ort: Any) -> bool:
    return "CUDAExecutionProvider" in ort.get_available_providers()


def resolve_device(device: str) -> str:
    """``"cuda"`` for ``"auto"`` when a CUDA device is present and ONNX Runtime has its CUDA
    execution provider, else ``"cpu"``; ``"cpu"`` and ``"cuda"`` as given.

    Raises
    ------
    ImportError
        If ONNX Runtime is not installed (naming the extra).
    """
    if device != "auto":
        return device
    return "cuda" if cuda_available() and _has_cuda_provider(_ort()) else "cpu"


def _shape(dims: list[Any]) -> tuple[int, ...]:
    return tuple(d if isinstance(d, int) and d > 0 else -1 for d in dims)


class OnnxRuntimeBackend(Backend):
    """Runs an ONNX model with ONNX Runtime."""

    name = "onnxrt"

    def __init__(self, model_path: str, *, device: str = "cpu", enable_fp16: bool = False) -> None:
        super().__init__(model_path, device=device, enable_fp16=enable_fp16)
        ort = _ort()
        if not os.path.isfile(model_path):
            raise ConfigError(f"model file not found: {model_path}")
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if not _has_cuda_provider(ort):
                raise ResourceError("onnxrt on CUDA needs onnxruntime-gpu (the CUDA execution provider)")
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # ORT's worker threads otherwise spin after each run, taking the cores the other
        # operators of the graph need between frames.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(model_path, sess_options=options, providers=providers)
        except Exception as exc:
            raise ConfigError(f"cannot load ONNX model {model_path}: {exc}") from exc
        self.inputs = [
            TensorSpec(i.name, _shape(i.shape), np.dtype(_ORT_TYPES.get(i.type, np.float32)))
            for i in self.session.get_inputs()
        ]
        self.outputs = [
            TensorSpec(o.name, _shape(o.shape), np.dtype(_ORT_TYPES.get(o.type, np.float32)))
            for o in self.session.get_outputs()
        ]
        self._output_names = [o.name for o in self.outputs]

    def infer(self, inputs: list[Any], stream: int | None = None) -> list[Any]:
        feeds = {spec.name: _host(array, stream) for spec, array in zip(self.inputs, inputs, strict=True)}
        outputs: list[Any] = self.session.run(self._output_names, feeds)
        return outputs


def _host(array: Any, stream: int | None) -> np.ndarray:
    """A host copy of ``array`` (ordered after ``stream`` for CUDA arrays)."""
    tensor = as_tensor(array)
    if tensor.is_cuda:
        copied: np.ndarray = to_host(tensor, stream or 0)
        return copied
    host: np.ndarray = np.ascontiguousarray(np.asarray(tensor))
    return host


def create(model_path: str, *, device: str = "auto", enable_fp16: bool = False, **_others: Any) -> Backend:
    """The backend for ``model_path`` on ``device`` (``"auto"`` resolved by :func:`resolve_device`);
    the options of other backends are ignored."""
    return OnnxRuntimeBackend(model_path, device=resolve_device(device), enable_fp16=enable_fp16)
