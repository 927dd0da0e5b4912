"""Is a hub's port free, or held by this sandbox's own hub?

A port another program listens on makes the new hub give up (EADDRINUSE)
while whatever holds the port answers in its place, so ``plan`` (and ``up``,
which plans first) refuses it. "Our own" is what this state directory
records: a live hub pid of the same sandbox, or a live configurable-http-proxy
its proxy pidfile names.
"""

from __future__ import annotations

import errno
import socket

from ..config.model import Sandbox
from ..errors import InvalidInput
from ..host.daemon import read_pid, running_as
from ..host.layout import PROXY, Layout

FIRST_PORT = 8000


def listening(ip: str, port: int) -> bool:
    """Whether something listens on ``ip:port`` here (a bind fails with
    EADDRINUSE); False for an address that is not this machine's."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def own_hub_runs(sandbox: str, layout: Layout) -> bool:
    return bool(
        read_pid(layout.pidfile(sandbox)) or running_as(layout.proxy_pidfile(sandbox), PROXY)
    )


def port_problem(sandbox: Sandbox, layout: Layout) -> str | None:
    """Why ``sandbox``'s hub cannot listen on its port here, or None."""
    ip, port = sandbox.hub.ip or "0.0.0.0", sandbox.hub.port
    if not listening(ip, port) or own_hub_runs(sandbox.name, layout):
        return None
    return (
        f"sandbox {sandbox.name}: port {port} on {ip} is in use by another program (not this "
        f"sandbox's hub, per the state directory {layout.root}); choose another hub.port "
        f"(port {free_port(ip, port + 1)} is free) or stop what listens there"
    )


def check_port(sandbox: Sandbox, layout: Layout) -> None:
    problem = port_problem(sandbox, layout)
    if problem:
        raise InvalidInput(problem)


def free_port(ip: str = "127.0.0.1", start: int = FIRST_PORT) -> int:
    """The first port from ``start`` on that nothing listens on."""
    for port in range(start, 65536):
        if not listening(ip, port):
            return port
    raise InvalidInput(f"no free port on {ip} from {start} on")
