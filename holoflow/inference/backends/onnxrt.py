"""ONNX Runtime backend: CPU everywhere, the CUDA execution provider with onnxruntime-gpu.

``device="auto"`` takes CUDA only when a CUDA device is present and ONNX Runtime offers its
CUDA execution provider; otherwise the model runs on the CPU (CUDA inputs are copied to the host).

Threads: as Holoscan's ONNX Runtime backend, a session runs each model on the calling thread
(``intra_op_num_threads=1``, one inter-op thread). A pipeline has other operators to run on the
other cores, and ONNX Runtime's own pool hands every parallel node to helper threads and waits
for the slowest: on a machine with few cores a helper that shares its core with another thread
stalls the whole call (inside the ultrasound app on two cores the model call's p99 is 1.7x its
median on ONNX Runtime's default pool, 1.1x with one thread). ``intra_op_num_threads`` takes
another count (0: ONNX Runtime's default, one per physical core); the helpers then wait without
spinning unless ``session_config`` says otherwise, so that between calls they leave the cores
to the pipeline.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from holoflow.errors import ConfigError, ResourceError
from holoflow.inference._backend import Backend, TensorSpec
from holoflow.tensor import as_tensor, cuda_available, to_host

DEFAULT_INTRA_OP_NUM_THREADS = 1
"""Threads per model call unless ``intra_op_num_threads`` says otherwise (Holoscan's choice)."""

_NO_SPINNING = {"session.intra_op.allow_spinning": "0", "session.inter_op.allow_spinning": "0"}

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

    def __init__(
        self,
        model_path: str,
        *,
        device: str = "cpu",
        enable_fp16: bool = False,
        intra_op_num_threads: int = DEFAULT_INTRA_OP_NUM_THREADS,
        session_config: Mapping[str, Any] | None = None,
    ) -> None:
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
        options.intra_op_num_threads = _thread_count(intra_op_num_threads)
        options.inter_op_num_threads = 1
        for key, value in {**_NO_SPINNING, **_config_entries(session_config)}.items():
            options.add_session_config_entry(key, value)
        self.intra_op_num_threads = options.intra_op_num_threads
        """The threads each call may use (0: ONNX Runtime's default)."""
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


def _thread_count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(
            f"intra_op_num_threads must be an int >= 0 (0: ONNX Runtime's default), got {value!r}"
        )
    return value


def _config_entries(config: Mapping[str, Any] | None) -> dict[str, str]:
    """ONNX Runtime session config entries (``"session.intra_op.allow_spinning": "1"``...)."""
    if config is None:
        return {}
    if not isinstance(config, Mapping) or not all(isinstance(k, str) for k in config):
        raise ConfigError(f"session_config must map ONNX Runtime config keys to values, got {config!r}")
    return {key: str(int(value)) if isinstance(value, bool) else str(value) for key, value in config.items()}


def _host(array: Any, stream: int | None) -> np.ndarray:
    """A host copy of ``array`` (ordered after ``stream`` for CUDA arrays)."""
    tensor = as_tensor(array)
    if tensor.is_cuda:
        copied: np.ndarray = to_host(tensor, stream or 0)
        return copied
    host: np.ndarray = np.ascontiguousarray(np.asarray(tensor))
    return host


def create(
    model_path: str,
    *,
    device: str = "auto",
    enable_fp16: bool = False,
    intra_op_num_threads: int = DEFAULT_INTRA_OP_NUM_THREADS,
    session_config: Mapping[str, Any] | None = None,
    **_others: Any,
) -> Backend:
    """The backend for ``model_path`` on ``device`` (``"auto"`` resolved by :func:`resolve_device`),
    each call on ``intra_op_num_threads`` threads, with ``session_config`` entries added to the
    session's options; the options of other backends are ignored."""
    return OnnxRuntimeBackend(
        model_path,
        device=resolve_device(device),
        enable_fp16=enable_fp16,
        intra_op_num_threads=intra_op_num_threads,
        session_config=session_config,
    )
