"""Threaded schedulers: overlap, exclusivity, events, stopping, errors and thread pools.

Most behaviours are checked on every scheduler kind through the ``use_scheduler`` fixture.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time

import numpy as np
import pytest

from holoflow.conditions import (
    AsynchronousCondition,
    AsynchronousEventState,
    CountCondition,
    PeriodicCondition,
)
from holoflow.core import Condition, Operator, SchedulingStatusType
from holoflow.errors import GraphError
from holoflow.resources import ManualClock
from holoflow.schedulers import EventBasedScheduler, MultiThreadScheduler
from holoflow.testing import EventDriver, Recorder, Source


class Sleepy(Operator):
    """Sleeps (releasing the GIL) and records its concurrency and thread."""

    def __init__(self, fragment, *args, seconds=0.0, **kwargs):
        self.seconds = seconds
        self.active = 0
        self.max_active = 0
        self.threads = []
        self.lock = threading.Lock()
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        with self.lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        self.threads.append(threading.current_thread().name)
        time.sleep(self.seconds)
        with self.lock:
            self.active -= 1


def test_parallel_branches_overlap(app):
    """Two independent sleeping operators on 2 workers take about half the serial time."""
    a = Sleepy(app, CountCondition(app, 4), seconds=0.05, name="a")
    b = Sleepy(app, CountCondition(app, 4), seconds=0.05, name="b")
    app.add_operator(a)
    app.add_operator(b)
    app.scheduler(EventBasedScheduler(app, worker_thread_number=2))
    t0 = time.monotonic()
    app.run()
    wall = time.monotonic() - t0
    assert wall < 0.3, wall  # serial would be 0.4 s
    assert a.max_active == 1 and b.max_active == 1


def test_an_operator_never_runs_concurrently_with_itself(app):
    ops = [Sleepy(app, CountCondition(app, 20), seconds=0.001, name=f"op{i}") for i in range(3)]
    for op in ops:
        app.add_operator(op)
    app.scheduler(MultiThreadScheduler(app, worker_thread_number=4))
    app.run()
    assert [op.max_active for op in ops] == [1, 1, 1]
    assert all(len(op.threads) == 20 for op in ops)


def test_slow_consumer_loses_nothing_and_queues_stay_bounded(app, use_scheduler):
    class SlowRx(Operator):
        def setup(self, spec):
            spec.input("in").connector(capacity=2)

        def compute(self, op_input, op_output, context):
            self.peak = max(getattr(self, "peak", 0), self.receiver("in").size)
            self.got = [*getattr(self, "got", []), op_input.receive("in")]
            time.sleep(0.0005)

    rx = SlowRx(app, name="rx")
    producers = [Source(app, [(p, i) for i in range(60)], name=f"p{p}") for p in range(3)]
    for producer in producers:
        app.add_flow(producer, rx)
    use_scheduler(app)
    app.run()
    assert len(rx.got) == 180
    for p in range(3):
        assert [i for q, i in rx.got if q == p] == list(range(60))
    assert rx.peak <= 2


def test_idle_periodic_app_sleeps(app, use_scheduler):
    class Tick(Operator):
        def compute(self, op_input, op_output, context):
            pass

    app.add_operator(Tick(app, CountCondition(app, 3), PeriodicCondition(app, "300ms"), name="t"))
    use_scheduler(app)
    # Threads other libraries left running (a GPU runtime's, say) spend the process's CPU too:
    # what the process spends asleep is subtracted.
    cpu0, t0 = time.process_time(), time.monotonic()
    time.sleep(0.3)
    background = (time.process_time() - cpu0) / (time.monotonic() - t0)
    cpu0, t0 = time.process_time(), time.monotonic()
    app.run()
    wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    assert wall >= 0.59
    assert cpu / wall - background < 0.05, (cpu, wall, background)


def test_asynchronous_condition_wakes_the_scheduler_promptly(app, use_scheduler):
    cond = AsynchronousCondition(app)
    cond.event_state = AsynchronousEventState.EVENT_WAITING
    seen = []

    class Op(Operator):
        def compute(self, op_input, op_output, context):
            seen.append(time.monotonic())

    app.add_operator(Op(app, cond, name="op"))
    use_scheduler(app)
    with EventDriver(cond, 20) as driver:
        app.run()
    delays = sorted(b - a for a, b in zip(driver.sent, seen))
    assert len(seen) == 20
    assert delays[len(delays) // 2] < 0.005, delays  # median wake-up well under 5 ms


def test_stop_execution_from_another_thread(app, use_scheduler):
    log = []
    running = threading.Event()

    class Op(Sleepy):
        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            if all(len(op.threads) >= 2 for op in (a, b)):
                running.set()

        def stop(self):
            log.append(self.name)

    app.add_operator(a := Op(app, PeriodicCondition(app, "2ms"), name="a"))
    app.add_operator(b := Op(app, name="b", seconds=0.001))
    use_scheduler(app)
    future = app.run_async()
    assert running.wait(5)
    t0 = time.monotonic()
    app.stop_execution()
    future.result(timeout=5)
    assert time.monotonic() - t0 < 0.1
    assert sorted(log) == ["a", "b"]


def test_ctrl_c_stops_the_run(app, use_scheduler):
    log = []

    class Op(Sleepy):
        def stop(self):
            log.append(self.name)

    app.add_operator(Op(app, seconds=0.002, name="busy"))
    use_scheduler(app)
    timer = threading.Timer(0.1, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        app.run()
    timer.join()
    assert time.monotonic() - t0 < 0.3
    assert log == ["busy"]


@pytest.mark.parametrize("busy", [True, False], ids=["busy", "idle"])
def test_ctrl_c_that_reaches_another_thread_stops_the_run(app, use_scheduler, busy):
    """The kernel may deliver SIGINT to any thread (CUDA and PyTorch start their own); Python
    runs the handler on the main thread, which must not sit in an unbounded wait meanwhile."""
    if busy:
        app.add_operator(Sleepy(app, seconds=0.002, name="busy"))
    else:  # waits for an event that never comes: the scheduler sleeps with no deadline
        app.add_operator(Sleepy(app, AsynchronousCondition(app, name="never"), seconds=0, name="idle"))
    use_scheduler(app)
    raised_at = []

    def interrupt_from_here():
        raised_at.append(time.monotonic())
        signal.pthread_kill(threading.get_ident(), signal.SIGINT)

    signaller = threading.Timer(0.2, interrupt_from_here)
    watchdog = threading.Timer(10, app.stop_execution)
    signaller.start()
    watchdog.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            app.run()
        ended = time.monotonic()
    finally:
        watchdog.cancel()
        signaller.join()
    assert ended - raised_at[0] < 1.0, "the run noticed Ctrl-C only when the watchdog stopped it"


def test_exception_in_a_worker_stops_everything(app, use_scheduler):
    log = []

    class Bad(Sleepy):
        def start(self):
            self.ticks = 0

        def compute(self, op_input, op_output, context):
            super().compute(op_input, op_output, context)
            self.ticks += 1
            if self.ticks == 5:
                raise ValueError("bad frame")

        def stop(self):
            log.append(self.name)

    class Good(Bad):
        def compute(self, op_input, op_output, context):
            time.sleep(0.001)

    app.add_operator(Bad(app, name="bad", seconds=0.001))
    app.add_operator(Good(app, name="good"))
    use_scheduler(app)
    with pytest.raises(ValueError, match="bad frame") as info:
        app.run()
    assert info.value.__notes__ == ["raised in operator 'bad'.compute()"]
    assert sorted(log) == ["bad", "good"]
    with pytest.raises(ValueError, match="bad frame"):
        app.run_async().result(timeout=10)


def test_deadlock_and_max_duration(app, use_scheduler):
    app.add_flow(Source(app, [1, 2, 3], name="tx"), rx := Recorder(app, name="rx"))
    use_scheduler(app, stop_on_deadlock=False, max_duration_ms=150)
    t0 = time.monotonic()
    app.run()
    assert 0.14 <= time.monotonic() - t0 < 2
    assert rx.received == [1, 2, 3]


def test_deadlock_timeout(app, use_scheduler):
    app.add_flow(Source(app, [1], name="tx"), Recorder(app, name="rx"))
    use_scheduler(app, stop_on_deadlock_timeout=100)
    t0 = time.monotonic()
    app.run()
    assert time.monotonic() - t0 >= 0.099


def test_manual_clock_makes_periodic_instant(app, use_scheduler):
    clock = ManualClock(app)
    stamps = []

    class Op(Operator):
        def compute(self, op_input, op_output, context):
            stamps.append(clock.timestamp())

    app.add_operator(Op(app, CountCondition(app, 4), PeriodicCondition(app, "1s"), name="op"))
    use_scheduler(app, clock=clock)
    t0 = time.monotonic()
    app.run()
    assert time.monotonic() - t0 < 1.0
    assert stamps == [0, 1_000_000_000, 2_000_000_000, 3_000_000_000]


def test_custom_condition_without_notify_is_polled_by_multithread(app):
    flag = threading.Event()

    class External(Condition):
        def check(self, timestamp):
            return (SchedulingStatusType.READY if flag.is_set() else SchedulingStatusType.WAIT), None

    class Op(Operator):
        def compute(self, op_input, op_output, context):
            self.ran = time.monotonic()

    op = Op(app, External(app), CountCondition(app, 1), name="op")
    app.add_operator(op)
    app.scheduler(
        MultiThreadScheduler(
            app,
            worker_thread_number=1,
            stop_on_deadlock=False,
            check_recession_period_ms=5,
            max_duration_ms=2000,
        )
    )
    threading.Timer(0.05, flag.set).start()
    t0 = time.monotonic()
    app.run()
    assert 0.04 < op.ran - t0 < 0.5


def test_thread_pools_place_and_pin_operators(app):
    pool = app.make_thread_pool("pool", 1)
    pinned = Sleepy(app, CountCondition(app, 10), seconds=0.001, name="pinned")
    pooled = Sleepy(app, CountCondition(app, 10), seconds=0.001, name="pooled")
    free = Sleepy(app, CountCondition(app, 10), seconds=0.001, name="free")
    for op in (pinned, pooled, free):
        app.add_operator(op)
    pool.add(pinned, pin_operator=True)
    pool.add([pooled])
    # The pinned operator's thread runs nothing else, so the pool grows a thread for the other.
    assert pool.size == 2 and pool.operators == [pinned, pooled] and app.thread_pools == [pool]
    app.scheduler(EventBasedScheduler(app, worker_thread_number=2))
    app.run()
    assert set(pinned.threads) == {"holoflow-pool-0"}
    assert set(pooled.threads) == {"holoflow-pool-1"}
    assert all(name.startswith("holoflow-worker-") for name in free.threads)


@pytest.mark.parametrize("kind", [EventBasedScheduler, MultiThreadScheduler])
def test_a_pinned_operators_thread_runs_nothing_else(app, kind):
    pool = app.make_thread_pool("p", 2)
    a = Sleepy(app, CountCondition(app, 20), seconds=0.001, name="a")
    b = Sleepy(app, CountCondition(app, 20), seconds=0.001, name="b")
    c = Sleepy(app, CountCondition(app, 20), seconds=0.001, name="c")
    for op in (a, b, c):
        app.add_operator(op)
    pool.add(a, pin_operator=True)
    pool.add([b, c])
    assert pool.size == 2
    app.scheduler(kind(app, worker_thread_number=1))
    app.run()
    assert set(a.threads) == {"holoflow-p-0"}
    assert set(b.threads) == set(c.threads) == {"holoflow-p-1"}


def test_thread_pool_validation(app):
    pool = app.make_thread_pool("pool", 1)
    other = app.make_thread_pool("other", 1)
    op = Sleepy(app, name="op")
    pool.add(op)
    with pytest.raises(GraphError, match="already in thread pool 'pool'"):
        other.add(op)
    with pytest.raises(ValueError, match="initialize_size must be >= 1"):
        app.make_thread_pool("bad", 0)
    with pytest.raises(TypeError, match="takes operators"):
        pool.add("op")


def test_invalid_pin_cores(app):
    app.add_operator(Sleepy(app, CountCondition(app, 1), name="op"))
    app.scheduler(EventBasedScheduler(app, pin_cores=[4096]))
    with pytest.raises(GraphError, match=re.escape("cannot pin to cores [4096]")):
        app.run()


def test_pin_cores_restricts_workers(app):
    core = sorted(os.sched_getaffinity(0))[0]

    class Where(Operator):
        def compute(self, op_input, op_output, context):
            self.cores = os.sched_getaffinity(0)

    op = Where(app, CountCondition(app, 1), name="op")
    app.add_operator(op)
    app.scheduler(EventBasedScheduler(app, pin_cores=[core]))
    app.run()
    assert op.cores == {core}


def test_scheduler_parameters_are_validated(app):
    with pytest.raises(ValueError, match="worker_thread_number must be >= 1"):
        EventBasedScheduler(app, worker_thread_number=0)
    with pytest.raises(ValueError, match="check_recession_period_ms must be >= 0"):
        MultiThreadScheduler(app, check_recession_period_ms=-1)
    with pytest.raises(TypeError, match="clock must be a Clock"):
        MultiThreadScheduler(app, clock=1)


def test_gil_releasing_numpy_work_overlaps(app):
    class Work(Operator):
        def compute(self, op_input, op_output, context):
            a = np.ones((400, 400))
            self.out = a @ a

    for i in range(2):
        app.add_operator(Work(app, CountCondition(app, 20), name=f"w{i}"))
    app.scheduler(EventBasedScheduler(app, worker_thread_number=2))
    app.run()
    assert float(app.graph.find_node("w0").out[0, 0]) == 400.0


def test_a_producer_that_emits_nothing_frees_the_room_its_co_producer_waits_for(app, use_scheduler):
    """Two producers share a consumer's one-slot queue. While one runs, the slot is booked for
    it; when it then emits nothing, the other must be woken by its commit, or the run would end
    in a false deadlock with messages still to send."""
    received = []

    class Sometimes(Operator):
        def __init__(self, fragment, every, *args, **kwargs):
            self.every = every
            self.ticks = 0
            super().__init__(fragment, *args, **kwargs)

        def setup(self, spec):
            spec.output("out")

        def compute(self, op_input, op_output, context):
            self.ticks += 1
            if self.ticks % self.every == 0:
                op_output.emit((self.name, self.ticks), "out")

    class Sink(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            received.append(op_input.receive("in"))

    quiet = Sometimes(app, 1000, CountCondition(app, 20), name="quiet")  # never emits
    loud = Sometimes(app, 1, CountCondition(app, 20), name="loud")
    sink = Sink(app, name="sink")
    app.add_flow(quiet, sink)
    app.add_flow(loud, sink)
    use_scheduler(app)
    app.run()
    assert received == [("loud", i) for i in range(1, 21)]
    assert quiet.ticks == 20
