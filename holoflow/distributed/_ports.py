"""Resolving ``add_flow(fragment1, fragment2, {("op.port", "op.port")})`` pairs into edges.

Holoscan's rules (``app_driver.cpp`` ``update_port_names``): a name splits at its first dot into
operator and port; a bare ``"op"`` stands for the operator's only output (source) or only input
(target); a target may name an ``ANY_SIZE`` input. The error texts are Holoscan's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from holoflow.core import IOSpec
from holoflow.distributed._edges import EdgeSpec
from holoflow.errors import GraphError

__all__ = ["OperatorPorts", "fragment_flows", "fragment_ports", "resolve_edges", "split_port_name"]

_EXEC_PORTS = ("__input_exec__", "__output_exec__")


@dataclass(frozen=True)
class OperatorPorts:
    """An operator's data ports: input names, output names, and the ``ANY_SIZE`` inputs."""

    inputs: frozenset[str] = field(default_factory=frozenset)
    outputs: frozenset[str] = field(default_factory=frozenset)
    any_size: frozenset[str] = field(default_factory=frozenset)


def split_port_name(name: str) -> tuple[str, str]:
    """``"op.port"`` → ``("op", "port")`` at the first dot; ``"op"`` → ``("op", "")``."""
    op, _, port = name.partition(".")
    return op, port


def fragment_ports(fragment: Any) -> dict[str, OperatorPorts]:
    """The data ports of every operator of a composed ``fragment``, by operator name.

    Raises
    ------
    holoflow.errors.GraphError
        ``Fragment 'F' does not have any operators...`` when its graph is empty.
    """
    ops = fragment.graph.get_nodes()
    if not ops:
        raise GraphError(
            f"Fragment '{fragment.name}' does not have any operators. Please check that there is at "
            "least one call to `add_operator` or `add_flow` method in the fragment's `compose` method."
        )
    ports = {}
    for op in ops:
        inputs = {name: spec for name, spec in op.spec.inputs.items() if name not in _EXEC_PORTS}
        outputs = [name for name in op.spec.outputs if name not in _EXEC_PORTS]
        any_size = {name for name, spec in inputs.items() if spec.queue_size == IOSpec.ANY_SIZE}
        ports[op.name] = OperatorPorts(frozenset(inputs), frozenset(outputs), frozenset(any_size))
    return ports


def fragment_flows(app: Any) -> list[tuple[str, str, dict[str, set[str]]]]:
    """An application's fragment flows, as :func:`resolve_edges` takes them: ``(source
    fragment, target fragment, port map)``."""
    graph = app.fragment_graph
    return [
        (source.name, target.name, graph.get_port_map(source, target))
        for source in graph.get_nodes()
        for target in graph.get_next_nodes(source)
    ]


def _listed(names: Sequence[str] | frozenset[str]) -> str:
    return ", ".join(sorted(names))


def _resolve_end(side: str, name: str, fragment: str, ports: Mapping[str, OperatorPorts]) -> tuple[str, str]:
    op, port = split_port_name(name)
    if op not in ports:
        raise GraphError(
            f"Cannot find {side.lower()} operator '{op}' in fragment '{fragment}'. "
            f"Operator should be one of ({_listed(list(ports))})"
        )
    info = ports[op]
    names = info.outputs if side == "Source" else info.inputs
    if port in names:
        return op, port
    if len(names) == 1 and not port:
        return op, next(iter(names))
    if side == "Target" and port in info.any_size:
        return op, port
    if not names:
        kind = "output" if side == "Source" else "input"
        raise GraphError(f"{side} operator '{op}' has no {kind} ports in fragment '{fragment}'")
    if len(names) == 1:
        raise GraphError(
            f"{side} operator '{op}' in fragment '{fragment}' does not have a port named '{port}'. "
            f"It should be '{next(iter(names))}'."
        )
    raise GraphError(
        f"{side} operator '{op}' in fragment '{fragment}' does not have a port named '{port}'. "
        f"It should be one of ({_listed(names)})"
    )


def resolve_edges(
    flows: Sequence[tuple[str, str, Mapping[str, set[str]]]],
    ports: Mapping[str, Mapping[str, OperatorPorts]],
) -> list[EdgeSpec]:
    """Turn the fragment graph's flows into numbered edges.

    Parameters
    ----------
    flows : sequence of (source fragment, target fragment, port map)
        The port map is ``{"op[.port]": {"op[.port]", ...}}`` as ``FragmentFlowGraph`` keeps it.
    ports : mapping
        ``fragment_ports`` of every fragment, by fragment name.

    Returns
    -------
    list of EdgeSpec
        Numbered from 0 in the order of ``flows``, each flow's pairs in sorted order (which is
        also the order an ``ANY_SIZE`` input gets its connections in); a pair named twice (say
        ``"tx"`` and ``"tx.out"``) makes one edge.

    Raises
    ------
    holoflow.errors.GraphError
        With Holoscan's text when an operator or port does not exist.
    """
    edges: list[EdgeSpec] = []
    seen: set[tuple[tuple[str, str, str], tuple[str, str, str]]] = set()
    for source, target, port_map in flows:
        pairs = sorted((out, in_) for out, ins in port_map.items() for in_ in ins)
        for out_name, in_name in pairs:
            src = (source, *_resolve_end("Source", out_name, source, ports[source]))
            dst = (target, *_resolve_end("Target", in_name, target, ports[target]))
            key = (src, dst)
            if key in seen:
                continue
            seen.add(key)
            edges.append(EdgeSpec(len(edges), src, dst))  # type: ignore[arg-type]
    return edges
