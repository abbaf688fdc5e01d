"""``Window``: a glfw window whose OpenGL 3.3 core context is made through EGL.

Making the context through EGL (not GLX) lets PyOpenGL use one platform, EGL, for the window and
for offscreen rendering alike. glfw is imported on first use (extra ``viz``).
"""

from __future__ import annotations

import warnings
from typing import Any

from holoflow.errors import ResourceError
from holoflow.viz._gl import gl_modules

__all__ = ["Window"]


def _glfw() -> Any:
    try:
        import glfw
    except ImportError as exc:
        raise ImportError("a HolovizOp window needs glfw: pip install 'holoflow[viz]'") from exc
    return glfw


def _call(glfw: Any, function: Any, *args: Any) -> tuple[Any, str]:
    """``function(*args)`` and glfw's error messages, whether glfw raises or warns them."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(*args)
        except glfw.GLFWError as exc:
            return None, str(exc)
    return result, "; ".join(str(w.message) for w in caught) or "no reason given"


class Window:
    """An on-screen window of ``width`` x ``height`` (or full screen on the primary monitor).

    Raises
    ------
    ImportError
        If glfw or PyOpenGL is not installed.
    holoflow.errors.ResourceError
        If there is no display, or no OpenGL 3.3 context can be made for the window.
    """

    def __init__(
        self, title: str, width: int, height: int, fullscreen: bool = False, vsync: bool = False
    ) -> None:
        gl_modules()  # PyOpenGL on the EGL platform, before any GL call
        self._glfw = glfw = _glfw()
        ready, reasons = _call(glfw, glfw.init)
        if not ready:
            raise ResourceError(
                f"no display for a window ({reasons}); set DISPLAY, run under Xvfb, or use headless=True"
            )
        glfw.window_hint(glfw.CONTEXT_CREATION_API, glfw.EGL_CONTEXT_API)
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, 3)
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, 3)
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        monitor = glfw.get_primary_monitor() if fullscreen else None
        self.handle, reasons = _call(glfw, glfw.create_window, int(width), int(height), title, monitor, None)
        if not self.handle:
            glfw.terminate()
            raise ResourceError(f"could not open a {width}x{height} OpenGL 3.3 window ({reasons})")
        glfw.make_context_current(self.handle)
        glfw.swap_interval(1 if vsync else 0)
        glfw.make_context_current(None)

    def make_current(self) -> None:
        """Make the window's context current on this thread."""
        self._glfw.make_context_current(self.handle)

    def release(self) -> None:
        """Detach the window's context from this thread."""
        self._glfw.make_context_current(None)

    def framebuffer_size(self) -> tuple[int, int]:
        """The drawable size in pixels (it differs from the window size on high-DPI screens)."""
        width, height = self._glfw.get_framebuffer_size(self.handle)
        return int(width), int(height)

    def swap(self) -> None:
        """Show what was drawn, and handle pending window events."""
        self._glfw.swap_buffers(self.handle)
        self._glfw.poll_events()

    def should_close(self) -> bool:
        """Whether the user asked to close the window."""
        return bool(self._glfw.window_should_close(self.handle))

    def close(self) -> None:
        """Destroy the window."""
        if self.handle:
            self._glfw.destroy_window(self.handle)
            self.handle = None
            self._glfw.terminate()
