"""The software compositor: Holoviz's layer model drawn with numpy.

It is the reference the OpenGL renderer is tested against and the renderer of last resort; geometry
layers become shapes in :mod:`holoflow.viz._shapes`, shared by both renderers. A frame
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

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from holoflow.errors import ConfigError, TensorError
from holoflow.viz._camera import Camera
from holoflow.viz._input_spec import InputSpec
from holoflow.viz._shapes import Scene, Shapes, layer_shapes

__all__ = [
    "composite",
    "depth_map_colors",
    "detect_type",
    "drawing_order",
    "image_array",
    "lut_indices",
    "lut_table",
    "view_rectangles",
]


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
                    shapes = layer_shapes(spec, kind, np.asarray(array), w, h, scene.at(spec, view))
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


def image_array(spec: InputSpec, array: np.ndarray) -> np.ndarray:
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
    array = image_array(spec, array)
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
    index = lut_indices(spec, array, lut)
    h, w = index.shape
    rows = np.minimum(((np.arange(height) + 0.5) * h / height).astype(np.intp), h - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * w / width).astype(np.intp), w - 1)
    assert lut is not None
    result: np.ndarray = lut[index[rows][:, cols]]
    return result


def lut_indices(spec: InputSpec, array: np.ndarray, lut: np.ndarray | None) -> np.ndarray:
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


# -- geometry: the pixels each shape covers (the shapes come from holoflow.viz._shapes) ------------

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
