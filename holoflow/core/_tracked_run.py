"""Data-flow tracking inside a run: which contexts each operator gets, and its ``compute`` wrapper.

Only a run of a fragment with a tracker (``Fragment.track``) builds a :class:`TrackedRun`; an
untracked run uses the plain contexts and does no tracking work at all.

Per message the hot path does as little as it can (see ``_tracked_contexts`` for the labels):

* an operator between roots and leaves has no ``compute`` wrapper: its ``receive`` keeps the
  message's label and its ``emit`` wraps what it sends in one envelope with the extended label;
* a root's wrapper notes when ``compute`` began (or 0 when sampling leaves this compute out),
  and its ``emit`` counts the message;
* a leaf's wrapper appends the label and the end of ``compute`` to its *sink*
  (:class:`OperatorSink`), which the tracker folds into its metrics a batch at a time
  (:meth:`DataFlowTracker._fold`): no lock and no arithmetic per message.

Operators that may act as roots without being ones (on a data cycle, or with an input that may
be empty when ``compute`` runs) get the root's wrapper too, so a path they start is timed from
their ``compute``. With hop times kept (file logging or operator timing) every operator uses the
general contexts and a wrapper that also times each ``compute``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from time import time_ns
from typing import TYPE_CHECKING, Any

from holoflow.core._flow import EXEC_PORTS, data_ports
from holoflow.core._tracked_contexts import (
    ChainInput,
    ChainOutput,
    Label,
    RootOutput,
    TrackedInputContext,
    TrackedOutputContext,
)

if TYPE_CHECKING:
    from holoflow.core._context import InputContext, InputPort, OutputContext
    from holoflow.core._flow import Compute
    from holoflow.core._graph import OperatorGraph
    from holoflow.core._queue import Transmitter
    from holoflow.core._run import OpRun
    from holoflow.core._tracking import DataFlowTracker

__all__ = ["FOLD_BATCH", "OperatorSink", "TrackedRun", "cyclic_operators"]

FOLD_BATCH = 4096
"""Buffered completions (or compute times) that make an operator fold the tracker's buffers."""


class OperatorSink:
    """What one operator buffers for the tracker: the labels of the paths it completed and when
    (``labels`` and ``ends``, appended in that order) and, with operator timing, its compute
    durations and queue times (ns)."""

    __slots__ = ("computes", "ends", "labels", "name", "queue_times")

    def __init__(self, name: str, timing: bool) -> None:
        self.name = name
        self.labels: deque[Label] = deque()
        self.ends: deque[int] = deque()
        self.computes: deque[int] | None = deque() if timing else None
        self.queue_times: deque[int] | None = deque() if timing else None

    def add(self, label: Label, end: int) -> None:
        """Note that ``label``'s paths ended at ``end`` (ns)."""
        self.labels.append(label)
        self.ends.append(end)


class TrackedRun:
    """The tracking part of one run: builds each operator's contexts and wrapper, and hands the
    tracker the buffers to fold and the roots' message counts.

    Settings read from ``tracker`` when the run is built (hop times, limited tracking,
    sampling, operator timing) hold for the whole run.
    """

    def __init__(self, tracker: DataFlowTracker, graph: OperatorGraph) -> None:
        self.tracker = tracker
        self.cyclic = cyclic_operators(graph)
        self.timed = tracker._hop_times_wanted()
        self.timing = tracker.operator_timing()
        self.limited = tracker.limited_tracking()
        self.every = tracker.sampling()
        self.sinks: dict[str, OperatorSink] = {}

    def contexts(
        self,
        op_run: OpRun,
        data_inputs: dict[str, InputPort],
        data_outputs: dict[str, Transmitter],
        input_class: type[TrackedInputContext] | None = None,
        output_class: type[TrackedOutputContext] | None = None,
    ) -> tuple[TrackedInputContext, TrackedOutputContext]:
        """``op_run``'s tracked contexts (its ports built); ``input_class`` / ``output_class``
        force general classes (data loggers use subclasses of them)."""
        name = op_run.op.name
        root, leaf = _is_root(data_inputs), _is_leaf(data_outputs)
        cyclic = name in self.cyclic
        passes = self.limited and not root and not leaf
        timed = self.timed and not passes
        sink = OperatorSink(name, self.timing)
        if leaf or cyclic or self.timing:
            self.sinks[name] = sink
            self.tracker._register(self, sink)
        lean = not (self.timed or cyclic or input_class or output_class)
        inputs: TrackedInputContext
        if lean and len(data_inputs) == 1:
            inputs = ChainInput(op_run.label, data_inputs, op_run.streams, name)
        else:
            inputs = (input_class or TrackedInputContext)(
                op_run.label,
                data_inputs,
                op_run.streams,
                name,
                timed=timed,
                cyclic=cyclic,
                sink=sink,
                queue_times=sink.queue_times if timed else None,
            )
        cls = output_class or TrackedOutputContext
        if lean and root:
            cls = RootOutput
        elif lean and type(inputs) is ChainInput and not passes:
            cls = ChainOutput
        outputs = cls(
            op_run.label,
            data_outputs,
            op_run.streams,
            inputs,
            timed=timed,
            passes=passes,
            root=root,
            every=self.every,
        )
        if root:
            assert outputs.sent is not None
            self.tracker._add_source_counts(name, outputs.sent)
        return inputs, outputs

    def finish(self) -> None:
        """Hand the tracker this run's last buffered results (when the run stops)."""
        self.tracker._finish_run(self)

    def wrap(self, op_run: OpRun) -> Compute:
        """``op_run.compute`` (already built) with the operator's tracking steps around it, or
        unchanged when it needs none (an operator between roots and leaves)."""
        compute = op_run.compute
        inputs, outputs = op_run.inputs, op_run.outputs
        assert isinstance(inputs, TrackedInputContext) and isinstance(outputs, TrackedOutputContext)
        acts_as_root = _acts_as_root(op_run, self.cyclic)
        leaf = _is_leaf(data_ports(op_run.transmitters))
        sink = self.sinks.get(op_run.op.name)
        fold = self.tracker._fold
        every = self.every
        if self.timing or self.timed or op_run.op.name in self.cyclic:  # cycles: paths end here too
            return _general(compute, inputs, outputs, sink, fold, acts_as_root, leaf, every)
        if leaf:
            assert sink is not None
            if acts_as_root or type(inputs) is not ChainInput:
                return _general(compute, inputs, outputs, sink, fold, acts_as_root, leaf, every)
            labels, ends = sink.labels.append, sink.ends

            def tracked_leaf(op_input: InputContext, op_output: OutputContext, context: Any) -> None:
                compute(op_input, op_output, context)
                label = inputs.label
                if label:
                    inputs.label = None
                    labels(label)  # type: ignore[arg-type]  # truthy: a label
                    ends.append(time_ns())
                    if len(ends) >= FOLD_BATCH:
                        fold(sink)

            return tracked_leaf
        if acts_as_root:
            if every == 1:

                def tracked_root(op_input: InputContext, op_output: OutputContext, context: Any) -> None:
                    outputs.start = time_ns()
                    compute(op_input, op_output, context)

                return tracked_root

            countdown = 0

            def sampled_root(op_input: InputContext, op_output: OutputContext, context: Any) -> None:
                nonlocal countdown
                if countdown:
                    countdown -= 1
                    compute(op_input, op_output, context)
                    return
                countdown = every - 1
                outputs.start = time_ns()
                try:
                    compute(op_input, op_output, context)
                finally:
                    outputs.start = 0

            outputs.start = 0
            return sampled_root
        return compute


def _general(
    compute: Compute,
    inputs: TrackedInputContext,
    outputs: TrackedOutputContext,
    sink: OperatorSink | None,
    fold: Callable[[OperatorSink], None],
    acts_as_root: bool,
    leaf: bool,
    every: int,
) -> Compute:
    """The wrapper for every other case: sampling and start (operators that may act as roots),
    compute times (operator timing), completed paths (leaves)."""

    def tracked(op_input: InputContext, op_output: OutputContext, context: Any) -> None:
        begin = time_ns()
        if acts_as_root:
            if outputs._countdown:
                outputs._countdown -= 1
                outputs.start = 0
            else:
                outputs._countdown = every - 1
                outputs.start = begin
        compute(op_input, op_output, context)
        if sink is None:
            return
        end = time_ns()
        computes, queue_times = sink.computes, sink.queue_times
        if computes is not None:
            computes.append(end - begin)
        if leaf:
            label = inputs.current()
            if label:
                inputs.forget()
                sink.add(label, end)  # type: ignore[arg-type]  # truthy: a label
        if (
            len(sink.ends) >= FOLD_BATCH
            or (computes is not None and len(computes) >= FOLD_BATCH)
            or (queue_times is not None and len(queue_times) >= FOLD_BATCH)
        ):
            fold(sink)

    return tracked


def _is_root(data_inputs: dict[str, InputPort]) -> bool:
    return not any(port.receivers for port in data_inputs.values())


def _is_leaf(data_outputs: dict[str, Transmitter]) -> bool:
    return not any(transmitter.receivers for transmitter in data_outputs.values())


def _acts_as_root(op_run: OpRun, cyclic: set[str]) -> bool:
    """Whether the operator may emit holding no label: a root, an operator on a data cycle, or
    one that may run with an empty input."""
    data_inputs = data_ports(op_run.input_ports)
    return _is_root(data_inputs) or op_run.op.name in cyclic or not _always_fed(op_run, data_inputs)


def _always_fed(op_run: OpRun, data_inputs: dict[str, InputPort]) -> bool:
    """Whether every connected data input must hold a message for the operator to run (the
    default ``MessageAvailableCondition`` on each of its queues)."""
    guarded = {id(queue) for queue, n in op_run.need if n >= 1}
    return all(id(receiver.queue) in guarded for port in data_inputs.values() for receiver in port.receivers)


def cyclic_operators(graph: OperatorGraph) -> set[str]:
    """The names of the operators on a cycle of data connections."""
    successors: dict[str, set[str]] = {}
    for connection in graph.connections:
        if connection.output in EXEC_PORTS or connection.input in EXEC_PORTS:
            continue
        successors.setdefault(connection.source.name, set()).add(connection.target.name)
    cyclic = set()
    for start in successors:
        seen: set[str] = set()
        todo = list(successors[start])
        while todo:
            node = todo.pop()
            if node == start:
                cyclic.add(start)
                break
            if node not in seen:
                seen.add(node)
                todo.extend(successors.get(node, ()))
    return cyclic
