"""Benchmark: HolovizOp frames per second, headless, at 854x480 and 1920x1080.

Each frame has the layers of the issue's workload: an RGB image of the frame size, a 256x256
label map through a two-entry colour table (the ultrasound app's overlay), 10 rectangles and a
text layer of 10 labels. A source emits the same message every time; HolovizOp (headless,
``enable_render_buffer_output=True``) draws it and a sink receives the RGBA frame, with each
renderer: the numpy software compositor, and OpenGL offscreen through EGL (Mesa's llvmpipe on a
machine without a GPU; the GPU driver on one) when a context can be made. The frame is read
back every time (the render buffer output). Where CuPy sees a GPU, the same workload also runs
with every tensor on the GPU (rows ``cuda``): images reach OpenGL and the frame comes back as a
CUDA tensor through CUDA-OpenGL interop, and the sink waits for each frame's stream.

The limit printed beside it is what one pass over the frame costs on the same machine: writing
an RGBA frame of the same size (``numpy.copyto`` on the host, a CuPy copy on the GPU), as frames
per second.

Usage::

    python benchmarks/holoviz.py [--frames 30] [--repeats 3] [--output FILE]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
from _operators import Count, Repeat
from _results import RESULTS, write_json

from holoflow.conditions import CountCondition
from holoflow.core import Application
from holoflow.operators import HolovizOp
from holoflow.tensor import cuda_available, cupy_module
from holoflow.viz import GLRenderer, opengl_available

SIZES = {"854x480": (854, 480), "1920x1080": (1920, 1080)}
LUT = [[0.65, 0.81, 0.89, 0.1], [0.2, 0.63, 0.17, 0.7]]
SPECS = [
    {"name": "", "type": "color"},
    {"name": "mask", "type": "color_lut"},
    {"name": "boxes", "type": "rectangles", "color": [1.0, 0.2, 0.2, 1.0], "line_width": 2},
    {"name": "labels", "type": "text", "text": [f"TOOL {i}" for i in range(10)]},
]


def message(width: int, height: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.zeros((256, 256), np.uint8)
    labels[64:192, 64:192] = 1
    corners = rng.random((10, 2, 2)).astype(np.float32)
    boxes = np.sort(corners, axis=1).reshape(20, 2)
    return {
        "": rng.integers(0, 256, (height, width, 3), dtype=np.uint8),
        "mask": labels,
        "boxes": boxes,
        "labels": np.concatenate([boxes[0::2] - [0.0, 0.04], np.full((10, 1), 0.03)], axis=1).astype(
            np.float32
        ),
    }


def holoviz_fps(width: int, height: int, frames: int, renderer: str, inputs: str) -> float:
    app = Application([])
    item: dict[str, object] = dict(message(width, height))
    if inputs == "cuda":
        cupy = cupy_module()
        item = {name: cupy.asarray(array) for name, array in item.items()}
        cupy.cuda.Device().synchronize()
    source = Repeat(app, item, CountCondition(app, frames), name="source")
    viz = HolovizOp(
        app,
        name="holoviz",
        headless=True,
        enable_render_buffer_output=True,
        width=width,
        height=height,
        tensors=SPECS,
        color_lut=LUT,
        renderer=renderer,
    )
    sink = Count(app, name="sink", wait_for_streams=inputs == "cuda")
    app.add_flow(source, viz, {("out", "receivers")})
    app.add_flow(viz, sink, {("render_buffer_output", "in")})
    t0 = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - t0
    assert sink.frames == frames
    return frames / elapsed


def frame_write_fps(width: int, height: int, frames: int, inputs: str) -> float:
    xp = cupy_module() if inputs == "cuda" else np
    source = xp.ones((height, width, 4), np.uint8)
    target = xp.zeros_like(source)
    t0 = time.perf_counter()
    for _ in range(frames):
        xp.copyto(target, source)
    if inputs == "cuda":
        xp.cuda.Device().synchronize()
    return frames / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default=str(RESULTS / "holoviz_cpu.json"))
    args = parser.parse_args()
    renderers = ["software"] + (["opengl"] if opengl_available() else [])
    cases = [("host", renderer) for renderer in renderers]
    if "opengl" in renderers and cuda_available():
        cases.append(("cuda", "opengl"))
    gl_device, interop = "", False
    if "opengl" in renderers:
        probe = GLRenderer(1, 1)
        gl_device, interop = probe.device, probe.cuda_interop
        probe.close()
    rows = []
    for label, (width, height) in SIZES.items():
        for inputs, renderer in cases:
            limit = statistics.median(
                frame_write_fps(width, height, args.frames, inputs) for _ in range(args.repeats)
            )
            holoviz_fps(width, height, 2, renderer, inputs)  # warm-up
            fps = statistics.median(
                holoviz_fps(width, height, args.frames, renderer, inputs) for _ in range(args.repeats)
            )
            rows.append(
                {
                    "size": label,
                    "inputs": inputs,
                    "renderer": renderer,
                    "holoviz_fps": fps,
                    "frame_write_fps": limit,
                    "ratio": fps / limit,
                }
            )
    print(
        f"HolovizOp headless, image + LUT overlay + 10 rectangles + 10 labels, frame read back each time; "
        f"{args.frames} frames, median of {args.repeats}, {os.cpu_count()} CPUs, {platform.machine()}"
    )
    if gl_device:
        print(f"OpenGL: {gl_device}; CUDA-OpenGL interop: {'yes' if interop else 'no'}")
    print(
        f"{'frame':<10} {'inputs':<7} {'renderer':<9} {'HolovizOp fps':>14} {'RGBA write fps':>15} "
        f"{'ratio':>7}"
    )
    for row in rows:
        print(
            f"{row['size']:<10} {row['inputs']:<7} {row['renderer']:<9} {row['holoviz_fps']:>14.1f} "
            f"{row['frame_write_fps']:>15.0f} {row['ratio']:>7.3f}"
        )
    print("goal: >= 60 fps at 1920x1080 on the GPU")
    write_json(
        args.output,
        {
            "benchmark": "holoviz",
            "opengl": gl_device,
            "cuda_interop": interop,
            "frames": args.frames,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
