"""``--driver`` and ``--worker``: the roles one process plays in a distributed run.

:func:`run_roles` runs the driver (``--driver``), a worker (``--worker``) or both in this
process. With both, the driver serves on a thread and the worker joins it over loopback like any
other; when the run fails, the driver's error (the failed fragment's own exception) is the one
raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from holoflow.distributed._allocator import keep_message_memory
from holoflow.distributed._driver import Driver, run_driver_thread
from holoflow.distributed._worker import Worker

if TYPE_CHECKING:
    from holoflow.core import Application

__all__ = ["run_roles"]


def run_roles(app: Application, options: Any) -> None:
    """Play the roles ``options`` names (``run_driver``, ``run_worker``) until the run ends.

    Raises
    ------
    Exception
        The run's error: on the driver, the failed fragment's exception (or a
        :class:`~holoflow.errors.DistributedError` for a lost worker or a refused schedule); on a
        worker, its own fragment's exception or the abort.
    """
    if not options.run_driver:
        _run_worker(app, options)
        return
    driver = Driver(app, options.driver_address)
    app._holoflow_runtime = driver
    try:
        if not options.run_worker:
            driver.run()
            return
        thread, driver_errors = run_driver_thread(driver)
        try:
            _run_worker(app, options)
        except BaseException as worker_error:
            driver.stop()
            thread.join(5.0)
            if driver_errors:
                raise driver_errors[0] from None
            raise worker_error
        thread.join()
        if driver_errors:
            raise driver_errors[0]
    finally:
        app._holoflow_runtime = None


def _run_worker(app: Application, options: Any) -> None:
    keep_message_memory()
    Worker(app, options.driver_address, options.worker_address, options.worker_targets).run()
