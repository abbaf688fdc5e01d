"""Sample recordings: generated on first use, deterministic, cached, with aligned ground truth."""

from __future__ import annotations

import io
import json
import time

import numpy as np
import pytest

from holoflow.apps.sample_data import (
    ENDOSCOPY,
    ULTRASOUND,
    SampleRecording,
    data_directory,
    ensure,
    ground_truth,
)
from holoflow.apps.synthetic import EndoscopyScene, UltrasoundScene
from holoflow.gxf import GXFReader, StorageType


def test_recordings_hold_the_generator_frames_and_truth(sample_data):
    truth = ground_truth(ULTRASOUND, sample_data)
    assert truth["labels"].shape == (ULTRASOUND.frames, 256, 256)
    scan = UltrasoundScene(ULTRASOUND.seed)
    with GXFReader(sample_data, ULTRASOUND.basename) as reader:
        assert len(reader) == ULTRASOUND.frames
        for t in (0, 123, ULTRASOUND.frames - 1):
            (component,) = reader[t].components
            assert component.name == "" and component.storage == StorageType.DEVICE
            frame = scan.frame(t)
            np.testing.assert_array_equal(component.value, np.repeat(frame.image[..., None], 3, axis=2))
            np.testing.assert_array_equal(truth["labels"][t], frame.labels)
        assert reader.log_time(30) - reader.log_time(0) == 1_000_000_000  # 30 fps
    truth = ground_truth(ENDOSCOPY, sample_data)
    scene = EndoscopyScene(ENDOSCOPY.seed)
    with GXFReader(sample_data, ENDOSCOPY.basename) as reader:
        frame = scene.frame(77)
        np.testing.assert_array_equal(reader[77].tensors()[""], frame.image)
    np.testing.assert_array_equal(truth["present"][77], frame.present)
    np.testing.assert_array_equal(truth["tips"][77], frame.tips)
    assert truth["present"].any(axis=1).mean() > 0.5  # tools are in view most of the time


def test_generation_is_quick_shows_progress_and_is_reused(tmp_path):
    stream = io.StringIO()
    started = time.perf_counter()
    ensure(ULTRASOUND, tmp_path, stream=stream)
    assert time.perf_counter() - started < 30
    assert f"[{'#' * 30}] {ULTRASOUND.frames}/{ULTRASOUND.frames}" in stream.getvalue()
    index = tmp_path / f"{ULTRASOUND.basename}.gxf_index"
    written = index.stat().st_mtime_ns
    ensure(ULTRASOUND, tmp_path, stream=stream)
    assert index.stat().st_mtime_ns == written
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{ULTRASOUND.basename}{suffix}" for suffix in (".gxf_entities", ".gxf_index", ".json", "_truth.npz")
    )


def test_a_stale_or_partial_copy_is_regenerated(tmp_path):
    small = SampleRecording("tiny", "endoscopy", seed=3, frames=4)
    ensure(small, tmp_path, stream=None)
    stamp = tmp_path / "tiny.json"
    stamp.write_text(json.dumps({**json.loads(stamp.read_text()), "version": 0}))
    (tmp_path / "tiny_truth.npz").unlink()
    ensure(small, tmp_path, stream=None)
    assert json.loads(stamp.read_text())["version"] == small.version
    assert ground_truth(small, tmp_path)["tips"].shape == (4, 7, 2)


def test_the_data_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HOLOFLOW_DATA", str(tmp_path / "data"))
    assert data_directory() == tmp_path / "data"
    assert data_directory(tmp_path / "given") == tmp_path / "given"
    monkeypatch.delenv("HOLOFLOW_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data_directory() == tmp_path / "cache" / "holoflow" / "sample_data"


def test_an_unknown_scene_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"^unknown sample scene 'mri'; use 'ultrasound' or 'endoscopy'$"):
        ensure(SampleRecording("x", "mri", seed=1, frames=1), tmp_path, stream=None)
    assert list(tmp_path.iterdir()) == []
