"""Holoscan 4.6's ``holoscan.flow_graphs`` names for holoflow's graph classes.

Holoscan splits each graph into an interface (``OperatorFlowGraph``, ``FragmentFlowGraph``) and
its implementation (``...Impl``); holoflow has one class for each graph, so both names are that
class and ``isinstance`` checks against either hold. ``FlowGraphImpl`` is the operator graph, as
in Holoscan.
"""

from holoflow.core import FragmentFlowGraph, OperatorFlowGraph

FragmentFlowGraphImpl = FragmentFlowGraph
OperatorFlowGraphImpl = OperatorFlowGraph
FlowGraphImpl = OperatorFlowGraph

__all__ = [
    "FlowGraphImpl",
    "FragmentFlowGraph",
    "FragmentFlowGraphImpl",
    "OperatorFlowGraph",
    "OperatorFlowGraphImpl",
]
