"""CUDA-OpenGL interop: an OpenGL buffer object seen by CUDA as device memory.

It goes through the CUDA driver API (``libcuda.so.1``, which every CUDA driver installs), called
with ctypes: register a GL buffer once, then map it on a CUDA stream around each copy. Mapping
on a stream orders the copy after the OpenGL work issued before it, and unmapping orders the
OpenGL work issued after it behind the copy, so neither side waits on the host.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
from collections.abc import Iterator
from typing import Any

from holoflow.errors import ResourceError

__all__ = ["CudaGLBuffer"]

_REGISTER_FLAGS = {"read_write": 0, "read_only": 1, "write_discard": 2}


@functools.cache
def _driver() -> Any:
    """The CUDA driver library, initialized.

    Raises
    ------
    holoflow.errors.ResourceError
        If ``libcuda.so.1`` cannot be loaded or initialized.
    """
    try:
        library = ctypes.CDLL("libcuda.so.1")
    except OSError as exc:
        raise ResourceError(f"CUDA-OpenGL interop: the CUDA driver library is missing: {exc}") from exc
    _check(library, library.cuInit(0), "cuInit")
    return library


def _check(library: Any, status: int, call: str) -> None:
    if status:
        name = ctypes.c_char_p()
        library.cuGetErrorName(status, ctypes.byref(name))
        raise ResourceError(
            f"CUDA-OpenGL interop: {call} failed: {(name.value or b'error').decode()} ({status})"
        )


class CudaGLBuffer:
    """An OpenGL buffer object ``buffer`` registered with CUDA on device ``device``.

    ``usage`` is how CUDA uses it: ``"write_discard"`` (CUDA fills it for OpenGL to read),
    ``"read_only"`` (OpenGL fills it for CUDA to read) or ``"read_write"``. Create, map and
    close it with the buffer's OpenGL context current on the calling thread.

    Raises
    ------
    holoflow.errors.ResourceError
        If the driver cannot register the buffer (no CUDA driver, or OpenGL runs on another
        device or a software rasterizer).
    """

    def __init__(self, buffer: int, device: int = 0, usage: str = "read_write") -> None:
        self._cuda = _driver()
        handle = ctypes.c_int()
        _check(self._cuda, self._cuda.cuDeviceGet(ctypes.byref(handle), device), "cuDeviceGet")
        self._device = handle.value
        self._context = ctypes.c_void_p()
        _check(
            self._cuda,
            self._cuda.cuDevicePrimaryCtxRetain(ctypes.byref(self._context), self._device),
            "cuDevicePrimaryCtxRetain",
        )
        self._resource = ctypes.c_void_p()
        try:
            self._make_current()
            _check(
                self._cuda,
                self._cuda.cuGraphicsGLRegisterBuffer(
                    ctypes.byref(self._resource), ctypes.c_uint(buffer), _REGISTER_FLAGS[usage]
                ),
                "cuGraphicsGLRegisterBuffer",
            )
        except ResourceError:
            self._cuda.cuDevicePrimaryCtxRelease_v2(self._device)
            self._context = ctypes.c_void_p()
            raise

    def _make_current(self) -> None:
        # The primary context is the one CuPy and PyTorch use, so pointers are shared with them.
        _check(self._cuda, self._cuda.cuCtxSetCurrent(self._context), "cuCtxSetCurrent")

    @contextlib.contextmanager
    def mapped(self, stream: int) -> Iterator[tuple[int, int]]:
        """Map the buffer on CUDA ``stream`` and yield its ``(device pointer, size in bytes)``.

        CUDA work queued on ``stream`` inside the block sees what OpenGL drew before it;
        OpenGL commands issued after the block see what that work wrote.
        """
        self._make_current()
        cuda_stream = ctypes.c_void_p(stream)
        _check(
            self._cuda,
            self._cuda.cuGraphicsMapResources(1, ctypes.byref(self._resource), cuda_stream),
            "cuGraphicsMapResources",
        )
        try:
            pointer, size = ctypes.c_uint64(), ctypes.c_size_t()
            _check(
                self._cuda,
                self._cuda.cuGraphicsResourceGetMappedPointer_v2(
                    ctypes.byref(pointer), ctypes.byref(size), self._resource
                ),
                "cuGraphicsResourceGetMappedPointer",
            )
            yield pointer.value, size.value
        finally:
            _check(
                self._cuda,
                self._cuda.cuGraphicsUnmapResources(1, ctypes.byref(self._resource), cuda_stream),
                "cuGraphicsUnmapResources",
            )

    def close(self) -> None:
        """Unregister the buffer (the OpenGL buffer itself stays the caller's)."""
        if self._resource:
            self._make_current()
            self._cuda.cuGraphicsUnregisterResource(self._resource)
            self._resource = ctypes.c_void_p()
        if self._context:
            self._cuda.cuDevicePrimaryCtxRelease_v2(self._device)
            self._context = ctypes.c_void_p()
