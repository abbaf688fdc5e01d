"""``Application``: the fragment a program runs, with its command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from holoflow import _env
from holoflow.core._cli_options import CLIOptions
from holoflow.core._fragment import Fragment
from holoflow.core._fragment_graph import FragmentFlowGraph
from holoflow.core._tracking import DataFlowTracker
from holoflow.errors import ConfigError, NotSupportedError

__all__ = ["Application"]


class Application(Fragment):
    """The top-level fragment of a program.

    Parameters
    ----------
    argv : sequence of str, optional
        Command line (default ``sys.argv``). ``--config PATH`` is taken out of it and wins
        over ``config(path)``; :attr:`argv` holds what remains.
    strict : bool, optional
        Strict mode (keyword only; holoflow's, Holoscan has none): an argument that names no
        declared parameter of an operator, condition or resource raises ``ConfigError``
        instead of warning (``UnknownParameterWarning``) and being ignored. Left out, the
        environment variable ``HOLOFLOW_STRICT`` decides (``1`` turns it on).
    """

    def __init__(
        self, argv: Sequence[str] | None = None, *args: Any, strict: bool | None = None, **kwargs: Any
    ) -> None:
        if strict is not None and not isinstance(strict, bool):
            raise TypeError(f"Application(strict=...) takes a bool, not {type(strict).__name__}")
        self._strict = strict
        self._config = None
        self._cli_config, self._argv = _split_argv(list(argv) if argv else list(sys.argv))
        super().__init__(None, kwargs.pop("name", ""), *args, **kwargs)
        self._app = self
        self._fragment_graph = FragmentFlowGraph()
        self.description = ""
        """A description of the application (Holoscan prints it with ``--help``)."""
        self.version = "0.0.0"
        """The application's version string."""

    @property
    def options(self) -> Any:
        """What the command line said, as a :class:`~holoflow.core.CLIOptions`: ``config_path``
        from ``--config``; the distributed options keep their defaults (holoflow runs the
        application in one process). A subclass may assign its own options object instead."""
        own = vars(self).get("_options")
        return own if own is not None else CLIOptions(config_path=self._cli_config or "")

    @options.setter
    def options(self, value: Any) -> None:
        self._options = value

    def add_fragment(self, frag: Fragment) -> None:
        """Holoscan's distributed applications compose several fragments; holoflow runs an
        application as one fragment, so this raises.

        Raises
        ------
        holoflow.errors.NotSupportedError
            Always: add the fragment's operators to the application itself instead.
        """
        raise NotSupportedError(
            f"add_fragment({getattr(frag, 'name', frag)!r}): holoflow runs an application as one "
            "fragment in one process (no distributed applications); create the operators with the "
            "application as their fragment and connect them with add_flow"
        )

    def track_distributed(
        self,
        num_start_messages_to_skip: int = 10,
        num_last_messages_to_discard: int = 10,
        latency_threshold: int = 0,
        is_limited_tracking: bool = False,
        *,
        sample_every: int = 1,
        operator_timing: bool = False,
    ) -> dict[str, DataFlowTracker]:
        """Track every fragment of a multi-fragment application (see :meth:`Fragment.track`);
        return the trackers by fragment name. Paths are measured within each fragment."""
        self.compose_graph()
        return {
            frag.name: frag.track(
                num_start_messages_to_skip,
                num_last_messages_to_discard,
                latency_threshold,
                is_limited_tracking,
                sample_every=sample_every,
                operator_timing=operator_timing,
            )
            for frag in self._fragment_graph.get_nodes()
        }

    @property
    def fragment_graph(self) -> FragmentFlowGraph:
        """The graph of the application's fragments and their connections: empty, as Holoscan's is
        for a single-fragment application (holoflow runs every application as one fragment)."""
        return self._fragment_graph

    @property
    def is_strict(self) -> bool:
        """Whether strict mode is on: the ``strict`` option given to the constructor, else the
        environment variable ``HOLOFLOW_STRICT`` (read now)."""
        return self._strict if self._strict is not None else _env.strict()

    @property
    def argv(self) -> list[str]:
        """The command line without holoflow's own options."""
        return list(self._argv)

    def _config_override(self) -> str | None:
        return self._cli_config or super()._config_override()


def _split_argv(argv: list[str]) -> tuple[str | None, list[str]]:
    config: str | None = None
    rest: list[str] = []
    items = iter(argv)
    for item in items:
        if item == "--config":
            config = next(items, None)
            if config is None:
                raise ConfigError("--config needs a path")
        elif item.startswith("--config="):
            config = item.split("=", 1)[1]
        else:
            rest.append(item)
    if config is not None:
        config = os.fspath(config)
    return config, rest or [""]
