"""Benchmark: receiving IMX274 RAW10 1080p60 and 4K60 from the sensor-bridge emulator on loopback.

The emulator runs in its own process (``python -m holoflow.sensor_bridge``), so it does not share
the GIL with the receiver. The host side is the real stack: Hololink over the control plane,
the camera over I2C, and ``LinuxReceiverOp`` → a counting sink in a holoflow application. For
each mode and MTU (1500: 1408-byte payloads as on a standard network; 9000: jumbo frames) the
run lasts ``--seconds`` and reports:

- throughput of complete frames (Gbit/s of frame payload) and frames per second,
- frames the device sent that were not delivered complete (lost), packets dropped,
- latency p50/p99: first byte sent by the device → frame in the sink, and 0x2B packet received
  → frame in the sink,
- CPU use of the receiving process and of the emulator process (1.0 = one core busy).

Each mode and MTU runs with the receiver's ICRC check off (the default) and on
(``LinuxReceiverOp(check_icrc=True)``). The check's CPU cost is also measured on its own: the
same 1080p frames, as datagrams in memory, fed to a ``FrameAssembler`` with and without it
(microseconds per packet, one core, no sockets).

In the same run, the raw UDP loopback throughput between two Python processes (a ``sendto``
loop → a ``recv_into`` loop, datagrams of the same size) gives the ceiling the numbers are
compared with.

Usage::

    python benchmarks/sensor_bridge.py [--seconds 5] [--modes 1080p 4k] [--mtus 1500 9000] [--icrc off on]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from _results import RESULTS, write_json

from holoflow.core import Application, Operator
from holoflow.operators import LinuxReceiverOp
from holoflow.sensor_bridge import (
    DataChannel,
    FrameAssembler,
    FrameMetadata,
    Hololink,
    Imx274Cam,
    Imx274Mode,
    encode_packet,
    icrc_prefix,
    make_immediate,
)
from holoflow.sensor_bridge._recvmmsg import BatchReceiver
from holoflow.testing import random_loopback_ip

MODES = {"1080p": Imx274Mode.IMX274_MODE_1920X1080_60FPS, "4k": Imx274Mode.IMX274_MODE_3840X2160_60FPS}
TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


SENDER = textwrap.dedent(
    """
    import socket, sys, time
    host, port, size, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = bytes(size)
    sent = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for _ in range(256):
            sock.sendto(payload, (host, port))
        sent += 256
    print(sent)
    """
)


def raw_udp(size: int, seconds: float) -> dict[str, float]:
    """Datagrams of ``size`` bytes from a Python sendto loop (child process) into a Python
    recv_into loop (this process): the loopback ceiling for pure Python on both ends."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.5)
    buffer = bytearray(65536)
    child = subprocess.Popen(
        [sys.executable, "-c", SENDER, "127.0.0.1", str(sock.getsockname()[1]), str(size), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    received = 0
    start = None
    last = time.monotonic()
    cpu0 = time.process_time()
    try:
        while True:
            sock.recv_into(buffer)
            last = time.monotonic()
            if start is None:
                start = last
            received += 1
    except TimeoutError:
        pass
    cpu = time.process_time() - cpu0
    sent = int(child.communicate(timeout=30)[0])
    sock.close()
    elapsed = max(last - (start or last), 1e-9)
    return {
        "datagram_bytes": size,
        "sent": sent,
        "received": received,
        "loss": 1 - received / max(sent, 1),
        "gbit_s": received * size * 8 / elapsed / 1e9,
        "packets_per_s": received / elapsed,
        "receiver_cpu": cpu / elapsed,
    }


def frame_datagrams(data: bytes, payload: int, psn: int, source, destination) -> list[bytes]:
    """One frame as the device sends it: data packets of ``payload`` bytes, then the metadata
    packet, each with its ICRC for ``source`` -> ``destination``."""
    datagrams = []
    for offset in range(0, len(data), payload):
        chunk = data[offset : offset + payload]
        prefix = icrc_prefix(source, destination, 28 + len(chunk) + 4)
        datagrams.append(
            encode_packet(
                dest_qp=0xCAF0,
                psn=psn,
                virtual_address=offset,
                rkey=0xBEEF,
                payload=chunk,
                icrc_prefix=prefix,
            )
        )
        psn += 1
    block = FrameMetadata(psn=psn, bytes_written=len(data)).encode()
    datagrams.append(
        encode_packet(
            dest_qp=0xCAF0,
            psn=psn,
            virtual_address=-(-len(data) // 128) * 128,
            rkey=0xBEEF,
            payload=block,
            immediate=make_immediate(psn, 0),
            icrc_prefix=icrc_prefix(source, destination, 32 + 128 + 4),
        )
    )
    return datagrams


def assembler_cost(mtu: int, frame_size: int, frames: int = 4, repeats: int = 3) -> dict[str, float]:
    """Microseconds per packet of ``FrameAssembler.feed`` (datagram copy included) with the ICRC
    check off and on: ``frames`` frames of ``frame_size`` bytes, best of ``repeats``."""
    payload = DataChannel.payload_size_for(mtu)
    source, destination = ("127.0.0.2", 12288), ("127.0.0.1", 40000)
    data = os.urandom(frame_size)
    per_frame = -(-frame_size // payload) + 1
    stream = [
        frame_datagrams(data, payload, i * per_frame, source, destination) for i in range(frames * repeats)
    ]
    page = -(-frame_size // 128) * 128 + 128
    result: dict[str, float] = {"mtu": mtu, "packets_per_frame": per_frame}
    for check in (False, True):
        assembler = FrameAssembler(frame_size, page, 2, 0xCAF0, 0xBEEF, 2)
        if check:
            assembler.check_icrc(source, destination)
        best = float("inf")
        for repeat in range(repeats):
            batch = stream[repeat * frames : (repeat + 1) * frames]
            start = time.perf_counter()
            for datagrams in batch:
                for datagram in datagrams:
                    assembler.feed(datagram)
                assembler.release(assembler.take(0))
            best = min(best, (time.perf_counter() - start) / (frames * per_frame))
        stats = assembler.statistics()
        assert stats.frames_complete == frames * repeats and stats.rejected_icrc == 0, stats
        key = "icrc_on" if check else "icrc_off"
        result[f"{key}_us_per_packet"] = best * 1e6
        result[f"{key}_gbit_s_per_core"] = frame_size * 8 / (best * per_frame) / 1e9
    return result


class LatencySink(Operator):
    """Counts frames, completeness, bytes and two latencies."""

    def setup(self, spec):
        spec.input("in")

    def start(self):
        self.frames = self.complete = self.bytes = 0
        self.first_byte_ms, self.end_packet_ms = [], []
        self.started = None

    def compute(self, op_input, op_output, context):
        message = op_input.receive("in")
        now = time.time_ns()
        metadata = message["metadata"]
        self.started = self.started or time.monotonic()
        self.frames += 1
        if metadata["complete"]:
            self.complete += 1
            self.bytes += metadata["bytes_written"]
        sent = metadata["timestamp_s"] * 1_000_000_000 + metadata["timestamp_ns"]
        end = metadata["frame_end_s"] * 1_000_000_000 + metadata["frame_end_ns"]
        self.first_byte_ms.append((now - sent) / 1e6)
        self.end_packet_ms.append((now - end) / 1e6)


class Player(Application):
    def __init__(self, channel, camera, check_icrc=False):
        super().__init__([])
        self.channel, self.camera, self.check_icrc = channel, camera, check_icrc

    def compose(self):
        self.receiver = LinuxReceiverOp(
            self,
            name="receiver",
            hololink_channel=self.channel,
            device=self.camera,
            frame_size=self.camera.frame_size,
            queue_size=2,
            pages=2,
            check_icrc=self.check_icrc,
        )
        self.sink = LatencySink(self, name="sink")
        self.add_flow(self.receiver, self.sink)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_mode(mode: str, mtu: int, seconds: float, check_icrc: bool = False) -> dict[str, object]:
    ip = random_loopback_ip()
    emulator = subprocess.Popen(
        [sys.executable, "-m", "holoflow.sensor_bridge", "--ip", ip, "--announce-to", "none"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    emulator.stdout.readline()
    hololink = Hololink(ip)
    hololink.start()
    metadata = {
        "peer_ip": ip,
        "serial_number": f"bench-{ip}",
        "control_port": 8192,
        "data_plane": 0,
        "hsb_ip_version": hololink.hsb_ip_version,
    }
    from holoflow.sensor_bridge import apply_strategy

    apply_strategy(metadata)
    DataChannel.use_mtu(metadata, mtu)
    channel = DataChannel(metadata, hololink)
    camera = Imx274Cam(channel)
    camera.setup_clock()
    camera.configure(MODES[mode])
    app = Player(channel, camera, check_icrc)
    future = app.run_async()
    time.sleep(1.0)  # warm-up: first frames, socket buffers
    sink = app.sink
    frames0, complete0, bytes0 = sink.frames, sink.complete, sink.bytes
    latency0 = len(sink.first_byte_ms)
    stats0 = app.receiver.statistics()
    cpu0, emu0, t0 = time.process_time(), process_cpu(emulator.pid), time.monotonic()
    time.sleep(seconds)
    t1, cpu1, emu1 = time.monotonic(), time.process_time(), process_cpu(emulator.pid)
    frames1, complete1, bytes1 = sink.frames, sink.complete, sink.bytes
    stats1 = app.receiver.statistics()
    first_byte = sink.first_byte_ms[latency0:]
    end_packet = sink.end_packet_ms[latency0:]
    app.receiver.stop_execution()
    stopper = threading.Timer(10, lambda: os._exit(3))  # never hang a benchmark
    stopper.start()
    future.result()
    stopper.cancel()
    final = app.receiver.statistics()
    hololink.stop()
    Hololink.reset_framework()
    device = json.loads(emulator.communicate(timeout=30)[0].strip().splitlines()[-1])
    elapsed = t1 - t0
    device_frames = stats1.frames_received - stats0.frames_received  # windows that reached the host
    delivered = frames1 - frames0
    complete = complete1 - complete0
    sent_rate = device_frames / elapsed
    return {
        "mode": mode,
        "mtu": mtu,
        "icrc": check_icrc,
        "frame_bytes": camera.frame_size,
        "packets_per_frame": -(-camera.frame_size // channel.payload_size) + 1,
        "seconds": elapsed,
        "fps_received": complete / elapsed,
        "fps_device": sent_rate,
        "gbit_s": (bytes1 - bytes0) * 8 / elapsed / 1e9,
        "frames_delivered": delivered,
        "frames_complete": complete,
        "frames_incomplete": (stats1.frames_received - stats0.frames_received)
        - (stats1.frames_complete - stats0.frames_complete),
        "frames_overwritten": stats1.frames_dropped - stats0.frames_dropped,
        "packets_dropped": stats1.packets_dropped - stats0.packets_dropped,
        "latency_first_byte_ms_p50": percentile(first_byte, 0.5),
        "latency_first_byte_ms_p99": percentile(first_byte, 0.99),
        "latency_end_packet_ms_p50": percentile(end_packet, 0.5),
        "latency_end_packet_ms_p99": percentile(end_packet, 0.99),
        "receiver_cpu": (cpu1 - cpu0) / elapsed,
        "emulator_cpu": (emu1 - emu0) / elapsed,
        "device_frames_sent_total": device["frames_sent"],
        "host_frames_received_total": final.frames_received,
        "host_frames_complete_total": final.frames_complete,
        "rejected_icrc": final.rejected_icrc,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--modes", nargs="+", default=["1080p", "4k"], choices=sorted(MODES))
    parser.add_argument("--mtus", nargs="+", type=int, default=[1500, 9000])
    parser.add_argument("--icrc", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    raw = {mtu: raw_udp(DataChannel.payload_size_for(mtu) + 32, args.seconds) for mtu in args.mtus}
    cost = [assembler_cost(mtu, MODES["1080p"].sensor_mode.frame_size) for mtu in args.mtus]
    runs = [
        run_mode(mode, mtu, args.seconds, check == "on")
        for mode in args.modes
        for mtu in args.mtus
        for check in args.icrc
    ]
    load_after = os.getloadavg()[0]
    path = "recvmmsg batches" if BatchReceiver.available() else "recv_into"
    header = (
        f"Sensor bridge on loopback: emulator process -> LinuxReceiverOp ({path}), "
        f"{args.seconds:g} s per run, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"1-min load average {load_before:.1f} before / {load_after:.1f} after"
    )
    lines = [header, ""]
    lines.append("raw UDP loopback, Python sendto loop -> Python recv_into loop:")
    for mtu, r in raw.items():
        lines.append(
            f"  MTU {mtu:5d} ({r['datagram_bytes']:4d}-byte datagrams): {r['gbit_s']:6.2f} Gbit/s "
            f"{r['packets_per_s'] / 1e3:7.1f} kpkt/s, loss {r['loss']:.1%}, "
            f"receiver CPU {r['receiver_cpu']:.2f}"
        )
    lines.append("")
    lines.append("receiver CPU cost, 1080p RAW10 frames fed from memory (FrameAssembler.feed, one core):")
    lines.extend(
        f"  MTU {c['mtu']:5d}: ICRC off {c['icrc_off_us_per_packet']:5.2f} us/packet "
        f"({c['icrc_off_gbit_s_per_core']:5.2f} Gbit/s a core), "
        f"on {c['icrc_on_us_per_packet']:5.2f} us/packet "
        f"({c['icrc_on_gbit_s_per_core']:5.2f} Gbit/s a core): "
        f"+{c['icrc_on_us_per_packet'] / c['icrc_off_us_per_packet'] - 1:.0%}"
        for c in cost
    )
    lines.append("")
    lines.append(
        f"{'mode':6} {'MTU':>5} {'ICRC':>4} {'Gbit/s':>7} {'fps':>6} {'dev fps':>7} {'lost':>5} "
        f"{'pkts lost':>9} "
        f"{'lat p50':>8} {'lat p99':>8} {'eof p50':>8} {'eof p99':>8} {'rx CPU':>6} {'emu CPU':>7} "
        f"{'of raw':>6}"
    )
    for r in runs:
        ratio = r["gbit_s"] / raw[r["mtu"]]["gbit_s"] if raw[r["mtu"]]["gbit_s"] else float("nan")
        r["ratio_to_raw_udp"] = ratio
        lost = r["frames_incomplete"] + r["frames_overwritten"]
        r["frames_lost"] = lost
        lines.append(
            f"{r['mode']:6} {r['mtu']:5d} {'on' if r['icrc'] else 'off':>4} {r['gbit_s']:7.2f} "
            f"{r['fps_received']:6.1f} {r['fps_device']:7.1f} "
            f"{lost:5d} {r['packets_dropped']:9d} {r['latency_first_byte_ms_p50']:7.1f}m "
            f"{r['latency_first_byte_ms_p99']:7.1f}m {r['latency_end_packet_ms_p50']:7.2f}m "
            f"{r['latency_end_packet_ms_p99']:7.2f}m {r['receiver_cpu']:6.2f} {r['emulator_cpu']:7.2f} "
            f"{ratio:6.0%}"
        )
    lines.append("")
    lines.append(
        "whole runs (warm-up and stop included; a frame in flight when the receiver stops is cut): "
        "frames the device sent -> received -> complete"
    )
    lines.extend(
        f"  {r['mode']:6} MTU {r['mtu']:5d} ICRC {'on ' if r['icrc'] else 'off'}: "
        f"{r['device_frames_sent_total']} -> "
        f"{r['host_frames_received_total']} -> {r['host_frames_complete_total']}"
        + (f" ({r['rejected_icrc']} failed the ICRC)" if r["rejected_icrc"] else "")
        for r in runs
    )
    lines += [
        "",
        "Gbit/s: complete frames' payload; fps: complete frames per second; dev fps: windows the device got",
        "out; lost: frames delivered incomplete or overwritten before the consumer took them; lat: device's",
        "first-byte timestamp -> sink (ms); eof: end-of-frame packet received -> sink (ms); CPU: cores busy;",
        "ICRC: the receiver checks every datagram's ICRC (LinuxReceiverOp(check_icrc=True); off by default).",
        "Goal: 4K60 RAW10 (~5 Gbit/s) with zero lost frames on a 2-core machine.",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "sensor_bridge.txt").write_text(text + "\n")
        payload = {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "receive_path": path,
            "load_average": [load_before, load_after],
            "raw_udp": raw,
            "assembler_cost": cost,
            "runs": runs,
        }
        write_json(RESULTS / "sensor_bridge.json", payload)


if __name__ == "__main__":
    main()
