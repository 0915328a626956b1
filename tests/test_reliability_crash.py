"""Crash during the final: the hub is SIGKILLed at random moments and restarted on the same
SQLite store while 15 judges score all 45 cases; every acked score is stored exactly once and
the results equal an uninterrupted run fed the same scores.

Quick mode: one run with a few kills. Full mode (LIVE_FULL=1, or LIVE_CRASH_RUNS=N): many runs.
"""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path
from typing import Any

import pytest
from conftest import LiveServer
from faults import (
    FULL,
    chaos,
    live_verify,
    play_final,
    read_log,
    results_of,
    score_table,
    set_check,
    variant_contest,
    write_figures,
)

from live.contest import Contest
from live.contest_file import load_contest
from live.final import replay
from live.verify import verify_events

RUNS = int(os.environ.get("LIVE_CRASH_RUNS", "50" if FULL else "1"))
KILLS = int(os.environ.get("LIVE_CRASH_KILLS", "8" if FULL else "3"))


async def one_run(
    tmp: Path,
    path: Path,
    contest: Contest,
    seed: int,
    run: int,
    kills: int,
) -> dict[str, Any]:
    """One final under fire: the score table comes from ``seed``, the kill moments from
    ``run``; returns its figures and its results."""
    db = tmp / f"crash-{seed}-{run}-{kills}.db"
    srv = LiveServer(f"sqlite:///{db}", contest=path).start()
    try:
        tokens = srv.tokens()
        table = score_table(contest, seed)
        stop = asyncio.Event()
        rng = random.Random(f"kills:{run}")
        killer = asyncio.create_task(
            chaos(srv.kill, srv.start, rng, stop, gap=(0.3, 1.6), down=(0.0, 0.4), max_kills=kills)
        )
        try:
            tally = await play_final(lambda: srv.base, tokens, table, f"run{run}")
        finally:
            stop.set()
            done = await killer
    finally:
        srv.stop()
    epoch, events = read_log(db)
    report = verify_events(epoch, events)
    assert report.ok, report.problem
    counts = set_check(events, tally, table)
    assert not tally.refused, tally.refused
    state = replay(contest, events)
    assert state.finished
    return {
        "seed": seed,
        "run": run,
        "kills": done,
        "events": len(events),
        **counts,
        "retries": tally.retries,
        "reconnects": tally.reconnects,
        "results": results_of(contest, state),
        "db": str(db),
    }


@pytest.fixture(scope="module")
def final(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Contest]:
    tmp = tmp_path_factory.mktemp("crash")
    path = variant_contest(tmp / "final15.yaml", judges=15)
    return tmp, path, load_contest(path)


async def test_kill_hub_during_final(final: tuple[Path, Path, Contest]) -> None:
    tmp, path, contest = final
    assert (len(contest.cases), len(contest.judges)) == (45, 15)
    seeds = sorted({run % 5 for run in range(RUNS)})
    # The uninterrupted runs: the same score tables, no kills.
    clean = {s: await one_run(tmp, path, contest, s, -1, kills=0) for s in seeds}
    figures = []
    for run in range(RUNS):
        seed = run % 5
        got = await one_run(tmp, path, contest, seed, run, KILLS)
        figures.append({k: v for k, v in got.items() if k not in ("results", "db")})
        assert got["results"] == clean[seed]["results"], f"run {run}: results differ"
    total_kills = sum(f["kills"] for f in figures)
    assert total_kills >= RUNS  # the hub really died during the runs
    # The CLI auditor agrees on the last store.
    out = live_verify(got["db"])
    assert out.returncode == 0, out.stderr
    write_figures(
        "crash",
        {
            "runs": RUNS,
            "kills": total_kills,
            "acked": sum(f["acked"] for f in figures),
            "stored": sum(f["stored"] for f in figures),
            "lost": 0,
            "doubled": 0,
            "retries": sum(f["retries"] for f in figures),
            "reconnects": sum(f["reconnects"] for f in figures),
            "per_run": figures,
        },
    )
