"""An operator driven by a thread outside the graph, through an AsynchronousCondition.

A background thread stands for a device callback: each time "data arrives" it sets the
condition's state to EVENT_DONE, and the scheduler wakes and runs the operator at once. When the
device is done it sets EVENT_NEVER, which finishes the operator and the app.
"""

import threading
import time

from holoflow.conditions import AsynchronousCondition, AsynchronousEventState
from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler


class DeviceReader(Operator):
    def setup(self, spec):
        spec.output("out")

    def start(self):
        self.count = 0

    def compute(self, op_input, op_output, context):
        self.count += 1
        op_output.emit(self.count, "out")


class Printer(Operator):
    def setup(self, spec):
        spec.input("in")

    def compute(self, op_input, op_output, context):
        print(f"received sample {op_input.receive('in')}")


def device_thread(condition, samples):
    for _ in range(samples):
        time.sleep(0.01)  # waiting for hardware
        condition.event_state = AsynchronousEventState.EVENT_DONE
        while condition.event_state is AsynchronousEventState.EVENT_DONE:
            time.sleep(0.001)  # until the scheduler consumed the event
    condition.event_state = AsynchronousEventState.EVENT_NEVER


class AsyncApp(Application):
    def compose(self):
        self.data_ready = AsynchronousCondition(self, name="data_ready")
        self.data_ready.event_state = AsynchronousEventState.EVENT_WAITING
        reader = DeviceReader(self, self.data_ready, name="reader")
        self.add_flow(reader, Printer(self, name="printer"))


def main():
    app = AsyncApp()
    app.scheduler(EventBasedScheduler(app, worker_thread_number=2))
    app.compose_graph()
    device = threading.Thread(target=device_thread, args=(app.data_ready, 5))
    device.start()
    app.run()
    device.join()


if __name__ == "__main__":
    main()
