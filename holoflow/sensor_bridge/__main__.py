"""``python -m holoflow.sensor_bridge``: run a device emulator until stdin closes or SIGTERM.

Prints one line ``ready <ip> <control port>`` once it serves, and its statistics as JSON when it
stops. Frames come from the emulated camera once a host starts it (or from a GXF recording).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import signal
import sys
import threading

from holoflow.testing import HSBEmulator, Impairment, frames_from_gxf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m holoflow.sensor_bridge", description=__doc__)
    parser.add_argument("--ip", default="127.0.0.1", help="device address to bind")
    parser.add_argument("--control-port", type=int, default=8192)
    parser.add_argument("--announce-to", default="127.0.0.1:12267", help="host:port, or 'none'")
    parser.add_argument("--announce-interval", type=float, default=1.0)
    parser.add_argument("--fps", type=float, default=None, help="frame rate (default: the camera mode's)")
    parser.add_argument("--gxf", nargs=2, metavar=("DIRECTORY", "BASENAME"), help="replay frames from GXF")
    parser.add_argument("--loss", type=float, default=0.0, help="packet loss probability")
    parser.add_argument("--reorder", type=float, default=0.0, help="packet reorder probability")
    args = parser.parse_args(argv)
    announce = None
    if args.announce_to != "none":
        host, port = args.announce_to.rsplit(":", 1)
        announce = (host, int(port))
    frames = frames_from_gxf(*args.gxf) if args.gxf else None
    emulator = HSBEmulator(
        args.ip,
        args.control_port,
        announce_to=announce,
        announce_interval=args.announce_interval,
        impairment=Impairment(loss=args.loss, reorder=args.reorder),
        frames=frames,
        fps=args.fps,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    emulator.start()
    print(f"ready {emulator.ip} {emulator.control_port}", flush=True)

    def wait_for_stdin() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait_for_stdin, daemon=True).start()
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    emulator.stop()
    print(json.dumps(dataclasses.asdict(emulator.statistics())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
