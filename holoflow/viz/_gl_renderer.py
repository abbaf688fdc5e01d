"""The OpenGL renderer: the compositor's layer model drawn by OpenGL 3.3 core.

It draws into an offscreen framebuffer; the context is made through EGL's surfaceless platform
(Mesa's llvmpipe on a machine without a GPU, the vendor driver with one), so no display is
needed, or is a window's (:class:`holoflow.viz._window.Window`), which then shows the frame.
Drawing follows the software compositor's rules exactly where they are not a matter of rounding:

- images and LUT overlays are textured quads over each view (linear filtering for images,
  nearest for LUT indices resolved in the shader);
- every shape is the bounding quad of a segment, point box or triangle, and the fragment shader
  keeps the pixels whose centres the compositor would cover (distance, box and edge tests);
- a stencil pass per layer and view blends each pixel at most once, as the compositor's mask;
- the frame is float RGBA, blended "over" with the layer's opacity, and rounded to uint8 once,
  by a last pass into an integer framebuffer that also turns it top row first.

CUDA arrays (anything with ``__cuda_array_interface__``) drawn as images or LUT overlays go to
their textures through an OpenGL pixel buffer that CUDA writes (:mod:`holoflow.viz._cuda_gl`),
and :meth:`GLRenderer.read_cuda` returns the frame as a CuPy array the same way, when OpenGL
runs on the CUDA device; elsewhere they pass through the host.

The context, programs, framebuffers and CUDA pixel buffers come from :mod:`holoflow.viz._gl`
(PyOpenGL imported on first use, for EGL).
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.errors import ConfigError, ResourceError
from holoflow.tensor import cupy_module, external_stream, require_cuda, to_host
from holoflow.viz import _compositor as software
from holoflow.viz._camera import Camera
from holoflow.viz._gl import (
    PixelBuffers,
    egl_context,
    gl_modules,
    link_program,
    make_framebuffer,
    raw_pixel_calls,
)
from holoflow.viz._input_spec import InputSpec
from holoflow.viz._shapes import Scene, Shapes, layer_shapes

if TYPE_CHECKING:
    from holoflow.viz._window import Window

__all__ = ["GLRenderer", "opengl_available"]

_VERTEX = """
#version 330 core
layout(location = 0) in vec2 position;   // pixels, y down
layout(location = 1) in vec4 ab;         // shape points a, b in pixels
layout(location = 2) in vec4 c_shape;    // point c, half width, kind (0 segment, 1 box, 2 triangle, 3 quad)
layout(location = 3) in vec4 shape_color;  // the shape's own colour (used when vertex_colors is set)
uniform vec2 frame;
out vec2 uv;
flat out vec4 v_ab;
flat out vec4 v_c_shape;
flat out vec4 v_color;
void main() {
    uv = position / frame;
    v_ab = ab;
    v_c_shape = c_shape;
    v_color = shape_color;
    gl_Position = vec4(position.x / frame.x * 2.0 - 1.0, 1.0 - position.y / frame.y * 2.0, 0.0, 1.0);
}
"""

_FRAGMENT = """
#version 330 core
in vec2 uv;
flat in vec4 v_ab;
flat in vec4 v_c_shape;
flat in vec4 v_color;
uniform int mode;            // 0 shapes, 1 image, 2 LUT
uniform int vertex_colors;   // shapes: 1 when each shape has its own colour
uniform int channels;
uniform float opacity;
uniform vec4 color;
uniform vec2 frame;             // the view's size in pixels
uniform vec3 origin;            // the view's left and top in the target, and the target's height
uniform sampler2D image;
uniform usampler2D indices;
uniform sampler2D lut;
out vec4 result;
void main() {
    vec4 rgba;
    if (mode == 1) {
        vec4 t = texture(image, uv);
        rgba = channels == 1 ? vec4(t.rrr, 1.0) : channels == 3 ? vec4(t.rgb, 1.0) : t;
    } else if (mode == 2) {
        uint index = texture(indices, uv).r;
        rgba = texelFetch(lut, ivec2(int(index), 0), 0);
    } else {
        vec2 p = vec2(gl_FragCoord.x - origin.x, origin.z - gl_FragCoord.y - origin.y);
        vec2 a = v_ab.xy, b = v_ab.zw, c = v_c_shape.xy;
        float h = v_c_shape.z, kind = v_c_shape.w;
        if (kind == 0.0) {
            vec2 d = b - a;
            float l2 = dot(d, d);
            float t = l2 == 0.0 ? 0.0 : clamp(dot(p - a, d) / l2, 0.0, 1.0);
            vec2 q = p - (a + t * d);
            if (dot(q, q) > h * h) discard;
        } else if (kind == 1.0) {
            if (abs(p.x - a.x) > h || abs(p.y - a.y) > h) discard;
        } else if (kind == 2.0) {
            float e0 = (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
            float e1 = (c.x - b.x) * (p.y - b.y) - (c.y - b.y) * (p.x - b.x);
            float e2 = (a.x - c.x) * (p.y - c.y) - (a.y - c.y) * (p.x - c.x);
            bool inside = (e0 >= 0.0 && e1 >= 0.0 && e2 >= 0.0) || (e0 <= 0.0 && e1 <= 0.0 && e2 <= 0.0);
            if (!inside) discard;
        }
        rgba = vertex_colors == 1 ? v_color : color;
    }
    float alpha = rgba.a * opacity;
    if (alpha == 0.0) discard;
    result = vec4(rgba.rgb, alpha);
}
"""

# The last pass: the float frame rounded to 8-bit integers as numpy's rint does (half to even),
# written upside down so that the rows read back come top row first.
_OUTPUT_VERTEX = """
#version 330 core
void main() {
    vec2 corner = vec2(gl_VertexID == 1 ? 3.0 : -1.0, gl_VertexID == 2 ? 3.0 : -1.0);
    gl_Position = vec4(corner, 0.0, 1.0);
}
"""

_OUTPUT_FRAGMENT = """
#version 330 core
uniform sampler2D frame;
out uvec4 result;
void main() {
    ivec2 size = textureSize(frame, 0);
    vec4 rgba = texelFetch(frame, ivec2(gl_FragCoord.x, size.y - 1 - int(gl_FragCoord.y)), 0);
    result = uvec4(roundEven(clamp(rgba, 0.0, 1.0) * 255.0));
}
"""


@functools.cache
def opengl_available() -> bool:
    """Whether a headless OpenGL 3.3 context can be made here (PyOpenGL, EGL, a driver)."""
    try:
        GLRenderer(1, 1).close()
    except (ImportError, ResourceError):
        return False
    return True


class GLRenderer:
    """Draws layers into a ``(height, width, 4)`` frame with OpenGL.

    ``render`` takes the arguments of :func:`holoflow.viz.composite` after the size, and returns
    what it returns up to rounding (``draw`` and ``read`` are its two halves). With a ``window``
    the renderer uses its context and ``present`` shows the last frame in it. Usable from any
    thread, one call at a time.

    Raises
    ------
    ImportError
        If PyOpenGL is not installed.
    holoflow.errors.ResourceError
        If no EGL display or OpenGL 3.3 context can be made.
    """

    def __init__(self, width: int, height: int, window: Window | None = None) -> None:
        if width <= 0 or height <= 0:
            raise ConfigError(f"frame size must be positive, got {width}x{height}")
        self.width, self.height = int(width), int(height)
        self._egl, self._gl = gl_modules()
        self._lock = threading.Lock()
        self._window = window
        self._display: Any = None
        self._context: Any = None
        if window is None:
            self._display, self._context = egl_context(self._egl)
        try:
            with self._current():
                self._setup()
                gl = self._gl
                self.device = (
                    f"{gl.glGetString(gl.GL_RENDERER).decode()}, {gl.glGetString(gl.GL_VERSION).decode()}"
                )
        except Exception:
            self.close()
            raise

    @contextlib.contextmanager
    def _current(self) -> Iterator[None]:
        """Hold the renderer's lock with its context current on this thread."""
        egl = self._egl
        with self._lock:
            if self._window is not None:
                self._window.make_current()
            elif not egl.eglMakeCurrent(self._display, egl.EGL_NO_SURFACE, egl.EGL_NO_SURFACE, self._context):
                raise ResourceError("OpenGL renderer: the context could not be made current")
            try:
                yield
            finally:
                if self._window is not None:
                    self._window.release()
                else:
                    egl.eglMakeCurrent(
                        self._display, egl.EGL_NO_SURFACE, egl.EGL_NO_SURFACE, egl.EGL_NO_CONTEXT
                    )

    def close(self) -> None:
        """Destroy the context (and with it every GL object); a window is closed by its owner."""
        pixels: PixelBuffers | None = getattr(self, "_pixels", None)
        if pixels is not None and pixels.holding:
            with self._current():
                pixels.close()
        context, self._context = getattr(self, "_context", None), None
        if context:
            self._egl.eglDestroyContext(self._display, context)

    def present(self) -> None:
        """Show the last frame in the window, scaled to its framebuffer, and swap buffers."""
        if self._window is None:
            raise ResourceError("OpenGL renderer: present() needs a window")
        gl = self._gl
        with self._current():
            width, height = self._window.framebuffer_size()
            gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self._framebuffer)
            gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, 0)
            gl.glBlitFramebuffer(
                0, 0, self.width, self.height, 0, 0, width, height, gl.GL_COLOR_BUFFER_BIT, gl.GL_LINEAR
            )
            self._window.swap()

    # -- GL objects ---------------------------------------------------------------------------------
    def _setup(self) -> None:
        gl = self._gl
        self._program = link_program(gl, _VERTEX, _FRAGMENT)
        self._vao = gl.glGenVertexArrays(1)
        self._vbo = gl.glGenBuffers(1)
        gl.glBindVertexArray(self._vao)
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, self._vbo)
        stride = _RECORD * 4
        for location, (size, offset) in enumerate(((2, 0), (4, 8), (4, 24), (4, 40))):
            gl.glEnableVertexAttribArray(location)
            gl.glVertexAttribPointer(
                location, size, gl.GL_FLOAT, gl.GL_FALSE, stride, ctypes.c_void_p(offset)
            )
        self._color = gl.glGenTextures(1)
        gl.glBindTexture(gl.GL_TEXTURE_2D, self._color)
        gl.glTexImage2D(
            gl.GL_TEXTURE_2D, 0, gl.GL_RGBA32F, self.width, self.height, 0, gl.GL_RGBA, gl.GL_FLOAT, None
        )
        for parameter in (gl.GL_TEXTURE_MIN_FILTER, gl.GL_TEXTURE_MAG_FILTER):
            gl.glTexParameteri(gl.GL_TEXTURE_2D, parameter, gl.GL_NEAREST)
        # Layers blend into the float frame (with a stencil); the last pass rounds it into 8 bits.
        self._framebuffer, _ = make_framebuffer(
            gl,
            "float RGBA",
            self.width,
            self.height,
            color_texture=self._color,
            renderbuffers=[(gl.GL_DEPTH_STENCIL_ATTACHMENT, gl.GL_DEPTH24_STENCIL8)],
        )
        self._output, _ = make_framebuffer(
            gl,
            "8-bit integer RGBA",
            self.width,
            self.height,
            renderbuffers=[(gl.GL_COLOR_ATTACHMENT0, gl.GL_RGBA8UI)],
        )
        self._output_program = link_program(gl, _OUTPUT_VERTEX, _OUTPUT_FRAGMENT)
        self._output_vao = gl.glGenVertexArrays(1)
        self._pixels = PixelBuffers(gl)
        self._textures = gl.glGenTextures(3)  # image, indices, LUT
        self._allocated: dict[int, tuple[Any, int, int]] = {}  # unit -> storage of its texture
        gl.glUseProgram(self._program)
        for unit, name in enumerate(("image", "indices", "lut")):
            gl.glUniform1i(gl.glGetUniformLocation(self._program, name), unit)
        self._uniforms = {
            n: gl.glGetUniformLocation(self._program, n)
            for n in ("mode", "channels", "opacity", "color", "frame", "origin", "vertex_colors")
        }

    # -- drawing ------------------------------------------------------------------------------------
    def render(
        self,
        layers: Sequence[tuple[InputSpec, Any]],
        color_lut: Sequence[Sequence[float]] | np.ndarray | None = None,
        camera: Camera | None = None,
    ) -> np.ndarray:
        """Draw ``layers`` and read the frame back: :meth:`draw` then :meth:`read`."""
        self.draw(layers, color_lut, camera=camera)
        return self.read()

    def draw(
        self,
        layers: Sequence[tuple[InputSpec, Any]],
        color_lut: Sequence[Sequence[float]] | np.ndarray | None = None,
        stream: int = 0,
        camera: Camera | None = None,
    ) -> None:
        """Draw ``layers`` (spec, array), the 3D layers seen by ``camera``; see
        :func:`holoflow.viz.composite` for the rules.

        Arrays are host arrays or CUDA arrays; the work on CUDA arrays is queued on ``stream``
        (a ``cudaStream_t``, 0 for the legacy default stream), behind what it already holds.

        Raises
        ------
        holoflow.errors.TensorError, holoflow.errors.ConfigError
            As :func:`holoflow.viz.composite` does.
        """
        lut = software.lut_table(color_lut)
        colors = software.depth_map_colors(layers)
        if colors is not None:
            colors = self._layer_array(colors, "depth_map_color", stream)  # on the host
        scene = Scene(camera or Camera(), colors)
        gl = self._gl
        with self._current():
            gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self._framebuffer)
            gl.glClearColor(0.0, 0.0, 0.0, 1.0)
            gl.glClearStencil(0)
            gl.glClear(gl.GL_COLOR_BUFFER_BIT | gl.GL_STENCIL_BUFFER_BIT)
            gl.glEnable(gl.GL_BLEND)
            gl.glBlendFuncSeparate(
                gl.GL_SRC_ALPHA, gl.GL_ONE_MINUS_SRC_ALPHA, gl.GL_ONE, gl.GL_ONE_MINUS_SRC_ALPHA
            )
            gl.glEnable(gl.GL_STENCIL_TEST)
            gl.glStencilOp(gl.GL_KEEP, gl.GL_KEEP, gl.GL_REPLACE)
            gl.glUseProgram(self._program)
            gl.glBindVertexArray(self._vao)
            if lut is not None:
                self._upload_lut(lut)
            step = 0
            for spec, array, kind in software.drawing_order(layers, lut is not None):
                gl.glUniform1f(self._uniforms["opacity"], spec.opacity)
                layer = self._layer_array(array, kind, stream)
                views = software.view_rectangles(spec, self.width, self.height)
                for view, (left, top, width, height) in enumerate(views):
                    step += 1
                    # A layer covers a pixel once per view: it draws where the stencil does not hold
                    # this step's number yet.
                    if step % 255 == 0:
                        gl.glClear(gl.GL_STENCIL_BUFFER_BIT)
                    gl.glStencilFunc(gl.GL_NOTEQUAL, step % 255 + 1, 0xFF)
                    gl.glViewport(left, self.height - top - height, width, height)
                    gl.glUniform2f(self._uniforms["frame"], width, height)
                    gl.glUniform3f(self._uniforms["origin"], left, top, self.height)
                    if kind == "color":
                        self._draw_image(spec, layer, width, height, stream)
                    elif kind == "color_lut":
                        self._draw_lut(spec, layer, lut, width, height, stream)
                    else:
                        self._draw_shapes(spec, kind, layer, width, height, scene.at(spec, view))
            gl.glDisable(gl.GL_STENCIL_TEST)
            gl.glDisable(gl.GL_BLEND)
            self._finish()

    def _layer_array(self, array: Any, kind: str, stream: int) -> Any:
        """The array to draw: on the GPU for textures when interop works, else on the host."""
        if not hasattr(array, "__cuda_array_interface__"):
            return np.asarray(array)
        if kind in ("color", "color_lut") and self._interop_ready():
            with external_stream(stream):
                return cupy_module().asarray(array)
        return to_host(array, stream)

    def _finish(self) -> None:
        """Round the float frame into the 8-bit output framebuffer, top row first."""
        gl = self._gl
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, self._output)
        gl.glViewport(0, 0, self.width, self.height)
        gl.glUseProgram(self._output_program)
        gl.glActiveTexture(gl.GL_TEXTURE0 + _FRAME_UNIT)
        gl.glBindTexture(gl.GL_TEXTURE_2D, self._color)
        gl.glUniform1i(gl.glGetUniformLocation(self._output_program, "frame"), _FRAME_UNIT)
        gl.glBindVertexArray(self._output_vao)
        gl.glDrawArrays(gl.GL_TRIANGLES, 0, 3)

    def read(self) -> np.ndarray:
        """The last frame drawn, ``(height, width, 4)`` uint8, top row first."""
        gl = self._gl
        frame = np.empty((self.height, self.width, 4), np.uint8)
        read_pixels, _ = raw_pixel_calls()
        with self._current():
            gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self._output)
            gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
            read_pixels(
                0, 0, self.width, self.height, gl.GL_RGBA_INTEGER, gl.GL_UNSIGNED_BYTE,
                frame.ctypes.data_as(ctypes.c_void_p),
            )  # fmt: skip
        return frame

    @property
    def cuda_interop(self) -> bool:
        """Whether CUDA arrays reach OpenGL, and the frame reaches CUDA, without the host: a CUDA
        device is present and OpenGL runs on it (found out on the first use)."""
        if not self._pixels.probed:
            with self._current():
                return self._interop_ready()
        return self._pixels.error is None

    def _interop_ready(self) -> bool:
        """:attr:`cuda_interop`, with the context already current."""
        return self._pixels.ready(self.width * self.height * 4)

    def read_cuda(self, stream: int = 0) -> Any:
        """The last frame drawn as a CuPy ``(height, width, 4)`` uint8 array, top row first, copied
        on CUDA ``stream`` (the array is ready once the work queued there is done).

        Raises
        ------
        holoflow.errors.ResourceError
            If there is no CUDA device; without interop the frame goes through the host.
        """
        cupy = require_cuda("read_cuda")
        if not self.cuda_interop:
            frame = self.read()
            with external_stream(stream):
                return cupy.asarray(frame)
        gl = self._gl
        nbytes = self.width * self.height * 4
        read_pixels, _ = raw_pixel_calls()
        with self._current(), external_stream(stream):
            frame = cupy.empty((self.height, self.width, 4), np.uint8)
            pack, interop = self._pixels.get(gl.GL_PIXEL_PACK_BUFFER, nbytes)
            gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self._output)
            gl.glPixelStorei(gl.GL_PACK_ALIGNMENT, 1)
            gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, pack)
            read_pixels(
                0, 0, self.width, self.height, gl.GL_RGBA_INTEGER, gl.GL_UNSIGNED_BYTE, ctypes.c_void_p(0)
            )
            gl.glBindBuffer(gl.GL_PIXEL_PACK_BUFFER, 0)
            with interop.mapped(stream) as (pointer, _):
                cupy.cuda.runtime.memcpyAsync(
                    frame.data.ptr, pointer, nbytes, cupy.cuda.runtime.memcpyDeviceToDevice, stream
                )
        return frame

    def _quad(self, width: int, height: int) -> None:
        w, h = float(width), float(height)
        vertices = np.zeros((6, _RECORD), np.float32)
        vertices[:, :2] = np.array([[0, 0], [w, 0], [w, h], [0, 0], [w, h], [0, h]])
        vertices[:, 9] = 3.0
        self._draw_vertices(vertices)

    def _draw_vertices(self, vertices: np.ndarray) -> None:
        gl = self._gl
        if not len(vertices):
            return
        gl.glBindBuffer(gl.GL_ARRAY_BUFFER, self._vbo)
        gl.glBufferData(
            gl.GL_ARRAY_BUFFER, vertices.nbytes, np.ascontiguousarray(vertices), gl.GL_STREAM_DRAW
        )
        gl.glDrawArrays(gl.GL_TRIANGLES, 0, len(vertices))

    def _texture(
        self, unit: int, internal: Any, fmt: Any, kind: Any, data: Any, linear: bool, stream: int = 0
    ) -> None:
        """Fill texture ``unit`` with ``data`` (a host array, or a CuPy array copied on ``stream``)."""
        gl = self._gl
        gl.glActiveTexture(gl.GL_TEXTURE0 + unit)
        gl.glBindTexture(gl.GL_TEXTURE_2D, self._textures[unit])
        filtering = gl.GL_LINEAR if linear else gl.GL_NEAREST
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MIN_FILTER, filtering)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_MAG_FILTER, filtering)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_WRAP_S, gl.GL_CLAMP_TO_EDGE)
        gl.glTexParameteri(gl.GL_TEXTURE_2D, gl.GL_TEXTURE_WRAP_T, gl.GL_CLAMP_TO_EDGE)
        gl.glPixelStorei(gl.GL_UNPACK_ALIGNMENT, 1)
        height, width = data.shape[:2]
        on_cuda = not isinstance(data, np.ndarray)
        if self._allocated.get(unit) != (internal, width, height):
            gl.glTexImage2D(gl.GL_TEXTURE_2D, 0, internal, width, height, 0, fmt, kind, None)
            self._allocated[unit] = (internal, width, height)
        if not on_cuda:
            gl.glTexSubImage2D(
                gl.GL_TEXTURE_2D, 0, 0, 0, width, height, fmt, kind, np.ascontiguousarray(data)
            )
            return
        cupy = cupy_module()
        with external_stream(stream):
            data = cupy.ascontiguousarray(data)
        unpack, interop = self._pixels.get(gl.GL_PIXEL_UNPACK_BUFFER, data.nbytes)
        with interop.mapped(stream) as (pointer, _):
            cupy.cuda.runtime.memcpyAsync(
                pointer, data.data.ptr, data.nbytes, cupy.cuda.runtime.memcpyDeviceToDevice, stream
            )
        _, tex_sub_image = raw_pixel_calls()
        gl.glBindBuffer(gl.GL_PIXEL_UNPACK_BUFFER, unpack)
        tex_sub_image(gl.GL_TEXTURE_2D, 0, 0, 0, width, height, fmt, kind, ctypes.c_void_p(0))
        gl.glBindBuffer(gl.GL_PIXEL_UNPACK_BUFFER, 0)

    def _draw_image(self, spec: InputSpec, array: Any, width: int, height: int, stream: int) -> None:
        gl = self._gl
        array = software.image_array(spec, array)
        channels = array.shape[2]
        fmt = {1: gl.GL_RED, 3: gl.GL_RGB, 4: gl.GL_RGBA}[channels]
        sized = {
            np.dtype(np.uint8): ({1: gl.GL_R8, 3: gl.GL_RGB8, 4: gl.GL_RGBA8}, gl.GL_UNSIGNED_BYTE),
            np.dtype(np.uint16): ({1: gl.GL_R16, 4: gl.GL_RGBA16}, gl.GL_UNSIGNED_SHORT),
            np.dtype(np.float32): ({1: gl.GL_R32F, 4: gl.GL_RGBA32F}, gl.GL_FLOAT),
        }
        internal_by_channels, kind = sized[array.dtype]
        internal = internal_by_channels[channels]
        self._texture(0, internal, fmt, kind, array, linear=True, stream=stream)
        gl.glUniform1i(self._uniforms["mode"], 1)
        gl.glUniform1i(self._uniforms["channels"], channels)
        self._quad(width, height)

    def _upload_lut(self, lut: np.ndarray) -> None:
        gl = self._gl
        self._texture(2, gl.GL_RGBA32F, gl.GL_RGBA, gl.GL_FLOAT, lut[None, :, :], linear=False)

    def _draw_lut(
        self, spec: InputSpec, array: Any, lut: np.ndarray | None, width: int, height: int, stream: int
    ) -> None:
        gl = self._gl
        if isinstance(array, np.ndarray):
            index = software.lut_indices(spec, array, lut).astype(np.uint32)
        else:
            with external_stream(stream):  # numpy's functions dispatch to CuPy's
                index = software.lut_indices(spec, array, lut).astype(np.uint32)
        self._texture(
            1, gl.GL_R32UI, gl.GL_RED_INTEGER, gl.GL_UNSIGNED_INT, index, linear=False, stream=stream
        )
        gl.glUniform1i(self._uniforms["mode"], 2)
        self._quad(width, height)

    def _draw_shapes(
        self, spec: InputSpec, kind: str, array: np.ndarray, width: int, height: int, scene: Scene
    ) -> None:
        gl = self._gl
        with np.errstate(invalid="ignore", over="ignore"):
            shapes = layer_shapes(spec, kind, array, width, height, scene)
        gl.glUniform1i(self._uniforms["mode"], 0)
        gl.glUniform4f(self._uniforms["color"], *spec.color)
        colored = shapes.colors is not None
        gl.glUniform1i(self._uniforms["vertex_colors"], int(colored))
        if colored:  # each shape blends over the ones before it, as the compositor does
            gl.glDisable(gl.GL_STENCIL_TEST)
        self._draw_vertices(_vertices(shapes, width, height))
        if colored:
            gl.glEnable(gl.GL_STENCIL_TEST)


_FRAME_UNIT = 3  # texture unit of the float frame in the last pass
_RECORD = 14  # floats per vertex: position, a, b, c, half width, kind, colour
_FAR = 1e30  # pixels; shapes reaching beyond are not drawn (float32 range)


def _vertices(shapes: Shapes, width: int, height: int) -> np.ndarray:
    """The bounding quad (two triangles) of every segment, box and triangle, as vertex records."""
    records = [(s, e, s, h, 0.0) for (s, e), h in shapes.segments]
    records += [(centre, centre, centre, h, 1.0) for centre, h in shapes.boxes]
    records += [(a, b, c, 0.0, 2.0) for a, b, c in shapes.triangles]
    if not records:
        return np.zeros((0, _RECORD), np.float32)
    points = np.array([r[:3] for r in records], np.float64)  # (N, 3, 2)
    halves = np.array([r[3] for r in records], np.float64)[:, None]
    kinds = np.array([r[4] for r in records], np.float64)
    keep = (np.isfinite(points) & (np.abs(points) <= _FAR)).all(axis=(1, 2))
    points, halves, kinds = points[keep], halves[keep], kinds[keep]
    colors = shapes.colors[keep] if shapes.colors is not None else np.zeros((len(points), 4))
    limit = np.array([width, height], np.float64) + 1
    low = np.clip(points.min(axis=1) - halves - 1, -1, limit)
    high = np.clip(points.max(axis=1) + halves + 1, -1, limit)
    corners = np.stack(
        [low, np.stack([high[:, 0], low[:, 1]], 1), high, low, high, np.stack([low[:, 0], high[:, 1]], 1)], 1
    )
    block = np.zeros((len(points), 6, _RECORD), np.float32)
    block[:, :, :2] = corners
    block[:, :, 2:8] = points.reshape(-1, 1, 6)
    block[:, :, 8] = halves
    block[:, :, 9] = kinds[:, None]
    block[:, :, 10:] = colors[:, None, :]
    return block.reshape(-1, _RECORD)
