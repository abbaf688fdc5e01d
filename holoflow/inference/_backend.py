"""The inference backend contract and the loader that finds backends by file name.

A backend wraps one model: :attr:`Backend.inputs` / :attr:`Backend.outputs` describe its tensors
in the model's order, and :meth:`Backend.infer` runs it on arrays (host or CUDA, as the backend
supports) and returns the outputs in that order. Backends live in ``backends/<name>.py`` and
are imported only when a model asks for them, so an unused framework is never imported.

Each backend module owns its device choice and its options: ``create(model_path, *, device,
enable_fp16, **options)`` resolves ``device="auto"`` itself and reads the options it knows.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np

from holoflow.errors import ConfigError
from holoflow.tensor import cuda_available

__all__ = ["BACKENDS", "Backend", "TensorSpec", "load_backend", "trt_unavailable_reason"]

BACKENDS = ("onnxrt", "torch", "trt")
"""The backends ``load_backend`` finds by name (``backends/<name>.py``)."""
"""The backends ``load_backend`` finds by name (``backends/<name>.py``)."""

_DEVICES = ("auto", "cpu", "cuda")
"""The devices ``load_backend`` accepts; each backend resolves ``"auto"``."""

_OPTIONS = {
    "cuda_graphs": "torch",
    "intra_op_num_threads": "onnxrt",
    "is_engine_path": "trt",
    "session_config": "onnxrt",
}
"""Every backend-specific option, and the backend that reads it; the others ignore it."""


@dataclass(frozen=True)
class TensorSpec:
    """One model input or output."""

    name: str
    """Name in the model."""
    shape: tuple[int, ...]
    """Dimensions; -1 marks a dynamic one."""
    dtype: np.dtype
    """Element type."""


class Backend:
    """Base class of inference backends.

    Parameters
    ----------
    model_path : str
        The model file.
    device : {"cpu", "cuda"}
        Where the model runs; ``"cuda"`` accepts CUDA arrays as inputs and returns CUDA arrays.
    enable_fp16 : bool
        Allow half precision where the backend supports it.
    """

    name = "backend"

    def __init__(self, model_path: str, *, device: str = "cpu", enable_fp16: bool = False) -> None:
        self.model_path = model_path
        self.device = device
        self.enable_fp16 = enable_fp16
        self.inputs: list[TensorSpec] = []
        self.outputs: list[TensorSpec] = []

    def infer(self, inputs: list[Any], stream: int | None = None) -> list[Any]:
        """Run the model on ``inputs`` (model order); return the outputs (model order).

        ``stream`` is the CUDA stream the work is ordered on (inputs are ready on it, and the
        outputs must be ready on it); ``None`` for host-only runs.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement infer(inputs)")


def load_backend(
    name: str, model_path: str, *, device: str = "auto", enable_fp16: bool = False, **options: Any
) -> Backend:
    """Import ``holoflow.inference.backends.<name>`` and build its backend for ``model_path``.

    Parameters
    ----------
    name : {"onnxrt", "torch", "trt"}
        The backend. Only these names load: a plain-Python model is a
        :class:`~holoflow.inference.FunctionBackend` built in code, never found by name.
    model_path : str
        The model file (for ``trt`` with ``is_engine_path``, the engine file).
    device : {"auto", "cpu", "cuda"}
        Where the model runs. ``"auto"`` is resolved by the backend: ``onnxrt`` takes CUDA when
        a CUDA device is present and ONNX Runtime has its CUDA execution provider
        (onnxruntime-gpu), else the CPU; ``torch`` takes CUDA when a CUDA device is present and
        PyTorch is built with CUDA, else the CPU; ``trt`` takes CUDA, and refuses to load
        without a CUDA device.
    enable_fp16 : bool
        Allow half precision where the backend supports it.
    **options
        Backend-specific options: ``is_engine_path`` (``trt``: ``model_path`` is a serialized
        engine, not ONNX), ``cuda_graphs`` (``torch``: capture a CUDA model into a CUDA
        graph), ``intra_op_num_threads`` (``onnxrt``: threads per call, default 1 as in
        Holoscan; 0: ONNX Runtime's default) and ``session_config`` (``onnxrt``: session config
        entries, such as ``{"session.intra_op.allow_spinning": "1"}``). A backend ignores the
        options of the others, so one set of options serves every backend; a name no backend
        knows is refused.

    Raises
    ------
    holoflow.errors.ConfigError
        For an unknown backend name, device or option, a bad option value, a device the
        backend cannot use (``trt`` on the CPU or without a CUDA device), or a missing or
        unreadable model.
    holoflow.errors.ResourceError
        For ``device="cuda"`` where the backend cannot reach CUDA (``onnxrt`` without its CUDA
        execution provider).
    ImportError
        If the backend's framework is not installed (the message names the extra).
    """
    if name not in BACKENDS:
        raise ConfigError(f"unknown inference backend {name!r}; use one of {list(BACKENDS)}")
    if device not in _DEVICES:
        raise ConfigError(f"unknown inference device {device!r}; use one of {list(_DEVICES)}")
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ConfigError(f"unknown inference backend options {unknown}; known: {sorted(_OPTIONS)}")
    module = importlib.import_module(f"holoflow.inference.backends.{name}")
    backend: Backend = module.create(model_path, device=device, enable_fp16=enable_fp16, **options)
    return backend


def trt_unavailable_reason() -> str | None:
    """Why the ``trt`` backend cannot run on this machine, or ``None`` when it can: TensorRT
    must be installed and a CUDA device present. Imports neither TensorRT nor a model."""
    if importlib.util.find_spec("tensorrt") is None:
        return "TensorRT is not installed"
    if not cuda_available():
        return "no CUDA device is available"
    return None
