"""Fused CUDA kernels for format conversion: one read of the input, one write of the output.

``u8`` plans (uint8 RGB/RGBA: resize, scale to float32, RGB↔RGBA, channel order) and NV12 →
RGB run as single kernels; other plans run the reference code of ``_format`` on CuPy arrays.
The kernels use ``__fmul_rn`` / ``__fadd_rn`` (no fused multiply-add) in the reference's
order of operations, so their output equals the numpy reference bit for bit.

A resizing block first copies the source pixels its output needs into shared memory with
coalesced loads (the filter taps then read shared memory); the tile size is the largest any
block of the plan needs, computed on the host from the filter tables. When that exceeds
``_MAX_TILE`` bytes (extreme downscaling) or the pixels are not packed, the kernel reads the
taps from global memory instead. NV12 runs four pixels per thread with word-sized loads and
stores when the width allows.
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

// Writes one output pixel: channel k is input channel order[k] (-1: alpha), as uint8 or scaled float.
template <int C>
__device__ __forceinline__ void write_pixel(const unsigned char* value, void* dst, long long out_index,
                                            int out_c, const int* __restrict__ order, int alpha, int to_float,
                                            float factor, float low)
{
    for (int k = 0; k < out_c; ++k) {
        int c = __ldg(order + k);
        unsigned char v = (unsigned char)alpha;
        #pragma unroll
        for (int s = 0; s < C; ++s) if (s == c) v = value[s];
        if (to_float) ((float*)dst)[out_index + k] = __fadd_rn(__fmul_rn((float)v, factor), low);
        else ((unsigned char*)dst)[out_index + k] = v;
    }
}

// Resize (optional) + convert for uint8 input with C channels; one thread per output pixel.
// TILED: taps read from a shared-memory copy of the block's source window (packed pixels),
// converted to float once while loading (a byte-to-float conversion is a slow instruction).
// HOIST: the (at most 8) horizontal taps of the pixel are kept in registers.
template <int C, bool TILED, bool HOIST>
__device__ void convert_u8_impl(
    const unsigned char* __restrict__ src, long long s0, long long s1, long long s2,
    void* __restrict__ dst, int out_h, int out_w, int out_c,
    int resized, const int* __restrict__ iy, const float* __restrict__ wy, int ty,
    const int* __restrict__ ix, const float* __restrict__ wx, int tx,
    const int* __restrict__ order, int alpha, int to_float, float factor, float low)
{
    extern __shared__ float tile[];
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    long long row_step = s0, pixel_step = s1, channel_step = s2;
    int y_first = 0, x_first = 0;
    if (TILED) {
        int by0 = blockIdx.y * blockDim.y, bx0 = blockIdx.x * blockDim.x;
        int by1 = min(by0 + (int)blockDim.y, out_h) - 1, bx1 = min(bx0 + (int)blockDim.x, out_w) - 1;
        y_first = iy[by0 * ty];
        x_first = ix[bx0 * tx];
        int rows = iy[by1 * ty + ty - 1] - y_first + 1;
        int row_bytes = (ix[bx1 * tx + tx - 1] - x_first + 1) * C;
        // Rows spread over threadIdx.y and bytes over threadIdx.x: every load is independent.
        for (int r = threadIdx.y; r < rows; r += blockDim.y) {
            const unsigned char* line = src + (long long)(y_first + r) * s0 + (long long)x_first * C;
            for (int b = threadIdx.x; b < row_bytes; b += blockDim.x)
                tile[r * row_bytes + b] = (float)line[b];
        }
        __syncthreads();
        row_step = row_bytes;
        pixel_step = C;
        channel_step = 1;
    }
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
        int x_offset[8];
        float x_weight[8];
        if (HOIST) {
            #pragma unroll
            for (int j = 0; j < 8; ++j) {
                x_offset[j] = j < tx ? (__ldg(ix + x * tx + j) - x_first) * (int)pixel_step : 0;
                x_weight[j] = j < tx ? __ldg(wx + x * tx + j) : 0.0f;
            }
        }
        for (int i = 0; i < ty; ++i) {
            long long row = (long long)(__ldg(iy + y * ty + i) - y_first) * row_step;
            float row_weight = __ldg(wy + y * ty + i);
            float r[C];
            #pragma unroll
            for (int c = 0; c < C; ++c) r[c] = 0.0f;
            if (HOIST) {
                #pragma unroll
                for (int j = 0; j < 8; ++j) {
                    if (j < tx) {
                        long long p = row + x_offset[j];
                        #pragma unroll
                        for (int c = 0; c < C; ++c) {
                            float v = TILED ? tile[p + c] : (float)__ldg(src + p + c * channel_step);
                            r[c] = __fadd_rn(r[c], __fmul_rn(x_weight[j], v));
                        }
                    }
                }
            } else {
                for (int j = 0; j < tx; ++j) {
                    long long p = row + (long long)(__ldg(ix + x * tx + j) - x_first) * pixel_step;
                    float w = __ldg(wx + x * tx + j);
                    #pragma unroll
                    for (int c = 0; c < C; ++c) {
                        float v = TILED ? tile[p + c] : (float)__ldg(src + p + c * channel_step);
                        r[c] = __fadd_rn(r[c], __fmul_rn(w, v));
                    }
                }
            }
            #pragma unroll
            for (int c = 0; c < C; ++c) acc[c] = __fadd_rn(acc[c], __fmul_rn(row_weight, r[c]));
        }
        #pragma unroll
        for (int c = 0; c < C; ++c) value[c] = round_u8(acc[c]);
    }
    long long out_index = ((long long)y * out_w + x) * out_c;
    write_pixel<C>(value, dst, out_index, out_c, order, alpha, to_float, factor, low);
}

// The common case, specialised: a tiled resize whose filters have T taps on both axes. All
// indices are 32-bit and every loop is unrolled, so the tap loads are independent.
template <int C, int T>
__device__ void resize_tiled_impl(
    const unsigned char* __restrict__ src, long long s0, void* __restrict__ dst,
    int out_h, int out_w, int out_c,
    const int* __restrict__ iy, const float* __restrict__ wy, const int* __restrict__ ix,
    const float* __restrict__ wx, const int* __restrict__ order,
    int alpha, int to_float, float factor, float low)
{
    extern __shared__ float tile[];
    int bx0 = blockIdx.x * blockDim.x, by0 = blockIdx.y * blockDim.y;
    int bx1 = min(bx0 + (int)blockDim.x, out_w) - 1, by1 = min(by0 + (int)blockDim.y, out_h) - 1;
    int y_first = iy[by0 * T], x_first = ix[bx0 * T];
    int rows = iy[by1 * T + T - 1] - y_first + 1;
    int row_len = (ix[bx1 * T + T - 1] - x_first + 1) * C;
    for (int r = threadIdx.y; r < rows; r += blockDim.y) {
        const unsigned char* line = src + (long long)(y_first + r) * s0 + (long long)x_first * C;
        float* tile_row = tile + r * row_len;
        for (int b = threadIdx.x; b < row_len; b += blockDim.x) tile_row[b] = (float)line[b];
    }
    __syncthreads();
    int x = bx0 + threadIdx.x, y = by0 + threadIdx.y;
    if (x >= out_w || y >= out_h) return;
    int x_offset[T];
    float x_weight[T];
    #pragma unroll
    for (int j = 0; j < T; ++j) {
        x_offset[j] = (__ldg(ix + x * T + j) - x_first) * C;
        x_weight[j] = __ldg(wx + x * T + j);
    }
    float acc[C];
    #pragma unroll
    for (int c = 0; c < C; ++c) acc[c] = 0.0f;
    #pragma unroll
    for (int i = 0; i < T; ++i) {
        const float* row = tile + (__ldg(iy + y * T + i) - y_first) * row_len;
        float row_weight = __ldg(wy + y * T + i);
        float r[C];
        #pragma unroll
        for (int c = 0; c < C; ++c) r[c] = 0.0f;
        #pragma unroll
        for (int j = 0; j < T; ++j) {
            #pragma unroll
            for (int c = 0; c < C; ++c) r[c] = __fadd_rn(r[c], __fmul_rn(x_weight[j], row[x_offset[j] + c]));
        }
        #pragma unroll
        for (int c = 0; c < C; ++c) acc[c] = __fadd_rn(acc[c], __fmul_rn(row_weight, r[c]));
    }
    unsigned char value[C];
    #pragma unroll
    for (int c = 0; c < C; ++c) value[c] = round_u8(acc[c]);
    long long out_index = ((long long)y * out_w + x) * out_c;
    write_pixel<C>(value, dst, out_index, out_c, order, alpha, to_float, factor, low);
}

#define RESIZE_TILED(NAME, C, T) \
extern "C" __global__ void NAME( \
    const unsigned char* src, long long s0, void* dst, int out_h, int out_w, int out_c, const int* iy, \
    const float* wy, const int* ix, const float* wx, const int* order, int alpha, int to_float, \
    float factor, float low) { \
    resize_tiled_impl<C, T>(src, s0, dst, out_h, out_w, out_c, iy, wy, ix, wx, order, alpha, to_float, \
                            factor, low); }
RESIZE_TILED(resize_tiled_c3_t2, 3, 2)
RESIZE_TILED(resize_tiled_c3_t4, 3, 4)
RESIZE_TILED(resize_tiled_c4_t2, 4, 2)
RESIZE_TILED(resize_tiled_c4_t4, 4, 4)

#define CONVERT_U8(NAME, C, TILED, HOIST) \
extern "C" __global__ void NAME( \
    const unsigned char* src, long long s0, long long s1, long long s2, void* dst, int out_h, int out_w, \
    int out_c, int resized, const int* iy, const float* wy, int ty, const int* ix, const float* wx, int tx, \
    const int* order, int alpha, int to_float, float factor, float low) { \
    convert_u8_impl<C, TILED, HOIST>(src, s0, s1, s2, dst, out_h, out_w, out_c, resized, iy, wy, ty, ix, wx, \
                                     tx, order, alpha, to_float, factor, low); }
CONVERT_U8(convert_u8_c3, 3, false, false)
CONVERT_U8(convert_u8_c4, 4, false, false)
CONVERT_U8(convert_u8_c3_h8, 3, false, true)
CONVERT_U8(convert_u8_c4_h8, 4, false, true)
CONVERT_U8(convert_u8_c3_tiled, 3, true, false)
CONVERT_U8(convert_u8_c4_tiled, 4, true, false)
CONVERT_U8(convert_u8_c3_tiled_h8, 3, true, true)
CONVERT_U8(convert_u8_c4_tiled_h8, 4, true, true)

struct Yuv { float ky, y0, rv, gu, gv, bu; };

__device__ __forceinline__ void yuv_pixel(float luma, float red_v, float green_u, float green_v,
                                          float blue_u, const Yuv& m,
                                          unsigned char& r, unsigned char& g, unsigned char& b) {
    float Y = __fmul_rn(__fadd_rn(luma, -m.y0), m.ky);
    r = round_u8(__fadd_rn(Y, red_v));
    g = round_u8(__fadd_rn(__fadd_rn(Y, green_u), green_v));
    b = round_u8(__fadd_rn(Y, blue_u));
}

// NV12 -> RGB, PIXELS (2 or 4) horizontally adjacent pixels per thread; 4 uses word stores.
template <int PIXELS>
__device__ void nv12_impl(const unsigned char* __restrict__ luma, const unsigned char* __restrict__ chroma,
                          unsigned char* __restrict__ dst, int h, int w, const int* __restrict__ order, Yuv m)
{
    int x = PIXELS * (blockIdx.x * blockDim.x + threadIdx.x);
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= h) return;
    int o0 = __ldg(order), o1 = __ldg(order + 1), o2 = __ldg(order + 2);
    unsigned char out[3 * PIXELS];
    #pragma unroll
    for (int pair = 0; pair < PIXELS / 2; ++pair) {
        int px = x + 2 * pair;
        uchar2 uv = *reinterpret_cast<const uchar2*>(chroma + (long long)(y >> 1) * w + px);
        uchar2 yy = *reinterpret_cast<const uchar2*>(luma + (long long)y * w + px);
        float U = __fadd_rn((float)uv.x, -128.0f);
        float V = __fadd_rn((float)uv.y, -128.0f);
        float red_v = __fmul_rn(m.rv, V), green_u = __fmul_rn(m.gu, U);
        float green_v = __fmul_rn(m.gv, V), blue_u = __fmul_rn(m.bu, U);
        #pragma unroll
        for (int q = 0; q < 2; ++q) {
            unsigned char r, g, b;
            yuv_pixel((float)(q ? yy.y : yy.x), red_v, green_u, green_v, blue_u, m, r, g, b);
            // the channel order picks by comparison: a dynamic index would spill to local memory
            out[6 * pair + 3 * q] = o0 == 0 ? r : (o0 == 1 ? g : b);
            out[6 * pair + 3 * q + 1] = o1 == 0 ? r : (o1 == 1 ? g : b);
            out[6 * pair + 3 * q + 2] = o2 == 0 ? r : (o2 == 1 ? g : b);
        }
    }
    unsigned char* d = dst + ((long long)y * w + x) * 3;
    if (PIXELS == 4) {
        unsigned int* words = reinterpret_cast<unsigned int*>(d);
        #pragma unroll
        for (int i = 0; i < 3; ++i)
            words[i] = out[4 * i] | (out[4 * i + 1] << 8) | (out[4 * i + 2] << 16)
                       | ((unsigned int)out[4 * i + 3] << 24);
    } else {
        #pragma unroll
        for (int i = 0; i < 3 * PIXELS; ++i) d[i] = out[i];
    }
}

#define NV12(NAME, PIXELS) \
extern "C" __global__ void NAME(const unsigned char* luma, const unsigned char* chroma, unsigned char* dst, \
                                int h, int w, const int* order, float ky, float y0, float rv, float gu, \
                                float gv, float bu) { \
    Yuv m = {ky, y0, rv, gu, gv, bu}; \
    nv12_impl<PIXELS>(luma, chroma, dst, h, w, order, m); }
NV12(nv12_to_rgb_x2, 2)
NV12(nv12_to_rgb_x4, 4)
"""

_BLOCK = (32, 8, 1)
_MAX_TILE = 40 << 10  # bytes of shared memory a resizing block may use


@functools.cache
def _module() -> Any:
    cupy = _cuda.cupy_module()
    return cupy.RawModule(code=_SOURCE, options=("-fmad=false", "--std=c++17"))


@dataclass(frozen=True)
class CudaFormatPlan:
    """A plan with its filter tables, channel order and tile size on the device."""

    plan: FormatPlan
    tables: tuple[Any, ...]
    order: Any
    tile_bytes: int
    """Shared memory per block for the tiled resize (0: not tiled)."""


def _tile_bytes(plan: FormatPlan) -> int:
    """Shared memory for the largest source window any 32x8 output block reads (as float32)."""
    assert plan.y_table is not None and plan.x_table is not None
    iy, ix = plan.y_table[0], plan.x_table[0]

    def span(index: np.ndarray, block: int) -> int:
        starts = index[::block, 0]
        ends = index[np.minimum(np.arange(block - 1, len(index) + block - 1, block), len(index) - 1), -1]
        return int((ends - starts).max()) + 1

    return span(iy, _BLOCK[1]) * span(ix, _BLOCK[0]) * plan.channels * 4  # float32 tile


def prepare_cuda(plan: FormatPlan) -> CudaFormatPlan:
    """Upload what the kernels of ``plan`` need (once per plan)."""
    cupy = _cuda.cupy_module()
    tables: tuple[Any, ...] = ()
    tile = 0
    if plan.resized:
        assert plan.y_table is not None and plan.x_table is not None
        tables = tuple(cupy.asarray(np.ascontiguousarray(t)) for t in (*plan.y_table, *plan.x_table))
        tile = _tile_bytes(plan)
        tile = tile if tile <= _MAX_TILE else 0
    return CudaFormatPlan(plan, tables, cupy.asarray(np.array(plan.order, dtype=np.int32)), tile)


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
        pixels = 4 if w % 4 == 0 and out.data.ptr % 4 == 0 else 2  # word stores need alignment
        matrix = tuple(np.float32(c) for c in YUV_MATRICES[plan.in_dtype])
        _module().get_function(f"nv12_to_rgb_x{pixels}")(
            _grid(w // pixels, h),
            _BLOCK,
            (flat, flat[h * w :], out, np.int32(h), np.int32(w), prepared.order, *matrix),
        )
        return out
    image = source.reshape(plan.height, plan.width, plan.channels) if source.ndim == 2 else source
    strides = tuple(np.int64(s // image.itemsize) for s in image.strides)
    out_h, out_w, out_c = plan.out_shape
    factor, low = plan.float_factor()
    tiled = prepared.tile_bytes > 0 and strides[1] == plan.channels and strides[2] == 1
    if plan.resized:
        iy, wy, ix, wx = prepared.tables
        taps = (np.int32(iy.shape[1]), np.int32(ix.shape[1]))
    else:
        iy = wy = ix = wx = prepared.order  # unused placeholders
        taps = (np.int32(0), np.int32(0))
    if tiled and int(taps[0]) == int(taps[1]) and int(taps[0]) in (2, 4):
        _module().get_function(f"resize_tiled_c{plan.channels}_t{int(taps[0])}")(
            _grid(out_w, out_h),
            _BLOCK,
            (
                image,
                strides[0],
                out,
                np.int32(out_h),
                np.int32(out_w),
                np.int32(out_c),
                iy,
                wy,
                ix,
                wx,
                prepared.order,
                np.int32(plan.alpha_value),
                np.int32(dtype == np.float32),
                factor,
                low,
            ),
            shared_mem=prepared.tile_bytes,
        )
        return out
    hoist = plan.resized and int(taps[1]) <= 8
    name = f"convert_u8_c{plan.channels}" + ("_tiled" if tiled else "") + ("_h8" if hoist else "")
    _module().get_function(name)(
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
        shared_mem=prepared.tile_bytes if tiled else 0,
    )
    return out
