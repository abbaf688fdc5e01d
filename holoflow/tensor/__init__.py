"""Zero-copy tensors: ``Tensor``, ``as_tensor`` and ``TensorMap`` (numpy, CuPy, PyTorch, JAX), and
the device layer: where an array lives, which namespace computes on it, and the CUDA streams and
events that order work across operators.

Nothing here imports CuPy until a CUDA array or stream is asked for.
"""

from holoflow.tensor._cuda import (
    StreamEvent,
    array_namespace,
    cuda_available,
    cupy_module,
    current_stream,
    device_view,
    external_stream,
    host_buffer,
    new_stream,
    require_cuda,
    to_host,
    wait_event,
)
from holoflow.tensor._tensor import Tensor, as_tensor, is_tensor_like
from holoflow.tensor._tensormap import EMITTED_AS_TENSOR_MAP, TensorMap
from holoflow.tensor._types import DLDataType, DLDataTypeCode, DLDevice, DLDeviceType

__all__ = [
    "EMITTED_AS_TENSOR_MAP",
    "DLDataType",
    "DLDataTypeCode",
    "DLDevice",
    "DLDeviceType",
    "StreamEvent",
    "Tensor",
    "TensorMap",
    "array_namespace",
    "as_tensor",
    "cuda_available",
    "cupy_module",
    "current_stream",
    "device_view",
    "external_stream",
    "host_buffer",
    "is_tensor_like",
    "new_stream",
    "require_cuda",
    "to_host",
    "wait_event",
]
