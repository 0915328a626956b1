"""What ``appendfsync always`` costs a score ack: acks/s and ack latency through RedisStore.append
against a private redis-server started with each persistence setting in turn.

    python bench/redis_fsync.py [--n 2000] [--writers 1 4] [--rounds 3] [--dir /var/lib/bench]

Each "ack" is what the hub does for a judge's score: look the idempotency key up, then append
one ``scored`` event with its key (head read + the Lua compare-and-append). ``--writers 4`` runs
four stores (as four hub processes would) appending concurrently, retrying on Conflict.
The settings take turns within each round, so a busy machine slows them alike; the table gives
the median over the rounds (and the range of acks/s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from redis_helpers import RedisServer

from live.store import Conflict, NewEvent, open_store
from live.store.redis import RedisStore

SETTINGS = [("always", True), ("everysec", True), ("no AOF", False)]


def score_event(writer: int, n: int) -> NewEvent:
    return NewEvent(
        "scored",
        {
            "case": "dev-01",
            "judge": f"j{writer}",
            "total": "87.5",
            "values": {"innovation": "27.5", "impact": "25", "value": "18", "delivery": "17"},
        },
        actor=f"j{writer}",
        cid=f"{writer}-{n}",
    )


async def writer(url: str, w: int, count: int, latencies: list[float]) -> None:
    store = open_store(url)
    assert isinstance(store, RedisStore)
    await store.open()
    try:
        for n in range(count):
            key = (f"j{w}\x1f{w}-{n}", "digest")
            t0 = time.perf_counter()
            assert await store.lookup(key[0]) is None
            while True:
                seq, _ = await store.head()
                try:
                    await store.append(seq, [score_event(w, n)], key)
                    break
                except Conflict:
                    continue
            latencies.append(time.perf_counter() - t0)
    finally:
        await store.close()


async def run(url: str, writers: int, n: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(writer(url, w, n // writers, latencies) for w in range(writers)))
    return len(latencies) / (time.perf_counter() - t0), latencies


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="acks per run")
    ap.add_argument("--writers", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", help="where redis-server writes its AOF (default: a temp dir)")
    args = ap.parse_args()
    base = Path(args.dir or tempfile.mkdtemp(prefix="redis-fsync-"))
    runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    for round_ in range(args.rounds):
        for setting, aof in SETTINGS:
            for writers in args.writers:
                where = base / f"{round_}-{setting.replace(' ', '-')}-{writers}"
                server = RedisServer(
                    where, appendfsync=setting if aof else "everysec", appendonly=aof
                ).start()
                try:
                    rate, lat = asyncio.run(run(server.url(prefix="bench:"), writers, args.n))
                finally:
                    server.stop()
                runs.setdefault((setting, writers), []).append(
                    (rate, statistics.median(lat) * 1000, pct(lat, 0.99))
                )
                print(
                    f"round {round_ + 1}: {setting}, {writers} writer(s): {rate:,.0f} acks/s, "
                    f"p99 {pct(lat, 0.99):.2f} ms",
                    file=sys.stderr,
                    flush=True,
                )
    print(
        f"{platform.machine()}, {os.cpu_count()} CPUs, AOF in {base}, {args.n} acks per run, "
        f"median of {args.rounds} rounds\n"
    )
    print("| appendfsync | writers | acks/s (range) | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for (setting, writers), got in runs.items():
        rates = [r for r, _, _ in got]
        print(
            f"| {setting} | {writers} | {statistics.median(rates):,.0f} "
            f"({min(rates):,.0f}–{max(rates):,.0f}) "
            f"| {statistics.median(p50 for _, p50, _ in got):.2f} "
            f"| {statistics.median(p99 for _, _, p99 in got):.2f} |"
        )


if __name__ == "__main__":
    main()
