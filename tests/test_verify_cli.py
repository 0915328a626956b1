"""`live verify`: a scripted mini-final is replayed into an SQLite log, verified, then tampered
with directly in the database; each kind of tampering is caught and the wrong event named."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from core_helpers import Final, mini_contest, mini_dict, run_cli

from live import chain
from live.contest import contest_data, parse_contest
from live.contest_file import demo_contest
from live.final import CREATED, contest_from_log, group_placings
from live.store import NewEvent
from live.store.sqlite import SQLiteStore
from live.verify import verify_events

TIED = {"j1": ("5", "10"), "j2": ("6", "10"), "j3": ("7", "10"), "j4": ("8", "10")}


def mini_final() -> Final:
    f = Final(mini_contest())
    f.host("next")
    f.host("timer", op="start")
    f.tick(200_000)
    f.host("open")
    for judge, (a, b) in TIED.items():
        f.score(judge, "c1", a, b)
    f.score("j5", "c1", "9", "19")
    f.score("j5", "c1", "9.5", "20")  # a revision
    f.host("close")
    f.host("reveal")
    f.host("next")  # c2: j5 recused
    f.host("open")
    for judge in ("j1", "j2", "j3", "j4"):
        f.score(judge, "c2", "7.5", "15")
    f.host("close")
    f.host("reveal")
    f.host("skip", case="c3", reason="presenter absent")
    f.host("next")  # c4
    f.host("open")
    for judge, (a, b) in TIED.items():
        f.score(judge, "c4", a, b)
    f.host("void", judge="j4", reason="scored too early")
    f.host("close")
    f.host("reveal")
    return f


async def _write_log(path: Path, rows: list[tuple[str, dict[str, Any], str, int]]) -> tuple[str, str]:
    store = SQLiteStore(path)
    await store.open()
    try:
        for seq, (type_, data, actor, at) in enumerate(rows):
            await store.append(seq, [NewEvent(type_, data, actor, at)])
        _, head = await store.head()
        return store.epoch, head
    finally:
        await store.close()


def write_log(path: Path, events: list[dict[str, Any]], contest: dict[str, Any]) -> str:
    """The log as the hub writes it: a 'created' event with the contest, then every event."""
    rows = [(CREATED, {"contest": contest}, "host", 1_000)]
    rows += [(e["type"], e["data"], e["actor"], e["at"]) for e in events]
    _, head = asyncio.run(_write_log(path, rows))
    return head


@pytest.fixture(scope="module")
def played() -> Final:
    return mini_final()


@pytest.fixture
def log(tmp_path: Path, played: Final) -> tuple[Path, str]:
    path = tmp_path / "final.db"
    head = write_log(path, played.events, contest_data(played.contest))
    return path, head


def db_rows(path: Path) -> dict[int, tuple[Any, ...]]:
    with sqlite3.connect(path) as db:
        return {r[0]: r for r in db.execute("SELECT * FROM events ORDER BY seq")}


def seq_of(path: Path, type_: str, nth: int = 0, **match: str) -> int:
    found = [
        seq
        for seq, r in db_rows(path).items()
        if r[1] == type_ and all(json.loads(r[2]).get(k) == v for k, v in match.items())
    ]
    return found[nth]


def names_event(text: str, seq: int) -> bool:
    return re.search(rf"\bevent {seq}\b", text) is not None


def assert_refused(path: Path, seq: int, *extra: str) -> str:
    proc = run_cli("verify", str(path), *extra)
    assert proc.returncode == 1, proc.stdout
    assert "Traceback" not in proc.stderr
    assert names_event(proc.stderr, seq), proc.stderr
    assert proc.stderr.startswith("FAILED: ")
    return proc.stderr


# --- an intact log ---


def test_verify_prints_results_and_head_hash(log: tuple[Path, str], played: Final) -> None:
    path, head = log
    proc = run_cli("verify", str(path))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert f"head hash {head}" in out
    assert f"verified {len(played.events) + 1} events" in out
    assert "Mini final" in out
    for group in ("g1", "g2"):
        for p in group_placings(played.contest, played.state, group):
            result = played.state.cases[p.case].result
            assert result is not None
            line = next(line for line in out.splitlines() if f" {p.case} " in line)
            assert str(result.final) in line
            assert str(p.rank) in line.split()[0]
            if p.prize:
                assert p.prize in line
    # c1: 15 16 17 18 29.5 -> 16 17 18 -> 17.00; c2: 22.5 x4 -> 22.50; c4: 15 16 17 -> 16.00
    assert re.search(r"\b1\s+22\.50\s+first\s+c2\b", out)
    assert re.search(r"\b2\s+17\.00\s+second\s+c1\b", out)
    assert re.search(r"\b1\s+16\.00\s+first\s+c4\b", out)
    assert proc.stderr == ""


def test_verify_accepts_the_published_head(log: tuple[Path, str]) -> None:
    path, head = log
    proc = run_cli("verify", str(path), "--head", head)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith(head)


def test_verify_accepts_a_store_url(log: tuple[Path, str]) -> None:
    path, head = log
    proc = run_cli("verify", f"sqlite:///{path}")
    assert proc.returncode == 0, proc.stderr
    assert head in proc.stdout


def test_log_keeps_the_prize_order_of_the_contest(tmp_path: Path) -> None:
    # SQLite stores canonical (key-sorted) JSON; 一等奖 < 三等奖 < 二等奖 by code point.
    demo = demo_contest()
    path = tmp_path / "demo.db"
    write_log(path, [], contest_data(demo))
    with sqlite3.connect(path) as db:
        data = json.loads(db.execute("SELECT data FROM events WHERE seq = 1").fetchone()[0])
    again = contest_from_log([{"type": CREATED, "data": data}])
    assert [g.prizes for g in again.groups] == [g.prizes for g in demo.groups]
    assert again.groups[0].prizes[1][0] == "二等奖"


# --- tampering, straight in the database ---


def test_changed_value_is_caught(log: tuple[Path, str]) -> None:
    path, _ = log
    seq = seq_of(path, "scored", judge="j3", case="c2")
    with sqlite3.connect(path) as db:
        data = json.loads(db.execute("SELECT data FROM events WHERE seq=?", (seq,)).fetchone()[0])
        data["values"]["b"], data["total"] = "20", "27.5"
        db.execute("UPDATE events SET data=? WHERE seq=?", (chain.canonical(data), seq))
    assert "edited" in assert_refused(path, seq)


def test_changed_actor_or_time_is_caught(log: tuple[Path, str]) -> None:
    path, _ = log
    seq = seq_of(path, "revealed")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE events SET at = at + 1 WHERE seq=?", (seq,))
    assert_refused(path, seq)


def test_deleted_row_is_caught(log: tuple[Path, str]) -> None:
    path, _ = log
    seq = seq_of(path, "voided")
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM events WHERE seq=?", (seq,))
    assert "deleted" in assert_refused(path, seq)


def test_deleted_first_event_is_caught(log: tuple[Path, str]) -> None:
    path, _ = log
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM events WHERE seq=1")
    assert_refused(path, 1)


@pytest.mark.parametrize("keep_seq", [True, False], ids=["contents-swapped", "rows-renumbered"])
def test_swapped_rows_are_caught(log: tuple[Path, str], keep_seq: bool) -> None:
    path, _ = log
    a = seq_of(path, "scored", 0, case="c1")
    b = seq_of(path, "scored", 2, case="c1")
    rows = db_rows(path)
    with sqlite3.connect(path) as db:
        if keep_seq:  # each row takes the other's whole content
            for seq, other in ((a, rows[b]), (b, rows[a])):
                db.execute(
                    "UPDATE events SET type=?, data=?, actor=?, at=?, cid=?, prev=?, hash=? WHERE seq=?",
                    (*other[1:], seq),
                )
        else:  # the two events trade places in the order
            db.execute("UPDATE events SET seq=-1 WHERE seq=?", (a,))
            db.execute("UPDATE events SET seq=? WHERE seq=?", (a, b))
            db.execute("UPDATE events SET seq=? WHERE seq=-1", (b,))
    assert_refused(path, a)


def test_truncated_tail_is_caught_with_the_published_head(log: tuple[Path, str]) -> None:
    path, head = log
    last = max(db_rows(path))
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM events WHERE seq > ?", (last - 2,))
    # the chain that is left is intact: only the published head shows what is missing
    assert run_cli("verify", str(path)).returncode == 0
    stderr = assert_refused(path, last - 1, "--head", head)
    assert head in stderr
    assert "removed" in stderr


def test_rewritten_chain_is_caught_with_the_published_head(log: tuple[Path, str]) -> None:
    path, head = log
    seq = seq_of(path, "scored", judge="j1", case="c4")
    with sqlite3.connect(path) as db:
        epoch = db.execute("SELECT value FROM meta WHERE name='epoch'").fetchone()[0]
        prev = chain.genesis(epoch)
        for row in db.execute("SELECT * FROM events ORDER BY seq").fetchall():
            event = {
                "seq": row[0],
                "type": row[1],
                "data": json.loads(row[2]),
                "actor": row[3],
                "at": row[4],
                "cid": row[5],
            }
            if row[0] == seq:
                event["data"]["values"]["a"], event["data"]["total"] = "10", "20"
            new_hash = chain.link(prev, event)
            db.execute(
                "UPDATE events SET data=?, prev=?, hash=? WHERE seq=?",
                (chain.canonical(event["data"]), prev, new_hash, row[0]),
            )
            prev = new_hash
    assert run_cli("verify", str(path)).returncode == 0  # a forger who rehashes everything...
    assert_refused(path, max(db_rows(path)) + 1, "--head", head)  # ...is caught by the head


def test_changed_epoch_is_caught(log: tuple[Path, str]) -> None:
    path, _ = log
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value='0000000000000000' WHERE name='epoch'")
    assert_refused(path, 1)


# --- logs that chain correctly but cannot be replayed ---


def test_log_without_created_event(tmp_path: Path, played: Final) -> None:
    path = tmp_path / "final.db"
    rows = [(e["type"], e["data"], e["actor"], e["at"]) for e in played.events]
    asyncio.run(_write_log(path, rows))
    stderr = assert_refused(path, 1)
    assert "does not start with a 'created' event" in stderr


def test_created_event_with_a_bad_contest(tmp_path: Path) -> None:
    path = tmp_path / "final.db"
    bad = mini_dict()
    del bad["title"]
    write_log(path, [], bad)
    assert "event 1: title: missing" in assert_refused(path, 1)


def test_unreplayable_event_is_named(tmp_path: Path, played: Final) -> None:
    # a reveal with too few scores, chained correctly: a bug or a forger, never a traceback
    events = [*played.events[:4], {"type": "revealed", "data": {"case": "c1"}, "actor": "host", "at": 5}]
    assert [e["type"] for e in events[2:4]] == ["opened", "scored"]
    path = tmp_path / "final.db"
    write_log(path, events, contest_data(played.contest))
    stderr = assert_refused(path, 6)
    assert "cannot be replayed (revealed)" in stderr
    assert "at least 3 needed" in stderr


def test_unreplayable_data_shape_is_named(tmp_path: Path, played: Final) -> None:
    events = [*played.events[:3], {"type": "scored", "data": {"case": "c1"}, "actor": "j1", "at": 5}]
    path = tmp_path / "final.db"
    write_log(path, events, contest_data(played.contest))
    assert_refused(path, 5)


@pytest.mark.parametrize("as_url", [False, True], ids=["path", "url"])
def test_missing_file_is_refused_and_not_created(tmp_path: Path, as_url: bool) -> None:
    path = tmp_path / "nope.db"
    proc = run_cli("verify", f"sqlite:///{path}" if as_url else str(path))
    assert proc.returncode == 1
    assert "no such file" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not path.exists()


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("notes.db", "cannot read the log"),
        ("postgres://db/final", "unknown store URL"),
    ],
)
def test_unreadable_logs_are_refused_without_a_traceback(tmp_path: Path, source: str, words: str) -> None:
    (tmp_path / "notes.db").write_text("not a database\n" * 100, encoding="utf-8")
    proc = run_cli("verify", source, cwd=tmp_path)
    assert proc.returncode == 1
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr


# --- verify_events directly ---


def test_verify_events_names_events_added_after_the_published_head(tmp_path: Path, played: Final) -> None:
    path = tmp_path / "final.db"
    write_log(path, played.events, contest_data(played.contest))

    async def read() -> tuple[str, list[dict[str, Any]]]:
        store = SQLiteStore(path)
        await store.open()
        try:
            return store.epoch, await store.read(0)
        finally:
            await store.close()

    epoch, stored = asyncio.run(read())
    assert verify_events(epoch, stored).ok
    published = stored[9]["hash"]  # the head when event 10 was the last
    report = verify_events(epoch, stored, published)
    assert not report.ok
    assert names_event(report.problem, 11)
    assert "added" in report.problem
    assert verify_events(epoch, stored[:10], published).ok
    report = verify_events(epoch, stored[:8], published)
    assert not report.ok
    assert names_event(report.problem, 9)


def test_replayed_contest_matches_the_original(played: Final) -> None:
    again = parse_contest(json.loads(json.dumps(contest_data(played.contest))))
    assert again == played.contest


def test_verify_leaves_the_file_untouched(tmp_path: Path) -> None:
    """Verifying is reading: the file's bytes stay as they were and nothing is journalled."""
    import hashlib
    import subprocess
    import sys

    db = tmp_path / "final.db"
    mini = Path(__file__).with_name("data") / "mini.yaml"
    made = subprocess.run(
        [sys.executable, "-m", "live", "tokens", "--store", str(db), "--contest", str(mini)],
        capture_output=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    # A copy in rollback-journal mode: a writer would switch it back to WAL (header bytes).
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    out = subprocess.run([sys.executable, "-m", "live", "verify", str(db)], capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not (tmp_path / "final.db-wal").exists()
