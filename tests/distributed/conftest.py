"""Fixtures for the ZeroMQ tests: a private context, its authenticator, and link factories that
close whatever they made."""

from __future__ import annotations

import secrets

import pytest
import zmq

from holoflow.distributed._zmq_auth import Authenticator
from holoflow.distributed._zmq_links import DataLink, DataListener


@pytest.fixture(scope="session", autouse=True)
def zero_copy_collector():
    """pyzmq starts one process-wide thread at the first zero-copy send, to release the sent
    buffers; start it before any test so the leaked-thread check does not count it."""
    from zmq.utils.garbage import gc

    if not gc.is_alive():
        gc.start()


@pytest.fixture
def zmq_context():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)  # closes what a failed test left open, so teardown never hangs


@pytest.fixture
def authenticator(zmq_context):
    auth = Authenticator(zmq_context)
    auth.start()
    yield auth
    auth.close()


class Links:
    """Makes listeners and links on one context; closes links, then listeners, at teardown."""

    def __init__(self, context, authenticator):
        self.context = context
        self.authenticator = authenticator
        self.listeners = []
        self.links = []
        self.sockets = []

    def listener(self, **kwargs):
        listener = DataListener(self.context, self.authenticator, **kwargs)
        self.listeners.append(listener)
        return listener

    def link(self, listener, link_id, token, edges, **kwargs):
        link = DataLink(self.context, link_id, listener.endpoint, token, edges, **kwargs)
        self.links.append(link)
        return link

    def socket(self, kind):
        sock = self.context.socket(kind)
        sock.linger = 0
        self.sockets.append(sock)
        return sock

    @staticmethod
    def token():
        return secrets.token_bytes(32)

    def close(self):
        for link in self.links:
            link.close(timeout=0.5)
        for listener in self.listeners:
            listener.close(timeout=0.5)
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def links(zmq_context, authenticator):
    made = Links(zmq_context, authenticator)
    yield made
    made.close()
