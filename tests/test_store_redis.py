"""The Redis store: the shared store contract against a real redis-server, plus what only
Redis has (key prefixes, an unreachable server, a restart) and moving whole logs between stores.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from conftest import need, redis_server_binary
from redis_helpers import RedisServer
from test_store_contract import StoreContract, ev

from live import chain
from live.store import Duplicate, LogDump, Store, StoreUnavailable, open_store
from live.store.memory import MemoryStore
from live.store.redis import RedisStore
from live.store.sqlite import SQLiteStore

pytestmark = pytest.mark.redis
Maker = Callable[[str], Awaitable[Store]]  # a new, open store on its own log, by name


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    need(redis_server_binary() is not None, "redis-server is not installed (apt-get install redis)")
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


def prefix_for(where: Path) -> str:
    """Same ``where``, same log: each test's log lives under its own key prefix."""
    return "t:" + hashlib.sha1(str(where).encode()).hexdigest()[:12] + ":"


class TestRedisStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _on_redis(self, redis_server: RedisServer) -> None:
        self.redis = redis_server

    async def make_store(self, where: Path) -> Store:
        return open_store(self.redis.url(prefix=prefix_for(where)))

    async def test_log_is_a_stream_with_seq_ids(self, store: Store) -> None:
        assert isinstance(store, RedisStore)
        rows = await store.append(0, [ev(1), ev(2)], idem=("j1\x1fabc", "d"))
        entries = await store.r.xrange(store.k_log)
        assert [i for i, _ in entries] == ["1-0", "2-0"]
        assert entries[1][1]["hash"] == rows[1]["hash"]
        assert await store.r.hgetall(store.k_head) == {"seq": "2", "hash": rows[1]["hash"]}
        assert await store.r.type(store.k_epoch) == "string"

    async def test_prefixes_keep_finals_apart(self, redis_server: RedisServer) -> None:
        a, b = (open_store(redis_server.url(db=1, prefix=p)) for p in ("fa:", "fb:"))
        await a.open()
        await b.open()
        try:
            await a.append(0, [ev(1)])
            assert await b.head() == (0, chain.genesis(b.epoch))
            assert a.epoch != b.epoch
            assert await a.r.exists("fa:log")
            assert not await a.r.exists("live:log")
        finally:
            await a.close()
            await b.close()


@pytest.mark.parametrize(
    ("url", "where", "prefix"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0", "live:"),
        ("redis://h:7000/3?prefix=final2025:", "redis://h:7000/3", "final2025:"),
        (
            "rediss://user:pw@h/0?prefix=x:&socket_keepalive=true",
            "rediss://user:pw@h/0?socket_keepalive=true",
            "x:",
        ),
        ("unix:///run/redis.sock?db=2", "unix:///run/redis.sock?db=2", "live:"),
    ],
)
def test_redis_urls(url: str, where: str, prefix: str) -> None:
    s = open_store(url)
    assert isinstance(s, RedisStore)
    assert (s.url, s.prefix) == (where, prefix)


async def test_unreachable_redis_is_store_unavailable(tmp_path: Path) -> None:
    need(redis_server_binary() is not None, "redis-server is not installed")
    server = RedisServer(tmp_path / "r").start()
    store = open_store(server.url())
    await store.open()
    try:
        await store.append(0, [ev(1)], idem=("k1", "d"))
        server.kill()
        for call in (
            store.head(),
            store.read(0),
            store.lookup("k1"),
            store.append(1, [ev(2)], idem=("k2", "d")),
            store.secret("host", make="x"),
        ):
            with pytest.raises(StoreUnavailable):
                await call
        stream = store.follow(1).__aiter__()
        with pytest.raises(StoreUnavailable):
            await stream.__anext__()
        server.start()  # AOF with appendfsync always: the acked append is still there
        assert (await store.head())[0] == 1
        with pytest.raises(Duplicate):
            await store.append(1, [ev(2)], idem=("k1", "d"))
        await store.append(1, [ev(2)], idem=("k2", "d"))
        assert await store.lookup("k2") == (2, "d")
        assert chain.check(store.epoch, await store.read(0))[1] is None
    finally:
        await store.close()
        server.stop()
    with pytest.raises(StoreUnavailable, match="cannot be reached"):
        await open_store(server.url()).open()


# --- export and import of whole logs, on every backend ---


@pytest.fixture(params=["memory", "sqlite", "redis"])
async def make(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Maker]:
    opened: list[Store] = []
    if request.param == "redis":
        need(redis_server_binary() is not None, "redis-server is not installed")
        server: RedisServer = request.getfixturevalue("redis_server")

    async def factory(name: str) -> Store:
        if request.param == "memory":
            s: Store = MemoryStore()
        elif request.param == "sqlite":
            s = SQLiteStore(tmp_path / f"{name}.db")
        else:
            s = open_store(server.url(db=2, prefix=prefix_for(tmp_path / name)))
        await s.open()
        opened.append(s)
        return s

    yield factory
    for s in opened:
        await s.close()


async def filled(s: Store) -> Store:
    await s.append(0, [ev(1), ev(2)], idem=("j1\x1fa", "d1"))
    await s.append(2, [ev(3)], idem=("host\x1fb", "d2"))
    await s.secret("host", make="host-token")
    await s.secret("judge:j1", make="ABCDE-FGHJK")
    return s


async def test_export_then_import_keeps_epoch_hashes_keys_and_secrets(make: Maker) -> None:
    src = await filled(await make("src"))
    dump = await src.export_log()
    assert dump.epoch == src.epoch
    assert dump.ids == {"j1\x1fa": (2, "d1"), "host\x1fb": (3, "d2")}
    dst = await make("dst")
    assert dst.epoch != src.epoch
    await dst.import_log(dump)
    assert dst.epoch == src.epoch
    assert await dst.read(0) == await src.read(0)
    assert await dst.head() == await src.head() == (3, dump.head)
    assert await dst.lookup("host\x1fb") == (3, "d2")
    assert await dst.secret("judge:j1") == "ABCDE-FGHJK"
    with pytest.raises(Duplicate):
        await dst.append(3, [ev(4)], idem=("j1\x1fa", "d1"))
    await dst.append(3, [ev(4)])  # the copy goes on as its own log, chain intact
    assert chain.check(dst.epoch, await dst.read(0))[1] is None


async def test_import_refuses_a_non_empty_store_and_a_broken_log(make: Maker) -> None:
    src = await filled(await make("src"))
    dump = await src.export_log()
    dst = await filled(await make("dst"))
    before = await dst.read(0)
    with pytest.raises(ValueError, match="not empty"):
        await dst.import_log(dump)
    assert await dst.read(0) == before
    broken = LogDump(dump.epoch, [dict(e) for e in dump.events], dump.ids, dump.secrets)
    broken.events[1]["data"] = {"n": 666}
    empty = await make("empty")
    with pytest.raises(ValueError, match="broken at event 2"):
        await empty.import_log(broken)
    assert await empty.read(0) == []


async def test_primary_with_a_replica_as_docs_operations_says(tmp_path: Path) -> None:
    """min-replicas-to-write: no replica, no ack (but the store still opens and reads);
    with the replica online, appends go through and reach it."""
    need(redis_server_binary() is not None, "redis-server is not installed")
    primary = RedisServer(tmp_path / "primary").start()
    replica = RedisServer(tmp_path / "replica")
    store = open_store(primary.url())
    await store.open()
    try:
        await store.secret("host", make="h")
        await store.r.config_set("min-replicas-to-write", 1)
        await store.r.config_set("repl-diskless-sync-delay", 0)  # sync the replica at once
        await store.close()
        await store.open()  # a hub restarting while the replica is away
        assert await store.secret("host", make="other") == "h"
        with pytest.raises(StoreUnavailable, match="NOREPLICAS"):
            await store.append(0, [ev(1)], idem=("k", "d"))
        assert await store.lookup("k") is None
        replica.start()
        copy = open_store(replica.url())
        await copy.open()
        try:
            await copy.r.replicaof("127.0.0.1", primary.port)
            for _ in range(100):
                info = await store.r.info("replication")
                if info.get("connected_slaves") == 1 and info["slave0"]["state"] == "online":
                    break
                await asyncio.sleep(0.1)
            for _ in range(30):  # the primary counts a replica once it has acked an offset
                try:
                    await store.append(0, [ev(1)], idem=("k", "d"))
                    break
                except StoreUnavailable:
                    await asyncio.sleep(0.2)
            for _ in range(50):
                if (await copy.head())[0] == 1:
                    break
                await asyncio.sleep(0.05)
            assert (await store.head())[0] == 1
            assert await copy.read(0) == await store.read(0)
            assert await copy.lookup("k") == (1, "d")
        finally:
            await copy.close()
    finally:
        await store.close()
        replica.stop()
        primary.stop()
