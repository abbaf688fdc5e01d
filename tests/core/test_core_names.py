"""The smaller Holoscan 4.6 names of ``holoflow.core`` and the members Holoscan's key classes have:
argument types and conversions, descriptions, ids, executors, CLI options, network contexts,
the base-class aliases, and the names that say what holoflow does instead."""

from __future__ import annotations

import logging
import os
import threading

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import (
    Application,
    Arg,
    ArgContainerType,
    ArgElementType,
    ArgList,
    ArgType,
    CLIOptions,
    ClockInterface,
    ComponentSpec,
    Condition,
    ConditionBase,
    DLDevice,
    DLDeviceType,
    Executor,
    Message,
    NetworkContext,
    Operator,
    OperatorBase,
    RealtimeClock,
    Resource,
    ResourceBase,
    SchedulingPolicy,
    SchedulingStatusType,
    arg_to_py_object,
    arglist_to_kwargs,
    io_type_registry,
    kwargs_to_arglist,
    py_object_to_arg,
)
from holoflow.errors import GraphError, NotSupportedError
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler
from holoflow.testing import Recorder, Source

# -- arguments --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "int64_t"),
        (3.5, "double"),
        (True, "bool"),
        ("s", "std::string"),
        (np.float32(1), "float"),
        (np.uint16(1), "uint16_t"),
        ([1, 2], "std::vector<int64_t>"),
        ([[1.0], [2.0]], "std::vector<std::vector<double>>"),
        (np.zeros((2, 2), np.int32), "std::vector<std::vector<int32_t>>"),
        ({"a": 1}, "YAML::Node"),
        (object(), "CustomType"),
    ],
)
def test_an_arg_describes_its_value_in_holoscan_terms(value, text):
    assert Arg("x", value).arg_type.to_string == text


def test_conditions_and_resources_have_their_element_types(app):
    assert Arg("c", CountCondition(app, 1)).arg_type.element_type is ArgElementType.CONDITION
    assert Arg("r", RealtimeClock(app)).arg_type.element_type is ArgElementType.RESOURCE


def test_arg_type_values_and_strings():
    assert ArgType().to_string == "CustomType"
    assert Arg("no_value").arg_type == ArgType()
    vector = ArgType(ArgElementType.INT32, ArgContainerType.VECTOR)
    assert (vector.element_type, vector.container_type, vector.dimension) == (
        ArgElementType.INT32,
        ArgContainerType.VECTOR,
        1,
    )
    assert repr(vector) == "std::vector<int32_t>"
    assert ArgType(ArgElementType.FLOAT32, ArgContainerType.ARRAY).to_string == "std::array<float,N>"
    assert ArgElementType.STRING.value == 14 and ArgElementType.RESOURCE.value == 19
    assert [m.value for m in ArgContainerType] == [0, 1, 2]


def test_arg_and_arglist_descriptions():
    assert Arg("a").description == "name: a\ntype: CustomType"
    assert Arg("x", [1, 2]).description == "name: x\ntype: std::vector<int64_t>\nvalue: [1, 2]"
    assert ArgList().description == "name: arglist\nargs:\n  []"
    described = kwargs_to_arglist(a=1, b="x").description.splitlines()
    assert described == [
        "name: arglist",
        "args:",
        "  - name: a",
        "    type: int64_t",
        "    value: 1",
        "  - name: b",
        "    type: std::string",
        "    value: x",
    ]


def test_conversions_keep_python_values_as_they_are():
    value = [1, 2]
    arg = py_object_to_arg(value, "x")
    assert (arg.name, arg.value) == ("x", value) and arg.value is value
    assert arg_to_py_object(arg) is value
    assert arg_to_py_object(Arg("empty")) is None
    arglist = kwargs_to_arglist(a=1, b=[1.5], c=True)
    assert [a.name for a in arglist] == ["a", "b", "c"]
    assert arglist_to_kwargs(arglist) == {"a": 1, "b": [1.5], "c": True}
    with pytest.raises(TypeError, match="takes an ArgList"):
        arglist_to_kwargs({"a": 1})


# -- component members -------------------------------------------------------------------------------


def test_every_component_has_a_unique_id(app):
    components = [Operator(app, name=f"op{i}") for i in range(3)] + [
        CountCondition(app, 1),
        RealtimeClock(app),
    ]
    ids = [c.id for c in components]
    assert len(set(ids)) == len(ids) and all(isinstance(i, int) and i > 0 for i in ids)


def test_resource_and_condition_kinds(app):
    clock = RealtimeClock(app)
    assert clock.resource_type is Resource.ResourceType.NATIVE
    assert [m.name for m in Resource.ResourceType] == ["NATIVE", "GXF"]
    assert [m.name for m in Condition.ConditionComponentType] == ["NATIVE", "GXF"]


def test_notify_scheduler_wakes_the_run(app, use_scheduler):
    """A condition that turns ready from another thread and calls notify_scheduler ends a wait
    that nothing else would end."""

    class Gate(Condition):
        def __init__(self, fragment, **kwargs):
            self.open = False
            super().__init__(fragment, **kwargs)

        def check(self, timestamp):
            if self.open:
                return SchedulingStatusType.READY, None
            return SchedulingStatusType.WAIT_EVENT, None

    gate = Gate(app, name="gate")
    ran = []

    class Op(Operator):
        def compute(self, op_input, op_output, context):
            ran.append(1)

    app.add_operator(Op(app, gate, CountCondition(app, 1), name="op"))
    use_scheduler(app, stop_on_deadlock_timeout=5000)

    def open_gate():
        gate.open = True
        assert gate.notify_scheduler() is True

    timer = threading.Timer(0.05, open_gate)
    timer.start()
    app.run()
    timer.join()
    assert ran == [1]


def test_spec_descriptions_list_parameters_and_ports(app):
    class Op(Operator):
        def setup(self, spec):
            spec.input("in")
            spec.output("out")
            spec.param("gain", 3, description="how much")

    text = Op(app, name="op").spec.description
    assert "params:\n  - name: gain\n    type: int64_t\n    description: 'how much'\n    flag: NONE" in text
    assert "inputs:\n  - name: in\n    io_type: INPUT\n    queue_size: 1\n    connector_type: DEFAULT" in text
    assert "outputs:\n  - name: out\n    io_type: OUTPUT" in text
    assert ComponentSpec(app).description == 'fragment: ""\nparams:\n  []'


def test_base_class_names_are_the_classes(app):
    assert OperatorBase is Operator and ConditionBase is Condition and ResourceBase is Resource
    assert ClockInterface is not None and isinstance(RealtimeClock(app), ClockInterface)


def test_dl_device_names_come_from_the_tensor_module():
    device = DLDevice(DLDeviceType.DLCUDA, 1)
    assert (device.device_type, device.device_id) == (DLDeviceType.DLCUDA, 1)
    assert int(DLDeviceType.DLCPU) == 1 and int(DLDeviceType.DLCUDAMANAGED) == 13


def test_message_has_no_constructor_and_ports_carry_any_object():
    with pytest.raises(TypeError, match="a message is the Python object an operator emits"):
        Message()
    assert "object" in io_type_registry.registered_types()


# -- application and fragment -----------------------------------------------------------------------


def test_application_options_version_and_description(tmp_path):
    config = tmp_path / "app.yaml"
    config.write_text("a: 1\n")
    app = Application(["prog", "--config", str(config), "--other"])
    assert isinstance(app.options, CLIOptions)
    assert app.options.config_path == str(config)
    assert (app.options.run_driver, app.options.run_worker, app.options.worker_targets) == (False, False, [])
    assert "config_path:" in repr(app.options)
    assert (app.version, app.description) == ("0.0.0", "")
    app.version, app.description = "1.2.3", "my app"
    assert (app.version, app.description) == ("1.2.3", "my app")
    app.options = "replaced by a subclass"
    assert app.options == "replaced by a subclass"


def test_cli_options_print(capsys):
    CLIOptions(run_driver=True, worker_targets=["a", "b"], config_path="c.yaml").print()
    out = capsys.readouterr().out.splitlines()
    assert "run_driver:True" in out and "worker_targets:a,b" in out and "config_path:'c.yaml'" in out


def test_add_fragment_adds_to_the_fragment_graph(app):
    from holoflow.core import Fragment

    fragment = Fragment(app, "f")
    app.add_fragment(fragment)
    assert app.fragment_graph.get_nodes() == [fragment]


def test_the_executor_runs_and_interrupts_the_fragment(app):
    source = Source(app, range(3), name="src")
    sink = Recorder(app, name="sink")
    app.add_flow(source, sink)
    executor = app.executor
    assert isinstance(executor, Executor) and executor is app.executor
    assert executor.fragment is app and executor.context is None and executor.context_uint64 == 0
    executor.run()
    assert sink.received == [0, 1, 2]


def test_the_executor_interrupt_stops_an_endless_run(app):
    class Forever(Operator):
        def compute(self, op_input, op_output, context):
            if self.fragment.executor is not None:
                self.fragment.executor.interrupt()

    app.add_operator(Forever(app, name="forever"))
    app.executor.run()  # returns: interrupt() stopped it


def test_executor_takes_a_fragment():
    with pytest.raises(TypeError, match="takes a Fragment"):
        Executor("app")


def test_network_context_is_kept_and_checked(app):
    assert app.network_context() is None
    context = NetworkContext(app, name="nc")
    assert app.network_context(context) is context and app.network_context() is context
    with pytest.raises(TypeError, match="takes a NetworkContext"):
        app.network_context("ucx")
    app.shutdown_async_executor()  # nothing to shut down


# -- schedulers and thread pools --------------------------------------------------------------------


def test_schedulers_accept_holoscan_46_parameters(app):
    assert GreedyScheduler(app, network_connection_timeout=10).network_connection_timeout == 10
    assert MultiThreadScheduler(app, network_connection_timeout=20).network_connection_timeout == 20
    knobs = {
        "enable_queue_stealing": True,
        "steal_scan_limit": 4,
        "enable_worker_postcheck_fastpath": True,
        "postcheck_fallback_notify_interval": 16,
        "postcheck_fallback_notify_min_workers": 2,
        "postcheck_fallback_notify_min_period_ns": 500,
        "internal_event_shard_count": 3,
        "dispatcher_internal_pop_batch_size": 8,
        "wait_state_shard_count": 2,
        "log_perf_stats": True,
    }
    scheduler = EventBasedScheduler(app, network_connection_timeout=30, **knobs)
    assert scheduler.network_connection_timeout == 30
    assert {key: getattr(scheduler, key) for key in knobs} == knobs


def test_add_realtime_records_the_request(app):
    pool = app.make_thread_pool("rt", 1)
    op = Operator(app, name="op")
    pool.add_realtime(op, "SCHED_FIFO", sched_priority=10)
    request = pool.realtime_of(op)
    assert (request.policy, request.priority) == (SchedulingPolicy.SCHED_FIFO, 10)
    assert pool.is_pinned(op) and op in pool.operators
    pool.add_realtime(Operator(app, name="op2"), SchedulingPolicy.SCHED_RR, pin_operator=False)
    pool.add_realtime(Operator(app, name="op3"), 6)
    assert [r.policy for r in map(pool.realtime_of, pool.operators)] == [
        SchedulingPolicy.SCHED_FIFO,
        SchedulingPolicy.SCHED_RR,
        SchedulingPolicy.SCHED_DEADLINE,
    ]


@pytest.mark.parametrize(("policy", "priority"), [("SCHED_OTHER", 0), (3, 0), ("fifo", 100)])
def test_add_realtime_rejects_unknown_policies_and_priorities(app, policy, priority):
    pool = app.make_thread_pool("rt", 1)
    with pytest.raises(ValueError, match="scheduling policy|sched_priority"):
        pool.add_realtime(Operator(app, name="op"), policy, sched_priority=priority)


def test_a_realtime_operator_thread_gets_its_policy_or_a_warning(app, caplog):
    """With the privilege the thread runs SCHED_FIFO; without it one warning says so."""
    seen = []

    class Op(Operator):
        def compute(self, op_input, op_output, context):
            seen.append(os.sched_getscheduler(0))

    op = Op(app, CountCondition(app, 1), name="rt_op")
    app.add_operator(op)
    app.make_thread_pool("rt", 1).add_realtime(op, SchedulingPolicy.SCHED_FIFO, sched_priority=1)
    app.scheduler(MultiThreadScheduler(app, worker_thread_number=1))
    with caplog.at_level(logging.WARNING, logger="holoflow"):
        app.run()
    warned = [r for r in caplog.records if "cannot set SCHED_FIFO" in r.getMessage()]
    assert seen == [os.SCHED_FIFO] or (len(warned) == 1 and seen == [os.SCHED_OTHER])


def test_a_deadline_request_is_logged_and_the_run_goes_on(app, caplog):
    op = Operator(app, CountCondition(app, 1), name="op")
    app.add_operator(op)
    app.make_thread_pool("rt", 1).add_realtime(op, SchedulingPolicy.SCHED_DEADLINE)
    app.scheduler(EventBasedScheduler(app, worker_thread_number=1))
    with caplog.at_level(logging.WARNING, logger="holoflow"):
        app.run()
    assert any("SCHED_DEADLINE cannot be set from Python" in r.getMessage() for r in caplog.records)


# -- names that say what to use instead ------------------------------------------------------------


def test_gxf_executor_and_ucx_context_explain_themselves(app):
    from holoflow.executors import GXFExecutor
    from holoflow.network_contexts import UcxContext

    with pytest.raises(NotSupportedError, match=r"fragment\.executor"):
        GXFExecutor(app)
    context = UcxContext(app, cpu_data_only=True)  # accepted, changes nothing
    assert context.settings == {"cpu_data_only": True}
    assert issubclass(GXFExecutor, Executor) and issubclass(UcxContext, NetworkContext)


@pytest.mark.parametrize(
    ("name", "instead"),
    [
        ("GXFComponent", "holoflow.core.Component"),
        ("GXFCondition", "holoflow.core.Condition"),
        ("GXFResource", "holoflow.core.Resource"),
        ("GXFSystemResourceBase", "ThreadPool"),
        ("GXFNetworkContext", "one Application"),
        ("GXFScheduler", "GreedyScheduler"),
        ("GXFOperator", "holoflow.core.Operator"),
        ("GXFExecutionContext", "ExecutionContext"),
        ("GXFInputContext", "InputContext"),
        ("GXFOutputContext", "OutputContext"),
    ],
)
def test_gxf_wrappers_explain_what_to_use_instead(name, instead):
    import holoflow.gxf

    with pytest.raises(
        NotSupportedError, match=f"{name}: holoflow runs graphs in Python without GXF"
    ) as info:
        getattr(holoflow.gxf, name)()
    assert instead in str(info.value)


def test_load_extensions_explains_itself():
    from holoflow.gxf import load_extensions

    with pytest.raises(NotSupportedError, match=r"load_extensions\(\['libgxf_x.so'\]\).*Operator subclasses"):
        load_extensions(0, ["libgxf_x.so"])


def test_unsupported_errors_are_runtime_errors():
    assert issubclass(NotSupportedError, NotImplementedError) and issubclass(NotSupportedError, RuntimeError)
    assert not issubclass(NotSupportedError, GraphError)
