"""Visualization: Holoviz's layer model (``InputSpec``), the numpy software compositor and the
offscreen OpenGL renderer that draws the same pixels."""

from holoflow.viz._compositor import composite, detect_type
from holoflow.viz._gl_renderer import GLRenderer, opengl_available
from holoflow.viz._input_spec import InputSpec, InputType, View

__all__ = ["GLRenderer", "InputSpec", "InputType", "View", "composite", "detect_type", "opengl_available"]
