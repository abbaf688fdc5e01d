"""OpenGL resources shared by the renderer and the window: PyOpenGL on EGL, an offscreen context,
shader programs, framebuffers and the pixel buffers CUDA reads and writes.

PyOpenGL is imported on first use with ``PYOPENGL_PLATFORM=egl`` unless the variable is set, so
one platform, EGL, serves offscreen rendering and windows alike. The functions taking ``gl`` need
a current context.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Sequence
from typing import Any

from holoflow.errors import ResourceError
from holoflow.tensor import cuda_available, cupy_module
from holoflow.viz._cuda_gl import CudaGLBuffer

__all__ = ["PixelBuffers", "egl_context", "gl_modules", "link_program", "make_framebuffer", "raw_pixel_calls"]

_EGL_PLATFORM_SURFACELESS_MESA = 0x31DD

_lock = threading.Lock()
_gl: Any = None


def gl_modules() -> tuple[Any, Any]:
    """``(OpenGL.EGL, OpenGL.GL)``, importing PyOpenGL for EGL on first use.

    Raises
    ------
    ImportError
        If PyOpenGL is not installed (naming the extra to install).
    holoflow.errors.ResourceError
        If PyOpenGL cannot load the system's EGL or OpenGL library (a GPU machine without
        libglvnd's ``libEGL.so.1``, say); PyOpenGL reports that as an ``AttributeError``, and
        a second import would hand out half-initialized modules, so the failure is kept.
    """
    global _gl
    with _lock:
        if _gl is None:
            os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
            try:
                from OpenGL import EGL, GL

                _gl = (EGL, GL)
            except ImportError as exc:
                raise ImportError("the OpenGL renderer needs PyOpenGL: pip install 'holoflow[viz]'") from exc
            except Exception as exc:
                platform = os.environ["PYOPENGL_PLATFORM"]
                _gl = ResourceError(
                    f"OpenGL renderer: PyOpenGL could not load the {platform} and OpenGL libraries "
                    f"({type(exc).__name__}: {exc}); on Linux they come with libglvnd "
                    "(libegl1, libopengl0) and a driver (Mesa, or the GPU's)"
                )
        if isinstance(_gl, ResourceError):
            raise _gl
        return _gl  # type: ignore[no-any-return]


@functools.cache
def raw_pixel_calls() -> tuple[Any, Any]:
    """PyOpenGL's unwrapped ``glReadPixels`` and ``glTexSubImage2D``, which take a raw pointer:
    a host address, or an offset into the bound pixel buffer."""
    from OpenGL.raw.GL.VERSION.GL_1_0 import glReadPixels
    from OpenGL.raw.GL.VERSION.GL_1_1 import glTexSubImage2D

    return glReadPixels, glTexSubImage2D


def egl_context(egl: Any) -> tuple[Any, Any]:
    """``(display, context)``: an OpenGL 3.3 core context with no surface, on EGL's surfaceless
    platform (Mesa's llvmpipe without a GPU, the vendor driver with one), else the default display.

    Raises
    ------
    holoflow.errors.ResourceError
        If no EGL display, configuration or context can be made.
    """
    try:
        display = egl.eglGetPlatformDisplayEXT(_EGL_PLATFORM_SURFACELESS_MESA, egl.EGL_DEFAULT_DISPLAY, None)
        if not display:
            display = egl.eglGetDisplay(egl.EGL_DEFAULT_DISPLAY)
        major, minor = egl.EGLint(), egl.EGLint()
        if not display or not egl.eglInitialize(display, ctypes.pointer(major), ctypes.pointer(minor)):
            raise ResourceError("OpenGL renderer: no EGL display could be initialized")
        attributes = (egl.EGLint * 5)(
            egl.EGL_RENDERABLE_TYPE, egl.EGL_OPENGL_BIT, egl.EGL_SURFACE_TYPE, 0, egl.EGL_NONE
        )
        config, count = egl.EGLConfig(), egl.EGLint()
        if (
            not egl.eglChooseConfig(display, attributes, ctypes.pointer(config), 1, ctypes.pointer(count))
            or not count.value
        ):
            raise ResourceError("OpenGL renderer: EGL has no configuration for offscreen OpenGL")
        egl.eglBindAPI(egl.EGL_OPENGL_API)
        version = (egl.EGLint * 7)(
            egl.EGL_CONTEXT_MAJOR_VERSION, 3,
            egl.EGL_CONTEXT_MINOR_VERSION, 3,
            egl.EGL_CONTEXT_OPENGL_PROFILE_MASK, egl.EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT,
            egl.EGL_NONE,
        )  # fmt: skip
        context = egl.eglCreateContext(display, config, egl.EGL_NO_CONTEXT, version)
        if not context:
            raise ResourceError("OpenGL renderer: EGL could not create an OpenGL 3.3 core context")
    except ResourceError:
        raise
    except Exception as exc:  # PyOpenGL raises its own errors when the EGL library is missing or fails
        raise ResourceError(f"OpenGL renderer: EGL failed: {exc}") from exc
    return display, context


def link_program(gl: Any, vertex: str, fragment: str) -> Any:
    """A linked shader program from GLSL ``vertex`` and ``fragment`` sources.

    Raises
    ------
    holoflow.errors.ResourceError
        If a shader does not compile or the program does not link (with the driver's log).
    """
    program = gl.glCreateProgram()
    for kind, source in ((gl.GL_VERTEX_SHADER, vertex), (gl.GL_FRAGMENT_SHADER, fragment)):
        shader = gl.glCreateShader(kind)
        gl.glShaderSource(shader, source)
        gl.glCompileShader(shader)
        if not gl.glGetShaderiv(shader, gl.GL_COMPILE_STATUS):
            raise ResourceError(f"OpenGL renderer: shader failed to compile: {gl.glGetShaderInfoLog(shader)}")
        gl.glAttachShader(program, shader)
    gl.glLinkProgram(program)
    if not gl.glGetProgramiv(program, gl.GL_LINK_STATUS):
        raise ResourceError(f"OpenGL renderer: program failed to link: {gl.glGetProgramInfoLog(program)}")
    return program


def make_framebuffer(
    gl: Any,
    what: str,
    width: int,
    height: int,
    *,
    color_texture: Any = None,
    renderbuffers: Sequence[tuple[Any, Any]] = (),
) -> tuple[Any, list[Any]]:
    """A new framebuffer, left bound: ``color_texture`` (if any) as its colour attachment, and a
    new ``width`` x ``height`` renderbuffer for each ``(attachment, internal format)``.

    Returns ``(framebuffer, [renderbuffer, ...])``.

    Raises
    ------
    holoflow.errors.ResourceError
        If the driver cannot complete it (``what`` names it in the message).
    """
    framebuffer = gl.glGenFramebuffers(1)
    gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, framebuffer)
    if color_texture is not None:
        gl.glFramebufferTexture2D(
            gl.GL_FRAMEBUFFER, gl.GL_COLOR_ATTACHMENT0, gl.GL_TEXTURE_2D, color_texture, 0
        )
    made = []
    for attachment, internal in renderbuffers:
        buffer = gl.glGenRenderbuffers(1)
        gl.glBindRenderbuffer(gl.GL_RENDERBUFFER, buffer)
        gl.glRenderbufferStorage(gl.GL_RENDERBUFFER, internal, width, height)
        gl.glFramebufferRenderbuffer(gl.GL_FRAMEBUFFER, attachment, gl.GL_RENDERBUFFER, buffer)
        made.append(buffer)
    if gl.glCheckFramebufferStatus(gl.GL_FRAMEBUFFER) != gl.GL_FRAMEBUFFER_COMPLETE:
        raise ResourceError(f"OpenGL renderer: the {what} framebuffer is not supported")
    return framebuffer, made


class PixelBuffers:
    """The OpenGL pixel buffers that CUDA writes into (``GL_PIXEL_UNPACK_BUFFER``: texture
    uploads) and reads from (``GL_PIXEL_PACK_BUFFER``: the frame), one per target, each grown on
    demand and registered with CUDA. Use it with the owning context current."""

    def __init__(self, gl: Any) -> None:
        self._gl = gl
        self._held: dict[Any, tuple[int, int, CudaGLBuffer]] = {}
        self.error: str | None = None
        """Why CUDA cannot reach OpenGL's buffers, once a probe found out; None otherwise."""

    @property
    def probed(self) -> bool:
        """Whether :meth:`ready` already knows the answer."""
        return self.error is not None or self.holding

    @property
    def holding(self) -> bool:
        """Whether any buffer is registered with CUDA."""
        return bool(self._held)

    def ready(self, nbytes: int) -> bool:
        """Whether CUDA-OpenGL interop works: a CUDA device is present and OpenGL runs on it
        (found out once, by registering a pack buffer of ``nbytes``)."""
        if not self.probed:
            if not cuda_available():
                self.error = "no CUDA device"
            else:
                try:
                    self.get(self._gl.GL_PIXEL_PACK_BUFFER, nbytes)
                except ResourceError as exc:
                    self.error = str(exc)
        return self.error is None

    def get(self, target: Any, nbytes: int) -> tuple[int, CudaGLBuffer]:
        """``(buffer, interop)`` for ``target``, at least ``nbytes`` long.

        Raises
        ------
        holoflow.errors.ResourceError
            If CUDA cannot register it (OpenGL is not on the CUDA device).
        """
        gl = self._gl
        held = self._held.get(target)
        if held is not None and held[1] >= nbytes:
            return held[0], held[2]
        if held is not None:
            held[2].close()
            gl.glDeleteBuffers(1, [held[0]])
        buffer = gl.glGenBuffers(1)
        gl.glBindBuffer(target, buffer)
        usage = gl.GL_STREAM_READ if target == gl.GL_PIXEL_PACK_BUFFER else gl.GL_STREAM_DRAW
        gl.glBufferData(target, nbytes, None, usage)
        gl.glBindBuffer(target, 0)
        try:
            interop = CudaGLBuffer(
                int(buffer),
                cupy_module().cuda.runtime.getDevice(),
                "read_only" if target == gl.GL_PIXEL_PACK_BUFFER else "write_discard",
            )
        except ResourceError:
            gl.glDeleteBuffers(1, [buffer])
            self._held.pop(target, None)
            raise
        self._held[target] = (int(buffer), nbytes, interop)
        return int(buffer), interop

    def close(self) -> None:
        """Unregister every buffer from CUDA (the buffers go with the context)."""
        for _, _, interop in self._held.values():
            interop.close()
        self._held.clear()
