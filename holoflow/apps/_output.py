"""Writing rendered frames: an MP4 (or other container) through PyAV, or numbered PNG files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from holoflow.errors import ConfigError

__all__ = ["VIDEO_SUFFIXES", "FrameWriter"]

VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi")


class FrameWriter:
    """Append RGB(A) uint8 frames to ``path``.

    A path ending in ``.mp4``, ``.mkv``, ``.mov`` or ``.avi`` is written as H.264 video (MPEG-4
    part 2 where the H.264 encoder is missing) at ``fps``; a path ending in ``.png`` names
    numbered files (``out.png`` → ``out_00000.png``, ``out_00001.png``...). PyAV is needed for
    video and Pillow for PNG (``pip install 'holoflow[video]'``).

    Raises
    ------
    holoflow.errors.ConfigError
        For any other suffix.
    ImportError
        If PyAV or Pillow is missing (naming the extra).
    """

    def __init__(self, path: str | os.PathLike[str], fps: float = 30.0) -> None:
        self.path = Path(path)
        self.fps = fps
        self.frames = 0
        suffix = self.path.suffix.lower()
        if suffix not in (*VIDEO_SUFFIXES, ".png"):
            raise ConfigError(
                f"--output {self.path}: use a video file ({', '.join(VIDEO_SUFFIXES)}) or a .png pattern"
            )
        self.video = suffix != ".png"
        try:
            if self.video:
                import av  # noqa: F401
            else:
                import PIL.Image  # noqa: F401
        except ImportError as exc:
            raise ImportError(f"writing {suffix} output needs pip install 'holoflow[video]': {exc}") from exc
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._container: Any = None
        self._stream: Any = None

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3|4)`` uint8 frame (alpha is dropped)."""
        rgb = np.ascontiguousarray(frame[..., :3])
        if self.video:
            self._write_video(rgb)
        else:
            from PIL import Image

            name = self.path.with_name(f"{self.path.stem}_{self.frames:05d}.png")
            Image.fromarray(rgb).save(name)
        self.frames += 1

    def _write_video(self, rgb: np.ndarray) -> None:
        import av

        if self._container is None:
            self._container = av.open(str(self.path), mode="w")
            codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
            self._stream = self._container.add_stream(codec, rate=round(self.fps))
            self._stream.width = rgb.shape[1] - rgb.shape[1] % 2  # 4:2:0 needs even sizes
            self._stream.height = rgb.shape[0] - rgb.shape[0] % 2
            self._stream.pix_fmt = "yuv420p"
        rgb = rgb[: self._stream.height, : self._stream.width]
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        for packet in self._stream.encode(picture):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush the encoder and close the file (no-op for PNG output)."""
        if self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None
