"""Small graphs and a recording data logger shared by the data-logger tests."""

from __future__ import annotations

import threading

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import DataLogger, IOSpec, Operator

INPUT, OUTPUT = IOSpec.IOType.INPUT, IOSpec.IOType.OUTPUT


class Recorder(DataLogger):
    """A data logger written against the public interface: it keeps what it is given."""

    def __init__(self, inputs: bool = True, outputs: bool = True) -> None:
        self.inputs, self.outputs = inputs, outputs
        self.calls: list[tuple[str, str, object, int, dict | None, IOSpec.IOType]] = []
        self.lock = threading.Lock()
        self.initialized = self.shut_down = 0

    def _keep(self, kind, data, unique_id, acquisition_timestamp, metadata, io_type):
        copy = None if metadata is None else dict(metadata)
        with self.lock:
            self.calls.append((kind, unique_id, data, acquisition_timestamp, copy, io_type))
        return True

    def log_data(self, data, unique_id, acquisition_timestamp=-1, metadata=None, io_type=OUTPUT, stream=None):
        return self._keep("data", data, unique_id, acquisition_timestamp, metadata, io_type)

    def log_tensor_data(
        self, tensor, unique_id, acquisition_timestamp=-1, metadata=None, io_type=OUTPUT, stream=None
    ):
        return self._keep("tensor", tensor, unique_id, acquisition_timestamp, metadata, io_type)

    def log_tensormap_data(
        self, tensor_map, unique_id, acquisition_timestamp=-1, metadata=None, io_type=OUTPUT, stream=None
    ):
        return self._keep("tensormap", tensor_map, unique_id, acquisition_timestamp, metadata, io_type)

    def should_log_input(self):
        return self.inputs

    def should_log_output(self):
        return self.outputs

    def initialize(self):
        self.initialized += 1

    def shutdown(self):
        self.shut_down += 1

    def ids(self, io_type=None):
        return sorted(uid for _, uid, _, _, _, io in self.calls if io_type is None or io is io_type)


class CountTx(Operator):
    """Emits 1, 2, ... on ``out``, with metadata ``{"n": i}`` and acquisition time ``1000 * i``."""

    def setup(self, spec):
        spec.output("out")

    def initialize(self):
        self.count = 0

    def compute(self, op_input, op_output, context):
        self.count += 1
        self.metadata["n"] = self.count
        op_output.emit(self.count, "out", acq_timestamp=1000 * self.count)


class ArrayTx(Operator):
    """Emits ``{"image": 2x3 float32}`` on ``out`` and a bare 4-element array on ``raw``."""

    def setup(self, spec):
        spec.output("out")
        spec.output("raw")

    def compute(self, op_input, op_output, context):
        op_output.emit({"image": np.arange(6, dtype=np.float32).reshape(2, 3)}, "out")
        op_output.emit(np.arange(4, dtype=np.int16), "raw")


class Sink(Operator):
    """Receives every declared input and keeps what came."""

    def __init__(self, fragment, *args, inputs=("in",), any_size=(), **kwargs):
        self._inputs, self._any = tuple(inputs), tuple(any_size)
        self.got = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        for name in self._inputs:
            spec.input(name)
        for name in self._any:
            spec.input(name, size=IOSpec.ANY_SIZE)

    def compute(self, op_input, op_output, context):
        for name in (*self._inputs, *self._any):
            self.got.append(op_input.receive(name))


def chain(app, n=3):
    """``tx -> rx`` with ``tx`` emitting ``n`` counts; returns (tx, rx)."""
    tx = CountTx(app, CountCondition(app, n), name="tx")
    rx = Sink(app, name="rx")
    app.add_flow(tx, rx)
    return tx, rx
