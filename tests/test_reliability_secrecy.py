"""Secrecy sweep: during a whole automated final (45 cases, 15 judges) every frame sent to the
big screen, an audience phone and each judge is checked against the log: no score, total or
aggregate of a case leaves the hub before that case's reveal, and a judge sees only their own.
"""

from __future__ import annotations

from pathlib import Path

from conftest import LiveServer
from faults import (
    SecrecySweep,
    play_final,
    read_log,
    replay_states,
    score_table,
    set_check,
    variant_contest,
    write_figures,
)

from live.client import HubClient
from live.contest_file import load_contest


async def test_no_unrevealed_score_leaves_the_hub(tmp_path: Path) -> None:
    path = variant_contest(tmp_path / "final15.yaml", judges=15)
    contest = load_contest(path)
    db = tmp_path / "secrecy.db"
    srv = LiveServer(f"sqlite:///{db}", contest=path).start()
    try:
        tokens = srv.tokens()
        table = score_table(contest, 7)
        watchers = [HubClient(srv.base, "display"), HubClient(srv.base, "audience")]
        for w in watchers:
            await w.connect()
        tally = await play_final(
            lambda: srv.base, tokens, table, "secrecy", judge_kwargs={"keep_frames": True}
        )
        for w in watchers:
            await w.wait_for(lambda s, w=w: w.seq >= tally_seq(db), timeout=10)
            await w.close()
    finally:
        srv.stop()
    _epoch, events = read_log(db)
    set_check(events, tally, table)
    states = replay_states(contest, events)
    sweep = SecrecySweep(contest, states, table)
    problems: list[str] = []
    checked = {"display": 0, "audience": 0, "judge": 0}
    for w in watchers:
        for text in w.frames:
            problems += sweep.check(w.role, None, text)
            checked[w.role] += 1
    for judge, frames in tally.judge_frames.items():
        for text in frames:
            problems += sweep.check("judge", judge, text)
            checked["judge"] += 1
    assert not problems, problems[:10]
    assert checked["display"] > len(events) * 0.9  # a patch for (nearly) every event
    assert all(tally.judge_frames.values())
    write_figures("secrecy", {"events": len(events), "frames_checked": checked, "leaks": 0})


def tally_seq(db: Path) -> int:
    return read_log(db)[1][-1]["seq"]


async def test_the_sweep_catches_a_leak(tmp_path: Path) -> None:
    """The checker itself: host frames carry unrevealed scores, and it must say so."""
    path = variant_contest(tmp_path / "final15.yaml", judges=15, per_group=1)
    contest = load_contest(path)
    db = tmp_path / "leak.db"
    srv = LiveServer(f"sqlite:///{db}", contest=path).start()
    try:
        tokens = srv.tokens()
        table = score_table(contest, 3)
        spy = HubClient(srv.base, "host", tokens["host"])
        await spy.connect()
        await play_final(lambda: srv.base, tokens, table, "leak", awards=False)
        await spy.wait_seq(tally_seq(db))
        await spy.close()
    finally:
        srv.stop()
    sweep = SecrecySweep(contest, replay_states(contest, read_log(db)[1]))
    flagged = [p for text in spy.frames for p in sweep.check("display", None, text)]
    assert any("unrevealed" in p for p in flagged)
    assert any("host-only" in p for p in flagged)
