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

// One thread per output pixel; all channels of a tap are read together, and every table entry
// is loaded once per pixel. C is the input channel count.
template <int C>
__device__ void convert_u8_impl(
    const unsigned char* __restrict__ src, long long s0, long long s1, long long s2,
    void* __restrict__ dst, int out_h, int out_w, int out_c,
    int resized, const int* __restrict__ iy, const float* __restrict__ wy, int ty,
    const int* __restrict__ ix, const float* __restrict__ wx, int tx,
    const int* __restrict__ order, int alpha, int to_float, float factor, float low)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= out_w || y >= out_h) return;
    unsigned char value[C];
    if (!resized) {
        const unsigned char* p = src + y * s0 + x * s1;
        #pragma unroll
        for (int c = 0; c < C; ++c) value[c] = p[c * s2];
    } else {
        float acc[C];
        #pragma unroll
        for (int c = 0; c < C; ++c) acc[c] = 0.0f;
        for (int i = 0; i < ty; ++i) {
            const unsigned char* row = src + (long long)__ldg(iy + y * ty + i) * s0;
            float row_weight = __ldg(wy + y * ty + i);
            float r[C];
            #pragma unroll
            for (int c = 0; c < C; ++c) r[c] = 0.0f;
            for (int j = 0; j < tx; ++j) {
                const unsigned char* p = row + (long long)__ldg(ix + x * tx + j) * s1;
                float w = __ldg(wx + x * tx + j);
                #pragma unroll
                for (int c = 0; c < C; ++c) r[c] = __fadd_rn(r[c], __fmul_rn(w, (float)__ldg(p + c * s2)));
            }
            #pragma unroll
            for (int c = 0; c < C; ++c) acc[c] = __fadd_rn(acc[c], __fmul_rn(row_weight, r[c]));
        }
        #pragma unroll
        for (int c = 0; c < C; ++c) value[c] = round_u8(acc[c]);
    }
    long long out_index = ((long long)y * out_w + x) * out_c;
    for (int k = 0; k < out_c; ++k) {
        int c = __ldg(order + k);
        unsigned char v = (unsigned char)alpha;
        #pragma unroll
        for (int s = 0; s < C; ++s) if (s == c) v = value[s];
        if (to_float) ((float*)dst)[out_index + k] = __fadd_rn(__fmul_rn((float)v, factor), low);
        else ((unsigned char*)dst)[out_index + k] = v;
    }
}

#define CONVERT_U8(C) \
extern "C" __global__ void convert_u8_c##C( \
    const unsigned char* src, long long s0, long long s1, long long s2, void* dst, int out_h, int out_w, \
    int out_c, int resized, const int* iy, const float* wy, int ty, const int* ix, const float* wx, int tx, \
    const int* order, int alpha, int to_float, float factor, float low) { \
    convert_u8_impl<C>(src, s0, s1, s2, dst, out_h, out_w, out_c, resized, iy, wy, ty, ix, wx, tx, order, \
                       alpha, to_float, factor, low); }
CONVERT_U8(3)
CONVERT_U8(4)

// Two horizontally adjacent pixels per thread: they share one U, V pair.
extern "C" __global__ void nv12_to_rgb(
    const unsigned char* __restrict__ luma, long long luma_row, const unsigned char* __restrict__ chroma,
    long long chroma_row, unsigned char* __restrict__ dst, int h, int w, const int* __restrict__ order,
    float ky, float y0, float rv, float gu, float gv, float bu)
{
    int x = 2 * (blockIdx.x * blockDim.x + threadIdx.x);
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= h) return;
    uchar2 uv = *reinterpret_cast<const uchar2*>(chroma + (y >> 1) * chroma_row + x);
    uchar2 yy = *reinterpret_cast<const uchar2*>(luma + y * luma_row + x);
    float U = __fadd_rn((float)uv.x, -128.0f);
    float V = __fadd_rn((float)uv.y, -128.0f);
    float red_v = __fmul_rn(rv, V), green_u = __fmul_rn(gu, U);
    float green_v = __fmul_rn(gv, V), blue_u = __fmul_rn(bu, U);
    int o0 = __ldg(order), o1 = __ldg(order + 1), o2 = __ldg(order + 2);
    unsigned char out[6];
    #pragma unroll
    for (int p = 0; p < 2; ++p) {
        float Y = __fmul_rn(__fadd_rn((float)(p ? yy.y : yy.x), -y0), ky);
        unsigned char rgb[3];
        rgb[0] = round_u8(__fadd_rn(Y, red_v));
        rgb[1] = round_u8(__fadd_rn(__fadd_rn(Y, green_u), green_v));
        rgb[2] = round_u8(__fadd_rn(Y, blue_u));
        out[3 * p] = rgb[o0];
        out[3 * p + 1] = rgb[o1];
        out[3 * p + 2] = rgb[o2];
    }
    unsigned char* d = dst + ((long long)y * w + x) * 3;
    #pragma unroll
    for (int i = 0; i < 6; ++i) d[i] = out[i];
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
    _module().get_function(f"convert_u8_c{plan.channels}")(
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
