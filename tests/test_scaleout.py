"""Several hub processes on one Redis: a final played across processes, racing hosts, a hub
SIGKILLed mid-scoring, Redis killed and restarted, ``live copy`` and ``live serve --workers``.

Every hub is a real ``live serve`` subprocess; Redis is a real ``redis-server`` with AOF and
``appendfsync always``, started by the test on a free port with its own directory.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import MINI, LiveServer, live_cmd, need, redis_server_binary
from hub_helpers import get_json, live_verify, read_log
from redis_helpers import RedisServer

from live import chain
from live.client import HubClient, Refused

pytestmark = pytest.mark.redis

CASES = ["a1", "a2", "a3", "b1", "b2", "b3"]
JUDGES = ["j1", "j2", "j3", "j4", "j5"]
RECUSED = {("j5", "b3")}


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    need(redis_server_binary() is not None, "redis-server is not installed (apt-get install redis)")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@contextlib.asynccontextmanager
async def hubs(url: str, count: int = 2, **kw: Any) -> AsyncIterator[list[LiveServer]]:
    """``count`` hub processes on one store, started at once (they race to create the final)."""
    servers = [LiveServer(url, **kw) for _ in range(count)]
    try:
        await asyncio.gather(*(asyncio.to_thread(s.start) for s in servers))
        yield servers
    finally:
        for s in servers:
            s.stop()


def entry(case: str, judge: str, bump: int = 0) -> dict[str, str]:
    """Distinct finals per case (no ties, so the awards can run), a spread within each case."""
    i, k = CASES.index(case), JUDGES.index(judge)
    return {"innovation": str(10 + 2 * i + k + bump % 3), "impact": "20", "value": "15", "delivery": "15"}


def cid_counts(events: list[dict[str, Any]], kind: str = "scored") -> Counter[str]:
    return Counter(e["cid"] for e in events if e["type"] == kind and e["cid"])


async def log_of(url: str) -> list[dict[str, Any]]:
    events = await read_log(url)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    return events


def epoch_of(srv: LiveServer) -> str:
    return str(get_json(f"{srv.base}/healthz")["epoch"])


# --- a whole final across two processes ---


async def test_two_hubs_play_a_mini_final_with_identical_views(redis_server: RedisServer) -> None:
    url = redis_server.url(prefix="final:")
    async with hubs(url) as (a, b):
        assert epoch_of(a) == epoch_of(b)
        tokens = a.tokens()
        assert tokens == b.tokens()
        judges = {j: await HubClient(a.base, "judge", tokens["judges"][j]).connect() for j in JUDGES}
        host = await HubClient(b.base, "host", tokens["host"]).connect()
        screens = [await HubClient(s.base, "display").connect() for s in (a, b)]
        try:
            for case in CASES:
                await host.command("next")
                await host.command("open")
                panel = [j for j in JUDGES if (j, case) not in RECUSED]
                # the judges' hub learns of the opening from the stream, not from the host
                await asyncio.gather(
                    *(
                        judges[j].wait_for(
                            lambda s, c=case: (
                                s["progress"].get("case") == c and s["progress"]["status"] == "scoring"
                            )
                        )
                        for j in panel
                    )
                )
                acks = await asyncio.gather(*(judges[j].score(case, entry(case, j)) for j in panel))
                await host.wait_seq(max(x["seq"] for x in acks))
                assert host.state["progress"]["submitted"] == panel
                await host.command("close")
                await host.command("reveal")
            for group, steps in (("a", 3), ("b", 2)):
                await host.command("show", screen="awards", group=group)
                for _ in range(steps):
                    await host.command("award_step", group=group)
            head = (await log_of(url))[-1]["seq"]
            for client in (*screens, *judges.values(), host):
                await client.wait_seq(head)
            left, right = screens
            assert left.state == right.state
            assert left.state["run"]["finished"]
            assert [r["case"] for r in left.state["board/a"]["rows"]] == ["a3", "a2", "a1"]
            assert left.state["awards"]["groups"]["b"]["shown"] == 2
            assert get_json(f"{a.base}/api/view/display") == get_json(f"{b.base}/api/view/display")
            # a judge sees the same own view from either process
            async with HubClient(b.base, "judge", tokens["judges"]["j1"]) as j1_on_b:
                assert j1_on_b.seq == head
                assert j1_on_b.state == judges["j1"].state
        finally:
            for client in (*judges.values(), host, *screens):
                await client.close()
    assert live_verify(url).returncode == 0


# --- two hosts at once ---


async def test_two_hosts_commanding_at_once_keep_one_consistent_log(redis_server: RedisServer) -> None:
    url = redis_server.url(prefix="hosts:")
    async with hubs(url) as (a, b):
        token = a.tokens()["host"]
        h1 = await HubClient(a.base, "host", token).connect()
        h2 = await HubClient(b.base, "host", token).connect()
        try:
            # both press "next": one case goes on stage, the other host is told why not
            got = await asyncio.gather(h1.command("next"), h2.command("next"), return_exceptions=True)
            acked = [g for g in got if isinstance(g, dict)]
            refused = [g for g in got if isinstance(g, Refused)]
            assert len(acked) == 1, got
            assert [r.code for r in refused] == ["case_in_progress"], got
            # both press "open": the same
            got = await asyncio.gather(h1.command("open"), h2.command("open"), return_exceptions=True)
            assert sorted(g["type"] if isinstance(g, dict) else g.code for g in got) == [
                "ack",
                "already_open",
            ]
            # commands valid for both: every one lands once, in some order
            sent: dict[str, int] = {}
            for round_ in range(15):
                pair = await asyncio.gather(
                    h1.command("timer", id=f"h1-{round_}", op="add", seconds=5),
                    h2.command("timer", id=f"h2-{round_}", op="add", seconds=7),
                )
                sent.update({f"h1-{round_}": pair[0]["seq"], f"h2-{round_}": pair[1]["seq"]})
            # the same frame through both processes at once (a retry on the other hub)
            twice = await asyncio.gather(
                h1.command("timer", id="same", op="add", seconds=1),
                h2.command("timer", id="same", op="add", seconds=1),
            )
            assert twice[0]["seq"] == twice[1]["seq"]
            sent["same"] = twice[0]["seq"]
            events = await log_of(url)
            assert chain.check(epoch_of(a), events)[1] is None
            timers = cid_counts(events, "timer")
            assert timers == Counter(dict.fromkeys(sent, 1))
            assert {e["cid"]: e["seq"] for e in events if e["type"] == "timer"} == sent
            added = sum(e["data"]["seconds"] for e in events if e["type"] == "timer")
            await h1.wait_seq(events[-1]["seq"])
            await h2.wait_seq(events[-1]["seq"])
            assert h1.state["stage"] == h2.state["stage"]
            assert h1.state["stage"]["timer"]["duration_ms"] == (300 + added) * 1000
            assert added == 15 * 5 + 15 * 7 + 1
        finally:
            await h1.close()
            await h2.close()


# --- a hub process dies mid-scoring ---


class Judge:
    """A judge tablet with an outbox: a score not yet acked is sent again, same id, to
    whichever hub answers, until it is acked."""

    def __init__(self, judge: str, token: str, bases: list[str]) -> None:
        self.judge, self.token, self.bases = judge, token, bases
        self.client: HubClient | None = None
        self.acked: dict[str, int] = {}
        self.resent = 0

    async def connect(self) -> None:
        for _ in range(100):
            for base in self.bases:
                client = HubClient(base, "judge", self.token)
                try:
                    self.client = await client.connect()
                    return
                except Refused:
                    raise
                except Exception:  # refused, reset or cut mid-handshake by a dying hub
                    await client.close()
            await asyncio.sleep(0.1)
        raise ConnectionError("no hub answers")

    async def send(self, case: str, fid: str, values: dict[str, str]) -> None:
        while True:
            if self.client is None:
                await self.connect()
            assert self.client is not None
            try:
                ack = await self.client.score(case, values, id=fid)
            except Refused:
                raise
            except Exception:  # the hub went away: reconnect, send the same frame again
                await self.client.close()
                self.client = None
                self.resent += 1
                continue
            self.acked[fid] = ack["seq"]
            return

    async def close(self) -> None:
        if self.client:
            await self.client.close()


async def test_sigkill_one_hub_mid_scoring_loses_no_acked_score(redis_server: RedisServer) -> None:
    url = redis_server.url(prefix="kill:")
    async with hubs(url) as (a, b):
        tokens = a.tokens()
        host = await HubClient(b.base, "host", tokens["host"]).connect()
        display = await HubClient(b.base, "display").connect()
        await host.command("next")
        await host.command("open")
        # every judge starts on hub A and falls back to B when A dies
        pads = [Judge(j, tokens["judges"][j], [a.base, b.base]) for j in JUDGES]
        for pad in pads:
            await pad.connect()
        rounds = 12
        under_way = asyncio.Event()  # a quarter of the scores are in: kill hub A now

        async def scoring(pad: Judge) -> None:
            for n in range(rounds):
                await pad.send("a1", f"{pad.judge}-{n}", entry("a1", pad.judge, n))
                if sum(len(p.acked) for p in pads) >= 15:
                    under_way.set()
                await asyncio.sleep(0.02)

        async def killer() -> None:
            await under_way.wait()
            await asyncio.to_thread(a.kill)

        try:
            await asyncio.wait_for(asyncio.gather(killer(), *(scoring(p) for p in pads)), 60)
            assert sum(p.resent for p in pads) > 0  # A died with scores in flight
            events = await log_of(url)
            scored = cid_counts(events)
            acked = {fid: seq for p in pads for fid, seq in p.acked.items()}
            assert len(acked) == rounds * len(JUDGES)
            assert scored == Counter(dict.fromkeys(acked, 1))  # every acked score, once
            assert {e["cid"]: e["seq"] for e in events if e["type"] == "scored"} == acked
            await display.wait_seq(events[-1]["seq"])
            assert display.state["progress"]["submitted"] == JUDGES
        finally:
            for pad in pads:
                await pad.close()
            await host.close()
            await display.close()


# --- Redis itself goes away ---


async def test_redis_restart_loses_no_acked_score_and_hubs_recover(tmp_path: Path) -> None:
    need(redis_server_binary() is not None, "redis-server is not installed")
    redis = RedisServer(tmp_path / "redis", appendfsync="always").start()
    url = redis.url()
    try:
        async with hubs(url) as (a, b):
            tokens = a.tokens()
            host = await HubClient(b.base, "host", tokens["host"]).connect()
            pads = {j: await HubClient(a.base, "judge", tokens["judges"][j]).connect() for j in JUDGES}
            acked: dict[str, int] = {}
            try:
                await host.command("next")
                await host.command("open")
                await pads["j1"].wait_for(lambda s: s["progress"].get("status") == "scoring")
                for n in range(4):
                    for j, pad in pads.items():
                        acked[f"{j}-{n}"] = (await pad.score("a1", entry("a1", j, n), id=f"{j}-{n}"))["seq"]
                await asyncio.to_thread(redis.kill)  # SIGKILL: only what was fsynced survives
                with pytest.raises(Refused) as info:
                    await pads["j1"].score("a1", entry("a1", "j1"), id="during")
                assert info.value.code == "store_unavailable"
                await asyncio.to_thread(redis.start)
                # the same frame again, now that Redis is back: accepted once
                acked["during"] = (await pads["j1"].score("a1", entry("a1", "j1"), id="during"))["seq"]
                await host.command("close")  # hub B writes again too
                events = await log_of(url)
                assert cid_counts(events) == Counter(dict.fromkeys(acked, 1))
                assert {e["cid"]: e["seq"] for e in events if e["type"] == "scored"} == acked
                # both followers are back: each hub's clients reach the head by themselves
                await host.wait_seq(events[-1]["seq"])
                await pads["j2"].wait_seq(events[-1]["seq"])
                assert pads["j2"].state["progress"]["status"] == "closed"
            finally:
                for client in (host, *pads.values()):
                    await client.close()
            # The hub logs this right after the catch-up that delivered the patches above, so
            # under load the line may reach the file a moment after a client saw the patch.
            for _ in range(50):
                if "log follower is back" in b.log_text():
                    break
                await asyncio.sleep(0.1)
            assert "log follower is back" in b.log_text()
    finally:
        redis.stop()


async def test_redis_down_refuses_scores_and_commands_until_it_returns(tmp_path: Path) -> None:
    need(redis_server_binary() is not None, "redis-server is not installed")
    redis = RedisServer(tmp_path / "redis").start()
    try:
        async with hubs(redis.url(), count=1) as (hub,):
            tokens = hub.tokens()
            host = await HubClient(hub.base, "host", tokens["host"]).connect()
            j1 = await HubClient(hub.base, "judge", tokens["judges"]["j1"]).connect()
            try:
                await host.command("next")
                await host.command("open")
                await j1.wait_for(lambda s: s["progress"].get("status") == "scoring")
                seq = j1.seq
                await asyncio.to_thread(redis.kill)
                for attempt in ("x1", "x2"):
                    with pytest.raises(Refused) as info:
                        await j1.score("a1", entry("a1", "j1"), id=attempt)
                    assert info.value.code == "store_unavailable"
                    assert "retry" in str(info.value)
                with pytest.raises(Refused, match="store_unavailable"):
                    await host.command("close")
                # a tablet that reconnects meanwhile is let in (tokens are remembered) and told
                j1_again = await HubClient(hub.base, "judge", tokens["judges"]["j1"]).connect()
                with pytest.raises(Refused, match="store_unavailable"):
                    await j1_again.score("a1", entry("a1", "j1"), id="x1")
                await j1_again.close()
                assert get_json(f"{hub.base}/healthz")["seq"] == seq  # nothing was recorded
                await asyncio.to_thread(redis.start)
                ack = await j1.score("a1", entry("a1", "j1"), id="x1")
                assert ack["seq"] == seq + 1
                await host.command("close")
                events = await log_of(redis.url())
                assert cid_counts(events) == Counter({"x1": 1})
            finally:
                await host.close()
                await j1.close()
    finally:
        redis.stop()


# --- moving a final between stores ---


def run_live(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(live_cmd(*args), capture_output=True, text=True, timeout=60)


def verified_head(store: str) -> str:
    out = live_verify(store)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().rsplit(" ", 1)[-1]


async def test_live_copy_sqlite_to_redis_and_back(redis_server: RedisServer, tmp_path: Path) -> None:
    laptop = f"sqlite:///{tmp_path / 'rehearsal.db'}"
    cluster = redis_server.url(prefix="copied:")
    async with hubs(laptop, count=1) as (hub,):
        tokens = hub.tokens()
        async with (
            HubClient(hub.base, "host", tokens["host"]) as host,
            HubClient(hub.base, "judge", tokens["judges"]["j1"]) as j1,
        ):
            await host.command("next")
            await host.command("open")
            await j1.wait_for(lambda s: s["progress"].get("status") == "scoring")
            first = await j1.score("a1", entry("a1", "j1"), id="kept")
    head = verified_head(laptop)

    out = run_live("copy", laptop, cluster)
    assert out.returncode == 0, out.stderr
    assert head in out.stdout
    assert "verified" in out.stdout
    assert verified_head(cluster) == head
    again = run_live("copy", laptop, cluster)
    assert again.returncode == 1
    assert "not empty" in again.stderr
    assert verified_head(cluster) == head  # the refused copy changed nothing

    # the copy runs the same final: same epoch, tokens, idempotency keys
    async with hubs(cluster, count=1, contest=None) as (hub,):
        assert hub.tokens() == tokens
        async with (
            HubClient(hub.base, "host", tokens["host"]) as host,
            HubClient(hub.base, "judge", tokens["judges"]["j1"]) as j1,
        ):
            assert (await j1.score("a1", entry("a1", "j1"), id="kept"))["seq"] == first["seq"]
            await host.command("close")
    moved_on = verified_head(cluster)
    assert moved_on != head

    back = tmp_path / "back.db"
    out = run_live("copy", cluster, str(back))
    assert out.returncode == 0, out.stderr
    assert verified_head(f"sqlite:///{back}") == moved_on
    assert (await read_log(f"sqlite:///{back}")) == (await read_log(cluster))
    missing = run_live("copy", str(tmp_path / "nothing.db"), str(tmp_path / "x.db"))
    assert missing.returncode == 1
    assert "no such file" in missing.stderr


# --- uvicorn workers ---


def children(pid: int) -> list[int]:
    out = []
    for entry_ in os.listdir("/proc"):
        if entry_.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry_}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry_))
    return out


async def test_serve_with_two_workers_on_redis(redis_server: RedisServer) -> None:
    url = redis_server.url(prefix="workers:")
    srv = LiveServer(url, extra=("--workers", "2"))
    workers: list[int] = []
    try:
        await asyncio.to_thread(srv.start, 40)
        assert srv.proc is not None
        pids: set[int] = set()
        for _ in range(200):  # both workers answer, on the one port
            pids.add(get_json(f"{srv.base}/healthz")["pid"])
            if len(pids) == 2:
                break
            await asyncio.sleep(0.01)
        workers = children(srv.proc.pid)
        assert pids <= set(workers)
        assert len(pids) == 2
        tokens = srv.tokens()
        screens = [await HubClient(srv.base, "display").connect() for _ in range(8)]
        try:
            async with HubClient(srv.base, "host", tokens["host"]) as host:
                await host.command("next")
                ack = await host.command("timer", op="add", seconds=10)
                for screen in screens:
                    await screen.wait_seq(ack["seq"])
                    assert screen.state["stage"]["case"] == "a1"
                    assert screen.state["stage"]["timer"]["duration_ms"] == 310_000
        finally:
            for screen in screens:
                await screen.close()
    finally:
        srv.stop()
        for pid in workers:  # the parent stops its workers; make sure none is left behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)


def test_serve_with_two_workers_on_sqlite_is_refused(tmp_path: Path) -> None:
    out = run_live(
        "serve",
        "--workers",
        "2",
        "--store",
        str(tmp_path / "final.db"),
        "--contest",
        str(MINI),
        "--port",
        "1",
    )
    assert out.returncode == 1
    assert "--workers 2 needs a shared store" in out.stderr
    assert "redis://" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "final.db").exists()


# --- the Procfile ---


def test_procfile_web_line_serves_port_with_the_redis_url(redis_server: RedisServer, tmp_path: Path) -> None:
    [line] = [
        ln
        for ln in (Path(__file__).parent.parent / "Procfile").read_text().splitlines()
        if ln.startswith("web:")
    ]
    srv = LiveServer(redis_server.url(prefix="procfile:"))
    env = {**os.environ, "PORT": str(srv.port), "REDIS_URL": srv.store, "LIVE_CONTEST": str(MINI)}
    with (tmp_path / "web.log").open("wb") as log:
        proc = subprocess.Popen(
            ["sh", "-c", line.removeprefix("web:").strip()],
            env=env,
            stdout=log,
            stderr=log,
            cwd=tmp_path,
            start_new_session=True,
        )
        try:
            for _ in range(200):
                with contextlib.suppress(OSError):
                    health = get_json(f"{srv.base}/healthz")
                    break
                time.sleep(0.1)
            else:
                raise AssertionError((tmp_path / "web.log").read_text())
            assert health["ok"]
            events = asyncio.run(log_of(srv.store))  # the final went into Redis, not a local file
            assert events[0]["type"] == "created"
            assert not (tmp_path / "live-final.db").exists()
        finally:
            os.killpg(proc.pid, 15)
            proc.wait(10)
