"""Geometry layers as pixel-space shapes: what both renderers draw for points, lines, line
strips, triangles, crosses, rectangles, ovals, text and the 3D layers.

:func:`layer_shapes` checks a geometry tensor against its layer type and turns it into segments
(with a half width), point boxes and triangles in the view's pixels, origin top-left; the
software compositor rasterizes them with numpy and the OpenGL renderer as bounding quads.
3D layers are projected by the :class:`Scene`'s camera first (see :mod:`holoflow.viz._compositor`
for the rules).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from holoflow.errors import ConfigError, TensorError
from holoflow.viz._camera import Camera
from holoflow.viz._font import text_segments
from holoflow.viz._input_spec import InputSpec

__all__ = ["Scene", "Shapes", "layer_shapes"]

_DEFAULT_SIZE = 0.05  # crosses, ovals: extent as a fraction of the frame width
_OVAL_SEGMENTS = 64

_DRAWN_GEOMETRY = frozenset(
    {"points", "lines", "line_strip", "triangles", "crosses", "rectangles", "ovals", "text"}
)
_GROUP = {"lines": 2, "triangles": 3, "rectangles": 2}
_3D = {"points_3d": "points", "lines_3d": "lines", "line_strip_3d": "line_strip", "triangles_3d": "triangles"}
_MODES = {"points": "points", "lines": "lines", "triangles": "triangles"}


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


@dataclass
class Shapes:
    """A geometry layer in pixels: segments ``((start, end), half_width)``, point boxes
    ``(centre, half_side)`` and filled triangles ``(a, b, c)``; ``colors`` (``(N, 4)`` float32,
    one per shape, shapes of one kind in drawing order) when each shape has its own colour."""

    segments: list[tuple[tuple[np.ndarray, np.ndarray], float]] = field(default_factory=list)
    boxes: list[tuple[np.ndarray, float]] = field(default_factory=list)
    triangles: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    colors: np.ndarray | None = None


def layer_shapes(
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
