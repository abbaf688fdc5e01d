"""Operators the benchmarks share: a source repeating one message and a sink counting messages."""

from __future__ import annotations

from holoflow.core import Operator


class Repeat(Operator):
    """Emits ``message`` on ``out`` at every compute (bound the run with a CountCondition)."""

    def __init__(self, fragment, message, *args, **kwargs):
        self.message = message
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(self.message, "out")


class Count(Operator):
    """Receives from ``in`` and counts the messages in ``frames``; with ``wait_for_streams``, waits
    on the host for the CUDA stream each message was produced on (its data is then complete)."""

    def __init__(self, fragment, *args, wait_for_streams=False, **kwargs):
        self.wait_for_streams = wait_for_streams
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.frames = 0

    def compute(self, op_input, op_output, context):
        op_input.receive("in")
        if self.wait_for_streams:
            from holoflow.tensor import cupy_module

            stream = op_input.receive_cuda_stream("in", allocate=False)
            cupy_module().cuda.runtime.streamSynchronize(stream)
        self.frames += 1
