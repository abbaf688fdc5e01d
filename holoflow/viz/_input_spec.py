"""``InputSpec``: how one tensor is drawn — Holoviz's layer description, checked on every change."""

from __future__ import annotations

import builtins
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from holoflow.errors import ConfigError

__all__ = ["InputSpec", "InputType", "View"]


class InputType(str, enum.Enum):
    """Holoviz's layer types (``HolovizOp.InputType``); each member equals its string name."""

    UNKNOWN = "unknown"
    COLOR = "color"
    COLOR_LUT = "color_lut"
    POINTS = "points"
    LINES = "lines"
    LINE_STRIP = "line_strip"
    TRIANGLES = "triangles"
    CROSSES = "crosses"
    RECTANGLES = "rectangles"
    OVALS = "ovals"
    TEXT = "text"
    DEPTH_MAP = "depth_map"
    DEPTH_MAP_COLOR = "depth_map_color"
    POINTS_3D = "points_3d"
    LINES_3D = "lines_3d"
    LINE_STRIP_3D = "line_strip_3d"
    TRIANGLES_3D = "triangles_3d"


_TYPES = {t.value for t in InputType}


_VIEW_LIMIT = 16  # frames; bounds the memory a view of a hostile spec can ask for


@dataclass(frozen=True)
class View:
    """A part of the frame a layer is drawn into: offset and size normalized to the frame.

    Holoscan's ``HolovizOp.InputSpec.View``. ``matrix`` (a row-major 4x4) is for 3D layers.

    Raises
    ------
    holoflow.errors.ConfigError
        If the size is not in (0, 16], an offset is beyond 16 frames (NaN included), or
        ``matrix`` is not 16 numbers.
    """

    offset_x: float = 0.0
    offset_y: float = 0.0
    width: float = 1.0
    height: float = 1.0
    matrix: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        if not (0 < self.width <= _VIEW_LIMIT and 0 < self.height <= _VIEW_LIMIT):
            raise ConfigError(
                f"view size must be positive and at most {_VIEW_LIMIT} frames, got {self.width}x{self.height}"
            )
        if not (abs(self.offset_x) <= _VIEW_LIMIT and abs(self.offset_y) <= _VIEW_LIMIT):
            raise ConfigError(
                f"view offset must be within {_VIEW_LIMIT} frames, got ({self.offset_x}, {self.offset_y})"
            )
        if self.matrix is not None and len(tuple(self.matrix)) != 16:
            raise ConfigError(
                f"view matrix must be 16 numbers (row-major 4x4), got {len(tuple(self.matrix))}"
            )

    @classmethod
    def coerce(cls, value: View | Mapping[str, Any]) -> View:
        """``value`` itself, or a View from a dict of its fields."""
        if isinstance(value, View):
            return value
        unknown = sorted(set(value) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(
                f"view: unknown key(s) {unknown}; expected some of {sorted(cls.__dataclass_fields__)}"
            )
        return cls(**value)


@dataclass
class InputSpec:
    """One layer: the tensor ``name`` drawn as ``type`` (an :class:`InputType` or its name).

    Fields and defaults follow Holoscan's ``HolovizOp.InputSpec``: ``opacity`` multiplies each
    fragment's alpha, a higher ``priority`` is drawn on top, ``color`` (RGBA in 0..1) colours
    geometry and text, ``line_width`` and ``point_size`` are in pixels, ``text`` holds the strings
    of a ``text`` layer, ``views`` the parts of the frame the layer is drawn into (none: the whole
    frame), ``depth_map_render_mode`` how a depth map is drawn (points, lines or triangles). The
    YUV fields are accepted for Holoscan compatibility. As in Holoscan, fields can be set after
    construction (``spec.text = ["frame 3"]``); every value is checked when it is set.

    Raises
    ------
    holoflow.errors.ConfigError
        If ``type`` is unknown, ``color`` is not 4 values in 0..1, ``opacity`` is outside 0..1,
        or a size is not positive.
    """

    name: str
    type: str = "unknown"
    opacity: float = 1.0
    priority: int = 0
    color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    line_width: float = 1.0
    point_size: float = 1.0
    text: tuple[str, ...] = field(default_factory=tuple)
    image_format: str = "auto_detect"
    views: tuple[View, ...] = field(default_factory=tuple)
    yuv_model_conversion: str = "yuv_601"
    yuv_range: str = "itu_full"
    x_chroma_location: str = "cosited_even"
    y_chroma_location: str = "cosited_even"
    depth_map_render_mode: str = "points"
    View: ClassVar[builtins.type[View]]  # Holoscan's HolovizOp.InputSpec.View

    def __setattr__(self, key: str, value: Any) -> None:
        check = _CHECKS.get(key)
        super().__setattr__(key, check(self, value) if check else value)

    def _label(self) -> str:
        return f"input spec {self.__dict__.get('name')!r}"

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> InputSpec:
        """Build from a Holoscan-style dict (``{"name": ..., "type": ...}``).

        Raises
        ------
        holoflow.errors.ConfigError
            If ``name`` or ``type`` is missing, or a key is not an InputSpec field.
        """
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(values) - known)
        label = f"input spec {values.get('name')!r}"
        if unknown:
            raise ConfigError(f"{label}: unknown key(s) {unknown}; expected some of {sorted(known)}")
        for key in ("name", "type"):
            if key not in values:
                raise ConfigError(f"{label}: the {key!r} key is required")
        return cls(**values)

    @classmethod
    def coerce(cls, value: InputSpec | Mapping[str, Any]) -> InputSpec:
        """``value`` itself, or an InputSpec built from a dict."""
        return value if isinstance(value, InputSpec) else cls.from_dict(value)


InputSpec.View = View


def _number(spec: InputSpec, key: str, value: Any, kind: Any = float) -> Any:
    try:
        return kind(value)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{spec._label()}: {key} must be a number, got {value!r}") from None


def _name(spec: InputSpec, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"input spec name must be a string, got {value!r}")
    return value


def _type(spec: InputSpec, value: Any) -> str:
    name = value.value if isinstance(value, InputType) else str(value).lower()
    if name not in _TYPES:
        raise ConfigError(f"{spec._label()}: unknown type {value!r}; expected one of {sorted(_TYPES)}")
    return name


def _color(spec: InputSpec, value: Any) -> tuple[float, ...]:
    try:
        color = tuple(float(c) for c in value)
    except (TypeError, ValueError):
        color = ()
    if len(color) != 4 or not all(0.0 <= c <= 1.0 for c in color):
        raise ConfigError(f"{spec._label()}: color must be 4 values (RGBA) in 0..1, got {value!r}")
    return color


def _opacity(spec: InputSpec, value: Any) -> float:
    opacity = _number(spec, "opacity", value)
    if not 0.0 <= opacity <= 1.0:
        raise ConfigError(f"{spec._label()}: opacity must be in 0..1, got {value}")
    return float(opacity)


def _positive(key: str) -> Any:
    def check(spec: InputSpec, value: Any) -> float:
        number = _number(spec, key, value)
        if not number > 0:
            raise ConfigError(f"{spec._label()}: {key} must be > 0, got {value}")
        return float(number)

    return check


def _text(spec: InputSpec, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise ConfigError(f"{spec._label()}: text must be a list of strings, got {value!r}")
    return tuple(str(t) for t in value)


def _views(spec: InputSpec, value: Any) -> tuple[View, ...]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (View, Mapping)) for v in value):
        raise ConfigError(f"{spec._label()}: views must be a list of View or dicts, got {value!r}")
    try:
        return tuple(View.coerce(v) for v in value)
    except ConfigError as exc:
        raise ConfigError(f"{spec._label()}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{spec._label()}: bad view: {exc}") from exc


def _render_mode(spec: InputSpec, value: Any) -> str:
    mode = value.value if isinstance(value, enum.Enum) else str(value).lower()
    if mode not in ("points", "lines", "triangles"):
        raise ConfigError(
            f"{spec._label()}: depth_map_render_mode must be points, lines or triangles, got {value!r}"
        )
    return mode


_CHECKS = {
    "name": _name,
    "type": _type,
    "opacity": _opacity,
    "priority": lambda spec, value: _number(spec, "priority", value, int),
    "color": _color,
    "line_width": _positive("line_width"),
    "point_size": _positive("point_size"),
    "text": _text,
    "views": _views,
    "depth_map_render_mode": _render_mode,
}
