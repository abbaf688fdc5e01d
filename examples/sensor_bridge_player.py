"""An IMX274 player over the sensor bridge, against the software device emulator.

The whole host path runs as with hardware: the emulator (a thread, or a separate process with
``--emulator process``) announces itself over BOOTP, the host finds it, configures it over the
control plane (camera over I2C), and the device streams RAW10 CSI frames as RoCE v2 datagrams
to ``LinuxReceiverOp`` → ``CsiToBayerOp`` → ``ImageProcessorOp`` → ``BayerDemosaicOp`` →
``HolovizOp``. Everything stays on 127.0.0.0/8.

Usage::

    python examples/sensor_bridge_player.py [--mode 1080p|4k] [--count N] [--headless] [--fps F]
                                            [--emulator thread|process|none] [--hololink IP]
                                            [--save frame.png]
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import numpy as np

from holoflow.conditions import CountCondition
from holoflow.core import Application, Operator
from holoflow.operators import BayerDemosaicOp, CsiToBayerOp, HolovizOp, ImageProcessorOp, LinuxReceiverOp
from holoflow.sensor_bridge import (
    DataChannel,
    Enumerator,
    Hololink,
    Imx274Cam,
    Imx274Mode,
)
from holoflow.testing import HSBEmulator, random_loopback_ip

MODES = {"1080p": Imx274Mode.IMX274_MODE_1920X1080_60FPS, "4k": Imx274Mode.IMX274_MODE_3840X2160_60FPS}


class FramePrinter(Operator):
    """Prints one line per rendered frame with the receiver's metadata."""

    def setup(self, spec):
        spec.input("image")
        spec.input("raw")

    def start(self):
        self.frames = 0

    def compute(self, op_input, op_output, context):
        image = np.asarray(op_input.receive("image")[""])
        metadata = op_input.receive("raw")["metadata"]
        self.frames += 1
        self.last = image
        state = "complete" if metadata["complete"] else "incomplete"
        print(
            f"frame {metadata['frame_number']}: {image.shape[1]}x{image.shape[0]} {state}, "
            f"{metadata['frame_bytes_received']} bytes, mean RGB {image[..., :3].mean(axis=(0, 1)).round(1)}"
        )


class PlayerApp(Application):
    def __init__(self, channel, camera, count, headless, check_icrc=False):
        super().__init__([])
        self.channel, self.camera, self.count, self.headless = channel, camera, count, headless
        self.check_icrc = check_icrc

    def compose(self):
        condition = [CountCondition(self, self.count)] if self.count else []
        self.receiver = LinuxReceiverOp(
            self,
            *condition,
            name="receiver",
            hololink_channel=self.channel,
            device=self.camera,
            frame_size=self.camera.frame_size,
            storage="host",
            check_icrc=self.check_icrc,
        )
        csi = CsiToBayerOp(self, name="csi_to_bayer")
        self.camera.configure_converter(csi)
        isp = ImageProcessorOp(
            self,
            name="image_processor",
            bayer_format=int(self.camera.bayer_format),
            pixel_format=1,
            optical_black=50,
        )
        demosaic = BayerDemosaicOp(
            self,
            name="demosaic",
            generate_alpha=True,
            alpha_value=65535,
            bayer_grid_pos=int(self.camera.bayer_format),
        )
        viz = HolovizOp(
            self,
            name="holoviz",
            headless=self.headless,
            enable_render_buffer_output=True,
            width=self.camera.width // 4,
            height=self.camera.height // 4,
            tensors=[{"name": "", "type": "color"}],
        )
        printer = self.printer = FramePrinter(self, name="printer")
        self.add_flow(self.receiver, csi, {("output", "input")})
        self.add_flow(csi, isp, {("output", "input")})
        self.add_flow(isp, demosaic, {("output", "receiver")})
        self.add_flow(demosaic, viz, {("transmitter", "receivers")})
        self.add_flow(viz, printer, {("render_buffer_output", "image")})
        self.add_flow(self.receiver, printer, {("output", "raw")})


def start_emulator(kind, ip, enumeration_port, fps):
    if kind == "thread":
        emulator = HSBEmulator(
            ip, announce_to=("127.0.0.1", enumeration_port), announce_interval=0.2, fps=fps
        )
        emulator.start()
        return emulator
    command = [sys.executable, "-m", "holoflow.sensor_bridge", "--ip", ip, "--announce-interval", "0.2"]
    command += ["--announce-to", f"127.0.0.1:{enumeration_port}"] + (["--fps", str(fps)] if fps else [])
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    process.stdout.readline()  # "ready ..."
    return process


def stop_emulator(emulator):
    if isinstance(emulator, HSBEmulator):
        emulator.stop()
    elif emulator is not None:
        emulator.communicate(timeout=10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=sorted(MODES), default="1080p")
    parser.add_argument("--count", type=int, default=0, help="frames to play (0: until interrupted)")
    parser.add_argument("--headless", action="store_true", help="render offscreen")
    parser.add_argument("--fps", type=float, default=None, help="emulated frame rate (default 60)")
    parser.add_argument("--emulator", choices=("thread", "process", "none"), default="thread")
    parser.add_argument("--hololink", default=None, help="device address (default: a fresh loopback one)")
    parser.add_argument("--save", default=None, help="save the last rendered frame as PNG (needs Pillow)")
    parser.add_argument("--check-icrc", action="store_true", help="drop packets whose RoCE ICRC is wrong")
    args = parser.parse_args()

    ip = args.hololink or (random_loopback_ip() if args.emulator != "none" else "192.168.0.2")
    with Enumerator(bootp_request_port=0 if args.emulator != "none" else 12267) as enumerator:
        emulator = (
            None if args.emulator == "none" else start_emulator(args.emulator, ip, enumerator.port, args.fps)
        )
        try:
            metadata = enumerator.find(ip, timeout=10.0)
        except Exception:
            stop_emulator(emulator)
            raise
    try:
        channel = DataChannel(metadata)
        camera = Imx274Cam(channel)
        hololink = channel.hololink()
        hololink.start()
        camera.setup_clock()
        camera.configure(MODES[args.mode])
        version = camera.get_version()
        print(f"found {metadata['peer_ip']} serial {metadata['serial_number']}, camera 0x{version:04X}")
        app = PlayerApp(channel, camera, args.count, args.headless, args.check_icrc)
        app.run()
        stats = app.receiver.statistics()
        print(
            f"received {stats.frames_received} frames ({stats.frames_complete} complete), "
            f"{stats.packets_dropped} packets dropped, {stats.frames_dropped} frames overwritten, "
            f"{stats.rejected_icrc} packets failed the ICRC check"
        )
        hololink.stop()
        if args.save and app.printer.frames:
            from PIL import Image

            Image.fromarray(app.printer.last).save(args.save)
            print(f"saved {args.save}")
    finally:
        stop_emulator(emulator)
        Hololink.reset_framework()


if __name__ == "__main__":
    try:
        main()
    except (TimeoutError, ConnectionError) as exc:
        sys.exit(f"sensor_bridge_player: {exc}")
