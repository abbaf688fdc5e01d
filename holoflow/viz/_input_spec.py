"""``InputSpec``: how one tensor is drawn — Holoviz's layer description, validated on construction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from holoflow.errors import ConfigError

__all__ = ["GEOMETRY_TYPES", "LAYER_TYPES", "InputSpec"]

GEOMETRY_TYPES = frozenset(
    {"points", "lines", "line_strip", "triangles", "crosses", "rectangles", "ovals", "text"}
)
LAYER_TYPES = frozenset({"unknown", "color", "color_lut", "depth_map", "depth_map_color"} | GEOMETRY_TYPES)


@dataclass(frozen=True)
class InputSpec:
    """One layer: the tensor ``name`` drawn as ``type``.

    Fields and defaults follow Holoscan's ``HolovizOp.InputSpec``: ``opacity`` multiplies each
    fragment's alpha, a higher ``priority`` is drawn on top, ``color`` (RGBA in 0..1) colours
    geometry and text, ``line_width`` and ``point_size`` are in pixels, ``text`` holds the strings
    of a ``text`` layer.

    Raises
    ------
    holoflow.errors.ConfigError
        If ``type`` is unknown, ``color`` is not 4 values in 0..1, or a size is not positive.
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

    def __post_init__(self) -> None:
        label = f"input spec {self.name!r}"
        if self.type not in LAYER_TYPES:
            raise ConfigError(f"{label}: unknown type {self.type!r}; expected one of {sorted(LAYER_TYPES)}")
        color = tuple(float(c) for c in self.color)
        if len(color) != 4 or not all(0.0 <= c <= 1.0 for c in color):
            raise ConfigError(f"{label}: color must be 4 values (RGBA) in 0..1, got {list(self.color)}")
        if not 0.0 <= float(self.opacity) <= 1.0:
            raise ConfigError(f"{label}: opacity must be in 0..1, got {self.opacity}")
        for key in ("line_width", "point_size"):
            if not float(getattr(self, key)) > 0:
                raise ConfigError(f"{label}: {key} must be > 0, got {getattr(self, key)}")
        object.__setattr__(self, "color", color)
        object.__setattr__(self, "text", tuple(str(t) for t in self.text))
        object.__setattr__(self, "opacity", float(self.opacity))
        object.__setattr__(self, "priority", int(self.priority))

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
