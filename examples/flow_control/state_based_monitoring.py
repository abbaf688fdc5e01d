"""A monitoring loop whose next step depends on state: normal readings, alerts, recovery.

::

                 .--------------------------------------------------.
                 v                                                  |
    <|start|> -> sensor_op --(normal)--> preprocess_op -------------+
                     |                                              |
                     '--(abnormal)--> alert_op --(fewer than 3)-----+
                                         |                          |
                                         '--(3rd alert)--> recovery_op

Every operator is joined to the next by control flows only; the loop closes at sensor_op, which
sits on a cycle and so runs on a signal from any of the four operators that lead back to it.
Two dynamic-flow callbacks steer it:

- sensor_op's reads the value its compute drew: inside [20, 80] it sends the signal to
  preprocess_op, outside it to alert_op. After ``rounds`` readings it adds no flow and the run
  ends.
- alert_op's counts alerts: the first and second go straight back to sensor_op, the third goes
  to recovery_op and starts the count again.

The operators share one ``SensorState`` object without any data port: the start operator's
callback puts it into its metadata as ``"state"``, and from there it rides every execution
signal around the loop. sensor_op writes the reading into it; the others read it.

Prints, for a seeded run, lines such as::

    sensor_op: reading 84.44
    sensor_op: 84.44 is outside [20, 80], alerting
    alert_op: alert 1 for 84.44
    alert_op: back to sensor_op
    sensor_op: reading 75.80
    preprocess_op: preprocessing 75.80
    ...
    alert_op: alert 3 for 12.07
    alert_op: starting recovery
    recovery_op: recovering from 12.07
    ...
    sensor_op: 10 rounds done, stopping

Run ``python3 examples/flow_control/state_based_monitoring.py [greedy|multi|event] [--seed N]``;
the loop is a single chain, so a seed gives the same lines under every scheduler.
"""

import argparse
import random
import sys
import time
from dataclasses import dataclass

from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

NORMAL = (20.0, 80.0)
"""Readings inside this range go to preprocessing; others raise an alert."""
ALERTS_BEFORE_RECOVERY = 3


def say(line):
    """Print ``line`` with one write, so lines from worker threads never run together."""
    sys.stdout.write(f"{line}\n")


@dataclass
class SensorState:
    """What the loop shares through metadata: the latest reading."""

    sensor_value: float = 0.0


class Sensor(Operator):
    """Draws a reading in [0, 100) and records it in the shared state."""

    def __init__(self, fragment, *args, rng, pause_s, **kwargs):
        self.rng = rng
        self.pause_s = pause_s
        self.sensor_value = 0.0
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        self.sensor_value = self.rng.uniform(0.0, 100.0)
        self.metadata.get("state").sensor_value = self.sensor_value
        say(f"{self.name}: reading {self.sensor_value:.2f}")
        time.sleep(self.pause_s)


class Preprocess(Operator):
    """Handles a normal reading."""

    def __init__(self, fragment, *args, pause_s, **kwargs):
        self.pause_s = pause_s
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: preprocessing {self.metadata.get('state').sensor_value:.2f}")
        time.sleep(self.pause_s)


class Alert(Operator):
    """Counts the alerts since the last recovery."""

    def __init__(self, fragment, *args, pause_s, **kwargs):
        self.pause_s = pause_s
        self.alert_count = 0
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        self.alert_count += 1
        value = self.metadata.get("state").sensor_value
        say(f"{self.name}: alert {self.alert_count} for {value:.2f}")
        time.sleep(self.pause_s)


class Recovery(Operator):
    """Runs the recovery procedure after repeated alerts."""

    def __init__(self, fragment, *args, pause_s, **kwargs):
        self.pause_s = pause_s
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        say(f"{self.name}: recovering from {self.metadata.get('state').sensor_value:.2f}")
        time.sleep(self.pause_s)


class SensorMonitoringApp(Application):
    """``seed``: the sensor's random seed (None: unseeded); ``rounds``: readings before the
    loop stops; ``pause_s``: how long each operator works."""

    def __init__(self, *args, seed=None, rounds=10, pause_s=0.02, **kwargs):
        self.seed = seed
        self.rounds = rounds
        self.pause_s = pause_s
        super().__init__(*args, **kwargs)

    def compose(self):
        pause = self.pause_s
        sensor = Sensor(self, name="sensor_op", rng=random.Random(self.seed), pause_s=pause)
        preprocess = Preprocess(self, name="preprocess_op", pause_s=pause)
        alert = Alert(self, name="alert_op", pause_s=pause)
        recovery = Recovery(self, name="recovery_op", pause_s=pause)

        start = self.start_op()
        self.add_flow(start, sensor)
        self.add_flow(sensor, preprocess)
        self.add_flow(sensor, alert)
        self.add_flow(preprocess, sensor)
        self.add_flow(alert, sensor)
        self.add_flow(alert, recovery)
        self.add_flow(recovery, sensor)

        def share_state(op):
            op.metadata.set("state", SensorState())
            op.add_dynamic_flow(op.next_flows)

        readings = 0

        def check_reading(op):
            nonlocal readings
            readings += 1
            if readings > self.rounds:
                say(f"{op.name}: {self.rounds} rounds done, stopping")
                return
            low, high = NORMAL
            if low <= op.sensor_value <= high:
                op.add_dynamic_flow(preprocess)
            else:
                say(f"{op.name}: {op.sensor_value:.2f} is outside [{low:.0f}, {high:.0f}], alerting")
                op.add_dynamic_flow(alert)

        def escalate(op):
            if op.alert_count >= ALERTS_BEFORE_RECOVERY:
                say(f"{op.name}: starting recovery")
                op.alert_count = 0
                op.add_dynamic_flow(recovery)
            else:
                say(f"{op.name}: back to {sensor.name}")
                op.add_dynamic_flow(sensor)

        self.set_dynamic_flows(start, share_state)
        self.set_dynamic_flows(sensor, check_reading)
        self.set_dynamic_flows(alert, escalate)


SCHEDULERS = {
    "greedy": lambda app: GreedyScheduler(app),
    "multi": lambda app: MultiThreadScheduler(app, worker_thread_number=2),
    "event": lambda app: EventBasedScheduler(app, worker_thread_number=2),
}


def main(argv=None):
    """Run the app under the scheduler named on the command line (default: greedy)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scheduler", nargs="?", choices=sorted(SCHEDULERS), default="greedy")
    parser.add_argument("--seed", type=int, default=None, help="seed of the simulated sensor")
    args = parser.parse_args(argv)
    app = SensorMonitoringApp(seed=args.seed)
    app.scheduler(SCHEDULERS[args.scheduler](app))
    app.run()


if __name__ == "__main__":
    main()
