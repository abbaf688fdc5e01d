"""Data loggers on a CPU pipeline: a twin of Holoscan's ``tensor_interop`` logging set-up.

A source emits frames as ``{"frame": array}`` with an ``exposure`` metadata entry, a filter
smooths them (numpy, dict of tensors in and out) and a sink keeps their means. A data logger
writes one line per message emitted or received: frames are summarised (shape, dtype, device),
never dumped. As in ``tensor_interop`` the logger is a ``GXFConsoleLogger`` with
``log_tensor_data_content=False`` and ``log_metadata=False``; ``--async`` uses an
``AsyncConsoleLogger`` instead, which writes from its own thread, and ``--deny PATTERN`` leaves
out the ports whose ``"<operator>.<port>"`` id matches (as ``multithread`` does).

Usage::

    python examples/data_logging.py [--frames 5] [--async] [--deny 'sink\\.']
"""

from __future__ import annotations

import argparse

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.data_loggers import AsyncConsoleLogger, GXFConsoleLogger

HEIGHT, WIDTH = 48, 64


class Source(Operator):
    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.index = 0

    def compute(self, op_input, op_output, context):
        frame = np.full((HEIGHT, WIDTH), self.index * 10, dtype=np.float32)
        self.metadata["exposure"] = 0.5 + self.index
        op_output.emit({"frame": frame}, "out")
        self.index += 1


class Smooth(Operator):
    """A 3-tap box filter along each row: a CPU stand-in for the CuPy Gaussian filter."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        frame = np.asarray(op_input.receive("in")["frame"])
        padded = np.pad(frame, ((0, 0), (1, 1)), mode="edge")
        smooth = (padded[:, :-2] + padded[:, 1:-1] + padded[:, 2:]) / 3
        op_output.emit({"frame": smooth.astype(np.float32)}, "out")


class Sink(Operator):
    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.means = []

    def compute(self, op_input, op_output, context):
        self.means.append(float(np.asarray(op_input.receive("in")["frame"]).mean()))


class DataLoggingApp(Application):
    def __init__(self, frames, use_async=False, deny=(), **kwargs):
        self.frames, self.use_async, self.deny = frames, use_async, list(deny)
        super().__init__(**kwargs)

    def compose(self):
        source = Source(self, CountCondition(self, self.frames), name="source")
        smooth = Smooth(self, name="smooth")
        self.sink = Sink(self, name="sink")
        self.add_flow(source, smooth)
        self.add_flow(smooth, self.sink)
        # log the messages sent between operators
        logger_type = AsyncConsoleLogger if self.use_async else GXFConsoleLogger
        self.add_data_logger(
            logger_type(
                self,
                name="console_logger",
                log_tensor_data_content=False,
                log_metadata=False,
                denylist_patterns=self.deny,
            )
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--async", dest="use_async", action="store_true")
    parser.add_argument("--deny", action="append", default=[])
    args = parser.parse_args(argv)
    app = DataLoggingApp(args.frames, args.use_async, args.deny)
    app.run()
    for index, mean in enumerate(app.sink.means):
        print(f"frame {index}: mean {mean:.1f}")


if __name__ == "__main__":
    main()
