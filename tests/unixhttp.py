"""HTTP GET over a unix socket, for tests and the bench (the standard library
has no client for it)."""

from __future__ import annotations

import http.client
import socket


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 5):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def get(path: str, target: str, timeout: float = 5) -> int:
    """Status of GET ``target`` from the server on socket ``path``."""
    connection = UnixConnection(path, timeout)
    try:
        connection.request("GET", target)
        return connection.getresponse().status
    finally:
        connection.close()
