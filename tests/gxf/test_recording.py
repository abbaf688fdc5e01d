"""Writing and reading recordings: streaming writes, random access, index validation."""

from __future__ import annotations

import numpy as np
import pytest

from holoflow.errors import GXFFormatError
from holoflow.gxf import GXFReader, GXFWriter, recording_paths


def test_write_then_random_access(tmp_path):
    frames = [np.full((4, 5, 3), i, np.uint8) for i in range(6)]
    with GXFWriter(tmp_path, "clip") as writer:
        for i, frame in enumerate(frames):
            writer.write({"": frame, "frame_id": np.int64(i)}, log_time=1000 + i)
    with GXFReader(tmp_path, "clip") as reader:
        assert len(reader) == 6
        assert reader[4].tensors()[""][0, 0, 0] == 4
        assert reader[-1].sequence_number == 5
        assert reader.log_time(2) == 1002
        assert reader.index["data_size"].sum() == reader.entities_size
        view = reader[1].tensors()[""]
        assert not view.flags.writeable  # a view of the read-only memory map
        with pytest.raises(IndexError, match="frame 6 out of range for a recording of 6 frames"):
            reader[6]


def test_views_outlive_the_reader(tmp_path):
    with GXFWriter(tmp_path, "clip") as writer:
        writer.write({"x": np.arange(10)})
    reader = GXFReader(tmp_path, "clip")
    view = reader[0].tensors()["x"]
    reader.close()
    assert view.sum() == 45


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="GXF recording file not found"):
        GXFReader(tmp_path, "nothing")


def test_bad_index_size(tmp_path):
    index, entities = recording_paths(tmp_path, "bad")
    index.write_bytes(b"\0" * 25)
    entities.write_bytes(b"")
    with pytest.raises(GXFFormatError, match="index size: 25 bytes is not a multiple of 24"):
        GXFReader(tmp_path, "bad")


def test_index_pointing_outside_the_file(tmp_path):
    with GXFWriter(tmp_path, "clip") as writer:
        writer.write({"x": np.arange(10)})
    index, entities = recording_paths(tmp_path, "clip")
    entities.write_bytes(entities.read_bytes()[:50])
    with (
        GXFReader(tmp_path, "clip") as reader,
        pytest.raises(GXFFormatError, match="frame 0: index data_offset"),
    ):
        reader[0]


def test_empty_recording(tmp_path):
    with GXFWriter(tmp_path, "empty"):
        pass
    with GXFReader(tmp_path, "empty") as reader:
        assert len(reader) == 0 and list(reader) == []
