"""Named arguments for components: ``Arg`` and ``ArgList`` (what ``from_config`` returns), and
Holoscan's helpers that convert between them and Python values.

holoflow stores an argument's value as the Python object given (Holoscan converts it to a C++
type); the helpers therefore only wrap and unwrap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import yaml

from holoflow.core._arg_type import ArgType, arg_type_of

__all__ = ["Arg", "ArgList", "arg_to_py_object", "arglist_to_kwargs", "kwargs_to_arglist", "py_object_to_arg"]

_MISSING: Any = object()


class Arg:
    """One named argument destined for a component parameter.

    Parameters
    ----------
    name : str
        Parameter name the value is applied to.
    value : object, optional
        The value; an ``Arg`` created without one has ``has_value == False``.
    """

    __slots__ = ("_value", "name")

    def __init__(self, name: str, value: Any = _MISSING) -> None:
        if not isinstance(name, str):
            raise TypeError(f"Arg name must be a str, not {type(name).__name__}")
        self.name = name
        self._value = value

    @property
    def has_value(self) -> bool:
        """Whether a value was given."""
        return self._value is not _MISSING

    @property
    def value(self) -> Any:
        """The argument's value; raises ``ValueError`` when it has none."""
        if self._value is _MISSING:
            raise ValueError(f"Arg '{self.name}' has no value")
        return self._value

    @property
    def arg_type(self) -> ArgType:
        """What the value is, in Holoscan's terms (``CustomType`` when there is none)."""
        return arg_type_of(self._value) if self.has_value else ArgType()

    @property
    def description(self) -> str:
        """A YAML description: name, type and, when set, value."""
        lines = [f"name: {self.name}", f"type: {self.arg_type.to_string}"]
        if self.has_value:
            lines.append(_yaml_field("value", self._value))
        return "\n".join(lines)

    def __int__(self) -> int:
        return int(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __bool__(self) -> bool:
        return bool(self.value)

    def __str__(self) -> str:
        return str(self.value)

    def __repr__(self) -> str:
        shown = repr(self._value) if self.has_value else "<no value>"
        return f"Arg({self.name!r}, {shown})"


class ArgList:
    """An ordered list of :class:`Arg`; later entries win when names repeat."""

    __slots__ = ("_args", "name")

    def __init__(self, args: Iterable[Arg] = (), name: str = "") -> None:
        self.name = name
        self._args: list[Arg] = []
        for arg in args:
            self.add(arg)

    def add(self, arg: Arg | ArgList) -> None:
        """Append an ``Arg`` or every ``Arg`` of another ``ArgList``."""
        if isinstance(arg, ArgList):
            self._args.extend(arg.args)
        elif isinstance(arg, Arg):
            self._args.append(arg)
        else:
            raise TypeError(f"ArgList.add takes an Arg or ArgList, not {type(arg).__name__}")

    def clear(self) -> None:
        """Remove every argument."""
        self._args.clear()

    @property
    def args(self) -> list[Arg]:
        """The arguments, in insertion order."""
        return list(self._args)

    @property
    def size(self) -> int:
        """Number of arguments."""
        return len(self._args)

    @property
    def description(self) -> str:
        """A YAML description: the list's name and each argument's description."""
        lines = [f"name: {self.name or 'arglist'}", "args:"]
        if not self._args:
            lines.append("  []")
        for arg in self._args:
            entry = arg.description.splitlines()
            lines.append(f"  - {entry[0]}")
            lines.extend(f"    {line}" for line in entry[1:])
        return "\n".join(lines)

    def __len__(self) -> int:
        return len(self._args)

    def __iter__(self) -> Iterator[Arg]:
        return iter(self._args)

    def __repr__(self) -> str:
        return f"ArgList({self._args!r})"


def _yaml_field(key: str, value: Any) -> str:
    """``key: value`` in YAML flow style, or the value's ``repr`` when YAML cannot write it."""
    try:
        text = yaml.safe_dump({key: value}, default_flow_style=True, width=1 << 16).strip()
    except yaml.YAMLError:
        return f"{key}: {value!r}"
    return text[1:-1] if text.startswith("{") and text.endswith("}") else text


def py_object_to_arg(obj: Any, name: str = "") -> Arg:
    """An :class:`Arg` called ``name`` holding ``obj`` as it is."""
    return Arg(name, obj)


def arg_to_py_object(arg: Arg) -> Any:
    """The value of ``arg`` (``None`` when it has none)."""
    return arg.value if arg.has_value else None


def kwargs_to_arglist(**kwargs: Any) -> ArgList:
    """An :class:`ArgList` with one :class:`Arg` per keyword, in the order given."""
    return ArgList(Arg(name, value) for name, value in kwargs.items())


def arglist_to_kwargs(arglist: ArgList) -> dict[str, Any]:
    """The arguments of ``arglist`` as a dict of name to value (a later name wins)."""
    if not isinstance(arglist, ArgList):
        raise TypeError(f"arglist_to_kwargs takes an ArgList, not {type(arglist).__name__}")
    return {arg.name: arg_to_py_object(arg) for arg in arglist}
