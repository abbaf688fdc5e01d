"""Conditions that code outside the scheduler switches: AsynchronousCondition and BooleanCondition.

A thread stands for a device driver: each time a sample is ready it sets the reader's
AsynchronousCondition to EVENT_DONE, and the scheduler runs the reader once; after the last
sample it sets EVENT_NEVER, which finishes the reader. A watchdog ticks every 5 ms
(PeriodicCondition) while its BooleanCondition is enabled; when it sees that the device has
finished it disables that condition, and with nothing left to run the application ends.

    python3 examples/tutorials/conditions_and_schedulers_events.py
"""

import threading
import time

from holoflow.conditions import (
    AsynchronousCondition,
    AsynchronousEventState,
    BooleanCondition,
    PeriodicCondition,
)
from holoflow.core import Application, Operator

SAMPLES = 5


class DeviceReader(Operator):
    """Emits the next sample each time its AsynchronousCondition says one is ready."""

    def setup(self, spec):
        spec.output("sample")

    def start(self):
        self.count = 0

    def compute(self, op_input, op_output, context):
        self.count += 1
        op_output.emit(self.count, "sample")


class Printer(Operator):
    def setup(self, spec):
        spec.input("sample")

    def compute(self, op_input, op_output, context):
        print(f"received sample {op_input.receive('sample')}")


class Watchdog(Operator):
    """Checks the device every period; switches itself off once the device is done."""

    def __init__(self, fragment, *args, device_condition, **kwargs):
        self.device_condition = device_condition  # set before super().__init__, which calls setup
        super().__init__(fragment, *args, **kwargs)

    def start(self):
        self.switched_off = False

    def compute(self, op_input, op_output, context):
        if self.device_condition.event_state is AsynchronousEventState.EVENT_NEVER:
            self.conditions["watching"].disable_tick()  # NEVER from now on: the watchdog is finished
            self.switched_off = True


def device_driver(condition):
    """Signals SAMPLES samples, 10 ms apart, then the end of the stream."""
    for _ in range(SAMPLES):
        time.sleep(0.01)  # waiting for the hardware
        condition.event_state = AsynchronousEventState.EVENT_DONE
        while condition.event_state is AsynchronousEventState.EVENT_DONE:
            time.sleep(0.001)  # the scheduler has not run the reader for this sample yet
    condition.event_state = AsynchronousEventState.EVENT_NEVER


class DeviceApp(Application):
    def compose(self):
        self.sample_ready = AsynchronousCondition(self, name="sample_ready")
        self.sample_ready.event_state = AsynchronousEventState.EVENT_WAITING  # nothing ready yet
        reader = DeviceReader(self, self.sample_ready, name="reader")
        self.add_flow(reader, Printer(self, name="printer"))
        self.watchdog = Watchdog(
            self,
            PeriodicCondition(self, "5ms"),
            BooleanCondition(self, name="watching"),
            device_condition=self.sample_ready,
            name="watchdog",
        )
        self.add_operator(self.watchdog)  # connected to nothing: add_operator puts it in the graph


def main():
    app = DeviceApp()
    app.compose_graph()  # build the graph now, so the driver can be handed the condition
    driver = threading.Thread(target=device_driver, args=(app.sample_ready,))
    driver.start()
    app.run()
    driver.join()
    if app.watchdog.switched_off:
        print("the watchdog saw the device finish and switched itself off")


if __name__ == "__main__":
    main()
