"""Running operators one at a time from outside the graph, through ``Operator.async_condition``.

Every operator owns an asynchronous condition during a run. Here three workers put theirs in
``WAIT`` when the run initializes them, so the scheduler never runs them on its own. A
controller operator waits for an event (``EVENT_WAITING``), which keeps the run alive while
nothing is ready. The main thread then runs the workers in the order it chooses (op3, op2, op1):
it sets a worker's condition to ``EVENT_DONE`` and waits until that worker reports back. To
finish, it sets the workers to ``EVENT_NEVER`` and wakes the controller, whose compute stops the
controller itself with ``stop_execution()``; with every operator finished, the run ends.
The same works under any scheduler.
"""

import threading

from holoflow.conditions import AsynchronousEventState
from holoflow.core import Application, Operator
from holoflow.schedulers import EventBasedScheduler


class Worker(Operator):
    """Runs only when someone sets its condition to EVENT_DONE; calls ``report`` each time."""

    def __init__(self, fragment, *args, report=None, **kwargs):
        self.report = report
        super().__init__(fragment, *args, **kwargs)

    def initialize(self):
        super().initialize()
        self.async_condition.event_state = AsynchronousEventState.WAIT

    def compute(self, op_input, op_output, context):
        print(f"[{self.name}] Executing compute method")
        self.async_condition.event_state = AsynchronousEventState.WAIT  # not again until asked
        if self.report is not None:
            self.report(self.name)


class Controller(Operator):
    """Keeps the run alive and drives the workers on behalf of another thread."""

    def __init__(self, fragment, *args, **kwargs):
        self.started = threading.Event()
        self._done = threading.Condition()
        self._finished: list[str] = []
        super().__init__(fragment, *args, **kwargs)

    def start(self):
        # Waiting for an event, not merely not ready: otherwise the idle graph counts as a deadlock.
        self.async_condition.event_state = AsynchronousEventState.EVENT_WAITING
        self.started.set()

    def compute(self, op_input, op_output, context):
        print(f"[{self.name}] Stopping controller execution")
        self.stop_execution()

    def stop(self):
        print(f"[{self.name}] Stopping controller")

    def workers(self):
        return [op for op in self.fragment.graph.get_nodes() if op is not self]

    def worker_finished(self, name):
        with self._done:
            self._finished.append(name)
            self._done.notify_all()

    def run_worker(self, name, timeout=10.0):
        """Let worker ``name`` compute once and wait until it has (called from another thread)."""
        worker = next(op for op in self.workers() if op.name == name)
        with self._done:
            before = len(self._finished)
            worker.async_condition.event_state = AsynchronousEventState.EVENT_DONE
            if not self._done.wait_for(lambda: len(self._finished) > before, timeout):
                raise TimeoutError(f"worker '{name}' did not run within {timeout} s")

    def shutdown(self):
        print(f"[{self.name}] Shutting down controller")
        for worker in self.workers():
            worker.async_condition.event_state = AsynchronousEventState.EVENT_NEVER
        self.async_condition.event_state = AsynchronousEventState.EVENT_DONE


class ExecutionControlApp(Application):
    def compose(self):
        self.controller = Controller(self, name="controller")
        self.add_operator(self.controller)
        for name in ("op1", "op2", "op3"):
            self.add_operator(Worker(self, name=name, report=self.controller.worker_finished))
        print("The workers wait in WAIT; the main thread runs them one by one (op3, op2, op1)")
        print("through their async_condition, then shuts the application down.")
        print("-------------------------------------------------------------------")


def main():
    app = ExecutionControlApp()
    app.scheduler(EventBasedScheduler(app, name="EBS", worker_thread_number=3))
    app.compose_graph()  # app.controller exists from here on; run() does not compose again
    future = app.run_async()
    controller = app.controller
    try:
        while not controller.started.wait(0.05):
            if future.done():
                future.result()  # the run failed before the controller started: raise why
        for name in ("op3", "op2", "op1"):
            controller.run_worker(name)
        controller.shutdown()
    except BaseException:
        app.stop_execution()  # never leave the run waiting for events that will not come
        raise
    future.result()
    print("-------------------------------------------------------------------")
    print("Application completed. All operators have finished execution.")


if __name__ == "__main__":
    main()
