"""Segmentation with a real ONNX model: frames -> FormatConverterOp -> InferenceOp -> post-processor.

The model is built here with onnx.helper (pip install 'holoflow[onnx]'): it takes an NHWC
float32 image and scores two classes per pixel — "bright" against "dark" — with a 1x1
convolution. Synthetic frames hold a bright disc that moves; the sink prints the disc's area as
segmented.
"""

import os
import sys
import tempfile

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import FormatConverterOp, InferenceOp, SegmentationPostprocessorOp


def build_model(path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(
        np.array([[[[-1.0]], [[-1.0]], [[-1.0]]], [[[1.0]], [[1.0]], [[1.0]]]], np.float32), "w"
    )
    bias = numpy_helper.from_array(np.array([1.5, -1.5], np.float32), "b")
    graph = helper.make_graph(
        [
            helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2]),
            helper.make_node("Conv", ["nchw", "w", "b"], ["scores"]),
        ],
        "bright",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 64, 64, 3])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 2, 64, 64])],
        initializer=[weight, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)


class Disc(Operator):
    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.t = 0

    def compute(self, op_input, op_output, context):
        y, x = np.mgrid[0:64, 0:64]
        inside = (x - 20 - 4 * self.t) ** 2 + (y - 32) ** 2 <= 10**2
        frame = np.where(inside[..., None], 220, 30).astype(np.uint8).repeat(3, axis=2)
        op_output.emit({"": frame}, "out")
        self.t += 1


class Area(Operator):
    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        labels = np.asarray(op_input.receive("in")["out_tensor"])
        print(f"segmented area: {int(labels.sum())} pixels")


class SegmentationApp(Application):
    def __init__(self, model_path):
        self.model_path = model_path
        super().__init__()

    def compose(self):
        source = Disc(self, CountCondition(self, 3), name="source")
        converter = FormatConverterOp(self, name="converter", out_dtype="float32", out_tensor_name="image")
        inference = InferenceOp(
            self,
            name="inference",
            backend="onnxrt",
            infer_on_cpu=True,
            transmit_on_cuda=False,
            model_path_map={"bright": self.model_path},
            pre_processor_map={"bright": ["image"]},
            inference_map={"bright": ["scores"]},
        )
        post = SegmentationPostprocessorOp(self, name="post", in_tensor_name="scores", data_format="nchw")
        self.add_flow(source, converter)
        self.add_flow(converter, inference, {("tensor", "receivers")})
        self.add_flow(inference, post)
        self.add_flow(post, Area(self, name="area"))


def main():
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bright.onnx")
        build_model(path)
        SegmentationApp(path).run()


if __name__ == "__main__":
    sys.exit(main())
