"""Replay, convert, infer, post-process, render: the ultrasound sample app's path, built by hand.

    replayer ─┬──────────────────────────────────────────────────────────────► holoviz ─► save_png
              └─► preprocessor ─► inference ─► postprocessor ─┬──────────────►
                                                              └─► bone_area

The replayer plays the ultrasound sample recording (generated on first use, in about two
seconds), FormatConverterOp turns each uint8 RGB frame into float32, InferenceOp runs the
shipped U-Net with ONNX Runtime, SegmentationPostprocessorOp turns its scores into labels, and
HolovizOp draws the labels over the frame offscreen. ``bone_area`` compares each frame's labels
with the recording's ground truth; ``save_png`` writes the last rendered frame.

Needs ``pip install 'holoflow[onnx,viz,video]'`` (ONNX Runtime, OpenGL, Pillow).

    python3 examples/tutorials/replay_infer_render.py [--frames N] [--data DIR] [--output PNG]
"""

import argparse
from importlib.resources import files

import numpy as np

from holoflow.apps.sample_data import ULTRASOUND, ensure, ground_truth
from holoflow.core import Application, Operator
from holoflow.operators import (
    FormatConverterOp,
    HolovizOp,
    InferenceOp,
    SegmentationPostprocessorOp,
    VideoStreamReplayerOp,
)

MODEL = files("holoflow.apps") / "models" / "us_unet_256x256_nhwc.onnx"  # shipped with holoflow


def host_array(op_input, port, tensor_name):
    """Tensor ``tensor_name`` of the message on ``port`` as a numpy array (copied if on the GPU)."""
    with op_input.receive_array(port, tensor_name) as (xp, array):
        return array if xp is np else xp.asnumpy(array)


class BoneArea(Operator):
    """Prints how much of each frame is labelled bone, and the Dice score against the truth."""

    def __init__(self, fragment, *args, truth, **kwargs):
        self.truth = truth  # (frames, 256, 256) uint8 labels, 1 = bone
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.frame = 0

    def compute(self, op_input, op_output, context):
        labels = host_array(op_input, "in", "out_tensor")[..., 0]  # (256, 256, 1) -> (256, 256)
        bone, truth = labels == 1, self.truth[self.frame] == 1
        dice = 2 * (bone & truth).sum() / (bone.sum() + truth.sum())
        print(f"frame {self.frame}: bone {bone.mean():.1%} of the image, Dice against the truth {dice:.2f}")
        self.frame += 1


class SavePng(Operator):
    """Keeps the last frame HolovizOp rendered and writes it as a PNG when the run stops."""

    def __init__(self, fragment, *args, path, **kwargs):
        self.path = path
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.last, self.frames = None, 0

    def compute(self, op_input, op_output, context):
        self.last = host_array(op_input, "in", "")  # (height, width, 4) uint8 RGBA
        self.frames += 1

    def stop(self):
        if self.last is not None:
            from PIL import Image

            Image.fromarray(self.last).save(self.path)
            height, width = self.last.shape[:2]
            print(f"wrote {self.path}: {width}x{height} RGBA, the last of {self.frames} rendered frames")


class ReplayInferRenderApp(Application):
    def __init__(self, data, frames, output):
        self.data, self.frames, self.output = data, frames, output
        super().__init__()

    def compose(self):
        replayer = VideoStreamReplayerOp(
            self,
            name="replayer",
            directory=str(self.data),
            basename=ULTRASOUND.basename,
            count=self.frames,
            realtime=False,  # as fast as the graph runs; True paces at the recorded 30 fps
        )
        preprocessor = FormatConverterOp(
            self,
            name="preprocessor",
            in_dtype="rgb888",
            out_dtype="float32",  # uint8 0..255 -> float32 0..1
            out_tensor_name="source_video",
        )
        inference = InferenceOp(
            self,
            name="inference",
            backend="onnxrt",
            model_path_map={"us_seg": str(MODEL)},
            pre_processor_map={"us_seg": ["source_video"]},  # the model's inputs
            inference_map={"us_seg": ["inference_output_tensor"]},  # its outputs
        )
        postprocessor = SegmentationPostprocessorOp(
            self,
            name="postprocessor",
            in_tensor_name="inference_output_tensor",
            network_output_type="softmax",
            data_format="nchw",
        )
        holoviz = HolovizOp(
            self,
            name="holoviz",
            headless=True,
            enable_render_buffer_output=True,
            width=512,
            height=512,
            tensors=[{"name": "", "type": "color"}, {"name": "out_tensor", "type": "color_lut"}],
            color_lut=[[0.0, 0.0, 0.0, 0.0], [0.2, 0.63, 0.17, 0.7]],  # label 1 (bone) in green
        )
        truth = ground_truth(ULTRASOUND, self.data)["labels"]
        bone_area = BoneArea(self, name="bone_area", truth=truth)
        save_png = SavePng(self, name="save_png", path=self.output)
        self.add_flow(replayer, holoviz, {("output", "receivers")})
        self.add_flow(replayer, preprocessor, {("output", "source_video")})
        self.add_flow(preprocessor, inference, {("tensor", "receivers")})
        self.add_flow(inference, postprocessor, {("transmitter", "in_tensor")})
        self.add_flow(postprocessor, holoviz, {("out_tensor", "receivers")})
        self.add_flow(postprocessor, bone_area, {("out_tensor", "in")})
        self.add_flow(holoviz, save_png, {("render_buffer_output", "in")})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5, help="frames to play (default 5)")
    parser.add_argument(
        "--data", default=None, help="sample data folder (default: $HOLOFLOW_DATA or the cache)"
    )
    parser.add_argument("--output", default="replay_infer_render.png", help="PNG for the last rendered frame")
    args = parser.parse_args()
    data = ensure(ULTRASOUND, args.data)  # generates the recording the first time
    ReplayInferRenderApp(data, args.frames, args.output).run()


if __name__ == "__main__":
    main()
