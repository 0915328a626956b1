"""Helpers for the hub's protocol tests: raw sockets for odd frames, HTTP views, the log."""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request
from typing import Any

from conftest import LiveServer, live_cmd
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from live.client import http_origin, ws_url
from live.store import open_store


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


def head_seq(srv: LiveServer) -> int:
    return int(get_json(f"{srv.base}/healthz")["seq"])


async def raw(srv: LiveServer, origin: str | None = "same", **kw: Any) -> ClientConnection:
    """A bare WebSocket to /ws, for frames HubClient would never send."""
    org = http_origin(srv.base) if origin == "same" else origin
    return await connect(
        ws_url(srv.base),
        origin=org,
        compression=None,  # type: ignore[arg-type]
        max_size=2**24,
        open_timeout=10,
        **kw,
    )


async def hello(ws: ClientConnection, role: str, token: str | None = None) -> list[dict[str, Any]]:
    frame: dict[str, Any] = {"type": "hello", "role": role, "since": None}
    if token is not None:
        frame["token"] = token
    await ws.send(json.dumps(frame))
    return [json.loads(await ws.recv()), json.loads(await ws.recv())]


async def closed_with(ws: ClientConnection, timeout: float = 15) -> tuple[int | None, list[dict]]:
    """Read until the hub closes; return the close code and the frames read before it."""
    frames: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(timeout):
            while True:
                frames.append(json.loads(await ws.recv()))
    except ConnectionClosed as exc:
        return (exc.rcvd.code if exc.rcvd else None), frames
    finally:
        await ws.close()


async def read_log(store: str) -> list[dict[str, Any]]:
    st = open_store(store)
    await st.open()
    try:
        return await st.read(0)
    finally:
        await st.close()


def live_verify(store: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(live_cmd("verify", store), capture_output=True, text=True, timeout=60)


def quoted(values: Any) -> set[str]:
    """Decimal strings as they appear inside a JSON frame: with their quotes."""
    return {f'"{v}"' for v in values}
