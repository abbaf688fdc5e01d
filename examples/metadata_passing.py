"""Metadata travelling with messages: each operator adds keys; the sink reads them all.

    camera --> gain ------> sink
          \\--> labeler --/

``camera`` tags each frame with its id and exposure, ``gain`` and ``labeler`` add their own keys,
and ``sink`` receives both branches. Both branches carry ``frame_id`` and ``exposure_ms``, so the
sink merges with ``MetadataPolicy.UPDATE``; under the default policy (``RAISE``) the second copy
of a key would stop the run with a ``MetadataError``.
"""

from holoflow.conditions import CountCondition
from holoflow.core import Application, MetadataPolicy, Operator


class CameraOp(Operator):
    """Emits frame numbers 1, 2, ... tagged with ``frame_id`` and ``exposure_ms``."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.frame = 0

    def compute(self, op_input, op_output, context):
        self.frame += 1
        self.metadata["frame_id"] = self.frame
        self.metadata["exposure_ms"] = 8.0 + self.frame / 2
        op_output.emit(self.frame, "out")


class GainOp(Operator):
    """Multiplies by ``gain`` and records it in the metadata."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")
        spec.param("gain", 2.0)

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")  # the camera's keys are in self.metadata now
        self.metadata["gain"] = self.gain
        op_output.emit(value * self.gain, "out")


class LabelerOp(Operator):
    """Adds a ``label`` key; passes the frame on unchanged."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")
        self.metadata["label"] = "even" if value % 2 == 0 else "odd"
        op_output.emit(value, "out")


class SinkOp(Operator):
    """Prints each scaled frame with the metadata that came with both inputs."""

    def setup(self, spec):
        spec.input("scaled")
        spec.input("labeled")

    def compute(self, op_input, op_output, context):
        scaled = op_input.receive("scaled")
        op_input.receive("labeled")
        meta = self.metadata
        print(
            f"frame {meta['frame_id']}: value {scaled}, gain {meta['gain']}, "
            f"exposure {meta['exposure_ms']} ms, label {meta['label']}, keys {sorted(meta.keys())}"
        )


class MetadataApp(Application):
    def compose(self):
        camera = CameraOp(self, CountCondition(self, 4), name="camera")
        gain = GainOp(self, name="gain", gain=1.5)
        labeler = LabelerOp(self, name="labeler")
        sink = SinkOp(self, name="sink")
        sink.metadata_policy = MetadataPolicy.UPDATE  # both branches carry the camera's keys
        self.add_flow(camera, gain)
        self.add_flow(camera, labeler)
        self.add_flow(gain, sink, {("out", "scaled")})
        self.add_flow(labeler, sink, {("out", "labeled")})


def main():
    MetadataApp().run()


if __name__ == "__main__":
    main()
