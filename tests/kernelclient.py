"""A small Jupyter kernel client for tests and the bench: start a kernel over
a server's REST API and run code over its websocket, either through the hub's
proxy (TCP on 127.0.0.1) or straight at the server's unix socket."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import aiohttp


class KernelSession:
    """One kernel of one user's server. ``socket``: talk to the server's unix
    socket instead of the proxy at ``base``."""

    def __init__(self, base: str, user: str, token: str, socket: str | None = None):
        self.prefix = f"/user/{user}/api"
        self.base = "http://localhost" if socket else base
        self.token = token
        self.socket = socket
        self.session_id = uuid.uuid4().hex

    def client(self) -> aiohttp.ClientSession:
        connector = aiohttp.UnixConnector(path=self.socket) if self.socket else None
        return aiohttp.ClientSession(
            connector=connector, headers={"Authorization": f"token {self.token}"}
        )

    async def start_kernel(self, http: aiohttp.ClientSession) -> str:
        async with http.post(f"{self.base}{self.prefix}/kernels", json={"name": "python3"}) as r:
            r.raise_for_status()
            return (await r.json())["id"]

    def request(self, code: str) -> dict:
        return {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "username": "test",
                "session": self.session_id,
                "msg_type": "execute_request",
                "version": "5.3",
                "date": datetime.now(UTC).isoformat(),
            },
            "parent_header": {},
            "metadata": {},
            "content": {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
            "channel": "shell",
            "buffers": [],
        }

    async def run(
        self, http: aiohttp.ClientSession, kernel: str, codes: list[str], timeout: float = 60
    ) -> list[list[dict]]:
        """Run each code in turn; return, per code, the messages it caused:
        until both its execute_reply (shell) and the kernel's idle status
        (iopub) came, since the two channels keep no order between them."""
        url = f"{self.base}{self.prefix}/kernels/{kernel}/channels"
        results: list[list[dict]] = []
        async with http.ws_connect(url, max_msg_size=0) as ws:
            for code in codes:
                message = self.request(code)
                await ws.send_str(json.dumps(message))
                caused: list[dict] = []
                replied = idle = False
                while not (replied and idle):
                    frame = await asyncio.wait_for(ws.receive(), timeout)
                    if frame.type != aiohttp.WSMsgType.TEXT:
                        raise RuntimeError(f"websocket closed: {frame}")
                    reply = json.loads(frame.data)
                    if reply.get("parent_header", {}).get("msg_id") != message["header"]["msg_id"]:
                        continue
                    caused.append(reply)
                    kind = reply["header"]["msg_type"]
                    replied |= kind == "execute_reply"
                    idle |= kind == "status" and reply["content"].get("execution_state") == "idle"
                results.append(caused)
        return results


def outputs(messages: list[dict]) -> str:
    """Text a code printed or returned."""
    text = []
    for message in messages:
        content = message.get("content", {})
        if message["header"]["msg_type"] == "stream":
            text.append(content.get("text", ""))
        elif message["header"]["msg_type"] == "execute_result":
            text.append(content.get("data", {}).get("text/plain", ""))
    return "".join(text)


async def execute(session: KernelSession, codes: list[str]) -> tuple[str, list[list[dict]]]:
    """Start a kernel and run the codes in it; return the kernel id and messages."""
    async with session.client() as http:
        kernel = await session.start_kernel(http)
        return kernel, await session.run(http, kernel, codes)
