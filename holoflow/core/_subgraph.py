"""``Subgraph``: a reusable group of operators, composed into a fragment under qualified names.

A subgraph owns no graph of its own. Its constructor calls :meth:`Subgraph.compose`, which adds
operators and flows straight to the fragment's graph. Every operator, condition, resource or
nested subgraph created with the subgraph as first argument is named ``<subgraph>_<name>``;
names chain through nesting (``outer_inner_op``). The subgraph exposes chosen inner ports under
names of its own (interface ports), so ``fragment.add_flow`` can connect the subgraph as a whole.

Registration: a subgraph belongs to the fragment, or to the parent subgraph, it was created
with, from the moment it is constructed. ``Fragment.subgraphs`` lists the top-level ones and
``Subgraph.nested_subgraphs`` the children; qualified names are unique within a fragment.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from holoflow.core._config import Config
from holoflow.core._interface_port import InterfacePort, InterfacePortMapping, InterfacePortType
from holoflow.core._operator import Operator
from holoflow.core._spec import IOSpec
from holoflow.errors import ConfigError, GraphError

if TYPE_CHECKING:
    from holoflow.core._arg import Arg, ArgList
    from holoflow.core._fragment import Fragment

__all__ = ["Subgraph"]

_DATA = InterfacePortType.DATA
_EXECUTION = InterfacePortType.EXECUTION


class Subgraph:
    """A reusable piece of a graph; subclass it and build the piece in :meth:`compose`.

    ``Subgraph(fragment, name)`` composes at once, so a subclass must set what ``compose`` needs
    before calling ``super().__init__``.

    Parameters
    ----------
    fragment : Fragment or Subgraph
        The fragment (application) the subgraph belongs to, or the subgraph it is nested in.
    name : str
        Its name; nested in a subgraph it becomes ``<parent>_<name>``.
    config : str or os.PathLike, optional
        A YAML file read by the subgraph's :meth:`kwargs` and :meth:`from_config`.

    Raises
    ------
    TypeError
        If ``fragment`` is neither a Fragment nor a Subgraph.
    ValueError
        If no name (or an empty one) is given.
    holoflow.errors.GraphError
        If another subgraph of the fragment already has the (qualified) name, or the name is
        its parent's.
    """

    def __init__(
        self,
        fragment: Fragment | Subgraph,
        name: str | None = None,
        *,
        instance_name: str | None = None,
        config: str | os.PathLike[str] | None = None,
    ) -> None:
        from holoflow.core._fragment import Fragment

        if not isinstance(fragment, (Fragment, Subgraph)):
            raise TypeError(
                f"{type(self).__name__}() takes the Fragment (or Application) or the Subgraph it "
                f"belongs to as its first argument, not {type(fragment).__name__}"
            )
        name = _pick_name(name, instance_name)
        parent: Subgraph | None = None
        if isinstance(fragment, Subgraph):
            parent, fragment = fragment, fragment.fragment
            name = parent._qualify(name, "subgraph")
        self._parent = parent
        self._fragment: Fragment = fragment
        self._name = name
        self._data_ports: dict[str, InterfacePort] = {}
        self._exec_ports: dict[str, InterfacePort] = {}
        self._nested: list[Subgraph] = []
        self._composed = False
        self._config = Config(config) if config is not None else None
        self._fragment._register_subgraph(self)
        if parent is not None:
            parent._nested.append(self)
        self.compose()
        self._composed = True

    # -- overridable ------------------------------------------------------------------------------
    def compose(self) -> None:
        """Create the operators with ``self`` as first argument, connect them, expose ports."""

    # -- identity -----------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The qualified name, the prefix of everything created inside the subgraph."""
        return self._name

    @property
    def instance_name(self) -> str:
        """Deprecated spelling of :attr:`name`."""
        warnings.warn(
            "Subgraph.instance_name is deprecated; use Subgraph.name", DeprecationWarning, stacklevel=2
        )
        return self._name

    @property
    def fragment(self) -> Fragment:
        """The fragment whose graph holds the subgraph's operators."""
        return self._fragment

    @property
    def nested_subgraphs(self) -> list[Subgraph]:
        """The subgraphs created directly inside this one, in creation order."""
        return list(self._nested)

    def is_composed(self) -> bool:
        """Whether :meth:`compose` has run."""
        return self._composed

    def set_composed(self, composed: bool) -> None:
        """Mark the subgraph composed (or not)."""
        self._composed = bool(composed)

    def operators(self) -> list[Operator]:
        """Operators of the fragment's graph named with this subgraph's prefix (nested included)."""
        prefix = f"{self._name}_"
        return [op for op in self._fragment.graph.get_nodes() if op.name.startswith(prefix)]

    # -- building -------------------------------------------------------------------------------
    def add_operator(self, op: Operator) -> None:
        """Add ``op`` to the fragment's graph under its qualified name.

        An operator created with the subgraph as first argument already has that name. One created
        with the fragment gets the prefix here, unless it already is in the graph (it then belongs
        to the enclosing graph and keeps its name).

        Raises
        ------
        GraphError
            If ``op`` belongs to another fragment or its qualified name is taken.
        """
        if not isinstance(op, Operator):
            raise TypeError(
                f"subgraph '{self._name}': add_operator takes an Operator, not {type(op).__name__}"
            )
        self._adopt(op)
        self._fragment.add_operator(op)

    def add_flow(
        self,
        upstream: Operator | Subgraph,
        downstream: Operator | Subgraph,
        port_pairs: Iterable[tuple[str, str]] | IOSpec.ConnectorType | None = None,
        connector_type: IOSpec.ConnectorType | None = None,
    ) -> None:
        """Connect operators or subgraphs inside this subgraph (see ``Fragment.add_flow``).

        Operator ends get their qualified names first, as :meth:`add_operator` gives them.
        """
        for end in (upstream, downstream):
            if isinstance(end, Operator):
                self._adopt(end)
        self._fragment.add_flow(upstream, downstream, port_pairs, connector_type)

    def add_subgraph(self, subgraph: Subgraph) -> Subgraph:
        """Confirm that ``subgraph`` is nested in this one (it is from its construction); return it.

        Raises
        ------
        GraphError
            If it was not created with this subgraph as its parent.
        """
        if not isinstance(subgraph, Subgraph):
            raise TypeError(
                f"subgraph '{self._name}': add_subgraph takes a Subgraph, not {type(subgraph).__name__}"
            )
        if subgraph._parent is not self:
            raise GraphError(
                f"subgraph '{subgraph.name}' was not created inside subgraph '{self._name}'; "
                f"create it with this subgraph as its first argument, in compose()"
            )
        return subgraph

    def set_dynamic_flows(self, op: Operator, dynamic_flow_func: Callable[[Operator], Any]) -> None:
        """``Fragment.set_dynamic_flows`` of the subgraph's fragment."""
        self._fragment.set_dynamic_flows(op, dynamic_flow_func)

    def register_service(self, service: Any, service_id: str = "") -> None:
        """Register a service with the subgraph's fragment (``Fragment.register_service``)."""
        self.fragment.register_service(service, service_id)

    # -- data interface ports -----------------------------------------------------------------------
    def add_interface_port(
        self,
        external_name: str,
        internal: Operator | Subgraph,
        internal_port: str | None = None,
        is_input: bool | None = None,
    ) -> None:
        """Expose a port of an inner operator, or an interface port of a nested subgraph.

        ``internal_port`` defaults to ``external_name``. With ``is_input`` left out the direction
        is read from the port. Adding an input name again adds another mapping: a message sent
        to it reaches every mapped port.

        Raises
        ------
        GraphError
            If the port does not exist (the message lists those that do), its direction is
            ambiguous or wrong, or the name is taken by an output or an execution port.
        """
        port_name = external_name if internal_port is None else internal_port
        where = f"subgraph '{self._name}': interface port '{external_name}'"
        if isinstance(internal, Subgraph):
            found = internal._find(port_name, _DATA)
            if found is None:
                raise GraphError(f"{where}: {internal._missing(port_name, _DATA)}")
            if is_input is not None and found.is_input != is_input:
                raise GraphError(
                    f"{where}: '{port_name}' of subgraph '{internal.name}' is an "
                    f"{_direction(found.is_input)} port, not an {_direction(is_input)} port"
                )
            self._add_data_port(external_name, found.mappings, found.is_input)
        elif isinstance(internal, Operator):
            self.add_operator(internal)
            direction = _operator_port_direction(where, internal, port_name, is_input)
            self._add_data_port(external_name, [InterfacePortMapping(internal, port_name)], direction)
        else:
            raise TypeError(
                f"{where}: expose a port of an Operator or Subgraph, not {type(internal).__name__}"
            )

    def add_input_interface_port(
        self, external_name: str, internal: Operator | Subgraph, internal_port: str | None = None
    ) -> None:
        """:meth:`add_interface_port` for an input."""
        self.add_interface_port(external_name, internal, internal_port, is_input=True)

    def add_output_interface_port(
        self, external_name: str, internal: Operator | Subgraph, internal_port: str | None = None
    ) -> None:
        """:meth:`add_interface_port` for an output."""
        self.add_interface_port(external_name, internal, internal_port, is_input=False)

    # -- execution interface ports --------------------------------------------------------------------
    def add_input_exec_interface_port(
        self, external_name: str, internal: Operator | Subgraph, internal_interface_port: str | None = None
    ) -> None:
        """Expose an inner operator's execution input (control flow into the subgraph starts it),
        or a nested subgraph's input execution port ``internal_interface_port`` (default: the
        same name).

        Raises
        ------
        GraphError
            If the name is taken, or the nested port is missing or not an execution input.
        """
        self._add_exec_port(external_name, internal, internal_interface_port, is_input=True)

    def add_output_exec_interface_port(
        self, external_name: str, internal: Operator | Subgraph, internal_interface_port: str | None = None
    ) -> None:
        """Expose an inner operator's execution output (control flow leaves the subgraph when it
        has run), or a nested subgraph's output execution port."""
        self._add_exec_port(external_name, internal, internal_interface_port, is_input=False)

    # -- queries ----------------------------------------------------------------------------------
    def interface_ports(self) -> dict[str, InterfacePort]:
        """The data interface ports, by name."""
        return dict(self._data_ports)

    def exec_interface_ports(self) -> dict[str, InterfacePort]:
        """The execution interface ports, by name."""
        return dict(self._exec_ports)

    def interface_port_names(self) -> list[str]:
        """Names of the data interface ports, in the order added."""
        return list(self._data_ports)

    def get_interface_operator_port(self, port_name: str) -> tuple[Operator | None, str]:
        """``(operator, port)`` of the (first) mapping of data port ``port_name``, looked up here
        and then in nested subgraphs; ``(None, "")`` if there is none."""
        return _first_mapping(self._find(port_name, _DATA))

    def get_exec_interface_operator_port(self, port_name: str) -> tuple[Operator | None, str]:
        """``(operator, exec port)`` of execution port ``port_name``, looked up here and then in
        nested subgraphs; ``(None, "")`` if there is none."""
        return _first_mapping(self._find(port_name, _EXECUTION))

    # -- configuration ----------------------------------------------------------------------------
    def config(self) -> Config | None:
        """The configuration given to the constructor, if any."""
        return self._config

    def config_keys(self) -> set[str]:
        """Every dotted key of the subgraph's configuration (empty without one)."""
        return self._config.keys() if self._config is not None else set()

    def kwargs(self, key: str) -> dict[str, Any]:
        """The mapping at ``key`` of the subgraph's configuration, as keyword arguments.

        Raises
        ------
        ConfigError
            If the subgraph has no configuration, or the key is missing or not a mapping.
        """
        return self._require_config(key).kwargs(key)

    def from_config(self, key: str) -> ArgList | Arg:
        """The subgraph's configuration at ``key`` as an ``ArgList`` (mapping) or ``Arg`` (leaf)."""
        return self._require_config(key).args(key)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._name!r}>"

    # -- internals --------------------------------------------------------------------------------
    def _qualify(self, name: str, kind: str) -> str:
        """``<subgraph>_<name>``, or ``name`` unchanged when it already has the prefix."""
        if name == self._name:
            raise GraphError(f"{kind} '{name}' cannot have the same name as its subgraph '{self._name}'")
        prefix = f"{self._name}_"
        return name if name.startswith(prefix) else prefix + name

    def _adopt(self, op: Operator) -> None:
        self._fragment._check_owned(op)
        if self._fragment.graph.find_node(op.name) is not op:
            op.name = self._qualify(op.name, "operator")

    def _require_config(self, key: str) -> Config:
        if self._config is None:
            raise ConfigError(
                f"subgraph '{self._name}' has no config file; pass config=PATH to its constructor "
                f"before looking up '{key}'"
            )
        return self._config

    def _add_data_port(self, name: str, mappings: list[InterfacePortMapping], is_input: bool) -> None:
        if name in self._exec_ports:
            raise GraphError(f"subgraph '{self._name}' already has an execution interface port '{name}'")
        existing = self._data_ports.get(name)
        if existing is None:
            self._data_ports[name] = InterfacePort(mappings, is_input, _DATA)
        elif existing.is_input and is_input:
            for mapping in mappings:
                existing._add(mapping)
        elif not existing.is_input:
            raise GraphError(
                f"subgraph '{self._name}' already has an output interface port '{name}'; "
                f"an output maps to exactly one inner port"
            )
        else:
            raise GraphError(
                f"subgraph '{self._name}' already has an input interface port '{name}'; "
                f"give the output another name"
            )

    def _add_exec_port(
        self, name: str, internal: Operator | Subgraph, inner_name: str | None, *, is_input: bool
    ) -> None:
        where = f"subgraph '{self._name}': execution interface port '{name}'"
        if name in self._exec_ports or name in self._data_ports:
            kind = "an execution" if name in self._exec_ports else "a data"
            raise GraphError(f"subgraph '{self._name}' already has {kind} interface port '{name}'")
        if isinstance(internal, Subgraph):
            port_name = name if inner_name is None else inner_name
            found = internal._find(port_name, _EXECUTION)
            if found is None:
                raise GraphError(f"{where}: {internal._missing(port_name, _EXECUTION)}")
            if found.is_input != is_input:
                raise GraphError(
                    f"{where}: '{port_name}' of subgraph '{internal.name}' is an "
                    f"{_direction(found.is_input)} port, not an {_direction(is_input)} port"
                )
            mappings = found.mappings
        elif isinstance(internal, Operator):
            if inner_name is not None:
                raise TypeError(
                    f"{where}: internal_interface_port applies to a nested Subgraph, not an Operator"
                )
            self.add_operator(internal)
            exec_port = Operator.INPUT_EXEC_PORT_NAME if is_input else Operator.OUTPUT_EXEC_PORT_NAME
            mappings = [InterfacePortMapping(internal, exec_port)]
        else:
            raise TypeError(f"{where}: expose an Operator or Subgraph, not {type(internal).__name__}")
        self._exec_ports[name] = InterfacePort(mappings, is_input, _EXECUTION)

    def _find(self, name: str, port_type: InterfacePortType) -> InterfacePort | None:
        """Interface port ``name`` of that type: this subgraph's own, else a nested one's."""
        table = self._data_ports if port_type is _DATA else self._exec_ports
        if name in table:
            return table[name]
        for nested in self._nested:
            found = nested._find(name, port_type)
            if found is not None:
                return found
        return None

    def _missing(self, name: str, wanted: InterfacePortType) -> str:
        """Why port ``name`` of kind ``wanted`` cannot be used, listing what exists."""
        other = self._find(name, _EXECUTION if wanted is _DATA else _DATA)
        if other is not None:
            use = "add_*_exec_interface_port" if other.port_type is _EXECUTION else "add_*_interface_port"
            return (
                f"'{name}' of subgraph '{self._name}' is {_kind(other.port_type)} interface port, "
                f"not {_kind(wanted)} one (expose it with {use})"
            )
        return (
            f"subgraph '{self._name}' has no interface port '{name}'; "
            f"data ports: {sorted(self._data_ports)}, execution ports: {sorted(self._exec_ports)}"
        )


def _pick_name(name: str | None, instance_name: str | None) -> str:
    if name is not None and instance_name is not None:
        raise ValueError("Subgraph: pass 'name' or the deprecated 'instance_name', not both")
    if instance_name is not None:
        warnings.warn(
            "Subgraph(instance_name=...) is deprecated; use name=...", DeprecationWarning, stacklevel=3
        )
        name = instance_name
    if name is None:
        raise ValueError("Subgraph: a name is required, as in Subgraph(fragment, 'camera')")
    if not isinstance(name, str):
        raise TypeError(f"Subgraph: name must be a str, not {type(name).__name__}")
    if not name:
        raise ValueError("Subgraph: name cannot be empty")
    return name


def _kind(port_type: InterfacePortType) -> str:
    return "a data" if port_type is _DATA else "an execution"


def _direction(is_input: bool) -> str:
    return "input" if is_input else "output"


def _operator_port_direction(where: str, op: Operator, port: str, is_input: bool | None) -> bool:
    inputs, outputs = op.spec.inputs, op.spec.outputs
    if is_input is None:
        if port in inputs and port in outputs:
            raise GraphError(
                f"{where}: operator '{op.name}' has both an input and an output named '{port}'; "
                f"use add_input_interface_port or add_output_interface_port"
            )
        if port in inputs or port in outputs:
            return port in inputs
        raise GraphError(
            f"{where}: operator '{op.name}' has no port '{port}'; "
            f"inputs: {sorted(inputs)}, outputs: {sorted(outputs)}"
        )
    ports = inputs if is_input else outputs
    if port not in ports:
        kind = _direction(is_input)
        raise GraphError(
            f"{where}: operator '{op.name}' has no {kind} port '{port}'; declared {kind}s: {sorted(ports)}"
        )
    return is_input


def _first_mapping(port: InterfacePort | None) -> tuple[Operator | None, str]:
    if port is None or not port.mappings:
        return None, ""
    first = port.mappings[0]
    return first.internal_operator, first.internal_port_name
