"""The end-of-run decision across fragments: the pure coordinator, under chosen interleavings."""

from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.core import Application, Fragment, Operator
from holoflow.core._run import GraphRun
from holoflow.distributed._edges import EdgeSpec
from holoflow.distributed._local import FragmentRunner, LocalLink
from holoflow.distributed._quiescence import Coordinator, FragmentState


def passive(epoch, sent=None, received=None):
    return FragmentState(passive=True, epoch=epoch, sent=sent or {}, received=received or {})


def test_everyone_starts_active():
    coordinator = Coordinator(["a", "b"])
    assert not coordinator.first_wave()


def test_two_quiet_looks_with_the_same_picture_end_the_run():
    coordinator = Coordinator(["a", "b"])
    coordinator.report("a", passive(1, sent={0: 3}))
    coordinator.report("b", passive(1, received={0: 3}))
    assert coordinator.first_wave()
    assert coordinator.second_wave()


def test_a_message_in_flight_keeps_the_run_going():
    coordinator = Coordinator(["a", "b"])
    coordinator.report("a", passive(1, sent={0: 4}))
    coordinator.report("b", passive(1, received={0: 3}))
    assert not coordinator.first_wave()
    assert not coordinator.second_wave()


def test_a_fragment_that_woke_between_the_looks_cancels_the_decision():
    # b reported passive, then a message arrived, b ran and went passive again: the counts
    # balance both times, but b's epoch moved, so the second look refuses.
    coordinator = Coordinator(["a", "b"])
    coordinator.report("a", passive(1, sent={0: 1}))
    coordinator.report("b", passive(1, received={0: 1}))
    assert coordinator.first_wave()
    coordinator.report("b", passive(2, received={0: 1}))
    assert not coordinator.second_wave()


def test_an_active_report_between_the_looks_cancels_the_decision():
    coordinator = Coordinator(["a", "b"])
    coordinator.report("a", passive(1))
    coordinator.report("b", passive(1))
    assert coordinator.first_wave()
    coordinator.report("a", FragmentState(passive=False, epoch=1))
    assert not coordinator.second_wave()


def test_finished_fragments_count_as_quiet_for_good():
    coordinator = Coordinator(["a", "b"])
    coordinator.report("a", FragmentState(finished=True, sent={0: 2}))
    coordinator.report("a", FragmentState(passive=False, sent={0: 2}))  # a late report cannot revive it
    assert coordinator.state("a").finished
    coordinator.report("b", passive(1, received={0: 2}))
    assert coordinator.first_wave() and coordinator.second_wave()
    assert not coordinator.all_finished()


def test_cycles_balance_per_edge():
    coordinator = Coordinator(["a", "b"])
    coordinator.report("a", passive(3, sent={0: 5}, received={1: 5}))
    coordinator.report("b", passive(2, sent={1: 5}, received={0: 4}))
    assert not coordinator.balanced()
    coordinator.report("b", passive(3, sent={1: 5}, received={0: 5}))
    assert coordinator.balanced()


class _Model:
    """Two fragments, P sends N messages to C over one edge; every step is one atomic action.

    Reports are what the fragments said when they last went passive (they may be stale), as
    in a run where reports travel as messages; the coordinator's second look re-reads them.
    """

    def __init__(self, n):
        self.left = n
        self.in_flight = 0  # sent, not yet arrived
        self.queue = 0  # arrived, not yet processed
        self.sent = self.arrived = self.processed = 0
        self.epoch = {"p": 0, "c": 0}
        self.is_passive = {"p": False, "c": False}
        self.coordinator = Coordinator(["p", "c"])
        self.over = False

    def step(self, action):
        if action == "send" and self.left:
            self.left -= 1
            self.sent += 1
            self.in_flight += 1
        elif action == "arrive" and self.in_flight:
            self.in_flight -= 1
            self.arrived += 1
            self.queue += 1
            self.is_passive["c"] = False  # an arrival wakes the consumer
        elif action == "process" and self.queue:
            self.queue -= 1
            self.processed += 1
        elif action == "p_idle" and not self.left and not self.is_passive["p"]:
            self.is_passive["p"] = True
            self.epoch["p"] += 1
            self.coordinator.report("p", passive(self.epoch["p"], sent={0: self.sent}))
        elif action == "c_idle" and not self.queue and not self.is_passive["c"]:
            self.is_passive["c"] = True
            self.epoch["c"] += 1
            self.coordinator.report("c", passive(self.epoch["c"], received={0: self.arrived}))
        elif action == "c_wake" and not self.is_passive["c"]:
            self.coordinator.report("c", FragmentState(passive=False, epoch=self.epoch["c"]))
        elif action == "check" and self.coordinator.first_wave() and self.coordinator.second_wave():
            self.over = True


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 4),
    st.lists(
        st.sampled_from(["send", "arrive", "process", "p_idle", "c_idle", "c_wake", "check"]), max_size=60
    ),
)
def test_the_run_never_ends_with_work_left(n, actions):
    model = _Model(n)
    for action in actions:
        model.step(action)
        if model.over:
            assert model.in_flight == 0 and model.queue == 0 and model.processed == model.sent == n
            return


# -- the in-process protocol (holoflow.distributed._local), step by step ---------------------------


def _two_fragments():
    app = Application(["p"])
    a, b = Fragment(app, "a"), Fragment(app, "b")
    runner = FragmentRunner(app, [a, b])
    link = LocalLink(EdgeSpec(0, ("a", "tx", "out"), ("b", "rx", "in")), runner.edges["a"], runner.edges["b"])
    runner.edges["a"].add_outbound(link)
    runner.edges["b"].add_inbound(link)
    return runner, runner.edges["a"], runner.edges["b"], link


def test_both_passive_with_nothing_in_flight_ends_the_run():
    runner, a, b, _ = _two_fragments()
    assert not a.passive(True)
    assert not runner.quiescent  # b is still active
    b.passive(True)
    assert runner.quiescent


def test_a_message_sent_to_a_passive_fragment_makes_it_active_before_anyone_looks():
    runner, a, b, link = _two_fragments()
    b.passive(True)
    link.send("m", 0)  # a is active while it sends; the arrival pokes b
    assert not b.state().passive
    assert b.state().received == {0: 1} and a.state().sent == {0: 1}
    a.passive(True)
    assert not runner.quiescent  # b has not seen the message yet
    b.passive(True)
    assert runner.quiescent


def test_a_fragment_refuses_to_be_passive_while_a_poke_is_under_way():
    runner, a, b, _ = _two_fragments()
    a.passive(True)
    with b.lock:
        b.inflight += 1  # a poke between its count and its delivery
    b.passive(True)
    assert not b.state().passive and not runner.quiescent
    with b.lock:
        b.inflight -= 1
    b.passive(True)
    assert runner.quiescent


def test_a_finished_fragment_counts_as_passive_and_stopped_fragments_end_at_once():
    runner, a, b, _ = _two_fragments()
    a.on_run_end(None)
    assert a.state().finished and not runner.quiescent
    b.passive(True)
    assert runner.quiescent
    runner.stop()
    assert b.passive(True)  # a stopped fragment's rule ends its run


class _Rx(Operator):
    def setup(self, spec):
        spec.input("in")


def test_a_passive_refused_during_a_poke_is_looked_at_again_once_the_poke_closes():
    """The poke's wake may reach the run before it asks to be passive; refused (the poke still
    open), it waits for a wake: the poke's close gives one more, so the run asks again."""
    app = Application(["p"])
    a, b = Fragment(app, "a"), Fragment(app, "b")
    b.add_operator(_Rx(b, name="rx"))
    runner = FragmentRunner(app, [a, b])
    link = LocalLink(EdgeSpec(0, ("a", "tx", "out"), ("b", "rx", "in")), runner.edges["a"], runner.edges["b"])
    runner.edges["a"].add_outbound(link)
    runner.edges["b"].add_inbound(link)
    runner.attach()
    run = GraphRun(b)
    edges = runner.edges["b"]
    scheduler_notify = run.on_notify
    answers = []

    def notify(op_run):
        scheduler_notify(op_run)
        if not answers:  # the fragment's loop runs here: it takes the wake, finds nothing to do
            run.wake.clear()
            answers.append(edges.passive(True))

    run.on_notify = notify
    edges.poke("rx")  # room appeared downstream, say: a poke that brings no message
    assert answers == [False]
    assert run.wake.is_set()
    run.wake.clear()
    runner.edges["a"].passive(True)
    edges.passive(True)
    assert runner.quiescent
