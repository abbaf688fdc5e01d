"""TensorRT backend: builds an engine from the ONNX model once per GPU/version/precision and
caches it next to the model (see ``_engine_cache``); later runs load the cached engine.

TensorRT runs on CUDA only: ``device="auto"`` is CUDA, and a missing CUDA device or
``device="cpu"`` is refused before TensorRT is imported.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from holoflow.errors import ConfigError, ResourceError
from holoflow.inference._backend import Backend, TensorSpec
from holoflow.inference._engine_cache import EngineKey, engine_cache_path
from holoflow.tensor import cuda_available, cupy_module, external_stream, require_cuda


def _tensorrt() -> Any:
    try:
        import tensorrt
    except ImportError as exc:
        raise ImportError("the trt backend needs TensorRT: pip install 'holoflow[trt]'") from exc
    return tensorrt


def current_key(fp16: bool) -> EngineKey:
    """The engine key of the current CUDA device and the installed TensorRT."""
    trt = _tensorrt()
    cupy = require_cuda("TensorRT")
    props = cupy.cuda.runtime.getDeviceProperties(0)
    return EngineKey(
        props["name"].decode(),
        (props["major"], props["minor"]),
        props["multiProcessorCount"],
        trt.__version__,
        fp16,
    )


def resolve_device(device: str) -> str:
    """``"cuda"`` for ``"auto"`` and ``"cuda"``.

    Raises
    ------
    holoflow.errors.ConfigError
        For ``"cpu"``, or when no CUDA device is available (which leaves only the CPU); the
        message is the same for both: "the trt backend cannot run on the CPU".
    """
    if device == "cpu" or not cuda_available():
        raise ConfigError("the trt backend cannot run on the CPU")
    return "cuda"


class TensorRTBackend(Backend):
    """Runs a TensorRT engine (built from ONNX and cached, or loaded directly)."""

    name = "trt"

    def __init__(
        self,
        model_path: str,
        *,
        device: str = "cuda",
        enable_fp16: bool = False,
        is_engine_path: bool = False,
    ) -> None:
        super().__init__(model_path, device="cuda", enable_fp16=enable_fp16)
        trt = _tensorrt()
        if device != "cuda":
            raise ResourceError("the trt backend runs on CUDA only; use onnxrt or torch with infer_on_cpu")
        if not os.path.isfile(model_path):
            raise ConfigError(f"model file not found: {model_path}")
        logger = trt.Logger(trt.Logger.WARNING)
        if is_engine_path:
            engine_path = model_path
        else:
            engine_path = engine_cache_path(model_path, current_key(enable_fp16))
            if not os.path.isfile(engine_path):
                self._build(trt, logger, model_path, engine_path)
        with open(engine_path, "rb") as stream:
            self.engine = trt.Runtime(logger).deserialize_cuda_engine(stream.read())
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        for name in names:
            spec = TensorSpec(
                name,
                tuple(self.engine.get_tensor_shape(name)),
                np.dtype(trt.nptype(self.engine.get_tensor_dtype(name))),
            )
            is_input = self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            (self.inputs if is_input else self.outputs).append(spec)

    def _build(self, trt: Any, logger: Any, model_path: str, engine_path: str) -> None:
        builder = trt.Builder(logger)
        network = builder.create_network(0)
        parser = trt.OnnxParser(network, logger)
        with open(model_path, "rb") as stream:
            if not parser.parse(stream.read()):
                raise ConfigError(f"TensorRT cannot parse {model_path}: {parser.get_error(0)}")
        config = builder.create_builder_config()
        if self.enable_fp16:
            config.set_flag(trt.BuilderFlag.FP16)
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise ResourceError(f"TensorRT failed to build an engine for {model_path}")
        try:
            with open(engine_path, "wb") as stream:
                stream.write(serialized)
        except OSError as exc:
            message = f"cannot write the TensorRT engine cache {engine_path}: {exc.strerror}"
            raise ResourceError(message) from exc

    def infer(self, inputs: list[Any], stream: int | None = None) -> list[Any]:
        cupy = cupy_module()
        with external_stream(stream or cupy.cuda.get_current_stream().ptr):
            return self._execute(inputs)

    def _execute(self, inputs: list[Any]) -> list[Any]:
        cupy = cupy_module()
        for spec, array in zip(self.inputs, inputs, strict=True):
            value = cupy.ascontiguousarray(cupy.asarray(array), dtype=spec.dtype)
            self.context.set_input_shape(spec.name, value.shape)
            self.context.set_tensor_address(spec.name, value.data.ptr)
        outputs = []
        for spec in self.outputs:
            value = cupy.empty(tuple(self.context.get_tensor_shape(spec.name)), dtype=spec.dtype)
            self.context.set_tensor_address(spec.name, value.data.ptr)
            outputs.append(value)
        self.context.execute_async_v3(cupy.cuda.get_current_stream().ptr)
        return outputs


def create(
    model_path: str,
    *,
    device: str = "auto",
    enable_fp16: bool = False,
    is_engine_path: bool = False,
    **_others: Any,
) -> Backend:
    """The backend for ``model_path`` (an engine when ``is_engine_path``) on CUDA (see
    :func:`resolve_device`). The options of other backends are ignored."""
    return TensorRTBackend(
        model_path,
        device=resolve_device(device),
        enable_fp16=enable_fp16,
        is_engine_path=bool(is_engine_path),
    )
