"""A link end in its own process, for the tests that kill a peer: ``dial ENDPOINT LINK TOKEN`` or
``listen LINK TOKEN``; prints ``ready`` (and the listener's endpoint) and waits on stdin."""

from __future__ import annotations

import sys

import zmq

from holoflow.distributed._codec import encode
from holoflow.distributed._zmq_auth import Authenticator
from holoflow.distributed._zmq_links import DataLink, DataListener


def main(role: str, *args: str) -> None:
    context = zmq.Context()
    if role == "dial":
        endpoint, link_id, token = args
        link = DataLink(context, link_id, endpoint, bytes.fromhex(token), {1: 4})
        link.wait_ready(10)
        link.send(1, encode(b"first"))
        print("ready", flush=True)
    else:
        link_id, token = args
        auth = Authenticator(context)
        auth.start()
        listener = DataListener(context, auth)
        listener.expect(link_id, bytes.fromhex(token), {1: 4}, lambda edge, message: None)
        print("ready", listener.endpoint, flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main(*sys.argv[1:])
