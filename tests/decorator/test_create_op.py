"""create_op: building operators from functions and classes (ports, arguments, names, errors)."""

from __future__ import annotations

import pytest

from holoflow.conditions import BooleanCondition, CountCondition
from holoflow.core import Application, ConditionType, Fragment, Operator, Subgraph
from holoflow.decorator import Input, Output, create_op
from holoflow.decorator._function import returns_value
from holoflow.errors import GraphError


def test_a_factory_needs_the_fragment_first_or_by_keyword(app):
    @create_op()
    def func_no_args():
        pass

    with pytest.raises(GraphError, match="fragment must be provided"):
        func_no_args()
    op = func_no_args(app)
    assert isinstance(op, Operator)
    assert op.__name__ == "FuncNoArgsOp" and type(op).__name__ == "FuncNoArgsOp"
    assert op.name == "func_no_args"
    op2 = func_no_args(fragment=app, name="my-op")
    assert op2.__name__ == "FuncNoArgsOp" and op2.name == "my-op"
    assert type(op) is type(op2) and type(op).__module__ == __name__
    assert func_no_args.__name__ == "func_no_args"


def test_a_required_argument_left_unfed_is_a_graph_error(app):
    @create_op()
    def one_arg(image):
        return image

    with pytest.raises(
        GraphError, match="operator 'one_arg': required argument, 'image', has not been specified"
    ):
        one_arg(app)
    assert one_arg(app, image=3).fixed_kwargs == {"image": 3}


@pytest.mark.parametrize(
    "inputs",
    [
        "image",
        ("image",),
        ["image"],
        Input("image", arg_map="image"),
        Input("image", arg_map={"tensor": "image"}),
        (Input("image", arg_map={"tensor": "image"}),),
    ],
)
def test_inputs_in_every_form_feed_the_argument(app, inputs):
    @create_op(inputs=inputs)
    def one_arg(image):
        return image

    op = one_arg(app)
    assert op.__name__ == "OneArgOp" and op.name == "one_arg"
    assert op.dynamic_kwargs == {"image": None} and "image" not in op.fixed_kwargs
    assert list(op.spec.inputs) == ["image"] and op.spec.outputs == {}


@pytest.mark.parametrize(
    ("inputs", "error", "message"),
    [
        ("tensor", KeyError, "Provided func does not have an arg or kwarg named 'tensor'"),
        (("tensor",), KeyError, "Provided func does not have an arg or kwarg named 'tensor'"),
        (Input("image", arg_map=()), GraphError, "required argument, 'image', has not been specified"),
        (Input("image", arg_map={"t": "tensor"}), KeyError, "named 'tensor'"),
        ((Input("image", arg_map={"t": "tensor"}),), GraphError, "named 'tensor'"),
        (Input("image", arg_map=3), GraphError, "operator 'one_arg': input port 'image': arg_map must be"),
        ((Input("a", arg_map="image"), Input("b", arg_map="image")), GraphError, "two input ports map to"),
    ],
)
def test_a_port_mapping_to_a_missing_or_taken_argument_is_an_error(app, inputs, error, message):
    @create_op(inputs=inputs)
    def one_arg(image):
        return image

    with pytest.raises(error, match=message) as raised:
        one_arg(app)
    assert isinstance(raised.value, GraphError)


def test_an_input_object_declares_its_condition(app):
    @create_op(inputs=Input("image_in", {"image": "image"}, condition_type=ConditionType.NONE))
    def one_arg(image):
        return image

    op = one_arg(app)
    assert op.dynamic_kwargs == {"image": None} and op.fixed_kwargs == {}
    assert op.spec.inputs["image_in"].conditions == [(ConditionType.NONE, {})]
    assert op.input_mappings == {"image_in": {"image": "image"}}


def test_defaults_and_keyword_only_arguments_are_fixed(app):
    @create_op(inputs="image", outputs="image")
    def func(image, x=5, *, y=7, z):
        return image

    op = func(app, y=12, z=0)
    assert op.dynamic_kwargs == {"image": None}
    assert op.fixed_kwargs == {"x": 5, "y": 12, "z": 0}
    assert op.output_tensor_map == {"image": ()}
    with pytest.raises(GraphError, match="required argument, 'z'"):
        func(app)


def test_positional_arguments_fill_the_unfed_positional_parameters_in_order(app):
    @create_op(inputs="image")
    def func(a, image, b=2, c=3):
        return image

    op = func(app, 10, 20, CountCondition(app, 1), name="f")
    assert op.fixed_kwargs == {"a": 10, "b": 20, "c": 3}
    assert len(op.conditions) == 1
    with pytest.raises(TypeError, match=r"takes 3 positional argument\(s\) besides the fragment"):
        func(app, 1, 2, 3, 4)
    with pytest.raises(TypeError, match="got multiple values for argument 'a'"):
        func(app, 1, a=2)


def test_an_unknown_keyword_is_a_type_error_at_construction(app):
    @create_op(inputs="x")
    def func(x, factor=1):
        return x * factor

    with pytest.raises(TypeError, match=r"operator 'func': .*func\(\) has no argument 'scale'"):
        func(app, scale=3)
    with pytest.raises(GraphError, match="argument 'x' comes from input port 'x'"):
        func(app, x=3)

    @create_op(inputs="x")
    def open_ended(x, **options):
        return x

    assert open_ended(app, scale=3).fixed_kwargs == {"scale": 3}


def test_a_keyword_condition_attaches_unless_it_names_a_parameter(app):
    @create_op()
    def func(switch=None):
        return switch

    count = CountCondition(app, 3)
    op = func(app, stop=count)
    assert op.conditions == {"stop": count} and op.fixed_kwargs == {"switch": None}
    flag = BooleanCondition(app)
    op = func(app, switch=flag, name="func2")
    assert op.fixed_kwargs == {"switch": flag} and op.conditions == {}


def test_op_param_passes_the_operator(app):
    @create_op(op_param="self")
    def simple(self, param1, param2=5):
        return self.name

    op = simple(app, param1=1, name="node1")
    assert op.fixed_kwargs == {"param1": 1, "param2": 5, "self": op}
    assert op.spec.inputs == {} and op.spec.outputs == {}
    assert op.op_param == "self"

    @create_op(op_param="me")
    def no_such_param(self):
        return 1

    with pytest.raises(TypeError, match="op_param 'me' is not a keyword argument"):
        no_such_param(app)
    with pytest.raises(TypeError, match="op_param must be a str"):
        create_op(op_param=3)


def test_a_generator_function_gets_a_switch_condition(app):
    @create_op(inputs="image", outputs="image")
    def int_generator(image, *, count=10):
        yield from range(count)

    op = int_generator(app)
    assert op.is_generator and op.fixed_kwargs["count"] == 10
    assert list(op.conditions) == ["_generator_func"]
    assert isinstance(op.conditions["_generator_func"], BooleanCondition)
    assert int_generator(app, count=1, name="g1").fixed_kwargs["count"] == 1


@pytest.mark.parametrize("explicit", [False, True])
def test_a_class_becomes_a_factory_of_operator_factories(app, explicit):
    class TensorGenerator:
        def __init__(self, start_index=5):
            self.counter = start_index - 1

        def __call__(self, image, *, msg="hello"):
            self.counter += 1
            return self.counter

    decorated = (
        create_op(inputs="image", outputs="out")(TensorGenerator) if explicit else create_op(TensorGenerator)
    )
    assert decorated.__name__ == "TensorGenerator"
    op = decorated(start_index=10)(app, name="class_op")
    assert isinstance(op, Operator)
    assert list(op.spec.inputs) == ["image"]
    assert list(op.spec.outputs) == (["out"] if explicit else [""])
    assert op.class_obj.counter == 9 and type(op.class_obj) is TensorGenerator
    assert op.name == "class_op" and op.__name__ == "TensorGeneratorOp"
    assert op.dynamic_kwargs == {"image": None} and op.fixed_kwargs == {"msg": "hello"}
    # Each call builds its own instance; an unnamed operator takes the class's name.
    other = decorated(start_index=1)(app)
    assert other.class_obj is not op.class_obj and other.class_obj.counter == 0
    assert other.name == "TensorGenerator"


def test_a_class_named_op_keeps_its_name_and_a_class_must_be_callable():
    @create_op
    class ScaleOp:
        def __call__(self, x):
            return x

    assert type(ScaleOp()(Application([]))).__name__ == "ScaleOp"

    class NotCallable:
        pass

    with pytest.raises(TypeError, match="has no __call__ method"):
        create_op(NotCallable)


def test_bare_decoration_infers_ports_from_the_signature_and_returns(app):
    @create_op
    def sink(y, z):
        print(y, z)

    @create_op
    def forward(x, scale=2):
        return x

    op = sink(app)
    assert list(op.spec.inputs) == ["y", "z"] and op.spec.outputs == {}
    op = forward(app)
    assert list(op.spec.inputs) == ["x", "scale"] and list(op.spec.outputs) == [""]
    # A defaulted parameter fed by a port is not also fixed to its default.
    assert op.dynamic_kwargs == {"x": None, "scale": None} and op.fixed_kwargs == {}


def test_create_op_rejects_what_is_not_a_port_or_a_callable():
    with pytest.raises(TypeError, match="inputs takes port names and Input objects"):
        create_op(inputs=(Output("x"),))
    with pytest.raises(TypeError, match="outputs takes a port name, an Output or a sequence"):
        create_op(outputs=3)
    with pytest.raises(TypeError, match="decorates a function or a class"):
        create_op()(42)

    async def coroutine():
        return 1

    with pytest.raises(TypeError, match="coroutine is a coroutine function"):
        create_op(coroutine)


def test_returns_value_reads_the_functions_own_returns():
    def plain():
        print("x")

    def explicit_none():
        return None

    def only_nested():
        def inner():
            return 1

        class Inner:
            def method(self):
                return 2

        return

    def branch(x):
        if x:
            return x

    assert not returns_value(plain) and returns_value(explicit_none)
    assert not returns_value(only_nested) and returns_value(branch)
    assert returns_value(lambda: None)
    namespace: dict = {}
    exec("def built():\n    pass\n", namespace)  # no source to read: taken to return a value
    assert returns_value(namespace["built"])


def test_operators_work_inside_a_subgraph(app):
    @create_op(outputs=["out_ping"])
    def ping() -> str:
        return "ping"

    class Inner(Subgraph):
        def compose(self):
            tx = ping(self, CountCondition(self, count=3), name="tx")
            self.add_output_interface_port("data_out", tx, "out_ping")

    @create_op(op_param="self", inputs="msg")
    def record(self, msg):
        self.seen = [*getattr(self, "seen", []), msg]

    inner = Inner(app, "inner")
    rx = record(app, name="rx")
    app.add_flow(inner, rx, {("data_out", "msg")})
    app.run()
    assert rx.seen == ["ping"] * 3
    assert isinstance(app, Fragment)
