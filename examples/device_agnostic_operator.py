"""One operator, one code path, on the CPU or the GPU: ``op_input.receive_array``.

``Brighten`` receives a frame with ``receive_array`` and computes with the array namespace it
is handed: numpy for host frames, CuPy for CUDA frames (then on the operator's own CUDA stream,
ordered after the producer's work). The source makes host frames, or CUDA frames with
``--device cuda`` (needs CuPy and a GPU).

    python3 examples/device_agnostic_operator.py [--device cpu|cuda]
"""

from __future__ import annotations

import argparse

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.tensor import require_cuda, to_host


class FrameSource(Operator):
    """Emits ``{"frame": ...}``: a 4x4 ramp scaled by the frame number, on the chosen device."""

    def __init__(self, fragment, *args, device="cpu", **kwargs):
        self.device = device
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.count = 0
        self.xp = require_cuda("--device cuda") if self.device == "cuda" else np

    def compute(self, op_input, op_output, context):
        self.count += 1
        frame = self.xp.arange(16, dtype=self.xp.float32).reshape(4, 4) * self.count
        op_output.emit({"frame": frame}, "out")


class Brighten(Operator):
    """``out = min(2 * frame, 40)``, written once against ``xp``."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        with op_input.receive_array("in", "frame") as (xp, frame):
            brighter = xp.minimum(frame * 2, 40)
        op_output.emit({"frame": brighter}, "out")


class Report(Operator):
    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        frame = op_input.receive("in")["frame"]
        host = to_host(frame, op_input.receive_cuda_stream("in")) if frame.is_cuda else np.asarray(frame)
        print(f"{'cuda' if frame.is_cuda else 'cpu'} frame: mean {host.mean():.2f}, max {host.max():.0f}")


class DeviceAgnosticApp(Application):
    def __init__(self, device):
        self.device = device
        super().__init__()

    def compose(self):
        source = FrameSource(self, CountCondition(self, 3), device=self.device, name="source")
        brighten = Brighten(self, name="brighten")
        report = Report(self, name="report")
        self.add_flow(source, brighten)
        self.add_flow(brighten, report)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    DeviceAgnosticApp(parser.parse_args().device).run()
