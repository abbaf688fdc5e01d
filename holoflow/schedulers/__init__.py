"""Schedulers that run a graph (Holoscan's ``holoscan.schedulers``)."""

from holoflow.core._scheduler import Scheduler
from holoflow.schedulers._greedy import GreedyScheduler

__all__ = ["GreedyScheduler", "Scheduler"]
