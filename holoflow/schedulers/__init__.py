"""Schedulers that run a graph (Holoscan's ``holoscan.schedulers``).

``GreedyScheduler``, the default, lives in the core with the run kernel; the threaded ones are
policies over the same kernel (``holoflow.core.run``).
"""

from holoflow.core import GreedyScheduler, Scheduler
from holoflow.schedulers._event_based import EventBasedScheduler
from holoflow.schedulers._multi_thread import MultiThreadScheduler

__all__ = ["EventBasedScheduler", "GreedyScheduler", "MultiThreadScheduler", "Scheduler"]
