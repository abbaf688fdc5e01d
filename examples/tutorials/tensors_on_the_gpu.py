"""Tensors and TensorMaps: arrays cross operators and libraries without copies, on the GPU if any.

With CuPy and a CUDA device the arrays are CuPy arrays in GPU memory; otherwise they are numpy
arrays in host memory. The code is the same either way, and the first line printed says which ran.

    python3 examples/tutorials/tensors_on_the_gpu.py
"""

import numpy as np

import holoflow
from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.tensor import cuda_available, cupy_module

xp = cupy_module() if cuda_available() else np  # the array library of this run


def zero_copy_tour():
    """One array, seen through a holoflow Tensor, the array interfaces, DLPack and torch."""
    array = xp.arange(12, dtype=xp.float32).reshape(3, 4)
    tensor = holoflow.as_tensor(array)  # wraps the array's memory; nothing is copied
    print(f"as_tensor: shape {tensor.shape}, dtype {tensor.dtype}, device {tensor.device.device_type.name}")

    def shares_memory(other):
        return holoflow.as_tensor(other).data == tensor.data

    # xp.asarray reads __array_interface__ (numpy) or __cuda_array_interface__ (CuPy).
    print(f"{xp.__name__}.asarray view shares memory: {shares_memory(xp.asarray(tensor))}")
    print(f"{xp.__name__}.from_dlpack view shares memory: {shares_memory(xp.from_dlpack(tensor))}")
    try:
        import torch
    except ImportError:
        print("torch.from_dlpack: torch is not installed, skipped")
    else:
        if tensor.is_cuda and not torch.cuda.is_available():
            print("torch.from_dlpack: this torch has no CUDA, skipped")
        else:
            print(f"torch.from_dlpack view shares memory: {shares_memory(torch.from_dlpack(tensor))}")


class FrameSource(Operator):
    """Emits a dict of arrays: a 4x6 ramp scaled by the frame number, and the frame number."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.frame_id = 0
        self.sent = {}  # frame_id -> address of the frame's memory

    def compute(self, op_input, op_output, context):
        self.frame_id += 1
        frame = xp.arange(24, dtype=xp.float32).reshape(4, 6) * self.frame_id
        self.sent[self.frame_id] = holoflow.as_tensor(frame).data
        op_output.emit({"frame": frame, "frame_id": self.frame_id}, "out")


class Clip(Operator):
    """Clips the frame at 50 with whichever library holds it; forwards the frame as it came."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        scope = op_input.receive_array("in", "frame")
        with scope as (lib, frame):  # lib is numpy for host memory, cupy for GPU memory
            clipped = lib.minimum(frame, 50.0)
        message = scope.message  # the whole TensorMap
        op_output.emit(
            {"frame": message["frame"], "clipped": clipped, "frame_id": message["frame_id"]}, "out"
        )


class Report(Operator):
    """Prints the message's keys, the clipped tensor and its mean, and whether the frame was copied."""

    def __init__(self, fragment, *args, source, **kwargs):
        self.source = source
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        scope = op_input.receive_array("in", "clipped")
        with scope as (_, clipped):
            mean = float(clipped.mean())
        message = scope.message
        frame_id = message["frame_id"]
        tensor = message["clipped"]
        no_copy = message["frame"].data == self.source.sent[frame_id]
        print(
            f"frame {frame_id}: {type(message).__name__} {sorted(message.keys())}, "
            f"clipped is a {type(tensor).__name__} {tensor.shape} {tensor.dtype} "
            f"on {tensor.device.device_type.name}, mean {mean:.2f}; frame arrived without a copy: {no_copy}"
        )


class TensorApp(Application):
    def compose(self):
        source = FrameSource(self, CountCondition(self, 3), name="source")
        clip = Clip(self, name="clip")
        self.add_flow(source, clip)
        self.add_flow(clip, Report(self, source=source, name="report"))


def main():
    if xp is np:
        print("arrays live on: the host (numpy); CuPy or a CUDA device is missing")
    else:
        print(f"arrays live on: the GPU (CuPy, device {xp.cuda.Device().id})")
    zero_copy_tour()
    TensorApp().run()


if __name__ == "__main__":
    main()
