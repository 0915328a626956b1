"""The hub: one final's state kept current from the log, commands turned into durable events,
and role views fanned out to every connected client as snapshots and patches.

All writes pass through ``submit`` under one lock: decide on the current state, append with the
expected seq (durable), then apply and publish. The ack goes out only after the append returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
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


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class Outcome:
    code: str  # "ack", or an error code
    seq: int | None = None
    message: str = ""


UNAVAILABLE = Outcome("store_unavailable", None,
                      "the score store cannot be reached: nothing was recorded; retry shortly")
ID_REUSED = Outcome("id_reused", None, "this id was used before for a different frame")


class ContestMismatch(Exception):
    """The store holds a different final than the contest file given."""


@dataclass(eq=False)
class Client:
    """One connection: its role and a bounded queue that a writer task drains."""

    role: str
    send: Callable[[str], Any]  # async send of a text frame
    judge: str | None = None
    queue: asyncio.Queue[str | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    lagging: bool = False
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def push(self, text: str) -> None:
        if self.lagging:
            return
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.lagging = True
            self.closed.set()

    @property
    def view_key(self) -> str:
        if self.role == "judge":
            return f"judge:{self.judge}"
        return "host" if self.role == "host" else "public"


def _encode_sections(view: Mapping[str, Any]) -> dict[str, str]:
    return {name: P.encode(value) for name, value in view.items()}


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
        self.clients: set[Client] = set()
        self.presence: dict[str, Presence] = {}
        self._lock = asyncio.Lock()
        self._encoded: dict[str, dict[str, str]] = {}
        self._follower: asyncio.Task[None] | None = None
        self._published = 0
        self._tokens: Tokens | None = None
        self.started = False

    # --- life cycle ---

    async def start(self, follow: bool = False) -> None:
        await self.store.open()
        events = await self.store.read(0)
        if not events:
            if self._given is None:
                raise ContestMismatch("the store is empty: give a contest file to start a final")
            with contextlib.suppress(Conflict):  # another hub process created it first
                await self.store.append(0, [NewEvent(CREATED, {"contest": contest_data(self._given),
                                                                "protocol": P.VERSION}, "system")])
            events = await self.store.read(0)
        stored = parse_contest(events[0]["data"]["contest"], "log event 1")
        if self._given is not None and canonical(contest_data(self._given)) != canonical(
                events[0]["data"]["contest"]):
            raise ContestMismatch(
                "this store holds a different final than the contest file given: "
                "use a new store, or start without --contest to resume the stored final")
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

    async def tokens(self) -> Tokens:
        """The tokens as stored now (another process may rotate one); while the store is
        unreachable, the last ones read, so clients can still reconnect and be told."""
        try:
            self._tokens = await load_tokens(self.store, self.contest)
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
        views = {"public": public,
                 "host": host_view(self.contest, self.state, self.presence, public)}
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
        return {"seq": self.seq, "epoch": self.store.epoch,
                "state": {k: json.loads(v) for k, v in self._encoded[view_key].items()}}

    def publish(self, changes: Mapping[str, Mapping[str, str]]) -> None:
        """Encode each view's patch once and queue it for every client of that view.

        When the seq moved, every view gets a patch (maybe with an empty ``set``) whose
        ``prev`` is the seq before it, so a client can tell a gap from a quiet step."""
        prev, self._published = self._published, self.seq
        keys = set(self._encoded) if prev != self.seq else set(changes)
        texts = {key: _patch_text(prev, self.seq, changes.get(key, {})) for key in keys}
        for client in list(self.clients):
            text = texts.get(client.view_key)
            if text is not None:
                client.push(text)

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
                    log.warning("lost the log follower (%s); retrying every second", exc,
                                exc_info=not isinstance(exc, StoreUnavailable))
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

    async def submit(self, actor: str, action: str, args: Mapping[str, Any], fid: str,
                     digest: str) -> Outcome:
        """Decide, append durably, apply; the outcome is an ack with its seq, or a refusal."""
        key = f"{actor}\x1f{fid}"
        async with self._lock:
            for _ in range(8):
                assert self.state is not None
                try:
                    seen = await self.store.lookup(key)
                except Exception:
                    log.warning("store unavailable on lookup", exc_info=True)
                    return UNAVAILABLE
                if seen is not None:
                    return Outcome("ack", seen[0]) if seen[1] == digest else ID_REUSED
                try:
                    events = decide(self.contest, self.state, Command(actor, action, args, now_ms()))
                except RuleError as exc:
                    return Outcome(exc.code, None, exc.message)
                at = now_ms()
                new = [NewEvent(e["type"], e["data"], actor, at, fid if i == 0 else None)
                       for i, e in enumerate(events)]
                try:
                    rows = await self.store.append(self.seq, new, (key, digest))
                except Conflict:
                    try:
                        await self.catch_up()
                    except Exception:
                        log.warning("store unavailable on catch-up", exc_info=True)
                        return UNAVAILABLE
                    continue
                except Duplicate as dup:
                    return Outcome("ack", dup.seq) if dup.digest == digest else ID_REUSED
                except Exception:
                    log.warning("store unavailable on append", exc_info=True)
                    return UNAVAILABLE
                self.ingest(rows)
                return Outcome("ack", rows[-1]["seq"])
        return Outcome("conflict", None, "the log kept moving; send the same frame again")
