"""The hub: one final's state kept current from the log, commands turned into durable events,
and role views fanned out to every connected client as snapshots and patches.

All writes pass through ``submit`` under one lock: decide on the current state, append with the
expected seq (durable), then apply and publish. The ack goes out only after the append returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import struct
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from live import protocol as P
from live.chain import canonical
from live.contest import Contest, contest_data, parse_contest
from live.final import Command, FinalState, apply, decide, initial_state
from live.scoring import RuleError
from live.store import Conflict, Duplicate, NewEvent, Store, StoreUnavailable
from live.tokens import Tokens, load_tokens
from live.verify import CREATED
from live.views import Presence, host_view, judge_view, public_view

log = logging.getLogger("live.hub")

QUEUE_LIMIT = 256  # frames a client may fall behind before it is dropped to resync
WRITE_CAP = 512 * 1024  # bytes buffered for a client written to directly before it is dropped
STAGE_GC_DELAY = 1.0  # s after a case goes on stage: the screens are served first
FANOUT_CHUNK = 64  # audience writes per event-loop turn: judges' frames are served in between


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Outcome:
    code: str  # "ack", or an error code
    seq: int | None = None
    message: str = ""


UNAVAILABLE = Outcome(
    "store_unavailable", None, "the score store cannot be reached: nothing was recorded; retry shortly"
)
ID_REUSED = Outcome("id_reused", None, "this id was used before for a different frame")


def _unavailable(step: str) -> None:
    """Log a refused write: one line for a known outage, the traceback for anything else."""
    exc = sys.exc_info()[1]
    log.warning("store unavailable on %s: %s", step, exc, exc_info=not isinstance(exc, StoreUnavailable))


class ContestMismatch(Exception):
    """The store holds a different final than the contest file given."""


def ws_frame(text: str) -> bytes:
    """A server-to-client WebSocket text frame (unmasked, unfragmented, uncompressed)."""
    data = text.encode()
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + data
    return struct.pack("!BBQ", 0x81, 127, n) + data


@dataclass(eq=False)
class Client:
    """One connection: its role, and either a direct frame writer (``write``: pre-framed bytes
    to the transport, False once over WRITE_CAP) or a bounded queue that a writer task drains.

    Every frame goes through ``push``, in call order, so welcome, snapshot and patches stay in
    order whichever way is used."""

    role: str
    send: Callable[[str], Any]  # async send of a text frame
    judge: str | None = None
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    lagging: bool = False
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    write: Callable[[bytes], bool] | None = None
    seq: int = -1  # the seq this client's view is at (audience fan-out sends it the next patch)
    view_key: str = field(init=False)
    bulk: bool = field(init=False)  # an audience socket: served by the chunked fan-out

    def __post_init__(self) -> None:
        self.view_key = (
            f"judge:{self.judge}" if self.role == "judge" else "host" if self.role == "host" else "public"
        )
        self.bulk = self.role == "audience"

    def push(self, text: str, frame: bytes | None = None) -> None:
        if self.lagging:
            return
        if self.write is not None:
            if not self.write(frame if frame is not None else ws_frame(text)):
                self.lagging = True
                self.closed.set()
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.lagging = True
            self.closed.set()


class ClientSet(set[Client]):
    """Every connected client, and beside them the few that are not audience (judges, host,
    displays), which ``publish`` serves at once without walking 10,000 phones."""

    def __init__(self) -> None:
        super().__init__()
        self.direct: set[Client] = set()

    def add(self, client: Client) -> None:
        super().add(client)
        if not client.bulk:
            self.direct.add(client)

    def discard(self, client: object) -> None:
        super().discard(client)
        self.direct.discard(client)

    def remove(self, client: Client) -> None:
        super().remove(client)
        self.direct.discard(client)


@dataclass(eq=False)
class _FanoutJob:
    """One public patch on its way to the audience; merged with the next while not started."""

    prev: int
    seq: int
    changed: dict[str, str]
    targets: list[Client] | None = None  # set when it starts: the audience at that moment
    done: int = 0
    text: str = ""
    frame: bytes = b""


def _patch_text(prev: int, seq: int, changed: Mapping[str, str]) -> str:
    body = ",".join(f"{json.dumps(k)}:{v}" for k, v in changed.items())
    return f'{{"type":"patch","prev":{prev},"seq":{seq},"set":{{{body}}}}}'


def _snapshot_text(seq: int, sections: Mapping[str, str]) -> str:
    body = ",".join(f"{json.dumps(k)}:{v}" for k, v in sections.items())
    return f'{{"type":"snapshot","seq":{seq},"state":{{{body}}}}}'


class Hub:
    def __init__(self, store: Store, contest: Contest | None = None) -> None:
        self.store = store
        self._given = contest
        self.contest: Contest = contest  # type: ignore[assignment]  # set for sure in start()
        self.state: FinalState | None = None
        self.clients = ClientSet()
        self.presence: dict[str, Presence] = {}
        self._lock = asyncio.Lock()
        self._encoded: dict[str, dict[str, str]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._published = 0
        self._fanout: deque[_FanoutJob] = deque()
        self._draining = False
        self._tokens: Tokens | None = None
        self._tokens_at = 0.0
        self.started = False

    # --- life cycle ---

    async def start(self, follow: bool = False) -> None:
        await self.store.open()
        events = await self.store.read(0)
        if not events:
            if self._given is None:
                raise ContestMismatch("the store is empty: give a contest file to start a final")
            with contextlib.suppress(Conflict):  # another hub process created it first
                await self.store.append(
                    0,
                    [
                        NewEvent(
                            CREATED, {"contest": contest_data(self._given), "protocol": P.VERSION}, "system"
                        )
                    ],
                )
            events = await self.store.read(0)
        stored = parse_contest(events[0]["data"]["contest"], "log event 1")
        if self._given is not None and canonical(contest_data(self._given)) != canonical(
            events[0]["data"]["contest"]
        ):
            raise ContestMismatch(
                "this store holds a different final than the contest file given: "
                "use a new store, or start without --contest to resume the stored final"
            )
        self.contest = self._given or stored
        state = initial_state(self.contest)
        for ev in events:
            state = apply(self.contest, state, ev)
        self.state = state
        self.presence = {j.id: Presence() for j in self.contest.judges}
        await self.tokens()  # make any missing tokens now, not at the first hello
        self._recompute()
        self._published = state.seq
        if follow:
            self._follower = asyncio.create_task(self._follow())
        self.started = True

    async def stop(self) -> None:
        if self._follower:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        for client in list(self.clients):
            client.closed.set()
        await self.store.close()

    async def tokens(self, max_age: float = 0.0) -> Tokens:
        """The tokens as stored now (another process may rotate one), or as read less than
        ``max_age`` seconds ago; while the store is unreachable, the last ones read, so
        clients can still reconnect and be told."""
        if self._tokens is not None and time.monotonic() - self._tokens_at < max_age:
            return self._tokens
        try:
            self._tokens = await load_tokens(self.store, self.contest)
            self._tokens_at = time.monotonic()
        except StoreUnavailable:
            if self._tokens is None:
                raise
        return self._tokens

    @property
    def seq(self) -> int:
        assert self.state is not None
        return self.state.seq

    # --- views ---

    def views(self) -> dict[str, dict[str, Any]]:
        assert self.state is not None
        public = public_view(self.contest, self.state)
        views = {"public": public, "host": host_view(self.contest, self.state, self.presence, public)}
        for j in self.contest.judges:
            views[f"judge:{j.id}"] = judge_view(self.contest, self.state, j.id, public)
        return views

    def _recompute(self) -> dict[str, dict[str, str]]:
        """Re-encode every view; return, per view, the sections that changed.

        Views share section objects with the public view, so each is encoded once."""
        changes: dict[str, dict[str, str]] = {}
        memo: dict[int, str] = {}
        for key, view in self.views().items():
            old = self._encoded.get(key, {})
            enc = {}
            for name, value in view.items():
                text = memo.get(id(value))
                if text is None:
                    text = memo[id(value)] = P.encode(value)
                enc[name] = text
            self._encoded[key] = enc
            diff = {n: v for n, v in enc.items() if old.get(n) != v}
            if diff:
                changes[key] = diff
        return changes

    def snapshot(self, view_key: str) -> str:
        return _snapshot_text(self.seq, self._encoded[view_key])

    def view_json(self, view_key: str) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "epoch": self.store.epoch,
            "state": {k: json.loads(v) for k, v in self._encoded[view_key].items()},
        }

    def publish(self, changes: Mapping[str, Mapping[str, str]]) -> None:
        """Encode (and frame) each view's patch once and push it to every client of that view.

        When the seq moved, every view gets a patch (maybe with an empty ``set``) whose
        ``prev`` is the seq before it, so a client can tell a gap from a quiet step. Judges,
        host and displays get it now; the audience through the chunked fan-out (``_drain``), so
        that 10,000 phones never delay a judge's ack or the big screen."""
        prev, self._published = self._published, self.seq
        keys = set(self._encoded) if prev != self.seq else set(changes)
        texts = {key: _patch_text(prev, self.seq, changes.get(key, {})) for key in keys}
        frames = {key: ws_frame(text) for key, text in texts.items()}
        for client in list(self.clients.direct):
            text = texts.get(client.view_key)
            if text is not None:
                client.push(text, frames[client.view_key])
        if "public" in keys:
            self._fan_out(prev, self.seq, dict(changes.get("public", {})))

    def _fan_out(self, prev: int, seq: int, changed: dict[str, str]) -> None:
        last = self._fanout[-1] if self._fanout else None
        if last is not None and last.targets is None and last.seq == prev:
            last.seq = seq  # not started yet: one patch carries both steps
            last.changed.update(changed)
        else:
            self._fanout.append(_FanoutJob(prev, seq, changed))
        if not self._draining:
            self._draining = True
            try:
                asyncio.get_running_loop().call_soon(self._drain)
            except RuntimeError:  # no event loop (a synchronous caller): deliver right away
                while self._draining:
                    self._drain(schedule=False)

    def _drain(self, schedule: bool = True) -> None:
        """Write up to FANOUT_CHUNK audience frames, then yield to the event loop.

        A client at the patch's ``prev`` gets the shared frame; one already past it (it joined
        or resynced later) is skipped; one in between gets a fresh snapshot instead."""
        if self._lock.locked() and schedule:
            # A write is on its way to the store: give its thread the GIL, fan out after.
            asyncio.get_running_loop().call_later(0.001, self._drain)
            return
        budget = FANOUT_CHUNK
        while self._fanout and budget > 0:
            job = self._fanout[0]
            if job.targets is None:
                job.targets = list(self.clients.difference(self.clients.direct))
                job.text = _patch_text(job.prev, job.seq, job.changed)
                job.frame = ws_frame(job.text)
            text, frame, prev, seq = job.text, job.frame, job.prev, job.seq
            start, end = job.done, min(len(job.targets), job.done + budget)
            for client in job.targets[start:end]:
                if client.seq == prev:
                    client.seq = seq
                    client.push(text, frame)
                elif client.seq < seq:
                    client.seq = self.seq
                    client.push(self.snapshot(client.view_key))
            budget -= end - start
            job.done = end
            if end == len(job.targets):
                self._fanout.popleft()
        if not self._fanout:
            self._draining = False
        elif schedule:
            asyncio.get_running_loop().call_soon(self._drain)

    def ingest(self, rows: list[dict[str, Any]]) -> None:
        """Apply committed events in order (skipping ones already applied) and publish."""
        assert self.state is not None
        state = self.state
        for row in rows:
            if row["seq"] == state.seq + 1:
                state = apply(self.contest, state, row)
        if state is self.state:
            return
        self.state = state
        self.publish(self._recompute())
        if any(row["type"] == "staged" for row in rows):
            self._collect_soon()

    def _collect_soon(self) -> None:
        """A full garbage collection while a presenter walks on, not while judges score.

        With thousands of connections a full collection stops the hub for most of a second;
        left to itself Python may run one in the middle of scoring (an ack late by that much).
        Collecting just after a case goes on stage, once the screens have it, resets the
        collector's count, so the scoring minutes that follow rarely need another."""
        with contextlib.suppress(RuntimeError):  # no running loop: a synchronous caller
            asyncio.get_running_loop().call_later(STAGE_GC_DELAY, gc.collect)

    async def catch_up(self) -> None:
        self.ingest(await self.store.read(self.seq))

    async def _follow(self) -> None:
        lost = False
        while True:
            try:
                if lost:
                    await self.catch_up()
                    log.warning("log follower is back at seq %d", self.seq)
                    lost = False
                async for batch in self.store.follow(self.seq):
                    self.ingest(batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store will be back; keep following
                if not lost:
                    log.warning(
                        "lost the log follower (%s); retrying every second",
                        exc,
                        exc_info=not isinstance(exc, StoreUnavailable),
                    )
                lost = True
                await asyncio.sleep(1)

    # --- presence (host panel only) ---

    def judge_seen(self, judge: str, delta: int = 0, **device: Any) -> None:
        p = self.presence.setdefault(judge, Presence())
        p.connections += delta
        p.last_seen = now_ms()
        for key, value in device.items():
            setattr(p, key, value)
        if delta or device:
            changes = self._recompute()
            self.publish({k: v for k, v in changes.items() if k == "host"})

    # --- writes ---

    async def submit(
        self, actor: str, action: str, args: Mapping[str, Any], fid: str, digest: str
    ) -> Outcome:
        """Decide, append durably, apply; the outcome is an ack with its seq, or a refusal."""
        key = f"{actor}\x1f{fid}"
        async with self._lock:
            for _ in range(8):
                assert self.state is not None
                try:
                    seen = await self.store.lookup(key)
                except Exception:
                    _unavailable("lookup")
                    return UNAVAILABLE
                if seen is not None:
                    return Outcome("ack", seen[0]) if seen[1] == digest else ID_REUSED
                try:
                    events = decide(self.contest, self.state, Command(actor, action, args, now_ms()))
                except RuleError as exc:
                    return Outcome(exc.code, None, exc.message)
                at = now_ms()
                new = [
                    NewEvent(e["type"], e["data"], actor, at, fid if i == 0 else None)
                    for i, e in enumerate(events)
                ]
                try:
                    rows = await self.store.append(self.seq, new, (key, digest))
                except Conflict:
                    try:
                        await self.catch_up()
                    except Exception:
                        _unavailable("catch-up")
                        return UNAVAILABLE
                    continue
                except Duplicate as dup:
                    return Outcome("ack", dup.seq) if dup.digest == digest else ID_REUSED
                except Exception:
                    _unavailable("append")
                    return UNAVAILABLE
                self.ingest(rows)
                return Outcome("ack", rows[-1]["seq"])
        return Outcome("conflict", None, "the log kept moving; send the same frame again")
