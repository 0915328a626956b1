"""The one place that knows uvicorn's internals: the server settings the protocol needs, and the
direct writer that puts pre-framed messages straight onto uvicorn's sans-I/O WebSocket transport.

Supported: uvicorn >= 0.35 (the first with ``ws="websockets-sansio"``), written and tested against
0.55. The writer reads two private attributes of ``WebSocketsSansIOProtocol``: ``transport`` (the
asyncio transport) and ``close_sent``. That is where the fan-out's speed comes from: one
``transport.write`` per client and patch, no task, no await, no per-client framing. A server that
does not look like that protocol (another ``ws`` implementation, a uvicorn that renamed them, a
test client) gets ``None`` from ``direct_writer``, and the connection uses its queue instead;
``/healthz`` counts the ``direct`` clients and tests/test_fanout_path.py checks served clients
use this path.
"""

from __future__ import annotations

import logging
from importlib import metadata
from typing import Any

from starlette.websockets import WebSocket

from live import protocol as P
from live import settings
from live.fanout import WRITE_CAP

log = logging.getLogger("live.fanout")
SANSIO = "WebSocketsSansIOProtocol"
_SERVER_SEND = "live.server_send"
_said: set[bool] = set()  # which fan-out paths this process has announced


def uvicorn_options() -> dict[str, Any]:
    """Server settings the protocol relies on: 64 KiB frames, no compression, keepalive, and
    the sans-I/O WebSocket protocol that the direct fan-out writes to (``DirectWriter``)."""
    return {
        "ws": "websockets-sansio",
        "ws_max_size": P.MAX_FRAME,
        "ws_per_message_deflate": False,
        "ws_ping_interval": settings.WS_PING_INTERVAL.default,
        "ws_ping_timeout": settings.WS_PING_TIMEOUT.default,
        "lifespan": "on",
    }


class KeepServerSend:
    """ASGI middleware: keep the server's own ``send`` in the scope (Starlette wraps it), so a
    connection can find uvicorn's protocol and write pre-framed bytes to its transport."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope[_SERVER_SEND] = send
        await self.app(scope, receive, send)


class DirectWriter:
    """Writes whole pre-framed messages to uvicorn's sans-I/O WebSocket transport. Frames never
    interleave, since each goes in one synchronous ``write``. False once the client has more
    than WRITE_CAP bytes unread."""

    __slots__ = ("proto", "transport")

    def __init__(self, proto: Any) -> None:
        self.proto, self.transport = proto, proto.transport

    def __call__(self, frame: bytes) -> bool:
        if self.proto.close_sent or self.transport.is_closing():
            return True  # going away: the close path reports it
        self.transport.write(frame)
        return bool(self.transport.get_write_buffer_size() <= WRITE_CAP)

    def abort(self) -> None:
        """Drop the connection without a close handshake: a peer that never reads frees its buffer."""
        self.transport.abort()

    @classmethod
    def of(cls, ws: WebSocket) -> DirectWriter | None:
        """Only for the protocol whose internals this relies on; other servers use the queue."""
        proto = getattr(ws.scope.get(_SERVER_SEND), "__self__", None)
        if type(proto).__name__ != SANSIO or not all(hasattr(proto, a) for a in ("transport", "close_sent")):
            return None
        return cls(proto)


def direct_writer(ws: WebSocket) -> DirectWriter | None:
    """The direct writer for this connection, or None for the queued fallback; the first client
    of each kind in a process logs which fan-out path is in use (and why, for the fallback)."""
    writer = DirectWriter.of(ws)
    direct = writer is not None
    if direct not in _said:
        _said.add(direct)
        if direct:
            log.info("fan-out: direct writes to uvicorn's sans-I/O transport (uvicorn %s)", _version())
        else:
            proto = getattr(ws.scope.get(_SERVER_SEND), "__self__", None)
            log.warning(
                "fan-out: queued fallback (one writer task per client): the server protocol is %s, "
                "not uvicorn's %s (uvicorn %s); run with ws='websockets-sansio'",
                type(proto).__name__ if proto is not None else "unknown",
                SANSIO,
                _version(),
            )
    return writer


def _version() -> str:
    try:
        return metadata.version("uvicorn")
    except metadata.PackageNotFoundError:
        return "not installed"
