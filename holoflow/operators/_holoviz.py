"""``HolovizOp``: draw the tensors arriving on ``receivers`` as layers, headless for now."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core._condition import ConditionType
from holoflow.core._operator import Operator
from holoflow.core._spec import IOSpec
from holoflow.errors import ConfigError, HoloflowError, ResourceError, TensorError
from holoflow.tensor import Tensor, TensorMap, _cuda, as_tensor, is_tensor_like
from holoflow.viz import GLRenderer, InputType, composite, detect_type
from holoflow.viz import InputSpec as _Spec
from holoflow.viz._camera import Camera
from holoflow.viz._compositor import lut_table
from holoflow.viz._window import Window

if TYPE_CHECKING:
    from holoflow.core._context import ExecutionContext, InputContext, OutputContext

__all__ = ["HolovizOp"]

logger = logging.getLogger("holoflow")

_UNSUPPORTED_SWITCHES = (
    "enable_render_buffer_input",
    "enable_depth_buffer_input",
    "enable_depth_buffer_output",
)
_CAMERA_PORTS = {"camera_eye_input": "eye", "camera_look_at_input": "look_at", "camera_up_input": "up"}


class HolovizOp(Operator):
    """Composite the tensors received on ``receivers`` into one RGBA frame per call.

    Holoscan's parameter model: ``tensors`` (InputSpecs or dicts: which tensor is drawn how),
    ``color_lut`` (``[[r, g, b, a], ...]``), ``width`` x ``height`` (1920 x 1080), ``headless``,
    ``enable_render_buffer_output`` (the frame, ``(height, width, 4)`` uint8, emitted as tensor
    ``""`` on ``render_buffer_output``), and Holoscan's other keywords, accepted. Specs arriving
    on ``input_specs`` (a list) are drawn after the static ones for that frame; tensors no spec
    names are drawn when their type can be detected, as in Holoviz.

    ``renderer`` (holoflow's addition): ``"opengl"`` draws offscreen with OpenGL 3.3 through EGL,
    ``"software"`` with the numpy compositor (:mod:`holoflow.viz`), and ``"auto"`` (default) uses
    OpenGL when a context can be made, else software with one warning. Both draw the same pixels
    up to rounding. With ``headless=False`` (the default) the frame is shown in a window
    (``window_title``, ``fullscreen``, ``vsync``) drawn by OpenGL; closing it disables the operator
    (``window_close_condition``, else the operator is stopped).

    CUDA tensors: OpenGL on the CUDA device takes images and LUT overlays straight from GPU
    memory (CUDA-OpenGL interop, on the stream of the received tensors), and the software
    renderer copies them to the host (logged once). When any tensor of a frame arrived on the GPU,
    the render buffer is a CUDA tensor too, on the same stream; otherwise a host array.

    3D layers (``*_3d`` geometry, ``depth_map`` with ``depth_map_color``) are seen by the camera
    of ``camera_eye``, ``camera_look_at`` and ``camera_up``; three numbers arriving on the
    optional ``camera_eye_input``, ``camera_look_at_input`` or ``camera_up_input`` ports move it
    for this frame on (at once: Holoviz animates the move). With ``enable_camera_pose_output``
    the camera's row-major 4x4 view-projection matrix (float32, 16 values) is emitted on
    ``camera_pose_output`` each frame (``camera_pose_output_type="projection_matrix"``).

    Raises
    ------
    holoflow.errors.ConfigError
        A bad spec, colour table or camera, ``fullscreen`` with ``headless``, or a buffer port
        switch or camera pose type that is not supported.
    holoflow.errors.TensorError
        A tensor named by a spec is missing from the frame, or its shape does not suit its type.
    """

    InputSpec = _Spec  # as in Holoscan: HolovizOp.InputSpec(name, HolovizOp.InputType.TEXT)
    InputType = InputType

    tensors: list[Any]
    color_lut: list[list[float]]
    width: int
    height: int
    headless: bool
    renderer: str
    window_title: str
    vsync: bool
    window_close_condition: Any
    fullscreen: bool
    enable_render_buffer_output: bool
    camera_eye: list[float]
    camera_look_at: list[float]
    camera_up: list[float]
    enable_camera_pose_output: bool
    camera_pose_output_type: str

    def setup(self, spec: Any) -> None:
        spec.input("receivers", size=IOSpec.ANY_SIZE)
        spec.input("input_specs").condition(ConditionType.NONE)
        for port in _CAMERA_PORTS:
            spec.input(port).condition(ConditionType.NONE)
        spec.output("render_buffer_output")
        spec.output("camera_pose_output")
        for name, default in (
            ("tensors", []),
            ("color_lut", []),
            ("window_title", "Holoviz"),
            ("display_name", "DP-0"),
            ("width", 1920),
            ("height", 1080),
            ("framerate", 60.0),
            ("use_exclusive_display", False),
            ("fullscreen", False),
            ("headless", False),
            ("framebuffer_srgb", False),
            ("vsync", False),
            ("display_color_space", "auto"),
            ("enable_render_buffer_input", False),
            ("enable_render_buffer_output", False),
            ("enable_depth_buffer_input", False),
            ("enable_depth_buffer_output", False),
            ("enable_camera_pose_output", False),
            ("camera_pose_output_type", "projection_matrix"),
            ("camera_eye", [0.0, 0.0, 1.0]),
            ("camera_look_at", [0.0, 0.0, 0.0]),
            ("camera_up", [0.0, 1.0, 0.0]),
            ("allocator", None),
            ("font_path", ""),
            ("window_close_condition", None),
            ("cuda_stream_pool", None),
            ("multiprocess_framedrop_waittime_ms", 0),
            ("renderer", "auto"),
        ):
            spec.param(name, default)

    def initialize(self) -> None:
        self._specs = self._coerce(self.tensors, "tensors")
        try:
            self._lut = lut_table(self.color_lut)
        except ConfigError as exc:
            raise ConfigError(f"{self._label()}: {exc}") from exc
        if int(self.width) <= 0 or int(self.height) <= 0:
            raise ConfigError(
                f"{self._label()}: width and height must be positive, got {self.width}x{self.height}"
            )
        try:
            self._camera = Camera(self.camera_eye, self.camera_look_at, self.camera_up)
        except ConfigError as exc:
            raise ConfigError(f"{self._label()}: {exc}") from exc
        if self.enable_camera_pose_output and self.camera_pose_output_type != "projection_matrix":
            raise ConfigError(
                f"{self._label()}: camera_pose_output_type {self.camera_pose_output_type!r} is not "
                "supported; use 'projection_matrix'"
            )
        if self.fullscreen and self.headless:
            raise ConfigError(f"{self._label()}: fullscreen and headless cannot both be set")
        if self.renderer not in ("auto", "opengl", "software"):
            raise ConfigError(
                f"{self._label()}: renderer must be 'auto', 'opengl' or 'software', got {self.renderer!r}"
            )
        if not self.headless and self.renderer == "software":
            raise ConfigError(f"{self._label()}: a window needs OpenGL; use renderer='auto' or 'opengl'")
        for switch in _UNSUPPORTED_SWITCHES:
            if getattr(self, switch):
                raise ConfigError(f"{self._label()}: {switch} is not supported by holoflow's HolovizOp yet")
        self._warned: set[str] = set()
        self._gl: GLRenderer | None = None
        self._window: Window | None = None

    def start(self) -> None:
        if not self.headless:
            self._open_window()
        elif self.renderer != "software":
            try:
                self._gl = GLRenderer(int(self.width), int(self.height))
            except (ImportError, ResourceError) as exc:
                if self.renderer == "opengl":
                    raise ResourceError(f"{self._label()}: {exc}") from exc
                logger.warning("%s: rendering in software: %s", self._label(), exc)

    def _open_window(self) -> None:
        try:
            self._window = Window(
                str(self.window_title),
                int(self.width),
                int(self.height),
                bool(self.fullscreen),
                bool(self.vsync),
            )
            self._gl = GLRenderer(int(self.width), int(self.height), window=self._window)
        except (ImportError, ResourceError) as exc:
            self.stop()
            raise ResourceError(f"{self._label()}: {exc}") from exc

    def stop(self) -> None:
        if self._gl is not None:
            self._gl.close()
            self._gl = None
        if self._window is not None:
            self._window.close()
            self._window = None

    def _coerce(self, values: Any, where: str) -> list[_Spec]:
        if values is None:
            return []
        if isinstance(values, (_Spec, Mapping)):
            values = [values]
        try:
            return [_Spec.coerce(v) for v in values]
        except (HoloflowError, TypeError) as exc:
            raise ConfigError(f"{self._label()}: {where}: {exc}") from exc

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        self._move_camera(op_input)
        tensors = self._tensors(op_input.receive("receivers"))
        specs = self._specs + self._coerce(op_input.receive("input_specs"), "input_specs")
        on_cuda = any(tensor.is_cuda for tensor in tensors.values())
        stream = op_input.receive_cuda_stream("receivers") if on_cuda else 0
        layers = []
        for spec in specs:
            if spec.name not in tensors:
                raise TensorError(
                    f"{self._label()}: input spec '{spec.name}' names a tensor this frame does not have; "
                    f"tensors received: {sorted(tensors)}"
                )
            layers.append((spec, self._array(spec.name, tensors[spec.name], stream)))
        named = {spec.name for spec in specs}
        for name, array in tensors.items():
            if name in named:
                continue
            if detect_type(array, self._lut is not None) is None:
                self._warn_once(
                    name, f"ignoring tensor '{name}' {array.shape} {array.dtype}: no layer type fits"
                )
                continue
            layers.append((_Spec(name), self._array(name, array, stream)))
        try:
            if self._gl is None:
                frame = composite(layers, int(self.width), int(self.height), self._lut, self._camera)
            else:
                self._gl.draw(layers, self._lut, stream, self._camera)
                frame = None
                if self.enable_render_buffer_output:
                    frame = self._gl.read_cuda(stream) if on_cuda else self._gl.read()
        except (ConfigError, TensorError) as exc:
            raise type(exc)(f"{self._label()}: {exc}") from exc
        if self.enable_render_buffer_output:
            if on_cuda:
                if isinstance(frame, np.ndarray):
                    with _cuda.external_stream(stream):
                        frame = _cuda.cupy_module().asarray(frame)
                op_output.set_cuda_stream(stream, "render_buffer_output")
            op_output.emit({"": frame}, "render_buffer_output")
        if self.enable_camera_pose_output:
            aspect = int(self.width) / int(self.height)
            pose = self._camera.view_projection(aspect).astype(np.float32).reshape(16)
            op_output.emit(pose, "camera_pose_output")
        if self._window is not None and self._gl is not None:
            self._gl.present()
            if self._window.should_close():
                self._closed()

    def _move_camera(self, op_input: InputContext) -> None:
        """Take a new eye, look-at point or up vector arriving on the camera ports (at once)."""
        pose = {"eye": self._camera.eye, "look_at": self._camera.look_at, "up": self._camera.up}
        moved = False
        for port, field in _CAMERA_PORTS.items():
            value = op_input.receive(port)
            if value is None:
                continue
            try:
                pose[field] = np.asarray(value, np.float64).reshape(-1).tolist()
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{self._label()}: {port}: expected three numbers, got {value!r}") from exc
            moved = True
        if moved:
            try:
                self._camera = Camera(**pose)
            except ConfigError as exc:
                raise ConfigError(f"{self._label()}: camera input: {exc}") from exc

    def _closed(self) -> None:
        """The user closed the window: disable the operator, as Holoscan's close condition does."""
        condition = self.window_close_condition
        if condition is not None:
            condition.disable_tick()
        else:
            self.fragment.stop_execution(self.name)

    def _tensors(self, messages: tuple[Any, ...]) -> dict[str, Tensor]:
        """Every tensor of every message, by name (where it is: a GPU tensor is copied only if drawn)."""
        found: dict[str, Tensor] = {}
        for message in messages:
            if message is None:
                continue
            items = message.items() if isinstance(message, (dict, TensorMap)) else [("", message)]
            for name, value in items:
                if is_tensor_like(value):
                    found[name] = as_tensor(value)
        return found

    def _array(self, name: str, tensor: Tensor, stream: int) -> Any:
        """The array drawn for ``tensor``: CUDA tensors stay on the GPU for the OpenGL renderer
        (which copies what it cannot take from the GPU), and are copied for the software one."""
        if not tensor.is_cuda:
            return np.asarray(tensor)
        if self._gl is not None:
            if not self._gl.cuda_interop:
                self._warn_once(
                    "interop", "OpenGL is not on the CUDA device: CUDA tensors pass through the host"
                )
            return _cuda.device_view(tensor)  # the renderer works on `stream`, which waited for it
        self._warn_once(f"cuda:{name}", f"tensor '{name}' is copied from the GPU for the software renderer")
        return _cuda.to_host(tensor, stream)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning("%s: %s", self._label(), message)
