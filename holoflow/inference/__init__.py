"""Inference backends behind one interface: ONNX Runtime, PyTorch and TensorRT, loaded lazily by
name with :func:`load_backend`, and :class:`FunctionBackend` for a model that is a Python callable."""

from holoflow.inference._backend import BACKENDS, Backend, TensorSpec, load_backend, trt_unavailable_reason
from holoflow.inference._engine_cache import EngineKey, engine_cache_path
from holoflow.inference.backends.python import FunctionBackend

__all__ = [
    "BACKENDS",
    "Backend",
    "EngineKey",
    "FunctionBackend",
    "TensorSpec",
    "engine_cache_path",
    "load_backend",
    "trt_unavailable_reason",
]
