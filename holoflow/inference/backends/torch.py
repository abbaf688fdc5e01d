"""PyTorch backend: TorchScript (``torch.jit.save``) and ``torch.export`` programs, CPU or CUDA.

Tensors cross in and out through DLPack, without copies. With ``cuda_graphs`` a CUDA model with
fixed input shapes is captured once into a CUDA graph and replayed. ``device="auto"`` takes CUDA
when a CUDA device is present and PyTorch is built with CUDA, else the CPU.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np
import yaml

from holoflow.errors import ConfigError
from holoflow.inference._backend import Backend, TensorSpec
from holoflow.tensor import Tensor, as_tensor, cuda_available, cupy_module


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:
        raise ImportError("the torch backend needs PyTorch: pip install 'holoflow[torch]'") from exc
    return torch


def resolve_device(device: str) -> str:
    """``"cuda"`` for ``"auto"`` when a CUDA device is present and PyTorch is built with CUDA,
    else ``"cpu"``; ``"cpu"`` and ``"cuda"`` as given.

    Raises
    ------
    ImportError
        If PyTorch is not installed (naming the extra).
    """
    if device != "auto":
        return device
    return "cuda" if cuda_available() and _torch().cuda.is_available() else "cpu"


def _io_spec(model_path: str) -> tuple[list[TensorSpec], list[TensorSpec]]:
    """Inputs and outputs from ``<model>.yaml`` next to the model (Holoscan's convention), if any.

    The file holds ``inputs:`` and ``outputs:`` lists of ``{name, shape, dtype}``.
    """
    path = os.path.splitext(model_path)[0] + ".yaml"
    if not os.path.isfile(path):
        return [], []
    with open(path, encoding="utf-8") as stream:
        data = yaml.safe_load(stream) or {}

    def specs(key: str) -> list[TensorSpec]:
        return [
            TensorSpec(
                str(item["name"]),
                tuple(int(d) for d in item.get("shape", [])),
                np.dtype(item.get("dtype", "float32")),
            )
            for item in data.get(key, [])
        ]

    return specs("inputs"), specs("outputs")


class TorchBackend(Backend):
    """Runs a TorchScript or ``torch.export`` model."""

    name = "torch"

    def __init__(
        self, model_path: str, *, device: str = "cpu", enable_fp16: bool = False, cuda_graphs: bool = False
    ) -> None:
        super().__init__(model_path, device=device, enable_fp16=enable_fp16)
        torch = _torch()
        if not os.path.isfile(model_path):
            raise ConfigError(f"model file not found: {model_path}")
        self.torch = torch
        self.torch_device = torch.device("cuda" if device == "cuda" else "cpu")
        try:
            if model_path.endswith(".pt2"):
                with warnings.catch_warnings():  # torch warns about its own read-only archive buffers
                    warnings.simplefilter("ignore", UserWarning)
                    self.module = torch.export.load(model_path).module().to(self.torch_device)
            else:
                self.module = torch.jit.load(model_path, map_location=self.torch_device)
                self.module.eval()
        except Exception as exc:
            raise ConfigError(f"cannot load torch model {model_path}: {exc}") from exc
        self.inputs, self.outputs = _io_spec(model_path)
        self.cuda_graphs = cuda_graphs and device == "cuda"
        self._graph: Any = None
        self._streams: dict[int, Any] = {}  # cudaStream_t -> torch stream over it

    def _to_torch(self, array: Any) -> Any:
        torch = self.torch
        if type(array) is torch.Tensor:
            value = array
        else:
            tensor = as_tensor(array)
            owner: Any = tensor.owner
            if (
                type(owner) is torch.Tensor
                and tensor.stream is None  # else DLPack orders this stream after the producer's
                and owner.data_ptr() == tensor.data
                and owner.shape == tensor.shape
            ):
                value = owner
            else:
                value = torch.from_dlpack(
                    array if tensor.is_cuda and hasattr(array, "__dlpack__") else tensor
                )
        return value if value.device.type == self.torch_device.type else value.to(self.torch_device)

    def _stream(self, handle: int) -> Any:
        stream = self._streams.get(handle)
        if stream is None:
            torch = self.torch
            wrap = getattr(torch.cuda, "get_stream_from_external", None) or torch.cuda.ExternalStream
            stream = self._streams[handle] = wrap(handle)
        return stream

    def infer(self, inputs: list[Any], stream: int | None = None) -> list[Any]:
        torch = self.torch
        if self.device == "cuda" and stream is not None:
            previous = torch.cuda.current_stream()
            torch.cuda.set_stream(self._stream(stream))  # cheaper than the stream() context
            try:
                return self._forward(inputs, stream)
            finally:
                torch.cuda.set_stream(previous)
        return self._forward(inputs, None)

    def _forward(self, inputs: list[Any], stream: int | None) -> list[Any]:
        torch = self.torch
        with torch.inference_mode():
            if (
                self._graph is not None
                and stream is not None
                and _copy_in(self._graph_inputs, inputs, stream)
            ):
                self._graph.replay()
                return [o.clone() for o in self._static_out]
            values = [self._to_torch(a) for a in inputs]
            if self.cuda_graphs:
                outputs = self._replay(values)
            else:
                result = self.module(*values)
                outputs = list(result) if isinstance(result, (tuple, list)) else [result]
        return outputs

    def _replay(self, values: list[Any]) -> list[Any]:
        torch = self.torch
        if self._graph is None:
            self._static_in = [v.clone() for v in values]
            stream = torch.cuda.Stream()
            stream.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(stream):
                for _ in range(2):  # warm up outside the graph, as capture requires
                    self.module(*self._static_in)
            torch.cuda.current_stream().wait_stream(stream)
            self._graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self._graph):
                result = self.module(*self._static_in)
            self._static_out = list(result) if isinstance(result, (tuple, list)) else [result]
            self._graph_inputs = [as_tensor(v) for v in self._static_in]
        for static, value in zip(self._static_in, values, strict=True):
            static.copy_(value)
        self._graph.replay()
        return [o.clone() for o in self._static_out]


def _copy_in(buffers: list[Tensor], inputs: list[Any], stream: int) -> bool:
    """Queue on ``stream`` a device copy of each input into the captured graph's input buffer,
    where every input is a contiguous CUDA array of the buffer's dtype and shape (or the shape
    without its leading 1); False (nothing queued) otherwise."""
    sources = []
    for buffer, array in zip(buffers, inputs, strict=True):
        tensor = as_tensor(array)
        shape = tensor.shape
        if not tensor.is_cuda or tensor.dtype != buffer.dtype or not tensor.is_contiguous():
            return False
        if shape != buffer.shape and not (buffer.shape[:1] == (1,) and shape == buffer.shape[1:]):
            return False
        sources.append((buffer.data, tensor.data, tensor.nbytes))
    runtime = cupy_module().cuda.runtime
    for destination, source, nbytes in sources:
        runtime.memcpyAsync(destination, source, nbytes, runtime.memcpyDeviceToDevice, stream)
    return True


def create(
    model_path: str,
    *,
    device: str = "auto",
    enable_fp16: bool = False,
    cuda_graphs: bool = False,
    **_others: Any,
) -> Backend:
    """The backend for ``model_path`` on ``device`` (``"auto"`` resolved by :func:`resolve_device`);
    ``cuda_graphs`` captures a CUDA model into a CUDA graph. The options of other backends are
    ignored."""
    return TorchBackend(
        model_path, device=resolve_device(device), enable_fp16=enable_fp16, cuda_graphs=bool(cuda_graphs)
    )
