"""AsyncConsoleLogger and AsyncDataLoggerResource: queues, policies, worker threads."""

from __future__ import annotations

import logging
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import AsyncDataLoggerResource, AsyncQueuePolicy, DataLoggerQueueType
from holoflow.data_loggers import AsyncConsoleLogger
from holoflow.errors import ConfigError, ResourceError

from ._graphs import ArrayTx, CountTx, Sink, chain


class Gated(AsyncDataLoggerResource):
    """Logs into a list, each entry only once ``gate`` is open (or after ``hold`` seconds)."""

    def __init__(self, fragment, *args, hold=10.0, **kwargs):
        self.gate = threading.Event()
        self.hold = hold
        self.seen = []
        self.threads = set()
        super().__init__(fragment, *args, **kwargs)

    def process_data_entry(self, entry):
        self.threads.add(threading.current_thread().name)
        self.gate.wait(self.hold)
        self.seen.append((entry.unique_id, entry.data, entry.metadata))
        return True


class OpenGate(Sink):
    """A sink that opens a logger's gate when it stops (after the last compute)."""

    def __init__(self, fragment, logger, *args, **kwargs):
        self.logger = logger
        super().__init__(fragment, *args, **kwargs)

    def stop(self):
        self.logger.gate.set()


def build(app, logger, n):
    tx = CountTx(app, CountCondition(app, n), name="tx")
    rx = OpenGate(app, logger, name="rx")
    app.add_flow(tx, rx)
    app.add_data_logger(logger)
    return tx, rx


def test_async_console_logs_everything_and_leaves_no_thread(app, use_scheduler, caplog):
    use_scheduler(app)
    chain(app, 5)
    logger = AsyncConsoleLogger(app)
    app.add_data_logger(logger)
    before = set(threading.enumerate())
    with caplog.at_level(logging.INFO, logger="holoflow"):
        app.run()
    assert set(threading.enumerate()) <= before
    messages = [r.getMessage() for r in caplog.records if r.name == "holoflow.data_loggers"]
    assert len(messages) == 10
    assert all(m.startswith("AsyncConsoleLogger[ID:") for m in messages)
    assert (
        sorted(m.split("]")[0] for m in messages)
        == ["AsyncConsoleLogger[ID:rx.in"] * 5 + ["AsyncConsoleLogger[ID:tx.out"] * 5
    )
    stats = logger.statistics()
    assert (stats.data_enqueued, stats.data_processed, stats.data_dropped) == (10, 10, 0)
    assert not stats.workers_running


def test_tensor_values_go_through_the_large_data_queue(app, caplog):
    tx = ArrayTx(app, CountCondition(app, 2), name="tx")
    rx = Sink(app, inputs=("in", "raw"), name="rx")
    app.add_flow(tx, rx, {("out", "in"), ("raw", "raw")})
    logger = AsyncConsoleLogger(app, log_inputs=False, log_metadata=False)
    app.add_data_logger(logger)
    with caplog.at_level(logging.INFO, logger="holoflow"):
        app.run()
    messages = [r.getMessage() for r in caplog.records if r.name == "holoflow.data_loggers"]
    content = [m for m in messages if "[Category:Content]" in m]
    assert len(content) == 2 and all("data=[0.0, 1.0, 2.0" in m for m in content)
    stats = logger.statistics()
    assert (stats.large_data_enqueued, stats.large_data_processed) == (2, 2)
    assert (stats.data_enqueued, stats.data_processed) == (2, 2)  # the bare arrays: summaries


def test_without_content_or_large_queue_tensors_are_summaries(app, caplog):
    tx = ArrayTx(app, CountCondition(app, 1), name="tx")
    rx = Sink(app, inputs=("in", "raw"), name="rx")
    app.add_flow(tx, rx, {("out", "in"), ("raw", "raw")})
    logger = AsyncConsoleLogger(app, enable_large_data_queue=False)
    app.add_data_logger(logger)
    with caplog.at_level(logging.INFO, logger="holoflow"):
        app.run()
    messages = [r.getMessage() for r in caplog.records if r.name == "holoflow.data_loggers"]
    assert len(messages) == 4 and not any("data=" in m for m in messages)
    assert logger.statistics().large_data_enqueued == 0


def test_reject_drops_what_a_full_queue_cannot_take_without_blocking_compute(app):
    logger = Gated(app, log_inputs=False, max_queue_size=2, queue_policy="reject")
    build(app, logger, 10)
    app.run()
    stats = logger.statistics()
    assert stats.data_enqueued + stats.data_dropped == 10
    assert stats.data_dropped >= 7  # at most one entry in the worker's hands and two queued
    assert stats.data_processed == stats.data_enqueued == len(logger.seen)
    assert [e[1] for e in logger.seen] == sorted(e[1] for e in logger.seen)
    assert len(logger.threads) == 1


def test_raise_fails_the_run_and_still_joins_the_workers(app):
    logger = Gated(app, log_inputs=False, max_queue_size=1, queue_policy=AsyncQueuePolicy.RAISE, name="q")
    build(app, logger, 10)
    with pytest.raises(ResourceError, match=r"q data queue overflow \(1 entries\) for tx.out"):
        app.run()
    assert not logger.statistics().workers_running


def test_shutdown_wait_zero_discards_what_is_left(app):
    logger = Gated(app, log_inputs=False, max_queue_size=100, shutdown_wait_period_ms=0, hold=0.05)
    build(app, logger, 5)

    class Never(threading.Event):
        def set(self):  # the sink's stop() cannot open it: every entry waits ``hold``
            pass

    logger.gate = Never()
    app.run()
    stats = logger.statistics()
    assert stats.data_processed + stats.data_dropped == 5
    assert stats.data_dropped >= 1


def test_environment_overrides_the_shutdown_wait(app, monkeypatch):
    monkeypatch.setenv("HOLOSCAN_ASYNC_LOGGER_SHUTDOWN_WAIT_MS", "0")

    class Never(threading.Event):
        def set(self):
            pass

    logger = Gated(app, log_inputs=False, hold=0.05)
    build(app, logger, 5)
    logger.gate = Never()
    app.run()
    assert logger.statistics().data_dropped >= 1


def test_metadata_is_copied_when_logged(app):
    logger = Gated(app, log_inputs=False)
    build(app, logger, 3)
    app.run()
    assert [e[2] for e in logger.seen] == [{"n": 1}, {"n": 2}, {"n": 3}]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_queue_size": 0}, "max_queue_size must be a positive int, got 0"),
        ({"queue_policy": "drop"}, "queue_policy must be 'reject' or 'raise'"),
        ({"large_data_queue_policy": 7}, "large_data_queue_policy must be 'reject' or 'raise'"),
    ],
)
def test_bad_settings_fail_the_run(app, kwargs, message):
    chain(app, 1)
    app.add_data_logger(AsyncConsoleLogger(app, **kwargs))
    with pytest.raises(ConfigError, match=message):
        app.run()


def test_queue_type_is_accepted():
    assert [t.name for t in DataLoggerQueueType] == ["LOCK_FREE", "ORDERED"]
    assert [p.name for p in AsyncQueuePolicy] == ["REJECT", "RAISE"]


def test_logging_outside_a_run_is_dropped(app):
    logger = AsyncConsoleLogger(app)
    assert logger.log_data(1, "x.y") is False


def _logs_or_raises(logger, value):
    """``False`` when logging ``value`` raised the overflow error."""
    try:
        logger.log_data(value, "op.out")
    except ResourceError:
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(capacity=st.integers(1, 8), count=st.integers(0, 30), raise_on_full=st.booleans())
def test_queue_accounting(capacity, count, raise_on_full):
    """Whatever the sizes: every entry is either taken or dropped, every taken one is processed,
    and a full RAISE queue raises exactly for the entries it drops."""
    from holoflow.core import Application

    logger = Gated(
        Application([]), max_queue_size=capacity, queue_policy="raise" if raise_on_full else "reject"
    )
    logger.initialize()
    raised = 0
    try:
        raised = sum(not _logs_or_raises(logger, i) for i in range(count))
    finally:
        logger.gate.set()
        logger.shutdown()
    stats = logger.statistics()
    assert stats.data_enqueued + stats.data_dropped == count
    assert stats.data_processed == stats.data_enqueued == len(logger.seen)
    assert stats.data_enqueued >= min(count, capacity)
    assert raised == (stats.data_dropped if raise_on_full else 0)
    assert [e[1] for e in logger.seen] == sorted(e[1] for e in logger.seen)
    assert not stats.workers_running
