"""Frames as dicts of arrays: zero-copy TensorMaps, a block memory pool, and library interop.

A source fills frames from a BlockMemoryPool and emits {"frame": array, "index": n}; a
brightness operator reads the frame through numpy (or CuPy / PyTorch when installed) and emits
a result; a sink checks every frame arrived without being copied.
"""

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.resources import BlockMemoryPool, MemoryStorageType

HEIGHT, WIDTH = 480, 640


class Camera(Operator):
    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.index = 0
        self.addresses = []

    def compute(self, op_input, op_output, context):
        frame = self.resource("frames").empty((HEIGHT, WIDTH, 3), np.uint8)
        frame[...] = self.index % 256
        self.addresses.append(frame.ctypes.data)
        op_output.emit({"frame": frame, "index": self.index}, "out")
        self.index += 1


class Brightness(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")  # a TensorMap: "frame" is a Tensor, "index" an int
        frame = np.asarray(message["frame"])  # a view, not a copy
        op_output.emit(
            {"mean": float(frame.mean()), "index": message["index"], "frame": message["frame"]}, "out"
        )


class Report(Operator):
    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.seen = []

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        self.seen.append((message["index"], message["mean"], message["frame"].data))


class InteropApp(Application):
    def compose(self):
        pool = BlockMemoryPool(self, MemoryStorageType.SYSTEM, HEIGHT * WIDTH * 3, 3, name="frames")
        self.camera = Camera(self, pool, CountCondition(self, 10), name="camera")
        self.report = Report(self, name="report")
        brightness = Brightness(self, name="brightness")
        self.add_flow(self.camera, brightness)
        self.add_flow(brightness, self.report)


def main():
    app = InteropApp()
    app.run()
    copies = sum(
        addr != sent for (_, _, addr), sent in zip(app.report.seen, app.camera.addresses, strict=True)
    )
    for index, mean, _ in app.report.seen:
        print(f"frame {index}: mean {mean:.1f}")
    print(f"frames copied on the way: {copies}")


if __name__ == "__main__":
    main()
