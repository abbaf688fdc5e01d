"""``Tensor``: a zero-copy view of host or CUDA memory owned by another library.

A tensor records where its memory is (pointer, shape, byte strides, dtype, device) and holds a
reference to the object that owns it, so the memory lives as long as the tensor does. It
speaks the three interchange protocols — ``__array_interface__`` (host),
``__cuda_array_interface__`` (CUDA) and DLPack (both) — so numpy, CuPy, PyTorch and JAX read it
without copying.

A CUDA tensor may carry the stream its producer wrote it on, and an event recorded there. A
consumer that names its own stream (``__dlpack__(stream=...)``, or an operator's
``receive_cuda_stream``) gets that stream made to wait for the event on the device, never a
host synchronization.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from holoflow.errors import TensorError
from holoflow.tensor import _cuda
from holoflow.tensor._dlpack import ImportedTensor, contiguous_strides, export_capsule, import_capsule
from holoflow.tensor._types import (
    CPU,
    HOST_DEVICES,
    DLDataType,
    DLDevice,
    DLDeviceType,
    dl_to_numpy,
    numpy_to_dl,
)

__all__ = ["Tensor", "as_tensor", "is_tensor_like"]

_PROTOCOLS = "__cuda_array_interface__, __array_interface__, __dlpack__ or the buffer protocol"
# DLPack stream values with a fixed meaning for CUDA (Python array API standard).
_NO_SYNC = -1
_LEGACY_DEFAULT_STREAM = 1


class Tensor:
    """A view of memory owned by someone else; build one with :func:`as_tensor`.

    Attributes describe the memory; the protocols hand it to other libraries without a copy.
    ``strides`` are in bytes, as numpy's.
    """

    __slots__ = (
        "__weakref__",
        "_data",
        "_device",
        "_dtype",
        "_event",
        "_owner",
        "_read_only",
        "_shape",
        "_stream",
        "_stream_owner",
        "_strides",
    )

    def __init__(
        self,
        *,
        data: int,
        shape: tuple[int, ...],
        strides: tuple[int, ...],
        dtype: np.dtype,
        device: DLDevice,
        owner: Any,
        read_only: bool = False,
        stream: int | None = None,
    ) -> None:
        self._data = int(data)
        self._shape = tuple(int(s) for s in shape)
        self._strides = tuple(int(s) for s in strides)
        self._dtype = dtype
        self._device = device
        self._owner = owner
        self._read_only = read_only
        self._stream = stream
        self._stream_owner: Any = None
        self._event: _cuda.StreamEvent | None = None

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def as_tensor(cls, obj: Any) -> Tensor:
        """Same as :func:`as_tensor`."""
        return as_tensor(obj)

    @classmethod
    def from_dlpack(cls, obj: Any, device: tuple[int, int] | None = None, copy: bool | None = None) -> Tensor:
        """Import an object with ``__dlpack__`` (or a DLPack capsule) without copying.

        Raises
        ------
        TypeError
            If ``obj`` has no ``__dlpack__`` and is not a capsule.
        """
        if isinstance(obj, Tensor) and device is None and not copy:
            return obj
        if type(obj).__name__ == "PyCapsule":
            capsule = obj
        elif hasattr(obj, "__dlpack__"):
            kwargs: dict[str, Any] = {"max_version": (1, 1)}
            if device is not None:
                kwargs["dl_device"] = device
            if copy is not None:
                kwargs["copy"] = copy
            try:
                capsule = obj.__dlpack__(**kwargs)
            except TypeError:  # a producer from before DLPack 1.0 keywords
                if device is not None or copy:
                    raise
                capsule = obj.__dlpack__()
        else:
            raise TypeError(f"from_dlpack: {type(obj).__name__} has no __dlpack__ method")
        return _from_imported(import_capsule(capsule))

    # -- description --------------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Extent of each dimension."""
        return self._shape

    @property
    def strides(self) -> tuple[int, ...]:
        """Byte step of each dimension."""
        return self._strides

    @property
    def dtype(self) -> np.dtype:
        """Element type as a numpy dtype."""
        return self._dtype

    @property
    def dl_dtype(self) -> DLDataType:
        """Element type as a DLPack ``DLDataType``."""
        return numpy_to_dl(self._dtype)

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self._shape)

    @property
    def size(self) -> int:
        """Number of elements."""
        return int(np.prod(self._shape, dtype=np.int64))

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of data (``size * itemsize``)."""
        return self.size * self._dtype.itemsize

    @property
    def data(self) -> int:
        """Address of the first element."""
        return self._data

    @property
    def device(self) -> DLDevice:
        """Where the memory is."""
        return self._device

    @property
    def is_cuda(self) -> bool:
        """Whether the memory is on a CUDA device (not host-accessible)."""
        return self._device.device_type not in HOST_DEVICES

    @property
    def owner(self) -> Any:
        """The object kept alive for the memory's sake."""
        return self._owner

    @property
    def stream(self) -> int | None:
        """The CUDA stream the producer wrote the tensor on, if known."""
        return self._stream

    @property
    def event(self) -> _cuda.StreamEvent | None:
        """The CUDA event recorded where the producer's writes end (see :meth:`record_stream`),
        or ``None`` when the tensor carries none."""
        return self._event

    def is_contiguous(self) -> bool:
        """Whether the elements are packed in row-major (C) order."""
        expected = contiguous_strides(self._shape, self._dtype.itemsize)
        return all(e == 1 or s == x for e, s, x in zip(self._shape, self._strides, expected, strict=True))

    # -- streams ------------------------------------------------------------------------------------
    def record_stream(self, stream: int, owner: Any = None) -> None:
        """Say the tensor was produced on CUDA ``stream``; record an event there to wait for.

        ``owner`` (the stream object) is kept alive with the tensor, so consumers that read
        the stream from ``__cuda_array_interface__`` never see a destroyed one. A tensor that
        already carries an event on another stream (one received and sent on) makes ``stream``
        wait for it first, so whoever waits for ``stream`` also waits for the earlier producer.
        """
        if self._event is not None and self._stream != stream:
            _cuda.wait_event(stream, self._event)
        self._stream = stream
        self._stream_owner = owner
        self._event = _cuda.StreamEvent(stream)

    def wait_on(self, stream: int) -> None:
        """Make ``stream`` wait (on the device) until the producer's writes are done."""
        if not self.is_cuda or self._stream is None or stream == self._stream:
            return
        if self._event is None:
            self._event = _cuda.StreamEvent(self._stream)
        _cuda.wait_event(stream, self._event)

    # -- protocols ----------------------------------------------------------------------------------
    def _interface(self) -> dict[str, Any]:
        contiguous = self._strides == contiguous_strides(self._shape, self._dtype.itemsize)
        return {
            "shape": self._shape,
            "typestr": self._dtype.str,
            "descr": self._dtype.descr,
            "data": (self._data, self._read_only),
            "strides": None if contiguous else self._strides,
            "version": 3,
        }

    @property
    def __array_interface__(self) -> dict[str, Any]:
        if self.is_cuda:
            raise AttributeError("a CUDA tensor has no __array_interface__; use __cuda_array_interface__")
        return self._interface()

    @property
    def __cuda_array_interface__(self) -> dict[str, Any]:
        if not self.is_cuda:
            raise AttributeError("a host tensor has no __cuda_array_interface__; use __array_interface__")
        interface = self._interface()
        stream = self._stream
        interface["stream"] = _LEGACY_DEFAULT_STREAM if stream == 0 else stream
        return interface

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if self.is_cuda:
            raise TypeError("cannot make a numpy array of a CUDA tensor without a copy; use cupy.asarray")
        view = np.asarray(_HostView(self))
        if dtype is not None and np.dtype(dtype) != view.dtype:
            if copy is False:
                raise ValueError("changing the dtype needs a copy")
            return view.astype(dtype)
        return view.copy() if copy else view

    def __dlpack_device__(self) -> tuple[int, int]:
        return int(self._device.device_type), int(self._device.device_id)

    def __dlpack__(
        self,
        *,
        stream: int | None = None,
        max_version: tuple[int, int] | None = None,
        dl_device: tuple[int, int] | None = None,
        copy: bool | None = None,
    ) -> Any:
        """Export a DLPack capsule (versioned when ``max_version >= (1, 0)``).

        For a CUDA tensor, ``stream`` is the consumer's stream: it is made to wait for the
        producer's event (``-1``: no synchronization).

        Raises
        ------
        BufferError
            If ``dl_device`` differs and ``copy`` is False, or a read-only tensor is asked for
            a legacy capsule.
        """
        versioned = max_version is not None and max_version[0] >= 1
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            if copy is False:
                raise BufferError(
                    f"tensor is on {self.__dlpack_device__()}, not {tuple(dl_device)}; copy=False"
                )
            return self._copy_to((int(dl_device[0]), int(dl_device[1]))).__dlpack__(max_version=max_version)
        if copy:
            return self._copy_to(self.__dlpack_device__()).__dlpack__(max_version=max_version)
        if self.is_cuda and stream is not None and stream != _NO_SYNC and self._stream is not None:
            self.wait_on(stream)
        if self._read_only and not versioned:
            raise BufferError(
                "a read-only tensor can only be exported as a versioned (DLPack >= 1.0) capsule"
            )
        return export_capsule(
            data=self._data,
            shape=self._shape,
            strides=self._strides,
            dtype=tuple(numpy_to_dl(self._dtype)),  # type: ignore[arg-type]
            device=self.__dlpack_device__(),
            owner=self,
            versioned=versioned,
            read_only=self._read_only,
        )

    def _copy_to(self, device: tuple[int, int]) -> Tensor:
        host = device[0] in HOST_DEVICES
        if self.is_cuda:
            array = _cuda.cupy_module().asarray(self)
            copied = array.get() if host else array.copy()
        else:
            source = np.asarray(self)
            copied = source.copy() if host else _cuda.cupy_module().asarray(source)
        return as_tensor(copied)

    def __repr__(self) -> str:
        where = "cuda" if self.is_cuda else "cpu"
        return f"Tensor(shape={self._shape}, dtype={self._dtype}, device={where}:{self._device.device_id})"


class _HostView:
    """Presents a host tensor's ``__array_interface__`` to numpy, keeping the tensor alive."""

    __slots__ = ("__array_interface__", "tensor")

    def __init__(self, tensor: Tensor) -> None:
        self.tensor = tensor
        self.__array_interface__ = tensor._interface()


def is_tensor_like(obj: Any) -> bool:
    """Whether ``obj`` is an array that :func:`as_tensor` can wrap (numpy scalars are not)."""
    if isinstance(obj, (Tensor, np.ndarray)):
        return True
    if isinstance(obj, (np.generic, str, bytes, int, float, complex, bool)) or obj is None:
        return False
    return (
        hasattr(obj, "__cuda_array_interface__")
        or hasattr(obj, "__dlpack__")
        or hasattr(obj, "__array_interface__")
    )


def as_tensor(obj: Any) -> Tensor:
    """Wrap an array from any library as a :class:`Tensor`, without copying.

    Looks for ``__cuda_array_interface__``, then ``__array_interface__``, then ``__dlpack__``,
    then the buffer protocol (``bytes``, ``memoryview``...).

    Raises
    ------
    TypeError
        If ``obj`` speaks none of those protocols (the message names them).
    holoflow.errors.TensorError
        If its dtype or layout cannot be described (object arrays, masked arrays).
    """
    if isinstance(obj, Tensor):
        return obj
    wrap = _WRAPPERS.get(type(obj), _UNKNOWN)
    if wrap is _UNKNOWN:
        wrap = _WRAPPERS[type(obj)] = _wrapper_for(type(obj))
    if wrap is not None:
        tensor: Tensor | None = wrap(obj)
        if tensor is not None:
            return tensor
    cai = getattr(obj, "__cuda_array_interface__", None)
    if cai is not None:
        return _from_interface(obj, cai, cuda=True)
    ai = getattr(obj, "__array_interface__", None)
    if ai is not None:
        return _from_interface(obj, ai, cuda=False)
    if hasattr(obj, "__dlpack__"):
        return Tensor.from_dlpack(obj)
    try:
        view = np.asarray(memoryview(obj))
    except TypeError:
        raise TypeError(
            f"as_tensor: {type(obj).__name__} is not an array; it has none of {_PROTOCOLS}"
        ) from None
    return _from_interface(view, view.__array_interface__, cuda=False)


# Direct wrappers for the CUDA arrays that pass between operators most, reading the attributes
# the interchange protocols would describe (the same fields, without building the dictionary);
# a wrapper returns None for an object it leaves to the protocols.
_UNKNOWN: Any = object()
_WRAPPERS: dict[type, Callable[[Any], Tensor | None] | None] = {}
_CUDA_DEVICES: dict[int, DLDevice] = {}


def _wrapper_for(kind: type) -> Any:
    module = kind.__module__ or ""
    if module.startswith("cupy") and kind.__name__ == "ndarray":
        return _from_cupy
    if module == "torch" and kind.__name__ == "Tensor":
        return _from_torch
    return None


def _trusted(
    data: int,
    shape: tuple[int, ...],
    strides: tuple[int, ...],
    dtype: np.dtype,
    device_id: int,
    owner: Any,
    stream: int | None,
) -> Tensor:
    """A writable CUDA tensor from fields already in their final types."""
    device = _CUDA_DEVICES.get(device_id)
    if device is None:
        device = _CUDA_DEVICES[device_id] = DLDevice(DLDeviceType.DLCUDA, device_id)
    tensor = Tensor.__new__(Tensor)
    tensor._data, tensor._shape, tensor._strides, tensor._dtype = data, shape, strides, dtype
    tensor._device, tensor._owner, tensor._read_only, tensor._stream = device, owner, False, stream
    tensor._stream_owner = tensor._event = None
    return tensor


def _from_cupy(array: Any) -> Tensor | None:
    cupy = _cuda.cupy_module()
    exports_stream, default_stream = _cupy_stream_export(cupy)
    stream = None
    if exports_stream:  # CuPy's interface names its current stream (1 or 2 for the default one)
        stream = cupy.cuda.get_current_stream().ptr or default_stream
    memory = array.data
    return _trusted(memory.ptr, array.shape, array.strides, array.dtype, memory.device_id, array, stream)


@functools.cache
def _cupy_stream_export(cupy: Any) -> tuple[bool, int | None]:
    """Whether CuPy's array interface carries a stream, and the value it gives the default
    stream (fixed for the process by CuPy's settings): read once from a probe array."""
    with cupy.cuda.Stream.null:
        interface = cupy.empty(0, cupy.uint8).__cuda_array_interface__
    stream = interface.get("stream")
    return stream is not None, None if stream is None else int(stream)


_TORCH_DTYPES: dict[Any, np.dtype] = {}


def _from_torch(value: Any) -> Tensor | None:
    if not value.is_cuda or value.requires_grad or value.is_sparse or value.is_conj() or value.is_neg():
        return None
    if not _TORCH_DTYPES:
        import torch

        for name in ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"):
            _TORCH_DTYPES[getattr(torch, name)] = np.dtype(name)
        _TORCH_DTYPES[torch.complex64] = np.dtype(np.complex64)
        _TORCH_DTYPES[torch.complex128] = np.dtype(np.complex128)
    dtype = _TORCH_DTYPES.get(value.dtype)
    if dtype is None:
        return None
    itemsize = dtype.itemsize
    strides = tuple(s * itemsize for s in value.stride())
    return _trusted(value.data_ptr(), tuple(value.shape), strides, dtype, value.get_device(), value, None)


def _from_interface(obj: Any, interface: dict[str, Any], cuda: bool) -> Tensor:
    kind = "__cuda_array_interface__" if cuda else "__array_interface__"
    try:
        shape = tuple(int(s) for s in interface["shape"])
        dtype = np.dtype(interface["typestr"])
        data = interface.get("data")
    except (KeyError, TypeError) as exc:
        raise TensorError(f"as_tensor: {type(obj).__name__} has a malformed {kind}: {exc}") from exc
    if interface.get("mask") is not None:
        raise TensorError(f"as_tensor: masked arrays are not supported ({type(obj).__name__})")
    numpy_to_dl(dtype)  # rejects object, string and structured dtypes with a clear error
    if data is None:  # host data behind the buffer protocol
        view = np.asarray(obj)
        return _from_interface(view, view.__array_interface__, cuda=False)
    pointer, read_only = int(data[0]), bool(data[1])
    strides = interface.get("strides")
    strides = contiguous_strides(shape, dtype.itemsize) if strides is None else tuple(int(s) for s in strides)
    if not cuda:
        return Tensor(
            data=pointer,
            shape=shape,
            strides=strides,
            dtype=dtype,
            device=CPU,
            owner=obj,
            read_only=read_only,
        )
    stream = interface.get("stream")
    return Tensor(
        data=pointer,
        shape=shape,
        strides=strides,
        dtype=dtype,
        device=_cuda_device(obj, pointer),
        owner=obj,
        read_only=read_only,
        stream=None if stream is None else int(stream),
    )


def _cuda_device(obj: Any, pointer: int) -> DLDevice:
    dlpack_device = getattr(obj, "__dlpack_device__", None)
    if dlpack_device is not None:
        device_type, device_id = dlpack_device()
        return DLDevice(DLDeviceType(device_type), int(device_id))
    device_id = 0
    if pointer and _cuda.cuda_available():
        attributes = _cuda.cupy_module().cuda.runtime.pointerGetAttributes(pointer)
        device_id = int(attributes.device)
    return DLDevice(DLDeviceType.DLCUDA, device_id)


def _from_imported(imported: ImportedTensor) -> Tensor:
    device = DLDevice(DLDeviceType(imported.device[0]), imported.device[1])
    return Tensor(
        data=imported.data,
        shape=imported.shape,
        strides=imported.strides,
        dtype=dl_to_numpy(imported.dtype),
        device=device,
        owner=imported.owner,
        read_only=imported.read_only,
    )
