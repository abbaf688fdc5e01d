"""Pictures of a graph: an application's graph as Graphviz DOT text, drawn where Graphviz is installed.

    python3 examples/graph_picture.py              # prints the DOT text, then runs the app
    python3 examples/graph_picture.py graph.svg    # draws it (.svg or .png need Graphviz; .dot is text)

The same from the command line, for any app: ``holoflow graph examples/graph_picture.py -o graph.svg``.
In Jupyter, an application shows itself as this picture. See docs/graph_pictures.md.
"""

from __future__ import annotations

import sys

from holoflow.conditions import CountCondition, PeriodicCondition
from holoflow.core import Application, ConditionType, IOSpec, Operator
from holoflow.core.graph_picture import render


class SensorOp(Operator):
    """Sends 1, 2, 3, ... on ``out``."""

    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.value = 0

    def compute(self, op_input, op_output, context):
        self.value += 1
        op_output.emit(self.value, "out")


class ScaleOp(Operator):
    """Multiplies what arrives on ``in`` by ``factor``; keeps only the newest 2 messages waiting."""

    def setup(self, spec):
        spec.input("in").connector(
            IOSpec.ConnectorType.DOUBLE_BUFFER, capacity=2, policy=IOSpec.QueuePolicy.POP
        )
        spec.output("out")
        spec.param("factor", 1)

    def compute(self, op_input, op_output, context):
        op_output.emit(self.factor * op_input.receive("in"), "out")


class MergeOp(Operator):
    """Receives one message from each connection of its ``ANY_SIZE`` input ``in``, and an optional
    note on ``note`` that it never waits for."""

    def setup(self, spec):
        spec.input("in", size=IOSpec.ANY_SIZE)
        spec.input("note").condition(ConditionType.NONE)

    def start(self):
        self.merged = []

    def compute(self, op_input, op_output, context):
        self.merged.append(op_input.receive("in"))


class PipelineApp(Application):
    """A sensor feeding two scalers whose results merge: a fan-out and a fan-in."""

    def compose(self):
        sensor = SensorOp(
            self, CountCondition(self, 3), PeriodicCondition(self, 0.01, name="pace"), name="sensor"
        )
        double = ScaleOp(self, factor=2, name="double")
        triple = ScaleOp(self, factor=3, name="triple")
        self.merge = MergeOp(self, name="merge")
        self.add_flow(sensor, double)
        self.add_flow(sensor, triple)
        self.add_flow(double, self.merge, {("out", "in")})
        self.add_flow(triple, self.merge, {("out", "in")})


def main(argv: list[str]) -> None:
    app = PipelineApp([])
    dot = app.to_dot()  # composes the graph (once), without running anything
    if argv:
        print(f"wrote {render(dot, argv[0])}")
    else:
        print(dot, end="")
    app.run()
    print(f"merged: {app.merge.merged}")


if __name__ == "__main__":
    main(sys.argv[1:])
