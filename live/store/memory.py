"""An in-memory store for unit tests and throwaway rehearsals: same contract, no durability."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from live import chain
from live.store.base import Conflict, Duplicate, LogDump, NewEvent, Store, chain_events, new_epoch


class MemoryStore(Store):
    def __init__(self) -> None:
        self.epoch = ""
        self._events: list[dict[str, Any]] = []
        self._ids: dict[str, tuple[int, str]] = {}
        self._secrets: dict[str, str] = {}

    async def open(self) -> None:
        self.epoch = self.epoch or new_epoch()

    async def close(self) -> None:
        pass

    async def head(self) -> tuple[int, str]:
        if not self._events:
            return 0, chain.genesis(self.epoch)
        return self._events[-1]["seq"], self._events[-1]["hash"]

    async def append(
        self, expected_seq: int, events: Sequence[NewEvent], idem: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        seq, prev = await self.head()
        if idem and idem[0] in self._ids:
            raise Duplicate(*self._ids[idem[0]])
        if seq != expected_seq:
            raise Conflict(seq)
        rows = chain_events(prev, seq + 1, events)
        self._events.extend(copy.deepcopy(rows))
        if idem and rows:
            self._ids[idem[0]] = (rows[-1]["seq"], idem[1])
        return rows

    async def read(self, since: int = 0) -> list[dict[str, Any]]:
        return copy.deepcopy(self._events[max(0, since) :])

    async def lookup(self, key: str) -> tuple[int, str] | None:
        return self._ids.get(key)

    async def secret(self, name: str, make: str | None = None) -> str | None:
        if name not in self._secrets and make is not None:
            self._secrets[name] = make
        return self._secrets.get(name)

    async def set_secret(self, name: str, value: str) -> None:
        self._secrets[name] = value

    async def export_log(self) -> LogDump:
        return copy.deepcopy(LogDump(self.epoch, self._events, self._ids, self._secrets))

    async def import_log(self, dump: LogDump) -> None:
        dump.check()
        if self._events:
            raise ValueError("the destination log is not empty")
        dump = copy.deepcopy(dump)
        self.epoch, self._events, self._ids = dump.epoch, dump.events, dump.ids
        self._secrets.update(dump.secrets)
