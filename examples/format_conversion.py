"""Preprocessing for a network: a camera-like Bayer source, demosaicing, then resize + normalize.

The source emits raw GBRG frames; BayerDemosaicOp turns them into RGB; FormatConverterOp
resizes them to 128x128 and scales them to float32 in [-1, 1]; the sink prints statistics. It runs
on the CPU, and on the GPU when the frames are CuPy arrays (pass --gpu with CuPy installed).
On the GPU, ``HOLOFLOW_RESIZE_KERNEL=staged python examples/format_conversion.py --gpu`` resizes
with the opt-in staged kernel, which gives the same numbers.
"""

import sys

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import BayerDemosaicOp, FormatConverterOp


class RawCamera(Operator):
    """Emits a 480x640 GBRG mosaic of a moving colour gradient."""

    def __init__(self, fragment, *args, xp=np, **kwargs):
        self.xp = xp
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("raw")

    def start(self):
        self.index = 0

    def compute(self, op_input, op_output, context):
        y, x = np.mgrid[0:480, 0:640]
        raw = ((x + y + 8 * self.index) % 256).astype(np.uint8)
        self.index += 1
        op_output.emit({"raw": self.xp.asarray(raw)}, "raw")


class Stats(Operator):
    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        tensor = op_input.receive("in")["input"]
        values = np.asarray(tensor) if not tensor.is_cuda else tensor.owner.get()
        print(
            f"{values.shape} {values.dtype} min {values.min():.3f} max {values.max():.3f} "
            f"mean {values.mean():.3f}"
        )


class PreprocessApp(Application):
    def __init__(self, xp=np):
        self.xp = xp
        super().__init__()

    def compose(self):
        camera = RawCamera(self, CountCondition(self, 3), name="camera", xp=self.xp)
        demosaic = BayerDemosaicOp(
            self, name="demosaic", in_tensor_name="raw", out_tensor_name="rgb", bayer_grid_pos=2
        )
        converter = FormatConverterOp(
            self,
            name="converter",
            in_tensor_name="rgb",
            out_tensor_name="input",
            out_dtype="float32",
            resize_width=128,
            resize_height=128,
            scale_min=-1.0,
            scale_max=1.0,
        )
        self.add_flow(camera, demosaic)
        self.add_flow(demosaic, converter)
        self.add_flow(converter, Stats(self, name="stats"))


def main():
    xp = np
    if "--gpu" in sys.argv:
        import cupy as xp
    PreprocessApp(xp).run()


if __name__ == "__main__":
    main()
