"""The holoflow command line: convert (npy, images, video) and inspect."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from holoflow.cli import main
from holoflow.gxf import GXFReader, StorageType

CONFORMANCE = Path(__file__).resolve().parent / "data" / "gxf-holoscan-4.6"


def test_convert_npy_stack(tmp_path, capsys):
    stack = np.random.default_rng(0).integers(0, 255, (5, 6, 7, 3), dtype=np.uint8)
    np.save(tmp_path / "stack.npy", stack)
    assert main(["convert", str(tmp_path / "stack.npy"), str(tmp_path / "out" / "clip"), "--fps", "10"]) == 0
    captured = capsys.readouterr()
    assert "wrote 5 frames" in captured.out
    assert "[##############################] 5/5" in captured.err
    with GXFReader(tmp_path / "out", "clip") as reader:
        assert len(reader) == 5
        for i, entity in enumerate(reader):
            (component,) = entity.components
            assert component.name == "" and component.storage is StorageType.DEVICE
            np.testing.assert_array_equal(component.value, stack[i])
        assert reader.log_time(4) - reader.log_time(0) == 400_000_000
        assert reader.index["data_size"][0] == 188 + 6 * 7 * 3  # NVIDIA's converter layout


def test_convert_image_folder(tmp_path):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    frames = [np.full((4, 5, 3), 40 * i, np.uint8) for i in range(3)]
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{i:03d}.png")
    (folder / "notes.txt").write_text("not an image")
    assert (
        main(["convert", str(folder), str(tmp_path / "img"), "--storage", "system", "--name", "video"]) == 0
    )
    with GXFReader(tmp_path, "img") as reader:
        assert [c.name for c in reader[0].components] == ["video"]
        assert reader[0].components[0].storage is StorageType.SYSTEM
        for entity, frame in zip(reader, frames, strict=True):
            np.testing.assert_array_equal(entity.tensors()["video"], frame)


def test_convert_video(tmp_path):
    av = pytest.importorskip("av")
    path = tmp_path / "clip.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * i, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    assert main(["convert", str(path), str(tmp_path / "video")]) == 0
    with GXFReader(tmp_path, "video") as reader:
        assert len(reader) == 6
        first = reader[0].tensors()[""]
        assert first.shape == (48, 64, 3)
        assert abs(int(reader[5].tensors()[""].mean()) - 100) <= 3  # lossy codec: close to the source
        assert round(1e9 * 5 / (reader.log_time(5) - reader.log_time(0))) == 24


def test_inspect(capsys):
    assert main(["inspect", str(CONFORMANCE / "multi.gxf_entities"), "--frames", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 frames, 2,097 bytes" in out
    assert "'mask' uint8[9x11x1] system; 'b' float64[3x4] system; 'a' int16[7] system" in out
    assert "... 1 more" in out


def test_errors_are_reported_with_a_status(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing")]) == 2
    assert "holoflow inspect: error: GXF recording file not found" in capsys.readouterr().err
    (tmp_path / "bad.txt").write_text("x")
    assert main(["convert", str(tmp_path / "bad.txt"), str(tmp_path / "o")]) == 2
    assert "unknown input" in capsys.readouterr().err


def test_module_entry_point():
    result = subprocess.run(
        [sys.executable, "-m", "holoflow", "inspect", str(CONFORMANCE / "rgb_u8")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "4 frames" in result.stdout
