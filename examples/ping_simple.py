"""Two built-in operators: PingTxOp sends 1..10, PingRxOp prints them."""

from holoflow.conditions import CountCondition
from holoflow.core import Application
from holoflow.operators import PingRxOp, PingTxOp


class PingApp(Application):
    def compose(self):
        tx = PingTxOp(self, CountCondition(self, 10), name="tx")
        rx = PingRxOp(self, name="rx")
        # Each side has exactly one port, so add_flow can pair them without port names.
        self.add_flow(tx, rx)


def main():
    PingApp().run()


if __name__ == "__main__":
    main()
