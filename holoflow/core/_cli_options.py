"""``CLIOptions``: the options an application took from its command line (``app.options``)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["CLIOptions"]


class CLIOptions:
    """What an application's command line said.

    Filled from Holoscan's options (``holoflow.core._cli``): ``--driver``, ``--worker``,
    ``--address``, ``--worker-address``, ``--fragments`` (split at commas) and ``--config``;
    an option not given keeps its default.
    """

    def __init__(
        self,
        run_driver: bool = False,
        run_worker: bool = False,
        driver_address: str = "",
        worker_address: str = "",
        worker_targets: Iterable[str] = (),
        config_path: str = "",
    ) -> None:
        self.run_driver = bool(run_driver)
        self.run_worker = bool(run_worker)
        self.driver_address = str(driver_address)
        self.worker_address = str(worker_address)
        self.worker_targets = [str(target) for target in worker_targets]
        self.config_path = str(config_path)

    def print(self) -> None:
        """Print the options, one per line."""
        print(self._text("\n"))

    def _text(self, separator: str) -> str:
        return separator.join(
            [
                f"run_driver:{self.run_driver}",
                f"run_worker:{self.run_worker}",
                f"driver_address:{self.driver_address!r}",
                f"worker_address:{self.worker_address!r}",
                f"worker_targets:{','.join(self.worker_targets)}",
                f"config_path:{self.config_path!r}",
            ]
        )

    def __repr__(self) -> str:
        return f"<holoflow.core.CLIOptions: {self._text(' ')}>"
