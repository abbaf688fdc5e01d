"""Zero-copy tensors: ``Tensor``, ``as_tensor`` and ``TensorMap`` (numpy, CuPy, PyTorch, JAX)."""

from holoflow.tensor._cuda import device_view, external_stream
from holoflow.tensor._tensor import Tensor, as_tensor, is_tensor_like
from holoflow.tensor._tensormap import TensorMap
from holoflow.tensor._types import DLDataType, DLDataTypeCode, DLDevice, DLDeviceType

__all__ = [
    "DLDataType",
    "DLDataTypeCode",
    "DLDevice",
    "DLDeviceType",
    "Tensor",
    "TensorMap",
    "as_tensor",
    "device_view",
    "external_stream",
    "is_tensor_like",
]
