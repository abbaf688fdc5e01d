"""Fused CUDA kernels for format conversion: one read of the input, one write of the output.

``u8`` plans (uint8 RGB/RGBA: resize, scale to float32, RGB↔RGBA, channel order) and NV12 →
RGB run as single kernels; other plans run the reference code of ``_format`` on CuPy arrays.
The kernels use ``__fmul_rn`` / ``__fadd_rn`` (no fused multiply-add) in the reference's
order of operations, so their output equals the numpy reference bit for bit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from holoflow.kernels._format import YUV_MATRICES, FormatPlan, convert
from holoflow.tensor import _cuda

__all__ = ["CudaFormatPlan", "convert_cuda", "prepare_cuda"]

_SOURCE = r"""
__device__ __forceinline__ unsigned char round_u8(float x) {
    float r = floorf(__fadd_rn(x, 0.5f));
    r = r != r ? 0.0f : fminf(fmaxf(r, 0.0f), 255.0f);
    return (unsigned char)r;
}

extern "C" __global__ void convert_u8(
    const unsigned char* src, long long s0, long long s1, long long s2,
    void* dst, int out_h, int out_w, int out_c,
    int resized, const int* iy, const float* wy, int ty, const int* ix, const float* wx, int tx,
    const int* order, int alpha, int to_float, float factor, float low)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= out_w || y >= out_h) return;
    long long out_index = ((long long)y * out_w + x) * out_c;
    for (int k = 0; k < out_c; ++k) {
        int c = order[k];
        unsigned char v;
        if (c < 0) {
            v = (unsigned char)alpha;
        } else if (!resized) {
            v = src[y * s0 + x * s1 + c * s2];
        } else {
            float acc = 0.0f;
            for (int i = 0; i < ty; ++i) {
                const unsigned char* row = src + (long long)iy[y * ty + i] * s0 + c * s2;
                float r = 0.0f;
                for (int j = 0; j < tx; ++j)
                    r = __fadd_rn(r, __fmul_rn(wx[x * tx + j], (float)row[(long long)ix[x * tx + j] * s1]));
                acc = __fadd_rn(acc, __fmul_rn(wy[y * ty + i], r));
            }
            v = round_u8(acc);
        }
        if (to_float) ((float*)dst)[out_index + k] = __fadd_rn(__fmul_rn((float)v, factor), low);
        else ((unsigned char*)dst)[out_index + k] = v;
    }
}

extern "C" __global__ void nv12_to_rgb(
    const unsigned char* luma, long long luma_row, const unsigned char* chroma, long long chroma_row,
    unsigned char* dst, int h, int w, const int* order,
    float ky, float y0, float rv, float gu, float gv, float bu)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= h) return;
    float Y = __fmul_rn(__fadd_rn((float)luma[y * luma_row + x], -y0), ky);
    const unsigned char* uv = chroma + (y >> 1) * chroma_row + (x & ~1);
    float U = __fadd_rn((float)uv[0], -128.0f);
    float V = __fadd_rn((float)uv[1], -128.0f);
    unsigned char rgb[3];
    rgb[0] = round_u8(__fadd_rn(Y, __fmul_rn(rv, V)));
    rgb[1] = round_u8(__fadd_rn(__fadd_rn(Y, __fmul_rn(gu, U)), __fmul_rn(gv, V)));
    rgb[2] = round_u8(__fadd_rn(Y, __fmul_rn(bu, U)));
    long long out_index = ((long long)y * w + x) * 3;
    dst[out_index] = rgb[order[0]];
    dst[out_index + 1] = rgb[order[1]];
    dst[out_index + 2] = rgb[order[2]];
}
"""

_BLOCK = (32, 8, 1)


@functools.cache
def _module() -> Any:
    cupy = _cuda.cupy_module()
    return cupy.RawModule(code=_SOURCE, options=("-fmad=false",))


@dataclass(frozen=True)
class CudaFormatPlan:
    """A plan with its filter tables and channel order on the device."""

    plan: FormatPlan
    tables: tuple[Any, ...]
    order: Any


def prepare_cuda(plan: FormatPlan) -> CudaFormatPlan:
    """Upload what the kernels of ``plan`` need (once per plan)."""
    cupy = _cuda.cupy_module()
    tables: tuple[Any, ...] = ()
    if plan.resized:
        assert plan.y_table is not None and plan.x_table is not None
        tables = tuple(cupy.asarray(np.ascontiguousarray(t)) for t in (*plan.y_table, *plan.x_table))
    return CudaFormatPlan(plan, tables, cupy.asarray(np.array(plan.order, dtype=np.int32)))


def _grid(width: int, height: int) -> tuple[int, int, int]:
    return ((width + _BLOCK[0] - 1) // _BLOCK[0], (height + _BLOCK[1] - 1) // _BLOCK[1], 1)


def convert_cuda(prepared: CudaFormatPlan, array: Any, out: Any = None) -> Any:
    """Execute a plan on a CUDA array (CuPy, or anything ``cupy.asarray`` takes), on the
    current CuPy stream; returns ``out`` (allocated with ``cupy.empty`` when omitted)."""
    cupy = _cuda.cupy_module()
    plan = prepared.plan
    source = cupy.asarray(array)
    fused_nv12 = plan.family == "yuv" and plan.in_dtype.startswith("nv12")
    if plan.family != "u8" and not fused_nv12:
        result = convert(plan, source, xp=cupy)
        if out is None:
            return result
        out[...] = result
        return out
    dtype = np.float32 if plan.out_dtype == "float32" else np.uint8
    if out is None:
        out = cupy.empty(plan.out_shape, dtype=dtype)
    if fused_nv12:
        flat = cupy.ascontiguousarray(source).reshape(-1)
        h, w = plan.height, plan.width
        ky, y0, rv, gu, gv, bu = (np.float32(c) for c in YUV_MATRICES[plan.in_dtype])
        _module().get_function("nv12_to_rgb")(
            _grid(w, h),
            _BLOCK,
            (
                flat,
                np.int64(w),
                flat[h * w :],
                np.int64(w),
                out,
                np.int32(h),
                np.int32(w),
                prepared.order,
                ky,
                y0,
                rv,
                gu,
                gv,
                bu,
            ),
        )
        return out
    image = source.reshape(plan.height, plan.width, plan.channels) if source.ndim == 2 else source
    strides = tuple(np.int64(s // image.itemsize) for s in image.strides)
    out_h, out_w, out_c = plan.out_shape
    factor, low = plan.float_factor()
    if plan.resized:
        iy, wy, ix, wx = prepared.tables
        taps = (np.int32(iy.shape[1]), np.int32(ix.shape[1]))
    else:
        iy = wy = ix = wx = prepared.order  # unused placeholders
        taps = (np.int32(0), np.int32(0))
    _module().get_function("convert_u8")(
        _grid(out_w, out_h),
        _BLOCK,
        (
            image,
            *strides,
            out,
            np.int32(out_h),
            np.int32(out_w),
            np.int32(out_c),
            np.int32(plan.resized),
            iy,
            wy,
            taps[0],
            ix,
            wx,
            taps[1],
            prepared.order,
            np.int32(plan.alpha_value),
            np.int32(dtype == np.float32),
            factor,
            low,
        ),
    )
    return out
