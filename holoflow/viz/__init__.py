"""Visualization: Holoviz's layer model (``InputSpec``), the numpy software compositor, the OpenGL
renderer that draws the same pixels (offscreen through EGL, or in a glfw window), and
``open_renderer``, which picks between them and hides the difference."""

from holoflow.viz._camera import Camera
from holoflow.viz._compositor import composite, detect_type, lut_table
from holoflow.viz._gl_renderer import GLRenderer, opengl_available
from holoflow.viz._input_spec import InputSpec, InputType, View
from holoflow.viz._renderer import Renderer, open_renderer

__all__ = [
    "Camera",
    "GLRenderer",
    "InputSpec",
    "InputType",
    "Renderer",
    "View",
    "composite",
    "detect_type",
    "lut_table",
    "open_renderer",
    "opengl_available",
]
