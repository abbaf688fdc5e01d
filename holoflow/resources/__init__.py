"""Resources that operators and schedulers hold (Holoscan's ``holoscan.resources``)."""

from holoflow.core._resource import Resource
from holoflow.core._thread_pool import ThreadPool
from holoflow.resources._clock import Clock, ManualClock, RealtimeClock

__all__ = ["Clock", "ManualClock", "RealtimeClock", "Resource", "ThreadPool"]
