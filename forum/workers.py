"""gunicorn's sync worker, with a shutdown that drops no connection.

On SIGTERM, gunicorn's master closes its copy of the listening socket and tells each worker to
finish its request and exit. The stock sync worker keeps its own copy of the socket open until
it exits, so while any worker finishes a request the kernel goes on accepting new connections
into the listen queue; when the last worker exits, everything still queued is reset. A client
(or nginx, which never resends a POST) sees a request lost.

This worker, when told to stop, first takes every connection already queued, then lets go of
the listening socket at once. When every worker has done so the socket is closed: a new
connection is refused straight away, which tells nginx to try another instance, POSTs
included, since nothing was sent. The worker then finishes the request in flight and serves
the connections it took, within the graceful timeout. A worker retired on its own (a reload
with HUP, fewer workers with TTOU) does the same; the master and the other workers keep the
socket listening.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
from collections import deque

from gunicorn.workers.sync import SyncWorker


class _BoundAddress:
    """Stands in for a listener that was let go: gunicorn asks it only for its address."""

    def __init__(self, address):
        self._address = address

    def getsockname(self):
        return self._address


class GracefulSyncWorker(SyncWorker):
    """A sync worker that serves, rather than resets, what was queued when it was told to stop."""

    def run(self):
        self._taken: deque = deque()
        self._addresses = {id(listener): listener.getsockname() for listener in self.sockets}
        super().run()
        while self._taken:
            listener, client, address = self._taken.popleft()
            client.setblocking(True)
            self.handle(listener, client, address)

    def handle_exit(self, sig, frame):
        self.alive = False
        for listener in self.sockets:
            self._take_queued(listener)
            self._let_go(listener)

    def _take_queued(self, listener) -> None:
        while True:
            try:
                client, address = listener.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # already let go of
            self._taken.append((_BoundAddress(self._addresses[id(listener)]), client, address))

    def _let_go(self, listener) -> None:
        # Point the listener's descriptor at a socket that listens to nothing: this process no
        # longer holds the listening socket, yet the descriptor stays valid for the loop's
        # select() and accept(), which then find nothing to do.
        with contextlib.suppress(OSError), socket.socket() as idle:
            os.dup2(idle.fileno(), listener.sock.fileno())

    def accept(self, listener):
        try:
            super().accept(listener)
        except OSError as exc:
            if self.alive or exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                raise
            # Told to stop between the loop's check and accept(): nothing is lost.

    def handle_request(self, listener, req, client, addr):
        address = self._addresses.get(id(listener))
        if address is not None:
            listener = _BoundAddress(address)
        return super().handle_request(listener, req, client, addr)
