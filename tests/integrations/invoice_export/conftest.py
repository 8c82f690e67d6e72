"""Fixtures for the invoice export tests: the app with a short ERP timeout, and a TCP proxy in
front of the test sshd that can cut a connection after a given number of bytes."""
from __future__ import annotations

import socket
import threading

import pytest



@pytest.fixture
def erp_app(app):
    app.config["ERP_TIMEOUT"] = 5
    return app


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to the target port. Once :meth:`arm` is called, it lets ``limit``
    more bytes go from the client to the server, then closes both sides of every connection."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.remaining: int | None = None     # None: not armed
        self.cuts = 0
        self.sockets: list[socket.socket] = []
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, limit: int) -> None:
        with self.lock:
            self.remaining = limit

    def disarm(self) -> None:
        with self.lock:
            self.remaining = None

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _cut(self, a, b):
        self.cuts += 1
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _pump(self, src, dst, upstream: bool):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            if upstream:
                with self.lock:
                    if self.remaining is not None:
                        if len(data) > self.remaining:
                            data, self.remaining = data[:self.remaining], 0
                            cut = True
                        else:
                            self.remaining -= len(data)
                            cut = False
                    else:
                        cut = False
                if cut:
                    if data:
                        try:
                            dst.sendall(data)
                        except OSError:
                            pass
                    self._cut(src, dst)
                    return
            try:
                dst.sendall(data)
            except OSError:
                return

    def close(self):
        self.closed = True
        self.listener.close()
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


@pytest.fixture
def cutting_proxy(sshd):
    proxy = CuttingProxy(sshd.port)
    yield proxy
    proxy.close()
