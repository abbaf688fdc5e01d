"""``holoflow.gxf.Entity``: a message of named tensors built in ``compute`` and emitted, which
receivers read as a dict of tensors, as with ``holoscan.gxf.Entity``."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.errors import TensorError
from holoflow.gxf import Entity, GXFReader, RecordedEntity
from holoflow.tensor import Tensor, TensorMap, as_tensor
from holoflow.testing import Recorder


class EntityTx(Operator):
    """Emits an entity with tensor "a" (the compute index) and an unnamed tensor."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.index = 0
        self.built = []

    def compute(self, op_input, op_output, context):
        entity = Entity(context)
        image = np.full((2, 3), self.index, dtype=np.float32)
        assert entity.add(as_tensor(image), "a") is not None
        entity.add(np.arange(4, dtype=np.int16))
        self.built.append((entity.get("a"), entity.get()))
        op_output.emit(entity, "out")
        self.index += 1


def test_receivers_get_the_tensors_by_name(scheduler_kind, use_scheduler):
    app = Application([])
    use_scheduler(app)
    tx, rx = EntityTx(app, CountCondition(app, 3), name="tx"), Recorder(app, name="rx")
    app.add_flow(tx, rx)
    app.run()
    assert len(rx.received) == 3
    for index, message in enumerate(rx.received):
        assert type(message) is TensorMap and sorted(message) == ["", "a"]
        assert isinstance(message["a"], Tensor)
        np.testing.assert_array_equal(np.asarray(message["a"]), np.full((2, 3), index, np.float32))
        np.testing.assert_array_equal(np.asarray(message[""]), np.arange(4, dtype=np.int16))
        assert message["a"] is tx.built[index][0]  # the added tensor itself, no copy
        assert message.get("a") is message["a"]  # a plain dict's get on the receiving side


def test_add_replaces_get_returns_none_for_a_missing_name(app, caplog):
    class Probe(Operator):
        def compute(self, op_input, op_output, context):
            entity = Entity(context)
            array = np.zeros(2)
            assert entity.add(array, "x") is array
            entity.add(np.ones(5), "x")
            self.shape = entity.get("x").shape
            self.names = (list(entity), len(entity), "x" in entity, "y" in entity)
            with caplog.at_level(logging.ERROR, logger="holoflow"):
                self.missing = entity.get("y")
                self.quiet = entity.get("z", False)
            with pytest.raises(TensorError, match=r"Entity.add\('n'\): an entity holds tensors, not int"):
                entity.add(5, "n")
            with pytest.raises(TypeError, match="name must be a str"):
                entity.add(array, 3)

    probe = Probe(app, CountCondition(app, 1), name="probe")
    app.add_operator(probe)
    app.run()
    assert probe.shape == (5,)
    assert probe.names == (["x"], 1, True, False)
    assert probe.missing is None and probe.quiet is None
    assert [r.getMessage() for r in caplog.records] == ["Entity.get: no tensor named 'y'; tensors: ['x']"]


def test_entity_needs_the_execution_context():
    with pytest.raises(
        TypeError, match="Entity\\(\\) takes the ExecutionContext passed to compute, not NoneType"
    ):
        Entity(None)
    with pytest.raises(TypeError):
        Entity()


def test_the_recording_record_is_recorded_entity(tmp_path):
    from holoflow.gxf import GXFWriter

    with GXFWriter(tmp_path, "rec") as writer:
        writer.write({"t": np.arange(3, dtype=np.uint8)})
    with GXFReader(tmp_path, "rec") as reader:
        (record,) = list(reader)
    assert isinstance(record, RecordedEntity) and not isinstance(record, Entity)
    np.testing.assert_array_equal(record.tensors()["t"], [0, 1, 2])
