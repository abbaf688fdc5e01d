"""Holoscan's logger API on holoflow: levels, patterns and the environment variables.

An operator logs one line at each level per compute through a logger of the ``holoflow``
hierarchy; holoflow prints those its level lets through to stderr, in Holoscan's format, and the
application prints its settings to stdout::

    python3 examples/logging_levels.py                      # INFO and up, "[info] [file:line] ..."
    python3 examples/logging_levels.py --level DEBUG        # DEBUG too (FULL pattern by default)
    python3 examples/logging_levels.py --pattern "%L %v"    # "I tick 1: info"
    HOLOSCAN_LOG_LEVEL=ERROR python3 examples/logging_levels.py --level DEBUG   # the variable wins
"""

import argparse

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.logger import LogLevel, get_logger, log_level, set_log_level, set_log_pattern

log = get_logger("holoflow.examples.logging_levels")


class TickOp(Operator):
    """Logs one line per level each time it runs."""

    def start(self):
        self.ticks = 0

    def compute(self, op_input, op_output, context):
        self.ticks += 1
        log.debug("tick %d: debug", self.ticks)
        log.info("tick %d: info", self.ticks)
        log.warning("tick %d: warning", self.ticks)
        log.error("tick %d: error", self.ticks)


class LoggingApp(Application):
    def compose(self):
        self.add_operator(TickOp(self, CountCondition(self, 2), name="tick"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", choices=list(LogLevel.__members__), default="INFO")
    parser.add_argument("--pattern", default="", help="an spdlog pattern, or SHORT/DEFAULT/LONG/FULL")
    args = parser.parse_args()
    set_log_level(LogLevel[args.level])
    set_log_pattern(args.pattern)
    print(f"log level: {log_level().name}")
    LoggingApp().run()


if __name__ == "__main__":
    main()
