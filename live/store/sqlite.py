"""The embedded default: an SQLite event log in WAL mode, written by one thread.

One writer thread (fed through a single-worker executor) keeps SQLite's locking simple and
never blocks the event loop; ``synchronous=FULL`` makes a commit durable before the ack.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from live import chain
from live.store.base import Conflict, Duplicate, LogDump, NewEvent, Store, chain_events, new_epoch

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, type TEXT NOT NULL, data TEXT NOT NULL, actor TEXT NOT NULL,
  at INTEGER NOT NULL, cid TEXT, prev TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ids (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, digest TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SYNC_MODES = ("full", "normal", "extra")


def event_row(event: dict[str, Any]) -> tuple[Any, ...]:
    """A stored event as a row of the events table (the inverse of ``row_to_event``)."""
    return (
        event["seq"],
        event["type"],
        chain.canonical(event["data"]),
        event["actor"],
        event["at"],
        event["cid"],
        event["prev"],
        event["hash"],
    )


def row_to_event(row: sqlite3.Row | tuple[Any, ...]) -> dict[str, Any]:
    seq, type_, data, actor, at, cid, prev, hash_ = row
    return {
        "seq": seq,
        "type": type_,
        "data": json.loads(data),
        "actor": actor,
        "at": at,
        "cid": cid,
        "prev": prev,
        "hash": hash_,
    }


class SQLiteStore(Store):
    def __init__(self, path: str | Path, synchronous: str = "full") -> None:
        if synchronous not in SYNC_MODES:
            raise ValueError(f"synchronous must be one of {SYNC_MODES}")
        self.path = Path(path)
        self.synchronous = synchronous
        self.readonly = False  # set by readers such as `live verify`: never touch the file
        self.epoch = ""
        self._db: sqlite3.Connection | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-sqlite")

    @classmethod
    def from_url(cls, url: str) -> SQLiteStore:
        parts = urlsplit(url)
        path = (parts.netloc + parts.path).removeprefix("/") if parts.netloc else parts.path[1:]
        if not path:
            raise ValueError("sqlite URL needs a path: sqlite:///final.db")
        sync = parse_qs(parts.query).get("synchronous", ["full"])[0].lower()
        return cls(path, sync)

    def missing(self) -> bool:
        return not self.path.is_file()

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        db = self._db
        assert db is not None, "store is not open"
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, db)

    async def open(self) -> None:
        def connect() -> sqlite3.Connection:
            if self.readonly:
                return sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                )
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            db.execute("PRAGMA busy_timeout=5000")
            db.executescript(SCHEMA)
            db.execute("INSERT OR IGNORE INTO meta VALUES ('epoch', ?)", (new_epoch(),))
            return db

        loop = asyncio.get_running_loop()
        self._db = await loop.run_in_executor(self._pool, connect)
        self.epoch = await self._run(
            lambda db: db.execute("SELECT value FROM meta WHERE name='epoch'").fetchone()[0]
        )

    async def close(self) -> None:
        if self._db is not None:
            await self._run(lambda db: db.close())
            self._db = None
        self._pool.shutdown(wait=False)
        # A fresh (lazily started) worker, so that the same object can be opened again.
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-sqlite")

    def _head(self, db: sqlite3.Connection) -> tuple[int, str]:
        row = db.execute("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
        return (row[0], row[1]) if row else (0, chain.genesis(self.epoch))

    async def head(self) -> tuple[int, str]:
        return await self._run(self._head)

    async def append(
        self, expected_seq: int, events: Sequence[NewEvent], idem: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        def write(db: sqlite3.Connection) -> list[dict[str, Any]]:
            db.execute("BEGIN IMMEDIATE")
            try:
                if idem:
                    seen = db.execute("SELECT seq, digest FROM ids WHERE key=?", (idem[0],)).fetchone()
                    if seen:
                        raise Duplicate(seen[0], seen[1])
                seq, prev = self._head(db)
                if seq != expected_seq:
                    raise Conflict(seq)
                rows = chain_events(prev, seq + 1, events)
                db.executemany(
                    "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)",
                    [event_row(r) for r in rows],
                )
                if idem and rows:
                    db.execute("INSERT INTO ids VALUES (?,?,?)", (idem[0], rows[-1]["seq"], idem[1]))
                db.execute("COMMIT")
                return rows
            except BaseException:
                if db.in_transaction:  # a failed COMMIT may already have rolled back
                    db.execute("ROLLBACK")
                raise

        return await self._run(write)

    async def read(self, since: int = 0) -> list[dict[str, Any]]:
        return await self._run(
            lambda db: [
                row_to_event(r)
                for r in db.execute(
                    "SELECT seq, type, data, actor, at, cid, prev, hash FROM events WHERE seq > ?"
                    " ORDER BY seq",
                    (since,),
                )
            ]
        )

    async def lookup(self, key: str) -> tuple[int, str] | None:
        row = await self._run(
            lambda db: db.execute("SELECT seq, digest FROM ids WHERE key=?", (key,)).fetchone()
        )
        return (row[0], row[1]) if row else None

    async def secret(self, name: str, make: str | None = None) -> str | None:
        def get(db: sqlite3.Connection) -> str | None:
            if make is not None:
                db.execute("INSERT OR IGNORE INTO secrets VALUES (?, ?)", (name, make))
            row = db.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()
            return row[0] if row else None

        return await self._run(get)

    async def set_secret(self, name: str, value: str) -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT INTO secrets VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                (name, value),
            )
        )

    async def export_log(self) -> LogDump:
        def dump(db: sqlite3.Connection) -> LogDump:
            db.execute("BEGIN")  # one consistent read of all four tables
            try:
                events = [
                    row_to_event(r)
                    for r in db.execute(
                        "SELECT seq, type, data, actor, at, cid, prev, hash FROM events ORDER BY seq"
                    )
                ]
                ids = {k: (s, d) for k, s, d in db.execute("SELECT key, seq, digest FROM ids")}
                secrets = dict(db.execute("SELECT name, value FROM secrets").fetchall())
            finally:
                db.execute("ROLLBACK")
            return LogDump(self.epoch, events, ids, secrets)

        return await self._run(dump)

    async def import_log(self, dump: LogDump) -> None:
        dump.check()

        def load(db: sqlite3.Connection) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT 1 FROM events LIMIT 1").fetchone():
                    raise ValueError("the destination log is not empty")
                db.execute("UPDATE meta SET value=? WHERE name='epoch'", (dump.epoch,))
                db.executemany(
                    "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)",
                    [event_row(r) for r in dump.events],
                )
                db.executemany(
                    "INSERT INTO ids VALUES (?,?,?)", [(k, s, d) for k, (s, d) in dump.ids.items()]
                )
                db.executemany("INSERT OR REPLACE INTO secrets VALUES (?,?)", list(dump.secrets.items()))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        await self._run(load)
        self.epoch = dump.epoch
