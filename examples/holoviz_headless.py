"""HolovizOp without a display: draw frames and overlays offscreen and receive the rendered frames.

A source emits an image, a label map and tool positions; HolovizOp draws them (OpenGL when it can
make an offscreen context, else the software compositor) and a sink receives each RGBA frame.
Pass a path to save the last frame as PNG (needs Pillow).

Usage::

    python examples/holoviz_headless.py [frame.png]
"""

from __future__ import annotations

import sys

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import HolovizOp


class Scene(Operator):
    """A moving grey ramp, a round organ mask and a tool tip circling it."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.frame = 0

    def compute(self, op_input, op_output, context):
        rows, cols = np.mgrid[0:240, 0:320]
        image = np.repeat(((rows + cols + 4 * self.frame) % 256).astype(np.uint8)[..., None], 3, axis=2)
        mask = (((rows - 120) ** 2 + (cols - 160) ** 2) < 50**2).astype(np.uint8)
        angle = self.frame / 5
        tip = np.array([[0.5 + 0.3 * np.cos(angle), 0.5 + 0.3 * np.sin(angle)]], np.float32)
        op_output.emit({"": image, "mask": mask, "tip": tip}, "out")
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
    scene = Scene(app, CountCondition(app, 10), name="scene")
    visualizer = HolovizOp(
        app,
        name="holoviz",
        headless=True,
        enable_render_buffer_output=True,
        width=640,
        height=480,
        tensors=[
            {"name": "", "type": "color"},
            {"name": "mask", "type": "color_lut", "opacity": 0.8},
            {"name": "tip", "type": "crosses", "color": [1.0, 1.0, 0.0, 1.0], "line_width": 3},
        ],
        color_lut=[[0.0, 0.0, 0.0, 0.0], [0.2, 0.63, 0.17, 0.7]],
    )
    sink = Sink(app, name="sink")
    app.add_flow(scene, visualizer, {("out", "receivers")})
    app.add_flow(visualizer, sink, {("render_buffer_output", "in")})
    app.run()
    last = sink.frames[-1]
    print(f"rendered {len(sink.frames)} frames of {last.shape[1]}x{last.shape[0]} RGBA")
    if len(sys.argv) > 1:
        from PIL import Image

        Image.fromarray(last).save(sys.argv[1])
        print(f"saved {sys.argv[1]}")


if __name__ == "__main__":
    main()
