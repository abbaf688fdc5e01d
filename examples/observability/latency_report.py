"""The latency tool's API on a small app of your own, end-to-end mode included.

A synthetic camera sends 96x128 frames, a filter smooths them, HolovizOp draws them headless
(software renderer) and a sink takes the rendered frames. ``run_latency`` runs the app for N
frames under data-flow tracking; ``LatencyRun.report`` writes the report folder (summary.txt,
report.html, PNG plots, records.csv/json), as ``holoflow latency examples/observability/
latency_report.py`` would.

The app offers ``tap_frames(source=, rendered=)``, the hook the sample apps have, so the
end-to-end mode can stamp a frame id into each camera frame and read it back from the rendered
picture. Finally the report is drawn again from the saved ``records.json`` with
``write_report``, as one would on another machine.

Usage::

    python examples/observability/latency_report.py [--frames 90] [--fps 30] [--output latency-report]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from holoflow.core import Application, Operator
from holoflow.latency import run_latency, write_report
from holoflow.operators import HolovizOp

HEIGHT, WIDTH = 96, 128


class CameraOp(Operator):
    """A moving gradient; the app's source tap sees each frame before it is sent."""

    def __init__(self, fragment, *args, app, **kwargs):
        self.app = app
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.index = 0

    def compute(self, op_input, op_output, context):
        started = time.time_ns()
        x = (np.arange(WIDTH) + 4 * self.index) % 256
        frame = np.repeat(np.broadcast_to(x.astype(np.uint8), (HEIGHT, WIDTH))[..., None], 3, axis=2).copy()
        message = {"": frame}
        if self.app.source_tap is not None:
            message = self.app.source_tap(message, started)
        op_output.emit(message, "out")
        self.index += 1


class SmoothOp(Operator):
    """A 3x3 box filter (a stand-in for real processing)."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        frame = np.asarray(op_input.receive("in")[""], dtype=np.float32)
        padded = np.pad(frame, ((1, 1), (1, 1), (0, 0)), mode="edge")
        box = sum(padded[y : y + HEIGHT, x : x + WIDTH] for y in range(3) for x in range(3)) / 9
        op_output.emit({"": box.astype(np.uint8)}, "out")


class ScreenOp(Operator):
    """Receives HolovizOp's rendered frames; the app's rendered tap sees each one."""

    def __init__(self, fragment, *args, app, **kwargs):
        self.app = app
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        frame = np.asarray(op_input.receive("in")[""])
        if self.app.rendered_tap is not None:
            self.app.rendered_tap(frame, time.time_ns())


class FilterApp(Application):
    """camera -> smooth -> holoviz -> screen."""

    def __init__(self, *args, **kwargs):
        self.source_tap = self.rendered_tap = None
        super().__init__(*args, **kwargs)

    def tap_frames(self, source=None, rendered=None):
        """The latency tool's end-to-end hook (as ``holoflow.apps.SampleApp.tap_frames``)."""
        self.source_tap, self.rendered_tap = source, rendered

    def compose(self):
        camera = CameraOp(self, name="camera", app=self)
        smooth = SmoothOp(self, name="smooth")
        viz = HolovizOp(
            self,
            name="holoviz",
            width=2 * WIDTH,
            height=2 * HEIGHT,
            headless=True,
            renderer="software",
            enable_render_buffer_output=True,
        )
        screen = ScreenOp(self, name="screen", app=self)
        self.add_flow(camera, smooth)
        self.add_flow(smooth, viz, {("out", "receivers")})
        self.add_flow(viz, screen, {("render_buffer_output", "in")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=90)
    parser.add_argument("--fps", type=float, default=30.0, help="0: as fast as the app runs")
    parser.add_argument("--output", type=Path, default=Path("latency-report"))
    args = parser.parse_args()

    run = run_latency(FilterApp, frames=args.frames, fps=args.fps or None, warmup=10, end_to_end=True)
    report = run.report(args.output)
    print(report.summary, end="")
    for note in report.notes:
        print("note:", note)
    print(f"wrote {len(report.files)} files to {report.directory}")

    # The same report again, from the saved records only.
    saved = json.loads((args.output / "records.json").read_text())
    again = write_report(
        saved["records"],
        args.output / "again",
        operator_times=saved["operator_times"] or None,
        info=saved["info"],
        formats="csv",
    )
    assert again.summary == report.summary
    print(f"redrawn from records.json into {again.directory}")


if __name__ == "__main__":
    main()
