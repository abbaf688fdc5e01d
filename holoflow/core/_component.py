"""The shared base of operators, conditions and resources: a name, a fragment and parameters.

A component declares parameters with ``spec.param(name, default)`` in ``setup(spec)``. Values
come from keyword arguments, from ``Arg``/``ArgList`` positional arguments (what
``fragment.from_config(key)`` returns) and from ``add_arg``; the last value given for a name
wins. Parameters are plain attributes on the component: they are bound when the component is
built and bound again when a run initializes it, so ``add_arg`` after construction also counts.
A default only fills an attribute that is missing or ``None``, so a subclass may set its own
value before calling ``super().__init__``.

A component created with a :class:`~holoflow.core.Subgraph` as first argument belongs to the
subgraph's fragment and is named ``<subgraph>_<name>``.
"""

from __future__ import annotations

import enum
import itertools
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from holoflow import _env
from holoflow._helpers import stacklevel_outside_holoflow
from holoflow.core._arg import Arg, ArgList
from holoflow.core._arg_type import arg_type_of
from holoflow.errors import ConfigError, UnknownParameterWarning

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment
    from holoflow.core._subgraph import Subgraph

__all__ = ["Component", "ComponentSpec", "ParameterFlag", "ParameterSpec"]

_S = TypeVar("_S")
_ids = itertools.count(1)


class ParameterFlag(enum.IntFlag):
    """Flags of a parameter, as in Holoscan."""

    NONE = 0
    OPTIONAL = 1
    DYNAMIC = 2


@dataclass(frozen=True, slots=True)
class ParameterSpec:
    """A declared parameter."""

    name: str
    """Attribute name the value is bound to."""
    default: Any
    """Value used when no argument sets the parameter."""
    flag: ParameterFlag
    """Holoscan parameter flags (informational)."""
    headline: str
    """Short title shown in descriptions."""
    description: str
    """Longer explanation shown in descriptions."""


class ComponentSpec:
    """What a component declares in ``setup(spec)``: its parameters."""

    def __init__(self, fragment: Fragment | None = None, owner_label: str = "component") -> None:
        self.fragment = fragment
        self._owner_label = owner_label
        self._params: dict[str, ParameterSpec] = {}

    def param(
        self,
        name: str,
        default_value: Any = None,
        flag: ParameterFlag = ParameterFlag.NONE,
        *,
        headline: str = "",
        description: str = "",
    ) -> None:
        """Declare a parameter bound to the attribute ``name``.

        Raises
        ------
        ValueError
            If ``name`` is not an identifier or is declared twice.
        """
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"{self._owner_label}: parameter name must be an identifier, got {name!r}")
        if name in self._params:
            raise ValueError(f"{self._owner_label}: parameter '{name}' is declared twice")
        self._params[name] = ParameterSpec(name, default_value, ParameterFlag(flag), headline, description)

    @property
    def params(self) -> dict[str, ParameterSpec]:
        """Declared parameters by name."""
        return dict(self._params)

    @property
    def description(self) -> str:
        """A YAML description of the spec: its fragment and its parameters."""
        return "\n".join(self._description_lines())

    def _description_lines(self) -> list[str]:
        fragment = self.fragment.name if self.fragment is not None else ""
        lines = [f"fragment: {fragment!r}" if fragment else 'fragment: ""', "params:"]
        if not self._params:
            lines.append("  []")
        for param in self._params.values():
            lines.append(f"  - name: {param.name}")
            lines.append(f"    type: {arg_type_of(param.default).to_string}")
            text = repr(param.description) if param.description else '""'
            lines.append(f"    description: {text}")
            lines.append(f"    flag: {param.flag.name or 'NONE'}")
        return lines


class Component:
    """Base of every holoflow component: a name, its fragment, its args and parameters.

    Subclasses override :meth:`setup` to declare parameters, and may override
    :meth:`initialize`, called once per run before anything executes.
    """

    _kind = "component"
    _default_name = "component"

    def __init__(self, fragment: Fragment | Subgraph, *args: Any, **kwargs: Any) -> None:
        from holoflow.core._fragment import Fragment
        from holoflow.core._subgraph import Subgraph

        if not isinstance(fragment, (Fragment, Subgraph)):
            raise TypeError(
                f"{type(self).__name__}() takes a Fragment, Application or Subgraph as its first "
                f"argument, not {type(fragment).__name__}"
            )
        name = kwargs.pop("name", None)
        if name is None:
            name = self._next_default_name()
        if not isinstance(name, str):
            raise TypeError(f"{type(self).__name__}: name must be a str, not {type(name).__name__}")
        if isinstance(fragment, Subgraph):
            name = fragment._qualify(name, self._kind)
            fragment = fragment.fragment
        self._fragment = fragment
        self._name = name
        self._id = next(_ids)
        self._args: list[Arg] = []
        self._spec = self._make_spec()
        for value in args:
            self._take_positional(value)
        for key, value in kwargs.items():
            self._take_keyword(key, value)
        self.setup(self._spec)
        self._check_arg_names(self._args)
        self._bind_params()

    # -- overridable ---------------------------------------------------------------------------
    def setup(self, spec: Any) -> None:
        """Declare parameters (and, for operators, ports) on ``spec``. Default: nothing."""

    def initialize(self) -> None:
        """Called once per run, after parameters are bound. Default: nothing."""

    # -- public --------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The component's name."""
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"name must be a str, not {type(value).__name__}")
        self._name = value

    @property
    def fragment(self) -> Fragment:
        """The fragment (or application) the component belongs to."""
        return self._fragment

    @property
    def id(self) -> int:
        """A number no other component of this process has (Holoscan's is the GXF component id,
        which holoflow does not have)."""
        return self._id

    def service(self, service_type: type[_S], id: str = "") -> _S | None:
        """The fragment service of that type (and id), as ``self.fragment.service(...)``."""
        return self._fragment.service(service_type, id)

    @property
    def spec(self) -> ComponentSpec:
        """The spec filled in by :meth:`setup`."""
        return self._spec

    @property
    def args(self) -> list[Arg]:
        """Arguments given to the component, in the order they apply."""
        return list(self._args)

    def add_arg(self, *args: Arg | ArgList, **kwargs: Any) -> None:
        """Add arguments after construction; they win over earlier ones.

        Raises
        ------
        holoflow.errors.ConfigError
            In strict mode, for an argument that names no declared parameter.

        Warns
        -----
        holoflow.errors.UnknownParameterWarning
            For an argument that names no declared parameter (it is ignored, as in Holoscan).
        """
        added: list[Arg] = []
        for value in args:
            added.extend(self._flatten_arg(value))
        added.extend(Arg(key, value) for key, value in kwargs.items())
        self._check_arg_names(added)
        self._args.extend(added)
        self._bind_params()

    @property
    def description(self) -> str:
        """A YAML-like description of the component and its parameter values."""
        lines = [f"name: {self._name}", f"type: {type(self).__qualname__}"]
        if self._spec.params:
            lines.append("params:")
            lines.extend(
                f"  - name: {name}\n    value: {getattr(self, name, None)!r}" for name in self._spec.params
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r}>"

    # -- internals -----------------------------------------------------------------------------
    @classmethod
    def _next_default_name(cls) -> str:
        return cls._default_name

    def _make_spec(self) -> ComponentSpec:
        return ComponentSpec(self._fragment, self._label())

    def _label(self) -> str:
        return f"{self._kind} '{self._name}'"

    def _take_positional(self, value: Any) -> None:
        self._args.extend(self._flatten_arg(value))

    def _take_keyword(self, key: str, value: Any) -> None:
        self._args.append(Arg(key, value))

    def _flatten_arg(self, value: Any) -> list[Arg]:
        if isinstance(value, ArgList):
            return value.args
        if isinstance(value, Arg):
            return [value]
        raise TypeError(
            f"{self._label()}: unsupported positional argument of type {type(value).__name__}; "
            "pass parameters by keyword or as Arg/ArgList"
        )

    def _check_arg_names(self, args: list[Arg]) -> None:
        # Holoscan ignores an argument naming no parameter, with a warning; a subclass may take
        # its own keywords out of **kwargs after calling the base constructor. Strict mode
        # (Application(strict=True) or HOLOFLOW_STRICT=1) makes it an error.
        params = self._spec.params
        for arg in args:
            if arg.name not in params:
                declared = sorted(params)
                problem = f"{self._label()}: no parameter '{arg.name}' (declared parameters: {declared})"
                if self._strict():
                    raise ConfigError(
                        f"{problem}; strict mode is on (Application(strict=True) or HOLOFLOW_STRICT)"
                    )
                warnings.warn(
                    f"{problem}; the argument is ignored",
                    UnknownParameterWarning,
                    stacklevel=stacklevel_outside_holoflow(),
                )

    def _strict(self) -> bool:
        app = self._fragment.application
        return app.is_strict if app is not None else _env.strict()

    def _bind_params(self) -> None:
        """Set each declared parameter as an attribute: explicit args win, then defaults."""
        explicit = {arg.name: arg.value for arg in self._args if arg.has_value}
        for name, param in self._spec.params.items():
            if name in explicit:
                setattr(self, name, explicit[name])
            elif getattr(self, name, None) is None:
                setattr(self, name, param.default)
