"""Writing an operator: parameters, several ports, start and stop, metadata, and wiring errors.

A thermometer emits readings tagged with metadata. RangeCheck, the operator this tutorial
writes, takes its limits as parameters (from writing_an_operator.yaml) and sends each reading
to one of two outputs, ``ok`` or ``alarm``. Two loggers print what arrives. Then two common
mistakes are made on purpose, and the errors holoflow raises for them are printed.

    python3 examples/tutorials/writing_an_operator.py
"""

from pathlib import Path

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.errors import ConfigError, GraphError

CONFIG = Path(__file__).with_suffix(".yaml")


class Thermometer(Operator):
    """Emits the values of its ``readings`` parameter in turn, tagged with the sensor and sample."""

    def setup(self, spec):
        spec.output("reading")
        spec.param("readings", [20.0])
        spec.param("sensor", "t1")

    def start(self):
        self.sample = 0

    def compute(self, op_input, op_output, context):
        value = self.readings[self.sample % len(self.readings)]
        self.sample += 1
        self.metadata["sensor"] = self.sensor  # travels with everything emitted from here on
        self.metadata["sample"] = self.sample
        op_output.emit(value, "reading")


class RangeCheck(Operator):
    """Sends each reading to ``ok`` if it lies in [low, high], else to ``alarm``.

    Parameters: ``low`` and ``high`` (required: the defaults are None), ``unit`` ("C").
    """

    def setup(self, spec):
        spec.input("reading")
        spec.output("ok")
        spec.output("alarm")
        spec.param("low")
        spec.param("high")
        spec.param("unit", "C")

    def start(self):
        if self.low is None or self.high is None:
            raise ValueError(f"{self.name}: set both 'low' and 'high'")
        self.counts = {"ok": 0, "alarm": 0}
        print(f"{self.name}: start, range {self.low} to {self.high} {self.unit}")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("reading")
        port = "ok" if self.low <= value <= self.high else "alarm"
        self.counts[port] += 1
        self.metadata["unit"] = self.unit
        op_output.emit(value, port)  # one output per compute; the other sends nothing

    def stop(self):
        print(f"{self.name}: stop, {self.counts['ok']} ok, {self.counts['alarm']} alarms")


class Logger(Operator):
    """Prints each value with the metadata that came with it."""

    def setup(self, spec):
        spec.input("in")
        spec.param("label", "")

    def compute(self, op_input, op_output, context):
        value = op_input.receive("in")
        meta = self.metadata
        print(f"{self.label}: {value} {meta['unit']} (sensor {meta['sensor']}, sample {meta['sample']})")


class ThermometerApp(Application):
    def compose(self):
        readings = [21.5, 27.0, 19.0, 12.5]
        thermometer = Thermometer(self, CountCondition(self, 4), name="thermometer", readings=readings)
        check = RangeCheck(self, self.from_config("range_check"), name="range_check")
        ok_log = Logger(self, name="ok_log", label="ok")
        alarm_log = Logger(self, name="alarm_log", label="ALARM")
        self.add_flow(thermometer, check)  # one port each side: paired without names
        self.add_flow(check, ok_log, {("ok", "in")})  # two outputs: name the pair
        self.add_flow(check, alarm_log, {("alarm", "in")})


class UnnamedPortsApp(Application):
    """Mistake 1: add_flow from an operator with two outputs, without naming the port."""

    def compose(self):
        thermometer = Thermometer(self, CountCondition(self, 1), name="thermometer")
        check = RangeCheck(self, name="range_check", low=18.0, high=26.0)
        self.add_flow(thermometer, check)
        self.add_flow(check, Logger(self, name="ok_log"))


class MisspelledParameterApp(Application):
    """Mistake 2: a keyword that names no parameter, in strict mode."""

    def compose(self):
        RangeCheck(self, name="range_check", low=18.0, hihg=26.0)


def main():
    app = ThermometerApp()
    app.config(str(CONFIG))
    app.run()

    try:
        UnnamedPortsApp().run()
    except GraphError as error:
        print(f"GraphError: {error}")
    try:
        MisspelledParameterApp(strict=True).run()
    except ConfigError as error:
        print(f"ConfigError: {error}")


if __name__ == "__main__":
    main()
