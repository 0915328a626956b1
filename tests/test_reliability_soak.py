"""Soak: the demo final played at high speed by ``live.simulate.autopilot`` while hundreds
(full mode: a thousand) audience phones watch; afterwards the hub's memory and open sockets
return to their baseline and nothing was logged as an error.

Quick mode: 200 phones. Full mode: LIVE_FULL=1 (LIVE_PHONES=N to choose).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

from conftest import LiveServer
from faults import FULL, fd_count, log_errors, rss_kb, socket_count, write_figures
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from live.client import http_origin, ws_url
from live.contest_file import DEMO_PATH
from live.simulate import autopilot

PHONES = int(os.environ.get("LIVE_PHONES", "1000" if FULL else "200"))
# 0.05 s: the autopilot host then stays under the hub's 20 frames/s flood limit (4429); at
# 0.02 it only passed while acks were slow enough to pace it.
PACE = float(os.environ.get("LIVE_PACE", "0.05"))


def health(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
        return json.load(r)


class Phones:
    """Audience phones that only count frames (and reconnect if the hub drops them)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.frames = 0
        self.reconnects = 0
        self.last_seq: list[int] = []
        self.stop = asyncio.Event()

    async def one(self, ready: asyncio.Event, counter: list[int], n: int) -> int:
        seq = 0
        while not self.stop.is_set():
            try:
                async with connect(
                    ws_url(self.base),
                    origin=http_origin(self.base),
                    compression=None,
                    open_timeout=60,
                    max_size=2**24,
                ) as ws:
                    await ws.send(json.dumps({"type": "hello", "role": "audience", "since": seq or None}))
                    counter[0] += 1
                    if counter[0] == n:
                        ready.set()
                    stopper = asyncio.create_task(self.stop.wait())
                    while not self.stop.is_set():
                        recv = asyncio.create_task(ws.recv())
                        await asyncio.wait({recv, stopper}, return_when=asyncio.FIRST_COMPLETED)
                        if not recv.done():
                            recv.cancel()
                            break
                        text = recv.result()
                        self.frames += 1
                        if '"seq"' in text[:40]:
                            seq = json.loads(text).get("seq", seq)
                    stopper.cancel()
                    return seq
            except (OSError, WebSocketException, TimeoutError):
                self.reconnects += 1
                await asyncio.sleep(0.2)
        return seq


async def test_soak_thousand_phones(tmp_path: Path) -> None:
    srv = LiveServer(f"sqlite:///{tmp_path / 'soak.db'}", contest=DEMO_PATH).start()
    assert srv.proc is not None
    pid = srv.proc.pid
    try:
        base = srv.base
        tokens = srv.tokens()
        warm = Phones(base)  # load every lazy module and buffer once before the baseline
        ready = asyncio.Event()
        tasks = [asyncio.create_task(warm.one(ready, [0], 0)) for _ in range(20)]
        await asyncio.sleep(1)
        warm.stop.set()
        await asyncio.gather(*tasks)
        await wait_clients(base, 0)
        base_rss, base_fd, base_sock = rss_kb(pid), fd_count(pid), socket_count(pid)

        phones = Phones(base)
        ready = asyncio.Event()
        counter = [0]
        t0 = time.monotonic()
        tasks = [asyncio.create_task(phones.one(ready, counter, PHONES)) for _ in range(PHONES)]
        await asyncio.wait_for(ready.wait(), 120)
        await wait_clients(base, PHONES)
        connect_s = time.monotonic() - t0
        peak_clients = (await asyncio.to_thread(health, base))["clients"]
        t1 = time.monotonic()
        await autopilot(base, tokens, pace=PACE, wait_ready=False)
        final_s = time.monotonic() - t1
        peak_rss, peak_fd = rss_kb(pid), fd_count(pid)
        head = (await asyncio.to_thread(health, base))["seq"]
        await asyncio.sleep(1)
        phones.stop.set()
        seqs = await asyncio.gather(*tasks)
        await wait_clients(base, 0)
        await asyncio.sleep(1)
        end_rss, end_fd, end_sock = rss_kb(pid), fd_count(pid), socket_count(pid)
        # The final's own state grew during the run; a second wave of phones on the finished
        # final tells whether connections themselves leave anything behind.
        wave = Phones(base)
        ready = asyncio.Event()
        shared = [0]
        tasks = [asyncio.create_task(wave.one(ready, shared, PHONES)) for _ in range(PHONES)]
        await asyncio.wait_for(ready.wait(), 120)
        await wait_clients(base, PHONES)
        await asyncio.sleep(1)
        wave.stop.set()
        await asyncio.gather(*tasks)
        await wait_clients(base, 0)
        await asyncio.sleep(1)
        wave_rss, wave_fd, wave_sock = rss_kb(pid), fd_count(pid), socket_count(pid)
        errors = log_errors(srv.log_text())
    finally:
        srv.stop()
    figures = {
        "phones": PHONES,
        "pace": PACE,
        "events": head,
        "connect_s": round(connect_s, 1),
        "final_s": round(final_s, 1),
        "frames_received": phones.frames,
        "phone_reconnects": phones.reconnects,
        "peak_clients": peak_clients,
        "rss_kb": {"baseline": base_rss, "peak": peak_rss, "after": end_rss, "after_second_wave": wave_rss},
        "fds": {"baseline": base_fd, "peak": peak_fd, "after": end_fd, "after_second_wave": wave_fd},
        "sockets": {"baseline": base_sock, "after": end_sock, "after_second_wave": wave_sock},
        "errors": len(errors),
    }
    write_figures("soak" if not FULL else "soak-full", figures)
    assert not errors, errors[:5]
    assert peak_clients >= PHONES
    assert sum(1 for s in seqs if s == head) >= PHONES * 0.99, "phones did not see the end"
    assert end_fd <= base_fd + 2, figures
    assert wave_fd <= base_fd + 2, figures
    assert end_sock <= base_sock, figures
    assert wave_sock <= base_sock, figures
    # The log's state and its encoded views stay in memory (they are the final); connections
    # must not: a second wave of phones leaves RSS where the first left it (allocator slack).
    assert end_rss - base_rss <= 10_000 + 40 * PHONES, figures
    assert wave_rss - end_rss <= max(4_000, end_rss // 20), figures


async def wait_clients(base: str, n: int, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while (await asyncio.to_thread(health, base))["clients"] != n:
        assert time.monotonic() < deadline, "connections were not released"
        await asyncio.sleep(0.2)
