"""The schedulers' garbage-collection policy: freeze the start-up objects during the run, restore
the collector afterwards, leave it alone when told to."""

from __future__ import annotations

import gc
import subprocess
import sys
import threading
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.core.run import GC_POLICIES, check_gc_policy
from holoflow.errors import ConfigError
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler


class _Node:
    """A cyclic object (it refers to itself), so only the collector can free it."""

    def __init__(self) -> None:
        self.me = self


class Probe(Operator):
    """Notes the collector's state in start and compute; makes a cycle in start and drops it in
    the first compute, then asks for a full collection."""

    def __init__(self, fragment, *args, fail=False, **kwargs):
        self.fail = fail
        self.seen: dict[str, object] = {}
        super().__init__(fragment, *args, **kwargs)

    def start(self):
        self.seen["start_frozen"] = gc.get_freeze_count()
        self.node = _Node()
        self.ref = weakref.ref(self.node)

    def compute(self, op_input, op_output, context):
        if "compute_frozen" not in self.seen:
            self.seen["compute_frozen"] = gc.get_freeze_count()
            self.seen["compute_enabled"] = gc.isenabled()
            del self.node
            gc.collect()
            self.seen["cycle_alive_after_collect"] = self.ref() is not None
        if self.fail:
            raise RuntimeError("probe failed")


def _interpreter_frozen() -> int:
    """How many objects the interpreter itself keeps frozen: CPython 3.12 moves the immortal
    objects a collection finds to the permanent generation (none on 3.11 and 3.13)."""
    gc.unfreeze()
    gc.collect()
    return gc.get_freeze_count()


INTERPRETER_FROZEN = _interpreter_frozen()


def _frozen() -> int:
    """Objects frozen beyond the interpreter's own."""
    return max(0, gc.get_freeze_count() - INTERPRETER_FROZEN)


@pytest.fixture(autouse=True)
def collector_as_found():
    """Each test starts with no run holding a freeze, nothing but the interpreter's own objects
    frozen and the collector on, and leaves it so. Objects something else in the process froze
    are unfrozen first."""
    from holoflow.core import _gc_policy

    assert _gc_policy._holders == 0
    assert _interpreter_frozen() == INTERPRETER_FROZEN
    assert gc.isenabled()
    yield
    gc.enable()
    gc.unfreeze()


def _probe_app(use_scheduler, **scheduler_kwargs):
    app = Application([])
    use_scheduler(app, **scheduler_kwargs)
    probe = Probe(app, CountCondition(app, 3), name="probe")
    app.add_operator(probe)
    return app, probe


def test_default_policy_is_freeze():
    app = Application([])
    for scheduler in (GreedyScheduler(app), MultiThreadScheduler(app), EventBasedScheduler(app)):
        assert scheduler.gc_policy == "freeze"
    assert app.scheduler().gc_policy == "freeze"
    assert GC_POLICIES == ("freeze", "none")


def test_freeze_holds_the_start_up_objects_during_compute_and_is_undone_after(use_scheduler):
    app, probe = _probe_app(use_scheduler)
    app.run()
    assert probe.seen["start_frozen"] == INTERPRETER_FROZEN  # frozen once every operator started
    assert probe.seen["compute_frozen"] > INTERPRETER_FROZEN
    assert probe.seen["compute_enabled"] is True
    # The cycle made in start() was frozen: a full collection during the run did not free it...
    assert probe.seen["cycle_alive_after_collect"] is True
    assert _frozen() == 0
    # ...and once the run ended it is an ordinary object again, freed by the next collection.
    gc.collect()
    assert probe.ref() is None


def test_none_leaves_the_collector_alone(use_scheduler):
    thresholds = gc.get_threshold()
    app, probe = _probe_app(use_scheduler, gc_policy="none")
    app.run()
    assert probe.seen["compute_frozen"] == INTERPRETER_FROZEN
    assert probe.seen["compute_enabled"] is True
    assert probe.seen["cycle_alive_after_collect"] is False  # collected during the run
    assert gc.get_threshold() == thresholds
    assert _frozen() == 0


def test_a_failed_run_unfreezes_too(use_scheduler):
    app = Application([])
    use_scheduler(app)
    probe = Probe(app, CountCondition(app, 3), fail=True, name="probe")
    app.add_operator(probe)
    with pytest.raises(RuntimeError, match="probe failed"):
        app.run()
    assert probe.seen["compute_frozen"] > INTERPRETER_FROZEN
    assert _frozen() == 0


def test_a_disabled_collector_is_left_to_the_program(use_scheduler):
    gc.disable()
    app, probe = _probe_app(use_scheduler)
    app.run()
    assert probe.seen["compute_frozen"] == INTERPRETER_FROZEN
    assert probe.seen["compute_enabled"] is False
    assert not gc.isenabled()


def test_a_program_that_froze_objects_keeps_them_frozen(use_scheduler):
    keep = _Node()
    gc.freeze()
    before = gc.get_freeze_count()
    app, probe = _probe_app(use_scheduler)
    app.run()
    # The run froze nothing more: Python could not unfreeze its objects without the program's.
    assert probe.seen["compute_frozen"] == before
    assert gc.get_freeze_count() == before  # not unfrozen behind the program's back
    del keep


def test_overlapping_runs_unfreeze_when_the_last_one_ends():
    """The first run is held inside compute while a second one runs to its end: the second
    run's end must not unfreeze the first one's objects."""
    release = threading.Event()
    inside = threading.Event()
    seen: dict[str, int] = {}

    class Held(Operator):
        def compute(self, op_input, op_output, context):
            inside.set()
            assert release.wait(10)
            seen["after_other_run"] = gc.get_freeze_count()

    first = Application([])
    first.add_operator(Held(first, CountCondition(first, 1), name="held"))
    second, probe = _probe_app(lambda app, **kw: app.scheduler(GreedyScheduler(app, **kw)))
    future = first.run_async()
    assert inside.wait(10)
    second.run()
    assert probe.seen["compute_frozen"] > INTERPRETER_FROZEN
    release.set()
    future.result(timeout=10)
    assert seen["after_other_run"] > INTERPRETER_FROZEN
    assert _frozen() == 0


@pytest.mark.parametrize("bad", ["Freeze", "off", "", None, 1])
def test_an_unknown_policy_is_refused_naming_the_scheduler(use_scheduler, bad):
    app = Application([])
    with pytest.raises(ConfigError, match=r"^scheduler '\w+': gc_policy must be one of freeze, none, got"):
        use_scheduler(app, gc_policy=bad)


def test_check_gc_policy_names_the_owner():
    assert check_gc_policy("none", "x") == "none"
    with pytest.raises(ConfigError, match="^my scheduler: gc_policy must be one of freeze, none, got 'x'$"):
        check_gc_policy("x", "my scheduler")


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_interleaving_of_runs_freezes_while_one_runs_and_restores_after(data):
    """Runs begin and end in any order (each ends after it began): something is frozen exactly
    while at least one run is between begin and end, and nothing once all ended."""
    from holoflow.core._gc_policy import GCFreeze

    count = data.draw(st.integers(1, 5))
    pending = list(range(count))
    started: list[int] = []
    sequence: list[tuple[str, int]] = []
    while pending or started:
        choices = [("begin", i) for i in pending] + [("end", i) for i in started]
        step = data.draw(st.sampled_from(choices))
        sequence.append(step)
        (pending if step[0] == "begin" else started).remove(step[1])
        if step[0] == "begin":
            started.append(step[1])
    runs = [GCFreeze("freeze") for _ in range(count)]
    active = 0
    for action, i in sequence:
        if action == "begin":
            runs[i].begin()
            active += 1
        else:
            runs[i].end()
            active -= 1
        assert (_frozen() > 0) == (active > 0)
    assert _frozen() == 0


def test_objects_frozen_before_holoflow_was_imported_count_as_the_interpreters():
    """What is frozen when holoflow is imported counts as the interpreter's own (CPython 3.12 keeps
    hundreds of its immortal tuples there from start-up on): the policy still freezes during the
    run, and the run's end unfreezes everything, those objects too."""
    script = """
import gc
keep = [[] for _ in range(100)]
gc.freeze()
before = gc.get_freeze_count()
from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
seen = []
class Probe(Operator):
    def compute(self, op_input, op_output, context):
        seen.append(gc.get_freeze_count())
app = Application([])
app.add_operator(Probe(app, CountCondition(app, 1), name="probe"))
app.run()
print(before, seen[0], gc.get_freeze_count())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    before, during, after = (int(word) for word in done.stdout.split())
    assert before >= 100
    assert during > before  # the run froze its start-up objects on top
    assert after < before  # and its end unfroze them all
