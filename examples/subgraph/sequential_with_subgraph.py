"""A control flow that passes through a subgraph: start → node1 → [node2 → node3] → node4.

The operators have no data ports; ``add_flow`` joins their execution ports, so each runs once,
after the one before it. ``SequentialSubgraph`` exposes its first operator's execution input as
``exec_in`` and its last one's execution output as ``exec_out``; with no port pairs given,
``add_flow`` picks those, as they are the subgraph's only execution ports (Holoscan's rule).
"""

from holoflow.core import Application, Operator, Subgraph


class AnnounceOp(Operator):
    """Prints its name when it runs."""

    def compute(self, op_input, op_output, context):
        print(f"I am here - {self.name}")


class SequentialSubgraph(Subgraph):
    """node2 → node3, reachable through ``exec_in`` and leaving through ``exec_out``."""

    def compose(self):
        node2 = AnnounceOp(self, name="node2")
        node3 = AnnounceOp(self, name="node3")
        self.add_flow(node2, node3)
        self.add_input_exec_interface_port("exec_in", node2)
        self.add_output_exec_interface_port("exec_out", node3)


class SequentialWithSubgraphApp(Application):
    def compose(self):
        node1 = AnnounceOp(self, name="node1")
        node4 = AnnounceOp(self, name="node4")
        middle = SequentialSubgraph(self, "sequential_sg")
        self.add_flow(self.start_op(), node1)
        self.add_flow(node1, middle)  # into exec_in
        self.add_flow(middle, node4)  # out of exec_out


def main():
    SequentialWithSubgraphApp().run()


if __name__ == "__main__":
    main()
