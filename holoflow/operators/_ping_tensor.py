"""``PingTensorTxOp`` and ``PingTensorRxOp``: a tensor source and sink for tests and examples.

The source emits, once per compute, a message holding one tensor of the configured shape,
element type and storage (``{tensor_name: array}``, a TensorMap downstream): numpy memory on the
host, CuPy memory on the device. The sink logs the name and shape of each tensor it receives.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import Operator
from holoflow.errors import ConfigError
from holoflow.resources import Allocator, MemoryStorageType, UnboundedAllocator
from holoflow.tensor import Tensor, TensorMap, cuda_available, external_stream, require_cuda

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, Fragment, InputContext, OperatorSpec, OutputContext, Subgraph

__all__ = ["PingTensorRxOp", "PingTensorTxOp"]

logger = logging.getLogger("holoflow")

_DATA_TYPES = {
    "int8_t": np.int8,
    "int16_t": np.int16,
    "int32_t": np.int32,
    "int64_t": np.int64,
    "uint8_t": np.uint8,
    "uint16_t": np.uint16,
    "uint32_t": np.uint32,
    "uint64_t": np.uint64,
    "float": np.float32,
    "double": np.float64,
    "complex<float>": np.complex64,
    "complex<double>": np.complex128,
}
_STORAGE = {
    "system": MemoryStorageType.SYSTEM,
    "host": MemoryStorageType.HOST,
    "device": MemoryStorageType.DEVICE,
    "cuda_managed": MemoryStorageType.CUDA_MANAGED,
}
_ON_DEVICE = (MemoryStorageType.DEVICE, MemoryStorageType.CUDA_MANAGED)


class PingTensorTxOp(Operator):
    """Emit a message ``{tensor_name: tensor}`` on output ``out`` at each compute.

    The tensor has shape ``([batch_size], rows, [columns], [channels])``: a dimension in brackets
    is present only when its parameter is > 0 (``None`` counts as 0). Its memory comes from
    ``allocator`` (an ``UnboundedAllocator`` when none is given) and holds zeros, or ``data``
    (bytes copied to the start of the tensor) when given. Holoscan leaves the contents
    uninitialized.

    Parameters
    ----------
    allocator : holoflow.resources.Allocator, optional
        Where the memory comes from.
    storage_type : {"system", "host", "device", "cuda_managed"}
        ``"system"``: host memory; ``"host"``: pinned host memory when CUDA is present;
        ``"device"`` / ``"cuda_managed"``: CUDA memory through CuPy. Without CUDA the device
        kinds fall back to host memory, with one logged warning.
    batch_size, rows, columns, channels : int
        The dimensions (defaults 0, 32, 64, 0); ``rows`` must be >= 1.
    dtype : str or numpy.dtype
        Element type: ``"int8_t"`` ... ``"uint64_t"``, ``"float"``, ``"double"``,
        ``"complex<float>"``, ``"complex<double>"``, or a numpy dtype (default ``"uint8_t"``).
        ``data_type`` (the parameter's name in configuration files) is the same.
    tensor_name : str
        The tensor's name in the message (``"tensor"``).
    cuda_stream_pool : holoflow.resources.CudaStreamPool, optional
        Where the stream of ``async_device_allocation`` comes from.
    async_device_allocation : bool
        Allocate device memory on the operator's own CUDA stream, declared as the stream of the
        output, instead of the current stream.
    data : bytes or sequence of int, optional
        Bytes copied into the tensor.

    Raises
    ------
    holoflow.errors.ConfigError
        At initialize, for an unknown ``storage_type`` or ``dtype``, ``rows`` < 1, a negative
        dimension, or more ``data`` than the tensor holds.
    """

    allocator: Allocator | None
    storage_type: str
    batch_size: int | None
    rows: int
    columns: int | None
    channels: int | None
    data_type: Any
    tensor_name: str
    async_device_allocation: bool
    data: Any

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("name", "ping_tensor_tx")
        if "dtype" in kwargs:
            kwargs["data_type"] = kwargs.pop("dtype")
        self.count = 0
        """Messages sent in this run."""
        self._fallback_warned = False
        self._own_allocator: Allocator | None = None
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.output("out")
        spec.param("allocator", None)
        spec.param("storage_type", "system")
        spec.param("batch_size", 0)
        spec.param("rows", 32)
        spec.param("columns", 64)
        spec.param("channels", 0)
        spec.param("data_type", "uint8_t")
        spec.param("tensor_name", "tensor")
        spec.param("cuda_stream_pool", None)
        spec.param("async_device_allocation", False)
        spec.param("data", None)

    def initialize(self) -> None:
        label = self._label()
        storage = _STORAGE.get(str(self.storage_type))
        if storage is None:
            raise ConfigError(f"{label}: storage_type {self.storage_type!r} is not one of {sorted(_STORAGE)}")
        self._storage = storage
        self._dtype = _element_type(label, self.data_type)
        dims = {
            "batch_size": self.batch_size,
            "rows": self.rows,
            "columns": self.columns,
            "channels": self.channels,
        }
        sizes = {key: int(value or 0) for key, value in dims.items()}
        negative = sorted(key for key, value in sizes.items() if value < 0)
        if negative or sizes["rows"] < 1:
            raise ConfigError(f"{label}: rows must be >= 1 and no dimension negative, got {sizes}")
        self._shape = tuple(
            sizes[key]
            for key in ("batch_size", "rows", "columns", "channels")
            if key == "rows" or sizes[key] > 0
        )
        self._template: np.ndarray | None = None
        """What each tensor holds when ``data`` is given (else zeros)."""
        if self.data is not None:
            data = np.frombuffer(bytes(bytearray(self.data)), np.uint8)
            template = np.zeros(self._shape, self._dtype)
            flat = template.reshape(-1).view(np.uint8)
            if data.size > flat.size:
                raise ConfigError(f"{label}: data holds {data.size} bytes, the tensor only {flat.size}")
            flat[: data.size] = data
            self._template = template
        self.count = 0

    def start(self) -> None:
        if self._storage in _ON_DEVICE and not cuda_available():
            if not self._fallback_warned:
                self._fallback_warned = True
                logger.warning(
                    "%s: storage_type %r needs CUDA, which is not available; emitting host tensors",
                    self._label(),
                    self.storage_type,
                )
            self._storage = MemoryStorageType.SYSTEM
        allocator = self.allocator
        if not isinstance(allocator, Allocator):  # given by keyword, it is one of the resources
            allocator = next((r for r in self.resources.values() if isinstance(r, Allocator)), None)
        if allocator is None:
            if self._own_allocator is None:  # Holoscan makes an UnboundedAllocator too
                self._own_allocator = UnboundedAllocator(self.fragment, name=f"{self.name}_allocator")
            allocator = self._own_allocator
        self._allocator: Allocator = allocator

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        allocator = self._allocator
        if self._storage in _ON_DEVICE and self.async_device_allocation:
            stream = context.allocate_cuda_stream(f"{self.name}_stream")
            with external_stream(stream):
                array = self._allocate(allocator)
            op_output.set_cuda_stream(stream, "out")
        else:
            array = self._allocate(allocator)
        self.count += 1
        op_output.emit({str(self.tensor_name): array}, "out")
        logger.info("Sent message %d", self.count)

    def _allocate(self, allocator: Allocator) -> Any:
        array = allocator.empty(self._shape, self._dtype, self._storage)
        template = self._template
        if template is None:
            array[...] = 0
        elif self._storage in _ON_DEVICE:
            array[...] = require_cuda("device data").asarray(template)
        else:
            array[...] = template
        return array


def _element_type(label: str, value: Any) -> np.dtype:
    if isinstance(value, str) and value in _DATA_TYPES:
        return np.dtype(_DATA_TYPES[value])
    try:
        dtype: np.dtype | None = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype is None or dtype.type not in _DATA_TYPES.values():
        raise ConfigError(
            f"{label}: dtype {value!r} is not one of {list(_DATA_TYPES)} or a matching numpy dtype"
        )
    return dtype


class PingTensorRxOp(Operator):
    """Log the name and shape of each tensor received on input ``in``.

    Each tensor logs ``"<name> received message <n>: Tensor key: '<key>', shape: (<shape>)"``
    at INFO on the ``holoflow`` logger. When CUDA is available, the operator first waits (on the
    host) for the producer's stream, as Holoscan's does.

    Parameters
    ----------
    receive_as_tensormap : bool
        ``True`` (default): the message is a TensorMap. ``False``: the message is (or holds) a
        single tensor, logged as ``"... Tensor shape: (<shape>)"``.
    """

    receive_as_tensormap: bool

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("name", "ping_tensor_rx")
        self.count = 0
        """Tensors (or single-tensor messages) received in this run."""
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec: OperatorSpec) -> None:
        spec.input("in")
        spec.param("receive_as_tensormap", True)

    def initialize(self) -> None:
        self.count = 0

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        message = op_input.receive("in")
        if self.receive_as_tensormap:
            if not isinstance(message, (TensorMap, dict)):
                logger.error("%s: no TensorMap received on port 'in' (got %r)", self._label(), message)
                return
            self._wait_for_producer(op_input, context)
            for key, tensor in message.items():
                self.count += 1
                logger.info(
                    "%s received message %d: Tensor key: '%s', shape: (%s)",
                    self.name,
                    self.count,
                    key,
                    ", ".join(str(n) for n in tensor.shape),
                )
            return
        tensor = _single_tensor(message)
        if tensor is None:
            logger.error("%s: no tensor received on port 'in' (got %r)", self._label(), message)
            return
        self._wait_for_producer(op_input, context)
        self.count += 1
        logger.info(
            "%s received message %d: Tensor shape: (%s)",
            self.name,
            self.count,
            ", ".join(str(n) for n in tensor.shape),
        )

    @staticmethod
    def _wait_for_producer(op_input: InputContext, context: ExecutionContext) -> None:
        if context.is_gpu_available:
            stream = op_input.receive_cuda_stream("in", allocate=False)
            external_stream(stream).synchronize()


def _single_tensor(message: Any) -> Any:
    """The tensor a message is, or the only tensor a TensorMap holds; else ``None``."""
    if isinstance(message, (TensorMap, dict)):
        values = list(message.values())
        return values[0] if len(values) == 1 else None
    if isinstance(message, Tensor) or hasattr(message, "shape"):
        return message
    return None
