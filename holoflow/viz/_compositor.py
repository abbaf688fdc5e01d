"""The software compositor: Holoviz's layer model drawn with numpy.

It is the reference the OpenGL renderer is tested against and the renderer of last resort. A frame
starts opaque black; layers are drawn in ascending ``priority`` (list order among equals), each
blended "over" what is below with its alpha multiplied by the layer's ``opacity``.

Conventions (pixel ``(i, j)`` covers ``[j, j + 1) x [i, i + 1)``, its centre at ``+ 0.5``):

- ``color``: an image stretched to the frame, sampled at pixel centres with bilinear filtering and
  clamp-to-edge (as a GL texture); uint8/uint16 are normalized, float32 is taken as is; one
  channel is grey, three are opaque RGB, four are RGBA.
- ``color_lut``: one channel of integer indices (clamped to the table) or float32 coordinates in
  0..1 (index ``floor(v * N)``), stretched with nearest filtering; the table's RGBA is the colour.
- geometry: ``(N, C)`` coordinates normalized to the frame, origin top-left; what falls outside is
  clipped. A pixel is covered when its centre lies within ``line_width / 2`` of a segment
  (lines, line strips, outlines of rectangles, crosses and ovals), inside a triangle, or within
  ``point_size / 2`` of a point on both axes.
- ``views``: a layer with views is drawn once into each, as into a frame of the view's size
  (offset and size rounded to whole pixels), and clipped to the frame.
- ``text``: row ``i`` (``x, y[, size]``: top-left corner and text height, default 0.05 of the
  frame height) draws ``spec.text[min(i, len - 1)]`` in holoflow's stroke font
  (:mod:`holoflow.viz._font`), strokes a twelfth of the height thick.
- 3D layers (``points_3d``, ``lines_3d``, ``line_strip_3d``, ``triangles_3d``: ``(N, 3)``
  world coordinates; ``depth_map``: an ``HxW[x1]`` uint8 (depth ``v / 255``) or float32 grid
  whose point ``(row, col)`` is at ``(col / W - 0.5, row / H - 0.5, depth)``) are projected by
  the :class:`~holoflow.viz._camera.Camera` (or the view's ``matrix``) and drawn as their 2D
  counterparts; a primitive with a vertex outside the near..far range is not drawn. A depth map
  is drawn as points, lines between grid neighbours or two triangles per grid cell
  (``depth_map_render_mode``), in the layer's colour, or, when the frame has a
  ``depth_map_color`` layer (``HxWx4`` uint8 on the same grid), each primitive in the colour of
  its first grid point, farthest first, each blended over what is below.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holoflow.errors import ConfigError, TensorError
from holoflow.viz._camera import Camera
from holoflow.viz._font import text_segments
from holoflow.viz._input_spec import InputSpec

__all__ = ["composite", "detect_type"]

_DEFAULT_SIZE = 0.05  # crosses, ovals: extent as a fraction of the frame width
_OVAL_SEGMENTS = 64


def detect_type(array: Any, has_lut: bool) -> str | None:
    """The layer type Holoviz picks for a tensor with no InputSpec, or None (not drawable)."""
    shape, dtype = np.shape(array), np.dtype(array.dtype)
    if 0 in shape:
        return None
    channels = shape[-1] if len(shape) == 3 else 1 if len(shape) == 2 else 0
    if channels == 1 and has_lut:
        return "color_lut"
    if len(shape) == 2 and shape[-1] == 2 and dtype == np.float32:
        return "crosses"
    if len(shape) == 3 and _image_format_ok(dtype, channels):
        return "color"
    return None


def _image_format_ok(dtype: np.dtype, channels: int) -> bool:
    if dtype == np.uint8:
        return channels in (1, 3, 4)
    if dtype in (np.uint16, np.float32):
        return channels in (1, 4)
    return False


def composite(
    layers: Sequence[tuple[InputSpec, Any]],
    width: int,
    height: int,
    color_lut: Sequence[Sequence[float]] | np.ndarray | None = None,
    camera: Camera | None = None,
) -> np.ndarray:
    """Draw ``layers`` (spec, host array) into a ``(height, width, 4)`` uint8 RGBA frame, the 3D
    layers seen by ``camera`` (the default :class:`~holoflow.viz._camera.Camera` when None).

    Raises
    ------
    holoflow.errors.TensorError
        If a tensor's shape or dtype does not suit its layer type (naming the spec).
    holoflow.errors.ConfigError
        If a ``color_lut`` layer has no table.
    """
    if width <= 0 or height <= 0:
        raise ConfigError(f"frame size must be positive, got {width}x{height}")
    lut = lut_table(color_lut)
    colors = depth_map_colors(layers)
    scene = Scene(camera or Camera(), None if colors is None else np.asarray(colors))
    frame = np.zeros((height, width, 4), np.float32)
    frame[..., 3] = 1.0
    for spec, array, kind in drawing_order(layers, lut is not None):
        for view, (left, top, w, h) in enumerate(view_rectangles(spec, width, height)):
            # The layer is drawn at the view's size, then the part inside the frame is blended.
            rows = slice(max(top, 0), min(top + h, height))
            cols = slice(max(left, 0), min(left + w, width))
            if rows.start >= rows.stop or cols.start >= cols.stop:
                continue
            inside = (slice(rows.start - top, rows.stop - top), slice(cols.start - left, cols.stop - left))
            below = frame[rows, cols]
            if kind in ("color", "color_lut"):
                if kind == "color":
                    rgba = _image(spec, np.asarray(array), w, h)
                else:
                    rgba = _lut_image(spec, np.asarray(array), w, h, lut)
                below[...] = _blend(rgba[inside], below, spec.opacity)
            else:
                with np.errstate(invalid="ignore", over="ignore"):  # non-finite shapes are skipped
                    shapes = _shapes(spec, kind, np.asarray(array), w, h, scene.at(spec, view))
                if shapes.colors is None:
                    mask = _geometry(shapes, w, h)[inside]
                    below[mask] = _blend(np.asarray(spec.color, np.float32), below[mask], spec.opacity)
                else:
                    _blend_each(frame, shapes, left, top, w, h, spec.opacity)
    result: np.ndarray = np.rint(np.clip(frame, 0.0, 1.0) * np.float32(255)).astype(np.uint8)
    return result


def lut_table(color_lut: Sequence[Sequence[float]] | np.ndarray | None) -> np.ndarray | None:
    """The colour table as ``(N, 4)`` float32, or None when there is none.

    Raises
    ------
    holoflow.errors.ConfigError
        If an entry is not four numbers.
    """
    if color_lut is None or len(color_lut) == 0:
        return None
    try:
        lut = np.asarray(color_lut, np.float32)
    except (TypeError, ValueError):
        lut = np.zeros(0, np.float32)
    if lut.ndim != 2 or lut.shape[1] != 4:
        raise ConfigError(f"color_lut entries must have 4 components (r, g, b, a): {color_lut!r}")
    return lut


def drawing_order(
    layers: Sequence[tuple[InputSpec, Any]], has_lut: bool
) -> Iterator[tuple[InputSpec, Any, str]]:
    """``(spec, array, type)`` of each drawable layer, lowest priority first, list order among
    equals (``depth_map_color`` layers colour the depth map and are not drawn themselves)."""
    for spec, array in sorted(layers, key=lambda layer: layer[0].priority):
        kind = spec.type if spec.type != "unknown" else detect_type(array, has_lut)
        if kind is not None and kind != "depth_map_color":
            yield spec, array, kind


def depth_map_colors(layers: Sequence[tuple[InputSpec, Any]]) -> Any:
    """The frame's ``depth_map_color`` tensor (the first) as given, or None."""
    return next((array for spec, array in layers if spec.type == "depth_map_color"), None)


@dataclass(frozen=True)
class Scene:
    """What the 3D layers need besides their own tensor: the camera, the depth map's colours,
    and the view's own matrix (see :meth:`at`)."""

    camera: Camera
    colors: np.ndarray | None = None
    matrix: tuple[float, ...] | None = None

    def at(self, spec: InputSpec, view: int) -> Scene:
        """The scene of view number ``view`` of ``spec`` (its matrix replaces the camera's)."""
        matrix = spec.views[view].matrix if spec.views else None
        return self if matrix is None else Scene(self.camera, self.colors, tuple(matrix))


def view_rectangles(spec: InputSpec, width: int, height: int) -> list[tuple[int, int, int, int]]:
    """``(left, top, width, height)`` in pixels of each view of ``spec`` (the frame when none)."""
    if not spec.views:
        return [(0, 0, width, height)]
    return [
        (
            round(view.offset_x * width),
            round(view.offset_y * height),
            max(1, round(view.width * width)),
            max(1, round(view.height * height)),
        )
        for view in spec.views
    ]


def _blend(rgba: np.ndarray, below: np.ndarray, opacity: float) -> np.ndarray:
    """``rgba`` over ``below`` (both ``(..., 4)`` in 0..1), the source alpha scaled by ``opacity``."""
    alpha = rgba[..., 3:] * np.float32(opacity)
    out: np.ndarray = np.empty(np.broadcast_shapes(rgba.shape, below.shape), np.float32)
    out[..., :3] = rgba[..., :3] * alpha + below[..., :3] * (1.0 - alpha)
    out[..., 3:] = alpha + below[..., 3:] * (1.0 - alpha)
    return out


# -- images ---------------------------------------------------------------------------------------


# Explicit ``image_format`` values drawn: (dtype, channels, source channel of each of R, G, B[, A]).
_IMAGE_FORMATS: dict[str, tuple[Any, int, tuple[int, ...]]] = {
    "r8_unorm": (np.uint8, 1, (0,)),
    "r8g8b8_unorm": (np.uint8, 3, (0, 1, 2)),
    "b8g8r8_unorm": (np.uint8, 3, (2, 1, 0)),
    "r8g8b8a8_unorm": (np.uint8, 4, (0, 1, 2, 3)),
    "b8g8r8a8_unorm": (np.uint8, 4, (2, 1, 0, 3)),
    "r16_unorm": (np.uint16, 1, (0,)),
    "r16g16b16a16_unorm": (np.uint16, 4, (0, 1, 2, 3)),
    "r32_sfloat": (np.float32, 1, (0,)),
    "r32g32b32a32_sfloat": (np.float32, 4, (0, 1, 2, 3)),
}


def _image_array(spec: InputSpec, array: np.ndarray) -> np.ndarray:
    """A ``color`` tensor as ``(H, W, C)`` in R, G, B[, A] order, checked against its format.

    Raises
    ------
    holoflow.errors.ConfigError
        If ``spec.image_format`` is one holoflow does not draw (YUV, sRGB, packed formats).
    holoflow.errors.TensorError
        If the tensor's dtype or channel count does not fit the format.
    """
    if array.ndim == 2:
        array = array[..., None]
    label = f"input spec {spec.name!r} (color)"
    if array.size == 0:
        raise TensorError(f"{label}: the image is empty, {array.shape}")
    if spec.image_format != "auto_detect":
        layout = _IMAGE_FORMATS.get(spec.image_format)
        if layout is None:
            raise ConfigError(
                f"{label}: image_format {spec.image_format!r} is not drawn by holoflow; "
                f"supported: auto_detect, {', '.join(sorted(_IMAGE_FORMATS))}"
            )
        dtype, channels, order = layout
        if array.ndim != 3 or array.dtype != dtype or array.shape[2] != channels:
            raise TensorError(
                f"{label}: image_format {spec.image_format!r} needs HxWx{channels} {np.dtype(dtype)}, "
                f"got {array.shape} {array.dtype}"
            )
        return array if order == tuple(range(channels)) else array[..., list(order)]
    if array.ndim != 3 or not _image_format_ok(array.dtype, array.shape[2]):
        raise TensorError(
            f"{label}: expected HxWxC uint8 (C = 1, 3, 4) or uint16/float32 (C = 1, 4), "
            f"got {array.shape} {array.dtype}"
        )
    return array


def _image(spec: InputSpec, array: np.ndarray, width: int, height: int) -> np.ndarray:
    array = _image_array(spec, array)
    if array.dtype == np.uint8:
        values = array / np.float32(255)
    elif array.dtype == np.uint16:
        values = array / np.float32(65535)
    else:
        values = array.astype(np.float32)
    values = _bilinear(values, width, height)
    rgba = np.ones((height, width, 4), np.float32)
    channels = values.shape[2]
    rgba[..., : min(channels, 3)] = values[..., :3]
    if channels == 1:
        rgba[..., 1:3] = values
    elif channels == 4:
        rgba[..., 3] = values[..., 3]
    return rgba


def _bilinear(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """``values`` resampled to ``height`` x ``width``, rows then columns (the filter is separable)."""
    h, w = values.shape[:2]
    if h != height:
        top, bottom, weight = _taps(h, height)
        weight = weight[:, None, None]
        values = values[top] * (1 - weight) + values[bottom] * weight
    if w != width:
        left, right, weight = _taps(w, width)
        weight = weight[None, :, None]
        values = values[:, left] * (1 - weight) + values[:, right] * weight
    return values


def _taps(source: int, target: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Left/right source indices and the right tap's weight for each target pixel centre."""
    position = (np.arange(target) + 0.5) * (source / target) - 0.5
    position = np.clip(position, 0.0, source - 1)
    left = np.floor(position).astype(np.intp)
    right = np.minimum(left + 1, source - 1)
    return left, right, (position - left).astype(np.float32)


def _lut_image(
    spec: InputSpec, array: np.ndarray, width: int, height: int, lut: np.ndarray | None
) -> np.ndarray:
    index = _lut_indices(spec, array, lut)
    h, w = index.shape
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.intp), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.intp), w - 1)
    assert lut is not None
    result: np.ndarray = lut[index[rows][:, cols]]
    return result


def _lut_indices(spec: InputSpec, array: np.ndarray, lut: np.ndarray | None) -> np.ndarray:
    """Table indices ``(H, W)`` of a ``color_lut`` tensor, clamped to the table."""
    if lut is None:
        raise ConfigError(f"input spec {spec.name!r} (color_lut): the operator has no color_lut")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if (
        array.ndim != 2
        or array.size == 0
        or not (np.issubdtype(array.dtype, np.integer) or array.dtype == np.float32)
    ):
        raise TensorError(
            f"input spec {spec.name!r} (color_lut): expected non-empty HxW or HxWx1 integer or float32 "
            f"indices, got {array.shape} {array.dtype}"
        )
    entries = len(lut)
    if array.dtype == np.float32:
        index = np.floor(np.nan_to_num(array.astype(np.float64)) * entries)
    else:
        index = array
    result: np.ndarray = np.clip(index, 0, entries - 1).astype(np.intp)
    return result


# -- geometry -------------------------------------------------------------------------------------

_DRAWN_GEOMETRY = frozenset(
    {"points", "lines", "line_strip", "triangles", "crosses", "rectangles", "ovals", "text"}
)
_GROUP = {"lines": 2, "triangles": 3, "rectangles": 2}
_3D = {"points_3d": "points", "lines_3d": "lines", "line_strip_3d": "line_strip", "triangles_3d": "triangles"}
_MODES = {"points": "points", "lines": "lines", "triangles": "triangles"}


@dataclass
class Shapes:
    """A geometry layer in pixels: segments ``((start, end), half_width)``, point boxes
    ``(centre, half_side)`` and filled triangles ``(a, b, c)``; ``colors`` (``(N, 4)`` float32,
    one per shape, shapes of one kind in drawing order) when each shape has its own colour."""

    segments: list[tuple[tuple[np.ndarray, np.ndarray], float]] = field(default_factory=list)
    boxes: list[tuple[np.ndarray, float]] = field(default_factory=list)
    triangles: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    colors: np.ndarray | None = None


_Window = tuple[slice, slice]


def _covers(shapes: Shapes, width: int, height: int) -> Iterator[tuple[_Window, np.ndarray] | None]:
    """Each shape's window of the view and the pixels it covers there (None: none), in order."""
    for (start, end), half in shapes.segments:
        yield _segment(start, end, half, width, height)
    for centre, half in shapes.boxes:
        yield _box(centre[0], centre[1], half, width, height)
    for a, b, c in shapes.triangles:
        yield _triangle(a, b, c, width, height)


def _geometry(shapes: Shapes, width: int, height: int) -> np.ndarray:
    """The pixels a layer's shapes cover, ``(height, width)`` bool."""
    mask = np.zeros((height, width), bool)
    for cover in _covers(shapes, width, height):
        if cover is not None:
            mask[cover[0]] |= cover[1]
    return mask


def _blend_each(
    frame: np.ndarray, shapes: Shapes, left: int, top: int, width: int, height: int, opacity: float
) -> None:
    """Blend each shape of a view at ``(left, top)`` over ``frame`` in its own colour, in order."""
    assert shapes.colors is not None
    frame_height, frame_width = frame.shape[:2]
    for cover, color in zip(_covers(shapes, width, height), shapes.colors, strict=True):
        if cover is None:
            continue
        (rows, cols), mask = cover
        r0, r1 = max(rows.start + top, 0), min(rows.stop + top, frame_height)
        c0, c1 = max(cols.start + left, 0), min(cols.stop + left, frame_width)
        if r0 >= r1 or c0 >= c1:
            continue
        covered = mask[
            r0 - rows.start - top : r1 - rows.start - top, c0 - cols.start - left : c1 - cols.start - left
        ]
        region = frame[r0:r1, c0:c1]
        region[covered] = _blend(color, region[covered], opacity)


def _shapes(
    spec: InputSpec, kind: str, array: np.ndarray, width: int, height: int, scene: Scene | None = None
) -> Shapes:
    """A geometry layer's coordinates checked and turned into pixel-space shapes."""
    if kind in _3D or kind == "depth_map":
        return _shapes_3d(spec, kind, array, width, height, scene or Scene(Camera()))
    if kind not in _DRAWN_GEOMETRY:
        raise ConfigError(f"input spec {spec.name!r}: holoflow does not draw {kind!r} layers")
    if array.ndim < 2 or array.shape[-1] < 2 or not np.issubdtype(array.dtype, np.floating):
        raise TensorError(
            f"input spec {spec.name!r} ({kind}): expected (N, C >= 2) float32/float64 coordinates, "
            f"got {array.shape} {array.dtype}"
        )
    coords = array.reshape(-1, array.shape[-1]).astype(np.float64)
    group = _GROUP.get(kind, 1)
    if len(coords) % group:
        raise TensorError(
            f"input spec {spec.name!r} ({kind}): {len(coords)} points is not a multiple of {group}"
        )
    scale = np.array([width, height], np.float64)
    points = coords[:, :2] * scale
    shapes = Shapes()
    half = spec.line_width / 2.0

    def segment(start: np.ndarray, end: np.ndarray, half: float = half) -> None:
        shapes.segments.append(((start, end), half))

    if kind == "points":
        for x, y in points:
            shapes.boxes.append((np.array([x, y]), spec.point_size / 2.0))
    elif kind == "lines":
        for start, end in zip(points[0::2], points[1::2], strict=True):
            segment(start, end)
    elif kind == "line_strip":
        for start, end in itertools.pairwise(points):
            segment(start, end)
    elif kind == "rectangles":
        for (x0, y0), (x1, y1) in zip(points[0::2], points[1::2], strict=True):
            corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
            for start, end in itertools.pairwise(corners):
                segment(start, end)
    elif kind == "crosses":
        for (x, y), size in zip(points, _sizes(coords, 2), strict=True):
            reach = size * width / 2.0  # both arms span the same pixels: the cross is square
            segment(np.array([x - reach, y]), np.array([x + reach, y]))
            segment(np.array([x, y - reach]), np.array([x, y + reach]))
    elif kind == "ovals":
        sx, sy = _sizes(coords, 2), _sizes(coords, 3, _sizes(coords, 2))
        angles = np.linspace(0.0, 2.0 * np.pi, _OVAL_SEGMENTS + 1)
        for (x, y), rx, ry in zip(points, sx * width / 2.0, sy * height / 2.0, strict=True):
            outline = np.stack([x + rx * np.cos(angles), y + ry * np.sin(angles)], axis=1)
            for start, end in itertools.pairwise(outline):
                segment(start, end)
    elif kind == "text" and spec.text:
        for i, ((x, y), size) in enumerate(zip(points, _sizes(coords, 2), strict=True)):
            pixels = size * height
            stroke = max(0.5, pixels / 24.0)  # strokes a twelfth of the text height thick
            for start, end in text_segments(spec.text[min(i, len(spec.text) - 1)], x, y, pixels):
                segment(start, end, stroke)
    elif kind == "triangles":
        for a, b, c in zip(points[0::3], points[1::3], points[2::3], strict=True):
            shapes.triangles.append((a, b, c))
    return shapes


def _sizes(coords: np.ndarray, column: int, default: np.ndarray | None = None) -> np.ndarray:
    if coords.shape[1] > column:
        return coords[:, column]
    return default if default is not None else np.full(len(coords), _DEFAULT_SIZE)


def _window(width: int, height: int, low: np.ndarray, high: np.ndarray) -> _Window | None:
    """The rows and columns whose centres may lie in ``[low, high]`` (x, y), clipped to the view."""
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        return None
    c0 = max(int(np.floor(low[0] - 0.5)), 0)
    c1 = min(int(np.ceil(high[0] + 0.5)), width)
    r0 = max(int(np.floor(low[1] - 0.5)), 0)
    r1 = min(int(np.ceil(high[1] + 0.5)), height)
    if c0 >= c1 or r0 >= r1:
        return None
    return slice(r0, r1), slice(c0, c1)


def _centres(rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(rows.start, rows.stop, dtype=np.float64)[:, None] + 0.5
    x = np.arange(cols.start, cols.stop, dtype=np.float64)[None, :] + 0.5
    return x, y


def _box(x: float, y: float, half: float, width: int, height: int) -> tuple[_Window, np.ndarray] | None:
    centre = np.array([x, y])
    window = _window(width, height, centre - half, centre + half)
    if window is None:
        return None
    cx, cy = _centres(*window)
    return window, (np.abs(cx - x) <= half) & (np.abs(cy - y) <= half)


def _segment(
    start: np.ndarray, end: np.ndarray, half: float, width: int, height: int
) -> tuple[_Window, np.ndarray] | None:
    window = _window(width, height, np.minimum(start, end) - half, np.maximum(start, end) + half)
    if window is None:
        return None
    cx, cy = _centres(*window)
    direction = end - start
    length2 = float(direction @ direction)
    if length2 == 0.0:
        t = np.zeros_like(cx + cy)
    else:
        t = np.clip(((cx - start[0]) * direction[0] + (cy - start[1]) * direction[1]) / length2, 0.0, 1.0)
    dx = cx - (start[0] + t * direction[0])
    dy = cy - (start[1] + t * direction[1])
    return window, dx * dx + dy * dy <= half * half


def _triangle(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, width: int, height: int
) -> tuple[_Window, np.ndarray] | None:
    corners = np.stack([a, b, c])
    window = _window(width, height, corners.min(axis=0), corners.max(axis=0))
    if window is None:
        return None
    cx, cy = _centres(*window)

    def edge(p: np.ndarray, q: np.ndarray) -> np.ndarray:
        result: np.ndarray = (q[0] - p[0]) * (cy - p[1]) - (q[1] - p[1]) * (cx - p[0])
        return result

    e0, e1, e2 = edge(a, b), edge(b, c), edge(c, a)
    return window, ((e0 >= 0) & (e1 >= 0) & (e2 >= 0)) | ((e0 <= 0) & (e1 <= 0) & (e2 <= 0))


# -- 3D -------------------------------------------------------------------------------------------


def _shapes_3d(
    spec: InputSpec, kind: str, array: np.ndarray, width: int, height: int, scene: Scene
) -> Shapes:
    """A 3D layer projected into the view: its primitives as 2D shapes (see the module notes)."""
    colors = None
    if kind == "depth_map":
        vertices, primitives, base = _depth_map(spec, array)
        colors = _grid_colors(spec, scene.colors, array.shape[:2])
    else:
        base = _3D[kind]
        if array.ndim < 2 or array.shape[-1] < 3 or not np.issubdtype(array.dtype, np.floating):
            raise TensorError(
                f"input spec {spec.name!r} ({kind}): expected (N, C >= 3) float32/float64 coordinates, "
                f"got {array.shape} {array.dtype}"
            )
        vertices = array.reshape(-1, array.shape[-1])[:, :3].astype(np.float64)
        group = _GROUP.get(base, 1)
        if len(vertices) % group:
            raise TensorError(
                f"input spec {spec.name!r} ({kind}): {len(vertices)} points is not a multiple of {group}"
            )
        index = np.arange(len(vertices))
        if base == "line_strip":
            primitives = np.stack([index[:-1], index[1:]], axis=1)
        else:
            primitives = index.reshape(-1, group)
    pixels, depth, visible = scene.camera.project(vertices, width, height, scene.matrix)
    primitives = primitives[visible[primitives].all(axis=1)]
    if colors is not None:
        farthest_first = np.argsort(-depth[primitives].mean(axis=1), kind="stable")
        primitives = primitives[farthest_first]
        colors = colors[primitives[:, 0]]
    shapes = Shapes(colors=colors)
    corners = pixels[primitives]
    if base == "points":
        shapes.boxes = [(p[0], spec.point_size / 2.0) for p in corners]
    elif base == "triangles":
        shapes.triangles = [(p[0], p[1], p[2]) for p in corners]
    else:
        shapes.segments = [((p[0], p[1]), spec.line_width / 2.0) for p in corners]
    return shapes


def _depth_map(spec: InputSpec, array: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
    """A depth map's grid points ``(H * W, 3)``, its primitives (grid indices) and their kind."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim != 2 or array.size == 0 or array.dtype not in (np.uint8, np.float32):
        raise TensorError(
            f"input spec {spec.name!r} (depth_map): expected non-empty HxW or HxWx1 uint8 or float32, "
            f"got {array.shape} {array.dtype}"
        )
    rows, cols = array.shape
    y, x = np.mgrid[0:rows, 0:cols]
    depth = array / np.float64(255) if array.dtype == np.uint8 else array.astype(np.float64)
    vertices = np.stack([x / cols - 0.5, y / rows - 0.5, depth], axis=-1).reshape(-1, 3)
    index = np.arange(rows * cols).reshape(rows, cols)
    mode = _MODES[spec.depth_map_render_mode]
    if mode == "points":
        primitives = index.reshape(-1, 1)
    elif mode == "lines":
        right = np.stack([index[:, :-1], index[:, 1:]], axis=-1).reshape(-1, 2)
        down = np.stack([index[:-1], index[1:]], axis=-1).reshape(-1, 2)
        primitives = np.concatenate([right, down])
    else:
        a, b, c, d = index[:-1, :-1], index[:-1, 1:], index[1:, :-1], index[1:, 1:]
        primitives = np.concatenate(
            [np.stack([a, b, c], axis=-1).reshape(-1, 3), np.stack([b, d, c], axis=-1).reshape(-1, 3)]
        )
    return vertices, primitives, mode


def _grid_colors(spec: InputSpec, colors: np.ndarray | None, grid: tuple[int, ...]) -> np.ndarray | None:
    """The ``depth_map_color`` tensor as ``(H * W, 4)`` float32 RGBA, checked against the grid."""
    if colors is None:
        return None
    if colors.shape != (*grid[:2], 4) or colors.dtype != np.uint8:
        raise TensorError(
            f"input spec {spec.name!r} (depth_map): the depth_map_color tensor must be "
            f"{grid[0]}x{grid[1]}x4 uint8 like the depth map, got {colors.shape} {colors.dtype}"
        )
    result: np.ndarray = colors.reshape(-1, 4) / np.float32(255)
    return result
