"""Lifecycle under every scheduler: errors in any method, stop() always called, Ctrl-C."""

from __future__ import annotations

import re

import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Operator
from holoflow.testing import Recorder, Source


class Fails(Operator):
    def __init__(self, fragment, *args, where="compute", log=None, **kwargs):
        self.where, self.log = where, log
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def initialize(self):
        self._maybe_fail("initialize")

    def start(self):
        self._maybe_fail("start")

    def compute(self, op_input, op_output, context):
        op_output.emit(1, "out")
        self._maybe_fail("compute")

    def stop(self):
        self.log.append(f"stop {self.name}")
        self._maybe_fail("stop")

    def _maybe_fail(self, where):
        if self.where == where:
            raise ZeroDivisionError(f"failed in {where}")


class LoggingRx(Recorder):
    def __init__(self, fragment, log, *args, **kwargs):
        self.log = log
        super().__init__(fragment, *args, **kwargs)

    def stop(self):
        self.log.append(f"stop {self.name}")


@pytest.mark.parametrize("where", ["initialize", "start", "compute", "stop"])
def test_exceptions_propagate_with_their_type_and_the_operator_name(app, use_scheduler, where):
    use_scheduler(app)
    log = []
    tx = Fails(app, CountCondition(app, 3), where=where, log=log, name="tx")
    app.add_flow(tx, LoggingRx(app, log, name="rx"))
    with pytest.raises(ZeroDivisionError, match=f"failed in {where}") as info:
        app.run()
    assert info.value.__notes__ == [f"raised in operator 'tx'.{where}()"]
    if where in ("initialize", "start"):
        assert log == []  # tx starts first: when it fails nothing has started, so nothing stops
    else:
        assert sorted(log) == ["stop rx", "stop tx"]


def test_a_failed_start_stops_the_operators_already_started(app, use_scheduler):
    use_scheduler(app)
    log = []

    class BadStart(LoggingRx):
        def start(self):
            raise OSError("device busy")

    app.add_flow(
        Fails(app, CountCondition(app, 3), where="never", log=log, name="tx"), BadStart(app, log, name="rx")
    )
    with pytest.raises(OSError, match="device busy") as info:
        app.run()
    assert info.value.__notes__ == ["raised in operator 'rx'.start()"]
    assert log == ["stop tx"]


def test_an_error_in_stop_does_not_prevent_other_stops(app, use_scheduler):
    use_scheduler(app)
    log = []

    class BadStop(LoggingRx):
        def stop(self):
            super().stop()
            raise RuntimeError("stop failed")

    app.add_flow(Source(app, [1], name="tx"), BadStop(app, log, name="rx"))
    app.add_operator(Fails(app, CountCondition(app, 0), where="never", log=log, name="other"))
    with pytest.raises(RuntimeError, match="stop failed"):
        app.run()
    assert sorted(log) == ["stop other", "stop rx"]


def test_compute_error_and_stop_error_are_both_reported(app, use_scheduler):
    use_scheduler(app)
    log = []
    app.add_flow(
        Fails(app, CountCondition(app, 1), where="compute", log=log, name="tx"),
        rx := LoggingRx(app, log, name="rx"),
    )

    def bad_stop():
        raise RuntimeError("stop failed too")

    rx.stop = bad_stop
    with pytest.raises(ZeroDivisionError) as info:
        app.run()
    assert any(re.search("stop.. also raised RuntimeError", n) for n in info.value.__notes__)


def test_keyboard_interrupt_stops_operators_and_propagates(app, use_scheduler):
    use_scheduler(app)
    log = []

    class Interrupt(LoggingRx):
        def compute(self, op_input, op_output, context):
            raise KeyboardInterrupt

    app.add_flow(Source(app, [1], name="tx"), Interrupt(app, log, name="rx"))
    with pytest.raises(KeyboardInterrupt):
        app.run()
    assert log == ["stop rx"]
