"""Operators from plain functions and a class, with ``create_op``.

A generator function plays a camera (three frames, then it stops); a function splits each frame
into two tensors on two ports; a callable class keeps running statistics; ``op_param`` functions
print what reaches them. Prints two lines per frame, e.g. for the second one::

    frame 1: left mean 1.0, right mean 2.0
    stats after 2 frames: running mean 0.75, peak 2.0
"""

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application
from holoflow.decorator import Input, Output, create_op


@create_op(outputs="frame")
def camera(count, shape=(4, 8)):
    """A generator: one frame per compute; the operator stops when it is exhausted."""
    for i in range(count):
        yield np.full(shape, float(i), np.float32)


@create_op(
    inputs=Input("frame", arg_map="image"),
    outputs=(Output("left", tensor_names="left"), Output("right", tensor_names="right")),
)
def split(image, *, gain=1.0):
    """Returns a dict of tensors; each output port takes the one it names."""
    half = image.shape[1] // 2
    return {"left": image[:, :half] * gain, "right": image[:, half:] * gain * 2}


@create_op(inputs=(Input("left", arg_map="left"), Input("right", arg_map="right")), outputs="both")
class Stats:
    """A callable class: the instance keeps its state between calls."""

    def __init__(self):
        self.frames = 0
        self.total = 0.0
        self.peak = 0.0

    def __call__(self, left, right):
        self.frames += 1
        self.total += float(left.mean() + right.mean()) / 2
        self.peak = max(self.peak, float(right.max()))
        return self.frames, self.total / self.frames, self.peak


@create_op(inputs=(Input("left", arg_map="left"), Input("right", arg_map="right")), op_param="self")
def show_frame(self, left, right):
    print(f"frame {self.count}: left mean {left.mean():.1f}, right mean {right.mean():.1f}")
    self.count += 1


@create_op(inputs=Input("in", arg_map="summary"))
def show_stats(summary):
    frames, mean, peak = summary
    print(f"stats after {frames} frames: running mean {mean:.2f}, peak {peak:.1f}")


class FunctionsApp(Application):
    def compose(self):
        # The CountCondition would allow 10 frames; the generator ends the source after 3.
        src = camera(self, CountCondition(self, 10), name="camera", count=3)
        splitter = split(self, name="split", gain=1.0)
        stats = Stats()(self, name="stats")
        show = show_frame(self, name="show")
        show.count = 0
        self.add_flow(src, splitter)
        self.add_flow(splitter, show, {("left", "left"), ("right", "right")})
        self.add_flow(splitter, stats, {("left", "left"), ("right", "right")})
        self.add_flow(stats, show_stats(self, name="show_stats"))


def main():
    FunctionsApp().run()


if __name__ == "__main__":
    main()
