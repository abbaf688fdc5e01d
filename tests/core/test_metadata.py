"""Operator metadata: the MetadataDictionary API, policies, and metadata travelling through runs."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holoflow.conditions import CountCondition
from holoflow.core import Application, Fragment, IOSpec, MetadataDictionary, MetadataPolicy, Operator
from holoflow.core._metadata import Envelope, stamp, unstamp
from holoflow.errors import HoloflowError, MetadataError
from holoflow.tensor import TensorMap
from holoflow.testing import Source

ALL_POLICIES = list(MetadataPolicy)


def filled(policy=MetadataPolicy.DEFAULT, **items):
    d = MetadataDictionary()
    for key, value in items.items():
        d[key] = value
    d.policy = policy
    return d


# -- the dictionary ---------------------------------------------------------------------------------
def test_policy_members_match_holoscan():
    assert [(p.name, p.value) for p in MetadataPolicy] == [
        ("REJECT", 0),
        ("INPLACE_UPDATE", 1),
        ("UPDATE", 2),
        ("RAISE", 3),
        ("DEFAULT", 4),
    ]


def test_reading_and_writing():
    d = MetadataDictionary()
    assert len(d) == d.size() == 0 and not d
    assert d.policy is MetadataPolicy.DEFAULT
    shared = {"a": 1}
    d["k1"] = 5
    d["k2"] = shared
    d.set("k3", [1, 2], dtype=np.dtype("float32"), cast_to_cpp=True)  # accepted, ignored
    assert d["k1"] == 5 and d["k2"] is shared and d["k3"] == [1, 2]
    assert d.keys() == ["k1", "k2", "k3"]
    assert d.items() == [("k1", 5), ("k2", shared), ("k3", [1, 2])]
    assert list(d) == ["k1", "k2", "k3"]
    assert len(d) == d.size() == 3
    assert "k1" in d and d.has_key("k2") and "zz" not in d and not d.has_key("zz")
    assert d.get("k1") == 5 and d.get("zz") is None and d.get("zz", 7) == 7 and d.get("zz", value=8) == 8
    assert d.type_dict() == {"k1": "int", "k2": "dict", "k3": "list"}
    assert repr(d) == "{'k1': 5, 'k2': {'a': 1}, 'k3': [1, 2]}"
    with pytest.raises(KeyError, match="zz"):
        d["zz"]


def test_removing():
    d = filled(a=1, b=2, c=3)
    assert d.erase("a") is True and d.erase("a") is False
    del d["b"]
    del d["missing"]  # as in Holoscan: no error
    assert d.keys() == ["c"]
    assert d.pop("c") == 3
    with pytest.raises(KeyError):
        d.pop("c")
    assert d.pop("c", None) is None and d.pop("c", 10) == 10
    d["x"] = 1
    d.clear()
    assert len(d) == 0


def test_bad_keys_and_policies_are_type_errors():
    d = MetadataDictionary()
    with pytest.raises(TypeError, match="metadata keys are str, not int"):
        d[1] = 2
    with pytest.raises(TypeError, match="MetadataPolicy"):
        d.policy = 2
    with pytest.raises(TypeError, match="expected a MetadataDictionary, got dict"):
        d.update({"a": 1})


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (MetadataPolicy.REJECT, "old"),
        (MetadataPolicy.UPDATE, "new"),
        (MetadataPolicy.INPLACE_UPDATE, "new"),
        (MetadataPolicy.RAISE, MetadataError),
        (MetadataPolicy.DEFAULT, MetadataError),
    ],
)
def test_set_on_an_existing_key_follows_the_policy(policy, expected):
    d = filled(policy, k="old")
    if expected is MetadataError:
        with pytest.raises(MetadataError, match=r"^metadata key 'k' already exists") as info:
            d["k"] = "new"
        assert isinstance(info.value, RuntimeError) and isinstance(info.value, HoloflowError)
        assert info.value.key == "k"
        assert "duplicate metadata keys" in str(info.value)
        assert d["k"] == "old"
    else:
        d["k"] = "new"
        assert d["k"] == expected


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (MetadataPolicy.REJECT, {"k": 1, "a": 2, "b": 30}),
        (MetadataPolicy.UPDATE, {"k": 10, "a": 2, "b": 30}),
        (MetadataPolicy.INPLACE_UPDATE, {"k": 10, "a": 2, "b": 30}),
        (MetadataPolicy.RAISE, None),
        (MetadataPolicy.DEFAULT, None),
    ],
)
def test_update_follows_the_policy_and_raise_changes_nothing(policy, expected):
    d = filled(policy, k=1, a=2)
    other = filled(k=10, b=30)
    if expected is None:
        with pytest.raises(MetadataError, match="metadata key 'k' already exists"):
            d.update(other)
        assert d.items() == [("k", 1), ("a", 2)]
    else:
        d.update(other)
        assert dict(d.items()) == expected
    assert other.items() == [("k", 10), ("b", 30)]


@pytest.mark.parametrize("policy", ALL_POLICIES)
def test_insert_and_merge_keep_existing_values_whatever_the_policy(policy):
    d = filled(policy, k=1, a=2)
    other = filled(k=10, b=30)
    d.insert(other)
    assert dict(d.items()) == {"k": 1, "a": 2, "b": 30}
    assert other.items() == [("k", 10), ("b", 30)]

    d = filled(policy, k=1, a=2)
    d.merge(other)
    assert dict(d.items()) == {"k": 1, "a": 2, "b": 30}
    assert other.items() == [("k", 10)]  # what moved is gone from other


def test_swap_exchanges_contents_but_not_policies():
    d = filled(MetadataPolicy.UPDATE, a=1)
    other = filled(MetadataPolicy.REJECT, b=2, c=3)
    d.swap(other)
    assert d.items() == [("b", 2), ("c", 3)] and other.items() == [("a", 1)]
    assert d.policy is MetadataPolicy.UPDATE and other.policy is MetadataPolicy.REJECT


# -- stamp / unstamp ---------------------------------------------------------------------------------
class Nop(Operator):
    pass


def test_stamp_sends_a_snapshot_only_when_enabled_and_not_empty(app):
    op = Nop(app, name="op")
    message = object()
    assert stamp(op, message) is message  # empty metadata: the message itself
    op.metadata["k"] = [1]
    envelope = stamp(op, message)
    assert type(envelope) is Envelope and envelope.message is message
    op.metadata["k2"] = 2
    assert envelope.metadata == {"k": [1]}  # a snapshot of the table...
    assert envelope.metadata["k"] is op.metadata["k"]  # ...sharing the values
    op.enable_metadata(False)
    assert stamp(op, message) is message


def test_unstamp_merges_by_the_operators_policy(app):
    op = Nop(app, name="op")
    assert unstamp(op, 5) == 5
    assert unstamp(op, Envelope("m", {"k": 1})) == "m"
    assert op.metadata.items() == [("k", 1)]
    with pytest.raises(MetadataError, match="metadata key 'k' already exists"):
        unstamp(op, Envelope("m", {"k": 2}))
    op.metadata_policy = MetadataPolicy.UPDATE
    unstamp(op, Envelope("m", {"k": 2}))
    assert op.metadata["k"] == 2
    op.enable_metadata(False)
    assert unstamp(op, Envelope("m", {"k": 3})) == "m"
    assert op.metadata["k"] == 2


# -- settings and their resolution ---------------------------------------------------------------
def test_defaults_and_resolution_order():
    app = Application([])
    frag = Fragment(app, "frag")
    op = Nop(frag, name="op")
    assert app.is_metadata_enabled and frag.is_metadata_enabled and op.is_metadata_enabled
    assert app.metadata_policy is MetadataPolicy.RAISE is frag.metadata_policy
    assert op.metadata_policy is MetadataPolicy.DEFAULT

    app.enable_metadata(False)
    app.metadata_policy = MetadataPolicy.REJECT
    assert not frag.is_metadata_enabled and not op.is_metadata_enabled
    assert frag.metadata_policy is MetadataPolicy.REJECT

    frag.enable_metadata(True)
    frag.metadata_policy = MetadataPolicy.UPDATE
    assert op.is_metadata_enabled and frag.metadata_policy is MetadataPolicy.UPDATE

    op.enable_metadata(False)
    op.metadata_policy = MetadataPolicy.INPLACE_UPDATE
    assert not op.is_metadata_enabled and op.metadata_policy is MetadataPolicy.INPLACE_UPDATE
    assert op.metadata.policy is MetadataPolicy.INPLACE_UPDATE
    with pytest.raises(TypeError):
        frag.metadata_policy = "UPDATE"


def test_assigning_is_metadata_enabled_is_deprecated_but_works(app):
    with pytest.warns(DeprecationWarning, match="enable_metadata"):
        app.is_metadata_enabled = False
    assert app.is_metadata_enabled is False


class Probe(Operator):
    """Records, in each compute, its metadata and policy, then sets ``key`` and emits."""

    def __init__(self, fragment, *args, key="probe", **kwargs):
        self.key, self.seen = key, []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.metadata["set_in_start"] = True  # gone before the first compute

    def compute(self, op_input, op_output, context):
        self.seen.append((dict(self.metadata.items()), self.metadata_policy))
        self.metadata[self.key] = len(self.seen)
        op_output.emit(len(self.seen), "out")


def test_policy_is_the_fragments_during_a_run_and_default_after(app):
    probe = Probe(app, CountCondition(app, 2), name="probe")
    app.add_operator(probe)
    app.metadata_policy = MetadataPolicy.UPDATE
    app.run()
    # Empty at every compute start: what start() and the previous compute set is gone.
    assert probe.seen == [({}, MetadataPolicy.UPDATE)] * 2
    assert probe.metadata_policy is MetadataPolicy.DEFAULT
    app.metadata_policy = MetadataPolicy.REJECT
    app.run()
    assert probe.seen[2:] == [({}, MetadataPolicy.REJECT)] * 2


def test_a_policy_set_by_the_operator_outlives_the_run(app):
    probe = Probe(app, CountCondition(app, 1), name="probe")
    app.add_operator(probe)
    probe.metadata_policy = MetadataPolicy.REJECT
    app.run()
    assert probe.seen == [({}, MetadataPolicy.REJECT)]
    assert probe.metadata_policy is MetadataPolicy.REJECT


# -- metadata through runs -----------------------------------------------------------------------
class Tag(Operator):
    """Receives ``in`` (if declared), records its metadata, sets ``tags`` and emits what it got."""

    def __init__(self, fragment, *args, tags=None, inputs=("in",), after_emit=None, **kwargs):
        self.tags, self.inputs, self.after_emit = dict(tags or {}), inputs, after_emit
        self.seen, self.got = [], []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        for name in self.inputs:
            spec.input(name)
        spec.output("out")

    def compute(self, op_input, op_output, context):
        assert len(self.metadata) == 0
        values = [op_input.receive(name) for name in self.inputs]
        self.got.append(values[0] if len(values) == 1 else tuple(values))
        self.seen.append(dict(self.metadata.items()))
        for key, value in self.tags.items():
            self.metadata[key] = value
        op_output.emit(self.got[-1] if self.inputs else len(self.got), "out")
        for key, value in (self.after_emit or {}).items():
            self.metadata[key] = value


class Sink(Operator):
    """Records each message on ``in`` and the metadata that came with it."""

    def __init__(self, fragment, *args, **kwargs):
        self.got, self.seen = [], []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        self.got.append(op_input.receive("in"))
        self.seen.append(dict(self.metadata.items()))


def test_metadata_flows_down_a_chain(app, use_scheduler):
    src = Tag(app, CountCondition(app, 5), inputs=(), tags={"source": "camera"}, name="src")
    mid = Tag(app, tags={"gain": 2.0}, after_emit={"late": True}, name="mid")
    sink = Sink(app, name="sink")
    app.add_flow(src, mid)
    app.add_flow(mid, sink)
    use_scheduler(app)
    app.run()
    assert sink.got == [1, 2, 3, 4, 5]
    assert mid.seen == [{"source": "camera"}] * 5
    # What mid set after emitting did not travel: the message carries the metadata of its emit.
    assert sink.seen == [{"source": "camera", "gain": 2.0}] * 5


def test_a_disabled_fragment_sends_nothing_and_an_operator_can_opt_back_in(app, use_scheduler):
    app.enable_metadata(False)
    src = Tag(app, CountCondition(app, 3), inputs=(), tags={"a": 1}, name="src")
    mid = Tag(app, tags={"b": 2}, name="mid")
    mid.enable_metadata(True)
    sink = Sink(app, name="sink")
    sink.enable_metadata(True)
    app.add_flow(src, mid)
    app.add_flow(mid, sink)
    use_scheduler(app)
    app.run()
    assert mid.seen == [{}] * 3  # src has metadata disabled: it sent none
    assert sink.seen == [{"b": 2}] * 3
    assert sink.got == [1, 2, 3]


class LateOptOut(Sink):
    def initialize(self):
        self.enable_metadata(False)


def test_settings_made_in_initialize_count_for_the_run(app):
    src = Tag(app, CountCondition(app, 1), inputs=(), tags={"a": 1}, name="src")
    sink = LateOptOut(app, name="sink")
    app.add_flow(src, sink)
    app.run()
    assert sink.got == [1] and sink.seen == [{}]


def test_a_disabled_receiver_gets_the_bare_message(app):
    src = Tag(app, CountCondition(app, 2), inputs=(), tags={"a": 1}, name="src")
    sink = Sink(app, name="sink")
    sink.enable_metadata(False)
    app.add_flow(src, sink)
    app.run()
    assert sink.got == [1, 2] and sink.seen == [{}, {}]


def test_two_inputs_with_one_key_raise_under_raise(app, use_scheduler):
    a = Tag(app, CountCondition(app, 3), inputs=(), tags={"frame_id": "a"}, name="a")
    b = Tag(app, CountCondition(app, 3), inputs=(), tags={"frame_id": "b"}, name="b")
    join = Tag(app, inputs=("left", "right"), name="join")
    app.add_flow(a, join, {("out", "left")})
    app.add_flow(b, join, {("out", "right")})
    use_scheduler(app)
    with pytest.raises(MetadataError) as info:
        app.run()
    message = str(info.value)
    assert message.startswith(
        "operator 'join': metadata key 'frame_id' received on input port 'right' already exists "
        "(metadata policy RAISE)"
    )
    assert "raised in operator 'join'.compute()" in info.value.__notes__
    assert info.value.key == "frame_id"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        (MetadataPolicy.UPDATE, "b"),
        (MetadataPolicy.INPLACE_UPDATE, "b"),
        (MetadataPolicy.REJECT, "a"),
    ],
)
def test_fan_in_merges_by_the_receivers_policy(app, policy, expected):
    a = Tag(app, CountCondition(app, 2), inputs=(), tags={"frame_id": "a", "x": 1}, name="a")
    b = Tag(app, CountCondition(app, 2), inputs=(), tags={"frame_id": "b", "y": 2}, name="b")
    join = Tag(app, inputs=("left", "right"), name="join")
    join.metadata_policy = policy
    app.add_flow(a, join, {("out", "left")})
    app.add_flow(b, join, {("out", "right")})
    app.run()
    assert join.seen == [{"frame_id": expected, "x": 1, "y": 2}] * 2
    assert join.got == [(1, 1), (2, 2)]


class Gather(Operator):
    """Reads an ANY_SIZE port (``any``) or a batch port (``batch``) and records metadata."""

    def __init__(self, fragment, *args, port="any", **kwargs):
        self.port, self.got, self.seen = port, [], []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        size = IOSpec.ANY_SIZE if self.port == "any" else IOSpec.IOSize(2)
        spec.input("in", size=size)

    def compute(self, op_input, op_output, context):
        self.got.append(op_input.receive("in"))
        self.seen.append(dict(self.metadata.items()))


def test_any_size_ports_merge_every_connection(app, use_scheduler):
    a = Tag(app, CountCondition(app, 2), inputs=(), tags={"a": 1}, name="a")
    b = Tag(app, CountCondition(app, 2), inputs=(), name="b")  # no metadata: a bare message
    rx = Gather(app, name="rx")
    app.add_flow(a, rx)
    app.add_flow(b, rx)
    use_scheduler(app)
    app.run()
    assert rx.got == [(1, 1), (2, 2)]
    assert rx.seen == [{"a": 1}] * 2


def test_batch_ports_merge_each_message_by_policy(app):
    src = Probe(app, CountCondition(app, 4), key="n", name="src")
    rx = Gather(app, port="batch", name="rx")
    rx.metadata_policy = MetadataPolicy.UPDATE
    app.add_flow(src, rx)
    app.run()
    assert rx.got == [(1, 2), (3, 4)]
    assert rx.seen == [{"n": 2}, {"n": 4}]


def test_a_batch_with_one_key_twice_raises_under_raise(app):
    src = Probe(app, CountCondition(app, 2), key="n", name="src")
    rx = Gather(app, port="batch", name="rx")
    app.add_flow(src, rx)
    with pytest.raises(MetadataError, match="operator 'rx': metadata key 'n' received on input port 'in'"):
        app.run()


class RawReader(Operator):
    """Looks at its queue, then reads it with ``Receiver.pop``, as a condition could."""

    def __init__(self, fragment, *args, **kwargs):
        self.queued_types, self.got = [], []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        receiver = self.receiver("in")
        self.queued_types.append(type(receiver.queue[0]).__name__)
        self.got.append(receiver.pop())


def test_receiver_pop_never_returns_an_envelope(app):
    tagged = Tag(app, CountCondition(app, 2), inputs=(), tags={"a": 1}, name="tagged")
    plain = Tag(app, CountCondition(app, 2), inputs=(), name="plain")
    rx_tagged, rx_plain = RawReader(app, name="rx_tagged"), RawReader(app, name="rx_plain")
    app.add_flow(tagged, rx_tagged)
    app.add_flow(plain, rx_plain)
    app.run()
    assert rx_tagged.got == [1, 2] and rx_plain.got == [1, 2]
    assert rx_tagged.queued_types == ["Envelope", "Envelope"]
    assert rx_plain.queued_types == ["int", "int"]  # empty metadata: no envelope at all


class FrameSource(Operator):
    def setup(self, spec):
        spec.output("out")

    def compute(self, op_input, op_output, context):
        self.metadata["frame"] = 7
        op_output.emit({"image": np.arange(6.0).reshape(2, 3)}, "out")


class FrameSink(Operator):
    def __init__(self, fragment, *args, **kwargs):
        self.checks = []
        super().__init__(fragment, *args, **kwargs)

    def setup(self, spec):
        spec.input("in")
        spec.input("arr")

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        noted = self._holoflow_run.streams.received["in"]
        with op_input.receive_array("arr", "image") as (xp, image):
            total = float(xp.sum(image))
        noted_once = len(noted) == 1 and noted[0] is message
        self.checks.append((type(message) is TensorMap, noted_once, total, dict(self.metadata.items())))


def test_tensor_maps_with_metadata_reach_the_stream_bookkeeping(app):
    src = FrameSource(app, CountCondition(app, 1), name="src")
    rx = FrameSink(app, name="rx")
    rx.metadata_policy = MetadataPolicy.UPDATE
    app.add_flow(src, rx, {("out", "in"), ("out", "arr")})
    app.run()
    assert rx.checks == [(True, True, 15.0, {"frame": 7})]


def test_metadata_error_message_names_the_operator_for_set_in_compute(app):
    src = Tag(app, CountCondition(app, 1), inputs=(), tags={"a": 1}, name="src")
    rx = Tag(app, tags={"a": 2}, name="rx")  # sets a key it received, under RAISE
    app.add_flow(src, rx)
    with pytest.raises(MetadataError, match=re.escape("operator 'rx': metadata key 'a' already exists")):
        app.run()


def test_source_items_survive_unchanged(app):
    src = Source(app, [{"k": 1}, None, 3], name="src")
    sink = Sink(app, name="sink")
    app.add_flow(src, sink)
    app.run()
    assert sink.got == [{"k": 1}, None, 3] and sink.seen == [{}] * 3


# -- property ---------------------------------------------------------------------------------------
KEYS = st.sets(st.sampled_from("abcde"), max_size=3)


@st.composite
def chains(draw):
    n = draw(st.integers(1, 6))
    return [(draw(KEYS), draw(st.booleans()) or draw(st.booleans())) for _ in range(n)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chains(), st.booleans())
def test_the_sink_sees_the_union_of_what_its_path_set(chain, sink_enabled):
    """Under UPDATE the sink sees, for each key, the value the last enabled operator set; an
    operator with metadata disabled passes none of what came before it."""
    app = Application([])
    app.metadata_policy = MetadataPolicy.UPDATE
    previous = None
    for index, (keys, enabled) in enumerate(chain):
        inputs = () if previous is None else ("in",)
        condition = [CountCondition(app, 2)] if previous is None else []
        op = Tag(app, *condition, inputs=inputs, tags={k: index for k in keys}, name=f"op{index}")
        op.enable_metadata(enabled)
        if previous is not None:
            app.add_flow(previous, op)
        previous = op
    sink = Sink(app, name="sink")
    sink.enable_metadata(sink_enabled)
    app.add_flow(previous, sink)
    app.run()

    expected: dict[str, int] = {}
    for index, (keys, enabled) in enumerate(chain):
        if not enabled:
            expected = {}
            continue
        expected.update({k: index for k in keys})
    assert sink.got == [1, 2]
    assert sink.seen == [expected if sink_enabled else {}] * 2
