"""Record synthetic frames into a GXF recording, then replay it at 30 frames per second.

The first app records 30 frames (a moving gradient plus a frame counter) with
VideoStreamRecorderOp; the second replays them with VideoStreamReplayerOp, paced in real time.
"""

import sys
import tempfile
import time

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import VideoStreamRecorderOp, VideoStreamReplayerOp


class Gradient(Operator):
    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.index = 0

    def compute(self, op_input, op_output, context):
        x = np.arange(160, dtype=np.uint16)
        row = ((x + 4 * self.index) % 256).astype(np.uint8)
        frame = np.repeat(np.repeat(row[None, :, None], 120, axis=0), 3, axis=2)
        op_output.emit({"": frame, "frame_id": self.index}, "out")
        self.index += 1


class Show(Operator):
    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.t0 = None
        self.count = 0

    def compute(self, op_input, op_output, context):
        frame = np.asarray(op_input.receive("in")[""])
        self.t0 = self.t0 or time.monotonic()
        self.count += 1
        if self.count % 10 == 0:
            print(
                f"frame {self.count}: shape {frame.shape}, first pixel {frame[0, 0, 0]}, "
                f"t = {time.monotonic() - self.t0:.2f} s"
            )


def main(directory):
    record = Application([])
    record.add_flow(
        Gradient(record, CountCondition(record, 30), name="camera"),
        VideoStreamRecorderOp(record, name="recorder", directory=directory, basename="gradient"),
    )
    record.run()

    replay = Application([])
    replay.add_flow(
        VideoStreamReplayerOp(
            replay, name="replayer", directory=directory, basename="gradient", frame_rate=30
        ),
        Show(replay, name="show"),
    )
    replay.run()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(folder)
