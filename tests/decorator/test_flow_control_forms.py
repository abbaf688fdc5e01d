"""The ``@create_op`` forms of Holoscan's flow-control examples (their commented-out variants):
``op_param`` operators that keep state on the operator, take dynamic flows, read metadata, and
declare ports with a queue policy and no condition. Under every scheduler; the greedy one
runs operators one at a time, so its lines are compared in order."""

from __future__ import annotations

from collections import Counter

from holoflow.conditions import CountCondition
from holoflow.core import ConditionType, IOSpec, Operator
from holoflow.decorator import Input, Output, create_op


def check(lines, expected, scheduler_kind):
    if scheduler_kind == "greedy":
        assert lines == expected
    else:
        assert Counter(lines) == Counter(expected)


def test_conditional_form(app, use_scheduler, scheduler_kind):
    lines = []

    @create_op(op_param="self")
    def simple_op(self):
        if not hasattr(self, "value"):
            self.value = 0
        self.value += 1
        lines.append(f"I am here - {self.name} (value: {self.value})")

    node1 = simple_op(app, CountCondition(app, count=2), name="node1")
    node2, node3, node4, node5 = (simple_op(app, name=f"node{i}") for i in (2, 3, 4, 5))
    app.add_flow(node1, node2)
    app.add_flow(node2, node3)
    app.add_flow(node1, node4)
    app.add_flow(node4, node5)
    app.set_dynamic_flows(
        node1, lambda op: op.add_dynamic_flow(node2) if op.value % 2 == 1 else op.add_dynamic_flow(node4)
    )
    use_scheduler(app)
    app.run()
    expected = [
        "I am here - node1 (value: 1)",
        "I am here - node2 (value: 1)",
        "I am here - node3 (value: 1)",
    ]
    expected += [
        "I am here - node1 (value: 2)",
        "I am here - node4 (value: 1)",
        "I am here - node5 (value: 1)",
    ]
    check(lines, expected, scheduler_kind)


def test_mixed_flows_form(app, use_scheduler, scheduler_kind):
    lines = []

    @create_op(op_param="self")
    def simple_op(self):
        lines.append(f"I am here - {self.name}")

    @create_op(op_param="self", outputs="output")
    def ping_tx(self):
        if not hasattr(self, "value"):
            self.value = 0
        self.value += 1
        lines.append(f"Sending value {self.value} - {self.name}")
        return self.value

    @create_op(op_param="self", inputs=Input("input", arg_map="msg"))
    def ping_rx(self, msg):
        if msg is not None:
            lines.append(f"Received value {msg} - {self.name}")

    node1 = ping_tx(app, CountCondition(app, count=2), name="node1")
    node2, alarm, node3 = ping_rx(app, name="node2"), simple_op(app, name="alarm"), ping_rx(app, name="node3")
    app.add_flow(node1, node2, {("output", "input")})
    app.add_flow(node1, alarm)
    app.add_flow(node1, node3, {("output", "input")})

    def route(op):
        op.add_dynamic_flow("output", node2 if op.value % 2 == 1 else node3, "input")
        op.add_dynamic_flow(Operator.OUTPUT_EXEC_PORT_NAME, alarm)

    app.set_dynamic_flows(node1, route)
    use_scheduler(app)
    app.run()
    expected = ["Sending value 1 - node1", "Received value 1 - node2", "I am here - alarm"]
    expected += ["Sending value 2 - node1", "I am here - alarm", "Received value 2 - node3"]
    check(lines, expected, scheduler_kind)


def test_for_loop_form_reads_metadata(app, use_scheduler, scheduler_kind):
    lines = []

    @create_op(op_param="self")
    def simple_op(self):
        lines.append(f"I am here - {self.name} (index: {self.metadata.get('index', -1)})")

    node1, node2, node3, node4 = (simple_op(app, name=f"node{i}") for i in (1, 2, 3, 4))
    app.add_flow(app.start_op(), node1)
    app.add_flow(node1, node2)
    app.add_flow(node2, node3)
    app.add_flow(node3, node1)
    app.add_flow(node1, node4)
    state = {"index": 0}

    def loop(op):
        op.metadata.set("index", state["index"])
        if state["index"] < 3:
            op.add_dynamic_flow(node2)
            state["index"] += 1
        else:
            state["index"] = 0
            op.add_dynamic_flow(node4)

    app.set_dynamic_flows(node1, loop)
    use_scheduler(app)
    app.run()
    expected = ["I am here - node1 (index: -1)"]
    for i in range(3):
        expected += [f"I am here - node2 (index: {i})", f"I am here - node3 (index: {i})"]
        expected += [f"I am here - node1 (index: {i})"]
    expected += ["I am here - node4 (index: 3)"]
    assert lines == expected  # one operator at a time under every scheduler: control flow orders them


def test_streaming_with_monitor_forms_declare_their_ports(app, use_scheduler):
    received = []

    @create_op(op_param="self", outputs="output")
    def gen_signal_op(self):
        if not hasattr(self, "value"):
            self.value = 0
        self.value += 1
        return self.value

    @create_op(
        op_param="self",
        inputs=Input("input", arg_map="value"),
        outputs=Output("output", policy=IOSpec.QueuePolicy.POP, condition_type=ConditionType.NONE),
    )
    def execution_throttler_op(self, value):
        if value is not None:
            return value

    @create_op(op_param="self", inputs=Input("input", arg_map="value"))
    def detect_event_op(self, value):
        self.metadata.set("is_detected", value % 2 == 1)
        received.append(value)

    gen = gen_signal_op(app, CountCondition(app, 5), name="gen_signal")
    throttler = execution_throttler_op(app, name="execution_throttler")
    detect = detect_event_op(app, name="detect_event")
    detect.queue_policy("input", IOSpec.IOType.INPUT, IOSpec.QueuePolicy.POP)
    port = throttler.spec.outputs["output"]
    assert port.queue_policy is IOSpec.QueuePolicy.POP and port.conditions == [(ConditionType.NONE, {})]
    assert detect.spec.inputs["input"].queue_policy is IOSpec.QueuePolicy.POP
    app.add_flow(gen, throttler)
    app.add_flow(throttler, detect)
    use_scheduler(app)
    app.run()
    # POP keeps the newest value when the detector falls behind: what arrives is increasing and
    # ends with the last value sent.
    assert received and received == sorted(set(received)) and received[-1] == 5
