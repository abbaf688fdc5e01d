"""``create_op``: operators from plain functions and callable classes."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from holoflow.core import Fragment, Operator, Subgraph
from holoflow.decorator._function import FunctionShape, returns_value
from holoflow.decorator._function_op import FunctionOp, Recipe
from holoflow.decorator._ports import Input, Output
from holoflow.errors import GraphError

__all__ = ["create_op"]

_Port = TypeVar("_Port", Input, Output)
OpFactory = Callable[..., Operator]


def create_op(
    function_or_class: type | Callable[..., Any] | None = None,
    inputs: str | Input | Sequence[str | Input] = (),
    outputs: str | Output | Sequence[str | Output] = (),
    cast_tensors: bool = True,
    op_param: str | None = None,
) -> Any:
    """Make operators from a function, or from a class whose instances are callable.

    Used as ``@create_op`` or ``@create_op(inputs=..., outputs=...)``. The decorated function
    becomes a factory: ``f(fragment, *args, name=..., **kwargs)`` returns an operator (named
    ``name``, else the function's name) whose ``compute`` receives each input port into the
    function's arguments, calls it, and emits what it returns. Of the factory's other arguments,
    conditions and resources attach to the operator; the rest are the function's arguments not
    fed by a port (positional ones in order), fixed for every call; parameters left out take
    their defaults. An argument the function does not have is a ``TypeError``, a required one
    left without a value a ``GraphError``, both when the operator is built. A generator
    function emits one yielded value per compute and stops the operator when exhausted. A
    decorated class becomes a factory of factories: ``C(*init_args)(fragment, ...)`` builds one
    instance and an operator calling its ``__call__``.

    Parameters
    ----------
    function_or_class : callable or class, optional
        Given when used as ``@create_op`` with no parentheses (or called directly): then, unless
        ``inputs`` / ``outputs`` are given, every positional parameter becomes an input port of
        its name, and the operator gets one output port named ``""`` if the function has a
        ``return`` with a value.
    inputs : str, Input, or a sequence of them
        A str is an input port feeding the argument of the same name.
    outputs : str, Output, or a sequence of them
        A str is an output port emitting the return value; several ports take a returned tuple
        one element each; an ``Output`` with ``tensor_names`` emits part of a returned dict.
    cast_tensors : bool
        Whether received tensors reach the function as numpy arrays (host) or CuPy arrays
        (CUDA) rather than holoflow ``Tensor`` objects. CuPy is imported only for a CUDA tensor.
    op_param : str, optional
        A parameter of the function that receives the operator itself (for ``self.name``,
        ``self.metadata``, attributes kept between calls).

    Returns
    -------
    The factory (used without parentheses), or a decorator returning one.

    Raises
    ------
    TypeError
        If ``inputs`` / ``outputs`` hold something other than port names and ``Input`` /
        ``Output`` objects, ``op_param`` is not a str, or the decorated object is not callable
        (a class: has no ``__call__``) or is a coroutine function.
    holoflow.errors.GraphError
        From a factory, when no fragment is given (first positional argument or ``fragment=``).
    """
    input_ports = _ports(inputs, Input, "inputs")
    output_ports = _ports(outputs, Output, "outputs")
    if op_param is not None and not isinstance(op_param, str):
        raise TypeError(f"create_op: op_param must be a str or None, not {type(op_param).__name__}")
    infer = function_or_class is not None

    def decorate(target: Any) -> Any:
        if inspect.isclass(target):
            return _class_factory(target, input_ports, output_ports, cast_tensors, op_param, infer)
        if callable(target):
            recipe = _recipe(
                target, None, target.__name__, input_ports, output_ports, cast_tensors, op_param, infer
            )
            return _factory(recipe, _camel_case(target.__name__) + "Op", target)
        raise TypeError(f"create_op decorates a function or a class, not {target!r}")

    return decorate if function_or_class is None else decorate(function_or_class)


def _ports(value: Any, kind: type[_Port], argument: str) -> tuple[_Port, ...]:
    """``inputs`` / ``outputs`` as a tuple of ``Input`` / ``Output`` objects."""
    items = (value,) if isinstance(value, (str, kind)) else value
    if not isinstance(items, Sequence):
        raise TypeError(
            f"create_op: {argument} takes a port name, an {kind.__name__} or a sequence of them, "
            f"not {value!r}"
        )
    ports = []
    for item in items:
        if isinstance(item, str):
            ports.append(Input(item, arg_map=item) if kind is Input else Output(item))
        elif isinstance(item, kind):
            ports.append(item)
        else:
            raise TypeError(
                f"create_op: {argument} takes port names and {kind.__name__} objects, not {item!r}"
            )
    return tuple(ports)  # type: ignore[arg-type]


def _recipe(
    func: Callable[..., Any],
    class_obj: Any,
    default_name: str,
    inputs: tuple[Input, ...],
    outputs: tuple[Output, ...],
    cast_tensors: bool,
    op_param: str | None,
    infer: bool,
) -> Recipe:
    target = getattr(func, "__func__", func)
    if inspect.iscoroutinefunction(target) or inspect.isasyncgenfunction(target):
        raise TypeError(f"create_op: {default_name} is a coroutine function; operators call plain functions")
    shape = FunctionShape.of(func)
    if infer and not inputs:
        inputs = tuple(Input(name, arg_map=name) for name in shape.positional if name != op_param)
    if infer and not outputs and returns_value(func):
        outputs = (Output(""),)
    return Recipe(func, shape, inputs, outputs, bool(cast_tensors), op_param, class_obj, default_name)


def _factory(recipe: Recipe, class_name: str, source: Any) -> OpFactory:
    """The function that builds operators from ``recipe``: ``factory(fragment, *args, **kwargs)``."""
    namespace = {
        "_holoflow_recipe": recipe,
        "__module__": getattr(source, "__module__", __name__),
        "__qualname__": class_name,
        "__doc__": inspect.getdoc(source) or FunctionOp.__doc__,
    }
    op_class = type(class_name, (FunctionOp,), namespace)

    def factory(*args: Any, **kwargs: Any) -> Operator:
        if "fragment" in kwargs:
            fragment = kwargs.pop("fragment")
        elif args and isinstance(args[0], (Fragment, Subgraph)):
            fragment, args = args[0], args[1:]
        else:
            raise GraphError(
                f"{class_name}: fragment must be provided via kwarg or as the first positional argument "
                "(the Application, Fragment or Subgraph the operator belongs to)"
            )
        op: Operator = op_class(fragment, *args, **kwargs)
        return op

    _describe(factory, source)
    return factory


def _class_factory(
    cls: type,
    inputs: tuple[Input, ...],
    outputs: tuple[Output, ...],
    cast_tensors: bool,
    op_param: str | None,
    infer: bool,
) -> Callable[..., OpFactory]:
    """``cls(*args, **kwargs)`` builds an instance and returns the operator factory calling it."""
    if not any("__call__" in vars(base) for base in cls.__mro__ if base is not object):
        raise TypeError(
            f"create_op: class {cls.__qualname__} has no __call__ method to run as the operator's compute"
        )
    class_name = cls.__name__ if cls.__name__.endswith("Op") else cls.__name__ + "Op"

    def instantiate(*args: Any, **kwargs: Any) -> OpFactory:
        instance = cls(*args, **kwargs)
        recipe = _recipe(
            instance.__call__, instance, cls.__name__, inputs, outputs, cast_tensors, op_param, infer
        )
        return _factory(recipe, class_name, cls)

    _describe(instantiate, cls)
    return instantiate


def _describe(wrapper: Callable[..., Any], source: Any) -> None:
    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        value = getattr(source, attribute, None)
        if value is not None:
            setattr(wrapper, attribute, value)


def _camel_case(name: str) -> str:
    """``"my_func"`` -> ``"MyFunc"`` (each ``_``-separated part capitalized)."""
    return "".join(part.capitalize() for part in name.split("_"))
