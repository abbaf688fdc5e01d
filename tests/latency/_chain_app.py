"""A small application for the latency tool's tests: image source -> blur -> sink.

It is also loaded as a script (``path/to/_chain_app.py``) and as ``module:Class``.
"""

from __future__ import annotations

import time

import numpy as np

from holoflow.core import Application, Operator


class ImageSourceOp(Operator):
    """Emits a ``{"": (48, 80, 3) uint8}`` frame per compute (no condition of its own)."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.sent = 0

    def compute(self, op_input, op_output, context):
        image = np.full((48, 80, 3), self.sent % 256, np.uint8)
        self.sent += 1
        op_output.emit({"": image}, "out")


class BlurOp(Operator):
    """Sleeps ``delay`` seconds, then passes the frame on."""

    def __init__(self, fragment, *args, delay=0.002, **kwargs):
        self.delay = delay
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        frame = op_input.receive("in")
        time.sleep(self.delay)
        op_output.emit(frame, "out")


class SinkOp(Operator):
    """Takes the blurred frame on ``in`` and the original on ``direct``."""

    def setup(self, spec):
        spec.input("in")
        spec.input("direct")

    def start(self):
        self.received = 0

    def compute(self, op_input, op_output, context):
        op_input.receive("in")
        op_input.receive("direct")
        self.received += 1


class ChainApp(Application):
    """source -> blur -> sink, and source -> sink directly (two paths)."""

    def compose(self):
        self.source = ImageSourceOp(self, name="source")
        self.blur = BlurOp(self, name="blur")
        self.sink = SinkOp(self, name="sink")
        self.add_flow(self.source, self.blur)
        self.add_flow(self.blur, self.sink, {("out", "in")})
        self.add_flow(self.source, self.sink, {("out", "direct")})
