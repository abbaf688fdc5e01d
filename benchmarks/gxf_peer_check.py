"""Check: recordings written by holoflow replay identically on the Holoscan SDK.

holoflow's VideoStreamRecorderOp records frames of several dtypes and names; then Holoscan's
VideoStreamReplayerOp (run by the interpreter in ``--holoscan-python`` / ``$HOLOSCAN_PYTHON``)
replays them into a sink that hashes every tensor. The script compares Holoscan's hashes with
the frames holoflow wrote and prints the verdict.

Usage::

    HOLOSCAN_PYTHON=/path/to/hs-venv/bin/python python benchmarks/gxf_peer_check.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import RESULTS, write_json
from ping_chain import holoscan_env, holoscan_python


def frames() -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(42)
    return [
        {
            "": rng.integers(0, 256, (48, 64, 3), dtype=np.uint8),
            "depth": rng.random((12, 16)).astype(np.float32),
            "ids": rng.integers(-(2**40), 2**40, (5,), dtype=np.int64),
            "half": rng.random((3, 3)).astype(np.float16),
            "count": np.array([i], dtype=np.uint16),
        }
        for i in range(8)
    ]


def digest(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def record(directory: str) -> None:
    from holoflow.core import Application
    from holoflow.operators import VideoStreamRecorderOp
    from holoflow.testing import Source

    app = Application([])
    app.add_flow(
        Source(app, frames(), name="src"),
        VideoStreamRecorderOp(app, name="recorder", directory=directory, basename="holoflow_written"),
    )
    app.run()


def replay_on_holoscan(directory: str) -> None:
    """Runs inside the Holoscan interpreter: print one JSON line of hashes per frame."""
    from holoscan.core import Application, Operator
    from holoscan.operators import VideoStreamReplayerOp

    hashes = []

    class Hash(Operator):
        def setup(self, spec):
            spec.input("in")

        def compute(self, op_input, op_output, context):
            message = op_input.receive("in")
            hashes.append(
                {
                    name: [str(np.asarray(t).dtype), list(np.asarray(t).shape), digest(np.asarray(t))]
                    for name, t in message.items()
                }
            )

    class Replay(Application):
        def compose(self):
            replayer = VideoStreamReplayerOp(
                self,
                name="replayer",
                directory=directory,
                basename="holoflow_written",
                realtime=False,
                repeat=False,
            )
            self.add_flow(replayer, Hash(self, name="hash"))

    Replay().run()
    print(json.dumps(hashes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holoscan-python")
    parser.add_argument("--replay-on-holoscan", metavar="DIR")
    parser.add_argument("--output", default=str(RESULTS / "gxf_peer_check.json"))
    args = parser.parse_args()
    if args.replay_on_holoscan:
        replay_on_holoscan(args.replay_on_holoscan)
        return
    peer = holoscan_python(args.holoscan_python)
    if peer is None:
        print("Holoscan is not installed (set HOLOSCAN_PYTHON); nothing to check")
        return
    with tempfile.TemporaryDirectory() as directory:
        record(directory)
        run = subprocess.run(
            [
                "bash",
                "-c",
                'ulimit -s 32768 2>/dev/null; exec "$@"',
                "_",
                peer,
                __file__,
                "--replay-on-holoscan",
                directory,
            ],
            capture_output=True,
            text=True,
            env=holoscan_env(peer),
            timeout=600,
            check=False,
        )
    if run.returncode != 0:
        raise SystemExit(f"Holoscan replay failed:\n{run.stderr[-3000:]}")
    replayed = json.loads(run.stdout.strip().splitlines()[-1])
    expected = [
        {name: [str(a.dtype), list(a.shape), digest(a)] for name, a in frame.items()} for frame in frames()
    ]
    identical = replayed == expected
    tensors = sum(len(frame) for frame in expected)
    print(
        f"holoflow wrote {len(expected)} frames ({tensors} tensors: uint8, float32, int64, float16, uint16); "
        f"Holoscan's VideoStreamReplayerOp replayed {len(replayed)} frames"
    )
    print(f"identical (dtype, shape, sha256 of every tensor): {identical}")
    write_json(
        args.output,
        {
            "check": "gxf_peer_replay",
            "peer": peer,
            "frames": len(expected),
            "tensors": tensors,
            "identical": identical,
        },
    )
    if not identical:
        raise SystemExit(1)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
