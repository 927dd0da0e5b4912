"""A byte relay between unix sockets and TCP, run in a swarm server's relay
container on the hub's node (docs/swarm.md).

``python3 relay.py LISTEN=TARGET ...`` where each side is ``unix:PATH`` or
``tcp:HOST:PORT``. Every connection accepted on LISTEN is piped to a new
connection to TARGET, both ways, until either side closes. A listener opens
only once its target accepts a connection, so a unix socket that exists is a
server that answers: the hub's readiness check needs nothing more.

Standard library only, and no imports from this package: the file is mounted
alone into the relay container and run by the image's Python.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from typing import Any

CHUNK = 64 * 1024
RETRY = 0.1  # seconds between attempts to reach a target not yet up


class Endpoint:
    def __init__(self, spec: str) -> None:
        kind, _, rest = spec.partition(":")
        if kind == "unix" and rest.startswith("/"):
            self.path: str | None = rest
            self.host, self.port = "", 0
        elif kind == "tcp" and rest.rpartition(":")[2].isdigit():
            host, _, port = rest.rpartition(":")
            self.path, self.host, self.port = None, host, int(port)
        else:
            raise ValueError(f"not unix:/PATH or tcp:HOST:PORT: {spec}")
        self.spec = spec

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.path:
            return await asyncio.open_unix_connection(self.path)
        return await asyncio.open_connection(self.host, self.port)

    async def listen(self, handle: Any) -> asyncio.AbstractServer:
        if self.path:
            if os.path.exists(self.path):
                os.unlink(self.path)
            server = await asyncio.start_unix_server(handle, self.path)
            os.chmod(self.path, 0o600)
            return server
        return await asyncio.start_server(handle, self.host, self.port)


def parse(argv: list[str]) -> list[tuple[Endpoint, Endpoint]]:
    pairs = []
    for arg in argv:
        listen, sep, target = arg.partition("=")
        if not sep:
            raise ValueError(f"not LISTEN=TARGET: {arg}")
        pairs.append((Endpoint(listen), Endpoint(target)))
    if not pairs:
        raise ValueError("usage: relay.py LISTEN=TARGET ...")
    return pairs


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass


async def until_reachable(target: Endpoint) -> None:
    while True:
        try:
            # short: a connect over an overlay network that is not routed yet
            # hangs instead of failing, and the next try may already succeed
            _, writer = await asyncio.wait_for(target.connect(), 1)
        except (TimeoutError, OSError):
            await asyncio.sleep(RETRY)
            continue
        writer.close()
        return


async def relay(listen: Endpoint, target: Endpoint) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await target.connect()
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        for each in (writer, upstream_writer):
            each.close()

    await until_reachable(target)
    server = await listen.listen(handle)
    print(f"relay: {listen.spec} -> {target.spec}", flush=True)
    async with server:
        await server.serve_forever()


async def main_async(pairs: list[tuple[Endpoint, Endpoint]]) -> None:
    await asyncio.gather(*(relay(listen, target) for listen, target in pairs))


def main(argv: list[str] | None = None) -> int:
    try:
        pairs = parse(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        print(f"relay: {exc}", file=sys.stderr)
        return 2
    os.umask(0o077)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
