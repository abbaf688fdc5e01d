"""The sample apps' command line: the same flags for every app."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from holoflow.inference import BACKENDS

__all__ = ["RunOptions", "parse_options"]


@dataclass(frozen=True)
class RunOptions:
    """How to run a sample app."""

    headless: bool = False
    """Render offscreen instead of in a window."""
    output: Path | None = None
    """Write the rendered frames here (video file or ``.png`` pattern)."""
    backend: str | None = None
    """Inference backend: ``onnxrt``, ``torch`` or ``trt``; None: the config's."""
    count: int = 0
    """Frames to play; 0: one pass of the recording when headless, else until the window closes."""
    config: Path | None = None
    """YAML configuration replacing the app's own."""
    data: Path | None = None
    """Folder of the sample recording (generated there if missing)."""
    realtime: bool | None = None
    """Pace playback at the recording's rate; None: the config's choice in a window, False headless."""
    frame_rate: float | None = None
    """Frames per second when playback is paced; None: the config's (0 there: as recorded)."""
    quiet: bool = False
    """Print no summary."""


def parse_options(prog: str, description: str, argv: Sequence[str] | None = None) -> RunOptions:
    """Parse the sample-app flags from ``argv`` (default ``sys.argv[1:]``).

    Exits with status 2 and a usage message on bad flags, as argparse does.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--headless", action="store_true", help="render offscreen, without a window")
    parser.add_argument(
        "--output", type=Path, help="write the rendered frames to a video (.mp4, .mkv...) or PNGs (name.png)"
    )
    parser.add_argument("--backend", choices=BACKENDS, help="inference backend (default: the config's)")
    parser.add_argument(
        "--count",
        type=int,
        default=0,
        help="frames to play (default: one pass of the recording when headless, else until closed)",
    )
    parser.add_argument("--config", type=Path, help="YAML configuration to use instead of the app's")
    parser.add_argument("--data", type=Path, help="sample data folder (default: $HOLOFLOW_DATA or the cache)")
    pacing = parser.add_mutually_exclusive_group()
    pacing.add_argument(
        "--realtime", dest="realtime", action="store_true", default=None, help="pace playback at 30 fps"
    )
    pacing.add_argument(
        "--no-realtime", dest="realtime", action="store_false", help="play as fast as the graph runs"
    )
    parser.add_argument(
        "--fps", type=float, help="frames per second when paced (default: the recording's, 30)"
    )
    parser.add_argument("--quiet", action="store_true", help="print no summary")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error(f"--count must be >= 0, got {args.count}")
    if args.fps is not None and not args.fps > 0:
        parser.error(f"--fps must be > 0, got {args.fps}")
    return RunOptions(
        headless=args.headless,
        output=args.output,
        backend=args.backend,
        count=args.count,
        config=args.config,
        data=args.data,
        realtime=args.realtime,
        frame_rate=args.fps,
        quiet=args.quiet,
    )
