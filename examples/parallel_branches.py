"""Two branches that overlap on two worker threads, plus an operator pinned to its own thread.

A camera-like source emits frames; two filters process each frame with numpy (which releases
the GIL on large arrays), so EventBasedScheduler runs them side by side; a join combines both
results. The source sits in a thread pool with a dedicated thread, as a capture operator would.
"""

import threading
import time

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler


class Camera(Operator):
    def setup(self, spec):
        spec.output("frame")

    def start(self):
        self.rng = np.random.default_rng(0)

    def compute(self, op_input, op_output, context):
        op_output.emit(self.rng.random((1024, 1024)), "frame")


class Filter(Operator):
    """Smooths the frame ``passes`` times; records which thread ran it."""

    def setup(self, spec):
        spec.input("frame")
        spec.output("result")
        spec.param("passes", 4)

    def compute(self, op_input, op_output, context):
        frame = op_input.receive("frame")
        for _ in range(self.passes):
            frame = np.sqrt(frame * 0.5 + 0.25)
        self.thread = threading.current_thread().name
        op_output.emit(float(frame.mean()), "result")


class Join(Operator):
    def setup(self, spec):
        spec.input("a")
        spec.input("b")

    def start(self):
        self.results = []

    def compute(self, op_input, op_output, context):
        self.results.append((op_input.receive("a"), op_input.receive("b")))


class ParallelApp(Application):
    def compose(self):
        camera = Camera(self, CountCondition(self, 20), name="camera")
        self.filters = [Filter(self, name="smooth_a"), Filter(self, name="smooth_b", passes=6)]
        self.join = Join(self, name="join")
        for port, branch in zip(("a", "b"), self.filters, strict=True):
            self.add_flow(camera, branch)
            self.add_flow(branch, self.join, {("result", port)})
        capture = self.make_thread_pool("capture", 1)
        capture.add(camera, pin_operator=True)


def main():
    app = ParallelApp()
    app.scheduler(EventBasedScheduler(app, worker_thread_number=2))
    t0 = time.perf_counter()
    app.run()
    print(f"processed {len(app.join.results)} frames in {time.perf_counter() - t0:.2f} s")
    print(f"last means: {app.join.results[-1][0]:.4f}, {app.join.results[-1][1]:.4f}")


if __name__ == "__main__":
    main()
