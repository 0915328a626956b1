"""Network trouble: judges and big screens talk to the hub through a TCP proxy that delays
chunks and drops or resets connections mid-frame; nothing is lost or doubled and every screen
ends on the host's snapshot. A reconnect storm of hundreds of audience phones is absorbed.

Quick mode: 9 cases, 300 phones. Full mode (LIVE_FULL=1): 45 cases, 1000 phones.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.request
from pathlib import Path
from typing import Any

from conftest import LiveServer
from faults import (
    FULL,
    NET_ERRORS,
    FaultyProxy,
    log_errors,
    play_final,
    read_log,
    score_table,
    set_check,
    variant_contest,
    write_figures,
)
from websockets.asyncio.client import ClientConnection, connect

from live.client import HubClient, http_origin, ws_url
from live.contest_file import load_contest

PER_GROUP = None if FULL else 3
PHONES = 1000 if FULL else 300


class Screen:
    """A big screen that reconnects (with ``since``) whenever its link drops."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.client: HubClient | None = None
        self.reconnects = 0

    async def run(self, stop: asyncio.Event) -> None:
        since = None
        while not stop.is_set():
            client = HubClient(self.base, "display")
            try:
                await client.connect(since)
                self.client = client
                # Until the link drops (wait_for raises) or the test is over.
                link = asyncio.create_task(client.wait_for(lambda s: False, timeout=3600))
                done = asyncio.create_task(stop.wait())
                await asyncio.wait({link, done}, return_when=asyncio.FIRST_COMPLETED)
                for t in (link, done):
                    t.cancel()
                if not done.cancelled() and done.done():
                    return
                link.result()  # the link dropped: raises, and the loop reconnects
            except (TimeoutError, *NET_ERRORS):
                self.reconnects += 1
                since = client.seq or None
                await asyncio.sleep(0.05)
            finally:
                await client.close()


async def test_judges_and_screens_through_a_faulty_network(tmp_path: Path) -> None:
    path = variant_contest(tmp_path / "final15.yaml", judges=15, per_group=PER_GROUP)
    contest = load_contest(path)
    db = tmp_path / "net.db"
    srv = LiveServer(f"sqlite:///{db}", contest=path).start()
    proxy = await FaultyProxy(srv.port, random.Random(11), delay=(0, 0.02), drop=0.01, reset=0.01).start()
    try:
        tokens = srv.tokens()
        table = score_table(contest, 5)
        stop = asyncio.Event()
        screens = [Screen(proxy.base) for _ in range(3)]
        tasks = [asyncio.create_task(s.run(stop)) for s in screens]
        # The host's console is on the wired desk; the judges and screens are on the hall's Wi-Fi.
        tally = await play_final(lambda: proxy.base, tokens, table, "net")
        proxy.enabled = False  # the network settles: every screen must converge
        async with HubClient(srv.base, "host", tokens["host"]) as host:
            for s in screens:
                await wait_converged(s, host.seq)
            stop.set()
            await asyncio.gather(*tasks)
            for s in screens:
                assert s.client is not None
                public = {k: v for k, v in host.state.items() if k in s.client.state}
                assert s.client.state == public
                assert set(s.client.state) >= {"stage", "run", "result", "awards"}
    finally:
        await proxy.stop()
        srv.stop()
    _epoch, events = read_log(db)
    counts = set_check(events, tally, table)
    assert not tally.refused, tally.refused
    stats = proxy.stats
    assert stats.resets + stats.drops >= 5, stats
    assert not log_errors(srv.log_text())
    write_figures(
        "network",
        {
            "cases": len(contest.cases),
            "judges": 15,
            **counts,
            "lost": 0,
            "doubled": 0,
            "retries": tally.retries,
            "judge_reconnects": tally.reconnects,
            "screen_reconnects": sum(s.reconnects for s in screens),
            "proxy": vars(stats),
        },
    )


async def wait_converged(screen: Screen, seq: int, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if screen.client is not None and screen.client.seq >= seq:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"a screen stayed behind the host (seq {seq})")


def health(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
        return json.load(r)


async def phone(base: str) -> tuple[ClientConnection, int]:
    """An audience phone: hello, welcome, snapshot; returns the socket and the snapshot's seq."""
    ws = await connect(
        ws_url(base), origin=http_origin(base), compression=None, open_timeout=30, max_size=2**24
    )
    await ws.send('{"type":"hello","role":"audience","since":null}')
    welcome = json.loads(await ws.recv())
    assert welcome["type"] == "welcome"
    snap = json.loads(await ws.recv())
    assert snap["type"] == "snapshot"
    return ws, snap["seq"]


async def test_reconnect_storm(tmp_path: Path) -> None:
    srv = LiveServer(
        f"sqlite:///{tmp_path / 'storm.db'}", contest=variant_contest(tmp_path / "final.yaml", judges=15)
    ).start()
    try:
        base = srv.base
        first = await asyncio.gather(*(phone(base) for _ in range(PHONES)))
        assert await asyncio.to_thread(lambda: health(base)["clients"]) == PHONES
        for ws, _ in first:  # the hall's Wi-Fi drops everyone at once: no close handshake
            ws.transport.abort()
        t0 = time.monotonic()
        again = await asyncio.gather(*(phone(base) for _ in range(PHONES)))
        storm = time.monotonic() - t0
        assert all(seq == again[0][1] for _, seq in again)
        deadline = time.monotonic() + 30
        while (await asyncio.to_thread(health, base))["clients"] != PHONES:
            assert time.monotonic() < deadline, "dead connections were never reaped"
            await asyncio.sleep(0.2)
        h = await asyncio.to_thread(health, base)
        assert h["ok"]
        for ws, _ in again:
            await ws.close()
        assert not log_errors(srv.log_text())
    finally:
        srv.stop()
    write_figures("storm", {"phones": PHONES, "reconnect_seconds": round(storm, 2), "all_snapshots": True})
    assert storm < (10 if FULL else 5)
