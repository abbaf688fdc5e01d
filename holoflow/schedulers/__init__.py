"""Schedulers that run a graph (Holoscan's ``holoscan.schedulers``)."""

from holoflow.core._scheduler import Scheduler
from holoflow.schedulers._event_based import EventBasedScheduler
from holoflow.schedulers._greedy import GreedyScheduler
from holoflow.schedulers._multi_thread import MultiThreadScheduler

__all__ = ["EventBasedScheduler", "GreedyScheduler", "MultiThreadScheduler", "Scheduler"]
