"""Waiting on the main thread so that Ctrl-C still works.

Python runs signal handlers on the main thread, between bytecodes. A signal the kernel delivers
to another thread (CUDA and PyTorch start threads of their own) only marks the handler pending;
a main thread blocked in an unbounded wait would not see it until the wait ended. Waiting in
slices of :data:`SIGNAL_CHECK_S` lets the handler run (a ``KeyboardInterrupt`` leaves the wait).
"""

from __future__ import annotations

import threading
import time

__all__ = ["SIGNAL_CHECK_S", "wait_interruptibly"]

SIGNAL_CHECK_S = 0.05


def wait_interruptibly(event: threading.Event, timeout: float | None = None) -> bool:
    """``event.wait(timeout)``, on the main thread in slices of :data:`SIGNAL_CHECK_S`.

    Returns whether the event is set. Raises what a signal handler raises while waiting
    (``KeyboardInterrupt`` for Ctrl-C).
    """
    if threading.current_thread() is not threading.main_thread():
        return event.wait(timeout)
    if timeout is not None and timeout <= SIGNAL_CHECK_S:
        return event.wait(timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = SIGNAL_CHECK_S if deadline is None else min(SIGNAL_CHECK_S, deadline - time.monotonic())
        if step <= 0:
            return event.is_set()
        if event.wait(step):
            return True
