"""Fused CUDA kernels for format conversion: one read of the input, one write of the output.

``u8`` plans (uint8 RGB/RGBA: resize, scale to float32, RGB↔RGBA, channel order) and NV12 →
RGB run as single kernels; other plans run the reference code of ``_format`` on CuPy arrays.
The resize is integer arithmetic (see ``_format``); the float operations are ``__fmul_rn`` /
``__fadd_rn`` in the reference's order, in a module compiled without contraction, so the
output equals the numpy reference bit for bit.

The resize is separable where the filters have at most 4 taps: a block copies the source
window of its 32x16 output pixels into shared memory as byte planes, filters each window row
horizontally once for its 32 columns (dp2a), then each thread filters its column vertically.
The window size is the largest any block needs, computed on the host from the filter tables;
where it exceeds ``_MAX_SHARED`` (extreme downscaling), the filters are longer, or the pixels
are not packed in word-aligned rows, a one-pixel-per-thread kernel reads the taps from global
memory instead. An opt-in variant of the separable kernel (``prepare_cuda(plan, "staged")`` or
``HOLOFLOW_RESIZE_KERNEL=staged``) copies the window's bytes with ``cp.async`` and stores each
tile row with 16-byte writes; it computes the same numbers. NV12 runs four pixels per thread
with word-sized loads and stores when the width allows.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holoflow._env import holoflow_setting
from holoflow.errors import ConfigError
from holoflow.kernels._format import YUV_MATRICES, FormatPlan, convert
from holoflow.kernels._resize import SUM_SHIFT, WEIGHT_BITS, ResizeFilter
from holoflow.tensor import cupy_module

__all__ = ["CudaFormatPlan", "convert_cuda", "prepare_cuda", "resize_kernel_choice", "staged_tables"]

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

// The 8-bit level of a vertical sum in fixed point (see _format), as a float (exact).
__device__ __forceinline__ float level_of(int acc) {
    int level = min(max((acc + (1 << (LEVEL_SHIFT - 1))) >> LEVEL_SHIFT, 0), 255);
    return __int_as_float(0x4B000000 | level) - 8388608.0f;
}

__device__ __forceinline__ int round_sum(int sum) { return (sum + (1 << (SUM_SHIFT - 1))) >> SUM_SHIFT; }

// Resize (optional) + convert for uint8 input with C channels, taps read from global memory;
// one thread per output pixel. iy/ix: clamped source indices, ky/kx: fixed-point weights.
template <int C>
__device__ void convert_u8_impl(
    const unsigned char* __restrict__ src, long long s0, long long s1, long long s2,
    void* __restrict__ dst, int out_h, int out_w, int out_c,
    int resized, const int* __restrict__ iy, const int* __restrict__ ky, int ty,
    const int* __restrict__ ix, const int* __restrict__ kx, int tx,
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
        int acc[C];
        #pragma unroll
        for (int c = 0; c < C; ++c) acc[c] = 0;
        for (int i = 0; i < ty; ++i) {
            const unsigned char* line = src + __ldg(iy + y * ty + i) * s0;
            int row[C];
            #pragma unroll
            for (int c = 0; c < C; ++c) row[c] = 0;
            for (int j = 0; j < tx; ++j) {
                const unsigned char* p = line + __ldg(ix + x * tx + j) * s1;
                int k = __ldg(kx + x * tx + j);
                #pragma unroll
                for (int c = 0; c < C; ++c) row[c] += k * (int)__ldg(p + c * s2);
            }
            int k = __ldg(ky + y * ty + i);
            #pragma unroll
            for (int c = 0; c < C; ++c) acc[c] += k * round_sum(row[c]);
        }
        #pragma unroll
        for (int c = 0; c < C; ++c) value[c] = level_of(acc[c]);
    }
    long long out_index = ((long long)y * out_w + x) * out_c;
    write_pixel<C>(value, dst, out_index, out_c, order, alpha, to_float, factor, low);
}

#define CONVERT_U8(NAME, C) \
extern "C" __global__ void NAME( \
    const unsigned char* src, long long s0, long long s1, long long s2, void* dst, int out_h, int out_w, \
    int out_c, int resized, const int* iy, const int* ky, int ty, const int* ix, const int* kx, int tx, \
    int order, float alpha, int to_float, float factor, float low) { \
    convert_u8_impl<C>(src, s0, s1, s2, dst, out_h, out_w, out_c, resized, iy, ky, ty, ix, kx, tx, order, \
                       alpha, to_float, factor, low); }
CONVERT_U8(convert_u8_c3, 3)
CONVERT_U8(convert_u8_c4, 4)

// Channel c of four pixels (C bytes each, in `words`) as one word: byte k is pixel k's.
template <int C>
__device__ __forceinline__ unsigned int plane_word(const unsigned int* words, int c) {
    if (C == 3) {  // R0G0B0R1 G1B1R2G2 B2R3G3B3
        unsigned int a = words[0], b = words[1], d = words[2];
        if (c == 0) return __byte_perm(__byte_perm(a, b, 0x0630), d, 0x5210);
        if (c == 1) return __byte_perm(__byte_perm(a, b, 0x0741), d, 0x6210);
        return __byte_perm(__byte_perm(a, b, 0x0052), d, 0x7410);
    }
    unsigned int low = __byte_perm(words[0], words[1], 0x0040 + 0x0011 * c);
    unsigned int high = __byte_perm(words[2], words[3], 0x0040 + 0x0011 * c);
    return __byte_perm(low, high, 0x5410);
}

// d = c + a.h0 * b.b0 + a.h1 * b.b1 (LO) or with bytes 2 and 3 (HI): signed 16-bit weights,
// unsigned 8-bit samples.
__device__ __forceinline__ int dot2_lo(int a, unsigned int b, int c) {
    int d;
    asm("dp2a.lo.s32.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}
__device__ __forceinline__ int dot2_hi(int a, unsigned int b, int c) {
    int d;
    asm("dp2a.hi.s32.u32 %0, %1, %2, %3;" : "=r"(d) : "r"(a), "r"(b), "r"(c));
    return d;
}

// One window row's horizontal sum for one channel: its 4 tap samples (`taps`, byte k = tap k)
// times the packed 16-bit weights, rounded to SUM_SHIFT (the rounding's addition folded in).
__device__ __forceinline__ int horizontal_sum(int pair01, int pair23, unsigned int taps) {
    const int half = 1 << (SUM_SHIFT - 1);
    return dot2_hi(pair23, taps, dot2_lo(pair01, taps, half)) >> SUM_SHIFT;
}

// The levels of one output pixel: its column of horizontal sums (`column`: an int4 per window
// row, 32 to a row) filtered by its row's 4 taps (`o`: byte offsets into the column, `k`: weights).
template <int C>
__device__ __forceinline__ void vertical_levels(const unsigned char* column, int4 o, int4 k, float* value) {
    int offsets[4] = {o.x, o.y, o.z, o.w}, weights[4] = {k.x, k.y, k.z, k.w};
    int acc[4] = {0, 0, 0, 0};
    #pragma unroll
    for (int i = 0; i < 4; ++i) {
        int4 h = *reinterpret_cast<const int4*>(column + offsets[i]);
        acc[0] += weights[i] * h.x;
        acc[1] += weights[i] * h.y;
        acc[2] += weights[i] * h.z;
        if (C == 4) acc[3] += weights[i] * h.w;
    }
    #pragma unroll
    for (int c = 0; c < C; ++c) value[c] = level_of(acc[c]);
}

// Writes one output pixel of a resize: its C levels in order where the output is the input's
// channels (`identity`), else through write_pixel.
template <int C>
__device__ __forceinline__ void store_pixel(const float* value, void* dst, unsigned int out_index, int out_c,
                                            int identity, int order, float alpha, int to_float,
                                            float factor, float low) {
    if (identity) {
        float* as_float = (float*)dst + out_index;
        unsigned char* as_byte = (unsigned char*)dst + out_index;
        #pragma unroll
        for (int c = 0; c < C; ++c) {
            if (to_float) as_float[c] = __fadd_rn(__fmul_rn(value[c], factor), low);
            else as_byte[c] = (unsigned char)value[c];
        }
    } else {
        write_pixel<C>(value, dst, out_index, out_c, order, alpha, to_float, factor, low);
    }
}

// Separable fixed-point resize of packed 8-bit pixels, up to 4 consecutive taps per axis. A
// block of 32x8 threads makes a 32x(8*ROWS_PER_THREAD) tile of output pixels:
// 1. the tile's source window goes to shared memory as C byte planes per row (pixel k of a
//    row at byte k of each plane), edge pixels repeated where taps fall outside the image;
// 2. each window row is filtered horizontally once for the tile's 32 columns: the 4 bytes from
//    a column's first tap, two dp2a per channel, rounded (SUM_SHIFT) into an int4;
// 3. each output pixel filters its column of those sums vertically.
// The host precomputes each tile row's and column's window (`block_rows`: first source row,
// rows, before clamping; `block_cols`: first pixel (a multiple of 4, before clamping), 4-pixel
// groups and ceil(2^32 / groups) mod 2^32), each output column's first tap within its window
// and packed 16-bit weight pairs (`x_taps`: position, weights 0|1, weights 2|3), and each
// output row's taps as byte
// offsets into the tile's sums with their weights (`y_taps`, `y_weights`). Shared memory holds
// the sums, then the window: `rows_max` rows of C planes of `plane` bytes. `identity`: the
// output is the C input channels in order. Offsets are 32-bit (the host checks the sizes).
template <int C>
__device__ void resize_separable_impl(
    const unsigned char* __restrict__ src, long long s0, int in_h, int in_w, void* __restrict__ dst,
    int out_h, int out_w, int out_c,
    const int2* __restrict__ block_rows, const int4* __restrict__ block_cols,
    const int4* __restrict__ y_taps, const int4* __restrict__ y_weights, const int4* __restrict__ x_taps,
    int order, float alpha, int to_float, float factor, float low, int plane, int rows_max, int identity)
{
    const int width = 32, threads_y = 8, height = threads_y * ROWS_PER_THREAD, threads = width * threads_y;
    extern __shared__ uint4 shared[];
    int4* sums = reinterpret_cast<int4*>(shared);  // first: 16-byte aligned
    unsigned char* window = reinterpret_cast<unsigned char*>(sums + rows_max * width);
    __shared__ int4 y_table[2][height];  // each output row's tap offsets, then its weights
    int2 span_rows = __ldg(block_rows + blockIdx.y);
    int4 span_cols = __ldg(block_cols + blockIdx.x);
    int x = min((int)(blockIdx.x * width + threadIdx.x), out_w - 1);
    int4 x_tap = __ldg(x_taps + x);  // issued early: used once the window is in
    int thread = threadIdx.y * width + threadIdx.x;
    if (thread < 2 * height) {
        int y = min((int)blockIdx.y * height + thread % height, out_h - 1);
        y_table[thread / height][thread % height] = __ldg((thread < height ? y_taps : y_weights) + y);
    }
    int y_first = span_rows.x, rows = span_rows.y, x_first = span_cols.x, groups = span_cols.y;
    // (row, group) items, `batch` per thread at a time so that their loads are in flight
    // together; item / groups is umulhi(item, ceil(2^32 / groups)), exact as items < 2^16
    const int batch = 3;
    unsigned int reciprocal = (unsigned int)span_cols.z;
    int items = rows * groups, plane_words = plane >> 2, row_words = C * plane_words;
    unsigned int* window_words = reinterpret_cast<unsigned int*>(window);
    for (int base = thread; base < items; base += batch * threads) {
        unsigned int words[batch][C];
        int slot[batch];  // word index of the item's first plane in the window, -1: none
        #pragma unroll
        for (int n = 0; n < batch; ++n) {
            int item = base + n * threads;
            slot[n] = -1;
            if (item >= items) continue;
            int r = reciprocal ? (int)__umulhi((unsigned int)item, reciprocal) : item;  // 0: one group
            int g = item - r * groups;
            int px = x_first + 4 * g;
            unsigned int row = (unsigned int)min(max(y_first + r, 0), in_h - 1);
            const unsigned char* line = src + (size_t)row * (unsigned int)s0;
            if (px >= 0 && px + 3 < in_w) {
                const unsigned int* w = reinterpret_cast<const unsigned int*>(line + (unsigned int)px * C);
                #pragma unroll
                for (int k = 0; k < C; ++k) words[n][k] = __ldg(w + k);
            } else {  // at the image's edge: repeat its first or last pixel
                unsigned char bytes[4 * C];
                #pragma unroll
                for (int k = 0; k < 4; ++k) {
                    const unsigned char* p = line + min(max(px + k, 0), in_w - 1) * C;
                    #pragma unroll
                    for (int c = 0; c < C; ++c) bytes[k * C + c] = p[c];
                }
                #pragma unroll
                for (int k = 0; k < C; ++k)
                    words[n][k] = bytes[4 * k] | (bytes[4 * k + 1] << 8) | (bytes[4 * k + 2] << 16)
                                  | ((unsigned int)bytes[4 * k + 3] << 24);
            }
            slot[n] = r * row_words + g;
        }
        #pragma unroll
        for (int n = 0; n < batch; ++n) {
            if (slot[n] < 0) continue;
            #pragma unroll
            for (int c = 0; c < C; ++c) window_words[slot[n] + c * plane_words] = plane_word<C>(words[n], c);
        }
    }
    __syncthreads();
    int position = x_tap.x, shift = 8 * (position & 3), pair01 = x_tap.y, pair23 = x_tap.z;
    const unsigned char* first = window + (position & ~3);
    for (int r = threadIdx.y; r < rows; r += threads_y) {
        const unsigned char* line = first + r * C * plane;
        int h[4] = {0, 0, 0, 0};
        #pragma unroll
        for (int c = 0; c < C; ++c) {
            const unsigned int* w = reinterpret_cast<const unsigned int*>(line + c * plane);
            h[c] = horizontal_sum(pair01, pair23, __funnelshift_r(w[0], w[1], shift));
        }
        sums[r * width + threadIdx.x] = make_int4(h[0], h[1], h[2], h[3]);
    }
    __syncthreads();
    x = blockIdx.x * width + threadIdx.x;
    if (x >= out_w) return;
    const unsigned char* column = reinterpret_cast<const unsigned char*>(sums + threadIdx.x);
    #pragma unroll
    for (int part = 0; part < ROWS_PER_THREAD; ++part) {
        int local = threadIdx.y + part * threads_y, y = blockIdx.y * height + local;
        if (y >= out_h) return;
        float value[C];
        vertical_levels<C>(column, y_table[0][local], y_table[1][local], value);
        unsigned int out_index = ((unsigned int)y * out_w + x) * out_c;
        store_pixel<C>(value, dst, out_index, out_c, identity, order, alpha, to_float, factor, low);
    }
}

#define RESIZE_SEPARABLE(C) \
extern "C" __global__ void __launch_bounds__(256) resize_separable_c##C( \
    const unsigned char* src, long long s0, int in_h, int in_w, void* dst, int out_h, int out_w, int out_c, \
    const int2* block_rows, const int4* block_cols, const int4* y_taps, const int4* y_weights, \
    const int4* x_taps, int order, float alpha, int to_float, float factor, float low, int plane, \
    int rows_max, int identity) { \
    resize_separable_impl<C>(src, s0, in_h, in_w, dst, out_h, out_w, out_c, block_rows, block_cols, y_taps, \
                             y_weights, x_taps, order, alpha, to_float, factor, low, plane, rows_max, \
                             identity); }
RESIZE_SEPARABLE(3)
RESIZE_SEPARABLE(4)

// The same separable resize with the source window copied to shared memory by cp.async, as
// the bytes of the source rows (no registers on the way, every load in flight at once), and
// the output written by warp-wide 16-byte stores through a shared staging row. The window of
// a block starts at pixel `block_cols.x` (a multiple of 16 bytes and of the pixel size) and
// spans `block_cols.y` 16-byte chunks per row; the horizontal pass deinterleaves each column's
// 4 taps from the interleaved bytes. A column whose taps pass the image's edge reads each tap
// at its clamped index (the window covers the image's edge pixels). `x_taps`: each output
// column's first tap (absolute, before clamping) and packed weights. `row_bytes`: the window's
// row pitch in shared memory (a multiple of 16, with 16 bytes to spare). `vector_out`: the
// output's rows start on 16-byte boundaries, so full tile rows go out as 16-byte stores.
// Needs a source pointer and row pitch that are multiples of 16 bytes (the host checks).
template <int C>
__device__ void resize_staged_impl(
    const unsigned char* __restrict__ src, long long s0, int in_h, int in_w, void* __restrict__ dst,
    int out_h, int out_w, int out_c,
    const int2* __restrict__ block_rows, const int2* __restrict__ block_cols,
    const int4* __restrict__ y_taps, const int4* __restrict__ y_weights, const int4* __restrict__ x_taps,
    int order, float alpha, int to_float, float factor, float low, int row_bytes, int rows_max,
    int identity, int vector_out)
{
    const int width = 32, threads_y = 8, height = threads_y * ROWS_PER_THREAD, threads = width * threads_y;
    extern __shared__ uint4 shared[];
    int4* sums = reinterpret_cast<int4*>(shared);
    unsigned char* window = reinterpret_cast<unsigned char*>(sums + rows_max * width);
    __shared__ int4 y_table[2][height];
    __shared__ __align__(16) unsigned char stage[threads_y][width * 16];  // one output row per warp
    int2 span_rows = __ldg(block_rows + blockIdx.y);
    int2 span_cols = __ldg(block_cols + blockIdx.x);
    int y_first = span_rows.x, rows = span_rows.y, x_first = span_cols.x, chunks = span_cols.y;
    int thread = threadIdx.y * width + threadIdx.x;
    const unsigned char* corner = src + (unsigned int)x_first * C;
#if __CUDA_ARCH__ >= 800
    unsigned int window_address = (unsigned int)__cvta_generic_to_shared(window);
#endif
    for (int item = thread; item < rows * chunks; item += threads) {
        int r = item / chunks, k = item - r * chunks;
        unsigned int row = (unsigned int)min(max(y_first + r, 0), in_h - 1);
        const unsigned char* from = corner + (size_t)row * (unsigned int)s0 + 16 * k;
#if __CUDA_ARCH__ >= 800
        unsigned int to = window_address + r * row_bytes + 16 * k;
        asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(to), "l"(from));
#else  // before Ampere: through registers
        *reinterpret_cast<uint4*>(window + r * row_bytes + 16 * k) = *reinterpret_cast<const uint4*>(from);
#endif
    }
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;\n" ::);
#endif
    int x = min((int)(blockIdx.x * width + threadIdx.x), out_w - 1);
    int4 x_tap = __ldg(x_taps + x);
    if (thread < 2 * height) {
        int y = min((int)blockIdx.y * height + thread % height, out_h - 1);
        y_table[thread / height][thread % height] = __ldg((thread < height ? y_taps : y_weights) + y);
    }
#if __CUDA_ARCH__ >= 800
    asm volatile("cp.async.wait_group 0;\n" ::: "memory");
#endif
    __syncthreads();
    int tap = x_tap.x, pair01 = x_tap.y, pair23 = x_tap.z;
    bool inside = tap >= 0 && tap + 3 < in_w;
    int start = (tap - x_first) * C;
    for (int r = threadIdx.y; r < rows; r += threads_y) {
        const unsigned char* line = window + r * row_bytes;
        unsigned int words[C];
        if (inside) {
            const unsigned int* w = reinterpret_cast<const unsigned int*>(line + (start & ~3));
            int shift = 8 * (start & 3);
            #pragma unroll
            for (int k = 0; k < C; ++k) words[k] = __funnelshift_r(w[k], w[k + 1], shift);
        } else {
            unsigned char bytes[4 * C];
            #pragma unroll
            for (int j = 0; j < 4; ++j) {
                const unsigned char* p = line + (min(max(tap + j, 0), in_w - 1) - x_first) * C;
                #pragma unroll
                for (int c = 0; c < C; ++c) bytes[j * C + c] = p[c];
            }
            #pragma unroll
            for (int k = 0; k < C; ++k)
                words[k] = bytes[4 * k] | (bytes[4 * k + 1] << 8) | (bytes[4 * k + 2] << 16)
                           | ((unsigned int)bytes[4 * k + 3] << 24);
        }
        int h[4] = {0, 0, 0, 0};
        #pragma unroll
        for (int c = 0; c < C; ++c) {
            h[c] = horizontal_sum(pair01, pair23, plane_word<C>(words, c));
        }
        sums[r * width + threadIdx.x] = make_int4(h[0], h[1], h[2], h[3]);
    }
    __syncthreads();
    int x0 = blockIdx.x * width;
    x = x0 + threadIdx.x;
    bool full = vector_out && x0 + width <= out_w;  // the same for the whole block
    if (!full && x >= out_w) return;
    int element = to_float ? 4 : 1, row_chunks = width * out_c * element / 16;
    unsigned char* staged = stage[threadIdx.y];
    const unsigned char* column = reinterpret_cast<const unsigned char*>(sums + threadIdx.x);
    #pragma unroll
    for (int part = 0; part < ROWS_PER_THREAD; ++part) {
        int local = threadIdx.y + part * threads_y, y = blockIdx.y * height + local;
        if (y >= out_h) return;  // the same for the whole warp
        float value[C];
        vertical_levels<C>(column, y_table[0][local], y_table[1][local], value);
        unsigned int out_index = ((unsigned int)y * out_w + x) * out_c;
        if (full) {
            write_pixel<C>(value, staged, threadIdx.x * out_c, out_c, order, alpha, to_float, factor, low);
            __syncwarp();
            if (threadIdx.x < row_chunks) {
                unsigned int first = ((unsigned int)y * out_w + x0) * out_c * element;
                reinterpret_cast<uint4*>((unsigned char*)dst + first)[threadIdx.x] =
                    reinterpret_cast<const uint4*>(staged)[threadIdx.x];
            }
            __syncwarp();
        } else {
            store_pixel<C>(value, dst, out_index, out_c, identity, order, alpha, to_float, factor, low);
        }
    }
}

// At most 32 registers, so that 7 blocks share a multiprocessor (6 at its natural 39): on an
// H100 that took the 4K case from 30.3 to 27.9 us with no spills. The tiled kernel spills
// under the same bound and slows down.
#define RESIZE_STAGED(C) \
extern "C" __global__ void __launch_bounds__(256, 7) resize_staged_c##C( \
    const unsigned char* src, long long s0, int in_h, int in_w, void* dst, int out_h, int out_w, int out_c, \
    const int2* block_rows, const int2* block_cols, const int4* y_taps, const int4* y_weights, \
    const int4* x_taps, int order, float alpha, int to_float, float factor, float low, int row_bytes, \
    int rows_max, int identity, int vector_out) { \
    resize_staged_impl<C>(src, s0, in_h, in_w, dst, out_h, out_w, out_c, block_rows, block_cols, y_taps, \
                          y_weights, x_taps, order, alpha, to_float, factor, low, row_bytes, rows_max, \
                          identity, vector_out); }
RESIZE_STAGED(3)
RESIZE_STAGED(4)

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
_ROWS_PER_THREAD = 2
_TILE = (32, 8 * _ROWS_PER_THREAD)  # output pixels of a separable-resize block
_MAX_SHARED = 48 << 10  # bytes of shared memory a resizing block may use without opting in
_TILED_STATIC_SHARED = 2 * _TILE[1] * 16  # the tiled kernel's y table
_STAGED_STATIC_SHARED = _TILED_STATIC_SHARED + 8 * _TILE[0] * 16  # and the staged kernel's staging rows


@functools.cache
def _module() -> Any:
    cupy = cupy_module()
    constants = (
        f"#define SUM_SHIFT {SUM_SHIFT}\n#define LEVEL_SHIFT {2 * WEIGHT_BITS - SUM_SHIFT}\n"
        f"#define ROWS_PER_THREAD {_ROWS_PER_THREAD}\n"
    )
    return cupy.RawModule(code=constants + _SOURCE, options=("-fmad=false", "--std=c++17"))


@dataclass(frozen=True)
class SeparableResize:
    """The tables of a separable resize kernel for one plan (see the kernels' notes)."""

    rows: int
    """Rows of the largest source window of any block."""
    plane: int
    """Bytes per channel plane of a window row (tiled kernel), or a window row's pitch in
    shared memory (staged kernel)."""
    tables: tuple[Any, ...]
    """block_rows, block_cols, y_taps, y_weights, x_taps on the device."""


@dataclass(frozen=True)
class CudaFormatPlan:
    """A plan with its filter tables and channel order on the device."""

    plan: FormatPlan
    tables: tuple[Any, ...]
    """Clamped indices and weights (iy, ky, ix, kx) for the one-pixel-per-thread kernel."""
    order: Any
    """The channel order as a device array (NV12 kernels)."""
    order_code: np.int32
    """The channel order packed 4 bits per output channel, 15 for alpha (uint8 kernels)."""
    separable: SeparableResize | None
    """None where the resize runs the one-pixel-per-thread kernel."""
    staged: SeparableResize | None = None
    """The staged kernel's tables, where it was chosen (``kernel="staged"``) and applies."""
    launches: dict[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=dict, compare=False)
    """Kernel launches prepared per input layout (strides, pointer alignments): the kernel's
    name, the kernel, grid, shared memory and the arguments before and after the output."""


def _shared_bytes(plan: FormatPlan, separable: SeparableResize) -> int:
    """Shared memory per block of the separable resize: an int4 sum per window row and column,
    then the window (with a word to spare: the last tap's word read may pass its end)."""
    return separable.rows * (plan.channels * separable.plane + _TILE[0] * 16) + 4


def _tiled_window(plan: FormatPlan) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, SeparableResize]:
    """The tiled kernel's source windows: each tile row's first and last source row, each tile
    column's first pixel (word-aligned) and 4-pixel groups, and the largest window's shape (rows
    and plane bytes, no tables)."""
    fy, fx = plan.y_table, plan.x_table
    assert fy is not None and fx is not None
    top, bottom = _spans(fy, _TILE[1])
    left, right = _spans(fx, _TILE[0])
    left -= left % 4  # word-aligned groups of 4 pixels
    groups = (right - left) // 4 + 1
    shape = SeparableResize(int((bottom - top).max()) + 1, 4 * int(groups.max()) + 4, ())
    return top, bottom, left, groups, shape


def _separable(plan: FormatPlan) -> SeparableResize | None:
    """Tables for the separable kernel, or None where it does not apply (more than 4 taps on an
    axis, or a window too large for shared memory)."""
    fy, fx = plan.y_table, plan.x_table
    assert fy is not None and fx is not None
    if fy.taps > 4 or fx.taps > 4:
        return None
    top, bottom, left, groups, shape = _tiled_window(plan)
    too_large = _shared_bytes(plan, shape) > _MAX_SHARED - _TILED_STATIC_SHARED
    if too_large or shape.rows * int(groups.max()) >= 1 << 16:
        return None

    x_taps = np.stack([fx.first - np.repeat(left, _TILE[0])[: len(fx.first)], *_x_weights(fx)], axis=1)
    host = (
        np.stack([top, bottom - top + 1], axis=1),
        np.stack([left, groups, -(-(1 << 32) // groups), np.zeros_like(groups)], axis=1),
        *_y_tables(fy, top),
        x_taps,
    )
    return SeparableResize(shape.rows, shape.plane, _device_tables(host))


def staged_tables(plan: FormatPlan) -> tuple[tuple[np.ndarray, ...], int, int] | None:
    """Host tables of the staged resize kernel: ``(block_rows, block_cols, y_taps, y_weights,
    x_taps)``, the window's rows and its row pitch in bytes; None where the kernel does not apply
    (no resize, more than 4 taps on an axis, rows whose bytes are not a multiple of 16 long,
    or a window too large for shared memory).

    A block's window starts at the first pixel any of its columns reads, rounded down to a
    multiple of 16 bytes that is also a pixel boundary, and ends at its last column's fourth
    tap (every column reads 4 taps, weighted 0 past its filter's), both clamped to the image.
    """
    fy, fx = plan.y_table, plan.x_table
    channels = plan.channels
    if fy is None or fx is None or fy.taps > 4 or fx.taps > 4 or plan.width * channels % 16:
        return None  # (a row's last chunk would read past its bytes)
    align = 16 // np.gcd(16, channels)  # pixels in the smallest 16-byte, whole-pixel step
    columns = np.arange(0, len(fx.first), _TILE[0])
    last = np.minimum(columns + _TILE[0] - 1, len(fx.first) - 1)
    left = np.maximum(fx.first[columns], 0)
    left -= left % align
    right = np.minimum(fx.first[last] + 3, plan.width - 1)
    chunks = -(-((right + 1 - left) * channels) // 16)
    row_bytes = 16 * int(chunks.max()) + 16
    top, bottom = _spans(fy, _TILE[1])
    rows = int((bottom - top).max()) + 1
    if rows * (_TILE[0] * 16 + row_bytes) > _MAX_SHARED - _STAGED_STATIC_SHARED:
        return None
    host = (
        np.stack([top, bottom - top + 1], axis=1),
        np.stack([left, chunks], axis=1),
        *_y_tables(fy, top),
        np.stack([fx.first, *_x_weights(fx)], axis=1),
    )
    return host, rows, row_bytes


def _spans(table: ResizeFilter, block: int) -> tuple[np.ndarray, np.ndarray]:
    """For each block of ``block`` outputs: the first source sample its first output reads and
    the last one its last output reads (before clamping)."""
    last = np.minimum(np.arange(block - 1, len(table.first) + block - 1, block), len(table.first) - 1)
    return table.first[::block].copy(), table.first[last] + table.taps - 1


def _y_tables(fy: ResizeFilter, top: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each output row's 4 taps as byte offsets into its block's horizontal sums (an int4 per
    window row and tile column; taps past the filter's read the first row), and their weights
    (0 past the filter's); ``top`` is each block's first window row."""
    tap = np.arange(4)
    y_block_top = np.repeat(top, _TILE[1])[: len(fy.first), None]
    offsets = np.where(tap < fy.taps, (fy.first[:, None] + tap - y_block_top) * _TILE[0] * 16, 0)
    return offsets, _padded(fy.steps)


def _x_weights(fx: ResizeFilter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each output column's 4 weights packed as 16-bit pairs (taps 0|1, 2|3), then a zero
    column (the int4 the kernels read)."""
    kx = _padded(fx.steps) & 0xFFFF
    return kx[:, 0] | kx[:, 1] << 16, kx[:, 2] | kx[:, 3] << 16, np.zeros(len(fx.first), np.int64)


def _padded(steps: np.ndarray) -> np.ndarray:
    """Weights widened to int64 and padded with zeros to 4 taps."""
    return np.pad(steps.astype(np.int64), ((0, 0), (0, 4 - steps.shape[1])))


def _device_tables(host: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
    cupy = cupy_module()
    return tuple(cupy.asarray((t & 0xFFFFFFFF).astype(np.uint32).view(np.int32)) for t in host)


def resize_kernel_choice(kernel: str | None) -> str:
    """``kernel``, else ``$HOLOFLOW_RESIZE_KERNEL``, else ``"tiled"``.

    Raises
    ------
    ConfigError
        For a name other than ``"tiled"`` or ``"staged"``.
    """
    choice = kernel or holoflow_setting("RESIZE_KERNEL") or "tiled"
    if choice not in ("tiled", "staged"):
        raise ConfigError(
            f"resize kernel {choice!r} is unknown; use 'tiled' or 'staged' ($HOLOFLOW_RESIZE_KERNEL)"
        )
    return choice


def prepare_cuda(plan: FormatPlan, kernel: str | None = None) -> CudaFormatPlan:
    """Upload what the kernels of ``plan`` need (once per plan).

    ``kernel`` picks the separable resize kernel of uint8 plans: ``"tiled"`` (the default) or
    ``"staged"`` (the source window copied by ``cp.async``, 16-byte output stores; opt-in until
    measured on a GPU); None reads ``$HOLOFLOW_RESIZE_KERNEL``.

    Raises
    ------
    ConfigError
        For an unknown ``kernel``.
    """
    choice = resize_kernel_choice(kernel)
    cupy = cupy_module()
    tables: tuple[Any, ...] = ()
    separable = staged = None
    if plan.resized:
        fy, fx = plan.y_table, plan.x_table
        assert fy is not None and fx is not None
        host = (fy.indices(plan.height), fy.steps, fx.indices(plan.width), fx.steps)
        tables = tuple(cupy.asarray(np.ascontiguousarray(t, dtype=np.int32)) for t in host)
        separable = _separable(plan)
        staged_host = staged_tables(plan) if choice == "staged" and plan.family == "u8" else None
        if staged_host is not None:
            host_tables, rows, row_bytes = staged_host
            staged = SeparableResize(rows, row_bytes, _device_tables(host_tables))
    order = cupy.asarray(np.array(plan.order, dtype=np.int32))
    code = sum((c if c >= 0 else 15) << (4 * k) for k, c in enumerate(plan.order))
    return CudaFormatPlan(plan, tables, order, np.int32(code), separable, staged)


def _grid(width: int, height: int) -> tuple[int, int, int]:
    return ((width + _BLOCK[0] - 1) // _BLOCK[0], (height + _BLOCK[1] - 1) // _BLOCK[1], 1)


def convert_cuda(prepared: CudaFormatPlan, array: Any, out: Any = None) -> Any:
    """Execute a plan on a CUDA array (CuPy, or anything ``cupy.asarray`` takes), on the
    current CuPy stream; returns ``out`` (allocated with ``cupy.empty`` when omitted).

    An empty image converts to an empty ``out`` with no kernel launched (a plan cannot resize
    one: :func:`make_plan` and :class:`FormatPlan` reject it with a ``TensorError``)."""
    cupy = cupy_module()
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
    if out.size == 0:  # an empty image (never resized: see FormatPlan): a grid of 0 blocks cannot launch
        return out
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
    key = (image.strides, image.data.ptr % 16, out.data.ptr % 16)
    launch = prepared.launches.get(key)
    if launch is None:
        launch = prepared.launches[key] = _u8_launch(prepared, image, out.data.ptr % 16 == 0)
    _, kernel, grid, shared, before, after = launch
    kernel(grid, _BLOCK, (image, *before, out, *after), shared_mem=shared)
    return out


def _separable_launch(
    kind: str, prepared: CudaFormatPlan, resize: SeparableResize, shared: int, row_stride: Any, *extra: Any
) -> tuple[Any, ...]:
    """The launch of separable resize kernel ``resize_{kind}_c{C}`` (see ``_u8_launch``): both
    kernels take the same arguments, ``extra`` (the staged kernel's ``vector_out``) last."""
    plan = prepared.plan
    out_h, out_w, out_c = plan.out_shape
    factor, low = plan.float_factor()
    name = f"resize_{kind}_c{plan.channels}"
    return (
        name,
        _module().get_function(name),
        (-(-out_w // _TILE[0]), -(-out_h // _TILE[1]), 1),
        shared,
        (row_stride, np.int32(plan.height), np.int32(plan.width)),
        (
            np.int32(out_h),
            np.int32(out_w),
            np.int32(out_c),
            *resize.tables,
            prepared.order_code,
            np.float32(plan.alpha_value),
            np.int32(plan.out_dtype == "float32"),
            factor,
            low,
            np.int32(resize.plane),
            np.int32(resize.rows),
            np.int32(plan.order == tuple(range(plan.channels))),
            *extra,
        ),
    )


def _u8_launch(prepared: CudaFormatPlan, image: Any, out_aligned: bool) -> tuple[Any, ...]:
    """How to launch the uint8 kernel for inputs laid out as ``image`` (and an output whose
    start is ``out_aligned`` to 16 bytes): see ``CudaFormatPlan.launches``."""
    plan = prepared.plan
    strides = tuple(np.int64(s // image.itemsize) for s in image.strides)
    out_h, out_w, out_c = plan.out_shape
    factor, low = plan.float_factor()
    to_float = np.int32(plan.out_dtype == "float32")
    packed = strides[1] == plan.channels and strides[2] == 1
    aligned = image.data.ptr % 4 == 0 and int(strides[0]) % 4 == 0  # word loads of pixel rows
    separable = prepared.separable
    small = 0 < int(strides[0]) < 2**31 and out_h * out_w * out_c < 2**31  # 32-bit offsets
    staged = prepared.staged
    if staged is not None and packed and small and image.data.ptr % 16 == 0 and int(strides[0]) % 16 == 0:
        out_row_bytes = out_w * out_c * (4 if to_float else 1)
        shared = staged.rows * (_TILE[0] * 16 + staged.plane)
        vector_out = np.int32(out_aligned and out_row_bytes % 16 == 0)
        return _separable_launch("staged", prepared, staged, shared, strides[0], vector_out)
    if separable is not None and packed and aligned and small:
        return _separable_launch("separable", prepared, separable, _shared_bytes(plan, separable), strides[0])
    if plan.resized:
        iy, ky, ix, kx = prepared.tables
        taps = (np.int32(iy.shape[1]), np.int32(ix.shape[1]))
    else:
        iy = ky = ix = kx = prepared.order  # unused pointers
        taps = (np.int32(0), np.int32(0))
    return (
        f"convert_u8_c{plan.channels}",
        _module().get_function(f"convert_u8_c{plan.channels}"),
        _grid(out_w, out_h),
        0,
        strides,
        (
            np.int32(out_h),
            np.int32(out_w),
            np.int32(out_c),
            np.int32(plan.resized),
            iy,
            ky,
            taps[0],
            ix,
            kx,
            taps[1],
            prepared.order_code,
            np.float32(plan.alpha_value),
            to_float,
            factor,
            low,
        ),
    )
