"""Applications of several fragments run in one process: each fragment on its own thread,
joined by in-process links, under every scheduler."""

import os
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import Application, Fragment, IOSpec, Operator, Tracker
from holoflow.distributed._local import link_mode
from holoflow.errors import ConfigError, GraphError
from holoflow.testing import Recorder, Source
from tests.conftest import SCHEDULERS


class Forward(Operator):
    """in → out, tagging each message with the fragment's name."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit((self.fragment.name, op_input.receive("in")), "out")


class Slow(Recorder):
    """A recorder that takes its time (the producer must wait for room)."""

    def compute(self, op_input, op_output, context):
        time.sleep(0.0005)
        super().compute(op_input, op_output, context)


class Failing(Recorder):
    def compute(self, op_input, op_output, context):
        super().compute(op_input, op_output, context)
        if len(self.received) == 5:
            _ = 1 / 0


class Endless(Operator):
    """Emits 0, 1, 2, ... for ever."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.n = 0

    def compute(self, op_input, op_output, context):
        op_output.emit(self.n, "out")
        self.n += 1


class Pinger(Operator):
    """Starts a ball (its 'start' input) and sends it back each time it returns, N times."""

    def __init__(self, fragment, limit, *args, **kwargs):
        self.limit = limit
        self.seen = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("start")
        spec.input("in")
        spec.output("out")
        spec.or_combine_port_conditions(("start", "in"))

    def compute(self, op_input, op_output, context):
        value = op_input.receive("start")
        if value is None:
            value = op_input.receive("in")
        self.seen.append(value)
        if value < self.limit:
            op_output.emit(value + 1, "out")


class Echo(Operator):
    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        op_output.emit(op_input.receive("in"), "out")


def scheduled(fragment, kind):
    fragment.scheduler(SCHEDULERS[kind](fragment))
    return fragment


class SourceFragment(Fragment):
    def __init__(self, app, name, items, kind, op=Source):
        self.items, self.kind, self.op = items, kind, op
        super().__init__(app, name)

    def compose(self):
        scheduled(self, self.kind)
        self.add_operator(self.op(self, self.items, name="src"))


class ForwardFragment(Fragment):
    def __init__(self, app, name, kind):
        self.kind = kind
        super().__init__(app, name)

    def compose(self):
        scheduled(self, self.kind)
        self.add_operator(Forward(self, name="fwd"))


class SinkFragment(Fragment):
    def __init__(self, app, name, kind, op=Recorder):
        self.kind, self.op = kind, op
        super().__init__(app, name)

    def compose(self):
        scheduled(self, self.kind)
        self.sink = self.op(self, name="sink")
        self.add_operator(self.sink)


class Chain(Application):
    def __init__(self, kind, n, sink=Recorder, argv=("prog",)):
        self.kind, self.n, self.sink_op = kind, n, sink
        super().__init__(list(argv))

    def compose(self):
        source = SourceFragment(self, "source", range(self.n), self.kind)
        middle = ForwardFragment(self, "middle", self.kind)
        self.sink = SinkFragment(self, "sink", self.kind, self.sink_op)
        self.add_flow(source, middle, {("src", "fwd")})
        self.add_flow(middle, self.sink, {("fwd.out", "sink.in")})


def test_link_modes(monkeypatch):
    monkeypatch.delenv("HOLOFLOW_LOCAL_LINKS", raising=False)
    assert link_mode() == "copy"
    monkeypatch.setenv("HOLOFLOW_LOCAL_LINKS", "reference")
    assert link_mode() == "reference"
    monkeypatch.setenv("HOLOFLOW_LOCAL_LINKS", "shared")
    with pytest.raises(ConfigError, match="HOLOFLOW_LOCAL_LINKS='shared'"):
        Chain("greedy", 1).run()


def test_reference_links_share_the_object():
    class Obj:
        pass

    sent = [Obj() for _ in range(3)]

    class App(Application):
        def compose(self):
            source = SourceFragment(self, "source", sent, "greedy")
            self.sink = SinkFragment(self, "sink", "greedy")
            self.add_flow(source, self.sink, {("src", "sink")})

    os.environ["HOLOFLOW_LOCAL_LINKS"] = "reference"
    try:
        app = App(["prog"])
        app.run()
    finally:
        del os.environ["HOLOFLOW_LOCAL_LINKS"]
    assert all(a is b for a, b in zip(app.sink.sink.received, sent, strict=True))


def test_a_chain_of_three_fragments_delivers_every_message_once_in_order(scheduler_kind):
    app = Chain(scheduler_kind, 500)
    app.run()
    assert app.sink.sink.received == [("middle", i) for i in range(500)]


def test_back_pressure_holds_across_fragments(scheduler_kind):
    # The sink's queue holds one message under the FAULT policy: without back-pressure the
    # producer would overfill it and the run would fail.
    app = Chain(scheduler_kind, 200, sink=Slow)
    app.run()
    assert app.sink.sink.received == [("middle", i) for i in range(200)]


def test_the_application_runs_again(scheduler_kind):
    app = Chain(scheduler_kind, 20)
    app.run()
    app.run()  # operators keep their attributes between runs: the recorder has both runs
    assert app.sink.sink.received == [("middle", i) for i in range(20)] * 2


class Broadcast(Application):
    def __init__(self, kind):
        self.kind = kind
        super().__init__(["prog"])

    def compose(self):
        source = SourceFragment(self, "source", range(50), self.kind)
        self.sinks = [SinkFragment(self, f"sink{i}", self.kind) for i in range(2)]
        for sink in self.sinks:
            self.add_flow(source, sink, {("src.out", "sink")})


def test_one_output_feeds_several_fragments(scheduler_kind):
    app = Broadcast(scheduler_kind)
    app.run()
    for sink in app.sinks:
        assert sink.sink.received == list(range(50))


class Merge(Operator):
    def setup(self, spec):
        spec.input("receivers", size=IOSpec.ANY_SIZE)

    def start(self):
        self.received = []

    def compute(self, op_input, op_output, context):
        self.received.append(op_input.receive("receivers"))


class MergeFragment(Fragment):
    def compose(self):
        self.merge = Merge(self, name="merge")
        self.add_operator(self.merge)


class FanIn(Application):
    def __init__(self, kind):
        self.kind = kind
        super().__init__(["prog"])

    def compose(self):
        a = SourceFragment(self, "a", [f"a{i}" for i in range(30)], self.kind)
        b = SourceFragment(self, "b", [f"b{i}" for i in range(30)], self.kind)
        self.target = MergeFragment(self, "target")
        scheduled(self.target, self.kind)
        self.add_flow(a, self.target, {("src", "merge.receivers")})
        self.add_flow(b, self.target, {("src", "merge.receivers")})


def test_an_any_size_input_gets_one_queue_per_edge(scheduler_kind):
    app = FanIn(scheduler_kind)
    app.run()
    rounds = app.target.merge.received
    assert [list(r) for r in rounds] == [[f"a{i}", f"b{i}"] for i in range(30)]


class PingFragment(Fragment):
    def __init__(self, app, name, kind, limit):
        self.kind, self.limit = kind, limit
        super().__init__(app, name)

    def compose(self):
        scheduled(self, self.kind)
        self.pinger = Pinger(self, self.limit, name="pinger")
        start = Source(self, [0], name="start")
        self.add_flow(start, self.pinger, {("out", "start")})


class EchoFragment(Fragment):
    def __init__(self, app, name, kind):
        self.kind = kind
        super().__init__(app, name)

    def compose(self):
        scheduled(self, self.kind)
        self.add_operator(Echo(self, name="echo"))


class PingPong(Application):
    def __init__(self, kind, limit):
        self.kind, self.limit = kind, limit
        super().__init__(["prog"])

    def compose(self):
        self.ping = PingFragment(self, "ping", self.kind, self.limit)
        pong = EchoFragment(self, "pong", self.kind)
        self.add_flow(self.ping, pong, {("pinger.out", "echo.in")})
        self.add_flow(pong, self.ping, {("echo.out", "pinger.in")})


def test_a_cycle_between_fragments_ends_when_the_ball_stops(scheduler_kind):
    app = PingPong(scheduler_kind, 100)
    app.run()
    assert app.ping.pinger.seen == list(range(101))


def test_fragments_end_without_stop_on_deadlock(scheduler_kind):
    app = PingPong(scheduler_kind, 10)
    app.compose_graph()
    for fragment in app.fragment_graph.get_nodes():
        fragment.compose_graph()
        fragment.scheduler().stop_on_deadlock = False
    app.run()
    assert app.ping.pinger.seen == list(range(11))


def test_the_first_exception_stops_every_fragment_and_is_raised_unchanged(scheduler_kind):
    class App(Application):
        def compose(self):
            source = SourceFragment(self, "source", None, scheduler_kind, op=Endless_)
            self.sink = SinkFragment(self, "sink", scheduler_kind, op=Failing)
            self.add_flow(source, self.sink, {("src", "sink")})

    class Endless_(Endless):
        def __init__(self, fragment, items, *args, **kwargs):
            super().__init__(fragment, *args, **kwargs)

    app = App(["prog"])
    with pytest.raises(ZeroDivisionError) as info:
        app.run()
    assert "in fragment 'sink'" in info.value.__notes__
    assert len(app.sink.sink.received) == 5


def test_run_returns_promptly_after_the_last_message(scheduler_kind):
    app = Chain(scheduler_kind, 50)
    started = time.monotonic()
    app.run()
    # Nothing waits for a timeout: the run ends as soon as every fragment is idle.
    assert time.monotonic() - started < 5.0
    assert len(app.sink.sink.received) == 50


def test_run_async_and_stop_execution_stop_every_fragment():
    class App(Application):
        def compose(self):
            source = SourceFragment(
                self, "source", None, "greedy", op=lambda f, _items, **kw: Endless(f, **kw)
            )
            self.sink = SinkFragment(self, "sink", "greedy")
            self.add_flow(source, self.sink, {("src", "sink")})

    app = App(["prog"])
    future = app.run_async()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (not hasattr(app, "sink") or len(app.sink.sink.received) < 10):
        time.sleep(0.01)
    app.stop_execution()
    future.result(timeout=10)
    received = app.sink.sink.received
    assert received == list(range(len(received))) and len(received) >= 10


def test_environment_picks_every_fragments_scheduler(monkeypatch):
    monkeypatch.setenv("HOLOSCAN_DISTRIBUTED_APP_SCHEDULER", "event_based")
    app = Chain("greedy", 30)
    app.run()
    assert app.sink.sink.received == [("middle", i) for i in range(30)]
    assert type(app.sink.scheduler()).__name__ == "EventBasedScheduler"


def test_tracker_gives_one_tracker_per_fragment():
    app = Chain("greedy", 30)
    with Tracker(app, num_start_messages_to_skip=0, num_last_messages_to_discard=0) as trackers:
        app.run()
    assert isinstance(trackers, dict)
    assert sorted(trackers) == ["middle", "sink", "source"]


def test_fragments_and_operators_together_are_an_error():
    class App(Application):
        def compose(self):
            self.add_operator(Source(self, [1], name="own"))
            self.add_flow(
                SourceFragment(self, "a", [1], "greedy"), SinkFragment(self, "b", "greedy"), {("src", "sink")}
            )

    with pytest.raises(GraphError, match="Both fragments and operators are added"):
        App(["prog"]).run()


def test_bad_port_names_fail_before_anything_runs():
    class App(Application):
        def compose(self):
            self.add_flow(
                SourceFragment(self, "a", [1], "greedy"),
                SinkFragment(self, "b", "greedy"),
                {("src.output", "sink")},
            )

    with pytest.raises(GraphError, match="does not have a port named 'output'. It should be 'out'."):
        App(["prog"]).run()


def test_the_fragment_threads_are_named():
    names = set()

    class Spy(Recorder):
        def compute(self, op_input, op_output, context):
            names.add(threading.current_thread().name)
            super().compute(op_input, op_output, context)

    app = Chain("greedy", 3, sink=Spy)
    app.run()
    assert names == {"holoflow-frag-sink"}


def test_a_count_condition_source_ends_the_run():
    class App(Application):
        def compose(self):
            class Tx(Operator):
                def setup(self, spec):
                    spec.output("out")

                def compute(self, op_input, op_output, context):
                    op_output.emit(1, "out")

            a, b = Fragment(self, "a"), SinkFragment(self, "b", "greedy")
            a.add_operator(Tx(a, CountCondition(a, 7), name="tx"))
            self.sink = b
            self.add_flow(a, b, {("tx", "sink")})

    app = App(["prog"])
    app.run()
    assert app.sink.sink.received == [1] * 7


class Both(Fragment):
    """Streams N messages out and records what comes in, at the same time."""

    def __init__(self, app, name, kind, n):
        self.kind, self.n = kind, n
        super().__init__(app, name)

    def compose(self):
        scheduled(self, self.kind)
        self.add_operator(Source(self, [f"{self.name}{i}" for i in range(self.n)], name="src"))
        self.sink = Slow(self, name="sink") if self.name == "left" else Recorder(self, name="sink")
        self.add_operator(self.sink)


@pytest.mark.parametrize("left_kind", sorted(SCHEDULERS))
def test_two_fragments_streaming_to_each_other_never_deadlock(scheduler_kind, left_kind):
    class App(Application):
        def compose(self):
            self.left = Both(self, "left", left_kind, 300)
            self.right = Both(self, "right", scheduler_kind, 300)
            self.add_flow(self.left, self.right, {("src", "sink")})
            self.add_flow(self.right, self.left, {("src", "sink")})

    app = App(["prog"])
    app.run()
    assert app.left.sink.received == [f"right{i}" for i in range(300)]
    assert app.right.sink.received == [f"left{i}" for i in range(300)]


class SizedRecorder(Recorder):
    """A recorder whose input queue holds ``capacity`` messages."""

    def __init__(self, fragment, capacity, *args, **kwargs):
        self.capacity = capacity
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in").connector(IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=self.capacity)


@settings(max_examples=12, deadline=None)
@given(
    st.integers(0, 60),
    st.integers(1, 4),
    st.lists(st.sampled_from(sorted(SCHEDULERS)), min_size=3, max_size=3),
)
def test_every_message_arrives_once_in_order_whatever_the_queues_and_schedulers(n, capacity, kinds):
    class App(Application):
        def compose(self):
            source = SourceFragment(self, "source", range(n), kinds[0])
            middle = ForwardFragment(self, "middle", kinds[1])
            self.sink = Fragment(self, "sink")
            scheduled(self.sink, kinds[2])
            self.recorder = SizedRecorder(self.sink, capacity, name="rec")
            self.sink.add_operator(self.recorder)
            self.add_flow(source, middle, {("src", "fwd")})
            self.add_flow(middle, self.sink, {("fwd", "rec")})

    app = App(["prog"])
    app.run()
    assert app.recorder.received == [("middle", i) for i in range(n)]


def test_copy_links_give_the_consumer_its_own_object(monkeypatch):
    monkeypatch.delenv("HOLOFLOW_LOCAL_LINKS", raising=False)
    assert link_mode() == "copy"
    sent = [{"n": i} for i in range(5)]

    class App(Application):
        def compose(self):
            source = SourceFragment(self, "source", sent, "greedy")
            self.sink = SinkFragment(self, "sink", "greedy")
            self.add_flow(source, self.sink, {("src", "sink")})

    app = App(["prog"])
    app.run()
    received = app.sink.sink.received
    assert received == sent
    assert not any(a is b for a, b in zip(received, sent, strict=True))


def test_copy_links_name_the_port_of_a_message_that_cannot_travel(monkeypatch):
    import socket

    from holoflow.errors import CodecError

    monkeypatch.delenv("HOLOFLOW_LOCAL_LINKS", raising=False)
    with socket.socket() as sock:

        class App(Application):
            def compose(self):
                source = SourceFragment(self, "source", [sock], "greedy")
                self.add_flow(source, SinkFragment(self, "sink", "greedy"), {("src", "sink")})

        with pytest.raises(CodecError, match="operator 'src' output port 'out'") as info:
            App(["prog"]).run()
    assert "in fragment 'source'" in info.value.__notes__


def test_a_role_without_pyzmq_names_the_extra(tmp_path):
    script = tmp_path / "no_zmq.py"
    script.write_text(
        "import sys\n"
        "sys.modules['zmq'] = None  # as if pyzmq were not installed\n"
        "from holoflow.core import Application, Fragment\n"
        "from holoflow.errors import DistributedError\n"
        "class App(Application):\n"
        "    def compose(self):\n"
        "        self.add_fragment(Fragment(self, name='a'))\n"
        "try:\n"
        "    App([sys.executable, 'x', '--worker']).run()\n"
        "except DistributedError as error:\n"
        "    print(error)\n"
    )
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )
    assert "need pyzmq (pip install 'holoflow[distributed]')" in result.stdout, result.stderr
