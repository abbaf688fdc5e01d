"""``HolovizOp``: draw the tensors arriving on ``receivers`` as layers, headless for now."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from holoflow.core import ConditionType, IOSpec, Operator
from holoflow.errors import ConfigError, HoloflowError, TensorError
from holoflow.logger import get_logger
from holoflow.tensor import Tensor, TensorMap, as_tensor, device_view, is_tensor_like
from holoflow.viz import Camera, InputType, Renderer, detect_type, lut_table, open_renderer
from holoflow.viz import InputSpec as _Spec

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, InputContext, OutputContext

__all__ = ["HolovizOp"]

logger = get_logger(__name__)

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

    ``renderer`` (holoflow's addition, :func:`holoflow.viz.open_renderer`'s mode): ``"opengl"``
    draws offscreen with OpenGL 3.3 through EGL, ``"software"`` with the numpy compositor, and
    ``"auto"`` (default) uses OpenGL when a context can be made, else software with one warning.
    Both draw the same pixels up to rounding. With ``headless=False`` (the default) the frame is
    shown in a window (``window_title``, ``fullscreen``, ``vsync``) drawn by OpenGL; closing it
    disables the operator (``window_close_condition``, else the operator is stopped).

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
    holoflow.errors.ResourceError
        At start, when OpenGL is required (``renderer="opengl"`` or a window) and cannot be had.
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
        self._renderer: Renderer | None = None

    def start(self) -> None:
        self._renderer = open_renderer(
            str(self.renderer),
            int(self.width),
            int(self.height),
            window=None if self.headless else str(self.window_title),
            fullscreen=bool(self.fullscreen),
            vsync=bool(self.vsync),
            label=self._label(),
        )

    def stop(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

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
        moves = {port: op_input.receive(port) for port in _CAMERA_PORTS}
        extra = op_input.receive("input_specs")
        tensors = _tensors(op_input.receive("receivers"))
        on_cuda = any(tensor.is_cuda for tensor in tensors.values())
        stream = op_input.receive_cuda_stream("receivers") if on_cuda else 0
        # Every input is in: render the frame.
        self._move_camera(moves)
        layers = self._layers(tensors, self._specs + self._coerce(extra, "input_specs"))
        renderer = self._renderer
        assert renderer is not None  # start made it
        renderer.draw(layers, self._lut, self._camera, stream)
        if self.enable_render_buffer_output:
            frame = renderer.read_cuda(stream) if on_cuda else renderer.read()
            op_output.emit({"": frame}, "render_buffer_output")
        if self.enable_camera_pose_output:
            aspect = int(self.width) / int(self.height)
            pose = self._camera.view_projection(aspect).astype(np.float32).reshape(16)
            op_output.emit(pose, "camera_pose_output")
        renderer.present()
        if renderer.should_close():
            self._closed()

    def _layers(self, tensors: dict[str, Tensor], specs: list[_Spec]) -> list[tuple[_Spec, Any]]:
        """``(spec, array)`` for each spec, then for each tensor no spec names whose layer type
        can be detected (the others are logged once); arrays stay on their device.

        Raises
        ------
        holoflow.errors.TensorError
            If a spec names a tensor the frame does not have.
        """
        layers = []
        for spec in specs:
            if spec.name not in tensors:
                raise TensorError(
                    f"{self._label()}: input spec '{spec.name}' names a tensor this frame does not have; "
                    f"tensors received: {sorted(tensors)}"
                )
            layers.append((spec, _array(tensors[spec.name])))
        named = {spec.name for spec in specs}
        for name, tensor in tensors.items():
            if name in named:
                continue
            if detect_type(tensor, self._lut is not None) is None:
                self._warn_once(
                    name, f"ignoring tensor '{name}' {tensor.shape} {tensor.dtype}: no layer type fits"
                )
                continue
            layers.append((_Spec(name), _array(tensor)))
        return layers

    def _move_camera(self, moves: dict[str, Any]) -> None:
        """Take a new eye, look-at point or up vector that arrived on the camera ports (at once).

        Raises
        ------
        holoflow.errors.ConfigError
            If a value is not three numbers, or the moved camera is not valid.
        """
        pose = {"eye": self._camera.eye, "look_at": self._camera.look_at, "up": self._camera.up}
        moved = False
        for port, value in moves.items():
            if value is None:
                continue
            try:
                pose[_CAMERA_PORTS[port]] = np.asarray(value, np.float64).reshape(-1).tolist()
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

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            logger.warning("%s: %s", self._label(), message)


def _tensors(messages: tuple[Any, ...]) -> dict[str, Tensor]:
    """Every tensor of every message, by name, where it is (host or GPU)."""
    found: dict[str, Tensor] = {}
    for message in messages:
        if message is None:
            continue
        items = message.items() if isinstance(message, (dict, TensorMap)) else [("", message)]
        for name, value in items:
            if is_tensor_like(value):
                found[name] = as_tensor(value)
    return found


def _array(tensor: Tensor) -> Any:
    """The array drawn for ``tensor``: a numpy view, or for a CUDA tensor a CuPy view that does
    not wait on the host (the renderer works on the operator's stream, which waited for it)."""
    return device_view(tensor) if tensor.is_cuda else np.asarray(tensor)
