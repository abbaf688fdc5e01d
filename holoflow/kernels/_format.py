"""Format conversion with FormatConverterOp's semantics: plan, then resize → convert → reorder.

Design
======
:func:`make_plan` validates an input against Holoscan's converter rules (dtype names, channel
counts, what may be resized) once per input shape and returns a :class:`FormatPlan`.
:func:`convert` executes a plan with array-API code written against ``xp`` — numpy on the host,
CuPy on the GPU — and is the reference: the resize is exact integer arithmetic and every float
operation is a separate, correctly rounded float32 operation in a fixed order, so the fused
CUDA kernels in ``_format_cuda``, which do the same, give bit-identical results.

Per-pixel rules (float32 arithmetic, ``round(x) = floor(x + 0.5)`` then saturation):

* resize (uint8 with 3 or 4 channels only): separable fixed-point filter from :mod:`._resize`,
  in integers: ``row = (Σ_j kx_j*src + 2**(S-1)) >> S`` with ``S = SUM_SHIFT``, then
  ``acc = Σ_i ky_i*row_i`` and the level ``(acc + 2**(B-1)) >> B`` with
  ``B = 2*WEIGHT_BITS - SUM_SHIFT``, clamped to 0..255. Every sum stays below 2**31.
* uint8 → float32: ``v*k + scale_min`` with ``k = (scale_max - scale_min) / 255``.
* float32 → uint8: ``round((v - scale_min)*k)`` with ``k = 255 / (scale_max - scale_min)``.
* 16-bit → 8-bit: ``round(v * 255/65535)``.
* YUV → RGB: ``Y' = (Y - y0)*ky``, ``R = Y' + rv*V'``, ``G = (Y' + gu*U') + gv*V'``,
  ``B = Y' + bu*U'`` with ``U' = U - 128``, ``V' = V - 128``, matrices per format below.
* RGB → YUV420: per-pixel Y, U, V from NPP's RGBToYUV matrix; U and V averaged over 2x2.
* channel order: output channel ``k`` takes converted channel ``order[k]``; for RGB → RGBA an
  index ≥ 3 is the alpha channel (filled with ``alpha_value``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from holoflow.errors import TensorError
from holoflow.kernels._resize import SUM_SHIFT, WEIGHT_BITS, ResizeFilter, filter_table, resize_mode_name

__all__ = ["FormatPlan", "convert", "make_plan", "normalize_dtype"]

_IN_NAMES = {
    "rgb888": "uint8",
    "uint8": "uint8",
    "float32": "float32",
    "rgba8888": "rgba8888",
    "yuv420": "yuv420",
    "nv12": "nv12_bt709_hdtv",
    "nv12_bt601_full": "nv12_bt601_full",
    "nv12_bt709_hdtv": "nv12_bt709_hdtv",
    "nv12_bt709_csc": "nv12_bt709_csc",
    "yuyv": "yuyv",
    "rgb161616": "rgb161616",
    "rgba16161616": "rgba16161616",
    "uint16": "uint16",
}
_OUT_NAMES = {
    "rgb888": "uint8",
    "uint8": "uint8",
    "float32": "float32",
    "rgba8888": "rgba8888",
    "yuv420": "yuv420",
}

# YUV → RGB: (ky, y0, rv, gu, gv, bu)
YUV_MATRICES = {
    "yuv420": (1.0, 0.0, 1.140, -0.394, -0.581, 2.032),
    "yuyv": (1.0, 0.0, 1.140, -0.394, -0.581, 2.032),
    "nv12_bt601_full": (1.0, 0.0, 1.402, -0.344136, -0.714136, 1.772),
    "nv12_bt709_hdtv": (1.164, 16.0, 1.793, -0.213, -0.533, 2.112),
    "nv12_bt709_csc": (1.0, 0.0, 1.5748, -0.1873, -0.4681, 1.8556),
}
RGB_TO_YUV = ((0.299, 0.587, 0.114), (-0.147, -0.289, 0.436), (0.615, -0.515, -0.100))


def normalize_dtype(name: str, output: bool) -> str:
    """Holoscan's dtype names folded to holoflow's internal ones (``rgb888`` → ``uint8``...)."""
    table = _OUT_NAMES if output else _IN_NAMES
    if name not in table:
        kind = "out_dtype" if output else "in_dtype"
        raise TensorError(f"{kind} {name!r} is not supported; use one of {sorted(table)}")
    return table[name]


@dataclass(frozen=True)
class FormatPlan:
    """A validated conversion for one input shape (made by :func:`make_plan`).

    Raises
    ------
    holoflow.errors.TensorError
        If it would resize an empty image: no plan, so no kernel, ever does.
    """

    family: str
    """``u8`` (uint8/RGBA, with resize), ``f32``, ``yuv``, ``u16`` or ``rgb_to_yuv420``."""
    in_dtype: str
    out_dtype: str
    in_shape: tuple[int, ...]
    height: int
    width: int
    channels: int
    out_shape: tuple[int, ...]
    order: tuple[int, ...]
    """Source channel of each output channel; -1 means the alpha channel."""
    resize_mode: int
    y_table: ResizeFilter | None
    x_table: ResizeFilter | None
    scale_min: float
    scale_max: float
    alpha_value: int

    def __post_init__(self) -> None:
        if self.y_table is not None and (self.height == 0 or self.width == 0):
            raise TensorError(f"cannot resize the empty image {self.in_shape} to {self.out_shape}")

    @property
    def resized(self) -> bool:
        """Whether the plan resizes."""
        return self.y_table is not None

    def float_factor(self) -> tuple[np.float32, np.float32]:
        """``(k, scale_min)`` in float32 for the uint8 → float32 and float32 → uint8 scalings."""
        span = np.float32(self.scale_max) - np.float32(self.scale_min)
        if self.out_dtype == "float32":
            return np.float32(span / np.float32(255)), np.float32(self.scale_min)
        return np.float32(np.float32(255) / span), np.float32(self.scale_min)


_INTERPOLATING = (0, 1, 2, 4, 6)  # nearest, linear and the B=0 cubics: exact at the sample points


def make_plan(
    in_dtype: str,
    out_dtype: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    *,
    resize: tuple[int, int] | None = None,
    resize_mode: int = 0,
    scale_min: float = 0.0,
    scale_max: float = 1.0,
    alpha_value: int = 255,
    out_channel_order: tuple[int, ...] | list[int] = (),
    label: str = "tensor",
) -> FormatPlan:
    """Validate a conversion of a ``shape``/``dtype`` input and fix its execution plan.

    ``in_dtype`` may be ``""``: it is then inferred from the element type (uint8, uint16,
    float32). ``resize`` is ``(height, width)``; it is off unless both are positive.

    An empty image (height or width 0) converts, without a resize, to an empty image of the
    output's layout (its height and width kept); it cannot be resized.

    Raises
    ------
    holoflow.errors.TensorError
        Naming ``label``, the expected layout and what was found; among them, a resize of an
        empty image (naming its shape).
    holoflow.errors.ConfigError
        For an unsupported ``resize_mode`` when resizing.
    """
    dtype = np.dtype(dtype)
    if not in_dtype:
        inferred = {
            np.dtype(np.uint8): "uint8",
            np.dtype(np.uint16): "uint16",
            np.dtype(np.float32): "float32",
        }
        if dtype not in inferred:
            raise TensorError(f"{label}: cannot infer in_dtype from element type {dtype}; set in_dtype")
        in_dtype = inferred[dtype]
    source = normalize_dtype(in_dtype, output=False)
    target = normalize_dtype(out_dtype, output=True)
    if source in ("yuv420", "nv12_bt601_full", "nv12_bt709_hdtv", "nv12_bt709_csc") or source == "yuyv":
        family = "yuv"
    elif source in ("rgb161616", "rgba16161616", "uint16"):
        family = "u16"
    elif source == "float32":
        family = "f32"
    elif target == "yuv420":
        family = "rgb_to_yuv420"
    else:
        family = "u8"
    expected_element = {"f32": np.float32, "u16": np.uint16}.get(family, np.uint8)
    if dtype != expected_element:
        raise TensorError(
            f"{label}: in_dtype {in_dtype!r} needs {np.dtype(expected_element).name} elements, got {dtype}"
        )
    height, width, channels = _image_geometry(family, source, shape, label)
    resize_on = resize is not None and resize[0] > 0 and resize[1] > 0
    if resize_on and not (family in ("u8", "rgb_to_yuv420") and channels in (3, 4)):
        raise TensorError(f"{label}: resizing is supported for uint8 RGB/RGBA input only, not {in_dtype!r}")
    out_h, out_w = (int(resize[0]), int(resize[1])) if resize_on else (height, width)  # type: ignore[index]
    if resize_on:
        resize_mode_name(resize_mode)
        if height == 0 or width == 0:  # no pixel for the filters to read
            raise TensorError(f"{label}: cannot resize the empty image {tuple(shape)} to {out_h}x{out_w}")
    if resize_on and (out_h, out_w) == (height, width) and resize_mode in _INTERPOLATING:
        resize_on = False  # these filters sample every pixel exactly at its centre: the identity
    out_channels, default_order = _output_channels(family, source, target, channels, label)
    order = tuple(int(c) for c in out_channel_order) or default_order
    if len(order) != out_channels:
        raise TensorError(f"{label}: out_channel_order {list(order)} needs {out_channels} entries")
    limit = 4 if (family == "u8" and target == "rgba8888" and channels == 3) else max(channels, 1)
    if any(c < 0 or c >= max(limit, out_channels) for c in order):
        raise TensorError(f"{label}: out_channel_order {list(order)} names a channel that does not exist")
    if family == "u8" and target == "rgba8888" and channels == 3:
        order = tuple(-1 if c >= 3 else c for c in order)
    if target == "yuv420":
        if out_h % 2 or out_w % 2:
            raise TensorError(f"{label}: yuv420 output needs an even height and width, got {out_h}x{out_w}")
        out_shape: tuple[int, ...] = (out_h * 3 // 2, out_w)
    else:
        out_shape = (out_h, out_w, out_channels)
    if (family == "f32" or target == "float32") and np.float32(scale_max) == np.float32(scale_min):
        raise TensorError(f"{label}: scale_max must differ from scale_min")
    tables = (
        (filter_table(height, out_h, resize_mode), filter_table(width, out_w, resize_mode))
        if resize_on
        else (None, None)
    )
    return FormatPlan(
        family,
        source,
        target,
        tuple(shape),
        height,
        width,
        channels,
        out_shape,
        order,
        resize_mode,
        tables[0],
        tables[1],
        float(scale_min),
        float(scale_max),
        int(alpha_value),
    )


def _image_geometry(family: str, source: str, shape: tuple[int, ...], label: str) -> tuple[int, int, int]:
    if family == "yuv" and source != "yuyv":
        planar = len(shape) == 2 or (len(shape) == 3 and shape[2] == 1)
        if not planar or shape[0] % 3 or (shape[0] * 2 // 3) % 2 or shape[1] % 2:
            raise TensorError(
                f"{label}: {source} input must be a (H*3/2, W) uint8 plane stack with even H and W, "
                f"got {shape}"
            )
        return shape[0] * 2 // 3, shape[1], 1
    if source == "yuyv":
        if len(shape) == 3 and shape[2] == 2 and shape[1] % 2 == 0:
            return shape[0], shape[1], 2
        raise TensorError(f"{label}: yuyv input must be (H, W, 2) uint8 with even W, got {shape}")
    if len(shape) == 2:
        shape = (*shape, 1)
    if len(shape) != 3:
        raise TensorError(f"{label}: expected an image of rank 2 (H, W) or 3 (H, W, C), got shape {shape}")
    needs = {"rgba8888": 4, "rgb161616": 3, "rgba16161616": 4}.get(source)
    if needs is not None and shape[2] != needs:
        raise TensorError(f"{label}: in_dtype {source!r} needs {needs} channels, got {shape[2]}")
    if family in ("u8", "rgb_to_yuv420") and shape[2] not in (3, 4):
        raise TensorError(f"{label}: uint8 input needs 3 (RGB) or 4 (RGBA) channels, got {shape[2]}")
    if family == "u16" and shape[2] not in (3, 4):  # the output is RGB: channels 0, 1, 2
        raise TensorError(f"{label}: uint16 input needs 3 (RGB) or 4 (RGBA) channels, got {shape[2]}")
    return shape[0], shape[1], shape[2]


def _output_channels(
    family: str, source: str, target: str, channels: int, label: str
) -> tuple[int, tuple[int, ...]]:
    def fail() -> TensorError:
        return TensorError(f"{label}: unsupported format conversion {source} -> {target}")

    if family == "yuv":
        if target == "uint8" or (target == "rgba8888" and source == "yuv420"):
            count = 3 if target == "uint8" else 4
            return count, tuple(range(count))
        raise fail()
    if family == "u16":
        if target != "uint8":
            raise fail()
        return 3, (0, 1, 2)
    if family == "f32":
        if target == "float32":
            return channels, tuple(range(channels))
        if target == "uint8":
            return channels, tuple(range(channels))
        raise fail()
    if family == "rgb_to_yuv420":
        if channels != 3:
            raise fail()
        return 3, (0, 1, 2)
    # uint8 RGB/RGBA
    if target == "uint8":
        return 3, (0, 1, 2)
    if target == "rgba8888":
        return 4, (0, 1, 2, 3)
    if target == "float32":
        return 3, (0, 1, 2)
    raise fail()


def _round_u8(xp: Any, value: Any) -> Any:
    rounded = xp.floor(value + xp.float32(0.5))
    rounded = xp.where(xp.isnan(rounded), xp.float32(0), rounded)
    return xp.clip(rounded, 0, 255).astype(xp.uint8)


def _resize_u8(xp: Any, plan: FormatPlan, image: Any) -> Any:
    assert plan.y_table is not None and plan.x_table is not None
    iy, ky = xp.asarray(plan.y_table.indices(plan.height)), xp.asarray(plan.y_table.steps)
    ix, kx = xp.asarray(plan.x_table.indices(plan.width)), xp.asarray(plan.x_table.steps)
    used = xp.unique(iy)  # source rows the vertical filter reads
    position = xp.zeros(plan.height, dtype=xp.int32)
    position[used] = xp.arange(len(used), dtype=xp.int32)
    pixels = image[used]
    rows = xp.zeros((len(used), len(ix), image.shape[2]), dtype=xp.int32)
    for j in range(ix.shape[1]):
        rows += kx[None, :, j, None] * pixels[:, ix[:, j]].astype(xp.int32)
    rows += 1 << (SUM_SHIFT - 1)
    rows >>= SUM_SHIFT
    acc = xp.zeros((len(iy), len(ix), image.shape[2]), dtype=xp.int32)
    for i in range(iy.shape[1]):
        acc += ky[:, i, None, None] * rows[position[iy[:, i]]]
    shift = 2 * WEIGHT_BITS - SUM_SHIFT
    acc += 1 << (shift - 1)
    acc >>= shift
    return xp.clip(acc, 0, 255).astype(xp.uint8)


def _yuv_to_rgb(xp: Any, plan: FormatPlan, array: Any) -> Any:
    ky, y0, rv, gu, gv, bu = (xp.float32(c) for c in YUV_MATRICES[plan.in_dtype])
    h, w = plan.height, plan.width
    if plan.in_dtype == "yuyv":
        y = array[:, :, 0].astype(xp.float32)
        chroma = array[:, :, 1].reshape(h, w // 2, 2).astype(xp.float32)
        u = xp.repeat(chroma[:, :, 0], 2, axis=1)
        v = xp.repeat(chroma[:, :, 1], 2, axis=1)
    else:
        flat = array.reshape(-1)
        y = flat[: h * w].reshape(h, w).astype(xp.float32)
        quarter = (h // 2) * (w // 2)
        if plan.in_dtype == "yuv420":  # I420: the U plane, then the V plane
            u_plane = flat[h * w : h * w + quarter].reshape(h // 2, w // 2)
            v_plane = flat[h * w + quarter :].reshape(h // 2, w // 2)
        else:  # NV12: one plane of interleaved U, V
            uv = flat[h * w :].reshape(h // 2, w // 2, 2)
            u_plane, v_plane = uv[:, :, 0], uv[:, :, 1]
        u = xp.repeat(xp.repeat(u_plane, 2, axis=0), 2, axis=1).astype(xp.float32)
        v = xp.repeat(xp.repeat(v_plane, 2, axis=0), 2, axis=1).astype(xp.float32)
    luma = (y - y0) * ky
    u = u - xp.float32(128)
    v = v - xp.float32(128)
    red = luma + rv * v
    green = (luma + gu * u) + gv * v
    blue = luma + bu * u
    channels = [_round_u8(xp, c) for c in (red, green, blue)]
    if plan.out_shape[2] == 4:
        channels.append(xp.full((h, w), 255, dtype=xp.uint8))
    stacked = xp.stack(channels, axis=2)
    return stacked[:, :, list(plan.order)]


def _rgb_to_yuv420(xp: Any, image: Any) -> Any:
    h, w = image.shape[:2]
    r, g, b = (image[:, :, c].astype(xp.float32) for c in range(3))
    planes = []
    for index, (cr, cg, cb) in enumerate(RGB_TO_YUV):
        value = (r * xp.float32(cr) + g * xp.float32(cg)) + b * xp.float32(cb)
        if index:
            value = value + xp.float32(128)
            quads = value.reshape(h // 2, 2, w // 2, 2)
            value = (
                ((quads[:, 0, :, 0] + quads[:, 0, :, 1]) + quads[:, 1, :, 0]) + quads[:, 1, :, 1]
            ) * xp.float32(0.25)
        planes.append(_round_u8(xp, value).reshape(-1))
    return xp.concatenate(planes).reshape(h * 3 // 2, w)


def convert(plan: FormatPlan, array: Any, xp: Any = np) -> Any:
    """Execute ``plan`` on ``array`` with the array namespace ``xp`` (numpy or CuPy).

    Returns a new C-contiguous array of ``plan.out_shape``.
    """
    if plan.family == "yuv":
        return xp.ascontiguousarray(_yuv_to_rgb(xp, plan, array))
    image = array.reshape(plan.height, plan.width, plan.channels) if array.ndim == 2 else array
    if plan.family == "u16":
        scaled = _round_u8(xp, image.astype(xp.float32) * xp.float32(255.0 / 65535.0))
        return xp.ascontiguousarray(scaled[:, :, list(plan.order)])
    if plan.family == "f32":
        if plan.out_dtype == "float32":
            return xp.ascontiguousarray(image[:, :, list(plan.order)])
        k, low = plan.float_factor()
        return xp.ascontiguousarray(_round_u8(xp, (image - low) * k)[:, :, list(plan.order)])
    if plan.resized:
        image = _resize_u8(xp, plan, image)
    if plan.family == "rgb_to_yuv420":
        return _rgb_to_yuv420(xp, image)
    if plan.order == tuple(range(image.shape[2])):
        out = image
    else:
        alpha = xp.full(image.shape[:2], plan.alpha_value, dtype=xp.uint8)
        out = xp.stack([alpha if c < 0 else image[:, :, c] for c in plan.order], axis=2)
    if plan.out_dtype == "float32":
        k, low = plan.float_factor()
        scaled = out.astype(xp.float32)  # then in place: the same two roundings, no temporaries
        scaled *= k
        scaled += low
        return scaled
    return xp.ascontiguousarray(out) if out is not image else xp.array(out, copy=True)
