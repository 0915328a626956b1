"""A Python protocol-v1 client: hello, snapshot and patches folded into a local view, frames
answered by id. Used by the simulated judges, the autopilot host, the tests and the benchmarks.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


class Refused(Exception):
    """The hub answered a frame with an error frame."""

    def __init__(self, frame: dict[str, Any]) -> None:
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.code = frame.get("code")
        self.frame = frame


def ws_url(base: str) -> str:
    parts = urlsplit(base)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    return f"{scheme}://{parts.netloc}/ws"


def http_origin(base: str) -> str:
    parts = urlsplit(base)
    scheme = "https" if parts.scheme in ("https", "wss") else "http"
    return f"{scheme}://{parts.netloc}"


class HubClient:
    """One connection. ``state`` is the role's view, kept current from snapshot and patches."""

    def __init__(
        self,
        base: str,
        role: str,
        token: str | None = None,
        on_frame: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.base, self.role, self.token = base, role, token
        self.on_frame = on_frame
        self.ws: ClientConnection | None = None
        self.state: dict[str, Any] = {}
        self.seq = 0
        self.epoch: str | None = None
        self.welcome: dict[str, Any] = {}
        self.frames: list[str] = []  # every text frame received, for secrecy checks
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._changed = asyncio.Condition()
        self._ids = (f"{secrets.token_hex(4)}-{n}" for n in itertools.count())

    async def connect(self, since: int | None = None) -> HubClient:
        self.ws = await connect(
            ws_url(self.base),
            origin=http_origin(self.base),  # type: ignore[arg-type]
            compression=None,
            max_size=2**24,
            open_timeout=10,
        )
        hello: dict[str, Any] = {"type": "hello", "role": self.role, "since": since}
        if self.token is not None:
            hello["token"] = self.token
        await self.ws.send(json.dumps(hello))
        first = json.loads(await self.ws.recv())
        if first.get("type") == "error":
            raise Refused(first)
        self.welcome = first
        self.epoch = first["epoch"]
        snap = json.loads(await self.ws.recv())
        self._take(snap)
        self._reader = asyncio.create_task(self._read())
        return self

    def new_id(self) -> str:
        return next(self._ids)

    def _take(self, frame: dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "snapshot":
            self.state = frame["state"]
            self.seq = frame["seq"]
        elif kind == "patch":
            self.state.update(frame["set"])
            self.seq = frame["seq"]

    async def _read(self) -> None:
        assert self.ws is not None
        try:
            async for raw in self.ws:
                text = raw if isinstance(raw, str) else raw.decode()
                self.frames.append(text)
                frame = json.loads(text)
                self._take(frame)
                if self.on_frame:
                    self.on_frame(frame)
                fid = frame.get("id")
                if frame.get("type") in ("ack", "error") and fid in self._pending:
                    waiter = self._pending.pop(fid)
                    if not waiter.done():  # a request that timed out: its answer came late
                        waiter.set_result(frame)
                async with self._changed:
                    self._changed.notify_all()
        except ConnectionClosed:
            pass  # the close code stays readable on self.ws.close_code
        finally:
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("connection closed before the answer"))
            self._pending.clear()
            async with self._changed:
                self._changed.notify_all()

    async def request(self, frame: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        """Send a frame with an id and wait for its ack (returned) or error (raised)."""
        assert self.ws is not None
        frame.setdefault("id", self.new_id())
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[frame["id"]] = fut
        try:
            await self.ws.send(json.dumps(frame))
            answer = await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(frame["id"], None)
        if answer["type"] == "error":
            raise Refused(answer)
        return answer

    async def command(self, action: str, id: str | None = None, **args: Any) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "command", "action": action, "args": args}
        if id:
            frame["id"] = id
        return await self.request(frame)

    async def score(
        self,
        case: str,
        criteria: dict[str, str] | None = None,
        total: str | None = None,
        id: str | None = None,
    ) -> dict[str, Any]:
        frame: dict[str, Any] = {"type": "score", "case": case}
        if criteria is not None:
            frame["criteria"] = criteria
        if total is not None:
            frame["total"] = total
        if id:
            frame["id"] = id
        return await self.request(frame)

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10
    ) -> dict[str, Any]:
        """Wait until the local view satisfies ``predicate``."""

        async def wait() -> None:
            async with self._changed:
                while not predicate(self.state):
                    if self._reader is None or self._reader.done():
                        raise ConnectionError("connection closed")
                    await self._changed.wait()

        await asyncio.wait_for(wait(), timeout)
        return self.state

    async def wait_seq(self, seq: int, timeout: float = 10) -> None:
        await self.wait_for(lambda _: self.seq >= seq, timeout)

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
        if self._reader is not None:
            with contextlib.suppress(BaseException):
                await self._reader

    async def __aenter__(self) -> HubClient:
        return await self.connect() if self.ws is None else self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
