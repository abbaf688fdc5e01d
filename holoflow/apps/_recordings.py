"""Generating, caching and reading the sample recordings (see :mod:`holoflow.apps.sample_data`)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from holoflow import _env
from holoflow._progress import Progress
from holoflow.apps.synthetic import EndoscopyScene, UltrasoundScene
from holoflow.gxf import Component, GXFWriter, StorageType, recording_paths

__all__ = [
    "ENDOSCOPY",
    "FRAME_RATE",
    "RECORDINGS",
    "ULTRASOUND",
    "SampleRecording",
    "data_directory",
    "ensure",
    "ground_truth",
]

FRAME_RATE = 30.0
"""Frames per second of the sample recordings."""


@dataclass(frozen=True)
class SampleRecording:
    """One sample recording: which scene makes it, how long it is, what it is called."""

    basename: str
    """File name of the recording without extension."""
    scene: str
    """``"ultrasound"`` or ``"endoscopy"``: the generator (:mod:`holoflow.apps.synthetic`)."""
    seed: int
    """The scene's seed (never used for training)."""
    frames: int
    """Number of frames."""
    version: int = 1
    """Bumped when the generator changes, so that a stale cached copy is regenerated."""


ULTRASOUND = SampleRecording("ultrasound_256x256", "ultrasound", seed=7, frames=300)
ENDOSCOPY = SampleRecording("surgical_video_384x216", "endoscopy", seed=11, frames=300, version=2)
RECORDINGS = {"ultrasound": ULTRASOUND, "endoscopy": ENDOSCOPY}


def data_directory(directory: str | os.PathLike[str] | None = None) -> Path:
    """The folder sample recordings are read from and generated into."""
    if directory:
        return Path(directory)
    return _env.sample_data_dir()


def _stamp(folder: Path, recording: SampleRecording) -> Path:
    return folder / f"{recording.basename}.json"


def _is_current(folder: Path, recording: SampleRecording) -> bool:
    paths = (*recording_paths(folder, recording.basename), folder / f"{recording.basename}_truth.npz")
    stamp = _stamp(folder, recording)
    if not stamp.is_file() or not all(p.is_file() for p in paths):
        return False
    try:
        return bool(json.loads(stamp.read_text()) == asdict(recording))
    except (OSError, ValueError):
        return False


def ensure(
    recording: SampleRecording,
    directory: str | os.PathLike[str] | None = None,
    stream: TextIO | None = sys.stderr,
) -> Path:
    """The folder holding ``recording``, generating it there first if it is missing or stale.

    Progress is drawn on ``stream`` (None: silent). Files are written under temporary names
    and renamed when complete, so an interrupted run never leaves a recording that looks whole.

    Raises
    ------
    OSError
        If the folder cannot be created or written.
    """
    folder = data_directory(directory)
    if _is_current(folder, recording):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    partial = f"{recording.basename}.partial-{os.getpid()}"
    progress = Progress(stream, f"generating sample data {recording.basename}") if stream else None
    truth: dict[str, list[np.ndarray]] = {}
    try:
        with GXFWriter(folder, partial) as writer:
            for index, (image, labels) in enumerate(_frames(recording)):
                writer.write(
                    [Component("", image, StorageType.DEVICE)], log_time=int(index * 1e9 / FRAME_RATE)
                )
                for key, value in labels.items():
                    truth.setdefault(key, []).append(value)
                if progress is not None and (index % 10 == 9 or index + 1 == recording.frames):
                    progress(index + 1, recording.frames)
        arrays: dict[str, Any] = {k: np.stack(v) for k, v in truth.items()}
        np.savez_compressed(folder / f"{partial}_truth.npz", **arrays)
        for src, dst in zip(
            (*recording_paths(folder, partial), folder / f"{partial}_truth.npz"),
            (*recording_paths(folder, recording.basename), folder / f"{recording.basename}_truth.npz"),
            strict=True,
        ):
            os.replace(src, dst)
        _stamp(folder, recording).write_text(json.dumps(asdict(recording)))
    finally:
        if progress is not None:
            progress.close()
        for leftover in folder.glob(f"{partial}*"):
            leftover.unlink()
    return folder


def _frames(recording: SampleRecording) -> Any:
    """``(image HxWx3 uint8, truth arrays)`` for each frame of ``recording``."""
    if recording.scene == "ultrasound":
        scan = UltrasoundScene(recording.seed)
        for t in range(recording.frames):
            frame = scan.frame(t)
            yield np.repeat(frame.image[..., None], 3, axis=2), {"labels": frame.labels}
    elif recording.scene == "endoscopy":
        scene = EndoscopyScene(recording.seed)
        for t in range(recording.frames):
            shot = scene.frame(t)
            yield shot.image, {"present": shot.present, "tips": shot.tips}
    else:
        raise ValueError(f"unknown sample scene {recording.scene!r}; use 'ultrasound' or 'endoscopy'")


def ground_truth(
    recording: SampleRecording, directory: str | os.PathLike[str] | None = None
) -> dict[str, Any]:
    """The truth of ``recording``, frame-aligned: ``labels`` ``(N, 256, 256)`` for ultrasound;
    ``present`` ``(N, 7)`` and ``tips`` ``(N, 7, 2)`` (normalized, -1 when absent) for endoscopy.

    Generates the recording first if needed (see :func:`ensure`).
    """
    folder = ensure(recording, directory)
    with np.load(folder / f"{recording.basename}_truth.npz") as data:
        return {key: data[key] for key in data.files}
