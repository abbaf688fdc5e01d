"""``Application``: the fragment a program runs, with its command line."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from holoflow import _env
from holoflow.core._fragment import Fragment
from holoflow.core._fragment_graph import FragmentFlowGraph
from holoflow.errors import ConfigError

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
