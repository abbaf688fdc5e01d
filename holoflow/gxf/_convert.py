"""Turning videos, image folders and ``.npy`` stacks into GXF recordings, frame by frame."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from holoflow.errors import CodecError
from holoflow.gxf._entity import Component
from holoflow.gxf._recording import GXFWriter
from holoflow.gxf._types import StorageType

__all__ = ["IMAGE_SUFFIXES", "VIDEO_SUFFIXES", "convert", "open_frames"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".ppm", ".pgm"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


def open_frames(source: str | os.PathLike[str]) -> tuple[int | None, float | None, Iterator[np.ndarray]]:
    """Frames of a video, an image folder or a ``.npy`` stack.

    Returns ``(frame count or None, frames per second or None, iterator of HxWxC arrays)``.

    Raises
    ------
    FileNotFoundError
        If ``source`` does not exist.
    holoflow.errors.CodecError
        For an unknown kind of input or an unreadable one.
    ImportError
        If the library for videos (PyAV) or images (Pillow) is missing, naming the extra.
    """
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"no such input: {path}")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise CodecError(f"{path}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in the folder")
        return len(files), None, (_read_image(p) for p in files)
    if path.suffix.lower() == ".npy":
        stack = np.load(path, mmap_mode="r", allow_pickle=False)
        if stack.ndim not in (3, 4):
            raise CodecError(f"{path}: a .npy stack must be NxHxW or NxHxWxC, got shape {stack.shape}")
        return len(stack), None, (np.asarray(frame) for frame in stack)
    if path.suffix.lower() in VIDEO_SUFFIXES:
        return _open_video(path)
    videos = ", ".join(sorted(VIDEO_SUFFIXES))
    raise CodecError(f"{path}: unknown input; give a video ({videos}), a folder of images or a .npy")


def _read_image(path: Path) -> np.ndarray:
    try:
        from PIL import Image
    except ImportError as exc:
        raise ImportError("reading images needs Pillow: pip install 'holoflow[video]'") from exc
    with Image.open(path) as image:
        if image.mode not in ("L", "RGB", "RGBA"):
            image = image.convert("RGB")
        return np.asarray(image)


def _open_video(path: Path) -> tuple[int | None, float | None, Iterator[np.ndarray]]:
    try:
        import av
    except ImportError as exc:
        raise ImportError("reading videos needs PyAV: pip install 'holoflow[video]'") from exc
    try:
        container = av.open(str(path))
        stream = container.streams.video[0]
    except (av.error.FFmpegError, IndexError) as exc:
        raise CodecError(f"{path}: cannot read a video stream ({exc})") from exc
    fps = float(stream.average_rate) if stream.average_rate else None

    def frames() -> Iterator[np.ndarray]:
        with container:
            for frame in container.decode(stream):
                yield frame.to_ndarray(format="rgb24")

    return stream.frames or None, fps, frames()


def convert(
    source: str | os.PathLike[str],
    directory: str | os.PathLike[str],
    basename: str,
    *,
    fps: float | None = None,
    storage: StorageType = StorageType.DEVICE,
    tensor_name: str = "",
    progress: Callable[[int, int | None], None] | None = None,
) -> int:
    """Write ``source`` as a recording, one unnamed HxWxC uint8 tensor per frame.

    ``log_time`` is the start time plus ``i / fps`` seconds, and tensors are stored with storage
    ``device`` by default — as NVIDIA's ``convert_video_to_gxf_entities.py`` writes them. Use
    ``StorageType.SYSTEM`` for recordings that a CPU-only Holoscan must replay.

    Returns the number of frames written.
    """
    count, source_fps, frames = open_frames(source)
    rate = fps or source_fps or 30.0
    if rate <= 0:
        raise CodecError(f"frames per second must be > 0, got {rate}")
    start = time.time_ns()
    written = 0
    with GXFWriter(directory, basename) as writer:
        for index, frame in enumerate(frames):
            array = frame[..., None] if frame.ndim == 2 else frame
            if array.dtype != np.uint8:
                raise CodecError(f"frame {index}: expected uint8 pixels, got {array.dtype}")
            writer.write([Component(tensor_name, array, storage)], log_time=start + int(index * 1e9 / rate))
            written += 1
            if progress is not None:
                progress(written, count)
    return written
