"""Fused CUDA kernels for format conversion: one read of the input, one write of the output.

``u8`` plans (uint8 RGB/RGBA: resize, scale to float32, RGB↔RGBA, channel order) and NV12 →
RGB run as single kernels; other plans run the reference code of ``_format`` on CuPy arrays.
The module is compiled without contraction: every fused multiply-add is an explicit
``__fmaf_rn`` where the reference has one, the rest ``__fmul_rn`` / ``__fadd_rn`` in the
reference's order, so the output equals the numpy reference bit for bit.

The resize is separable: a block copies the source window of its 32x8 output pixels into
shared memory with word loads, filters each window row horizontally once for its 32 columns,
then each thread filters its column vertically. The window size is the largest any block
needs, computed on the host from the filter tables; where it exceeds ``_MAX_SHARED`` (extreme
downscaling), the filters have more than 4 taps, or the pixels are not packed in word-aligned
rows, a one-pixel-per-thread kernel reads the taps from global memory instead. NV12 runs four
pixels per thread with word-sized loads and stores when the width allows.
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
// x rounded half up to an 8-bit level, as a float (NaN -> 0: fmaxf returns the number).
__device__ __forceinline__ float level_u8(float x) {
    return fminf(fmaxf(floorf(__fadd_rn(x, 0.5f)), 0.0f), 255.0f);
}

__device__ __forceinline__ unsigned char round_u8(float x) { return (unsigned char)level_u8(x); }

// Writes one output pixel from the levels of its C input channels: output channel k is input
// channel (order >> 4k) & 15, 15 meaning alpha; as uint8 or scaled to float.
template <int C>
__device__ __forceinline__ void write_pixel(const float* level, void* dst, long long out_index, int out_c,
                                            int order, float alpha, int to_float, float factor, float low)
{
    #pragma unroll
    for (int k = 0; k < 4; ++k) {
        if (k >= out_c) break;
        int c = (order >> (4 * k)) & 15;
        float v = alpha;
        #pragma unroll
        for (int s = 0; s < C; ++s) v = s == c ? level[s] : v;
        if (to_float) ((float*)dst)[out_index + k] = __fadd_rn(__fmul_rn(v, factor), low);
        else ((unsigned char*)dst)[out_index + k] = (unsigned char)v;
    }
}

// Resize (optional) + convert for uint8 input with C channels, taps read from global memory;
// one thread per output pixel. HOIST: the (at most 8) horizontal taps are kept in registers.
template <int C, bool HOIST>
__device__ void convert_u8_impl(
    const unsigned char* __restrict__ src, long long s0, long long s1, long long s2,
    void* __restrict__ dst, int out_h, int out_w, int out_c,
    int resized, const int* __restrict__ iy, const float* __restrict__ wy, int ty,
    const int* __restrict__ ix, const float* __restrict__ wx, int tx,
    int order, float alpha, int to_float, float factor, float low)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= out_w || y >= out_h) return;
    float value[C];
    if (!resized) {
        const unsigned char* p = src + y * s0 + x * s1;
        #pragma unroll
        for (int c = 0; c < C; ++c) value[c] = (float)p[c * s2];
    } else {
        float acc[C];
        #pragma unroll
        for (int c = 0; c < C; ++c) acc[c] = 0.0f;
        long long x_offset[8];
        float x_weight[8];
        if (HOIST) {
            #pragma unroll
            for (int j = 0; j < 8; ++j) {
                x_offset[j] = j < tx ? __ldg(ix + x * tx + j) * s1 : 0;
                x_weight[j] = j < tx ? __ldg(wx + x * tx + j) : 0.0f;
            }
        }
        for (int i = 0; i < ty; ++i) {
            const unsigned char* line = src + __ldg(iy + y * ty + i) * s0;
            float r[C];
            #pragma unroll
            for (int c = 0; c < C; ++c) r[c] = 0.0f;
            if (HOIST) {
                #pragma unroll
                for (int j = 0; j < 8; ++j) {
                    if (j < tx) {
                        #pragma unroll
                        for (int c = 0; c < C; ++c)
                            r[c] = __fmaf_rn(x_weight[j], (float)__ldg(line + x_offset[j] + c * s2), r[c]);
                    }
                }
            } else {
                for (int j = 0; j < tx; ++j) {
                    const unsigned char* p = line + __ldg(ix + x * tx + j) * s1;
                    float w = __ldg(wx + x * tx + j);
                    #pragma unroll
                    for (int c = 0; c < C; ++c) r[c] = __fmaf_rn(w, (float)__ldg(p + c * s2), r[c]);
                }
            }
            float row_weight = __ldg(wy + y * ty + i);
            #pragma unroll
            for (int c = 0; c < C; ++c) acc[c] = __fmaf_rn(row_weight, r[c], acc[c]);
        }
        #pragma unroll
        for (int c = 0; c < C; ++c) value[c] = level_u8(acc[c]);
    }
    long long out_index = ((long long)y * out_w + x) * out_c;
    write_pixel<C>(value, dst, out_index, out_c, order, alpha, to_float, factor, low);
}

#define CONVERT_U8(NAME, C, HOIST) \
extern "C" __global__ void NAME( \
    const unsigned char* src, long long s0, long long s1, long long s2, void* dst, int out_h, int out_w, \
    int out_c, int resized, const int* iy, const float* wy, int ty, const int* ix, const float* wx, int tx, \
    int order, float alpha, int to_float, float factor, float low) { \
    convert_u8_impl<C, HOIST>(src, s0, s1, s2, dst, out_h, out_w, out_c, resized, iy, wy, ty, ix, wx, tx, \
                              order, alpha, to_float, factor, low); }
CONVERT_U8(convert_u8_c3, 3, false)
CONVERT_U8(convert_u8_c4, 4, false)
CONVERT_U8(convert_u8_c3_h8, 3, true)
CONVERT_U8(convert_u8_c4_h8, 4, true)

// Byte c of a word as a float: 2^23 + byte, built by a byte permute, less 2^23 (exact, and two
// full-rate instructions where an integer-to-float conversion is a quarter-rate one).
__device__ __forceinline__ float byte_value(unsigned int word, int c) {
    return __int_as_float(__byte_perm(word, 0x4B000000u, 0x7540 + c)) - 8388608.0f;
}

// Separable resize of packed 8-bit pixels, T taps on both axes; a block of 32x8 threads makes
// a 32x16 tile of output pixels (two rows per thread):
// 1. the block's source window goes to shared memory, one word per pixel (RGB padded);
// 2. each window row is filtered horizontally once for the tile's 32 columns (a float4 each);
// 3. each output pixel filters its column of those sums vertically.
// The window tile holds `groups` 4-pixel groups per row and `rows_max` rows.
template <int C, int T>
__device__ void resize_separable_impl(
    const unsigned char* __restrict__ src, long long s0, int in_w, void* __restrict__ dst,
    int out_h, int out_w, int out_c,
    const int* __restrict__ iy, const float* __restrict__ wy, const int* __restrict__ ix,
    const float* __restrict__ wx, int order, float alpha, int to_float, float factor, float low,
    int groups, int rows_max)
{
    extern __shared__ uint4 shared[];
    const unsigned int* tile = reinterpret_cast<const unsigned int*>(shared);
    float4* sums = reinterpret_cast<float4*>(shared + rows_max * groups);
    const int width = 32, height = 16, threads_y = 8;
    int bx0 = blockIdx.x * width, by0 = blockIdx.y * height;
    int bx1 = min(bx0 + width, out_w) - 1, by1 = min(by0 + height, out_h) - 1;
    int y_first = __ldg(iy + by0 * T), x_first = __ldg(ix + bx0 * T) & ~3;
    int rows = __ldg(iy + by1 * T + T - 1) - y_first + 1;
    int row_groups = (__ldg(ix + bx1 * T + T - 1) - x_first) / 4 + 1;
    for (int g = threadIdx.x; g < row_groups; g += width) {
        int px = x_first + 4 * g;
        const unsigned char* column = src + (long long)y_first * s0 + px * C;
        for (int r = threadIdx.y; r < rows; r += threads_y) {
            const unsigned char* line = column + r * s0;
            uint4 words;
            if (px + 3 < in_w) {
                const unsigned int* w = reinterpret_cast<const unsigned int*>(line);
                if (C == 4) {
                    words = make_uint4(__ldg(w), __ldg(w + 1), __ldg(w + 2), __ldg(w + 3));
                } else {  // 12 bytes R0G0B0R1 G1B1R2G2 B2R3G3B3 -> four padded pixels
                    unsigned int a = __ldg(w), b = __ldg(w + 1), c = __ldg(w + 2);
                    words = make_uint4(a, __byte_perm(a, b, 0x0543), __byte_perm(b, c, 0x0432), c >> 8);
                }
            } else {
                unsigned int p[4] = {0, 0, 0, 0};
                for (int k = 0; k < 4 && px + k < in_w; ++k)
                    for (int c = 0; c < C; ++c) p[k] |= (unsigned int)line[k * C + c] << (8 * c);
                words = make_uint4(p[0], p[1], p[2], p[3]);
            }
            shared[r * groups + g] = words;
        }
    }
    __syncthreads();
    int x = min(bx0 + (int)threadIdx.x, bx1);
    int offset[T];
    float weight[T];
    #pragma unroll
    for (int j = 0; j < T; ++j) {
        offset[j] = __ldg(ix + x * T + j) - x_first;
        weight[j] = __ldg(wx + x * T + j);
    }
    for (int r = threadIdx.y; r < rows; r += threads_y) {
        const unsigned int* line = tile + r * groups * 4;
        float h[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        #pragma unroll
        for (int j = 0; j < T; ++j) {
            unsigned int pixel = line[offset[j]];
            #pragma unroll
            for (int c = 0; c < C; ++c) h[c] = __fmaf_rn(weight[j], byte_value(pixel, c), h[c]);
        }
        sums[r * width + threadIdx.x] = make_float4(h[0], h[1], h[2], h[3]);
    }
    __syncthreads();
    x = bx0 + threadIdx.x;
    if (x >= out_w) return;
    #pragma unroll
    for (int half = 0; half < height / threads_y; ++half) {
        int y = by0 + threadIdx.y + half * threads_y;
        if (y >= out_h) return;
        float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        #pragma unroll
        for (int i = 0; i < T; ++i) {
            float4 h = sums[(__ldg(iy + y * T + i) - y_first) * width + threadIdx.x];
            float w = __ldg(wy + y * T + i);
            acc[0] = __fmaf_rn(w, h.x, acc[0]);
            acc[1] = __fmaf_rn(w, h.y, acc[1]);
            acc[2] = __fmaf_rn(w, h.z, acc[2]);
            if (C == 4) acc[3] = __fmaf_rn(w, h.w, acc[3]);
        }
        float value[C];
        #pragma unroll
        for (int c = 0; c < C; ++c) value[c] = level_u8(acc[c]);
        write_pixel<C>(value, dst, ((long long)y * out_w + x) * out_c, out_c, order, alpha, to_float, factor,
                       low);
    }
}

#define RESIZE_SEPARABLE(C, T) \
extern "C" __global__ void __launch_bounds__(256) resize_separable_c##C##_t##T( \
    const unsigned char* src, long long s0, int in_w, void* dst, int out_h, int out_w, int out_c, \
    const int* iy, const float* wy, const int* ix, const float* wx, int order, float alpha, \
    int to_float, float factor, float low, int groups, int rows_max) { \
    resize_separable_impl<C, T>(src, s0, in_w, dst, out_h, out_w, out_c, iy, wy, ix, wx, order, alpha, \
                                to_float, factor, low, groups, rows_max); }
RESIZE_SEPARABLE(3, 1)
RESIZE_SEPARABLE(3, 2)
RESIZE_SEPARABLE(3, 3)
RESIZE_SEPARABLE(3, 4)
RESIZE_SEPARABLE(4, 1)
RESIZE_SEPARABLE(4, 2)
RESIZE_SEPARABLE(4, 3)
RESIZE_SEPARABLE(4, 4)

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
_TILE = (32, 16)  # output pixels of a separable-resize block: two rows per thread
_MAX_SHARED = 48 << 10  # bytes of shared memory a resizing block may use without opting in


@functools.cache
def _module() -> Any:
    cupy = _cuda.cupy_module()
    return cupy.RawModule(code=_SOURCE, options=("-fmad=false", "--std=c++17"))


@dataclass(frozen=True)
class CudaFormatPlan:
    """A plan with its filter tables, channel order and resize window on the device."""

    plan: FormatPlan
    tables: tuple[Any, ...]
    order: Any
    """The channel order as a device array (NV12 kernels)."""
    order_code: np.int32
    """The channel order packed 4 bits per output channel, 15 for alpha (uint8 kernels)."""
    window: tuple[int, int] | None
    """``(rows, groups)``: the largest source window of any block of the separable resize, in
    rows and 4-pixel groups; None where the plan runs the untiled kernel."""


def _shared_bytes(window: tuple[int, int]) -> int:
    """Shared memory per block of the separable resize: the window, then a float4 sum per column."""
    rows, groups = window
    return rows * (groups + _TILE[0]) * 16


def _window(plan: FormatPlan) -> tuple[int, int] | None:
    """The source window (rows, 4-pixel groups) the separable kernel needs, or None where it
    does not apply (taps differ between axes or exceed 4, or the window is too large)."""
    assert plan.y_table is not None and plan.x_table is not None
    iy, ix = plan.y_table[0], plan.x_table[0]
    taps = iy.shape[1]
    if ix.shape[1] != taps or taps > 4:
        return None

    def ends(index: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
        last = np.minimum(np.arange(block - 1, len(index) + block - 1, block), len(index) - 1)
        return index[::block, 0], index[last, -1]

    top, bottom = ends(iy, _TILE[1])
    left, right = ends(ix, _TILE[0])
    rows = int((bottom - top).max()) + 1
    groups = int(((right - (left & ~3)) // 4).max()) + 1
    return (rows, groups) if _shared_bytes((rows, groups)) <= _MAX_SHARED else None


def prepare_cuda(plan: FormatPlan) -> CudaFormatPlan:
    """Upload what the kernels of ``plan`` need (once per plan)."""
    cupy = _cuda.cupy_module()
    tables: tuple[Any, ...] = ()
    window = None
    if plan.resized:
        assert plan.y_table is not None and plan.x_table is not None
        tables = tuple(cupy.asarray(np.ascontiguousarray(t)) for t in (*plan.y_table, *plan.x_table))
        window = _window(plan)
    order = cupy.asarray(np.array(plan.order, dtype=np.int32))
    code = sum((c if c >= 0 else 15) << (4 * k) for k, c in enumerate(plan.order))
    return CudaFormatPlan(plan, tables, order, np.int32(code), window)


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
    to_float = np.int32(dtype == np.float32)
    packed = strides[1] == plan.channels and strides[2] == 1
    aligned = image.data.ptr % 4 == 0 and int(strides[0]) % 4 == 0  # word loads of pixel rows
    if prepared.window is not None and packed and aligned:
        iy, wy, ix, wx = prepared.tables
        rows, groups = prepared.window
        _module().get_function(f"resize_separable_c{plan.channels}_t{iy.shape[1]}")(
            (-(-out_w // _TILE[0]), -(-out_h // _TILE[1]), 1),
            _BLOCK,
            (
                image,
                strides[0],
                np.int32(plan.width),
                out,
                np.int32(out_h),
                np.int32(out_w),
                np.int32(out_c),
                iy,
                wy,
                ix,
                wx,
                prepared.order_code,
                np.float32(plan.alpha_value),
                to_float,
                factor,
                low,
                np.int32(groups),
                np.int32(rows),
            ),
            shared_mem=_shared_bytes(prepared.window),
        )
        return out
    if plan.resized:
        iy, wy, ix, wx = prepared.tables
        taps = (np.int32(iy.shape[1]), np.int32(ix.shape[1]))
    else:
        iy = wy = ix = wx = prepared.order  # unused pointers
        taps = (np.int32(0), np.int32(0))
    hoist = plan.resized and int(taps[1]) <= 8
    _module().get_function(f"convert_u8_c{plan.channels}" + ("_h8" if hoist else ""))(
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
            prepared.order_code,
            np.float32(plan.alpha_value),
            to_float,
            factor,
            low,
        ),
    )
    return out
