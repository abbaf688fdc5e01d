"""``open_renderer``: a frame drawn by whichever renderer can draw it here, behind one interface.

The OpenGL renderer (:mod:`holoflow.viz._gl_renderer`) draws offscreen through EGL or in a glfw
window; the software compositor (:mod:`holoflow.viz._compositor`) draws the same pixels with
numpy. :func:`open_renderer` applies the rules for choosing between them, and the
:class:`Renderer` it returns takes host or CUDA arrays either way: the software renderer copies
CUDA arrays to the host, and the OpenGL one takes them through CUDA-OpenGL interop where OpenGL
runs on the CUDA device (else through the host). Each copy is logged once.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any

import numpy as np

from holoflow.errors import ConfigError, ResourceError, TensorError
from holoflow.logger import get_logger
from holoflow.tensor import external_stream, require_cuda, to_host
from holoflow.viz._camera import Camera
from holoflow.viz._compositor import composite
from holoflow.viz._gl_renderer import GLRenderer
from holoflow.viz._input_spec import InputSpec
from holoflow.viz._window import Window

__all__ = ["Renderer", "open_renderer"]

logger = get_logger(__name__)

_MODES = ("auto", "opengl", "software")

Layers = Sequence[tuple[InputSpec, Any]]
ColorTable = Sequence[Sequence[float]] | np.ndarray | None


class Renderer(abc.ABC):
    """Draws layers into a ``width`` x ``height`` RGBA8 frame, offscreen or in a window.

    Made by :func:`open_renderer`; ``kind`` is ``"opengl"`` or ``"software"``. Call it from one
    thread at a time; ``close`` it (or use it as a context manager) when done.
    """

    kind: str
    width: int
    height: int

    @abc.abstractmethod
    def draw(
        self, layers: Layers, lut: ColorTable = None, camera: Camera | None = None, stream: int = 0
    ) -> None:
        """Draw ``layers`` (``(spec, array)`` pairs, host or CUDA arrays) over an opaque black
        frame, by the rules of :func:`holoflow.viz.composite`: ``lut`` is the colour table of
        ``color_lut`` layers, ``camera`` sees the 3D layers (the default camera when None).

        Work on CUDA arrays is queued on CUDA ``stream`` (a ``cudaStream_t``, 0 for the legacy
        default stream), which must already be ordered after the arrays' producers.

        Raises
        ------
        holoflow.errors.TensorError
            If an array's shape or dtype does not suit its layer type (naming the spec).
        holoflow.errors.ConfigError
            If a layer cannot be drawn as specified (a ``color_lut`` layer without a table, an
            image format holoflow does not draw).
        """

    @abc.abstractmethod
    def read(self) -> np.ndarray:
        """The last frame drawn: a ``(height, width, 4)`` uint8 host array, top row first, that
        later draws leave alone."""

    @abc.abstractmethod
    def read_cuda(self, stream: int = 0) -> Any:
        """The last frame drawn as a CuPy ``(height, width, 4)`` uint8 array, copied on CUDA
        ``stream`` (ready once the work queued there is done).

        Raises
        ------
        ImportError
            If CuPy is not installed.
        holoflow.errors.ResourceError
            If there is no CUDA device.
        """

    @abc.abstractmethod
    def present(self) -> None:
        """Show the last frame in the window; offscreen there is nothing to show."""

    @abc.abstractmethod
    def should_close(self) -> bool:
        """Whether the user asked to close the window; never offscreen."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the OpenGL context and close the window, if any. Closing twice is harmless."""

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_renderer(
    mode: str,
    width: int,
    height: int,
    *,
    window: str | None = None,
    fullscreen: bool = False,
    vsync: bool = False,
    label: str = "renderer",
) -> Renderer:
    """A renderer of ``width`` x ``height`` frames.

    ``mode`` ``"opengl"`` draws with OpenGL 3.3 offscreen through EGL; ``"software"`` with the
    numpy compositor; ``"auto"`` with OpenGL when a context can be made, else with the compositor
    after one warning saying why. ``window`` (a title) shows each frame in a glfw window of the
    frame's size (full screen on the primary monitor with ``fullscreen``, synchronized to the
    display with ``vsync``), drawn by OpenGL in ``"auto"`` and ``"opengl"`` alike. ``label``
    names the owner in warnings and errors (HolovizOp passes ``"operator 'name'"``).

    Raises
    ------
    holoflow.errors.ConfigError
        If ``mode`` is unknown, the size is not positive, or a window is asked of ``"software"``.
    holoflow.errors.ResourceError
        If OpenGL is required (``"opengl"``, or a window) and cannot be had: PyOpenGL or glfw is
        not installed, EGL or the driver fails, or there is no display for a window.
    """
    if mode not in _MODES:
        raise ConfigError(f"{label}: renderer must be 'auto', 'opengl' or 'software', got {mode!r}")
    if int(width) <= 0 or int(height) <= 0:
        raise ConfigError(f"{label}: width and height must be positive, got {width}x{height}")
    width, height = int(width), int(height)
    if window is not None:
        if mode == "software":
            raise ConfigError(f"{label}: a window needs OpenGL; use renderer='auto' or 'opengl'")
        return _open_window(window, width, height, fullscreen, vsync, label)
    if mode == "software":
        return _SoftwareRenderer(width, height, label)
    try:
        gl = GLRenderer(width, height)
    except (ImportError, ResourceError) as exc:
        if mode == "opengl":
            raise ResourceError(f"{label}: {exc}") from exc
        logger.warning("%s: rendering in software: %s", label, exc)
        return _SoftwareRenderer(width, height, label)
    return _OpenGLRenderer(gl, None, label)


def _open_window(title: str, width: int, height: int, fullscreen: bool, vsync: bool, label: str) -> Renderer:
    opened: Window | None = None
    try:
        opened = Window(title, width, height, fullscreen, vsync)
        return _OpenGLRenderer(GLRenderer(width, height, window=opened), opened, label)
    except (ImportError, ResourceError) as exc:
        if opened is not None:
            opened.close()
        raise ResourceError(f"{label}: {exc}") from exc


def _labelled(exc: ConfigError | TensorError, label: str) -> ConfigError | TensorError:
    """The same kind of error, its message prefixed with the renderer's label (the operator drawing)."""
    if isinstance(exc, TensorError):
        return TensorError(f"{label}: {exc}")
    return ConfigError(f"{label}: {exc}")


def _on_cuda(array: Any) -> bool:
    return hasattr(array, "__cuda_array_interface__")


class _SoftwareRenderer(Renderer):
    """The numpy compositor; CUDA arrays are copied to the host on the draw's stream."""

    kind = "software"

    def __init__(self, width: int, height: int, label: str) -> None:
        self.width, self.height = width, height
        self._label = label
        self._copied: set[str] = set()  # layers whose CUDA arrays were copied (logged once each)
        self._frame = np.zeros((height, width, 4), np.uint8)
        self._frame[..., 3] = 255  # what drawing no layers gives: opaque black

    def draw(
        self, layers: Layers, lut: ColorTable = None, camera: Camera | None = None, stream: int = 0
    ) -> None:
        host = [(spec, self._host(spec, array, stream)) for spec, array in layers]
        try:
            self._frame = composite(host, self.width, self.height, lut, camera)
        except (ConfigError, TensorError) as exc:
            raise _labelled(exc, self._label) from exc

    def _host(self, spec: InputSpec, array: Any, stream: int) -> Any:
        if not _on_cuda(array):
            return array
        if spec.name not in self._copied:
            self._copied.add(spec.name)
            logger.warning(
                "%s: tensor '%s' is copied from the GPU for the software renderer", self._label, spec.name
            )
        return to_host(array, stream)

    def read(self) -> np.ndarray:
        return self._frame

    def read_cuda(self, stream: int = 0) -> Any:
        cupy = require_cuda("read_cuda")
        with external_stream(stream):
            return cupy.asarray(self._frame)

    def present(self) -> None:
        pass

    def should_close(self) -> bool:
        return False

    def close(self) -> None:
        pass


class _OpenGLRenderer(Renderer):
    """:class:`~holoflow.viz.GLRenderer`, offscreen or drawing into ``window``, which it owns."""

    kind = "opengl"

    def __init__(self, gl: GLRenderer, window: Window | None, label: str) -> None:
        self.width, self.height = gl.width, gl.height
        self._gl = gl
        self._window = window
        self._label = label
        self._warned = False

    def draw(
        self, layers: Layers, lut: ColorTable = None, camera: Camera | None = None, stream: int = 0
    ) -> None:
        if not self._warned and any(_on_cuda(array) for _, array in layers) and not self._gl.cuda_interop:
            self._warned = True
            logger.warning(
                "%s: OpenGL is not on the CUDA device: CUDA tensors pass through the host", self._label
            )
        try:
            self._gl.draw(layers, lut, stream, camera)
        except (ConfigError, TensorError) as exc:
            raise _labelled(exc, self._label) from exc

    def read(self) -> np.ndarray:
        return self._gl.read()

    def read_cuda(self, stream: int = 0) -> Any:
        return self._gl.read_cuda(stream)

    def present(self) -> None:
        if self._window is not None:
            self._gl.present()

    def should_close(self) -> bool:
        return self._window is not None and self._window.should_close()

    def close(self) -> None:
        self._gl.close()
        if self._window is not None:
            self._window.close()
