"""The ``holoflow`` command: ``holoflow convert``, ``inspect``, ``run``, ``latency`` and ``graph``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from holoflow._progress import Progress
from holoflow.errors import ConfigError, HoloflowError

__all__ = ["main"]


def _split_recording(path: str) -> tuple[Path, str]:
    """``dir/name``, ``dir/name.gxf_index`` or ``dir/name.gxf_entities`` → (dir, name)."""
    p = Path(path)
    if p.suffix in (".gxf_index", ".gxf_entities"):
        p = p.with_suffix("")
    return p.parent, p.name


def _convert(args: argparse.Namespace) -> int:
    from holoflow.gxf import StorageType, convert

    directory, basename = _split_recording(args.output)
    progress = Progress(sys.stderr, f"converting {args.input}")
    storage = StorageType.DEVICE if args.storage == "device" else StorageType.SYSTEM
    written = convert(
        args.input,
        directory,
        basename,
        fps=args.fps,
        storage=storage,
        tensor_name=args.name,
        progress=progress,
    )
    progress.close()
    print(f"wrote {written} frames to {directory / basename}.gxf_index / .gxf_entities")
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from holoflow.gxf import GXFReader

    directory, basename = _split_recording(args.recording)
    with GXFReader(directory, basename) as reader:
        frames = len(reader)
        print(f"{reader.entities_path}: {frames} frames, {reader.entities_size:,} bytes")
        if frames > 1:
            span = (reader.log_time(frames - 1) - reader.log_time(0)) / 1e9
            rate = f"{(frames - 1) / span:.2f} fps" if span > 0 else "n/a"
            print(f"recorded over {span:.3f} s ({rate})")
        print(f"{'frame':>6} {'log_time (ns)':>20} {'bytes':>10} {'offset':>12}  components")
        shown = frames if args.frames is None else min(frames, args.frames)
        for i in range(shown):
            entity = reader[i]
            parts = []
            for component in entity.components:
                value = component.value
                if isinstance(value, np.ndarray):
                    storage = component.storage.name.lower() if component.storage is not None else "?"
                    dims = "x".join(map(str, value.shape)) or "scalar"
                    parts.append(f"'{component.name}' {value.dtype.name}[{dims}] {storage}")
                else:
                    parts.append(f"'{component.name}' {value!r}")
            record = reader.index[i]
            print(
                f"{i:>6} {int(record['log_time']):>20} {int(record['data_size']):>10} "
                f"{int(record['data_offset']):>12}  {'; '.join(parts)}"
            )
        if shown < frames:
            print(f"... {frames - shown} more")
    return 0


_APP_FILE_SUFFIXES = (".yaml", ".yml")


def _run(args: argparse.Namespace) -> int:
    from holoflow.apps import APPS, run

    if args.app.endswith(_APP_FILE_SUFFIXES):
        return _run_app_files([args.app, *args.flags])
    if args.app not in APPS:
        raise HoloflowError(
            f"unknown app {args.app!r}: give a sample app ({', '.join(APPS)}) or GXF application "
            "files (.yaml)"
        )
    return run(args.app, args.flags)


def _run_app_files(argv: list[str]) -> int:
    """``holoflow run app.yaml [more.yaml ...] [--extension MODULE ...]``."""
    from holoflow.gxf import load_app

    parser = argparse.ArgumentParser(
        prog="holoflow run",
        description="Run GXF application files (the YAML graphs gxe runs) as one application.",
    )
    parser.add_argument("files", nargs="+", help="GXF application files, merged in order")
    parser.add_argument(
        "--extension",
        action="append",
        default=[],
        metavar="MODULE",
        help="a module (dotted name or path/to/file.py) that registers Python codelets; repeatable",
    )
    options = parser.parse_args(argv)
    wrong = [f for f in options.files if not f.endswith(_APP_FILE_SUFFIXES)]
    if wrong:
        parser.error(f"not a .yaml/.yml file: {', '.join(wrong)}")
    load_app(options.files, extensions=options.extension).run()
    return 0


def _latency(args: argparse.Namespace) -> int:
    from holoflow.latency import run_latency

    bar = Progress(sys.stderr, f"latency {args.app}")
    drawn = []

    def progress(done: int, total: int) -> None:
        drawn.append(done)
        bar(done, total)

    try:
        run = run_latency(
            args.app,
            frames=args.frames,
            fps=args.fps,
            warmup=args.warmup,
            scheduler=args.scheduler,
            end_to_end=args.end_to_end,
            gc_policy=args.gc_policy,
            progress=progress,
        )
    finally:
        if drawn:  # end the bar's line (nothing was drawn when the app did not start)
            bar.close()
    report = run.report(args.output, args.format)
    sys.stdout.write(report.summary)
    for note in report.notes:
        print(f"holoflow latency: {note}", file=sys.stderr)
    print(f"wrote {', '.join(path.name for path in report.files)} to {report.directory}")
    return 0


def _formats(text: str) -> list[str]:
    from holoflow.latency import FORMATS

    wanted = [part.strip() for part in text.split(",") if part.strip()]
    unknown = sorted(set(wanted) - set(FORMATS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(unknown)}; choose from {','.join(FORMATS)}"
        )
    return wanted


def _add_latency(commands: Any) -> None:
    latency = commands.add_parser(
        "latency",
        help="run an app for N frames under tracking and write a latency report",
        description="Run an app headless for N frames under data-flow tracking; print a summary and "
        "write a report folder (summary.txt, report.html, PNG plots, records.csv/json).",
    )
    latency.add_argument(
        "app", help="a sample app (endoscopy_tool_tracking, ultrasound_segmentation), "
        "path/to/script.py[:ClassName] or package.module:ClassName",
    )  # fmt: skip
    latency.add_argument(
        "--frames", type=int, default=300, metavar="N", help="frames the source sends (default 300)"
    )
    latency.add_argument(
        "--fps",
        type=float,
        metavar="F",
        help="pace the source at this rate; 0: unpaced (default: the app's own)",
    )
    latency.add_argument(
        "--warmup",
        type=int,
        default=30,
        metavar="K",
        help="first frames left out of the summary (default 30)",
    )
    latency.add_argument(
        "--output",
        type=Path,
        default=Path("latency-report"),
        metavar="DIR",
        help="report folder (default latency-report/)",
    )
    latency.add_argument(
        "--end-to-end",
        action="store_true",
        help="also measure source frame to rendered frame, by a frame id stamped into the image",
    )
    latency.add_argument(
        "--scheduler", choices=("greedy", "event", "multi"), help="scheduler to run with (default: the app's)"
    )
    latency.add_argument(
        "--gc-policy",
        choices=("freeze", "none"),
        help="the scheduler's garbage-collection policy (default: the scheduler's, freeze)",
    )
    latency.add_argument(
        "--format",
        type=_formats,
        default="html,png,csv,json",
        metavar="LIST",
        help="what to write besides summary.txt (default html,png,csv,json)",
    )
    latency.set_defaults(run=_latency)


def _graph_app(specs: Sequence[str], extensions: Sequence[str]) -> Any:
    """The application ``holoflow graph`` draws: GXF application files (several are merged, with
    the codelet modules ``extensions``), titled by the files, or one app as ``holoflow latency``
    names it."""
    app_files = [spec for spec in specs if spec.endswith(_APP_FILE_SUFFIXES)]
    if extensions and not app_files:
        raise ConfigError("--extension registers codelets for GXF application files (.yaml); give one")
    if app_files:
        if len(app_files) != len(specs):
            raise ConfigError(
                f"give GXF application files (.yaml) or one Python app, not both: {' '.join(specs)}"
            )
        from holoflow.gxf import load_app

        app = load_app(app_files, extensions=extensions)
        if not app.name:
            app.name = " + ".join(Path(path).name for path in app_files)
        return app
    if len(specs) != 1:
        raise ConfigError(
            f"give one Python app (path/to/app.py[:Class]), not {len(specs)}: {' '.join(specs)}"
        )
    from holoflow.latency import resolve_app

    return resolve_app(specs[0]).build()


def _graph(args: argparse.Namespace) -> int:
    from holoflow.core.graph_picture import render

    with contextlib.redirect_stdout(sys.stderr):  # what the app prints as it loads and composes
        dot = _graph_app(args.app, args.extension).to_dot()
    if args.output is None:
        sys.stdout.write(dot)
        return 0
    print(f"wrote {render(dot, args.output)}")
    return 0


def _add_graph(commands: Any) -> None:
    graph = commands.add_parser(
        "graph",
        help="draw an app's graph: Graphviz DOT on stdout, or SVG/PNG/DOT with -o",
        description="Compose an app (without running it) and print its graph as Graphviz DOT, or "
        "write it to a file: .svg and .png need Graphviz's 'dot' program, .dot/.gv is the text.",
    )
    graph.add_argument(
        "app",
        nargs="+",
        help="GXF application file(s) app.yaml [more.yaml ...], a sample app "
        "(endoscopy_tool_tracking, ultrasound_segmentation), path/to/script.py[:ClassName] "
        "or package.module:ClassName",
    )
    graph.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write FILE (.svg, .png, .dot or .gv) instead"
    )
    graph.add_argument(
        "--extension",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE first, registering the Python codelets a GXF application file names (repeatable)",
    )
    graph.set_defaults(run=_graph)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="holoflow", description="holoflow command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("convert", help="make a GXF recording from a video, image folder or .npy")
    convert.add_argument("input", help="video file, folder of images, or .npy stack (NxHxW[xC] uint8)")
    convert.add_argument("output", help="output path without extension, e.g. data/racerx")
    convert.add_argument("--fps", type=float, help="frames per second (default: the video's, else 30)")
    convert.add_argument(
        "--storage",
        choices=["device", "system"],
        default="device",
        help="storage type recorded for the tensors (default: device, as NVIDIA's converter)",
    )
    convert.add_argument("--name", default="", help="tensor name (default: unnamed)")
    convert.set_defaults(run=_convert)
    inspect = commands.add_parser("inspect", help="list the frames and tensors of a GXF recording")
    inspect.add_argument("recording", help="path of the recording (with or without extension)")
    inspect.add_argument("--frames", type=int, help="show at most this many frames")
    inspect.set_defaults(run=_inspect)
    from holoflow.apps import APPS

    run = commands.add_parser(
        "run",
        help="run a sample app (flags: --headless --output PATH --backend NAME --count N --config FILE) "
        "or GXF application files (app.yaml [more.yaml ...] [--extension MODULE])",
    )
    run.add_argument("app", help=f"a sample app ({', '.join(APPS)}) or a GXF application file (.yaml)")
    run.add_argument(
        "flags",
        nargs=argparse.REMAINDER,
        help="the app's flags (see holoflow run APP --help), or more .yaml files and --extension MODULE",
    )
    run.set_defaults(run=_run)
    _add_latency(commands)
    _add_graph(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        return int(args.run(args))
    except (HoloflowError, FileNotFoundError, ImportError) as exc:
        print(f"holoflow {args.command}: error: {exc}", file=sys.stderr)
        return 2
