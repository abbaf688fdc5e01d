"""Hostile connections to every listener of a running distributed application.

While a driver + worker pair streams messages, connections that are not the application's own
(random bytes, a ZeroMQ greeting cut short, an idle socket, the NULL and PLAIN mechanisms with
made-up credentials, CURVE with a key from another secret) hit the driver's control port and
the worker's data listener. Each is dropped and counted; every message still arrives once, in
order, and both processes exit 0.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import time

import pytest

zmq = pytest.importorskip("zmq")

from tests.distributed.test_processes import Cluster  # noqa: E402

pytestmark = pytest.mark.timeout(120)

GREETING = b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"NULL" + b"\0" * 16 + b"\0" + b"\0" * 31


def raw_attacks(port: int) -> list[socket.socket]:
    """Random bytes, a greeting cut short, and an idle connection (kept open: returned)."""
    kept = []
    for payload in (os.urandom(4096), GREETING[:20], b""):
        conn = socket.create_connection(("127.0.0.1", port), timeout=2)
        if payload:
            conn.sendall(payload)
        kept.append(conn)
    return kept


def zmq_attacks(context, port: int) -> list:
    """ZeroMQ peers with the wrong or no credentials: each sends a message that must never arrive."""
    endpoint = f"tcp://127.0.0.1:{port}"
    made = []
    null = context.socket(zmq.DEALER)
    plain = context.socket(zmq.DEALER)
    plain.plain_username = b"w1>w2"
    plain.plain_password = secrets.token_bytes(32)
    curve = context.socket(zmq.DEALER)
    public, secret = zmq.curve_keypair()
    server_public, _ = zmq.curve_keypair()
    curve.curve_serverkey = server_public
    curve.curve_publickey = public
    curve.curve_secretkey = secret
    for sock in (null, plain, curve):
        sock.linger = 0
        sock.connect(endpoint)
        made.append(sock)
        if sock is not curve:
            try:
                sock.send(b'{"kind":"JOIN"}', zmq.NOBLOCK)
            except zmq.Again:
                pass  # the listener refused the handshake before the message could be queued
    return made


def test_refused_connections_never_disturb_a_running_app(tmp_path):
    run = Cluster(tmp_path)
    context = zmq.Context()
    kept: list = []
    try:
        common = ("--count", "300", "--period-ms", "5", "--out", str(tmp_path / "rx.json"))
        run.start("driver", *common, "--driver", "--worker", "--fragments", "tx")
        run.start("worker", *common, "--worker", "--fragments", "rx")
        run.wait_for("worker", "RX_FIRST")
        endpoint = re.search(r"Worker data listener on tcp://127\.0\.0\.1:(\d+)", run.stderr("worker"))
        assert endpoint is not None
        for port in (run.port, int(endpoint.group(1))):
            kept += raw_attacks(port)
            kept += zmq_attacks(context, port)
        time.sleep(0.5)
        kept += raw_attacks(run.port)  # again, mid-stream
        assert run.wait("worker") == 0, run.stderr("worker")
        assert run.wait("driver") == 0, run.stderr("driver")
    finally:
        for item in kept:
            item.close()
        context.destroy(linger=0)
        run.close()
    assert json.loads((tmp_path / "rx.json").read_text()) == list(range(300))
    control = re.search(r"Control port refused (\d+) connection", run.stderr("driver"))
    data = re.search(r"Data listener refused (\d+) connection", run.stderr("worker"))
    assert control is not None and int(control.group(1)) >= 4, run.stderr("driver")
    assert data is not None and int(data.group(1)) >= 4, run.stderr("worker")
