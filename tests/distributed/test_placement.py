"""Holoscan's greedy fragment allocation and the scheduler environment variables."""

import pytest

from holoflow.core import Application, Fragment
from holoflow.distributed._placement import allocate, apply_scheduler_environment, scheduler_settings
from holoflow.errors import ConfigError
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler
from holoflow.testing import Recorder, Source

FRAGMENTS = ["b_frag", "a_frag", "c_frag"]


def test_workers_naming_more_fragments_go_first_and_get_all_or_none():
    result = allocate(FRAGMENTS, [("w1", ["a_frag"]), ("w2", ["a_frag", "b_frag"])])
    assert result.assigned == {"a_frag": "w2", "b_frag": "w2"}
    assert result.rejected == {"w1": "fragment(s) a_frag already assigned"}
    assert result.unplaced == ["c_frag"]


def test_a_worker_without_targets_gets_the_alphabetically_first_open_fragment():
    result = allocate(FRAGMENTS, [("w1", []), ("w2", []), ("w3", []), ("w4", [])])
    assert result.assigned == {"a_frag": "w1", "b_frag": "w2", "c_frag": "w3"}
    assert result.spare == ("w4",)
    assert result.unplaced == []


def test_all_and_unknown_names():
    assert allocate(FRAGMENTS, [("w", ["all"])]).assigned == dict.fromkeys(FRAGMENTS, "w")
    result = allocate(FRAGMENTS, [("w", ["zzz"])])
    assert result.rejected == {"w": "Cannot find fragment: zzz"}
    assert result.unplaced == FRAGMENTS


def test_equal_target_counts_keep_joining_order():
    result = allocate(FRAGMENTS, [("w1", ["c_frag"]), ("w2", ["b_frag"]), ("w3", ["c_frag"])])
    assert result.assigned == {"c_frag": "w1", "b_frag": "w2"}
    assert "w3" in result.rejected


def test_scheduler_settings_read_holoflow_over_holoscan(monkeypatch):
    assert scheduler_settings().kind is None
    monkeypatch.setenv("HOLOSCAN_DISTRIBUTED_APP_SCHEDULER", "multithread")
    monkeypatch.setenv("HOLOSCAN_STOP_ON_DEADLOCK_TIMEOUT", "250")
    monkeypatch.setenv("HOLOSCAN_STOP_ON_DEADLOCK", "off")
    settings = scheduler_settings()
    assert settings.kind == "multithread"
    assert settings.arguments == {"stop_on_deadlock_timeout": 250, "stop_on_deadlock": False}
    monkeypatch.setenv("HOLOFLOW_DISTRIBUTED_APP_SCHEDULER", "event_based")
    assert scheduler_settings().kind == "event_based"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("HOLOSCAN_DISTRIBUTED_APP_SCHEDULER", "fast"),
        ("HOLOSCAN_MAX_DURATION_MS", "soon"),
        ("HOLOSCAN_STOP_ON_DEADLOCK", "x"),
    ],
)
def test_bad_values_raise_config_error(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=variable.removeprefix("HOLOSCAN_")):
        scheduler_settings()


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("greedy", GreedyScheduler),
        ("multi_thread", MultiThreadScheduler),
        ("event_based", EventBasedScheduler),
    ],
)
def test_apply_scheduler_environment(monkeypatch, kind, cls):
    app = Application(["p"])
    fragment = Fragment(app, "f")
    fragment.add_flow(Source(fragment, [1], name="src"), Recorder(fragment, name="rec"))
    monkeypatch.setenv("HOLOSCAN_DISTRIBUTED_APP_SCHEDULER", kind)
    monkeypatch.setenv("HOLOSCAN_MAX_DURATION_MS", "5000")
    apply_scheduler_environment(fragment, cores=8)
    scheduler = fragment.scheduler()
    assert type(scheduler) is cls
    assert scheduler.max_duration_ms == 5000
    if cls is not GreedyScheduler:
        assert scheduler.worker_thread_number == 2  # min(operators, cores)


def test_without_a_kind_the_arguments_go_to_the_fragments_own_scheduler(monkeypatch):
    app = Application(["p"])
    fragment = Fragment(app, "f")
    own = fragment.scheduler(MultiThreadScheduler(fragment, worker_thread_number=3))
    monkeypatch.setenv("HOLOFLOW_STOP_ON_DEADLOCK_TIMEOUT", "7")
    apply_scheduler_environment(fragment)
    assert fragment.scheduler() is own
    assert own.stop_on_deadlock_timeout == 7
