"""Tampering with the stored log of a whole final (45 cases, 15 judges): edits, deletions,
reordering and truncation are caught by ``live verify`` (truncation against a published head
hash). The basic cases on a small log are in tests/test_verify_cli.py; these use a real one.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from conftest import LiveServer
from faults import live_verify, play_final, read_log, score_table, variant_contest, write_figures

from live import chain
from live.contest_file import load_contest

CAUGHT: dict[str, str] = {}


@pytest.fixture(scope="module")
def final_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A whole final played on a real hub; returns the store and its published head hash."""
    tmp = tmp_path_factory.mktemp("tamper")
    path = variant_contest(tmp / "final15.yaml", judges=15)
    db = tmp / "final.db"
    srv = LiveServer(f"sqlite:///{db}", contest=path).start()
    try:
        tokens = srv.tokens()
        asyncio.run(play_final(lambda: srv.base, tokens, score_table(load_contest(path), 2), "tamper"))
    finally:
        srv.stop()
    out = live_verify(db)
    assert out.returncode == 0, out.stderr
    head = out.stdout.strip().rsplit("head hash ", 1)[1]
    yield db, head
    write_figures("tamper", {"events": len(read_log(db)[1]), "caught": CAUGHT})


def middle_score(db: sqlite3.Connection) -> int:
    rows = db.execute("SELECT seq FROM events WHERE type='scored' ORDER BY seq").fetchall()
    return int(rows[len(rows) // 2][0])


def other(value: str) -> str:
    return "30" if value != "30" else "29.5"


def edit_value(db: sqlite3.Connection) -> None:
    seq = middle_score(db)
    data = json.loads(db.execute("SELECT data FROM events WHERE seq=?", (seq,)).fetchone()[0])
    data["values"]["innovation"] = other(data["values"]["innovation"])
    db.execute("UPDATE events SET data=? WHERE seq=?", (chain.canonical(data), seq))


def edit_and_rehash(db: sqlite3.Connection) -> None:
    """A careful forger also fixes the edited event's own hash: the next link still breaks."""
    seq = middle_score(db)
    row = db.execute(
        "SELECT seq, type, data, actor, at, cid, prev FROM events WHERE seq=?", (seq,)
    ).fetchone()
    data = json.loads(row[2])
    data["values"]["impact"] = other(data["values"]["impact"])
    event = dict(zip(("seq", "type", "data", "actor", "at", "cid"), (*row[:2], data, *row[3:6]), strict=True))
    db.execute(
        "UPDATE events SET data=?, hash=? WHERE seq=?",
        (chain.canonical(data), chain.link(row[6], event), seq),
    )


def edit_actor(db: sqlite3.Connection) -> None:
    db.execute("UPDATE events SET actor='j2' WHERE seq=?", (middle_score(db),))


def edit_time(db: sqlite3.Connection) -> None:
    db.execute("UPDATE events SET at=at+1 WHERE seq=?", (middle_score(db),))


def delete_one(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM events WHERE seq=?", (middle_score(db),))


def delete_and_renumber(db: sqlite3.Connection) -> None:
    seq = middle_score(db)
    db.execute("DELETE FROM events WHERE seq=?", (seq,))
    db.execute("UPDATE events SET seq=seq-1 WHERE seq>?", (seq,))


def swap_two(db: sqlite3.Connection) -> None:
    seq = middle_score(db)
    a, b = (
        db.execute("SELECT type, data, actor, at, cid, prev, hash FROM events WHERE seq=?", (s,)).fetchone()
        for s in (seq, seq + 1)
    )
    for s, row in ((seq, b), (seq + 1, a)):
        db.execute(
            "UPDATE events SET type=?, data=?, actor=?, at=?, cid=?, prev=?, hash=? WHERE seq=?", (*row, s)
        )


def change_epoch(db: sqlite3.Connection) -> None:
    db.execute("UPDATE meta SET value='0000000000000000' WHERE name='epoch'")


def truncate(db: sqlite3.Connection) -> None:
    """The last reveal and the awards vanish: the chain that is left is intact."""
    head = db.execute("SELECT max(seq) FROM events").fetchone()[0]
    db.execute("DELETE FROM events WHERE seq>?", (head - 20,))


def rewrite_tail(db: sqlite3.Connection) -> None:
    """Edit a score and recompute every hash after it: only the published head can tell."""
    seq = middle_score(db)
    edit_value(db)
    prev = db.execute("SELECT prev FROM events WHERE seq=?", (seq,)).fetchone()[0]
    for row in db.execute(
        "SELECT seq, type, data, actor, at, cid FROM events WHERE seq>=? ORDER BY seq", (seq,)
    ).fetchall():
        event = dict(zip(("seq", "type", "data", "actor", "at", "cid"), row, strict=True))
        event["data"] = json.loads(event["data"])
        h = chain.link(prev, event)
        db.execute("UPDATE events SET prev=?, hash=? WHERE seq=?", (prev, h, row[0]))
        prev = h


TAMPERS: dict[str, tuple[Callable[[sqlite3.Connection], None], bool]] = {
    # name: (tamper, caught without the published head too)
    "edit a score value": (edit_value, True),
    "edit a score and fix its hash": (edit_and_rehash, True),
    "change who scored": (edit_actor, True),
    "change an event's time": (edit_time, True),
    "delete an event": (delete_one, True),
    "delete an event and renumber": (delete_and_renumber, True),
    "swap two events": (swap_two, True),
    "change the epoch": (change_epoch, True),
    "truncate the last 20 events": (truncate, False),
    "edit and rewrite every later hash": (rewrite_tail, False),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_tampering_is_detected(final_log: tuple[Path, str], tmp_path: Path, name: str) -> None:
    db, head = final_log
    copy = tmp_path / "tampered.db"
    shutil.copy(db, copy)
    tamper, without_head = TAMPERS[name]
    with closing(sqlite3.connect(copy, isolation_level=None)) as con:
        tamper(con)
    plain = live_verify(copy)
    assert (plain.returncode != 0) == without_head, plain.stdout[-500:] + plain.stderr
    with_head = live_verify(copy, head)
    assert with_head.returncode == 1
    assert "FAILED" in with_head.stderr
    CAUGHT[name] = with_head.stderr.splitlines()[0][:160]


def test_untouched_log_verifies_against_its_head(final_log: tuple[Path, str]) -> None:
    db, head = final_log
    out = live_verify(db, head)
    assert out.returncode == 0, out.stderr
    assert f"head hash {head}" in out.stdout
