"""HolovizOp drawing 3D layers: a coloured depth map and a 3D line strip, seen by an orbiting camera.

A source emits a depth map (a bump on a tilted plane, float32 HxWx1), its colours (RGBA8, red
where it is high) and a 3D line strip tracing the bump's rim, and a new camera position on
HolovizOp's ``camera_eye_input`` port each frame. HolovizOp draws the depth map as triangles,
headless; a sink receives each RGBA frame. Pass a path to save the last frame as PNG (needs
Pillow).

Usage::

    python examples/holoviz_depth_map.py [frame.png]
"""

from __future__ import annotations

import math
import sys

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import HolovizOp

GRID = 48


class Terrain(Operator):
    """The same depth map every frame, and a camera swinging from side to side."""

    def setup(self, spec):
        spec.output("out")
        spec.output("eye")

    def start(self):
        self.frame = 0
        rows, cols = np.mgrid[0:GRID, 0:GRID] / GRID - 0.5
        bump = 0.25 * np.exp(-(rows**2 + cols**2) / 0.03)
        self.depth = (bump + 0.1 * rows).astype(np.float32)[..., None]
        high = np.clip(bump / 0.25, 0.0, 1.0)
        self.colors = np.stack(
            [255 * high, 80 + 100 * (1 - high), 255 * (1 - high), np.full_like(high, 255)], axis=-1
        ).astype(np.uint8)
        angle = np.linspace(0.0, 2.0 * math.pi, 33)
        self.rim = np.stack(
            [0.25 * np.cos(angle), 0.25 * np.sin(angle), np.full_like(angle, 0.1)], axis=-1
        ).astype(np.float32)

    def compute(self, op_input, op_output, context):
        angle = 0.2 * self.frame
        op_output.emit([math.sin(angle), -1.2, 1.0], "eye")
        op_output.emit({"depth": self.depth, "colors": self.colors, "rim": self.rim}, "out")
        self.frame += 1


class Sink(Operator):
    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.frames = []

    def compute(self, op_input, op_output, context):
        self.frames.append(np.asarray(op_input.receive("in")[""]))


def main() -> None:
    app = Application([])
    terrain = Terrain(app, CountCondition(app, 5), name="terrain")
    visualizer = HolovizOp(
        app,
        name="holoviz",
        headless=True,
        enable_render_buffer_output=True,
        width=480,
        height=360,
        tensors=[
            {"name": "depth", "type": "depth_map", "depth_map_render_mode": "triangles"},
            {"name": "colors", "type": "depth_map_color"},
            {"name": "rim", "type": "line_strip_3d", "color": [1.0, 1.0, 0.0, 1.0], "line_width": 2},
        ],
        camera_eye=[0.0, -1.2, 1.0],
        camera_up=[0.0, 0.0, 1.0],
    )
    sink = Sink(app, name="sink")
    app.add_flow(terrain, visualizer, {("out", "receivers"), ("eye", "camera_eye_input")})
    app.add_flow(visualizer, sink, {("render_buffer_output", "in")})
    app.run()
    last = sink.frames[-1]
    covered = (last[..., :3] > 0).any(axis=2).mean()
    size = f"{last.shape[1]}x{last.shape[0]}"
    print(f"rendered {len(sink.frames)} frames of {size}; the last is {covered:.0%} covered")
    if len(sys.argv) > 1:
        from PIL import Image

        Image.fromarray(last).save(sys.argv[1])
        print(f"saved {sys.argv[1]}")


if __name__ == "__main__":
    main()
