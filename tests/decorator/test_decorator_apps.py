"""Applications built from create_op operators, run under every scheduler: generators, classes,
tensor maps split over ports, tuples spread over ports, casting, op_param."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.conditions import CountCondition
from holoflow.core import Application, IOSpec, Operator, Tensor
from holoflow.decorator import Input, Output, create_op
from holoflow.errors import GraphError

from .._isolation import run_without


def run(app, use_scheduler):
    use_scheduler(app)
    app.run()


@create_op(op_param="op", inputs="value")
def collect(op, value):
    """Keeps every value received in ``op.received``."""
    op.received = [*getattr(op, "received", []), value]


def test_a_generator_feeds_a_class_and_a_bare_sink(app, use_scheduler):
    @create_op(outputs="out")
    def source_generator(count):
        yield from range(count)

    @create_op
    class Forward:
        def __init__(self, init_index=0):
            self.index = init_index
            self.seen = []

        def __call__(self, x):
            self.index += 1
            self.seen.append(x)
            return x

    src = source_generator(app, CountCondition(app, 10), name="src", count=5)
    forward = Forward(3)(app, name="forwarding")
    sink = collect(app, name="sink")
    app.add_flow(src, forward)
    app.add_flow(forward, sink)
    run(app, use_scheduler)
    # The generator ran dry after 5 values: the operator stopped although its count allowed 10.
    assert forward.class_obj.index == 3 + 5
    assert forward.class_obj.seen == sink.received == [0, 1, 2, 3, 4]
    assert not src.conditions["_generator_func"].check_tick_enabled()


@create_op(outputs=(Output("x", tensor_names=("x",)), Output("waveform", tensor_names="waveform")))
def dual_tensor_generate(x_shape=(128, 64), waveform_shape=(512,)):
    return {"x": np.zeros(x_shape, np.float32), "waveform": np.zeros(waveform_shape, np.float32)}


@create_op(inputs=Input("in", arg_map="tensor"), outputs="y")
def increment(tensor, value=1.5):
    return tensor + value


def test_a_returned_dict_splits_over_ports_by_tensor_name(app, use_scheduler):
    src = dual_tensor_generate(app, CountCondition(app, 3), name="dual_gen", x_shape=(32, 16))
    inc_x = increment(app, name="increment_x", value=2.0)
    inc_w = increment(app, name="increment_waveform")
    assert inc_x.fixed_kwargs == {"value": 2.0} and inc_w.fixed_kwargs == {"value": 1.5}
    sink_x, sink_w = collect(app, name="sink_x"), collect(app, name="sink_w")
    app.add_flow(src, inc_x, {("x", "in")})
    app.add_flow(inc_x, sink_x)
    app.add_flow(src, inc_w, {("waveform", "in")})
    app.add_flow(inc_w, sink_w)
    run(app, use_scheduler)
    for sink, shape, value in ((sink_x, (32, 16), 2.0), (sink_w, (512,), 1.5)):
        assert len(sink.received) == 3
        for array in sink.received:
            assert isinstance(array, np.ndarray) and array.shape == shape and (array == value).all()
    # increment's port "y" names no tensor: the array went out as {"": array}, the sink took its
    # only tensor.


@create_op(outputs=("x", "waveform"))
def tensor_tuple_generate(x_shape=(128, 64), waveform_shape=(512,)):
    return np.zeros(x_shape, np.float32), np.ones(waveform_shape, np.float32)


@create_op(inputs=("x1", "x2"), outputs=("out1", "out2"))
def update_tuple(x1, x2, bias=1.5, scale=2.0):
    return x1 + bias, x2 * scale


class TensorMapSink(Operator):
    """A plain operator that checks what a tuple element of arrays arrived as."""

    def setup(self, spec):
        spec.input("tensor")
        self.received = []

    def compute(self, op_input, op_output, context):
        self.received.append(op_input.receive("tensor"))


def test_a_returned_tuple_spreads_over_the_ports(app, use_scheduler):
    src = tensor_tuple_generate(app, CountCondition(app, 3), name="tuple_gen", x_shape=(32, 16))
    update = update_tuple(app, name="update", bias=2.0, scale=1.5)
    map_sink = TensorMapSink(app, name="map_sink")
    sink = collect(app, name="sink")
    app.add_flow(src, update, {("x", "x1"), ("waveform", "x2")})
    app.add_flow(update, map_sink, {("out1", "tensor")})
    app.add_flow(update, sink, {("out2", "value")})
    run(app, use_scheduler)
    assert len(map_sink.received) == 3
    for message in map_sink.received:
        assert list(message) == [""] and isinstance(message[""], Tensor)
        assert np.asarray(message[""]).shape == (32, 16) and (np.asarray(message[""]) == 2.0).all()
    assert [a.shape for a in sink.received] == [(512,)] * 3 and all((a == 1.5).all() for a in sink.received)


def source_tuple(n_ports, count=5):
    @create_op(outputs=tuple(f"out{i + 1}" for i in range(n_ports)))
    def source_tuple(count=count):
        return tuple(range(count))

    return source_tuple


@pytest.mark.parametrize("n_ports", [1, 5])
def test_a_tuple_goes_whole_to_one_port_or_an_element_to_each_port(app, use_scheduler, n_ports):
    src = source_tuple(n_ports)(app, CountCondition(app, 3), name="src")
    sinks = [collect(app, name=f"sink_{port}") for port in src.output_tensor_map]
    for port, sink in zip(src.output_tensor_map, sinks, strict=True):
        app.add_flow(src, sink, {(port, "value")})
    run(app, use_scheduler)
    if n_ports == 1:
        assert sinks[0].received == [(0, 1, 2, 3, 4)] * 3
    else:
        assert [sink.received for sink in sinks] == [[i] * 3 for i in range(5)]


def test_a_tuple_that_does_not_match_the_ports_stops_the_run(app, use_scheduler):
    src = source_tuple(3)(app, CountCondition(app, 3), name="src")
    for port in src.output_tensor_map:
        app.add_flow(src, collect(app, name=f"sink_{port}"), {(port, "value")})
    expected = (
        "operator 'src': The number of output tuple elements and number of tensors must match.\n"
        "Output tuple length = 5\nNumber of output tensors = 3"
    )
    with pytest.raises(GraphError) as raised:
        run(app, use_scheduler)
    assert str(raised.value) == expected and isinstance(raised.value, ValueError)


def test_cast_tensors_chooses_arrays_or_holoflow_tensors(app, use_scheduler):
    @create_op(inputs="tensor", cast_tensors=False, op_param="op")
    def no_cast(op, tensor):
        op.kinds = [*getattr(op, "kinds", []), type(tensor)]

    @create_op(inputs="tensor", op_param="op")
    def cast(op, tensor):
        op.kinds = [*getattr(op, "kinds", []), type(tensor)]

    src = dual_tensor_generate(app, CountCondition(app, 2), name="dual_gen", x_shape=(32, 16))
    plain, arrays = no_cast(app, name="no_cast"), cast(app, name="cast")
    app.add_flow(src, plain, {("x", "tensor")})
    app.add_flow(src, arrays, {("waveform", "tensor")})
    run(app, use_scheduler)
    assert plain.kinds == [Tensor, Tensor] and arrays.kinds == [np.ndarray, np.ndarray]


def test_op_param_nodes_run_in_a_control_flow_chain(app, use_scheduler):
    order = []

    @create_op(op_param="self")
    def simple_op(self, param1, param2=5):
        order.append(f"I am here - {self.name} (param1: {param1}, param2: {param2})")

    nodes = [simple_op(app, param1=i, name=f"node{i}") for i in (1, 2, 3)]
    app.add_flow(app.start_op(), nodes[0])
    app.add_flow(nodes[0], nodes[1])
    app.add_flow(nodes[1], nodes[2])
    run(app, use_scheduler)
    assert order == [f"I am here - node{i} (param1: {i}, param2: 5)" for i in (1, 2, 3)]


def test_a_dict_arg_map_fills_several_arguments_from_one_message(app, use_scheduler):
    @create_op(outputs="out")
    def frames():
        return {"image": np.full((2, 2), 3.0), "mask": np.eye(2), "label": "left"}

    @create_op(inputs=Input("in", arg_map={"image": "img", "mask": "m", "label": "name"}), outputs="out")
    def apply(img, m, name):
        return {"masked": img * m, "name": name}

    @create_op(inputs=Input("in", arg_map={"masked": "value"}), op_param="op")
    def keep(op, value):
        op.received = [*getattr(op, "received", []), value]

    src, mid, sink = frames(app, CountCondition(app, 2), name="src"), apply(app), keep(app, name="sink")
    app.add_flow(src, mid)
    app.add_flow(mid, sink)
    run(app, use_scheduler)
    assert len(sink.received) == 2
    assert all(isinstance(a, np.ndarray) and (a == np.eye(2) * 3.0).all() for a in sink.received)


def test_none_and_plain_objects_go_out_as_they_are(app, use_scheduler):
    @create_op(outputs="out")
    def nothing():
        return None

    @create_op(outputs="out")
    def scalar():
        return np.float32(2.5)

    a, b = nothing(app, CountCondition(app, 2), name="a"), scalar(app, CountCondition(app, 2), name="b")
    sink_a, sink_b = collect(app, name="sink_a"), collect(app, name="sink_b")
    app.add_flow(a, sink_a)
    app.add_flow(b, sink_b)
    run(app, use_scheduler)
    assert sink_a.received == [None, None]
    assert sink_b.received == [np.float32(2.5)] * 2


def test_an_array_on_a_named_port_and_a_missing_tensor(app):
    @create_op(outputs=Output("out", tensor_names="frame"))
    def named():
        return np.arange(3)

    @create_op(outputs=Output("out", tensor_names=("a", "b")))
    def missing():
        return {"a": np.arange(3)}

    receiver = TensorMapSink(app, name="rx")
    app.add_flow(named(app, CountCondition(app, 1), name="named"), receiver)
    app.run()
    assert list(receiver.received[0]) == ["frame"]
    app2 = Application([])
    app2.add_flow(missing(app2, CountCondition(app2, 1), name="missing"), TensorMapSink(app2, name="rx"))
    with pytest.raises(
        GraphError, match=r"operator 'missing': tensor with name 'b' not found in function output"
    ):
        app2.run()


def test_a_missing_tensor_in_a_received_dict_is_a_key_error(app):
    @create_op(outputs="out")
    def src():
        return {"image": np.zeros(2)}

    @create_op(inputs=Input("in", arg_map={"mask": "m"}))
    def needs_mask(m):
        pass

    app.add_flow(src(app, CountCondition(app, 1)), needs_mask(app))
    with pytest.raises(
        KeyError, match=r"operator 'needs_mask': key with name 'mask' not found in input dict"
    ):
        app.run()


def test_several_unnamed_tensors_cannot_fill_one_argument(app):
    @create_op(outputs="out")
    def src():
        return {"a": np.zeros(2), "b": np.ones(2)}

    @create_op(inputs="x")
    def sink(x):
        pass

    app.add_flow(src(app, CountCondition(app, 1)), sink(app))
    with pytest.raises(GraphError, match="More than one tensor found in port, but none has name x"):
        app.run()


def test_an_any_size_input_receives_one_message_per_connection(app, use_scheduler):
    @create_op(outputs="out", op_param="op")
    def numbered(op):
        return op.name

    @create_op(inputs=Input("ins", arg_map="values", size=IOSpec.ANY_SIZE))
    def join(values, *, seen):
        seen.append(tuple(values))

    seen = []
    sink = join(app, seen=seen)
    for name in ("a", "b", "c"):
        app.add_flow(numbered(app, CountCondition(app, 2), name=name), sink)
    run(app, use_scheduler)
    assert seen == [("a", "b", "c")] * 2


def test_cuda_tensors_reach_the_function_as_cupy_arrays(gpu, app):
    @create_op(outputs="out")
    def on_device():
        return gpu.module.asarray(np.arange(4.0))

    @create_op(inputs="x", op_param="op")
    def sink(op, x):
        op.got = (type(x), np.asarray(gpu.module.asnumpy(x)).tolist())

    rx = sink(app)
    app.add_flow(on_device(app, CountCondition(app, 1)), rx)
    app.run()
    assert rx.got == (gpu.module.ndarray, [0.0, 1.0, 2.0, 3.0])


def test_cupy_is_never_imported_for_host_data():
    script = """
        import numpy as np
        from holoflow.conditions import CountCondition
        from holoflow.core import Application
        from holoflow.decorator import create_op

        @create_op(outputs="out")
        def src():
            return np.arange(3)

        @create_op(inputs="x")
        def sink(x):
            print(type(x).__name__, x.tolist())

        app = Application([])
        app.add_flow(src(app, CountCondition(app, 2)), sink(app))
        app.run()
        assert "cupy" not in sys.modules
        """
    out = run_without(["cupy"], script)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["ndarray [0, 1, 2]"] * 2
