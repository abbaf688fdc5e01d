"""``add_flow`` with a subgraph at either end: interface ports resolved to operator ports.

Each ``(upstream_port, downstream_port)`` pair names an operator port or an interface port of the
subgraph at that end. Interface ports are looked up among data ports, then execution ports, in the
subgraph and then in its nested subgraphs; a data input with several mappings yields one link per
mapping. Without port pairs the ports are chosen as Holoscan chooses them:

1. data: if the upstream end has data outputs and the downstream end data inputs, each side must
   have exactly one;
2. otherwise control flow: the upstream end's execution output (an operator always has one, a
   subgraph has its output execution ports) to the downstream end's execution input (a subgraph's
   input execution ports; an operator's when it has no data inputs or already has an execution
   input), again exactly one on each side.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from holoflow.core._flow import INPUT_EXEC, OUTPUT_EXEC, data_ports
from holoflow.core._interface_port import InterfacePort, InterfacePortType
from holoflow.core._operator import Operator
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._subgraph import Subgraph

__all__ = ["Link", "resolve_links"]

Link = tuple[Operator, str, Operator, str]
"""``(upstream operator, output port, downstream operator, input port)``."""


def resolve_links(
    upstream: Operator | Subgraph, downstream: Operator | Subgraph, port_pairs: Iterable[tuple[str, str]]
) -> list[Link]:
    """The operator-to-operator links ``add_flow(upstream, downstream, port_pairs)`` stands for,
    pairs taken in sorted order (``port_pairs`` empty: chosen automatically).

    Raises
    ------
    GraphError
        If an interface port is unknown or used against its direction, an execution port meets a
        data port, or the automatic choice finds no ports or more than one on a side.
    """
    where = f"add_flow({_label(upstream)}, {_label(downstream)})"
    pairs = sorted(set(port_pairs)) or [_auto_pair(where, upstream, downstream)]
    links: list[Link] = []
    for out_name, in_name in pairs:
        for source, output in _ends(where, upstream, out_name, is_input=False):
            for target, input_ in _ends(where, downstream, in_name, is_input=True):
                if (output == OUTPUT_EXEC) != (input_ == INPUT_EXEC):
                    raise GraphError(
                        f"{where}: ('{out_name}', '{in_name}') joins an execution port to a data "
                        f"port; connect execution ports only to execution ports"
                    )
                links.append((source, output, target, input_))
    return links


def _label(end: Operator | Subgraph) -> str:
    return f"operator '{end.name}'" if isinstance(end, Operator) else f"subgraph '{end.name}'"


def _ends(where: str, end: Operator | Subgraph, name: str, *, is_input: bool) -> list[tuple[Operator, str]]:
    if isinstance(end, Operator):
        return [(end, name)]
    port = end._find(name, InterfacePortType.DATA) or end._find(name, InterfacePortType.EXECUTION)
    if port is None:
        raise GraphError(
            f"{where}: interface port '{name}' not found in subgraph '{end.name}'; "
            f"data ports: {sorted(end.interface_ports())}, "
            f"execution ports: {sorted(end.exec_interface_ports())}"
        )
    if port.is_input != is_input:
        side, kind = ("downstream", "an output") if is_input else ("upstream", "an input")
        raise GraphError(
            f"{where}: '{name}' of subgraph '{end.name}' is {kind} port, so it cannot be the {side} end"
        )
    return [(m.internal_operator, m.internal_port_name) for m in port.mappings]


def _auto_pair(where: str, upstream: Operator | Subgraph, downstream: Operator | Subgraph) -> tuple[str, str]:
    outputs = _data_ports(upstream, is_input=False)
    inputs = _data_ports(downstream, is_input=True)
    if outputs and inputs:
        return _only(where, "upstream", "output", outputs), _only(where, "downstream", "input", inputs)
    exec_outputs = _exec_ports(upstream, is_input=False)
    exec_inputs = _exec_ports(downstream, is_input=True)
    if not (exec_outputs and exec_inputs):
        raise GraphError(
            f"{where}: cannot connect automatically: no data or execution ports to join "
            f"(upstream data outputs: {outputs}, downstream data inputs: {inputs}, "
            f"upstream execution outputs: {exec_outputs}, downstream execution inputs: {exec_inputs})"
        )
    return (
        _only(where, "upstream", "execution output", exec_outputs),
        _only(where, "downstream", "execution input", exec_inputs),
    )


def _only(where: str, side: str, kind: str, names: list[str]) -> str:
    if len(names) > 1:
        raise GraphError(
            f"{where}: cannot connect automatically: the {side} end has more than one {kind} port "
            f"({', '.join(names)}); pass port pairs such as {{('out', 'in')}}"
        )
    return names[0]


def _data_ports(end: Operator | Subgraph, *, is_input: bool) -> list[str]:
    if isinstance(end, Operator):
        ports = end.spec.inputs if is_input else end.spec.outputs
        return sorted(data_ports(ports))
    return _interface_names(end.interface_ports(), is_input)


def _exec_ports(end: Operator | Subgraph, *, is_input: bool) -> list[str]:
    if isinstance(end, Operator):
        if not is_input:
            return [OUTPUT_EXEC]
        has_exec_input = INPUT_EXEC in end.spec.inputs
        return [INPUT_EXEC] if has_exec_input or not _data_ports(end, is_input=True) else []
    return _interface_names(end.exec_interface_ports(), is_input)


def _interface_names(ports: dict[str, InterfacePort], is_input: bool) -> list[str]:
    return sorted(name for name, port in ports.items() if port.is_input == is_input)
