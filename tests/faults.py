"""Fault-injection harness for the reliability suite: contest variants, a per-judge score table,
judges that retry unacked scores with the same id, a host driver, a hub killer, a faulty TCP
proxy, and the checks (set test of scores, secrecy sweep, process figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import sqlite3
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from websockets.exceptions import WebSocketException

from live.client import HubClient, Refused
from live.contest import Contest
from live.contest_file import DEMO_PATH, load_contest
from live.final import FinalState, apply, case_aggregate, group_placings, initial_state
from live.scoring import RuleError, plain
from live.simulate import plausible_entry

FULL = os.environ.get("LIVE_FULL") == "1"
FIGURES = Path(os.environ.get("LIVE_FIGURES", "test-output/reliability"))
NET_ERRORS = (OSError, ConnectionError, TimeoutError, WebSocketException, Refused)


# --- contests and score tables ---


def variant_contest(dest: Path, judges: int = 15, per_group: int | None = None) -> Path:
    """The demo final with ``judges`` judges (the demo's nine plus made-up ones), optionally cut
    to the first ``per_group`` cases of each group. Recusals of cut cases are dropped."""
    data = yaml.safe_load(DEMO_PATH.read_text(encoding="utf-8"))
    base = data["judges"]
    data["judges"] = [
        base[i] if i < len(base) else {"id": f"j{i + 1}", "name": f"评委{i + 1}", "unit": f"评审单位{i + 1}"}
        for i in range(judges)
    ]
    if per_group is not None:
        kept: list[dict[str, Any]] = []
        for g in data["groups"]:
            kept += [c for c in data["cases"] if c["group"] == g["key"]][:per_group]
        data["cases"] = kept
        for g in data["groups"]:  # one case per prize level, as many levels as fit
            g["prizes"] = {name: 1 for name in list(g["prizes"])[:per_group]}
    ids = {c["id"] for c in data["cases"]} | {j["id"] for j in data["judges"]}
    data["recusals"] = [r for r in data.get("recusals", []) if r["case"] in ids and r["judge"] in ids]
    dest.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    load_contest(dest)  # refuse a broken variant here, not in the server
    return dest


def rubric_json(contest: Contest) -> dict[str, Any]:
    return {
        "rubric": [{"key": c.key, "max": str(c.max), "step": str(c.step)} for c in contest.rubric.criteria]
    }


ScoreTable = dict[tuple[str, str], dict[str, str]]


def score_table(contest: Contest, seed: int) -> ScoreTable:
    """What each judge will give each case they may score: fixed by ``seed``."""
    rubric = rubric_json(contest)
    table: ScoreTable = {}
    for case in contest.cases:
        for j in contest.judges:
            if not contest.is_recused(j.id, case.id):
                rng = random.Random(f"{seed}:{j.id}:{case.id}")
                table[(j.id, case.id)] = plausible_entry(rubric, case.id, j.id, rng)
    return table


# --- drivers ---


@dataclass
class Tally:
    """What the drivers saw: acked score ids, retries, reconnects, refusals."""

    acked: dict[tuple[str, str], tuple[str, int]] = field(default_factory=dict)  # -> (id, seq)
    sent: int = 0
    retries: int = 0
    reconnects: int = 0
    refused: list[str] = field(default_factory=list)
    commands: int = 0
    judge_frames: dict[str, list[str]] = field(default_factory=dict)


class RetryingJudge:
    """A judge's tablet: scores each open case once from the table, keeps the score in an
    outbox until acked, and resends it with the same id after every reconnect."""

    def __init__(
        self,
        base: Callable[[], str],
        judge: str,
        token: str,
        table: ScoreTable,
        tally: Tally,
        tag: str,
        keep_frames: bool = False,
        think: tuple[float, float] = (0.0, 0.02),
    ) -> None:
        self.base, self.judge, self.token, self.table = base, judge, token, table
        self.tally, self.tag, self.keep_frames, self.think = tally, tag, keep_frames, think
        self.frames: list[str] = []  # every frame received, over every connection
        self.outbox: dict[str, dict[str, Any]] = {}  # case -> score frame (with its id)
        self.done: set[str] = set()
        self.rng = random.Random(f"think:{tag}:{judge}")

    def _wants(self, s: Mapping[str, Any]) -> str | None:
        p = s.get("progress") or {}
        case = p.get("case")
        if (
            case
            and p.get("status") == "scoring"
            and case not in self.done
            and case not in self.outbox
            and (self.judge, case) in self.table
            and self.judge in p.get("expected", [])
        ):
            return str(case)
        return None

    async def _deliver(self, client: HubClient, case: str) -> None:
        frame = dict(self.outbox[case])
        self.tally.sent += 1
        try:
            ack = await client.request(frame, timeout=5)
        except Refused as exc:
            self.tally.refused.append(f"{self.judge} {case}: {exc.code}")
            self.outbox.pop(case)
            self.done.add(case)
            return
        self.tally.acked[(self.judge, case)] = (frame["id"], ack["seq"])
        self.outbox.pop(case)
        self.done.add(case)

    async def run(self, stop: asyncio.Event) -> None:
        first = True
        while not stop.is_set():
            client = HubClient(self.base(), "judge", self.token)
            try:
                await client.connect()
                if not first:
                    self.tally.reconnects += 1
                first = False
                for case in list(self.outbox):  # unacked before the link dropped
                    self.tally.retries += 1
                    await self._deliver(client, case)
                while not stop.is_set():
                    state = await client.wait_for(
                        lambda s: self._wants(s) is not None or stop.is_set(), timeout=3600
                    )
                    case = self._wants(state)
                    if case is None:
                        continue
                    self.outbox[case] = {
                        "type": "score",
                        "id": f"{self.tag}:{self.judge}:{case}",
                        "case": case,
                        "criteria": self.table[(self.judge, case)],
                    }
                    await asyncio.sleep(self.rng.uniform(*self.think))
                    await self._deliver(client, case)
            except (TimeoutError, *NET_ERRORS):
                await asyncio.sleep(self.rng.uniform(0.02, 0.15))
            finally:
                await client.close()
                if self.keep_frames:
                    self.frames += client.frames


class HostDriver:
    """The host console on autopilot, without pauses: next, open, wait for every expected
    judge, close, reveal; then ties and the awards. Reconnects and re-reads the state after
    any trouble, so a command lost in a crash is simply decided again."""

    def __init__(
        self, base: Callable[[], str], token: str, tally: Tally, wait_scores: float = 120, awards: bool = True
    ) -> None:
        self.base, self.token, self.tally = base, token, tally
        self.wait_scores, self.awards = wait_scores, awards
        self.client: HubClient | None = None

    async def _cmd(self, host: HubClient, action: str, **args: Any) -> None:
        # The id is fixed by the log position it was decided at: a resend after a crash of
        # the very same decision is answered with the same ack.
        self.tally.commands += 1
        try:
            await host.command(action, id=f"host:{host.seq}:{action}", **args)
        except Refused as exc:
            self.tally.refused.append(f"host {action}: {exc.code}")

    async def step(self, host: HubClient) -> bool:
        s = host.state
        run = s["run"]
        current = run["current"]
        status = run["status"].get(current) if current else None
        if run["finished"] and status in (None, "revealed", "skipped"):
            return self.awards and await self._awards(host)
        if current is None or status in ("revealed", "skipped"):
            await self._cmd(host, "next")
        elif status == "on_stage":
            await self._cmd(host, "open")
        elif status == "scoring":
            await host.wait_for(
                lambda st: set(st["progress"]["expected"]) <= set(st["progress"]["submitted"]),
                timeout=self.wait_scores,
            )
            await self._cmd(host, "close")
        elif status == "closed":
            await self._cmd(host, "reveal")
        return True

    async def _awards(self, host: HubClient) -> bool:
        s = host.state
        for g in s["contest"]["groups"]:
            board = s[f"board/{g['key']}"]
            ties = [r for r in board["rows"] if r["boundary_tie"]]
            if ties:
                order = [r["case"] for r in board["rows"] if r["rank"] == ties[0]["rank"]]
                await self._cmd(
                    host,
                    "resolve_tie",
                    group=g["key"],
                    order=order,
                    reason="reliability driver: order as listed",
                )
                return True
            awards = s["awards"]["groups"][g["key"]]
            if awards["shown"] < awards["steps"]:
                if s["screen"]["mode"] != "awards" or s["screen"]["group"] != g["key"]:
                    await self._cmd(host, "show", screen="awards", group=g["key"])
                else:
                    await self._cmd(host, "award_step", group=g["key"])
                return True
        return False

    async def run(self, deadline: float = 600) -> None:
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            host = HubClient(self.base(), "host", self.token)
            try:
                await host.connect()
                self.client = host
                while await self.step(host):
                    pass
                return
            except (TimeoutError, *NET_ERRORS):
                await asyncio.sleep(0.05)
            finally:
                await host.close()
        raise TimeoutError("the host driver did not finish the final in time")


async def play_final(
    base: Callable[[], str],
    tokens: Mapping[str, Any],
    table: ScoreTable,
    tag: str,
    awards: bool = True,
    judge_cls: type[RetryingJudge] = RetryingJudge,
    judge_kwargs: Mapping[str, Any] | None = None,
    deadline: float = 600,
) -> Tally:
    """Run a whole final with retrying judges and the host driver; return the tally."""
    tally = Tally()
    stop = asyncio.Event()
    judges = [
        judge_cls(base, j, t, table, tally, tag, **(judge_kwargs or {})) for j, t in tokens["judges"].items()
    ]
    tasks = [asyncio.create_task(j.run(stop)) for j in judges]
    try:
        await HostDriver(base, tokens["host"], tally, awards=awards).run(deadline)
    finally:
        stop.set()
        await asyncio.sleep(0.05)
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    tally.judge_frames = {j.judge: j.frames for j in judges}
    leftover = {j.judge: sorted(j.outbox) for j in judges if j.outbox}
    if leftover:
        tally.refused.append(f"unacked at the end: {leftover}")
    return tally


async def chaos(
    kill: Callable[[], None],
    start: Callable[[], Any],
    rng: random.Random,
    stop: asyncio.Event,
    gap: tuple[float, float],
    down: tuple[float, float],
    max_kills: int,
) -> int:
    """SIGKILL the hub at random moments and start it again on the same store."""
    kills = 0
    while kills < max_kills:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), rng.uniform(*gap))
        if stop.is_set():
            break
        await asyncio.to_thread(kill)
        kills += 1
        await asyncio.sleep(rng.uniform(*down))
        await asyncio.to_thread(start)
    return kills


# --- the store, read as an auditor would ---


def read_log(db_path: Path) -> tuple[str, list[dict[str, Any]]]:
    """The epoch and every event of an SQLite store, read without the hub."""
    with contextlib.closing(sqlite3.connect(db_path)) as db:
        epoch = db.execute("SELECT value FROM meta WHERE name='epoch'").fetchone()[0]
        rows = db.execute(
            "SELECT seq, type, data, actor, at, cid, prev, hash FROM events ORDER BY seq"
        ).fetchall()
    return epoch, [
        {
            "seq": r[0],
            "type": r[1],
            "data": json.loads(r[2]),
            "actor": r[3],
            "at": r[4],
            "cid": r[5],
            "prev": r[6],
            "hash": r[7],
        }
        for r in rows
    ]


def set_check(events: list[dict[str, Any]], tally: Tally, table: ScoreTable) -> dict[str, int]:
    """Every acked score is in the log exactly once, with its values; nothing else is."""
    scored = [e for e in events if e["type"] == "scored"]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for e in scored:
        by_id.setdefault(e["cid"], []).append(e)
    problems = []
    for (judge, case), (fid, seq) in tally.acked.items():
        found = by_id.get(fid, [])
        if len(found) != 1:
            problems.append(f"acked {fid} found {len(found)} times")
            continue
        e = found[0]
        if (e["data"]["judge"], e["data"]["case"]) != (judge, case) or e["seq"] != seq:
            problems.append(f"acked {fid} at {seq} stored as {e['data']} at {e['seq']}")
        if e["data"]["values"] != table[(judge, case)]:
            problems.append(f"{fid}: stored values differ from the ones sent")
    acked_ids = {fid for fid, _ in tally.acked.values()}
    unexpected = [e["cid"] for e in scored if e["cid"] not in acked_ids]
    if unexpected:
        problems.append(f"unexpected scores in the log: {unexpected[:5]}")
    assert not problems, problems
    return {"acked": len(tally.acked), "stored": len(scored)}


def results_of(contest: Contest, state: FinalState) -> dict[str, Any]:
    """The outcome that matters: each case's result, and each group's ranking and prizes."""
    out: dict[str, Any] = {}
    for cid, cs in state.cases.items():
        r = cs.result
        out[cid] = (
            cs.status,
            None
            if r is None
            else (
                str(r.final),
                plain(r.unrounded),
                tuple(r.dropped_high),
                tuple(r.dropped_low),
                tuple((j, plain(t)) for j, t in r.totals),
            ),
        )
    for g in contest.groups:
        out[f"board/{g.key}"] = [(p.case, p.rank, p.prize) for p in group_placings(contest, state, g.key)]
    out["awards"] = dict(state.awards)
    return out


def replay_states(contest: Contest, events: Iterable[Mapping[str, Any]]) -> dict[int, FinalState]:
    """The state after every seq, for checking what each frame was allowed to carry."""
    state = initial_state(contest)
    states = {0: state}
    for e in events:
        state = apply(contest, state, e)
        states[state.seq] = state
    return states


# --- secrecy ---


@dataclass
class Secrets:
    """Strings a non-host frame must not carry at a given seq, unless also legitimately shown."""

    forbidden: set[str]
    allowed: set[str]
    revealed: set[str]
    own: dict[str, set[str]]  # judge -> strings of their own unrevealed scores


def secrets_at(
    contest: Contest, state: FinalState, memo: dict[int, tuple[str, str]] | None = None
) -> Secrets:
    """The unrevealed totals, criterion sets and aggregates at this state, and what is shown."""
    memo = {} if memo is None else memo
    forbidden: set[str] = set()
    allowed: set[str] = {plain(v) for c in contest.rubric.criteria for v in (c.max, c.step)}
    own: dict[str, set[str]] = {}
    revealed = {c for c, cs in state.cases.items() if cs.status == "revealed"}
    for cid, cs in state.cases.items():
        for j, score in cs.scores.items():
            strings = memo.get(id(score))
            if strings is None:  # scores are shared between states: encode each once
                strings = memo[id(score)] = (
                    plain(score.total),
                    json.dumps(
                        {k: plain(v) for k, v in score.values.items()},
                        ensure_ascii=False,
                        separators=(",", ":"),
                    ),
                )
            if cid in revealed:
                allowed.add(strings[0])
            else:
                forbidden.update(strings)
                own.setdefault(j, set()).update(strings)
        if cs.result is not None:
            allowed |= {str(cs.result.final), plain(cs.result.unrounded)}
        elif cs.scores:
            try:
                agg = case_aggregate(contest, cs)
            except RuleError:
                continue
            forbidden |= {str(agg.final), plain(agg.unrounded)}
    return Secrets(forbidden - allowed, allowed, revealed, own)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _scored_cases(value: Any, path: str = "") -> Iterable[tuple[str, str]]:
    """(case, where) for every object that pairs a case id with a score-like field."""
    if isinstance(value, dict):
        if isinstance(value.get("case"), str) and {
            "final",
            "totals",
            "total",
            "values",
            "unrounded",
            "entries",
        } & set(value):
            yield value["case"], path
        for k, v in value.items():
            yield from _scored_cases(v, f"{path}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _scored_cases(v, f"{path}[{i}]")


class SecrecySweep:
    """Checks frames sent to display, audience and judge clients against the log."""

    def __init__(
        self, contest: Contest, states: Mapping[int, FinalState], table: ScoreTable | None = None
    ) -> None:
        self.contest, self.states, self.table = contest, states, table
        self._secrets: dict[int, Secrets] = {}
        self._memo: dict[int, tuple[str, str]] = {}
        self.frames = 0

    def secrets(self, seq: int) -> Secrets:
        if seq not in self._secrets:
            self._secrets[seq] = secrets_at(self.contest, self.states[seq], self._memo)
        return self._secrets[seq]

    def check(self, role: str, judge: str | None, text: str) -> list[str]:
        """Problems with one frame (empty: fine)."""
        self.frames += 1
        frame = json.loads(text)
        body = frame.get("state") or frame.get("set")
        if body is None:
            return []
        seq = frame["seq"]
        sec = self.secrets(seq)
        who = f"{role} {judge or ''} seq {seq}"
        problems = []
        mine = sec.own.get(judge, set()) if judge else set()
        leaked = (sec.forbidden - mine) & set(_strings(body))
        if leaked:
            problems.append(f"{who}: unrevealed values {sorted(leaked)[:4]}")
        for case, where in _scored_cases(body):
            if case not in sec.revealed:
                problems.append(f"{who}: scores of unrevealed {case} at {where}")
        if "scores" in body:
            problems.append(f"{who}: a host-only section reached it")
        me = body.get("me")
        if me is not None:
            if role != "judge":
                problems.append(f"{who}: a judge section reached it")
            for case, own in me.get("scores", {}).items():
                if self.table is not None and own["values"] != self.table.get((str(judge), case)):
                    problems.append(f"{who}: {case} values are not their own")
        return problems


# --- network trouble ---


@dataclass
class ProxyStats:
    connections: int = 0
    resets: int = 0
    drops: int = 0
    delayed_chunks: int = 0
    chunks: int = 0


class FaultyProxy:
    """A TCP proxy that delays chunks and, at random, drops (FIN) or resets (RST) both sides,
    often after forwarding only part of a chunk, i.e. mid-frame."""

    def __init__(
        self,
        target_port: int,
        rng: random.Random,
        delay: tuple[float, float] = (0, 0.03),
        drop: float = 0.004,
        reset: float = 0.004,
    ) -> None:
        self.target_port, self.rng = target_port, rng
        self.delay, self.drop, self.reset = delay, drop, reset
        self.stats = ProxyStats()
        self.port = 0
        self.enabled = True
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> FaultyProxy:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self._server:
            self._server.close()
        for w in list(self._writers):
            w.close()
        if self._server:
            await self._server.wait_closed()

    def _rst(self, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async def _handle(self, cr: asyncio.StreamReader, cw: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        try:
            ur, uw = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            cw.transport.abort()
            return
        self._writers |= {cw, uw}
        dead = asyncio.Event()

        async def pump(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while not dead.is_set():
                    chunk = await r.read(65536)
                    if not chunk:
                        break
                    self.stats.chunks += 1
                    pause = self.rng.uniform(*self.delay) if self.enabled else 0
                    if pause:
                        self.stats.delayed_chunks += 1
                        await asyncio.sleep(pause)
                    roll = self.rng.random() if self.enabled else 1.0
                    if roll < self.drop + self.reset:
                        w.write(chunk[: self.rng.randrange(len(chunk))])  # part of a frame
                        with contextlib.suppress(OSError):
                            await w.drain()
                        if roll < self.reset:
                            self.stats.resets += 1
                            self._rst(cw)
                            self._rst(uw)
                        else:
                            self.stats.drops += 1
                            cw.close()
                            uw.close()
                        break
                    w.write(chunk)
                    await w.drain()
            except (OSError, ConnectionError):
                pass
            finally:
                dead.set()
                with contextlib.suppress(Exception):
                    w.close()

        try:
            await asyncio.gather(pump(cr, uw), pump(ur, cw))
        finally:
            self._writers -= {cw, uw}
            cw.close()
            uw.close()


# --- process figures ---


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def socket_count(pid: int) -> int:
    n = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                n += 1
    return n


def write_figures(name: str, figures: Mapping[str, Any]) -> None:
    """Keep a test's figures (docs/reliability.md quotes the full-mode ones)."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False))


def live_verify(store: str | Path, head: str | None = None) -> subprocess.CompletedProcess[str]:
    """``live verify`` as an auditor runs it."""
    cmd = [sys.executable, "-m", "live", "verify", str(store)]
    if head:
        cmd += ["--head", head]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)


def log_errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if "ERROR" in line or "Traceback" in line]


# --- bad frames ---


class LoopThread:
    """An event loop in a thread, so that sync tests (hypothesis) can drive async probes."""

    def __init__(self) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


CLOSE_OK = {4400, 4401, 4403, 1009}  # bad frame, bad token, forbidden, too big


class Prober:
    """Sends one frame at a time over real sockets and reports how the hub answered it:
    ``("error", code)``, ``("close", code)``, or ``("ok", what)`` for a frame that was valid."""

    def __init__(self, base: str, hello: dict[str, Any], pool: int = 8) -> None:
        from live.client import http_origin, ws_url

        self.url, self.origin = ws_url(base), http_origin(base)
        self.hello, self.pool = hello, pool
        self.conns: list[Any] = [None] * pool
        self.turn = 0
        self.sent = 0
        self.outcomes: dict[str, int] = {}

    async def _open(self, first: str | bytes | None = None) -> Any:
        from websockets.asyncio.client import connect

        ws = await connect(
            self.url,
            origin=self.origin,
            compression=None,  # type: ignore[arg-type]
            max_size=2**24,
            open_timeout=10,
            max_queue=None,
        )
        await ws.send(json.dumps(self.hello) if first is None else first)
        return ws

    async def _answer(self, ws: Any, until_pong: bool) -> tuple[str, Any]:
        got: tuple[str, Any] | None = None
        try:
            while True:
                raw = await asyncio.wait_for(ws.recv(), 10)
                frame = json.loads(raw)
                kind = frame.get("type")
                if kind == "error" and got is None:
                    got = ("error", frame["code"])
                elif kind == "ack" and got is None:
                    got = ("ok", "ack")
                elif kind == "welcome" and got is None:
                    got = ("ok", "welcome")
                elif kind == "pong" and until_pong:
                    return got or ("ok", "silent")
                elif kind == "snapshot" and not until_pong:
                    return ("ok", "welcome")
        except WebSocketException:
            code = ws.close_code if ws.close_code is not None else -1
            return ("close", code)

    def _count(self, outcome: tuple[str, Any]) -> None:
        key = f"{outcome[0]}:{outcome[1]}"
        self.outcomes[key] = self.outcomes.get(key, 0) + 1

    async def probe(self, payload: str | bytes) -> tuple[str, Any]:
        """Send ``payload`` on an established connection (after hello)."""
        i = self.turn = (self.turn + 1) % self.pool
        ws = self.conns[i]
        if ws is None:
            ws = self.conns[i] = await self._open()
            await self._answer(ws, until_pong=False)  # welcome and snapshot
        self.sent += 1
        try:
            await ws.send(payload)
            await ws.send('{"type":"ping"}')
        except WebSocketException:
            pass
        out = await self._answer(ws, until_pong=True)
        if out[0] == "close":
            self.conns[i] = None
            with contextlib.suppress(Exception):
                await ws.close()
        self._count(out)
        return out

    async def probe_hello(self, payload: str | bytes) -> tuple[str, Any]:
        """Send ``payload`` as the very first frame of a new connection."""
        self.sent += 1
        ws = await self._open(payload)
        try:
            out = await self._answer(ws, until_pong=False)
        finally:
            with contextlib.suppress(Exception):
                await ws.close()
        self._count(out)
        return out

    async def close(self) -> None:
        for ws in self.conns:
            if ws is not None:
                with contextlib.suppress(Exception):
                    await ws.close()
