"""``Application``: the fragment a program runs, with its command line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from holoflow import _env
from holoflow.core._cli import parse_cli
from holoflow.core._fragment import Fragment
from holoflow.core._fragment_graph import FragmentFlowGraph
from holoflow.core._operator import Operator
from holoflow.core._spec import IOSpec
from holoflow.core._subgraph import Subgraph
from holoflow.core._tracking import DataFlowTracker
from holoflow.errors import GraphError

__all__ = ["Application", "set_fragment_graph_runner"]

_fragment_graph_runner: Callable[[Application], None] | None = None


def set_fragment_graph_runner(runner: Callable[[Application], None]) -> None:
    """Install what :meth:`Application.run` calls for an application with fragments
    (``holoflow.distributed`` installs its runner when it is imported)."""
    global _fragment_graph_runner
    _fragment_graph_runner = runner


class Application(Fragment):
    """The top-level fragment of a program.

    Parameters
    ----------
    argv : sequence of str, optional
        Command line, program first (default ``sys.argv``). Holoscan's options are taken out of
        it (see :func:`holoflow.core._cli.parse_cli`) into :attr:`options`; ``--config PATH``
        wins over ``config(path)``; :attr:`argv` holds what remains, without the program
        (Holoscan's rule; with the default command line it starts with the script).
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
        self.version = "0.0.0"
        """The application's version string (``--version`` prints it)."""
        command = [str(item) for item in argv] if argv else [sys.executable, *sys.argv]
        self._cli_options, self._argv = parse_cli(command, version=self.version)
        self._cli_config = self._cli_options.config_path or None
        super().__init__(None, kwargs.pop("name", ""), *args, **kwargs)
        self._app = self
        self._holoflow_runtime: Any = None
        """What runs the fragments while a run of an application with fragments is on."""
        self._fragment_graph = FragmentFlowGraph()
        self.description = ""
        """A description of the application (Holoscan prints it with ``--help``)."""

    @property
    def options(self) -> Any:
        """What the command line said, as a :class:`~holoflow.core.CLIOptions` (``--driver``,
        ``--worker``, ``--address``, ``--worker-address``, ``--fragments``, ``--config``). A
        subclass may assign its own options object instead."""
        own = vars(self).get("_options")
        return own if own is not None else self._cli_options

    @options.setter
    def options(self, value: Any) -> None:
        self._options = value

    def add_fragment(self, frag: Fragment) -> None:
        """Add ``frag`` to the application's fragment graph.

        Raises
        ------
        TypeError
            If ``frag`` is not a :class:`Fragment` (or is an Application).
        holoflow.errors.GraphError
            If another fragment already has its name.
        """
        self._fragment_graph.add_node(_as_fragment(frag))

    def add_flow(  # type: ignore[override]
        self,
        upstream_op: Operator | Subgraph | Fragment,
        downstream_op: Operator | Subgraph | Fragment,
        port_pairs: Iterable[tuple[str, str]] | IOSpec.ConnectorType | None = None,
        connector_type: IOSpec.ConnectorType | None = None,
    ) -> None:
        """Connect two operators (see :meth:`Fragment.add_flow`), or two fragments.

        For fragments, ``port_pairs`` is a set of ``("op.port", "op.port")`` pairs naming an
        output of an operator of ``upstream_op`` and an input of an operator of
        ``downstream_op``; a bare ``"op"`` stands for its only output (or input). The names
        are checked when the application runs, once the fragments are composed.

        Raises
        ------
        holoflow.errors.GraphError
            ``"Unable to add fragment flow with empty port_pairs"`` when no pair is given, or
            when the pairs are not ``(str, str)`` tuples.
        """
        if not isinstance(upstream_op, Fragment) or not isinstance(downstream_op, Fragment):
            if isinstance(upstream_op, Fragment) or isinstance(downstream_op, Fragment):
                raise TypeError("add_flow connects two fragments, or two operators/subgraphs, not a mix")
            super().add_flow(upstream_op, downstream_op, port_pairs, connector_type)
            return
        source, target = _as_fragment(upstream_op), _as_fragment(downstream_op)
        if isinstance(port_pairs, IOSpec.ConnectorType) or not port_pairs:
            raise GraphError("Unable to add fragment flow with empty port_pairs")
        pairs = list(port_pairs)
        for pair in pairs:
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
                raise GraphError(
                    f"add_flow({source.name!r}, {target.name!r}): port pairs must be "
                    f"('operator.port', 'operator.port') tuples of str, got {pair!r}"
                )
        self._fragment_graph.add_flow(source, target, pairs)

    def run(self) -> None:
        """Compose (once) and run the application until it finishes.

        With fragments (:meth:`add_fragment`, or ``add_flow`` between fragments) every fragment
        runs in this process, each on its own thread, joined by in-process links, or, with
        ``--driver``/``--worker``, in the processes the command lines place them in (see
        ``docs/distributed.md``); otherwise the application runs as one fragment.

        Raises
        ------
        Exception
            Whatever an operator raised (for fragments: the first one, with a note naming the
            fragment; the other fragments are stopped).
        holoflow.errors.GraphError
            If the graph is invalid, or both fragments and operators were added.
        holoflow.errors.DistributedError
            If a run across processes (``--driver``, ``--worker``) fails: a worker or the
            driver was lost, refused, or the run was aborted.
        """
        self.compose_graph()
        if not len(self._fragment_graph):
            super().run()
            return
        if not self._run_lock.acquire(blocking=False):
            raise GraphError(f"application '{self.name}' is already running")
        try:
            if _fragment_graph_runner is None:
                raise GraphError(
                    f"application '{self.name}' has fragments, and nothing that runs them is loaded "
                    "(import holoflow.distributed)"
                )
            _fragment_graph_runner(self)
        finally:
            self._run_lock.release()

    def stop_execution(self, op_name: str = "") -> None:
        """Stop the run (every fragment of it), or only operator ``op_name`` of the application
        graph; safe from any thread.

        Raises
        ------
        holoflow.errors.GraphError
            If no operator is called ``op_name``.
        """
        runtime = self._holoflow_runtime
        if runtime is not None and not op_name:
            runtime.stop()
            return
        super().stop_execution(op_name)

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
        """The graph of the application's fragments and their connections (empty for an
        application that adds operators, not fragments)."""
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


def _as_fragment(frag: Any) -> Fragment:
    if not isinstance(frag, Fragment) or isinstance(frag, Application):
        raise TypeError(f"an application's fragments are Fragment objects, not {type(frag).__name__}")
    return frag
