"""Benchmark (GPU): fused format conversion vs the NPP call sequence Holoscan issues vs a copy.

Two conversions at 1080p and 4K:

* uint8 RGB -> half-size float32 in [0, 1] (cubic): holoflow runs one fused kernel (each of its
  resize kernels, ``tiled`` and ``staged``, whose outputs must be equal); Holoscan's
  FormatConverterOp runs ``nppiResize_8u_C3R`` into a scratch image, then ``nppiScale_8u32f_C3R``.
* NV12 (BT.709) -> RGB: holoflow's fused kernel vs ``nppiNV12ToRGB_709HDTV_8u_P2C3R``.

Each is compared with a plain device-to-device copy moving the same number of bytes (input read
plus output written), the bandwidth limit. NPP comes from the CUDA toolkit's libnpp* through
ctypes. Times are GPU times from CUDA events, with the calls queued behind a spinning kernel
so that they run back to back; the host time to queue one call is printed separately. The table
prints GB/s (input + output bytes per second), the share of copy bandwidth and the speed-up
over NPP; holoflow's and NPP's outputs are compared after timing (NPP's cubic filter and
rounding are its own, so they need not agree).

Usage::

    python benchmarks/format_converter.py [--iterations 200] [--output FILE]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import glob
import statistics
import time

import numpy as np
from _results import RESULTS, write_json

from holoflow.kernels import convert_cuda, make_plan, prepare_cuda
from holoflow.tensor import require_cuda

SIZES = {"1080p": (1080, 1920), "4K": (2160, 3840)}
KERNELS = ("tiled", "staged")  # the resize kernels of prepare_cuda: the default first


class NppiSize(ctypes.Structure):
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int)]


class NppiRect(ctypes.Structure):
    _fields_ = [("x", ctypes.c_int), ("y", ctypes.c_int), ("width", ctypes.c_int), ("height", ctypes.c_int)]


class NppStreamContext(ctypes.Structure):
    _fields_ = [
        ("hStream", ctypes.c_void_p),
        ("nCudaDeviceId", ctypes.c_int),
        ("nMultiProcessorCount", ctypes.c_int),
        ("nMaxThreadsPerMultiProcessor", ctypes.c_int),
        ("nMaxThreadsPerBlock", ctypes.c_int),
        ("nSharedMemPerBlock", ctypes.c_size_t),
        ("nCudaDevAttrComputeCapabilityMajor", ctypes.c_int),
        ("nCudaDevAttrComputeCapabilityMinor", ctypes.c_int),
        ("nStreamFlags", ctypes.c_uint),
        ("nReserved0", ctypes.c_int),
    ]


def load_npp(name: str) -> ctypes.CDLL:
    candidates = sorted(glob.glob(f"/usr/local/cuda*/lib64/lib{name}.so*")) + [
        ctypes.util.find_library(name) or ""
    ]
    for path in candidates:
        if path:
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    raise OSError(f"lib{name} not found (CUDA toolkit NPP)")


def stream_context(cp, stream) -> NppStreamContext:
    props = cp.cuda.runtime.getDeviceProperties(0)
    ctx = NppStreamContext()
    ctx.hStream = stream.ptr
    ctx.nCudaDeviceId = 0
    ctx.nMultiProcessorCount = props["multiProcessorCount"]
    ctx.nMaxThreadsPerMultiProcessor = props["maxThreadsPerMultiProcessor"]
    ctx.nMaxThreadsPerBlock = props["maxThreadsPerBlock"]
    ctx.nSharedMemPerBlock = props["sharedMemPerBlock"]
    ctx.nCudaDevAttrComputeCapabilityMajor = props["major"]
    ctx.nCudaDevAttrComputeCapabilityMinor = props["minor"]
    ctx.nStreamFlags = 0
    return ctx


_SPIN = r"""
extern "C" __global__ void spin(long long cycles) {
    long long start = clock64();
    while (clock64() - start < cycles) { }
}
"""


def time_ms(cp, stream, function, iterations: int) -> float:
    """GPU time per call: the calls are queued behind a spinning kernel, so the GPU runs them
    back to back and the Python launch overhead (timed separately) does not count."""
    spin = cp.RawKernel(_SPIN, "spin")
    for _ in range(10):
        function()
    start, end = cp.cuda.Event(), cp.cuda.Event()
    samples = []
    batch = max(iterations // 5, 1)
    for _ in range(5):
        spin((1,), (1,), (np.int64(20_000_000),), stream=stream)  # ~10 ms: longer than queueing the batch
        start.record(stream)
        for _ in range(batch):
            function()
        end.record(stream)
        end.synchronize()
        samples.append(cp.cuda.get_elapsed_time(start, end) / batch)
    return statistics.median(samples)


def launch_us(cp, function, iterations: int = 200) -> float:
    """Host time to queue one call (Python and driver overhead), in microseconds."""
    cp.cuda.Device().synchronize()
    t0 = time.perf_counter()
    for _ in range(iterations):
        function()
    elapsed = time.perf_counter() - t0
    cp.cuda.Device().synchronize()
    return elapsed / iterations * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--output", default=str(RESULTS / "format_converter.json"))
    args = parser.parse_args()
    cp = require_cuda("the format converter benchmark")
    gpu = cp.cuda.runtime.getDeviceProperties(0)["name"].decode()
    npp_geometry, npp_data, npp_colour = load_npp("nppig"), load_npp("nppidei"), load_npp("nppicc")
    resize = npp_geometry.nppiResize_8u_C3R_Ctx
    resize.restype = ctypes.c_int
    resize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        NppiSize,
        NppiRect,
        ctypes.c_void_p,
        ctypes.c_int,
        NppiSize,
        NppiRect,
        ctypes.c_int,
        NppStreamContext,
    ]
    scale = npp_data.nppiScale_8u32f_C3R_Ctx
    scale.restype = ctypes.c_int
    scale.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int,
        NppiSize,
        ctypes.c_float,
        ctypes.c_float,
        NppStreamContext,
    ]
    nv12 = npp_colour.nppiNV12ToRGB_709HDTV_8u_P2C3R_Ctx
    nv12.restype = ctypes.c_int
    nv12.argtypes = [
        ctypes.POINTER(ctypes.c_void_p),
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_int,
        NppiSize,
        NppStreamContext,
    ]

    stream = cp.cuda.Stream(non_blocking=True)
    ctx = stream_context(cp, stream)
    rows = []
    rng = np.random.default_rng(0)
    with stream:
        for label, (h, w) in SIZES.items():
            # -- uint8 RGB -> resized float32, with each resize kernel -------------------------------
            oh, ow = h // 2, w // 2
            image = cp.asarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
            scratch = cp.empty((oh, ow, 3), cp.uint8)
            npp_out = cp.empty((oh, ow, 3), cp.float32)
            plan = make_plan("rgb888", "float32", image.shape, np.uint8, resize=(oh, ow))
            outputs = {}

            def npp_sequence(image=image, scratch=scratch, npp_out=npp_out, h=h, w=w, oh=oh, ow=ow):
                status = resize(
                    image.data.ptr,
                    w * 3,
                    NppiSize(w, h),
                    NppiRect(0, 0, w, h),
                    scratch.data.ptr,
                    ow * 3,
                    NppiSize(ow, oh),
                    NppiRect(0, 0, ow, oh),
                    4,
                    ctx,
                )
                status |= scale(
                    scratch.data.ptr, ow * 3, npp_out.data.ptr, ow * 12, NppiSize(ow, oh), 0.0, 1.0, ctx
                )
                assert status == 0, f"NPP status {status}"

            moved = image.nbytes + npp_out.nbytes
            copy_src = cp.empty(moved // 2, cp.uint8)
            copy_dst = cp.empty(moved // 2, cp.uint8)
            for kernel in KERNELS:  # each row times NPP and the copy again, beside the kernel
                out = outputs[kernel] = cp.empty((oh, ow, 3), cp.float32)
                prepared = prepare_cuda(plan, kernel)

                def fused(prepared=prepared, image=image, out=out):
                    convert_cuda(prepared, image, out)

                row = measure(
                    cp,
                    stream,
                    f"rgb->resized f32 {label} {kernel}",
                    moved,
                    fused,
                    npp_sequence,
                    lambda s=copy_src, d=copy_dst: cp.copyto(d, s),
                    args.iterations,
                    lambda out=out, npp_out=npp_out: float(cp.abs(out - npp_out).max()),
                )
                row["kernel"] = kernel
                row["equals_tiled"] = bool((out == outputs[KERNELS[0]]).all())
                rows.append(row)
            # -- NV12 -> RGB --------------------------------------------------------------------
            planes = cp.asarray(rng.integers(0, 256, (h * 3 // 2, w), dtype=np.uint8))
            rgb = cp.empty((h, w, 3), cp.uint8)
            npp_rgb = cp.empty((h, w, 3), cp.uint8)
            prepared_nv12 = prepare_cuda(make_plan("nv12_bt709_hdtv", "rgb888", planes.shape, np.uint8))
            pointers = (ctypes.c_void_p * 2)(planes.data.ptr, planes.data.ptr + h * w)

            def fused_nv12(prepared=prepared_nv12, planes=planes, rgb=rgb):
                convert_cuda(prepared, planes, rgb)

            def npp_nv12(pointers=pointers, npp_rgb=npp_rgb, h=h, w=w):
                assert nv12(pointers, w, npp_rgb.data.ptr, w * 3, NppiSize(w, h), ctx) == 0

            moved = planes.nbytes + rgb.nbytes
            copy_src = cp.empty(moved // 2, cp.uint8)
            copy_dst = cp.empty(moved // 2, cp.uint8)
            rows.append(
                measure(
                    cp,
                    stream,
                    f"nv12->rgb {label}",
                    moved,
                    fused_nv12,
                    npp_nv12,
                    lambda s=copy_src, d=copy_dst: cp.copyto(d, s),
                    args.iterations,
                    lambda rgb=rgb, npp_rgb=npp_rgb: float(
                        cp.abs(rgb.astype(cp.int16) - npp_rgb.astype(cp.int16)).max()
                    ),
                )
            )
    print(f"format conversion on {gpu}: CUDA-event medians, bytes = input + output")
    print(
        f"{'conversion':<30} {'holoflow':>14} {'NPP sequence':>14} {'copy':>14} "
        f"{'% of copy':>10} {'vs NPP':>8}"
    )
    for row in rows:
        print(
            f"{row['case']:<30} {row['fused_ms']:>8.3f} ms {row['fused_gbs']:>3.0f} "
            f"{row['npp_ms']:>8.3f} ms {row['npp_gbs']:>3.0f} "
            f"{row['copy_ms']:>8.3f} ms {row['copy_gbs']:>3.0f} "
            f"{row['fraction_of_copy']:>9.0%} {row['speedup_vs_npp']:>7.2f}x   (max |holoflow-NPP| "
            f"{row['max_abs_diff_vs_npp']:g})"
            + ("" if row.get("equals_tiled", True) else "  OUTPUT DIFFERS FROM THE TILED KERNEL")
        )
    print("goals: >= 70% of copy bandwidth, >= 2x the NPP sequence")
    print(
        "host time to queue one conversion: "
        + ", ".join(
            f"{row['case']}: holoflow {row['fused_launch_us']:.0f} us, NPP {row['npp_launch_us']:.0f} us"
            for row in rows
        )
    )
    write_json(args.output, {"benchmark": "format_converter", "device": gpu, "rows": rows})


def measure(cp, stream, case, moved, fused, npp, copy, iterations, diff) -> dict:
    fused_ms = time_ms(cp, stream, fused, iterations)
    npp_ms = time_ms(cp, stream, npp, iterations)
    copy_ms = time_ms(cp, stream, copy, iterations)
    diff = diff()  # both outputs are written now
    return {
        "fused_launch_us": launch_us(cp, fused),
        "npp_launch_us": launch_us(cp, npp),
        "case": case,
        "bytes": moved,
        "fused_ms": fused_ms,
        "npp_ms": npp_ms,
        "copy_ms": copy_ms,
        "fused_gbs": moved / fused_ms / 1e6,
        "npp_gbs": moved / npp_ms / 1e6,
        "copy_gbs": moved / copy_ms / 1e6,
        "fraction_of_copy": copy_ms / fused_ms,
        "speedup_vs_npp": npp_ms / fused_ms,
        "max_abs_diff_vs_npp": diff,
    }


if __name__ == "__main__":
    main()
