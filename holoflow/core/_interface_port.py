"""Interface ports: the names a subgraph exposes, mapped onto ports of the operators inside it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from holoflow.core._operator import Operator

__all__ = ["InterfacePort", "InterfacePortMapping", "InterfacePortType"]


class InterfacePortType(enum.Enum):
    """What an interface port carries."""

    DATA = 0
    """Messages: it maps onto ordinary input or output ports."""
    EXECUTION = 1
    """Control flow: it maps onto an operator's execution port."""


@dataclass(frozen=True, slots=True)
class InterfacePortMapping:
    """One internal port an interface port stands for."""

    internal_operator: Operator
    """The operator inside the subgraph that owns the port."""
    internal_port_name: str
    """Its port (``Operator.INPUT_EXEC_PORT_NAME`` / ``OUTPUT_EXEC_PORT_NAME`` for execution)."""

    def __repr__(self) -> str:
        return (
            f"<InterfacePortMapping: operator={self.internal_operator.name}, port={self.internal_port_name}>"
        )


class InterfacePort:
    """An exposed port of a subgraph.

    An output has exactly one mapping. A data input may have several: a message sent to it
    reaches every mapped port (a broadcast into the subgraph).
    """

    __slots__ = ("_mappings", "is_input", "port_type")

    def __init__(
        self, mappings: list[InterfacePortMapping], is_input: bool, port_type: InterfacePortType
    ) -> None:
        self._mappings = list(mappings)
        self.is_input = is_input
        """Whether data (or control) flows into the subgraph through it."""
        self.port_type = port_type
        """``InterfacePortType.DATA`` or ``InterfacePortType.EXECUTION``."""

    @property
    def mappings(self) -> list[InterfacePortMapping]:
        """The internal ports, in the order they were added."""
        return list(self._mappings)

    def _add(self, mapping: InterfacePortMapping) -> None:
        if mapping not in self._mappings:
            self._mappings.append(mapping)

    def __repr__(self) -> str:
        inner = ", ".join(f"{m.internal_operator.name}:{m.internal_port_name}" for m in self._mappings)
        direction = "true" if self.is_input else "false"
        return f"<InterfacePort: mappings=[{inner}], is_input={direction}, type={self.port_type.name}>"
