"""Reusable subgraphs: four senders, three of them subgraphs, feed one receiver subgraph.

``PingTxSubgraph`` is a counted ``PingTxOp`` whose messages pass through a forwarding operator;
each instance names its operators after itself (``tx1_transmitter``, ``tx1_forwarding``) and
exposes the forwarder's output as ``data_out``. ``MultiPingRxSubgraph`` exposes the ``ANY_SIZE``
input of its receiver as ``data_in``, so every ``add_flow`` into it adds one connection, and each
execution of the receiver gets one value per connection, in the order the flows were added.

Before running, the application prints the port map of the flattened graph (what Holoscan's
``subgraph_ping.py`` prints too, line for line).
"""

from holoflow.conditions import CountCondition
from holoflow.core import Application, IOSpec, Operator, Subgraph
from holoflow.operators import PingTxOp

MESSAGES = 8


class ForwardOp(Operator):
    """Sends on whatever it receives."""

    def setup(self, spec):
        spec.input("in")
        spec.output("out")

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        if message is not None:
            op_output.emit(message, "out")


class GatherOp(Operator):
    """Prints the values that arrive together on its ``ANY_SIZE`` port."""

    def setup(self, spec):
        spec.input("receivers", size=IOSpec.ANY_SIZE)

    def start(self):
        self.executions = 0

    def compute(self, op_input, op_output, context):
        values = op_input.receive("receivers")
        self.executions += 1
        print(f"Rx message received (count: {self.executions}, size: {len(values)})")
        for index, value in enumerate(values):
            print(f"Rx message value[{index}]: {value}")


class PingTxSubgraph(Subgraph):
    """transmitter → forwarding, exposing the forwarder's output as ``data_out``."""

    def compose(self):
        transmitter = PingTxOp(self, CountCondition(self, MESSAGES), name="transmitter")
        forwarding = ForwardOp(self, name="forwarding")
        self.add_flow(transmitter, forwarding, {("out", "in")})
        self.add_output_interface_port("data_out", forwarding, "out")


class MultiPingRxSubgraph(Subgraph):
    """One gathering receiver, its ``receivers`` port exposed as ``data_in``."""

    def compose(self):
        self.receiver = GatherOp(self, name="multi_receiver")
        self.add_input_interface_port("data_in", self.receiver, "receivers")


class MultiPingApplication(Application):
    def compose(self):
        senders = [
            PingTxSubgraph(self, "tx1"),
            PingTxOp(self, CountCondition(self, MESSAGES), name="tx2"),
            PingTxSubgraph(self, "tx3"),
            PingTxSubgraph(self, "tx4"),
        ]
        receiver = MultiPingRxSubgraph(self, "multi_rx")
        for sender in senders:
            # a subgraph sends through its interface port, the plain operator through its own port
            port = "data_out" if isinstance(sender, Subgraph) else "out"
            self.add_flow(sender, receiver, {(port, "data_in")})
        print("Application composed with Subgraph instances:")


def main():
    app = MultiPingApplication()
    app.compose_graph()
    print("====== PORT MAPPING =======")
    print(app.graph.port_map_description())
    app.run()


if __name__ == "__main__":
    main()
