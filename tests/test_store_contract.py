"""The store contract: every backend (memory, SQLite, later Redis) runs the same tests.

A new backend subclasses ``StoreContract`` and implements ``make_store`` (and, when a second
connection to the same log is a different object, ``open_peer``); nothing else.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from live import chain
from live.store import Conflict, Duplicate, NewEvent, Store, open_store
from live.store.memory import MemoryStore
from live.store.sqlite import SQLiteStore


def ev(n: int, **data: Any) -> NewEvent:
    return NewEvent("note", {"n": n, **data}, actor="host", at=1_700_000_000_000 + n, cid=f"c{n}")


class StoreContract:
    """Subclass as ``TestXxxStore`` and give ``make_store``; pytest collects the subclasses only."""

    async def make_store(self, where: Path) -> Store:
        """A new, not yet opened store object on the log at ``where`` (same where, same log)."""
        raise NotImplementedError

    async def open_peer(self, store: Store, where: Path) -> Store:
        """A second writer on the same log (another process, worker or host)."""
        peer = await self.make_store(where)
        await peer.open()
        return peer

    @pytest.fixture
    def where(self, tmp_path: Path) -> Path:
        return tmp_path / "log"

    @pytest.fixture
    async def store(self, where: Path) -> AsyncIterator[Store]:
        s = await self.make_store(where)
        await s.open()
        try:
            yield s
        finally:
            await s.close()

    async def reopened(self, store: Store, where: Path) -> Store:
        """Close, then open the log again as a restarted process would."""
        await store.close()
        again = await self.make_store(where)
        await again.open()
        return again

    # --- epoch and head ---

    async def test_new_log_has_an_epoch_and_an_empty_head(self, store: Store) -> None:
        assert isinstance(store.epoch, str)
        assert len(store.epoch) >= 8
        assert await store.head() == (0, chain.genesis(store.epoch))
        assert await store.read(0) == []

    async def test_epochs_differ_between_logs(self, store: Store, tmp_path: Path) -> None:
        other = await self.make_store(tmp_path / "other")
        await other.open()
        try:
            assert other.epoch != store.epoch
        finally:
            await other.close()

    async def test_epoch_is_kept_on_reopen(self, store: Store, where: Path) -> None:
        await store.append(0, [ev(1)])
        epoch = store.epoch
        again = await self.reopened(store, where)
        try:
            assert again.epoch == epoch
            assert (await again.head())[0] == 1
        finally:
            await again.close()

    # --- append and read ---

    async def test_append_assigns_seq_and_chains_hashes(self, store: Store) -> None:
        rows = await store.append(0, [ev(1), ev(2)])
        assert [r["seq"] for r in rows] == [1, 2]
        assert rows[0]["prev"] == chain.genesis(store.epoch)
        assert rows[1]["prev"] == rows[0]["hash"]
        rows += await store.append(2, [ev(3)])
        assert rows[2]["prev"] == rows[1]["hash"]
        assert await store.head() == (3, rows[2]["hash"])
        stored = await store.read(0)
        assert stored == rows
        head, broken = chain.check(store.epoch, stored)
        assert broken is None
        assert head == rows[-1]["hash"]

    async def test_events_keep_every_field(self, store: Store) -> None:
        data = {
            "case": "dev-03",
            "values": {"创新性": "27.5", "b": "0"},
            "list": [1, "二", None],
            "flag": True,
        }
        [row] = await store.append(0, [NewEvent("scored", data, actor="j1", at=123, cid="abc")])
        [stored] = await store.read(0)
        assert stored == row
        assert {k: stored[k] for k in ("seq", "type", "data", "actor", "at", "cid")} == {
            "seq": 1,
            "type": "scored",
            "data": data,
            "actor": "j1",
            "at": 123,
            "cid": "abc",
        }
        assert chain.link(stored["prev"], stored) == stored["hash"]

    async def test_read_from_a_seq(self, store: Store) -> None:
        await store.append(0, [ev(n) for n in range(1, 6)])
        assert [r["seq"] for r in await store.read(2)] == [3, 4, 5]
        assert [r["data"]["n"] for r in await store.read(4)] == [5]
        assert await store.read(5) == []
        assert await store.read(99) == []

    async def test_read_returns_copies(self, store: Store) -> None:
        await store.append(0, [ev(1)])
        [row] = await store.read(0)
        row["data"]["n"] = 666
        assert (await store.read(0))[0]["data"]["n"] == 1

    async def test_stale_writer_gets_conflict_and_writes_nothing(self, store: Store, where: Path) -> None:
        peer = await self.open_peer(store, where)
        try:
            assert (await peer.head())[0] == 0
            await store.append(0, [ev(1)])
            with pytest.raises(Conflict) as info:
                await peer.append(0, [ev(99)])
            assert info.value.head == 1
            with pytest.raises(Conflict):
                await store.append(2, [ev(99)])  # ahead of the head is refused too
            assert [r["data"]["n"] for r in await peer.read(0)] == [1]
            await peer.append(1, [ev(2)])  # re-read, decide again, retry
            assert [r["data"]["n"] for r in await store.read(0)] == [1, 2]
        finally:
            if peer is not store:
                await peer.close()

    async def test_racing_writers_never_lose_or_fork_events(self, store: Store, where: Path) -> None:
        peer = await self.open_peer(store, where)

        async def writer(s: Store, name: str, count: int) -> None:
            done = 0
            while done < count:
                seq, _ = await s.head()
                try:
                    await s.append(seq, [NewEvent("note", {"w": name, "i": done}, actor=name, at=1)])
                except Conflict:
                    await asyncio.sleep(0)
                    continue
                done += 1

        try:
            await asyncio.gather(writer(store, "a", 15), writer(peer, "b", 15), writer(store, "c", 15))
            rows = await store.read(0)
            assert [r["seq"] for r in rows] == list(range(1, 46))
            for name in "abc":
                assert [r["data"]["i"] for r in rows if r["data"]["w"] == name] == list(range(15))
            assert chain.check(store.epoch, rows)[1] is None
        finally:
            if peer is not store:
                await peer.close()

    # --- idempotency keys ---

    async def test_idempotency_key_is_committed_with_its_events(self, store: Store) -> None:
        assert await store.lookup("j1/abc") is None
        rows = await store.append(0, [ev(1), ev(2)], idem=("j1/abc", "digest-1"))
        assert await store.lookup("j1/abc") == (rows[-1]["seq"], "digest-1") == (2, "digest-1")

    async def test_reused_key_raises_duplicate_and_writes_nothing(self, store: Store) -> None:
        await store.append(0, [ev(1)], idem=("k", "d1"))
        head = await store.head()
        with pytest.raises(Duplicate) as info:
            await store.append(1, [ev(2)], idem=("k", "d2"))
        assert (info.value.seq, info.value.digest) == (1, "d1")
        assert await store.head() == head
        assert await store.lookup("k") == (1, "d1")

    async def test_duplicate_wins_over_conflict(self, store: Store) -> None:
        # a retried submission that raced with other writes is still recognised as a retry
        await store.append(0, [ev(1)], idem=("k", "d1"))
        await store.append(1, [ev(2)])
        with pytest.raises(Duplicate) as info:
            await store.append(1, [ev(3)], idem=("k", "d1"))
        assert info.value.seq == 1
        assert (await store.head())[0] == 2

    async def test_refused_append_does_not_record_its_key(self, store: Store) -> None:
        await store.append(0, [ev(1)])
        with pytest.raises(Conflict):
            await store.append(0, [ev(2)], idem=("k", "d"))
        assert await store.lookup("k") is None
        await store.append(1, [ev(2)], idem=("k", "d"))
        assert await store.lookup("k") == (2, "d")

    # --- secrets ---

    async def test_secret_first_writer_wins(self, store: Store) -> None:
        assert await store.secret("host") is None
        assert await store.secret("host", make="first") == "first"
        assert await store.secret("host", make="second") == "first"
        assert await store.secret("host") == "first"
        await store.set_secret("host", "rotated")
        assert await store.secret("host", make="third") == "rotated"

    async def test_concurrent_secret_makers_agree(self, store: Store, where: Path) -> None:
        peer = await self.open_peer(store, where)
        try:
            got = await asyncio.gather(
                *[(store if i % 2 else peer).secret("judge:j1", make=f"t{i}") for i in range(10)]
            )
            assert len(set(got)) == 1
            assert await peer.secret("judge:j1") == got[0]
        finally:
            if peer is not store:
                await peer.close()

    # --- durability ---

    async def test_everything_survives_close_and_reopen(self, store: Store, where: Path) -> None:
        await store.append(0, [ev(1)], idem=("k", "d"))
        await store.append(1, [ev(2), ev(3)])
        await store.secret("host", make="s3cret")
        rows, epoch = await store.read(0), store.epoch
        again = await self.reopened(store, where)
        try:
            assert again.epoch == epoch
            assert await again.read(0) == rows
            assert await again.head() == (3, rows[-1]["hash"])
            assert await again.lookup("k") == (1, "d")
            assert await again.secret("host") == "s3cret"
            await again.append(3, [ev(4)])
            assert chain.check(epoch, await again.read(0))[1] is None
        finally:
            await again.close()

    # --- following ---

    async def test_follow_yields_new_events(self, store: Store) -> None:
        store.poll_interval = 0.01
        await store.append(0, [ev(1)])
        stream = store.follow(1).__aiter__()
        try:
            pending = asyncio.ensure_future(stream.__anext__())
            await asyncio.sleep(0.05)
            assert not pending.done()
            await store.append(1, [ev(2), ev(3)])
            batch = await asyncio.wait_for(pending, 5)
            assert [r["seq"] for r in batch] == [2, 3]
            await store.append(3, [ev(4)])
            assert [r["seq"] for r in await asyncio.wait_for(stream.__anext__(), 5)] == [4]
        finally:
            await stream.aclose()  # type: ignore[attr-defined]


class TestMemoryStore(StoreContract):
    """No durability across processes: "reopen" is closing and opening the same object."""

    async def make_store(self, where: Path) -> Store:
        return MemoryStore()

    async def open_peer(self, store: Store, where: Path) -> Store:
        return store  # one process: the same object is every writer

    async def reopened(self, store: Store, where: Path) -> Store:
        await store.close()
        await store.open()
        return store


class TestSQLiteStore(StoreContract):
    async def make_store(self, where: Path) -> Store:
        return SQLiteStore(where.with_suffix(".db"))

    async def test_wal_and_full_sync(self, store: Store, where: Path) -> None:
        assert isinstance(store, SQLiteStore)
        sync = await store._run(lambda db: db.execute("PRAGMA synchronous").fetchone()[0])
        assert sync == 2  # FULL
        with sqlite3.connect(where.with_suffix(".db")) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    async def test_same_object_can_be_reopened(self, store: Store) -> None:
        await store.append(0, [ev(1)])
        await store.close()
        await store.open()
        assert (await store.head())[0] == 1

    async def test_creates_missing_directories(self, tmp_path: Path) -> None:
        s = SQLiteStore(tmp_path / "a" / "b" / "final.db")
        await s.open()
        try:
            await s.append(0, [ev(1)])
        finally:
            await s.close()
        assert (tmp_path / "a" / "b" / "final.db").is_file()


@pytest.mark.parametrize(
    ("url", "kind", "path", "sync"),
    [
        ("sqlite:///final.db", SQLiteStore, "final.db", "full"),
        ("sqlite:////var/lib/live/final.db", SQLiteStore, "/var/lib/live/final.db", "full"),
        ("sqlite:///data/final.db?synchronous=NORMAL", SQLiteStore, "data/final.db", "normal"),
        ("final.db", SQLiteStore, "final.db", "full"),  # a plain path is an SQLite file
        ("memory://", MemoryStore, None, None),
    ],
)
def test_open_store_by_url(url: str, kind: type, path: str | None, sync: str | None) -> None:
    s = open_store(url)
    assert isinstance(s, kind)
    if isinstance(s, SQLiteStore):
        assert str(s.path) == path
        assert s.synchronous == sync


@pytest.mark.parametrize("url", ["postgres://x", "sqlite://", "sqlite:///x.db?synchronous=off"])
def test_open_store_refuses_bad_urls(url: str) -> None:
    with pytest.raises(ValueError, match=r"sqlite|URL|synchronous"):
        open_store(url)
