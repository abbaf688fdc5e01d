"""The operator graph: operators as nodes, port-mapped edges, validation and ordering.

:class:`OperatorGraph` is what Holoscan 4.6 calls the ``OperatorFlowGraph`` (3.x: ``OperatorGraph``).
In its port maps a connection into an ``IOSpec.ANY_SIZE`` input is named ``port:<i>``, ``i``
counting that input's connections in the order they were made, as Holoscan names them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from holoflow.core._port_map import PortMaps, connectivity_maps, describe
from holoflow.core._spec import IOSpec
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._operator import Operator

__all__ = ["Connection", "OperatorGraph"]


@dataclass(frozen=True, slots=True)
class Connection:
    """One edge: an output port of one operator feeding an input port of another."""

    source: Operator
    """Upstream operator."""
    output: str
    """Its output port."""
    target: Operator
    """Downstream operator."""
    input: str
    """Its input port."""


class OperatorGraph:
    """Operators and the connections between their ports, in the order they were added."""

    def __init__(self) -> None:
        self._nodes: dict[str, Operator] = {}
        self._connections: list[Connection] = []

    def add_node(self, op: Operator) -> None:
        """Add an operator; adding the same one again does nothing.

        Raises
        ------
        GraphError
            If another operator already has that name.
        """
        existing = self._nodes.get(op.name)
        if existing is op:
            return
        if existing is not None:
            raise GraphError(
                f"duplicate operator name '{op.name}': each operator of a fragment needs a unique name"
            )
        self._nodes[op.name] = op

    def add_connection(self, connection: Connection) -> None:
        """Add an edge (both operators are added as nodes); a repeated edge is ignored."""
        self.add_node(connection.source)
        self.add_node(connection.target)
        if connection not in self._connections:
            self._connections.append(connection)

    @property
    def connections(self) -> list[Connection]:
        """Every edge, in the order added."""
        return list(self._connections)

    def get_nodes(self) -> list[Operator]:
        """Every operator, in the order added."""
        return list(self._nodes.values())

    def find_node(self, name: str) -> Operator | None:
        """The operator called ``name``, or ``None``."""
        return self._nodes.get(name)

    def get_next_nodes(self, op: Operator) -> list[Operator]:
        """Operators fed by ``op``, without repeats, in edge order."""
        return list(dict.fromkeys(c.target for c in self._connections if c.source is op))

    def get_previous_nodes(self, op: Operator) -> list[Operator]:
        """Operators feeding ``op``, without repeats, in edge order."""
        return list(dict.fromkeys(c.source for c in self._connections if c.target is op))

    def is_root(self, op: Operator) -> bool:
        """Whether nothing feeds ``op``."""
        return not any(c.target is op for c in self._connections)

    def is_leaf(self, op: Operator) -> bool:
        """Whether ``op`` feeds nothing."""
        return not any(c.source is op for c in self._connections)

    def get_root_nodes(self) -> list[Operator]:
        """Operators nothing feeds, in the order added."""
        targets = {id(c.target) for c in self._connections}
        return [op for op in self._nodes.values() if id(op) not in targets]

    def remove_node(self, op: Operator) -> None:
        """Remove ``op`` and every connection to or from it; an absent operator is ignored."""
        if self._nodes.get(op.name) is not op:
            return
        del self._nodes[op.name]
        self._connections = [c for c in self._connections if c.source is not op and c.target is not op]

    def get_port_map(self, source: Operator, target: Operator) -> dict[str, set[str]]:
        """Output port of ``source`` → the input ports of ``target`` it feeds (``port:<i>`` for an
        ``ANY_SIZE`` input)."""
        port_map: dict[str, set[str]] = {}
        for c, input_name in self._labelled_connections():
            if c.source is source and c.target is target:
                port_map.setdefault(c.output, set()).add(input_name)
        return port_map

    def get_port_connectivity_maps(self) -> PortMaps:
        """``(input_to_output, output_to_input)``: each port, named ``operator.port``
        (``fragment.operator.port`` in a named fragment), → the sorted ports it connects to."""
        return connectivity_maps(
            (f"{_node_id(c.source)}.{c.output}", f"{_node_id(c.target)}.{input_name}")
            for c, input_name in self._labelled_connections()
        )

    def port_map_description(self) -> str:
        """:meth:`get_port_connectivity_maps` as YAML, in Holoscan's layout (``~`` when empty)."""
        return describe(self.get_port_connectivity_maps())

    def _labelled_connections(self) -> list[tuple[Connection, str]]:
        """Every connection with its input's port-map name (``port:<i>`` on an ANY_SIZE input)."""
        seen: dict[tuple[int, str], int] = {}
        labelled = []
        for c in self._connections:
            spec = c.target.spec.inputs.get(c.input)
            if spec is not None and spec.queue_size == IOSpec.ANY_SIZE:
                index = seen.get((id(c.target), c.input), 0)
                seen[(id(c.target), c.input)] = index + 1
                labelled.append((c, f"{c.input}:{index}"))
            else:
                labelled.append((c, c.input))
        return labelled

    def topological_order(self) -> list[Operator]:
        """Roots first, successors in the order added; when only cycles are left, every
        remaining operator follows in the order added."""
        nodes = list(self._nodes.values())
        indegree = {id(op): 0 for op in nodes}
        successors: dict[int, list[Operator]] = {id(op): [] for op in nodes}
        for c in self._connections:
            if c.target not in successors[id(c.source)]:
                successors[id(c.source)].append(c.target)
                indegree[id(c.target)] += 1
        order: list[Operator] = []
        placed: set[int] = set()
        ready = deque(op for op in nodes if indegree[id(op)] == 0)
        while len(order) < len(nodes):
            if not ready:
                # Cycles: every operator still waiting is released, in the order added (as
                # Holoscan orders a graph, so that greedy runs execute in the same order).
                for op in nodes:
                    if id(op) not in placed and indegree[id(op)] > 0:
                        indegree[id(op)] = 0
                        ready.append(op)
            op = ready.popleft()
            if id(op) in placed:
                continue
            placed.add(id(op))
            order.append(op)
            for nxt in successors[id(op)]:
                indegree[id(nxt)] -= 1
                if indegree[id(nxt)] == 0 and id(nxt) not in placed:
                    ready.append(nxt)
        return order

    def __len__(self) -> int:
        return len(self._nodes)


def _node_id(op: Operator) -> str:
    fragment_name = op.fragment.name
    return f"{fragment_name}.{op.name}" if fragment_name else op.name
