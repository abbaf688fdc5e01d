"""VideoStreamReplayerOp and VideoStreamRecorderOp in running graphs."""

from __future__ import annotations

import hashlib
import json
import logging
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from holoflow.core import Operator
from holoflow.errors import CodecError, ConfigError, GXFFormatError
from holoflow.gxf import GXFReader, GXFWriter, recording_paths
from holoflow.operators import VideoStreamRecorderOp, VideoStreamReplayerOp
from holoflow.resources import ManualClock
from holoflow.schedulers import GreedyScheduler
from holoflow.testing import Recorder, Source

CONFORMANCE = Path(__file__).resolve().parents[1] / "data" / "gxf-holoscan-4.6"


class Stamps(Recorder):
    """Records (clock timestamp, message)."""

    def __init__(self, fragment, clock, *args, **kwargs):
        self.clock = clock
        super().__init__(fragment, *args, **kwargs)

    def compute(self, op_input, op_output, context):
        self.received.append((self.clock.timestamp(), op_input.receive("in")))


def digest(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


@pytest.mark.parametrize("recording", ["rgb_u8", "named_f32", "multi", "scalar_u32"])
def test_replayer_emits_the_recorded_tensors(app, use_scheduler, recording):
    manifest = json.loads((CONFORMANCE / "manifest.json").read_text())[recording]["frames"]
    replayer = VideoStreamReplayerOp(
        app, name="replayer", directory=str(CONFORMANCE), basename=recording, realtime=False
    )
    app.add_flow(replayer, rx := Recorder(app, name="rx"))
    use_scheduler(app)
    app.run()
    assert len(rx.received) == len(manifest)
    for message, expected in zip(rx.received, manifest, strict=True):
        assert {name: digest(np.asarray(t)) for name, t in message.items()} == {
            name: spec["sha256_of_c_order_bytes"] for name, spec in expected.items()
        }


def test_frame_rate_pacing_under_a_manual_clock(app):
    clock = ManualClock(app)
    replayer = VideoStreamReplayerOp(
        app, name="replayer", directory=str(CONFORMANCE), basename="rgb_u8", frame_rate=25.0
    )
    app.add_flow(replayer, rx := Stamps(app, clock, name="rx"))
    app.scheduler(GreedyScheduler(app, clock=clock))
    app.run()
    assert [t for t, _ in rx.received] == [0, 40_000_000, 80_000_000, 120_000_000]


def test_pacing_follows_recorded_log_times_and_repeats(app, tmp_path):
    with GXFWriter(tmp_path, "clip") as writer:
        for i, log_time in enumerate([1_000, 11_000_000, 31_000_000]):  # gaps of ~11 ms and 20 ms
            writer.write({"": np.full((2, 2), i, np.uint8)}, log_time=log_time)
    clock = ManualClock(app)
    replayer = VideoStreamReplayerOp(
        app, name="replayer", directory=str(tmp_path), basename="clip", repeat=True, count=7
    )
    app.add_flow(replayer, rx := Stamps(app, clock, name="rx"))
    app.scheduler(GreedyScheduler(app, clock=clock))
    app.run()
    times = [t for t, _ in rx.received]
    values = [int(np.asarray(m[""])[0, 0]) for _, m in rx.received]
    assert values == [0, 1, 2, 0, 1, 2, 0]
    loop = 31_000_000 - 1_000
    assert times == [0, 10_999_000, loop, loop, loop + 10_999_000, 2 * loop, 2 * loop]


def test_realtime_playback_takes_real_time(app):
    replayer = VideoStreamReplayerOp(
        app, name="replayer", directory=str(CONFORMANCE), basename="rgb_u8", frame_rate=50.0
    )
    app.add_flow(replayer, Recorder(app, name="rx"))
    t0 = time.monotonic()
    app.run()
    assert time.monotonic() - t0 >= 0.059  # 4 frames at 50 fps: 3 intervals of 20 ms


def test_count_without_repeat_and_batch(app):
    replayer = VideoStreamReplayerOp(
        app,
        name="replayer",
        directory=str(CONFORMANCE),
        basename="scalar_u32",
        realtime=False,
        count=4,
        batch_size=2,
    )
    replayer.spec.outputs["output"].connector(capacity=2)

    class Rx(Recorder):
        def setup(self, spec):
            spec.input("in", size=2)

    app.add_flow(replayer, rx := Rx(app, name="rx"))
    app.run()
    assert [[int(np.asarray(m["count"])[0]) for m in batch] for batch in rx.received] == [[0, 1], [2, 3]]


def corrupt_second_frame(tmp_path):
    with GXFWriter(tmp_path, "clip") as writer:
        for i in range(3):
            writer.write({"": np.full((2, 2), i, np.uint8)})
    _, entities = recording_paths(tmp_path, "clip")
    data = bytearray(entities.read_bytes())
    size = len(data) // 3
    struct.pack_into("<i", data, size + 40 + 32 + 4, 99)  # frame 1's element_type
    entities.write_bytes(bytes(data))


def test_corrupted_entities_are_skipped_and_logged(app, tmp_path, caplog):
    corrupt_second_frame(tmp_path)
    app.add_flow(
        VideoStreamReplayerOp(app, name="replayer", directory=str(tmp_path), basename="clip", realtime=False),
        rx := Recorder(app, name="rx"),
    )
    with caplog.at_level(logging.WARNING, logger="holoflow"):
        app.run()
    assert [int(np.asarray(m[""])[0, 0]) for m in rx.received] == [0, 2]
    assert "frame 1: component 0 ('') tensor element_type: unknown code 99" in caplog.text
    assert app.graph.find_node("replayer").skipped == 1


def test_corrupted_entities_raise_when_not_ignored(app, tmp_path):
    corrupt_second_frame(tmp_path)
    app.add_flow(
        VideoStreamReplayerOp(
            app,
            name="replayer",
            directory=str(tmp_path),
            basename="clip",
            realtime=False,
            ignore_corrupted_entities=False,
        ),
        Recorder(app, name="rx"),
    )
    with pytest.raises(GXFFormatError, match="frame 1") as info:
        app.run()
    assert info.value.__notes__ == ["raised in operator 'replayer'.compute()"]


def test_missing_recording_and_parameters(app, tmp_path):
    app.add_flow(
        VideoStreamReplayerOp(app, name="replayer", directory=str(tmp_path), basename="none"),
        Recorder(app, name="rx"),
    )
    with pytest.raises(FileNotFoundError, match="none.gxf_index"):
        app.run()
    other = type(app)([])
    other.add_flow(VideoStreamReplayerOp(other, name="replayer"), Recorder(other, name="rx"))
    with pytest.raises(ConfigError, match="parameter 'basename' is required"):
        other.run()


def test_recorder_then_replayer_round_trip(app, use_scheduler, tmp_path):
    rng = np.random.default_rng(7)
    frames = [
        {
            "video": rng.integers(0, 255, (6, 8, 3), dtype=np.uint8),
            "depth": rng.random((6, 8)),
            "frame_id": i,
            "label": "skipped: GXF has no strings",
        }
        for i in range(5)
    ]
    app.add_flow(
        Source(app, frames, name="src"),
        VideoStreamRecorderOp(app, name="recorder", directory=str(tmp_path), basename="out"),
    )
    use_scheduler(app)
    app.run()
    with GXFReader(tmp_path, "out") as reader:
        assert len(reader) == 5
        for entity, frame in zip(reader, frames, strict=True):
            values = {c.name: c.value for c in entity.components}
            assert set(values) == {"video", "depth", "frame_id"}
            np.testing.assert_array_equal(values["video"], frame["video"])
            np.testing.assert_array_equal(values["depth"], frame["depth"])
            assert values["frame_id"] == frame["frame_id"]


def test_recorder_records_bare_arrays_and_rejects_other_messages(app, tmp_path):
    app.add_flow(
        Source(app, [np.arange(4), "text"], name="src"),
        VideoStreamRecorderOp(
            app, name="recorder", directory=str(tmp_path), basename="bare", flush_on_tick=True
        ),
    )
    with pytest.raises(CodecError, match="recorder'?: cannot record a str"):
        app.run()
    with GXFReader(tmp_path, "bare") as reader:  # the first frame was flushed before the failure
        np.testing.assert_array_equal(reader[0].tensors()[""], np.arange(4))


@pytest.mark.parametrize(("zero_copy", "writable"), [(True, False), (False, True)])
def test_zero_copy_views_or_writable_copies(app, zero_copy, writable):
    seen = []

    class Check(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            frame = np.asarray(op_input.receive("in")[""])
            seen.append((frame.flags.writeable, digest(frame)))

    app.add_flow(
        VideoStreamReplayerOp(
            app,
            name="replayer",
            directory=str(CONFORMANCE),
            basename="rgb_u8",
            realtime=False,
            zero_copy=zero_copy,
            repeat=True,
            count=12,
        ),
        Check(app, name="check"),
    )
    app.run()
    manifest = json.loads((CONFORMANCE / "manifest.json").read_text())["rgb_u8"]["frames"]
    assert seen == [(writable, manifest[i % 4][""]["sha256_of_c_order_bytes"]) for i in range(12)]


def forge_index(tmp_path, frame, field, value):
    """A 3-frame recording whose index record ``frame`` claims ``field`` = ``value``."""
    with GXFWriter(tmp_path, "clip") as writer:
        for i in range(3):
            writer.write({"": np.full((64, 40, 3), i, np.uint8)})
    index, entities = recording_paths(tmp_path, "clip")
    data = bytearray(index.read_bytes())
    offset = {"data_size": 8, "data_offset": 16}[field]  # 24-byte records: log_time, data_size, data_offset
    struct.pack_into("<Q", data, 24 * frame + offset, value)
    index.write_bytes(bytes(data))
    return entities.stat().st_size


FORGED = [
    ("data_size", 4 << 30),
    ("data_size", 1 << 40),
    ("data_size", 1 << 63),
    ("data_size", (1 << 64) - 1),
    ("data_size", 0),
    ("data_offset", (1 << 64) - 1),
]


@pytest.mark.parametrize(("field", "value"), FORGED)
def test_a_forged_index_record_is_skipped_and_buffers_fit_the_file(app, tmp_path, caplog, field, value):
    entities_size = forge_index(tmp_path, 1, field, value)
    app.add_flow(
        replayer := VideoStreamReplayerOp(
            app, name="replayer", directory=str(tmp_path), basename="clip", realtime=False
        ),
        rx := Recorder(app, name="rx"),
    )
    with caplog.at_level(logging.WARNING, logger="holoflow"):
        app.run()
    assert [int(np.asarray(m[""])[0, 0, 0]) for m in rx.received] == [0, 2]
    assert replayer.skipped == 1
    assert "frame 1: index data_offset/data_size" in caplog.text
    assert replayer._buffers is not None
    assert replayer._buffers.block_size <= entities_size // 3


@pytest.mark.parametrize(("field", "value"), FORGED)
def test_a_forged_index_record_fails_start_when_corruption_is_not_ignored(app, tmp_path, field, value):
    forge_index(tmp_path, 1, field, value)
    app.add_flow(
        VideoStreamReplayerOp(
            app,
            name="replayer",
            directory=str(tmp_path),
            basename="clip",
            realtime=False,
            ignore_corrupted_entities=False,
        ),
        rx := Recorder(app, name="rx"),
    )
    began = time.monotonic()
    expected = r"clip\.gxf_index, frame 1: index data_offset/data_size"
    with pytest.raises(GXFFormatError, match=expected) as info:
        app.run()
    assert time.monotonic() - began < 5.0
    assert info.value.frame == 1
    assert info.value.__notes__ == ["raised in operator 'replayer'.start()"]
    assert rx.received == []
