"""The scale-out store: the log is a Redis Stream appended by one atomic compare-and-append
(a Lua script), so several hub processes on one Redis never write conflicting events.

Keys, under a prefix (``live:`` unless the URL says ``?prefix=``): ``log`` (a stream whose
entry id is ``<seq>-0``), ``epoch``, ``head`` (hash: seq, hash), ``ids`` (idempotency key ->
"seq digest") and ``secrets``. Durability is Redis's: run it with ``appendonly yes`` and
``appendfsync always`` for a final (see docs/operations.md).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from live import chain
from live.store.base import (
    Conflict,
    Duplicate,
    LogDump,
    NewEvent,
    Store,
    StoreUnavailable,
    chain_events,
    new_epoch,
)

DEFAULT_PREFIX = "live:"
PAGE = 1000  # events per XRANGE / XREAD round trip

# KEYS: head, ids, log.  ARGV: expected seq, expected head hash, idem key ("" = none),
# idem value, then per event: stream id, field count, fields...; the last event's seq and hash
# become the head. Duplicate is checked before Conflict: a retried submission stays a retry.
APPEND_LUA = """
if ARGV[3] ~= '' then
  local seen = redis.call('HGET', KEYS[2], ARGV[3])
  if seen then return {'dup', seen} end
end
local head = redis.call('HMGET', KEYS[1], 'seq', 'hash')
local seq = tonumber(head[1] or '0')
if seq ~= tonumber(ARGV[1]) then return {'conflict', tostring(seq)} end
if seq > 0 and head[2] ~= ARGV[2] then return {'conflict', tostring(seq)} end
local i = 5
local last_id, last_hash = nil, nil
while i <= #ARGV do
  local id, n = ARGV[i], tonumber(ARGV[i + 1])
  local fields = {}
  for k = 1, n do fields[k] = ARGV[i + 1 + k] end
  redis.call('XADD', KEYS[3], id, unpack(fields))
  last_id = id
  for k = 1, n, 2 do if fields[k] == 'hash' then last_hash = fields[k + 1] end end
  i = i + 2 + n
end
if last_id then
  local new_seq = string.match(last_id, '^(%d+)-')
  redis.call('HSET', KEYS[1], 'seq', new_seq, 'hash', last_hash)
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[2], ARGV[3], new_seq .. ' ' .. ARGV[4]) end
end
return {'ok', tostring(seq)}
"""

# KEYS: head, epoch, log.  ARGV: epoch. Re-labels an empty log for an import.
ADOPT_EPOCH_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('XLEN', KEYS[3]) > 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[1])
return 1
"""


def _fields(row: dict[str, Any]) -> list[str]:
    out = [
        "type",
        row["type"],
        "data",
        chain.canonical(row["data"]),
        "actor",
        row["actor"],
        "at",
        str(row["at"]),
    ]
    if row["cid"] is not None:
        out += ["cid", row["cid"]]
    return [*out, "prev", row["prev"], "hash", row["hash"]]


def _event(entry_id: str, f: dict[str, str]) -> dict[str, Any]:
    return {
        "seq": int(entry_id.split("-", 1)[0]),
        "type": f["type"],
        "data": json.loads(f["data"]),
        "actor": f["actor"],
        "at": int(f["at"]),
        "cid": f.get("cid"),
        "prev": f["prev"],
        "hash": f["hash"],
    }


class RedisStore(Store):
    shared = True
    block_ms = 2000  # how long one XREAD waits: short enough to notice a dead link soon

    def __init__(
        self, url: str = "redis://127.0.0.1:6379/0", prefix: str = DEFAULT_PREFIX, timeout: float = 5.0
    ) -> None:
        self.url, self.prefix, self.timeout = url, prefix, timeout
        self.epoch = ""
        self._r: aioredis.Redis | None = None
        self.k_log, self.k_epoch, self.k_head, self.k_ids, self.k_secrets = (
            prefix + name for name in ("log", "epoch", "head", "ids", "secrets")
        )

    @classmethod
    def from_url(cls, url: str) -> RedisStore:
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        prefix = query.pop("prefix", [DEFAULT_PREFIX])[0]
        rest = urlencode({k: v[0] for k, v in query.items()})
        # Rebuilt by hand: urlunsplit would turn unix:///path into unix:/path.
        return cls(url.split("?", 1)[0] + (f"?{rest}" if rest else ""), prefix)

    @property
    def r(self) -> Any:
        # Any: redis-py's types say bytes | str even with decode_responses=True.
        assert self._r is not None, "store is not open"
        return self._r

    async def open(self) -> None:
        # One quick retry covers a pooled connection that died with a restarted Redis; more
        # would only delay the refusal the hub owes a judge while Redis is really down.
        self._r = aioredis.Redis.from_url(
            self.url,
            decode_responses=True,
            socket_timeout=self.timeout + self.block_ms / 1000,
            socket_connect_timeout=self.timeout,
            health_check_interval=30,
            retry=Retry(ExponentialBackoff(cap=0.1, base=0.02), 1),
        )
        self._append = self._r.register_script(APPEND_LUA)
        self._adopt = self._r.register_script(ADOPT_EPOCH_LUA)
        try:
            # Read before writing: a primary that refuses writes (no replica) still opens.
            epoch = await self.r.get(self.k_epoch)
            if epoch is None:
                await self.r.set(self.k_epoch, new_epoch(), nx=True)
                epoch = await self.r.get(self.k_epoch)
            self.epoch = epoch or ""
        except RedisError as exc:
            await self.close()
            how = (
                "cannot be reached"
                if isinstance(exc, RedisConnectionError | RedisTimeoutError)
                else "refused"
            )
            raise StoreUnavailable(f"Redis at {self._where()} {how}: {exc}") from exc

    def _where(self) -> str:
        parts = urlsplit(self.url)
        return parts.hostname or parts.path or self.url

    async def close(self) -> None:
        if self._r is not None:
            await self._r.aclose()
            self._r = None

    async def head(self) -> tuple[int, str]:
        try:
            seq, hash_ = await self.r.hmget(self.k_head, ["seq", "hash"])
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        return (int(seq), hash_) if seq else (0, chain.genesis(self.epoch))

    async def _write(
        self, expected: tuple[int, str], rows: Sequence[dict[str, Any]], idem: tuple[str, str] | None
    ) -> None:
        argv: list[str] = [str(expected[0]), expected[1], idem[0] if idem else "", idem[1] if idem else ""]
        for row in rows:
            fields = _fields(row)
            argv += [f"{row['seq']}-0", str(len(fields)), *fields]
        try:
            status, value = await self._append(keys=[self.k_head, self.k_ids, self.k_log], args=argv)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if status == "dup":
            seq, digest = value.split(" ", 1)
            raise Duplicate(int(seq), digest)
        if status == "conflict":
            raise Conflict(int(value))

    async def append(
        self, expected_seq: int, events: Sequence[NewEvent], idem: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        # Chained from the head read here; the script refuses if the head moved meanwhile.
        seq, prev = await self.head()
        rows = chain_events(prev, seq + 1, events)
        await self._write((expected_seq, prev), rows, idem)
        return rows

    async def read(self, since: int = 0) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start = f"{since + 1}-0"
        try:
            while True:
                page = await self.r.xrange(self.k_log, min=start, max="+", count=PAGE)
                out += [_event(i, f) for i, f in page]
                if len(page) < PAGE:
                    return out
                start = f"{out[-1]['seq'] + 1}-0"
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def follow(self, since: int) -> AsyncIterator[list[dict[str, Any]]]:
        """Blocking reads from the last position: a new event arrives without polling."""
        while True:
            try:
                reply = await self.r.xread({self.k_log: f"{since}-0"}, count=PAGE, block=self.block_ms)
            except RedisError as exc:
                raise StoreUnavailable(str(exc)) from exc
            batch = [_event(i, f) for _, entries in reply or [] for i, f in entries]
            if batch:
                since = batch[-1]["seq"]
                yield batch

    async def lookup(self, key: str) -> tuple[int, str] | None:
        try:
            seen = await self.r.hget(self.k_ids, key)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if seen is None:
            return None
        seq, digest = seen.split(" ", 1)
        return int(seq), digest

    async def secret(self, name: str, make: str | None = None) -> str | None:
        try:
            value = await self.r.hget(self.k_secrets, name)
            if value is None and make is not None:
                await self.r.hsetnx(self.k_secrets, name, make)
                value = await self.r.hget(self.k_secrets, name)
            return value
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    async def set_secret(self, name: str, value: str) -> None:
        try:
            await self.r.hset(self.k_secrets, name, value)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc

    # --- moving a whole log ---

    async def export_log(self) -> LogDump:
        try:
            ids = await self.r.hgetall(self.k_ids)
            secrets = await self.r.hgetall(self.k_secrets)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        pairs = {k: v.split(" ", 1) for k, v in ids.items()}
        return LogDump(
            self.epoch, await self.read(0), {k: (int(s), d) for k, (s, d) in pairs.items()}, dict(secrets)
        )

    async def import_log(self, dump: LogDump) -> None:
        dump.check()
        try:
            adopted = await self._adopt(keys=[self.k_head, self.k_epoch, self.k_log], args=[dump.epoch])
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
        if not adopted:
            raise ValueError("the destination log is not empty")
        self.epoch = dump.epoch
        head = (0, chain.genesis(self.epoch))
        for i in range(0, len(dump.events), PAGE):
            rows = dump.events[i : i + PAGE]
            await self._write(head, rows, None)
            head = (rows[-1]["seq"], rows[-1]["hash"])
        try:
            if dump.ids:
                await self.r.hset(self.k_ids, mapping={k: f"{s} {d}" for k, (s, d) in dump.ids.items()})
            if dump.secrets:
                await self.r.hset(self.k_secrets, mapping=dump.secrets)
        except RedisError as exc:
            raise StoreUnavailable(str(exc)) from exc
