"""Inference backends behind one interface: ONNX Runtime, PyTorch and TensorRT, loaded lazily."""

from holoflow.inference._backend import Backend, TensorSpec, load_backend
from holoflow.inference._engine_cache import EngineKey, engine_cache_path

__all__ = ["Backend", "EngineKey", "TensorSpec", "engine_cache_path", "load_backend"]
