"""``FunctionOp``: the operator class behind every operator that ``create_op`` makes."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from holoflow.conditions import BooleanCondition
from holoflow.core import Condition, Operator, OperatorSpec, Resource
from holoflow.decorator._function import FunctionShape
from holoflow.decorator._ports import Input, Output, input_arguments
from holoflow.decorator._values import as_array, emit_result, pick_tensor, tensor_named
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core import ExecutionContext, Fragment, InputContext, OutputContext, Subgraph

__all__ = ["FunctionOp", "Recipe"]


@dataclass(frozen=True)
class Recipe:
    """What ``create_op`` fixed for one decorated function (or callable-class instance)."""

    func: Callable[..., Any]
    shape: FunctionShape
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    cast_tensors: bool
    op_param: str | None
    class_obj: Any
    """The instance whose ``__call__`` is ``func``, or ``None`` for a plain function."""
    default_name: str


class _NoSuchArgumentError(GraphError, KeyError):
    """An ``Input`` maps to an argument the function does not have (a ``KeyError``, as in
    Holoscan, and a ``GraphError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FunctionOp(Operator):
    """An operator whose ``compute`` receives its input ports into the function's arguments,
    calls the function and emits what it returns (see ``create_op``).

    Constructed as ``op_factory(fragment, *args, name=..., **kwargs)``: positional conditions and
    resources attach to the operator; other positional arguments fill the function's positional
    parameters that no input port fills, in order; keyword arguments are the function's (a
    keyword condition or resource whose name is not one of the function's parameters attaches
    to the operator instead). Parameters left out take their defaults.

    Attributes (as Holoscan's decorator has them): ``func``, ``class_obj`` (for a class),
    ``input_objs``, ``output_objs``, ``input_mappings`` (port to ``arg_map``),
    ``output_tensor_map`` (port to tensor names), ``fixed_kwargs`` (arguments given at
    construction, defaults and ``op_param``), ``dynamic_kwargs`` (arguments filled from the
    ports on each compute), ``cast_tensors``, ``op_param``, ``is_generator``, ``gen_obj``.

    Raises
    ------
    TypeError
        If an argument names no parameter of the function, or too many positional arguments are
        given, or one is given twice.
    holoflow.errors.GraphError
        If a required parameter is left without a value, an ``Input`` maps to a parameter the
        function does not have (also a ``KeyError``) or that is mapped already, or an
        ``arg_map`` is not a str, dict or empty.
    """

    _holoflow_recipe: ClassVar[Recipe]

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        recipe = self._holoflow_recipe
        name = kwargs.pop("name", recipe.default_name)
        label = f"operator '{name}'"
        self.__name__ = type(self).__name__
        self.func = recipe.func
        if recipe.class_obj is not None:
            self.class_obj = recipe.class_obj
        self.input_objs = recipe.inputs
        self.output_objs = recipe.outputs
        self.cast_tensors = recipe.cast_tensors
        self.op_param = recipe.op_param
        self.is_generator = recipe.shape.is_generator
        self.gen_obj: Generator[Any, None, None] | None = None
        self._holoflow_generator_switch: BooleanCondition | None = None

        attached = [a for a in args if isinstance(a, (Condition, Resource))]
        given = [a for a in args if not isinstance(a, (Condition, Resource))]
        attached_by_name = {
            key: kwargs.pop(key)
            for key in [k for k, v in kwargs.items() if isinstance(v, (Condition, Resource))]
            if not recipe.shape.accepts(key)
        }
        self.input_mappings = {port.name: port.arg_map for port in recipe.inputs}
        self.dynamic_kwargs: dict[str, Any] = _port_arguments(recipe, kwargs, label)
        self.fixed_kwargs: dict[str, Any] = _fixed_arguments(
            recipe, given, kwargs, self.dynamic_kwargs, label
        )
        if recipe.op_param is not None:
            self.fixed_kwargs[recipe.op_param] = self
        self.output_tensor_map = {port.name: port.names() for port in recipe.outputs}
        super().__init__(fragment, *attached, name=name, **attached_by_name)
        if self.is_generator:
            self._holoflow_generator_switch = BooleanCondition(self.fragment, name="_generator_func")
            self.add_arg(self._holoflow_generator_switch)

    def setup(self, spec: OperatorSpec) -> None:
        for port in self.input_objs:
            port.create_input(spec)
        for output in self.output_objs:
            output.create_output(spec)

    def compute(self, op_input: InputContext, op_output: OutputContext, context: ExecutionContext) -> None:
        label = f"operator '{self.name}'"
        values = self.dynamic_kwargs
        cast = self.cast_tensors
        for port, arg_map in self.input_mappings.items():
            message = op_input.receive(port)
            if isinstance(arg_map, str):
                value = pick_tensor(message, arg_map, label)
                values[arg_map] = as_array(value) if cast else value
            elif arg_map:
                for tensor, argument in arg_map.items():
                    value = tensor_named(message, tensor, label)
                    values[argument] = as_array(value) if cast else value
        if self.is_generator:
            if self.gen_obj is None:
                self.gen_obj = self._call()
            try:
                result = next(self.gen_obj)
            except StopIteration:
                # Exhausted: the operator never runs again.
                switch = self._holoflow_generator_switch
                if switch is not None:
                    switch.disable_tick()
                return
        else:
            result = self._call()
        if self.output_tensor_map:
            emit_result(result, self.output_tensor_map, op_output, label)

    def _call(self) -> Any:
        arguments = {**self.fixed_kwargs, **self.dynamic_kwargs}
        positional_only = self._holoflow_recipe.shape.positional_only
        if positional_only:
            return self.func(*[arguments.pop(name) for name in positional_only], **arguments)
        return self.func(**arguments)


def _port_arguments(recipe: Recipe, kwargs: dict[str, Any], label: str) -> dict[str, Any]:
    """The arguments the input ports fill, each ``None`` until a compute receives it."""
    shape = recipe.shape
    filled: dict[str, Any] = {}
    for port in recipe.inputs:
        for argument in input_arguments(port, label):
            if argument in filled:
                raise GraphError(f"{label}: two input ports map to the argument '{argument}'")
            if argument in kwargs:
                raise GraphError(
                    f"{label}: argument '{argument}' comes from input port '{port.name}'; "
                    "it cannot also be given as a keyword"
                )
            if not shape.accepts(argument) or argument == recipe.op_param:
                raise _NoSuchArgumentError(
                    f"{label}: input port '{port.name}' maps to '{argument}', but "
                    f"Provided func does not have an arg or kwarg named '{argument}' "
                    f"(positional args: {list(shape.positional)}, "
                    f"keyword-only args: {list(shape.keyword_only)})"
                )
            filled[argument] = None
    return filled


def _fixed_arguments(
    recipe: Recipe, given: list[Any], kwargs: dict[str, Any], from_ports: dict[str, Any], label: str
) -> dict[str, Any]:
    """The arguments fixed at construction: positional and keyword values, then defaults."""
    shape = recipe.shape
    function = getattr(recipe.func, "__qualname__", repr(recipe.func))
    free = [n for n in shape.positional if n not in from_ports and n != recipe.op_param]
    if len(given) > len(free):
        raise TypeError(
            f"{label}: {function}() takes {len(free)} positional argument(s) besides the fragment, "
            f"conditions and resources ({free}), but {len(given)} were given"
        )
    fixed: dict[str, Any] = {}
    for parameter, value in zip(free, given, strict=False):
        if parameter in kwargs:
            raise TypeError(f"{label}: {function}() got multiple values for argument '{parameter}'")
        fixed[parameter] = value
    for key, value in kwargs.items():
        if not shape.accepts(key) or key == recipe.op_param:
            raise TypeError(
                f"{label}: {function}() has no argument '{key}' that a keyword can set "
                f"(arguments: {[n for n in (*shape.positional, *shape.keyword_only) if n not in from_ports]})"
            )
        fixed[key] = value
    op_param = recipe.op_param
    if op_param is not None and (not shape.accepts(op_param) or op_param in shape.positional_only):
        raise TypeError(f"{label}: op_param '{op_param}' is not a keyword argument of {function}()")
    for parameter, default in shape.defaults.items():
        if parameter not in fixed and parameter not in from_ports and parameter != op_param:
            fixed[parameter] = default
    for parameter in shape.required:
        if parameter not in fixed and parameter not in from_ports and parameter != op_param:
            raise GraphError(
                f"{label}: required argument, '{parameter}', has not been specified: give it as a "
                "keyword argument or map an input port to it"
            )
    return fixed
