"""InferenceOp with a plain-Python model: a FunctionBackend, no inference framework needed.

A source emits three 16x16 grey images, each with a bright square that grows; the "model", a
numpy function wrapped in a FunctionBackend, scores every pixel as background or object;
SegmentationPostprocessorOp turns the scores into labels, and a sink prints the object's area.
Swap the FunctionBackend for ``backend="onnxrt"`` and a model file, and nothing else changes.
"""

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.inference import FunctionBackend, TensorSpec
from holoflow.operators import InferenceOp, SegmentationPostprocessorOp

SIZE = 16


def brightness_model(image):
    """(1, 1, 16, 16) intensities in [0, 1] -> (1, 2, 16, 16) scores: background, object."""
    return np.concatenate([0.5 - image, image - 0.5], axis=1)


class Squares(Operator):
    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.index = 0

    def compute(self, op_input, op_output, context):
        self.index += 1
        image = np.full((1, SIZE, SIZE), 0.1, np.float32)  # (C, H, W): the batch of 1 is added
        side = 2 * self.index
        image[:, 4 : 4 + side, 4 : 4 + side] = 0.9
        op_output.emit({"image": image}, "out")


class PrintArea(Operator):
    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.frame = 0

    def compute(self, op_input, op_output, context):
        labels = np.asarray(op_input.receive("in")["out_tensor"])  # (H, W, 1) uint8
        self.frame += 1
        print(f"frame {self.frame}: object area {int((labels == 1).sum())} pixels")


class FunctionBackendApp(Application):
    def compose(self):
        source = Squares(self, CountCondition(self, 3), name="source")
        model = FunctionBackend(
            brightness_model,
            inputs=[TensorSpec("image", (1, 1, SIZE, SIZE), np.dtype(np.float32))],
            outputs=[TensorSpec("scores", (1, 2, SIZE, SIZE), np.dtype(np.float32))],
        )
        inference = InferenceOp(
            self,
            name="inference",
            backend=model,  # a Backend instance (set in code) instead of a backend name
            model_path_map={"squares": ""},  # a FunctionBackend reads no file
            pre_processor_map={"squares": ["image"]},
            inference_map={"squares": ["scores"]},
            transmit_on_cuda=False,  # keep the results on the host for printing
        )
        labels = SegmentationPostprocessorOp(
            self, name="labels", in_tensor_name="scores", network_output_type="softmax", data_format="nchw"
        )
        self.add_flow(source, inference, {("out", "receivers")})
        self.add_flow(inference, labels, {("transmitter", "in_tensor")})
        self.add_flow(labels, PrintArea(self, name="print"))


if __name__ == "__main__":
    FunctionBackendApp().run()
