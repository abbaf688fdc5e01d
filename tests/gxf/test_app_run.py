"""GXF application files run: the guides' two listings, Python codelets under every
scheduler, queues, terms, resources and schedulers as declared, several files, registration."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from holoflow.cli import main
from holoflow.conditions import (
    BooleanCondition,
    CountCondition,
    DownstreamMessageAffordableCondition,
    MessageAvailableCondition,
    PeriodicCondition,
)
from holoflow.core import Application, ConditionType, IOSpec, QueuePolicy
from holoflow.gxf import Codelet, GXFReader, Registrar, load_app, register_type
from holoflow.operators import VideoStreamRecorderOp, VideoStreamReplayerOp
from holoflow.resources import BlockMemoryPool, ManualClock, RealtimeClock
from holoflow.schedulers import EventBasedScheduler, GreedyScheduler, MultiThreadScheduler

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "gxf_apps"
BASENAME = "surgical_video_384x216"


@pytest.fixture
def in_data_folder(tmp_path, monkeypatch, sample_data):
    """Work in a folder whose data/endoscopy holds the endoscopy sample recording."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "endoscopy").symlink_to(sample_data)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_replayer_to_recorder_listing_records_what_the_python_graph_records(in_data_folder):
    # The listing as written, but replayed as fast as possible instead of at the recorded rate.
    text = (EXAMPLES / "replayer_recorder.yaml").read_text()
    assert text.count("realtime: true") == 1
    Path("app.yaml").write_text(text.replace("realtime: true", "realtime: false"))
    assert main(["run", "app.yaml", "--extension", str(EXAMPLES / "my_recorder.py")]) == 0

    class Python(Application):
        def compose(self):
            replayer = VideoStreamReplayerOp(
                self, name="replayer", directory="data/endoscopy", basename=BASENAME, realtime=False
            )
            recorder = VideoStreamRecorderOp(self, name="recorder", directory="py", basename="tensor_out")
            self.add_flow(replayer, recorder)

    Python([]).run()
    yaml_run, python_run = Path("out/tensor_out"), Path("py/tensor_out")
    entities = yaml_run.with_suffix(".gxf_entities").read_bytes()
    assert entities == python_run.with_suffix(".gxf_entities").read_bytes()
    # The index's log times are wall-clock times of writing; sizes and offsets must match.
    index = np.fromfile(yaml_run.with_suffix(".gxf_index"), "<u8").reshape(-1, 3)
    expected = np.fromfile(python_run.with_suffix(".gxf_index"), "<u8").reshape(-1, 3)
    assert len(index) == 300
    assert np.array_equal(index[:, 1:], expected[:, 1:])
    with GXFReader("data/endoscopy", BASENAME) as source, GXFReader("out", "tensor_out") as copy:
        assert np.array_equal(copy[17].tensors()[""], source[17].tensors()[""])


@pytest.mark.filterwarnings("ignore::holoflow.errors.CPUFallbackWarning")  # its pool is a device pool
def test_format_converter_listing_runs(in_data_folder):
    assert main(["run", str(EXAMPLES / "format_converter.yaml")]) == 0
    with GXFReader("data/endoscopy", BASENAME) as source, GXFReader("out", "converted") as converted:
        assert len(converted) == 30
        for frame in (0, 29):
            tensors = converted[frame].tensors()
            assert list(tensors) == ["source_video"]
            out = tensors["source_video"]
            assert out.dtype == np.float32 and out.shape == (216, 384, 3)
            assert np.array_equal(out, source[frame].tensors()[""].astype(np.float32))


def test_the_listing_names_its_codelet_by_a_dotted_module(in_data_folder, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))
    text = (EXAMPLES / "replayer_recorder.yaml").read_text().replace("realtime: true", "realtime: false")
    Path("app.yaml").write_text(text.replace("count: 0 ", "count: 5 "))
    load_app("app.yaml", extensions=["my_recorder"]).run()
    with GXFReader("out", "tensor_out") as copy:
        assert len(copy) == 5


class Source(Codelet):
    """Publishes 0, 1, 2, ... one per tick."""

    def register_interface(self, r: Registrar) -> None:
        r.transmitter("signal", "Output")
        r.parameter("start_at", "First value", default=0)

    def start(self) -> None:
        self.next = self.start_at

    def tick(self) -> None:
        self.signal.publish(self.next)
        self.next += 1


class Sink(Codelet):
    """Keeps what it receives and its lifecycle calls in ``log``."""

    log: list = []

    def register_interface(self, r: Registrar) -> None:
        r.receiver("signal", "Input")
        r.parameter("label", "Label", type=str)

    def initialize(self) -> None:
        Sink.log.append(("initialize", self.label, self.signal.name))

    def start(self) -> None:
        Sink.log.append("start")

    def tick(self) -> None:
        Sink.log.append(self.signal.receive())

    def stop(self) -> None:
        Sink.log.append("stop")

    def deinitialize(self) -> None:
        Sink.log.append("deinitialize")


register_type("test::Source", Source)
register_type("test::Sink", Sink)

_THREADS = "parameters: {worker_thread_number: 2, max_duration_ms: 20000}"
SCHEDULER_TYPES = {
    "greedy": "nvidia::gxf::GreedyScheduler\n  parameters: {max_duration_ms: 20000}",
    "multi": f"nvidia::gxf::MultiThreadScheduler\n  {_THREADS}",
    "event": f"nvidia::gxf::EventBasedScheduler\n  {_THREADS}",
}

CODELETS = """\
%YAML 1.2
---
name: source
components:
- name: out
  type: nvidia::gxf::DoubleBufferTransmitter
- type: test::Source
  parameters: {{signal: out, start_at: 10}}
- type: nvidia::gxf::CountSchedulingTerm
  parameters: {{count: 6}}
- type: nvidia::gxf::DownstreamReceptiveSchedulingTerm
  parameters: {{transmitter: out, min_size: 1}}
---
name: sink
components:
- name: in
  type: nvidia::gxf::DoubleBufferReceiver
  parameters: {{capacity: 2, policy: 2}}
- type: test::Sink
  parameters: {{signal: in, label: first}}
- type: nvidia::gxf::MessageAvailableSchedulingTerm
  parameters: {{receiver: in, min_size: 1}}
---
components:
- type: nvidia::gxf::Connection
  parameters: {{source: source/out, target: sink/in}}
---
name: scheduler
components:
- type: {scheduler}
"""


def test_python_codelets_run_under_every_scheduler(tmp_path, scheduler_kind):
    path = tmp_path / "codelets.yaml"
    path.write_text(CODELETS.format(scheduler=SCHEDULER_TYPES[scheduler_kind]))
    Sink.log = []
    app = load_app(path)
    app.run()
    scheduler_class = {"greedy": GreedyScheduler, "multi": MultiThreadScheduler, "event": EventBasedScheduler}
    assert type(app.scheduler()) is scheduler_class[scheduler_kind]
    assert Sink.log == [
        ("initialize", "first", "in"),
        "start",
        10,
        11,
        12,
        13,
        14,
        15,
        "stop",
        "deinitialize",
    ]


def _compose(tmp_path, text, name="app.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    app = load_app(path)
    app.compose_graph()
    return app, {op.name: op for op in app.graph.get_nodes()}


def test_queues_terms_resources_and_scheduler_are_as_declared(tmp_path):
    app, ops = _compose(
        tmp_path,
        """\
        name: tx
        components:
        - name: out
          type: nvidia::gxf::DoubleBufferTransmitter
          parameters: {capacity: 4, policy: 1}
        - type: holoscan::ops::PingTxOp
          parameters: {out: out}
        - name: every
          type: nvidia::gxf::PeriodicSchedulingTerm
          parameters: {recess_period: 30Hz}
        - name: switch
          type: nvidia::gxf::BooleanSchedulingTerm
          parameters: {enable_tick: false}
        - name: pool
          type: nvidia::gxf::BlockMemoryPool
          parameters: {storage_type: 2, block_size: 1024, num_blocks: 3}
        ---
        name: rx
        components:
        - name: in
          type: nvidia::gxf::DoubleBufferReceiver
          parameters: {capacity: 3, policy: 0}
        - type: holoscan::ops::PingRxOp
          parameters: {in: in}
        - name: wait
          type: nvidia::gxf::MessageAvailableSchedulingTerm
          parameters: {receiver: in, min_size: 2, front_stage_max_size: 3}
        - name: slow
          type: nvidia::gxf::PeriodicSchedulingTerm
          parameters: {recess_period: 100ms}
        - name: fast
          type: nvidia::gxf::PeriodicSchedulingTerm
          parameters: {recess_period: 2500}
        - name: five
          type: nvidia::gxf::CountSchedulingTerm
          parameters: {count: 5}
        ---
        components:
        - type: nvidia::gxf::Connection
          parameters: {source: tx/out, target: rx/in}
        ---
        name: sched
        components:
        - name: clock
          type: nvidia::gxf::ManualClock
        - type: nvidia::gxf::MultiThreadScheduler
          parameters: {clock: clock, worker_thread_number: 3, stop_on_deadlock: false, max_duration_ms: 500}
        """,
    )
    tx, rx = ops["tx"], ops["rx"]
    out, inp = tx.spec.outputs["out"], rx.spec.inputs["in"]
    assert (out._capacity(1), out._policy(QueuePolicy.FAULT)) == (4, QueuePolicy.REJECT)
    assert (inp._capacity(1), inp._policy(QueuePolicy.FAULT)) == (3, QueuePolicy.POP)
    # No DownstreamReceptive term on tx/out: its port waits for nothing, as in GXF.
    assert out.conditions == [(ConditionType.NONE, {})]
    assert inp.conditions == []
    wait = rx.conditions["wait"]
    assert isinstance(wait, MessageAvailableCondition)
    assert (wait.receiver_name, wait.min_size, wait.front_stage_max_size) == ("in", 2, 3)
    assert tx.conditions["every"].recess_period_ns() == 33_333_333
    assert (
        isinstance(tx.conditions["switch"], BooleanCondition)
        and not tx.conditions["switch"].check_tick_enabled()
    )
    assert rx.conditions["slow"].recess_period_ns() == 100_000_000
    assert rx.conditions["fast"].recess_period_ns() == 2500
    assert isinstance(rx.conditions["five"], CountCondition) and rx.conditions["five"].count == 5
    assert all(isinstance(c, PeriodicCondition) for n, c in rx.conditions.items() if n in ("slow", "fast"))
    pool = tx.resources["pool"]
    assert isinstance(pool, BlockMemoryPool) and (pool.block_size, pool.num_blocks) == (1024, 3)
    scheduler = app.scheduler()
    assert isinstance(scheduler, MultiThreadScheduler)
    assert (scheduler.worker_thread_number, scheduler.stop_on_deadlock, scheduler.max_duration_ms) == (
        3,
        False,
        500,
    )
    assert isinstance(scheduler.clock, ManualClock)
    [connection] = app.graph.connections
    assert (connection.source, connection.output, connection.target, connection.input) == (
        tx,
        "out",
        rx,
        "in",
    )


def test_a_term_on_the_transmitter_keeps_the_port_waiting(tmp_path):
    _, ops = _compose(
        tmp_path,
        """\
        name: tx
        components:
        - name: out
          type: nvidia::gxf::DoubleBufferTransmitter
        - type: holoscan::ops::PingTxOp
          parameters: {out: out}
        - type: nvidia::gxf::DownstreamReceptiveSchedulingTerm
          parameters: {transmitter: out, min_size: 1}
        """,
    )
    [term] = ops["tx"].conditions.values()
    assert isinstance(term, DownstreamMessageAffordableCondition) and term.transmitter_name == "out"
    assert ops["tx"].spec.outputs["out"].conditions == []


def test_several_files_make_one_graph(tmp_path):
    (tmp_path / "one.yaml").write_text(
        "name: tx\ncomponents:\n- {name: out, type: nvidia::gxf::DoubleBufferTransmitter}\n"
        "- {type: holoscan::ops::PingTxOp, parameters: {out: out}}\n"
    )
    (tmp_path / "two.yaml").write_text(
        "%YAML 1.2\n---\nname: rx\ncomponents:\n- {name: in, type: nvidia::gxf::DoubleBufferReceiver}\n"
        "- {type: holoscan::ops::PingRxOp, parameters: {in: in}}\n---\n"
        "name: tx\ncomponents:\n"
        "- {name: stop, type: nvidia::gxf::CountSchedulingTerm, parameters: {count: 2}}\n"
        "---\ncomponents:\n- {type: nvidia::gxf::Connection, parameters: {source: tx/out, target: rx/in}}\n"
    )
    app = load_app([tmp_path / "one.yaml", str(tmp_path / "two.yaml")])
    app.compose_graph()
    ops = {op.name: op for op in app.graph.get_nodes()}
    assert sorted(ops) == ["rx", "tx"]
    assert ops["tx"].conditions["stop"].count == 2  # the second file added a term to tx
    assert len(app.graph.connections) == 1
    assert isinstance(app.scheduler(), GreedyScheduler)  # none declared: holoflow's default


def test_a_clock_in_another_entity_and_a_realtime_clock(tmp_path):
    app, _ = _compose(
        tmp_path,
        """\
        name: clocks
        components:
        - {name: wall, type: nvidia::gxf::RealtimeClock, parameters: {initial_time_scale: 2.0}}
        ---
        components:
        - {type: nvidia::gxf::GreedyScheduler, parameters: {clock: clocks/wall}}
        """,
    )
    assert isinstance(app.scheduler().clock, RealtimeClock)


def test_every_builtin_operator_has_a_type_name(tmp_path):
    from holoflow import operators
    from holoflow.gxf._app import _registry

    names = {entry.cls.__name__: entry.name for entry in _registry.operator_entries()}
    assert set(names) == set(operators.__all__) - {"GXFCodeletOp"}
    assert (
        _registry.lookup("nvidia::holoscan::stream_playback::VideoStreamReplayer").cls
        is VideoStreamReplayerOp
    )
    assert (
        _registry.lookup("nvidia::holoscan::formatconverter::FormatConverter").cls
        is operators.FormatConverterOp
    )
    assert _registry.lookup("nvidia::holoscan::Holoviz").cls is operators.HolovizOp
    for class_name in names:
        # Each one composes from a file naming it by holoscan::ops::<ClassName>.
        path = tmp_path / f"{class_name}.yaml"
        path.write_text(f"name: op\ncomponents:\n- type: holoscan::ops::{class_name}\n")
        app = load_app(path)
        app.compose_graph()
        assert type(app.graph.get_nodes()[0]).__name__ == class_name


def test_codelets_register_through_an_entry_point(tmp_path, monkeypatch):
    package = tmp_path / "site"
    package.mkdir()
    (package / "ep_codelets.py").write_text(
        "from holoflow.gxf import Codelet\n\n"
        "class Counter(Codelet):\n"
        "    def register_interface(self, r):\n"
        "        r.transmitter('out')\n"
    )
    info = package / "ep_codelets-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-codelets\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[holoflow.gxf_codelets]\nacme::Counter = ep_codelets:Counter\n")
    monkeypatch.syspath_prepend(str(package))
    path = tmp_path / "app.yaml"
    path.write_text("name: c\ncomponents:\n- {name: out, type: nvidia::gxf::DoubleBufferTransmitter}\n"
                    "- {type: 'acme::Counter', parameters: {out: out}}\n")  # fmt: skip
    app = load_app(path)
    app.compose_graph()
    [op] = app.graph.get_nodes()
    assert type(op.codelet).__name__ == "Counter" and list(op.spec.outputs) == ["out"]


def test_register_type_refuses_what_it_cannot_run():
    with pytest.raises(TypeError, match="Codelet or holoflow.core.Operator subclass"):
        register_type("test::Nothing", object)
    with pytest.raises(ValueError, match="built-in type name"):
        register_type("nvidia::gxf::GreedyScheduler", Source)


def test_importing_holoflow_gxf_leaves_the_app_loader_unloaded():
    code = "import sys, holoflow.gxf; print('holoflow.gxf._app' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["False"]


def test_old_run_behaviour_is_kept(capsys):
    assert main(["run", "no_such_app"]) == 2
    assert "give a sample app" in capsys.readouterr().err
    assert IOSpec.ConnectorType.DOUBLE_BUFFER  # the connector app files use


def test_list_ports_multi_port_and_expiring_terms(tmp_path):
    _, ops = _compose(
        tmp_path,
        """\
        name: viz
        components:
        - {name: a, type: nvidia::gxf::DoubleBufferReceiver, parameters: {capacity: 2}}
        - {name: b, type: nvidia::gxf::DoubleBufferReceiver, parameters: {capacity: 5}}
        - {name: eye, type: nvidia::gxf::DoubleBufferReceiver}
        - {name: look, type: nvidia::gxf::DoubleBufferReceiver}
        - {name: up, type: nvidia::gxf::DoubleBufferReceiver}
        - {name: clock, type: nvidia::gxf::RealtimeClock}
        - type: nvidia::holoscan::Holoviz
          parameters: {receivers: [a, b], camera_eye_input: eye, camera_look_at_input: look,
                       camera_up_input: up, headless: true}
        - type: nvidia::gxf::MultiMessageAvailableSchedulingTerm
          parameters: {receivers: [eye, look], sampling_mode: SumOfAll, min_sum: 2}
        - name: late
          type: nvidia::gxf::ExpiringMessageAvailableSchedulingTerm
          parameters: {receiver: up, max_batch_size: 3, max_delay_ns: 1000000, clock: clock}
        """,
    )
    viz = ops["viz"]
    assert viz.headless is True
    assert viz.spec.inputs["receivers"]._capacity(2) == 5  # the largest of its queues
    [multi] = viz.spec.multi_port_conditions()
    assert multi.kind is ConditionType.MULTI_MESSAGE_AVAILABLE
    assert list(multi.port_names) == ["camera_eye_input", "camera_look_at_input"]
    assert {arg.name: arg.value for arg in multi.args.args} == {"sampling_mode": "SumOfAll", "min_sum": 2}
    late = viz.conditions["late"]
    assert (type(late).__name__, late.receiver_name, late.max_batch_size) == (
        "ExpiringMessageAvailableCondition",
        "camera_up_input",
        3,
    )
