"""The smallest application: one operator that prints a greeting once."""

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator


class HelloOp(Operator):
    """Prints a greeting each time it runs."""

    def compute(self, op_input, op_output, context):
        print("Hello World!")


class HelloApp(Application):
    def compose(self):
        # CountCondition(1): run once, then the operator is finished and the app returns.
        self.add_operator(HelloOp(self, CountCondition(self, 1), name="hello"))


def main():
    HelloApp().run()


if __name__ == "__main__":
    main()
