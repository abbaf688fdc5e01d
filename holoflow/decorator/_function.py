"""What ``create_op`` reads from the wrapped function: its parameters, and whether it returns a
value or yields."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["FunctionShape", "returns_value"]

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True)
class FunctionShape:
    """The parameters of a function (a bound method's ``self`` already left out).

    Attributes
    ----------
    positional : tuple of str
        Parameters that may be passed by position, in order.
    positional_only : tuple of str
        Those of them that may only be passed by position.
    keyword_only : tuple of str
        Parameters after ``*`` or ``*args``.
    defaults : dict
        The default of each parameter that has one.
    var_keyword : bool
        Whether the function takes ``**kwargs``.
    is_generator : bool
        Whether calling the function returns a generator.
    """

    positional: tuple[str, ...]
    positional_only: tuple[str, ...]
    keyword_only: tuple[str, ...]
    defaults: dict[str, Any]
    var_keyword: bool
    is_generator: bool

    @classmethod
    def of(cls, func: Callable[..., Any]) -> FunctionShape:
        """The shape of ``func``."""
        params = inspect.signature(func).parameters.values()
        target = getattr(func, "__func__", func)
        return cls(
            positional=tuple(p.name for p in params if p.kind in _POSITIONAL),
            positional_only=tuple(p.name for p in params if p.kind is inspect.Parameter.POSITIONAL_ONLY),
            keyword_only=tuple(p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY),
            defaults={p.name: p.default for p in params if p.default is not inspect.Parameter.empty},
            var_keyword=any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params),
            is_generator=inspect.isgeneratorfunction(target),
        )

    def accepts(self, name: str) -> bool:
        """Whether ``name`` can be passed by keyword (or, positional-only, by position)."""
        return self.var_keyword or name in self.positional or name in self.keyword_only

    @property
    def required(self) -> tuple[str, ...]:
        """The parameters without a default, in order."""
        return tuple(n for n in (*self.positional, *self.keyword_only) if n not in self.defaults)


class _ReturnFinder(ast.NodeVisitor):
    """Finds a ``return <value>`` in a function body, not looking into nested definitions."""

    def __init__(self) -> None:
        self.found = False

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is not None:
            self.found = True

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        pass

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        pass

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        pass

    def visit_Lambda(self, node: ast.Lambda) -> None:
        pass


def returns_value(func: Callable[..., Any]) -> bool:
    """Whether ``func``'s body has a ``return`` with a value (``return None`` counts), read from
    its source. A lambda returns a value; a function whose source cannot be read is taken to
    return one."""
    target = getattr(func, "__func__", func)
    if getattr(target, "__name__", "") == "<lambda>":
        return True
    try:
        source = textwrap.dedent(inspect.getsource(target))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return True
    definition = next(
        (
            node
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == target.__name__
        ),
        None,
    )
    if definition is None:
        return True
    finder = _ReturnFinder()
    for statement in definition.body:
        finder.visit(statement)
    return finder.found
