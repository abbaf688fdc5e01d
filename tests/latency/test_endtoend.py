"""Frame ids through a real HolovizOp: stamped at the source, read back from the render buffer."""

from __future__ import annotations

import time

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.errors import ConfigError
from holoflow.latency import END_TO_END, FrameStamper, RenderReader
from holoflow.latency._endtoend import end_to_end_records
from holoflow.operators import HolovizOp
from holoflow.viz import opengl_available


class NoiseSource(Operator):
    """Noisy frames (and a translucent overlay), stamped by ``stamper`` as a source tap would."""

    def __init__(self, fragment, *args, stamper, shape, **kwargs):
        self.stamper, self.shape = stamper, shape
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.rng = np.random.default_rng(3)

    def compute(self, op_input, op_output, context):
        started = time.time_ns()
        image = self.rng.integers(0, 256, self.shape, dtype=np.uint8)
        overlay = np.zeros((*self.shape[:2], 4), np.float32)
        overlay[...] = (0.9, 0.1, 0.1, 0.4)  # a red veil over everything, the stamp included
        message = self.stamper({"": image, "overlay": overlay}, started)
        op_output.emit(message, "out")


class ReaderSink(Operator):
    def __init__(self, fragment, *args, reader, **kwargs):
        self.reader = reader
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        self.last = np.asarray(op_input.receive("in")[""])
        self.reader(self.last, time.time_ns())


class StampApp(Application):
    def __init__(self, renderer, shape, size, frames):
        self.renderer, self.shape, self.size, self.frames = renderer, shape, size, frames
        self.stamper, self.reader = FrameStamper(), RenderReader()
        super().__init__([])

    def compose(self):
        source = NoiseSource(
            self, CountCondition(self, self.frames), name="source", stamper=self.stamper, shape=self.shape
        )
        viz = HolovizOp(
            self,
            name="viz",
            width=self.size[0],
            height=self.size[1],
            headless=True,
            renderer=self.renderer,
            enable_render_buffer_output=True,
            tensors=[{"name": "", "type": "color"}, {"name": "overlay", "type": "color"}],
        )
        sink = self.sink = ReaderSink(self, name="sink", reader=self.reader)
        self.add_flow(source, viz, {("out", "receivers")})
        self.add_flow(viz, sink, {("render_buffer_output", "in")})


@pytest.fixture(params=["software", "opengl"])
def renderer(request):
    if request.param == "opengl" and not opengl_available():
        pytest.skip("no headless OpenGL here (PyOpenGL with EGL and a driver such as Mesa)")
    return request.param


@pytest.mark.parametrize(
    ("shape", "size"),
    [
        ((120, 200, 3), (333, 250)),  # scaled up, unevenly
        ((216, 384, 3), (768, 432)),  # the endoscopy app's 2x
        ((256, 256, 4), (200, 160)),  # scaled down, RGBA source
    ],
)
def test_every_rendered_frame_reads_its_id(renderer, shape, size):
    app = StampApp(renderer, shape, size, frames=12)
    app.run()
    corner = app.sink.last[: size[1] // 10, : size[0] // 3, :3].astype(int)
    assert corner[..., 0].mean() > corner[..., 1].mean() + 40  # the veil was drawn over the stamp
    assert app.reader.unreadable == 0
    assert sorted(app.reader.rendered_ns) == list(range(12))
    records, counts = end_to_end_records(app.stamper, app.reader, warmup=2)
    assert counts == {"stamped": 12, "read": 12, "unreadable": 0, "missing": 0}
    assert [r["index"] for r in records] == list(range(1, 13))
    assert all(r["path"] == END_TO_END and r["end_ns"] > r["start_ns"] for r in records)


def test_a_frame_that_shows_no_stamp_is_counted_unreadable():
    stamper, reader = FrameStamper(), RenderReader()
    frame = np.zeros((100, 100, 3), np.uint8)
    stamper({"": frame}, 10)
    stamper({"": frame.copy()}, 20)
    reader(frame, 30)  # frame 0 rendered
    reader(frame, 40)  # frame 0 again: the first time stays
    reader(np.zeros((100, 100, 4), np.uint8), 50)  # a blank render
    records, counts = end_to_end_records(stamper, reader, warmup=0)
    assert counts == {"stamped": 2, "read": 1, "unreadable": 1, "missing": 1}
    assert records == [
        {
            "path": END_TO_END,
            "index": 1,
            "counted": True,
            "start_ns": 10,
            "end_ns": 30,
            "latency_ms": 20 / 1e6,
            "hops": [],
        }
    ]


def test_the_stamper_copies_read_only_frames_and_refuses_other_messages():
    stamper = FrameStamper()
    frame = np.zeros((64, 64, 3), np.uint8)
    frame.flags.writeable = False
    message = stamper({"": frame, "meta": np.zeros(3)}, 1)
    assert message[""] is not frame and not frame.any()
    bare = stamper(np.zeros((64, 64), np.uint8), 2)
    assert bare.any()
    with pytest.raises(ConfigError, match=r"holds no \(H, W\[, C\]\) uint8 image to stamp; tensors: \['x'\]"):
        stamper({"x": np.zeros((64, 64), np.float32)}, 3)
    with pytest.raises(ConfigError, match="cannot stamp a frame id into a str"):
        stamper("frame", 4)
