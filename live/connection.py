"""One WebSocket from hello to close (protocol v1): the origin check before the upgrade, the
hello and its token, a rate limit per connection, and each frame turned into a hub call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from live import protocol as P
from live import settings
from live.fanout import Client
from live.hub import Hub, now_ms
from live.uvicorn_direct import DirectWriter, direct_writer

log = logging.getLogger("live.connection")
# Declared in live/settings.py (with their help text); named here for the code that reads them.
RATE = settings.RATE.default  # frames per second a client may sustain
BURST = settings.BURST.default
HOST_RATE = settings.HOST_RATE.default
HOST_BURST = settings.HOST_BURST.default


class Bucket:
    """A token bucket: a burst of frames is fine, a flood is not."""

    def __init__(self, rate: float = RATE, burst: float = BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def origin_ok(ws: WebSocket, allowed: Iterable[str]) -> bool:
    allowed = set(allowed)
    if "*" in allowed:
        return True
    origin = ws.headers.get("origin")
    if not origin or origin == "null":
        return False
    host = ws.headers.get("host", "")
    return origin in allowed or origin in (f"http://{host}", f"https://{host}")


class Connection:
    """One WebSocket from hello to close."""

    def __init__(self, hub: Hub, ws: WebSocket) -> None:
        self.hub, self.ws = hub, ws
        self.client: Client | None = None
        self.bucket = Bucket()
        self.token: object = None
        self.peer = f"{ws.client.host}:{ws.client.port}" if ws.client else "?"

    async def close(self, code: int, error: tuple[str, str] | None = None) -> None:
        with contextlib.suppress(Exception):
            if error:
                await self.ws.send_text(P.error_frame(*error))
            await self.ws.close(code)

    async def receive_text(self) -> str | None:
        """The next text frame, or None once the peer went away (or was closed for cause)."""
        msg = await self.ws.receive()
        if msg["type"] == "websocket.disconnect":
            return None
        text = msg.get("text")
        if text is None:
            await self.close(P.CLOSE_BAD_FRAME, ("bad_frame", "binary frames are not accepted"))
            return None
        if len(text.encode()) > P.MAX_FRAME:
            await self.close(P.CLOSE_TOO_BIG, ("too_big", "frame over 64 KiB"))
            return None
        if not self.bucket.take():
            log.info("closing %s (%s): too many frames", self.peer, self.who)
            await self.close(P.CLOSE_TOO_MANY, ("too_many_frames", "slow down"))
            return None
        return text

    @property
    def who(self) -> str:
        if self.client is None:
            return "before hello"
        return f"judge {self.client.judge}" if self.client.judge else self.client.role

    async def run(self) -> None:
        try:
            text = await asyncio.wait_for(self.receive_text(), P.HELLO_TIMEOUT)
        except TimeoutError:
            await self.close(P.CLOSE_HELLO_TIMEOUT, ("hello_timeout", "no hello in time"))
            return
        except WebSocketDisconnect:
            return
        if text is None:
            return
        try:
            client = await self.hello(P.parse_frame(text))
        except P.FrameError as exc:
            log.info("refused hello from %s: %s", self.peer, exc.code)
            await self.close(exc.close or P.CLOSE_BAD_FRAME, (exc.code, exc.message))
            return
        self.client = client
        tasks = {asyncio.create_task(self.read_loop(client)), asyncio.create_task(client.closed.wait())}
        if client.write is None:
            tasks.add(asyncio.create_task(self.write_loop(client)))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            self.hub.leave(client)
            if client.judge:
                self.hub.judge_seen(client.judge, -1)
        if client.lagging:
            log.info("dropping %s (%s): fell behind", self.peer, self.who)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(P.CLOSE_LAGGING), 2)
            if isinstance(client.write, DirectWriter):  # a peer that never reads: free its buffer
                asyncio.get_running_loop().call_later(10, client.write.abort)

    async def hello(self, frame: dict[str, Any]) -> Client:
        if frame["type"] != "hello":
            raise P.FrameError("hello_first", "the first frame must be hello", P.CLOSE_BAD_FRAME)
        role = frame.get("role")
        if role not in P.ROLES:
            raise P.FrameError("bad_role", f"role must be one of {', '.join(P.ROLES)}", P.CLOSE_BAD_FRAME)
        since = P.since_of(frame)
        judge = None
        if role in ("judge", "host"):
            tokens = await self.hub.tokens()
            token = frame.get("token")
            if role == "host" and not tokens.is_host(token):
                raise P.FrameError("bad_token", "wrong or missing host token", P.CLOSE_BAD_TOKEN)
            if role == "judge":
                judge = tokens.judge_for(token)
                if judge is None:
                    raise P.FrameError("bad_token", "wrong or missing judge token", P.CLOSE_BAD_TOKEN)
        hub = self.hub
        self.token = frame.get("token")
        if role == "host":  # one trusted client that may click fast; judges and screens less
            self.bucket = Bucket(HOST_RATE, HOST_BURST)
        client = Client(role, self.ws.send_text, judge, write=direct_writer(self.ws))
        hub.join(client, self.welcome(client, since))  # welcome, snapshot, then patches
        log.info("hello from %s as %s", self.peer, (judge and f"judge {judge}") or role)
        if judge:
            hub.judge_seen(judge, +1)
        return client

    async def rehello(self, client: Client, frame: dict[str, Any]) -> None:
        """A resync on the same connection: same role (and token), a fresh snapshot."""
        if frame.get("role") != client.role:
            raise P.FrameError(
                "bad_role", "a connection keeps its role; reconnect to change it", P.CLOSE_BAD_FRAME
            )
        if client.role in ("judge", "host"):
            tokens = await self.hub.tokens()
            ok = (
                tokens.is_host(frame.get("token"))
                if client.role == "host"
                else tokens.judge_for(frame.get("token")) == client.judge
            )
            if not ok:
                raise P.FrameError("bad_token", "wrong token", P.CLOSE_BAD_TOKEN)
            self.token = frame.get("token")
        self.hub.resync(client, self.welcome(client, P.since_of(frame)))

    def welcome(self, client: Client, since: int | None) -> dict[str, Any]:
        hub = self.hub
        frame: dict[str, Any] = {
            "type": "welcome",
            "role": client.role,
            "epoch": hub.store.epoch,
            "seq": hub.seq,
            "server_time": now_ms(),
            "since": since,
            "protocol": P.VERSION,
        }
        if client.judge:
            frame["judge"] = {"id": client.judge, "name": hub.contest.judge(client.judge).name}
        return frame

    async def write_loop(self, client: Client) -> None:
        with contextlib.suppress(Exception):
            while True:
                text = await client.queue.get()
                if text is None:
                    return
                await self.ws.send_text(text)

    async def read_loop(self, client: Client) -> None:
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                text = await self.receive_text()
                if text is None:
                    return
                try:
                    reply = await self.dispatch(client, P.parse_frame(text))
                except P.FrameError as exc:
                    log.info("refused frame from %s (%s): %s", self.peer, self.who, exc.code)
                    if exc.close:
                        await self.close(exc.close, (exc.code, exc.message))
                        return
                    client.push(P.error_frame(exc.code, exc.message, exc.id))
                    continue
                if reply:
                    client.push(reply)

    async def dispatch(self, client: Client, frame: dict[str, Any]) -> str | None:
        kind = frame["type"]
        if client.judge:
            self.hub.presence[client.judge].last_seen = now_ms()
        if kind == "ping":
            return P.encode({"type": "pong", "server_time": now_ms(), "seq": self.hub.seq})
        if kind == "hello":
            await self.rehello(client, frame)
            return None
        if kind == "score":
            if client.role != "judge" or client.judge is None:
                raise P.FrameError("forbidden", f"a {client.role} cannot score", P.CLOSE_FORBIDDEN)
            fid = P.frame_id(frame)
            body: dict[str, Any] = {k: frame[k] for k in ("case", "criteria", "total") if k in frame}
            return await self.write(client.judge, "score", body, fid, frame)
        if kind == "command":
            if client.role != "host":
                raise P.FrameError(
                    "forbidden", f"a {client.role} cannot command the final", P.CLOSE_FORBIDDEN
                )
            fid = P.frame_id(frame)
            action, args = frame.get("action"), frame.get("args", {})
            if not isinstance(action, str) or not isinstance(args, dict):
                raise P.FrameError("bad_frame", "command needs a string action and object args", id_=fid)
            return await self.write("host", action, args, fid, frame)
        if kind == "presence":
            if client.judge is None:
                raise P.FrameError("forbidden", "only judges report their device", P.CLOSE_FORBIDDEN)
            battery, charging = frame.get("battery"), frame.get("charging")
            if battery is not None and (
                isinstance(battery, bool) or not isinstance(battery, int | float) or not 0 <= battery <= 1
            ):
                raise P.FrameError("bad_frame", "battery must be a number from 0 to 1")
            self.hub.judge_seen(
                client.judge, 0, battery=battery, charging=charging if isinstance(charging, bool) else None
            )
            return None
        raise P.FrameError("unknown_type", f"unknown frame type {kind!r}")

    async def still_valid(self, actor: str) -> None:
        """A rotated token stops a connection that signed in with the old one (within a
        second: the tokens are re-read at most once a second on this path)."""
        tokens = await self.hub.tokens(max_age=1.0)
        ok = tokens.is_host(self.token) if actor == "host" else tokens.judge_for(self.token) == actor
        if not ok:
            raise P.FrameError("bad_token", "this token was replaced; sign in again", P.CLOSE_BAD_TOKEN)

    async def write(
        self, actor: str, action: str, args: dict[str, Any], fid: str, frame: dict[str, Any]
    ) -> str:
        if P.has_bad_number(args):
            raise P.FrameError("bad_value", "numbers must be finite", id_=fid)
        await self.still_valid(actor)
        outcome = await self.hub.submit(actor, action, args, fid, P.body_digest(frame))
        if outcome.code == "ack":
            return P.encode({"type": "ack", "id": fid, "seq": outcome.seq})
        log.info("refused %s %s from %s: %s", action, fid, self.who, outcome.code)
        return P.error_frame(outcome.code, outcome.message, fid)
