"""Named arguments for components: ``Arg`` and ``ArgList`` (what ``from_config`` returns)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["Arg", "ArgList"]

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

    def __len__(self) -> int:
        return len(self._args)

    def __iter__(self) -> Iterator[Arg]:
        return iter(self._args)

    def __repr__(self) -> str:
        return f"ArgList({self._args!r})"
