"""Resources that operators and schedulers hold (Holoscan's ``holoscan.resources``)."""

from holoflow.core._resource import Resource
from holoflow.resources._clock import Clock, ManualClock, RealtimeClock

__all__ = ["Clock", "ManualClock", "RealtimeClock", "Resource"]
