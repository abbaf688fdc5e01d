"""The fragment graph of an application: fragments as nodes, port maps between them.

Distributed (multi-fragment) applications fill it with ``Application.add_fragment`` and
``Application.add_flow(fragment1, fragment2, pairs)``; an application that adds operators
instead has an empty one, as in Holoscan.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from holoflow.core._port_map import PortMaps, connectivity_maps, describe
from holoflow.errors import GraphError

if TYPE_CHECKING:
    from holoflow.core._fragment import Fragment

__all__ = ["FragmentFlowGraph"]


class FragmentFlowGraph:
    """Fragments and the connections between their ports, in the order they were added.

    A port of a fragment is named ``operator.port``; in the connectivity maps it becomes
    ``fragment.operator.port``.
    """

    def __init__(self) -> None:
        self._nodes: dict[str, Fragment] = {}
        self._edges: dict[tuple[int, int], dict[str, set[str]]] = {}

    def add_node(self, fragment: Fragment) -> None:
        """Add a fragment; adding the same one again does nothing.

        Raises
        ------
        GraphError
            If another fragment already has that name.
        """
        existing = self._nodes.get(fragment.name)
        if existing is fragment:
            return
        if existing is not None:
            raise GraphError(f"duplicate fragment name '{fragment.name}': each fragment needs a unique name")
        self._nodes[fragment.name] = fragment

    def add_flow(self, source: Fragment, target: Fragment, port_pairs: Iterable[tuple[str, str]]) -> None:
        """Connect ``operator.port`` outputs of ``source`` to ``operator.port`` inputs of ``target``."""
        self.add_node(source)
        self.add_node(target)
        port_map = self._edges.setdefault((id(source), id(target)), {})
        for output, input_ in port_pairs:
            port_map.setdefault(output, set()).add(input_)

    def remove_node(self, fragment: Fragment) -> None:
        """Remove ``fragment`` and its connections; an absent fragment is ignored."""
        if self._nodes.get(fragment.name) is not fragment:
            return
        del self._nodes[fragment.name]
        self._edges = {key: value for key, value in self._edges.items() if id(fragment) not in key}

    def get_nodes(self) -> list[Fragment]:
        """Every fragment, in the order added."""
        return list(self._nodes.values())

    def find_node(self, name: str) -> Fragment | None:
        """The fragment called ``name``, or ``None``."""
        return self._nodes.get(name)

    def get_next_nodes(self, fragment: Fragment) -> list[Fragment]:
        """Fragments fed by ``fragment``, in the order added."""
        return [f for f in self._nodes.values() if (id(fragment), id(f)) in self._edges]

    def get_previous_nodes(self, fragment: Fragment) -> list[Fragment]:
        """Fragments feeding ``fragment``, in the order added."""
        return [f for f in self._nodes.values() if (id(f), id(fragment)) in self._edges]

    def is_root(self, fragment: Fragment) -> bool:
        """Whether nothing feeds ``fragment``."""
        return not self.get_previous_nodes(fragment)

    def is_leaf(self, fragment: Fragment) -> bool:
        """Whether ``fragment`` feeds nothing."""
        return not self.get_next_nodes(fragment)

    def get_root_nodes(self) -> list[Fragment]:
        """Fragments nothing feeds, in the order added."""
        return [f for f in self._nodes.values() if self.is_root(f)]

    def get_port_map(self, source: Fragment, target: Fragment) -> dict[str, set[str]]:
        """Output ``operator.port`` of ``source`` → the ``operator.port`` inputs of ``target``."""
        return {key: set(value) for key, value in self._edges.get((id(source), id(target)), {}).items()}

    def get_port_connectivity_maps(self) -> PortMaps:
        """``(input_to_output, output_to_input)`` with ports named ``fragment.operator.port``."""
        by_id = {id(f): f for f in self._nodes.values()}
        return connectivity_maps(
            (f"{by_id[source].name}.{output}", f"{by_id[target].name}.{input_}")
            for (source, target), port_map in self._edges.items()
            for output, inputs in port_map.items()
            for input_ in inputs
        )

    def port_map_description(self) -> str:
        """:meth:`get_port_connectivity_maps` as YAML, in Holoscan's layout (``~`` when empty)."""
        return describe(self.get_port_connectivity_maps())

    def __len__(self) -> int:
        return len(self._nodes)
